"""The notebooks as the instructor commits them: clean, in step with their sources, one kernel.

A student's copy has run (submit.py requires outputs) and may name another
kernel, so these check the instructor's repository only; the notebooks'
own behaviour is tested where students run it (tests/test_notebook.py,
tests/test_derivation.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from instructor import REPO_ROOT, notebook_source
from kit import kernel
from tests.test_notebook import (
    CELL_TIMEOUT_SECONDS,
    SMALL_RUN,
    kernel_for_this_interpreter,
    parameters_index,
    printed,
    read_notebook,
    small_synthetic_dataset,  # noqa: F401 - a fixture
)

REPO = REPO_ROOT
NOTEBOOKS = ("assignment.ipynb", "derivation.ipynb")


def test_setup_sh_registers_the_kit_kernel_inside_the_venv():
    text = (REPO / "setup.sh").read_text()
    assert '"$VENV/bin/python" -m kit.kernel' in text, "setup.sh should register the kernel with kit/kernel.py"
    assert "--user" not in text, "a per-user kernel is taken over by whichever copy of the kit ran setup.sh last"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_committed_without_outputs_or_execution_counts(name):
    notebook = nbformat.read(REPO / name, as_version=4)
    executed = [
        f"cell {i} ({cell.get('id')})"
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not executed, (
        f"{name} has outputs: regenerate it from its source with "
        f"`{notebook_source.SYNC_COMMAND}`: " + ", ".join(executed)
    )


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_in_step_with_its_jupytext_source(name):
    pair = notebook_source.source_of(name, REPO)
    assert pair is not None, f"{name} has no source in {notebook_source.SOURCE_DIR}/"
    problems = notebook_source.check(pair, REPO)
    problems += [
        f'cell {i + 1} of {pair.source} has no id="..." (`{notebook_source.SYNC_COMMAND}` names it)'
        for i, cell in enumerate(notebook_source.read_source(REPO / pair.source).cells)
        if notebook_source.ID_KEY not in cell.metadata
    ]
    assert not problems, "\n".join(problems)
    formats = nbformat.read(REPO / name, as_version=4).metadata.get("jupytext", {}).get("formats")
    assert formats == notebook_source.PAIRING, f"jupytext pairing in {name}: {formats!r}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_kernel_is_the_one_setup_sh_registers(name):
    kernelspec = nbformat.read(REPO / name, as_version=4).metadata.get("kernelspec", {})
    assert (kernelspec.get("name"), kernelspec.get("display_name")) == (kernel.KERNEL_NAME, kernel.DISPLAY_NAME), (
        f"{name}'s kernelspec {kernelspec} should be the kernel setup.sh registers (kit/kernel.py)"
    )


def test_notebook_setup_and_readme_name_one_kernel():
    # The display name names the kit's folder: the notebook and the README give the same example.
    name, example = kernel.KERNEL_NAME, kernel.display_name(Path.home() / "cs231n" / "softmax-kit")
    notebook = read_notebook()
    text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    readme = (REPO / "README.md").read_text()
    for where, words in (("the notebook's text", text), ("README.md", readme)):
        assert f"**{example}**" in words and f"`{name}`" in words, (
            f"{where} should name the kernel {example!r} ({name})"
        )
        others = {"Python 3 (ipykernel)", "python3 kernel"} & set(
            re.findall(r"Python 3 \(ipykernel\)|python3 kernel", words)
        )
        assert not others, f"{where} names another kernel: {others}"


@pytest.mark.slow
def test_notebook_stops_before_training_on_a_diagnosed_mistake(small_synthetic_dataset, tmp_path):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("MPLBACKEND", "Agg")
        kernel_name = kernel_for_this_interpreter(tmp_path, monkeypatch)
        notebook = read_notebook()
        overrides = {"cifar10_dir": str(small_synthetic_dataset), **SMALL_RUN}
        injected = "\n".join(f"{name} = {value!r}" for name, value in overrides.items())
        # The naive loss is right; the vectorized one lacks 2 * reg * W in its gradient.
        injected += (
            "\nfrom instructor.tests.mutants import LOSS_MISTAKES, loss_mutant"
            "\n_, softmax_loss_vectorized = loss_mutant(LOSS_MISTAKES['vectorized: no reg in the gradient'])"
        )
        notebook.cells.insert(parameters_index(notebook) + 1, nbformat.v4.new_code_cell(injected))
        client = NotebookClient(
            notebook, timeout=CELL_TIMEOUT_SECONDS, kernel_name=kernel_name, resources={"metadata": {"path": str(REPO)}}
        )
        with pytest.raises(CellExecutionError) as stopped:
            client.execute()
    message = str(stopped.value)
    assert "stopping before training" in message and "[reg-missing-in-gradient]" in message, message[-2000:]
    train = next(cell for cell in notebook.cells if cell.get("id") == "train")
    assert train.execution_count is None and not train.outputs, "the training cell ran"
    # The comparison of the two versions says so itself, in its own cell (not only in the verdicts below).
    shown = printed(next(cell for cell in notebook.cells if cell.get("id") == "vectorized"))
    gradient = next(line for line in shown.splitlines() if line.startswith("gradient:"))
    assert "FAIL: the two versions disagree" in gradient, shown
