"""Tests for charging a classic mistake once: instructor/grading/mistakes.py and points.charge_once.

Fast and in-process: the recorder wraps plain Python loss functions here, as
it wraps the remote ones in the grading harness. The sandboxed end-to-end
check is the self-test's table in tests/test_instructor_grade.py.
"""

from decimal import Decimal

import numpy as np
import pytest

from instructor.grading import mistakes, points
from instructor.grading.reference import reference_loss
from instructor.tests import loss_variants

VECTORIZED = "softmax_loss_vectorized"


def problems(seed=0):
    """(W, X, y, reg) of several shapes, dtypes and regs, as tests call the loss."""
    rng = np.random.default_rng(seed)
    for num_train, dim, num_classes, reg, dtype in [
        (7, 5, 4, 0.3, np.float64),
        (1, 3, 2, 0.0, np.float64),
        (12, 4, 6, 1.7, np.float64),
        (9, 6, 3, 0.1, np.float32),
    ]:
        W = (0.1 * rng.standard_normal((dim, num_classes))).astype(dtype)
        X = rng.standard_normal((num_train, dim)).astype(dtype)
        yield W, X, rng.integers(0, num_classes, size=num_train), reg


def explanation(loss_fn, name=VECTORIZED, calls=None):
    """What the recorder makes of a test calling `loss_fn` (as `name`) on problems()."""
    recorder = mistakes.Recorder()
    loss_fn = _named(loss_fn, name)
    recorded = recorder.wrap(loss_fn)
    for W, X, y, reg in calls or problems():
        try:
            recorded(W, X, y, reg)
        except Exception:  # noqa: BLE001 - a failing call is part of what is explained (or not)
            pass
    return recorder.explain()


def _named(loss_fn, name):
    def named(*args, **kwargs):
        return loss_fn(*args, **kwargs)

    named.__name__ = name
    return named


def with_dtype(loss_fn):
    """A float64 reference made to keep W's dtype, as a student's code does."""

    def kept(W, X, y, reg):
        loss, dW = loss_fn(W, X, y, reg)
        return loss, dW.astype(W.dtype)

    return kept


EXPECTED = {
    "loss-not-averaged": ("loss-not-averaged",),
    "gradient-not-averaged": ("gradient-not-averaged",),
    "reg-missing-in-loss": ("reg-missing-in-loss",),
    "reg-missing-in-gradient": ("reg-missing-in-gradient",),
    "reg-half-convention": ("reg-half-convention",),
    "gradient-sign-flipped": ("gradient-sign-flipped",),
    "gradient-wrong-target": ("gradient-wrong-target",),
    "mutates-input": ("mutates-input",),
}


@pytest.mark.parametrize("code", list(EXPECTED))
def test_each_classic_mistake_is_recognised_exactly(code):
    assert explanation(loss_variants.MUTANTS[code]) == {VECTORIZED: EXPECTED[code]}


@pytest.mark.parametrize("code", list(loss_variants.MORE_MUTANTS))
def test_other_ways_to_make_the_same_mistake_get_the_same_code(code):
    assert explanation(loss_variants.MORE_MUTANTS[code]) == {VECTORIZED: (code,)}


def test_two_mistakes_together_are_both_named():
    def no_division_by_n(W, X, y, reg):
        return loss_variants._vectorized(W, X, y, reg, mean=False, grad_mean=False)

    assert explanation(no_division_by_n, "softmax_loss_naive") == {
        "softmax_loss_naive": ("loss-not-averaged", "gradient-not-averaged")
    }


@pytest.mark.parametrize("name", list(loss_variants.CORRECT))
def test_a_correct_loss_explains_nothing(name):
    # A test that fails while every call is right failed for another reason: not explained.
    assert explanation(loss_variants.CORRECT[name]) is None


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(
    "code",
    [
        "not-implemented",
        "overflow-without-shift",
        "underflow-log-of-ratio",
        "float32-promoted",
        "gradient-scaled",
        "loss-wrong",
        "gradient-wrong",
    ],
)
def test_other_mistakes_are_not_explained_and_cost_their_tests_in_full(code):
    calls = list(problems())
    # Scores (1e4, 0, -1e4): where the stability mistakes show (elsewhere their values are right).
    calls.append((np.array([[1e4, 0.0, -1e4]]), np.array([[1.0], [0.5]]), np.array([2, 1]), 0.0))
    assert explanation(loss_variants.MUTANTS[code], calls=calls) is None


def test_a_mistake_on_some_inputs_and_something_else_on_others_is_not_explained():
    # A student cannot make a wrong function look like a cheap classic mistake only where it helps.
    def sometimes(W, X, y, reg):
        if X.shape[0] > 5:
            return loss_variants.MUTANTS["reg-missing-in-loss"](W, X, y, reg)
        loss, dW = reference_loss(W, X, y, reg)
        return loss + 0.01, dW.astype(W.dtype)

    assert explanation(sometimes) is None


def test_a_near_miss_is_not_explained():
    def almost(W, X, y, reg):
        loss, dW = loss_variants.MUTANTS["reg-missing-in-loss"](W, X, y, reg)
        return loss * (1 + 1e-5), dW

    assert explanation(almost) is None


