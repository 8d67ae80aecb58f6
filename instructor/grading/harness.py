"""Run the graded tests of each submission: the trusted harness and its sandboxed worker.

One warm harness per batch (`Harness`): pytest in the harness's kit (the
graded tests, the hidden tests) with instructor/grading/harness_plugin.py,
started once, which imports everything and collects the tests once. For
each submission the grader

1. copies the worker's kit (what the student has: no hidden tests, no
   reference) and puts the student's files in it;
2. asks the harness to grade it: the harness forks a child that runs every
   test, sending every call into the student's code to a worker started in
   that copy, inside the sandbox;
3. reads the child's report: one outcome per graded test.

The harness never imports student code, so nothing a submission does can
change a verdict; it can only make its own calls return wrong values, fail
or time out. `total` seconds is a hard bound: at the deadline the child is
killed, and with it (through --die-with-parent / PR_SET_PDEATHSIG) the
worker and everything the worker started. A harness dies with the grader.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from instructor.grading.sandbox import Isolation, Limits

GRADER_ROOT = Path(__file__).resolve().parent.parent.parent  # holds the `instructor` package
WORKER_MODULES = ("worker.py", "wire.py")  # all of the grader the worker sees
LOG_TAIL = 1500  # characters of the harness's output shown when it fails
HYPOTHESIS_PLUGIN = "_hypothesis_pytestplugin"  # Hypothesis's pytest plugin (its pytest11 entry point)


@dataclass
class Outcome:
    passed: bool
    message: str  # the instructor's: pytest's full text
    explained: dict[str, tuple[str, ...]] = field(default_factory=dict)  # function -> its classic mistakes
    findings: tuple[tuple[str, str], ...] = ()  # diagnose.py's (function, code) at the head of the failure
    student: dict = field(default_factory=dict)  # what the student may read (instructor/grading/student_view.py)


@dataclass
class HarnessRun:
    outcomes: dict[str, Outcome]  # every collected test -> its outcome
    collected: list[str]
    durations: dict[str, float] = field(default_factory=dict)  # entry point -> longest call
    collect_errors: list[str] = field(default_factory=list)
    timed_out: dict[str, str] = field(default_factory=dict)  # entry point -> the test it timed out in
    problem: str = ""  # why the run ended early, if it did
    notes: list[str] = field(default_factory=list)  # for the instructor: what went wrong in the harness itself
    incidents: list[dict] = field(default_factory=list)  # timeouts, crashes, memory (boundary.Boundary.incidents)


def prepare(worker_kit: Path, files: dict[str, bytes], work: Path, isolation: Isolation) -> tuple[Path, Path, Path]:
    """The worker's kit copy with the student's files, the grader modules it runs, and a text copy."""
    kit, grader, submission = work / "kit", work / "grader", work / "submission"
    shutil.copytree(worker_kit, kit)
    package = grader / "instructor" / "grading"
    package.mkdir(parents=True)
    for name in WORKER_MODULES:
        shutil.copyfile(Path(__file__).with_name(name), package / name)
    for name, data in files.items():
        (kit / name).parent.mkdir(parents=True, exist_ok=True)
        (kit / name).write_bytes(data)
        (submission / name).parent.mkdir(parents=True, exist_ok=True)
        (submission / name).write_bytes(data)
    if isolation.ids:  # the worker's user owns its kit copy and nothing else
        for directory in (work, *work.parents):
            if directory == Path("/") or directory.stat().st_mode & 0o711 == 0o711:
                break
            directory.chmod(directory.stat().st_mode | 0o711)  # traverse, not list
        for path in [kit, *kit.rglob("*")]:
            os.chown(path, *isolation.ids, follow_symlinks=False)
        for path in [grader, *grader.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    return kit, grader, submission


def harness_env(harness_kit: Path, scratch: Path, control: tuple[int, int]) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join([str(harness_kit), str(GRADER_ROOT)]),
        "PYTHONHASHSEED": "0",
        # The graded tests' bytecode (assertions rewritten) is kept in the bundle: a cached bundle's
        # harness starts 0.1 s sooner. Only the instructor's code runs here; the worker writes none.
        "PYTHONIOENCODING": "utf-8",
        "MPLBACKEND": "Agg",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "HYPOTHESIS_PROFILE": "grading",
        "HYPOTHESIS_STORAGE_DIRECTORY": str(scratch / ".hypothesis"),
        "GRADER_CONTROL": f"{control[0]},{control[1]}",
        # Only the plugins the graded tests use (Hypothesis's, loaded by name below): the
        # environment's others (anyio, Jupyter's) cost a second of start-up.
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


class HarnessError(RuntimeError):
    """The warm harness did not start or stopped answering; the message says why."""


class Harness:
    """pytest in the harness's kit, started and collected once, grading each submission in a child."""

    STARTUP_TIMEOUT = 300.0  # seconds to import and collect: seconds normally, minutes on a loaded machine
    ANSWER_TIMEOUT = 60.0  # seconds for the harness to fork a child and say so

    def __init__(self, harness_kit: Path, test_paths: list[str]):
        self.scratch = Path(tempfile.mkdtemp(prefix="grader-harness-"))
        harness_reads, grader_writes = os.pipe()  # requests: the grader to the harness
        grader_reads, harness_writes = os.pipe()  # answers: the harness to the grader
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "instructor.grading.harness_plugin",
            "-p",
            HYPOTHESIS_PLUGIN,
            "-p",
            "no:cacheprovider",
            "-q",
            "--tb=short",
            "-o",
            "console_output_style=classic",
            # Every failure as pytest writes it, for the instructor and results.json; a
            # student's own run shows some as one line (tests/run_report.py).
            "-o",
            "run_report=off",
            *test_paths,
        ]
        self.log = self.scratch / "harness.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=harness_kit,
                env=harness_env(harness_kit, self.scratch, (harness_reads, harness_writes)),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(harness_reads, harness_writes),
                start_new_session=True,
            )
        os.close(harness_reads)
        os.close(harness_writes)
        self.requests = os.fdopen(grader_writes, "w", buffering=1)
        self.answers = os.fdopen(grader_reads, "r")
        self.lock = threading.Lock()  # one request and its answer at a time (jobs share the harness)
        self._ready: dict | None = None  # the harness's first line: what it collected

    def ready(self) -> dict:
        """Wait (once) for the harness to have collected the tests: {"ids": [...], "collect_errors": [...]}."""
        with self.lock:
            if self._ready is None:
                self._ready = self._answer(self.STARTUP_TIMEOUT)
            return self._ready

    @property
    def collected(self) -> list[str]:
        return [str(i) for i in self.ready().get("ids", [])]

    @property
    def collect_errors(self) -> list[str]:
        return [str(e) for e in self.ready().get("collect_errors", [])]

    def _answer(self, timeout: float) -> dict:
        """The harness's next line on the control pipe, or HarnessError with its log's tail."""
        if not select.select([self.answers], [], [], timeout)[0]:
            self.close()
            raise HarnessError(f"the grading harness did not answer within {timeout:g} s:\n{self.log_tail()}")
        line = self.answers.readline()
        if not line:
            raise HarnessError(f"the grading harness stopped:\n{self.log_tail()}")
        return json.loads(line)

    def log_tail(self) -> str:
        try:
            return self.log.read_bytes()[-LOG_TAIL:].decode("utf-8", "replace")
        except OSError:
            return ""

    def start(self, config_path: Path) -> int:
        """Ask for one submission to be graded; the pid of the child grading it."""
        self.ready()
        with self.lock:
            self.requests.write(json.dumps({"config": str(config_path)}) + "\n")
            return int(self._answer(self.ANSWER_TIMEOUT)["pid"])

    def close(self) -> None:
        """Stop the harness and every child it still has."""
        for stream in (self.requests, self.answers):
            try:
                stream.close()
            except OSError:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        shutil.rmtree(self.scratch, ignore_errors=True)


