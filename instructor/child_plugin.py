"""The pytest plugin that runs inside the grading child (as `_grader_plugin`).

The grader copies this file into the sandbox and runs
`python -m pytest -p _grader_plugin ...`. It reports to the parent over the
pipe whose number arrives in $GRADER_FD, one JSON object per line:

    {"e": "collecting", "path": "tests/test_softmax.py"}
    {"e": "collect_error", "path": ..., "text": ...}
    {"e": "collected", "ids": [...]}
    {"e": "start", "id": ...}
    {"e": "report", "id": ..., "when": "call", "outcome": "failed", "text": ...}
    {"e": "tamper", "id": ..., "what": "numpy.testing.assert_allclose"}
    {"e": "finish", "id": ...}
    {"e": "done"}

$GRADER_SELECT names a JSON list of the test ids to run (after a crash or a
timeout the parent re-runs only the tests it has no result for).

A tripwire: before any student code is imported, it records the identity of
the functions the tests rely on (numpy.testing, pytest.approx, builtins, the
test modules' globals, pytest's runner); after each test it reports any that
were replaced and puts the original back. This is a tripwire, not a wall:
the parent's own checks (instructor/checks.py) are what cannot be faked.
"""

from __future__ import annotations

import builtins
import json
import math
import os
import sys

import numpy
import numpy.testing
import pytest
import _pytest.python
import _pytest.reports
import _pytest.runner

TEXT_LIMIT = 4000  # characters of a failure kept for the report (the end: the error is there)

_fd = os.environ.pop("GRADER_FD", None)
_channel = os.fdopen(int(_fd), "w", buffering=1, closefd=False) if _fd else None
_select_path = os.environ.pop("GRADER_SELECT", None)

GUARDED = {
    numpy.testing: ["assert_allclose", "assert_array_equal", "assert_equal", "assert_array_almost_equal",
                    "assert_almost_equal", "assert_array_less"],
    numpy: ["allclose", "isclose", "array_equal", "isfinite", "all", "any", "shares_memory", "argmax",
            "exp", "log", "sum", "mean", "max", "abs", "linalg"],
    math: ["isclose", "isfinite", "log", "exp"],
    builtins: ["isinstance", "abs", "all", "any", "len", "sum", "float", "int", "round", "type", "max",
               "min", "zip", "range", "tuple", "set"],
    pytest: ["approx", "raises", "fail", "skip"],
    _pytest.runner: ["call_and_report", "call_runtest_hook", "runtestprotocol", "check_interactive_exception"],
    _pytest.reports.TestReport: ["from_item_and_call"],
    _pytest.python.Function: ["runtest"],
    _pytest.python: ["pytest_pyfunc_call"],
}
# vars(), not getattr(): a classmethod gives a new bound object on every getattr.
_snapshot = {(owner, name): vars(owner)[name] for owner, names in GUARDED.items() for name in names
             if name in vars(owner)}
_module_snapshots: dict[str, dict[str, int]] = {}


def _emit(**event) -> None:
    if _channel is None:
        return
    try:
        _channel.write(json.dumps(event) + "\n")
    except (OSError, ValueError, TypeError):
        pass  # the parent scores what it never hears about as failed


def _label(owner) -> str:
    return getattr(owner, "__name__", None) or getattr(owner, "__qualname__", repr(owner))


def _check_tampering(nodeid: str) -> None:
    for (owner, name), original in _snapshot.items():
        if vars(owner).get(name) is not original:
            _emit(e="tamper", id=nodeid, what=f"{_label(owner)}.{name} was replaced")
            try:
                setattr(owner, name, original)
            except (AttributeError, TypeError):
                pass
    for module_name, names in _module_snapshots.items():
        module = sys.modules.get(module_name)
        current = vars(module) if module is not None else {}
        changed = sorted(n for n, ident in names.items() if id(current.get(n)) != ident)
        if changed:
            _emit(e="tamper", id=nodeid, what=f"{module_name}: {', '.join(changed[:5])} rebound")
    if sys.modules.get(__name__) is not None and sys.modules[__name__].__dict__.get("_emit") is not _emit:
        _emit(e="tamper", id=nodeid, what="the grader plugin was patched")


def pytest_collectstart(collector) -> None:
    if isinstance(collector, pytest.Module):
        _emit(e="collecting", path=collector.nodeid)


def pytest_collectreport(report) -> None:
    if report.failed:
        _emit(e="collect_error", path=report.nodeid, text=str(report.longreprtext)[-TEXT_LIMIT:])


def pytest_collection_modifyitems(session, config, items) -> None:
    if _select_path:
        with open(_select_path, encoding="utf-8") as handle:
            wanted = set(json.load(handle))
        items[:] = [item for item in items if item.nodeid in wanted]


def pytest_collection_finish(session) -> None:
    _emit(e="collected", ids=[item.nodeid for item in session.items])
    for item in session.items:
        module = getattr(item, "module", None)
        if module is not None and module.__name__ not in _module_snapshots:
            _module_snapshots[module.__name__] = {n: id(v) for n, v in vars(module).items()}


def pytest_runtest_logstart(nodeid, location) -> None:
    _emit(e="start", id=nodeid)


def pytest_runtest_logreport(report) -> None:
    if report.when == "call":
        _check_tampering(report.nodeid)
    text = str(report.longreprtext)[-TEXT_LIMIT:] if report.failed else ""
    if report.skipped and isinstance(report.longrepr, tuple):
        text = str(report.longrepr[2])
    _emit(e="report", id=report.nodeid, when=report.when, outcome=report.outcome, text=text)


def pytest_runtest_logfinish(nodeid, location) -> None:
    _emit(e="finish", id=nodeid)


def pytest_sessionfinish(session, exitstatus) -> None:
    _emit(e="done")

