import numpy as np


def softmax_loss_naive(W, X, y, reg):
    N = X.shape[0]
    C = W.shape[1]
    loss = 0.0
    dW = np.zeros_like(W)
    for i in range(N):
        scores = X[i] @ W
        scores = scores - np.max(scores)
        exp_scores = np.exp(scores)
        denom = np.sum(exp_scores)
        loss += -(scores[y[i]] - np.log(denom))
        for j in range(C):
            dW[:, j] += exp_scores[j] / denom * X[i]
        dW[:, y[i]] -= X[i]
    loss /= N
    dW /= N
    loss += reg * np.sum(W * W)
    dW += 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    scores = X @ W
    scores = scores - np.max(scores, axis=1, keepdims=True)
    exp_scores = np.exp(scores)
    denom = np.sum(exp_scores, axis=1, keepdims=True)
    loss = -np.sum(scores[np.arange(N), y] - np.log(denom[:, 0])) / N + reg * np.sum(W * W)
    dscores = exp_scores / denom
    np.add.at(dscores, (np.arange(N), y), -1)
    dW = X.T @ dscores / N + 2 * reg * W
    return loss, dW
