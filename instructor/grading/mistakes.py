r"""Classic mistakes, recognised exactly: so that one mistake is charged once.

A wrong loss fails many tests at once: its own named test, the finite
differences, naive == vectorized, the hidden tests and the value checks.
Charging each of them would cost a student who forgot `reg` in the loss a
quarter of the grade. Instead, when a graded test fails, the harness looks
at every call that test made to the student's loss functions. If each one
returned exactly what the reference returns with some classic mistakes
switched on, and at least one call needed a mistake, the failure is
*explained* by those mistakes; points.py then charges each explained mistake
its rubric cost once, however many tests it fails (points.charge_once).

"Exactly" is what makes this safe to trust: the student's results must match
the reference with the mistake to within rounding, on the test's own inputs,
for every call the failing test made. Code that is wrong in any other way,
that raises, returns the wrong types or dtype, or is right on some inputs and
something else on others, is not explained, and its failures cost their full
points as before.

The models, with the kit's conventions (X (N, D), W (D, C), y (N,), one-hot
T (N, C), probabilities P (N, C)):

    loss = a_L * mean_i(-log P[i, y_i]) + r_L * reg * sum(W**2)
    dW   = s * a_G * X.T @ (P - T') / N + r_G * reg * W

    a_L, a_G  1 (right) or N          loss-not-averaged, gradient-not-averaged
    r_L       1 (right), 0, 0.5       reg-missing-in-loss, reg-half-in-loss
    r_G       2 (right), 0, 1, -2, -1 reg-missing-in-gradient, reg-half-in-gradient,
                                      gradient-sign-flipped
              (r_L = 0.5 with r_G = 1 is one mistake, the other convention: reg-half-convention)
    s         1 (right) or -1         gradient-sign-flipped
    T'        T (right), a 1 in every row of each column some label names
              (dscores[:, y] -= 1), or the next class's one-hot
                                      gradient-wrong-target

and two that are about the call rather than its values: the function
changed an input array (mutates-input; its results may come from the input
before or after the change), or returned an input array as dW
(dW-is-an-input). The codes are diagnose's (diagnose/codes.py).

The same models tell whether a loss was computed at all (`not_computed`): a
passing test of the loss pair earns its points only when the loss its calls
returned is the cross-entropy on their inputs, up to these classic mistakes.
A loss of zeros, a constant, random numbers or an echo of the inputs fits
none of them, so it earns nothing, however many properties it happens to have.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from kit.validation import loss_value

RECORDED = ("softmax_loss_naive", "softmax_loss_vectorized")  # the functions whose calls are recorded
MAX_CALLS = 20_000  # calls kept per test (Hypothesis's shrinking makes hundreds); more: not explained
MAX_BYTES = 256 * 2**20  # bytes of recorded arrays kept per test; more: not explained
# Agreement within rounding, (rtol, atol): float64 results computed in another order agree
# to ~1e-12; float32 ones to ~1e-6 relative, a few times that after sums, a log and a division.
TOLERANCE = {np.dtype(np.float64): (1e-7, 1e-10), np.dtype(np.float32): (1e-4, 1e-6)}

LOSS_OPTIONS = [  # (a_L is N, r_L) -> codes
    ((averaged, r_loss), codes_a + codes_r)
    for (averaged, codes_a), (r_loss, codes_r) in itertools.product(
        [(True, ()), (False, ("loss-not-averaged",))],
        [(1.0, ()), (0.0, ("reg-missing-in-loss",)), (0.5, ("reg-half-in-loss",))],
    )
]
GRADIENT_OPTIONS = [  # (s, a_G is N, r_G, target) -> codes
    ((sign, averaged, r_grad, target), tuple(dict.fromkeys(codes_s + codes_a + codes_r + codes_t)))
    for (sign, codes_s), (averaged, codes_a), (r_grad, codes_r), (target, codes_t) in itertools.product(
        [(1.0, ()), (-1.0, ("gradient-sign-flipped",))],
        [(True, ()), (False, ("gradient-not-averaged",))],
        [
            (2.0, ()),
            (0.0, ("reg-missing-in-gradient",)),
            (1.0, ("reg-half-in-gradient",)),
            (-2.0, ("gradient-sign-flipped",)),
            (-1.0, ("gradient-sign-flipped", "reg-half-in-gradient")),
        ],
        [("label", ()), ("every label column", ("gradient-wrong-target",)), ("next class", ("gradient-wrong-target",))],
    )
]
CALL_CODES = ("mutates-input", "dW-is-an-input")
# Half the penalty in the loss and half its gradient is one mistake: the 0.5 * reg convention.
HALF_BOTH = ("reg-half-in-loss", "reg-half-in-gradient")
CONVENTION = "reg-half-convention"
CODES = (
    *dict.fromkeys(code for _, codes in LOSS_OPTIONS + GRADIENT_OPTIONS for code in codes),
    CONVENTION,
    *CALL_CODES,
)
# At most this many calls of each function are checked for a computed loss: evenly
# spread over the test, so a finite-difference test's thousands cost milliseconds.
COMPUTED_SAMPLE = 16


@dataclass
class Call:
    """One call to a recorded function: its inputs as received (copies), and what came of it."""

    function: str
    inputs: tuple  # (W, X, y, reg) as the function received them, or () if they were not those
    mutated: bool = False  # the call changed W, X or y
    after: tuple = ()  # (W, X, y) as the call left them, when it changed them and they are still valid inputs
    loss: float | None = None  # the loss returned, when it was one real number
    dW: object = None
    clean: bool = False  # returned (loss, dW): one real number and an array of W's shape and dtype
    aliased: bool = False  # dW was one of the input arrays
    wrote_read_only: bool = False  # raised NumPy's "read-only" error writing into an input passed read-only

    def nbytes(self) -> int:
        return sum(a.nbytes for a in (*self.inputs[:3], *self.after, self.dW) if isinstance(a, np.ndarray))


class Recorder:
    """The loss-pair calls of the test that is running: wraps the remote functions."""

    def __init__(self):
        self.calls: list[Call] = []
        self.bytes = 0
        self.overflow = False

    def reset(self) -> None:
        self.calls, self.bytes, self.overflow = [], 0, False

    def wrap(self, function):
        recorder = self

        def recorded(*args, **kwargs):
            __tracebackhide__ = True  # as the boundary's frames (boundary.py)
            call = recorder.before(function.__name__, args, kwargs)
            try:
                result = function(*args, **kwargs)  # an error leaves the call unclean: not explained ...
            except ValueError as error:
                # ... except writing into an input passed read-only: that is the mutation itself.
                call.wrote_read_only = _wrote_read_only(error, args, kwargs)
                raise
            recorder.after(call, args, kwargs, result)
            return result

        def many(calls: list[tuple]) -> list:
            """function.many(calls) (the calls sent at once), each call recorded as `recorded` records one."""
            __tracebackhide__ = True
            made = [recorder.before(function.__name__, tuple(args), {}) for args in calls]
            try:
                results = function.many(calls)
            except ValueError as error:
                index = getattr(error, "call_index", None)
                if index is not None:
                    made[index].wrote_read_only = _wrote_read_only(error, tuple(calls[index]), {})
                raise
            for call, args, result in zip(made, calls, results):
                recorder.after(call, tuple(args), {}, result)
            return results

        recorded.__name__ = recorded.__qualname__ = function.__name__
        recorded.__doc__ = getattr(function, "__doc__", None)
        if hasattr(function, "many"):
            recorded.many = many
        return recorded

    def before(self, name: str, args: tuple, kwargs: dict) -> Call:
        inputs = _inputs(args, kwargs)
        call = Call(name, tuple(a.copy() if isinstance(a, np.ndarray) else a for a in inputs) if inputs else ())
        if len(self.calls) >= MAX_CALLS or self.bytes > MAX_BYTES:
            self.overflow = True
        else:
            self.calls.append(call)
        return call

    def after(self, call: Call, args: tuple, kwargs: dict, result) -> None:
        if not call.inputs or not (isinstance(result, tuple) and len(result) == 2):
            return
        loss, dW = result
        now = _raw_inputs(args, kwargs)[:3]  # the same arrays, perhaps changed by the call
        call.aliased = isinstance(dW, np.ndarray) and any(
            isinstance(a, np.ndarray) and np.shares_memory(dW, a) for a in now
        )
        call.mutated = any(not _same(before, after) for before, after in zip(call.inputs[:3], now))
        if call.mutated and _inputs((*now, call.inputs[3]), {}):
            call.after = tuple(a.copy() for a in now)
        W = call.inputs[0]
        try:
            call.loss = loss_value(loss)
        except TypeError:
            call.loss = None
        call.clean = (
            call.loss is not None and isinstance(dW, np.ndarray) and dW.shape == W.shape and dW.dtype == W.dtype
        )
        if call.clean:
            call.dW = dW.copy()
        self.bytes += call.nbytes()

    def explain(self) -> dict[str, tuple[str, ...]] | None:
        """The classic mistakes that explain this test's calls, per function, or None."""
        return None if self.overflow else explain(self.calls)

    def not_computed(self) -> str:
        """Why this test's loss-pair calls did not compute the cross-entropy, or "" when they did (or made none)."""
        return not_computed(self.calls)


