"""The grading harness: a pytest plugin, loaded in the trusted process that runs the tests.

    python -m pytest -p instructor.grading.harness_plugin tests/... (with $GRADER_HARNESS set)

It replaces `tests.student_code` with the remote stand-in of
instructor/grading/boundary.py before any test module is imported, so every
call into the student's code crosses the boundary to the sandboxed worker.
No student code ever runs in this process: the tests, their comparisons and
this report are the instructor's alone.

$GRADER_HARNESS names a JSON file with the worker's command and limits
(written by instructor/grading/harness.py). The plugin appends one JSON line
per event to the report file that config names:

    {"e": "collect_error", "path": ..., "text": ...}
    {"e": "collected", "ids": [...]}
    {"e": "start", "id": ...}
    {"e": "report", "id": ..., "when": "call", "outcome": "failed", "text": ...,
     "explained": {"softmax_loss_vectorized": ["reg-missing-in-loss"]},
     "findings": [["softmax_loss_vectorized", "reg-missing-in-loss"]],
     "student": {"text": ..., "error": {"kind": "raised", "type": ..., "file": ..., "line": ...}}}
    {"e": "durations", "calls": {"softmax_loss_naive": 0.004, ...}}
    {"e": "incidents", "items": [{"kind": "timeout", "entry": ..., "test": ..., "detail": ...}]}

"findings" are diagnose.py's, as tests/conftest.py recorded them on the test;
"student" is what the student may read of the failure
(instructor/grading/student_view.py): "text" for a visible test only.
    {"e": "done"}
"""

from __future__ import annotations

import ctypes
import importlib.abc
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from instructor.grading import mistakes, student_view
from instructor.grading.boundary import Boundary, remote_module

TEXT_LIMIT = 4000  # characters of one failure kept (the end: the error is there)
PR_SET_PDEATHSIG = 1

_config_path = os.environ.get("GRADER_HARNESS")
_config: dict = json.loads(Path(_config_path).read_text()) if _config_path else {}
# Open for the whole session, line-buffered: every event is on disk when a test ends.
_report = open(_config["report"], "a", buffering=1, encoding="utf-8") if _config else None  # noqa: SIM115
_boundary: Boundary | None = None
_recorder = mistakes.Recorder()  # the loss-pair calls of the running test (mistakes.py)


def _emit(**event) -> None:
    if _report is not None:
        _report.write(json.dumps(event) + "\n")


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
    if not _config:
        return
    # Die with the grader, and with it the worker (bubblewrap's --die-with-parent).
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != _config.get("parent", os.getppid()):
        os._exit(1)
    import tests.student_code as student_code  # the kit's own copy: imports no student file by itself

    _boundary = Boundary(_config)
    remote = remote_module(student_code, _boundary, Path(_config["submission"]))
    for name in mistakes.RECORDED:
        setattr(remote, name, _recorder.wrap(getattr(remote, name)))
    sys.modules["tests.student_code"] = remote
    sys.modules["tests"].student_code = remote
    sys.meta_path.insert(0, StudentImportGuard({module for module, _, _ in student_code.STUDENT_API.values()}))
    _boundary.ensure_worker()  # starts now, while pytest collects the tests


def pytest_collectreport(report) -> None:
    if report.failed:
        _emit(e="collect_error", path=report.nodeid, text=str(report.longreprtext)[-TEXT_LIMIT:])


def pytest_collection_finish(session) -> None:
    _emit(e="collected", ids=[item.nodeid for item in session.items])


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


def pytest_sessionfinish(session, exitstatus) -> None:
    if _boundary is not None:
        _boundary.close()
        _emit(e="durations", calls=_boundary.durations)
        _emit(e="timed_out", calls=_boundary.timed_out)
        _emit(e="incidents", items=_boundary.incidents)
    _emit(e="done")