_harnesses: dict[tuple[str, tuple[str, ...]], Harness] = {}  # warm harnesses, by kit and tests
_harnesses_lock = threading.Lock()
_children: set[int] = set()  # children grading right now, killed by stop_all()


def harness_for(harness_kit: Path, test_paths: list[str]) -> Harness:
    """The warm harness of this kit and these tests, started on first use (call it early: the harness
    imports and collects while the caller goes on; its first request waits for that)."""
    key = (str(harness_kit), tuple(test_paths))
    with _harnesses_lock:
        harness = _harnesses.get(key)
        if harness is None or harness.process.poll() is not None:
            harness = _harnesses[key] = Harness(harness_kit, test_paths)
        return harness


def close_all() -> None:
    """Stop every warm harness (the grader is done)."""
    with _harnesses_lock:
        for harness in _harnesses.values():
            harness.close()
        _harnesses.clear()


atexit.register(close_all)


def run_harness(
    harness_kit: Path,
    worker_kit: Path,
    test_paths: list[str],
    files: dict[str, bytes],
    work: Path,
    limits: Limits,
    isolation: Isolation,
    budgets: dict[str, float],
) -> HarnessRun:
    """Run the graded tests on one submission's files; every collected test gets an outcome."""
    deadline = time.monotonic() + limits.total
    harness = harness_for(harness_kit, test_paths)
    if harness.collect_errors:
        return HarnessRun(outcomes={}, collected=harness.collected, collect_errors=harness.collect_errors)
    work.mkdir(parents=True, exist_ok=True)
    kit, grader, submission = prepare(worker_kit, files, work, isolation)
    scratch = work / "scratch"
    scratch.mkdir()
    report = scratch / "report.jsonl"
    config = {
        "report": str(report),
        "log": str(work / "harness.log"),
        "scratch": str(scratch),
        "environ": {"HOME": str(scratch), "TMPDIR": str(scratch)},
        "submission": str(submission),
        "worker_log": str(scratch / "worker.log"),
        "budgets": budgets,
        "call_timeout": limits.timeout,
        "test_budget": limits.timeout,
        **isolation.worker_launch(kit, grader, limits),
    }
    config_path = scratch / "harness.json"
    config_path.write_text(json.dumps(config))
    problem = ""
    pid = harness.start(config_path)
    with _harnesses_lock:
        _children.add(pid)
    try:
        if not _wait(pid, max(0.0, deadline - time.monotonic())):
            problem = f"the grading time limit for this submission ({limits.total:g} s) ran out"
    finally:
        _kill(pid, isolation)
        with _harnesses_lock:
            _children.discard(pid)
    events = _read_events(report)
    if not problem and not any(e.get("e") == "done" for e in events):
        tail = (work / "harness.log").read_bytes()[-LOG_TAIL:].decode("utf-8", "replace")
        problem = f"the test run stopped early:\n{tail}"
    return _outcomes(events, problem)


