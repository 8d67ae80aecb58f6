"""The grading bundle: everything grading needs, and no solution code.

    bundle/
      harness/        the graded tests' side: the kit with the hidden tests
                      (instructor/hidden_tests/, as tests/hidden/), but
                      without the student's files (tests reach those only
                      through the worker)
      worker/         the student's side: the released kit, exactly what the
                      student has; each submission's files go into a copy
      manifest.json   the graded test ids, the points of each, what each
                      classic mistake costs (points.CHARGES), the
                      reference solution's longest call per entry point
                      (the worker's timeouts are sized from it), and where
                      the bundle came from: the commit (or, outside git, a
                      hash of its contents), the kit's version and the date

`build_bundle` makes one from the instructor repository and grades two
submissions with it first, the reference gate: the reference solution must
pass every graded test (full marks) and the untouched student kit must earn
exactly 0. A bundle that fails either is refused, with the tests named. The Gradescope zip ships a bundle, so
the solutions never reach Gradescope.

`cached_bundle` keeps the bundles it builds, by the sources they were built
from: grading again from an unchanged repository reuses its bundle (and its
gate's verdict) instead of building and gating it afresh, about 20 s saved.
Any change to a file of the repository (but the instructor's tests and
benchmarks), or another Python, builds anew.
"""

from __future__ import annotations

import datetime
import fcntl
import functools
import hashlib
import json
import os
import runpy
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from instructor import REPO_ROOT
from instructor.build import build_kit, repository_files, with_hidden_tests, write_files
from instructor.grading import points
from instructor.grading.harness import run_harness
from instructor.grading.sandbox import Limits, trusted_isolation
from instructor.markers import MarkerError

REFERENCE_LIMITS = Limits(timeout=120.0, total=600.0)  # the reference gets time to spare on a busy machine
GIT_TIMEOUT = 30.0  # seconds for one git query about the repository (milliseconds normally)
SHORT_HASH = 12  # hex digits of a hash shown to a reader
CODES_FILE = "diagnose/codes.py"  # the diagnosis codes and the sentence a student reads for each
CACHE_ENV = "SOFTMAX_KIT_CACHE"  # a folder for cached bundles (default: $XDG_CACHE_HOME/softmax-kit/bundles)
CACHE_KEEP = 5  # cached bundles kept; the least recently used beyond these are removed
STALE_LOCK_SECONDS = 3600  # a removed bundle's lock file is removed this long after its last use
NOT_IN_A_BUNDLE = ("instructor/tests/", "instructor/benchmarks/", ".ci/")  # edits here keep the cached bundle


class BundleError(RuntimeError):
    """The bundle cannot be built or read; the message says why."""


@dataclass
class Bundle:
    root: Path
    tests: list[str]  # pytest node ids, in collection order
    points: dict[str, float]  # every graded test -> its points
    budgets: dict[str, float]  # entry point -> the reference's longest call, in seconds
    graded_files: list[str]  # what a submission brings: the student's files
    charges: dict[str, dict[str, float]]  # function -> classic mistake -> its cost, charged once
    source: dict = field(default_factory=dict)  # provenance(): commit, content hash, version, date ({} if older)
    cached: bool = False  # reused from the cache (built earlier from identical sources), not built now

    @property
    def harness(self) -> Path:
        return self.root / "harness"

    @property
    def worker(self) -> Path:
        return self.root / "worker"

    @property
    def total(self) -> float:
        return sum(self.points.values())

    @functools.cached_property
    def explanations(self) -> dict[str, dict[str, str]]:
        """The sentence a student reads for each diagnosis code, from this bundle's own diagnose/codes.py:
        {"loss": CODES, "training": TRAINING_CODES, "tests": TEST_CODES} ({} if the bundle has none)."""
        path = self.harness / CODES_FILE
        if not path.is_file():
            return {}
        table = runpy.run_path(str(path))  # the instructor's own file, as bundled: two dicts of strings
        return {
            key: dict(table.get(name, {}))
            for key, name in (("loss", "CODES"), ("training", "TRAINING_CODES"), ("tests", "TEST_CODES"))
        }

    def describe(self) -> str:
        """One line for the instructor: which kit, which commit, built when."""
        source = self.source
        if not source:
            return f"bundle {self.root}: built before bundles recorded their commit and date"
        if source.get("commit"):
            origin = f"commit {source['commit'][:SHORT_HASH]}" + (
                " with uncommitted changes" if source.get("dirty") else ""
            )
        else:
            origin = "not in git"
        return (
            f"bundle: kit {source.get('kit_version')} ({origin}; content sha256 "
            f"{str(source.get('content_sha256'))[:SHORT_HASH]}), built {source.get('built_at')}"
            + (" from these sources, reused from the cache" if self.cached else "")
        )