def _wrote_read_only(error: ValueError, args: tuple, kwargs: dict) -> bool:
    """The call raised NumPy's "read-only" error and was passed a read-only W, X or y: it wrote into an input."""
    return "read-only" in str(error) and any(
        isinstance(a, np.ndarray) and not a.flags.writeable for a in _raw_inputs(args, kwargs)[:3]
    )


def _raw_inputs(args: tuple, kwargs: dict) -> tuple:
    """(W, X, y, reg) of a loss call as passed, positionally or by name; () if passed otherwise."""
    names = ("W", "X", "y", "reg")
    if len(args) > 4 or set(kwargs) - set(names[len(args) :]) or len(args) + len(kwargs) != 4:
        return ()
    return tuple(args) + tuple(kwargs[name] for name in names[len(args) :])


def _inputs(args: tuple, kwargs: dict) -> tuple:
    """(W, X, y, reg) of a loss call when they are inputs the models can be computed on, else ()."""
    values = _raw_inputs(args, kwargs)
    if not values:
        return ()
    W, X, y, reg = values
    if not all(isinstance(a, np.ndarray) for a in (W, X, y)) or isinstance(reg, bool):
        return ()
    if not isinstance(reg, (int, float, np.integer, np.floating)):
        return ()
    if W.ndim != 2 or X.ndim != 2 or y.ndim != 1 or X.shape[1] != W.shape[0] or len(y) != X.shape[0] or not len(y):
        return ()
    if W.dtype not in TOLERANCE or y.dtype.kind not in "iu" or np.any(y < 0) or np.any(y >= W.shape[1]):
        return ()
    return W, X, y, reg


