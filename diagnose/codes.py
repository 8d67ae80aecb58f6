"""Every classic mistake the kit names, by code, with what shows it: the kit's one table of them.

README.md's tables and diagnose's docstring list the same codes in the same
order (tests/test_diagnose.py checks).
"""

# The softmax loss pair: diagnose_loss(loss_fn).
CODES: dict[str, str] = {
    "not-implemented": "the function raised NotImplementedError: its region is still a stub",
    "loss-not-averaged": "the loss is N times the mean cross-entropy: divide by N",
    "gradient-not-averaged": "dW is N times too large: divide the gradient by N",
    "reg-missing-in-loss": "the loss does not grow by `reg * sum(W**2)`",
    "reg-missing-in-gradient": "dW does not carry `2 * reg * W`",
    "reg-half-convention": "the penalty is `0.5 * reg * sum(W**2)` and its gradient `reg * W`: another convention",
    "reg-half-in-loss": "the loss adds `0.5 * reg * sum(W**2)`, while dW carries `2 * reg * W`",
    "reg-half-in-gradient": "dW carries `reg * W`, while the loss adds `reg * sum(W**2)`",
    "gradient-sign-flipped": "dW is minus the gradient: dscores is `probs - onehot(y)`",
    "gradient-wrong-target": "the -1 of dscores lands on a class other than the label",
    "overflow-without-shift": "scores of 800 give inf or nan, or an error: shift each row by its max",
    "shift-by-global-max": "rows whose best scores are far apart give inf or nan: shift each row by its own max",
    "underflow-log-of-ratio": "a label far below the best score gives an infinite loss: use log-sum-exp",
    "mutates-input": "W, X or y changed during the call",
    "dW-is-an-input": "dW is the array W (or X) itself: return a new array",
    "float32-promoted": "float32 W and X gave a dW of another dtype",
    "gradient-scaled": "dW is a constant times the gradient, the constant neither N nor -1",
    "loss-wrong": "the loss is wrong (or the call failed) in a way no code above explains",
    "gradient-wrong": "dW is wrong in a way no code above explains",
}

# The SGD loop: diagnose_training(classifier_class), which also gives
# not-implemented and float32-promoted.
TRAINING_CODES: dict[str, str] = {
    "not-implemented": CODES["not-implemented"],
    "sgd-no-update": "W did not change",
    "sgd-wrong-sign": "W moved up the gradient: `W -= learning_rate * dW`",
    "sgd-step-size": "W moved along the gradient by another step than `learning_rate * dW`",
    "sgd-batch-size": "a batch did not have `batch_size` rows",
    "sgd-labels-mismatched": "`y_batch` are not the labels of the rows in `X_batch`",
    "sgd-same-batch": "every step used the same rows",
    "sgd-without-replacement": "no batch ever held a row twice: sample with replacement",
    "sgd-not-seeded": "the same seed gave other batches: use `rng`, not `np.random`",
    "float32-promoted": "float32 X gave a W of another dtype",
    "training-wrong": "training went wrong (or failed) in a way no code above explains",
}

# What the graded tests name themselves, where no diagnosis can (right numbers, wrong way).
TEST_CODES: dict[str, str] = {
    "vectorized-has-loops": "`softmax_loss_vectorized` loops over examples or classes (for, while, a comprehension)",
    "predict-not-labels": "`predict` returns scores, probabilities or floats, not integer class labels",
    "does-not-import": (
        "a graded file does not import (a syntax or import error, or an import that ends the process): "
        "every test that needs it fails"
    ),
}
