"""Hidden tests for classifiers/linear_classifier.py: the SGD step, predict and
training, checked against quantities the test computes itself.

Training uses OneVsRestLogistic (tests/stand_in.py: the student's train and
predict with the kit's own loss), so these grade the SGD loop alone, not the
softmax loss a second time.
"""

import numpy as np
import pytest

from instructor.grading.reference import reference_one_vs_rest_loss
from tests.student_code import OneVsRestLogistic, Softmax, train_recording_batches


# Deliberately not imported from tests/test_linear_classifier.py: hidden tests
# depend on no file a submission could rewrite (instructor/tests/test_grade.py
# checks that rewriting a visible test file costs only that file's tests).
def blobs(num_train=200, dim=10, num_classes=5, seed=11):
    rng = np.random.default_rng(seed)
    centres = 4 * rng.standard_normal((num_classes, dim))
    y = rng.integers(0, num_classes, size=num_train)
    X = np.hstack([centres[y] + rng.standard_normal((num_train, dim)), np.ones((num_train, 1))])
    return X, y


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_hidden_one_sgd_step_is_W_minus_learning_rate_times_dW(dtype):
    # One training example: every batch repeats it, so the step is known exactly.
    rng = np.random.default_rng(12)
    W0 = (0.3 * rng.standard_normal((5, 3))).astype(dtype)
    X, y = rng.standard_normal((1, 5)).astype(dtype), np.array([2])
    model = OneVsRestLogistic()
    model.W = W0.copy()
    history = model.train(X, y, learning_rate=0.7, reg=0.05, num_iters=1, batch_size=3, seed=1)
    loss_ref, dW_ref = reference_one_vs_rest_loss(W0, X, y, 0.05)
    assert model.W.dtype == dtype, f"training changed W from {np.dtype(dtype)} to {model.W.dtype}"
    rtol = 1e-4 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(
        model.W, W0 - 0.7 * dW_ref, rtol=rtol, atol=1e-6, err_msg="one step should give W - learning_rate * dW"
    )
    assert history[0] == pytest.approx(loss_ref, rel=rtol), "the history holds the loss before the step"


def test_hidden_history_holds_the_loss_of_each_batch():
    X, y = blobs(num_train=30)
    history, seen = train_recording_batches(
        OneVsRestLogistic(), X, y, learning_rate=1e-3, num_iters=7, batch_size=8, seed=2
    )
    losses = [loss for _, _, loss in seen]
    assert history == pytest.approx(losses), "train should return the loss of every iteration, in order"


def test_hidden_float32_training_and_prediction():
    X, y = blobs()
    model = OneVsRestLogistic()
    model.train(X.astype(np.float32), y, learning_rate=1e-2, num_iters=150, batch_size=32, seed=4)
    assert model.W.dtype == np.float32, f"float32 data should train float32 weights, got {model.W.dtype}"
    y_pred = model.predict(X.astype(np.float32))
    assert y_pred.dtype.kind in "iu" and y_pred.shape == y.shape
    assert np.mean(y_pred == y) > 0.9


def test_hidden_predict_is_the_argmax_of_the_scores_as_integers():
    rng = np.random.default_rng(13)
    model = Softmax()
    model.W = rng.standard_normal((8, 6))
    X = rng.standard_normal((50, 8))
    y_pred = model.predict(X)
    assert y_pred.shape == (50,), f"predict should return one label per row, got shape {y_pred.shape}"
    assert y_pred.dtype.kind in "iu", f"predict should return integer labels, got {y_pred.dtype}"
    np.testing.assert_array_equal(y_pred, np.argmax(X @ model.W, axis=1))


def test_hidden_training_a_second_time_continues_from_the_learned_W():
    X, y = blobs()
    model = OneVsRestLogistic()
    first = model.train(X, y, learning_rate=1e-2, num_iters=100, batch_size=40, seed=5)
    second = model.train(X, y, learning_rate=1e-2, num_iters=20, batch_size=40, seed=6)
    assert np.mean(second) < np.mean(first[:20]), "the second call should start from the trained W"


def test_hidden_a_read_only_X_and_y_can_be_trained_on():
    X, y = blobs(num_train=60)
    X.flags.writeable = False
    y.flags.writeable = False
    model = OneVsRestLogistic()
    model.train(X, y, learning_rate=1e-2, num_iters=20, batch_size=10, seed=7)
    model.predict(X)
