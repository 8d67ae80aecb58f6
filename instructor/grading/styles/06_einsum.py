import numpy as np


def softmax_loss_naive(W, X, y, reg):
    num_train, num_classes = X.shape[0], W.shape[1]
    loss = 0.0
    dW = np.zeros_like(W)
    for i in range(num_train):
        s = np.einsum("d,dc->c", X[i], W)
        s = s - s.max()
        e = np.exp(s)
        total = e.sum()
        loss += np.log(total) - s[y[i]]
        for c in range(num_classes):
            grad_c = e[c] / total - (1 if c == y[i] else 0)
            dW[:, c] += grad_c * X[i]
    loss = loss / num_train + reg * np.einsum("dc,dc->", W, W)
    dW = dW / num_train + 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    n = X.shape[0]
    s = np.einsum("nd,dc->nc", X, W)
    s = s - s.max(axis=1, keepdims=True)
    e = np.exp(s)
    total = e.sum(axis=1)
    loss = np.mean(np.log(total) - s[np.arange(n), y]) + reg * np.einsum("dc,dc->", W, W)
    g = e / total[:, None]
    g[np.arange(n), y] -= 1
    dW = np.einsum("nd,nc->dc", X, g) / n + 2 * reg * W
    return loss, dW
