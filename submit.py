"""Package your work for grading: writes submission.zip with the graded files.

    .venv/bin/python submit.py                 # writes submission.zip next to this file
    .venv/bin/python submit.py -o my_work.zip  # somewhere else
    .venv/bin/python submit.py --unfinished    # hand in unfinished work anyway (deadline)
    !python submit.py                          # the same, from a code cell in Colab

The zip holds exactly the files that are graded:
classifiers/softmax.py, classifiers/linear_classifier.py and assignment.ipynb.
It refuses, writes nothing and exits with status 1 when one is missing, or
when the work is not finished and run:

- a graded Python file does not parse (the grader could run none of it);
- a part is still a stub: `raise NotImplementedError()` in a classifiers/
  file or a notebook code cell, `YOUR ANSWER HERE` in an answer cell;
- a notebook cell shows an error;
- the notebook was not run from the top in one go. Restart and Run All
  numbers the code cells 1, 2, 3, ... in order; any other numbering (a cell
  never run, cells run again by hand) is refused. Colab saves no numbers, so
  there its run times must go down the notebook in order.

Each refusal lists every problem, then once how to run the notebook and hand
in again. `--unfinished` hands in what you have, with the problems listed,
when the deadline comes first.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import zipfile
from pathlib import Path

from kit.stubs import cell_name, cell_text, notebook_stubs, python_stubs

KIT_DIR = Path(__file__).resolve().parent
GRADED_FILES = ("classifiers/softmax.py", "classifiers/linear_classifier.py", "assignment.ipynb")
NOTEBOOK = "assignment.ipynb"
# A cell tagged so is expected to raise (nbconvert's and nbclient's tag).
RAISES_TAG = "raises-exception"
# How many cells run out of order a refusal names before "... and N more".
MAX_LISTED = 5
# How to run the whole notebook from the top and save it, where a student works.
RUN_ALL_MENUS = (
    "JupyterLab 4 and Notebook 7: Kernel > Restart Kernel and Run All Cells…, then File > Save Notebook",
    "VS Code: Restart, then Run All, in the notebook's toolbar, then save",
)
COLAB_RUN_ALL = "Runtime > Restart session and run all, then File > Save"


class SubmissionError(Exception):
    """The submission cannot be written; the message says what to do."""


def in_colab() -> bool:
    """Whether this runs in Google Colab (a `!python submit.py` cell there)."""
    try:
        return importlib.util.find_spec("google.colab") is not None
    except (ImportError, ValueError):
        return False


def submit_command(kit: Path) -> str:
    """This script's command as the README writes it, for where it runs."""
    if in_colab():
        return "!python submit.py"
    return ".venv/bin/python submit.py" if (kit / ".venv" / "bin" / "python").exists() else "python submit.py"


def how_to_run_all(kit: Path, notebook: dict | None) -> str:
    """How to run the notebook from the top, save it and hand in again: once, at the end of a refusal."""
    if in_colab() or (notebook is not None and "colab" in notebook.get("metadata", {})):
        menus = [f"Colab: {COLAB_RUN_ALL}"]
    else:
        jupyter = ".venv/bin/jupyter" if (kit / ".venv" / "bin" / "jupyter").exists() else "jupyter"
        menus = [*RUN_ALL_MENUS, f"without a browser: {jupyter} nbconvert --to notebook --execute --inplace {NOTEBOOK}"]
    steps = "".join(f"\n  - {menu}" for menu in menus)
    return f"Then run {NOTEBOOK} from the top in one go and save it:{steps}\nand run `{submit_command(kit)}` again."


def read_notebook(path: Path) -> dict:
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SubmissionError(f"{NOTEBOOK} is not a valid notebook ({err}); restore it from the kit") from err
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise SubmissionError(f"{NOTEBOOK} is not a valid notebook (no list of cells); restore it from the kit")
    return notebook


def runs_submit(cell: dict) -> bool:
    """A cell such as `!python submit.py` (Colab's way to hand in): it runs during the hand-in itself."""
    lines = [line.strip() for line in cell_text(cell).splitlines() if line.strip()]
    return bool(lines) and all(line.startswith(("!", "%")) and "submit.py" in line for line in lines)


def listed(items: list[str], most: int | None = None) -> str:
    """The items as an indented list, cut to the first `most` (and how many more) if given."""
    if most is not None and len(items) > most:
        items = [*items[:most], f"... and {len(items) - most} more"]
    return "".join(f"\n    - {item}" for item in items)


def unparsable(kit: Path) -> list[str]:
    """Each graded Python file that does not parse: its name, the line, the error and the line's text."""
    found = []
    for name in GRADED_FILES:
        if name.endswith(".py"):
            text = (kit / name).read_text(encoding="utf-8", errors="replace")
            try:  # by its full path: the error quotes the line from the file of that name
                compile(text, str(kit / name), "exec", dont_inherit=True)
            except SyntaxError as err:
                line = (err.text or "").strip()
                found.append(f"{name}, line {err.lineno}: {err.msg}" + (f": `{line}`" if line else ""))
    return found


def unfinished_parts(kit: Path, notebook: dict) -> list[str]:
    """Every place still holding the release's stub, as `file:line` or a notebook cell."""
    found = []
    for name in GRADED_FILES:
        if name.endswith(".py"):
            try:
                stubs = python_stubs((kit / name).read_text(encoding="utf-8", errors="replace"), name)
            except SyntaxError:
                continue  # unparsable() reports it
            found += [f"{stub.where}, in {stub.name} (still `{stub.stub}`)" for stub in stubs]
    found += [f"{stub.where} (still `{stub.stub}`)" for stub in notebook_stubs(notebook, NOTEBOOK)]
    return found


