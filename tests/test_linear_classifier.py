"""Tests for classifiers/linear_classifier.py: SGD training, predict, save/load.

The SGD tests train OneVsRestLogistic (tests/stand_in.py): your train and
predict with a loss of the kit's own, so they grade the SGD loop alone and a
mistake in your softmax loss does not fail them too. One test trains
Softmax end to end with your vectorized loss.
"""

import numpy as np
import pytest

from tests.student_code import (
    LinearClassifier,
    OneVsRestLogistic,
    Softmax,
    TrainingDivergedError,
    train_recording_batches,
)

# A separable problem is learnt almost perfectly; 0.9 leaves room for SGD noise.
SEPARABLE_ACCURACY = 0.9


def separable_problem(num_train=300, dim=20, num_classes=3, seed=0):
    """Gaussian blobs far apart, plus a bias column of ones: X (N, D + 1), y (N,)."""
    rng = np.random.default_rng(seed)
    centres = 4 * rng.standard_normal((num_classes, dim))
    y = rng.integers(0, num_classes, size=num_train)
    X = centres[y] + rng.standard_normal((num_train, dim))
    X = np.hstack([X, np.ones((num_train, 1))])
    return X, y


def test_sgd_reaches_high_training_accuracy_on_separable_data():
    X, y = separable_problem()
    clf = OneVsRestLogistic()
    clf.train(X, y, learning_rate=1e-2, reg=1e-4, num_iters=300, batch_size=50, seed=0)
    accuracy = np.mean(clf.predict(X) == y)
    assert accuracy > SEPARABLE_ACCURACY, f"training accuracy {accuracy:.2f} on separable blobs"


def test_softmax_trains_end_to_end_with_your_vectorized_loss():
    X, y = separable_problem()
    clf = Softmax()
    clf.train(X, y, learning_rate=1e-2, reg=1e-4, num_iters=300, batch_size=50, seed=0)
    accuracy = np.mean(clf.predict(X) == y)
    assert accuracy > SEPARABLE_ACCURACY, (
        f"Softmax reached training accuracy {accuracy:.2f} on separable blobs; the SGD tests pass, "
        "so look at softmax_loss_vectorized (tests/test_softmax.py)"
    )


def test_train_returns_one_loss_per_iteration_and_the_loss_falls():
    X, y = separable_problem()
    history = OneVsRestLogistic().train(X, y, learning_rate=1e-2, num_iters=200, batch_size=50, seed=0)
    assert len(history) == 200 and all(isinstance(h, float) for h in history)
    first, last = np.mean(history[:10]), np.mean(history[-10:])
    assert last < 0.5 * first, f"the loss should fall during training: first {first:.3f}, last {last:.3f}"


def test_first_loss_is_that_of_W_near_0_with_the_lazy_small_initialization():
    # The stand-in loss (tests/stand_in.py): at W = 0 each of the C yes/no losses is log 2.
    X, y = separable_problem(num_classes=5)
    clf = OneVsRestLogistic()
    history = clf.train(X, y, learning_rate=1e-9, num_iters=1, seed=0)
    assert clf.W.shape == (X.shape[1], 5)
    assert 0.0005 < np.std(clf.W) < 0.002, f"W should start as 0.001 * randn, std {np.std(clf.W):.4g}"
    assert history[0] == pytest.approx(5 * np.log(2), rel=0.05), "the first loss should be that of W near 0"


def test_training_updates_W():
    X, y = separable_problem()
    clf = OneVsRestLogistic()
    clf.train(X, y, learning_rate=1e-9, num_iters=1, seed=0)
    W_start = clf.W.copy()
    clf.train(X, y, learning_rate=1e-2, num_iters=20, seed=1)
    assert not np.allclose(clf.W, W_start), "train() computed gradients but W did not change"


def test_same_seed_gives_the_same_run_and_another_seed_does_not():
    X, y = separable_problem()
    runs = [OneVsRestLogistic().train(X, y, num_iters=30, batch_size=20, seed=s) for s in (3, 3, 4)]
    assert runs[0] == runs[1], "the same seed must repeat the run exactly (use rng, not np.random)"
    assert runs[0] != runs[2], "different seeds should sample different batches"


def test_batches_are_sampled_with_replacement():
    X, y = separable_problem(num_train=5)
    history = OneVsRestLogistic().train(X, y, num_iters=3, batch_size=200, seed=0)
    assert len(history) == 3, "a batch larger than the data must work: sample with replacement"


