"""A linear classifier trained with minibatch stochastic gradient descent.

Shapes: N examples, D features, C classes.
- X: array of shape (N, D), one example per row (bias column included).
- y: array of shape (N,), integer labels in [0, C).
- W: array of shape (D, C), created on the first call to train.

`LinearClassifier` holds W and the SGD loop; a subclass supplies the loss.
`Softmax` is the one you train in assignment.ipynb.
"""

from __future__ import annotations

import os
import zipfile

import numpy as np

from kit.progress import progress
from kit.validation import check_count, check_data, check_labels, check_number, check_weights

# Small initial weights keep the first scores within a few units on centred
# CIFAR-10 pixels, so training starts stable. (The notebook's log(C) sanity
# check of the loss uses its own, smaller scale.)
WEIGHT_INIT_SCALE = 0.001


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite during training.

    `loss_history` holds the finite losses recorded before it happened.
    """

    def __init__(self, message: str, loss_history: list[float]):
        super().__init__(message)
        self.loss_history = loss_history


class LinearClassifier:
    """Base class: weights W of shape (D, C) and minibatch SGD."""

    def __init__(self) -> None:
        self.W: np.ndarray | None = None

    def train(
        self,
        X: np.ndarray,
        y: np.ndarray,
        learning_rate: float = 1e-3,
        reg: float = 1e-5,
        num_iters: int = 100,
        batch_size: int = 200,
        verbose: bool = False,
        seed: int | None = None,
    ) -> list[float]:
        """Train this classifier with minibatch stochastic gradient descent.

        Inputs:
        - X: array of shape (N, D) containing training data.
        - y: array of shape (N,) containing training labels; y[i] = c
          means that X[i] has label 0 <= c < C for C classes.
        - learning_rate: (float) step size of each update.
        - reg: (float) regularization strength.
        - num_iters: (int) number of steps to take.
        - batch_size: (int) number of training examples in each step; they
          are sampled with replacement.
        - verbose: (bool) if true, show the progress and the loss while training,
          ending with one line: `SGD: 1500/1500 steps, loss 302 -> 2.1, 11 s`.
        - seed: (int or None) seeds both the initial W and the batches, so a
          run can be repeated exactly.

        Returns the loss at each iteration, a list of num_iters floats.
        """
        X = check_data(X)
        num_train, dim = X.shape
        num_classes = None if self.W is None else self.W.shape[1]
        y = check_labels(y, num_train, num_classes)
        learning_rate = check_number(learning_rate, "learning_rate", positive=True)
        reg = check_number(reg, "reg")
        num_iters = check_count(num_iters, "num_iters")
        batch_size = check_count(batch_size, "batch_size")
        # NaN or inf in X is caught below, in the loss of the first batch that holds
        # it: checking all of X here would read it once more per call (1.2 GB).

        rng = np.random.default_rng(seed)
        if self.W is None:
            # Lazy initialization: D and C come from the data. Float data
            # keeps its precision (float32 stays float32); integers get float64.
            dtype = X.dtype if X.dtype.kind == "f" else np.float64
            num_classes = int(y.max()) + 1
            self.W = WEIGHT_INIT_SCALE * rng.standard_normal((dim, num_classes)).astype(dtype)
        else:
            check_weights(self.W, dim)

        loss_history: list[float] = []
        # verbose: a live bar that ends as one line, "SGD: 1500/1500 steps, loss 302 -> 2.1, 11 s".
        steps = progress(range(num_iters), desc="SGD", unit="steps", disable=not verbose)
        for it in steps:
            X_batch = None
            y_batch = None

            ###################################################################
            # TODO: Sample batch_size rows of X and the matching labels, with #
            # replacement, using rng (not np.random: seed must make runs      #
            # repeatable). X_batch is (batch_size, D), y_batch (batch_size,). #
            # Hint: rng.integers.                                             #
            ###################################################################
            ### BEGIN SOLUTION
            batch = rng.integers(0, num_train, size=batch_size)  # (B,)
            X_batch = X[batch]  # (B, D), one gather: the only copy per step
            y_batch = y[batch]  # (B,)
            ### END SOLUTION

            loss, grad = self.loss(X_batch, y_batch, reg)
            if not np.isfinite(loss):
                steps.close()
                if not np.all(np.isfinite(X_batch)):
                    raise ValueError(
                        f"X: expected finite values, got NaN or inf in the training data (in the batch of "
                        f"iteration {it}); np.isfinite(X).all(axis=1) says which rows are fine"
                    )
                raise TrainingDivergedError(
                    f"the loss became {loss} at iteration {it} with learning_rate="
                    f"{learning_rate:g}: the updates are too large. Try a smaller "
                    f"learning rate, e.g. {learning_rate / 10:g}.",
                    loss_history,
                )
            loss_history.append(loss)
            steps.record_loss(loss)

            ###################################################################
            # TODO: Update the weights with one gradient descent step.        #
            ###################################################################
            ### BEGIN SOLUTION
            self.W -= learning_rate * grad  # in place: W keeps its dtype
            ### END SOLUTION

        return loss_history

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predict a label for each row of X.

        Inputs:
        - X: array of shape (N, D) containing data.

        Returns:
        - y_pred: integer array of shape (N,); y_pred[i] is the predicted
          class of X[i], the class with the highest score.
        """
        if self.W is None:
            raise RuntimeError("this classifier has no weights yet: call train() or load() first")
        X = check_data(X)
        check_weights(self.W, X.shape[1])
        y_pred = np.zeros(X.shape[0], dtype=np.int64)

        ###################################################################
        # TODO: Store the predicted labels in y_pred: integer class       #
        # indices, not scores or probabilities.                           #
        ###################################################################
        ### BEGIN SOLUTION
        scores = X @ self.W  # (N, C)
        y_pred = np.argmax(scores, axis=1)  # (N,)
        ### END SOLUTION

        return y_pred

    def loss(self, X_batch: np.ndarray, y_batch: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
        """Loss and gradient on a minibatch; subclasses override this.

        Inputs:
        - X_batch: array of shape (B, D) containing a minibatch of B examples.
        - y_batch: array of shape (B,) containing their labels.
        - reg: (float) regularization strength.

        Returns a tuple of the loss (float) and the gradient with respect to
        self.W, an array of the same shape as W.
        """
        raise NotImplementedError(f"{type(self).__name__} must define loss(); use Softmax")

    def save(self, path: str | os.PathLike) -> None:
        """Save the weights to an .npz file (no pickle inside)."""
        if self.W is None:
            raise RuntimeError("nothing to save: this classifier has not been trained")
        np.savez(path, W=self.W, classifier=np.array(type(self).__name__))

    def load(self, path: str | os.PathLike) -> LinearClassifier:
        """Load the weights saved by `save(path)` into this classifier; return it.

        The file must hold the same kind of classifier (a Softmax's weights
        load into a Softmax). `Softmax.from_file(path)` makes a new one instead.
        """
        self.W = type(self)._read_weights(path)
        return self

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> LinearClassifier:
        """A new classifier holding the weights saved by `save(path)`."""
        return cls().load(path)

    @classmethod
    def _read_weights(cls, path: str | os.PathLike) -> np.ndarray:
        """W of shape (D, C) from a file written by `save`; ValueError if it is not one."""
        try:
            with np.load(path, allow_pickle=False) as archive:
                W = archive["W"]
                saved_as = str(archive["classifier"]) if "classifier" in archive else cls.__name__
        except FileNotFoundError:
            raise
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
            raise ValueError(f"{path}: not a classifier saved by save() ({err})") from err
        if W.ndim != 2 or W.dtype.kind != "f":
            raise ValueError(f"{path}: expected W as a 2-D float array, got shape {W.shape}, dtype {W.dtype}")
        if saved_as != cls.__name__:
            raise ValueError(f"{path}: holds a {saved_as} classifier, not a {cls.__name__}")
        return W


class Softmax(LinearClassifier):
    """A linear classifier that uses the softmax + cross-entropy loss."""

    def loss(self, X_batch: np.ndarray, y_batch: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
        # Imported here, not at the top of the file: a mistake that stops
        # classifiers/softmax.py from loading then stops training only, and
        # predict, save and load still work.
        from classifiers.softmax import softmax_loss_vectorized

        return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)
