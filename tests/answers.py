"""What every test expects a loss function to return: one number and an array shaped like W.

    loss, dW = answer(softmax_loss_naive, W, X, y, reg)

`answer` calls the function on copies of W, X and y (a function that changes
its inputs fails the tests about that, not every test that calls it twice)
and hands back the loss as a Python float and dW as it came, or fails the
test saying what arrived and what was expected. Any
real scalar is a loss (kit/validation.py's `loss_value`): a Python float, a
NumPy scalar of any precision, a 0-d array. Shapes: W (D, C), X (N, D), y (N,).

    results = answers(softmax_loss_naive, [(W1, X, y, reg), (W2, X, y, reg)])
    numerical = finite_differences(softmax_loss_naive, W, X, y, reg)

`answers` makes many calls at once: here a plain loop, and under the
grader (which runs your code in a separate process) one message for all of
them instead of one each. `finite_differences` is the numerical gradient
gradient_check.eval_numerical_gradient computes, made of such calls.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradient_check import DEFAULT_STEP
from kit.validation import loss_value


def answer(fn, W, X, y, reg) -> tuple[float, np.ndarray]:
    """fn(W, X, y, reg) on copies of the arrays, as (loss as a float, dW); fails the test if it is not that pair."""
    __tracebackhide__ = True  # a failure shows the test's line and the student's, not this helper's
    name = getattr(fn, "__name__", "the loss function")
    result = fn(*(np.array(a, copy=True) for a in (W, X, y)), reg)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        pytest.fail(f"{name} should return a pair (loss, dW); got {type(result).__name__}", pytrace=False)
    loss, dW = result
    try:
        loss = loss_value(loss, f"{name}'s loss")
    except TypeError as error:
        pytest.fail(str(error), pytrace=False)
    if not isinstance(dW, np.ndarray) or dW.shape != np.shape(W):
        got = f"an array of shape {dW.shape}" if isinstance(dW, np.ndarray) else type(dW).__name__
        pytest.fail(f"{name}'s dW should be an array of W's shape {np.shape(W)}; got {got}", pytrace=False)
    return loss, dW


def answers(fn, calls: list[tuple]) -> list:
    """[fn(*args) for args in calls], in order; the grader sends them to your code in one go (fn.many)."""
    many = getattr(fn, "many", None)
    return many(list(calls)) if callable(many) else [fn(*args) for args in calls]


def finite_differences(fn, W, X, y, reg, entries=None, h: float = DEFAULT_STEP) -> np.ndarray:
    """d loss / dW of fn(W, X, y, reg)[0] by centred differences: shape (D, C), or (len(entries),)
    at the given (i, j) entries only.

    Entry (i, j) is (loss(W + h e_ij) - loss(W - h e_ij)) / 2h, exactly as
    gradient_check.eval_numerical_gradient computes it: two calls per entry.
    """
    where = list(np.ndindex(np.shape(W))) if entries is None else [tuple(e) for e in entries]
    steps = []
    for index in where:
        for sign in (1.0, -1.0):
            moved = np.array(W, copy=True)
            moved[index] = W[index] + sign * h
            steps.append((moved, X, y, reg))
    losses = np.array([np.array(result[0], dtype=np.float64) for result in answers(fn, steps)])
    numerical = (losses[0::2] - losses[1::2]) / (2 * h)
    return numerical.reshape(np.shape(W)) if entries is None else numerical
