"""Tests for classifiers/softmax.py: softmax_loss_naive and softmax_loss_vectorized.

Most tests run on both functions (the `loss_fn` fixture). Each test's name
says which mistake it catches; its message shows expected and actual values.
"""

import ast
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradient_check import eval_numerical_gradient, rel_error
from tests import student_code
from tests.strategies import regs, softmax_problems
from tests.student_code import softmax_loss_naive, softmax_loss_vectorized

# Naive and vectorized must agree to rounding: float64 sums in another order.
NAIVE_VS_VECTORIZED_TOL = 1e-10
# Finite differences carry rounding error of about eps * loss / h ~ 1e-11 * loss
# in every entry (measured: at most 4e-11 * loss over 8,000 random problems),
# so tiny entries are compared absolutely and the rest to 1e-7 relative
# (the cs231n "this is right" line).
FINITE_DIFFERENCE_RTOL = 1e-7
FINITE_DIFFERENCE_ATOL_PER_UNIT_LOSS = 1e-9
# A score gap that overflows exp() in float64 unless the row max is shifted.
HUGE = 1e4

LOSS_FUNCTIONS = {"naive": softmax_loss_naive, "vectorized": softmax_loss_vectorized}


@pytest.fixture(params=list(LOSS_FUNCTIONS), ids=list(LOSS_FUNCTIONS))
def loss_fn(request):
    return LOSS_FUNCTIONS[request.param]


def assert_computed(fn, loss):
    """Checks of properties that a loss of exactly 0 (and a dW of zeros) would have too.

    For the moderate scores of these checks the cross-entropy is positive, so
    a loss of 0 means nothing was computed yet: no points for its properties.
    """
    assert loss > 0, (
        f"{fn.__name__} returned a loss of {loss!r}, but the cross-entropy of moderate "
        "scores is positive: is the loss computed yet?"
    )


def small_problem(num_train=7, dim=5, num_classes=4, seed=0, weight_scale=0.1):
    rng = np.random.default_rng(seed)
    W = weight_scale * rng.standard_normal((dim, num_classes))
    X = rng.standard_normal((num_train, dim))
    y = rng.integers(0, num_classes, size=num_train)
    return W, X, y


# --- what is returned ----------------------------------------------------


def test_returns_python_float_loss_and_gradient_shaped_like_W(loss_fn):
    W, X, y = small_problem()
    loss, dW = loss_fn(W, X, y, 0.1)
    assert isinstance(loss, float), f"loss should be a Python float, got {type(loss).__name__}"
    assert dW.shape == W.shape, f"dW should have W's shape {W.shape}, got {dW.shape}"
    assert dW.dtype == W.dtype, f"dW should have W's dtype {W.dtype}, got {dW.dtype}"
    assert_computed(loss_fn, loss)


def test_float32_inputs_give_float32_gradient(loss_fn):
    W, X, y = small_problem()
    loss, dW = loss_fn(W.astype(np.float32), X.astype(np.float32), y, 0.1)
    assert dW.dtype == np.float32, f"float32 W and X should give a float32 dW, got {dW.dtype}"
    loss64, dW64 = loss_fn(W, X, y, 0.1)
    assert_computed(loss_fn, loss64)
    assert loss == pytest.approx(loss64, rel=1e-5)
    np.testing.assert_allclose(dW, dW64, rtol=1e-3, atol=1e-6)


# --- the loss --------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(softmax_problems(weight_scale=1e-6))
def test_loss_is_log_C_for_tiny_weights(problem):
    W, X, y = problem
    for fn in LOSS_FUNCTIONS.values():
        loss, _ = fn(W, X, y, 0.0)
        expected = math.log(W.shape[1])
        assert loss == pytest.approx(expected, abs=1e-4), (
            f"{fn.__name__}: with W near 0 every class has probability 1/C, so the "
            f"loss should be log(C) = {expected:.6f}; got {loss:.6f}"
        )


