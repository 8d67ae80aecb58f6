"""The parent's own checks: the student's probe values against the reference's.

Runs in the grading parent, which never imports student code. Each check
takes the values the reference produced (`expected`) and the ones the
student's code sent back from the sandbox (`got`, see instructor/probes.py)
and returns (passed, message). Values are decoded defensively: anything
malformed is a failed check, never a grader crash. One check is static: the
parent parses (does not run) the student's softmax.py to look for loops.
"""

from __future__ import annotations

import ast
import base64
import math

import numpy as np

MAX_ARRAY_BYTES = 64 * 2**20  # a probe's arrays are a few MB at most
# float64 results computed in another order agree to ~1e-12; 1e-7 is generous
# but still far below what any of the classic mistakes changes.
RTOL = 1e-7
ATOL = 1e-10
# float32: about 7 significant digits, minus some for the sums.
RTOL32 = 1e-4
ATOL32 = 1e-6
SEPARABLE_ACCURACY = 0.9  # blobs 4 sigma apart: SGD reaches ~1.0


class Malformed(ValueError):
    """A value sent by the child that is not what a probe produces."""


def decode(value):
    """Turn a probe's JSON value back into arrays and numbers (no pickle)."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict) and "b64" in value:
        dtype = np.dtype(str(value["dtype"]))
        if dtype.kind not in "fiub":
            raise Malformed(f"unexpected dtype {dtype}")
        shape = tuple(int(n) for n in value["shape"])
        raw = base64.b64decode(value["b64"])
        if len(raw) > MAX_ARRAY_BYTES or len(raw) != math.prod(shape) * dtype.itemsize:
            raise Malformed(f"array of shape {shape} does not match its {len(raw)} bytes")
        return np.frombuffer(raw, dtype=dtype).reshape(shape)
    if isinstance(value, dict) and "scalar_type" in value:
        return value["value"]
    if isinstance(value, dict) and "unencodable" in value:
        raise Malformed(f"returned a {value['unencodable']}, expected numbers and arrays")
    return value


def _array(value, what: str) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise Malformed(f"{what}: expected an array, got {type(value).__name__}")
    return value


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Malformed(f"{what}: expected a number, got {type(value).__name__}")
    return float(value)


def _close(got: np.ndarray, expected: np.ndarray, what: str, rtol: float, atol: float) -> str | None:
    if got.shape != expected.shape:
        return f"{what}: shape {got.shape}, expected {expected.shape}"
    if not np.all(np.isfinite(got)):
        return f"{what}: contains NaN or inf"
    if not np.allclose(got, expected, rtol=rtol, atol=atol):
        diff = np.abs(got.astype(np.float64) - expected)
        index = np.unravel_index(np.argmax(diff), diff.shape)
        return f"{what}: differs from the reference by up to {diff[index]:.3g} (at {tuple(map(int, index))})"
    return None


def compare_losses(expected: dict, got: dict, rtol: float = RTOL, atol: float = ATOL) -> list[str]:
    """Problems found comparing {case: [loss, dW]} with the reference's."""
    problems = []
    for case, (loss_ref, dW_ref) in expected.items():
        if case not in got:
            problems.append(f"{case}: no result")
            continue
        loss, dW = got[case]
        loss, dW = _number(loss, f"{case} loss"), _array(dW, f"{case} dW")
        if not math.isfinite(loss):
            problems.append(f"{case}: loss is {loss}, expected {loss_ref:.10g}")
        elif not math.isclose(loss, loss_ref, rel_tol=rtol, abs_tol=atol):
            problems.append(f"{case}: loss {loss:.10g}, expected {loss_ref:.10g}")
        if dW.dtype != dW_ref.dtype:
            problems.append(f"{case}: dW has dtype {dW.dtype}, expected {dW_ref.dtype} (the dtype of W)")
        problem = _close(dW, dW_ref, f"{case} dW", rtol, atol)
        if problem:
            problems.append(problem)
    return problems


def check_inputs_unchanged(expected: dict, got: dict) -> list[str]:
    problems = []
    for fn_name, arrays_ref in expected.items():
        for name, ref, value in zip("WXy", arrays_ref, got.get(fn_name, [None] * 3)):
            value = _array(value, f"{fn_name} {name}")
            if value.dtype != ref.dtype or not np.array_equal(value, ref):
                problems.append(f"{fn_name} modified its input {name} in place")
    return problems


