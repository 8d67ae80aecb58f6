"""Package your work for grading: writes submission.zip with the graded files.

    python submit.py                 # writes submission.zip next to this file
    python submit.py -o my_work.zip  # somewhere else
    python submit.py --unfinished    # hand in unfinished work anyway (deadline)

The zip holds exactly the files that are graded:
classifiers/softmax.py, classifiers/linear_classifier.py and assignment.ipynb.
It refuses, writes nothing and exits with status 1 when one is missing, or
when the work is not finished and run:

- a part is still a stub: `raise NotImplementedError()` in a classifiers/
  file or a notebook code cell, `YOUR ANSWER HERE` in an answer cell;
- a notebook cell shows an error;
- the notebook has not been run to the end in one go: a code cell never ran,
  or the cells ran out of order (as after running a few cells by hand).

Each refusal says what to do. Restarting the kernel and running every cell,
then saving, fixes the last two; `--unfinished` hands in what you have, with
the problems listed, when the deadline comes first.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import zipfile
from pathlib import Path

KIT_DIR = Path(__file__).resolve().parent
GRADED_FILES = ("classifiers/softmax.py", "classifiers/linear_classifier.py", "assignment.ipynb")
NOTEBOOK = "assignment.ipynb"
# The release's stubs for a solution region (instructor/markers.py spells
# them; a test keeps the two in step): a code stub line and an answer stub.
STUB_LINE = "raise NotImplementedError()"
# A notebook code cell's stub: the mark, then a raise whose message says what to write.
CODE_STUB_MARK = "# YOUR CODE HERE"
NOTEBOOK_STUB_START = "raise NotImplementedError("
ANSWER_STUB = "YOUR ANSWER HERE"
# A cell tagged so is expected to raise (nbconvert's and nbclient's tag).
RAISES_TAG = "raises-exception"
# How to run the whole notebook from the top, in each place a student works.
RUN_ALL_MENUS = (
    "JupyterLab 4 and Notebook 7: Kernel > Restart Kernel and Run All Cells…, then File > Save Notebook",
    "VS Code: Restart, then Run All, in the notebook's toolbar, then save",
    "Colab: Runtime > Restart session and run all, then File > Save",
)


class SubmissionError(Exception):
    """The submission cannot be written; the message says what to do."""


def headless_command(kit: Path) -> str:
    """The README's command that runs the notebook in place without a browser."""
    jupyter = ".venv/bin/jupyter" if (kit / ".venv" / "bin" / "jupyter").exists() else "jupyter"
    return f"{jupyter} nbconvert --to notebook --execute --inplace {NOTEBOOK}"


def how_to_run_all(kit: Path) -> str:
    menus = "".join(f"\n  - {menu}" for menu in RUN_ALL_MENUS)
    return (
        f"Run the whole notebook from the top and save it:{menus}\n"
        f"  - without a browser: {headless_command(kit)}\n"
        "then run `python submit.py` again."
    )


def read_notebook(path: Path) -> dict:
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SubmissionError(f"{NOTEBOOK} is not a valid notebook ({err}); restore it from the kit") from err
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise SubmissionError(f"{NOTEBOOK} is not a valid notebook (no list of cells); restore it from the kit")
    return notebook


def cell_text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def cell_name(index: int, cell: dict) -> str:
    """`cell 12 ("def softmax_vector(s):")`: its position and first line."""
    first = next((line.strip() for line in cell_text(cell).splitlines() if line.strip()), "")
    first = first if len(first) <= 50 else first[:47] + "..."
    return f'cell {index + 1} ("{first}")'


def runs_submit(cell: dict) -> bool:
    """A cell such as `!python submit.py` (Colab's way to hand in): it runs during the hand-in itself."""
    lines = [line.strip() for line in cell_text(cell).splitlines() if line.strip()]
    return bool(lines) and all(line.startswith(("!", "%")) and "submit.py" in line for line in lines)


