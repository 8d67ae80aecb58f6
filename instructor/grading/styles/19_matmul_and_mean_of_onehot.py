import numpy as np


def softmax_loss_naive(W, X, y, reg):
    N, D = X.shape
    C = W.shape[1]
    loss = 0.0
    dW = np.zeros((D, C), dtype=W.dtype)
    for n in range(N):
        z = np.matmul(X[n], W)
        z = z - np.max(z)
        denominator = np.exp(z).sum()
        for c in range(C):
            q = np.exp(z[c]) / denominator
            if c == y[n]:
                loss += np.log(denominator) - z[c]
                dW[:, c] += X[n] * (q - 1)
            else:
                dW[:, c] += X[n] * q
    loss /= N
    dW /= N
    loss += reg * np.sum(W * W)
    dW += 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    C = W.shape[1]
    z = np.matmul(X, W)
    z = z - np.max(z, axis=1, keepdims=True)
    log_q = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    onehot = (np.arange(C)[None, :] == y[:, None]).astype(W.dtype)  # (N, C)
    loss = -np.sum(onehot * log_q) / N + reg * np.sum(W * W)
    dW = np.matmul(X.T, np.exp(log_q) - onehot) / N + 2 * reg * W
    return loss, dW
