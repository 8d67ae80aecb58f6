"""What benchmarks/bench_softmax.py times, and how often: sizes, contenders and targets.

The two matrix products of the vectorized loss are timed in every layout
worth trying (SCORES_FORMS, GRADIENT_FORMS): the same numbers from other
BLAS kernels, whose speed depends on the BLAS build. The reference solution
writes them plainly (REFERENCE_SCORES, REFERENCE_GRADIENT), as a student
would; the layout table shows what another order would buy on this machine.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

try:  # instructors only: a whole solution of the loss, so the student kit leaves it out
    from instructor.benchmarks.row_blocked import BLOCK_ROWS, softmax_loss_row_blocked
except ModuleNotFoundError as err:
    if err.name not in ("instructor", "instructor.benchmarks", "instructor.benchmarks.row_blocked"):
        raise
    BLOCK_ROWS, softmax_loss_row_blocked = None, None

DIM = 3073  # CIFAR-10: 32 * 32 * 3 pixels + the bias column
NUM_CLASSES = 10  # CIFAR-10
SIZES = (500, 10_000, 49_000)  # the notebook's dev set, a subset, the full training split
QUICK_SIZES = (100, 500)  # tiny: the whole --quick run takes seconds
DTYPES = (np.float64, np.float32)
NAIVE_MAX_N = 500  # beyond this the naive double loop costs seconds per call
REPEATS = 7  # median of 7: one or two runs hit by background load do not move it
# Sizes up to NAIVE_MAX_N take milliseconds a run, so all 7 runs fit inside a
# few seconds of background load; 3x the runs keep the median out of it.
SMALL_N_REPEATS_FACTOR = 3
WARMUP = 1  # one untimed run first: page faults, BLAS thread start-up, caches
# BLAS (OpenBLAS) and OpenMP (torch) worker threads keep spinning on their
# core for up to ~0.1 s after a call; pausing lets them go idle, so one
# contender's leftover threads do not slow the next one down.
PAUSE_S = 0.1
REG = 1e-3  # any reg >= 0 costs the same; nonzero so the term is computed
BATCH_SIZE = 200  # the notebook's batch size
TRAIN_N = 49_000  # the notebook's training split
QUICK_TRAIN_N = 2_000
TRAIN_ITERS = 200  # long enough that train()'s one-off checks are a small share
QUICK_TRAIN_ITERS = 10
TRAIN_REPEATS = 5  # each timed train() call already averages over TRAIN_ITERS steps
STEP_REPEATS = 300  # the parts of one step take microseconds: many runs per figure
CHECK_REPEATS_FACTOR = 10  # the input checks take microseconds: 10x the runs
LEARNING_RATE = 1e-4  # small enough that the loss stays finite on standard-normal data
WEIGHT_SCALE = 0.001  # as the classifier's initialization: scores near 0
SEED = 0
SQUARE_SIZE = 2000  # square products that show the BLAS's best arithmetic rate
QUICK_SQUARE_SIZE = 300
SQUARE_REPEATS = 3

# The two products, in every layout worth trying. Each pair computes the same
# numbers; which one is fastest depends on the BLAS build, so measure.
SCORES_FORMS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "X @ W": lambda X, W: X @ W,
    "(W.T @ X.T).T": lambda X, W: (W.T @ X.T).T,
}
GRADIENT_FORMS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "X.T @ dscores": lambda X, dscores: X.T @ dscores,
    "(dscores.T @ X).T": lambda X, dscores: (dscores.T @ X).T,
}
# The layout softmax_loss_vectorized uses; keep in step with classifiers/softmax.py.
REFERENCE_SCORES = "X @ W"
REFERENCE_GRADIENT = "X.T @ dscores"

# The targets for softmax_loss_vectorized at the largest N, float64.
TORCH_TARGET = 1.0  # no slower than PyTorch's CPU cross_entropy + backward
READ_TARGET = 2.5  # within 2.5x of one read of X (a two-pass loss needs at least 2x)

NOT_INSTALLED = "torch not installed"
SKIPPED = "torch skipped (--no-torch)"
NOT_RUN = "—"
NOT_IN_KIT = "not in the student kit"
