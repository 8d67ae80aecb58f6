"""The grading harness: a pytest plugin, loaded in the trusted process that runs the tests.

    python -m pytest -p instructor.grading.harness_plugin tests/...   (started by instructor/grading/harness.py)

It replaces `tests.student_code` with the remote stand-in of
instructor/grading/remote.py before any test module is imported, so every
call into the student's code crosses the boundary to the sandboxed worker.
No student code ever runs in this process: the tests, their comparisons and
this report are the instructor's alone.

One harness serves a whole batch, warm: pytest starts, imports NumPy,
Hypothesis and the tests and collects them once, then waits. For each
submission the grader sends the path of its config (the worker's command,
limits, where to report) on the control pipe; the harness forks, and the
child runs every collected test for that submission alone and exits. A child
starts from the warm parent, never from an earlier submission, so nothing of
one submission reaches the next. The child appends one JSON line per event
to its submission's report file:

    {"e": "collected", "ids": [...]}
    {"e": "start", "id": ...}
    {"e": "report", "id": ..., "when": "call", "outcome": "failed", "text": ...,
     "explained": {"softmax_loss_vectorized": ["reg-missing-in-loss"]},
     "findings": [["softmax_loss_vectorized", "reg-missing-in-loss"]],
     "student": {"text": ..., "error": {"kind": "raised", "type": ..., "file": ..., "line": ...}}}
    {"e": "durations", "calls": {"softmax_loss_naive": 0.004, ...}}
    {"e": "incidents", "items": [{"kind": "timeout", "entry": ..., "test": ..., "detail": ...}]}
    {"e": "done"}

"findings" are diagnose's, as tests/conftest.py recorded them on the test;
"student" is what the student may read of the failure
(instructor/grading/student_view.py): "text" for a visible test only. The
parent writes, once, {"e": "ready", "ids": [...], "collect_errors": [...]}
on the control pipe, then {"pid": ...} for each child it starts.
"""

from __future__ import annotations

import ctypes
import gc
import importlib.abc
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from instructor.grading import mistakes, student_view
from instructor.grading.boundary import Boundary
from instructor.grading.remote import remote_module

TEXT_LIMIT = 4000  # characters of one failure kept (the end: the error is there)
PR_SET_PDEATHSIG = 1
CONTROL_ENV = "GRADER_CONTROL"  # "IN,OUT": the file descriptors of the control pipe from and to the grader

_control = tuple(int(fd) for fd in os.environ[CONTROL_ENV].split(",")) if CONTROL_ENV in os.environ else None
_config: dict = {}  # the submission being graded (a child's only)
_report = None  # its report file, line-buffered: every event is on disk when a test ends
_boundary: Boundary | None = None
_recorder = mistakes.Recorder()  # the loss-pair calls of the running test (mistakes.py)
_collect_errors: list[str] = []


def _emit(**event) -> None:
    if _report is not None:
        _report.write(json.dumps(event) + "\n")


