import numpy as np


def softmax_loss_naive(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    N = X.shape[0]
    for i in range(N):
        x = X[i]
        scores = W.T.dot(x)  # (C,)
        scores = scores - np.max(scores)
        norm = np.sum(np.exp(scores))
        loss += np.log(norm) - scores[y[i]]
        grad = np.exp(scores) / norm
        grad[y[i]] -= 1
        dW += x[:, None] * grad[None, :]
    loss = loss / N + reg * np.sum(W * W)
    dW = dW / N + 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    scores = (W.T @ X.T).T  # (N, C), the same numbers as X @ W
    scores = scores - np.max(scores, axis=1, keepdims=True)
    norm = np.sum(np.exp(scores), axis=1)
    loss = np.mean(np.log(norm) - scores[np.arange(N), y]) + reg * np.sum(W * W)
    grad = np.exp(scores) / norm[:, None]
    grad[np.arange(N), y] -= 1
    dW = (grad.T @ X).T / N + 2 * reg * W
    return loss, dW
