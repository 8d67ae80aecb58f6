import numpy as np


def softmax_loss_naive(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    num_classes = W.shape[1]
    num_train = X.shape[0]
    for i in range(num_train):
        logits = X[i] @ W
        logits = logits - logits.max()
        target = np.zeros(num_classes, dtype=W.dtype)
        target[y[i]] = 1
        log_z = np.log(np.exp(logits).sum())
        loss += -np.sum(target * (logits - log_z))
        dW += np.outer(X[i], np.exp(logits - log_z) - target)
    loss = loss / num_train + reg * np.sum(W * W)
    dW = dW / num_train + 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    logits = X @ W
    logits = logits - logits.max(axis=1, keepdims=True)
    target = np.zeros_like(logits)
    target[np.arange(num_train), y] = 1
    log_z = np.log(np.exp(logits).sum(axis=1, keepdims=True))
    loss = -np.sum(target * (logits - log_z)) / num_train + reg * np.sum(W * W)
    dW = X.T @ (np.exp(logits - log_z) - target) / num_train + 2 * reg * W
    return loss, dW