def _die_with_parent() -> None:
    """SIGKILL this process when its parent dies (the grader, or the warm harness for a child)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


class StudentImportGuard(importlib.abc.MetaPathFinder):
    """Graded tests reach student code only through tests.student_code: say so if one does not."""

    def __init__(self, modules):
        self.modules = set(modules)

    def find_spec(self, name, path=None, target=None):
        if name in self.modules:
            raise ImportError(
                f"{name} is the student's code: graded tests must import it from tests.student_code, "
                "which the grader runs in the sandbox"
            )
        return None


def pytest_configure(config) -> None:
    global _boundary
    if _control is None:
        return
    _die_with_parent()  # and with it every child, and each child's worker (bubblewrap's --die-with-parent)
    import tests.student_code as student_code  # the kit's own copy: imports no student file by itself

    _boundary = Boundary({})  # configured for each submission, in its child
    remote = remote_module(student_code, _boundary)
    for name in mistakes.RECORDED:
        setattr(remote, name, _recorder.wrap(getattr(remote, name)))
    sys.modules["tests.student_code"] = remote
    sys.modules["tests"].student_code = remote
    sys.meta_path.insert(0, StudentImportGuard({module for module, _, _ in student_code.STUDENT_API.values()}))


def pytest_collectreport(report) -> None:
    if report.failed:
        _collect_errors.append(f"{report.nodeid}:\n{str(report.longreprtext)[-TEXT_LIMIT:]}")


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session) -> bool | None:
    """Wait for submissions; fork a child for each. The parent never runs a test itself."""
    if _control is None:
        return None
    control_in, control_out = os.fdopen(_control[0], "r"), os.fdopen(_control[1], "w", buffering=1)
    ids = [item.nodeid for item in session.items]
    control_out.write(json.dumps({"e": "ready", "ids": ids, "collect_errors": _collect_errors}) + "\n")
    # Children are reaped by the kernel: the grader watches each one itself (instructor/grading/harness.py).
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    # What the parent holds (pytest, NumPy, Hypothesis, the tests) is never collected again: a
    # child's garbage collections skip it, and do not copy its memory by touching it.
    gc.collect()
    gc.freeze()
    for line in control_in:
        request = json.loads(line)
        sys.stdout.flush()  # nothing buffered here may be written again by a child
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                _grade_in_child(session, Path(request["config"]))
                status = 0
            finally:
                os._exit(status)
        control_out.write(json.dumps({"pid": pid}) + "\n")
    return True


def _grade_in_child(session, config_path: Path) -> None:
    """Run every collected test for the submission `config_path` describes; report it; the child then exits."""
    global _config, _report
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the child waits for its own worker processes
    _die_with_parent()
    os.setsid()  # its own process group: the grader ends it (and what it started) at its deadline
    _config = json.loads(config_path.read_text())
    log = os.open(_config["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.environ.update(_config.get("environ", {}))
    # tmp_path of this submission's tests: its own folder, never another child's.
    session.config._tmp_path_factory._given_basetemp = Path(_config["scratch"]) / "tmp"
    session.config._tmp_path_factory._basetemp = None
    _report = open(_config["report"], "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - closed at exit
    _boundary.configure(_config)
    _boundary.ensure_worker()  # starts while the first test is set up
    _emit(e="collected", ids=[item.nodeid for item in session.items])
    try:
        for i, item in enumerate(session.items):
            nextitem = session.items[i + 1] if i + 1 < len(session.items) else None
            item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
    finally:
        _boundary.close()
        _emit(e="durations", calls=_boundary.durations)
        _emit(e="timed_out", calls=_boundary.timed_out)
        _emit(e="incidents", items=_boundary.incidents)
        _emit(e="done")
        sys.stdout.flush()


def pytest_runtest_logstart(nodeid, location) -> None:
    if _boundary is not None:
        _boundary.start_test(nodeid)
    _recorder.reset()
    _emit(e="start", id=nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if _config and report.when == "call" and report.passed:
        # Nothing for nothing: a test that passed on a loss that was never computed (zeros, a
        # constant, random numbers) fails here, in the harness, whatever the test itself checked.
        try:
            reason = _recorder.not_computed()
        except Exception as error:  # noqa: BLE001 - a bug of the grader's: the test keeps its verdict
            _emit(e="explain_error", id=report.nodeid, text=f"{type(error).__name__}: {error}")
            reason = ""
        if reason:
            report.outcome, report.longrepr = "failed", reason
    if _config and report.when == "call" and report.failed:
        # Did classic mistakes, exactly, make every loss call of this test what it was?
        try:
            report.explained = _recorder.explain()
        except Exception as error:  # noqa: BLE001 - not explained: the test costs its full points
            _emit(e="explain_error", id=report.nodeid, text=f"{type(error).__name__}: {error}")
    if _config and report.failed and call.excinfo is not None:
        try:
            report.student = student_view.describe_failure(
                call.excinfo, report.nodeid, Path(str(item.config.rootpath)), Path(_config["submission"])
            )
        except Exception as error:  # noqa: BLE001 - the student then reads a short line; the verdict stands
            report.student = {"text": "This test failed (its message could not be shown)."}
            _emit(e="student_view_error", id=report.nodeid, text=f"{type(error).__name__}: {error}")


def pytest_runtest_logreport(report) -> None:
    text = str(report.longreprtext)[-TEXT_LIMIT:] if report.failed else ""
    if report.skipped and isinstance(report.longrepr, tuple):
        text = str(report.longrepr[2])
    explained = getattr(report, "explained", None)
    findings = [list(pair) for key, value in report.user_properties if key == "diagnosis" for pair in value]
    student = getattr(report, "student", None)
    _emit(
        e="report",
        id=report.nodeid,
        when=report.when,
        outcome=report.outcome,
        text=text,
        **({"explained": explained} if explained else {}),
        **({"findings": findings} if findings else {}),
        **({"student": student} if student else {}),
    )
