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

How it knows, without a reference solution (there is none in this file, and
nothing here computes a softmax): every probe is a case whose exact answer
follows from a property of the loss, or is stored as literal numbers.

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

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kit.display import verdict_table

CODES = (
    "not-implemented", "loss-not-averaged", "gradient-not-averaged", "reg-missing-in-loss",
    "reg-missing-in-gradient", "reg-half-convention", "gradient-sign-flipped", "gradient-wrong-target",
    "overflow-without-shift", "underflow-log-of-ratio", "mutates-input", "float32-promoted",
    "gradient-scaled", "loss-wrong", "gradient-wrong",
)
TRAINING_CODES = (
    "not-implemented", "sgd-no-update", "sgd-wrong-sign", "sgd-step-size", "sgd-batch-size",
    "sgd-labels-mismatched", "sgd-same-batch", "sgd-without-replacement", "sgd-not-seeded",
    "float32-promoted", "training-wrong",
)

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
FIXED_DW = ((-0.04209178614798179, 0.1107441801356227, -0.06865239398764093),
            (-0.36728805550968624, 0.09121984334112733, 0.2760682121685589))
# Weights of the X = 0 probe: distinct, of both signs, so 2 * reg * W shows entry by entry.
PENALTY_W = ((0.5, -1.0, 0.25, 0.75), (-0.25, 1.5, -0.5, 1.0))  # (2, 4): columns cycled to C
# Finite-difference step on the fixed probe (|loss| < 1, scores < 2): the O(h^2)
# error ~1e-11 and the rounding error ~1e-16 / h ~1e-11 balance.
FD_STEP = 1e-5
# dW agrees with finite differences of the student's own loss within this relative error.
FD_AGREE = 1e-5


