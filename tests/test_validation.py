"""Tests for kit/validation.py: bad input gets a clear ValueError.

The checks are kit code that runs before the student regions, so these
tests are not graded (instructor/grading/points.py lists only the student's work);
they make sure a shape mistake reads as one helpful line.
"""

import numpy as np
import pytest

from classifiers.linear_classifier import Softmax
from kit.validation import check_loss_inputs
from tests.test_linear_classifier import separable_problem
from tests.test_softmax import loss_fn, small_problem  # noqa: F401 (loss_fn is a fixture)

BAD_INPUTS = {
    "X 1-D": (lambda W, X, y: (W, X[0], y), "2-D"),
    "W transposed (C, D)": (lambda W, X, y: (W.T.copy(), X, y), "rows"),
    "y 2-D": (lambda W, X, y: (W, X, y[:, None]), "1-D"),
    "y too short": (lambda W, X, y: (W, X, y[:-1]), "labels"),
    "label out of range": (lambda W, X, y: (W, X, np.full_like(y, W.shape[1])), r"\[0, 4\)"),
    "negative label": (lambda W, X, y: (W, X, -np.ones_like(y)), ">= 0"),
    "float labels": (lambda W, X, y: (W, X, y.astype(float)), "integer"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_raises_value_error(loss_fn, case):
    make, message = BAD_INPUTS[case]
    W, X, y = make(*small_problem())
    with pytest.raises(ValueError, match=message):
        loss_fn(W, X, y, 0.1)


@pytest.mark.parametrize("reg", [-1.0, float("nan"), float("inf")])
def test_bad_reg_raises_value_error(loss_fn, reg):
    with pytest.raises(ValueError, match="reg"):
        loss_fn(*small_problem(), reg)


# --- the classifier -----------------------------------------------------------

X_OK, Y_OK = separable_problem(num_train=20)

BAD_TRAIN_ARGS = {
    "X 1-D": (dict(X=X_OK[:, 0]), "2-D"),
    "X 3-D images": (dict(X=X_OK.reshape(20, 1, -1)), "reshape"),
    "X strings": (dict(X=X_OK.astype(str)), "integer or float"),
    "X with NaN": (dict(X=np.where(np.arange(X_OK.shape[1]) == 2, np.nan, X_OK)), "finite"),  # in every row
    "X not an array": (dict(X=X_OK.tolist()), "NumPy array"),
    "X empty": (dict(X=X_OK[:0], y=Y_OK[:0]), "at least one"),
    "y 2-D": (dict(y=Y_OK[:, None]), "1-D"),
    "y floats": (dict(y=Y_OK.astype(float)), "integer"),
    "y wrong length": (dict(y=Y_OK[:-3]), "20 labels"),
    "y negative": (dict(y=Y_OK - 5), ">= 0"),
    "learning_rate nan": (dict(learning_rate=float("nan")), "learning_rate"),
    "learning_rate inf": (dict(learning_rate=float("inf")), "learning_rate"),
    "learning_rate zero": (dict(learning_rate=0.0), "learning_rate"),
    "reg negative": (dict(reg=-1.0), "reg"),
    "num_iters zero": (dict(num_iters=0), "num_iters"),
    "num_iters float": (dict(num_iters=10.5), "num_iters"),
    "batch_size zero": (dict(batch_size=0), "batch_size"),
}


@pytest.mark.parametrize("case", list(BAD_TRAIN_ARGS))
def test_train_rejects_bad_input_with_a_clear_message(case):
    changes, message = BAD_TRAIN_ARGS[case]
    kwargs = dict(X=X_OK, y=Y_OK, learning_rate=1e-3, reg=0.0, num_iters=2, batch_size=5)
    kwargs.update(changes)
    with pytest.raises((ValueError, TypeError), match=message):
        Softmax().train(**kwargs)


def test_labels_beyond_the_trained_classes_are_rejected():
    clf = Softmax()
    clf.train(X_OK, Y_OK, num_iters=2)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        clf.train(X_OK, Y_OK + 1, num_iters=2)


def test_predict_rejects_data_with_the_wrong_number_of_features():
    clf = Softmax()
    clf.train(X_OK, Y_OK, num_iters=2)
    with pytest.raises(ValueError, match="rows"):
        clf.predict(X_OK[:, :-1])


def test_a_numpy_float64_reg_comes_back_as_a_python_float():
    # reg as a NumPy float64 scalar (say, from np.logspace) would promote float32
    # arithmetic: np.float64(0.1) * (float32 array) is float64 (NEP 50). The loss
    # functions' setup line, reg = check_loss_inputs(...), hands back a Python float.
    W, X, y = small_problem()
    reg = check_loss_inputs(W.astype(np.float32), X.astype(np.float32), y, np.float64(0.1))
    assert type(reg) is float and reg == 0.1
    assert (reg * W.astype(np.float32)).dtype == np.float32
