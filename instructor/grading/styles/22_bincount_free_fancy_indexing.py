import numpy as np


def softmax_loss_naive(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    N = X.shape[0]
    for i in range(N):
        scores = X[i] @ W
        scores = scores - scores[np.argmax(scores)]
        log_probs = scores - np.log(np.exp(scores).sum())
        loss -= log_probs[y[i]]
        probs = np.exp(log_probs)
        dW += X[i][:, np.newaxis] * (probs - (np.arange(W.shape[1]) == y[i]))[np.newaxis, :]
    loss /= N
    dW /= N
    loss += reg * np.sum(W * W)
    dW += 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    N, C = X.shape[0], W.shape[1]
    scores = X @ W
    scores = scores - scores[np.arange(N), np.argmax(scores, axis=1)][:, None]
    log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(N), y].sum() / N + reg * np.sum(W * W)
    dscores = np.exp(log_probs) - (np.arange(C)[None, :] == y[:, None])
    dW = X.T @ dscores / N + 2 * reg * W
    return loss, dW
