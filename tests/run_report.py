"""What a pytest run shows a student: their code part by part first, then only what needs reading.

tests/conftest.py calls these from pytest's hooks. In a student's kit a run

1. opens with one line per part of the work, right after "collected N items":
   the mistakes diagnose names in each loss and in the training loop, and
   every part still holding its stub ("not written yet");
2. counts a test that stops on a stub as "blocked by a stub" (progress
   letter `-`) instead of listing it as a failure: it still fails, so the
   exit status is 1 and the grader counts it as failed;
3. shows a failing test of code with a named mistake as one line (the
   mistake is named at the top); every other failure in full;
4. leaves out pytest's platform header and the skip reasons, which never
   ask anything of a student.

`--tb=short` (or `--tb=long`) shows every failure in full again, and `-r`
options choose the short summary as usual. The ini option `run_report`
(auto, on, off) says where this applies: auto means in a kit, not in the
instructor's repository (which has an instructor/ folder); the grader
passes `-o run_report=off`, and sees every failure as pytest writes it.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from kit.stubs import Stub, notebook_stubs, python_stubs

KIT_ROOT = Path(__file__).resolve().parent.parent
INI_NAME = "run_report"
CHOICES = ("auto", "on", "off")
INSTRUCTOR_FOLDER = "instructor"  # only the instructor's repository has it
NOTEBOOK = "assignment.ipynb"
# How a test that stopped on a stub is counted: category, progress letter, word (-v).
BLOCKED = ("blocked by a stub", "-", "BLOCKED")
# Short-summary letters a student's run leaves out unless asked (-r): failures
# and errors (the FAILURES and ERRORS sections show them) and skips (their
# reasons ask nothing of a student).
QUIET_REPORT_CHARS = "fEs"
# The parts diagnose can check: the name it reports -> the function you write.
DIAGNOSED = {
    "softmax_loss_naive": "softmax_loss_naive",
    "softmax_loss_vectorized": "softmax_loss_vectorized",
    "Softmax.train": "LinearClassifier.train",
}
NAME_WIDTH = 25  # the column of part names in the opening lines
COMPACT_END = "(named at the top)"  # how a failure shown as one line ends


def add_option(parser: pytest.Parser) -> None:
    parser.addini(
        INI_NAME,
        "the student's view of a run (tests/run_report.py): auto (in a kit, not in the "
        "instructor's repository), on or off",
        default="auto",
    )


def is_on(config: pytest.Config) -> bool:
    """Whether this run shows the student's view; a UsageError for a value other than auto, on, off."""
    value = str(config.getini(INI_NAME)).strip().lower()
    if value not in CHOICES:
        raise pytest.UsageError(f"{INI_NAME} = {value!r}: expected one of {', '.join(CHOICES)}")
    if value == "auto":
        return not (KIT_ROOT / INSTRUCTOR_FOLDER).is_dir()
    return value == "on"


def _asked_for(config: pytest.Config, *prefixes: str) -> bool:
    """Whether the command line itself (not addopts) holds an option starting with one of `prefixes`."""
    return any(str(arg).startswith(prefixes) for arg in config.invocation_params.args)


def shows_failures_in_full(config: pytest.Config) -> bool:
    return config.option.tbstyle != "auto" or not is_on(config)


def start(config: pytest.Config) -> None:
    """Quiet the header and the short summary, unless the command line asks for them."""
    if not is_on(config):
        return
    config.option.no_header = True
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and not _asked_for(config, "-r"):
        reporter.reportchars = "".join(c for c in reporter.reportchars if c not in QUIET_REPORT_CHARS)


# --- the opening lines: your code, part by part ---------------------------------------


def _student_files(student_api: dict) -> list[tuple[str, str]]:
    """(module, path) of each file you write, in the order the tests name them."""
    modules = dict.fromkeys(module for module, _, _ in student_api.values() if not module.startswith("tests."))
    return [(module, module.replace(".", "/") + ".py") for module in modules]


def _line(name: str, text: str) -> str:
    return f"  {name:<{NAME_WIDTH}} {text}"


