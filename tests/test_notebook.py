"""Tests for assignment.ipynb: the file is clean, and the notebook runs end to end.

Static checks (fast): valid nbformat v4; one cell tagged `parameters` that
sets every run setting, which no later cell reassigns; solution markers
paired. (The committed file itself, its outputs and its Jupytext source, is
the instructor's business: instructor/tests/test_notebooks.py.)

The execution test (marked slow, about half a minute) writes a small synthetic
stand-in into a temporary directory, shrinks the run papermill-style by
inserting a cell right after the `parameters` cell, executes every cell with
nbclient (any cell error fails the test), and reads back the results that an
appended cell prints as JSON. The kernel is `softmax-kit` (registered by
setup.sh) when it runs this interpreter, else this interpreter itself.

    .venv/bin/python -m pytest tests/test_notebook.py              # everything
    .venv/bin/python -m pytest tests/test_notebook.py -m "not slow"  # static only
"""

from __future__ import annotations

import ast
import json
import math
import os
import re
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO / "assignment.ipynb"
PARAMETERS_TAG = "parameters"
KIT_KERNEL = "softmax-kit"  # the kernel setup.sh registers for .venv
# Split so that this file never holds a marker line itself (the release checks for them).
BEGIN, END = "### BEGIN " + "SOLUTION", "### END " + "SOLUTION"

# Every setting a run may change; the parameters cell must set each one.
PARAMETER_NAMES = {
    "cifar10_dir",
    "num_training",
    "num_validation",
    "num_test",
    "num_dev",
    "dtype",
    "learning_rates",
    "regularization_strengths",
    "num_iters",
    "batch_size",
    "seed",
}

# The shrunken run: 500 training images (400 train + 100 validation), 100 test.
SYNTHETIC_TRAIN, SYNTHETIC_TEST = 500, 100
SMALL_RUN = {
    "num_training": 400,
    "num_validation": 100,
    "num_test": 100,
    "num_dev": 100,
    "learning_rates": [1e-7, 1e-6],
    "regularization_strengths": [1e3, 1e4],
    "num_iters": 80,
    "batch_size": 50,
    "seed": 0,
}
CELL_TIMEOUT_SECONDS = 300  # per cell: generous for a loaded CI machine, still finite
NUM_CLASSES = 10
# The stand-in is about as hard as CIFAR-10 for a linear classifier, and this run
# is tiny (400 images, 80 steps): its best validation accuracy is 0.26 on 100
# images (0.30 on the test set, 0.47 training), and the smallest learning rate
# barely leaves chance (0.13). Above chance (0.1) by two standard errors of 100
# images, and below what only an easy dataset gives (the old stand-in's shapes: 0.8).
MIN_ACCURACY, MAX_ACCURACY = 0.18, 0.6
# The gradient check's verdict threshold (gradient_check.PASS_THRESHOLD) ...
GRAD_CHECK_PASS = 1e-5
# ... and the Jacobian check: finite differences on 10 well-scaled scores reach ~1e-10.
JACOBIAN_TOL = 1e-7
# With weights of size 1e-4 the first loss is log(10) give or take about a tenth.
INITIAL_LOSS_TOL = 0.3
RESULTS_PREFIX = "NOTEBOOK_RESULTS "

