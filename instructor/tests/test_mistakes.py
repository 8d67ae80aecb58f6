"""Tests for charging a classic mistake once: instructor/grading/mistakes.py and points.charge_once.

Fast and in-process: the recorder wraps plain Python loss functions here, as
it wraps the remote ones in the grading harness. The sandboxed end-to-end
check is the self-test's table in instructor/tests/test_grade.py.
"""

from decimal import Decimal

import numpy as np
import pytest

from instructor.grading import mistakes, points, rubric, suite
from instructor.grading.reference import reference_loss
from instructor.tests import loss_variants
from instructor.tests.mutants import LOSS_MISTAKES, loss_mutant, style_functions, suite_module

VECTORIZED = "softmax_loss_vectorized"
STYLE_FUNCTIONS = style_functions()


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


def recorded_calls(loss_fn, name=VECTORIZED, calls=None) -> mistakes.Recorder:
    """A recorder that saw a test call `loss_fn` (as `name`) on problems() (or `calls`)."""
    recorder = mistakes.Recorder()
    recorded = recorder.wrap(_named(loss_fn, name))
    for W, X, y, reg in calls or problems():
        try:
            recorded(W, X, y, reg)
        except Exception:  # noqa: BLE001 - a failing call is part of what is explained (or not)
            pass
    return recorder


def explanation(loss_fn, name=VECTORIZED, calls=None):
    """What the recorder makes of a test calling `loss_fn` (as `name`) on problems()."""
    return recorded_calls(loss_fn, name, calls).explain()


def not_computed(loss_fn, name=VECTORIZED, calls=None) -> str:
    """Why a test that called `loss_fn` on problems() would earn nothing ("": it computed)."""
    return recorded_calls(loss_fn, name, calls).not_computed()


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


ONCE = {m.name: m for m in rubric.MISTAKES if m.charged_once}
BY_TESTS = {name: m for name, m in LOSS_MISTAKES.items() if not m.charged_once}
NO_REG_IN_LOSS = loss_mutant(rubric.BY_NAME["vectorized: no reg in the loss"])[1]


@pytest.mark.parametrize("name", list(ONCE))
def test_each_mistake_charged_once_is_recognised_exactly(name):
    mistake = ONCE[name]
    function, mutant = loss_mutant(mistake)
    assert explanation(mutant, function) == {function: mistake.codes}


def test_every_code_the_models_give_is_a_rubric_mistake_in_both_functions():
    made = {(m.function, code) for m in ONCE.values() for code in m.codes}
    assert made == {(function, code) for function in mistakes.RECORDED for code in mistakes.CODES}


def test_two_mistakes_together_are_both_named():
    both = [
        *rubric.BY_NAME["naive: loss not divided by N"].edits,
        *rubric.BY_NAME["naive: gradient not divided by N"].edits,
    ]
    naive = suite_module(suite.Case("mistake", both), "two mistakes").softmax_loss_naive
    assert explanation(naive, "softmax_loss_naive") == {
        "softmax_loss_naive": ("loss-not-averaged", "gradient-not-averaged")
    }


@pytest.mark.parametrize("name", list(STYLE_FUNCTIONS))
def test_a_correct_style_explains_nothing_and_computes(name):
    # A test that fails while every call is right failed for another reason: not explained.
    assert explanation(STYLE_FUNCTIONS[name]) is None
    assert not_computed(STYLE_FUNCTIONS[name]) == ""


