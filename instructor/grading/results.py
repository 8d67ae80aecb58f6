"""A submission's grade, and what each audience reads of it: the console, results.json (one, or a folder of them).

Two audiences (issue 22):

- the **student** reads results.json's top-level `output` and every test
  whose `visibility` is not "hidden": for a visible test (one they have in
  their kit) its message as instructor/grading/student_view.py wrote it (no
  grader modules or paths; their own error with their lines); for a hidden
  test its name in plain words, whether it passed, the points and the
  mistakes named, and never its source, its inputs or its case names;
- the **instructor** reads the console (and Gradescope's stdout, hidden from
  students), and in results.json the tests marked "hidden" (every failing
  test's full text, and the grader's notes with the isolation used) and
  `extra_data`.

The mistakes a grade found come from one place, `Grade.mistakes`
(instructor/grading/found_mistakes.py). The gradebook is gradebook.py's.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from instructor.grading import points
from instructor.grading.found_mistakes import FoundMistake, found_mistakes, in_test

OUTPUT_LIMIT = 4000  # characters of one test's message kept in results.json
SUMMARY_WIDTH = 150  # characters of a failure's one-line summary in the console table
# Parameters of a hidden test that name no input, only what is tested: kept in its plain name.
PLAIN_PARAMETERS = {"naive": "naive version", "vectorized": "vectorized version"}
INSTRUCTOR_VIEW = " (instructor view)"  # added to a test's name for its instructor-only entry in results.json
GRADER_NOTES = "Grader notes (instructor only)"


@dataclass
class TestResult:
    name: str  # the pytest node id
    max_score: float
    score: float
    passed: bool
    output: str  # the instructor's: pytest's full text ("" when passed), after charge_line if charged once
    hidden: bool
    explained: dict[str, tuple[str, ...]] = field(default_factory=dict)  # function -> classic mistakes (mistakes.py)
    findings: tuple[tuple[str, str], ...] = ()  # (function, code) diagnose.py found
    charged: bool = False  # its explained mistakes were charged once
    student: dict = field(default_factory=dict)  # student_view.py: {"text": ..., "error": {...}}
    charge_line: str = ""  # "Charged once: ..." when it was


@dataclass
class Grade:
    submission: str  # the name shown and written: unique within one run
    tests: list[TestResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # for the student too: missing files, timeouts, charges
    isolation: str = ""  # for the instructor only
    execution_time: float = 0.0
    instructor_notes: list[str] = field(default_factory=list)  # the grader's own troubles, timeouts by test id
    charges: dict[str, dict[str, float]] = field(default_factory=dict)  # the bundle's CHARGES
    explanations: dict[str, dict[str, str]] = field(default_factory=dict)  # the bundle's diagnose/codes.py
    incidents: list[dict] = field(default_factory=list)  # timeouts, crashes, memory (boundary.py)
    student: object = None  # exports.Student: who, as the export names them (None: graded on its own)
    source: str = ""  # where in the export the graded files came from
    submitted_at: str = ""  # when, if the export says (ISO 8601)
    stopped: str = ""  # why the test run ended early, if it did (the time limit, a crash of the harness)
    bundle: dict = field(default_factory=dict)  # the bundle's provenance (bundle.Bundle.source)

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 2)

    @property
    def total(self) -> float:
        return round(sum(t.max_score for t in self.tests), 2)

    @property
    def mistakes(self) -> list[FoundMistake]:
        """Every classic mistake this grade found: the one list all outputs use."""
        return found_mistakes(self.tests, self.charges, self.explanations)


# --- what the student reads ---------------------------------------------------------------


def _words(name: str) -> str:
    return name.replace("_", " ").strip()


def hidden_names(test_ids: list[str]) -> dict[str, str]:
    """Each hidden test's name in plain words, its parameters (which may name its cases) left out.

    tests/hidden/test_hidden_softmax.py::test_hidden_loss_and_gradient_match_an_independent_reference[tall-0.0-naive]
    -> "Hidden test (softmax): loss and gradient match an independent reference (naive version, case 5 of 8)"
    """
    groups: dict[tuple[str, str], list[str]] = {}
    plain: dict[str, tuple[str, str]] = {}
    for test_id in test_ids:
        path, _, rest = test_id.partition("::")
        function, _, params = rest.partition("[")
        module = PurePosixPath(path).stem.removeprefix("test_").removeprefix("hidden_")
        title = f"Hidden test ({_words(module)}): {_words(function.removeprefix('test_').removeprefix('hidden_'))}"
        kept = [PLAIN_PARAMETERS[p] for p in re.split(r"[-\[\]]", params) if p in PLAIN_PARAMETERS]
        key = (title, ", ".join(dict.fromkeys(kept)))
        groups.setdefault(key, []).append(test_id)
        plain[test_id] = key
    names = {}
    for test_id, (title, kept) in plain.items():
        members = groups[(title, kept)]
        parts = [kept] if kept else []
        if len(members) > 1:
            parts.append(f"case {members.index(test_id) + 1} of {len(members)}")
        names[test_id] = title + (f" ({', '.join(parts)})" if parts else "")
    return names


def _what_the_code_did(error: dict | None) -> str:
    """A hidden test's error, told without a message: the type and the student's own file and line."""
    if not error:
        return ""
    if error.get("kind") == "timeout":
        return "Your code did not return in time."
    if error.get("kind") == "crash":
        return "The process running your code stopped (it crashed, exited or ran out of memory)."
    where = f" in {error['file']}, line {error['line']}" if error.get("file") else ""
    inside = f" (in {error['function']})" if error.get("function") else ""
    return f"Your code raised {error.get('type') or 'an error'}{where}{inside}."


def student_output(test: TestResult, mistakes: list[FoundMistake]) -> str:
    """What the student reads of one test (results.json's `output`)."""
    if test.passed:
        return ""
    named = in_test(mistakes, test.name)
    if test.hidden:
        entry = points.entry_of(test.name)
        lines = [f"Failed: {test.score:g} of {test.max_score:g} points."]
        if entry is not None:  # the points table's own words for what the entry covers, never the test's
            lines.append(f"What it checks: {points.POINTS[entry][2]}.")
        lines += [f"Mistake found: [{m.code}] {m.function}: {m.explanation}" for m in named]
        lines += [line for line in (_what_the_code_did(test.student.get("error")), test.charge_line) if line]
        return "\n".join(lines)
    # A test skipped or never run has no student view: the first line of its message says why.
    text = test.student.get("text") or (test.output.strip().splitlines() or ["This test failed."])[0][:SUMMARY_WIDTH]
    return "\n\n".join(part for part in (test.charge_line, text) if part)[-OUTPUT_LIMIT:]


def student_summary(grade: Grade) -> str:
    """results.json's top-level `output`: the score, the mistakes found, and the notes for the student."""
    lines = [f"Score: {grade.score:g} / {grade.total:g}"]
    mistakes = grade.mistakes
    if mistakes:
        lines += ["", "Mistakes found (each test's output says more):"]
        lines += [f"  [{m.code}] {m.function}: {m.explanation}" for m in mistakes]
    if grade.notes:
        lines += ["", "Notes:", *(f"  {note}" for note in grade.notes)]
    return "\n".join(lines)


def instructor_notes(grade: Grade) -> str:
    """The grader's notes for the instructor: the isolation used, the bundle, the grader's own troubles."""
    lines = [f"Isolation: {grade.isolation}"]
    if grade.bundle:
        lines.append(f"Bundle: {json.dumps(grade.bundle, sort_keys=True)}")
    lines += grade.instructor_notes
    lines += [f"{i.get('kind')}: {i.get('detail')} (in {i.get('test')})" for i in grade.incidents]
    return "\n".join(lines)


def gradescope_json(grade: Grade) -> dict:
    """Gradescope's results.json (gradescope-autograders.readthedocs.io/en/latest/specs/), two audiences.

    Students see `output` and the tests not marked "hidden" (hidden tests "after_published");
    each failing test's full text and the grader's notes are tests with visibility "hidden",
    0 points, which only the course staff see; `extra_data` is stored, not shown.
    """
    mistakes = grade.mistakes
    names = hidden_names([t.name for t in grade.tests if t.hidden])
    tests = [
        {
            "name": names.get(t.name, t.name),
            "score": t.score,
            "max_score": t.max_score,
            "status": "passed" if t.passed else "failed",
            "output": student_output(t, mistakes),
            "visibility": "after_published" if t.hidden else "visible",
        }
        for t in grade.tests
    ]
    staff = [
        {
            "name": t.name + INSTRUCTOR_VIEW,
            "score": 0,
            "max_score": 0,
            "status": "failed",
            "output": t.output,
            "visibility": "hidden",
        }
        for t in grade.tests
        if not t.passed
    ]
    notes = {"name": GRADER_NOTES, "score": 0, "max_score": 0, "status": "passed", "visibility": "hidden"}
    notes["output"] = instructor_notes(grade)
    return {
        "score": grade.score,
        "execution_time": grade.execution_time,
        "output": student_summary(grade),
        "stdout_visibility": "hidden",
        "extra_data": {
            "isolation": grade.isolation,
            "notes": grade.notes,
            "instructor_notes": grade.instructor_notes,
            "incidents": grade.incidents,
            "mistakes": [{"code": m.code, "function": m.function, "charged": m.charged} for m in mistakes],
            "bundle": grade.bundle,
            "student": vars(grade.student) if grade.student is not None else None,
        },
        "tests": [*tests, *staff, notes],
    }


def misconfigured_json(problem: str) -> dict:
    """results.json when the autograder itself cannot grade: not a score for the student."""
    return {
        "output": "The autograder is misconfigured and could not grade this submission. This is not your "
        "score: your course staff need to fix the autograder and regrade (the autograder's log, which "
        "only they see, says why).",
        "stdout_visibility": "hidden",
        "tests": [],
        "extra_data": {"autograder_error": problem},
    }


def write_json(data: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_text(json.dumps(data, indent=1))
    partial.replace(path)


def is_result_file(path: Path) -> bool:
    """A JSON file this grader wrote (results.json's shape), which --overwrite may remove."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and isinstance(data.get("tests"), list) and "output" in data


def write_json_dir(grades: list[Grade], directory: Path) -> None:
    """One results.json per graded student, named by their key; an earlier run's other results go."""
    written = {directory / f"{g.student.key}.json" for g in grades}
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.json"):
        if stale not in written and is_result_file(stale):
            stale.unlink()
    for g in grades:
        write_json(gradescope_json(g), directory / f"{g.student.key}.json")


# --- what the instructor reads: the console ------------------------------------------------


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


def print_table(grade: Grade, out=None, isolation: bool = True) -> None:
    """Every test, the notes, the mistakes found and the score; the isolation line unless a batch says it once."""
    out = out or sys.stdout
    print(f"\n{grade.submission}", file=out)
    for t in grade.tests:
        mark = "PASS" if t.passed else "FAIL"
        print(f"  {mark}  {t.score:6.2f} / {t.max_score:6.2f}  {t.name}", file=out)
        if not t.passed and t.output:
            print(f"{'':24}{failure_summary(t.output)[:SUMMARY_WIDTH]}", file=out)
    for note in [*grade.notes, *grade.instructor_notes]:
        print(f"  note: {note}", file=out)
    for mistake in grade.mistakes:
        print(f"  mistake: {mistake.line()}", file=out)
    if isolation:
        print(f"  isolation: {grade.isolation}", file=out)
    print(f"Score: {grade.score:g} / {grade.total:g}", file=out)


def print_line(grade: Grade, out=None) -> None:
    """One line per submission (--quiet): the score, the mistakes' codes and the notes."""
    codes = [m.code for m in grade.mistakes]
    said = [*(["mistakes: " + ", ".join(dict.fromkeys(codes))] if codes else []), *grade.notes]
    notes = f"  ({'; '.join(said)})" if said else ""
    print(f"{grade.submission}: Score: {grade.score:g} / {grade.total:g}{notes}", file=out or sys.stdout)