def unfinished_parts(kit: Path, notebook: dict) -> list[str]:
    """Every place still holding the release's stub, as `file:line` or a notebook cell."""
    found = []
    for name in GRADED_FILES:
        if name.endswith(".py"):
            for number, line in enumerate((kit / name).read_text(encoding="utf-8").splitlines(), 1):
                if line.strip() == STUB_LINE:
                    found.append(f"{name}:{number} (still `{STUB_LINE}`)")
    for index, cell in enumerate(notebook["cells"]):
        lines = [line.strip() for line in cell_text(cell).splitlines()]
        if cell.get("cell_type") == "code" and any(
            line == CODE_STUB_MARK and following.startswith(NOTEBOOK_STUB_START)
            for line, following in itertools.pairwise(lines)
        ):
            found.append(f"{NOTEBOOK}, {cell_name(index, cell)} (still `{NOTEBOOK_STUB_START}...)`)")
        elif cell.get("cell_type") == "markdown" and ANSWER_STUB in lines:
            found.append(f"{NOTEBOOK}, {cell_name(index, cell)} (still `{ANSWER_STUB}`)")
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


def run_order(cell: dict) -> float | None:
    """When the cell last ran, as a sortable number, or None if the notebook does not say.

    Jupyter saves the kernel's execution count. Colab saves null counts and
    records the time of the run in the cell's metadata instead.
    """
    if cell.get("execution_count") is not None:
        return float(cell["execution_count"])
    timestamp = cell.get("metadata", {}).get("executionInfo", {}).get("timestamp")
    return float(timestamp) if isinstance(timestamp, (int, float)) else None


def not_run_to_the_end(notebook: dict) -> list[str]:
    """What shows the notebook was not run top to bottom in one go (empty: it was)."""
    cells = [
        (index, cell)
        for index, cell in enumerate(notebook["cells"])
        if cell.get("cell_type") == "code" and cell_text(cell).strip() and not runs_submit(cell)
    ]
    orders = [run_order(cell) for _, cell in cells]
    saved_by_colab = "colab" in notebook.get("metadata", {})
    if saved_by_colab and all(order is None for order in orders):
        return []  # Colab recorded no run information: nothing to judge the order by
    if all(order is None for order in orders):
        return ["no code cell has been run yet"]
    problems = [
        f"{cell_name(index, cell)} has not been run" for (index, cell), order in zip(cells, orders) if order is None
    ]
    ran = [(index, cell, order) for (index, cell), order in zip(cells, orders) if order is not None]
    for (_, _, before), (index, cell, order) in itertools.pairwise(ran):
        if order <= before:
            problems.append(
                f"{cell_name(index, cell)} ran before the cells above it (execution count {order:g} after {before:g})"
            )
    return problems


def check_work(kit: Path) -> list[str]:
    """Every reason the work is not ready to hand in, each with what to do; empty if none."""
    notebook = read_notebook(kit / NOTEBOOK)
    reasons = []
    unfinished = unfinished_parts(kit, notebook)
    if unfinished:
        reasons.append(
            "these parts are not done yet; replace each stub with your code or answer:"
            + "".join(f"\n  - {where}" for where in unfinished)
        )
    errors = error_outputs(notebook)
    if errors:
        reasons.append(
            f"{NOTEBOOK} shows an error; fix it, then run the notebook again:"
            + "".join(f"\n  - {where}" for where in errors)
            + "\n"
            + how_to_run_all(kit)
        )
    order = not_run_to_the_end(notebook)
    if order:
        shown = order[:5] + ([f"... and {len(order) - 5} more"] if len(order) > 5 else [])
        reasons.append(
            f"{NOTEBOOK} has not been run to the end in one go:"
            + "".join(f"\n  - {where}" for where in shown)
            + "\n"
            + how_to_run_all(kit)
        )
    return reasons


def write_submission(kit: Path, output: Path, *, unfinished: bool = False) -> list[str]:
    """Write the zip of GRADED_FILES; return the problems handed in anyway.

    Raises SubmissionError, and writes nothing, when a file is missing, or
    when the work is not ready (check_work) and `unfinished` is False.
    """
    missing = [name for name in GRADED_FILES if not (kit / name).is_file()]
    if missing:
        raise SubmissionError(
            f"missing {', '.join(missing)} in {kit}: run this from your kit, and restore any "
            "file you deleted from a fresh copy of the kit"
        )
    problems = check_work(kit)
    if problems and not unfinished:
        raise SubmissionError(
            "not handed in, nothing written:\n"
            + "\n".join(f"- {reason}" for reason in problems)
            + "\nIf the deadline comes first, `python submit.py --unfinished` hands in what you have."
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
