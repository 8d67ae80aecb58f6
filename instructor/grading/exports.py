"""A class's submissions as an LMS exports them: who each student is, and which files to grade.

    export = open_export(Path("export.zip"), graded_files)   # or its unzipped folder
    for entry in export.entries:  # one per student: entry.student, entry.tree (their files)
        ...
    export.problems  # everything unexpected, each in one line: nothing is dropped silently

Layouts, recognised from the files themselves (a zip or a folder):

- **Gradescope** ("Download Submissions"): `submission_metadata.yml` (at the
  top or in one top folder) and one folder per submission,
  `submission_123456789/`, holding the files as the student uploaded them.
  The metadata is Ruby-style YAML (`:submitters:` with `:name:`, `:sid:`,
  `:email:`; `:created_at:`), read with PyYAML's `safe_load` (Ruby's
  `!ruby/...` tags, when present, as plain data by a SafeLoader that knows
  them). A group submission gives each member a row. A student in several
  submissions is graded once, with the latest (`:created_at:`).
- **Canvas** ("Download Submissions"): one flat zip of files renamed
  `name_userid_submissionid_ORIGINAL` (`name_LATE_userid_...` when late;
  Canvas adds `-1`, `-2` to a name uploaded again). Grouped by user id; where
  two files are the same graded file, the one of the latest submission
  (the larger submission id) is graded.
- **A folder per student** (or a zip of them), each holding the student's
  files or the `submission.zip` that submit.py writes (opened by
  submission.py). Recognised only when the path is the only one given, has no
  graded file of its own, and at least two of its folders or zips hold one.
- Anything else is **one submission** (a student's kit, a flat upload, a
  submission.zip): what the grader always graded.

Nothing is extracted: each entry's files are a submission.Tree over the
export, so a hostile name (`../../x`, an absolute path, a link) is only ever
a name, and sizes are bounded where the bytes are read.
"""

from __future__ import annotations

import datetime
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from instructor.grading.submission import (
    SubmissionError,
    Tree,
    as_tree,
    canonical_name,
    folder_tree,
    nested_zip_tree,
    pick,
    usable,
    zip_tree,
)

METADATA = "submission_metadata.yml"  # Gradescope's export: who made each submission, and when
MAX_METADATA_BYTES = 50 * 2**20  # a class of thousands writes a few MB
# Canvas: name[_LATE]_userid_submissionid_originalname (the name is Canvas's, e.g. "lovelaceada").
CANVAS_NAME = re.compile(r"^(?P<name>.+?)(?P<late>_LATE)?_(?P<user>\d+)_(?P<submission>\d+)_(?P<file>.+)$")
SAFE_KEY = re.compile(r"[^a-z0-9]+")  # what a file name made from a student's name keeps


@dataclass
class Student:
    """Who handed a submission in, as the export names them (empty fields: the export does not say)."""

    name: str
    sid: str = ""  # Gradescope's SID (the institution's student id)
    email: str = ""
    canvas_id: str = ""  # Canvas's user id
    key: str = ""  # unique within a run and safe as a file name: set by assign_keys

    @property
    def label(self) -> str:
        """How the console and the report name them: the name, and an id when there is one."""
        ids = [f"SID {self.sid}" if self.sid else "", f"Canvas {self.canvas_id}" if self.canvas_id else ""]
        ids = [i for i in ids if i]
        return f"{self.name} ({', '.join(ids)})" if ids else self.name


@dataclass
class Entry:
    """One student's submission to grade, or why there is nothing to grade."""

    student: Student
    tree: Tree | Path | None  # their files (a Tree, or a folder or zip); None when `error` says why not
    source: str  # where in the export: "submission_123456789", "lovelaceada_12_34_*", "alice"
    submitted_at: str = ""  # ISO 8601 when the export says
    notes: list[str] = field(default_factory=list)
    error: str = ""


@dataclass
class ClassExport:
    layout: str  # "gradescope", "canvas", "folders" or "single"
    label: str
    entries: list[Entry]
    problems: list[str] = field(default_factory=list)  # everything unexpected, one line each
    unclaimed: int = 0  # files or folders that belong to no student (listed in problems): not graded


class ExportError(ValueError):
    """The export cannot be read at all (a damaged zip); the message says why."""


def open_export(path: Path, graded_files: list[str], only_path: bool = True) -> ClassExport:
    """Recognise the layout of `path` (a zip or a folder) and list its students' submissions.

    only_path: `path` is the only one given, so a folder of student folders is read as a class.
    """
    try:
        tree = as_tree(path)
    except SubmissionError as err:
        raise ExportError(str(err)) from err
    export = _recognise(path, tree, graded_files, only_path)
    export.problems[:0] = tree.notes  # unsafe or duplicate names in the export itself
    return export


