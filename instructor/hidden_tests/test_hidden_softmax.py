"""Hidden tests for classifiers/softmax.py: the same properties on inputs the
student has not seen, against an independent reference (instructor/grading/reference.py).
"""

import numpy as np
import pytest

from instructor.grading.reference import reference_loss
from kit.validation import loss_value
from tests.student_code import softmax_loss_naive, softmax_loss_vectorized

LOSS_FUNCTIONS = {"naive": softmax_loss_naive, "vectorized": softmax_loss_vectorized}
# float64 sums in another order agree to ~1e-12.
RTOL = 1e-8
# float32 keeps ~7 digits; the sums lose a few.
RTOL32 = 1e-4

SHAPES = {  # (N, D, C)
    "one example, two classes": (1, 1, 2),
    "more classes than examples": (3, 4, 9),
    "tall": (40, 6, 3),
    "wide": (5, 60, 7),
}


@pytest.fixture(params=list(LOSS_FUNCTIONS), ids=list(LOSS_FUNCTIONS))
def loss_fn(request):
    return LOSS_FUNCTIONS[request.param]


def problem(shape, seed, weight_scale=0.5, dtype=np.float64):
    num_train, dim, num_classes = shape
    rng = np.random.default_rng(seed)
    W = (weight_scale * rng.standard_normal((dim, num_classes))).astype(dtype)
    X = rng.standard_normal((num_train, dim)).astype(dtype)
    y = rng.integers(0, num_classes, size=num_train)
    return W, X, y


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("reg", [0.0, 0.25])
def test_hidden_loss_and_gradient_match_an_independent_reference(loss_fn, shape, reg):
    W, X, y = problem(SHAPES[shape], seed=len(shape))
    loss, dW = loss_fn(W, X, y, reg)
    loss_ref, dW_ref = reference_loss(W, X, y, reg)
    assert loss == pytest.approx(loss_ref, rel=RTOL), f"{shape}, reg={reg}: loss {loss}, expected {loss_ref}"
    np.testing.assert_allclose(dW, dW_ref, rtol=RTOL, atol=1e-12, err_msg=f"{shape}, reg={reg}: dW")


# The next three compare the student's loss with itself (int64 labels, contiguous
# copies, writeable inputs), so that a loss wrong everywhere fails only the tests
# about the maths; each also checks one value against the reference, so that a
# loss that computes nothing earns nothing here.
def assert_one_value(loss_fn, W, X, y, reg):
    loss, dW = loss_fn(W, X, y, reg)
    loss_ref, dW_ref = reference_loss(W, X, y, reg)
    assert loss_value(loss) == pytest.approx(loss_ref, rel=RTOL), f"loss {loss}, expected {loss_ref}"
    np.testing.assert_allclose(dW, dW_ref, rtol=RTOL, atol=1e-12, err_msg="dW")


@pytest.mark.parametrize("label_dtype", [np.int32, np.uint8, np.int16])
def test_hidden_labels_of_any_integer_dtype_work(loss_fn, label_dtype):
    W, X, y = problem((12, 5, 4), seed=3)
    loss, dW = loss_fn(W, X, y.astype(label_dtype), 0.1)
    loss_int64, dW_int64 = loss_fn(W, X, y.astype(np.int64), 0.1)
    assert loss == pytest.approx(loss_int64, rel=RTOL), f"{label_dtype.__name__} labels: {loss} vs int64: {loss_int64}"
    np.testing.assert_allclose(dW, dW_int64, rtol=RTOL, atol=1e-12, err_msg=f"{label_dtype.__name__} labels")
    assert_one_value(loss_fn, W, X, y.astype(label_dtype), 0.1)


def test_hidden_non_contiguous_inputs_work(loss_fn):
    W, X, y = problem((10, 8, 5), seed=4)
    X_view, W_fortran = X[::2, ::2], np.asfortranarray(W[::2])
    loss, dW = loss_fn(W_fortran, X_view, y[::2], 0.3)
    loss_copy, dW_copy = loss_fn(np.ascontiguousarray(W_fortran), X_view.copy(), y[::2].copy(), 0.3)
    assert loss == pytest.approx(loss_copy, rel=RTOL), f"views: {loss}, contiguous copies: {loss_copy}"
    np.testing.assert_allclose(dW, dW_copy, rtol=RTOL, atol=1e-12, err_msg="views vs contiguous copies")
    assert_one_value(loss_fn, W_fortran, X_view, y[::2], 0.3)


def test_hidden_float32_in_float32_out_with_float32_accuracy(loss_fn):
    W, X, y = problem((15, 7, 6), seed=5, dtype=np.float32)
    loss, dW = loss_fn(W, X, y, 0.2)
    assert dW.dtype == np.float32, f"float32 W and X should give a float32 dW, got {dW.dtype}"
    loss_ref, dW_ref = reference_loss(W, X, y, 0.2)
    assert loss == pytest.approx(loss_ref, rel=RTOL32)
    np.testing.assert_allclose(dW, dW_ref, rtol=RTOL32, atol=1e-5)


@pytest.mark.parametrize("gap", [800.0, 1e5])
def test_hidden_extreme_scores_give_the_exact_finite_loss(loss_fn, gap):
    # Rows of scores (gap, 0, -gap); labels on the best, the middle and the worst.
    W = np.array([[gap, 0.0, -gap]])
    X = np.ones((3, 1))
    y = np.array([0, 1, 2])
    loss, dW = loss_fn(W, X, y, 0.0)
    assert np.isfinite(loss) and np.all(np.isfinite(dW)), f"scores of size {gap} gave loss={loss}, dW={dW}"
    assert loss == pytest.approx((0.0 + gap + 2 * gap) / 3, rel=1e-12)
    np.testing.assert_allclose(dW, [[2 / 3, -1 / 3, -1 / 3]], rtol=1e-12)


def test_hidden_inputs_and_their_flags_are_left_alone(loss_fn):
    W, X, y = problem((9, 4, 3), seed=6)
    for array in (W, X, y):
        array.flags.writeable = False  # an in-place change raises instead of passing silently
    assert_one_value(loss_fn, W, X, y, 0.5)


def test_hidden_gradient_of_a_large_reg_is_dominated_by_2_reg_W(loss_fn):
    W, X, y = problem((6, 3, 4), seed=7)
    reg = 1e6
    _, dW = loss_fn(W, X, y, reg)
    _, dW_ref = reference_loss(W, X, y, reg)
    np.testing.assert_allclose(
        dW,
        dW_ref,
        rtol=1e-10,
        err_msg="with reg = 1e6, dW (the data part plus 2 * reg * W, which dominates) differs from the reference",
    )
