"""An independent softmax loss for the hidden tests, written unlike the solution.

It works on log-probabilities (log-softmax via log-sum-exp) and builds the
gradient with an explicit one-hot matrix and einsum, so a bug shared with the
reference solution in classifiers/softmax.py would not cancel out here.
Shapes: W (D, C), X (N, D), y (N,).
"""

import numpy as np


def reference_loss(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
    """Mean cross-entropy + reg * sum(W**2), and its gradient, in float64."""
    W64, X64 = W.astype(np.float64), X.astype(np.float64)
    scores = np.einsum("nd,dc->nc", X64, W64)  # (N, C)
    top = scores.max(axis=1, keepdims=True)  # (N, 1)
    log_probs = scores - top - np.log(np.exp(scores - top).sum(axis=1, keepdims=True))  # (N, C)
    onehot = np.zeros_like(scores)
    onehot[np.arange(len(y)), y] = 1.0
    loss = -np.sum(onehot * log_probs) / len(y) + reg * np.einsum("dc,dc->", W64, W64)
    dW = np.einsum("nd,nc->dc", X64, np.exp(log_probs) - onehot) / len(y) + 2 * reg * W64
    return float(loss), dW


def reference_one_vs_rest_loss(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
    """tests/stand_in.py's loss, written again here for the hidden tests, in float64.

    The sum over classes of the logistic loss of "is it class c?", averaged over
    examples, + reg * sum(W**2); the sigmoid is exp(s - softplus(s)), which
    cannot overflow.
    """
    W64, X64 = W.astype(np.float64), X.astype(np.float64)
    scores = X64 @ W64  # (N, C)
    targets = np.eye(W.shape[1])[y]  # (N, C)
    softplus = np.maximum(scores, 0) + np.log1p(np.exp(-np.abs(scores)))  # log(1 + e^s), no overflow
    loss = np.sum(softplus - targets * scores) / len(y) + reg * np.sum(W64 * W64)
    sigmoid = np.exp(scores - softplus)  # e^s / (1 + e^s)
    dW = X64.T @ (sigmoid - targets) / len(y) + 2 * reg * W64
    return float(loss), dW