@settings(max_examples=30, deadline=None)
@given(softmax_problems())
def test_probabilities_sum_to_one(problem):
    # For one example, exp(-loss) is the probability of the label we pass.
    # Trying every label in turn recovers the whole softmax row.
    W, X, _ = problem
    x_row = X[:1]
    num_classes = W.shape[1]
    for fn in LOSS_FUNCTIONS.values():
        probs = [math.exp(-fn(W, x_row, np.array([c]), 0.0)[0]) for c in range(num_classes)]
        assert sum(probs) == pytest.approx(1.0, abs=1e-9), (
            f"{fn.__name__}: the class probabilities exp(-loss) should sum to 1, "
            f"got {sum(probs):.12f} from {np.round(probs, 6)}"
        )


@settings(max_examples=30, deadline=None)
@given(softmax_problems(), st.floats(-50, 50, allow_nan=False))
def test_loss_unchanged_when_a_constant_is_added_to_every_score(problem, shift):
    # With a bias column of ones in X, adding `shift` to W's bias row adds
    # `shift` to every score: softmax is invariant to that.
    W, X, y = problem
    X_bias = np.hstack([X, np.ones((X.shape[0], 1))])
    W_bias = np.vstack([W, np.zeros((1, W.shape[1]))])
    W_shifted = W_bias.copy()
    W_shifted[-1] += shift
    for fn in LOSS_FUNCTIONS.values():
        before, _ = fn(W_bias, X_bias, y, 0.0)
        after, _ = fn(W_shifted, X_bias, y, 0.0)
        assert_computed(fn, before)
        assert after == pytest.approx(before, rel=1e-9, abs=1e-9), (
            f"{fn.__name__}: adding {shift} to every score changed the loss from {before} to {after}"
        )


def test_loss_is_a_mean_over_examples_not_a_sum(loss_fn):
    W, X, y = small_problem()
    once, dW_once = loss_fn(W, X, y, 0.0)
    twice, dW_twice = loss_fn(W, np.vstack([X, X]), np.concatenate([y, y]), 0.0)
    assert_computed(loss_fn, once)
    assert twice == pytest.approx(once, rel=1e-12), (
        f"the same data twice should give the same loss (divide by N); got {once} and {twice}"
    )
    np.testing.assert_allclose(dW_twice, dW_once, rtol=1e-10, err_msg="divide the gradient by N too")


def test_loss_includes_reg_times_sum_of_squared_weights(loss_fn):
    # X = 0 makes every score 0: the data loss is exactly log(C).
    W, X, y = small_problem()
    X = np.zeros_like(X)
    reg = 0.7
    loss, _ = loss_fn(W, X, y, reg)
    expected = math.log(W.shape[1]) + reg * np.sum(W * W)
    assert loss == pytest.approx(expected, rel=1e-12), (
        f"loss should be log(C) + reg * sum(W**2) = {expected:.10f} here; got {loss:.10f} "
        f"(reg * sum(W**2) = {reg * np.sum(W * W):.10f}; not 0.5 * reg)"
    )


# --- the gradient ----------------------------------------------------------


def test_regularization_gradient_is_2_reg_W(loss_fn):
    W, X, y = small_problem()
    X = np.zeros_like(X)  # no data gradient: dW is the regularization alone
    reg = 0.7
    _, dW = loss_fn(W, X, y, reg)
    np.testing.assert_allclose(
        dW,
        2 * reg * W,
        rtol=1e-12,
        err_msg="with X = 0, dW should be exactly 2 * reg * W (the derivative of reg * sum(W**2))",
    )


