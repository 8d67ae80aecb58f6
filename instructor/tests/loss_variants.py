"""Softmax losses for tests/test_diagnose.py: correct ones in several styles,
and one mutant per diagnose.py code. Instructor only (tests/hidden/ is never
released): these are working solutions.

Every function has the kit's signature: W (D, C), X (N, D), y (N,), reg ->
(loss, dW), and keeps W's dtype unless its mistake is not to.
"""

from __future__ import annotations

import numpy as np

# --- correct, in five styles ------------------------------------------------------


def loops(W, X, y, reg):
    """Both loops, as softmax_loss_naive asks: examples outside, classes inside."""
    num_train, num_classes = X.shape[0], W.shape[1]
    loss, dW = 0.0, np.zeros_like(W)
    for i in range(num_train):
        scores = X[i] @ W  # (C,)
        scores = scores - scores.max()
        total = 0.0
        for j in range(num_classes):
            total += np.exp(scores[j])
        loss += np.log(total) - scores[y[i]]
        for j in range(num_classes):
            dW[:, j] += (np.exp(scores[j]) / total - (j == y[i])) * X[i]
    return float(loss / num_train + reg * np.sum(W * W)), dW / num_train + 2 * reg * W


def einsum_logsumexp(W, X, y, reg):
    """einsum products and a log-sum-exp written out with the row max."""
    n = X.shape[0]
    scores = np.einsum("nd,dc->nc", X, W)  # (N, C)
    top = scores.max(axis=1, keepdims=True)  # (N, 1)
    lse = top[:, 0] + np.log(np.exp(scores - top).sum(axis=1))  # (N,)
    loss = np.mean(lse - scores[np.arange(n), y]) + reg * np.einsum("dc,dc->", W, W)
    dscores = np.exp(scores - lse[:, None])  # (N, C) probs
    dscores[np.arange(n), y] -= 1
    return float(loss), np.einsum("nd,nc->dc", X, dscores) / n + 2 * reg * W


def onehot_log_softmax(W, X, y, reg):
    """A one-hot matrix and log-probabilities; X.T @ dscores."""
    n, c = X.shape[0], W.shape[1]
    scores = X.dot(W)
    scores = scores - scores.max(axis=1)[:, np.newaxis]
    log_probs = scores - np.log(np.sum(np.exp(scores), axis=1, keepdims=True))  # (N, C)
    onehot = np.eye(c, dtype=W.dtype)[y]  # (N, C)
    loss = -np.sum(log_probs * onehot) / n + reg * np.sum(np.square(W))
    return float(loss), X.T @ ((np.exp(log_probs) - onehot) / n) + 2 * reg * W


def logaddexp_outer(W, X, y, reg):
    """np.logaddexp.reduce (no explicit shift) and one outer product per example."""
    loss, dW = 0.0, np.zeros_like(W)
    for i in range(X.shape[0]):
        scores = X[i] @ W
        log_norm = np.logaddexp.reduce(scores)
        loss -= scores[y[i]] - log_norm
        p = np.exp(scores - log_norm)
        p[y[i]] -= 1
        dW += np.outer(X[i], p)
    return float(loss / X.shape[0] + reg * (W * W).sum()), dW / X.shape[0] + 2 * reg * W


def float32_inside(W, X, y, reg):
    """Computes in float32 whatever comes in, returning W's dtype: the maths is right,
    the precision float32's (the kit's tests reject it for that; diagnose must not)."""
    loss, dW = onehot_log_softmax(W.astype(np.float32), X.astype(np.float32), y, reg)
    return loss, dW.astype(W.dtype)


CORRECT = {f.__name__: f for f in (loops, einsum_logsumexp, onehot_log_softmax, logaddexp_outer, float32_inside)}


# --- one mutant per code ------------------------------------------------------------


def _vectorized(
    W,
    X,
    y,
    reg,
    *,
    mean=True,
    grad_mean=True,
    reg_loss=1.0,
    reg_grad=2.0,
    sign=1.0,
    factor=1.0,
    target="label",
    shift=True,
    log_ratio=False,
    mutate=False,
    promote=False,
    loss_power=1.0,
    normalize_grad=True,
):
    """The vectorized loss with one mistake switched on by a keyword."""
    n = X.shape[0]
    rows = np.arange(n)
    scores = X @ W  # (N, C)
    if shift:
        scores = scores - scores.max(axis=1, keepdims=True)
    exp_scores = np.exp(scores)
    sum_exp = exp_scores.sum(axis=1)  # (N,)
    if log_ratio:
        losses = -np.log(exp_scores[rows, y] / sum_exp)
    else:
        losses = np.log(sum_exp) - scores[rows, y]
    data_loss = np.mean(losses) if mean else np.sum(losses)
    loss = data_loss * loss_power + reg_loss * reg * np.sum(W * W)
    dscores = exp_scores / sum_exp[:, None] if normalize_grad else exp_scores.copy()
    if target == "label":
        dscores[rows, y] -= 1
    elif target == "every label column":
        dscores[:, y] -= 1
    else:  # the next class
        dscores[rows, (y + 1) % W.shape[1]] -= 1
    if grad_mean:
        dscores /= n
    dW = sign * factor * (X.T @ dscores) + reg_grad * reg * W
    if mutate:
        W *= 2.0
    if promote:
        dW = dW.astype(np.float64)
    return float(loss), dW


def _mutant(name: str, **mistake):
    def loss_fn(W, X, y, reg):
        return _vectorized(W, X, y, reg, **mistake)

    loss_fn.__name__ = name
    return loss_fn


def stub(W, X, y, reg):
    raise NotImplementedError()


MUTANTS = {
    "not-implemented": stub,
    "loss-not-averaged": _mutant("sums_the_loss", mean=False),
    "gradient-not-averaged": _mutant("sums_the_gradient", grad_mean=False),
    "reg-missing-in-loss": _mutant("no_penalty_in_loss", reg_loss=0.0),
    "reg-missing-in-gradient": _mutant("no_penalty_in_gradient", reg_grad=0.0),
    "reg-half-convention": _mutant("half_penalty", reg_loss=0.5, reg_grad=1.0),
    "gradient-sign-flipped": _mutant("flipped_sign", sign=-1.0),
    "gradient-wrong-target": _mutant("minus_one_on_every_label_column", target="every label column"),
    "overflow-without-shift": _mutant("no_max_shift", shift=False),
    "underflow-log-of-ratio": _mutant("log_of_ratio", log_ratio=True),
    "mutates-input": _mutant("doubles_W_in_place", mutate=True),
    "float32-promoted": _mutant("float64_gradient", promote=True),
    "gradient-scaled": _mutant("twice_the_gradient", factor=2.0),
    "loss-wrong": _mutant("squared_loss", loss_power=2.0),
    "gradient-wrong": _mutant("unnormalized_probs_in_gradient", normalize_grad=False),
}

# Variants of some codes, to show they are named however they come about.
MORE_MUTANTS = {
    "gradient-wrong-target": _mutant("minus_one_on_the_next_class", target="next class"),
    "reg-half-convention": _mutant("half_penalty_in_loss_only", reg_loss=0.5),
}