# Appended to the notebook: everything the test checks, as one line of JSON.
REPORT_CELL = f"""
import json as _json, sys as _sys
print({RESULTS_PREFIX!r} + _json.dumps({{
    "executable": _sys.executable,
    "in_colab": IN_COLAB,
    "cwd": __import__("os").getcwd(),
    "test_accuracy": float(test_accuracy),
    "best_val": float(best_val),
    "best_W_shape": list(best_softmax.W.shape),
    "results": [[lr, reg, float(tr), float(va)] for (lr, reg), (tr, va) in results.items()],
    "grad_checks": {{
        repr(float(reg)): {{"max_rel_error": r.max_rel_error, "passed": r.passed,
                            "num_checked": r.num_checked}}
        for reg, r in grad_checks.items()
    }},
    "loss_reports": {{name: [f.code for f in r.findings] for name, r in loss_reports.items()}},
    "vectorized_check_passed": bool(vectorized_check),
    "training_report": [f.code for f in training_report.findings],
    "jacobian_error": float(jacobian_error),
    "dL_ds_error": float(dL_ds_error),
    "initial_loss": float(initial_loss),
    "loss_difference": float(loss_difference),
    "grad_difference": float(grad_difference),
    "train_accuracy": float(train_accuracy),
    "val_accuracy": float(val_accuracy),
    "num_losses": len(loss_history),
    "shapes": {{name: list(value.shape) for name, value in
               [("X_train", X_train), ("X_val", X_val), ("X_test", X_test), ("X_dev", X_dev)]}},
    "synthetic": bool(data["synthetic"]),
    "dtypes": {{name: str(value.dtype) for name, value in
               [("X_train", X_train), ("X_val", X_val), ("X_test", X_test), ("X_dev", X_dev), ("W", best_softmax.W)]}},
}}))
"""


def read_notebook() -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK, as_version=nbformat.NO_CONVERT)


def parameters_index(notebook: nbformat.NotebookNode) -> int:
    tagged = [i for i, cell in enumerate(notebook.cells) if PARAMETERS_TAG in cell.metadata.get("tags", [])]
    if len(tagged) != 1:
        raise ValueError(f"expected exactly one cell tagged {PARAMETERS_TAG!r}, got {len(tagged)}")
    return tagged[0]


def python_of(cell: nbformat.NotebookNode) -> ast.Module:
    """A code cell's source as Python, with IPython magics and shell lines blanked out."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in cell.source.splitlines()]
    return ast.parse("\n".join(lines))


def assigned_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
    return names


# --- the file ---------------------------------------------------------------


def test_notebook_is_valid_nbformat_4():
    notebook = read_notebook()
    assert notebook.nbformat == 4, f"expected nbformat 4, got {notebook.nbformat}"
    nbformat.validate(notebook)
    ids = [cell.get("id") for cell in notebook.cells]
    assert len(set(ids)) == len(ids), "cell ids must be unique"


def test_exactly_one_parameters_cell_sets_every_run_setting():
    notebook = read_notebook()
    cell = notebook.cells[parameters_index(notebook)]
    assert cell.cell_type == "code"
    missing = PARAMETER_NAMES - assigned_names(python_of(cell))
    assert not missing, f"the parameters cell should set {sorted(missing)}"


def test_no_later_cell_reassigns_a_parameter():
    notebook = read_notebook()
    start = parameters_index(notebook) + 1
    offenders = []
    for i, cell in enumerate(notebook.cells[start:], start=start):
        if cell.cell_type == "code":
            clash = assigned_names(python_of(cell)) & PARAMETER_NAMES
            if clash:
                offenders.append(f"cell {i} ({cell.get('id')}) sets {sorted(clash)}")
    assert not offenders, "settings belong in the parameters cell only:\n" + "\n".join(offenders)


def test_every_solution_region_is_closed_in_its_own_cell():
    problems = []
    for i, cell in enumerate(read_notebook().cells):
        open_line = None
        for number, line in enumerate(cell.source.splitlines(), start=1):
            text = line.strip()
            if "BEGIN SOLUTION" in text.upper() or "END SOLUTION" in text.upper():
                if text not in (BEGIN, END):
                    problems.append(f"cell {i}, line {number}: malformed marker {text!r}")
                elif text == BEGIN and open_line is not None:
                    problems.append(f"cell {i}, line {number}: nested {BEGIN!r} (open since line {open_line})")
                elif text == BEGIN:
                    open_line = number
                elif open_line is None:
                    problems.append(f"cell {i}, line {number}: {END!r} without a {BEGIN!r}")
                else:
                    open_line = None
        if open_line is not None:
            problems.append(f"cell {i}, line {open_line}: {BEGIN!r} never closed")
    assert not problems, "\n".join(problems)


# --- running it -------------------------------------------------------------


def _is_this_python(argv0: str) -> bool:
    # jupyter_client runs sys.executable for a bare "python" / "python3" / "python3.X".
    bare = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
    # No symlink resolution: a venv's python links to the system one but has other packages.
    return argv0 in bare or os.path.abspath(argv0) == os.path.abspath(sys.executable)


def kernel_for_this_interpreter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernel name that runs sys.executable: softmax-kit, python3, or a temporary one."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    manager = KernelSpecManager()
    for name in (KIT_KERNEL, "python3"):
        try:
            spec = manager.get_kernel_spec(name)
        except NoSuchKernel:
            continue
        if spec.argv and _is_this_python(spec.argv[0]):
            return name
    # Neither runs this interpreter (e.g. a user-wide python3 kernel for another
    # Python): register one for it, visible to this test only.
    name = "softmax-kit-test"
    spec_dir = tmp_path / "jupyter" / "kernels" / name
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "softmax kit (test)",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return name


@pytest.fixture(scope="module")
def small_synthetic_dataset(tmp_path_factory) -> Path:
    from data.get_cifar10 import make_synthetic_cifar10

    return make_synthetic_cifar10(tmp_path_factory.mktemp("cifar10"), SYNTHETIC_TRAIN, SYNTHETIC_TEST, seed=0)


@pytest.fixture(scope="module")
def notebook_run(small_synthetic_dataset, tmp_path_factory) -> dict | Exception:
    """Run the whole notebook once on the small stand-in.

    Returns the results it printed, or the error that stopped it: each test
    raises that error in its own body, where tests/conftest.py can turn "not
    implemented yet" into one line (errors in a fixture would bypass it).
    """
    from nbclient.exceptions import CellExecutionError

    try:
        return execute_notebook(small_synthetic_dataset, tmp_path_factory.mktemp("kernel"))
    except CellExecutionError as error:
        return error


def results_of(notebook_run: dict | Exception) -> dict:
    """The notebook's results; re-raises, in the calling test, the error that stopped it."""
    if isinstance(notebook_run, Exception):
        raise notebook_run
    return notebook_run


