"""The benchmark's Markdown: tables of times and ratios, and what bounds the loss."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from benchmarks.settings import (
    BATCH_SIZE,
    BLOCK_ROWS,
    DIM,
    DTYPES,
    GRADIENT_FORMS,
    NOT_IN_KIT,
    NOT_RUN,
    NUM_CLASSES,
    READ_TARGET,
    REFERENCE_GRADIENT,
    REFERENCE_SCORES,
    SCORES_FORMS,
    TORCH_TARGET,
)


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
    "N",
    "dtype",
    "naive",
    "vectorized",
    "two products",
    "one read of X",
    "input checks",
    "torch",
    "vectorized / two products",
    "vectorized / one read",
    "vectorized / torch",
    "naive / vectorized",
)
LAYOUT_HEADERS = ("N", "dtype", *SCORES_FORMS, *GRADIENT_FORMS)
STEP_HEADERS = ("part of one step", "mean time", "share of the step")
BOUND_HEADERS = (
    "dtype",
    "one read of X",
    "scores product",
    "dW product",
    "products' rate",
    "square-product rate",
    "vectorized",
    "row-blocked loop",
)


def loss_row(num_train: int, dtype: np.dtype, times: dict[str, float], no_torch: str) -> list[str]:
    """One row of the loss table; `no_torch` fills the torch cells when torch did not run."""
    vec = times["vectorized"]
    naive = times.get("naive")
    torch_time = times.get("torch")
    return [
        str(num_train),
        np.dtype(dtype).name,
        fmt_time(naive),
        fmt_time(vec),
        fmt_time(times["two products"]),
        fmt_time(times["one read of X"]),
        fmt_time(times["input checks"]),
        fmt_time(torch_time) if torch_time is not None else no_torch,
        fmt_ratio(vec, times["two products"]),
        fmt_ratio(vec, times["one read of X"]),
        fmt_ratio(vec, torch_time) if torch_time is not None else no_torch,
        fmt_ratio(naive, vec),
    ]


def layout_row(num_train: int, dtype: np.dtype, times: dict[str, float]) -> list[str]:
    cells = []
    for name in LAYOUT_HEADERS[2:]:
        cell = fmt_time(times[name])
        cells.append(f"**{cell}**" if name in (REFERENCE_SCORES, REFERENCE_GRADIENT) else cell)
    return [str(num_train), np.dtype(dtype).name, *cells]


def bounds_report(
    num_train: int,
    all_times: dict[tuple[int, str], dict[str, float]],
    all_layouts: dict[tuple[int, str], dict[str, float]],
    square_rates: dict[str, float],
    square_size: int,
) -> str:
    """At one N: each product against one read of X, and its rate against square products."""
    flops = 2 * num_train * DIM * NUM_CLASSES  # one product: N * D * C multiply-adds
    rows = []
    for dtype in square_rates:
        times, layouts = all_times[(num_train, dtype)], all_layouts[(num_train, dtype)]
        read = times["one read of X"]
        scores, gradient = layouts[REFERENCE_SCORES], layouts[REFERENCE_GRADIENT]
        rate = 2 * flops / (scores + gradient)
        rows.append(
            [
                dtype,
                fmt_time(read),
                f"{fmt_time(scores)} ({scores / read:.1f} reads)",
                f"{fmt_time(gradient)} ({gradient / read:.1f} reads)",
                f"{rate / 1e9:.0f} GFLOP/s",
                f"{square_rates[dtype] / 1e9:.0f} GFLOP/s",
                fmt_time(times["vectorized"]),
                fmt_time(times["row-blocked"]) if "row-blocked" in times else NOT_IN_KIT,
            ]
        )
    return "\n".join(
        [
            f"What bounds the loss at N = {num_train}: each product does 2 * N * D * C = "
            f"{flops / 1e9:.2f} GFLOP and reads X once. *reads* is its time over one read of X; "
            f"*products' rate* is their arithmetic rate, *square-product rate* the same BLAS's on "
            f"{square_size} x {square_size} matrices; *row-blocked loop* computes the loss "
            f"{BLOCK_ROWS or 'many'} rows at a time, so X streams from memory once (a loop the "
            f"vectorized loss must not have; instructors' copy only).",
            "",
            markdown_table(BOUND_HEADERS, rows),
        ]
    )


def training_report(
    train_times: dict[str, float],
    parts: dict[str, float],
    layout_times: dict[str, float],
    num_train: int,
    num_iters: int,
) -> str:
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
    return "\n".join(
        [
            f"`Softmax.train` at batch size {BATCH_SIZE} on a {num_train} x {DIM} float64 array: "
            f"**{num_iters / many:.0f} iterations/s** for `num_iters={num_iters}`, that is "
            f"{fmt_us(step_in_train)} per step plus {fmt_time(max(one - step_in_train, 0.0))} per call "
            f"(train's input checks: two passes over X for NaN/inf). One step, part by part, "
            f"timed inside a copy of train's loop:",
            "",
            markdown_table(STEP_HEADERS, rows),
            "",
            f"Product layouts at batch size {BATCH_SIZE}: {layouts}.",
        ]
    )


def targets_report(all_times: dict[tuple[int, str], dict[str, float]], parts: dict[str, float], no_torch: str) -> str:
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
        found = [
            f"- vectorized / {baseline_name} at N = {largest}, float64: {ratio:.2f}x "
            f"(target <= {target:.1f}x): **{verdict}**"
        ]
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
            lines.append(
                f"- naive / vectorized at N = {naive_n}, {dtype}: "
                f"{row['naive'] / row['vectorized']:.1f}x (reported, no target)"
            )
    step_products = parts["scores product"] + parts["dW product"]
    copying = parts["sample"] + parts["gather"]
    verdict = "met" if step_products > copying else "not met"
    lines.append(
        f"- SGD step: the two products take {100 * step_products / parts['step']:.0f}% of it, sampling "
        f"and gathering the batch {100 * copying / parts['step']:.0f}% "
        f"(target: the products dominate): **{verdict}**"
    )
    return "\n".join(lines)
