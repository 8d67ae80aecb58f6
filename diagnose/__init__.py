r"""Name the mistake in a softmax loss: `diagnose_loss(loss_fn)` returns findings.

    from diagnose import diagnose_loss
    for finding in diagnose_loss(softmax_loss_vectorized):
        print(finding)  # [reg-missing-in-gradient] with X = 0, reg = 0.5 should add 2 * reg * W to dW, ...

`loss_fn` has the signature of `softmax_loss_naive` / `softmax_loss_vectorized`:
W (D, C), X (N, D), y (N,), reg -> (loss, dW). An empty list means nothing
wrong was found. Each `Finding` has a stable `code` and a `message` with the
numbers that show the mistake and where to look:

| code | what the numbers show |
| --- | --- |
| `not-implemented` | the function raised NotImplementedError: its region is still a stub |
| `loss-not-averaged` | the loss is N times the mean cross-entropy: divide by N |
| `gradient-not-averaged` | dW is N times too large: divide the gradient by N |
| `reg-missing-in-loss` | the loss does not grow by reg * sum(W**2) |
| `reg-missing-in-gradient` | dW does not carry 2 * reg * W |
| `reg-half-convention` | the penalty is 0.5 * reg * sum(W**2) and/or its gradient reg * W |
| `gradient-sign-flipped` | dW is minus the gradient: dscores is probs - onehot(y) |
| `gradient-wrong-target` | the -1 of dscores lands on a class other than the label |
| `overflow-without-shift` | scores of 800 give inf or nan: shift each row by its max |
| `underflow-log-of-ratio` | a label far below the best score gives an infinite loss: use log-sum-exp |
| `mutates-input` | W, X or y changed during the call |
| `float32-promoted` | float32 W and X gave a dW of another dtype |
| `gradient-scaled` | dW is a constant times the gradient, the constant neither N nor -1 |
| `loss-wrong` | the loss is wrong (or the call failed) in a way no code above explains |
| `gradient-wrong` | dW is wrong in a way no code above explains |

How it knows, without a reference solution (there is none in this package,
and nothing here computes a softmax): every probe is a case whose exact
answer follows from a property of the loss, or is stored as literal numbers
(diagnose/probes.py).

- W = 0: every class has probability 1/C, so the loss is exactly log C for
  any X, and with X = I (one example per feature) dW shows dscores / N
  entry for entry: (1/C - onehot(y)) / N.
- X = 0: every score is 0, so the data part is again log C and its
  gradient 0; what reg adds is exactly reg * sum(W**2) and 2 * reg * W.
- A fixed 2-example case whose loss and dW are stored below as numbers.
- Extreme scores: (800, 0) and (0, -800) have the same exact answer
  (softmax is unchanged by adding a constant to a row of scores); a loss
  that does not shift overflows on the first, log(exp(s_y) / sum) on the second.
- Copies of the inputs (mutation), float32 inputs (dtype), and, when dW is
  wrong, finite differences of your own loss.

`diagnose_training(classifier_class)` does the same for the SGD loop of
`LinearClassifier.train`: it trains a subclass whose loss returns a fixed
gradient on rows that carry their own index, for a few steps, and reads the
batches it was given and the W it ends with. Its codes (and `not-implemented`,
`float32-promoted`):

| code | what the numbers show |
| --- | --- |
| `sgd-no-update` | W did not change |
| `sgd-wrong-sign` | W moved up the gradient: W -= learning_rate * dW |
| `sgd-step-size` | W moved along the gradient by another step than learning_rate * dW |
| `sgd-batch-size` | a batch did not have batch_size rows |
| `sgd-labels-mismatched` | y_batch are not the labels of the rows in X_batch |
| `sgd-same-batch` | every step used the same rows |
| `sgd-without-replacement` | no batch ever held a row twice: sample with replacement |
| `sgd-not-seeded` | the same seed gave other batches: use rng, not np.random |
| `training-wrong` | training went wrong (or failed) in a way no code above explains |

For the notebook, `report_loss(loss_fn)` and `report_training(classifier_class)`
wrap the findings in a `Report` that prints, or displays in Jupyter, as
PASS or FAIL with the findings.

A specific code is given only when the numbers fit it exactly; anything else
is `loss-wrong`, `gradient-wrong` or `training-wrong`. With reg = 0 no reg
mistake can show, so none is claimed. A loss is called 7 times on tiny arrays
(19 when dW is wrong), a training loop 3 times for 5 steps: milliseconds. A
loss is called only with NumPy arrays and Python numbers, and any exception
it raises becomes a finding.
"""

from __future__ import annotations

from collections.abc import Callable

from diagnose.codes import CODES, TRAINING_CODES
from diagnose.findings import Finding, Report
from diagnose.loss import diagnose_loss
from diagnose.probes import FIXED_DW, FIXED_LOSS, FIXED_W, FIXED_X, FIXED_Y
from diagnose.training import diagnose_training

__all__ = [
    "CODES",
    "FIXED_DW",
    "FIXED_LOSS",
    "FIXED_W",
    "FIXED_X",
    "FIXED_Y",
    "TRAINING_CODES",
    "Finding",
    "Report",
    "diagnose_loss",
    "diagnose_training",
    "report_loss",
    "report_training",
]


def report_loss(loss_fn: Callable, name: str | None = None, **options) -> Report:
    """diagnose_loss(loss_fn, **options) as a Report named `name` (default: the function's name)."""
    return Report(name or getattr(loss_fn, "__name__", "loss"), diagnose_loss(loss_fn, **options))


def report_training(classifier_class: type, name: str | None = None) -> Report:
    """diagnose_training(classifier_class) as a Report (default name: "<class>.train")."""
    return Report(name or f"{classifier_class.__name__}.train", diagnose_training(classifier_class))
