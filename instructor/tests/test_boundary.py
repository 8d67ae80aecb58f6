"""Tests for instructor/grading/boundary.py's calls sent together (left out of the kit).

A finite-difference check calls the loss hundreds of times on inputs it
knows in advance; `Boundary.call_many` sends them in one go and reads the
answers as they come. Each answer must still be what a single call gives,
each call must still time out on its own, an error must still be the
student's, and neither side may stall however large the messages are.
These run a real worker (not sandboxed: the code is this file's own).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from instructor import REPO_ROOT
from instructor.build import build_kit, write_files
from instructor.grading.boundary import Boundary, StudentTimeout
from instructor.grading.harness import prepare
from instructor.grading.sandbox import Limits, trusted_isolation

NAIVE = "softmax_loss_naive"
HEADER = {"op": "call", "name": NAIVE}


@pytest.fixture(scope="module")
def worker_kit(tmp_path_factory) -> Path:
    kit = tmp_path_factory.mktemp("worker-kit")
    write_files(build_kit(REPO_ROOT, check_notebook_sources=False), kit)
    return kit


def student(body: str) -> bytes:
    """classifiers/softmax.py whose two loss functions run `body` (W, X, y, reg in scope)."""
    function = "    " + "\n    ".join(body.strip().splitlines())
    return (
        "import time\nimport numpy as np\n\n\n"
        f"def softmax_loss_naive(W, X, y, reg):\n{function}\n\n\n"
        f"def softmax_loss_vectorized(W, X, y, reg):\n{function}\n"
    ).encode()


@pytest.fixture
def boundary_with(worker_kit, tmp_path):
    """A Boundary whose worker runs the given student body; closed at the end of the test."""
    made = []

    def make(body: str, call_timeout: float = 30.0) -> Boundary:
        work = tmp_path / f"work{len(made)}"
        isolation = trusted_isolation()
        kit, grader, _ = prepare(worker_kit, {"classifiers/softmax.py": student(body)}, work, isolation)
        config = {
            "worker_log": str(work / "worker.log"),
            "budgets": {NAIVE: 0.0},  # timeout_for: the floor, capped by call_timeout
            "call_timeout": call_timeout,
            "test_budget": 120.0,
            **isolation.worker_launch(kit, grader, Limits()),
        }
        made.append(Boundary(config))
        made[-1].start_test("tests/test_softmax.py::test_x")
        return made[-1]

    yield make
    for boundary in made:
        boundary.close()


def problem(seed: int, D: int = 5, C: int = 4, N: int = 6):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((D, C)), rng.standard_normal((N, D)), rng.integers(0, C, N), 0.1


def test_calls_sent_together_answer_in_order_as_single_calls_do(boundary_with):
    boundary = boundary_with("return float(W.sum() + X.sum() + y.sum() + reg), 2 * W")
    calls = [(problem(seed), {}) for seed in range(40)]
    together = boundary.call_many(NAIVE, HEADER, calls)
    one_by_one = [boundary.call(NAIVE, HEADER, args) for args, _ in calls]
    assert len(together) == 40
    for (loss, dW), (single_loss, single_dW), (args, _) in zip(together, one_by_one, calls):
        assert loss == single_loss == float(args[0].sum() + args[1].sum() + args[2].sum() + args[3])
        np.testing.assert_array_equal(dW, single_dW)
        np.testing.assert_array_equal(dW, 2 * args[0])


def test_an_error_in_one_call_is_raised_once_every_answer_is_in_and_the_worker_goes_on(boundary_with):
    boundary = boundary_with("if y[0] == 99:\n    raise ValueError('label 99')\nreturn float(W.sum()), W.copy()")
    calls = [(problem(seed), {}) for seed in range(10)]
    W, X, y, reg = calls[3][0]
    y = y.copy()
    y[0] = 99
    calls[3] = ((W, X, y, reg), {})
    generation = boundary.ensure_worker() and boundary.generation
    with pytest.raises(ValueError, match="label 99") as raised:
        boundary.call_many(NAIVE, HEADER, calls)
    assert raised.value.call_index == 3
    assert boundary.generation == generation, "the answers after the error are read, not the worker restarted"
    loss, _ = boundary.call(NAIVE, HEADER, calls[0][0])
    assert loss == float(calls[0][0][0].sum()), "the next call gets its own answer, not a leftover one"


def test_a_call_that_never_returns_times_out_on_its_own_in_a_batch(boundary_with):
    boundary = boundary_with(
        "while y[0] == 99:\n    time.sleep(0.01)\nreturn float(W.sum()), W.copy()", call_timeout=1.0
    )
    calls = [(problem(seed), {}) for seed in range(30)]
    W, X, y, reg = calls[2][0]
    y = y.copy()
    y[0] = 99
    calls[2] = ((W, X, y, reg), {})
    started = time.monotonic()
    with pytest.raises(StudentTimeout, match="did not return within 1 s"):
        boundary.call_many(NAIVE, HEADER, calls)
    waited = time.monotonic() - started
    assert waited < 10, f"one call's timeout (1 s), not the batch's sum: waited {waited:.1f} s"
    assert NAIVE in boundary.timed_out
    with pytest.raises(StudentTimeout, match="timed out earlier"):
        boundary.call(NAIVE, HEADER, calls[0][0])


def test_large_requests_and_answers_in_one_batch_never_stall_either_side(boundary_with):
    # Each request (X) is ~5 MB and each answer (dW) ~250 kB: far more than a pipe holds. Writing
    # every request before reading any answer would leave both sides waiting on each other.
    boundary = boundary_with("return float(X[0, 0]), np.ones_like(W) * y[0]")
    rng = np.random.default_rng(0)
    W = rng.standard_normal((3073, 10))
    calls = [((W, rng.standard_normal((200, 3073)), np.full(200, i % 10), 0.0), {}) for i in range(12)]
    started = time.monotonic()
    results = boundary.call_many(NAIVE, HEADER, calls)
    assert time.monotonic() - started < 25
    for (loss, dW), (args, _) in zip(results, calls):
        assert loss == args[1][0, 0]
        assert dW.shape == W.shape and (dW == args[2][0]).all()


def test_mutated_inputs_come_back_call_by_call(boundary_with):
    boundary = boundary_with("W += 1\nreturn float(W.sum()), W")
    calls = [(problem(seed), {}) for seed in range(5)]
    before = [args[0].copy() for args, _ in calls]
    results = boundary.call_many(NAIVE, HEADER, calls)
    for (_, dW), (args, _), W0 in zip(results, calls, before):
        np.testing.assert_array_equal(args[0], W0 + 1)  # changed here as it was there
        assert np.shares_memory(dW, args[0]), "dW is the input W, as the student returned it"
