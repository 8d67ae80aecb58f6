r"""Name the mistake in a softmax loss: `diagnose_loss(loss_fn)` returns findings.

    from diagnose import diagnose_loss
    for finding in diagnose_loss(softmax_loss_vectorized):
        print(finding)  # [reg-missing-in-gradient] on a probe with X = 0 and reg = 0.5, reg should add ...

`loss_fn` has the signature of `softmax_loss_naive` / `softmax_loss_vectorized`:
W (D, C), X (N, D), y (N,), reg -> (loss, dW). An empty list means nothing
wrong was found. Each `Finding` has a stable `code` and a `message` with the
numbers that show the mistake and where to look. diagnose/codes.py lists
every code with what it means (README.md shows the same tables).

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
- Extreme scores: (800, 790), where a loss that does not shift overflows;
  (0, -800), where log(exp(s_y) / sum) of a label 800 below the best is
  log(0); and the rows (800, 0) and (-800, 0) in one call, right only when
  each row is shifted by its own max, not the whole matrix's.
- Copies of the inputs (mutation), float32 inputs (dtype), and, when dW is
  wrong, finite differences of your own loss.

`diagnose_training(classifier_class)` does the same for the SGD loop of
`LinearClassifier.train`: it trains a subclass whose loss returns a fixed
gradient on rows that carry their own index, for a few steps, and reads the
batches it was given and the W it ends with (codes: TRAINING_CODES).

For the notebook, `report_loss(loss_fn)` and `report_training(classifier_class)`
wrap the findings in a `Report` that prints, or displays in Jupyter, as
PASS or FAIL with the findings.

A specific code is given only when the numbers fit it exactly; anything else
is `loss-wrong`, `gradient-wrong` or `training-wrong`. With reg = 0 no reg
mistake can show, so none is claimed. A loss is called 8 times on tiny arrays
(20 when dW is wrong), a training loop 3 times for 5 steps: milliseconds. A
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
