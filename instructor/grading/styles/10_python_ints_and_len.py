import numpy as np


def softmax_loss_naive(W, X, y, reg):
    C = int(W.shape[1])
    N = len(y)
    loss = 0.0
    dW = np.zeros_like(W)
    for i in range(len(y)):
        row = [float(v) for v in X[i] @ W]
        top = max(row)
        exps = [np.exp(v - top) for v in row]
        total = sum(exps)
        loss += np.log(total) - (row[y[i]] - top)
        for c in range(C):
            dW[:, c] += (exps[c] / total - (1.0 if c == y[i] else 0.0)) * X[i]
    loss = loss / N + reg * np.sum(W * W)
    dW = dW / N + 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    N = len(y)
    S = X @ W
    S = S - S.max(axis=1, keepdims=True)
    logZ = np.log(np.exp(S).sum(axis=1))
    loss = (logZ - S[np.arange(N), y]).sum() / N + reg * np.sum(W * W)
    G = np.exp(S - logZ[:, None])
    G[np.arange(N), y] -= 1
    return loss, X.T @ G / N + 2 * reg * W