def _recognise(path: Path, tree: Tree, graded_files: list[str], only_path: bool) -> ClassExport:
    names = [n for n in tree.names() if usable(n)]
    metadata = sorted((n for n in names if PurePosixPath(n).name == METADATA and n.count("/") <= 1), key=len)
    if metadata:
        return _gradescope(path, tree, metadata[0])
    top = [n for n in names if "/" not in n]
    canvas = [n for n in top if CANVAS_NAME.match(n)]
    if canvas and 2 * len(canvas) >= len(top) and not any(pick(names, g) in top for g in graded_files):
        return _canvas(path, tree, names)
    if only_path:
        folders = _student_folders(path, tree, names, graded_files)
        if folders is not None:
            return folders
    return ClassExport("single", str(path), [Entry(Student(path.name), tree, path.name)])


# --- Gradescope ------------------------------------------------------------------------------


def _load_yaml(text: str):
    """PyYAML's safe_load; Ruby's `!ruby/object:...` tags (Gradescope's exports can hold them) read as plain data."""
    import yaml  # the instructor's requirement (instructor/requirements.txt), needed only for exports

    try:
        return yaml.safe_load(text)
    except yaml.constructor.ConstructorError:

        class RubyTolerantLoader(yaml.SafeLoader):
            """A SafeLoader that reads !ruby/ tagged nodes as the plain mappings, lists and strings they hold."""

        def plain(loader, suffix, node):
            if isinstance(node, yaml.MappingNode):
                return loader.construct_mapping(node, deep=True)
            if isinstance(node, yaml.SequenceNode):
                return loader.construct_sequence(node, deep=True)
            return loader.construct_scalar(node)

        RubyTolerantLoader.add_multi_constructor("!ruby/", plain)
        return yaml.load(text, Loader=RubyTolerantLoader)  # a SafeLoader: builds no Python objects


def _key(mapping: dict, name: str):
    """Gradescope's `:name:` keys (":name" once read), or plain `name`."""
    return mapping.get(f":{name}", mapping.get(name)) if isinstance(mapping, dict) else None


def _when(value) -> tuple[float, str]:
    """(a sort key, ISO 8601) for a :created_at: value: a datetime, a Ruby TimeWithZone mapping or text."""
    if isinstance(value, dict):
        value = _key(value, "utc") or _key(value, "time")
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value.strip().replace(" ", "T", 1).replace(" ", ""))
        except ValueError:
            return float("-inf"), value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.timestamp(), value.isoformat()
    return float("-inf"), ""


def _gradescope(path: Path, tree: Tree, metadata_name: str) -> ClassExport:
    base = metadata_name[: -len(METADATA)]
    export = ClassExport("gradescope", str(path), [])
    try:
        data = _load_yaml(tree.read(metadata_name, MAX_METADATA_BYTES).decode("utf-8", "replace"))
    except Exception as err:  # noqa: BLE001 - any YAML or read error: the folders are still graded, unnamed
        export.problems.append(f"{metadata_name} could not be read ({type(err).__name__}: {err})")
        data = {}
    if not isinstance(data, dict):
        export.problems.append(f"{metadata_name} is not the mapping Gradescope writes: submissions are unnamed")
        data = {}
    folders: dict[str, list[str]] = {}
    for name in tree.names():
        relative = name[len(base) :] if name.startswith(base) else None
        if relative and "/" in relative and usable(relative):
            folders.setdefault(relative.split("/", 1)[0], []).append(relative)
    latest: dict[str, tuple[float, Entry, list[str]]] = {}  # a student's key -> the latest submission's entry
    for folder in sorted(set(data) | set(folders), key=str):
        record = data.get(folder) if isinstance(data.get(folder), dict) else {}
        if folder not in data:
            export.problems.append(f"{folder}: not in {METADATA}: graded under its folder's name")
        submitters = _key(record, "submitters")
        people = [
            Student(
                name=str(_key(s, "name") or _key(s, "email") or folder),
                sid=str(_key(s, "sid") or ""),
                email=str(_key(s, "email") or ""),
            )
            for s in (submitters if isinstance(submitters, list) else [])
            if isinstance(s, dict)
        ] or [Student(name=str(folder))]
        order, when = _when(_key(record, "created_at"))
        files = folders.get(str(folder))
        if not files:
            export.problems.append(f"{folder}: the export holds no files for it: not graded")
        for person in people:
            tree_of = _subtree(path, tree, f"{base}{folder}/") if files else None
            entry = Entry(person, tree_of, str(folder), when, error="" if files else "the export holds no files")
            identity = (person.sid or person.email or person.name).strip().lower()
            seen = latest.get(identity)
            if seen is None or order > seen[0] or (order == seen[0] and str(folder) > seen[1].source):
                older = [*(seen[2] if seen else []), *([_said(seen[1])] if seen else [])]
                latest[identity] = (order, entry, older)
            else:
                seen[2].append(_said(entry))
    for _, entry, older in latest.values():
        if older:
            entry.notes.append(
                f"graded the latest of {len(older) + 1} submissions ({_said(entry)}); not graded: {', '.join(older)}"
            )
        export.entries.append(entry)
    return export


def _said(entry: Entry) -> str:
    return f"{entry.source} at {entry.submitted_at}" if entry.submitted_at else entry.source


def _subtree(path: Path, tree: Tree, prefix: str) -> Tree:
    """The files under `prefix` of an export (a zip or a folder), named without it."""
    if path.is_dir():
        return folder_tree(path / prefix, f"{path.name}/{prefix.rstrip('/')}")
    return zip_tree(path, f"{path.name}:{prefix.rstrip('/')}", prefix=prefix)


