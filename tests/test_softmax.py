"""Tests for classifiers/softmax.py: softmax_loss_naive and softmax_loss_vectorized.

Most tests run on both functions (the `loss_fn` fixture). A test named after
a mistake (the mean over examples, the penalty, the -1 at the label, the
sign, the shift, log-sum-exp, float32, the inputs, the loops) fails for that
mistake and no other; its message shows expected and actual values. The rest
(finite differences, naive == vectorized, the properties of a softmax) fail
for anything wrong.
"""

import ast
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradient_check import rel_error
from tests import student_code
from tests.answers import answer, answers, finite_differences
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
# Which of the two is wrong: each test of one function alone says, and so does diagnose.
WHICH_ONE = "; the tests of each function alone (and diagnose.report_loss) say which one is wrong"
FINITE_DIFFERENCE_ENTRIES = 12  # entries of W checked per example (all of them when W has no more)
# exp(800) overflows float64 (its largest is about e^709.8) and exp(-800) underflows to 0.
GAP = 800.0

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


def test_returns_one_number_and_a_gradient_shaped_like_W(loss_fn):
    W, X, y = small_problem()
    loss, dW = answer(loss_fn, W, X, y, 0.1)  # any real number is a loss: float, np.float32, a 0-d array
    assert dW.dtype == W.dtype, f"dW should have W's dtype {W.dtype}, got {dW.dtype}"
    assert_computed(loss_fn, loss)


def test_float32_inputs_give_float32_gradient(loss_fn):
    W, X, y = small_problem()
    loss, dW = answer(loss_fn, W.astype(np.float32), X.astype(np.float32), y, 0.1)
    assert dW.dtype == np.float32, f"float32 W and X should give a float32 dW, got {dW.dtype}"
    loss64, dW64 = answer(loss_fn, W, X, y, 0.1)
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
        every_label = [(W, x_row, np.array([c]), 0.0) for c in range(num_classes)]
        probs = [math.exp(-loss) for loss, _ in answers(fn, every_label)]
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
    # The same examples twice: a mean is unchanged, a sum doubles.
    W, X, y = small_problem()
    once, _ = answer(loss_fn, W, X, y, 0.0)
    twice, _ = answer(loss_fn, W, np.vstack([X, X]), np.concatenate([y, y]), 0.0)
    assert_computed(loss_fn, once)
    assert twice == pytest.approx(once, rel=1e-12), (
        f"the same examples twice should give the same loss; got {once} and then {twice} "
        f"({twice / once:.3g} times as much): divide the summed loss by N"
    )


def test_loss_includes_reg_times_sum_of_squared_weights(loss_fn):
    # What reg adds to the loss, whatever the data part is: exactly reg * sum(W**2).
    W, X, y = small_problem()
    reg = 0.7
    without, _ = answer(loss_fn, W, X, y, 0.0)
    with_reg, _ = answer(loss_fn, W, X, y, reg)
    penalty = reg * np.sum(W * W)
    assert_computed(loss_fn, without)
    assert with_reg - without == pytest.approx(penalty, rel=1e-9), (
        f"reg = {reg} should add reg * sum(W**2) = {penalty:.10f} to the loss; it added "
        f"{with_reg - without:.10f} (not 0.5 * reg * sum(W**2), and not 0)"
    )


# --- the gradient ----------------------------------------------------------


def test_gradient_is_a_mean_over_examples_not_a_sum(loss_fn):
    # The same examples twice: the mean gradient is unchanged, a summed one doubles.
    W, X, y = small_problem()
    once, dW_once = answer(loss_fn, W, X, y, 0.0)
    _, dW_twice = answer(loss_fn, W, np.vstack([X, X]), np.concatenate([y, y]), 0.0)
    assert_computed(loss_fn, once)
    np.testing.assert_allclose(
        dW_twice, dW_once, rtol=1e-10, err_msg="the same examples twice should give the same dW: divide dW by N"
    )


def test_regularization_gradient_is_2_reg_W(loss_fn):
    # What reg adds to dW, whatever the data part is: exactly 2 * reg * W.
    W, X, y = small_problem()
    reg = 0.7
    without, dW_without = answer(loss_fn, W, X, y, 0.0)
    _, dW_with = answer(loss_fn, W, X, y, reg)
    assert_computed(loss_fn, without)
    np.testing.assert_allclose(
        dW_with - dW_without,
        2 * reg * W,
        rtol=1e-9,
        atol=1e-12,
        err_msg="reg should add exactly 2 * reg * W to dW, the derivative of reg * sum(W**2) (not reg * W, and not 0)",
    )


