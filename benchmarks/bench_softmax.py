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
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np

from classifiers.linear_classifier import Softmax
from classifiers.softmax import softmax_loss_naive, softmax_loss_vectorized
from kit.validation import check_loss_inputs

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
KERNEL_QUERY_TIMEOUT_S = 60  # a fresh Python importing NumPy: a second, or more on a loaded machine

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
    return (f"WARNING: torch disagrees with softmax_loss_vectorized at N={X.shape[0]} {X.dtype}: "
            f"loss {torch_loss} vs {loss}, max |dW difference| {np.max(np.abs(dW - torch_dW)):.3g}")


def square_product_rate(dtype: np.dtype, rng: np.random.Generator, size: int = SQUARE_SIZE,
                        repeats: int = SQUARE_REPEATS) -> float:
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


def time_training(num_train: int, num_iters: int, repeats: int, step_repeats: int,
                  rng: np.random.Generator) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
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
            X, y, learning_rate=LEARNING_RATE, reg=REG, num_iters=1, batch_size=BATCH_SIZE, seed=SEED),
        f"train, {num_iters} iterations": lambda: model.train(
            X, y, learning_rate=LEARNING_RATE, reg=REG, num_iters=num_iters, batch_size=BATCH_SIZE,
            seed=SEED),
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


def time_step_parts(X: np.ndarray, y: np.ndarray, W: np.ndarray, num_steps: int,
                    rng: np.random.Generator) -> dict[str, float]:
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


def fmt_time(seconds: float | None) -> str:
    """Milliseconds with 3 significant digits, e.g. '212 ms', '0.0214 ms'."""
    if seconds is None:
        return NOT_RUN
    return f"{seconds * 1e3:.3g} ms"


def fmt_us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} µs"


def fmt_ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or denominator is None:
        return NOT_RUN
    return f"{numerator / denominator:.2f}x"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


LOSS_HEADERS = (
    "N", "dtype", "naive", "vectorized", "two products", "one read of X", "input checks", "torch",
    "vectorized / two products", "vectorized / one read", "vectorized / torch", "naive / vectorized",
)
LAYOUT_HEADERS = ("N", "dtype", *SCORES_FORMS, *GRADIENT_FORMS)
STEP_HEADERS = ("part of one step", "mean time", "share of the step")
BOUND_HEADERS = (
    "dtype", "one read of X", "scores product", "dW product", "products' rate", "square-product rate",
    "vectorized", "row-blocked loop",
)


def loss_row(num_train: int, dtype: np.dtype, times: dict[str, float], no_torch: str) -> list[str]:
    """One row of the loss table; `no_torch` fills the torch cells when torch did not run."""
    vec = times["vectorized"]
    naive = times.get("naive")
    torch_time = times.get("torch")
    return [
        str(num_train), np.dtype(dtype).name, fmt_time(naive), fmt_time(vec),
        fmt_time(times["two products"]), fmt_time(times["one read of X"]), fmt_time(times["input checks"]),
        fmt_time(torch_time) if torch_time is not None else no_torch,
        fmt_ratio(vec, times["two products"]), fmt_ratio(vec, times["one read of X"]),
        fmt_ratio(vec, torch_time) if torch_time is not None else no_torch, fmt_ratio(naive, vec),
    ]


def layout_row(num_train: int, dtype: np.dtype, times: dict[str, float]) -> list[str]:
    cells = []
    for name in LAYOUT_HEADERS[2:]:
        cell = fmt_time(times[name])
        cells.append(f"**{cell}**" if name in (REFERENCE_SCORES, REFERENCE_GRADIENT) else cell)
    return [str(num_train), np.dtype(dtype).name, *cells]


def bounds_report(num_train: int, all_times: dict[tuple[int, str], dict[str, float]],
                  all_layouts: dict[tuple[int, str], dict[str, float]], square_rates: dict[str, float],
                  square_size: int) -> str:
    """At one N: each product against one read of X, and its rate against square products."""
    flops = 2 * num_train * DIM * NUM_CLASSES  # one product: N * D * C multiply-adds
    rows = []
    for dtype in square_rates:
        times, layouts = all_times[(num_train, dtype)], all_layouts[(num_train, dtype)]
        read = times["one read of X"]
        scores, gradient = layouts[REFERENCE_SCORES], layouts[REFERENCE_GRADIENT]
        rate = 2 * flops / (scores + gradient)
        rows.append([
            dtype, fmt_time(read),
            f"{fmt_time(scores)} ({scores / read:.1f} reads)", f"{fmt_time(gradient)} ({gradient / read:.1f} reads)",
            f"{rate / 1e9:.0f} GFLOP/s", f"{square_rates[dtype] / 1e9:.0f} GFLOP/s",
            fmt_time(times["vectorized"]), fmt_time(times["row-blocked"]) if "row-blocked" in times else NOT_IN_KIT,
        ])
    return "\n".join([
        f"What bounds the loss at N = {num_train}: each product does 2 * N * D * C = "
        f"{flops / 1e9:.2f} GFLOP and reads X once. *reads* is its time over one read of X; "
        f"*products' rate* is their arithmetic rate, *square-product rate* the same BLAS's on "
        f"{square_size} x {square_size} matrices; *row-blocked loop* computes the loss "
        f"{BLOCK_ROWS or 'many'} rows at a time, so X streams from memory once (a loop the "
        f"vectorized loss must not have; instructors' copy only).",
        "",
        markdown_table(BOUND_HEADERS, rows),
    ])


