"""The instructor's self-test: do the current tests and points still grade classic work correctly?

    python -m instructor.grading.selftest [--jobs 2]

Builds a grading bundle from this repository (the reference gate runs
first), then grades a built-in suite against it, in the sandbox:

- every classic mistake of the rubric (instructor/grading/rubric.py), each
  made by editing the suite's own correct code: one charged once must cost
  exactly its rubric points; one charged by its tests must fail exactly the
  tests the rubric lists (so it costs their points, as points.py sets them);
  either way the test named after it fails, and no test named after another
  mistake does;
- every correct style (instructor/grading/styles/) and a classifier written
  another way, which must get exactly the reference's score;
- loss pairs that compute nothing (zeros, a constant, random numbers, an echo
  of the inputs), which must earn none of the loss pair's points;
- attacks, each against its honest twin (instructor/grading/attacks.py),
  which must not score more.

It prints one table, each mistake with its codes, what it costs and which
tests took its points, and warns (exit status 1) about anything above that
does not hold. The suite does not copy the reference solution: it brings its
own correct code for every solution region (softmax.py: 0 naive, 1
vectorized; linear_classifier.py: 0 the batch, 1 the update, 2 predict) and
makes each mistake by editing that, so it keeps working after the reference
is rewritten.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from instructor.grading import attacks, points, rubric
from instructor.grading.rubric import MISTAKES
from instructor.grading.suite import NOTHING, VARIANTS, Case, build_files, graded_files, styles

ROUNDING = 0.011  # points: a grade is shown to 2 decimals, each test's points to 4
VISIBLE = ("tests/test_softmax.py::", "tests/test_linear_classifier.py::")  # tests named after a mistake


def mistake_cases() -> dict[str, Case]:
    return {mistake.name: Case("mistake", list(mistake.edits), mistake=mistake) for mistake in MISTAKES}


def cases(marker: str = "selftest-leftover", port: int = 9, extra_places: list[str] | None = None) -> dict[str, Case]:
    """The whole suite, by name, in the order of the table."""
    return {
        "reference": Case("reference"),
        **mistake_cases(),
        **styles(),
        **VARIANTS,
        **NOTHING,
        **attacks.attacks(marker, port, extra_places or []),
    }


@dataclass
class Row:
    name: str
    kind: str
    score: float
    lost: float
    note: str


def _short(test_id: str) -> str:
    return test_id.removeprefix("tests/").replace("test_hidden_", "").replace(".py::", "::")


def _named_tests() -> dict[str, set[str]]:
    """Test pattern -> the mistakes whose named tests it is (charged once: all its tests; else the first)."""
    named: dict[str, set[str]] = {}
    for mistake in MISTAKES:
        for pattern in mistake.tests if mistake.charged_once else mistake.tests[:1]:
            if pattern.startswith(VISIBLE):  # the tests a student reads the names of
                named.setdefault(pattern, set()).add(mistake.name)
    return named


def judge_mistake(mistake: rubric.Mistake, grade) -> tuple[str, list[str]]:
    """The table's note for one mistake and the warnings about it."""
    failed = [t.name for t in grade.tests if not t.passed]
    lost = round(grade.total - grade.score, 2)
    took = ", ".join(f"{_short(t.name)} {t.max_score - t.score:.3g}" for t in grade.tests if t.score < t.max_score)
    warnings = []
    if not any(mistake.lists(test) for test in failed):
        warnings.append(f"{mistake.name}: {mistake.named_test} no longer fails")
    points_of = {t.name: t.max_score for t in grade.tests}
    if mistake.charged_once:
        cost = mistake.cost
        if abs(lost - cost) > ROUNDING:
            warnings.append(
                f"{mistake.name}: costs {lost:g} points, but it is charged once at {cost:g} "
                f"({', '.join(mistake.codes)}); is it still recognised exactly? (tests: {took})"
            )
    else:
        cost = mistake.test_cost(points_of)
        listed = {test for test in points_of if mistake.lists(test)}
        if set(failed) != listed:
            extra, missing = sorted(set(failed) - listed), sorted(listed - set(failed))
            warnings.append(
                f"{mistake.name}: fails other tests than the rubric lists"
                + (f"; also fails {', '.join(map(_short, extra))}" if extra else "")
                + (f"; passes {', '.join(map(_short, missing))}" if missing else "")
            )
    # A function that changes its inputs computes from what it changed: its values are wrong
    # wherever a test compares them with the original inputs'. The rest fail only their own tests.
    named = {} if "mutates-input" in mistake.codes else _named_tests()
    for pattern, owners in named.items():
        if mistake.name not in owners and any(rubric.matches(test, pattern) for test in failed):
            warnings.append(
                f"{mistake.name}: fails {_short(pattern)}, the test named after {', '.join(sorted(owners))}"
            )
    note = f"{', '.join(mistake.codes)}; costs {cost:g} ({'charged once' if mistake.charged_once else 'its tests'})"
    return f"{note}; from {took}" if took else note, warnings


