"""The probes: inputs whose exact answers are known without a reference solution, and the calls.

Every probe is a case whose answer follows from a property of the loss, or
is stored below as literal numbers (nothing here computes a softmax):

- W = 0: every class has probability 1/C, so the loss is exactly log C for
  any X, and with X = I (one example per feature) dW shows dscores / N
  entry for entry: (1/C - onehot(y)) / N.
- X = 0: every score is 0, so the data part is again log C and its
  gradient 0; what reg adds is exactly reg * sum(W**2) and 2 * reg * W.
- A fixed 2-example case whose loss and dW are stored below as numbers.
- Extreme scores: (800, 0) and (0, -800) have the same exact answer
  (softmax is unchanged by adding a constant to a row of scores).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from diagnose.findings import Finding

# Agreement within rounding, (rtol, atol). float64: a loss summed in another order
# differs by ~1e-15, one that computes in float32 inside by ~1e-7 (the tests reject
# that, saying so; its maths is right, which is what is diagnosed here). float32:
# ~1e-7 relative, a few of those after a log and a division. Every mistake named
# here is off by far more: a factor, a term, or inf.
TOLERANCES = {np.dtype(np.float64): (1e-5, 1e-8), np.dtype(np.float32): (1e-4, 1e-5)}
# Score gap of the extreme probes: exp(800) overflows float32 and float64, exp(-800) underflows to 0.
GAP = 800.0
# Their answer, labels 0 and 1 with scores (800, 0) or (0, -800) in both rows: losses
# 0 and 800, mean 400; probs (1, 0), so dscores rows (0, 0) and (1, -1); x = 1, N = 2.
EXTREME_LOSS = GAP / 2
EXTREME_DW = np.array([[0.5, -0.5]])  # (D, C) = (1, 2)
# The 2-example probe and its answer (mean cross-entropy, reg = 0), stored as numbers.
FIXED_X = ((1.0, -2.0), (0.5, 1.5))  # (N, D) = (2, 2)
FIXED_W = ((0.25, -0.5, 0.125), (0.375, 0.0, -0.75))  # (D, C) = (2, 3); scores within [-1.1, 1.7]
FIXED_Y = (2, 0)
FIXED_LOSS = 0.33116236262034454
FIXED_DW = (
    (-0.04209178614798179, 0.1107441801356227, -0.06865239398764093),
    (-0.36728805550968624, 0.09121984334112733, 0.2760682121685589),
)
# Weights of the X = 0 probe: distinct, of both signs, so 2 * reg * W shows entry by entry.
PENALTY_W = ((0.5, -1.0, 0.25, 0.75), (-0.25, 1.5, -0.5, 1.0))  # (2, 4): columns cycled to C
# Finite-difference step on the fixed probe (|loss| < 1, scores < 2): the O(h^2)
# error ~1e-11 and the rounding error ~1e-16 / h ~1e-11 balance.
FD_STEP = 1e-5
# dW agrees with finite differences of the student's own loss within this relative error.
FD_AGREE = 1e-5


class _Stop(Exception):
    """A probe call raised: the diagnosis ends with the finding it carries."""

    def __init__(self, finding: Finding):
        super().__init__(finding.message)
        self.finding = finding


@dataclass
class _Result:
    """What one call returned, in float64, with the problem it was called on."""

    what: str
    num_train: int
    loss: float
    dW: np.ndarray
    dtype: np.dtype


def _fmt(a) -> str:
    return np.array2string(
        np.asarray(a, dtype=np.float64),
        separator=", ",
        max_line_width=10**6,
        formatter={"float_kind": lambda v: f"{v:.6g}"},
    ).replace("\n", "")


class _Diagnosis:
    """Calls loss_fn on the probes and keeps what every call showed."""

    def __init__(self, loss_fn: Callable):
        self.loss_fn = loss_fn
        self.mutated: dict[str, str] = {}  # input name -> the probe that changed it
        self.promoted: dict[str, str] = {}  # probe -> the dtype dW came back in

    def call(self, what: str, W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float) -> _Result:
        given = {"W": W.copy(), "X": X.copy(), "y": y.copy()}  # the student may change these
        try:
            with np.errstate(all="ignore"):  # overflow is a finding here, not a warning to print
                out = self.loss_fn(given["W"], given["X"], given["y"], float(reg))
        except NotImplementedError as error:
            text = f": {error}" if str(error) else ""
            raise _Stop(
                Finding(
                    "not-implemented",
                    (
                        f"the loss raised NotImplementedError{text}; replace `raise NotImplementedError()` "
                        "in its TODO region with your code"
                    ),
                )
            ) from None
        except Exception as error:  # noqa: BLE001 - any failure of student code is a finding, never a crash here
            raise _Stop(
                Finding(
                    "loss-wrong",
                    (
                        f"the loss raised {type(error).__name__}: {error} when called {what} "
                        f"(W {W.shape} {W.dtype}, X {X.shape}, y {y.shape}, reg={reg})"
                    ),
                )
            ) from None
        for name, original in (("W", W), ("X", X), ("y", y)):
            if given[name].shape != original.shape or not np.array_equal(given[name], original):
                self.mutated.setdefault(name, what)
        return self._unpack(what, out, W, X)

    def _unpack(self, what, out, W, X) -> _Result:
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise _Stop(
                Finding(
                    "loss-wrong",
                    (f"the loss should return a pair (loss, dW); called {what} it returned {type(out).__name__}"),
                )
            )
        loss, dW = out
        try:
            loss = float(loss)
        except (TypeError, ValueError):
            shape = getattr(loss, "shape", None)
            raise _Stop(
                Finding(
                    "loss-wrong",
                    (
                        f"the loss should be one number (the mean over the examples); called {what} it was "
                        f"{type(loss).__name__}{f' of shape {shape}' if shape is not None else ''}"
                    ),
                )
            ) from None
        dW = np.asarray(dW)
        if dW.shape != W.shape or dW.dtype.kind not in "iuf":
            raise _Stop(
                Finding(
                    "gradient-wrong",
                    (
                        f"dW should be a float array of W's shape {W.shape}; called {what} it was "
                        f"of shape {dW.shape} and dtype {dW.dtype}"
                    ),
                )
            )
        if W.dtype == np.float32 and dW.dtype != np.float32:
            self.promoted.setdefault(what, str(dW.dtype))
        return _Result(what, X.shape[0], loss, dW.astype(np.float64), W.dtype)


def _close(value, expected, dtype) -> bool:
    rtol, atol = TOLERANCES[np.dtype(dtype)]
    return bool(np.allclose(value, expected, rtol=rtol, atol=atol))


def _factor_of(value: np.ndarray, expected: np.ndarray, dtype) -> float | None:
    """The k with value = k * expected, or None when value is no multiple of it."""
    expected = np.asarray(expected, dtype=np.float64)
    if not np.all(np.isfinite(value)):
        return None
    k = float(np.sum(value * expected) / np.sum(expected * expected))
    return k if _close(value, k * expected, dtype) else None


def _factor(result: _Result, expected: np.ndarray) -> float | None:
    """The k with dW = k * expected on this probe, or None."""
    return _factor_of(result.dW, expected, result.dtype)


@dataclass
class _Probes:
    """Every probe's result, and what the W = 0 probe should give."""

    n: int
    c: int
    dtype: np.dtype
    labels: np.ndarray  # (N,) of the W = 0 probe
    zero: _Result  # W = 0, X = I
    no_data: _Result  # X = 0, reg = 0
    with_reg: _Result | None  # X = 0, reg > 0
    pen_W: np.ndarray  # W of the X = 0 probes
    fixed: _Result  # the stored 2-example case
    fixed32: _Result  # the same in float32, each example twice
    big: _Result  # scores (800, 0)
    low: _Result  # scores (0, -800)

    @property
    def zero_dW(self) -> np.ndarray:
        """dW at W = 0 with X = I: dscores / N = (1/C - onehot(y)) / N, (N, C)."""
        return (1.0 / self.c - np.eye(self.c)[self.labels]) / self.n