def training_report(train_times: dict[str, float], parts: dict[str, float],
                    layout_times: dict[str, float], num_train: int, num_iters: int) -> str:
    one = train_times["train, 1 iteration"]
    many = train_times[f"train, {num_iters} iterations"]
    step_in_train = (many - one) / (num_iters - 1)  # the per-call input checks cancel out
    step = parts["step"]
    labels = [
        ("sample the indices (`rng.integers`)", "sample"),
        ("gather `X[batch]`, `y[batch]`", "gather"),
        (f"loss: scores product `{REFERENCE_SCORES}`", "scores product"),
        (f"loss: dW product `{REFERENCE_GRADIENT}`", "dW product"),
        ("loss: the rest (checks, softmax, reg)", "rest of loss"),
        ("update `W -= lr * dW`", "update"),
    ]
    rows = [[label, fmt_us(parts[key]), f"{100 * parts[key] / step:.0f}%"] for label, key in labels]
    rows.append(["one whole step", fmt_us(step), "100%"])
    layouts = ", ".join(f"`{name}` {fmt_us(seconds)}" for name, seconds in layout_times.items())
    return "\n".join([
        f"`Softmax.train` at batch size {BATCH_SIZE} on a {num_train} x {DIM} float64 array: "
        f"**{num_iters / many:.0f} iterations/s** for `num_iters={num_iters}`, that is "
        f"{fmt_us(step_in_train)} per step plus {fmt_time(max(one - step_in_train, 0.0))} per call "
        f"(train's input checks: two passes over X for NaN/inf). One step, part by part, "
        f"timed inside a copy of train's loop:",
        "",
        markdown_table(STEP_HEADERS, rows),
        "",
        f"Product layouts at batch size {BATCH_SIZE}: {layouts}.",
    ])


def targets_report(all_times: dict[tuple[int, str], dict[str, float]], parts: dict[str, float],
                   no_torch: str) -> str:
    """The reference solution's targets from the issue, each with its measured value."""
    largest = max(n for n, _ in all_times)
    times = all_times[(largest, "float64")]
    vec = times["vectorized"]
    lines = ["Targets for the reference solution:", ""]
    products = times["two products"]  # any loss built on NumPy's products pays at least these

    def target_lines(baseline_name: str, baseline: float, target: float) -> list[str]:
        """The verdict on vectorized / baseline, and when it is missed, what bounds it."""
        ratio = vec / baseline
        verdict = "met" if ratio <= target else "not met"
        found = [f"- vectorized / {baseline_name} at N = {largest}, float64: {ratio:.2f}x "
                 f"(target <= {target:.1f}x): **{verdict}**"]
        if ratio > target:
            reason = f"  - the two products alone take {products / baseline:.2f}x {baseline_name}"
            if "row-blocked" in times:
                reason += f", and the row-blocked loop, which reads X once, {times['row-blocked'] / baseline:.2f}x"
            found.append(reason)
        return found

    if "torch" in times:
        lines += target_lines("torch", times["torch"], TORCH_TARGET)
    else:
        lines.append(f"- vectorized / torch at N = {largest}, float64: not measured ({no_torch})")
    lines += target_lines("one read of X", times["one read of X"], READ_TARGET)
    naive_n = max((n for (n, _), row in all_times.items() if "naive" in row), default=None)
    for dtype in (np.dtype(dt).name for dt in DTYPES):
        row = all_times.get((naive_n, dtype), {})
        if "naive" in row:
            lines.append(f"- naive / vectorized at N = {naive_n}, {dtype}: "
                         f"{row['naive'] / row['vectorized']:.1f}x (reported, no target)")
    step_products = parts["scores product"] + parts["dW product"]
    copying = parts["sample"] + parts["gather"]
    verdict = "met" if step_products > copying else "not met"
    lines.append(f"- SGD step: the two products take {100 * step_products / parts['step']:.0f}% of it, sampling "
                 f"and gathering the batch {100 * copying / parts['step']:.0f}% "
                 f"(target: the products dominate): **{verdict}**")
    return "\n".join(lines)


