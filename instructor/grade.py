"""Grade submissions: the graded tests and checks, run away from the scorer.

    python -m instructor.grade SUBMISSION [--gradescope results.json] [--timeout SECONDS]
    python -m instructor.grade SUB1 SUB2 ... --jobs 2 --csv grades.csv [--json-dir DIR]

SUBMISSION is a directory or a zip: a student kit, the submission.zip that
`python submit.py` writes, or a flat upload of the graded files
(Gradescope's /autograder/submission). The graded files are taken from it,
put into a clean copy of the kit, and run there in child processes (see
instructor/runner.py). This process never imports student code: it reads
the children's reports and compares their values itself.

Prints a per-test table and `Score: X / Y`. --gradescope writes Gradescope's
results.json; it is always written, with score 0 and the traceback if the
grader itself fails. Points are declared in instructor/points.py.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
import traceback
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from instructor.bundle import Bundle, build_bundle, load_bundle
from instructor.points import TOTAL, is_hidden
from instructor.release import REPO_ROOT
from instructor.runner import Outcome, run_submission
from instructor.sandbox import Limits, check_user_can_run_python
from submit import GRADED_FILES  # one list: what students hand in is what is graded

MAX_FILE_BYTES = 50 * 2**20  # a notebook with images can be large; more is not a submission
OUTPUT_LIMIT = 4000  # characters of one test's message kept in results.json


class SubmissionError(ValueError):
    """The submission cannot be read at all."""


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
    submission: str
    tests: list[TestResult] = field(default_factory=list)
    output: str = ""
    execution_time: float = 0.0

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 2)

    @property
    def total(self) -> float:
        return round(sum(t.max_score for t in self.tests), 2) if self.tests else float(TOTAL)


def _pick(names: dict[str, object], wanted: str) -> str | None:
    """The entry of `names` that is the graded file `wanted`, by path or by name."""
    if wanted in names:
        return wanted
    base = PurePosixPath(wanted).name
    candidates = [n for n in names if n.endswith("/" + wanted)] or [
        n for n in names if PurePosixPath(n).name == base
    ]
    candidates = [n for n in candidates if "__MACOSX" not in n and ".ipynb_checkpoints" not in n]
    return min(candidates, key=lambda n: (n.count("/"), n)) if candidates else None


def read_submission(path: Path) -> tuple[dict[str, bytes], list[str]]:
    """The graded files found in `path` (dir or zip), and notes about them."""
    if path.is_dir():
        entries = {p.relative_to(path).as_posix(): p for p in path.rglob("*")
                   if p.is_file() and not p.is_symlink() and ".venv" not in p.parts}
        read = lambda entry: entries[entry].read_bytes()  # noqa: E731
        size = lambda entry: entries[entry].stat().st_size  # noqa: E731
    elif zipfile.is_zipfile(path):
        archive = zipfile.ZipFile(path)
        entries = {i.filename: i for i in archive.infolist() if not i.is_dir()}
        read = lambda entry: archive.read(entries[entry])  # noqa: E731
        size = lambda entry: entries[entry].file_size  # noqa: E731
    else:
        raise SubmissionError(f"{path}: expected a directory or a zip file")
    files, notes = {}, []
    for wanted in GRADED_FILES:
        entry = _pick(entries, wanted)
        if entry is None:
            notes.append(f"{wanted} is missing from the submission: the kit's unimplemented version was graded")
        elif size(entry) > MAX_FILE_BYTES:
            notes.append(f"{wanted} is larger than {MAX_FILE_BYTES // 2**20} MB and was not graded")
        else:
            files[wanted] = read(entry)
    return files, notes


def grade_one(bundle: Bundle, submission: Path, limits: Limits) -> Grade:
    """Grade one submission; never raises (a failure is reported in the Grade)."""
    start = time.monotonic()
    grade = Grade(submission=str(submission))
    try:
        files, notes = read_submission(submission)
        with tempfile.TemporaryDirectory(prefix="grade-") as work:
            outcomes = run_submission(bundle, files, Path(work), limits)
        grade.tests = score(bundle, outcomes)
        grade.output = "\n".join(notes)
    except Exception:  # noqa: BLE001 - the grader's own failure must still give a result
        grade.tests = []
        grade.output = "The grader failed on this submission (score 0); please tell the course staff.\n" + (
            traceback.format_exc())
    grade.execution_time = round(time.monotonic() - start, 2)
    return grade


def score(bundle: Bundle, outcomes: dict[str, Outcome]) -> list[TestResult]:
    results = []
    for name in [*bundle.checks, *bundle.tests]:
        outcome = outcomes.get(name, Outcome(False, "no result"))
        points = bundle.points[name]
        results.append(TestResult(name=name, max_score=round(points, 4), score=round(points, 4) if outcome.passed else 0.0,
                                  passed=outcome.passed, output=outcome.message[-OUTPUT_LIMIT:], hidden=is_hidden(name)))
    return results


def gradescope_json(grade: Grade) -> dict:
    """Gradescope's results.json schema (gradescope-autograders.readthedocs.io/en/latest/specs/)."""
    return {
        "score": grade.score,
        "execution_time": grade.execution_time,
        "output": grade.output or f"Score: {grade.score:g} / {grade.total:g}",
        "stdout_visibility": "hidden",
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


def write_json(grade: Grade, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_text(json.dumps(gradescope_json(grade), indent=1))
    partial.replace(path)


def failure_grade(submission: str, error: BaseException) -> Grade:
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return Grade(submission=submission, output=f"The grader failed (score 0); please tell the course staff.\n{text}")


SUMMARY_WIDTH = 150  # characters of a failure's one-line summary in the console table


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
        print(f"  {mark}  {t.score:5.2f} / {t.max_score:5.2f}  {t.name}", file=out)
        if not t.passed and t.output:
            print(f"{'':22}{failure_summary(t.output)[:SUMMARY_WIDTH]}", file=out)
    if grade.output:
        print(grade.output, file=out)
    print(f"Score: {grade.score:g} / {grade.total:g}", file=out)


def write_csv(grades: list[Grade], path: Path) -> None:
    names = list(dict.fromkeys(t.name for g in grades for t in g.tests))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["submission", "score", "total", *names])
        for g in grades:
            by_name = {t.name: t.score for t in g.tests}
            writer.writerow([g.submission, g.score, g.total, *(by_name.get(n, 0) for n in names)])


def get_bundle(bundle_dir: Path | None, workdir: Path) -> Bundle:
    if bundle_dir is not None:
        return load_bundle(bundle_dir)
    return build_bundle(REPO_ROOT, workdir / "bundle")


def grade_many(bundle: Bundle, submissions: list[Path], limits: Limits, jobs: int = 1) -> list[Grade]:
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda s: grade_one(bundle, s, limits), submissions))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m instructor.grade", description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", nargs="+", type=Path, help="directories or zips")
    parser.add_argument("--gradescope", type=Path, help="write Gradescope's results.json here (one submission)")
    parser.add_argument("--timeout", type=float, default=Limits.timeout, help="seconds per test (default %(default)s)")
    parser.add_argument("--memory", type=int, default=Limits.memory_mb, help="MB of memory per child (default %(default)s)")
    parser.add_argument("--total-time", type=float, default=Limits.total, help="seconds per submission (default %(default)s)")
    parser.add_argument("--user", help="run student code as this user (needs root; Gradescope: nobody)")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel")
    parser.add_argument("--csv", type=Path, help="one row per submission, one column per test")
    parser.add_argument("--json-dir", type=Path, help="also write SUBMISSION_NAME.json per submission here")
    parser.add_argument("--bundle", type=Path, help="a prebuilt grading bundle (default: build one from this repo)")
    parser.add_argument("--quiet", action="store_true", help="only the score lines")
    args = parser.parse_args(argv)
    if args.gradescope and len(args.submissions) != 1:
        parser.error("--gradescope takes exactly one submission")
    limits = Limits(timeout=args.timeout, memory_mb=args.memory, total=args.total_time, user=args.user)
    try:
        check_user_can_run_python(limits)  # one clear error, not a 0 for every submission
        with tempfile.TemporaryDirectory(prefix="grader-") as tmp:
            bundle = get_bundle(args.bundle, Path(tmp))
            grades = grade_many(bundle, args.submissions, limits, args.jobs)
    except Exception as err:  # noqa: BLE001 - results.json must exist whatever happens
        grades = [failure_grade(str(s), err) for s in args.submissions]
        print(grades[0].output, file=sys.stderr)
    for g in grades:
        if args.quiet:
            print(f"{g.submission}: Score: {g.score:g} / {g.total:g}")
        else:
            print_table(g)
    if args.gradescope:
        write_json(grades[0], args.gradescope)
    if args.json_dir:
        for g in grades:
            write_json(g, args.json_dir / f"{Path(g.submission).stem}.json")
    if args.csv:
        write_csv(grades, args.csv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
