"""diagnose_training: name the mistake in the SGD loop of LinearClassifier.train."""

from __future__ import annotations

import numpy as np

from diagnose.codes import TRAINING_CODES
from diagnose.findings import Finding
from diagnose.probes import _close, _factor_of, _fmt, _Stop

# The training probe: N rows whose first feature is the row's own index, so a batch
# shows which rows it holds. With B = N / 2 drawn with replacement a batch repeats a
# row with probability ~0.99, so STEPS batches without one mean no replacement
# (chance ~1e-10 for a right loop).
TRAIN_ROWS, TRAIN_CLASSES, TRAIN_BATCH, TRAIN_STEPS = 40, 3, 20, 5
TRAIN_RATE = 0.125  # a power of 2: W0 - STEPS * rate * G is exact in float32 too
TRAIN_SEEDS = (7, 7)  # two runs with the same seed must use the same batches


def diagnose_training(classifier_class: type) -> list[Finding]:
    """Diagnose the SGD loop of classifier_class.train (a LinearClassifier subclass).

    It trains a subclass whose loss() records each batch and returns a fixed
    gradient G, TRAIN_STEPS steps from a known W0, so the right end is exactly
    W0 - TRAIN_STEPS * TRAIN_RATE * G. Returns findings in the order of TRAINING_CODES.
    """
    if not isinstance(classifier_class, type):
        raise TypeError(f"classifier_class: expected a class such as Softmax, got {classifier_class!r}")
    try:
        found = _diagnose_training(classifier_class)
    except _Stop as stop:
        found = {stop.finding.code: stop.finding.message}
    return sorted(
        (Finding(code, message) for code, message in found.items()), key=lambda f: list(TRAINING_CODES).index(f.code)
    )


def _train_probe(classifier_class: type, seed: int, dtype) -> tuple[list, np.ndarray, np.ndarray, np.ndarray]:
    """(batches, W0, W after training, the fixed gradient) of one run on the training probe."""
    X = np.zeros((TRAIN_ROWS, 3), dtype)  # (N, D): row index, a constant, a bias
    X[:, 0], X[:, 1], X[:, 2] = np.arange(TRAIN_ROWS), 0.5, 1.0
    y = np.arange(TRAIN_ROWS) % TRAIN_CLASSES  # (N,)
    W0 = np.arange(9, dtype=dtype).reshape(3, TRAIN_CLASSES) / 8  # (D, C)
    gradient = (np.arange(9, dtype=dtype).reshape(3, TRAIN_CLASSES) - 4) / 4  # (D, C), the loss's dW
    batches = []

    class Probe(classifier_class):
        def loss(self, X_batch, y_batch, reg):
            batches.append((np.array(X_batch, copy=True), np.array(y_batch, copy=True)))
            return 1.0, gradient.copy()

    model = Probe()
    model.W = W0.copy()
    try:
        with np.errstate(all="ignore"):
            model.train(
                X, y, learning_rate=TRAIN_RATE, reg=0.0, num_iters=TRAIN_STEPS, batch_size=TRAIN_BATCH, seed=seed
            )
    except NotImplementedError as error:
        text = f": {error}" if str(error) else ""
        raise _Stop(
            Finding(
                "not-implemented",
                (
                    f"train raised NotImplementedError{text}; replace `raise NotImplementedError()` "
                    "in its TODO regions with your code"
                ),
            )
        ) from None
    except Exception as error:  # noqa: BLE001 - student code: a finding, never a crash here
        raise _Stop(
            Finding(
                "training-wrong",
                (
                    f"train raised {type(error).__name__}: {error} (X {X.shape} {X.dtype}, batch_size={TRAIN_BATCH}, "
                    f"{TRAIN_STEPS} steps)"
                ),
            )
        ) from None
    W = np.asarray(model.W)
    return batches, W0, W, gradient


