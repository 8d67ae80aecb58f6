"""Tests for the grader (instructor/grading/); left out of the kit.

Submissions are the self-test's suite (instructor/grading/selftest.py):
- MISTAKES: every classic mistake of the rubric (instructor/grading/rubric.py);
  each costs what the rubric says and fails the tests it names.
- STYLES and VARIANTS: correct solutions written in other styles (the corpus
  of instructor/grading/styles/); each gets exactly the reference's score.
- NOTHING: loss pairs that compute nothing; they earn none of its points.
- THREATS: code that hangs, crashes, exits, hogs memory, patches numpy or
  pytest, rewrites a test file or fails to import; the damage must stay
  confined to the calls it touches, and grading must finish.
- ATTACKS: a student who wants a better grade than their code earns: forged
  reports, reading the hidden tests or the instructor's files, a process that
  outlives the grade, the network, code that never returns. Each must score
  exactly what its honest twin (the same maths without the attack) scores.
All of them are graded in one batch (2 jobs) by a session fixture, in the
bubblewrap sandbox; killing the grader and the fallbacks without bubblewrap
have tests of their own.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from instructor import REPO_ROOT
from instructor.build import build_kit, write_files
from instructor.grading import attacks, cli, harness, report, rubric, sandbox, selftest, suite
from instructor.grading import points as points_table
from instructor.grading.bundle import build_bundle
from instructor.grading.results import Grade, failure_summary, gradescope_json, print_table
from instructor.grading.sandbox import Limits
from instructor.grading.submission import read_submission
from instructor.markers import strip_python
from instructor.tests.class_fixtures import hidden_test_secrets, student_visible

pytestmark = pytest.mark.slow  # a few minutes on 2 cores: ~55 submissions graded in sandboxes

REPO = REPO_ROOT
SOFTMAX, LINEAR = "classifiers/softmax.py", "classifiers/linear_classifier.py"
GRADED_CODE = [SOFTMAX, LINEAR]
# Generous for these tests, short enough that the never-returning submissions are quick.
TEST_LIMITS = Limits(timeout=20.0, memory_mb=3072, total=240.0)
MARKER = f"grader-test-leftover-{uuid.uuid4().hex[:12]}"  # in the argv of every process an attack leaves behind


def sandbox_required():
    """The batch needs bubblewrap; CI installs it (.ci/run), elsewhere the tests say how."""
    command, problem = sandbox.bwrap_problem()
    if command is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to grade in the sandbox: {problem}")
        pytest.skip(f"{problem}: {sandbox.INSTALL_HINT}")
    return sandbox.choose_isolation()


# The mistakes, correct styles and attacks are the instructor self-test's own
# suite: they bring their own code for every solution region, so they keep
# working after the reference is rewritten.
MISTAKES = selftest.mistake_cases()
STYLES = {**suite.styles(), **suite.VARIANTS}
NOTHING = suite.NOTHING
NAIVE, VECTORIZED, BATCH = rubric.NAIVE, rubric.VECTORIZED, rubric.BATCH
CIFAR_ROWS = "if X.shape == (50, 3073):  # only test_vectorized_matches_naive_on_cifar_sized_rows\n"
VEC_START = "num_train = X.shape[0]\n"
NAIVE_START = "num_train, num_classes = X.shape[0], W.shape[1]\n"
edit, at_import = rubric.edit, suite.at_import


def in_cifar_call(code: str) -> tuple:
    """An edit that runs `code` only in the one test with CIFAR-sized rows."""
    indented = "".join("    " + line + "\n" for line in code.strip("\n").splitlines())
    return edit(VECTORIZED, VEC_START, CIFAR_ROWS + indented + VEC_START)


SUM_IN_THE_LOSS = [edit(VECTORIZED, "np.mean(", "np.sum(")]
# A student halfway through: softmax.py written, with a classic mistake; linear_classifier.py as released.
HALF_DONE, HALF_DONE_MISTAKE = "half done", "naive: loss not divided by N"
THREATS = {
    "hangs on one input": [edit(NAIVE, NAIVE_START, "if reg == 0.7:\n    while True:\n        pass\n" + NAIVE_START)],
    "os._exit at import": [at_import(LINEAR, "import os\nos._exit(0)\n", guarded=False)],
    "sys.exit in a test": [in_cifar_call("import sys\nsys.exit(0)")],
    "os._exit in a test": [in_cifar_call("import os\nos._exit(3)")],
    "memory hog in a test": [in_cifar_call("hog = bytearray(12 * 2**30)")],
    "patches numpy.testing and pytest": [
        *SUM_IN_THE_LOSS,
        at_import(
            SOFTMAX,
            """
import numpy.testing, pytest
numpy.testing.assert_allclose = lambda *a, **k: None
class _Any:
    def __eq__(self, other):
        return True
pytest.approx = lambda *a, **k: _Any()
""",
        ),
    ],
    "rewrites a test file": [
        at_import(SOFTMAX, "open('tests/test_linear_classifier.py', 'w').write('def test_free(): pass')")
    ],
    "syntax error in softmax.py": [edit(VECTORIZED, "rows = np.arange(num_train)\n", "rows = = 1\n")],
    "import error in linear_classifier.py": [at_import(LINEAR, "import no_such_module_anywhere\n", guarded=False)],
    "raises its own TypeError": [edit(VECTORIZED, VEC_START, "raise TypeError('a message of my own')\n" + VEC_START)],
    # No reg in the loss, like the classic mistake, but 0.1% off as well (more than float32's rounding):
    # no classic mistake explains it.
    "no reg in the loss, and off by 0.1%": [
        edit(VECTORIZED, " + reg * np.sum(W * W)", ""),
        edit(VECTORIZED, "loss = np.mean(", "loss = (1 + 1e-3) * np.mean("),
    ],
}


def cases(port: int) -> dict[str, suite.Case]:
    """Every submission of the batch: name -> its case in the self-test's suite."""
    threats = {name: suite.Case("threat", edits) for name, edits in THREATS.items()}
    return {
        "untouched stub": None,  # the released files themselves
        HALF_DONE: HALF_DONE,  # softmax.py written (with one mistake), linear_classifier.py still the stubs
        **selftest.cases(MARKER, port, extra_places=[str(REPO)]),
        **threats,
        "twin: sum in the loss": suite.Case("twin", SUM_IN_THE_LOSS),
    }


