"""Grade submissions: `python -m instructor.grading SUBMISSION... [options]`.

    python -m instructor.grading submission.zip
    python -m instructor.grading path/to/student-kit --gradescope results.json
    python -m instructor.grading subs/*/ --jobs 2 --csv grades.csv --json-dir results/
    python -m instructor.grading export.zip --jobs 2 --csv grades.csv --report report/

SUBMISSION is a folder or a zip: a student's whole kit, the submission.zip
that `python submit.py` writes (also inside a student's folder), or a flat
upload of the files (Gradescope's /autograder/submission). A Gradescope or
Canvas "Download Submissions" export (the zip or its folder), or a folder
of student folders given alone, is a class: each student is graded once,
with their latest submission, and named as the export names them
(instructor/grading/exports.py). Each submission is graded by the trusted
harness with the student's code in a sandboxed worker
(instructor/grading/harness.py).

Prints the bundle used, a table per submission (--quiet: a line) and
`Score: X / Y`; the isolation used once (a batch) or in the table. A batch
shows its progress on stderr. --gradescope writes results.json, --json-dir
one per student, --csv a gradebook (instructor/grading/gradebook.py),
--report the class report with a feedback file per student
(instructor/grading/report.py).

Exit status: 0 when every submission was graded; 1 when the grader could
not grade one or more of them, or a file of an export belongs to no student
(each is named; no result is written for them); 2 when it cannot grade at
all (a broken bundle or points table, no sandbox): one line says what to fix.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

from instructor import REPO_ROOT
from instructor.grading import harness, points
from instructor.grading.bundle import Bundle, BundleError, build_bundle, cached_bundle, load_bundle
from instructor.grading.exports import Entry, ExportError, Student, assign_keys, open_export
from instructor.grading.gradebook import detail_path, write_gradebook
from instructor.grading.harness import Outcome, run_harness
from instructor.grading.report import REPORT_JSON, RunInfo, write_report
from instructor.grading.results import (
    OUTPUT_LIMIT,
    Grade,
    TestResult,
    gradescope_json,
    is_result_file,
    misconfigured_json,
    print_line,
    print_table,
    write_json,
    write_json_dir,
)
from instructor.grading.sandbox import Isolation, Limits, SandboxUnavailable, choose_isolation
from instructor.grading.submission import SubmissionError, Tree, display_names, read_submission


class GraderError(RuntimeError):
    """The grader cannot grade: its own setup is wrong. The message says what to fix."""


def grade_one(bundle: Bundle, submission: Path | Tree, name: str, limits: Limits, isolation: Isolation) -> Grade:
    """Grade one submission. Raises SubmissionError (unreadable, or no graded file) or GraderError."""
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
    for key, test in run.timed_out.items():  # the student's note never names a hidden test's cases
        notes.append(
            f"{key} timed out (in {'a hidden test' if points.is_hidden(test) else test}) and was not called again"
        )
    grade = Grade(
        submission=name,
        notes=notes,
        isolation=isolation.description,
        instructor_notes=[*run.notes, *(f"{key} timed out in {test}" for key, test in run.timed_out.items())],
        charges=bundle.charges,
        explanations=bundle.explanations,
        incidents=run.incidents,
        bundle=bundle.source,
        stopped=run.problem.splitlines()[0] if run.problem else "",
    )
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
        charge_line = ""
        if test_id in kept:
            mistakes = "; ".join(
                f"{f}: {', '.join(f'{c} ({bundle.charges[f][c]:g} points)' for c in codes)}"
                for f, codes in outcome.explained.items()
            )
            charge_line = (
                f"Charged once: this failure comes from {mistakes}, which costs that much in all, however "
                f"many tests it fails; this test keeps {kept[test_id]:g} of its {worth:g} points."
            )
            message = f"{charge_line}\n\n{message[-(OUTPUT_LIMIT // 2) :]}"
        grade.tests.append(
            TestResult(
                name=test_id,
                max_score=worth,
                score=worth if outcome.passed else kept.get(test_id, 0.0),
                passed=outcome.passed,
                output=message,
                hidden=points.is_hidden(test_id),
                explained=dict(outcome.explained),
                findings=outcome.findings,
                charged=test_id in kept,
                student=outcome.student,
                charge_line=charge_line,
            )
        )
    notes.extend(charges)
    grade.execution_time = round(time.monotonic() - start, 2)
    return grade


def grade_many(
    bundle: Bundle,
    submissions: list[Path | Entry],
    limits: Limits,
    isolation: Isolation,
    jobs: int = 1,
    progress: Callable[[Grade | BaseException], None] | None = None,
) -> list[Grade | BaseException]:
    """A Grade, or the error that kept the grader from grading, for each submission, in order.

    A submission is a path (named by its place among the others) or an export's Entry (named
    as the export names the student); `progress` is told of each result as it comes.
    """
    paths = [s for s in submissions if not isinstance(s, Entry)]
    names = dict(zip(map(id, paths), display_names(paths))) if paths else {}

    def one(submission):
        entry = submission if isinstance(submission, Entry) else None
        name = entry.student.label if entry else names[id(submission)]
        try:
            if entry is not None and entry.tree is None:
                raise SubmissionError(entry.error)
            grade = grade_one(bundle, entry.tree if entry else submission, name, limits, isolation)
            if entry is not None:
                grade.student, grade.source, grade.submitted_at = entry.student, entry.source, entry.submitted_at
                grade.notes[:0] = entry.notes
        except Exception as error:  # noqa: BLE001 - reported per submission; the batch goes on
            error.submission_name = name
            error.student = entry.student if entry else None
            error.source, error.submitted_at = (entry.source, entry.submitted_at) if entry else ("", "")
            grade = error
        if progress is not None:
            progress(grade)
        return grade

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, submissions))


def get_bundle(bundle_dir: Path | None, workdir: Path, fresh: bool = False) -> Bundle:
    """The bundle given (--bundle), else this repository's: from the cache, or built in `workdir` (fresh)."""
    if bundle_dir is not None:
        return load_bundle(bundle_dir)
    if fresh:
        return build_bundle(REPO_ROOT, workdir / "bundle")
    return cached_bundle(REPO_ROOT)


