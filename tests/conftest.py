"""Shared pytest set-up for the kit's tests.

- A part you have not written yet (the `raise NotImplementedError()` left in
  its place) fails with one short line naming it, instead of a traceback:
  "softmax_loss_naive is not implemented yet (classifiers/softmax.py:60)".
  The same holds when the notebook (tests/test_notebook.py) or a script run
  in a subprocess (tests/test_benchmarks.py) stops on such a part.
- A graded softmax or classifier test that fails starts its message with
  what diagnose.py finds in the code it tests, e.g.
  "[reg-missing-in-gradient] softmax_loss_vectorized: with X = 0 ...", so
  pytest's summary and the grader's table name the mistake. Each function
  (and the training loop) is diagnosed once per session.
- Hypothesis profiles: "kit", the default (no explain phase, whose notes
  point into NumPy's files), and "grading" (the same with fixed examples and
  no example database) selected with HYPOTHESIS_PROFILE=grading, which the
  grader uses so a score never depends on the random examples of one run.

What a run shows (tests/run_report.py): a test that stops on a part not
written yet is counted as "blocked by a stub", not listed one by one; it
still fails (pytest's exit status is 1, and the grader counts it as failed).
In a student's kit the run also opens with your code as the diagnosis sees
it, part by part, and a failing test of code with a named mistake shows one
line (`--tb=short` or `--tb=long` shows it in full). The instructor's
repository and the grader see every failure in full (the ini option
`run_report`: auto, on or off).
"""

from __future__ import annotations

import linecache
import os
import re
import signal
import traceback
from pathlib import Path

import pytest
from hypothesis import Phase, settings

from kit.stubs import STUB_LINE
from tests import run_report

KIT_ROOT = Path(__file__).resolve().parent.parent

# No "explain" phase: its notes ("these lines were always and only run by
# failing test cases") point into NumPy's own files and bury the message
# that says what the student got wrong.
WITHOUT_EXPLAIN = tuple(phase for phase in Phase if phase.name != "explain")
settings.register_profile("kit", phases=WITHOUT_EXPLAIN)
settings.register_profile(
    "grading", parent=settings.get_profile("kit"), derandomize=True, database=None, deadline=None, print_blob=False
)
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
        failure.blocked_by = message  # pytest_runtest_makereport puts it on the report
        outcome.force_exception(failure)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    outcome = yield
    _shorten_not_implemented(outcome)  # a fixture that needs an unimplemented part


# --- the diagnosis at the head of a failing graded test ----------------------------

# Test files whose failures get a diagnosis: the softmax tests, of the loss they
# test; the classifier tests, of the training loop and the loss it trains with.
SOFTMAX_TEST_FILES = ("tests/test_softmax.py", "tests/hidden/test_hidden_softmax.py")
CLASSIFIER_TEST_FILES = ("tests/test_linear_classifier.py", "tests/hidden/test_hidden_linear_classifier.py")
LOSS_FUNCTION_NAMES = {"naive": "softmax_loss_naive", "vectorized": "softmax_loss_vectorized"}
TRAINING = "Softmax.train"
# Classifier tests of what training does not touch: no diagnosis for them.
NOT_ABOUT_TRAINING = ("predict", "save", "load", "base_class")
# A diagnosis takes milliseconds; a function that does not return within this much
# on the diagnosis's tiny inputs is left undiagnosed rather than hanging the test.
DIAGNOSIS_BUDGET_SECONDS = 5.0
_diagnoses: dict[str, list] = {}  # function name -> its findings, once per session
# On a failing test: the mistakes named at the head of its message, "[code] function".
NAMED_MISTAKES = pytest.StashKey[list]()


class _DiagnosisTimeout(BaseException):
    """Raised by the alarm inside a function that runs past DIAGNOSIS_BUDGET_SECONDS."""


