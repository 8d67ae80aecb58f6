"""The notebooks' sources: Jupytext percent files paired with the root notebooks.

    python -m instructor.notebook_source            # rewrite every NAME.ipynb from its source
    python -m instructor.notebook_source --check    # exit 1 if a notebook is out of step with its source

Every `instructor/notebooks/NAME.py` is the source of the kit's `NAME.ipynb`
(at the repository root): a Jupytext "percent" script whose `# %%` lines
start cells and carry each cell's metadata (`id="..."`, `tags=[...]`),
markdown cells as `# ` comments, solution regions between the kit's markers.
Both files carry the pairing `formats: ipynb,instructor/notebooks//py:percent`,
so JupyterLab (with Jupytext, which requirements.txt installs) opens the
`.py` as a notebook and writes both files on every save. After editing the
`.py` as text, run this module (or `jupytext --sync` on the `.py`) to write
the notebook.

The `.py` holds each cell's id as the metadata key `id`; this module gives
the `.ipynb` cell that id (Jupytext's own text formats do not keep ids), and
names a new cell that has none after its heading or first line, writing the
name back into the `.py`. The release (instructor/release.py) and
tests/test_notebook.py refuse a notebook that differs from its source.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat

from instructor import REPO_ROOT
from instructor.markers import MarkerError, find_regions

SOURCE_DIR = "instructor/notebooks"  # relative to the repository root, POSIX
TEXT_FORMAT = "py:percent"
# Jupytext's pairing: NAME.ipynb at the root <-> instructor/notebooks/NAME.py.
# The "//" tells Jupytext that the prefix is a folder, relative to the notebook.
PAIRING = f"ipynb,{SOURCE_DIR}//{TEXT_FORMAT}"
ID_KEY = "id"  # the cell metadata key that holds the cell's id in the source
SYNC_COMMAND = ".venv/bin/python -m instructor.notebook_source"
# A cell id nbformat accepts: 1 to 64 letters, digits, "-" and "_".
VALID_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
# The line that starts a cell in the percent format: "# %%", "# %% [markdown] id=...".
CELL_START = re.compile(r"^# %%(?!%)")
# Cell metadata that lives only in the .ipynb (Jupytext leaves it out of text).
NOTEBOOK_ONLY_METADATA = {"autoscroll", "collapsed", "scrolled", "trusted", "execution", "ExecuteTime"}


@dataclass(frozen=True)
class Pair:
    """A notebook and its source, both as paths relative to the repository root."""

    source: str  # instructor/notebooks/NAME.py
    notebook: str  # NAME.ipynb


def pairs(root: Path = REPO_ROOT) -> list[Pair]:
    """Every source in instructor/notebooks/ with the root notebook it writes."""
    return [
        Pair(f"{SOURCE_DIR}/{path.name}", f"{path.stem}.ipynb")
        for path in sorted((root / SOURCE_DIR).glob("*.py"))
        if not path.name.startswith("_")
    ]


def source_of(notebook: str, root: Path = REPO_ROOT) -> Pair | None:
    """The pair whose notebook is `notebook` (relative path), if it has a source."""
    return next((pair for pair in pairs(root) if pair.notebook == notebook), None)


def read_source(path: Path) -> nbformat.NotebookNode:
    """The notebook a source describes, each cell with the id its metadata names."""
    notebook = jupytext.read(path, fmt=TEXT_FORMAT)
    for cell in notebook.cells:
        cell_id = cell.metadata.get(ID_KEY)
        if isinstance(cell_id, str) and VALID_ID.match(cell_id):
            cell["id"] = cell_id
    notebook.nbformat, notebook.nbformat_minor = 4, max(notebook.nbformat_minor, 5)  # 4.5: cells have ids
    notebook.metadata.get("jupytext", {}).pop("text_representation", None)
    return notebook


def _label(index: int, cell: nbformat.NotebookNode) -> str:
    cell_id = cell.get("metadata", {}).get(ID_KEY) or cell.get("id")
    return f"cell {index + 1}" + (f" ({cell_id})" if cell_id else "")


def _first_difference(expected: str, actual: str) -> str:
    want, got = expected.splitlines(), actual.splitlines()
    for number, (a, b) in enumerate(zip(want, got), start=1):
        if a != b:
            return f"line {number}: source {a!r}, notebook {b!r}"
    if len(want) != len(got):
        return f"the source has {len(want)} lines, the notebook {len(got)}"
    return "trailing whitespace differs"


def differences(source: nbformat.NotebookNode, notebook: nbformat.NotebookNode) -> list[str]:
    """How `notebook` (an .ipynb) differs from `source` (read_source's result), cell by cell.

    Outputs, execution counts and the metadata Jupytext keeps out of text
    (collapsed, scrolled, run timings) are not compared.
    """
    problems = []
    if len(source.cells) != len(notebook.cells):
        problems.append(f"the source has {len(source.cells)} cells, the notebook {len(notebook.cells)}")
    for index, (want, got) in enumerate(zip(source.cells, notebook.cells)):
        label = _label(index, want)
        if want.cell_type != got.cell_type:
            problems.append(f"{label}: a {want.cell_type} cell in the source, {got.cell_type} in the notebook")
            continue
        if want.source != got.source:
            problems.append(f"{label}: {_first_difference(want.source, got.source)}")
        got_metadata = {k: v for k, v in got.metadata.items() if k not in NOTEBOOK_ONLY_METADATA}
        if dict(want.metadata) != got_metadata:
            problems.append(f"{label}: metadata {dict(want.metadata)} in the source, {got_metadata} in the notebook")
        if ID_KEY in want.metadata and got.get("id") != want.metadata[ID_KEY]:
            problems.append(f"{label}: the notebook's cell id is {got.get('id')!r}")
    want_kernel = source.metadata.get("kernelspec")
    got_kernel = notebook.metadata.get("kernelspec")
    if want_kernel != got_kernel:
        problems.append(f"kernelspec {want_kernel} in the source, {got_kernel} in the notebook")
    return problems


def check(pair: Pair, root: Path = REPO_ROOT) -> list[str]:
    """Problems that make `pair.notebook` out of step with its source, as full sentences."""
    notebook_path = root / pair.notebook
    if not notebook_path.exists():
        return [f"{pair.notebook} is missing; its source {pair.source} writes it: run `{SYNC_COMMAND}`"]
    found = differences(read_source(root / pair.source), nbformat.read(notebook_path, as_version=4))
    return [
        f"{pair.notebook} is out of step with {pair.source} (edit the .py, then run `{SYNC_COMMAND}`): {problem}"
        for problem in found
    ]


def marker_problems(pair: Pair, root: Path = REPO_ROOT) -> list[str]:
    """Malformed solution markers in the source, each at the source's own line.

    The instructor typed them in the .py (in JupyterLab or an editor), so the
    message names that file and line, not a cell of the .ipynb.
    """
    path = root / pair.source
    notebook = read_source(path)
    starts = [
        number
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if CELL_START.match(line)
    ]
    problems = []
    for index, cell in enumerate(notebook.cells):
        if len(starts) == len(notebook.cells):  # cell `index` starts on the line after its "# %%"
            where, first_line = f"{pair.source}:{{line}}", starts[index] + 1
        else:  # a cell without its own "# %%" line: name the cell instead
            where, first_line = f"{pair.source}, {_label(index, cell)}, line {{line}}", 1
        try:
            find_regions(cell.source.splitlines(keepends=True), where, first_line)
        except MarkerError as err:
            problems.extend(err.problems)
    return problems


def _slug(cell: nbformat.NotebookNode, index: int) -> str:
    lines = [line.lstrip("#").strip() for line in cell.source.splitlines() if line.strip()]
    words = re.findall(r"[a-z0-9]+", (lines[0] if lines else "").lower())[:4]
    return "-".join(words) or f"{cell.cell_type}-{index + 1}"


def name_new_cells(notebook: nbformat.NotebookNode) -> list[str]:
    """Give each cell without an `id` in its metadata a unique one; return the new ids."""
    taken = {cell.metadata.get(ID_KEY) for cell in notebook.cells}
    named = []
    for index, cell in enumerate(notebook.cells):
        if isinstance(cell.metadata.get(ID_KEY), str) and VALID_ID.match(cell.metadata[ID_KEY]):
            continue
        base = _slug(cell, index)[:60]
        cell_id, suffix = base, 2
        while cell_id in taken:
            cell_id, suffix = f"{base}-{suffix}", suffix + 1
        taken.add(cell_id)
        cell.metadata = {ID_KEY: cell_id, **{k: v for k, v in cell.metadata.items() if k != ID_KEY}}
        cell["id"] = cell_id
        named.append(cell_id)
    return named


def render(notebook: nbformat.NotebookNode) -> str:
    """The .ipynb text of a source notebook: no outputs, nbformat's layout."""
    notebook.metadata.setdefault("jupytext", {})["formats"] = PAIRING
    return jupytext.writes(notebook, fmt="ipynb")


def sync(pair: Pair, root: Path = REPO_ROOT) -> list[str]:
    """Write pair.notebook from pair.source; return what changed.

    New cells get an id, and a source without the pairing gets it: both are
    written back into the source, so that JupyterLab finds the pair.
    """
    source_path, notebook_path = root / pair.source, root / pair.notebook
    notebook = read_source(source_path)
    changes = []
    named = name_new_cells(notebook)
    paired = notebook.metadata.get("jupytext", {}).get("formats") == PAIRING
    if not paired:  # a script without Jupytext's header: give it one, with the pairing
        notebook.metadata["jupytext"] = {"formats": PAIRING}
    if named or not paired:
        jupytext.write(notebook, source_path, fmt=TEXT_FORMAT)
        notebook = read_source(source_path)
        changes.append(
            f"{pair.source}: " + (f"named new cells {', '.join(named)}" if named else f"added the pairing {PAIRING}")
        )
    text = render(notebook)
    if not notebook_path.exists() or notebook_path.read_text(encoding="utf-8") != text:
        notebook_path.write_text(text, encoding="utf-8")
        changes.append(f"wrote {pair.notebook}")
    return changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m instructor.notebook_source", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook is out of step")
    parser.add_argument("--source", type=Path, default=REPO_ROOT, help="the instructor repository (default: this one)")
    args = parser.parse_args(argv)
    root = args.source.resolve()
    found = pairs(root)
    if not found:
        print(f"notebook_source: no sources in {root / SOURCE_DIR}", file=sys.stderr)
        return 1
    if args.check:
        problems = [problem for pair in found for problem in check(pair, root)]
        for problem in problems:
            print(problem, file=sys.stderr)
        if not problems:
            print(", ".join(pair.notebook for pair in found) + ": in step with the sources")
        return 1 if problems else 0
    for pair in found:
        for change in sync(pair, root) or [f"{pair.notebook} is already in step with {pair.source}"]:
            print(change)
    return 0


if __name__ == "__main__":
    sys.exit(main())