EXTREME_CALL = (np.array([[1e4, 0.0, -1e4]]), np.array([[1.0], [0.5]]), np.array([2, 1]), 0.0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", [*loss_variants.OTHER_MUTANTS, *BY_TESTS])
def test_other_mistakes_are_not_explained_and_cost_their_tests_in_full(name):
    if name in loss_variants.OTHER_MUTANTS:
        function, mutant = VECTORIZED, loss_variants.OTHER_MUTANTS[name]
    else:
        function, mutant = loss_mutant(BY_TESTS[name])
    # Scores (1e4, 0, -1e4): where the stability mistakes show (elsewhere their values are right).
    assert explanation(mutant, function, calls=[*problems(), EXTREME_CALL]) is None


def test_a_mistake_on_some_inputs_and_something_else_on_others_is_not_explained():
    # A student cannot make a wrong function look like a cheap classic mistake only where it helps.
    def sometimes(W, X, y, reg):
        if X.shape[0] > 5:
            return NO_REG_IN_LOSS(W, X, y, reg)
        loss, dW = reference_loss(W, X, y, reg)
        return loss + 0.01, dW.astype(W.dtype)

    assert explanation(sometimes) is None


def test_a_near_miss_is_not_explained():
    def almost(W, X, y, reg):
        loss, dW = NO_REG_IN_LOSS(W, X, y, reg)
        return loss * (1 + 1e-5), dW

    assert explanation(almost) is None


def test_a_loss_of_any_real_scalar_type_is_explained_and_other_types_are_not():
    def returning(kind):
        def loss_fn(W, X, y, reg):
            loss, dW = NO_REG_IN_LOSS(W, X, y, reg)
            return kind(loss), dW

        return loss_fn

    for kind in (float, np.float64, np.array):  # a Python float, a NumPy scalar, a 0-d array
        assert explanation(returning(kind)) == {VECTORIZED: ("reg-missing-in-loss",)}, kind
    assert explanation(returning(lambda v: np.array([v]))) is None  # shape (1,): not one number

    def list_gradient(W, X, y, reg):
        loss, dW = NO_REG_IN_LOSS(W, X, y, reg)
        return loss, dW.tolist()

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
    vectorized = recorder.wrap(_named(loss_mutant(rubric.BY_NAME["vectorized: no reg in the gradient"])[1], VECTORIZED))
    for W, X, y, reg in problems():
        naive(W, X, y, reg)
        vectorized(W, X, y, reg)
    assert recorder.explain() == {VECTORIZED: ("reg-missing-in-gradient",)}
    recorder.reset()
    assert recorder.explain() is None


def test_too_many_calls_are_not_explained(monkeypatch):
    monkeypatch.setattr(mistakes, "MAX_CALLS", 2)
    assert explanation(NO_REG_IN_LOSS) is None


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


# --- nothing for nothing: mistakes.not_computed ----------------------------------------


def _nothing(make):
    def loss_fn(W, X, y, reg):
        return make(W, X, y, reg)

    return loss_fn


NOTHING = {
    "zeros": _nothing(lambda W, X, y, reg: (0.0, np.zeros_like(W))),
    "a constant": _nothing(lambda W, X, y, reg: (2.302585, np.full_like(W, 0.01))),
    "random numbers": _nothing(lambda W, X, y, reg: (float(np.random.default_rng().uniform(0.5, 3)), W * 0)),
    "an echo of the inputs": _nothing(lambda W, X, y, reg: (float(np.abs(X).mean()), W.copy())),
    "log C whatever the input": _nothing(lambda W, X, y, reg: (float(np.log(W.shape[1])), 2 * reg * W)),
}


@pytest.mark.parametrize("name", list(NOTHING))
def test_a_loss_that_computes_nothing_is_not_computed_and_says_what_it_returned(name):
    reason = not_computed(NOTHING[name])
    assert reason.startswith(f"{VECTORIZED} returned the loss ") and "earns no points" in reason, reason


@pytest.mark.parametrize("name", list(ONCE))
def test_a_classic_mistake_still_computes_the_loss(name):
    # Its points are charged once; the tests it passes keep theirs.
    function, mutant = loss_mutant(ONCE[name])
    assert not_computed(mutant, function) == ""


def test_a_test_that_made_no_loss_call_has_nothing_to_judge():
    assert mistakes.Recorder().not_computed() == ""


def test_writing_into_a_read_only_input_is_the_mutation_itself():
    # The hidden test passes read-only inputs: NumPy stops `W *= ...` with "read-only", and that
    # call is the classic mistake (charged once), not an unexplained error charged in full.
    mutates = loss_mutant(rubric.BY_NAME["vectorized: modifies W in place"])[1]
    calls = list(problems())
    for W, X, y, _ in calls[:1]:
        for array in (W, X, y):
            array.flags.writeable = False
    assert explanation(mutates, calls=calls) == {VECTORIZED: ("mutates-input",)}

    def raises_its_own(W, X, y, reg):
        raise ValueError("read-only, says the student")

    assert explanation(raises_its_own, calls=list(problems())) is None  # inputs writeable: not explained
