"""The gradebook: a CSV an LMS imports, and a second CSV with the points of each test entry.

    write_gradebook(results, Path("grades.csv"))   # also writes grades-tests.csv

grades.csv has one row per student, graded or not (a student who could not
be graded has an empty score and the reason in Notes), with the identity
columns the exports carry, under the names Canvas's gradebook import reads:

    Student        the name as the export gives it (Gradescope's :name:,
                   Canvas's file-name form, or the folder's name)
    ID             Canvas's user id (Canvas matches rows by it)
    SIS User ID    Gradescope's SID, the institution's student id (Canvas
                   matches rows by it too)
    Email          Gradescope's :email:
    Score, Total   the grade, out of the points table's total
    Mistakes       every classic mistake found (found_mistakes.py), charged
                   or not: "code in function; ..."
    Notes          what the student's own results say (missing files,
                   timeouts, the latest submission chosen), or why not graded
    Submission     where the graded files came from in the export
    Submitted at   the export's time of that submission, if it says

The isolation used is the same for the whole run: the console prints it
once and the class report records it, not every row. grades-tests.csv
repeats the identity and the score, then one short column per points entry
("softmax: divide by N [2]": the entry's group, what it covers, its points).
"""

from __future__ import annotations

import csv
from pathlib import Path, PurePosixPath

from instructor.grading import points
from instructor.grading.results import Grade

IDENTITY = ["Student", "ID", "SIS User ID", "Email"]
COLUMNS = [*IDENTITY, "Score", "Total", "Mistakes", "Notes", "Submission", "Submitted at"]


def detail_path(path: Path) -> Path:
    """grades.csv -> grades-tests.csv: the per-entry points beside the gradebook."""
    return path.with_name(f"{path.stem}-tests{path.suffix or '.csv'}")


def identity(result: Grade | BaseException) -> list[str]:
    """The identity columns of a result (a Grade, or the error that kept it from being graded)."""
    student = result.student if isinstance(result, Grade) else getattr(result, "student", None)
    if student is None:
        name = result.submission if isinstance(result, Grade) else getattr(result, "submission_name", "")
        return [name, "", "", ""]
    return [student.name, student.canvas_id, student.sid, student.email]


def mistakes_cell(grade: Grade) -> str:
    return "; ".join(f"{m.code} in {m.function}" for m in grade.mistakes)


def entry_column(index: int) -> str:
    """A short, readable column for one points entry: "softmax: divide by N [2]"."""
    pattern, worth, what = points.POINTS[index]
    path = PurePosixPath(pattern.split("::", 1)[0])
    stem = path.stem.removeprefix("test_").removeprefix("hidden_").replace("_", " ")
    group = ("hidden " if points.is_hidden(pattern) else "") + stem.replace("linear classifier", "classifier")
    return f"{group}: {what} [{worth:g}]"


def write_gradebook(results: list[Grade | BaseException], path: Path) -> None:
    """grades.csv (identity, score, mistakes, notes) and grades-tests.csv (points per test entry)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for result in results:
            source = _source(result)
            if isinstance(result, Grade):
                row = [f"{result.score:g}", f"{result.total:g}", mistakes_cell(result), "; ".join(result.notes)]
            else:
                row = ["", "", "", f"not graded: {result}"]
            writer.writerow([*identity(result), *row, *source])
    grades = [r for r in results if isinstance(r, Grade)]
    entries = sorted({points.entry_of(t.name) for g in grades for t in g.tests} - {None})
    entries = [i for i in entries if points.POINTS[i][1] > 0]
    headers = _unique([entry_column(i) for i in entries])
    with open(detail_path(path), "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*IDENTITY, "Score", *headers])
        for g in grades:
            subtotal = dict.fromkeys(entries, 0.0)
            for t in g.tests:
                index = points.entry_of(t.name)
                if index in subtotal:
                    subtotal[index] += t.score
            writer.writerow([*identity(g), f"{g.score:g}", *(f"{round(subtotal[i], 2):g}" for i in entries)])


def _source(result) -> list[str]:
    return [str(getattr(result, "source", "") or ""), str(getattr(result, "submitted_at", "") or "")]


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return unique
