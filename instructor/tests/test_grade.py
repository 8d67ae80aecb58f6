"""Tests for the grader (instructor/grading/): a class of submissions graded in one batch; left out of the kit.

The reference, every classic mistake, correct style, do-nothing loss, threat
and attack (instructor/tests/grading_cases.py) are graded in one batch (2 jobs)
by a session fixture, in the bubblewrap sandbox; the tests read their grades.
The command line, the fallbacks without bubblewrap and killing the grader are
instructor/tests/test_grade_command.py's.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
from decimal import Decimal

import pytest

from instructor.build import build_kit, write_files
from instructor.grading import attacks, cli, report, rubric, selftest, suite
from instructor.grading import points as points_table
from instructor.grading.results import Grade, gradescope_json, print_table
from instructor.tests.class_fixtures import hidden_test_secrets, student_visible
from instructor.tests.grading_cases import (
    HALF_DONE,
    HALF_DONE_MISTAKE,
    MARKER,
    MISTAKES,
    NOTHING,
    REPO,
    SOFTMAX,
    STYLES,
    TEST_LIMITS,
    Watcher,
    cases,
    failed,
    grader_processes,
    leftovers,
    sandbox_required,
    suite_files,
    write_flat,
)

pytestmark = pytest.mark.slow  # a minute or two on 2 cores: ~90 submissions graded in sandboxes


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
        assert ("does-not-import", path) in {(m.code, m.function) for m in graded[case].mistakes}, case


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