def json_name(name: str) -> str:
    """alice/submission.zip -> alice__submission.json: one file per submission, never shared."""
    stem = name[: -len(".zip")] if name.endswith(".zip") else name.rstrip("/")
    return stem.replace("/", "__") + ".json"


def _stop(signum, frame) -> None:
    """SIGINT/SIGTERM: kill every harness (their workers die with them), then exit."""
    harness.stop_all()
    os._exit(128 + signum)


def collect(paths: list[Path], graded_files: list[str], one_each: bool) -> tuple[list[Entry], list[str], int]:
    """Every student to grade from the command line's paths: (entries, problems, files no student claims).

    Each path is an export (Gradescope, Canvas), a class folder (only when it is the only path) or
    one submission; one_each (--gradescope): every path is one submission, whatever it holds.
    """
    entries, problems, unclaimed = [], [], 0
    singles = []
    for path in paths:
        if one_each:
            singles.append(path)
            continue
        try:
            export = open_export(path, graded_files, only_path=len(paths) == 1)
        except ExportError as err:
            problems.append(str(err))  # it names the path
            unclaimed += 1
            continue
        if export.layout == "single":
            singles.append(path)
            continue
        problems += [f"{path.name}: {p}" for p in export.problems]
        unclaimed += export.unclaimed
        entries += export.entries
    for path, name in zip(singles, display_names(singles) if singles else []):
        entries.append(Entry(Student(name, key=json_name(name).removesuffix(".json")), path, name))
    assign_keys([e.student for e in entries])
    labels = Counter(e.student.label for e in entries)
    for entry in entries:  # two students the export names alike: the key tells them apart
        if labels[entry.student.label] > 1:
            entry.student.name = f"{entry.student.name} [{entry.student.key}]"
    return entries, problems, unclaimed


def check_targets(args) -> str | None:
    """Why the outputs cannot be written (they exist and --overwrite is missing; a report folder that is
    not a report), or None."""
    existing = [p for p in (args.csv, args.csv and detail_path(args.csv)) if p and p.exists()]
    if args.json_dir and args.json_dir.is_dir():
        existing += [p for p in args.json_dir.glob("*.json") if is_result_file(p)]
    if args.report and args.report.exists():
        if not (args.report / REPORT_JSON).is_file() and any(args.report.iterdir()):
            return f"{args.report} exists and is not a class report: choose a new folder for --report"
        existing.append(args.report)
    if existing and not args.overwrite:
        shown = ", ".join(str(p) for p in existing[:3]) + (" ..." if len(existing) > 3 else "")
        return f"refusing to overwrite {shown} (pass --overwrite to replace them)"
    return None


