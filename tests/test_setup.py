"""Tests for setup.sh's command line (the steps themselves run in CI: .ci/run)."""

import subprocess
from pathlib import Path

SETUP = Path(__file__).resolve().parent.parent / "setup.sh"


def run_setup(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SETUP), *args], capture_output=True, text=True, timeout=30, check=False)


def test_help_lists_every_option_and_stops_at_the_header():
    result = run_setup("--help")
    assert result.returncode == 0, result.stderr
    for option in ("--no-data", "--synthetic"):
        assert f"./setup.sh {option}" in result.stdout, f"--help does not mention {option}:\n{result.stdout}"
    assert "set -euo" not in result.stdout, "--help printed code after the header comment"
    assert "==>" not in result.stdout, "--help ran the set-up steps"


def test_unknown_option_is_refused_before_anything_runs():
    result = run_setup("--synthetics")
    assert result.returncode == 2
    assert "unknown option '--synthetics'" in result.stderr and "./setup.sh --synthetic" in result.stderr
    assert "==>" not in result.stdout, "an unknown option still ran the set-up steps"
