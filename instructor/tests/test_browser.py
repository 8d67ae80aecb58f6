"""The released, solved notebook run by a student in a real browser.

Starts JupyterLab on 127.0.0.1 (a free port, a token, a temporary root with
the solutions kit from `python -m instructor.release DIR --solutions`),
opens assignment.ipynb in headless Chromium driven by Playwright, runs it as
a student does (Kernel > Restart Kernel and Run All Cells…, then File > Save
Notebook) on a small synthetic stand-in, and checks what the student sees: no
error output, the gradient-check results and every figure rendered. The
notebook saved by JupyterLab must then pass `submit.py`.

Needs Debian's Chromium (`apt-get install -y chromium`, as .ci/run does) and
Playwright for Python (requirements.txt); it skips, saying which is missing,
without them. Playwright never downloads a browser here: it drives
/usr/bin/chromium through `executable_path`. Screenshots of the run are
written to the test's temporary directory (`--basetemp DIR` keeps them).
Left out of the student kit: it releases the kit from this repository.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

import submit
from instructor import REPO_ROOT, release
from instructor.tests.chromium import chromium_or_skip, launch
from tests.test_notebook import SMALL_RUN, SYNTHETIC_TEST, SYNTHETIC_TRAIN, parameters_index

SERVER_START_TIMEOUT_S = 60  # JupyterLab starts in a few seconds; a loaded CI machine is slower
PAGE_TIMEOUT_MS = 60_000  # loading the JupyterLab page and its kernel
RUN_TIMEOUT_S = 150  # the whole small run takes ~15 s in nbclient; the browser adds little
POLL_S = 0.5
# Run all, then save, as the README and submit.py tell a student to.
RUN_ALL_MENU = ("Kernel", "Restart Kernel and Run All Cells…")
SAVE_MENU = ("File", "Save Notebook")
# The gradient check prints (or displays) one result per regularization strength.
GRADIENT_CHECK_ROWS = ("max relative error", "entries checked", "PASSED")
NUM_GRADIENT_CHECKS = 2
MIN_FIGURES = 5  # training images, mean image, gradient check, loss curve, search grid, ...
# After the kernel is idle, how long JupyterLab may take to write its info into the notebook.
SETTLE_S = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def solved_kit(root: Path, dataset_dir: Path) -> Path:
    """The solutions kit, with a cell after `parameters` that shrinks the run."""
    kit = root / "kit"
    assert release.main([str(kit), "--solutions"]) == 0
    path = kit / "assignment.ipynb"
    notebook = nbformat.read(path, as_version=4)
    shrink = "\n".join(f"{name} = {value!r}" for name, value in SMALL_RUN.items())
    notebook.cells.insert(
        parameters_index(notebook) + 1,
        nbformat.v4.new_code_cell(
            "# Added by instructor/tests/test_browser.py: a small run on the stand-in.\n" + shrink
        ),
    )
    nbformat.write(notebook, path)
    return kit


def jupyter_env(root: Path, dataset_dir: Path, kernel_name: str | None) -> dict[str, str]:
    """A private Jupyter: its own config, data, settings and runtime folders.

    With `kernel_name`, a kernel of that name running this interpreter is registered
    there, whatever the machine has; without, the caller registers its own.
    """
    dirs = {name: root / name for name in ("config", "data", "runtime", "settings", "workspaces", "ipython")}
    for folder in dirs.values():
        folder.mkdir(parents=True, exist_ok=True)
    if kernel_name is not None:
        spec = dirs["data"] / "kernels" / kernel_name
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    "display_name": f"{kernel_name} (browser test)",
                    "language": "python",
                }
            )
        )
    # Every cell in the page (no windowing), and no news or update checks over the network.
    settings = dirs["settings"] / "@jupyterlab"
    (settings / "notebook-extension").mkdir(parents=True)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    (settings / "apputils-extension").mkdir(parents=True)
    (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        '{"checkForUpdates": false, "fetchNews": "false"}'
    )
    return {
        **os.environ,
        "CIFAR10_DIR": str(dataset_dir),
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
        "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
        "IPYTHONDIR": str(dirs["ipython"]),
    }


def start_jupyterlab(kit: Path, env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    port, token = free_port(), secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={kit}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI containers run as root
    server = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"JupyterLab exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                return server, f"{base}/lab/tree/assignment.ipynb?token={token}"
        except OSError:
            time.sleep(POLL_S)
    server.terminate()
    raise AssertionError(f"JupyterLab did not answer within {SERVER_START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


def stop(server: subprocess.Popen) -> None:
    """Stop JupyterLab (it shuts its kernels down); if it hangs, kill its whole session."""
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)  # start_new_session: the group holds the kernels too
        server.wait()


def click_menu(page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=menu).first.click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


PROMPTS_JS = (
    "() => [...document.querySelectorAll('.jp-CodeCell')].map(c => ["
    "c.querySelector('.jp-InputArea-prompt')?.textContent ?? '', c.querySelector('.cm-content')?.textContent ?? ''])"
)


def wait_for_run_all(page, shot: Path) -> None:
    """Until every non-empty code cell shows an execution count, not [*] or [ ]."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    pending: list[str] = []
    while time.monotonic() < deadline:
        cells = page.evaluate(PROMPTS_JS)
        pending = [prompt for prompt, source in cells if source.strip() and not prompt.strip("[]: ").isdigit()]
        if cells and not pending:
            return
        time.sleep(POLL_S)
    page.screenshot(path=str(shot))
    raise AssertionError(
        f"the run did not finish within {RUN_TIMEOUT_S} s; prompts still {pending[:5]} (screenshot: {shot})"
    )