SECTION_HEADING = re.compile(r"^#{1,2} (?P<title>.+)$")  # the title and the numbered "## " sections


def describe_failed_cell(notebook) -> str | None:
    """The first cell with an error output, as a student finds it: its first line and its section."""
    section = None
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                heading = SECTION_HEADING.match(line)
                section = heading["title"].strip() if heading else section
        elif any(output.get("output_type") == "error" for output in cell.get("outputs", [])):
            code = [
                line.strip() for line in cell.source.splitlines() if line.strip() and not line.lstrip().startswith("#")
            ]
            where = f"the cell starting {code[0]!r}" if code else "a cell"
            return where + (f' in section "{section}"' if section else "")
    return None


def execute_notebook(dataset: Path, tmp_path: Path) -> dict:
    """Execute assignment.ipynb on `dataset` with SMALL_RUN; return the printed results."""
    from nbclient import NotebookClient

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("MPLBACKEND", "Agg")
        monkeypatch.delenv("CIFAR10_DIR", raising=False)
        kernel_name = kernel_for_this_interpreter(tmp_path, monkeypatch)

        notebook = read_notebook()
        overrides = {"cifar10_dir": str(dataset), **SMALL_RUN}
        injected = "\n".join(f"{name} = {value!r}" for name, value in overrides.items())
        notebook.cells.insert(parameters_index(notebook) + 1, nbformat.v4.new_code_cell(injected))
        notebook.cells.append(nbformat.v4.new_code_cell(REPORT_CELL))

        client = NotebookClient(
            notebook,
            timeout=CELL_TIMEOUT_SECONDS,
            kernel_name=kernel_name,
            resources={"metadata": {"path": str(REPO)}},  # run from the kit's folder, as Jupyter does
        )
        try:
            client.execute()  # raises CellExecutionError on any error
        except Exception as error:
            # The injected cell shifts the In[n] numbers the error quotes, so
            # conftest names the failing cell by its first line and section instead.
            error.notebook_cell = describe_failed_cell(notebook)
            raise

    lines = [
        line
        for output in notebook.cells[-1].outputs
        if output.output_type == "stream"
        for line in output.text.splitlines()
        if line.startswith(RESULTS_PREFIX)
    ]
    assert len(lines) == 1, f"the report cell printed no results: {notebook.cells[-1].outputs}"
    results = json.loads(lines[0][len(RESULTS_PREFIX) :])
    results["printed"] = {cell.get("id"): printed(cell) for cell in notebook.cells if cell.cell_type == "code"}
    results["load_output"] = results["printed"]["load-data"]
    return results