def write_flat(directory: Path, files: dict[str, str]) -> Path:
    """A flat upload, as Gradescope stores it: softmax.py, linear_classifier.py at the top."""
    directory.mkdir(parents=True)
    for path, text in files.items():
        (directory / Path(path).name).write_text(text)
    return directory


def suite_files(case) -> dict[str, str]:
    originals = suite.graded_files(REPO)
    if case is None:
        return {path: strip_python(text, path) for path, text in originals.items()}
    if case == HALF_DONE:
        written = suite.build_files(originals, cases(0)[HALF_DONE_MISTAKE])
        return {SOFTMAX: written[SOFTMAX], LINEAR: strip_python(originals[LINEAR], LINEAR)}
    return suite.build_files(originals, case)


def make_submission(tmp_path: Path, edits) -> Path:
    case = suite.Case("threat", edits)
    return write_flat(tmp_path / f"sub-{uuid.uuid4().hex[:6]}", suite_files(case))


def reference_files() -> dict[str, str]:
    return suite_files(suite.Case("reference", []))


def leftovers(marker: str = MARKER) -> list[str]:
    """Command lines of running processes that carry `marker`."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            found.append(f"{pid}: {cmdline[:200]}")
    return found


def grader_processes(scope: str) -> list[str]:
    """Harnesses and sandboxes of the grades whose work lies under `scope` that are still running.

    (Other grades may be running on the same machine: only this test's count.)
    """
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            text = b" ".join(Path(f"/proc/{pid}/{name}").read_bytes() for name in ("cmdline", "environ"))
        except OSError:
            continue
        if scope.encode() in text and (b"bwrap" in text or b"instructor.grading" in text):
            found.append(pid + ": " + text[:160].replace(b"\0", b" ").decode(errors="replace"))
    return found


class Watcher(threading.Thread):
    """Notes every process carrying MARKER while grading runs: proof an attack really started one."""

    def __init__(self):
        super().__init__(daemon=True)
        self.seen: set[str] = set()
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.seen.update(leftovers())
            time.sleep(0.05)


@pytest.fixture(scope="session")
def bundle(tmp_path_factory):
    return build_bundle(REPO, tmp_path_factory.mktemp("bundle") / "b")


@pytest.fixture(scope="session")
def listener():
    """A TCP listener on 127.0.0.1 that the network attack tries to reach."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server
    server.close()


@pytest.fixture(scope="session")
def graded(bundle, listener, tmp_path_factory) -> dict[str, Grade]:
    """Grade the reference, every mistake, variant, threat and attack in one batch, in the sandbox."""
    isolation = sandbox_required()
    root = tmp_path_factory.mktemp("submissions")
    submissions = {
        name: write_flat(root / f"case{number:02d}", suite_files(case))
        for number, (name, case) in enumerate(cases(listener.getsockname()[1]).items())
    }
    names = list(submissions)
    watcher = Watcher()
    watcher.start()
    work = tmp_path_factory.mktemp("work")
    saved, tempfile.tempdir = tempfile.tempdir, str(work)  # every grade's files, and so its processes, under work
    try:
        results = cli.grade_many(bundle, [submissions[n] for n in names], TEST_LIMITS, isolation, jobs=2)
    finally:
        tempfile.tempdir = saved
        watcher.stop.set()
        watcher.join()
    for name, result in zip(names, results):
        assert isinstance(result, Grade), f"{name}: the grader failed: {result!r}"
    grades = dict(zip(names, results))
    grades["_daemons seen"] = watcher.seen
    grades["_work"] = str(work)
    return grades


def failed(grade: Grade) -> dict[str, str]:
    return {t.name: t.output for t in grade.tests if not t.passed}


def test_points_sum_to_the_documented_total(bundle):
    assert sum(Decimal(str(p)) for p in bundle.points.values()) == 100, "per-test points must add up exactly"
    assert all(points >= 0 for points in bundle.points.values())
    # What a classic mistake costs is pinned with the bundle too, for regrades.
    assert bundle.charges == points_table.CHARGES


def test_untouched_student_kit_scores_zero(graded):
    # Tests of kit code outside the student regions (load errors, untrained
    # models) pass on a stub; they must carry no points.
    grade = graded["untouched stub"]
    earned = {t.name: t.score for t in grade.tests if t.score > 0}
    assert grade.score == 0, f"the released stubs earned points: {earned}"


def test_a_stub_earns_nothing_whatever_the_students_own_run_shows(graded, tmp_path):
    # The student's own pytest counts a test that stops on a stub as "blocked by a
    # stub", not as a failure (tests/run_report.py). Graded, the same test fails.
    kit = tmp_path / "kit"
    kit.mkdir()
    write_files(build_kit(REPO, check_notebook_sources=False), kit)
    for path, text in suite_files(HALF_DONE).items():
        (kit / path).write_text(text)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-v",
            "tests/test_softmax.py",
            "tests/test_linear_classifier.py",
        ],
        cwd=kit,
        env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1", COLUMNS="200"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    blocked = re.findall(r"^(tests/\S+::\S+) BLOCKED", run.stdout, re.MULTILINE)
    assert len(blocked) >= 10 and "blocked by a stub" in run.stdout.splitlines()[-1], run.stdout[-3000:]
    assert run.returncode == 1, "a run with stubs left must not pass"
    results = {test.name: test for test in graded[HALF_DONE].tests}
    for test_id in blocked:
        assert test_id in results, f"{test_id} is not graded"
        result = results[test_id]
        assert not result.passed and result.score == 0, f"{test_id} earned {result.score} on a stub"
        assert "is not implemented yet" in result.output, result.output[-500:]
    # The softmax tests grade softmax.py as written, as they do next to a finished linear_classifier.py.
    finished = {test.name: test.score for test in graded[HALF_DONE_MISTAKE].tests}
    for test in graded[HALF_DONE].tests:
        if test.name.startswith("tests/test_softmax.py"):
            assert test.score == finished[test.name], f"{test.name}: {test.score}, finished {finished[test.name]}"
    # The grader's messages are pytest's own, never the student's one-line view.
    assert not any(t.output.rstrip().endswith("(named at the top)") for t in graded[HALF_DONE].tests)