def _diagnosed_subjects(item: pytest.Item) -> list[str]:
    """What a failing test exercises: its loss_fn parameter, the loss its name mentions, or training."""
    if item.nodeid.startswith(CLASSIFIER_TEST_FILES):
        about_training = "train" in item.name or not any(word in item.name for word in NOT_ABOUT_TRAINING)
        return [TRAINING, LOSS_FUNCTION_NAMES["vectorized"]] if about_training else []
    if not item.nodeid.startswith(SOFTMAX_TEST_FILES):
        return []
    callspec = getattr(item, "callspec", None)
    param = callspec.params.get("loss_fn") if callspec is not None else None
    if param in LOSS_FUNCTION_NAMES:
        return [LOSS_FUNCTION_NAMES[param]]
    named = [name for key, name in LOSS_FUNCTION_NAMES.items() if key in item.name]
    return named if len(named) == 1 else list(LOSS_FUNCTION_NAMES.values())


def _diagnosis(name: str) -> list:
    """The findings of diagnose.py on that function or class, computed once; [] if it cannot run."""
    if name not in _diagnoses:
        _diagnoses[name] = []
        # Through tests/student_code.py, which the grader runs next to the student's code.
        from tests import student_code

        try:
            _diagnoses[name] = _with_alarm(lambda: student_code.diagnosis(name))
        except Exception:  # noqa: BLE001 - a file that does not import fails its tests on its own
            return []
    return _diagnoses[name]


def _with_alarm(run):
    """run() under a SIGALRM budget where one is available (Unix, main thread, alarm unused)."""
    usable = (
        hasattr(signal, "setitimer")
        and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0
    )
    if not usable:
        return run()

    def on_alarm(signum, frame):
        raise _DiagnosisTimeout()

    try:
        signal.signal(signal.SIGALRM, on_alarm)
    except ValueError:  # not the main thread
        return run()
    signal.setitimer(signal.ITIMER_REAL, DIAGNOSIS_BUDGET_SECONDS)
    try:
        return run()
    except _DiagnosisTimeout:
        return []
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)


def _prefix_with_diagnosis(item: pytest.Item, outcome) -> None:
    """Put the findings on the tested code at the head of a failing test's message."""
    if outcome.excinfo is None:
        return
    error = outcome.excinfo[1]
    if isinstance(error, (pytest.skip.Exception, pytest.xfail.Exception)):
        return
    found = [(name, code, message) for name in _diagnosed_subjects(item) for code, message in _diagnosis(name)]
    if not found:
        return
    # The same findings as data, [(function, code)], on the test's report (the grader reads them there).
    item.user_properties.append(("diagnosis", [(name, code) for name, code, _ in found]))
    item.stash[NAMED_MISTAKES] = [f"[{code}] {name}" for name, code, _ in found]
    lines = [f"[{code}] {name}: {message}" for name, code, message in found]
    head = "\n".join(lines)
    if isinstance(error, pytest.fail.Exception):
        error.msg = f"{head}\n\n{error.msg}"
    elif type(error).__str__ is BaseException.__str__ and len(error.args) == 1 and isinstance(error.args[0], str):
        error.args = (f"{head}\n\n{error.args[0]}",)  # AssertionError, ValueError, ...: str() is the argument
    elif hasattr(error, "add_note"):
        error.add_note(f"diagnose.py: {head}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    outcome = yield
    if outcome.excinfo is not None and describe_not_implemented(outcome.excinfo[1]):
        _shorten_not_implemented(outcome)  # the one-line message says it all
    else:
        _prefix_with_diagnosis(item, outcome)


# --- what the run shows (tests/run_report.py) ---------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    run_report.add_option(parser)


def pytest_sessionstart(session: pytest.Session) -> None:
    run_report.start(session.config)


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    return run_report.opening_lines(_diagnosis) if run_report.is_on(config) else []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if not report.failed or call.excinfo is None:
        return
    blocked_by = getattr(call.excinfo.value, "blocked_by", None)
    if blocked_by:
        report.blocked_by = blocked_by  # counted as blocked by a stub; still failed
    elif NAMED_MISTAKES in item.stash and not run_report.shows_failures_in_full(item.config):
        report.longrepr = run_report.compact(report, item.stash[NAMED_MISTAKES])
        report.sections = []  # its captured output belongs to the full view


def pytest_terminal_summary(terminalreporter) -> None:
    for line in run_report.closing_lines(terminalreporter):
        terminalreporter.write_line(line)


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(report: pytest.TestReport) -> tuple[str, str, str] | None:
    if report.failed and getattr(report, "blocked_by", None):
        return run_report.BLOCKED
    return None
