"""The grader's value checks: the student's results on fixed inputs, against the hidden reference.

These were the grader's "probes" when verdicts had to be decided outside
the process running student code; now every graded test is, and these are
hidden tests like the others, with their own entries in the points table.
Each compares values only: losses, gradients, dtypes, inputs left alone,
predictions, one SGD step and a trained W whose accuracy is computed here
(training with the kit's stand-in loss, tests/stand_in.py, so that the SGD
checks grade the SGD loop alone).
"""

import ast
import math

import numpy as np
import pytest

from instructor.grading.reference import reference_loss, reference_one_vs_rest_loss
from kit.validation import loss_value
from tests import student_code
from tests.student_code import OneVsRestLogistic, Softmax, softmax_loss_naive, softmax_loss_vectorized

from .test_hidden_linear_classifier import blobs

LOSS_FUNCTIONS = {"naive": softmax_loss_naive, "vectorized": softmax_loss_vectorized}
# float64 results computed in another order agree to ~1e-12; 1e-7 is generous
# but still far below what any of the classic mistakes changes.
RTOL, ATOL = 1e-7, 1e-10
# float32: about 7 significant digits, minus some for the sums.
RTOL32, ATOL32 = 1e-4, 1e-6
SEPARABLE_ACCURACY = 0.9  # blobs 4 sigma apart: SGD reaches ~1.0
LOOP_NODES = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def problem(seed, num_train, dim, num_classes, weight_scale=0.1, data_scale=1.0, dtype=np.float64):
    """(W, X, y) with the kit's shapes: W (D, C), X (N, D), y (N,)."""
    rng = np.random.default_rng(seed)
    W = (weight_scale * rng.standard_normal((dim, num_classes))).astype(dtype)
    X = (data_scale * rng.standard_normal((num_train, dim))).astype(dtype)
    y = rng.integers(0, num_classes, size=num_train)
    return W, X, y


def cases():
    return {
        "small": (*problem(101, 13, 9, 5), 0.3),
        "one example, two classes": (*problem(102, 1, 3, 2), 0.0),
        "many classes, no reg": (*problem(103, 21, 6, 11, weight_scale=1.0), 0.0),
        "uint8 labels": (*problem(104, 9, 5, 3)[:2], np.array([0, 2, 1, 1, 0, 2, 2, 1, 0], dtype=np.uint8), 0.02),
    }


def assert_matches_reference(fn, case_items, rtol=RTOL, atol=ATOL):
    problems = []
    for case, (W, X, y, reg) in case_items:
        loss, dW = fn(W, X, y, reg)
        loss_ref, dW_ref = reference_loss(W, X, y, reg)
        try:
            value = loss_value(loss)  # any real number: float, np.float32, a 0-d array
        except TypeError as error:
            problems.append(f"{case}: {error}")
        else:
            if not (math.isfinite(value) and math.isclose(value, loss_ref, rel_tol=rtol, abs_tol=atol)):
                problems.append(f"{case}: loss {value!r}, expected {loss_ref:.10g}")
        if not isinstance(dW, np.ndarray) or dW.shape != W.shape:
            problems.append(f"{case}: dW should be an array of W's shape {W.shape}")
            continue
        if dW.dtype != W.dtype:
            problems.append(f"{case}: dW has dtype {dW.dtype}, expected {W.dtype} (the dtype of W)")
        if not np.all(np.isfinite(dW)) or not np.allclose(dW, dW_ref, rtol=rtol, atol=atol):
            diff = np.abs(dW.astype(np.float64) - dW_ref)
            problems.append(f"{case}: dW differs from the reference by up to {np.nanmax(diff):.3g}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", list(LOSS_FUNCTIONS))
def test_loss_and_gradient_values(name):
    items = list(cases().items())
    if name == "vectorized":
        items.append(("CIFAR-shaped", (*problem(105, 40, 3073, 10, weight_scale=1e-4, data_scale=60.0), 1e3)))
    assert_matches_reference(LOSS_FUNCTIONS[name], items)


@pytest.mark.parametrize("name", list(LOSS_FUNCTIONS))
def test_extreme_scores_values(name):
    # Scores (1e4, 0, -1e4) per row: the label holds the best, the middle and the worst score.
    W, X = np.array([[1e4, 0.0, -1e4]]), np.array([[1.0], [0.5]])
    assert_matches_reference(
        LOSS_FUNCTIONS[name], [("best", (W, X, np.array([0, 0]), 0.0)), ("worst", (W, X, np.array([2, 1]), 0.0))]
    )


