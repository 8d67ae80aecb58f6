"""Read a submission: a folder, a zip, or part of a class export, in whatever shape students hand it in.

The graded files are found by path (`classifiers/softmax.py`), by path
ending (`my-kit/classifiers/softmax.py`) or by name as students and their
browsers spell it: `softmax.py`, `Softmax.py`, `softmax (1).py`,
`softmax-1.py`, in any folder. Mac and Jupyter leftovers are ignored. When
two files could be the same graded file, the closest match is graded and
the other named in a note. A missing or oversized graded file is graded as
the kit's stub and noted.

No silent zeros: a submission in which no graded file is found is opened
if it holds an archive (the `submission.zip` that `python submit.py`
writes, left unextracted in a student's folder or uploaded to Gradescope as
it is); if that holds none either, SubmissionError says what was expected
and what was found, and the submission is not graded.

Nothing is extracted to disk: a submission is a `Tree` of names and their
bytes (a folder, a zip, a part of an export zip, a zip inside those), and
only the graded files' bytes are read, each at most MAX_FILE_BYTES.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

MAX_FILE_BYTES = 50 * 2**20  # no graded source file is anywhere near this
MAX_ARCHIVE_BYTES = 200 * 2**20  # a submission.zip inside a submission (a kit with its data is far smaller)
LISTED_NAMES = 8  # names of a submission's files shown when none is a graded file
IGNORED_PARTS = ("__MACOSX", ".ipynb_checkpoints", "__pycache__", ".venv", ".git")
# "softmax (1).py", "softmax-1.py", "softmax copy.py": a browser's or a file manager's copy.
COPY_SUFFIX = re.compile(r"(\s*\(\d+\)|-\d+|\s+copy(\s*\d+)?)$", re.IGNORECASE)
ARCHIVE = "submission.zip"  # what submit.py writes: opened when nothing beside it is graded
OTHER_ARCHIVES = (".tar", ".tar.gz", ".tgz", ".rar", ".7z")  # named when found, not opened


class SubmissionError(ValueError):
    """The submission cannot be graded: unreadable, or no graded file in it. The message says why."""


class TooLarge(OSError):
    """A file is larger than the reader allows."""


class Tree:
    """A submission's files: names (POSIX paths) -> size and bytes; `label` says where they are."""

    def __init__(self, label: str, sizes: dict[str, int], reader: Callable[[str, int], bytes], notes=()):
        self.label = label
        self.sizes = sizes
        self._reader = reader
        self.notes = list(notes)  # what reading the listing found odd (duplicate names)

    def names(self) -> list[str]:
        return list(self.sizes)

    def read(self, name: str, limit: int = MAX_FILE_BYTES) -> bytes:
        """The bytes of `name`; TooLarge past `limit` (whatever the listing claims)."""
        if self.sizes[name] > limit:
            raise TooLarge(f"{name} is larger than {limit // 2**20} MB")
        data = self._reader(name, limit + 1)
        if len(data) > limit:
            raise TooLarge(f"{name} is larger than {limit // 2**20} MB")
        return data


def folder_tree(path: Path, label: str | None = None) -> Tree:
    """The regular files under `path` (symbolic links are not followed)."""
    found = {}
    for p in sorted(path.rglob("*")):
        relative = p.relative_to(path)
        linked = p.is_symlink() or any((path / q).is_symlink() for q in relative.parents)
        if p.is_file() and not linked:
            found[relative.as_posix()] = p

    def read(name: str, limit: int) -> bytes:
        with open(found[name], "rb") as handle:
            return handle.read(limit)

    return Tree(label or str(path), {name: p.stat().st_size for name, p in found.items()}, read)