def _diagnose_training(classifier_class: type) -> dict[str, str]:
    found: dict[str, str] = {}
    runs = [_train_probe(classifier_class, seed, np.float64) for seed in TRAIN_SEEDS]
    batches, W0, W, gradient = runs[0]
    if len(batches) != TRAIN_STEPS:
        found["training-wrong"] = f"{TRAIN_STEPS} steps called loss() {len(batches)} times; once per step"
        return found
    sizes = [len(xb) for xb, _ in batches]
    if any(size != TRAIN_BATCH for size in sizes):
        found["sgd-batch-size"] = (
            f"batch_size={TRAIN_BATCH} gave batches of {sizes} rows: sample exactly batch_size rows"
        )
    rows = []
    for X_batch, y_batch in batches:
        index = np.asarray(X_batch)[:, 0] if np.ndim(X_batch) == 2 and np.shape(X_batch)[1] == 3 else None
        if index is None or not np.array_equal(index, np.round(index)) or index.min() < 0 or index.max() >= TRAIN_ROWS:
            found["training-wrong"] = f"X_batch should hold rows of X, shape (B, D) = (B, 3); got {np.shape(X_batch)}"
            return found
        index = index.astype(int)
        rows.append(index)
        labels = index % TRAIN_CLASSES
        if np.shape(y_batch) != labels.shape or not np.array_equal(y_batch, labels):
            found.setdefault(
                "sgd-labels-mismatched",
                (
                    f"X_batch holds rows {index[:6].tolist()}..., whose labels are {labels[:6].tolist()}...; y_batch "
                    f"was {np.asarray(y_batch)[:6].tolist()}...: take X_batch and y_batch with the same "
                    "indices, X[idx], y[idx]"
                ),
            )
    if all(np.array_equal(r, rows[0]) for r in rows[1:]):
        found["sgd-same-batch"] = (
            f"all {TRAIN_STEPS} steps used the rows {rows[0][:8].tolist()}...: draw new random rows each step"
        )
    elif not any(len(np.unique(r)) < len(r) for r in rows):
        found["sgd-without-replacement"] = (
            f"{TRAIN_STEPS} batches of {TRAIN_BATCH} rows from {TRAIN_ROWS} never held a row twice (drawn with "
            "replacement, almost every batch would): use rng.integers(0, N, size=batch_size)"
        )
    again = [np.asarray(xb)[:, 0] for xb, _ in runs[1][0]]
    if len(again) != len(rows) or not all(np.array_equal(a, b) for a, b in zip(again, rows)):
        found["sgd-not-seeded"] = (
            f"two runs with seed={TRAIN_SEEDS[0]} used different batches: draw them with the rng made "
            "from seed (rng.integers), not np.random"
        )
    step = -TRAIN_STEPS * TRAIN_RATE * gradient  # (D, C): the right change of W
    moved = W.astype(np.float64) - W0 if W.shape == W0.shape else None
    k = _factor_of(moved, step, np.float64) if moved is not None else None
    where = (
        f"{TRAIN_STEPS} steps of learning_rate={TRAIN_RATE} along a fixed dW should change W by "
        f"{_fmt(step[0])} in row 0"
    )
    if k is None:
        got = f"W of shape {W.shape}" if moved is None else f"a change of {_fmt(moved[0])}"
        found["training-wrong"] = f"{where}; got {got}"
    elif _close(k, 1.0, np.float64):
        pass  # the right step
    elif _close(k, 0.0, np.float64):
        found["sgd-no-update"] = f"{where}; W did not change: W -= learning_rate * dW after each loss"
    elif _close(k, -1.0, np.float64):
        found["sgd-wrong-sign"] = f"{where}; it changed by {_fmt(moved[0])}, up the gradient: W -= learning_rate * dW"
    else:
        found["sgd-step-size"] = (
            f"{where}; it changed by {k:.6g} times that, {_fmt(moved[0])}: the step is learning_rate * dW"
            f"{' (the learning rate is missing)' if _close(k, 1 / TRAIN_RATE, np.float64) else ''}"
        )
    W32 = _train_probe(classifier_class, TRAIN_SEEDS[0], np.float32)[2]
    if W32.dtype != np.float32:
        found["float32-promoted"] = (
            f"training float32 W on float32 X gave a {W32.dtype} W: update in place (W -= ...) or keep "
            "the dtype, do not .astype(np.float64)"
        )
    return found