def test_gradient_subtracts_one_at_each_label(loss_fn):
    # W = 0: every probability is 1/C, so dscores = 1/C - onehot(y) and
    # dW = X.T @ (1/C - onehot(y)) / N. Checked up to a factor (the 1/N and the
    # sign have tests of their own): where each -1 lands is what counts here.
    _, X, y = small_problem()
    num_classes = 4
    W = np.zeros((X.shape[1], num_classes))
    expected = X.T @ (1 / num_classes - np.eye(num_classes)[y]) / X.shape[0]
    loss, dW = answer(loss_fn, W, X, y, 0.0)
    assert_computed(loss_fn, loss)
    factor = np.sum(dW * expected) / np.sum(expected * expected)
    np.testing.assert_allclose(
        dW,
        factor * expected,
        rtol=1e-9,
        atol=1e-14,
        err_msg="at W = 0, dW should be X.T @ (1/C - onehot(y)) / N: subtract 1 only at each example's own label "
        "(dscores[np.arange(N), y] -= 1, not dscores[:, y] -= 1)",
    )
    assert factor != 0, "at W = 0 dW should not be 0: every class has probability 1/C, the labels 1"


def test_a_small_step_against_the_gradient_lowers_the_loss(loss_fn):
    # dW points uphill: W - h * dW lowers the loss, W + h * dW raises it.
    W, X, y = small_problem(weight_scale=0.5)
    loss, dW = answer(loss_fn, W, X, y, 0.1)
    assert_computed(loss_fn, loss)
    step = 1e-3 / max(np.abs(dW).max(), 1e-12)  # small: the loss is nearly linear over the step
    down, _ = answer(loss_fn, W - step * dW, X, y, 0.1)
    up, _ = answer(loss_fn, W + step * dW, X, y, 0.1)
    assert down < loss < up, (
        f"the loss is {loss:.8f} at W, {down:.8f} a small step against dW and {up:.8f} a step along it: "
        "dW should point uphill (the gradient), so dscores is probs - onehot(y), not onehot(y) - probs"
    )


@settings(max_examples=25, deadline=None)
@given(softmax_problems(), regs, st.randoms(use_true_random=False))
def test_gradient_matches_finite_differences(problem, reg, random):
    # Every entry of a small W, FINITE_DIFFERENCE_ENTRIES random ones of a larger W (as
    # gradient_check.grad_check with num_checks): a wrong formula is wrong almost everywhere.
    W, X, y = problem
    entries = list(np.ndindex(W.shape))
    if len(entries) > FINITE_DIFFERENCE_ENTRIES:
        entries = random.sample(entries, FINITE_DIFFERENCE_ENTRIES)
    at = tuple(np.array(entries).T)
    for fn in LOSS_FUNCTIONS.values():
        loss, dW = answer(fn, W, X, y, reg)
        assert_computed(fn, loss)
        numerical = finite_differences(fn, W, X, y, reg, entries)
        np.testing.assert_allclose(
            dW[at],
            numerical,
            rtol=FINITE_DIFFERENCE_RTOL,
            atol=FINITE_DIFFERENCE_ATOL_PER_UNIT_LOSS * max(1.0, loss),
            err_msg=f"{fn.__name__} with reg={reg}: analytic gradient (actual) differs from "
            f"finite differences (desired) at entries {entries}; relative error {rel_error(dW[at], numerical):.2e}",
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
        f"losses differ: naive {loss_naive!r}, vectorized {loss_vec!r}{WHICH_ONE}"
    )
    np.testing.assert_allclose(
        dW_vec,
        dW_naive,
        rtol=NAIVE_VS_VECTORIZED_TOL,
        atol=1e-14,
        err_msg=f"vectorized dW (actual) differs from naive dW (desired){WHICH_ONE}",
    )


def test_vectorized_matches_naive_on_cifar_sized_rows():
    rng = np.random.default_rng(1)
    W = 1e-4 * rng.standard_normal((3073, 10))
    X = 60 * rng.standard_normal((50, 3073))  # pixel-scale values, as in the notebook
    y = rng.integers(0, 10, size=50)
    loss_naive, dW_naive = softmax_loss_naive(W, X, y, 1e3)
    loss_vec, dW_vec = softmax_loss_vectorized(W, X, y, 1e3)
    assert_computed(softmax_loss_naive, loss_naive)
    assert loss_vec == pytest.approx(loss_naive, rel=NAIVE_VS_VECTORIZED_TOL), (
        f"on CIFAR-sized rows (D = 3073) the losses differ: naive {loss_naive!r}, vectorized {loss_vec!r}{WHICH_ONE}"
    )
    error = rel_error(dW_vec, dW_naive)
    assert error < 1e-8, f"on CIFAR-sized rows (D = 3073) dW differs: relative error {error:.2e}{WHICH_ONE}"


