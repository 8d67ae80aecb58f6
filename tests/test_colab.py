"""The notebook's first cell prepares Google Colab, and does nothing elsewhere.

Colab cannot run here, so the test builds what matters of it:

- a Python holding only Colab's preinstalled packages that the kit touches
  (COLAB_PACKAGES), installed from PyPI into a venv cached in pytest's cache
  folder (built once, in about a minute; the test skips if it cannot be built),
  with a layer on top for what the cell installs, so every run installs again;
- a stand-in `google.colab` whose `drive.mount(mountpoint)` links a
  temporary folder, the student's Drive, as `mountpoint/MyDrive`;
- a kernel started in another folder, as Colab starts it in /content;
- CIFAR-10 served from 127.0.0.1 (a small synthetic archive), through the
  download script's course-mirror variables CIFAR10_URL and CIFAR10_MD5.

Then it runs the notebook's own cells as a student would: the first cell with
two copies of the kit in the Drive (an error naming both), with one named,
again (a re-run), and the set-up, parameters and data cells. The first cell
itself stays a few lines: the work is kit/colab.py's.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
# Preinstalled in Colab and used by the kit; everything else in requirements.txt
# the cell must install (Colab's own versions of these stay).
COLAB_PACKAGES = ["numpy", "matplotlib", "tqdm", "ipykernel", "ipywidgets", "pytest", "nbformat"]
# The kit as a student uploads it: its whole folder, without what setup.sh and
# runs leave there (and, in the instructor's repository, without the instructor's files).
NOT_UPLOADED = (".git", ".venv", "instructor", ".ci", "__pycache__", ".pytest_cache", ".hypothesis")
NOT_UPLOADED_FILES = ("cifar-10-batches-py", "*.tar.gz", "*.part", ".staging*", "*.executed.ipynb", "submission.zip")
KIT_UNDER_DRIVE = "courses/softmax-kit"
OTHER_COPY = "old/softmax-kit"
# Requirements the cell must leave alone: Colab is the notebook front-end itself.
NOT_FOR_COLAB = {"jupyter"}
# The first code cell a laptop student meets: a few lines, for Colab only.
MAX_COLAB_CELL_LINES = 20
CELL_TIMEOUT_SECONDS = 240  # the first cell pip-installs from PyPI
BUILD_TIMEOUT_SECONDS = 600

FAKE_DRIVE = '''
"""Stand-in for google.colab.drive: links $FAKE_MY_DRIVE as MOUNTPOINT/MyDrive."""
import os


def mount(mountpoint, force_remount=False, timeout_ms=120000, readonly=False):
    my_drive = os.path.join(mountpoint, "MyDrive")
    if os.path.islink(my_drive) and not force_remount:
        print(f"Drive already mounted at {mountpoint}; to attempt to forcibly remount, call "
              'drive.mount("%s", force_remount=True).' % mountpoint)
        return
    os.makedirs(mountpoint, exist_ok=True)
    os.symlink(os.environ["FAKE_MY_DRIVE"], my_drive)
    print(f"Mounted at {mountpoint}")
'''


def _site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


@pytest.fixture(scope="session")
def colab_base_python(request) -> Path:
    """A cached venv with only COLAB_PACKAGES (and their dependencies) from PyPI."""
    key = hashlib.sha256(json.dumps([sys.version, COLAB_PACKAGES]).encode()).hexdigest()[:12]
    cache = getattr(request.config, "cache", None)
    if cache is None:  # pytest -p no:cacheprovider
        pytest.skip("needs pytest's cache folder to keep the Colab-like Python between runs")
    venv = Path(cache.mkdir("colab-python")) / key
    if not (venv / "ready").exists():
        shutil.rmtree(venv, ignore_errors=True)
        building = venv.with_name(key + ".building")
        shutil.rmtree(building, ignore_errors=True)
        try:
            subprocess.run(
                [sys.executable, "-m", "venv", str(building)],
                check=True,
                capture_output=True,
                timeout=BUILD_TIMEOUT_SECONDS,
            )
            subprocess.run(
                [
                    str(building / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--no-compile",
                    "--disable-pip-version-check",
                    *COLAB_PACKAGES,
                ],
                check=True,
                capture_output=True,
                text=True,
                timeout=BUILD_TIMEOUT_SECONDS,
            )
        except (OSError, subprocess.SubprocessError) as err:
            shutil.rmtree(building, ignore_errors=True)
            pytest.skip(f"could not build a Colab-like Python from PyPI: {getattr(err, 'stderr', '') or err}")
        (building / "ready").write_text(" ".join(COLAB_PACKAGES))
        building.rename(venv)  # venvs record their path only in bin/ scripts, which we do not use
    return venv


@pytest.fixture
def colab_python(colab_base_python, tmp_path) -> Path:
    """A fresh venv on top of the cached one: what the cell installs lands here, once per test."""
    venv = tmp_path / "colab-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = _site_packages(venv)
    (site / "colab_base.pth").write_text(str(_site_packages(colab_base_python)) + "\n")
    (site / "google" / "colab").mkdir(parents=True)
    (site / "google" / "colab" / "__init__.py").write_text('"""Stand-in for Colab\'s google.colab."""\n')
    (site / "google" / "colab" / "drive.py").write_text(FAKE_DRIVE)
    return venv / "bin" / "python"


