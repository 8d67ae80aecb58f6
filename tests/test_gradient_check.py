"""Tests for gradient_check.py: the checker must pass right gradients and fail wrong ones."""

import numpy as np
import pytest

import gradient_check as gc


def regression_case(reg=0.5, seed=0):
    r"""A smooth loss of W (D, C) with a known gradient: the checker's test bench.

    L(W) = (1/N) sum_ij tanh(Z_ij)^2 / 2 + reg * sum(W**2), with Z = X W - T,
    so dL/dW = X.T @ (tanh(Z) * (1 - tanh(Z)^2)) / N + 2 * reg * W.

    Not the softmax loss on purpose: these tests judge the checker, so a
    student's unfinished or wrong softmax must not make them fail.
    Returns (f, W, dW) with f(W) -> float.
    """
    rng = np.random.default_rng(seed)
    W = 0.3 * rng.standard_normal((6, 4))  # (D, C)
    X = rng.standard_normal((10, 6))  # (N, D)
    T = rng.standard_normal((10, 4))  # (N, C) targets

    def f(w):
        return 0.5 * float(np.sum(np.tanh(X @ w - T) ** 2)) / len(X) + reg * float(np.sum(w * w))

    t = np.tanh(X @ W - T)  # (N, C)
    dW = X.T @ (t * (1 - t**2)) / len(X) + 2 * reg * W  # (D, C), chain rule through tanh
    return f, W, dW


# --- rel_error ----------------------------------------------------------------


def test_rel_error_of_two_zeros_is_zero_not_nan():
    assert gc.rel_error(np.zeros(3), np.zeros(3)) == 0.0


def test_rel_error_is_the_worst_entry():
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([1.0, 2.0, 3.3])
    assert gc.rel_error(a, b) == pytest.approx(0.3 / 6.3)
    assert gc.rel_error(a, b) == gc.rel_error(b, a)


def test_rel_error_rejects_different_shapes():
    with pytest.raises(ValueError, match="shape"):
        gc.rel_error(np.zeros(3), np.zeros(4))


# --- numerical gradients ------------------------------------------------------


def test_eval_numerical_gradient_of_a_cubic():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    grad = gc.eval_numerical_gradient(lambda v: np.sum(v**3), x)
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-8)


# --- restoring x --------------------------------------------------------------


class Boom(Exception):
    pass


def exploding(after_calls):
    calls = {"n": 0}

    def f(v):
        calls["n"] += 1
        if calls["n"] > after_calls:
            raise Boom
        return float(np.sum(v**2))

    return f


CHECKERS = {
    "eval_numerical_gradient": lambda f, x: gc.eval_numerical_gradient(f, x),
    "check_gradient": lambda f, x: gc.check_gradient(f, x, np.zeros_like(x)),
}


@pytest.mark.parametrize("name", list(CHECKERS))
@pytest.mark.parametrize("after_calls", [0, 1, 3])
def test_x_is_restored_exactly_even_when_f_raises(name, after_calls):
    x = np.random.default_rng(0).standard_normal((3, 2))
    before = x.copy()
    with pytest.raises(Boom):
        CHECKERS[name](exploding(after_calls), x)
    assert np.array_equal(x, before), f"{name} left x perturbed after f raised"


@pytest.mark.parametrize("name", list(CHECKERS))
def test_x_is_restored_bit_for_bit(name):
    x = np.random.default_rng(1).standard_normal((3, 2)) * 1e3 + 0.1
    before = x.copy()
    CHECKERS[name](lambda v: float(np.sum(np.sin(v))), x)
    assert x.tobytes() == before.tobytes(), f"{name} changed x (x + h - h is not always x: store and restore)"


# --- the verdict ----------------------------------------------------------------


@pytest.mark.parametrize("reg", [0.0, 0.5])
def test_check_gradient_passes_the_correct_gradient(reg):
    f, W, dW = regression_case(reg)
    result = gc.check_gradient(f, W, dW)
    assert result.passed and result, str(result)
    assert result.max_rel_error < gc.REL_ERROR_GOOD
    assert result.num_checked == W.size


def test_check_gradient_fails_a_gradient_without_regularization():
    f, W, dW = regression_case(reg=0.5)
    result = gc.check_gradient(f, W, dW - 2 * 0.5 * W)
    assert not result.passed, str(result)
    assert result.max_rel_error > gc.REL_ERROR_BAD


def test_check_gradient_fails_a_gradient_with_the_wrong_sign():
    f, W, dW = regression_case()
    result = gc.check_gradient(f, W, -dW)
    assert not result.passed and result.max_rel_error == pytest.approx(1.0), str(result)


def test_check_gradient_fails_a_gradient_wrong_in_one_entry_and_names_it():
    f, W, dW = regression_case()
    wrong = dW.copy()
    wrong[4, 2] += 1e-3
    result = gc.check_gradient(f, W, wrong)
    assert not result.passed, str(result)
    assert result.index == (4, 2)
    assert result.analytic == pytest.approx(wrong[4, 2])
    assert result.numerical == pytest.approx(dW[4, 2], rel=1e-6)
    text = str(result)
    assert "FAILED" in text and "(4, 2)" in text


def test_check_gradient_with_random_entries_is_repeatable():
    f, W, dW = regression_case()
    a = gc.check_gradient(f, W, dW, num_checks=7, seed=3)
    b = gc.check_gradient(f, W, dW, num_checks=7, seed=3)
    assert a.num_checked == 7 and a.indices == b.indices


def test_check_gradient_rejects_a_gradient_of_the_wrong_shape():
    f, W, dW = regression_case()
    with pytest.raises(ValueError, match="shape"):
        gc.check_gradient(f, W, dW.T)


def test_check_gradient_renders_as_a_table_in_jupyter():
    f, W, dW = regression_case()
    html = gc.check_gradient(f, W, dW)._repr_html_()
    assert html.startswith("<table") and "PASSED" in html and "max relative error" in html


def test_check_gradient_warns_about_float32():
    f, W, dW = regression_case()
    with pytest.warns(UserWarning, match="float64"):
        gc.check_gradient(f, W.astype(np.float32), dW.astype(np.float32), num_checks=2, seed=0)


def test_a_result_reads_the_same_as_plain_text_in_ipython_as_printed():
    # A notebook stores display(result) as HTML and as plain text; the plain text is
    # what a terminal, or a notebook shown as text, gives: the rows, not the dataclass.
    from IPython.lib.pretty import pretty

    W = np.random.default_rng(0).standard_normal((3, 2))
    result = gc.check_gradient(lambda w: float(np.sum(w**2)), W, 2 * W, num_checks=3, seed=0)
    assert pretty(result) == str(result) and "max relative error" in pretty(result)
