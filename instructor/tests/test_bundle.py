"""Tests for where a grading bundle came from (instructor/grading/bundle.py's provenance); left out of the kit.

Building a whole bundle runs the reference gate (a few seconds): the pinned
bundle's own test, which also checks what the grader prints, is in
test_grade.py. These check the record itself, in and outside git.
"""

from __future__ import annotations

import datetime
import subprocess

from instructor import REPO_ROOT
from instructor.grading.bundle import Bundle, content_hash, provenance

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
