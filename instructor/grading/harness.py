"""Run the graded tests of one submission: the trusted harness and its sandboxed worker.

For each submission the grader

1. copies the worker's kit (what the student has: no hidden tests, no
   reference) and puts the student's files in it;
2. runs pytest in the harness's kit (the graded tests, the hidden tests)
   with instructor/grading/harness_plugin.py, which sends every call into
   the student's code to a worker started in that copy, inside the sandbox;
3. reads the harness's report: one outcome per graded test.

The harness never imports student code, so nothing a submission does can
change a verdict; it can only make its own calls return wrong values, fail
or time out. `total` seconds is a hard bound: at the deadline the harness
is killed, and with it (through --die-with-parent / PR_SET_PDEATHSIG) the
worker and everything the worker started.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from instructor.grading.sandbox import Isolation, Limits

GRADER_ROOT = Path(__file__).resolve().parent.parent.parent  # holds the `instructor` package
WORKER_MODULES = ("worker.py", "wire.py")  # all of the grader the worker sees
LOG_TAIL = 1500  # characters of the harness's output shown when it fails
HYPOTHESIS_PLUGIN = "_hypothesis_pytestplugin"  # Hypothesis's pytest plugin (its pytest11 entry point)

_running: set[subprocess.Popen] = set()  # harness processes, killed by stop_all()
_running_lock = threading.Lock()


@dataclass
class Outcome:
    passed: bool
    message: str
    explained: dict[str, tuple[str, ...]] = field(default_factory=dict)  # function -> its classic mistakes


@dataclass
class HarnessRun:
    outcomes: dict[str, Outcome]  # every collected test -> its outcome
    collected: list[str]
    durations: dict[str, float] = field(default_factory=dict)  # entry point -> longest call
    collect_errors: list[str] = field(default_factory=list)
    timed_out: dict[str, str] = field(default_factory=dict)  # entry point -> the test it timed out in
    problem: str = ""  # why the run ended early, if it did
    notes: list[str] = field(default_factory=list)  # for the instructor: what went wrong in the harness itself


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


def harness_env(harness_kit: Path, scratch: Path, config_path: Path) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join([str(harness_kit), str(GRADER_ROOT)]),
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "MPLBACKEND": "Agg",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "HYPOTHESIS_PROFILE": "grading",
        "HYPOTHESIS_STORAGE_DIRECTORY": str(scratch / ".hypothesis"),
        "GRADER_HARNESS": str(config_path),
        # Only the plugins the graded tests use (Hypothesis's, loaded by name below): the
        # environment's others (anyio, Jupyter's) cost a second of start-up per submission.
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


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
    work.mkdir(parents=True, exist_ok=True)
    kit, grader, submission = prepare(worker_kit, files, work, isolation)
    scratch = work / "scratch"
    scratch.mkdir()
    report = scratch / "report.jsonl"
    config = {
        "report": str(report),
        "submission": str(submission),
        "worker_log": str(scratch / "worker.log"),
        "budgets": budgets,
        "call_timeout": limits.timeout,
        "test_budget": limits.timeout,
        "parent": os.getpid(),
        **isolation.worker_launch(kit, grader, limits),
    }
    config_path = scratch / "harness.json"
    config_path.write_text(json.dumps(config))
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
        # student's own run shows some as one line (tests/student_view.py).
        "-o",
        "student_view=off",
        *test_paths,
    ]
    problem = ""
    with open(work / "harness.log", "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=harness_kit,
            env=harness_env(harness_kit, scratch, config_path),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        with _running_lock:
            _running.add(process)
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            problem = f"the grading time limit for this submission ({limits.total:g} s) ran out"
        finally:
            _kill(process, isolation)
            with _running_lock:
                _running.discard(process)
    events = _read_events(report)
    if not problem and not any(e.get("e") == "done" for e in events):
        tail = (work / "harness.log").read_bytes()[-LOG_TAIL:].decode("utf-8", "replace")
        problem = f"the test run stopped early (exit status {process.returncode}):\n{tail}"
    return _outcomes(events, problem)


def _kill(process: subprocess.Popen, isolation: Isolation) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
    if isolation.ids:  # a worker that left its session: end every process of its user
        subprocess.run(
            [sys.executable, "-S", "-c", "import os, signal; os.kill(-1, signal.SIGKILL)"],
            user=isolation.ids[0],
            group=isolation.ids[1],
            extra_groups=[],
            check=False,
        )


def stop_all() -> None:
    """Kill every running harness now (the grader was interrupted); their workers die with them."""
    with _running_lock:
        for process in list(_running):
            try:
                os.killpg(process.pid, signal.SIGKILL)
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


def _judge(reports: list[dict], problem: str) -> Outcome:
    failed = [r for r in reports if r.get("outcome") == "failed"]
    if failed:
        explained = failed[0].get("explained") if len(failed) == 1 and failed[0].get("when") == "call" else None
        return Outcome(False, str(failed[0].get("text", "")), _explanation(explained))
    skipped = [r for r in reports if r.get("outcome") == "skipped"]
    if skipped:
        return Outcome(False, f"skipped: {skipped[0].get('text', '')}")
    if any(r.get("when") == "call" and r.get("outcome") == "passed" for r in reports):
        return Outcome(True, "")
    return Outcome(False, f"not run: {problem}" if problem else "no result reported")
