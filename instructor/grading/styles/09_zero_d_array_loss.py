import numpy as np


def softmax_loss_naive(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    num_train = X.shape[0]
    for i in range(num_train):
        scores = X[i].dot(W)
        scores = scores - scores.max()
        probs = np.exp(scores) / np.exp(scores).sum()
        loss += np.log(np.exp(scores).sum()) - scores[y[i]]
        for j in range(W.shape[1]):
            dW[:, j] += (probs[j] - (j == y[i])) * X[i]
    loss = np.array(loss / num_train + reg * np.sum(W * W))  # a 0-d array: still one number
    dW = dW / num_train + 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    scores = X.dot(W)
    scores = scores - scores.max(axis=1, keepdims=True)
    sums = np.exp(scores).sum(axis=1)
    loss = np.array(np.mean(np.log(sums) - scores[np.arange(num_train), y]) + reg * np.sum(W * W))
    probs = np.exp(scores) / sums[:, None]
    probs[np.arange(num_train), y] -= 1
    dW = X.T.dot(probs) / num_train + 2 * reg * W
    return loss, dW