def student_files() -> list[str]:
    """The graded code files (the notebook is handed in but not graded here)."""
    from submit import GRADED_FILES  # one list: what students hand in is what is graded

    return [name for name in GRADED_FILES if name.endswith(".py")]


def build_bundle(repo: Path, dest: Path) -> Bundle:
    """Build a bundle from the instructor repository `repo` into `dest`; grade the reference with it."""
    graded = student_files()
    dest.mkdir(parents=True)
    # The notebook is not graded here: a notebook out of step with its source is the release's business.
    worker_kit = build_kit(repo, check_notebook_sources=False)  # what students have: the stubs
    harness_kit = with_hidden_tests(worker_kit, repo)
    for name in graded:
        harness_kit.pop(name, None)
    write_files(harness_kit, dest / "harness")
    write_files(worker_kit, dest / "worker")
    solved = build_kit(repo, solutions=True, check_notebook_sources=False)
    reference = {name: solved[name][0] for name in graded}
    with tempfile.TemporaryDirectory(prefix="grader-reference-") as tmp:
        run = run_harness(
            dest / "harness",
            dest / "worker",
            list(points.GRADED_TEST_PATHS),
            reference,
            Path(tmp),
            REFERENCE_LIMITS,
            trusted_isolation(),
            budgets={},
        )
    if run.collect_errors:
        raise BundleError("the graded tests do not collect:\n" + "\n".join(run.collect_errors))
    if not run.collected:
        raise BundleError(f"the graded tests could not be run on the reference solution: {run.problem}")
    failing = {t: o.message for t, o in run.outcomes.items() if not o.passed}
    if failing:
        listing = "\n".join(f"  {t}: {m.strip().splitlines()[-1] if m.strip() else ''}" for t, m in failing.items())
        raise BundleError(
            f"the reference solution fails {len(failing)} graded test(s); fix the tests or the "
            f"solution first:\n{listing}"
        )
    table = points.assign_points(run.collected)
    stubs = {name: data for name, (data, _) in worker_kit.items() if name in graded}
    with tempfile.TemporaryDirectory(prefix="grader-stub-") as tmp:
        stub_run = run_harness(
            dest / "harness",
            dest / "worker",
            list(points.GRADED_TEST_PATHS),
            stubs,
            Path(tmp),
            REFERENCE_LIMITS,
            trusted_isolation(),
            budgets=run.durations,
        )
    earned = {t: table[t] for t, o in stub_run.outcomes.items() if o.passed and table.get(t, 0) > 0}
    if earned:
        listing = "\n".join(f"  {t}: {p:g} points" for t, p in earned.items())
        raise BundleError(
            f"the untouched student kit would earn {sum(earned.values()):g} points; give these tests "
            f"0 points in instructor/grading/points.py (they test kit code) or fix them:\n{listing}"
        )
    manifest = {
        "tests": run.collected,
        "points": table,
        "charges": points.CHARGES,
        "budgets": run.durations,
        "graded_files": graded,
    }
    manifest["source"] = provenance(repo, dest, manifest)
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return load_bundle(dest)