def _wait(pid: int, timeout: float) -> bool:
    """Wait up to `timeout` s for the process `pid` (the harness's child, not ours) to end; False if it did not."""
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return True  # already gone
    try:
        return bool(select.select([handle], [], [], timeout)[0])
    finally:
        os.close(handle)


def _kill(pid: int, isolation: Isolation) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)  # the child and anything left in its group
    except (ProcessLookupError, PermissionError):
        pass
    if isolation.ids:  # a worker that left its session: end every process of its user
        subprocess.run(
            [sys.executable, "-S", "-c", "import os, signal; os.kill(-1, signal.SIGKILL)"],
            user=isolation.ids[0],
            group=isolation.ids[1],
            extra_groups=[],
            check=False,
        )


def stop_all() -> None:
    """Kill every grading child and warm harness now (the grader was interrupted); their workers die with them."""
    for pid in list(_children):
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for harness in list(_harnesses.values()):
        try:
            os.killpg(harness.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _read_events(report: Path) -> list[dict]:
    events = []
    try:
        lines = report.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return events
    for line in lines:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short when the harness was killed
        if isinstance(event, dict):
            events.append(event)
    return events


def _outcomes(events: list[dict], problem: str) -> HarnessRun:
    collected: list[str] = []
    reports: dict[str, list[dict]] = {}
    run = HarnessRun(outcomes={}, collected=collected, problem=problem)
    for event in events:
        kind = event.get("e")
        if kind == "collected":
            collected.extend(str(i) for i in event.get("ids", []))
        elif kind == "collect_error":
            run.collect_errors.append(f"{event.get('path')}:\n{event.get('text', '')}")
        elif kind == "report":
            reports.setdefault(str(event.get("id")), []).append(event)
        elif kind == "durations" and isinstance(event.get("calls"), dict):
            run.durations = {str(k): float(v) for k, v in event["calls"].items()}
        elif kind == "timed_out" and isinstance(event.get("calls"), dict):
            run.timed_out = {str(k): str(v) for k, v in event["calls"].items()}
        elif kind == "incidents" and isinstance(event.get("items"), list):
            run.incidents = [i for i in event["items"] if isinstance(i, dict)]
        elif kind == "student_view_error":  # a bug of the grader's: the student reads a short line instead
            run.notes.append(f"the grader could not write the student's view of {event.get('id')}: {event.get('text')}")
        elif kind == "explain_error":  # a bug of the grader's: that failure was charged in full
            run.notes.append(
                f"the grader could not look for classic mistakes in {event.get('id')}: {event.get('text')}"
            )
    for test_id in collected:
        run.outcomes[test_id] = _judge(reports.get(test_id, []), problem)
    return run


def _explanation(value) -> dict[str, tuple[str, ...]]:
    """The report's {function: [codes]} as written by harness_plugin.py, or {}."""
    if not isinstance(value, dict):
        return {}
    return {str(k): tuple(str(c) for c in v) for k, v in value.items() if isinstance(v, list) and v}


def _findings(value) -> tuple[tuple[str, str], ...]:
    """The report's [[function, code], ...] as written by harness_plugin.py, or ()."""
    if not isinstance(value, list):
        return ()
    pairs = [tuple(str(part) for part in pair) for pair in value if isinstance(pair, list) and len(pair) == 2]
    return tuple(dict.fromkeys(pairs))


def _judge(reports: list[dict], problem: str) -> Outcome:
    failed = [r for r in reports if r.get("outcome") == "failed"]
    if failed:
        explained = failed[0].get("explained") if len(failed) == 1 and failed[0].get("when") == "call" else None
        first = failed[0]
        student = first.get("student") if isinstance(first.get("student"), dict) else {}
        return Outcome(
            False, str(first.get("text", "")), _explanation(explained), _findings(first.get("findings")), student
        )
    skipped = [r for r in reports if r.get("outcome") == "skipped"]
    if skipped:
        return Outcome(False, f"skipped: {skipped[0].get('text', '')}")
    if any(r.get("when") == "call" and r.get("outcome") == "passed" for r in reports):
        return Outcome(True, "")
    return Outcome(False, f"not run: {problem}" if problem else "no result reported")
