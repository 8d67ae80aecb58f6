"""The instructor suite's cached bundles live in a folder of their own, removed at the end of the run."""

from __future__ import annotations

import os
import shutil
import tempfile

from instructor.grading.bundle import CACHE_ENV


def pytest_configure(config):
    if not os.environ.get(CACHE_ENV):  # never the instructor's own cache
        folder = tempfile.mkdtemp(prefix="softmax-kit-bundles-")
        os.environ[CACHE_ENV] = folder
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
