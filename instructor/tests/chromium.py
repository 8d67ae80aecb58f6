"""Debian's Chromium driven by Playwright for Python, as the browser tests use it.

Never `playwright install` (it downloads a browser): the tests launch the
Chromium that `apt-get install -y chromium` gives (.ci/run installs it),
through `executable_path`, and skip where it is absent.
"""

from __future__ import annotations

import shutil

import pytest

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_or_skip() -> str:
    """The path of Debian's Chromium; skips the test if it or Playwright is not installed."""
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium); .ci/run installs it")
    pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (requirements.txt)")
    return path


def launch(playwright):
    """A headless Chromium browser from `sync_playwright()`'s `playwright`."""
    return playwright.chromium.launch(executable_path=chromium_or_skip(), args=CHROMIUM_ARGS)
