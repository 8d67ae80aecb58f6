import numpy as np


def softmax_loss_naive(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    for i in range(X.shape[0]):
        scores = np.matmul(X[i], W)
        m = np.max(scores)
        log_sum = m + np.log(np.sum(np.exp(scores - m)))
        loss += log_sum - scores[y[i]]
        for j in range(W.shape[1]):
            dW[:, j] += (np.exp(scores[j] - log_sum) - (j == y[i])) * X[i]
    loss = loss / X.shape[0] + reg * np.sum(np.square(W))
    dW = dW / X.shape[0] + 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    scores = np.matmul(X, W)
    m = np.max(scores, axis=1, keepdims=True)
    log_sum = m + np.log(np.sum(np.exp(scores - m), axis=1, keepdims=True))  # (N, 1)
    correct = np.take_along_axis(scores, y[:, None].astype(np.intp), axis=1)  # (N, 1)
    loss = np.mean(log_sum - correct) + reg * np.sum(np.square(W))
    dscores = np.exp(scores - log_sum)
    np.put_along_axis(
        dscores, y[:, None].astype(np.intp), np.take_along_axis(dscores, y[:, None].astype(np.intp), axis=1) - 1, axis=1
    )
    dW = np.matmul(X.T, dscores) / N + 2 * reg * W
    return loss, dW