# --- numerical stability -------------------------------------------------


def _huge_and_moderate(top: float, gap: float, dtype=np.float64):
    """The same softmax rows twice: scores of `top` (exp overflows) and shifted down to 0.

    X's three features are a sign and one bias per row, so the second W moves
    only the first row's scores, by -top: rows (top, top - gap, 0) and
    (-top, gap - top, 0) become (0, -gap, -top) and the same second row. Softmax
    is unchanged by a constant added to a row, so the loss and dW are too.
    Returns X (2, 3), W_huge (3, 3), W_moderate (3, 3), labels y (2,).
    """
    X = np.array([[1.0, 1.0, 0.0], [-1.0, 0.0, 1.0]], dtype=dtype)
    W_huge = np.zeros((3, 3), dtype=dtype)
    W_huge[0] = (top, top - gap, 0.0)
    W_moderate = W_huge.copy()
    W_moderate[1] = -top  # the first row's bias
    return X, W_huge, W_moderate, np.array([1, 2])  # labels gap and 0 below their row's best: no underflow


def test_loss_is_stable_for_huge_scores(loss_fn):
    # Rows of scores (800, 790, 0) and (-800, -790, 0): exp(800) overflows unless each row is
    # shifted by its own max, and shifting both by 800 (the whole matrix's max) sends the second
    # row to exp(-800) = 0. Shifted down, the same rows give the same loss and dW.
    X, W_huge, W_moderate, y = _huge_and_moderate(GAP, 10.0)
    loss, dW = answer(loss_fn, W_huge, X, y, 0.0)
    expected, expected_dW = answer(loss_fn, W_moderate, X, y, 0.0)
    assert_computed(loss_fn, expected)
    assert np.isfinite(loss) and np.all(np.isfinite(dW)), (
        f"scores of 800 gave loss={loss}, dW={dW}: subtract each row's own max before exp "
        "(np.max(scores, axis=1, keepdims=True))"
    )
    assert loss == pytest.approx(expected, rel=1e-12), "adding a constant to a row of scores changed the loss"
    np.testing.assert_allclose(dW, expected_dW, rtol=1e-9, atol=1e-12, err_msg="... and dW")


def test_loss_is_exact_when_correct_class_is_far_below_the_best(loss_fn):
    # Scores (0, -800): label 1 lies 800 below the best, p_1 = e^-800 underflows to 0, and
    # log(p_1) = -inf unless computed as s_y - logsumexp(s). Exactly, its loss is 800 more
    # than label 0's: -log p_1 = 800 + log(1 + e^-800) and -log p_0 = log(1 + e^-800).
    W, X = np.array([[0.0, -GAP]]), np.array([[1.0]])
    far, dW = answer(loss_fn, W, X, np.array([1]), 0.0)
    best, _ = answer(loss_fn, W, X, np.array([0]), 0.0)
    assert np.isfinite(far) and np.all(np.isfinite(dW)), (
        f"got loss={far} for a label 800 below the best score: log(exp(s_y) / sum) underflows to log(0); "
        "use s_y - logsumexp(s)"
    )
    assert far - best == pytest.approx(GAP, rel=1e-12), (
        f"a label 800 below the best should cost exactly 800 more than the best label; got {far} and {best}"
    )


def test_loss_is_stable_for_huge_scores_in_float32(loss_fn):
    # Rows (100, 95, 0) and (-100, -95, 0) in float32, whose exp(100) overflows (its largest is
    # about e^88.7); shifted down, the same rows.
    X, W_huge, W_moderate, y = _huge_and_moderate(100.0, 5.0, np.float32)
    loss, dW = answer(loss_fn, W_huge, X, y, 0.0)
    expected, _ = answer(loss_fn, W_moderate, X, y, 0.0)
    assert_computed(loss_fn, expected)
    assert np.isfinite(loss) and np.all(np.isfinite(dW)), f"float32 overflow: loss={loss}, dW={dW}"
    assert loss == pytest.approx(expected, rel=1e-5)


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
    loss, _ = answer(softmax_loss_vectorized, *small_problem(), 0.1)  # a stub has no loops either: it must run
    assert_computed(softmax_loss_vectorized, loss)
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
    loss, _ = answer(softmax_loss_vectorized, *small_problem(), 0.1)  # a stub runs no loop either
    assert_computed(softmax_loss_vectorized, loss)
    small, large = _lines_run_in_softmax_module(10), _lines_run_in_softmax_module(40)
    assert small == large, (
        f"softmax_loss_vectorized ran {small} lines for N=10 but {large} for N=40: "
        "something still loops over the examples"
    )