def blas_description() -> str:
    """Name and version of the BLAS NumPy was built with."""
    try:
        config = np.show_config(mode="dicts")  # NumPy >= 1.25
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name', 'unknown')} {blas.get('version', '')}".strip()
    except (TypeError, KeyError, AttributeError):
        pass
    # Older NumPy 1.x: the build info is a dict per library.
    for key in ("blas_opt_info", "blas_ilp64_opt_info", "openblas_info", "blas_mkl_info"):
        info = getattr(np.__config__, key, None)
        if info:
            return ", ".join(info.get("libraries", [])) or key
    return "unknown"


def blas_runtime() -> list[dict]:
    """What threadpoolctl sees loaded: one dict per BLAS library (name, version, kernel, threads)."""
    try:
        import threadpoolctl
    except ImportError:
        return []
    return [info for info in threadpoolctl.threadpool_info() if info.get("user_api") == "blas"]


def own_kernel() -> str | None:
    """The kernel OpenBLAS picks on this machine without OPENBLAS_CORETYPE (a fresh Python asks)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    code = ("import numpy, threadpoolctl; print(next((i.get('architecture') or '' for i in "
            "threadpoolctl.threadpool_info() if i.get('internal_api') == 'openblas'), ''))")
    try:
        result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                timeout=KERNEL_QUERY_TIMEOUT_S, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def kernel_text(running: str, forced: str | None, own: str | None) -> str:
    """How the machine line names the kernel that runs, and whether OPENBLAS_CORETYPE forced it.

    `running` is threadpoolctl's architecture, `forced` the variable's value
    (None when unset), `own` the kernel a fresh Python picks without it.
    """
    if not forced:
        return f"{running} kernel, this CPU's own"
    if own and own.lower() != running.lower():
        return (f"{running} kernel FORCED by OPENBLAS_CORETYPE={forced} (this CPU's own is {own}: "
                "these figures understate the machine; rerun with the variable unset)")
    return f"{running} kernel, this CPU's own {own or 'unknown'} (OPENBLAS_CORETYPE={forced} names it too)"


def blas_runtime_description() -> str:
    """The BLAS that actually runs, e.g. `openblas 0.3.31: Haswell kernel, this CPU's own, 2 threads`."""
    libraries = blas_runtime()
    if not libraries:
        return "runtime BLAS unknown (install threadpoolctl to see it)"
    parts = []
    for info in libraries:
        running = info.get("architecture") or "unknown"
        if info.get("internal_api") == "openblas":
            forced = os.environ.get("OPENBLAS_CORETYPE")
            kernel = kernel_text(running, forced, own_kernel() if forced else None)
        else:
            kernel = f"{running} kernel"
        threads = info.get("num_threads")
        parts.append(f"{info.get('internal_api', 'blas')} {info.get('version', '')}: "
                     f"{kernel}, {threads} thread{'' if threads == 1 else 's'}")
    return "; ".join(parts)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_line(torch, no_torch: str, load_before: float, load_after: float) -> str:
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    threads = [f"{k}={os.environ[k]}" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
               if k in os.environ]
    if torch is None:
        torch_text = no_torch
    else:
        backend = "MKL" if torch.backends.mkl.is_available() else "its own BLAS"
        torch_text = f"torch {torch.__version__} ({backend}, {torch.get_num_threads()} threads)"
    return (
        f"Machine: {cpu_model()}, {cores} cores ({usable} usable); Python {platform.python_version()}; "
        f"NumPy {np.__version__} with {blas_description()}, running {blas_runtime_description()}; {torch_text}; "
        f"threads: {', '.join(threads) or 'library defaults'}; "
        f"load average {load_before:.1f} at start, {load_after:.1f} at end."
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"tiny sizes {QUICK_SIZES}, one repetition, a short training run")
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
        train_n, train_iters, 1 if args.quick else TRAIN_REPEATS, step_repeats, rng)
    load_after = os.getloadavg()[0]

    command = "python -m benchmarks.bench_softmax" + (" --quick" if args.quick else "")
    small = (f" ({repeats * SMALL_N_REPEATS_FACTOR} at N <= {NAIVE_MAX_N})"
             if not (args.quick or args.repeats) and min(sizes) <= NAIVE_MAX_N else "")
    print(f"Softmax loss and gradient at D = {DIM}, C = {NUM_CLASSES}: median of {repeats}{small} "
          f"run(s) after a warm-up, contenders interleaved (`{command}`).\n")
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
        print(f"Note: the load average ({max(load_before, load_after):.1f}) exceeded the {cores} cores. "
              "Other processes competed for the CPU, and a multi-threaded BLAS call waits for a "
              "descheduled thread at each of its internal synchronisations, so these medians are "
              "pessimistic and erratic. Rerun on a quiet machine, or with `OPENBLAS_NUM_THREADS=1`.")
    print(machine_line(torch, no_torch, load_before, load_after))
    return 0


if __name__ == "__main__":
    sys.exit(main())
