import numpy as np


def softmax_loss_naive(W, X, y, reg):
    num_train = X.shape[0]
    num_classes = W.shape[1]
    loss = 0.0
    dW = np.zeros_like(W)
    for i in range(num_train):
        scores = np.zeros(num_classes, dtype=W.dtype)
        for j in range(num_classes):
            scores[j] = X[i].dot(W[:, j])
        biggest = np.max(scores)
        total = 0.0
        for j in range(num_classes):
            total += np.exp(scores[j] - biggest)
        log_total = np.log(total) + biggest
        loss += log_total - scores[y[i]]
        for j in range(num_classes):
            dW[:, j] += np.exp(scores[j] - log_total) * X[i]
        dW[:, y[i]] -= X[i]
    loss /= num_train
    loss += reg * np.sum(W * W)
    dW /= num_train
    dW += 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    scores = X.dot(W)
    biggest = np.max(scores, axis=1)
    log_total = np.log(np.sum(np.exp(scores - biggest[:, np.newaxis]), axis=1)) + biggest
    loss = np.sum(log_total - scores[np.arange(num_train), y]) / num_train + reg * np.sum(W * W)
    dscores = np.exp(scores - log_total[:, np.newaxis])
    dscores[np.arange(num_train), y] -= 1
    dW = X.T.dot(dscores) / num_train + 2 * reg * W
    return loss, dW