class Progress:
    """The batch's progress on stderr: on a terminal a bar (submissions done, the rate, the time left),
    elsewhere (a log, CI) a line per submission graded."""

    def __init__(self, total: int, stream=None):
        self.stream = stream or sys.stderr
        self.total, self.done, self.lock = total, 0, threading.Lock()
        terminal = self.stream.isatty()
        self.bar = tqdm(total=total, unit="submission", file=self.stream, dynamic_ncols=True) if terminal else None

    def __call__(self, result: Grade | BaseException) -> None:
        with self.lock:
            self.done += 1
            name = result.submission if isinstance(result, Grade) else getattr(result, "submission_name", "?")
            said = f"{result.score:g} / {result.total:g}" if isinstance(result, Grade) else "not graded"
            if self.bar is not None:
                self.bar.set_postfix_str(f"last: {name} {said}", refresh=False)
                self.bar.update(1)
            else:
                print(f"[{self.done}/{self.total}] {name}: {said}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class QuietLines:
    """--quiet: each submission's one line (results.print_line) as soon as it is graded."""

    def __init__(self):
        self.lock = threading.Lock()

    def __call__(self, result: Grade | BaseException) -> None:
        if isinstance(result, Grade):
            with self.lock:
                print_line(result)
                sys.stdout.flush()

    def close(self) -> None:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m instructor.grading", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "submissions", nargs="+", type=Path, help="folders or zips: submissions, or a Gradescope or Canvas export"
    )
    parser.add_argument("--gradescope", type=Path, help="write Gradescope's results.json here (one submission)")
    parser.add_argument("--json-dir", type=Path, help="write one Gradescope-style JSON per student here")
    parser.add_argument("--csv", type=Path, help="write a gradebook (and NAME-tests.csv, the points per test entry)")
    parser.add_argument("--report", type=Path, help="write the class report here: index.html, report.json, feedback/")
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
    parser.add_argument(
        "--bundle",
        type=Path,
        help="a grading bundle to use (default: this repo's, reused from the cache if built from the same files)",
    )
    parser.add_argument(
        "--fresh-bundle", action="store_true", help="build and gate this repo's bundle now, not from the cache"
    )
    parser.add_argument("--quiet", action="store_true", help="one line per submission, no progress bar")
    args = parser.parse_args(argv)
    if args.gradescope and len(args.submissions) != 1:
        parser.error("--gradescope takes exactly one submission")
    limits = Limits(timeout=args.timeout, memory_mb=args.memory, total=args.total_time)
    refusal = check_targets(args)
    if refusal:
        print(f"grade: {refusal}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="grader-") as tmp, ThreadPoolExecutor(1) as probe:
            try:
                checked = probe.submit(choose_isolation, args.user, args.trusted)  # meanwhile: the bundle
                bundle = get_bundle(args.bundle, Path(tmp), fresh=args.fresh_bundle)
                harness.harness_for(bundle.harness, list(points.GRADED_TEST_PATHS))  # starts while we go on
                isolation = checked.result()
                if isolation.kind == "user" and args.jobs > 1:
                    raise GraderError(
                        "--jobs must be 1 when student code runs as a separate user "
                        "(its leftover processes are ended by user, which would hit the other job)"
                    )
                print(bundle.describe())
                entries, problems, unclaimed = collect(args.submissions, bundle.graded_files, bool(args.gradescope))
                for problem in problems:
                    print(f"grade: {problem}", file=sys.stderr)
                batch = len(entries) > 1
                if batch:
                    print(f"Isolation: {isolation.description}")
                progress = (Progress(len(entries)) if not args.quiet else QuietLines()) if batch else None
                try:
                    results = grade_many(bundle, entries, limits, isolation, args.jobs, progress)
                finally:
                    if progress is not None:
                        progress.close()
            finally:
                harness.close_all()  # the warm harnesses stop before their bundle's folder goes
    except (SandboxUnavailable, BundleError, points.PointsError, GraderError, OSError) as error:
        problem = str(error)
        print(f"grade: {problem}", file=sys.stderr)
        if args.gradescope:
            write_json(misconfigured_json(problem), args.gradescope)
        return 2
    grading_time = time.monotonic() - started
    grades = [r for r in results if isinstance(r, Grade)]
    failures = [r for r in results if not isinstance(r, Grade)]
    for result in results:
        if isinstance(result, Grade):
            if not args.quiet:
                print_table(result, isolation=not batch)
            elif not batch:  # a batch's lines were printed as each was graded
                print_line(result)
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
                {"output": f"Your submission could not be graded: {failures[0]}", "score": 0, "tests": []},
                args.gradescope,
            )
        else:
            write_json(misconfigured_json(str(failures[0])), args.gradescope)
    if args.json_dir:
        write_json_dir(grades, args.json_dir)
    if args.csv:
        write_gradebook(results, args.csv)
    if args.report:
        run = RunInfo(isolation.description, bundle.source, problems, round(grading_time, 1), len(results))
        seconds = write_report(args.report, grades, failures, run)
        print(f"wrote the class report {args.report / 'index.html'} ({seconds:.1f} s)")
    said = [f"{len(failures)} of {len(results)} submission(s) were not graded"] if failures else []
    said += [f"{unclaimed} file(s) or export(s) could not be given to any student"] if unclaimed else []
    if said:
        print(f"grade: {'; '.join(said)} (see above); no result was written for them", file=sys.stderr)
        return 1
    return 0