def _same(a, b) -> bool:
    """b is a as it was: the same dtype, shape and bytes (as the worker compares; NaN included)."""
    return not isinstance(a, np.ndarray) or (
        isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    )


def explain(calls: list[Call]) -> dict[str, tuple[str, ...]] | None:
    """{function: its mistakes} when every call is the reference with classic mistakes, else None.

    None also when no call needed a mistake: the test failed for another
    reason (a type, a dtype, a loop, time), which is charged as before.
    """
    if not calls:
        return None
    found: dict[str, tuple[str, ...]] = {}
    for function in dict.fromkeys(call.function for call in calls):
        mine = [call for call in calls if call.function == function]
        codes = _explain_function(mine)
        if codes is None:
            return None
        if codes:
            found[function] = codes
    return found or None


def _explain_function(calls: list[Call]) -> tuple[str, ...] | None:
    """The fewest codes that every call of one function fits, () if it needs none, None if none fits."""
    loss_left, gradient_left = LOSS_OPTIONS, GRADIENT_OPTIONS
    call_codes: list[str] = []
    for call in calls:
        if call.wrote_read_only:  # the mutation, stopped by NumPy: nothing else to judge in this call
            call_codes.append("mutates-input")
            continue
        if not call.clean:
            return None
        # A call that changed its inputs may have computed from them before or after the change.
        versions = [_parts(*call.inputs)] + ([_parts(*call.after, call.inputs[3])] if call.after else [])
        loss_left = [o for o in loss_left if any(_loss_fits(call, parts, o[0]) for parts in versions)]
        gradient_left = [o for o in gradient_left if any(_gradient_fits(call, parts, o[0]) for parts in versions)]
        if not loss_left or not gradient_left:
            return None
        call_codes += ["mutates-input"] * call.mutated + ["dW-is-an-input"] * call.aliased
    loss_codes = min((codes for _, codes in loss_left), key=len)
    gradient_codes = min((codes for _, codes in gradient_left), key=len)
    codes = tuple(dict.fromkeys(loss_codes + gradient_codes + tuple(call_codes)))
    if all(code in codes for code in HALF_BOTH):  # both halves: the other convention, one mistake
        codes = tuple(CONVENTION if code == HALF_BOTH[0] else code for code in codes if code != HALF_BOTH[1])
    return codes


