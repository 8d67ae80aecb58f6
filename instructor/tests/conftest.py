"""The instructor suite's cached bundles live in a folder of their own, removed at the end of the run;
the grading tests share one bundle built from this repository."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from instructor import REPO_ROOT
from instructor.grading.bundle import CACHE_ENV, build_bundle


def pytest_configure(config):
    if not os.environ.get(CACHE_ENV):  # never the instructor's own cache
        folder = tempfile.mkdtemp(prefix="softmax-kit-bundles-")
        os.environ[CACHE_ENV] = folder
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


@pytest.fixture(scope="session")
def bundle(tmp_path_factory):
    """A grading bundle of this repository, built and gated once per run."""
    return build_bundle(REPO_ROOT, tmp_path_factory.mktemp("bundle") / "b")
