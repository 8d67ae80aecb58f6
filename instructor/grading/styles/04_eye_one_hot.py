import numpy as np


def softmax_loss_naive(W, X, y, reg):
    N, C = X.shape[0], W.shape[1]
    loss = 0.0
    dW = np.zeros_like(W)
    onehot = np.eye(C, dtype=W.dtype)
    for n in range(N):
        z = X[n] @ W
        z = z - np.max(z)
        lse = np.log(np.sum(np.exp(z)))
        loss += lse - np.dot(onehot[y[n]], z)
        dW += np.outer(X[n], np.exp(z - lse) - onehot[y[n]])
    return loss / N + reg * np.sum(W * W), dW / N + 2 * reg * W


def softmax_loss_vectorized(W, X, y, reg):
    N, C = X.shape[0], W.shape[1]
    Y = np.eye(C, dtype=W.dtype)[y]  # (N, C) one-hot, in W's dtype
    Z = X @ W
    Z = Z - Z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(Z).sum(axis=1, keepdims=True))
    loss = -np.sum(Y * (Z - lse)) / N + reg * np.sum(W * W)
    P = np.exp(Z - lse)
    dW = X.T @ (P - Y) / N + 2 * reg * W
    return loss, dW
