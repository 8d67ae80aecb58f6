"""The probes: inputs whose exact answers are known without a reference solution, and the calls.

Every probe is a case whose answer follows from a property of the loss, or
is stored below as literal numbers (nothing here computes a softmax):

- W = 0: every class has probability 1/C, so the loss is exactly log C for
  any X, and with X = I (one example per feature) dW shows dscores / N
  entry for entry: (1/C - onehot(y)) / N.
- X = 0: every score is 0, so the data part is again log C and its
  gradient 0; what reg adds is exactly reg * sum(W**2) and 2 * reg * W.
- A fixed 2-example case whose loss and dW are stored below as numbers.
- Extreme scores, answers stored: (800, 790), where a loss that does not
  shift overflows; (0, -800), where a label 800 below the best score makes
  log(exp(s_y) / sum) infinite; and the rows (800, 0) and (-800, 0) in one
  call, each label on its row's best score, whose loss is 0 only when each
  row is shifted by its own max.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from diagnose.findings import Finding
from kit.validation import loss_value

# Agreement within rounding, (rtol, atol). float64: a loss summed in another order
# differs by ~1e-15, one that computes in float32 inside by ~1e-7 (the tests reject
# that, saying so; its maths is right, which is what is diagnosed here). float32:
# ~1e-7 relative, a few of those after a log and a division. Every mistake named
# here is off by far more: a factor, a term, or inf.
TOLERANCES = {np.dtype(np.float64): (1e-5, 1e-8), np.dtype(np.float32): (1e-4, 1e-5)}
# The extreme probes: two examples (x = 1 each), labels 0 and 1, stored with their answers.
# exp(800) overflows float32 and float64; exp(-800) underflows to 0.
GAP = 800.0
# Scores (800, 790): a loss that does not shift overflows. Shifted, they are (10, 0)'s:
# losses log(1 + e^-10) and 10 + log(1 + e^-10); probs p = (1, e^-10) / (1 + e^-10) in both
# rows, so dW = mean of p - onehot(y) = (p0 - 1/2, p1 - 1/2). No label lies far below its row's
# best score here, so log(exp(s_y) / sum) is still finite: only a missing shift fails.
BIG_W = ((GAP, GAP - 10.0),)  # (D, C) = (1, 2)
BIG_LOSS = 5.000045398899217  # 5 + log(1 + e^-10)
BIG_DW = ((0.4999546021312976, -0.49995460213129755),)
# Scores (0, -800): no overflow, but label 1 lies 800 below the best score: its loss is
# 800 + log(1 + e^-800) = 800, the mean 400; probs (1, 0), so dscores rows (0, 0) and (1, -1).
LOW_W = ((0.0, -GAP),)  # (D, C) = (1, 2)
LOW_LOSS = GAP / 2
LOW_DW = ((0.5, -0.5),)
# The mixed probe: rows (800, 0) and (-800, 0) in one call, labels on each row's best score:
# losses log(1 + e^-800) = 0 and probs onehot(y), so the loss and dW are exactly 0. Shifting by
# the whole matrix's max (800) sends the second row to (-1600, -800): exp gives (0, 0), and 0 / 0.
MIXED_LOSS = 0.0
MIXED_DW = ((0.0, 0.0),)
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
    error: str = ""  # what the call raised, for the probes allowed to raise (then loss and dW are nan)


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
        self.aliased: dict[str, str] = {}  # input name -> the probe whose dW was that input

    def call(
        self, what: str, W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float, *, may_raise: bool = False
    ) -> _Result:
        """Call the loss on copies of W, X, y; a probe with may_raise=True records an error instead of stopping."""
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
            if may_raise:  # e.g. math.exp(800) raises OverflowError: a finding of its own
                nan = np.full(W.shape, np.nan)
                return _Result(what, X.shape[0], float("nan"), nan, W.dtype, f"{type(error).__name__}: {error}")
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
        if isinstance(out, (tuple, list)) and len(out) == 2 and isinstance(out[1], np.ndarray):
            for name, array in given.items():
                if np.shares_memory(out[1], array):
                    self.aliased.setdefault(name, what)
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
            loss = loss_value(loss)
        except TypeError as error:
            raise _Stop(Finding("loss-wrong", f"{error} (called {what})")) from None
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
    big: _Result  # scores (800, 790)
    low: _Result  # scores (0, -800)
    mixed: _Result  # rows (800, 0) and (-800, 0) in one call

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
    # The extreme probes, labels 0 and 1 (BIG_*, LOW_*, MIXED_* hold their answers). They may
    # raise (math.exp(800) is an OverflowError): that is a finding, like inf or nan.
    ones, labels01 = np.ones((2, 1), dtype), np.array([0, 1])  # (N, D) = (2, 1), (N,)
    big = run.call("with scores (800, 790)", np.array(BIG_W, dtype), ones, labels01, 0.0, may_raise=True)
    low = run.call("with scores (0, -800)", np.array(LOW_W, dtype), ones, labels01, 0.0, may_raise=True)
    # Rows (800, 0) and (-800, 0), labels 0 and 1: right only with each row's own max subtracted.
    signs = np.array([[1.0], [-1.0]], dtype)  # (N, D) = (2, 1)
    mixed = run.call(
        "with rows of scores (800, 0) and (-800, 0)",
        np.array([[GAP, 0.0]], dtype),
        signs,
        labels01,
        0.0,
        may_raise=True,
    )
    return _Probes(n, c, dtype, labels, zero, no_data, with_reg, pen_W, fixed, fixed32, big, low, mixed)