def test_gradient_at_zero_weights_is_X_T_times_uniform_minus_onehot(loss_fn):
    # W = 0: every probability is 1/C, so dscores = 1/C - onehot(y), and the
    # -1 must land on the correct class of each example.
    _, X, y = small_problem()
    num_classes = 4
    W = np.zeros((X.shape[1], num_classes))
    onehot = np.eye(num_classes)[y]
    expected = X.T @ (1 / num_classes - onehot) / X.shape[0]
    _, dW = loss_fn(W, X, y, 0.0)
    # Name the classic mistake when the numbers show which one it is.
    if np.allclose(dW, expected * X.shape[0], rtol=1e-8):
        hint = "dW is N times too large: divide the gradient by N"
    elif np.allclose(dW, -expected, rtol=1e-8):
        hint = "dW has the wrong sign: dscores is probs - onehot(y), not onehot(y) - probs"
    else:
        hint = "check where the -1 goes (the correct class of each example)"
    np.testing.assert_allclose(
        dW,
        expected,
        rtol=1e-10,
        atol=1e-14,
        err_msg=f"at W = 0 the gradient is X.T @ (1/C - onehot(y)) / N: {hint}",
    )


@settings(max_examples=25, deadline=None)
@given(softmax_problems(), regs)
def test_gradient_matches_finite_differences(problem, reg):
    W, X, y = problem
    for fn in LOSS_FUNCTIONS.values():
        loss, dW = fn(W, X, y, reg)
        assert_computed(fn, loss)
        numerical = eval_numerical_gradient(lambda w, fn=fn: fn(w, X, y, reg)[0], W)
        np.testing.assert_allclose(
            dW,
            numerical,
            rtol=FINITE_DIFFERENCE_RTOL,
            atol=FINITE_DIFFERENCE_ATOL_PER_UNIT_LOSS * max(1.0, loss),
            err_msg=f"{fn.__name__} with reg={reg}: analytic gradient (actual) differs from "
            f"finite differences (desired); relative error {rel_error(dW, numerical):.2e}",
        )


# --- naive == vectorized -------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(softmax_problems(), regs)
def test_vectorized_matches_naive(problem, reg):
    W, X, y = problem
    loss_naive, dW_naive = softmax_loss_naive(W, X, y, reg)
    loss_vec, dW_vec = softmax_loss_vectorized(W, X, y, reg)
    assert_computed(softmax_loss_naive, loss_naive)
    assert loss_vec == pytest.approx(loss_naive, rel=NAIVE_VS_VECTORIZED_TOL), (
        f"losses differ: naive {loss_naive!r}, vectorized {loss_vec!r}"
    )
    np.testing.assert_allclose(dW_vec, dW_naive, rtol=NAIVE_VS_VECTORIZED_TOL, atol=1e-14)


def test_vectorized_matches_naive_on_cifar_sized_rows():
    rng = np.random.default_rng(1)
    W = 1e-4 * rng.standard_normal((3073, 10))
    X = 60 * rng.standard_normal((50, 3073))  # pixel-scale values, as in the notebook
    y = rng.integers(0, 10, size=50)
    loss_naive, dW_naive = softmax_loss_naive(W, X, y, 1e3)
    loss_vec, dW_vec = softmax_loss_vectorized(W, X, y, 1e3)
    assert_computed(softmax_loss_naive, loss_naive)
    assert loss_vec == pytest.approx(loss_naive, rel=NAIVE_VS_VECTORIZED_TOL)
    assert rel_error(dW_vec, dW_naive) < 1e-8


# --- numerical stability -------------------------------------------------


def test_loss_is_stable_for_huge_scores(loss_fn):
    # Scores (1e4, 0, -1e4): exp(1e4) overflows unless the row max is shifted.
    # Label 0 holds the largest score, so the exact loss is log(1 + e^-1e4 + ...) = 0.
    X = np.array([[1.0]])
    W = np.array([[HUGE, 0.0, -HUGE]])
    loss, dW = loss_fn(W, X, np.array([0]), 0.0)
    assert np.isfinite(loss) and np.all(np.isfinite(dW)), (
        f"scores of size 1e4 gave loss={loss}, dW={dW}: shift each row by its max before exp"
    )
    assert loss == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(dW, [[0.0, 0.0, 0.0]], atol=1e-12)


