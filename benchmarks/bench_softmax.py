"""Benchmark of the softmax loss pair and of SGD training, printed as Markdown.

At D = 3073 and C = 10 (CIFAR-10 rows with the bias column), for N in
{500, 10000, 49000} and for float64 and float32, it times side by side:

- naive:         softmax_loss_naive (N <= 500 only: it is a Python double loop);
- vectorized:    softmax_loss_vectorized, loss and gradient together;
- two products:  the two matrix products alone, scores = X @ W and
                 dW = X.T @ dscores, in the layout the reference uses;
- one read of X: the matrix-vector product X @ v, which streams X from
                 memory once, on all cores (the memory-bound floor: any loss
                 must read X, and a loop-free one reads it twice);
- input checks:  check_loss_inputs alone (shapes, dtypes, label range);
- row-blocked:   the same loss computed block of rows by block of rows, so X
                 streams from memory once (a Python loop, which the kit's
                 vectorized loss must not have: timed to show what fusing
                 the two passes would buy; benchmarks/row_blocked.py, in the
                 instructors' repository only, as it solves the assignment);
- torch:         PyTorch's CPU cross_entropy + backward on the same arrays,
                 when torch is installed (optional, never a kit dependency).

It also times each layout of the two products (the order of the operands
decides which BLAS kernel runs) and the SGD throughput: iterations per second
of Softmax.train at batch size 200 on a 49000 x 3073 array, with a breakdown
of one step (sampling, gathering the batch, the two products, the rest).
At the largest N it relates each product to one read of X and its
arithmetic rate to the same BLAS's rate on square matrices: what bounds the
loss, and whether the targets are reachable on top of these products at all.

Every time is the median of repeated runs after a warm-up run (the parts of
a training step: the mean, so that they add up). Within a repetition the
contenders run one after the other, in an order that rotates from one
repetition to the next, so background load hits all of them alike.
The machine line (cores, NumPy, BLAS, threads, load average) tells where the
numbers come from; compare ratios, not milliseconds, across machines. It names
the BLAS kernel that runs (threadpoolctl) and says when OPENBLAS_CORETYPE
forces one other than this CPU's own: a forced older kernel (Haswell on an
AVX-512 machine) makes the products markedly slower.

Run from the repository root:

    .venv/bin/python -m benchmarks.bench_softmax            # full run, a few minutes
    .venv/bin/python -m benchmarks.bench_softmax --quick    # tiny sizes, one repetition

Progress goes to stderr; stdout is the Markdown for the README's Speed section.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np

from benchmarks.machine import blas_description, blas_runtime, kernel_text, machine_line, own_kernel  # noqa: F401
from benchmarks.settings import (  # noqa: F401 - some are read by tests/test_benchmarks.py
    BATCH_SIZE,
    CHECK_REPEATS_FACTOR,
    DIM,
    DTYPES,
    GRADIENT_FORMS,
    LEARNING_RATE,
    NAIVE_MAX_N,
    NOT_IN_KIT,
    NOT_INSTALLED,
    NOT_RUN,
    NUM_CLASSES,
    PAUSE_S,
    QUICK_SIZES,
    QUICK_SQUARE_SIZE,
    QUICK_TRAIN_ITERS,
    QUICK_TRAIN_N,
    REFERENCE_GRADIENT,
    REFERENCE_SCORES,
    REG,
    REPEATS,
    SCORES_FORMS,
    SEED,
    SIZES,
    SKIPPED,
    SMALL_N_REPEATS_FACTOR,
    SQUARE_REPEATS,
    SQUARE_SIZE,
    STEP_REPEATS,
    TRAIN_ITERS,
    TRAIN_N,
    TRAIN_REPEATS,
    WARMUP,
    WEIGHT_SCALE,
    softmax_loss_row_blocked,
)
from benchmarks.tables import (  # noqa: F401 - some are read by tests/test_benchmarks.py
    BOUND_HEADERS,
    LAYOUT_HEADERS,
    LOSS_HEADERS,
    STEP_HEADERS,
    bounds_report,
    layout_row,
    loss_row,
    markdown_table,
    targets_report,
    training_report,
)
from classifiers.linear_classifier import Softmax
from classifiers.softmax import softmax_loss_naive, softmax_loss_vectorized
from kit.validation import check_loss_inputs


def load_torch(enabled: bool):
    """Return the torch module, or None when it is not installed or not wanted."""
    if not enabled:
        return None
    # torch's OpenMP threads spin after each call unless told to sleep; that
    # would steal a core from the NumPy contender timed right after. Must be
    # set before torch is imported.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import torch
    except ImportError:
        return None
    return torch


def time_interleaved(
    contenders: dict[str, Callable[[], object]],
    repeats: int,
    warmup: int = WARMUP,
    pause: float = 0.0,
) -> dict[str, float]:
    """Median wall time in seconds of each contender, run side by side.

    Each repetition runs every contender once; the order rotates by one per
    repetition so no contender always follows the same neighbour. The first
    `warmup` repetitions are not recorded.
    """
    names = list(contenders)
    times: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(warmup + repeats):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            contenders[name]()
            elapsed = time.perf_counter() - start
            if rep >= warmup:
                times[name].append(elapsed)
            if pause:
                time.sleep(pause)
    return {name: statistics.median(values) for name, values in times.items()}


def torch_loss_and_gradient(torch, Xt, yt, W: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
    """The same loss and dW as softmax_loss_vectorized, computed by PyTorch."""
    Wt = torch.from_numpy(W).requires_grad_(True)  # shares W's memory, never writes it
    scores = Xt @ Wt  # (N, C)
    loss = torch.nn.functional.cross_entropy(scores, yt) + reg * (Wt * Wt).sum()
    loss.backward()  # dW = X.T @ (probs - onehot) / N + 2 * reg * W
    return loss.item(), Wt.grad.numpy()


def check_torch_agrees(torch, Xt, yt, W: np.ndarray, X: np.ndarray, y: np.ndarray) -> str | None:
    """None if torch computes the same loss and dW as the reference, else a note."""
    loss, dW = softmax_loss_vectorized(W, X, y, REG)
    torch_loss, torch_dW = torch_loss_and_gradient(torch, Xt, yt, W, REG)
    tol = 1e-3 if X.dtype == np.float32 else 1e-8  # rounding of sums over N in another order
    scale = np.max(np.abs(dW))
    if abs(loss - torch_loss) <= tol * abs(loss) and np.max(np.abs(dW - torch_dW)) <= tol * scale:
        return None
    return (
        f"WARNING: torch disagrees with softmax_loss_vectorized at N={X.shape[0]} {X.dtype}: "
        f"loss {torch_loss} vs {loss}, max |dW difference| {np.max(np.abs(dW - torch_dW)):.3g}"
    )


def square_product_rate(
    dtype: np.dtype, rng: np.random.Generator, size: int = SQUARE_SIZE, repeats: int = SQUARE_REPEATS
) -> float:
    """FLOP/s of NumPy's BLAS on a square (size x size) product: its best case."""
    A = rng.standard_normal((size, size)).astype(dtype)
    B = rng.standard_normal((size, size)).astype(dtype)
    seconds = time_interleaved({"square": lambda: A @ B}, repeats)["square"]
    return 2 * size**3 / seconds