def printed(cell) -> str:
    """What a code cell shows as text: its prints and the plain text of its displays."""
    return "\n".join(output.get("text", "") or output.get("data", {}).get("text/plain", "") for output in cell.outputs)


@pytest.mark.slow
def test_notebook_runs_in_this_interpreter_on_the_synthetic_stand_in(notebook_run):
    executed = results_of(notebook_run)
    assert os.path.abspath(executed["executable"]) == os.path.abspath(sys.executable), (
        f"the kernel ran {executed['executable']}, not this interpreter {sys.executable}"
    )
    assert executed["in_colab"] is False and Path(executed["cwd"]) == REPO, (
        f"outside Colab the first cell should do nothing: {executed['in_colab']}, cwd {executed['cwd']}"
    )
    assert executed["synthetic"] is True, "the loader should report the stand-in as synthetic"
    assert "SYNTHETIC DATA" in executed["load_output"], (
        f"the data cell should show the synthetic-data banner; it printed:\n{executed['load_output']}"
    )


@pytest.mark.slow
def test_notebook_honours_the_sizes_from_the_parameters_cell(notebook_run):
    executed = results_of(notebook_run)
    dim = 32 * 32 * 3 + 1
    expected = {
        "X_train": [SMALL_RUN["num_training"], dim],
        "X_val": [SMALL_RUN["num_validation"], dim],
        "X_test": [SMALL_RUN["num_test"], dim],
        "X_dev": [SMALL_RUN["num_dev"], dim],
    }
    assert executed["shapes"] == expected
    assert executed["num_losses"] == SMALL_RUN["num_iters"], "the first training run ignored num_iters"
    pairs = sorted((lr, reg) for lr, reg, _, _ in executed["results"])
    grid = sorted((lr, reg) for lr in SMALL_RUN["learning_rates"] for reg in SMALL_RUN["regularization_strengths"])
    assert pairs == grid, f"the search should try exactly the grid of the parameters cell: {pairs}"


@pytest.mark.slow
def test_notebook_trains_in_float32_and_checks_gradients_in_float64(notebook_run):
    # float32 halves the time of each SGD step (the full-size run: 41 s instead of 76 s);
    # finite differences of the loss need float64's digits.
    dtypes = results_of(notebook_run)["dtypes"]
    assert dtypes == {"X_train": "float32", "X_val": "float32", "X_test": "float32", "X_dev": "float64", "W": "float32"}


@pytest.mark.slow
def test_notebook_gradient_checks_pass_with_and_without_regularization(notebook_run):
    executed = results_of(notebook_run)
    checks = executed["grad_checks"]
    assert "0.0" in checks and len(checks) == 2, f"expected a check at reg = 0 and one at a large reg, got {checks}"
    large_reg = max(float(reg) for reg in checks)
    assert large_reg >= 1e3, f"the regularized check should use a large reg, got {large_reg}"
    for reg, check in checks.items():
        assert check["num_checked"] > 0
        assert check["passed"] and check["max_rel_error"] < GRAD_CHECK_PASS, f"reg = {reg}: {check}"
    assert executed["jacobian_error"] < JACOBIAN_TOL and executed["dL_ds_error"] < JACOBIAN_TOL, executed


