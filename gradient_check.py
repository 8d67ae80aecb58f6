r"""Numerical gradient checking: compare an analytic gradient with finite differences.

The centered difference

    df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h)

has error O(h^2), against O(h) for the one-sided version, so it is the one
to trust. Compare the two gradients with the relative error

    |a - n| / max(|a| + |n|, REL_ERROR_FLOOR)

which reads the same whether the gradient is 1e3 or 1e-3 (adapted from the
cs231n notes on gradient checks, which divide by max(|a|, |n|)). The scale,
from those notes, for a smooth function such as softmax:
below 1e-7 the gradient is right; up to about 1e-5 it is still right but
the finite difference itself is off (large inputs make f curve sharply
within one step h, and tiny entries divide rounding noise by a tiny sum);
between that and 1e-2 it is suspicious; above 1e-2 it is wrong.

Every function here perturbs x in place (so f sees the change through any
closure) and restores it exactly afterwards, even when f raises.

Typical use, from assignment.ipynb:

    f = lambda W: softmax_loss_naive(W, X_dev, y_dev, 0.0)[0]
    loss, dW = softmax_loss_naive(W, X_dev, y_dev, 0.0)
    print(check_gradient(f, W, dW))
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kit.display import verdict_table

# Step size h of the centred difference: its truncation error grows like h^2
# and its float64 rounding error like 1e-16 * |f| / h. On mean-subtracted
# CIFAR-10 pixels (|x| up to ~150: the loss curves sharply) h = 1e-6 balances
# the two. Measured on real images, the worst relative error of a correct
# softmax gradient was ~1e-8 with h = 1e-6, ~1e-6 with cs231n's h = 1e-5
# (truncation), and ~1e-7 with h = 1e-7 (rounding).
DEFAULT_STEP = 1e-6
# Denominator floor of the relative error: two gradients that are both below
# this are compared absolutely, and both exactly zero give 0, never 0/0.
REL_ERROR_FLOOR = 1e-8
# The cs231n scale: below GOOD the gradient is right for a smooth function ...
REL_ERROR_GOOD = 1e-7
# ... and above BAD it is wrong.
REL_ERROR_BAD = 1e-2
# check_gradient passes below this: a correct softmax gradient on raw-pixel
# scale data (|X| ~ 100) measures up to a few 1e-6 from the O(h^2) term alone,
# and every classic bug in tests/test_gradient_check.py lands far above it.
PASS_THRESHOLD = 1e-5


def relative_errors(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Entrywise relative error |a - b| / max(|a| + |b|, REL_ERROR_FLOOR) of two arrays of one shape.

    Both zero gives 0.0, not NaN: the denominator never drops below REL_ERROR_FLOOR.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative error: expected arrays of the same shape, got {a.shape} and {b.shape}")
    return np.abs(a - b) / np.maximum(REL_ERROR_FLOOR, np.abs(a) + np.abs(b))


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """The largest entrywise relative error between a and b (0.0 for empty arrays)."""
    errors = relative_errors(a, b)
    return float(errors.max()) if errors.size else 0.0


def _centered_difference(f: Callable[[np.ndarray], object], x: np.ndarray, ix: tuple, h: float):
    """(f(x + h e_ix) - f(x - h e_ix)) / 2h, with x[ix] restored afterwards."""
    old_value = x[ix].copy()
    try:
        x[ix] = old_value + h
        f_plus = np.array(f(x), dtype=np.float64, copy=True)  # copy: f may return a view of its state
        x[ix] = old_value - h
        f_minus = np.array(f(x), dtype=np.float64, copy=True)
    finally:
        x[ix] = old_value  # exact restore, even when f raised
    return (f_plus - f_minus) / (2 * h)


def _warn_if_not_float64(x: np.ndarray) -> None:
    if x.dtype != np.float64:
        warnings.warn(
            f"gradient check on a {x.dtype} array: rounding in f(x+h) - f(x-h) swamps the "
            "difference, so errors look large even for a correct gradient; use float64",
            stacklevel=3,
        )


def eval_numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, verbose: bool = False, h: float = DEFAULT_STEP
) -> np.ndarray:
    """Numerical gradient of a scalar function f at x, every entry.

    Inputs:
    - f: function of one array argument returning a number.
    - x: float array of any shape; perturbed in place and restored.
    - verbose: print each entry as it is computed.
    - h: finite-difference step.

    Returns an array of x's shape holding df/dx.
    """
    _warn_if_not_float64(x)
    grad = np.zeros(x.shape, dtype=np.float64)
    for ix in np.ndindex(x.shape):
        grad[ix] = _centered_difference(f, x, ix, h)
        if verbose:
            print(ix, grad[ix])
    return grad


def _check_entries(f, x, analytic_grad, num_checks, h, seed):
    """Numerical and analytic values at num_checks random entries (all if None)."""
    analytic_grad = np.asarray(analytic_grad)
    if analytic_grad.shape != x.shape:
        raise ValueError(f"analytic_grad: expected the shape of x, {x.shape}, got {analytic_grad.shape}")
    _warn_if_not_float64(x)
    if num_checks is not None and (isinstance(num_checks, bool) or num_checks <= 0):
        raise ValueError(f"num_checks: expected a positive integer or None, got {num_checks!r}")
    if num_checks is None:
        indices = list(np.ndindex(x.shape))
    else:
        rng = np.random.default_rng(seed)
        flat = rng.integers(0, x.size, size=num_checks)
        indices = [np.unravel_index(i, x.shape) for i in flat]
    numerical = np.array([float(_centered_difference(f, x, ix, h)) for ix in indices])
    analytic = np.array([float(analytic_grad[ix]) for ix in indices])
    return indices, numerical, analytic


@dataclass
class GradientCheckResult:
    """Outcome of check_gradient: the worst entry and a verdict.

    - max_rel_error: the largest relative error over the checked entries.
    - index: where it occurred, an index tuple into x.
    - numerical, analytic: the two gradient values at that index.
    - passed: max_rel_error < threshold.
    - indices, numerical_values, analytic_values: every checked entry, for plots.
    """

    max_rel_error: float
    index: tuple
    numerical: float
    analytic: float
    passed: bool
    threshold: float
    indices: list
    numerical_values: np.ndarray
    analytic_values: np.ndarray

    @property
    def num_checked(self) -> int:
        return len(self.indices)

    @property
    def verdict(self) -> str:
        e = self.max_rel_error
        if e < REL_ERROR_GOOD:
            return "correct"
        if e < self.threshold:
            return "correct, within finite-difference and rounding error"
        if e < REL_ERROR_BAD:
            return "suspicious: too large for a smooth function like softmax"
        return "wrong"

    def __bool__(self) -> bool:
        return self.passed

    def _rows(self) -> list[tuple[str, str]]:
        return [
            ("result", "PASSED" if self.passed else "FAILED"),
            ("verdict", self.verdict),
            ("max relative error", f"{self.max_rel_error:.3e} (pass below {self.threshold:.0e})"),
            ("at index", str(tuple(int(i) for i in self.index))),
            ("numerical", f"{self.numerical:.10g}"),
            ("analytic", f"{self.analytic:.10g}"),
            ("entries checked", str(self.num_checked)),
        ]

    def __str__(self) -> str:
        return "\n".join(f"{name:>18}: {value}" for name, value in self._rows())

    def _repr_html_(self) -> str:
        return verdict_table(self._rows(), self.passed)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        """IPython's plain text (a notebook saved as text, a terminal): the same rows as print()."""
        printer.text(str(self))


