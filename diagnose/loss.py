"""diagnose_loss: read the probes' results and name the mistake in a softmax loss."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from diagnose.codes import CODES
from diagnose.findings import Finding
from diagnose.probes import (
    BIG_DW,
    BIG_LOSS,
    FD_AGREE,
    FD_STEP,
    FIXED_DW,
    FIXED_LOSS,
    FIXED_W,
    FIXED_X,
    FIXED_Y,
    LOW_DW,
    LOW_LOSS,
    MIXED_DW,
    MIXED_LOSS,
    TOLERANCES,
    _close,
    _Diagnosis,
    _factor,
    _factor_of,
    _fmt,
    _Probes,
    _Result,
    _run_probes,
    _Stop,
)

GRADIENT_MODELS = {
    "right": lambda n: 1.0,
    "not averaged": lambda n: float(n),
    "sign flipped": lambda n: -1.0,
    "sign flipped, not averaged": lambda n: -float(n),
}
GRADIENT_MODEL_CODES = {
    "right": (),
    "not averaged": ("gradient-not-averaged",),
    "sign flipped": ("gradient-sign-flipped",),
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
        found.append(
            Finding(
                "mutates-input",
                (
                    f"the loss changed its input {where}: work on copies (W * 2, not W *= 2; "
                    "X - mean, not X -= mean), so the caller's arrays stay as they were"
                ),
            )
        )
    if run.aliased:
        name, what = next(iter(run.aliased.items()))
        found.append(
            Finding(
                "dW-is-an-input",
                (
                    f"dW was the array {name} you were given (called {what}): whoever updates dW changes {name} "
                    "too. Return a new array, e.g. start from dW = np.zeros_like(W)"
                ),
            )
        )
    if run.promoted:
        what, got = next(iter(run.promoted.items()))
        found.append(
            Finding(
                "float32-promoted",
                (
                    f"float32 W and X gave a {got} dW (called {what}): keep float32 in float32; "
                    "np.zeros_like(W) and arithmetic with Python floats do, np.float64 scalars "
                    "and .astype(np.float64) do not"
                ),
            )
        )
    return sorted(found, key=lambda f: list(CODES).index(f.code))


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
    cases = [
        (p.zero, log_c, f"with W = 0 every class has probability 1/C, so the loss is log C = {log_c:.6g}"),
        (p.no_data, log_c, f"with X = 0 and reg = 0 every score is 0, so the loss is log C = {log_c:.6g}"),
        (p.fixed, FIXED_LOSS, f"on the fixed 2-example case the loss is {FIXED_LOSS:.6g}"),
        (p.fixed32, FIXED_LOSS, f"on the fixed case with each example twice the loss is {FIXED_LOSS:.6g}"),
    ]
    for model, scale in (("mean", lambda num: 1.0), ("sum", lambda num: float(num))):
        if all(_close(r.loss, scale(r.num_train) * e, r.dtype) for r, e, _ in cases):
            if model == "sum":
                r, _, why = next(case for case in cases if case[0].num_train > 1)
                found["loss-not-averaged"] = (
                    f"the loss is N times too large: {why}, but this {r.num_train}-example probe gave "
                    f"{r.loss:.6g}, {r.num_train} times that. Divide the summed loss by N to take the mean"
                )
            return scale
    r, _e, why = next((r, e, why) for r, e, why in cases if not _close(r.loss, e, r.dtype))
    found["loss-wrong"] = f"{why}; got {r.loss:.6g}"
    return None


def _diagnose_data_gradient(found: dict, p: _Probes, run: _Diagnosis, loss_model):
    """dW with reg = 0 against its known values. Returns N -> the factor dW is off by, or None."""
    cases = [(p.zero, p.zero_dW), (p.fixed, np.array(FIXED_DW)), (p.fixed32, np.array(FIXED_DW))]
    shown = [
        f"with W = 0 and X = I (N = {p.n}), dW should be (1/C - onehot(y)) / N",
        "on the fixed 2-example case dW should be",
        "on the fixed case with each example twice dW should be",
    ]
    for name, factor in GRADIENT_MODELS.items():
        if all(_factor(r, e) is not None and _close(_factor(r, e), factor(r.num_train), r.dtype) for r, e in cases):
            for code in GRADIENT_MODEL_CODES[name]:
                i = next(i for i, (r, _) in enumerate(cases) if r.num_train > 1 or code != "gradient-not-averaged")
                found[code] = _gradient_message(code, *cases[i], shown[i])
            return factor
    k = _factor(p.zero, p.zero_dW)
    if (
        k is not None
        and k != 0
        and all(_factor(r, e) is not None and _close(_factor(r, e), k, r.dtype) for r, e in cases[1:])
    ):
        found["gradient-scaled"] = (
            f"dW is {k:.6g} times the gradient on every probe ({shown[0]} {_fmt(p.zero_dW[0])} in row 0, "
            f"got {_fmt(p.zero.dW[0])}): look for a constant factor in dscores or dW"
        )
        return lambda num: k
    target = _misplaced_target(p.zero, np.eye(p.c)[p.labels], p.c)
    if target is not None:
        averaged, columns = target
        found["gradient-wrong-target"] = (
            f"the -1 of dscores is not at the label: with W = 0 and X = I, dW = dscores / N puts the -1s of "
            f"rows 0, 1, ... in columns {columns}, the labels are {p.labels.tolist()}; subtract 1 only "
            "at [i, y[i]]: dscores[np.arange(N), y] -= 1 (not dscores[:, y]), or j == y[i] in a loop"
        )
        if not averaged and p.n > 1:
            found["gradient-not-averaged"] = _gradient_message("gradient-not-averaged", p.zero, p.zero_dW, shown[0])
    else:
        found["gradient-wrong"] = _gradient_wrong_message(run, p.zero, p.zero_dW, p.fixed, loss_model)
    return None


def _diagnose_extremes(found: dict, p: _Probes, loss_model, grad_model) -> None:
    """Extreme scores: a missing shift overflows, a log of a ratio underflows, a global max underflows.

    Scores (800, 790) overflow exp without a shift (or raise, with math.exp);
    (0, -800) put label 1 800 below the best score, where log(exp(s_y) / sum)
    is log(0); the rows (800, 0) and (-800, 0) in one call are right only when
    each row is shifted by its own max: the whole matrix's max sends the second
    row to exp(-800) = 0. Each probe's answer is stored (diagnose/probes.py).
    """
    big_loss, low_loss = loss_model(2) * BIG_LOSS, loss_model(2) * LOW_LOSS
    big_ok, low_ok = _close(p.big.loss, big_loss, p.dtype), _close(p.low.loss, low_loss, p.dtype)
    mixed_ok = _close(p.mixed.loss, MIXED_LOSS, p.dtype)
    low_grad_ok = True  # unknown when dW is wrong in another way
    if grad_model is not None:
        big_ok = big_ok and _close(p.big.dW, grad_model(2) * np.array(BIG_DW), p.dtype)
        low_grad_ok = _close(p.low.dW, grad_model(2) * np.array(LOW_DW), p.dtype)
        mixed_ok = mixed_ok and _close(p.mixed.dW, grad_model(2) * np.array(MIXED_DW), p.dtype)
    big = f"scores (800, 790) with labels 0 and 1 give the loss {big_loss:.6g}, as (10, 0) would"
    if not big_ok and (p.big.error or not _finite(p.big)):
        got = f"it raised {p.big.error}" if p.big.error else f"it gave loss {p.big.loss:g} and dW {_fmt(p.big.dW)}"
        found["overflow-without-shift"] = (
            f"{big}; {got}: exp(800) overflows. Subtract each row's largest score before exp "
            "(keepdims=True), so every exponent is at most 0"
        )
    elif not big_ok:
        found.setdefault("loss-wrong", f"{big}; you got {p.big.loss:g}")
    low = f"scores (0, -800) with labels 0 and 1 give the loss {low_loss:g} (label 1 lies 800 below the best score)"
    if not low_ok and (p.low.error or not math.isfinite(p.low.loss) or p.low.loss < low_loss):
        got = f"it raised {p.low.error}" if p.low.error else f"you got {p.low.loss:g}"
        found["underflow-log-of-ratio"] = (
            f"{low}; {got}: exp(-800) / sum underflows to 0 and its log is -inf. "
            "Take log p_y as s_y - log(sum_j exp(s_j)), never log(exp(s_y) / sum)"
        )
    elif not low_ok:
        found.setdefault("loss-wrong", f"{low}; you got {p.low.loss:g}")
    if big_ok and low_ok and not mixed_ok:
        got = f"it raised {p.mixed.error}" if p.mixed.error else f"you got loss {p.mixed.loss:g}"
        found["shift-by-global-max"] = (
            "rows of scores (800, 0) and (-800, 0) with each label on its row's best score give the "
            f"loss 0; {got}: subtracting the largest score of the whole matrix leaves the second row at "
            "(-1600, -800), whose exp is 0. Subtract each row's own max: np.max(scores, axis=1, keepdims=True)"
        )
    if not low_grad_ok and low_ok:
        found.setdefault(
            "gradient-wrong",
            (
                f"with scores (0, -800) the probabilities are (1, 0), so dW should be "
                f"{_fmt(grad_model(2) * np.array(LOW_DW))}; got {_fmt(p.low.dW)}"
            ),
        )


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
        n = result.num_train
        return (
            f"dW is N times too large: on this {n}-example probe ({shown}) it is {n} times the gradient. "
            "Divide the summed gradient by N, as the mean loss is divided"
        )
    return f"dW has the wrong sign ({shown}): dscores is probs - onehot(y), not onehot(y) - probs"


def _gradient_wrong_message(run: _Diagnosis, zero: _Result, zero_dW, fixed: _Result, loss_model) -> str:
    if not _close(zero.dW, zero_dW, zero.dtype):
        head = (
            f"with W = 0 and X = I, dW should be dscores / N = (1/C - onehot(y)) / N, "
            f"{_fmt(zero_dW[0])} in row 0; got {_fmt(zero.dW[0])}"
        )
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
    return (
        f"{head}. Finite differences of your own loss{hint} on the fixed case give "
        f"{numerical[worst]:.6g} at dW[{worst[0]}, {worst[1]}], your dW {fixed.dW[worst]:.6g}"
    )


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
    where = f"on a probe with X = 0 and reg = {reg}, reg should add reg * sum(W**2) = {size:.6g} to the loss"
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
        found.setdefault(
            "gradient-wrong",
            (
                "with X = 0 and reg = 0 every score is 0 whatever W, so dW should be 0; "
                f"got {_fmt(no_data.dW[0])} in row 0"
            ),
        )
    penalty_grad = 2 * reg * W64
    added_grad = with_reg.dW - no_data.dW
    k = _factor_of(added_grad, penalty_grad, dtype)
    # Right, or off by the factor already found in the data gradient (e.g. all of dW negated).
    factors = {1.0} if grad_model is None else {1.0, grad_model(no_data.num_train)}
    gwhere = (
        f"on a probe with X = 0 and reg = {reg}, reg should add 2 * reg * W to dW, {_fmt(penalty_grad[0])} in row 0; "
        f"it added {_fmt(added_grad[0])}"
    )
    right = k is not None and any(_close(k, f, dtype) for f in factors)
    grad_half = not right and k is not None and any(_close(k, f / 2, dtype) for f in factors)
    if not right and not grad_half:  # the half convention is named below, with the loss's
        if _close(added_grad, 0.0, dtype):
            found["reg-missing-in-gradient"] = f"{gwhere}: add 2 * reg * W to dW"
        else:
            found.setdefault("gradient-wrong", gwhere)
    if loss_half and grad_half:
        found["reg-half-convention"] = (
            f"the loss adds {added:.6g} = 0.5 * reg * sum(W**2) and dW adds reg * W: that is the 0.5 * reg "
            "convention of some online answers; this kit's penalty is reg * sum(W**2), whose gradient is 2 * reg * W"
        )
    elif loss_half:
        found["reg-half-in-loss"] = (
            f"{where}; it added {added:.6g}, half of it: the loss needs reg * np.sum(W * W), not 0.5 * reg * ..."
            " (dW's 2 * reg * W is already right)"
        )
    elif grad_half:
        found["reg-half-in-gradient"] = (
            f"{gwhere}: that is reg * W, half of it. The loss adds reg * sum(W**2), so dW needs its "
            "derivative 2 * reg * W"
        )
