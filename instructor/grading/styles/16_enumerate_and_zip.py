import numpy as np


def softmax_loss_naive(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    for x, label in zip(X, y):
        scores = x @ W
        scores = scores - scores.max()
        probs = np.exp(scores)
        probs = probs / probs.sum()
        loss += np.log(np.exp(scores).sum()) - scores[label]
        for c, p in enumerate(probs):
            dW[:, c] += (p - (c == label)) * x
    loss = loss / len(X) + reg * np.sum(W * W)
    dW = dW / len(X) + 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    rows = np.arange(len(X))
    scores = X @ W
    scores = scores - scores.max(axis=1, keepdims=True)
    exps = np.exp(scores)
    sums = exps.sum(axis=1)
    loss = np.log(sums).mean() - scores[rows, y].mean() + reg * np.sum(W * W)
    probs = exps / sums[:, None]
    probs[rows, y] -= 1
    return loss, X.T @ probs / len(X) + 2 * reg * W