def _run_probes(run: _Diagnosis, n: int, c: int, dtype: np.dtype, reg: float) -> _Probes:
    labels = np.arange(n) % c  # (N,), as many distinct labels as fit: a misplaced -1 shows
    # W = 0, X = I: scores = 0, probs = 1/C, and dW = X.T @ dscores / N shows dscores itself.
    zero = run.call("with W = 0 and X = I", np.zeros((n, c), dtype), np.eye(n, dtype=dtype), labels, 0.0)
    # X = 0: scores = 0 again, so reg adds exactly its penalty.
    pen_W = np.resize(np.array(PENALTY_W), (2, c)).astype(dtype)  # (D, C) = (2, C), values repeated to fill
    no_data = run.call("with X = 0 and reg = 0", pen_W, np.zeros((n, 2), dtype), labels, 0.0)
    with_reg = run.call(f"with X = 0 and reg = {reg}", pen_W, np.zeros((n, 2), dtype), labels, reg) if reg else None
    # The fixed case with its stored answer; then in float32 with every example twice,
    # which leaves a mean unchanged (and so tells a sum from a factor of 2).
    fixed_W, fixed_X, fixed_y = np.array(FIXED_W), np.array(FIXED_X), np.array(FIXED_Y)
    fixed = run.call("on the fixed 2-example case", fixed_W, fixed_X, fixed_y, 0.0)
    fixed32 = run.call(
        "on the fixed case in float32, each example twice",
        fixed_W.astype(np.float32),
        np.vstack([fixed_X, fixed_X]).astype(np.float32),
        np.tile(fixed_y, 2),
        0.0,
    )
    # Scores (800, 0) and (0, -800), labels 0 and 1: the same exact answer (EXTREME_LOSS, EXTREME_DW).
    ones = np.ones((2, 1), dtype)  # (N, D) = (2, 1)
    big = run.call("with scores (800, 0)", np.array([[GAP, 0.0]], dtype), ones, np.array([0, 1]), 0.0)
    low = run.call("with scores (0, -800)", np.array([[0.0, -GAP]], dtype), ones, np.array([0, 1]), 0.0)
    return _Probes(n, c, dtype, labels, zero, no_data, with_reg, pen_W, fixed, fixed32, big, low)