def test_batches_are_random_rows_with_matching_labels():
    X, y = separable_problem(num_train=50)
    _, seen = train_recording_batches(OneVsRestLogistic(), X, y, num_iters=20, batch_size=10, seed=0)
    rows = {tuple(row) for X_batch, _, _ in seen for row in X_batch}
    assert len(seen) == 20, f"train asked for the loss of {len(seen)} batches in 20 iterations"
    assert all(X_batch.shape == (10, X.shape[1]) for X_batch, _, _ in seen)
    assert len(rows) > 25, f"batches covered only {len(rows)} of 50 rows: sample new rows every step"
    for X_batch, y_batch, _ in seen:
        for row, label in zip(X_batch, y_batch):
            index = int(np.flatnonzero((row == X).all(axis=1))[0])
            assert y[index] == label, "each sampled row must come with its own label"


def test_float32_training_keeps_float32_weights():
    X, y = separable_problem()
    clf = OneVsRestLogistic()
    clf.train(X.astype(np.float32), y, num_iters=5, seed=0)
    assert clf.W.dtype == np.float32


def test_train_and_predict_do_not_modify_their_inputs():
    X, y = separable_problem()
    X_before, y_before = X.copy(), y.copy()
    clf = OneVsRestLogistic()
    clf.train(X, y, num_iters=10, seed=0)
    clf.predict(X)
    assert np.array_equal(X, X_before) and np.array_equal(y, y_before)


def test_predict_returns_integer_labels_not_scores():
    X, y = separable_problem(num_classes=4)
    clf = OneVsRestLogistic()
    clf.train(X, y, num_iters=10, seed=0)
    y_pred = clf.predict(X)
    assert y_pred.shape == (X.shape[0],), f"predict should return (N,) labels, got shape {y_pred.shape}"
    assert y_pred.dtype.kind in "iu", f"predict should return integer labels, got {y_pred.dtype}"
    np.testing.assert_array_equal(y_pred, np.argmax(X @ clf.W, axis=1))


def test_predict_before_training_says_so():
    with pytest.raises(RuntimeError, match="train"):
        Softmax().predict(np.ones((2, 3)))


def test_base_class_has_no_loss():
    X, y = separable_problem()
    with pytest.raises(NotImplementedError, match="Softmax"):
        LinearClassifier().train(X, y, num_iters=1)


def test_verbose_shows_a_progress_bar_with_the_loss(capsys):
    X, y = separable_problem()
    Softmax().train(X, y, num_iters=30, verbose=True, seed=0)
    err = capsys.readouterr().err
    assert "SGD" in err and "30/30" in err, f"expected a tqdm bar on stderr, got {err[-200:]!r}"


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_divergence_stops_with_advice_and_keeps_the_history():
    X, y = separable_problem()
    clf = OneVsRestLogistic()
    with pytest.raises(TrainingDivergedError, match="smaller learning rate") as info:
        clf.train(1e3 * X, y, learning_rate=1e300, num_iters=50, seed=0)
    assert len(info.value.loss_history) >= 1
    assert all(np.isfinite(info.value.loss_history))


# --- save / load ------------------------------------------------------------


def test_save_load_round_trip(tmp_path):
    X, y = separable_problem()
    clf = Softmax()
    clf.train(X, y, num_iters=10, seed=0)
    clf.save(tmp_path / "model.npz")
    loaded = Softmax.from_file(tmp_path / "model.npz")
    assert isinstance(loaded, Softmax)
    np.testing.assert_array_equal(loaded.W, clf.W)
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))


def test_load_rejects_a_pickle(tmp_path):
    path = tmp_path / "model.npz"
    np.savez(path, W=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match=r"model\.npz"):
        Softmax.from_file(path)


@pytest.mark.parametrize("content", [b"", b"not a zip file at all", b"PK\x03\x04truncated"])
def test_load_rejects_a_corrupt_file(tmp_path, content):
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"model\.npz"):
        Softmax.from_file(path)


def test_load_rejects_a_file_without_weights(tmp_path):
    path = tmp_path / "model.npz"
    np.savez(path, other=np.ones(3))
    with pytest.raises(ValueError, match=r"model\.npz"):
        Softmax.from_file(path)


def test_save_before_training_says_so(tmp_path):
    with pytest.raises(RuntimeError, match="trained"):
        Softmax().save(tmp_path / "model.npz")


def test_load_on_an_instance_loads_into_that_instance(tmp_path):
    # `clf.load(path)` must not hand back a new model and leave clf untrained.
    X, y = separable_problem()
    trained = Softmax()
    trained.train(X, y, num_iters=10, seed=0)
    trained.save(tmp_path / "model.npz")
    clf = Softmax()
    clf.load(tmp_path / "model.npz")
    assert clf.W is not None, "clf.load(path) left clf untrained: it should load the weights into clf"
    np.testing.assert_array_equal(clf.W, trained.W)
    np.testing.assert_array_equal(clf.predict(X), trained.predict(X))
