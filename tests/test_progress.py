"""Tests for kit/progress.py: progress that survives saving the notebook.

In a terminal the line is redrawn on stderr; in a notebook the saved output
is the finished line as plain text (no widget, no half-drawn bar), which is
what JupyterLab, nbviewer and GitHub then show.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from classifiers.linear_classifier import Softmax
from kit.progress import progress

# "SGD: 30/30 steps, loss 1.1 -> 1.09, 0.2 s"
FINISHED_SGD = re.compile(r"SGD: (\d+)/(\d+) steps, loss \S+ -> \S+, [\d.]+ s")
WIDGET = "application/vnd.jupyter.widget-view+json"
KIT_ROOT = Path(__file__).resolve().parent.parent


def small_problem(num_train: int = 200, dim: int = 8, num_classes: int = 3):
    rng = np.random.default_rng(0)
    return rng.standard_normal((num_train, dim)), rng.integers(0, num_classes, num_train)


def test_train_verbose_ends_with_one_finished_line_on_stderr(capsys):
    X, y = small_problem()
    Softmax().train(X, y, num_iters=30, verbose=True, seed=0)
    err = capsys.readouterr().err
    last = err.rstrip("\n").split("\r")[-1].strip()
    assert FINISHED_SGD.fullmatch(last) and FINISHED_SGD.fullmatch(last).groups() == ("30", "30"), repr(err)
    assert err.endswith("\n"), "the finished line should end the output"


def test_train_quiet_shows_nothing(capsys):
    X, y = small_problem()
    Softmax().train(X, y, num_iters=30, seed=0)
    assert capsys.readouterr().err == ""


def test_outside_a_kernel_progress_never_imports_ipython():
    # Importing IPython takes about 0.1 s: paid by every pytest run and every graded submission.
    code = "import sys; from kit.progress import progress; list(progress(range(3))); print(sorted(sys.modules))"
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=KIT_ROOT)
    assert "'IPython'" not in shown.stdout


def test_a_loop_that_stops_early_says_so(capsys):
    steps = progress(range(10), desc="SGD", unit="steps")
    for it in steps:
        if it == 3:
            break
    steps.close()
    assert "SGD: stopped at 3/10 steps" in capsys.readouterr().err


def test_loss_line_shows_the_first_and_the_latest_loss(capsys):
    steps = progress(range(2), desc="SGD", unit="steps")
    for loss in steps:
        steps.record_loss(302.4 if loss == 0 else 2.1)
    assert "SGD: 2/2 steps, loss 302 -> 2.1, " in capsys.readouterr().err


PROGRESS_CELLS = [
    "import numpy as np\nfrom classifiers.linear_classifier import Softmax\nfrom kit.progress import progress\n"
    "rng = np.random.default_rng(0)\nX, y = rng.standard_normal((200, 8)), rng.integers(0, 3, 200)",
    # Enough steps that the bar is redrawn while it runs.
    "import time\nfor it in progress(range(4), desc='grid search', unit='runs'):\n    time.sleep(0.25)",
    "history = Softmax().train(X, y, num_iters=2000, verbose=True, seed=0)",
]


@pytest.mark.slow
def test_saved_notebook_holds_the_finished_line_not_a_widget(tmp_path, monkeypatch):
    from nbclient import NotebookClient

    from tests.test_notebook import REPO, kernel_for_this_interpreter

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code) for code in PROGRESS_CELLS])
    kernel = kernel_for_this_interpreter(tmp_path, monkeypatch)
    NotebookClient(notebook, timeout=120, kernel_name=kernel, resources={"metadata": {"path": str(REPO)}}).execute()
    saved = nbformat.writes(notebook)  # what "Save" writes
    assert WIDGET not in saved and "Error" not in saved, saved
    for cell, pattern in (
        (notebook.cells[1], r"grid search: 4/4 runs, [\d.]+ s"),
        (notebook.cells[2], FINISHED_SGD.pattern),
    ):
        assert len(cell.outputs) == 1, f"expected one output, the finished line: {cell.outputs}"
        output = cell.outputs[0]
        assert set(output.data) == {"text/plain"}, f"the live bar should be gone once finished: {output.data}"
        assert re.fullmatch(pattern, output.data["text/plain"]), output.data["text/plain"]
    assert "2000/2000 steps" in notebook.cells[2].outputs[0].data["text/plain"]