def check_predict(expected: dict, got: dict) -> list[str]:
    y_pred, ref = _array(got["y_pred"], "y_pred"), expected["y_pred"]
    if y_pred.shape != ref.shape:
        return [f"predict returned shape {y_pred.shape}, expected labels of shape {ref.shape}"]
    if y_pred.dtype.kind not in "iu":
        return [f"predict returned dtype {y_pred.dtype}: expected integer class labels"]
    wrong = int(np.sum(y_pred != ref))
    return [f"predict got {wrong} of {ref.size} labels wrong (expected the argmax of X @ W)"] if wrong else []


def check_sgd_step(expected: dict, got: dict) -> list[str]:
    problems = []
    for dtype, (W_ref, history_ref) in expected.items():
        W, history = (_array(v, f"{dtype} run") for v in got[dtype])
        if W.dtype != W_ref.dtype:
            problems.append(f"training in {dtype}: W became {W.dtype}, expected {W_ref.dtype}")
        rtol, atol = (RTOL32, ATOL32) if dtype == "float32" else (RTOL, ATOL)
        problem = _close(W, W_ref.astype(W.dtype), f"W after one step in {dtype} (W - learning_rate * dW)", rtol, atol)
        if problem:
            problems.append(problem)
        problem = _close(history, history_ref, f"loss history in {dtype}", rtol, atol)
        if problem:
            problems.append(problem)
    return problems


def check_sgd_learns(expected: dict, got: dict) -> list[str]:
    W = _array(got["W"], "W")
    X, y = expected["X"], expected["y"]  # the parent's copy: the child cannot choose the data
    if W.shape != expected["W"].shape or W.dtype.kind != "f":
        return [f"W has shape {W.shape} and dtype {W.dtype}, expected {expected['W'].shape} floats"]
    if not np.all(np.isfinite(W)):
        return ["W contains NaN or inf after training"]
    accuracy = float(np.mean(np.argmax(X @ W, axis=1) == y))
    if accuracy < SEPARABLE_ACCURACY:
        return [f"after 300 SGD steps on separable data the accuracy is {accuracy:.2f}, expected >= {SEPARABLE_ACCURACY}"]
    return []


COMPARE = {
    "naive_loss_and_gradient": compare_losses,
    "vectorized_loss_and_gradient": compare_losses,
    "naive_extreme_scores": compare_losses,
    "vectorized_extreme_scores": compare_losses,
    "float32_stays_float32": lambda e, g: compare_losses(e, g, RTOL32, ATOL32),
    "loss_functions_leave_inputs_unchanged": check_inputs_unchanged,
    "predict_labels": check_predict,
    "sgd_step_follows_the_gradient": check_sgd_step,
    "sgd_learns_separable_data": check_sgd_learns,
}


def judge_probe(name: str, expected_raw: dict, got_raw: dict) -> tuple[bool, str]:
    """Compare one probe's values; (passed, message)."""
    try:
        expected = {k: decode(v) for k, v in expected_raw.items()}
        got = {k: decode(v) for k, v in got_raw.items()}
        problems = COMPARE[name](expected, got)
    except (Malformed, KeyError, TypeError, ValueError, IndexError) as err:
        problems = [f"the values sent back are not what was expected ({type(err).__name__}: {err})"]
    return (not problems, "\n".join(problems) if problems else "matches the reference")


LOOP_NODES = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def check_vectorized_has_no_loops(source: str | None) -> tuple[bool, str]:
    """Static check of the student's softmax.py: no loop in softmax_loss_vectorized."""
    if source is None:
        return False, "classifiers/softmax.py is missing"
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        return False, f"classifiers/softmax.py does not parse: {err.msg} (line {err.lineno})"
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "softmax_loss_vectorized"]
    if not functions:
        return False, "softmax_loss_vectorized is not defined in classifiers/softmax.py"
    loops = [f"line {n.lineno}: {type(n).__name__}" for n in ast.walk(functions[-1]) if isinstance(n, LOOP_NODES)]
    if any("NotImplementedError" in ast.unparse(n) for n in ast.walk(functions[-1]) if isinstance(n, ast.Raise)):
        return False, "softmax_loss_vectorized is not implemented yet"
    if loops:
        return False, "softmax_loss_vectorized contains loops: " + ", ".join(loops)
    return True, "no loops"
