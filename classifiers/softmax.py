r"""Softmax (multinomial logistic regression) loss and its gradient.

Shapes used throughout, the same letters as the notebook and the tests:
    N examples, D features (3073 for CIFAR-10 with the bias column), C classes.

- X:   array of shape (N, D); each row is one example.
- y:   array of shape (N,); y[i] = c means X[i] has label c, 0 <= c < C.
- W:   array of shape (D, C); column j holds the weights of class j.
- reg: regularization strength, a float >= 0.

The loss is the mean cross-entropy plus L2 regularization,

    loss = (1/N) * sum_i -log(softmax(X[i] @ W)[y[i]])  +  reg * sum(W**2)

so its gradient carries 2 * reg * W (not reg * W, as in the 0.5 * reg
convention some online answers use).

You write the same function twice: once with explicit loops, the way you
would derive it on paper, and once with no Python loop at all.
"""

import numpy as np

from kit.validation import check_loss_inputs


def softmax_loss_naive(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
    """Softmax loss and gradient, computed with explicit loops.

    Inputs:
    - W: array of shape (D, C) containing weights.
    - X: array of shape (N, D) containing a minibatch of data.
    - y: array of shape (N,) containing training labels; y[i] = c means
      that X[i] has label c, where 0 <= c < C.
    - reg: (float) regularization strength.

    Returns a tuple of:
    - loss: one number (a Python float or a NumPy scalar)
    - gradient with respect to weights W; an array of same shape and dtype as W
    """
    reg = check_loss_inputs(W, X, y, reg)  # clear errors; reg as a Python float
    loss = 0.0
    dW = np.zeros_like(W)

    ###########################################################################
    # TODO: Compute the softmax loss and its gradient using explicit loops:   #
    # one loop over the examples i, one over the classes j.                   #
    #                                                                         #
    # - Stability: subtract the row's largest score before exponentiating,    #
    #   and take the log of the probability as  s_y - log(sum_j exp(s_j)),    #
    #   never as log(exp(s_y) / sum): that is log(0) = -inf once s_y lies     #
    #   far below the largest score.                                          #
    # - Gradient of example i: dW[:, j] += (p_j - [j == y_i]) * X[i].         #
    # - Divide loss and gradient by N, then add reg * sum(W**2) to the loss   #
    #   and its gradient 2 * reg * W to dW.                                   #
    # Do not modify W, X or y.                                                #
    ###########################################################################
    ### BEGIN SOLUTION
    num_train = X.shape[0]
    num_classes = W.shape[1]
    for i in range(num_train):
        scores = X[i] @ W  # (C,)
        # Softmax is unchanged by adding a constant to every score, so shift
        # by the largest: every exponent is then <= 0 and exp cannot overflow.
        shifted = scores - np.max(scores)  # (C,)
        exp_scores = np.exp(shifted)  # (C,), largest entry is exactly 1
        sum_exp = 0.0
        for j in range(num_classes):
            sum_exp += exp_scores[j]
        # log p_y = s_y - log(sum_j exp(s_j)): the log-sum-exp form stays
        # finite even when p_y underflows to 0.
        loss += np.log(sum_exp) - shifted[y[i]]
        for j in range(num_classes):
            p_j = exp_scores[j] / sum_exp
            # dL_i/ds_j = p_j - 1[j == y_i]; chain rule through s_j = X[i] @ W[:, j].
            dW[:, j] += (p_j - (j == y[i])) * X[i]
    loss = loss / num_train + reg * np.sum(W * W)
    dW /= num_train
    dW += 2 * reg * W
    ### END SOLUTION

    return float(loss), dW


def softmax_loss_vectorized(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
    """Softmax loss and gradient, vectorized: no Python loop anywhere.

    Inputs and outputs are the same as softmax_loss_naive:
    - W: array of shape (D, C) containing weights.
    - X: array of shape (N, D) containing a minibatch of data.
    - y: array of shape (N,) containing training labels.
    - reg: (float) regularization strength.

    Returns a tuple of:
    - loss: one number (a Python float or a NumPy scalar)
    - gradient with respect to weights W; an array of same shape and dtype as W
    """
    reg = check_loss_inputs(W, X, y, reg)  # clear errors; reg as a Python float
    loss = 0.0
    dW = np.zeros_like(W)

    ###########################################################################
    # TODO: Compute the softmax loss and its gradient without any loop        #
    # (no for, no while, no comprehension).                                   #
    #                                                                         #
    # - Stability: shift each row of scores by its own maximum                #
    #   (keepdims=True) and use log-sum-exp for log p_y.                      #
    # - Index the correct-class entries with scores[np.arange(N), y].         #
    # - dscores = (probs - onehot(y)) / N; then dW = X.T @ dscores.           #
    # - Do not forget the regularization term in both loss and gradient.      #
    # Do not modify W, X or y, and keep float32 inputs in float32.            #
    ###########################################################################
    ### BEGIN SOLUTION
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X @ W  # (N, C)
    # Row-max shift (in place: scores is our own array): every exponent <= 0.
    scores -= np.max(scores, axis=1, keepdims=True)  # (N, C)
    probs = np.exp(scores)  # (N, C), unnormalized for now
    sum_exp = np.sum(probs, axis=1)  # (N,), each in [1, C]
    # Cross-entropy through log-sum-exp: -log p_y = log(sum_j e^{s_j}) - s_y.
    loss = np.mean(np.log(sum_exp) - scores[rows, y]) + reg * np.sum(W * W)

    # dL/dscores = (P - Y) / N, with Y the one-hot labels: the softmax
    # Jacobian diag(p) - p p^T applied to -1/p_y at the label collapses to it.
    probs /= sum_exp[:, None]  # (N, C), rows sum to 1
    dscores = probs  # (N, C), the same buffer, renamed: it now becomes dL/dscores
    dscores[rows, y] -= 1  # (N, C), now P - Y
    dscores /= num_train  # (N, C)
    # Chain rule through scores = X @ W; the penalty adds its own 2 * reg * W.
    dW = X.T @ dscores + 2 * reg * W  # (D, C)
    ### END SOLUTION

    return float(loss), dW
