"""Where the student's code runs: bubblewrap, else a separate user, else nothing (trusted).

`choose_isolation` picks one, never silently:

- **bubblewrap** (Debian's package `bubblewrap`, the `bwrap` command; the
  PyPI package of that name is unrelated): new user, PID, network, IPC, UTS
  and cgroup namespaces, no capabilities, `--die-with-parent`, and a
  filesystem holding only the submission's copy of the kit (writable, at
  /kit), the worker's two grader modules (read-only, at /grader), the
  Python environment and /usr read-only, and a private /tmp. Nothing of the
  instructor's repository, home directory, the grading bundle or the
  results path is there; no network but its own loopback; when the worker
  dies, every process it started dies with its PID namespace.
- **a separate user** (`--user nobody`, needs root), where bubblewrap cannot
  run (some containers, such as Gradescope's, forbid namespaces): the worker
  runs as that user, with rlimits, in its own session; after it, every
  process of that user is killed. It reads whatever that user may read and
  may use the network.
- **none** (`--trusted`): the worker is a plain child process. Verdicts are
  still decided outside it, but it can read your files and use the network.

Grading without a sandbox is refused unless the instructor asks for it.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BWRAP_ENV = "GRADER_BWRAP"  # the bwrap command to use; tests point it at nothing to make it unavailable
INSTALL_HINT = (
    "install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`; Fedora: "
    "`sudo dnf install bubblewrap`), or pass --trusted to grade without a sandbox "
    "(only for code you trust: it can then read your files and use the network)"
)
NOBODY = 65534  # the uid and gid the worker has inside bubblewrap's user namespace


class SandboxUnavailable(RuntimeError):
    """No isolation the instructor allowed can run here; the message says what to do."""


@dataclass
class Limits:
    """Resource limits for one submission."""

    timeout: float = 60.0  # seconds: the longest any one call into student code may take, and each test's budget
    memory_mb: int = 4096  # address space of the worker
    total: float = 300.0  # seconds for the whole submission, a hard bound
    file_mb: int = 256  # largest file the worker may write
    nproc: int = 256  # processes of the worker's user (separate-user isolation only)


@dataclass
class Isolation:
    """How the worker is started, and what to tell the instructor about it."""

    kind: str  # "bubblewrap", "user" or "none"
    description: str
    bwrap: str | None = None
    user: str | None = None
    ids: tuple[int, int] | None = None

    def worker_launch(self, kit: Path, grader: Path, limits: Limits) -> dict:
        """The harness's config entries that start one worker for `kit`."""
        worker_config = {"memory": limits.memory_mb * 2**20, "fsize": limits.file_mb * 2**20}
        env = worker_env()
        if self.kind == "bubblewrap":
            worker_config["kit"] = "/kit"
            command = [
                self.bwrap,
                *bwrap_options(kit, grader, env),
                sys.executable,
                "-m",
                "instructor.grading.worker",
                json.dumps(worker_config),
            ]
            return {"worker_command": command, "worker_env": {}, "worker_cwd": "/"}
        worker_config["kit"] = str(kit)
        worker_config["check_parent"] = True
        if self.kind == "user":
            worker_config["nproc"] = limits.nproc
        command = [sys.executable, "-m", "instructor.grading.worker", json.dumps(worker_config)]
        return {
            "worker_command": command,
            "worker_env": {**env, "PYTHONPATH": str(grader)},
            "worker_cwd": str(kit),
            "worker_user": list(self.ids) if self.ids else None,
            "sweep_uid": self.ids[0] if self.ids else None,
        }


def worker_env() -> dict[str, str]:
    """The worker's whole environment: nothing of the instructor's leaks in."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONPATH": "/grader",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONIOENCODING": "utf-8",
        "MPLBACKEND": "Agg",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # the machine's BLAS settings, kept as they are
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def python_dirs() -> list[str]:
    """Directories the worker's Python needs, read-only: the venv, its base, site-packages."""
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    candidates.update(p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and os.path.isdir(p))
    dirs = sorted({os.path.realpath(p) for p in candidates} | candidates)
    keep = [d for d in dirs if os.path.isdir(d) and not d.startswith("/usr/") and d != "/usr"]
    # Drop any directory inside another one kept: bind the outer once.
    return [d for d in keep if not any(d != other and d.startswith(other.rstrip("/") + "/") for other in keep)]


