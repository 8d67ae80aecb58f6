import numpy as np


def softmax_loss_naive(W, X, y, reg):
    N, C = X.shape[0], W.shape[1]
    loss = 0.0
    dW = np.zeros_like(W)
    probs = np.zeros((N, C), dtype=W.dtype)
    for i in range(N):
        s = X[i] @ W
        s = s - s.max()
        log_norm = np.log(np.exp(s).sum())
        loss += log_norm - s[y[i]]
        probs[i] = np.exp(s - log_norm)
    for j in range(C):
        for i in range(N):
            dW[:, j] += X[i] * (probs[i, j] - (1.0 if y[i] == j else 0.0))
    loss = loss / N + reg * np.sum(W**2)
    dW = dW / N + 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    s = X @ W
    s = s - s.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(s).sum(axis=1, keepdims=True))
    log_probs = s - log_norm
    loss = -log_probs[np.arange(N), y].mean() + reg * np.sum(W**2)
    dscores = np.exp(log_probs)
    dscores[np.arange(N), y] -= 1
    dW = X.T @ dscores / N + 2 * reg * W
    return loss, dW
