"""Solution markers: find them, check them, and strip what lies between them.

A solution region is the lines from a `### BEGIN SOLUTION` line to the next
`### END SOLUTION` line (nbgrader's spelling), both included. Stripping puts
in its place, at the indentation of the BEGIN line:

- in Python files:

      # YOUR CODE HERE
      raise NotImplementedError()

- in notebook code cells, the same with a message that says what to write
  (see notebook_code_stub), since the notebook shows that message first;

- in notebook markdown cells: `YOUR ANSWER HERE`.

A marker that is unterminated, nested, unmatched or misspelled (any comment
line that looks like one, e.g. `## BEGIN SOLUTION` or `### END SOLUTOIN`)
is a `MarkerError` naming the file and line where it was typed: a typo must
never leak a solution into the kit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
ANSWER_STUB = "YOUR ANSWER HERE"
# A notebook line that leaves a result for the student to set: `test_accuracy = None`.
UNSET_NAME = re.compile(r"^(?P<name>[A-Za-z_]\w*)\s*=\s*None\b")

# Any comment line that mentions BEGIN/END SOLUTION: it must be a real marker.
LOOKS_LIKE_MARKER = re.compile(r"^\s*#+\s*(BEGIN|END)[\s_]*SOLUTION\b", re.IGNORECASE)
# A comment line in capitals whose first two words are a typo away from one:
# `### END SOLUTOIN`, `### BEGN SOLUTION`, `### ENDSOLUTION`.
CAPITAL_WORDS = re.compile(r"^\s*#+\s*([A-Z]+)[\s_]*([A-Z]*)\b")
# Typos tolerated: one per short word (BEGIN, END), two in SOLUTION. A swap of
# neighbours counts as one ("SOLUTOIN").
TYPOS_SHORT, TYPOS_LONG = 1, 2


class MarkerError(ValueError):
    """One or more malformed markers; `problems` holds "file:line: what" strings."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Region:
    """Lines begin..end (0-based, inclusive) form one solution region."""

    begin: int
    end: int
    indent: str


def _typos(typed: str, word: str) -> int:
    """Edits from `typed` to `word`: insertions, deletions, changes, swaps of neighbours."""
    rows = [list(range(len(word) + 1))]
    for i, a in enumerate(typed, start=1):
        row = [i]
        for j, b in enumerate(word, start=1):
            row.append(min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (a != b)))
            if i > 1 and j > 1 and a == word[j - 2] and typed[i - 2] == b:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def marker_kind(line: str) -> str | None:
    """BEGIN or END if `line` is a solution marker or looks like a misspelled one, else None."""
    exact = LOOKS_LIKE_MARKER.match(line)
    if exact:
        return exact.group(1).upper()
    words = CAPITAL_WORDS.match(line)
    if not words:
        return None
    first, second = words.groups()
    for kind in ("BEGIN", "END"):
        if second and _typos(first, kind) <= TYPOS_SHORT and _typos(second, "SOLUTION") <= TYPOS_LONG:
            return kind
        if not second and _typos(first, kind + "SOLUTION") <= TYPOS_LONG:
            return kind
    return None


def find_regions(lines: list[str], where: str, first_line: int = 1) -> list[Region]:
    """Return the solution regions of `lines`, or raise MarkerError.

    `where` names the place in error messages, with a `{line}` field for the
    line number: "classifiers/softmax.py:{line}"; `lines[0]` is line
    `first_line` there (a notebook cell inside a larger source file).
    A misspelled marker is reported where it was typed, and then counts as
    the marker it resembles, so the lines after it are judged as intended.
    """
    problems: list[str] = []
    regions: list[Region] = []
    open_at: int | None = None
    for number, line in enumerate(lines):
        kind = marker_kind(line)
        if kind is None:
            continue
        text = line.strip()
        at = where.format(line=number + first_line)
        if text not in (BEGIN, END):
            problems.append(f"{at}: malformed marker {text!r}: write exactly {BEGIN!r} or {END!r}")
        if kind == "BEGIN" and open_at is not None:
            problems.append(
                f"{at}: nested {BEGIN!r}: the region opened on line {open_at + first_line} has no {END!r} yet"
            )
        elif kind == "BEGIN":
            open_at = number
        elif open_at is None:
            problems.append(f"{at}: unmatched {END!r}: no {BEGIN!r} before it")
        else:
            indent = lines[open_at][: len(lines[open_at]) - len(lines[open_at].lstrip())]
            regions.append(Region(open_at, number, indent))
            open_at = None
    if open_at is not None:
        problems.append(f"{where.format(line=open_at + first_line)}: unterminated {BEGIN!r}: no {END!r} after it")
    if problems:
        raise MarkerError(problems)
    return regions


