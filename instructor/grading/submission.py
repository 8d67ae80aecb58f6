"""Read a submission: a folder or a zip, in whatever shape students hand it in.

The graded files are found by path (`classifiers/softmax.py`), by path
ending (`my-kit/classifiers/softmax.py`) or by name as students and their
browsers spell it: `softmax.py`, `Softmax.py`, `softmax (1).py`,
`softmax-1.py`, in any folder. Mac and Jupyter leftovers are ignored. A
missing or oversized graded file is graded as the kit's stub and noted.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path, PurePosixPath

MAX_FILE_BYTES = 50 * 2**20  # no graded source file is anywhere near this
IGNORED_PARTS = ("__MACOSX", ".ipynb_checkpoints", "__pycache__", ".venv", ".git")
# "softmax (1).py", "softmax-1.py", "softmax copy.py": a browser's or a file manager's copy.
COPY_SUFFIX = re.compile(r"(\s*\(\d+\)|-\d+|\s+copy(\s*\d+)?)$", re.IGNORECASE)


class SubmissionError(ValueError):
    """The submission cannot be read at all."""


def canonical_name(name: str) -> str:
    """`Softmax (1).py` -> `softmax.py`: how a downloaded or copied file's name is matched."""
    stem, dot, suffix = PurePosixPath(name).name.rpartition(".")
    if not dot:
        stem, suffix = suffix, ""
    return (COPY_SUFFIX.sub("", stem.strip()) + dot + suffix).lower()


def _usable(entry: str) -> bool:
    parts = PurePosixPath(entry).parts
    return not any(part in IGNORED_PARTS or part.startswith("._") for part in parts)


def pick(entries: list[str], wanted: str) -> str | None:
    """The entry that is the graded file `wanted`: by path, by path ending, then by canonical name."""
    entries = [e for e in entries if _usable(e)]
    if wanted in entries:
        return wanted
    for matches in (
        [e for e in entries if e.endswith("/" + wanted)],
        [e for e in entries if PurePosixPath(e).name == PurePosixPath(wanted).name],
        [e for e in entries if canonical_name(e) == canonical_name(wanted)],
    ):
        if matches:
            return min(matches, key=lambda e: (e.count("/"), len(e), e))
    return None


def read_submission(path: Path, graded_files: list[str]) -> tuple[dict[str, bytes], list[str]]:
    """The graded files found in `path` (a folder or a zip), and notes about them."""
    if path.is_dir():
        found = {p.relative_to(path).as_posix(): p for p in path.rglob("*") if p.is_file() and not p.is_symlink()}
        read = lambda entry: found[entry].read_bytes()
        size = lambda entry: found[entry].stat().st_size
    elif path.is_file() and zipfile.is_zipfile(path):
        try:
            archive = zipfile.ZipFile(path)
            infos = {i.filename: i for i in archive.infolist() if not i.is_dir()}
        except (zipfile.BadZipFile, OSError) as err:
            raise SubmissionError(f"{path}: a damaged zip file ({err})") from err
        found = infos
        read = lambda entry: archive.read(infos[entry])
        size = lambda entry: infos[entry].file_size
    elif path.exists():
        raise SubmissionError(f"{path}: expected a folder or a zip file")
    else:
        raise SubmissionError(f"{path}: no such file or folder")
    files, notes = {}, []
    for wanted in graded_files:
        entry = pick(list(found), wanted)
        if entry is None:
            notes.append(f"{wanted} is missing from the submission: the kit's unimplemented version was graded")
        elif size(entry) > MAX_FILE_BYTES:
            notes.append(
                f"{wanted} ({entry}) is larger than {MAX_FILE_BYTES // 2**20} MB: "
                "the kit's unimplemented version was graded"
            )
        else:
            try:
                files[wanted] = read(entry)
            except (zipfile.BadZipFile, OSError, RuntimeError) as err:  # RuntimeError: an encrypted entry
                notes.append(
                    f"{wanted} ({entry}) could not be read ({err}): the kit's unimplemented version was graded"
                )
                continue
            if PurePosixPath(entry).name != PurePosixPath(wanted).name:
                notes.append(f"{wanted} was found as {entry}")
    return files, notes


def display_names(paths: list[Path]) -> list[str]:
    """Unique names for submissions: each path relative to their common folder ('alice/submission.zip')."""
    resolved = [p.resolve() for p in paths]
    if len(resolved) == 1:
        return [resolved[0].name]
    common = Path(*_common_parts([p.parts for p in resolved]))
    names = [p.relative_to(common).as_posix() if p != common else p.name for p in resolved]
    return names


def _common_parts(parts_list: list[tuple[str, ...]]) -> tuple[str, ...]:
    common = []
    for level in zip(*parts_list):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return tuple(common) or ("/",)