def test_wrong_types_are_not_explained():
    def float32_loss(W, X, y, reg):
        loss, dW = loss_variants.MUTANTS["reg-missing-in-loss"](W, X, y, reg)
        return np.float32(loss), dW

    def list_gradient(W, X, y, reg):
        loss, dW = loss_variants.MUTANTS["reg-missing-in-loss"](W, X, y, reg)
        return loss, dW.tolist()

    assert explanation(float32_loss) is None
    assert explanation(list_gradient) is None


def test_returning_W_itself_as_dW_is_named():
    def returns_W(W, X, y, reg):
        loss, dW = reference_loss(W, X, y, reg)
        W[...] = dW
        return loss, W

    assert explanation(returns_W) == {VECTORIZED: ("mutates-input", "dW-is-an-input")}


def test_modifying_W_before_computing_is_named():
    def scales_W_first(W, X, y, reg):
        W *= 1.0000001
        return with_dtype(reference_loss)(W, X, y, reg)

    assert explanation(scales_W_first) == {VECTORIZED: ("mutates-input",)}


def test_every_call_of_the_test_counts_across_both_functions():
    recorder = mistakes.Recorder()
    naive = recorder.wrap(_named(with_dtype(reference_loss), "softmax_loss_naive"))
    vectorized = recorder.wrap(_named(loss_variants.MUTANTS["reg-missing-in-gradient"], VECTORIZED))
    for W, X, y, reg in problems():
        naive(W, X, y, reg)
        vectorized(W, X, y, reg)
    assert recorder.explain() == {VECTORIZED: ("reg-missing-in-gradient",)}
    recorder.reset()
    assert recorder.explain() is None


def test_too_many_calls_are_not_explained(monkeypatch):
    monkeypatch.setattr(mistakes, "MAX_CALLS", 2)
    assert explanation(loss_variants.MUTANTS["reg-missing-in-loss"]) is None


def test_every_code_the_models_can_give_has_a_charge_for_both_functions():
    for function in mistakes.RECORDED:
        assert set(points.CHARGES[function]) == set(mistakes.CODES), function


def test_charge_once_takes_the_rubric_cost_from_the_tests_it_fails():
    mistake = {VECTORIZED: ("reg-missing-in-loss",)}
    explained = {"a": (2.0, mistake), "b": (4.0, mistake), "c": (1.1667, mistake), "d": (13.6667, mistake)}
    kept, lines = points.charge_once(explained)
    pool = sum(Decimal(str(worth)) for worth, _ in explained.values())
    assert sum(Decimal(str(v)) for v in kept.values()) == pool - points.CHARGES[VECTORIZED]["reg-missing-in-loss"]
    assert all(round(v, points.DECIMALS) == v for v in kept.values())
    assert kept["d"] > kept["b"] > kept["a"] > kept["c"] > 0  # in proportion to their points
    assert lines == [f"{VECTORIZED}: reg-missing-in-loss costs 6 points, charged once"]


def test_charge_once_never_costs_more_than_the_tests_are_worth():
    explained = {"a": (1.0, {VECTORIZED: ("gradient-sign-flipped", "reg-missing-in-loss")})}
    kept, lines = points.charge_once(explained)
    assert kept == {"a": 0.0}
    assert "capped" in lines[-1]


def test_nothing_explained_charges_nothing():
    assert points.charge_once({}) == ({}, [])


def test_a_mistake_without_a_cost_in_the_bundle_is_charged_in_full():
    # A bundle pinned before CHARGES existed (or without this code) charges as it did then.
    explained = {"a": (2.0, {VECTORIZED: ("reg-missing-in-loss",)}), "b": (3.0, {VECTORIZED: ("mutates-input",)})}
    kept, lines = points.charge_once(explained, {VECTORIZED: {"reg-missing-in-loss": 1.0}})
    assert kept == {"a": 1.0} and lines == [f"{VECTORIZED}: reg-missing-in-loss costs 1 points, charged once"]
    assert points.charge_once(explained, {}) == ({}, [])


def test_the_harness_report_carries_the_explanation_of_a_failed_call_only():
    from instructor.grading.harness import _outcomes

    ids = ["t::a", "t::b", "t::c"]
    events = [
        {"e": "collected", "ids": ids},
        {
            "e": "report",
            "id": "t::a",
            "when": "call",
            "outcome": "failed",
            "text": "E boom",
            "explained": {VECTORIZED: ["reg-missing-in-loss"]},
        },
        {
            "e": "report",
            "id": "t::b",
            "when": "call",
            "outcome": "failed",
            "text": "E boom",
            "explained": "not a mapping",
        },
        {"e": "report", "id": "t::c", "when": "call", "outcome": "passed", "text": ""},
        {"e": "explain_error", "id": "t::b", "text": "ValueError: x"},
        {"e": "done"},
    ]
    run = _outcomes(events, "")
    assert run.outcomes["t::a"].explained == {VECTORIZED: ("reg-missing-in-loss",)}
    assert run.outcomes["t::b"].explained == {} and run.outcomes["t::c"].passed
    assert run.notes == ["the grader could not look for classic mistakes in t::b: ValueError: x"]