def judge(suite: dict[str, Case], grades: dict) -> tuple[list[Row], list[str]]:
    """The self-test's table and its warnings."""
    rows, warnings = [], []
    reference = grades.get("reference")
    for name, case in suite.items():
        grade = grades[name]
        lost = round(grade.total - grade.score, 2)
        note = ""
        if case.kind == "mistake":
            note, found = judge_mistake(case.mistake, grade)
            warnings += found
        elif case.kind in ("reference", "style", "variant"):
            target = reference.score if reference is not None else grade.total
            if grade.score != target or lost:
                failed = [t.name for t in grade.tests if not t.passed]
                warnings.append(
                    f"{name}: a correct solution scored {grade.score:g}, not {target:g} ({', '.join(failed[:3])})"
                )
        elif case.kind == "nothing":
            earned = [t for t in grade.tests if t.score > 0 and points.in_loss_pair(t.name)]
            note = f"loss pair earned {sum(t.score for t in earned):g}"
            if earned:
                warnings.append(
                    f"{name}: earned loss-pair points for nothing: {', '.join(_short(t.name) for t in earned)}"
                )
        elif case.kind == "attack" and case.twin:
            twin = grades[case.twin]
            note = f"twin {twin.score:g}"
            if grade.score > twin.score:
                warnings.append(f"{name}: scored {grade.score:g}, more than its honest twin's {twin.score:g}")
        rows.append(Row(name, case.kind, grade.score, lost, note))
    return rows, warnings


def print_report(rows: list[Row], warnings: list[str], out=None) -> None:
    out = out or sys.stdout
    print("| submission | kind | score | lost | |", file=out)
    print("|---|---|---|---|---|", file=out)
    for row in rows:
        print(f"| {row.name} | {row.kind} | {row.score:g} | {row.lost:g} | {row.note} |", file=out)
    print(file=out)
    for warning in warnings:
        print(f"WARNING: {warning}", file=out)
    print(
        "self-test: "
        + (
            f"{len(warnings)} warning(s)"
            if warnings
            else "every mistake costs what the rubric says and fails its own tests, every correct style gets "
            "the reference's score, nothing earns nothing, no attack scores more than its twin"
        ),
        file=out,
    )


def main(argv: list[str] | None = None) -> int:
    from instructor import REPO_ROOT
    from instructor.grading import cli, sandbox
    from instructor.grading.bundle import BundleError, cached_bundle
    from instructor.grading.results import Grade

    parser = argparse.ArgumentParser(prog="python -m instructor.grading.selftest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="submissions graded in parallel (default 2)")
    args = parser.parse_args(argv)
    suite = cases(extra_places=[str(REPO_ROOT)])
    try:
        isolation = sandbox.choose_isolation()
        with tempfile.TemporaryDirectory(prefix="selftest-") as tmp:
            root = Path(tmp)
            bundle = cached_bundle(REPO_ROOT)
            originals = graded_files(REPO_ROOT)
            paths = []
            for number, case in enumerate(suite.values()):
                folder = root / f"case{number:02d}"
                folder.mkdir()
                for path, text in build_files(originals, case).items():
                    (folder / Path(path).name).write_text(text)
                paths.append(folder)
            limits = sandbox.Limits(timeout=20.0, total=240.0)
            results = cli.grade_many(bundle, paths, limits, isolation, args.jobs)
    except (sandbox.SandboxUnavailable, BundleError, ValueError) as err:
        print(f"self-test: {err}", file=sys.stderr)
        return 2
    broken = [name for name, r in zip(suite, results) if not isinstance(r, Grade)]
    if broken:
        print(f"self-test: the grader failed on {', '.join(broken)}", file=sys.stderr)
        return 2
    rows, warnings = judge(suite, dict(zip(suite, results)))
    print_report(rows, warnings)
    return 1 if warnings else 0


if __name__ == "__main__":
    sys.exit(main())
