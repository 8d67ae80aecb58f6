"""Benchmark of the grader, as an instructor runs it: the README's commands, timed side by side.

Prints, in one run, on this machine (sandbox included, the isolation the grader
would use here):

- the floor: the graded tests run plainly by pytest on the reference solution,
  in one process with no sandbox (what grading one submission cannot beat);
- one correct submission with the README's command
  (`python -m instructor.grading DIR --gradescope results.json`), cold (an
  empty bundle cache: the bundle is built and gated) and again with the cached
  bundle, each as a ratio to the floor;
- a batch of correct submissions with `--jobs 2`: seconds per submission, and
  500 at that rate;
- one submission whose functions never return.

Targets (issue 23): one submission at most 2.5 s with the cached bundle, 500 in
at most 5 minutes with 2 jobs, a never-returning one in at most 15 s. These
are measurements, not tests: run it on a quiet machine (it prints the load).
`OPENBLAS_CORETYPE` and `OPENBLAS_L2_SIZE` force an older BLAS kernel; run it
with both unset (it prints the kernel in use).

    .venv/bin/python -m instructor.benchmarks.bench_grading            # a batch of 50, about 2 minutes
    .venv/bin/python -m instructor.benchmarks.bench_grading --quick    # a batch of 6
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from csv import DictReader
from pathlib import Path

from instructor import REPO_ROOT
from instructor.build import build_kit, with_hidden_tests, write_files
from instructor.grading import points
from instructor.grading.attacks import NEVER_RETURNS
from instructor.grading.bundle import CACHE_ENV, student_files
from instructor.grading.suite import Case, build_files

TARGET_ALONE = 2.5  # seconds for one correct submission with the cached bundle
TARGET_500 = 300.0  # seconds for 500 correct submissions with 2 jobs
TARGET_NEVER = 15.0  # seconds for a submission whose functions never return
REPEATS = 3  # runs of each single-submission command; the median is shown


def write(folder: Path, files: dict[str, str]) -> Path:
    """A submission folder: the graded files, flat, as a student hands them in."""
    folder.mkdir(parents=True)
    for path, text in files.items():
        (folder / Path(path).name).write_text(text)
    return folder


def timed_command(command: list[str], env: dict[str, str], cwd: Path = REPO_ROOT) -> tuple[float, str]:
    """Seconds `command` took (wall clock) and its output; exits if it failed."""
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"bench: {' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return seconds, result.stdout


def score(output: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith("Score:")]
    return lines[-1].removeprefix("Score: ") if lines else "?"


def blas() -> str:
    from threadpoolctl import threadpool_info

    found = [f"{i.get('internal_api')} {i.get('architecture')}" for i in threadpool_info() if i["user_api"] == "blas"]
    return ", ".join(found) or "none found"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m instructor.benchmarks.bench_grading", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="a batch of 6 instead of 50")
    parser.add_argument("--batch", type=int, help="submissions in the batch (default 50, 6 with --quick)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel jobs in the batch (default 2)")
    args = parser.parse_args(argv)
    count = args.batch or (6 if args.quick else 50)
    python = sys.executable
    load_before = os.getloadavg()[0]
    solved = build_kit(REPO_ROOT, solutions=True, check_notebook_sources=False)
    graded = student_files()
    reference = {name: solved[name][0].decode() for name in graded}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        root = Path(tmp)
        env = {**os.environ, CACHE_ENV: str(root / "cache")}
        # The floor: the solved kit with the hidden tests, the graded tests run by pytest directly.
        floor_kit = root / "floor-kit"
        write_files(with_hidden_tests(solved, REPO_ROOT), floor_kit)
        floor_command = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *points.GRADED_TEST_PATHS]
        floor_env = {**env, "HYPOTHESIS_PROFILE": "grading", "PYTHONPATH": str(REPO_ROOT)}  # the reference
        floor = statistics.median(timed_command(floor_command, floor_env, floor_kit)[0] for _ in range(REPEATS))

        correct = write(root / "correct", reference)
        never = write(root / "never", build_files(reference, Case("attack", NEVER_RETURNS)))
        batch = root / "class"
        for i in range(count):
            write(batch / f"student{i:03d}", reference)
        grade = [python, "-m", "instructor.grading"]
        cold, cold_out = timed_command([*grade, str(correct), "--gradescope", str(root / "r.json")], env)
        warm_runs = [
            timed_command([*grade, str(correct), "--gradescope", str(root / "r.json")], env) for _ in range(REPEATS)
        ]
        warm = statistics.median(seconds for seconds, _ in warm_runs)
        never_time, never_out = timed_command([*grade, str(never), "--gradescope", str(root / "r.json")], env)
        csv = root / "grades.csv"
        batch_command = [*grade, *map(str, sorted(batch.iterdir())), "--jobs", str(args.jobs), "--csv", str(csv)]
        batch_time, _ = timed_command([*batch_command, "--quiet"], env)
        with open(csv, newline="") as handle:
            scores = sorted({row["Score"] or "not graded" for row in DictReader(handle)})
    load_after = os.getloadavg()[0]
    per_submission = batch_time / count

    def verdict(value: float, target: float) -> str:
        return f"at most {target:g} s: {'met' if value <= target else 'NOT met'}"

    print("| what | seconds | × the floor | target |")
    print("|---|---|---|---|")
    print(f"| the floor: the graded tests by pytest, reference, no sandbox | {floor:.2f} | 1.0 | — |")
    cold_row = f"one correct submission, cold: builds the bundle ({score(cold_out)})"
    print(f"| {cold_row} | {cold:.2f} | {cold / floor:.1f} | — |")
    print(
        f"| the same, with the cached bundle (median of {REPEATS}) | {warm:.2f} | {warm / floor:.1f} | "
        f"{verdict(warm, TARGET_ALONE)} |"
    )
    print(
        f"| one submission whose functions never return ({score(never_out)}) | {never_time:.2f} | "
        f"{never_time / floor:.1f} | {verdict(never_time, TARGET_NEVER)} |"
    )
    print(
        f"| {count} correct submissions, --jobs {args.jobs} (one command; scores {', '.join(scores)}) | "
        f"{batch_time:.1f} | — | — |"
    )
    print(f"| per submission in that batch | {per_submission:.2f} | {per_submission / floor:.2f} | — |")
    whole_class = 500 * per_submission
    print(f"| 500 submissions at that rate | {whole_class:.0f} | — | {verdict(whole_class, TARGET_500)} |")
    print()
    forced = [name for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if name in os.environ]
    print(
        f"Machine: {os.cpu_count()} cores; Python {platform.python_version()}; BLAS {blas()}"
        + (f" (forced by {', '.join(forced)}: unset them to benchmark)" if forced else "")
        + f"; load average {load_before:.1f} before, {load_after:.1f} after "
        "(more than the cores: the times are inflated)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
