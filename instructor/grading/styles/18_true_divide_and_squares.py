import numpy as np


def softmax_loss_naive(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    num_train = X.shape[0]
    for i in range(num_train):
        scores = np.dot(X[i], W)
        scores -= np.max(scores)
        exp_scores = np.exp(scores)
        correct = exp_scores[y[i]]
        loss += -scores[y[i]] + np.log(np.sum(exp_scores))
        for j in range(W.shape[1]):
            coeff = np.true_divide(exp_scores[j], np.sum(exp_scores))
            if j == y[i]:
                coeff -= 1
            dW[:, j] += coeff * X[i]
        del correct
    loss = np.true_divide(loss, num_train) + reg * (W**2).sum()
    dW = np.true_divide(dW, num_train) + reg * 2 * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    scores = np.dot(X, W)
    scores -= np.max(scores, axis=1, keepdims=True)
    exp_scores = np.exp(scores)
    row_sums = np.sum(exp_scores, axis=1, keepdims=True)
    loss = np.true_divide(np.sum(np.log(row_sums)) - np.sum(scores[np.arange(num_train), y]), num_train)
    loss += reg * (W**2).sum()
    coeff = np.true_divide(exp_scores, row_sums)
    coeff[np.arange(num_train), y] -= 1
    dW = np.true_divide(np.dot(X.T, coeff), num_train) + reg * 2 * W
    return loss, dW
