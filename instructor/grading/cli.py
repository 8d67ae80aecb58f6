"""Grade submissions: `python -m instructor.grading SUBMISSION... [options]`.

    python -m instructor.grading submission.zip
    python -m instructor.grading path/to/student-kit --gradescope results.json
    python -m instructor.grading subs/*/ --jobs 2 --csv grades.csv --json-dir results/

SUBMISSION is a folder or a zip: a student's whole kit, the submission.zip
that `python submit.py` writes, or a flat upload of the files (Gradescope's
/autograder/submission). Each is graded by the trusted harness with the
student's code in a sandboxed worker (instructor/grading/harness.py); the
isolation used is printed and recorded. Prints a table per submission and
`Score: X / Y`; --gradescope writes results.json, --json-dir one JSON per
submission, --csv a gradebook.

Exit status: 0 when every submission was graded; 1 when the grader could
not grade one or more of them (no result is written for those); 2 when it
cannot grade at all (a broken bundle or points table, no sandbox): one line
says what to fix.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from instructor import REPO_ROOT
from instructor.grading import harness, points
from instructor.grading.bundle import Bundle, BundleError, build_bundle, load_bundle
from instructor.grading.harness import Outcome, run_harness
from instructor.grading.results import (
    OUTPUT_LIMIT,
    Grade,
    TestResult,
    gradescope_json,
    misconfigured_json,
    print_line,
    print_table,
    write_csv,
    write_json,
)
from instructor.grading.sandbox import Isolation, Limits, SandboxUnavailable, choose_isolation
from instructor.grading.submission import SubmissionError, display_names, read_submission


class GraderError(RuntimeError):
    """The grader cannot grade: its own setup is wrong. The message says what to fix."""


def grade_one(bundle: Bundle, submission: Path, name: str, limits: Limits, isolation: Isolation) -> Grade:
    """Grade one submission. Raises SubmissionError (unreadable) or GraderError (the grader's own failure)."""
    start = time.monotonic()
    files, notes = read_submission(submission, bundle.graded_files)
    with tempfile.TemporaryDirectory(prefix="grade-") as work:
        run = run_harness(
            bundle.harness,
            bundle.worker,
            list(points.GRADED_TEST_PATHS),
            files,
            Path(work),
            limits,
            isolation,
            bundle.budgets,
        )
    if run.collect_errors:
        raise GraderError(
            "the graded tests do not collect (the grading bundle is broken):\n" + "\n".join(run.collect_errors)
        )
    outcomes = run.outcomes
    if run.problem:
        notes.append(run.problem.splitlines()[0])
    for key, test in run.timed_out.items():
        notes.append(f"{key} timed out (in {test}) and was not called again")
    notes.extend(run.notes)
    grade = Grade(submission=name, notes=notes, isolation=isolation.description)
    results = {
        test_id: outcomes.get(test_id, Outcome(False, "no result: this test was not run")) for test_id in bundle.tests
    }
    # A classic mistake costs its rubric points once, not the points of every test it fails.
    kept, charges = points.charge_once(
        {
            test_id: (bundle.points[test_id], outcome.explained)
            for test_id, outcome in results.items()
            if not outcome.passed and outcome.explained
        },
        bundle.charges,
    )
    for test_id, outcome in results.items():
        worth = bundle.points[test_id]
        message = outcome.message[-OUTPUT_LIMIT:]
        if test_id in kept:
            mistakes = "; ".join(
                f"{f}: {', '.join(f'{c} ({bundle.charges[f][c]:g} points)' for c in codes)}"
                for f, codes in outcome.explained.items()
            )
            message = (
                f"Charged once: this failure comes from {mistakes}, which costs that much in all, however "
                f"many tests it fails; this test keeps {kept[test_id]:g} of its {worth:g} points.\n\n"
                f"{message[-(OUTPUT_LIMIT // 2) :]}"
            )
        grade.tests.append(
            TestResult(
                name=test_id,
                max_score=worth,
                score=worth if outcome.passed else kept.get(test_id, 0.0),
                passed=outcome.passed,
                output=message,
                hidden=points.is_hidden(test_id),
            )
        )
    notes.extend(charges)
    grade.execution_time = round(time.monotonic() - start, 2)
    return grade


def grade_many(
    bundle: Bundle, submissions: list[Path], limits: Limits, isolation: Isolation, jobs: int = 1
) -> list[Grade | BaseException]:
    """A Grade, or the error that kept the grader from grading, for each submission, in order."""
    names = display_names(submissions)

    def one(item):
        submission, name = item
        try:
            return grade_one(bundle, submission, name, limits, isolation)
        except Exception as error:  # noqa: BLE001 - reported per submission; the batch goes on
            error.submission_name = name
            return error

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, zip(submissions, names)))