def time_loss_functions(
    X: np.ndarray, y: np.ndarray, W: np.ndarray, dscores: np.ndarray, torch, repeats: int, pause: float
) -> tuple[dict[str, float], dict[str, float], str | None]:
    """Time the loss pair and its floors on one problem; then the product layouts.

    Returns (times of the main contenders, times of each layout, a note or None).
    """
    ones = np.ones(X.shape[1], dtype=X.dtype)  # (D,)
    scores_product = SCORES_FORMS[REFERENCE_SCORES]
    gradient_product = GRADIENT_FORMS[REFERENCE_GRADIENT]
    contenders: dict[str, Callable[[], object]] = {
        "vectorized": lambda: softmax_loss_vectorized(W, X, y, REG),
        "two products": lambda: (scores_product(X, W), gradient_product(X, dscores)),
        "one read of X": lambda: X @ ones,
    }
    if softmax_loss_row_blocked is not None:
        contenders["row-blocked"] = lambda: softmax_loss_row_blocked(W, X, y, REG)
    if X.shape[0] <= NAIVE_MAX_N:
        contenders["naive"] = lambda: softmax_loss_naive(W, X, y, REG)
    note = None
    if torch is not None:
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)  # no copies
        contenders["torch"] = lambda: torch_loss_and_gradient(torch, Xt, yt, W, REG)
        note = check_torch_agrees(torch, Xt, yt, W, X, y)
    times = time_interleaved(contenders, repeats, pause=pause)
    # Apart and without pauses: a call of microseconds right after a pause
    # would be timed with cold caches, several times slower than in use.
    checks = {"input checks": lambda: check_loss_inputs(W, X, y, REG)}
    times.update(time_interleaved(checks, repeats * CHECK_REPEATS_FACTOR))

    layouts: dict[str, Callable[[], object]] = {}
    for name, form in SCORES_FORMS.items():
        layouts[name] = lambda form=form: form(X, W)
    for name, form in GRADIENT_FORMS.items():
        layouts[name] = lambda form=form: form(X, dscores)
    layout_times = time_interleaved(layouts, repeats, pause=pause)
    return times, layout_times, note


