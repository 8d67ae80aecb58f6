from builtins import range
import numpy as np
from random import shuffle
from past.builtins import xrange


def softmax_loss_naive(W, X, y, reg):
    """
    Softmax loss function, naive implementation (with loops)

    Inputs have dimension D, there are C classes, and we operate on minibatches
    of N examples.
    """
    # Initialize the loss and gradient to zero.
    loss = 0.0
    dW = np.zeros_like(W)

    num_classes = W.shape[1]
    num_train = X.shape[0]
    for i in xrange(num_train):
        scores = X[i].dot(W)
        scores -= np.max(scores)
        sum_exp = np.sum(np.exp(scores))
        loss += -scores[y[i]] + np.log(sum_exp)
        for j in xrange(num_classes):
            p = np.exp(scores[j]) / sum_exp
            if j == y[i]:
                dW[:, j] += (p - 1) * X[i]
            else:
                dW[:, j] += p * X[i]

    loss /= num_train
    dW /= num_train
    loss += reg * np.sum(W * W)
    dW += 2 * reg * W

    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    """
    Softmax loss function, vectorized version.

    Inputs and outputs are the same as softmax_loss_naive.
    """
    # Initialize the loss and gradient to zero.
    loss = 0.0
    dW = np.zeros_like(W)

    num_train = X.shape[0]
    scores = X.dot(W)
    scores -= np.max(scores, axis=1, keepdims=True)
    sum_exp = np.sum(np.exp(scores), axis=1, keepdims=True)
    probs = np.exp(scores) / sum_exp
    loss = np.sum(-scores[np.arange(num_train), y] + np.log(sum_exp[:, 0]))
    loss /= num_train
    loss += reg * np.sum(W * W)

    dscores = probs
    dscores[np.arange(num_train), y] -= 1
    dW = X.T.dot(dscores)
    dW /= num_train
    dW += 2 * reg * W

    return loss, dW