def test_float32_stays_float32():
    W, X, y = problem(106, 10, 6, 4, dtype=np.float32)
    for fn in LOSS_FUNCTIONS.values():
        assert_matches_reference(fn, [(fn.__name__, (W, X, y, 0.1))], RTOL32, ATOL32)


def test_loss_functions_leave_inputs_unchanged():
    for fn in LOSS_FUNCTIONS.values():
        W, X, y = problem(107, 8, 5, 3)
        copies = W.copy(), X.copy(), y.copy()
        loss, _ = fn(W, X, y, 0.5)
        for name, after, before in zip("WXy", (W, X, y), copies):
            assert after.dtype == before.dtype and np.array_equal(after, before), (
                f"{fn.__name__} modified its input {name} in place"
            )
        assert loss > 0, f"{fn.__name__} returned a loss of {loss!r}: is it computed yet?"


def test_vectorized_has_no_loops():
    source = student_code.source_text("classifiers/softmax.py")
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        pytest.fail(f"classifiers/softmax.py does not parse: {err.msg} (line {err.lineno})")
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "softmax_loss_vectorized"]
    assert functions, "softmax_loss_vectorized is not defined in classifiers/softmax.py"
    loops = [f"line {n.lineno}: {type(n).__name__}" for n in ast.walk(functions[-1]) if isinstance(n, LOOP_NODES)]
    assert not loops, "softmax_loss_vectorized contains loops: " + ", ".join(loops)
    # Static, but only for a loss that computes: a stub or a loss of zeros has no loops either.
    W, X, y = problem(110, 6, 4, 3)
    assert_matches_reference(softmax_loss_vectorized, [("a small problem", (W, X, y, 0.2))])


def test_predict_labels():
    W, X, _ = problem(108, 30, 7, 6, weight_scale=1.0)
    model = Softmax()
    model.W = W
    y_pred = model.predict(X)
    expected = np.argmax(X @ W, axis=1)
    assert isinstance(y_pred, np.ndarray) and y_pred.shape == expected.shape, (
        f"predict should return labels of shape {expected.shape}"
    )
    assert y_pred.dtype.kind in "iu", f"predict returned dtype {y_pred.dtype}: expected integer class labels"
    wrong = int(np.sum(y_pred != expected))
    assert not wrong, f"predict got {wrong} of {expected.size} labels wrong (expected the argmax of X @ W)"


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_sgd_step_follows_the_gradient(dtype):
    # One example, so every batch is that example repeated: the step is exact.
    # The kit's stand-in loss (tests/stand_in.py): this grades the step, not the softmax loss again.
    W, X, y = problem(109, 1, 6, 4, weight_scale=0.5)
    model = OneVsRestLogistic()
    model.W = W.astype(dtype)
    history = model.train(X.astype(dtype), y, learning_rate=0.5, reg=0.1, num_iters=1, batch_size=4, seed=0)
    loss_ref, dW_ref = reference_one_vs_rest_loss(W.astype(dtype), X.astype(dtype), y, 0.1)
    rtol, atol = (RTOL32, ATOL32) if dtype == np.float32 else (RTOL, ATOL)
    assert model.W.dtype == dtype, f"training in {np.dtype(dtype)}: W became {model.W.dtype}"
    np.testing.assert_allclose(
        model.W,
        W.astype(dtype) - 0.5 * dW_ref,
        rtol=rtol,
        atol=atol,
        err_msg="W after one step should be W - learning_rate * dW",
    )
    assert len(history) == 1 and history[0] == pytest.approx(loss_ref, rel=rtol), (
        f"the history should hold the loss before the step, {loss_ref:.6g}; got {history}"
    )


def test_sgd_learns_separable_data():
    X, y = blobs(num_train=240, dim=12, num_classes=4, seed=7)  # separable: blobs 4 sigma apart
    model = OneVsRestLogistic()
    model.train(X, y, learning_rate=1e-2, reg=1e-4, num_iters=300, batch_size=40, seed=3)
    W = model.W
    assert isinstance(W, np.ndarray) and W.shape == (X.shape[1], 4) and W.dtype.kind == "f", (
        f"W should be a float array of shape {(X.shape[1], 4)} after training"
    )
    assert np.all(np.isfinite(W)), "W contains NaN or inf after training"
    accuracy = float(np.mean(np.argmax(X @ W, axis=1) == y))  # computed here, from the student's W alone
    assert accuracy >= SEPARABLE_ACCURACY, (
        f"after 300 SGD steps on separable data the accuracy is {accuracy:.2f}, expected >= {SEPARABLE_ACCURACY}"
    )
