"""The kit reads as one codebase: ruff's lint and format, as pyproject.toml configures them, are clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from instructor import REPO_ROOT


def ruff() -> list[str]:
    """The ruff of this environment (instructor/requirements.txt installs it)."""
    beside = Path(sys.executable).with_name("ruff")
    found = str(beside) if beside.exists() else shutil.which("ruff")
    if found is None:
        pytest.fail("ruff is not installed: run ./setup.sh (instructor/requirements.txt lists it)")
    return [found]


@pytest.mark.parametrize("command", [["check"], ["format", "--check", "--diff"]], ids=["lint", "format"])
def test_ruff_is_clean(command):
    result = subprocess.run([*ruff(), *command, "."], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"ruff {' '.join(command)}:\n{result.stdout[-4000:]}{result.stderr[-2000:]}"
