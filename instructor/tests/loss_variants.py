"""Softmax losses that are wrong in ways no classic mistake explains, for the diagnosis's tests.

The classic mistakes come from the rubric (instructor/tests/mutants.py); these
are the rest of diagnose's codes (a stub, a scaled gradient, a wrong loss, a
wrong gradient) and a loss with the right maths in float32's precision.
Instructor only: they are working losses with one thing changed.

Every function has the kit's signature: W (D, C), X (N, D), y (N,), reg ->
(loss, dW), and keeps W's dtype unless its mistake is not to.
"""

from __future__ import annotations

import numpy as np


def _vectorized(W, X, y, reg, *, factor=1.0, loss_power=1.0, normalize_grad=True):
    """The vectorized loss with one change switched on by a keyword."""
    n = X.shape[0]
    rows = np.arange(n)
    scores = X @ W  # (N, C)
    scores = scores - scores.max(axis=1, keepdims=True)
    exp_scores = np.exp(scores)
    sum_exp = exp_scores.sum(axis=1)  # (N,)
    loss = np.mean(np.log(sum_exp) - scores[rows, y]) ** loss_power + reg * np.sum(W * W)
    dscores = exp_scores / sum_exp[:, None] if normalize_grad else exp_scores.copy()
    dscores[rows, y] -= 1
    dW = factor * (X.T @ dscores) / n + 2 * reg * W
    return float(loss), dW


def _mutant(name: str, **change):
    def loss_fn(W, X, y, reg):
        return _vectorized(W, X, y, reg, **change)

    loss_fn.__name__ = name
    return loss_fn


def stub(W, X, y, reg):
    raise NotImplementedError()


def float32_inside(W, X, y, reg):
    """Computes in float32 whatever comes in, returning W's dtype: the maths is right,
    the precision float32's (the kit's tests reject it for that; diagnose must not)."""
    loss, dW = _vectorized(W.astype(np.float32), X.astype(np.float32), y, reg)
    return loss, dW.astype(W.dtype)


# diagnose's codes that no classic mistake of the rubric gives: code -> a loss that gets it.
OTHER_MUTANTS = {
    "not-implemented": stub,
    "gradient-scaled": _mutant("twice_the_gradient", factor=2.0),
    "loss-wrong": _mutant("squared_loss", loss_power=2.0),
    "gradient-wrong": _mutant("unnormalized_probs_in_gradient", normalize_grad=False),
}
