"""Tests for instructor/benchmarks/row_blocked.py, the benchmark's row-blocked contender.

That file solves the assignment, so it lives under instructor/, which the
student kit leaves out, with this test file.
"""

import numpy as np
import pytest

from benchmarks.bench_softmax import DTYPES
from classifiers.softmax import softmax_loss_vectorized
from instructor.benchmarks.row_blocked import softmax_loss_row_blocked


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda dt: np.dtype(dt).name)
@pytest.mark.parametrize("num_train", [1, 7, 16, 23])  # blocks of 8 rows: none full, exact, ragged
def test_row_blocked_loss_equals_the_vectorized_loss(dtype, num_train):
    # The row-blocked contender must compute the same loss and dW, block size
    # not dividing N included, or timing it against the reference means nothing.
    rng = np.random.default_rng(num_train)
    X = rng.standard_normal((num_train, 6)).astype(dtype)
    W = rng.standard_normal((6, 4)).astype(dtype)
    y = rng.integers(0, 4, size=num_train)
    loss, dW = softmax_loss_row_blocked(W, X, y, 0.3, block_rows=8)
    expected_loss, expected_dW = softmax_loss_vectorized(W, X, y, 0.3)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert loss == pytest.approx(expected_loss, rel=tol)
    assert dW.dtype == W.dtype
    np.testing.assert_allclose(dW, expected_dW, rtol=tol, atol=tol)
