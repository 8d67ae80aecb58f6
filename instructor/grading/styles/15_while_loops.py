import numpy as np


def softmax_loss_naive(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    i = 0
    while i < X.shape[0]:
        scores = X[i] @ W
        scores = scores - np.max(scores)
        total = np.sum(np.exp(scores))
        loss += np.log(total) - scores[y[i]]
        j = 0
        while j < W.shape[1]:
            indicator = 1.0 if j == y[i] else 0.0
            dW[:, j] += (np.exp(scores[j]) / total - indicator) * X[i]
            j += 1
        i += 1
    loss /= X.shape[0]
    dW /= X.shape[0]
    return loss + reg * np.sum(W * W), dW + 2 * reg * W


def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    idx = np.arange(N)
    scores = X @ W
    scores -= np.max(scores, axis=1)[:, np.newaxis]
    total = np.sum(np.exp(scores), axis=1)
    loss = np.sum(np.log(total) - scores[idx, y]) / N + reg * np.sum(W * W)
    dscores = np.exp(scores) / total[:, np.newaxis]
    dscores[idx, y] -= 1
    dscores /= N
    return loss, X.T @ dscores + 2 * reg * W
