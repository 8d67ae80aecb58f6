"""Google Colab set-up: work from the kit's folder on your Drive, with what Colab lacks installed.

The notebook's first code cell mounts your Drive, finds a copy of this file
there, and calls

    prepare(start, colab_kit_folder)

which picks the kit's folder (the one named, or the only one holding
assignment.ipynb and classifiers/), works from it (so your changes to
classifiers/*.py are saved on your Drive), installs the kit's requirements
that Colab does not have, and fetches CIFAR-10 into the kit's data/ once.
Outside Colab the cell never imports this module: it does nothing there.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

# Folders below MyDrive to look in for the kit: Drive lists folders slowly.
KIT_SEARCH_DEPTH = 3
# Requirements Colab must not install: Colab is the notebook front-end itself.
NOT_FOR_COLAB = {"jupyter"}
REQUIREMENT_NAME = re.compile(r"[A-Za-z0-9_.-]*")


def is_kit(folder: Path) -> bool:
    return (folder / "assignment.ipynb").is_file() and (folder / "classifiers").is_dir()


def find_kit(my_drive: Path, colab_kit_folder: str | None = None) -> Path:
    """The kit's folder under MyDrive: the one named, or the only one there is.

    Raises FileNotFoundError saying what to do when the named folder is not a
    kit, when there is none, or when there are several (listing them).
    """
    if colab_kit_folder:
        kit = my_drive / colab_kit_folder
        if not is_kit(kit):
            raise FileNotFoundError(
                f"colab_kit_folder = {colab_kit_folder!r}: that folder under MyDrive does not hold the kit "
                "(assignment.ipynb and classifiers/)"
            )
        return kit
    kits = sorted(
        {
            notebook.parent
            for depth in range(KIT_SEARCH_DEPTH + 1)
            for notebook in my_drive.glob("*/" * depth + "assignment.ipynb")
            if is_kit(notebook.parent)
        }
    )
    if len(kits) == 1:
        return kits[0]
    if not kits:
        raise FileNotFoundError(
            f"no folder under MyDrive (up to {KIT_SEARCH_DEPTH} folders deep) holds assignment.ipynb and "
            'classifiers/: upload the kit\'s whole folder to your Drive (README, "Working in Google Colab")'
        )
    choices = "\n".join(f"    colab_kit_folder = {str(kit.relative_to(my_drive))!r}" for kit in kits)
    raise FileNotFoundError(
        f"{len(kits)} copies of the kit under MyDrive: name the one to use at the top of this cell, e.g.\n{choices}"
    )


def missing_requirements(requirements: Path) -> list[str]:
    """The lines of requirements.txt whose package is not installed here (Colab's own versions stay)."""
    missing = []
    for line in requirements.read_text(encoding="utf-8").splitlines():
        requirement = line.split("#")[0].strip()
        name = REQUIREMENT_NAME.match(requirement).group()
        if not name or name.lower() in NOT_FOR_COLAB or requirement.startswith("-"):
            continue
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(requirement)
    return missing


def _work_from(kit: Path) -> None:
    """Make `kit` the current folder and the first place imports look (the notebook's paths start there)."""
    os.chdir(kit)
    if str(kit) not in sys.path:
        sys.path.insert(0, str(kit))
    # The cell imported this module from the first copy it found; another copy's
    # modules must not stand in for the chosen kit's.
    for name in [name for name in sys.modules if name == "kit" or name.startswith("kit.")]:
        module_file = getattr(sys.modules[name], "__file__", None) or ""
        if not Path(module_file).resolve().is_relative_to(kit.resolve()):
            del sys.modules[name]


def prepare(start: str | os.PathLike, colab_kit_folder: str | None = None) -> Path:
    """Set Colab up for the kit on the Drive mounted at `start`/drive; return the kit's folder."""
    kit = find_kit(Path(start) / "drive" / "MyDrive", colab_kit_folder)
    _work_from(kit)
    missing = missing_requirements(kit / "requirements.txt")
    if missing:
        print("installing", ", ".join(missing))
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *missing], check=True)
    if not os.environ.get("CIFAR10_DIR") and not (kit / "data" / "cifar-10-batches-py").is_dir():
        # About 170 MB into the kit's data/ on your Drive, once; checked and resumable.
        subprocess.run([sys.executable, "data/get_cifar10.py"], check=True)
    print(f"Colab: working in {kit}")
    return kit