def _not_written(name: str, stubs: list[Stub]) -> str:
    path = stubs[0].where.rsplit(":", 1)[0]
    lines = ", ".join(stub.where.rsplit(":", 1)[1] for stub in stubs)
    return _line(name, f"not written yet ({path}, line{'s' if len(stubs) > 1 else ''} {lines})")


def _file_lines(module: str, path: str, diagnosis: Callable[[str], list]) -> list[str]:
    """One line per part of one of your files: its stubs, or the diagnosis of the parts diagnose checks."""
    try:
        text = (KIT_ROOT / path).read_text(encoding="utf-8")
        stubs = python_stubs(text, path)
    except OSError as err:
        return [_line(path, f"cannot be read: {err}")]
    except SyntaxError as err:
        return [_line(path, f"is not valid Python: {err.msg} (line {err.lineno}); nothing in it can run")]
    try:
        importlib.import_module(module)
    except Exception as err:  # noqa: BLE001 - any error at import stops every test of the file
        return [_line(path, f"does not load: {type(err).__name__}: {err}")]
    by_function: dict[str, list[Stub]] = {}
    for stub in stubs:
        by_function.setdefault(stub.name, []).append(stub)
    lines = []
    for subject, function in DIAGNOSED.items():
        if function in by_function or _module_of(subject) != module:
            continue
        findings = diagnosis(subject)
        lines += [_line(function, f"[{code}] {message}") for code, message in findings] or [
            _line(function, "no mistake found by diagnose")
        ]
    return lines + [_not_written(name, found) for name, found in by_function.items()]


def _module_of(subject: str) -> str:
    from tests.student_code import STUDENT_API

    return STUDENT_API[subject.split(".")[0]][0]


def _notebook_line() -> list[str]:
    path = KIT_ROOT / NOTEBOOK
    try:
        stubs = notebook_stubs(json.loads(path.read_text(encoding="utf-8")), NOTEBOOK)
    except (OSError, ValueError):
        return []  # missing or not JSON: the notebook's own tests say so
    if not stubs:
        return []
    code = sum(stub.name == "code cell" for stub in stubs)
    answers = len(stubs) - code
    kinds = ((code, "code cell"), (answers, "answer"))
    counts = " and ".join(f"{count} {kind}{'s' if count > 1 else ''}" for count, kind in kinds if count)
    return [_line(NOTEBOOK, f"not written yet: {counts}; the first is {stubs[0].where.split(', ', 1)[1]}")]


def opening_lines(diagnosis: Callable[[str], list]) -> list[str]:
    """The lines a student's run opens with: each part of the work, as the diagnosis and the stubs show it."""
    from tests.student_code import STUDENT_API

    lines = []
    for module, path in _student_files(STUDENT_API):
        lines += _file_lines(module, path, diagnosis)
    lines += _notebook_line()
    if any("not written yet" in line for line in lines):
        return ["Your code, part by part (a test that needs a part not written yet is blocked by a stub):", *lines]
    return ["Your code, part by part (diagnose names each mistake it finds):", *lines]


# --- one line for a failure the opening lines explain ---------------------------------


def compact(report: pytest.TestReport, named: list[str]) -> str:
    """The one line shown for a failing test whose code has the named mistakes (`[code] part`)."""
    path, line = report.location[0], (report.location[1] or 0) + 1  # the test's def line
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None and Path(crash.path).as_posix().endswith(path):
        line = crash.lineno  # the line of the test that failed
    return f"{path}:{line}: {', '.join(named)} {COMPACT_END}"


def closing_lines(terminalreporter) -> list[str]:
    """After the failures: how to see in full the ones shown as one line."""
    failed = terminalreporter.stats.get("failed", [])
    if not any(isinstance(report.longrepr, str) and report.longrepr.endswith(COMPACT_END) for report in failed):
        return []
    return [
        "A failing test of code with a mistake named at the top shows one line: fix that mistake first, "
        "or add --tb=short to see its own message."
    ]
