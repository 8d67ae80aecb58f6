"""Run student code in a child process with limits, and hear back over a pipe.

`run_child` starts one command in its own session (so the whole process
group can be killed), with an address-space cap, a file-size cap and no core
dumps, set by a tiny launcher before it execs the command (no preexec_fn, so
it is safe from the threads of batch grading). With `Limits.user` set (root
only, e.g. `--user nobody` on Gradescope) the child runs as that user, who
cannot read the grader's files or write its results.

The child writes JSON lines to the pipe named by $GRADER_FD. The parent reads
them with a deadline: a test that starts and does not finish within the
per-test timeout gets the group killed, and the caller re-runs what is left.
Nothing the child writes to files is trusted.
"""

from __future__ import annotations

import json
import os
import pwd
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

READ_CHUNK = 65536
MAX_EVENT_BYTES = 8 * 2**20  # one JSON line; a probe's arrays are far smaller
OUTPUT_TAIL = 3000  # characters of the child's stdout/stderr kept for messages

# Runs in the child before the graded command: limits, then exec.
LAUNCHER = """
import json, os, resource, sys
limits = json.loads(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limits["memory"], limits["memory"]))
resource.setrlimit(resource.RLIMIT_FSIZE, (limits["fsize"], limits["fsize"]))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
if limits.get("nproc"):
    resource.setrlimit(resource.RLIMIT_NPROC, (limits["nproc"], limits["nproc"]))
os.execv(sys.argv[2], sys.argv[2:])
"""


@dataclass
class Limits:
    """Resource limits for one submission's child processes."""

    timeout: float = 60.0  # seconds per test (or per probe)
    memory_mb: int = 4096  # address space of the child
    total: float = 900.0  # seconds for the whole submission
    file_mb: int = 256  # largest file the child may write
    nproc: int = 256  # processes, only when running as another user
    user: str | None = None  # run student code as this user (needs root)


@dataclass
class ChildRun:
    """What one child process did."""

    events: list[dict] = field(default_factory=list)
    returncode: int | None = None
    timed_out: str | None = None  # the id of the test that hit the per-test timeout
    deadline_hit: bool = False
    output: str = ""  # the tail of the child's stdout + stderr

    def describe_exit(self) -> str:
        if self.deadline_hit:
            return "the grading time limit for this submission ran out"
        if self.returncode is not None and self.returncode < 0:
            name = signal.Signals(-self.returncode).name if -self.returncode in signal.Signals._value2member_map_ else ""
            hint = " (out of memory?)" if name in ("SIGKILL", "SIGSEGV", "SIGABRT") else ""
            return f"the test process was killed by signal {-self.returncode} {name}{hint}"
        return f"the test process exited with code {self.returncode}"


def unprivileged_ids(limits: Limits) -> tuple[int, int] | None:
    """(uid, gid) of limits.user, or None to run as ourselves.

    Raises PermissionError if a user is asked for and we are not root, and
    KeyError if no such user exists: better no grade than an unsafe one.
    """
    if not limits.user:
        return None
    if os.geteuid() != 0:
        raise PermissionError(f"running student code as {limits.user!r} needs root")
    entry = pwd.getpwnam(limits.user)
    return entry.pw_uid, entry.pw_gid


def check_user_can_run_python(limits: Limits) -> None:
    """With limits.user set, make sure that user can start this Python and import its packages.

    A venv made from a Python under /root (pyenv, a home-directory install)
    links to files `nobody` may not read; every child would then fail to
    start and every submission would score 0. One check before grading
    turns that into one clear error.
    """
    ids = unprivileged_ids(limits)
    if ids is None:
        return
    try:
        result = subprocess.run(
            [sys.executable, "-c", "import numpy, pytest"], cwd="/", env={"PATH": "/usr/bin:/bin"},
            user=ids[0], group=ids[1], extra_groups=[], capture_output=True, text=True, timeout=120,
        )
        complaint = result.stderr.strip().splitlines() or [f"exit status {result.returncode}"]
        problem = complaint[-1] if result.returncode else ""
    except (OSError, subprocess.SubprocessError) as err:  # cannot exec it, or it hangs
        problem = str(err)
    if problem:
        raise PermissionError(
            f"--user {limits.user}: that user cannot run this Python ({sys.executable}, "
            f"which is {os.path.realpath(sys.executable)}): "
            f"{problem}. Grade with a Python every user can read, e.g. a venv made from /usr/bin/python3 "
            f"outside /root."
        )


def child_env(sandbox: Path, scratch: Path) -> dict[str, str]:
    """A small, fixed environment: nothing of the parent's leaks in."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(sandbox),
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "MPLBACKEND": "Agg",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "HYPOTHESIS_PROFILE": "grading",
        "HYPOTHESIS_STORAGE_DIRECTORY": str(scratch / ".hypothesis"),
        "TQDM_DISABLE": "1",
    }


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_child(
    command: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    limits: Limits,
    deadline: float,
    log_path: Path,
) -> ChildRun:
    """Run `command` (argv, command[0] an absolute path) and collect its events.

    Stops at the first test that exceeds limits.timeout (reported in
    `timed_out`), or when time.monotonic() passes `deadline`.
    """
    ids = unprivileged_ids(limits)
    read_fd, write_fd = os.pipe()
    run = ChildRun()
    limit_spec = json.dumps({
        "memory": limits.memory_mb * 2**20,
        "fsize": limits.file_mb * 2**20,
        "nproc": limits.nproc if ids else 0,
    })
    extra = {"user": ids[0], "group": ids[1], "extra_groups": []} if ids else {}
    with open(log_path, "wb") as log:
        try:
            process = subprocess.Popen(
                [sys.executable, "-S", "-c", LAUNCHER, limit_spec, *command],
                cwd=cwd, env={**env, "GRADER_FD": str(write_fd)}, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, pass_fds=(write_fd,), start_new_session=True,
                **extra,
            )
        finally:
            os.close(write_fd)
        try:
            _read_events(process, read_fd, run, limits, deadline)
        finally:
            _kill_group(process.pid)
            os.close(read_fd)
            run.returncode = process.wait()
    run.output = log_path.read_bytes()[-OUTPUT_TAIL:].decode("utf-8", "replace")
    return run


def _read_events(process: subprocess.Popen, read_fd: int, run: ChildRun, limits: Limits, deadline: float) -> None:
    buffer = b""
    started: tuple[str, float] | None = None
    while True:
        now = time.monotonic()
        if now > deadline:
            run.deadline_hit = True
            return
        if started and now - started[1] > limits.timeout:
            run.timed_out = started[0]
            return
        ready, _, _ = select.select([read_fd], [], [], 0.2)
        if not ready:
            if process.poll() is not None:
                # Exited; a grandchild may still hold the pipe open. Drain and stop.
                ready, _, _ = select.select([read_fd], [], [], 0.5)
                if not ready:
                    return
            else:
                continue
        chunk = os.read(read_fd, READ_CHUNK)
        if not chunk:
            return
        buffer += chunk
        if len(buffer) > MAX_EVENT_BYTES and b"\n" not in buffer:
            run.events.append({"e": "garbage", "text": "an oversized message on the result pipe"})
            buffer = b""
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            event = _parse(line)
            if event is None:
                continue
            run.events.append(event)
            if event.get("e") == "start":
                started = (str(event.get("id")), time.monotonic())
            elif event.get("e") in ("finish", "result", "error"):
                started = None


def _parse(line: bytes) -> dict | None:
    try:
        event = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return event if isinstance(event, dict) and isinstance(event.get("e"), str) else None