@pytest.mark.slow
def test_solved_notebook_runs_in_jupyterlab_in_headless_chromium(tmp_path):
    chromium_or_skip()
    from playwright.sync_api import sync_playwright

    from data.get_cifar10 import make_synthetic_cifar10

    dataset = make_synthetic_cifar10(tmp_path / "cifar10", SYNTHETIC_TRAIN, SYNTHETIC_TEST, seed=0)
    kit = solved_kit(tmp_path, dataset)
    kernel_name = nbformat.read(kit / "assignment.ipynb", as_version=4).metadata["kernelspec"]["name"]
    server, url = start_jupyterlab(
        kit, jupyter_env(tmp_path / "jupyter", dataset, kernel_name), tmp_path / "jupyterlab.log"
    )
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            page.goto(url)
            page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for()
            # The kernel must be up first: before that, the Kernel menu asks which kernel to start.
            page.locator("#jp-main-statusbar", has_text="| Idle").wait_for()
            click_menu(page, *RUN_ALL_MENU)
            page.locator(".jp-Dialog .jp-mod-accept").click()  # "Restart"
            wait_for_run_all(page, tmp_path / "timeout.png")
            click_menu(page, *SAVE_MENU)
            page.locator(".jp-NotebookPanel .jp-mod-dirty").first.wait_for(state="detached")
            outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
            figures = page.evaluate(
                "() => [...document.querySelectorAll('.jp-OutputArea-output img')]"
                ".filter(img => img.complete && img.naturalWidth > 0).length"
            )
            errors = page.locator(
                ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']:has-text('Traceback')"
            ).all_inner_texts()
            check = page.get_by_text("max relative error").first
            check.scroll_into_view_if_needed()
            page.screenshot(path=str(tmp_path / "gradient-check.png"))
            if figures:  # the last figure, the learned templates, as the student sees it
                page.locator(".jp-OutputArea-output img").last.scroll_into_view_if_needed()
                page.screenshot(path=str(tmp_path / "last-figure.png"))
            browser.close()
    finally:
        stop(server)

    assert not errors, f"error output in the browser:\n{errors[0][:2000]}"
    saved = json.loads((kit / "assignment.ipynb").read_text())
    saved_errors = [o for c in saved["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not saved_errors, f"the saved notebook has an error output: {saved_errors[0]}"
    text = "\n".join(outputs)
    for row in GRADIENT_CHECK_ROWS:
        assert text.count(row) >= NUM_GRADIENT_CHECKS, f"the gradient-check results should show {row!r} twice"
    saved_figures = sum("image/png" in o.get("data", {}) for c in saved["cells"] for o in c.get("outputs", []))
    assert saved_figures >= MIN_FIGURES, f"expected at least {MIN_FIGURES} figures, the notebook saved {saved_figures}"
    assert figures >= saved_figures, f"{saved_figures} figures saved but only {figures} shown in the browser"
    # What JupyterLab saved is what a student hands in: submit.py must take it.
    assert submit.main(["--kit", str(kit), "-o", str(tmp_path / "submission.zip")]) == 0


@pytest.mark.slow
def test_released_notebooks_open_unmodified_in_jupyterlab(tmp_path):
    # As setup.sh leaves a kit: its kernel registered in its .venv (here a stand-in
    # prefix) and named in its notebooks (kit/kernel.py). Then nothing is modified on opening.
    chromium_or_skip()
    from playwright.sync_api import sync_playwright

    from instructor.build import build_kit, write_files
    from kit import kernel

    kit = tmp_path / "kit"
    kit.mkdir()
    write_files(build_kit(REPO_ROOT), kit)
    prefix = tmp_path / "venv"
    kernel.register(kit, prefix)
    kernel.fit_notebooks(kit, kernel.notebook_metadata(kit))
    env = jupyter_env(tmp_path / "jupyter", tmp_path, None) | {"JUPYTER_PATH": str(prefix / "share" / "jupyter")}
    server, url = start_jupyterlab(kit, env, tmp_path / "jupyterlab.log")
    seen = {}
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            for name in kernel.NOTEBOOKS:
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.set_default_timeout(PAGE_TIMEOUT_MS)
                page.goto(url.replace("assignment.ipynb", name))
                page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for()
                page.locator("#jp-main-statusbar", has_text="| Idle").wait_for()
                time.sleep(SETTLE_S)  # the kernel's info arrives: JupyterLab writes it into the model now
                shot = tmp_path / f"opened-{name}.png"
                page.screenshot(path=str(shot))
                seen[name] = (
                    page.locator(".lm-TabBar-tab.jp-mod-dirty").count(),
                    page.locator(".jp-Toolbar-kernelName").first.inner_text(),
                    shot,
                )
                page.close()
            browser.close()
    finally:
        stop(server)
    for name, (dirty, kernel_shown, shot) in seen.items():
        assert dirty == 0, f"{name} shows as modified right after opening (screenshot: {shot})"
        assert kernel_shown == kernel.display_name(kit), f"{name} runs {kernel_shown!r} (screenshot: {shot})"


def test_ci_installs_chromium_then_runs_the_readme_test_command_unchanged():
    repo = Path(__file__).resolve().parent.parent.parent
    lines = [line.strip() for line in (repo / ".ci" / "run").read_text().splitlines() if line.strip()]
    command = "./setup.sh --no-data && .venv/bin/python -m pytest"
    assert lines[-1] == command, f".ci/run should end with the README's command, got {lines[-1]!r}"
    assert command in (repo / "README.md").read_text()
    assert any("apt-get install -y" in line and "chromium" in line for line in lines[:-1]), (
        ".ci/run should install Debian's chromium for the browser test"
    )
    assert not any("playwright install" in line for line in lines), "never download Playwright's browsers"
