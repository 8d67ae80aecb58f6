"""Input checks shared by the loss functions and the classifiers.

Each check raises ValueError (or TypeError for something that is not an
array at all) saying what was expected and what arrived, so a shape mistake
surfaces as one readable line instead of a broadcasting error deep inside a
matrix product. None of them copies or modifies its input.

Glossary: X (N, D) data, y (N,) labels in [0, C), W (D, C) weights, reg >= 0.
"""

import math

import numpy as np


def _describe(a: np.ndarray) -> str:
    return f"an array of shape {a.shape} and dtype {a.dtype}"


def check_array(a: object, name: str) -> np.ndarray:
    """Return `a` unchanged if it is a NumPy array, else raise TypeError."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name}: expected a NumPy array, got {type(a).__name__}")
    return a


def check_data(X: object, name: str = "X") -> np.ndarray:
    """X must be a non-empty 2-D array of real numbers, shape (N, D)."""
    X = check_array(X, name)
    if X.ndim != 2:
        raise ValueError(
            f"{name}: expected a 2-D array of shape (N, D), one example per row, "
            f"got {_describe(X)}; flatten images with X.reshape(len(X), -1)"
        )
    if X.dtype.kind not in "iuf":
        raise ValueError(f"{name}: expected integer or float values, got {_describe(X)}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name}: expected at least one example and one feature, got {_describe(X)}")
    return X


def check_labels(y: object, num_examples: int, num_classes: int | None = None) -> np.ndarray:
    """y must be a 1-D integer array of length N with values in [0, C)."""
    y = check_array(y, "y")
    if y.ndim != 1:
        raise ValueError(f"y: expected a 1-D array of shape (N,), got {_describe(y)}")
    if y.dtype.kind not in "iu":
        raise ValueError(f"y: expected integer class labels, got {_describe(y)}; use y.astype(int)")
    if y.shape[0] != num_examples:
        raise ValueError(f"y: expected {num_examples} labels, one per row of X, got {y.shape[0]}")
    if y.size:
        low, high = int(y.min()), int(y.max())
        if low < 0:
            raise ValueError(f"y: expected labels >= 0, got {low}")
        if num_classes is not None and high >= num_classes:
            raise ValueError(
                f"y: expected labels in [0, {num_classes}) for {num_classes} classes (the columns of W), got {high}"
            )
    return y


def check_weights(W: object, num_features: int) -> np.ndarray:
    """W must be a 2-D float array of shape (D, C) matching X's D columns."""
    W = check_array(W, "W")
    if W.ndim != 2 or W.dtype.kind != "f":
        raise ValueError(f"W: expected a 2-D float array of shape (D, C), got {_describe(W)}")
    if W.shape[0] != num_features:
        raise ValueError(
            f"W: expected {num_features} rows, one per column of X (shape (D, C)), "
            f"got {_describe(W)}; W is (D, C) here, not the transposed (C, D)"
        )
    return W


def check_number(value: object, name: str, *, positive: bool = False) -> float:
    """A finite real number, >= 0 (or > 0 when positive=True)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name}: expected a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{name}: expected a finite number {bound}, got {value!r}")
    return value


def check_count(value: object, name: str) -> int:
    """A positive integer such as num_iters or batch_size."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def check_loss_inputs(W: object, X: object, y: object, reg: object) -> float:
    """Validate the arguments of softmax_loss_naive / softmax_loss_vectorized.

    Only cheap checks (shapes, dtypes, the label range): the loss runs once
    per SGD step, so it must not read all of X an extra time.

    Returns reg as a Python float. A NumPy scalar such as np.float64(1e3)
    would otherwise promote float32 arithmetic: np.float64 * (float32 array)
    is float64, while a Python float leaves the array's dtype alone (NEP 50).
    """
    X = check_data(X)
    W = check_weights(W, X.shape[1])
    check_labels(y, X.shape[0], W.shape[1])
    return check_number(reg, "reg")


def loss_value(loss: object, name: str = "the loss") -> float:
    """The loss a loss function returned, as a Python float; TypeError if it is not one number.

    Any real scalar is a loss: a Python float or int, a NumPy scalar of any
    precision (np.float32 is what `loss = 0.0; loss += ...` gives on float32
    input), or a 0-d array. An array with a shape, even (1,), is not: the loss
    is the mean over the examples, one number.
    """
    if isinstance(loss, np.ndarray) and loss.ndim == 0:
        loss = loss[()]
    if isinstance(loss, (bool, np.bool_)) or not isinstance(loss, (int, float, np.integer, np.floating)):
        if isinstance(loss, np.ndarray):
            got = f"an array of shape {loss.shape} and dtype {loss.dtype}"
        else:
            got = f"{type(loss).__name__} {loss!r}"[:120]
        raise TypeError(f"{name} should be one number (the mean over the examples); got {got}")
    return float(loss)