def zip_tree(
    source: Path | bytes, label: str, members: dict[str, zipfile.ZipInfo] | None = None, prefix: str = ""
) -> Tree:
    """The files of a zip (a path, or the bytes of a zip inside another): all of them, those under
    `prefix` (named without it), or exactly `members` (name -> entry). A damaged zip: SubmissionError."""
    notes: list[str] = []
    if members is None:
        members, notes = _members(source, label, prefix)

    def read(name: str, limit: int) -> bytes:
        with _open_zip(source) as archive, archive.open(members[name]) as handle:
            return handle.read(limit)

    return Tree(label, {name: info.file_size for name, info in members.items()}, read, notes)


def nested_zip_tree(outer: Tree, name: str, label: str) -> Tree:
    """The zip `name` inside `outer`, listed now and read again from `outer` for each file read, so
    that a class of zipped submissions is never held in memory at once."""
    members, notes = _members(outer.read(name, MAX_ARCHIVE_BYTES), label, "")

    def read(member: str, limit: int) -> bytes:
        with _open_zip(outer.read(name, MAX_ARCHIVE_BYTES)) as archive, archive.open(members[member]) as handle:
            return handle.read(limit)

    return Tree(label, {member: info.file_size for member, info in members.items()}, read, notes)


def _members(source: Path | bytes, label: str, prefix: str) -> tuple[dict[str, zipfile.ZipInfo], list[str]]:
    """The regular files of a zip under `prefix` (named without it), and notes on what was skipped."""
    try:
        with _open_zip(source) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise SubmissionError(f"{label}: a damaged zip file ({err})") from err
    members: dict[str, zipfile.ZipInfo] = {}
    counts: dict[str, int] = {}
    notes = []
    for info in infos:
        if info.is_dir() or not info.filename.startswith(prefix) or _is_link(info):
            continue
        name = info.filename[len(prefix) :]
        if not safe_name(name):
            notes.append(f"{label}: {name!r} is not a safe file name (absolute, or with ..): skipped")
            continue
        counts[name] = counts.get(name, 0) + 1
        members[name] = info  # the last of entries with one name, as unzip does
    notes += [f"{label} holds {n} entries named {name}: the last was read" for name, n in counts.items() if n > 1]
    return members, notes


def _open_zip(source: Path | bytes) -> zipfile.ZipFile:
    """A new handle for each read: grading threads never share one."""
    if isinstance(source, bytes):
        return zipfile.ZipFile(io.BytesIO(source))
    return zipfile.ZipFile(source)


def safe_name(name: str) -> bool:
    """A relative name that stays where it is: not absolute, no `..`, no drive or backslash."""
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and "\\" not in name and ":" not in name


def _is_link(info: zipfile.ZipInfo) -> bool:
    return (info.external_attr >> 16) & 0o170000 == 0o120000  # S_IFLNK: a symbolic link stored in the zip


def as_tree(path: Path | Tree) -> Tree:
    """A Tree for a folder or a zip file (a Tree is returned as it is); SubmissionError otherwise."""
    if isinstance(path, Tree):
        return path
    if path.is_dir():
        return folder_tree(path)
    if path.is_file() and zipfile.is_zipfile(path):
        return zip_tree(path, str(path))
    if path.is_file() and path.suffix.lower() == ".zip":
        raise SubmissionError(f"{path}: not a readable zip file (damaged, or a download cut short?)")
    if path.exists():
        raise SubmissionError(f"{path}: expected a folder or a zip file")
    raise SubmissionError(f"{path}: no such file or folder")


def canonical_name(name: str) -> str:
    """`Softmax (1).py` -> `softmax.py`: how a downloaded or copied file's name is matched."""
    stem, dot, suffix = PurePosixPath(name).name.rpartition(".")
    if not dot:
        stem, suffix = suffix, ""
    return (COPY_SUFFIX.sub("", stem.strip()) + dot + suffix).lower()


def usable(entry: str) -> bool:
    """Not a Mac or Jupyter leftover, a cache or an environment."""
    parts = PurePosixPath(entry).parts
    return not any(part in IGNORED_PARTS or part.startswith("._") for part in parts)


