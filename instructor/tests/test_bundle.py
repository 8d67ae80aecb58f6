"""Tests for where a grading bundle came from (instructor/grading/bundle.py's provenance); left out of the kit.

Building a whole bundle runs the reference gate (a few seconds): the pinned
bundle's own test, which also checks what the grader prints, is in
test_grade.py. These check the record itself, in and outside git, and the
cache of built bundles (with the build itself replaced by a quick stand-in).
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import time

import pytest

from instructor import REPO_ROOT
from instructor.grading import bundle as bundle_module
from instructor.grading.bundle import (
    CACHE_ENV,
    CACHE_KEEP,
    STALE_LOCK_SECONDS,
    Bundle,
    cache_root,
    cached_bundle,
    content_hash,
    provenance,
)

MANIFEST = {"tests": ["tests/test_x.py::test_y"], "points": {"tests/test_x.py::test_y": 100}}


def write_bundle_files(dest):
    (dest / "harness" / "tests").mkdir(parents=True)
    (dest / "harness" / "tests" / "test_x.py").write_text("def test_y():\n    pass\n")
    (dest / "manifest.json").write_text("{}")


def test_outside_git_the_bundle_records_a_content_hash_as_its_version(tmp_path):
    repo, dest = tmp_path / "copy-without-git", tmp_path / "bundle"
    repo.mkdir()
    write_bundle_files(dest)
    source = provenance(repo, dest, MANIFEST)
    assert source["commit"] is None and source["dirty"] is None
    assert source["kit_version"] == "content-" + source["content_sha256"][:12]
    built = datetime.datetime.strptime(source["built_at"], "%Y-%m-%d %H:%M:%S UTC")
    assert abs((datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - built).total_seconds()) < 600
    line = Bundle(dest, [], {}, {}, [], {}, source).describe()
    assert "not in git" in line and source["content_sha256"][:12] in line and source["built_at"] in line


def test_content_hash_changes_with_a_test_file_or_the_points(tmp_path):
    write_bundle_files(tmp_path)
    before = content_hash(tmp_path, MANIFEST)
    assert content_hash(tmp_path, MANIFEST) == before, "the hash is a function of the contents"
    assert content_hash(tmp_path, {**MANIFEST, "points": {"tests/test_x.py::test_y": 99}}) != before
    assert content_hash(tmp_path, {**MANIFEST, "source": {"built_at": "later"}}) == before, "the date is not content"
    (tmp_path / "harness" / "tests" / "__pycache__").mkdir()
    (tmp_path / "harness" / "tests" / "__pycache__" / "test_x.cpython-311.pyc").write_bytes(b"bytecode")
    assert content_hash(tmp_path, MANIFEST) == before, "the harness's bytecode is not content"
    (tmp_path / "harness" / "tests" / "test_x.py").write_text("def test_y():\n    assert False\n")
    assert content_hash(tmp_path, MANIFEST) != before


def test_in_git_the_bundle_records_the_commit_and_the_described_version(tmp_path):
    write_bundle_files(tmp_path)
    source = provenance(REPO_ROOT, tmp_path, MANIFEST)
    git = lambda *args: subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()
    head = git("rev-parse", "HEAD")
    assert source["commit"] == head
    assert source["kit_version"] == git("describe", "--tags", "--always", "--dirty")
    assert isinstance(source["dirty"], bool)
    assert f"commit {head[:12]}" in Bundle(tmp_path, [], {}, {}, [], {}, source).describe()


def test_an_older_bundle_says_it_does_not_know(tmp_path):
    assert "before bundles recorded" in Bundle(tmp_path, [], {}, {}, [], {}).describe()


def fake_repo(root):
    """A repository of two files; what a bundle is built from."""
    root.mkdir()
    (root / "classifiers").mkdir()
    (root / "classifiers" / "softmax.py").write_text("# the solution\n")
    (root / "README.md").write_text("# kit\n")
    return root


@pytest.fixture
def builds(monkeypatch):
    """build_bundle replaced by a quick one that records each build (the real one takes seconds)."""
    built = []

    def build(repo, dest):
        built.append(dest)
        dest.mkdir(parents=True)
        (dest / "manifest.json").write_text(json.dumps({**MANIFEST, "budgets": {}, "graded_files": []}))
        return bundle_module.load_bundle(dest)

    monkeypatch.setattr(bundle_module, "build_bundle", build)
    return built


def test_an_unchanged_repository_reuses_its_cached_bundle_and_says_so(tmp_path, builds):
    repo, cache = fake_repo(tmp_path / "repo"), tmp_path / "cache"
    first = cached_bundle(repo, cache)
    again = cached_bundle(repo, cache)
    assert len(builds) == 1 and again.root == first.root
    assert again.cached and not first.cached
    assert "reused from the cache" in again.describe() and "reused" not in first.describe()


def test_any_change_to_the_repository_builds_a_new_bundle(tmp_path, builds):
    repo, cache = fake_repo(tmp_path / "repo"), tmp_path / "cache"
    first = cached_bundle(repo, cache)
    (repo / "classifiers" / "softmax.py").write_text("# the solution, changed\n")
    changed = cached_bundle(repo, cache)
    (repo / "classifiers" / "softmax.py").chmod(0o600)
    (repo / "classifiers" / "softmax.py").write_text("# the solution\n")
    mode_changed = cached_bundle(repo, cache)
    assert len(builds) == 3 and len({first.root, changed.root, mode_changed.root}) == 3
    assert not changed.cached and not mode_changed.cached


def test_a_damaged_or_half_built_cached_bundle_is_built_again(tmp_path, builds):
    repo, cache = fake_repo(tmp_path / "repo"), tmp_path / "cache"
    first = cached_bundle(repo, cache)
    (first.root / "manifest.json").write_text("{not json")
    assert not cached_bundle(repo, cache).cached and len(builds) == 2
    (first.root / "manifest.json").unlink()  # a build that stopped before its manifest: incomplete
    (first.root / "harness").mkdir()
    rebuilt = cached_bundle(repo, cache)
    assert not rebuilt.cached and len(builds) == 3 and not (rebuilt.root / "harness").exists()


def test_the_cache_keeps_the_most_recently_used_bundles(tmp_path, builds):
    repo, cache = fake_repo(tmp_path / "repo"), tmp_path / "cache"
    roots = []
    for version in range(CACHE_KEEP + 2):
        (repo / "README.md").write_text(f"# kit {version}\n")
        roots.append(cached_bundle(repo, cache).root)
    kept = {p for p in cache.iterdir() if p.is_dir()}
    assert kept == set(roots[-CACHE_KEEP:])
    # The lock files of removed bundles go too, once nobody can be waiting on them.
    assert {p.stem for p in cache.glob("*.lock")} >= {p.name for p in roots}
    hour_ago = time.time() - STALE_LOCK_SECONDS - 1
    for lock in cache.glob("*.lock"):
        os.utime(lock, (hour_ago, hour_ago))
    (repo / "README.md").write_text("# kit, once more\n")
    removed_earlier = {p.stem for p in cache.glob("*.lock")} - {p.name for p in cache.iterdir() if p.is_dir()}
    cached_bundle(repo, cache)  # removes one more bundle, whose lock stays for now
    assert removed_earlier and removed_earlier.isdisjoint(p.stem for p in cache.glob("*.lock"))


def test_the_cache_lives_where_the_environment_says(tmp_path, monkeypatch):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "softmax-kit" / "bundles"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "mine"))
    assert cache_root() == tmp_path / "mine"


def test_the_instructors_own_tests_are_not_in_the_key(tmp_path, builds):
    repo, cache = fake_repo(tmp_path / "repo"), tmp_path / "cache"
    first = cached_bundle(repo, cache)
    (repo / "instructor" / "tests").mkdir(parents=True)
    (repo / "instructor" / "tests" / "test_new.py").write_text("def test_x():\n    pass\n")
    assert cached_bundle(repo, cache).cached and len(builds) == 1
    (repo / "instructor" / "hidden_tests").mkdir()
    (repo / "instructor" / "hidden_tests" / "test_hidden_new.py").write_text("def test_y():\n    pass\n")
    assert not cached_bundle(repo, cache).cached and len(builds) == 2, "a hidden test is in the bundle"
    assert first.root.exists()
