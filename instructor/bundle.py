"""The grading bundle: everything the grader needs, and no solution code.

    bundle/
      kit/            the student kit (solutions stripped) + tests/hidden/
                      + _grader_plugin.py + _grader_probes.py
      manifest.json   the graded test ids, the reference's probe values,
                      the points of every test, and a hash of every kit file

`build_bundle` makes one from the instructor repository: it strips the
solutions, collects the graded tests, and runs the probes on the solved kit
(in a child process, like any other code) to record the reference's values.
The Gradescope zip ships a bundle, so the solutions never reach Gradescope.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from instructor import points, release
from instructor.sandbox import Limits, child_env, run_child

PLUGIN_NAME = "_grader_plugin"
PROBES_NAME = "_grader_probes"
CHECK_PREFIX = "check::"
STATIC_CHECKS = ("check::vectorized_has_no_loops",)
BUILD_TIMEOUT = 300.0  # seconds for the reference's collection and probes


class BundleError(RuntimeError):
    """The bundle cannot be built or read; the message says why."""


@dataclass
class Bundle:
    root: Path
    tests: list[str]  # pytest node ids, in collection order
    checks: list[str]  # "check::NAME", probes then static checks
    expected: dict[str, dict]  # probe id -> the reference's raw values
    points: dict[str, float]  # every test and check -> its points
    hashes: dict[str, str]  # kit file -> sha256

    @property
    def kit(self) -> Path:
        return self.root / "kit"

    @property
    def total(self) -> float:
        return sum(self.points.values())


def file_hashes(directory: Path) -> dict[str, str]:
    return {
        p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*")) if p.is_file() and not p.is_symlink()
    }


def _install_grader_files(kit_dir: Path) -> None:
    here = Path(__file__).resolve().parent
    shutil.copyfile(here / "child_plugin.py", kit_dir / f"{PLUGIN_NAME}.py")
    shutil.copyfile(here / "probes.py", kit_dir / f"{PROBES_NAME}.py")


def _run_reference(kit_dir: Path, command: list[str], scratch: Path) -> list[dict]:
    run = run_child(
        command, cwd=kit_dir, env=child_env(kit_dir, scratch), limits=Limits(timeout=BUILD_TIMEOUT),
        deadline=time.monotonic() + BUILD_TIMEOUT, log_path=scratch / "reference.log",
    )
    if not any(e.get("e") == "done" for e in run.events):
        raise BundleError(f"the reference run failed ({run.describe_exit()}):\n{run.output}")
    return run.events


def build_bundle(repo: Path, dest: Path) -> Bundle:
    """Build a bundle from the instructor repository `repo` into `dest`."""
    kit_dir = dest / "kit"
    kit_dir.mkdir(parents=True)
    release.write_files(release.build_kit(repo, include_hidden=True), kit_dir)
    _install_grader_files(kit_dir)
    with tempfile.TemporaryDirectory(prefix="grader-reference-") as tmp:
        solved, scratch = Path(tmp) / "kit", Path(tmp) / "scratch"
        solved.mkdir()
        scratch.mkdir()
        release.write_files(release.build_kit(repo, solutions=True, include_hidden=True), solved)
        _install_grader_files(solved)
        collect = [sys.executable, "-m", "pytest", "-p", PLUGIN_NAME, "-p", "no:cacheprovider", "-q",
                   "--collect-only", *points.GRADED_TEST_PATHS]
        events = _run_reference(solved, collect, scratch)
        errors = [e for e in events if e["e"] == "collect_error"]
        if errors:
            raise BundleError(f"the graded tests do not collect on the reference:\n{errors[0]['text']}")
        tests = next(e["ids"] for e in events if e["e"] == "collected")
        probe_events = _run_reference(solved, [sys.executable, f"{PROBES_NAME}.py"], scratch)
    failed = [e for e in probe_events if e["e"] == "error"]
    if failed:
        raise BundleError(f"a probe fails on the reference solution:\n{failed[0]['text']}")
    expected = {e["id"]: e["values"] for e in probe_events if e["e"] == "result"}
    checks = [*expected, *STATIC_CHECKS]
    manifest = {
        "tests": tests, "checks": checks, "expected": expected,
        "points": points.assign_points([*tests, *checks]), "hashes": file_hashes(kit_dir),
    }
    (dest / "manifest.json").write_text(json.dumps(manifest))
    return load_bundle(dest)


def load_bundle(root: Path) -> Bundle:
    try:
        manifest = json.loads((root / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise BundleError(f"{root} is not a grading bundle ({err})") from err
    return Bundle(root=root, tests=manifest["tests"], checks=manifest["checks"], expected=manifest["expected"],
                  points=manifest["points"], hashes=manifest["hashes"])
