import numpy as np


def softmax_loss_naive(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    scores = np.empty(W.shape[1], dtype=W.dtype)
    for i in range(X.shape[0]):
        np.dot(X[i], W, out=scores)
        scores -= scores.max()
        correct = scores[y[i]]  # its shifted score, before the buffer holds probabilities
        np.exp(scores, out=scores)  # now the unnormalised probabilities
        total = scores.sum()
        loss += np.log(total) - correct
        scores /= total
        scores[y[i]] -= 1
        dW += np.outer(X[i], scores)
    loss = loss / X.shape[0] + reg * np.sum(W * W)
    dW /= X.shape[0]
    dW += 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    n = X.shape[0]
    rows = np.arange(n)
    scores = X @ W
    scores -= scores.max(axis=1, keepdims=True)
    log_total = np.log(np.exp(scores).sum(axis=1, keepdims=True))
    scores -= log_total  # now the log-probabilities
    loss = -scores[rows, y].mean() + reg * np.sum(W * W)
    np.exp(scores, out=scores)  # now the probabilities
    scores[rows, y] -= 1
    scores /= n
    dW = X.T @ scores
    dW += 2 * reg * W
    return loss, dW
