"""Tests for submit.py: it hands in finished, fully run work and refuses the rest.

Left out of the student kit (they build kits from the instructor's solved
files). Each kit here is the graded files in a temporary directory; its
notebook is this repository's, marked as run top to bottom by giving the
code cells the execution counts 1, 2, 3, ... (what Restart and Run All
leaves), then broken in the one way a test is about.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

import submit
from instructor import REPO_ROOT, markers
from instructor.grading.submission import read_submission
from kit import stubs

REPO = REPO_ROOT
PY_FILES = ("classifiers/softmax.py", "classifiers/linear_classifier.py")
NOTEBOOK = "assignment.ipynb"
# What a refusal must name: the run-all menu item (JupyterLab 4, Notebook 7) and the README's headless command.
JUPYTERLAB_MENU = "Kernel > Restart Kernel and Run All Cells…"
COLAB_MENU = "Runtime > Restart session and run all"
HEADLESS = "nbconvert --to notebook --execute --inplace assignment.ipynb"
NOT_IN_ONE_GO = "was not run from the top in one go"


def run_all(notebook: dict) -> dict:
    """Mark every non-empty code cell as run in order, as Restart and Run All does."""
    count = 0
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code" and "".join(cell["source"]).strip():
            count += 1
            cell["execution_count"] = count
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["ok\n"]}]
    return notebook


def solved_notebook() -> dict:
    return run_all(json.loads((REPO / NOTEBOOK).read_text(encoding="utf-8")))


def code_cells(notebook: dict) -> list[dict]:
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code" and "".join(cell["source"]).strip()]


def make_kit(tmp_path: Path, notebook: dict | None = None) -> Path:
    kit = tmp_path / "kit"
    for path in PY_FILES:
        (kit / path).parent.mkdir(parents=True, exist_ok=True)
        (kit / path).write_text((REPO / path).read_text())
    (kit / NOTEBOOK).write_text(json.dumps(solved_notebook() if notebook is None else notebook))
    return kit


def submit_kit(kit: Path, tmp_path: Path, *extra: str) -> tuple[int, Path]:
    out = tmp_path / "submission.zip"
    return submit.main(["--kit", str(kit), "-o", str(out), *extra]), out


def assert_refused(kit: Path, tmp_path: Path, capsys) -> str:
    """submit.py exits 1 and writes no zip; return what it told the student."""
    status, out = submit_kit(kit, tmp_path)
    err = capsys.readouterr().err
    assert status == 1, f"expected a refusal (exit 1), got {status}; stderr:\n{err}"
    assert not out.exists() and not out.with_name(out.name + ".part").exists(), "a refused hand-in wrote a zip"
    return err


# --- finished work goes in --------------------------------------------------


def test_submit_writes_a_zip_with_exactly_the_graded_files(tmp_path, capsys):
    status, out = submit_kit(make_kit(tmp_path), tmp_path)
    assert status == 0, capsys.readouterr().err
    assert sorted(zipfile.ZipFile(out).namelist()) == sorted(submit.GRADED_FILES)


def test_the_grader_finds_every_graded_file_in_the_zip(tmp_path):
    status, out = submit_kit(make_kit(tmp_path), tmp_path)
    assert status == 0
    files, notes = read_submission(out, list(submit.GRADED_FILES))
    assert set(files) == set(submit.GRADED_FILES) and not notes


def test_stubs_are_spelled_as_the_release_writes_them():
    assert markers.CODE_STUB == (stubs.CODE_STUB_MARK, stubs.STUB_LINE)
    assert stubs.ANSWER_STUB == markers.ANSWER_STUB
    released = markers.transform_notebook((REPO / NOTEBOOK).read_text(), NOTEBOOK, strip=True)
    assert stubs.NOTEBOOK_STUB_START in released


def test_a_cell_tagged_raises_exception_may_show_its_error(tmp_path, capsys):
    notebook = solved_notebook()
    cell = code_cells(notebook)[2]
    cell["metadata"]["tags"] = ["raises-exception"]
    cell["outputs"] = [{"output_type": "error", "ename": "ValueError", "evalue": "on purpose", "traceback": []}]
    status, _ = submit_kit(make_kit(tmp_path, notebook), tmp_path)
    assert status == 0, capsys.readouterr().err


def test_a_last_cell_that_runs_submit_itself_is_not_counted(tmp_path, capsys):
    # In Colab a student hands in from a new cell; the notebook may be saved
    # before that cell has run.
    notebook = solved_notebook()
    notebook["cells"].append(
        {"cell_type": "code", "metadata": {}, "source": ["!python submit.py"], "outputs": [], "execution_count": None}
    )
    status, _ = submit_kit(make_kit(tmp_path, notebook), tmp_path)
    assert status == 0, capsys.readouterr().err


def test_a_colab_notebook_is_judged_by_its_run_timestamps(tmp_path, capsys):
    # Colab saves null execution counts and the time of each run in the metadata.
    notebook = solved_notebook()
    notebook["metadata"]["colab"] = {"provenance": []}
    for number, cell in enumerate(code_cells(notebook)):
        cell["execution_count"] = None
        cell["metadata"]["executionInfo"] = {"status": "ok", "timestamp": 1_700_000_000_000 + 1000 * number}
    status, _ = submit_kit(make_kit(tmp_path, notebook), tmp_path)
    assert status == 0, capsys.readouterr().err
    code_cells(notebook)[3]["metadata"]["executionInfo"]["timestamp"] = 1_800_000_000_000  # re-run later
    err = assert_refused(make_kit(tmp_path / "again", notebook), tmp_path / "again", capsys)
    assert NOT_IN_ONE_GO in err and "ran before the cell above it" in err
    assert COLAB_MENU in err and JUPYTERLAB_MENU not in err, "a Colab notebook needs Colab's menu only"


def test_a_colab_notebook_without_run_times_is_refused(tmp_path, capsys):
    notebook = solved_notebook()
    notebook["metadata"]["colab"] = {"provenance": []}
    for cell in code_cells(notebook):
        cell["execution_count"] = None
    err = assert_refused(make_kit(tmp_path, notebook), tmp_path, capsys)
    assert "no code cell has been run yet" in err and COLAB_MENU in err


# --- unfinished or unrun work is refused ------------------------------------


def test_submit_refuses_a_missing_file(tmp_path, capsys):
    kit = make_kit(tmp_path)
    (kit / "classifiers/softmax.py").unlink()
    assert "missing classifiers/softmax.py" in assert_refused(kit, tmp_path, capsys)


def test_submit_refuses_a_notebook_that_has_not_been_run_and_says_how(tmp_path, capsys):
    notebook = solved_notebook()
    for cell in code_cells(notebook):
        cell["execution_count"], cell["outputs"] = None, []
    err = assert_refused(make_kit(tmp_path, notebook), tmp_path, capsys)
    assert NOT_IN_ONE_GO in err and "no code cell has been run yet" in err
    assert "JupyterLab 4 and Notebook 7: " + JUPYTERLAB_MENU in err, err
    assert HEADLESS in err and "VS Code" in err


def test_submit_refuses_a_partial_run(tmp_path, capsys):
    # Run all, then stopped: the cells after the one that failed never ran.
    notebook = solved_notebook()
    for cell in code_cells(notebook)[7:]:
        cell["execution_count"], cell["outputs"] = None, []
    err = assert_refused(make_kit(tmp_path, notebook), tmp_path, capsys)
    assert f"cell {notebook['cells'].index(code_cells(notebook)[7]) + 1} (" in err
    assert "has not been run" in err and "more" in err, "a long list should be cut short"


def test_submit_refuses_cells_run_out_of_order(tmp_path, capsys):
    # A cell above re-run by hand after the rest: its count is now the highest.
    notebook = solved_notebook()
    cells = code_cells(notebook)
    cells[4]["execution_count"] = len(cells) + 1
    err = assert_refused(make_kit(tmp_path, notebook), tmp_path, capsys)
    assert NOT_IN_ONE_GO in err and f"execution count {len(cells) + 1} where a run from the top gives 5" in err
    assert JUPYTERLAB_MENU in err


def test_submit_refuses_counts_in_order_with_a_gap(tmp_path, capsys):
    # The notebook: 1 to 6, then 13 to 25, after re-running cells by hand.
    notebook = solved_notebook()
    for cell in code_cells(notebook)[6:]:
        cell["execution_count"] += 6
    err = assert_refused(make_kit(tmp_path, notebook), tmp_path, capsys)
    assert NOT_IN_ONE_GO in err and "shows execution count 13 where a run from the top gives 7" in err, err
    assert err.count("run from the top gives") == 1, "one gap is one problem, not one per cell after it"


def test_submit_refuses_a_run_all_without_a_restart(tmp_path, capsys):
    # Run All again in the same kernel: in order, without gaps, but not from 1.
    notebook = solved_notebook()
    for cell in code_cells(notebook):
        cell["execution_count"] += 30
    err = assert_refused(make_kit(tmp_path, notebook), tmp_path, capsys)
    assert "shows execution count 31 where a run from the top gives 1" in err, err


def test_a_refusal_says_how_to_run_all_once_with_the_readmes_command(tmp_path, capsys):
    notebook = solved_notebook()
    cells = code_cells(notebook)
    cells[5]["outputs"].append({"output_type": "error", "ename": "ValueError", "evalue": "oops", "traceback": []})
    cells[6]["execution_count"] = None
    kit = make_kit(tmp_path, notebook)
    (kit / ".venv" / "bin").mkdir(parents=True)
    (kit / ".venv" / "bin" / "python").touch()
    err = assert_refused(kit, tmp_path, capsys)
    assert "shows an error" in err and NOT_IN_ONE_GO in err
    assert err.count(JUPYTERLAB_MENU) == 1 and err.count(HEADLESS) == 1, err
    assert "run `.venv/bin/python submit.py` again" in err and "`.venv/bin/python submit.py --unfinished`" in err


def test_in_colab_a_refusal_gives_colabs_command(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(submit, "in_colab", lambda: True)
    notebook = solved_notebook()
    code_cells(notebook)[2]["execution_count"] = None
    err = assert_refused(make_kit(tmp_path, notebook), tmp_path, capsys)
    assert COLAB_MENU in err and "run `!python submit.py` again" in err and ".venv" not in err, err


def test_submit_refuses_a_notebook_with_an_error_output(tmp_path, capsys):
    notebook = solved_notebook()
    cell = code_cells(notebook)[5]
    cell["outputs"].append(
        {
            "output_type": "error",
            "ename": "NotImplementedError",
            "evalue": "softmax_loss_naive is not implemented yet",
            "traceback": [],
        }
    )
    err = assert_refused(make_kit(tmp_path, notebook), tmp_path, capsys)
    where = notebook["cells"].index(cell) + 1
    assert f"cell {where} (" in err and "NotImplementedError: softmax_loss_naive is not implemented yet" in err
    assert JUPYTERLAB_MENU in err


def test_submit_refuses_unfilled_notebook_cells_and_lists_each(tmp_path, capsys):
    released = json.loads(markers.transform_notebook((REPO / NOTEBOOK).read_text(), NOTEBOOK, strip=True))
    err = assert_refused(make_kit(tmp_path, run_all(released)), tmp_path, capsys)
    stubbed = [
        i + 1
        for i, cell in enumerate(released["cells"])
        if markers.ANSWER_STUB in "".join(cell["source"]) or markers.CODE_STUB[0] in "".join(cell["source"])
    ]
    assert stubbed, "the released notebook should hold stubs"
    for number in stubbed:
        assert f"{NOTEBOOK}, cell {number} (" in err, f"cell {number} is a stub but not listed:\n{err}"
    assert f"still `{markers.ANSWER_STUB}`" in err and "still `raise NotImplementedError(...)`" in err


def test_submit_refuses_a_stub_left_in_a_classifier(tmp_path, capsys):
    kit = make_kit(tmp_path)
    path = kit / "classifiers/linear_classifier.py"
    path.write_text(
        path.read_text().replace(
            "        y_pred = np.argmax(scores, axis=1)  # (N,)\n", "        raise NotImplementedError()\n"
        )
    )
    err = assert_refused(kit, tmp_path, capsys)
    assert "classifiers/linear_classifier.py:" in err and "--unfinished" in err


def test_submit_refuses_a_python_file_that_does_not_parse_naming_file_and_line(tmp_path, capsys):
    kit = make_kit(tmp_path)
    path = kit / "classifiers/softmax.py"
    lines = path.read_text().splitlines(keepends=True)
    broken = next(number for number, line in enumerate(lines, 1) if "rows = np.arange(num_train)" in line)
    lines[broken - 1] = lines[broken - 1].replace("rows = np.arange(num_train)", "rows = = np.arange(num_train)")
    path.write_text("".join(lines))
    err = assert_refused(kit, tmp_path, capsys)
    assert f"classifiers/softmax.py, line {broken}: invalid syntax" in err and "rows = = np.arange" in err, err
    status, out = submit_kit(kit, tmp_path, "--unfinished")  # the deadline: in it goes, with the warning
    assert status == 0 and out.exists() and "does not parse" in capsys.readouterr().err


def test_unfinished_hands_in_anyway_and_lists_the_problems(tmp_path, capsys):
    notebook = solved_notebook()
    code_cells(notebook)[-1]["execution_count"] = None
    status, out = submit_kit(make_kit(tmp_path, notebook), tmp_path, "--unfinished")
    captured = capsys.readouterr()
    assert status == 0 and out.exists()
    assert "handed in anyway" in captured.err and "has not been run" in captured.err


@pytest.mark.parametrize("text", ["{not json", '{"cells": 3}'])
def test_submit_refuses_a_file_that_is_not_a_notebook(tmp_path, capsys, text):
    kit = make_kit(tmp_path)
    (kit / NOTEBOOK).write_text(text)
    assert "not a valid notebook" in assert_refused(kit, tmp_path, capsys)
