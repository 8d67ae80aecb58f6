import numpy as np


def softmax_loss_naive(W, X, y, reg):
    num_train = X.shape[0]
    loss = 0.0
    dW = np.zeros_like(W)
    for i in range(num_train):
        s = X[i].dot(W)
        s -= np.amax(s)
        exp_s = np.exp(s)
        p = exp_s / np.sum(exp_s)
        loss += -s[y[i]] + np.log(np.sum(exp_s))
        for j in range(W.shape[1]):
            if j == y[i]:
                dW[:, j] -= (1 - p[j]) * X[i]
            else:
                dW[:, j] += p[j] * X[i]
    loss = loss / num_train + reg * np.linalg.norm(W) ** 2
    dW = dW / num_train + reg * 2 * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    s = X.dot(W)
    s -= np.amax(s, axis=1, keepdims=True)
    exp_s = np.exp(s)
    sum_s = np.sum(exp_s, axis=1, keepdims=True)
    loss = np.sum(np.log(sum_s).ravel() - s[np.arange(num_train), y]) / num_train
    loss += reg * np.linalg.norm(W) ** 2
    p = exp_s / sum_s
    p[np.arange(num_train), y] -= 1
    dW = X.T.dot(p) / num_train + reg * 2 * W
    return loss, dW
