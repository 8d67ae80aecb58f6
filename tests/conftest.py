"""Shared pytest set-up for the kit's tests.

- A part you have not written yet (the `raise NotImplementedError()` left in
  its place) fails with one short line naming it, instead of a traceback:
  "softmax_loss_naive is not implemented yet (classifiers/softmax.py:60)".
  The same holds when the notebook (tests/test_notebook.py) or a script run
  in a subprocess (tests/test_benchmarks.py) stops on such a part.
- Hypothesis profiles: "kit", the default (no explain phase, whose notes
  point into NumPy's files), and "grading" (the same with fixed examples and
  no example database) selected with HYPOTHESIS_PROFILE=grading, which the
  grader uses so a score never depends on the random examples of one run.
"""

from __future__ import annotations

import linecache
import os
import re
import traceback
from pathlib import Path

import pytest
from hypothesis import Phase, settings

KIT_ROOT = Path(__file__).resolve().parent.parent
STUB_LINE = "raise NotImplementedError()"

# No "explain" phase: its notes ("these lines were always and only run by
# failing test cases") point into NumPy's own files and bury the message
# that says what the student got wrong.
WITHOUT_EXPLAIN = tuple(phase for phase in Phase if phase.name != "explain")
settings.register_profile("kit", phases=WITHOUT_EXPLAIN)
settings.register_profile("grading", parent=settings.get_profile("kit"), derandomize=True, database=None,
                          deadline=None, print_blob=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or "kit")

# IPython's traceback lines: "File /kit/classifiers/softmax.py:60, in softmax_loss_naive(W, X, y, reg)".
NOTEBOOK_FRAME = re.compile(r"File (?P<file>[^\s,]+?):(?P<line>\d+), in (?P<name>[\w.<>]+)")
NOTEBOOK_CELL_FRAME = re.compile(r"Cell In\s*\[(?P<cell>[^\]]*)\], line (?P<line>\d+)")
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# The last line of a notebook stub's traceback: "NotImplementedError: set test_accuracy: ...".
NOTEBOOK_STUB_MESSAGE = re.compile(r"^NotImplementedError: (.+)$", re.MULTILINE)


def _kit_path(filename: str) -> str:
    try:
        return Path(filename).resolve().relative_to(KIT_ROOT).as_posix()
    except ValueError:
        return filename


def describe_stub(error: BaseException) -> str | None:
    """The one-line message for a stub's NotImplementedError, else None.

    Only an error raised by the stub line itself counts: a NotImplementedError
    with its own message (e.g. LinearClassifier.loss) keeps its traceback.
    """
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return None
    last = frames[-1]
    if linecache.getline(last.filename, last.lineno).strip() != STUB_LINE:
        return None
    name = _qualified_name(error) or last.name
    return f"{name} is not implemented yet ({_kit_path(last.filename)}:{last.lineno})"


def _qualified_name(error: BaseException) -> str | None:
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code if tb is not None else None
    return getattr(code, "co_qualname", None)  # Python 3.11+: "LinearClassifier.train"


def describe_notebook_stub(error: BaseException) -> str | None:
    """The message for a notebook cell that stopped on NotImplementedError, else None."""
    if type(error).__name__ != "CellExecutionError":
        return None
    text = ANSI_ESCAPE.sub("", str(error))
    if "NotImplementedError" not in text:
        return None
    tail = text[text.rfind("Traceback") :] if "Traceback" in text else text
    frames = list(NOTEBOOK_FRAME.finditer(tail))
    if frames:
        last = frames[-1]
        where = f"{_kit_path(last['file'])}:{last['line']}"
        return f"assignment.ipynb stopped: {last['name']} is not implemented yet ({where})"
    cells = list(NOTEBOOK_CELL_FRAME.finditer(tail))
    line = f"line {cells[-1]['line']}" if cells else ""
    cell = getattr(error, "notebook_cell", None)  # set by tests/test_notebook.py
    if cell:  # In[n] counts differ from the student's own run; the cell's first line does not
        where = f" ({cell}{', ' + line if line else ''})"
    else:
        where = f" (cell In[{cells[-1]['cell']}], {line})" if cells else ""
    said = NOTEBOOK_STUB_MESSAGE.findall(tail)  # what the stub asks for, if it says
    return f"assignment.ipynb stopped at a cell that is not implemented yet{where}" + (f": {said[-1]}" if said else "")


# A Python traceback, printed by a subprocess, that ends on a stub.
SUBPROCESS_STUB = re.compile(
    r'File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<name>[\w.<>]+)\n\s*raise NotImplementedError\(\)\s*\n'
    r"(?:\s*\^+\s*\n)?\s*NotImplementedError\b"
)


def describe_subprocess_stub(error: BaseException) -> str | None:
    """The message for an error whose text holds a subprocess's stub traceback."""
    frames = list(SUBPROCESS_STUB.finditer(str(error)))
    if not frames:
        return None
    last = frames[-1]
    return f"{last['name']} is not implemented yet ({_kit_path(last['file'])}:{last['line']})"


def describe_not_implemented(error: BaseException | None) -> str | None:
    """The not-implemented message for a test's error, following its chain.

    The chain matters when a test expects an error of its own and meets the
    stub first: pytest.raises(..., match=...) fails with an AssertionError
    whose __context__ is the stub's NotImplementedError.
    """
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, NotImplementedError):
            message = describe_stub(error)
        else:
            message = describe_notebook_stub(error) or describe_subprocess_stub(error)
        if message is not None:
            return message
        error = error.__cause__ or error.__context__
    return None


def _shorten_not_implemented(outcome) -> None:
    if outcome.excinfo is None:
        return
    message = describe_not_implemented(outcome.excinfo[1])
    if message is None:
        return
    try:
        pytest.fail(message, pytrace=False)
    except pytest.fail.Exception as failure:
        outcome.force_exception(failure)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    outcome = yield
    _shorten_not_implemented(outcome)  # a fixture that needs an unimplemented part


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    outcome = yield
    _shorten_not_implemented(outcome)