@dataclass(frozen=True)
class Finding:
    """One diagnosed mistake: `code` (one of CODES) and a `message` for the student."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


@dataclass
class Report:
    """The verdict on a loss function or a training loop: PASS when nothing was found.

    print() it for text, or display() it in Jupyter for a table.
    """

    name: str
    findings: list[Finding]

    @property
    def passed(self) -> bool:
        return not self.findings

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        head = f"{self.name}: {'PASS' if self.passed else 'FAIL'}"
        return "\n".join([head, *(f"  {finding}" for finding in self.findings)])

    def _repr_html_(self) -> str:
        rows = [(self.name, "PASS: no mistake found" if self.passed else "FAIL")]
        return verdict_table(rows + [(finding.code, finding.message) for finding in self.findings], self.passed)


def report_loss(loss_fn: Callable, name: str | None = None, **options) -> Report:
    """diagnose_loss(loss_fn, **options) as a Report named `name` (default: the function's name)."""
    return Report(name or getattr(loss_fn, "__name__", "loss"), diagnose_loss(loss_fn, **options))


def report_training(classifier_class: type, name: str | None = None) -> Report:
    """diagnose_training(classifier_class) as a Report (default name: "<class>.train")."""
    return Report(name or f"{classifier_class.__name__}.train", diagnose_training(classifier_class))


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
    return np.array2string(np.asarray(a, dtype=np.float64), separator=", ", max_line_width=10**6,
                           formatter={"float_kind": lambda v: f"{v:.6g}"}).replace("\n", "")


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
            raise _Stop(Finding("not-implemented", (
                f"the loss raised NotImplementedError{text}; replace `raise NotImplementedError()` "
                "in its TODO region with your code"))) from None
        except Exception as error:  # any failure of student code is a finding, never a crash here
            raise _Stop(Finding("loss-wrong", (
                f"the loss raised {type(error).__name__}: {error} when called {what} "
                f"(W {W.shape} {W.dtype}, X {X.shape}, y {y.shape}, reg={reg})"))) from None
        for name, original in (("W", W), ("X", X), ("y", y)):
            if given[name].shape != original.shape or not np.array_equal(given[name], original):
                self.mutated.setdefault(name, what)
        return self._unpack(what, out, W, X)

    def _unpack(self, what, out, W, X) -> _Result:
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise _Stop(Finding("loss-wrong", (
                f"the loss should return a pair (loss, dW); called {what} it returned {type(out).__name__}")))
        loss, dW = out
        try:
            loss = float(loss)
        except (TypeError, ValueError):
            shape = getattr(loss, "shape", None)
            raise _Stop(Finding("loss-wrong", (
                f"the loss should be one number (the mean over the examples); called {what} it was "
                f"{type(loss).__name__}{f' of shape {shape}' if shape is not None else ''}"))) from None
        dW = np.asarray(dW)
        if dW.shape != W.shape or dW.dtype.kind not in "iuf":
            raise _Stop(Finding("gradient-wrong", (
                f"dW should be a float array of W's shape {W.shape}; called {what} it was "
                f"of shape {dW.shape} and dtype {dW.dtype}")))
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


# Hypotheses about dW: name -> the factor by which dW exceeds the gradient, given N.
GRADIENT_MODELS = {
    "right": lambda n: 1.0,
    "not averaged": lambda n: float(n),
    "sign flipped": lambda n: -1.0,
    "sign flipped, not averaged": lambda n: -float(n),
}
GRADIENT_MODEL_CODES = {
    "right": (), "not averaged": ("gradient-not-averaged",), "sign flipped": ("gradient-sign-flipped",),
    "sign flipped, not averaged": ("gradient-sign-flipped", "gradient-not-averaged"),
}


def diagnose_loss(
    loss_fn: Callable, *, num_train: int = 4, num_classes: int = 3, dtype=np.float64, reg: float = 0.5
) -> list[Finding]:
    """Diagnose a softmax loss function; an empty list means nothing wrong was found.

    Inputs:
    - loss_fn: a function (W, X, y, reg) -> (loss, dW) with W (D, C), X (N, D), y (N,).
    - num_train, num_classes: N and C of the W = 0 and X = 0 probes (N >= 1, C >= 2).
      The other probes have fixed shapes.
    - dtype: np.float64 or np.float32, the dtype of W and X in those probes and the
      extreme ones (a float32 probe always runs as well).
    - reg: the regularization strength of the penalty probe; 0 skips it, so no
      reg mistake is claimed.

    Returns a list of Finding, specific codes first, in the order of CODES.
    """
    if isinstance(num_train, bool) or not isinstance(num_train, (int, np.integer)) or num_train < 1:
        raise ValueError(f"num_train: expected an integer >= 1, got {num_train!r}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise ValueError(f"num_classes: expected an integer >= 2, got {num_classes!r}")
    if np.dtype(dtype) not in TOLERANCES:
        raise TypeError(f"dtype: expected np.float64 or np.float32, got {dtype!r}")
    if not isinstance(reg, (int, float, np.floating)) or not math.isfinite(reg) or reg < 0:
        raise ValueError(f"reg: expected a finite number >= 0, got {reg!r}")
    run = _Diagnosis(loss_fn)
    try:
        found = _diagnose(run, int(num_train), int(num_classes), np.dtype(dtype), float(reg))
    except _Stop as stop:
        found = [stop.finding]
    if run.mutated:
        where = "; ".join(f"{name} (called {what})" for name, what in run.mutated.items())
        found.append(Finding("mutates-input", (
            f"the loss changed its input {where}: work on copies (W * 2, not W *= 2; "
            "X - mean, not X -= mean), so the caller's arrays stay as they were")))
    if run.promoted:
        what, got = next(iter(run.promoted.items()))
        found.append(Finding("float32-promoted", (
            f"float32 W and X gave a {got} dW (called {what}): keep float32 in float32; "
            "np.zeros_like(W) and arithmetic with Python floats do, np.float64 scalars "
            "and .astype(np.float64) do not")))
    return sorted(found, key=lambda f: CODES.index(f.code))


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
    fixed32 = run.call("on the fixed case in float32, each example twice", fixed_W.astype(np.float32),
                       np.vstack([fixed_X, fixed_X]).astype(np.float32), np.tile(fixed_y, 2), 0.0)
    # Scores (800, 0) and (0, -800), labels 0 and 1: the same exact answer (EXTREME_LOSS, EXTREME_DW).
    ones = np.ones((2, 1), dtype)  # (N, D) = (2, 1)
    big = run.call("with scores (800, 0)", np.array([[GAP, 0.0]], dtype), ones, np.array([0, 1]), 0.0)
    low = run.call("with scores (0, -800)", np.array([[0.0, -GAP]], dtype), ones, np.array([0, 1]), 0.0)
    return _Probes(n, c, dtype, labels, zero, no_data, with_reg, pen_W, fixed, fixed32, big, low)


def _diagnose(run: _Diagnosis, n: int, c: int, dtype: np.dtype, reg: float) -> list[Finding]:
    probes = _run_probes(run, n, c, dtype, reg)
    found: dict[str, str] = {}  # code -> message; the first message for a code wins
    loss_model = _diagnose_data_loss(found, probes)
    grad_model = _diagnose_data_gradient(found, probes, run, loss_model)
    if probes.with_reg is not None:
        _diagnose_penalty(found, probes.no_data, probes.with_reg, probes.pen_W, reg, grad_model)
    if loss_model is not None:
        _diagnose_extremes(found, probes, loss_model, grad_model)
    return [Finding(code, message) for code, message in found.items()]


def _diagnose_data_loss(found: dict, p: _Probes):
    """The loss with reg = 0: a mean (right) or a sum over the examples? Returns N -> factor, or None."""
    log_c = math.log(p.c)
    cases = [(p.zero, log_c, f"with W = 0 every class has probability 1/C, so the loss is log C = {log_c:.6g}"),
             (p.no_data, log_c, f"with X = 0 and reg = 0 every score is 0, so the loss is log C = {log_c:.6g}"),
             (p.fixed, FIXED_LOSS, f"on the fixed 2-example case the loss is {FIXED_LOSS:.6g}"),
             (p.fixed32, FIXED_LOSS, f"on the fixed case with each example twice the loss is {FIXED_LOSS:.6g}")]
    for model, scale in (("mean", lambda num: 1.0), ("sum", lambda num: float(num))):
        if all(_close(r.loss, scale(r.num_train) * e, r.dtype) for r, e, _ in cases):
            if model == "sum":
                r, e, why = next(case for case in cases if case[0].num_train > 1)
                found["loss-not-averaged"] = (
                    f"the loss is N times too large: {why}, got {r.loss:.6g} = {r.num_train} x {e:.6g} "
                    f"with N = {r.num_train}; divide the summed loss by N (the mean)")
            return scale
    r, e, why = next((r, e, why) for r, e, why in cases if not _close(r.loss, e, r.dtype))
    found["loss-wrong"] = f"{why}; got {r.loss:.6g}"
    return None


def _diagnose_data_gradient(found: dict, p: _Probes, run: _Diagnosis, loss_model):
    """dW with reg = 0 against its known values. Returns N -> the factor dW is off by, or None."""
    cases = [(p.zero, p.zero_dW), (p.fixed, np.array(FIXED_DW)), (p.fixed32, np.array(FIXED_DW))]
    shown = [f"with W = 0 and X = I (N = {p.n}), dW should be (1/C - onehot(y)) / N",
             "on the fixed 2-example case dW should be", "on the fixed case with each example twice dW should be"]
    for name, factor in GRADIENT_MODELS.items():
        if all(_factor(r, e) is not None and _close(_factor(r, e), factor(r.num_train), r.dtype) for r, e in cases):
            for code in GRADIENT_MODEL_CODES[name]:
                i = next(i for i, (r, _) in enumerate(cases) if r.num_train > 1 or code != "gradient-not-averaged")
                found[code] = _gradient_message(code, *cases[i], shown[i])
            return factor
    k = _factor(p.zero, p.zero_dW)
    if k is not None and k != 0 and all(_factor(r, e) is not None and _close(_factor(r, e), k, r.dtype)
                                        for r, e in cases[1:]):
        found["gradient-scaled"] = (
            f"dW is {k:.6g} times the gradient on every probe ({shown[0]} {_fmt(p.zero_dW[0])} in row 0, "
            f"got {_fmt(p.zero.dW[0])}): look for a constant factor in dscores or dW")
        return lambda num: k
    target = _misplaced_target(p.zero, np.eye(p.c)[p.labels], p.c)
    if target is not None:
        averaged, columns = target
        found["gradient-wrong-target"] = (
            f"the -1 of dscores is not at the label: with W = 0 and X = I, dW = dscores / N puts the -1s of "
            f"rows 0, 1, ... in columns {columns}, the labels are {p.labels.tolist()}; subtract 1 only "
            "at [i, y[i]]: dscores[np.arange(N), y] -= 1 (not dscores[:, y]), or j == y[i] in a loop")
        if not averaged and p.n > 1:
            found["gradient-not-averaged"] = _gradient_message("gradient-not-averaged", p.zero, p.zero_dW, shown[0])
    else:
        found["gradient-wrong"] = _gradient_wrong_message(run, p.zero, p.zero_dW, p.fixed, loss_model)
    return None


def _diagnose_extremes(found: dict, p: _Probes, loss_model, grad_model) -> None:
    """Scores (800, 0) and (0, -800): a missing shift overflows on the first, a log of a ratio on the second."""
    expected = loss_model(2) * EXTREME_LOSS
    big_ok, low_ok = _close(p.big.loss, expected, p.dtype), _close(p.low.loss, expected, p.dtype)
    big_grad_ok = low_grad_ok = True  # unknown when dW is wrong in another way
    if grad_model is not None:
        big_grad_ok = _close(p.big.dW, grad_model(2) * EXTREME_DW, p.dtype)
        low_grad_ok = _close(p.low.dW, grad_model(2) * EXTREME_DW, p.dtype)
    why = (f"scores (800, 0) and (0, -800) with labels 0 and 1 differ by a constant per row, so both "
           f"give the loss {expected:g}")
    if not low_ok and (not math.isfinite(p.low.loss) or p.low.loss < expected):
        found["underflow-log-of-ratio"] = (
            f"{why}; with (0, -800) you got {p.low.loss:g}: exp(-800) / sum underflows to 0 and its log "
            "is -inf. Take log p_y as s_y - log(sum_j exp(s_j)), never log(exp(s_y) / sum)")
    elif not low_ok:
        found.setdefault("loss-wrong", f"{why}; with (0, -800) you got {p.low.loss:g}")
    if (not _finite(p.big) and _finite(p.low)) or (not big_ok and low_ok) or (not big_grad_ok and low_grad_ok):
        found["overflow-without-shift"] = (
            f"{why}; with (800, 0) you got loss {p.big.loss:g} and dW {_fmt(p.big.dW)}: exp(800) "
            "overflows to inf. Subtract each row's largest score before exp (keepdims=True)")
    elif not big_ok and not math.isclose(p.big.loss, p.low.loss):
        found.setdefault("loss-wrong", f"{why}; with (800, 0) you got {p.big.loss:g}")
    if not low_grad_ok:
        found.setdefault("gradient-wrong", (
            f"with scores (0, -800) and (800, 0) the probabilities are (1, 0), so dW should be "
            f"{_fmt(grad_model(2) * EXTREME_DW)}; got {_fmt(p.low.dW)}"))


def _finite(result: _Result) -> bool:
    return math.isfinite(result.loss) and bool(np.all(np.isfinite(result.dW)))


def _misplaced_target(zero: _Result, onehot: np.ndarray, c: int):
    """(averaged, where the -1s are) when dscores = 1/C - T with T of whole numbers, T != onehot(y)."""
    n = onehot.shape[0]
    for averaged, dscores in ((True, zero.dW * n), (False, zero.dW)):
        targets = 1.0 / c - dscores  # (N, C): the subtracted ones
        if np.all(np.isfinite(targets)) and _close(targets, np.round(targets), zero.dtype):
            targets = np.round(targets)
            if not np.array_equal(targets, onehot) and np.any(targets):
                return averaged, [[int(j) for j in np.flatnonzero(row)] for row in targets]
    return None


def _gradient_message(code: str, result: _Result, expected: np.ndarray, why: str) -> str:
    shown = f"{why} {_fmt(np.asarray(expected)[0])} in row 0, got {_fmt(result.dW[0])}"
    if code == "gradient-not-averaged":
        return f"dW is N = {result.num_train} times too large ({shown}): divide dW by N, as the loss is"
    return f"dW has the wrong sign ({shown}): dscores is probs - onehot(y), not onehot(y) - probs"


def _gradient_wrong_message(run: _Diagnosis, zero: _Result, zero_dW, fixed: _Result, loss_model) -> str:
    if not _close(zero.dW, zero_dW, zero.dtype):
        head = (f"with W = 0 and X = I, dW should be dscores / N = (1/C - onehot(y)) / N, "
                f"{_fmt(zero_dW[0])} in row 0; got {_fmt(zero.dW[0])}")
    else:
        head = f"on the fixed 2-example case dW should be {_fmt(FIXED_DW)}; got {_fmt(fixed.dW)}"
    numerical = _numerical_gradient(run)
    error = np.abs(numerical - fixed.dW) / np.maximum(1e-8, np.abs(numerical) + np.abs(fixed.dW))
    if float(error.max()) < FD_AGREE:
        if loss_model is None:
            return f"{head}. It matches finite differences of your own loss, so fix the loss first"
        return f"{head}. On the fixed case it matches finite differences of your loss: look at W = 0"
    worst = np.unravel_index(int(np.argmax(error)), error.shape)
    hint = "" if loss_model is not None else " (your loss is wrong too)"
    return (f"{head}. Finite differences of your own loss{hint} on the fixed case give "
            f"{numerical[worst]:.6g} at dW[{worst[0]}, {worst[1]}], your dW {fixed.dW[worst]:.6g}")


def _numerical_gradient(run: _Diagnosis) -> np.ndarray:
    """Centred differences of the student's own loss on the fixed case (2 calls per entry)."""
    W, X, y = np.array(FIXED_W), np.array(FIXED_X), np.array(FIXED_Y)
    grad = np.zeros_like(W)
    for ix in np.ndindex(W.shape):
        step = np.zeros_like(W)
        step[ix] = FD_STEP
        plus = run.call("for finite differences", W + step, X, y, 0.0).loss
        minus = run.call("for finite differences", W - step, X, y, 0.0).loss
        grad[ix] = (plus - minus) / (2 * FD_STEP)
    return grad


def _diagnose_penalty(found: dict, no_data: _Result, with_reg: _Result, W: np.ndarray, reg: float, grad_model) -> None:
    """With X = 0 what reg adds is exactly reg * sum(W**2) to the loss and 2 * reg * W to dW."""
    dtype = with_reg.dtype
    W64 = W.astype(np.float64)
    size = reg * float(np.sum(W64 * W64))
    added = with_reg.loss - no_data.loss
    where = f"with X = 0, reg = {reg} should add reg * sum(W**2) = {size:.6g} to the loss"
    if _close(added, size, dtype):
        loss_half = False
    elif _close(added, 0.0, dtype):
        found["reg-missing-in-loss"] = f"{where}; it added {added:.6g}: add reg * np.sum(W * W) to the loss"
        loss_half = False
    elif _close(added, size / 2, dtype):
        loss_half = True
    else:
        found.setdefault("loss-wrong", f"{where}; it added {added:.6g}")
        loss_half = False
    if not _close(no_data.dW, 0.0, dtype):
        found.setdefault("gradient-wrong", (
            f"with X = 0 and reg = 0 every score is 0 whatever W, so dW should be 0; got {_fmt(no_data.dW[0])} in row 0"))
    penalty_grad = 2 * reg * W64
    added_grad = with_reg.dW - no_data.dW
    k = _factor_of(added_grad, penalty_grad, dtype)
    # Right, or off by the factor already found in the data gradient (e.g. all of dW negated).
    factors = {1.0} if grad_model is None else {1.0, grad_model(no_data.num_train)}
    gwhere = (f"with X = 0, reg = {reg} should add 2 * reg * W to dW, {_fmt(penalty_grad[0])} in row 0; "
              f"it added {_fmt(added_grad[0])}")
    right = k is not None and any(_close(k, f, dtype) for f in factors)
    grad_half = not right and k is not None and any(_close(k, f / 2, dtype) for f in factors)
    if not right and not grad_half:  # the half convention is named below, with the loss's
        if _close(added_grad, 0.0, dtype):
            found["reg-missing-in-gradient"] = f"{gwhere}: add 2 * reg * W to dW"
        else:
            found.setdefault("gradient-wrong", gwhere)
    if loss_half or grad_half:
        parts = [p for p, half in ((f"the loss adds {added:.6g} = 0.5 * reg * sum(W**2)", loss_half),
                                   ("dW adds reg * W", grad_half)) if half]
        found["reg-half-convention"] = (
            f"{' and '.join(parts)}: this kit's penalty is reg * sum(W**2) (not 0.5 * reg * sum(W**2)), "
            "whose gradient is 2 * reg * W")



# --- the training step ------------------------------------------------------------

# The training probe: N rows whose first feature is the row's own index, so a batch
# shows which rows it holds. With B = N / 2 drawn with replacement a batch repeats a
# row with probability ~0.99, so STEPS batches without one mean no replacement
# (chance ~1e-10 for a right loop).
TRAIN_ROWS, TRAIN_CLASSES, TRAIN_BATCH, TRAIN_STEPS = 40, 3, 20, 5
TRAIN_RATE = 0.125  # a power of 2: W0 - STEPS * rate * G is exact in float32 too
TRAIN_SEEDS = (7, 7)  # two runs with the same seed must use the same batches


def diagnose_training(classifier_class: type) -> list[Finding]:
    """Diagnose the SGD loop of classifier_class.train (a LinearClassifier subclass).

    It trains a subclass whose loss() records each batch and returns a fixed
    gradient G, TRAIN_STEPS steps from a known W0, so the right end is exactly
    W0 - TRAIN_STEPS * TRAIN_RATE * G. Returns findings in the order of TRAINING_CODES.
    """
    if not isinstance(classifier_class, type):
        raise TypeError(f"classifier_class: expected a class such as Softmax, got {classifier_class!r}")
    try:
        found = _diagnose_training(classifier_class)
    except _Stop as stop:
        found = {stop.finding.code: stop.finding.message}
    return sorted((Finding(code, message) for code, message in found.items()),
                  key=lambda f: TRAINING_CODES.index(f.code))


def _train_probe(classifier_class: type, seed: int, dtype) -> tuple[list, np.ndarray, np.ndarray, np.ndarray]:
    """(batches, W0, W after training, the fixed gradient) of one run on the training probe."""
    X = np.zeros((TRAIN_ROWS, 3), dtype)  # (N, D): row index, a constant, a bias
    X[:, 0], X[:, 1], X[:, 2] = np.arange(TRAIN_ROWS), 0.5, 1.0
    y = np.arange(TRAIN_ROWS) % TRAIN_CLASSES  # (N,)
    W0 = np.arange(9, dtype=dtype).reshape(3, TRAIN_CLASSES) / 8  # (D, C)
    gradient = (np.arange(9, dtype=dtype).reshape(3, TRAIN_CLASSES) - 4) / 4  # (D, C), the loss's dW
    batches = []

    class Probe(classifier_class):
        def loss(self, X_batch, y_batch, reg):
            batches.append((np.array(X_batch, copy=True), np.array(y_batch, copy=True)))
            return 1.0, gradient.copy()

    model = Probe()
    model.W = W0.copy()
    try:
        with np.errstate(all="ignore"):
            model.train(X, y, learning_rate=TRAIN_RATE, reg=0.0, num_iters=TRAIN_STEPS,
                        batch_size=TRAIN_BATCH, seed=seed)
    except NotImplementedError as error:
        text = f": {error}" if str(error) else ""
        raise _Stop(Finding("not-implemented", (
            f"train raised NotImplementedError{text}; replace `raise NotImplementedError()` "
            "in its TODO regions with your code"))) from None
    except Exception as error:  # student code: a finding, never a crash here
        raise _Stop(Finding("training-wrong", (
            f"train raised {type(error).__name__}: {error} (X {X.shape} {X.dtype}, batch_size={TRAIN_BATCH}, "
            f"{TRAIN_STEPS} steps)"))) from None
    W = np.asarray(model.W)
    return batches, W0, W, gradient


def _diagnose_training(classifier_class: type) -> dict[str, str]:
    found: dict[str, str] = {}
    runs = [_train_probe(classifier_class, seed, np.float64) for seed in TRAIN_SEEDS]
    batches, W0, W, gradient = runs[0]
    if len(batches) != TRAIN_STEPS:
        found["training-wrong"] = f"{TRAIN_STEPS} steps called loss() {len(batches)} times; once per step"
        return found
    sizes = [len(xb) for xb, _ in batches]
    if any(size != TRAIN_BATCH for size in sizes):
        found["sgd-batch-size"] = (
            f"batch_size={TRAIN_BATCH} gave batches of {sizes} rows: sample exactly batch_size rows")
    rows = []
    for X_batch, y_batch in batches:
        index = np.asarray(X_batch)[:, 0] if np.ndim(X_batch) == 2 and np.shape(X_batch)[1] == 3 else None
        if index is None or not np.array_equal(index, np.round(index)) or index.min() < 0 or index.max() >= TRAIN_ROWS:
            found["training-wrong"] = f"X_batch should hold rows of X, shape (B, D) = (B, 3); got {np.shape(X_batch)}"
            return found
        index = index.astype(int)
        rows.append(index)
        labels = index % TRAIN_CLASSES
        if np.shape(y_batch) != labels.shape or not np.array_equal(y_batch, labels):
            found.setdefault("sgd-labels-mismatched", (
                f"X_batch holds rows {index[:6].tolist()}..., whose labels are {labels[:6].tolist()}...; y_batch "
                f"was {np.asarray(y_batch)[:6].tolist()}...: take X_batch and y_batch with the same indices, X[idx], y[idx]"))
    if all(np.array_equal(r, rows[0]) for r in rows[1:]):
        found["sgd-same-batch"] = (
            f"all {TRAIN_STEPS} steps used the rows {rows[0][:8].tolist()}...: draw new random rows each step")
    elif not any(len(np.unique(r)) < len(r) for r in rows):
        found["sgd-without-replacement"] = (
            f"{TRAIN_STEPS} batches of {TRAIN_BATCH} rows from {TRAIN_ROWS} never held a row twice (drawn with "
            "replacement, almost every batch would): use rng.integers(0, N, size=batch_size)")
    again = [np.asarray(xb)[:, 0] for xb, _ in runs[1][0]]
    if len(again) != len(rows) or not all(np.array_equal(a, b) for a, b in zip(again, rows)):
        found["sgd-not-seeded"] = (
            f"two runs with seed={TRAIN_SEEDS[0]} used different batches: draw them with the rng made "
            "from seed (rng.integers), not np.random")
    step = -TRAIN_STEPS * TRAIN_RATE * gradient  # (D, C): the right change of W
    moved = W.astype(np.float64) - W0 if W.shape == W0.shape else None
    k = _factor_of(moved, step, np.float64) if moved is not None else None
    where = f"{TRAIN_STEPS} steps of learning_rate={TRAIN_RATE} along a fixed dW should change W by {_fmt(step[0])} in row 0"
    if k is None:
        got = f"W of shape {W.shape}" if moved is None else f"a change of {_fmt(moved[0])}"
        found["training-wrong"] = f"{where}; got {got}"
    elif _close(k, 1.0, np.float64):
        pass  # the right step
    elif _close(k, 0.0, np.float64):
        found["sgd-no-update"] = f"{where}; W did not change: W -= learning_rate * dW after each loss"
    elif _close(k, -1.0, np.float64):
        found["sgd-wrong-sign"] = f"{where}; it changed by {_fmt(moved[0])}, up the gradient: W -= learning_rate * dW"
    else:
        found["sgd-step-size"] = (
            f"{where}; it changed by {k:.6g} times that, {_fmt(moved[0])}: the step is learning_rate * dW"
            f"{' (the learning rate is missing)' if _close(k, 1 / TRAIN_RATE, np.float64) else ''}")
    W32 = _train_probe(classifier_class, TRAIN_SEEDS[0], np.float32)[2]
    if W32.dtype != np.float32:
        found["float32-promoted"] = (
            f"training float32 W on float32 X gave a {W32.dtype} W: update in place (W -= ...) or keep "
            "the dtype, do not .astype(np.float64)")
    return found
