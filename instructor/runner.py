"""Run one submission's graded tests and probes in sandboxes; judge in the parent.

For each submission the parent copies the bundle's kit into a fresh
temporary directory, puts the student's graded files over it, and runs:

1. the probes (`_grader_probes.py`) in a child; the parent compares the
   values they send back with the reference's (instructor/checks.py);
2. the graded tests (`python -m pytest -p _grader_plugin ...`) in a child
   in a second fresh copy.

A test that hangs past the timeout, or crashes the child (os._exit, a
segfault, the memory cap), fails alone: the parent re-runs only the tests it
has no result for. A test module that cannot be imported fails all of its
tests with the import error. A test the child never reports fails. After
the run the parent re-hashes the kit files: if student code changed a test
file, that file's tests fail; if it changed any other kit file, all do.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from instructor import checks
from instructor.bundle import PLUGIN_NAME, PROBES_NAME, Bundle, file_hashes
from instructor.points import GRADED_TEST_PATHS
from instructor.sandbox import Limits, child_env, run_child, unprivileged_ids

MAX_ATTEMPTS_EXTRA = 5  # child runs beyond one per test, before giving up


@dataclass
class Outcome:
    passed: bool
    message: str


def prepare_sandbox(bundle: Bundle, files: dict[str, bytes], where: Path, limits: Limits) -> tuple[Path, Path]:
    """A fresh kit copy with the student's files in it, and a scratch directory."""
    sandbox, scratch = where / "kit", where / "scratch"
    shutil.copytree(bundle.kit, sandbox)
    for name, data in files.items():
        (sandbox / name).write_bytes(data)
    scratch.mkdir()
    ids = unprivileged_ids(limits)
    if ids:  # the child runs as another user, and may write only in scratch
        for directory in (where.parent, where):
            directory.chmod(0o711)  # traverse, not list: mkdtemp made them 0700
        os.chown(scratch, *ids)
        for path in [sandbox, *sandbox.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    return sandbox, scratch


def _in_file(test_id: str, path: str) -> bool:
    return test_id.split("::", 1)[0] == path or test_id.startswith(path.rstrip("/") + "/")


def run_tests(bundle: Bundle, files: dict[str, bytes], work: Path, limits: Limits, deadline: float) -> dict[str, Outcome]:
    """Outcomes of every graded pytest test, keyed by node id."""
    sandbox, scratch = prepare_sandbox(bundle, files, work / "tests", limits)
    remaining = list(bundle.tests)
    outcomes: dict[str, Outcome] = {}
    ignored: list[str] = []
    for attempt in range(len(bundle.tests) + MAX_ATTEMPTS_EXTRA):
        if not remaining:
            break
        select_file = scratch / f"select-{attempt}.json"
        select_file.write_text(json.dumps(remaining))
        command = [sys.executable, "-m", "pytest", "-p", PLUGIN_NAME, "-p", "no:cacheprovider", "-q",
                   "--tb=short", "--continue-on-collection-errors", "-o", "console_output_style=classic",
                   # --ignore works inside a directory argument; an ignored file argument is dropped.
                   *(f"--ignore={path}" for path in ignored), *(p for p in GRADED_TEST_PATHS if p not in ignored)]
        env = {**child_env(sandbox, scratch), "GRADER_SELECT": str(select_file)}
        run = run_child(command, cwd=sandbox, env=env, limits=limits, deadline=deadline,
                        log_path=work / f"pytest-{attempt}.log")
        before = len(remaining)
        remaining = _apply_events(run, remaining, outcomes, ignored, limits)
        if run.deadline_hit or len(remaining) == before:
            reason = run.describe_exit() if run.deadline_hit else f"the test run stopped: {run.describe_exit()}"
            for test_id in remaining:
                outcomes[test_id] = Outcome(False, f"not run: {reason}\n{run.output[-1500:]}")
            remaining = []
    _check_kit_unchanged(bundle, files, sandbox, outcomes)
    return outcomes


def _apply_events(run, remaining: list[str], outcomes: dict[str, Outcome], ignored: list[str], limits: Limits) -> list[str]:
    """Fold one child's events into outcomes; return the ids still without one."""
    reports: dict[str, list[dict]] = {}
    tampered: dict[str, list[str]] = {}
    collecting = None
    done = False
    for event in run.events:
        kind = event["e"]
        if kind == "collecting":
            collecting = event.get("path")
        elif kind == "collect_error":
            path = str(event.get("path"))
            for test_id in remaining:
                if _in_file(test_id, path) and test_id not in outcomes:
                    outcomes[test_id] = Outcome(False, f"{path} could not be imported:\n{event.get('text', '')}")
            collecting = None
        elif kind == "collected":
            collecting = None
        elif kind == "report":
            reports.setdefault(str(event.get("id")), []).append(event)
        elif kind == "tamper":
            tampered.setdefault(str(event.get("id")), []).append(str(event.get("what")))
        elif kind == "finish":
            test_id = str(event.get("id"))
            if test_id in remaining and test_id not in outcomes:
                outcomes[test_id] = _judge_reports(reports.get(test_id, []), tampered.get(test_id))
        elif kind == "done":
            done = True
    if run.timed_out in remaining and run.timed_out not in outcomes:
        outcomes[run.timed_out] = Outcome(False, f"timed out after {limits.timeout:g} s (an infinite loop?)")
    elif not done and not run.deadline_hit:
        started = [e["id"] for e in run.events if e["e"] == "start" and e.get("id") in remaining]
        if started and started[-1] not in outcomes:
            outcomes[started[-1]] = Outcome(False, f"crashed: {run.describe_exit()}\n{run.output[-1500:]}")
        elif collecting:
            for test_id in remaining:
                if _in_file(test_id, collecting) and test_id not in outcomes:
                    outcomes[test_id] = Outcome(
                        False, f"crashed while importing {collecting}: {run.describe_exit()}\n{run.output[-1500:]}")
            ignored.append(collecting)
    if done:  # a complete run: anything the child was asked for and did not report failed
        for test_id in remaining:
            outcomes.setdefault(test_id, Outcome(False, "not reported by the test run (deselected or skipped?)"))
    return [t for t in remaining if t not in outcomes]


def _judge_reports(reports: list[dict], tampered: list[str] | None) -> Outcome:
    if tampered:
        return Outcome(False, "tampering detected during this test: " + "; ".join(tampered))
    failed = [r for r in reports if r.get("outcome") == "failed"]
    if failed:
        return Outcome(False, str(failed[0].get("text", "")))
    skipped = [r for r in reports if r.get("outcome") == "skipped"]
    if skipped:
        return Outcome(False, f"skipped: {skipped[0].get('text', '')}")
    if any(r.get("when") == "call" and r.get("outcome") == "passed" for r in reports):
        return Outcome(True, "")
    return Outcome(False, "no result reported")


def _check_kit_unchanged(bundle: Bundle, files: dict[str, bytes], sandbox: Path, outcomes: dict[str, Outcome]) -> None:
    now = file_hashes(sandbox)
    changed = sorted(p for p, h in bundle.hashes.items() if p not in files and now.get(p) != h)
    for path in changed:
        note = f"student code modified {path} during grading"
        hit = [t for t in outcomes if _in_file(t, path)] or list(outcomes)
        for test_id in hit:
            outcomes[test_id] = Outcome(False, note)


def run_probes(bundle: Bundle, files: dict[str, bytes], work: Path, limits: Limits, deadline: float) -> dict[str, Outcome]:
    """Outcomes of the parent's checks: probes run in a child, judged here."""
    sandbox, scratch = prepare_sandbox(bundle, files, work / "probes", limits)
    probe_ids = list(bundle.expected)
    outcomes: dict[str, Outcome] = {}
    for attempt in range(len(probe_ids) + 1):
        remaining = [p for p in probe_ids if p not in outcomes]
        if not remaining:
            break
        names = [p.split("::", 1)[1] for p in remaining]
        run = run_child([sys.executable, f"{PROBES_NAME}.py", *names], cwd=sandbox,
                        env=child_env(sandbox, scratch), limits=limits, deadline=deadline,
                        log_path=work / f"probes-{attempt}.log")
        for event in run.events:
            probe_id = event.get("id")
            if probe_id not in remaining or probe_id in outcomes:
                continue
            if event["e"] == "result" and isinstance(event.get("values"), dict):
                name = probe_id.split("::", 1)[1]
                passed, message = checks.judge_probe(name, bundle.expected[probe_id], event["values"])
                outcomes[probe_id] = Outcome(passed, message)
            elif event["e"] == "error":
                outcomes[probe_id] = Outcome(False, f"raised an error:\n{event.get('text', '')}")
        started = [e.get("id") for e in run.events if e["e"] == "start" and e.get("id") in remaining]
        pending = started[-1] if started and started[-1] not in outcomes else None
        if run.timed_out in remaining:
            outcomes[run.timed_out] = Outcome(False, f"timed out after {limits.timeout:g} s")
        elif pending:
            outcomes[pending] = Outcome(False, f"crashed: {run.describe_exit()}\n{run.output[-1500:]}")
        if run.deadline_hit or not started:
            for probe_id in remaining:
                outcomes.setdefault(probe_id, Outcome(False, f"not run: {run.describe_exit()}\n{run.output[-1500:]}"))
    source = files.get("classifiers/softmax.py")
    passed, message = checks.check_vectorized_has_no_loops(source.decode("utf-8", "replace") if source else None)
    outcomes["check::vectorized_has_no_loops"] = Outcome(passed, message)
    return outcomes


def run_submission(bundle: Bundle, files: dict[str, bytes], work: Path, limits: Limits) -> dict[str, Outcome]:
    """Every graded test and check of one submission -> its outcome."""
    deadline = time.monotonic() + limits.total
    outcomes = run_probes(bundle, files, work, limits, deadline)
    outcomes.update(run_tests(bundle, files, work, limits, deadline))
    return outcomes