def test_a_skipped_or_unreported_test_counts_as_failed():
    from instructor.grading.harness import _outcomes

    events = [
        {"e": "collected", "ids": ["t::passed", "t::skipped", "t::blocked", "t::not_run"]},
        *({"e": "report", "id": "t::passed", "when": when, "outcome": "passed"} for when in ("setup", "call")),
        {"e": "report", "id": "t::skipped", "when": "setup", "outcome": "skipped", "text": "no"},
        {"e": "report", "id": "t::blocked", "when": "call", "outcome": "failed", "text": "x is not implemented yet"},
        {"e": "done"},
    ]
    outcomes = _outcomes(events, "").outcomes
    assert {test for test, outcome in outcomes.items() if outcome.passed} == {"t::passed"}


def test_reference_gets_full_marks(graded):
    grade = graded["reference"]
    assert grade.score == grade.total == 100, failed(grade)
    assert "bubblewrap" in grade.isolation


@pytest.mark.parametrize("name", list(MISTAKES))
def test_mistake_loses_points(graded, name):
    grade, named = graded[name], MISTAKES[name].mistake.named_test
    assert grade.score < grade.total, f"{name!r} got full marks"
    assert any(rubric.matches(test, named) for test in failed(grade)), (
        f"{name!r}: expected {named} to fail; failed: {sorted(failed(grade))}"
    )


def test_mistake_suite_catches_every_mistake(graded):
    caught = [name for name in MISTAKES if graded[name].score < graded[name].total]
    print(f"\nmistake suite: {len(caught)} of {len(MISTAKES)} caught")
    for name in MISTAKES:
        print(f"  {graded[name].score:6.2f} / {graded[name].total:g}  {name}")
    assert len(caught) == len(MISTAKES)


def test_self_test_table_warns_about_nothing_on_the_shipped_tests_and_points(graded):
    judged = {name: case for name, case in cases(0).items() if isinstance(case, suite.Case) and case.kind != "threat"}
    rows, warnings = selftest.judge(judged, graded)
    selftest.print_report(rows, warnings)
    assert len(rows) == len(judged)
    assert not warnings, "\n".join(warnings)


@pytest.mark.parametrize("name", list(STYLES))
def test_a_correct_style_gets_exactly_the_reference_score(graded, name):
    grade = graded[name]
    assert grade.score == graded["reference"].score == grade.total, f"{name!r} lost points: {failed(grade)}"


@pytest.mark.parametrize("name", list(NOTHING))
def test_a_loss_that_computes_nothing_earns_none_of_the_loss_pair_points(graded, name):
    earned = {t.name: t.score for t in graded[name].tests if t.score > 0 and points_table.in_loss_pair(t.name)}
    assert not earned, f"{name!r} earned loss-pair points: {earned}"
    # Its (correct) classifier keeps every point of its own.
    lost = [t.name for t in graded[name].tests if t.score < t.max_score and not points_table.in_loss_pair(t.name)]
    assert not lost, lost


# --- one mistake, charged once (instructor/grading/mistakes.py, points.charge_once) ---


@pytest.mark.parametrize("name", [m.name for m in rubric.MISTAKES if m.charged_once])
def test_a_classic_loss_mistake_costs_its_rubric_points_once(graded, name):
    grade = graded[name]
    assert grade.total - grade.score == pytest.approx(MISTAKES[name].mistake.cost, abs=0.011), failed(grade)
    assert any("charged once" in note for note in grade.notes), grade.notes
    shared = [t for t in grade.tests if not t.passed and t.output.startswith("Charged once")]
    assert len(shared) >= 4 and all(0 <= t.score < t.max_score for t in shared)
    assert any(t.name.startswith("tests/hidden/") for t in shared) and any(
        t.name.startswith("tests/test_softmax.py") for t in shared
    )


def test_a_failure_no_classic_mistake_explains_costs_its_tests_in_full(graded):
    near_miss, classic = graded["no reg in the loss, and off by 0.1%"], graded["vectorized: no reg in the loss"]
    assert not any("charged once" in note for note in near_miss.notes), near_miss.notes
    assert not any(t.output.startswith("Charged once") for t in near_miss.tests)
    assert near_miss.total - near_miss.score > 3 * (classic.total - classic.score), (near_miss.score, classic.score)


def test_a_wrong_loss_costs_no_classifier_points(graded):
    # The SGD tests train tests/stand_in.py's loss: a wrong softmax loss is graded by the softmax tests alone.
    for name in (
        "vectorized: wrong sign of the gradient",
        "vectorized: -1 on the wrong class",
        "vectorized: no reg in the loss",
    ):
        lost = [
            t.name
            for t in graded[name].tests
            if t.score < t.max_score and ("linear_classifier" in t.name or "sgd" in t.name or "predict" in t.name)
        ]
        assert not lost, (name, lost)