def not_computed(calls: list[Call]) -> str:
    """Why the loss of these calls is not the cross-entropy, or "" when it is (or nothing can be told).

    For each function called: every checked call (at most COMPUTED_SAMPLE,
    evenly spread) whose inputs the models can be computed on must return one
    real number that fits the loss with or without classic mistakes. A call
    that failed or returned no loss is the test's own business (it fails).
    """
    for function in dict.fromkeys(call.function for call in calls):
        mine = [call for call in calls if call.function == function and call.inputs and call.loss is not None]
        step = max(1, math.ceil(len(mine) / COMPUTED_SAMPLE))
        for call in mine[::step]:
            versions = [_parts(*call.inputs)] + ([_parts(*call.after, call.inputs[3])] if call.after else [])
            if not any(_loss_fits(call, parts, option) for parts in versions for option, _ in LOSS_OPTIONS):
                W, X, _, reg = call.inputs
                expected = versions[0].data_loss + versions[0].reg * versions[0].penalty
                return (
                    f"{function} returned the loss {call.loss:.6g} on this test's inputs (W {W.shape}, X {X.shape}, "
                    f"reg={reg:g}), where the cross-entropy loss is {expected:.6g}: a loss that is not computed "
                    "earns no points, whatever properties it happens to have"
                )
    return ""


@dataclass
class _Parts:
    """The reference's pieces on one input, in float64."""

    N: int
    data_loss: float  # mean cross-entropy
    penalty: float  # sum(W**2)
    reg: float
    W: np.ndarray
    gradients: dict  # target -> X.T @ (P - T') / N
    tolerance: tuple


def _parts(W, X, y, reg) -> _Parts:
    from instructor.grading.reference import reference_loss  # the harness's side only: never in the worker

    data_loss, gradient = reference_loss(W, X, y, 0.0)
    W64, X64 = W.astype(np.float64), X.astype(np.float64)
    N, C = X.shape[0], W.shape[1]
    onehot = np.zeros((N, C))
    onehot[np.arange(N), y] = 1.0
    every = np.zeros((N, C))
    every[:, np.unique(y)] = 1.0
    following = np.zeros((N, C))
    following[np.arange(N), (y.astype(np.int64) + 1) % C] = 1.0
    # P - T' = (P - T) + (T - T'), so X.T @ (P - T') / N = gradient + X.T @ (T - T') / N
    gradients = {
        "label": gradient,
        "every label column": gradient + X64.T @ (onehot - every) / N,
        "next class": gradient + X64.T @ (onehot - following) / N,
    }
    return _Parts(N, data_loss, float(np.sum(W64 * W64)), float(reg), W64, gradients, TOLERANCE[W.dtype])


def _loss_fits(call: Call, parts: _Parts, option) -> bool:
    averaged, r_loss = option
    expected = parts.data_loss * (1 if averaged else parts.N) + r_loss * parts.reg * parts.penalty
    rtol, atol = parts.tolerance
    return math.isfinite(call.loss) and math.isclose(call.loss, expected, rel_tol=rtol, abs_tol=atol)


def _gradient_fits(call: Call, parts: _Parts, option) -> bool:
    sign, averaged, r_grad, target = option
    expected = sign * (1 if averaged else parts.N) * parts.gradients[target] + r_grad * parts.reg * parts.W
    rtol, atol = parts.tolerance
    dW = call.dW.astype(np.float64)
    return bool(np.all(np.isfinite(dW)) and np.allclose(dW, expected, rtol=rtol, atol=atol))
