import numpy as np


def softmax_loss_naive(W, X, y, reg):
    num_train, num_classes = X.shape[0], W.shape[1]
    dW = np.zeros_like(W)
    total = 0.0
    for i in range(num_train):
        f = X[i] @ W
        f_max = f.max()
        log_sum = f_max + np.log(np.exp(f - f_max).sum())
        total += log_sum - f[y[i]]
        for j in range(num_classes):
            dW[:, j] += np.exp(f[j] - log_sum) * X[i]
        dW[:, y[i]] -= X[i]
    loss = float(total / num_train + reg * np.sum(W * W))
    dW = dW / num_train + 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    f = X @ W
    f_max = f.max(axis=1, keepdims=True)
    log_sum = f_max + np.log(np.exp(f - f_max).sum(axis=1, keepdims=True))
    loss = float(np.mean(log_sum[:, 0] - f[np.arange(num_train), y]) + reg * np.sum(W * W))
    dscores = np.exp(f - log_sum)
    dscores[np.arange(num_train), y] -= 1
    dW = X.T @ dscores / num_train + 2 * reg * W
    return loss, dW