def candidates(entries: list[str], wanted: str) -> list[str]:
    """The entries that could be the graded file `wanted`, best first: by path, path ending, then name."""
    entries = [e for e in entries if usable(e)]
    ranked = []
    for matches in (
        [e for e in entries if e == wanted],
        [e for e in entries if e.endswith("/" + wanted)],
        [e for e in entries if PurePosixPath(e).name == PurePosixPath(wanted).name],
        [e for e in entries if canonical_name(e) == canonical_name(wanted)],
    ):
        ranked += sorted((m for m in matches if m not in ranked), key=lambda e: (e.count("/"), len(e), e))
    return ranked


def pick(entries: list[str], wanted: str) -> str | None:
    """The entry that is the graded file `wanted`, or None."""
    found = candidates(entries, wanted)
    return found[0] if found else None


def read_submission(path: Path | Tree, graded_files: list[str]) -> tuple[dict[str, bytes], list[str]]:
    """The graded files found in `path` (a folder, a zip or a Tree), and notes about them.

    SubmissionError if it cannot be read, or if no graded file is in it nor in an archive in it.
    """
    tree = as_tree(path)
    files, notes = _read_graded(tree, graded_files)
    if files:
        return files, tree.notes + notes
    for archive in _archives(tree):
        try:
            inner = zip_tree(tree.read(archive, MAX_ARCHIVE_BYTES), f"{archive} in {tree.label}")
        except (SubmissionError, OSError, zipfile.BadZipFile, RuntimeError) as err:
            notes.append(f"{archive} could not be opened ({err})")
            continue
        files, inner_notes = _read_graded(inner, graded_files)
        if files:
            return files, [*tree.notes, *inner.notes, f"graded the files inside {archive}", *inner_notes]
    listing = [n for n in tree.names() if usable(n)]
    shown = ", ".join(listing[:LISTED_NAMES]) + (" ..." if len(listing) > LISTED_NAMES else "") or "nothing"
    unopened = [n for n in listing if n.lower().endswith(OTHER_ARCHIVES)]
    if unopened:
        notes.append(f"{', '.join(unopened[:LISTED_NAMES])}: only zip files are opened (ask for the files or a zip)")
    raise SubmissionError(
        f"no graded file in it (expected {', '.join(PurePosixPath(g).name for g in graded_files)}, "
        f"or the {ARCHIVE} that submit.py writes); it holds: {shown}" + (f" ({'; '.join(notes)})" if notes else "")
    )


def _archives(tree: Tree) -> list[str]:
    """The zip files in a submission, submit.py's submission.zip (or a copy of it) first."""
    zips = [n for n in tree.names() if usable(n) and n.lower().endswith(".zip")]
    return sorted(zips, key=lambda n: (canonical_name(n) != ARCHIVE, n.count("/"), n))


def _read_graded(tree: Tree, graded_files: list[str]) -> tuple[dict[str, bytes], list[str]]:
    files, notes, missing = {}, [], []
    names = tree.names()
    for wanted in graded_files:
        found = candidates(names, wanted)
        if not found:
            missing.append(wanted)
            continue
        entry = found[0]
        if len(found) > 1:
            notes.append(
                f"{len(found)} files could be {wanted} ({', '.join(found[:LISTED_NAMES])}): {entry} was graded"
            )
        try:
            files[wanted] = tree.read(entry)
        except TooLarge:
            notes.append(
                f"{wanted} ({entry}) is larger than {MAX_FILE_BYTES // 2**20} MB: "
                "the kit's unimplemented version was graded"
            )
            continue
        except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as err:  # RuntimeError: an encrypted entry
            notes.append(f"{wanted} ({entry}) could not be read ({err}): the kit's unimplemented version was graded")
            continue
        if PurePosixPath(entry).name != PurePosixPath(wanted).name:
            notes.append(f"{wanted} was found as {entry}")
    if files:  # with nothing found, the caller looks inside archives or gives up: no notes of missing files yet
        notes += [
            f"{wanted} is missing from the submission: the kit's unimplemented version was graded" for wanted in missing
        ]
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
