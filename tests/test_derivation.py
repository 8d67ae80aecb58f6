"""Tests for derivation.ipynb, the companion notebook with the derivation.

The notebook runs end to end (nbclient, a few seconds), every cell tagged
`check` prints PASSED and nothing FAILED, and no function it defines is the
assignment's answer. (The committed file and its Jupytext source are checked
by instructor/tests/test_notebooks.py.)

    .venv/bin/python -m pytest tests/test_derivation.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from tests.test_notebook import kernel_for_this_interpreter

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO / "derivation.ipynb"
CHECK_TAG = "check"
# One check cell per claim: cross-entropy, the two routes, J's sums, the older
# layout, bools, overflow thresholds, the three forms, sigmoid, Hessian, bias.
MIN_CHECK_CELLS = 10
CELL_TIMEOUT_SECONDS = 120  # per cell; each takes well under a second
PROBE_PREFIX = "ANSWER_PROBE "
CALLS_CHECK = re.compile(r"^\s*check\(", re.MULTILINE)

# Appended to the notebook: call every function it defined with the arguments
# of softmax_loss_naive / softmax_loss_vectorized (kit shapes, D != N != C so
# that a transposed layout fails). Any function that returns an array of W's
# shape there would be the answer, ready to call.
ANSWER_PROBE_CELL = f"""
import json as _json, types as _types
import numpy as _np
_rng = _np.random.default_rng(0)
_W, _X, _y = _rng.standard_normal((5, 3)), _rng.standard_normal((7, 5)), _rng.integers(0, 3, size=7)
_answers = []
for _name, _value in list(globals().items()):
    if _name.startswith("_") or not isinstance(_value, _types.FunctionType):
        continue
    try:
        _out = _value(_W.copy(), _X.copy(), _y.copy(), 0.1)
    except Exception:
        continue
    if any(_np.shape(_part) == _W.shape for _part in (_out if isinstance(_out, tuple) else (_out,))):
        _answers.append(_name)
print({PROBE_PREFIX!r} + _json.dumps(_answers))
"""


def read_notebook() -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK, as_version=nbformat.NO_CONVERT)


def stdout_of(cell: nbformat.NotebookNode) -> str:
    return "".join(output.get("text", "") for output in cell.get("outputs", []) if output.output_type == "stream")


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> nbformat.NotebookNode:
    """The notebook after running every cell, plus the answer probe, from the kit's folder."""
    from nbclient import NotebookClient

    tmp_path = tmp_path_factory.mktemp("kernel")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("MPLBACKEND", "Agg")
        kernel_name = kernel_for_this_interpreter(tmp_path, monkeypatch)
        notebook = read_notebook()
        notebook.cells.append(nbformat.v4.new_code_cell(ANSWER_PROBE_CELL))
        client = NotebookClient(
            notebook, timeout=CELL_TIMEOUT_SECONDS, kernel_name=kernel_name, resources={"metadata": {"path": str(REPO)}}
        )
        client.execute()  # raises CellExecutionError, with the FAILED message, on any error
    return notebook


def check_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if CHECK_TAG in cell.metadata.get("tags", [])]


# --- running it -------------------------------------------------------------


def test_every_check_cell_of_the_derivation_passes(executed):
    cells = check_cells(executed)
    assert len(cells) >= MIN_CHECK_CELLS, f"expected at least {MIN_CHECK_CELLS} check cells, found {len(cells)}"
    problems = []
    for cell in cells:
        text = stdout_of(cell)
        if "PASSED:" not in text or "FAILED" in text:
            first_line = cell.source.splitlines()[0]
            problems.append(f"the check cell starting {first_line!r} printed:\n{text or '(nothing)'}")
    assert not problems, "\n\n".join(problems)


def test_derivation_defines_no_function_that_answers_the_assignment(executed):
    lines = [line for line in stdout_of(executed.cells[-1]).splitlines() if line.startswith(PROBE_PREFIX)]
    assert len(lines) == 1, f"the probe cell printed no result: {executed.cells[-1].outputs}"
    answers = json.loads(lines[0][len(PROBE_PREFIX) :])
    assert not answers, (
        f"derivation.ipynb defines {answers}: called like softmax_loss_naive(W, X, y, reg) it returns an array "
        "of W's shape, an answer a student can call. Keep the derivation on single score vectors, or on "
        "the older (C, D) layout written out as a loop"
    )


# --- the file ---------------------------------------------------------------


def test_every_cell_that_checks_is_tagged_and_every_tagged_cell_checks():
    untagged, idle = [], []
    for i, cell in enumerate(read_notebook().cells):
        if cell.cell_type != "code":
            continue
        tagged, calls_check = CHECK_TAG in cell.metadata.get("tags", []), bool(CALLS_CHECK.search(cell.source))
        if calls_check and not tagged:
            untagged.append(i)
        if tagged and not calls_check:
            idle.append(i)
    assert not untagged, f"cells {untagged} call check() but are not tagged {CHECK_TAG!r}: the test would not read them"
    assert not idle, f"cells {idle} are tagged {CHECK_TAG!r} but never call check()"