def error_outputs(notebook: dict) -> list[str]:
    """The cells whose saved output is an error (cells tagged raises-exception may show one)."""
    found = []
    for index, cell in enumerate(notebook["cells"]):
        if cell.get("cell_type") != "code" or RAISES_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                message = (str(output.get("evalue", "")).splitlines() or [""])[0]
                found.append(f"{cell_name(index, cell)}: {output.get('ename', 'Error')}: {message}".rstrip(": "))
                break
    return found


def _timestamp(cell: dict) -> float | None:
    """When Colab last ran the cell (its metadata's executionInfo), or None."""
    timestamp = cell.get("metadata", {}).get("executionInfo", {}).get("timestamp")
    return float(timestamp) if isinstance(timestamp, (int, float)) else None


def not_run_in_one_go(notebook: dict) -> list[str]:
    """What shows the notebook was not run from the top in one go (empty: it was).

    Jupyter numbers each run: Restart and Run All gives the code cells 1, 2,
    3, ... in order, and nothing else does. Colab saves no numbers but the
    time of each cell's run: they must increase down the notebook.
    """
    cells = [
        (index, cell)
        for index, cell in enumerate(notebook["cells"])
        if cell.get("cell_type") == "code" and cell_text(cell).strip()
    ]
    if any(cell.get("execution_count") is not None for _, cell in cells):
        return _numbering_problems(cells)
    if any(_timestamp(cell) is not None for _, cell in cells):
        return _timestamp_problems(cells)
    return ["no code cell has been run yet"]


def _numbering_problems(cells: list[tuple[int, dict]]) -> list[str]:
    problems, expected = [], 1
    for index, cell in cells:
        count = cell.get("execution_count")
        if count is None:
            if not runs_submit(cell):  # a hand-in cell may be saved before it runs
                problems.append(f"{cell_name(index, cell)} has not been run")
            continue
        if count != expected:
            problems.append(
                f"{cell_name(index, cell)} shows execution count {count} where a run from the top gives {expected}"
            )
        expected = count + 1
    return problems


def _timestamp_problems(cells: list[tuple[int, dict]]) -> list[str]:
    problems, previous = [], None
    for index, cell in cells:
        timestamp = _timestamp(cell)
        if timestamp is None:
            if not runs_submit(cell):
                problems.append(f"{cell_name(index, cell)} has not been run")
            continue
        if previous is not None and timestamp <= previous:
            problems.append(f"{cell_name(index, cell)} ran before the cell above it (its run time is earlier)")
        previous = timestamp
    return problems


def check_work(kit: Path) -> tuple[list[str], dict]:
    """Every reason the work is not ready to hand in (empty if none), and the notebook read."""
    notebook = read_notebook(kit / NOTEBOOK)
    reasons = []
    broken = unparsable(kit)
    if broken:
        reasons.append("this Python does not parse, so the grader could run none of its file; fix it:" + listed(broken))
    unfinished = unfinished_parts(kit, notebook)
    if unfinished:
        reasons.append(
            "these parts are not written yet; replace each stub with your code or answer:" + listed(unfinished)
        )
    errors = error_outputs(notebook)
    if errors:
        reasons.append(f"{NOTEBOOK} shows an error; fix it:" + listed(errors))
    order = not_run_in_one_go(notebook)
    if order:
        reasons.append(f"{NOTEBOOK} was not run from the top in one go:" + listed(order, MAX_LISTED))
    return reasons, notebook


def write_submission(kit: Path, output: Path, *, unfinished: bool = False) -> list[str]:
    """Write the zip of GRADED_FILES; return the problems handed in anyway.

    Raises SubmissionError, and writes nothing, when a file is missing, or
    when the work is not ready (check_work) and `unfinished` is False.
    """
    missing = [name for name in GRADED_FILES if not (kit / name).is_file()]
    if missing:
        raise SubmissionError(
            f"missing {', '.join(missing)} in {kit}: run this from your kit's folder, and restore any "
            "file you deleted from a fresh copy of the kit"
        )
    problems, notebook = check_work(kit)
    if problems and not unfinished:
        command = submit_command(kit)
        raise SubmissionError(
            "not handed in, nothing written. To do first:\n"
            + "\n".join(f"- {reason}" for reason in problems)
            + f"\n{how_to_run_all(kit, notebook)}\n"
            + f"If the deadline comes first, `{command} --unfinished` hands in what you have."
        )
    partial = output.with_name(output.name + ".part")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in GRADED_FILES:
            archive.write(kit / name, arcname=name)
    os.replace(partial, output)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python submit.py", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=KIT_DIR / "submission.zip",
        help="where to write the zip (default: submission.zip in the kit)",
    )
    parser.add_argument(
        "--unfinished", action="store_true", help="hand in unfinished or unrun work anyway, with its problems listed"
    )
    parser.add_argument("--kit", type=Path, default=KIT_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        problems = write_submission(args.kit.resolve(), args.output, unfinished=args.unfinished)
    except SubmissionError as err:
        print(f"submit: {err}", file=sys.stderr)
        return 1
    for reason in problems:
        print(f"warning, handed in anyway: {reason}", file=sys.stderr)
    print(f"wrote {args.output} with {', '.join(GRADED_FILES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