@pytest.fixture
def cifar10_mirror(tmp_path):
    """A small synthetic cifar-10-python.tar.gz served on 127.0.0.1: (url, md5)."""
    from data.get_cifar10 import make_synthetic_cifar10

    batch_dir = make_synthetic_cifar10(tmp_path / "mirror-src", 500, 100, seed=0)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        tar.add(batch_dir, arcname="cifar-10-batches-py")
    payload = archive.getvalue()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/cifar-10-python.tar.gz", hashlib.md5(payload).hexdigest()
    server.shutdown()


def requirement_names() -> set[str]:
    """The distribution names requirements.txt lists."""
    names = set()
    for line in (REPO / "requirements.txt").read_text().splitlines():
        name = re.match(r"[A-Za-z0-9_.-]*", line.split("#")[0].strip()).group()
        if name:
            names.add(name.lower())
    return names


def copy_kit(destination: Path) -> None:
    shutil.copytree(REPO, destination, ignore=shutil.ignore_patterns(*NOT_UPLOADED, *NOT_UPLOADED_FILES))


def cell_by_id(notebook, cell_id: str):
    return next(cell for cell in notebook.cells if cell.get("id") == cell_id)


def test_the_colab_cell_is_short_and_says_it_does_nothing_elsewhere():
    notebook = nbformat.read(REPO / "assignment.ipynb", as_version=4)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    lines = first.source.splitlines()
    assert first.get("id") == "colab" and len(lines) <= MAX_COLAB_CELL_LINES, f"{len(lines)} lines:\n{first.source}"
    assert "Colab" in lines[0] and "anywhere else it does nothing" in lines[0], lines[0]
    for word in ("instructor", "playwright", "jupytext", "pip install"):
        assert word not in first.source.lower(), f"the Colab cell mentions {word!r}"


def test_colab_installs_only_the_kits_requirements(tmp_path):
    from kit import colab

    requirements = tmp_path / "requirements.txt"
    requirements.write_text("numpy>=1.24\njupyter>=1.0  # the front-end\n-r other.txt\nno-such-package-here>=1\n")
    assert colab.missing_requirements(requirements) == ["no-such-package-here>=1"]


