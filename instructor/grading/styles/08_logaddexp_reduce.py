import numpy as np


def softmax_loss_naive(W, X, y, reg):
    loss, dW = 0.0, np.zeros_like(W)
    for i in range(X.shape[0]):
        scores = X[i] @ W
        log_norm = np.logaddexp.reduce(scores)  # log(sum(exp(scores))), computed stably
        loss -= scores[y[i]] - log_norm
        p = np.exp(scores - log_norm)
        p[y[i]] -= 1
        dW += np.outer(X[i], p)
    return loss / X.shape[0] + reg * (W * W).sum(), dW / X.shape[0] + 2 * reg * W


def softmax_loss_vectorized(W, X, y, reg):
    n = X.shape[0]
    scores = X @ W
    log_norm = np.logaddexp.reduce(scores, axis=1)  # (N,)
    loss = np.mean(log_norm - scores[np.arange(n), y]) + reg * (W * W).sum()
    p = np.exp(scores - log_norm[:, np.newaxis])
    p[np.arange(n), y] -= 1
    return loss, X.T @ p / n + 2 * reg * W
