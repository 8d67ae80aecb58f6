"""The probes: student functions called on fixed inputs, run in the grading child.

The grader copies this file into the sandbox as `_grader_probes.py` and runs

    python _grader_probes.py [NAME ...]      # all probes, or only these

Each probe imports what it needs from the kit when it runs (so a broken
linear_classifier.py cannot stop the softmax probes), calls it on inputs
built from fixed seeds, and sends what came back to the parent over the pipe
in $GRADER_FD, one JSON line per event: {"e": "start", "id": "check::NAME"},
then {"e": "result", "id": ..., "values": {...}} or {"e": "error", ...}.
Arrays travel as dtype, shape and base64 bytes.

The parent compares these values with the reference's (instructor/checks.py)
in its own process: patching numpy.testing or pytest here changes nothing.
The reference's values come from running this same file on the solutions.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import traceback

import numpy as np

_fd = os.environ.pop("GRADER_FD", None)
_channel = os.fdopen(int(_fd), "w", buffering=1, closefd=False) if _fd else sys.stdout
PROBES = {}


def probe(fn):
    PROBES[fn.__name__] = fn
    return fn


def encode(value):
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        return {"dtype": array.dtype.str, "shape": list(array.shape), "b64": base64.b64encode(array.tobytes()).decode()}
    if isinstance(value, (np.floating, np.integer)):
        return {"scalar_type": type(value).__name__, "value": value.item()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return {"unencodable": type(value).__name__}


def problem(seed, num_train, dim, num_classes, weight_scale=0.1, data_scale=1.0, dtype=np.float64):
    """(W, X, y) with the kit's shapes: W (D, C), X (N, D), y (N,)."""
    rng = np.random.default_rng(seed)
    W = (weight_scale * rng.standard_normal((dim, num_classes))).astype(dtype)
    X = (data_scale * rng.standard_normal((num_train, dim))).astype(dtype)
    y = rng.integers(0, num_classes, size=num_train)
    return W, X, y


def blobs(seed=7, num_train=240, dim=12, num_classes=4):
    """Separable Gaussian blobs with a bias column: X (N, D + 1), y (N,)."""
    rng = np.random.default_rng(seed)
    centres = 4 * rng.standard_normal((num_classes, dim))
    y = rng.integers(0, num_classes, size=num_train)
    X = np.hstack([centres[y] + rng.standard_normal((num_train, dim)), np.ones((num_train, 1))])
    return X, y


def _loss_values(fn_name, cases):
    from classifiers import softmax

    fn = getattr(softmax, fn_name)
    out = {}
    for key, (W, X, y, reg) in cases.items():
        loss, dW = fn(W, X, y, reg)
        out[key] = [loss, dW]
    return out


def random_cases():
    """Fresh inputs each call: one probe's mutation never leaks into the next."""
    return {
        "small": (*problem(101, 13, 9, 5), 0.3),
        "one_example_two_classes": (*problem(102, 1, 3, 2), 0.0),
        "many_classes_no_reg": (*problem(103, 21, 6, 11, weight_scale=1.0), 0.0),
        "uint8_labels": (*problem(104, 9, 5, 3)[:2], np.array([0, 2, 1, 1, 0, 2, 2, 1, 0], dtype=np.uint8), 0.02),
    }


def extreme_cases():
    return {
        # Scores (1e4, 0, -1e4) per row: the label holds the best, the middle and the worst score.
        "best": (np.array([[1e4, 0.0, -1e4]]), np.array([[1.0], [0.5]]), np.array([0, 0]), 0.0),
        "worst": (np.array([[1e4, 0.0, -1e4]]), np.array([[1.0], [0.5]]), np.array([2, 1]), 0.0),
    }


@probe
def naive_loss_and_gradient():
    return _loss_values("softmax_loss_naive", random_cases())


@probe
def vectorized_loss_and_gradient():
    cifar = problem(105, 40, 3073, 10, weight_scale=1e-4, data_scale=60.0)
    return _loss_values("softmax_loss_vectorized", {**random_cases(), "cifar_shaped": (*cifar, 1e3)})


@probe
def naive_extreme_scores():
    return _loss_values("softmax_loss_naive", extreme_cases())


@probe
def vectorized_extreme_scores():
    return _loss_values("softmax_loss_vectorized", extreme_cases())


@probe
def float32_stays_float32():
    W, X, y = problem(106, 10, 6, 4, dtype=np.float32)
    out = _loss_values("softmax_loss_naive", {"naive": (W, X, y, 0.1)})
    out.update(_loss_values("softmax_loss_vectorized", {"vectorized": (W, X, y, 0.1)}))
    return out


@probe
def loss_functions_leave_inputs_unchanged():
    from classifiers import softmax

    out = {}
    for name in ("softmax_loss_naive", "softmax_loss_vectorized"):
        W, X, y = problem(107, 8, 5, 3)
        getattr(softmax, name)(W, X, y, 0.5)
        out[name] = [W, X, y]
    return out


@probe
def predict_labels():
    from classifiers.linear_classifier import Softmax

    W, X, _ = problem(108, 30, 7, 6, weight_scale=1.0)
    model = Softmax()
    model.W = W
    return {"y_pred": model.predict(X)}


@probe
def sgd_step_follows_the_gradient():
    # One example, so every batch is that example repeated: the step is exact.
    from classifiers.linear_classifier import Softmax

    W, X, y = problem(109, 1, 6, 4, weight_scale=0.5)
    out = {}
    for dtype in (np.float64, np.float32):
        model = Softmax()
        model.W = W.astype(dtype)
        history = model.train(X.astype(dtype), y, learning_rate=0.5, reg=0.1, num_iters=1, batch_size=4, seed=0)
        out[np.dtype(dtype).name] = [model.W, np.array(history, dtype=np.float64)]
    return out


@probe
def sgd_learns_separable_data():
    from classifiers.linear_classifier import Softmax

    X, y = blobs()
    model = Softmax()
    history = model.train(X, y, learning_rate=1e-2, reg=1e-4, num_iters=300, batch_size=40, seed=3)
    return {"W": model.W, "X": X, "y": y, "history": np.array(history, dtype=np.float64)}


def main(names: list[str]) -> None:
    for name in names or list(PROBES):
        _channel.write(json.dumps({"e": "start", "id": f"check::{name}"}) + "\n")
        try:
            values = {key: encode(value) for key, value in PROBES[name]().items()}
            event = {"e": "result", "id": f"check::{name}", "values": values}
        except BaseException as err:  # SystemExit too: one probe's failure is reported, the next runs
            text = "".join(traceback.format_exception(type(err), err, err.__traceback__))[-4000:]
            event = {"e": "error", "id": f"check::{name}", "text": text}
        _channel.write(json.dumps(event) + "\n")
    _channel.write(json.dumps({"e": "done"}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
