"""Tests for instructor/grading/sandbox.py: the sandbox starts from any Python, and every failure says why.

The grading batch itself (instructor/tests/test_grade.py) proves what the
sandbox keeps out; these check where it can run and what it says when not.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

from instructor import REPO_ROOT
from instructor.grading import sandbox


def bwrap_or_skip() -> str:
    command, problem = sandbox.bwrap_problem()
    if command is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to grade in the sandbox: {problem}")
        pytest.skip(f"{problem}: {sandbox.INSTALL_HINT}")
    return command


def test_a_python_environment_under_tmp_is_visible_inside_the_sandbox(tmp_path):
    # A fresh clone under /tmp puts its .venv there; the sandbox's private /tmp used to hide it
    # ("bwrap: execvp /tmp/.../bin/python: No such file or directory").
    bwrap_or_skip()
    assert str(tmp_path).startswith("/tmp/"), f"this test needs a folder under /tmp, got {tmp_path}"
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    site.mkdir(parents=True, exist_ok=True)
    (site / "kit_packages.pth").write_text(sysconfig.get_path("purelib") + "\n")  # numpy, pytest: this venv's
    code = "from instructor.grading import sandbox; command, problem = sandbox.bwrap_problem(); print(problem or 'ok')"
    run = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stdout + run.stderr


def test_the_private_tmp_is_mounted_before_the_python_environment():
    options = sandbox.bwrap_options(Path("/somewhere/kit"), Path("/somewhere/grader"), {})
    tmpfs = options.index("--tmpfs")
    binds = [i for i, option in enumerate(options) if option == "--ro-bind" and options[i + 1] in sandbox.python_dirs()]
    assert binds and all(tmpfs < i for i in binds), "a bind under /tmp made before the tmpfs is hidden by it"


@pytest.mark.parametrize(
    "message,says",
    [
        ("bwrap: setting up uid map: Permission denied", "--user USER"),
        ("bwrap: No permissions to creating new namespace, likely because the kernel does not allow", "sysctl"),
        ("bwrap: Creating new namespace failed: Operation not permitted", "user namespaces"),
        ("bwrap: execvp /tmp/x/.venv/bin/python: No such file or directory", "/usr/bin/python3"),
    ],
)
def test_each_known_bwrap_failure_says_its_cause_and_its_fix(message, says):
    assert says in sandbox.bwrap_advice(message)


def test_an_unknown_bwrap_failure_adds_no_guess():
    assert sandbox.bwrap_advice("bwrap: something new") == ""


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to make a private folder")
def test_the_directory_a_user_cannot_enter_is_named():
    # pytest's own tmp_path sits in a folder only root may enter: make one every user can.
    with tempfile.TemporaryDirectory(dir="/tmp") as top:
        Path(top).chmod(0o755)
        private = Path(top) / "private"
        (private / "inner").mkdir(parents=True)
        private.chmod(0o700)
        assert sandbox.blocking_directory(str(private / "inner" / "python"), 65534, 65534) == str(private)
        assert sandbox.blocking_directory(str(Path(top) / "elsewhere"), 65534, 65534) is None