def check_gradient(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    analytic_grad: np.ndarray,
    num_checks: int | None = None,
    h: float = DEFAULT_STEP,
    seed: int | None = None,
    threshold: float = PASS_THRESHOLD,
) -> GradientCheckResult:
    """Check analytic_grad against finite differences and return a verdict.

    Inputs:
    - f: function of one array argument returning a number, e.g.
      lambda W: softmax_loss_naive(W, X, y, reg)[0].
    - x: the float64 array f is differentiated by; perturbed and restored.
    - analytic_grad: your gradient, same shape as x.
    - num_checks: number of random entries to check, drawn with replacement
      (an entry may come up twice); None checks every entry once.
    - h: finite-difference step.
    - seed: seeds the choice of entries.
    - threshold: the largest relative error that passes.

    Returns a GradientCheckResult; print it, or display it in Jupyter.
    """
    indices, numerical, analytic = _check_entries(f, x, analytic_grad, num_checks, h, seed)
    errors = relative_errors(numerical, analytic)
    worst = int(np.argmax(errors))
    return GradientCheckResult(
        max_rel_error=float(errors[worst]),
        index=tuple(int(i) for i in indices[worst]),
        numerical=float(numerical[worst]),
        analytic=float(analytic[worst]),
        passed=bool(errors[worst] < threshold),
        threshold=threshold,
        indices=indices,
        numerical_values=numerical,
        analytic_values=analytic,
    )