# --- Canvas ----------------------------------------------------------------------------------


def _canvas(path: Path, tree: Tree, names: list[str]) -> ClassExport:
    export = ClassExport("canvas", str(path), [])
    students: dict[str, dict] = {}  # user id -> {"name", "late", "files": {canonical: (submission, original, name)}}
    for name in names:
        match = CANVAS_NAME.match(name) if "/" not in name else None
        if match is None:
            export.problems.append(
                f"{name}: not named as Canvas names submissions (name_userid_submissionid_file): not graded"
            )
            export.unclaimed += 1
            continue
        student = students.setdefault(match["user"], {"name": match["name"], "late": False, "files": {}, "old": []})
        student["late"] |= bool(match["late"])
        original, submission = match["file"], int(match["submission"])
        canonical = canonical_name(original)
        kept = student["files"].get(canonical)
        if kept is None or submission > kept[0]:
            if kept is not None:
                student["old"].append(kept[1])
            student["files"][canonical] = (submission, original, name)
        else:
            student["old"].append(original)
    for user, student in sorted(students.items(), key=lambda item: (item[1]["name"], item[0])):
        members = {original: name for _, original, name in student["files"].values()}
        entry = Entry(Student(student["name"], canvas_id=user), _mapped(path, tree, members, user), f"user {user}")
        if student["old"]:
            entry.notes.append(
                f"older uploads not graded (a later submission replaced them): {', '.join(student['old'])}"
            )
        if student["late"]:
            entry.notes.append("Canvas marked this submission late")
        export.entries.append(entry)
    return export


def _mapped(path: Path, tree: Tree, members: dict[str, str], user: str) -> Tree:
    """A student's files of a Canvas export, under their original names."""
    label = f"{path.name}:user {user}"
    if path.is_dir():
        return folder_tree_of({original: path / name for original, name in members.items()}, label)
    with zipfile.ZipFile(path) as archive:
        infos = {info.filename: info for info in archive.infolist()}
    return zip_tree(path, label, members={original: infos[name] for original, name in members.items()})


def folder_tree_of(files: dict[str, Path], label: str) -> Tree:
    """A Tree of chosen files of a folder, under the names given."""

    def read(name: str, limit: int) -> bytes:
        with open(files[name], "rb") as handle:
            return handle.read(limit)

    return Tree(label, {name: p.stat().st_size for name, p in files.items()}, read)


# --- a folder (or a zip) of student folders --------------------------------------------------


def _student_folders(path: Path, tree: Tree, names: list[str], graded_files: list[str]) -> ClassExport | None:
    """A class as a folder per student (or a zip per student), or None if `path` is not one."""
    if any(pick(names, g) is not None and "/" not in pick(names, g).removeprefix("classifiers/") for g in graded_files):
        return None  # graded files of its own: one student's submission
    children: dict[str, list[str]] = {}
    loose = []
    for name in names:
        head, slash, rest = name.partition("/")
        if slash:
            children.setdefault(head, []).append(rest)
        elif name.lower().endswith(".zip"):
            children.setdefault(name, [])
        else:
            loose.append(name)
    holding = {
        child: inner
        for child, inner in children.items()
        if not inner or any(pick(inner, g) for g in graded_files) or any(n.lower().endswith(".zip") for n in inner)
    }
    if len(holding) < 2:
        return None
    export = ClassExport("folders", str(path), [])
    for name in loose:
        export.problems.append(f"{name}: a file at the top of the class folder, in no student's folder: not graded")
        export.unclaimed += 1
    for child in sorted(children):
        if child not in holding:
            export.problems.append(f"{child}/: no graded file in it: not graded")
            export.entries.append(Entry(Student(child), None, child, error="no graded file in it"))
            continue
        if children[child]:  # a folder
            child_tree = _subtree(path, tree, child + "/")
        elif path.is_dir():
            child_tree = as_tree(path / child)
        else:
            child_tree = nested_zip_tree(tree, child, f"{path.name}:{child}")
        export.entries.append(Entry(Student(child.removesuffix(".zip")), child_tree, child))
    return export


# --- keys --------------------------------------------------------------------------------------


def safe_stem(text: str) -> str:
    """`text` as a file name's stem: lowercase letters, digits and dashes only ("student" if nothing is left)."""
    return SAFE_KEY.sub("-", text.lower()).strip("-") or "student"


def assign_keys(students: list[Student]) -> None:
    """Give each student a `key`, unique in the run and safe as a file name: name_id (or name, name-2, ...)."""
    taken: set[str] = set()
    for student in students:
        if student.key:
            taken.add(student.key)
    for student in students:
        if student.key:
            continue
        stem = safe_stem(student.name)
        ident = safe_stem(student.sid or student.canvas_id) if (student.sid or student.canvas_id) else ""
        key = f"{stem}_{ident}" if ident else stem
        candidate, number = key, 1
        while candidate in taken:
            number += 1
            candidate = f"{key}-{number}"
        student.key = candidate
        taken.add(candidate)
