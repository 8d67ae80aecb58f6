"""A stand-in classifier for the tests of the SGD loop: one-vs-rest logistic regression.

The tests of LinearClassifier.train and predict train this classifier
instead of Softmax. It inherits your train and predict and brings its own
loss, so those tests grade your SGD loop and predict alone: a mistake in
your softmax loss fails the softmax tests, not these as well.

Its loss is not the softmax's: C separate yes/no logistic regressions, one
per class, each asking "is this example of class c?". With scores
S = X_batch @ W (N, C) and one-hot targets T (N, C):

    loss = mean over examples of sum_c [log(1 + e^S_ic) - T_ic S_ic] + reg * sum(W**2)
    dW   = X_batch.T @ (sigmoid(S) - T) / N + 2 * reg * W
"""

from __future__ import annotations

import numpy as np

from classifiers.linear_classifier import LinearClassifier


class OneVsRestLogistic(LinearClassifier):
    """A linear classifier trained with C one-vs-rest logistic losses (see above)."""

    def loss(self, X_batch: np.ndarray, y_batch: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
        """Inputs: X_batch (N, D), y_batch (N,) labels in [0, C), reg. Returns (loss, dW (D, C))."""
        num_train = X_batch.shape[0]
        scores = X_batch @ self.W  # (N, C)
        targets = np.zeros_like(scores)
        targets[np.arange(num_train), y_batch] = 1  # (N, C) one-hot
        # log(1 + e^s) as logaddexp(0, s): no overflow for large scores
        loss = np.sum(np.logaddexp(0, scores) - targets * scores) / num_train + reg * np.sum(self.W * self.W)
        sigmoid = 0.5 * (1 + np.tanh(0.5 * scores))  # 1 / (1 + e^-s), without overflow
        dW = X_batch.T @ (sigmoid - targets) / num_train + 2 * reg * self.W  # (D, C)
        return float(loss), dW
