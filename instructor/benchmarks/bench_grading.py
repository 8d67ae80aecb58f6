"""Benchmark of the grader: seconds per submission, alone and in a batch, sandbox included.

Times, in one run, with the isolation the grader would use here:

- building the grading bundle (once per batch; it grades the reference too);
- one correct submission (the reference solution) graded alone;
- one submission whose loss functions never return, graded alone;
- a batch of correct submissions graded with 2 jobs: seconds per submission,
  and what 500 would take at that rate.

Instructor-only (it grades the reference solution): left out of the release.

    .venv/bin/python -m instructor.benchmarks.bench_grading            # a batch of 50, a few minutes
    .venv/bin/python -m instructor.benchmarks.bench_grading --quick    # a batch of 4
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from instructor import REPO_ROOT
from instructor.grading import cli, sandbox
from instructor.grading.bundle import build_bundle
from instructor.markers import BEGIN, END

REPO = REPO_ROOT
GRADED = ("classifiers/softmax.py", "classifiers/linear_classifier.py")
TARGET_ALONE = 3.0  # seconds for one correct submission (issue target)
TARGET_500 = 600.0  # seconds for 500 correct submissions with 2 jobs


def never_returning(text: str) -> str:
    """softmax.py with the body of every solution region replaced by an endless loop."""
    lines, out, inside = text.splitlines(keepends=True), [], False
    for line in lines:
        if line.strip() == BEGIN:
            indent = line[: len(line) - len(line.lstrip())]
            out += [line, f"{indent}while True:\n", f"{indent}    pass\n"]
            inside = True
        elif line.strip() == END:
            out.append(line)
            inside = False
        elif not inside:
            out.append(line)
    return "".join(out)


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True)
    for path, text in files.items():
        (folder / Path(path).name).write_text(text)
    return folder


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m instructor.benchmarks.bench_grading", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="a batch of 4 instead of 50")
    parser.add_argument("--batch", type=int, help="submissions in the batch (default 50, 4 with --quick)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel jobs in the batch (default 2)")
    args = parser.parse_args(argv)
    count = args.batch or (4 if args.quick else 50)
    isolation = sandbox.choose_isolation(trusted=True)
    limits = sandbox.Limits()
    reference = {path: (REPO / path).read_text() for path in GRADED}
    hanging = {**reference, GRADED[0]: never_returning(reference[GRADED[0]])}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        root = Path(tmp)
        bundle, build_time = timed(lambda: build_bundle(REPO, root / "bundle"))
        correct = write(root / "correct", reference)
        never = write(root / "never", hanging)
        batch = [write(root / "batch" / f"student{i:03d}", reference) for i in range(count)]
        (alone,), alone_time = timed(lambda: cli.grade_many(bundle, [correct], limits, isolation))
        (stuck,), stuck_time = timed(lambda: cli.grade_many(bundle, [never], limits, isolation))
        grades, batch_time = timed(lambda: cli.grade_many(bundle, batch, limits, isolation, jobs=args.jobs))
    load_after = os.getloadavg()[0]
    scores = {g.score for g in grades if hasattr(g, "score")}
    per_submission = batch_time / count
    print("| what | seconds | per submission | target |")
    print("|---|---|---|---|")
    print(f"| build the bundle (grades the reference once) | {build_time:.1f} | — | — |")
    print(
        f"| one correct submission, alone ({alone.score:g}/100) | {alone_time:.2f} | {alone_time:.2f} | "
        f"{TARGET_ALONE:g} s: {'met' if alone_time <= TARGET_ALONE else 'not met'} |"
    )
    print(
        f"| one never-returning submission, alone ({stuck.score:g}/100) | {stuck_time:.2f} | {stuck_time:.2f} | "
        "well under 60 s |"
    )
    print(
        f"| {count} correct submissions, {args.jobs} jobs (scores {sorted(scores)}) | {batch_time:.1f} | "
        f"{per_submission:.2f} | — |"
    )
    print(
        f"| 500 submissions at that rate | {500 * per_submission:.0f} | — | {TARGET_500:g} s: "
        f"{'met' if 500 * per_submission <= TARGET_500 else 'not met'} |"
    )
    print()
    print(
        f"Machine: {os.cpu_count()} cores; Python {platform.python_version()}; isolation: {isolation.description}; "
        f"load average {load_before:.1f} before, {load_after:.1f} after (more than the cores: the times are inflated)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
