"""Tests for kit/kernel.py: each copy of the kit has its own kernel, named in its notebooks.

The kernel is registered under a temporary prefix standing in for .venv, and
the per-user folder is a temporary one too: these tests never touch the
machine's own Jupyter set-up.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from kit import kernel

KIT = Path(__file__).resolve().parent.parent


def test_the_display_name_says_which_copy_of_the_kit_it_is(tmp_path, monkeypatch):
    monkeypatch.setattr(Path, "home", lambda: tmp_path)
    assert kernel.display_name(tmp_path / "courses" / "softmax-kit") == "Python (softmax kit, ~/courses/softmax-kit)"
    elsewhere = Path("/opt/kits/ta-copy")
    assert kernel.display_name(elsewhere) == f"Python (softmax kit, {elsewhere.resolve()})"
    assert kernel.display_name() == "Python (softmax kit)"  # the released notebooks, before setup.sh


def test_the_kernel_is_registered_under_the_prefix_with_this_copys_name(tmp_path):
    folder = kernel.register(tmp_path / "kit", prefix=tmp_path / "venv")
    assert folder == tmp_path / "venv" / "share" / "jupyter" / "kernels" / kernel.KERNEL_NAME
    spec = json.loads((folder / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable and spec["language"] == "python"
    assert spec["display_name"] == kernel.display_name(tmp_path / "kit")


def test_setting_up_one_copy_leaves_anothers_kernel_alone(tmp_path):
    first = kernel.register(tmp_path / "kit-a", prefix=tmp_path / "venv-a")
    kernel.register(tmp_path / "kit-b", prefix=tmp_path / "venv-b")
    assert json.loads((first / "kernel.json").read_text())["display_name"] == kernel.display_name(tmp_path / "kit-a")


def test_the_venvs_own_jupyter_looks_in_the_venv_first():
    from jupyter_core.paths import jupyter_path

    if sys.prefix == sys.base_prefix:
        pytest.skip("not running in a virtual environment")
    assert Path(jupyter_path("kernels")[0]) == Path(sys.prefix) / "share" / "jupyter" / "kernels"


def user_kernel(data_dir: Path, python: str) -> Path:
    folder = data_dir / "kernels" / kernel.KERNEL_NAME
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(json.dumps({"argv": [python, "-m", "ipykernel_launcher"]}))
    return folder


def test_this_copys_old_per_user_kernel_is_removed_and_no_other(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "user"))
    ours = user_kernel(tmp_path / "user", sys.executable)
    assert kernel.forget_user_registration() == ours and not ours.exists()
    theirs = user_kernel(tmp_path / "user", "/elsewhere/softmax-kit/.venv/bin/python")
    assert kernel.forget_user_registration() is None and theirs.exists()


def test_notebook_metadata_is_what_jupyterlab_writes_for_this_kernel(tmp_path):
    from ipykernel.ipkernel import IPythonKernel

    metadata = kernel.notebook_metadata(tmp_path)
    # JupyterLab sets kernelspec to exactly these three keys, and language_info to what the kernel reports.
    assert metadata["kernelspec"] == {
        "display_name": kernel.display_name(tmp_path),
        "language": "python",
        "name": kernel.KERNEL_NAME,
    }
    assert metadata["language_info"] == IPythonKernel.language_info


def test_fitting_the_notebooks_changes_their_metadata_once_and_nothing_else(tmp_path):
    for name in kernel.NOTEBOOKS:
        shutil.copy(KIT / name, tmp_path / name)
    metadata = kernel.notebook_metadata(tmp_path)
    assert kernel.fit_notebooks(tmp_path, metadata) == list(kernel.NOTEBOOKS)
    assert kernel.fit_notebooks(tmp_path, metadata) == [], "a second set-up rewrote the notebooks"
    for name in kernel.NOTEBOOKS:
        before, after = json.loads((KIT / name).read_text()), json.loads((tmp_path / name).read_text())
        assert after["cells"] == before["cells"]
        assert {key: after["metadata"][key] for key in metadata} == metadata
