"""A submission's grade and the three ways it leaves the grader: console, results.json, CSV."""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from instructor.grading import points

OUTPUT_LIMIT = 4000  # characters of one test's message kept in results.json
SUMMARY_WIDTH = 150  # characters of a failure's one-line summary in the console table


@dataclass
class TestResult:
    name: str
    max_score: float
    score: float
    passed: bool
    output: str
    hidden: bool


@dataclass
class Grade:
    submission: str  # the name shown and written: unique within one run
    tests: list[TestResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # missing files, timeouts, the isolation used
    isolation: str = ""
    execution_time: float = 0.0

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 2)

    @property
    def total(self) -> float:
        return round(sum(t.max_score for t in self.tests), 2)


def gradescope_json(grade: Grade) -> dict:
    """Gradescope's results.json schema (gradescope-autograders.readthedocs.io/en/latest/specs/)."""
    output = "\n".join([*grade.notes, f"Isolation: {grade.isolation}", f"Score: {grade.score:g} / {grade.total:g}"])
    return {
        "score": grade.score,
        "execution_time": grade.execution_time,
        "output": output,
        "stdout_visibility": "hidden",
        "extra_data": {"isolation": grade.isolation, "notes": grade.notes},
        "tests": [
            {
                "name": t.name,
                "score": t.score,
                "max_score": t.max_score,
                "status": "passed" if t.passed else "failed",
                "output": t.output,
                "visibility": "after_published" if t.hidden else "visible",
            }
            for t in grade.tests
        ],
    }


def misconfigured_json(problem: str) -> dict:
    """results.json when the autograder itself cannot grade: not a score for the student."""
    return {
        "output": "The autograder is misconfigured and could not grade this submission. This is not your "
        f"score: your course staff need to fix the autograder and regrade.\n\n{problem}",
        "stdout_visibility": "hidden",
        "tests": [],
        "extra_data": {"autograder_error": problem},
    }


def write_json(data: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_text(json.dumps(data, indent=1))
    partial.replace(path)


def failure_summary(output: str) -> str:
    """The line of a pytest failure that says what went wrong, for the console.

    The assertion's own message when there is one (a bare `AssertionError:`
    from numpy.testing carries it on the lines after "Not equal to
    tolerance"), else the first error line, else the last line of output.
    """
    errors = [line[1:].strip() for line in output.splitlines() if line.startswith("E ")]
    errors = [line for line in errors if line]
    for i, line in enumerate(errors):
        if line.startswith("AssertionError:") and line.removeprefix("AssertionError:").strip():
            return line.removeprefix("AssertionError:").strip()
        if line.startswith("Not equal to tolerance") and i + 1 < len(errors):
            message = errors[i + 1]
            if not message.startswith(("Mismatched elements", "Max absolute", "(shapes")):
                return f"{message} ({line})"
            return line
    if errors:
        return errors[0]
    lines = output.strip().splitlines()
    return lines[-1] if lines else ""


def print_table(grade: Grade, out=None) -> None:
    out = out or sys.stdout
    print(f"\n{grade.submission}", file=out)
    for t in grade.tests:
        mark = "PASS" if t.passed else "FAIL"
        print(f"  {mark}  {t.score:6.2f} / {t.max_score:6.2f}  {t.name}", file=out)
        if not t.passed and t.output:
            print(f"{'':24}{failure_summary(t.output)[:SUMMARY_WIDTH]}", file=out)
    for note in grade.notes:
        print(f"  note: {note}", file=out)
    print(f"  isolation: {grade.isolation}", file=out)
    print(f"Score: {grade.score:g} / {grade.total:g}", file=out)


def print_line(grade: Grade, out=None) -> None:
    """One line per submission (--quiet): the score and the notes, which matter most."""
    notes = f"  ({'; '.join(grade.notes)})" if grade.notes else ""
    print(f"{grade.submission}: Score: {grade.score:g} / {grade.total:g}{notes}", file=out or sys.stdout)


def write_csv(grades: list[Grade], path: Path) -> None:
    """A gradebook: one row per submission, its total, one column per points entry, and notes."""
    entries = sorted({points.entry_of(t.name) for g in grades for t in g.tests} - {None})
    entries = [i for i in entries if points.POINTS[i][1] > 0]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["submission", "score", "total", *(points.entry_label(i) for i in entries), "notes"])
        for g in grades:
            subtotal = {i: 0.0 for i in entries}
            for t in g.tests:
                index = points.entry_of(t.name)
                if index in subtotal:
                    subtotal[index] += t.score
            writer.writerow(
                [
                    g.submission,
                    f"{g.score:g}",
                    f"{g.total:g}",
                    *(f"{round(subtotal[i], 2):g}" for i in entries),
                    "; ".join([*g.notes, f"isolation: {g.isolation}"]),
                ]
            )