@pytest.mark.slow
def test_first_cell_prepares_colab_from_the_drive(colab_python, cifar10_mirror, tmp_path, monkeypatch):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    my_drive, content = tmp_path / "gdrive", tmp_path / "content"
    content.mkdir()
    for folder in (KIT_UNDER_DRIVE, OTHER_COPY):
        copy_kit(my_drive / folder)
    (my_drive / "Colab Notebooks").mkdir()  # not a kit: no classifiers/ there
    (my_drive / "Colab Notebooks" / "assignment.ipynb").write_text("{}")
    kit = my_drive / KIT_UNDER_DRIVE

    url, md5 = cifar10_mirror
    for name in ("CIFAR10_DIR", "PYTHONPATH", "VIRTUAL_ENV", "SOFTMAX_KIT_COLAB_START"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FAKE_MY_DRIVE", str(my_drive))
    monkeypatch.setenv("CIFAR10_URL", url)
    monkeypatch.setenv("CIFAR10_MD5", md5)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    spec_dir = tmp_path / "jupyter" / "kernels" / "colab-like"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(colab_python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Colab-like",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))

    notebook = nbformat.read(kit / "assignment.ipynb", as_version=4)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert first.get("id") == "colab", "the Colab cell must be the first code cell"
    client = NotebookClient(
        notebook, timeout=CELL_TIMEOUT_SECONDS, kernel_name="colab-like", resources={"metadata": {"path": str(content)}}
    )

    def run(source: str) -> str:
        cell = nbformat.v4.new_code_cell(source)
        client.execute_cell(cell, 0)
        return "".join(output.get("text", "") for output in cell.outputs)

    with client.setup_kernel():
        # Two copies of the kit: the cell names both and the parameter that picks one.
        with pytest.raises(CellExecutionError) as several:
            client.execute_cell(first, 0)
        for folder in (KIT_UNDER_DRIVE, OTHER_COPY):
            assert f"colab_kit_folder = {folder!r}" in str(several.value), str(several.value)[-2000:]

        # The student names one; the cell prepares it.
        first.source = first.source.replace("colab_kit_folder = None", f"colab_kit_folder = {KIT_UNDER_DRIVE!r}", 1)
        assert KIT_UNDER_DRIVE in first.source
        client.execute_cell(first, 0)
        state = json.loads(
            run(
                "import importlib.metadata as _m, json as _j, os as _os, sys as _sys\n"
                "def _has(name):\n"
                "    try:\n"
                "        return bool(_m.version(name))\n"
                "    except _m.PackageNotFoundError:\n"
                "        return False\n"
                "print(_j.dumps({'cwd': _os.getcwd(), 'path0': _sys.path[0], "
                f"'mounted': _os.path.realpath({str(content / 'drive' / 'MyDrive')!r}), "
                f"'installed': [n for n in {sorted(requirement_names())!r} if _has(n)]}}))"
            )
        )
        assert Path(state["cwd"]).resolve() == kit.resolve() == Path(state["path0"]).resolve(), state
        assert Path(state["mounted"]) == my_drive.resolve(), "the Drive was not mounted under the kernel's start folder"
        lacking = sorted(requirement_names() - NOT_FOR_COLAB - set(COLAB_PACKAGES))
        assert lacking and set(lacking) >= {"hypothesis", "nbclient"}, lacking
        assert sorted(set(state["installed"]) - set(COLAB_PACKAGES)) == lacking, (
            f"the cell should install exactly what Colab lacks, not {sorted(NOT_FOR_COLAB)}: {state['installed']}"
        )
        assert (kit / "data" / "cifar-10-batches-py" / "data_batch_1").exists(), "CIFAR-10 was not fetched into data/"

        # A re-run (it now starts inside the kit) changes nothing and fails on nothing.
        client.execute_cell(first, 0)
        assert Path(json.loads(run("import os, json; print(json.dumps(os.getcwd()))"))).resolve() == kit.resolve()

        # The notebook's own set-up and data cells now work from the Drive copy.
        for cell_id in ("setup", "parameters"):
            client.execute_cell(cell_by_id(notebook, cell_id), 0)
        run("num_training, num_validation, num_test, num_dev = 400, 100, 100, 50")
        load = cell_by_id(notebook, "load-data")
        client.execute_cell(load, 0)
        shown = json.dumps([output.get("data", output.get("text")) for output in load.outputs])
        assert "SYNTHETIC DATA" in shown and "!python data/get_cifar10.py" in shown and ".venv" not in shown, shown

        # Without data, the message tells a Colab user what works in Colab.
        run(f"cifar10_dir = {str(tmp_path / 'empty')!r}")
        with pytest.raises(CellExecutionError) as missing:
            client.execute_cell(load, 0)
        message = missing.value.evalue  # the error's own text, not the cell's source
        assert "first code cell again" in message and ".venv/bin/python" not in message, message
