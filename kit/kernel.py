"""The kit's Jupyter kernel: registered inside this copy's .venv, and named in its notebooks.

    .venv/bin/python -m kit.kernel      # setup.sh runs this

- It registers the kernel `softmax-kit` inside .venv (ipykernel's
  `--sys-prefix`), where the .venv's own Jupyter looks first: each copy of
  the kit (a student's, a TA's, the instructor's repository) has its own,
  and setting one up never takes over another's.
- Its display name says which copy it is: `Python (softmax kit, ~/cs231n/softmax-kit)`.
- It removes this copy's kernel from the per-user folder, where an older
  setup.sh registered it.
- It writes that kernel into the kit's notebooks, as JupyterLab 4, Notebook 7
  and VS Code write it on save: `kernelspec` (name, display name, language)
  and `language_info` (what the kernel says of its Python, down to the
  version). A notebook that lacks them, or holds others, shows as modified
  the moment it opens. (Not in the instructor's repository, whose notebooks
  are written from their sources.)
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent
KERNEL_NAME = "softmax-kit"
# The display name without a folder: the released notebooks carry it until setup.sh names the copy.
DISPLAY_NAME = "Python (softmax kit)"
NOTEBOOKS = ("assignment.ipynb", "derivation.ipynb")
INSTRUCTOR_FOLDER = "instructor"  # only the instructor's repository has it


def display_name(kit: Path | None = None) -> str:
    """`Python (softmax kit, ~/path/to/kit)`: the kernel's name in Jupyter's menus, saying which copy it runs."""
    if kit is None:
        return DISPLAY_NAME
    folder = str(kit.resolve())
    home = str(Path.home())
    if folder == home or folder.startswith(home + os.sep):
        folder = "~" + folder[len(home) :]
    return f"{DISPLAY_NAME[:-1]}, {folder})"


def language_info() -> dict:
    """What this Python's IPython kernel reports of its language, as JupyterLab saves it."""
    from ipykernel.ipkernel import IPythonKernel

    return json.loads(json.dumps(IPythonKernel.language_info))  # a plain copy


def notebook_metadata(kit: Path | None = None) -> dict:
    """The `kernelspec` and `language_info` a notebook of `kit` holds once JupyterLab has run it here."""
    return {
        "kernelspec": {"display_name": display_name(kit), "language": "python", "name": KERNEL_NAME},
        "language_info": language_info(),
    }


def with_metadata(text: str, metadata: dict) -> str:
    """The notebook `text` (JSON) with `metadata` set, written as nbformat writes it."""
    import nbformat

    notebook = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
    notebook.metadata.update(json.loads(json.dumps(metadata)))
    return nbformat.writes(notebook)


def fit_notebooks(kit: Path, metadata: dict) -> list[str]:
    """Write `metadata` into the kit's notebooks where it differs; return the ones written."""
    written = []
    for name in NOTEBOOKS:
        path = kit / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        fitted = with_metadata(text, metadata)
        if json.loads(fitted)["metadata"] != json.loads(text)["metadata"]:
            path.write_text(fitted, encoding="utf-8")
            written.append(name)
    return written


def register(kit: Path, prefix: str | os.PathLike = sys.prefix) -> Path:
    """Register this Python as the kernel `softmax-kit` under `prefix` (the .venv); return its folder."""
    from ipykernel.kernelspec import install

    return Path(install(kernel_name=KERNEL_NAME, display_name=display_name(kit), prefix=str(prefix)))


def forget_user_registration(python: str = sys.executable) -> Path | None:
    """Remove the per-user `softmax-kit` kernel if it runs `python` (an older setup.sh put it there).

    A per-user kernel of another copy of the kit is left alone: it is not ours,
    and this copy's own kernel, inside its .venv, comes first for its Jupyter.
    """
    from jupyter_core.paths import jupyter_data_dir

    folder = Path(jupyter_data_dir()) / "kernels" / KERNEL_NAME
    try:
        argv = json.loads((folder / "kernel.json").read_text(encoding="utf-8")).get("argv", [])
    except (OSError, ValueError):
        return None
    if argv and os.path.abspath(argv[0]) == os.path.abspath(python):
        shutil.rmtree(folder)
        return folder
    return None


def main() -> int:
    kit = KIT_ROOT
    folder = register(kit)
    where = folder.relative_to(kit) if folder.is_relative_to(kit) else folder
    print(f"kernel '{display_name(kit)}' ({KERNEL_NAME}) in {where}: it runs {sys.executable}")
    old = forget_user_registration()
    if old is not None:
        print(f"removed this copy's older per-user kernel from {old}")
    if (kit / INSTRUCTOR_FOLDER).is_dir():
        return 0  # the instructor's notebooks are written from their sources (instructor/notebook_source.py)
    written = fit_notebooks(kit, notebook_metadata(kit))
    if written:
        print(f"named it in {', '.join(written)}, so JupyterLab opens them unmodified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