def test_loss_is_exact_when_correct_class_is_far_below_the_best(loss_fn):
    # Scores (0, 1e4), label 0: p_y = e^-1e4 underflows to 0, so log(p_y) = -inf
    # unless computed as s_y - logsumexp(s). The exact loss is 1e4 + log(1 + e^-1e4) = 1e4.
    X = np.array([[1.0], [2.0]])
    W = np.array([[0.0, HUGE / 2]])
    y = np.array([0, 0])
    # Example scores: (0, 5e3) and (0, 1e4); exact losses 5e3 and 1e4.
    loss, dW = loss_fn(W, X, y, 0.0)
    assert np.isfinite(loss), f"got loss={loss}: log(exp(s_y) / sum) underflows to log(0); use s_y - logsumexp(s)"
    assert loss == pytest.approx(7500.0, rel=1e-12)
    # p = (0, 1) for both examples: dscores = (-1, 1); dW = mean of x * (-1, 1).
    np.testing.assert_allclose(dW, [[-1.5, 1.5]], rtol=1e-12)


def test_loss_is_stable_for_huge_scores_in_float32(loss_fn):
    X = np.array([[1.0], [-1.0]], dtype=np.float32)
    W = np.array([[100.0, -100.0, 0.0]], dtype=np.float32)  # exp(100) overflows float32
    loss, dW = loss_fn(W, X, np.array([2, 2]), 0.0)
    assert np.isfinite(loss) and np.all(np.isfinite(dW)), f"float32 overflow: loss={loss}, dW={dW}"
    assert loss == pytest.approx(100.0, rel=1e-6)


# --- hygiene ---------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(softmax_problems(), regs)
def test_inputs_are_not_modified(problem, reg):
    W, X, y = problem
    for fn in LOSS_FUNCTIONS.values():
        W_before, X_before, y_before = W.copy(), X.copy(), y.copy()
        loss, _ = fn(W, X, y, reg)
        for name, after, before in (("W", W, W_before), ("X", X, X_before), ("y", y, y_before)):
            assert np.array_equal(after, before), f"{fn.__name__} modified its input {name} in place"
        assert_computed(fn, loss)


def test_gradient_is_a_new_array_not_W_itself(loss_fn):
    W, X, y = small_problem()
    loss, dW = loss_fn(W, X, y, 0.1)
    assert not np.shares_memory(dW, W), "dW must be a new array: updating it would change W"
    assert_computed(loss_fn, loss)


LOOP_NODES = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
LOOP_CALLS = {"map", "vectorize", "apply_along_axis", "frompyfunc", "fromiter"}


def test_vectorized_source_has_no_loops():
    softmax_loss_vectorized(*small_problem(), 0.1)  # a stub has no loops either: require it to run
    tree = ast.parse(student_code.source_text("classifiers/softmax.py"))
    functions = [
        node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == "softmax_loss_vectorized"
    ]
    assert functions, "classifiers/softmax.py no longer defines softmax_loss_vectorized"
    found = []
    for node in ast.walk(functions[-1]):
        if isinstance(node, LOOP_NODES):
            found.append(f"line {node.lineno}: {type(node).__name__}")
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in LOOP_CALLS:
                found.append(f"line {node.lineno}: {name}(...) is a loop in disguise")
    assert not found, "softmax_loss_vectorized must not loop over examples or classes:\n" + "\n".join(found)


def _lines_run_in_softmax_module(num_train: int) -> int:
    """How many source lines of classifiers/softmax.py run for one call."""
    W, X, y = small_problem(num_train=num_train, num_classes=5)
    return student_code.count_lines_run("softmax_loss_vectorized", W, X, y, 0.1)


def test_vectorized_runs_the_same_lines_for_any_N():
    # A loop hidden in a helper function escapes the source check above but
    # not this one: the number of executed lines would grow with N.
    small, large = _lines_run_in_softmax_module(10), _lines_run_in_softmax_module(40)
    assert small == large, (
        f"softmax_loss_vectorized ran {small} lines for N=10 but {large} for N=40: "
        "something still loops over the examples"
    )