def _git(repo: Path, *args: str) -> str | None:
    """The output of a git command in `repo`, or None outside git (or without git)."""
    try:
        result = subprocess.run(
            ["git", *args], cwd=repo, capture_output=True, text=True, timeout=GIT_TIMEOUT, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def content_hash(dest: Path, manifest: dict) -> str:
    """sha256 of everything a bundle grades with: its kits' files (path and bytes) and its manifest.
    Bytecode the harness wrote (__pycache__) is not content."""
    digest = hashlib.sha256()
    for path in sorted(bundle_files(dest)):
        if path.name == "manifest.json":
            continue
        relative = path.relative_to(dest).as_posix().encode()
        digest.update(len(relative).to_bytes(4, "big") + relative)
        data = path.read_bytes()
        digest.update(len(data).to_bytes(8, "big") + data)
    digest.update(json.dumps({k: v for k, v in manifest.items() if k != "source"}, sort_keys=True).encode())
    return digest.hexdigest()


def bundle_files(root: Path) -> list[Path]:
    """Every file of the bundle at `root`, without the bytecode its harness writes."""
    return [p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.relative_to(root).parts]


def provenance(repo: Path, dest: Path, manifest: dict) -> dict:
    """Where a bundle came from: the commit (None outside git), uncommitted changes, the kit's
    version (`git describe --tags --always --dirty`, else the content hash), the content hash
    and the date (UTC)."""
    digest = content_hash(dest, manifest)
    return {
        **_where(repo, digest),
        "content_sha256": digest,
        "built_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }


def load_bundle(root: Path) -> Bundle:
    try:
        manifest = json.loads((root / "manifest.json").read_text())
        return Bundle(
            root=root,
            tests=list(manifest["tests"]),
            points=dict(manifest["points"]),
            budgets=dict(manifest["budgets"]),
            graded_files=list(manifest["graded_files"]),
            charges=dict(manifest.get("charges", {})),  # older bundles: nothing is charged once
            source=dict(manifest.get("source") or {}),  # older bundles: unknown
        )
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as err:
        raise BundleError(
            f"{root} is not a grading bundle ({err}); build one with "
            "`python -m instructor.grading.bundle DIR` or leave out --bundle"
        ) from err


def cache_root() -> Path:
    """Where cached bundles live: $SOFTMAX_KIT_CACHE, else $XDG_CACHE_HOME/softmax-kit/bundles."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "softmax-kit" / "bundles"


def sources_key(repo: Path) -> str:
    """sha256 of what a bundle is built from: every file of the repository but the instructor's own tests
    and benchmarks (path, bytes, mode), and the Python that builds and gates it. Reading the files takes
    milliseconds; building takes seconds."""
    digest = hashlib.sha256()
    for name in repository_files(repo):
        if name.startswith(NOT_IN_A_BUNDLE):
            continue
        path = repo / name
        data = path.read_bytes()
        header = f"{name}\0{path.stat().st_mode & 0o777:o}\0{len(data)}\0".encode()
        digest.update(header + data)
    digest.update(f"{sys.executable}\0{sys.version}".encode())
    return digest.hexdigest()


def cached_bundle(repo: Path = REPO_ROOT, cache: Path | None = None) -> Bundle:
    """The bundle of `repo` as it is now: the cached one built from identical sources, or a new one built,
    gated and cached. Graders running at once wait for the one building it."""
    cache = cache or cache_root()
    key = sources_key(repo)[:32]
    root = cache / key
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (root / "manifest.json").is_file():  # written last: a bundle with one is complete
            try:
                bundle = load_bundle(root)
            except BundleError:
                pass  # damaged: built again below
            else:
                os.utime(root)  # recently used
                bundle.cached = True
                bundle.source.update(_where(repo, bundle.source.get("content_sha256", "")))
                return bundle
        shutil.rmtree(root, ignore_errors=True)
        bundle = build_bundle(repo, root)
    _prune(cache, keep=key)
    return bundle


def _where(repo: Path, digest: str) -> dict:
    """The repository's commit now (a cached bundle's sources may since have been committed)."""
    commit = _git(repo, "rev-parse", "HEAD")
    described = _git(repo, "describe", "--tags", "--always", "--dirty") if commit else None
    dirty = bool(_git(repo, "status", "--porcelain", "--untracked-files=no")) if commit else None
    return {"commit": commit, "dirty": dirty, "kit_version": described or f"content-{digest[:SHORT_HASH]}"}


def _prune(cache: Path, keep: str) -> None:
    """Remove the least recently used cached bundles beyond CACHE_KEEP (never `keep`, nor one in use)."""
    bundles = sorted(
        (p for p in cache.iterdir() if p.is_dir() and p.name != keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in bundles[CACHE_KEEP - 1 :]:
        with open(cache / f"{old.name}.lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # another grader is building or reading it
            shutil.rmtree(old, ignore_errors=True)  # its empty lock file stays: another may be waiting on it
    for lock_file in cache.glob("*.lock"):  # ... until it is old: no grader waits an hour on a lock
        try:
            if not lock_file.with_suffix("").exists() and time.time() - lock_file.stat().st_mtime > STALE_LOCK_SECONDS:
                lock_file.unlink()
        except OSError:
            pass


def main(argv: list[str] | None = None) -> int:
    """`python -m instructor.grading.bundle DIR`: build a bundle to pin for later regrades."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m instructor.grading.bundle",
        description="Build a grading bundle (tests, points, timeouts) and keep it: "
        "grading with --bundle DIR later uses exactly these.",
    )
    parser.add_argument("dest", type=Path, help="a new folder for the bundle")
    args = parser.parse_args(argv)
    if args.dest.exists():
        print(f"bundle: {args.dest} already exists; choose a new folder", file=sys.stderr)
        return 2
    try:
        bundle = build_bundle(REPO_ROOT, args.dest)
    except (BundleError, points.PointsError, MarkerError) as err:
        print(f"bundle: {err}", file=sys.stderr)
        return 2
    print(
        f"wrote {args.dest}: {len(bundle.tests)} graded tests, {bundle.total:g} points; grade with --bundle {args.dest}"
    )
    print(bundle.describe())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