def strip_lines(
    lines: list[str], regions: list[Region], stub: tuple[str, ...] | Callable[[list[str], Region], tuple[str, ...]]
) -> list[str]:
    """Replace each region of `lines` (with line endings) by the stub lines (or stub(lines, region))."""
    out: list[str] = []
    start = 0
    for region in regions:
        out.extend(lines[start : region.begin])
        out.extend(f"{region.indent}{stub_line}\n" for stub_line in (stub(lines, region) if callable(stub) else stub))
        start = region.end + 1
    out.extend(lines[start:])
    return out


def notebook_code_stub(lines: list[str], region: Region) -> tuple[str, str]:
    """The stub of a notebook code region: its error says what to write.

    A notebook cell stops with this message, so it names the variables the
    cell leaves as `NAME = None` for the student to set, and repeats the
    `# TODO:` comment right above the region:
    `set J_formula and dL_ds_formula: both from p and label alone, ...`.
    """
    comments: list[str] = []
    above = region.begin - 1
    while above >= 0 and lines[above].lstrip().startswith("#"):
        comments.insert(0, lines[above].strip().lstrip("#").strip())
        above -= 1
    todo = " ".join(comments)
    todo = todo[todo.index("TODO") + len("TODO") :].lstrip(": ") if "TODO" in todo else ""
    unset = [found["name"] for line in lines[: region.begin] if (found := UNSET_NAME.match(line))]
    names = " and ".join(", ".join(unset).rsplit(", ", 1)) if unset else ""
    if names and todo:
        message = f"set {names}: {todo}"
    else:
        message = (
            f"set {names} in this cell" if names else (todo or "write this part of the cell (see the text above it)")
        )
    return (CODE_STUB[0], f"raise NotImplementedError({message!r})")


def strip_python(text: str, where: str) -> str:
    """The student version of a Python source file."""
    lines = text.splitlines(keepends=True)
    return "".join(strip_lines(lines, find_regions(lines, where + ":{line}"), CODE_STUB))


def check_python(text: str, where: str) -> None:
    """Raise MarkerError if the markers of a Python file are malformed."""
    find_regions(text.splitlines(keepends=True), where + ":{line}")


def _cell_lines(cell: dict) -> list[str]:
    source = cell.get("source", "")
    text = "".join(source) if isinstance(source, list) else str(source)
    return text.splitlines(keepends=True)


def _as_source(lines: list[str]) -> list[str]:
    # nbformat's on-disk style: one string per line, the last without "\n".
    text = "".join(lines).rstrip("\n")
    return text.splitlines(keepends=True) if text else []


def transform_notebook(text: str, where: str, strip: bool) -> str:
    """Check a notebook's markers; strip them if `strip`; always clear outputs.

    Code cells lose their outputs and execution counts either way, so the
    kit opens clean, and the notebook loses its Jupytext pairing. Raises
    MarkerError naming the file, the cell and the line.
    """
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as err:
        raise MarkerError([f"{where}:{err.lineno}: not a valid notebook (JSON error: {err.msg})"]) from err
    problems: list[str] = []
    for index, cell in enumerate(notebook.get("cells", [])):
        lines = _cell_lines(cell)
        try:
            regions = find_regions(lines, f"{where}, cell {index + 1}, line {{line}}")
        except MarkerError as err:
            problems.extend(err.problems)
            continue
        if strip and regions:
            stub = (ANSWER_STUB,) if cell.get("cell_type") == "markdown" else notebook_code_stub
            if cell.get("cell_type") == "markdown":
                regions = [Region(r.begin, r.end, "") for r in regions]
            cell["source"] = _as_source(strip_lines(lines, regions, stub))
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)  # run timings
    if problems:
        raise MarkerError(problems)
    notebook.get("metadata", {}).pop("widgets", None)  # widget state of old outputs
    # The pairing with instructor/notebooks/: without it, Jupytext in a
    # student's JupyterLab leaves the notebook alone.
    notebook.get("metadata", {}).pop("jupytext", None)
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