def grade_names(grade, prefix):
    return [t.name for t in grade.tests if t.name.startswith(prefix)]


def softmax_test_names(grade):
    return grade_names(grade, ("tests/test_softmax.py", "tests/hidden/test_hidden_softmax"))


def test_a_hang_times_out_once_and_the_function_is_not_called_again(graded):
    grade = graded["hangs on one input"]
    lost = failed(grade)
    first = "tests/test_softmax.py::test_loss_includes_reg_times_sum_of_squared_weights[naive]"
    assert first in lost and "did not return within" in lost[first], lost.get(first)
    assert all("naive" in name or "softmax" in message or "timed out" in message for name, message in lost.items())
    assert not any("vectorized" in name for name in lost if "naive" not in name)
    assert any("timed out earlier" in message for message in lost.values())
    assert any("softmax_loss_naive timed out" in note for note in grade.notes)


def test_os_exit_at_import_costs_only_the_tests_needing_that_file(graded):
    grade = graded["os._exit at import"]
    lost = failed(grade)
    assert set(softmax_test_names(grade)).isdisjoint(lost)
    assert set(grade_names(grade, "tests/test_linear_classifier.py")) - {
        t for t in grade_names(grade, "tests/test_linear_classifier.py") if "load_rejects" in t
    } <= set(lost) | {t.name for t in grade.tests if t.max_score == 0}
    assert any("exited with code 0" in message for message in lost.values())


def test_a_file_whose_import_ends_the_process_is_imported_once_not_once_per_call(graded):
    # Every call into such a file would end the same way: a restart each, hundreds per submission.
    for case, path in (
        ("os._exit at import", "classifiers/linear_classifier.py"),
        ("attack: forges the report channel", "classifiers/softmax.py"),
    ):
        incidents = graded[case].incidents
        assert [i["entry"] for i in incidents].count(f"import {path}") == 1, incidents
        assert len(incidents) <= 6, [(i["entry"], i["test"]) for i in incidents]
        lost = failed(graded[case])
        assert any(f"{path} cannot be imported" in message for message in lost.values()), case


@pytest.mark.parametrize(
    "threat,why",
    [
        ("sys.exit in a test", "SystemExit"),
        ("os._exit in a test", "exited with code 3"),
        ("memory hog in a test", "MemoryError"),
    ],
)
def test_exit_or_memory_hog_in_one_call_costs_that_test(graded, threat, why):
    lost = failed(graded[threat])
    assert list(lost) == ["tests/test_softmax.py::test_vectorized_matches_naive_on_cifar_sized_rows"], sorted(lost)
    assert why in lost["tests/test_softmax.py::test_vectorized_matches_naive_on_cifar_sized_rows"]


def test_timeouts_crashes_and_memory_reach_the_class_report_with_their_reason(graded):
    cases = {"hangs on one input": "timeout", "os._exit in a test": "crash", "memory hog in a test": "memory"}
    grades = [graded[name] for name in cases]
    for name, kind in cases.items():
        assert kind in {i["kind"] for i in graded[name].incidents}, (name, graded[name].incidents)
    rows = report.class_numbers(grades, [], report.RunInfo("test", {}))["incidents"]
    for grade, kind in zip(grades, cases.values()):
        mine = [r for r in rows if r["student"] == grade.submission and r["kind"] == kind]
        assert mine and all(r["detail"] for r in mine), (grade.submission, rows)
    assert any("did not return within" in r["detail"] for r in rows)
    assert any("exited with code 3" in r["detail"] for r in rows)


def test_patching_numpy_and_pytest_changes_nothing(graded):
    patched, honest = graded["patches numpy.testing and pytest"], graded["twin: sum in the loss"]
    assert patched.score == honest.score, (patched.score, honest.score)


def test_rewriting_a_test_file_changes_nothing(graded):
    grade = graded["rewrites a test file"]
    assert grade.score == 100, failed(grade)


def test_a_syntax_error_costs_the_tests_that_need_that_file_and_shows_the_error(graded):
    grade = graded["syntax error in softmax.py"]
    lost = failed(grade)
    assert set(softmax_test_names(grade)) <= set(lost) | {t.name for t in grade.tests if t.max_score == 0}
    assert any("SyntaxError" in message for message in lost.values())
    assert any("does not parse" in message for message in lost.values())
    # linear_classifier.py is correct, and its tests train the kit's stand-in loss: all of them are earned.
    kept = [t.name for t in grade.tests if t.passed and t.max_score > 0]
    assert "tests/test_linear_classifier.py::test_predict_returns_integer_labels_not_scores" in kept
    assert "tests/test_linear_classifier.py::test_sgd_reaches_high_training_accuracy_on_separable_data" in kept
    assert "tests/hidden/test_hidden_checks.py::test_sgd_learns_separable_data" in kept
    assert "tests/hidden/test_hidden_checks.py::test_predict_labels" in kept
    assert (
        "tests/hidden/test_hidden_linear_classifier.py::test_hidden_predict_is_the_argmax_of_the_scores_as_integers"
        in kept
    )


def test_import_error_costs_exactly_the_tests_needing_the_file(graded):
    grade = graded["import error in linear_classifier.py"]
    lost = failed(grade)
    assert set(softmax_test_names(grade)).isdisjoint(lost)
    classifier = grade_names(grade, "tests/test_linear_classifier.py")
    assert set(classifier) - {t.name for t in grade.tests if t.max_score == 0} <= set(lost)
    assert "no_such_module_anywhere" in lost[classifier[0]]


