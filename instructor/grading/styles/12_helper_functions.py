import numpy as np


def _log_softmax(scores):
    """Row-wise log-softmax of scores (N, C) or (C,), shifted by each row's max."""
    shifted = scores - np.max(scores, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def _l2(W, reg):
    return reg * np.sum(W * W), 2 * reg * W


def softmax_loss_naive(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    for i in range(X.shape[0]):
        log_p = _log_softmax(X[i] @ W)
        loss -= log_p[y[i]]
        for j in range(W.shape[1]):
            dW[:, j] += (np.exp(log_p[j]) - (j == y[i])) * X[i]
    penalty, penalty_grad = _l2(W, reg)
    return loss / X.shape[0] + penalty, dW / X.shape[0] + penalty_grad


def softmax_loss_vectorized(W, X, y, reg):
    n = X.shape[0]
    log_p = _log_softmax(X @ W)
    loss = -np.mean(log_p[np.arange(n), y])
    dscores = np.exp(log_p)
    dscores[np.arange(n), y] -= 1
    penalty, penalty_grad = _l2(W, reg)
    return loss + penalty, X.T @ dscores / n + penalty_grad
