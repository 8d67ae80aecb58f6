"""The parts of your work still to write: where the kit's stubs still stand.

    from kit.stubs import python_stubs, notebook_stubs
    python_stubs(text, "classifiers/softmax.py")  # [Stub("softmax_loss_naive", "classifiers/softmax.py:60"), ...]
    notebook_stubs(notebook)                      # the code and answer cells still to fill

The kit reaches you with a stub in every place you write: in classifiers/,
`# YOUR CODE HERE` then `raise NotImplementedError()`; in a notebook code cell,
`# YOUR CODE HERE` then `raise NotImplementedError("what to write")`; in an
answer cell, `YOUR ANSWER HERE`. submit.py refuses work that still holds one,
and the tests' summary (tests/conftest.py) lists them as "not written yet".
Nothing here runs your code: files are read as text.
"""

from __future__ import annotations

import ast
import itertools
from dataclasses import dataclass

# The stubs, spelled as the release writes them (instructor/markers.py; a test keeps them in step).
STUB_LINE = "raise NotImplementedError()"
CODE_STUB_MARK = "# YOUR CODE HERE"
NOTEBOOK_STUB_START = "raise NotImplementedError("
ANSWER_STUB = "YOUR ANSWER HERE"
# A notebook cell named by its first line, cut to this many characters.
FIRST_LINE_WIDTH = 50


@dataclass(frozen=True)
class Stub:
    """One place still to write: `name` says what (a function, a kind of cell), `where` where it is."""

    name: str  # "softmax_loss_naive", "LinearClassifier.train", "code cell", "answer cell"
    where: str  # "classifiers/softmax.py:60", 'assignment.ipynb, cell 20 ("def softmax_vector(s):")'
    stub: str  # the stub text left there, e.g. "raise NotImplementedError()"


def python_stubs(text: str, path: str) -> list[Stub]:
    """Every `raise NotImplementedError()` stub line of a Python file, named by the function holding it.

    Raises SyntaxError when `text` does not parse (the caller says so: a file
    that does not parse is not handed in either).
    """
    functions = function_spans(ast.parse(text, path))  # first: a file that does not parse says so
    lines = [number for number, line in enumerate(text.splitlines(), 1) if line.strip() == STUB_LINE]
    return [Stub(holder(functions, number), f"{path}:{number}", STUB_LINE) for number in lines]


def function_spans(tree: ast.AST) -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of every function and method in `tree`: "Softmax.train"."""
    functions: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = prefix + child.name
                if not isinstance(child, ast.ClassDef):
                    functions.append((child.lineno, child.end_lineno or child.lineno, name))
                visit(child, name + ".")

    visit(tree, "")
    return functions


def holder(functions: list[tuple[int, int, str]], line: int) -> str:
    """The name of the innermost function (of `function_spans`) holding `line`, or "module level"."""
    holders = [f for f in functions if f[0] <= line <= f[1]]
    return max(holders)[2] if holders else "module level"  # the innermost: the latest start


def cell_text(cell: dict) -> str:
    """A notebook cell's source as one string (nbformat stores a string or a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def cell_name(index: int, cell: dict) -> str:
    """`cell 12 ("def softmax_vector(s):")`: the cell's position, counted from 1, and its first line."""
    first = next((line.strip() for line in cell_text(cell).splitlines() if line.strip()), "")
    first = first if len(first) <= FIRST_LINE_WIDTH else first[: FIRST_LINE_WIDTH - 3] + "..."
    return f'cell {index + 1} ("{first}")'


def notebook_stubs(notebook: dict, path: str = "assignment.ipynb") -> list[Stub]:
    """The code cells still holding `# YOUR CODE HERE` + a raise, and the answer cells still `YOUR ANSWER HERE`."""
    stubs = []
    for index, cell in enumerate(notebook.get("cells", [])):
        lines = [line.strip() for line in cell_text(cell).splitlines()]
        if cell.get("cell_type") == "code" and any(
            line == CODE_STUB_MARK and following.startswith(NOTEBOOK_STUB_START)
            for line, following in itertools.pairwise(lines)
        ):
            stubs.append(Stub("code cell", f"{path}, {cell_name(index, cell)}", NOTEBOOK_STUB_START + "...)"))
        elif cell.get("cell_type") == "markdown" and ANSWER_STUB in lines:
            stubs.append(Stub("answer cell", f"{path}, {cell_name(index, cell)}", ANSWER_STUB))
    return stubs