def bwrap_options(kit: Path, grader: Path, env: dict[str, str]) -> list[str]:
    options = [
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--uid",
        str(NOBODY),
        "--gid",
        str(NOBODY),
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            options += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            options += ["--ro-bind", top, top]
    for path in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/localtime"):
        options += ["--ro-bind-try", path, path]
    # The private /tmp first, then what is bound into it: a Python environment that lives
    # under /tmp (a fresh clone there, a CI runner's venv) must not be hidden by the tmpfs.
    options += ["--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev"]
    for directory in python_dirs():
        options += ["--ro-bind", directory, directory]
    options += ["--bind", str(kit), "/kit", "--ro-bind", str(grader), "/grader", "--chdir", "/kit", "--clearenv"]
    for name, value in env.items():
        options += ["--setenv", name, value]
    return [*options, "--"]


def bwrap_problem() -> tuple[str | None, str | None]:
    """(the bwrap command, None) if a sandbox starts here, else (None, why not)."""
    command = os.environ.get(BWRAP_ENV) or shutil.which("bwrap")
    if not command or not os.path.isfile(command) or not os.access(command, os.X_OK):
        return None, "bubblewrap (bwrap) is not installed"
    scratch = Path(os.environ.get("TMPDIR", "/tmp"))
    options = bwrap_options(scratch, scratch, worker_env())
    try:
        result = subprocess.run(
            [command, *options, sys.executable, "-c", "import numpy"], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError) as err:
        return None, f"bubblewrap could not start: {err}"
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or [f"exit status {result.returncode}"]
        return None, f"bubblewrap cannot make a sandbox here ({lines[-1]}){bwrap_advice(lines[-1])}"
    return command, None


# What bwrap says when it cannot work here -> the real cause and the real fix.
BWRAP_FAILURES = (
    (
        ("setting up uid map", "No permissions to creat", "Operation not permitted", "unshare"),
        ": this machine does not let an unprivileged process make user namespaces (a container started "
        "without them, or a kernel that forbids them: sysctl kernel.unprivileged_userns_clone=1, and on "
        "Ubuntu 24.04 kernel.apparmor_restrict_unprivileged_userns=0, allow them). Where you cannot change "
        "that, grade with --user USER (as root) instead",
    ),
    (
        ("execvp",),
        f": the sandbox could not find this Python ({sys.executable}) at its path; tell the grader's "
        "maintainers, and meanwhile grade with a virtual environment made from /usr/bin/python3",
    ),
)


def bwrap_advice(message: str) -> str:
    """The cause and the fix of a bwrap failure, as a clause to append ("" when unknown)."""
    for needles, advice in BWRAP_FAILURES:
        if any(needle in message for needle in needles):
            return advice
    return ""


def blocking_directory(path: str, uid: int, gid: int) -> str | None:
    """The first directory on `path`'s way that the user (uid, gid) may not enter, or None."""
    current = Path("/")
    for part in Path(path).parts[1:]:
        current = current / part
        try:
            info = current.stat()
        except OSError:
            return None
        if current.is_dir():
            bits = 0o001 if info.st_uid != uid and info.st_gid != gid else (0o100 if info.st_uid == uid else 0o010)
            if not info.st_mode & bits:
                return str(current)
    return None


def user_ids(user: str) -> tuple[int, int]:
    """(uid, gid) of `user`; PermissionError unless we are root, KeyError if no such user."""
    if os.geteuid() != 0:
        raise PermissionError(f"running student code as {user!r} needs root")
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def check_user_can_run_python(user: str) -> None:
    """Make sure `user` can start this Python and import its packages: one clear error, not 0 for everyone.

    A venv made from a Python under /root (pyenv, a home-directory install)
    links to files `nobody` may not read; every worker would fail to start.
    """
    uid, gid = user_ids(user)
    try:
        result = subprocess.run(
            [sys.executable, "-c", "import numpy"],
            cwd="/",
            env={"PATH": "/usr/bin:/bin"},
            user=uid,
            group=gid,
            extra_groups=[],
            capture_output=True,
            text=True,
            timeout=120,
        )
        complaint = result.stderr.strip().splitlines() or [f"exit status {result.returncode}"]
        problem = complaint[-1] if result.returncode else ""
    except (OSError, subprocess.SubprocessError) as err:  # cannot exec it, or it hangs
        problem = str(err)
    if problem:
        where = ""
        for candidate in dict.fromkeys([sys.executable, os.path.realpath(sys.executable), sys.base_prefix]):
            blocked = blocking_directory(candidate, uid, gid)
            if blocked:
                where = f" {user} may not enter {blocked}, which holds it."
                break
        raise SandboxUnavailable(
            f"--user {user}: that user cannot run this Python ({sys.executable}, which is "
            f"{os.path.realpath(sys.executable)}): {problem}.{where} Grade with a Python every user can read: "
            "/usr/bin/python3 -m venv /opt/grader-venv, then /opt/grader-venv/bin/pip install -r requirements.txt, "
            "and run the grader with /opt/grader-venv/bin/python."
        )


def choose_isolation(user: str | None = None, trusted: bool = False) -> Isolation:
    """The strongest isolation available; SandboxUnavailable if none the instructor allowed."""
    command, problem = bwrap_problem()
    if command:
        return Isolation(
            "bubblewrap",
            "bubblewrap sandbox (no network, only the submission's files, processes end with the grade)",
            bwrap=command,
        )
    if user:
        check_user_can_run_python(user)
        return Isolation(
            "user",
            f"separate user {user!r} with resource limits, no sandbox ({problem}): "
            "the network and files that user may read are reachable",
            user=user,
            ids=user_ids(user),
        )
    if trusted:
        return Isolation(
            "none", f"none (--trusted; {problem}): student code runs as you, with your files and the network"
        )
    raise SandboxUnavailable(f"cannot grade safely: {problem}. To fix: {INSTALL_HINT}.")


def trusted_isolation() -> Isolation:
    """For the instructor's own reference solution only."""
    return Isolation("none", "none (the reference solution)")
