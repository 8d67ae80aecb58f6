"""Tests for diagnose.py: what any loss function meets (stubs, errors, what is passed in) and the codes table.

The tests that name each mistake need working solutions (one mutant per
code, correct losses in many styles), so they live with the instructor's
tests (instructor/tests/test_diagnose_mutants.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import diagnose
from diagnose import CODES, TRAINING_CODES, Finding, diagnose_loss
from diagnose.codes import TEST_CODES

KIT_ROOT = Path(__file__).resolve().parent.parent
# Calls per diagnosis: 7 probes, plus 12 finite differences when dW is wrong.
MAX_CALLS = 25


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


# --- what any loss function meets --------------------------------------------------


def test_a_stub_is_not_implemented():
    def softmax_loss_vectorized(W, X, y, reg):
        raise NotImplementedError()

    assert codes(diagnose_loss(softmax_loss_vectorized)) == ["not-implemented"]


def test_an_exception_is_a_finding_naming_it():
    def crashes(W, X, y, reg):
        raise IndexError("index 3 is out of bounds for axis 1 with size 3")

    findings = diagnose_loss(crashes)
    assert codes(findings) == ["loss-wrong"]
    assert "IndexError: index 3 is out of bounds" in findings[0].message


@pytest.mark.parametrize(
    "returned, code",
    [
        (None, "loss-wrong"),
        ((np.zeros(4), None), "loss-wrong"),  # a loss per example, not their mean
        ((1.0, np.zeros((1, 1))), "gradient-wrong"),  # dW not shaped like W
    ],
    ids=["nothing", "loss-per-example", "dW-of-another-shape"],
)
def test_a_malformed_result_is_a_finding(returned, code):
    assert codes(diagnose_loss(lambda W, X, y, reg: returned)) == [code]


def test_the_loss_gets_only_arrays_and_python_floats_and_few_calls():
    calls = []

    def records(W, X, y, reg):
        calls.append((type(W), type(X), type(y), type(reg)))
        return 0.0, np.zeros_like(W)  # wrong everywhere: the most calls a diagnosis makes

    diagnose_loss(records)
    assert set(calls) == {(np.ndarray, np.ndarray, np.ndarray, float)}
    assert len(calls) <= MAX_CALLS, f"{len(calls)} calls"


def test_keyboard_interrupt_is_not_swallowed():
    def interrupted(W, X, y, reg):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        diagnose_loss(interrupted)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"num_train": 0}, ValueError),
        ({"num_classes": 1}, ValueError),
        ({"reg": -1.0}, ValueError),
        ({"reg": float("nan")}, ValueError),
        ({"dtype": np.int64}, TypeError),
    ],
)
def test_bad_arguments_say_what_was_expected(kwargs, error):
    with pytest.raises(error, match="expected"):
        diagnose_loss(lambda W, X, y, reg: (0.0, W), **kwargs)


def test_a_finding_prints_as_code_and_message():
    assert str(Finding("loss-wrong", "the loss is 3")) == "[loss-wrong] the loss is 3"


# --- the codes table --------------------------------------------------------------


def table_rows(text: str) -> list[tuple[str, str]]:
    return re.findall(r"^\| `([a-zA-Z0-9-]+)` \| (.+) \|$", text, flags=re.MULTILINE)


def test_readme_tables_are_the_codes_of_diagnose_codes_py_word_for_word():
    readme = (KIT_ROOT / "README.md").read_text()
    section = readme[readme.index("### Which mistake is it?") :]
    section = section[: section.index("\n## ")]
    training_only = {code: text for code, text in TRAINING_CODES.items() if code not in CODES}
    assert table_rows(section) == [*CODES.items(), *TEST_CODES.items(), *training_only.items()]


def test_a_report_says_pass_or_fail_with_the_findings_in_text_and_html():
    def softmax_loss_vectorized(W, X, y, reg):
        raise NotImplementedError()

    report = diagnose.report_loss(softmax_loss_vectorized)
    assert not report and not report.passed
    assert str(report).startswith("softmax_loss_vectorized: FAIL\n  [not-implemented] ")
    assert "FAIL" in report._repr_html_() and "not-implemented" in report._repr_html_()
    passed = diagnose.Report("softmax_loss_naive", [])
    assert passed and str(passed) == "softmax_loss_naive: PASS" and "PASS" in passed._repr_html_()


def test_a_report_reads_the_same_as_plain_text_in_ipython_as_printed():
    # What a notebook saved as text, or a terminal, shows of display(report): its lines, not the dataclass.
    from IPython.lib.pretty import pretty

    report = diagnose.Report("softmax_loss_naive", [Finding("reg-missing-in-loss", "add reg * np.sum(W * W)")])
    assert pretty(report) == str(report) and pretty(report).startswith("softmax_loss_naive: FAIL")


def test_a_diagnosis_that_runs_too_long_is_given_up_not_waited_for(monkeypatch):
    # tests/conftest.py diagnoses a failing test's loss under an alarm: a loss that
    # hangs on the diagnosis's inputs leaves the test's own message as it was.
    from tests import conftest

    if not hasattr(conftest.signal, "setitimer"):
        pytest.skip("no SIGALRM on this platform: the diagnosis runs without a time limit")
    monkeypatch.setattr(conftest, "DIAGNOSIS_BUDGET_SECONDS", 0.2)

    def hangs():
        while True:
            pass

    assert conftest._with_alarm(hangs) == []
    assert conftest._with_alarm(lambda: ["done"]) == ["done"]
    assert conftest.signal.getitimer(conftest.signal.ITIMER_REAL)[0] == 0, "the alarm was left running"


# --- the training step ------------------------------------------------------------


def test_an_unwritten_training_loop_is_not_implemented():
    from classifiers.linear_classifier import LinearClassifier

    class Unwritten(LinearClassifier):
        def train(self, X, y, **options):
            raise NotImplementedError()

    assert codes(diagnose.diagnose_training(Unwritten)) == ["not-implemented"]


def test_a_training_loop_that_crashes_is_a_finding_naming_the_error():
    from classifiers.linear_classifier import LinearClassifier

    class Crashes(LinearClassifier):
        def train(self, X, y, **options):
            raise IndexError("index 40 is out of bounds for axis 0 with size 40")

    findings = diagnose.diagnose_training(Crashes)
    assert codes(findings) == ["training-wrong"] and "IndexError: index 40" in findings[0].message
    assert str(diagnose.report_training(Crashes)).startswith("Crashes.train: FAIL")


def test_diagnose_training_wants_a_class():
    with pytest.raises(TypeError, match="expected a class"):
        diagnose.diagnose_training(lambda: None)