def get_bundle(bundle_dir: Path | None, workdir: Path) -> Bundle:
    if bundle_dir is not None:
        return load_bundle(bundle_dir)
    return build_bundle(REPO_ROOT, workdir / "bundle")


def json_name(name: str) -> str:
    """alice/submission.zip -> alice__submission.json: one file per submission, never shared."""
    stem = name[: -len(".zip")] if name.endswith(".zip") else name.rstrip("/")
    return stem.replace("/", "__") + ".json"


def _stop(signum, frame) -> None:
    """SIGINT/SIGTERM: kill every harness (their workers die with them), then exit."""
    harness.stop_all()
    os._exit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m instructor.grading", description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", nargs="+", type=Path, help="folders or zips")
    parser.add_argument("--gradescope", type=Path, help="write Gradescope's results.json here (one submission)")
    parser.add_argument("--json-dir", type=Path, help="write one Gradescope-style JSON per submission here")
    parser.add_argument("--csv", type=Path, help="write a gradebook: one row per submission, a column per points entry")
    parser.add_argument("--overwrite", action="store_true", help="replace existing result files")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel (default 1)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=Limits.timeout,
        help="seconds: the most one call into student code may take, and each test's budget "
        "(default %(default)s; calls the reference makes in milliseconds get a few seconds)",
    )
    parser.add_argument(
        "--total-time",
        type=float,
        default=Limits.total,
        help="seconds per submission, a hard bound (default %(default)s)",
    )
    parser.add_argument("--memory", type=int, default=Limits.memory_mb, help="MB of memory for student code")
    parser.add_argument("--user", help="if bubblewrap cannot run here, run student code as this user (needs root)")
    parser.add_argument(
        "--trusted",
        action="store_true",
        help="allow grading without any sandbox if bubblewrap cannot run (trusted code only)",
    )
    parser.add_argument("--bundle", type=Path, help="a grading bundle to use (default: build one from this repo)")
    parser.add_argument("--quiet", action="store_true", help="one line per submission")
    args = parser.parse_args(argv)
    if args.gradescope and len(args.submissions) != 1:
        parser.error("--gradescope takes exactly one submission")
    limits = Limits(timeout=args.timeout, memory_mb=args.memory, total=args.total_time)
    names = display_names(args.submissions)
    targets = (
        ([args.gradescope] if args.gradescope else [])
        + ([args.json_dir / json_name(n) for n in names] if args.json_dir else [])
        + ([args.csv] if args.csv else [])
    )
    existing = [str(t) for t in targets if t.exists() and not (args.gradescope and t == args.gradescope)]
    if existing and not args.overwrite:
        print(
            f"grade: refusing to overwrite {', '.join(existing[:3])}{' ...' if len(existing) > 3 else ''} "
            "(pass --overwrite to replace them)",
            file=sys.stderr,
        )
        return 2
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        isolation = choose_isolation(args.user, args.trusted)
        if isolation.kind == "user" and args.jobs > 1:
            raise GraderError(
                "--jobs must be 1 when student code runs as a separate user "
                "(its leftover processes are ended by user, which would hit the other job)"
            )
        with tempfile.TemporaryDirectory(prefix="grader-") as tmp:
            bundle = get_bundle(args.bundle, Path(tmp))
            print(bundle.describe())
            results = grade_many(bundle, args.submissions, limits, isolation, args.jobs)
    except (SandboxUnavailable, BundleError, points.PointsError, GraderError, OSError) as error:
        problem = str(error)
        print(f"grade: {problem}", file=sys.stderr)
        if args.gradescope:
            write_json(misconfigured_json(problem), args.gradescope)
        return 2
    grades = [r for r in results if isinstance(r, Grade)]
    failures = [r for r in results if not isinstance(r, Grade)]
    for result in results:
        if isinstance(result, Grade):
            (print_line if args.quiet else print_table)(result)
        elif isinstance(result, SubmissionError):
            print(f"\n{result.submission_name}: not graded: {result}", file=sys.stderr)
        else:
            text = "".join(traceback.format_exception(type(result), result, result.__traceback__))
            print(f"\n{result.submission_name}: NOT GRADED, the grader failed:\n{text}", file=sys.stderr)
    if args.gradescope:
        if grades:
            write_json(gradescope_json(grades[0]), args.gradescope)
        elif isinstance(failures[0], SubmissionError):
            write_json(
                {"output": f"Your submission could not be read: {failures[0]}", "score": 0, "tests": []},
                args.gradescope,
            )
        else:
            write_json(misconfigured_json(str(failures[0])), args.gradescope)
    if args.json_dir:
        for g in grades:
            write_json(gradescope_json(g), args.json_dir / json_name(g.submission))
    if args.csv:
        write_csv(grades, args.csv)
    if failures:
        print(
            f"grade: {len(failures)} of {len(results)} submission(s) were not graded (see above); "
            "no result was written for them",
            file=sys.stderr,
        )
        return 1
    return 0