@pytest.mark.slow
def test_notebook_gives_both_losses_a_verdict_and_checks_the_vectorized_gradient(notebook_run):
    executed = results_of(notebook_run)
    assert executed["loss_reports"] == {"softmax_loss_naive": [], "softmax_loss_vectorized": []}, executed[
        "loss_reports"
    ]
    assert executed["vectorized_check_passed"]
    assert executed["training_report"] == []


@pytest.mark.slow
def test_notebook_losses_and_naive_vectorized_agreement_are_sensible(notebook_run):
    executed = results_of(notebook_run)
    assert abs(executed["initial_loss"] - math.log(NUM_CLASSES)) < INITIAL_LOSS_TOL, executed["initial_loss"]
    assert executed["loss_difference"] < 1e-10, executed["loss_difference"]
    assert executed["grad_difference"] < 1e-8, executed["grad_difference"]


# The cells that compare two numbers, and what each prints when they agree: the
# verdict sits in the same cell as the numbers, never only further down.
VERDICTS = {
    "jacobian-check": ("relative error", "PASS"),
    "sanity-check": ("log(10)", "PASS"),
    "vectorized": ("Frobenius norm of the difference", "PASS"),
    "test-accuracy": ("validation:", "close to the validation accuracy"),
}


@pytest.mark.slow
def test_every_comparison_the_notebook_prints_carries_its_verdict(notebook_run):
    shown = results_of(notebook_run)["printed"]
    for cell_id, (numbers, verdict) in VERDICTS.items():
        text = shown[cell_id]
        assert numbers in text and verdict in text and "FAIL" not in text, f"cell {cell_id} printed:\n{text}"
    lines = [line for line in shown["vectorized"].splitlines() if line.startswith(("loss:", "gradient:"))]
    assert len(lines) == 2 and all(line.endswith("PASS: the same, to rounding") for line in lines), lines


@pytest.mark.slow
def test_notebook_accuracies_are_sensible(notebook_run):
    executed = results_of(notebook_run)
    val_accuracies = [va for _, _, _, va in executed["results"] if not np.isnan(va)]
    assert executed["best_val"] == pytest.approx(max(val_accuracies)), (
        f"best_val {executed['best_val']} should be the best validation accuracy of the search, {max(val_accuracies)}"
    )
    for name in ("best_val", "test_accuracy", "train_accuracy", "val_accuracy"):
        value = executed[name]
        assert MIN_ACCURACY < value < MAX_ACCURACY, (
            f"{name} = {value}: expected above chance (0.1) but far from easy on the stand-in"
        )
    assert executed["best_W_shape"] == [32 * 32 * 3 + 1, NUM_CLASSES]


@pytest.mark.slow
def test_notebook_without_data_stops_with_the_command_that_fetches_it(tmp_path):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("MPLBACKEND", "Agg")
        kernel_name = kernel_for_this_interpreter(tmp_path, monkeypatch)
        notebook = read_notebook()
        start = parameters_index(notebook) + 1
        load = next(i for i, cell in enumerate(notebook.cells) if cell.get("id") == "load-data")
        empty = tmp_path / "no-data-here"
        empty.mkdir()
        # Set-up, parameters, the override, and the data cell; nothing after it.
        notebook.cells = [
            *notebook.cells[:start],
            nbformat.v4.new_code_cell(f"cifar10_dir = {str(empty)!r}"),
            *notebook.cells[start : load + 1],
        ]
        client = NotebookClient(
            notebook, timeout=CELL_TIMEOUT_SECONDS, kernel_name=kernel_name, resources={"metadata": {"path": str(REPO)}}
        )
        with pytest.raises(CellExecutionError) as stopped:
            client.execute()
    message = str(stopped.value)
    assert "FileNotFoundError" in message and ".venv/bin/python data/get_cifar10.py" in message, message
