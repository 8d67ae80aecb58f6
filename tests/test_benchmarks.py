"""Tests for benchmarks/bench_softmax.py: it runs and prints the tables it promises.

The benchmark runs once, in its quickest mode (tiny sizes, one repetition),
as the documented command. Timings are never asserted: only the shape of the
output, so the README's Speed section can always be regenerated.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import bench_softmax as bench

REPO_ROOT = Path(__file__).resolve().parent.parent
# The quick run takes about two seconds; a minute means something hangs.
QUICK_RUN_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def quick_output() -> str:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_softmax", "--quick", "--no-torch"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=QUICK_RUN_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, f"the quick benchmark failed:\n{result.stderr}"
    return result.stdout


def table_rows(output: str, header: tuple[str, ...]) -> list[list[str]]:
    """The body rows of the Markdown table whose header is `header`, as cells."""
    lines = output.splitlines()
    header_line = "| " + " | ".join(header) + " |"
    assert header_line in lines, f"no table with header\n{header_line}\nin the output:\n{output}"
    rows = []
    for line in lines[lines.index(header_line) + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_loss_table_has_one_row_per_size_and_dtype(quick_output):
    rows = table_rows(quick_output, bench.LOSS_HEADERS)
    expected = [(str(n), np.dtype(dt).name) for n in bench.QUICK_SIZES for dt in bench.DTYPES]
    assert [(row[0], row[1]) for row in rows] == expected


def test_loss_table_fills_every_column(quick_output):
    column = {name: i for i, name in enumerate(bench.LOSS_HEADERS)}
    for row in table_rows(quick_output, bench.LOSS_HEADERS):
        assert len(row) == len(bench.LOSS_HEADERS), f"row has {len(row)} cells: {row}"
        for name in ("vectorized", "two products", "one read of X", "input checks"):
            assert row[column[name]].endswith(" ms"), f"{name} should be a time, got {row[column[name]]!r}"
        for name in ("vectorized / two products", "vectorized / one read"):
            assert row[column[name]].endswith("x"), f"{name} should be a ratio, got {row[column[name]]!r}"
        # --no-torch: the torch columns say so instead of going blank.
        assert row[column["torch"]] == bench.SKIPPED
        assert row[column["vectorized / torch"]] == bench.SKIPPED


def test_naive_is_timed_only_up_to_its_size_limit(quick_output):
    column = {name: i for i, name in enumerate(bench.LOSS_HEADERS)}
    for row in table_rows(quick_output, bench.LOSS_HEADERS):
        timed = int(row[0]) <= bench.NAIVE_MAX_N
        naive, ratio = row[column["naive"]], row[column["naive / vectorized"]]
        if timed:
            assert naive.endswith(" ms") and ratio.endswith("x"), f"N={row[0]}: naive {naive!r}, ratio {ratio!r}"
        else:
            assert naive == bench.NOT_RUN and ratio == bench.NOT_RUN


def test_layout_table_marks_the_reference_layout(quick_output):
    rows = table_rows(quick_output, bench.LAYOUT_HEADERS)
    assert len(rows) == len(bench.QUICK_SIZES) * len(bench.DTYPES)
    reference = [
        bench.LAYOUT_HEADERS.index(bench.REFERENCE_SCORES),
        bench.LAYOUT_HEADERS.index(bench.REFERENCE_GRADIENT),
    ]
    for row in rows:
        bold = [i for i, cell in enumerate(row) if cell.startswith("**")]
        assert bold == reference, f"the reference layout should be in bold: {row}"


def test_training_report_gives_iterations_per_second_and_a_breakdown(quick_output):
    assert "iterations/s**" in quick_output
    rows = table_rows(quick_output, bench.STEP_HEADERS)
    labels = [row[0] for row in rows]
    assert any("gather" in label for label in labels) and any("product" in label for label in labels)
    assert labels[-1].startswith("one whole step") and rows[-1][2] == "100%"


def test_machine_line_names_cores_numpy_and_blas(quick_output):
    machine = [line for line in quick_output.splitlines() if line.startswith("Machine:")]
    assert len(machine) == 1, f"expected one machine line, got {machine}"
    assert "cores" in machine[0] and f"NumPy {np.__version__}" in machine[0]
    assert bench.blas_description() in machine[0]


@pytest.mark.parametrize("dtype", bench.DTYPES, ids=lambda dt: np.dtype(dt).name)
def test_product_layouts_compute_the_same_numbers(dtype):
    # Each layout timed must be the same product, or the comparison is void.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 7)).astype(dtype)
    W = rng.standard_normal((7, 4)).astype(dtype)
    dscores = rng.standard_normal((30, 4)).astype(dtype)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    for name, form in bench.SCORES_FORMS.items():
        np.testing.assert_allclose(form(X, W), X @ W, rtol=tol, err_msg=name)
    for name, form in bench.GRADIENT_FORMS.items():
        np.testing.assert_allclose(form(X, dscores), X.T @ dscores, rtol=tol, err_msg=name)


def test_bounds_table_relates_each_product_to_one_read_and_square_products(quick_output):
    rows = table_rows(quick_output, bench.BOUND_HEADERS)
    assert [row[0] for row in rows] == [np.dtype(dt).name for dt in bench.DTYPES]
    column = {name: i for i, name in enumerate(bench.BOUND_HEADERS)}
    for row in rows:
        for name in ("scores product", "dW product"):
            assert row[column[name]].endswith(" reads)"), f"{name}: {row[column[name]]!r}"
        for name in ("products' rate", "square-product rate"):
            assert row[column[name]].endswith(" GFLOP/s"), f"{name}: {row[column[name]]!r}"
        # The instructors' repository times it; the student kit has no such file.
        blocked = row[column["row-blocked loop"]]
        if bench.softmax_loss_row_blocked is None:
            assert blocked == bench.NOT_IN_KIT
        else:
            assert blocked.endswith(" ms"), f"row-blocked loop: {blocked!r}"


def test_machine_line_names_the_blas_kernel_that_runs(quick_output):
    pytest.importorskip("threadpoolctl", reason="threadpoolctl (requirements.txt) names the running BLAS")
    machine = next(line for line in quick_output.splitlines() if line.startswith("Machine:"))
    for info in bench.blas_runtime():
        assert f"{info['architecture']} kernel" in machine, f"the kernel {info['architecture']} is not named: {machine}"
        assert f"{info['num_threads']} thread" in machine


def test_machine_line_says_when_OPENBLAS_CORETYPE_forces_an_older_kernel():
    # Pure text: the variable itself is never changed by a test.
    forced = bench.kernel_text("Haswell", forced="Haswell", own="SkylakeX")
    assert "FORCED by OPENBLAS_CORETYPE=Haswell" in forced and "SkylakeX" in forced
    assert "FORCED" not in bench.kernel_text("SkylakeX", forced="SkylakeX", own="SkylakeX")
    assert bench.kernel_text("Zen", forced=None, own=None) == "Zen kernel, this CPU's own"


def test_own_kernel_asks_a_python_without_OPENBLAS_CORETYPE():
    pytest.importorskip("threadpoolctl")
    running = [i["architecture"] for i in bench.blas_runtime() if i.get("internal_api") == "openblas"]
    if not running:
        pytest.skip("NumPy here does not use OpenBLAS")
    own = bench.own_kernel()
    assert own, "a fresh Python should report OpenBLAS's kernel"
    if "OPENBLAS_CORETYPE" not in os.environ:
        assert own == running[0]