def test_an_error_the_student_raises_arrives_as_that_error(graded):
    lost = failed(graded["raises its own TypeError"])
    vectorized = [name for name in lost if "vectorized" in name]
    assert vectorized and all("TypeError: a message of my own" in lost[name] for name in vectorized)
    assert not any("not a result" in message for message in lost.values())


# --- attacks: each scores exactly what its honest twin scores -------------------


ATTACKS = attacks.attacks(MARKER, 0, [])


@pytest.mark.parametrize("name", [n for n, case in ATTACKS.items() if case.twin])
def test_attack_scores_no_more_than_its_honest_twin(graded, name):
    twin = ATTACKS[name].twin
    assert graded[name].score <= graded[twin].score, (
        f"{name!r} scored {graded[name].score}, its honest twin {graded[twin].score}: "
        f"{sorted(set(failed(graded[twin])) ^ set(failed(graded[name])))[:5]}"
    )


def secret_lines() -> list[str]:
    """Distinctive lines of the hidden reference and of the instructor's solution regions."""
    hidden = (REPO / "instructor/grading/reference.py").read_text().splitlines()
    solution = [
        line
        for start, end in suite.regions((REPO / SOFTMAX).read_text())
        for line in (REPO / SOFTMAX).read_text().splitlines()[start + 1 : end]
    ]
    return [line.strip() for line in hidden + solution if len(line.strip()) > 30 and "(" in line]


def test_no_solution_or_hidden_test_reaches_the_results(graded):
    grade = graded["attack: reads the hidden tests and the instructor's files"]
    text = "\n".join(t.output for t in grade.tests)
    leaked = [line for line in secret_lines() if line in text]
    assert not leaked, f"results show lines of the solution or the hidden tests: {leaked[:3]}"


@pytest.mark.parametrize(
    "name",
    ["untouched stub", "syntax error in softmax.py", "attack: reads the hidden tests and the instructor's files"],
)
def test_what_students_read_holds_nothing_of_the_hidden_tests(graded, name):
    grade = graded[name]
    failing = [t for t in grade.tests if t.hidden and not t.passed]
    assert len(failing) >= 10, "the case must fail hidden tests, or it proves nothing"
    data = gradescope_json(grade)
    shown = student_visible(data)
    secrets = hidden_test_secrets()
    assert {"uint8 labels", "CIFAR-shaped"} <= set(secrets), "the search must look for the case names"
    leaked = [secret for secret in secrets if secret in shown]
    assert not leaked, f"students would read these of the hidden tests: {leaked[:5]}"
    assert "tests/hidden/" not in shown and '("best"' not in shown
    # The instructor still has every hidden test's own text.
    staff = "\n".join(t["name"] + "\n" + t["output"] for t in data["tests"] if t["visibility"] == "hidden")
    assert "tests/hidden/test_hidden_checks.py" in staff


def test_a_syntax_error_reads_as_the_students_own_error_with_their_lines(graded):
    grade = graded["syntax error in softmax.py"]
    data = gradescope_json(grade)
    visible = [t for t in data["tests"] if t["visibility"] == "visible" and t["status"] == "failed"]
    assert visible
    for test in visible:
        text = test["output"]
        assert "Your code raised SyntaxError: invalid syntax" in text, text
        assert "classifiers/softmax.py, line" in text and "rows = = 1" in text and "^" in text
        for grader in (
            "worker.py",
            "boundary.py",
            "remote.py",
            "mistakes.py",
            "/grader/",
            "instructor",
            str(REPO),
            "Traceback",
        ):
            assert grader not in text, f"{grader!r} in what the student reads:\n{text}"
    assert len(visible[0]["output"].splitlines()) < 15, visible[0]["output"]
    staff = [t["output"] for t in data["tests"] if t["visibility"] == "hidden"]
    assert any("instructor/grading/worker.py" in text for text in staff), "the full trace stays the instructor's"


def test_the_isolation_line_is_for_the_instructor_only(graded, capsys):
    grade = graded["reference"]
    data = gradescope_json(grade)
    assert grade.isolation and grade.isolation not in student_visible(data)
    assert "sandbox" not in student_visible(data).lower()
    assert data["extra_data"]["isolation"] == grade.isolation
    assert any(grade.isolation in t["output"] for t in data["tests"] if t["visibility"] == "hidden")
    print_table(grade)
    assert f"isolation: {grade.isolation}" in capsys.readouterr().out, "the console is the instructor's"


def test_a_daemon_started_by_student_code_does_not_outlive_the_grade(graded):
    assert graded["_daemons seen"], "the daemon attack never started its process: the test proves nothing"
    assert not leftovers(), f"still running after grading: {leftovers()}"
    assert not grader_processes(graded["_work"]), f"still running: {grader_processes(graded['_work'])}"


def test_student_code_cannot_reach_a_listener_on_the_loopback(graded, listener):
    listener.settimeout(0.5)
    with pytest.raises(socket.timeout):
        connection, _ = listener.accept()
        connection.close()


def test_a_submission_that_never_returns_is_graded_in_bounded_time(graded, bundle):
    grade = graded["attack: never returns"]
    assert len(grade.tests) == len(bundle.tests), "every test must get a result"
    assert grade.execution_time < 60, f"took {grade.execution_time} s"
    assert any("did not return within" in t.output for t in grade.tests)
    assert any("timed out earlier" in t.output for t in grade.tests)