def time_training(
    num_train: int, num_iters: int, repeats: int, step_repeats: int, rng: np.random.Generator
) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Throughput of Softmax.train, the parts of one step, and the product layouts.

    Returns three dicts of median seconds: whole train() calls, the parts of
    one step (see time_step_parts), and each product layout at the batch size.
    """
    X = rng.standard_normal((num_train, DIM))  # (N, D) float64, as the notebook's data
    y = rng.integers(0, NUM_CLASSES, size=num_train)  # (N,)
    model = Softmax()
    model.train(X, y, learning_rate=LEARNING_RATE, num_iters=1, seed=SEED)  # creates W
    train_calls = {
        "train, 1 iteration": lambda: model.train(
            X, y, learning_rate=LEARNING_RATE, reg=REG, num_iters=1, batch_size=BATCH_SIZE, seed=SEED
        ),
        f"train, {num_iters} iterations": lambda: model.train(
            X, y, learning_rate=LEARNING_RATE, reg=REG, num_iters=num_iters, batch_size=BATCH_SIZE, seed=SEED
        ),
    }
    train_times = time_interleaved(train_calls, repeats)
    step_times = time_step_parts(X, y, model.W.copy(), step_repeats, rng)

    X_batch = X[rng.integers(0, num_train, size=BATCH_SIZE)]  # (B, D)
    dscores = rng.standard_normal((BATCH_SIZE, NUM_CLASSES)) / BATCH_SIZE  # (B, C)
    layouts: dict[str, Callable[[], object]] = {}
    for name, form in SCORES_FORMS.items():
        layouts[name] = lambda form=form: form(X_batch, model.W)
    for name, form in GRADIENT_FORMS.items():
        layouts[name] = lambda form=form: form(X_batch, dscores)
    layout_times = time_interleaved(layouts, step_repeats)
    return train_times, step_times, layout_times


def time_step_parts(
    X: np.ndarray, y: np.ndarray, W: np.ndarray, num_steps: int, rng: np.random.Generator
) -> dict[str, float]:
    """Mean seconds of each part of an SGD step, timed inside a copy of train's loop.

    Each step does what LinearClassifier.train does (sample, gather, loss,
    update) with a clock read between the parts, so every part meets the
    cache and CPU load it meets in training. Then the loss's two products run
    once more on the same batch, alone, to split the loss into the products
    and the rest. Means, not medians: means add up, so the parts' shares of
    the step sum to 100% even when background load stalls a random part of
    most steps. W is updated in place.
    """
    num_train = X.shape[0]
    scores_product = SCORES_FORMS[REFERENCE_SCORES]
    gradient_product = GRADIENT_FORMS[REFERENCE_GRADIENT]
    dscores = rng.standard_normal((BATCH_SIZE, NUM_CLASSES)) / BATCH_SIZE  # (B, C)
    names = ("sample", "gather", "loss", "update", "scores product", "dW product", "step")
    times: dict[str, list[float]] = {name: [] for name in names}
    clock = time.perf_counter
    for step in range(WARMUP + num_steps):
        t0 = clock()
        batch = rng.integers(0, num_train, size=BATCH_SIZE)  # (B,)
        t1 = clock()
        X_batch, y_batch = X[batch], y[batch]  # (B, D), (B,)
        t2 = clock()
        _, dW = softmax_loss_vectorized(W, X_batch, y_batch, REG)  # (D, C)
        t3 = clock()
        W -= LEARNING_RATE * dW
        t4 = clock()
        scores_product(X_batch, W)
        t5 = clock()
        gradient_product(X_batch, dscores)
        t6 = clock()
        if step >= WARMUP:
            for name, elapsed in zip(names, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, t4 - t0)):
                times[name].append(elapsed)
    means = {name: statistics.fmean(values) for name, values in times.items()}
    means["rest of loss"] = means["loss"] - means["scores product"] - means["dW product"]
    return means


# --- formatting ------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"tiny sizes {QUICK_SIZES}, one repetition, a short training run"
    )
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if it is installed")
    parser.add_argument("--repeats", type=int, default=None, help=f"timed runs per figure (default {REPEATS})")
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error(f"--repeats: expected a positive integer, got {args.repeats}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = QUICK_SIZES if args.quick else SIZES
    repeats = args.repeats or (1 if args.quick else REPEATS)
    pause = 0.0 if args.quick else PAUSE_S
    train_n, train_iters = (QUICK_TRAIN_N, QUICK_TRAIN_ITERS) if args.quick else (TRAIN_N, TRAIN_ITERS)
    step_repeats = 5 if args.quick else STEP_REPEATS
    torch = load_torch(not args.no_torch)
    no_torch = SKIPPED if args.no_torch else NOT_INSTALLED  # what the torch cells say without it
    load_before = os.getloadavg()[0]
    rng = np.random.default_rng(SEED)

    all_times: dict[tuple[int, str], dict[str, float]] = {}
    all_layouts: dict[tuple[int, str], dict[str, float]] = {}
    loss_rows, layout_rows, notes = [], [], []
    for num_train in sizes:
        small_n = num_train <= NAIVE_MAX_N and not (args.quick or args.repeats)
        runs = repeats * SMALL_N_REPEATS_FACTOR if small_n else repeats
        # Built once per N in float64, then cast: at N = 49000 X is 1.2 GB.
        X = rng.standard_normal((num_train, DIM))  # (N, D)
        y = rng.integers(0, NUM_CLASSES, size=num_train)  # (N,)
        W = WEIGHT_SCALE * rng.standard_normal((DIM, NUM_CLASSES))  # (D, C)
        dscores = rng.standard_normal((num_train, NUM_CLASSES)) / num_train  # (N, C)
        for dtype in DTYPES:
            X, W, dscores = X.astype(dtype, copy=False), W.astype(dtype), dscores.astype(dtype)
            print(f"timing N={num_train} {np.dtype(dtype).name} ...", file=sys.stderr, flush=True)
            times, layout_times, note = time_loss_functions(X, y, W, dscores, torch, runs, pause)
            all_times[(num_train, np.dtype(dtype).name)] = times
            all_layouts[(num_train, np.dtype(dtype).name)] = layout_times
            loss_rows.append(loss_row(num_train, dtype, times, no_torch))
            layout_rows.append(layout_row(num_train, dtype, layout_times))
            if note:
                notes.append(note)
        del X  # free the big array before the next size

    print("timing square products ...", file=sys.stderr, flush=True)
    square_size = QUICK_SQUARE_SIZE if args.quick else SQUARE_SIZE
    square_rates = {np.dtype(dt).name: square_product_rate(dt, rng, square_size) for dt in DTYPES}
    print(f"timing Softmax.train on {train_n} x {DIM} ...", file=sys.stderr, flush=True)
    train_times, parts, batch_layouts = time_training(
        train_n, train_iters, 1 if args.quick else TRAIN_REPEATS, step_repeats, rng
    )
    load_after = os.getloadavg()[0]

    command = "python -m benchmarks.bench_softmax" + (" --quick" if args.quick else "")
    small = (
        f" ({repeats * SMALL_N_REPEATS_FACTOR} at N <= {NAIVE_MAX_N})"
        if not (args.quick or args.repeats) and min(sizes) <= NAIVE_MAX_N
        else ""
    )
    print(
        f"Softmax loss and gradient at D = {DIM}, C = {NUM_CLASSES}: median of {repeats}{small} "
        f"run(s) after a warm-up, contenders interleaved (`{command}`).\n"
    )
    print(markdown_table(LOSS_HEADERS, loss_rows))
    print()
    print("Layouts of the two products (the reference's in bold):\n")
    print(markdown_table(LAYOUT_HEADERS, layout_rows))
    print()
    print(bounds_report(max(sizes), all_times, all_layouts, square_rates, square_size))
    print()
    print(training_report(train_times, parts, batch_layouts, train_n, train_iters))
    print()
    print(targets_report(all_times, parts, no_torch))
    print()
    for note in notes:
        print(note)
    cores = os.cpu_count() or 1
    if max(load_before, load_after) > cores:
        print(
            f"Note: the load average ({max(load_before, load_after):.1f}) exceeded the {cores} cores. "
            "Other processes competed for the CPU, and a multi-threaded BLAS call waits for a "
            "descheduled thread at each of its internal synchronisations, so these medians are "
            "pessimistic and erratic. Rerun on a quiet machine, or with `OPENBLAS_NUM_THREADS=1`."
        )
    print(machine_line(torch, no_torch, load_before, load_after))
    return 0


if __name__ == "__main__":
    sys.exit(main())
