import numpy as np


def softmax_loss_naive(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    num_train = X.shape[0]
    for i in range(num_train):
        f = X[i].dot(W)
        f = f.copy()
        f -= np.max(f)  # a copy of the row: the caller's arrays stay as they were
        p = np.exp(f)
        p /= np.sum(p)
        loss -= f[y[i]] - np.log(np.sum(np.exp(f)))
        p[y[i]] -= 1
        dW += np.outer(X[i], p)
    loss /= num_train
    loss += reg * np.sum(W * W)
    dW /= num_train
    dW += reg * 2 * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    f = X.dot(W)
    f -= f.max(axis=1).reshape(-1, 1)
    exp_f = np.exp(f)
    sums = exp_f.sum(axis=1)
    loss = np.sum(np.log(sums) - f[np.arange(num_train), y]) / num_train
    loss += reg * np.sum(W * W)
    p = exp_f / sums.reshape(-1, 1)
    p[np.arange(num_train), y] -= 1
    dW = X.T.dot(p) / num_train
    dW += reg * 2 * W
    return loss, dW