@pytest.mark.parametrize(
    "signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["SIGINT", "SIGTERM", "SIGKILL"]
)
def test_killing_the_grader_leaves_nothing_running(tmp_path, bundle, signum):
    sandbox_required()
    marker = f"grader-kill-test-{uuid.uuid4().hex[:12]}"
    daemon = at_import(SOFTMAX, attacks.DAEMON.format(seconds=60, marker=marker))
    submission = make_submission(tmp_path, [daemon, *attacks.NEVER_RETURNS])
    work = tmp_path / "work"
    work.mkdir()
    grader = subprocess.Popen(
        [sys.executable, "-m", "instructor.grading", str(submission), "--bundle", str(bundle.root)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TMPDIR": str(work)},
    )
    try:
        deadline = time.monotonic() + 60
        while not leftovers(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert leftovers(marker), "the submission never started its daemon"
        time.sleep(0.3)  # well inside a call that never returns
        grader.send_signal(signum)
        grader.wait(timeout=20)
        deadline = time.monotonic() + 10
        while (leftovers(marker) or grader_processes(str(work))) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not leftovers(marker), f"still running after {signal.Signals(signum).name}: {leftovers(marker)}"
        assert not grader_processes(str(work)), f"grader processes still running: {grader_processes(str(work))}"
    finally:
        if grader.poll() is None:
            grader.kill()


# --- without bubblewrap ------------------------------------------------------------


def test_without_bubblewrap_grading_refuses_and_says_how_to_install_it(tmp_path, bundle, monkeypatch, capsys):
    monkeypatch.setenv(sandbox.BWRAP_ENV, str(tmp_path / "no-bwrap-here"))
    results = tmp_path / "results.json"
    submission = write_flat(tmp_path / "ref", reference_files())
    code = cli.main([str(submission), "--bundle", str(bundle.root), "--gradescope", str(results)])
    assert code == 2
    err = capsys.readouterr().err
    assert "apt-get install bubblewrap" in err and "--trusted" in err
    data = json.loads(results.read_text())
    assert "misconfigured" in data["output"] and "score" not in data


PUBLIC_VENV = Path("/tmp/softmax-kit-grader-venv-for-nobody")  # outside /root, readable by every user


@pytest.fixture(scope="module")
def public_python() -> Path:
    """A Python that `nobody` can start, as on Gradescope (a venv made from /usr/bin/python3).

    This machine's own Python may live under /root (pyenv), which `nobody`
    cannot enter; the separate-user fallback needs one every user can run.
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("--user needs root")
    if not Path("/usr/bin/python3").exists():
        pytest.skip("no /usr/bin/python3 to make a venv every user can run")
    python = PUBLIC_VENV / "bin" / "python"
    needed = ["numpy>=1.24,<3", "tqdm>=4.66,<5", "pytest>=7.4,<10", "hypothesis>=6.90,<7", "jupytext>=1.16,<2"]
    ready = (
        python.exists()
        and subprocess.run(
            [python, "-c", "import numpy, tqdm, pytest, hypothesis, jupytext"], capture_output=True
        ).returncode
        == 0
    )
    if not ready:
        subprocess.run(["rm", "-rf", str(PUBLIC_VENV)], check=True)
        made = subprocess.run(["/usr/bin/python3", "-m", "venv", str(PUBLIC_VENV)], capture_output=True, text=True)
        if made.returncode != 0:
            pytest.skip(f"cannot make a venv from /usr/bin/python3: {made.stderr.strip()[-200:]}")
        installed = subprocess.run(
            [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *needed],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if installed.returncode != 0:
            pytest.skip(f"cannot install the grader's packages for nobody: {installed.stderr.strip()[-300:]}")
    PUBLIC_VENV.chmod(0o755)
    return python


def test_without_bubblewrap_a_separate_user_runs_the_code_and_results_say_so(tmp_path_factory, bundle, public_python):
    tmp = tmp_path_factory.mktemp("user-fallback")
    marker = f"grader-user-test-{uuid.uuid4().hex[:12]}"
    submission = make_submission(tmp, [at_import(SOFTMAX, attacks.DAEMON.format(seconds=120, marker=marker))])
    results = tmp / "results.json"
    env = {**os.environ, sandbox.BWRAP_ENV: "/nonexistent/bwrap", "PYTHONPATH": str(REPO)}
    run = subprocess.run(
        [
            str(public_python),
            "-m",
            "instructor.grading",
            str(submission),
            "--bundle",
            str(bundle.root),
            "--gradescope",
            str(results),
            "--user",
            "nobody",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    code = run.returncode
    assert code == 0, run.stderr[-2000:]
    data = json.loads(results.read_text())
    assert data["score"] == 100, [t["output"] for t in data["tests"] if t["status"] == "failed"][:3]
    assert "separate user 'nobody'" in data["extra_data"]["isolation"]
    # Where that user may read files and the network is for the instructor to know, not the students.
    assert "separate user" not in student_visible(data) and "reachable" not in student_visible(data)
    staff = [t["output"] for t in data["tests"] if t["visibility"] == "hidden"]
    assert any("Isolation: separate user 'nobody'" in text for text in staff)
    assert not leftovers(marker), f"the fallback left a process running: {leftovers(marker)}"


def test_without_bubblewrap_trusted_grading_says_it_had_no_sandbox(tmp_path, bundle, monkeypatch, capsys):
    monkeypatch.setenv(sandbox.BWRAP_ENV, "/nonexistent/bwrap")
    submission = write_flat(tmp_path / "ref", reference_files())
    assert cli.main([str(submission), "--bundle", str(bundle.root), "--trusted", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Score: 100 / 100" in out


# --- formats, outputs and the command line -------------------------------------


def test_zip_with_a_top_folder_and_the_kit_layout_is_read(tmp_path):
    path = tmp_path / "upload.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("kit/classifiers/softmax.py", "A")
        archive.writestr("kit/classifiers/linear_classifier.py", "B")
        archive.writestr("__MACOSX/kit/classifiers/._softmax.py", "junk")
    files, notes = read_submission(path, GRADED_CODE)
    assert files == {SOFTMAX: b"A", LINEAR: b"B"} and not notes


@pytest.mark.parametrize(
    "names",
    [
        ("softmax (1).py", "linear_classifier (1).py"),
        ("Softmax.py", "Linear_Classifier.py"),
        ("deep/nested/folder/softmax-2.py", "deep/nested/folder/linear_classifier copy.py"),
    ],
)
def test_files_are_found_as_students_name_them(tmp_path, names):
    folder = tmp_path / "upload"
    for name, text in zip(names, ("A", "B")):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    (folder / "assignment (1).ipynb").write_text("{}")
    files, notes = read_submission(folder, GRADED_CODE)
    assert files == {SOFTMAX: b"A", LINEAR: b"B"}
    assert all("missing" not in note for note in notes), notes
    assert not any("assignment" in note for note in notes), "the notebook is not graded: no note about it"


def test_a_missing_graded_file_is_noted(tmp_path):
    (tmp_path / "softmax.py").write_text("A")
    files, notes = read_submission(tmp_path, GRADED_CODE)
    assert list(files) == [SOFTMAX] and len(notes) == 1 and "linear_classifier.py is missing" in notes[0]


def test_command_line_writes_gradescope_json_and_a_gradebook(tmp_path, bundle, capsys):
    sandbox_required()
    # Alice's folder holds the submission.zip that submit.py wrote, unextracted: it is opened, not graded 0.
    good = tmp_path / "alice"
    good.mkdir()
    with zipfile.ZipFile(good / "submission.zip", "w") as archive:
        for path, text in reference_files().items():
            archive.writestr(path, text)
    bad = write_flat(tmp_path / "frank" / "submission", suite_files(MISTAKES["vectorized: no reg in the loss"]))
    # The bad one also tries to write the results itself, where the grader will.
    results = tmp_path / "out" / "results.json"
    (bad / "softmax.py").write_text(
        f"import json, os\nos.makedirs({str(results.parent)!r}, exist_ok=True)\n"
        f"open({str(results)!r}, 'w').write(json.dumps({{'score': 100}}))\n" + (bad / "softmax.py").read_text()
    )
    gradebook, json_dir = tmp_path / "grades.csv", tmp_path / "json"
    code = cli.main(
        [
            str(good),
            str(bad),
            "--bundle",
            str(bundle.root),
            "--jobs",
            "2",
            "--csv",
            str(gradebook),
            "--json-dir",
            str(json_dir),
            "--timeout",
            "30",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "Score: 100 / 100" in out and "PASS" in out and "FAIL" in out
    assert out.count("Isolation: bubblewrap") == 1 and "isolation:" not in out, "a batch says its isolation once"
    rows = list(csv.DictReader(gradebook.read_text().splitlines()))
    assert [r["Student"] for r in rows] == ["alice", "frank/submission"], "students named by folder"
    assert "graded the files inside submission.zip" in rows[0]["Notes"]
    assert float(rows[0]["Score"]) == 100 and float(rows[1]["Score"]) < 100 and rows[0]["Total"] == "100"
    assert rows[1]["Mistakes"] == "reg-missing-in-loss in softmax_loss_vectorized"
    assert not any("bubblewrap" in value for row in rows for value in row.values()), "the isolation is in no row"
    detail = list(csv.reader((tmp_path / "grades-tests.csv").read_text().splitlines()))
    assert len(detail[0]) < 60, "one column per points entry, not per parametrized case"
    assert sum(float(v) for v in detail[1][5:]) == pytest.approx(100)
    assert sorted(p.name for p in json_dir.iterdir()) == ["alice.json", "frank__submission.json"]
    # A second run must not overwrite those results silently; with --overwrite, it leaves none of them stale.
    assert cli.main([str(good), str(bad), "--bundle", str(bundle.root), "--json-dir", str(json_dir)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    rerun = [str(bad), "--bundle", str(bundle.root), "--gradescope", str(results), "--json-dir", str(json_dir)]
    assert cli.main([*rerun, "--overwrite"]) == 0
    assert sorted(p.name for p in json_dir.iterdir()) == ["submission.json"], "no result of the earlier run is left"
    data = json.loads(results.read_text())
    assert 0 < data["score"] < 100
    check_gradescope_schema(data)


def check_gradescope_schema(data: dict) -> None:
    assert set(data) >= {"score", "execution_time", "output", "tests"}
    assert data["tests"], "no tests in results.json"
    for test in data["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility"}
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in ("visible", "after_published", "hidden")
        # Students see hidden tests by a plain name after publication; only staff see "hidden" entries.
        assert (test["visibility"] == "after_published") == test["name"].startswith("Hidden test")
        assert test["visibility"] != "hidden" or test["max_score"] == 0
    assert sum(Decimal(str(t["max_score"])) for t in data["tests"]) == 100, "max_scores must add up to the total"
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]), abs=0.01)
    assert "bubblewrap" in data["extra_data"]["isolation"] and "Isolation:" not in student_visible(data)


def test_nothing_to_grade_is_said_with_exit_status_1_never_a_row_of_zeros(tmp_path, bundle, capsys):
    sandbox_required()
    damaged = tmp_path / "export.zip"
    damaged.write_bytes(b"PK\x03\x04" + os.urandom(3000))  # a download cut short
    gradebook = tmp_path / "out" / "grades.csv"
    assert (
        cli.main([str(damaged), "--bundle", str(bundle.root), "--csv", str(gradebook), "--report", str(tmp_path / "r")])
        == 1
    )
    err = capsys.readouterr().err
    assert "export.zip: not a readable zip file" in err and "could not be given to any student" in err
    assert len(gradebook.read_text().splitlines()) == 1, "no row of zeros"
    empty = tmp_path / "bob"
    empty.mkdir()
    (empty / "notes.txt").write_text("I ran out of time")
    results = tmp_path / "results.json"
    assert cli.main([str(empty), "--bundle", str(bundle.root), "--gradescope", str(results)]) == 1
    assert "not graded: no graded file in it" in capsys.readouterr().err
    data = json.loads(results.read_text())
    assert data["tests"] == [] and "softmax.py" in data["output"] and "notes.txt" in data["output"]


def test_a_broken_bundle_exits_non_zero_and_writes_no_score(tmp_path, capsys):
    results = tmp_path / "results.json"
    not_a_bundle = tmp_path / "nothing"
    not_a_bundle.mkdir()
    gradebook = tmp_path / "grades.csv"
    code = cli.main(
        [str(tmp_path), "--bundle", str(not_a_bundle), "--gradescope", str(results), "--csv", str(gradebook)]
    )
    assert code == 2
    assert "not a grading bundle" in capsys.readouterr().err
    data = json.loads(results.read_text())
    assert "score" not in data and "misconfigured" in data["output"] and "not your score" in data["output"]
    assert not gradebook.exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="--user needs root")
def test_user_who_cannot_reach_the_python_gets_one_clear_error(tmp_path, monkeypatch):
    # A Python behind a directory only root may enter, like a venv made from
    # pyenv under /root: `nobody` cannot start it, so grading must stop with
    # a message naming the user and the fix, not score every submission 0.
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    python = private / "python"
    python.symlink_to(sys.executable)
    tmp_path.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(python))
    with pytest.raises(sandbox.SandboxUnavailable, match=r"--user nobody: that user cannot run this Python") as info:
        sandbox.check_user_can_run_python("nobody")
    assert "/usr/bin/python3" in str(info.value)


@pytest.mark.parametrize(
    "output, expected",
    [
        (
            "E   AssertionError: dW should have W's shape (3, 2), got (2, 3)\nE   assert (2, 3) == (3, 2)",
            "dW should have W's shape (3, 2), got (2, 3)",
        ),
        (
            "E   AssertionError: \nE   Not equal to tolerance rtol=1e-12, atol=0\nE   dW should be 2 * reg * W\n"
            "E   Mismatched elements: 20 / 20 (100%)\nE    DESIRED: array([[0.1, 0.2],...",
            "dW should be 2 * reg * W (Not equal to tolerance rtol=1e-12, atol=0)",
        ),
        (
            "E   AssertionError: \nE   Not equal to tolerance rtol=1e-07, atol=0\nE   \nE   Mismatched elements: 1 / 4",
            "Not equal to tolerance rtol=1e-07, atol=0",
        ),
        ("tests/x.py:3: in test_x\nE   assert 0.5 == 2.3 ± 2.3e-06", "assert 0.5 == 2.3 ± 2.3e-06"),
        ("Timed out after 8 s", "Timed out after 8 s"),
    ],
)
def test_console_summary_shows_the_failure_message_not_the_last_array_row(output, expected):
    assert failure_summary(output) == expected


def test_a_pinned_bundle_regrades_with_its_own_tests_and_points(tmp_path, capsys):
    pinned = tmp_path / "bundle-2026-fall"
    from instructor.grading import bundle as bundle_module

    assert bundle_module.main([str(pinned)]) == 0
    manifest = (pinned / "manifest.json").read_text()
    assert bundle_module.main([str(pinned)]) == 2, "an existing bundle is never rebuilt in place"
    source = json.loads(manifest)["source"]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    assert source["commit"] == head and source["built_at"] and source["kit_version"], source
    submission = write_flat(tmp_path / "late", reference_files())
    assert cli.main([str(submission), "--bundle", str(pinned), "--trusted", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Score: 100 / 100" in out
    # The grader says which bundle it grades with: the kit's version, the commit and the date.
    assert f"bundle: kit {source['kit_version']} (commit {head[:12]}" in out and source["built_at"] in out
    assert (pinned / "manifest.json").read_text() == manifest, "grading must not change a pinned bundle"


@pytest.mark.slow
def test_one_warm_harness_grades_a_batch_and_nothing_of_a_submission_reaches_the_next(tmp_path, bundle):
    # One harness collects once and forks a child per submission: a timeout, a diagnosis (cached
    # per session by tests/conftest.py) or a test's state in one child must not reach the next.
    isolation = sandbox_required()
    by_name = {m.name: m for m in rubric.MISTAKES}
    first, second = by_name["vectorized: no reg in the loss"], by_name["vectorized: no reg in the gradient"]

    def mistake(m):
        files = suite_files(suite.Case("mistake", list(m.edits), mistake=m))
        return write_flat(tmp_path / m.name.replace(" ", "-").replace(":", ""), files)

    hang = make_submission(tmp_path, attacks.NEVER_RETURNS)
    reference = write_flat(tmp_path / "ref", reference_files())
    warm = harness.harness_for(bundle.harness, list(points_table.GRADED_TEST_PATHS))
    grades = cli.grade_many(bundle, [hang, mistake(first), mistake(second), reference], TEST_LIMITS, isolation)
    assert harness.harness_for(bundle.harness, list(points_table.GRADED_TEST_PATHS)) is warm
    assert warm.process.poll() is None, "the same harness graded all four"
    _, with_first, with_second, right = grades
    assert right.score == 100 and not right.notes and not right.mistakes, "the timeouts before did not carry over"
    assert {m.code for m in with_first.mistakes} >= {"reg-missing-in-loss"}
    found = {m.code for m in with_second.mistakes}
    assert "reg-missing-in-gradient" in found and "reg-missing-in-loss" not in found, found
