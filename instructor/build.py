"""Build the student's kit in memory: the repository without solutions or instructor tools.

    from instructor.build import build_kit, write_files
    kit = build_kit()                  # {path: (bytes, mode)}: what students get
    kit = build_kit(solutions=True)    # the same files, solved (TAs, the reference)

The folder is the rule: the kit is every file git knows about outside
`instructor/` and `.ci/`. Every `### BEGIN SOLUTION` ... `### END SOLUTION`
region in `.py` files and notebook code cells becomes `# YOUR CODE HERE` +
`raise NotImplementedError()`; in markdown cells it becomes `YOUR ANSWER HERE`
(instructor/markers.py). Notebook outputs and execution counts are cleared.
The kit's README.md is the repository's without its INSTRUCTOR ONLY blocks,
with the list of every student region written in from the markers. The
kit's notebooks carry the kernel and language metadata JupyterLab writes
(kit/kernel.py; setup.sh then names the student's own copy and Python).

A notebook with a source in instructor/notebooks/ (instructor/notebook_source.py)
must be in step with it. A malformed marker anywhere raises MarkerError with
every problem listed. `python -m instructor.release` writes a kit to disk;
instructor/grading/bundle.py builds the grader's copies from the same kit.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

from instructor import REPO_ROOT
from instructor.markers import BEGIN, END, MarkerError, check_python, find_regions, strip_python, transform_notebook
from kit.stubs import function_spans, holder

# The folder is the rule: everything only the instructor has lives in these
# folders, and the student's kit is everything else git knows about.
INSTRUCTOR_ONLY = ("instructor/", ".ci/")
# The hidden tests: the grader's harness runs them as tests/hidden/ (see with_hidden_tests).
HIDDEN_TESTS = "instructor/hidden_tests/"
HARNESS_HIDDEN_TESTS = "tests/hidden/"
NOTEBOOK_SOURCES = "instructor/notebooks"  # instructor/notebook_source.py: each NAME.py writes NAME.ipynb
# Never copied, even when git tracks them by mistake (and in the no-git walk).
SKIP_DIRS = {
    ".git",
    ".venv",
    "venv",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".ipynb_checkpoints",
    "cifar-10-batches-py",
    "node_modules",
    ".mypy_cache",
}
SKIP_FILES = ("*.pyc", "*.tar.gz", "*.part", "*.executed.ipynb", "submission.zip", "results.json", ".DS_Store")

# A kit file: its bytes and its permission bits (setup.sh stays executable).
KitFile = tuple[bytes, int]


def _skipped(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return any(part in SKIP_DIRS or part.startswith(".staging") for part in parts[:-1]) or any(
        fnmatch(parts[-1], pattern) for pattern in SKIP_FILES
    )


def repository_files(root: Path) -> list[str]:
    """Relative POSIX paths of the files that make up the repository.

    Uses `git ls-files` (tracked, plus untracked files .gitignore allows) so
    ignored downloads and environments are never included; without git, walks
    the tree skipping SKIP_DIRS.
    """
    try:
        listed = (
            subprocess.run(
                ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                cwd=root,
                capture_output=True,
                check=True,
            )
            .stdout.decode()
            .split("\0")
        )
        paths = [p for p in listed if p and (root / p).is_file()]
    except (OSError, subprocess.CalledProcessError):
        paths = []
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            rel = Path(folder).relative_to(root)
            paths.extend((rel / name).as_posix() for name in sorted(files))
    return sorted({p for p in paths if not _skipped(p)})


def build_kit(
    root: Path = REPO_ROOT, *, solutions: bool = False, check_notebook_sources: bool = True, student_readme: bool = True
) -> dict[str, KitFile]:
    """The kit as {relative path: (content, mode)}, in memory.

    solutions=False strips every solution region; True keeps them (markers
    are still checked). Raises MarkerError listing every malformed marker and,
    unless check_notebook_sources=False (a grader, which never grades the
    notebook's text), every notebook out of step with its source in
    instructor/notebooks/. student_readme=True writes the student's README.md
    (see `with_student_readme`).
    """
    kit: dict[str, KitFile] = {}
    problems: list[str] = []
    blamed_in_source = set()  # notebooks whose markers are reported at their source's lines
    notebook_source = _notebook_source_module(root)
    for pair in notebook_source.pairs(root) if notebook_source else []:
        if check_notebook_sources:
            problems.extend(notebook_source.check(pair, root))
        in_source = notebook_source.marker_problems(pair, root)
        problems.extend(in_source)
        if in_source:
            blamed_in_source.add(pair.notebook)
    for path in repository_files(root):
        if path.startswith(INSTRUCTOR_ONLY):
            continue
        source = root / path
        data = source.read_bytes()
        try:
            if path.endswith(".py"):
                text = data.decode("utf-8")
                if solutions:
                    check_python(text, path)
                else:
                    text = strip_python(text, path)
                    _check_compiles(text, path)
                data = text.encode("utf-8")
            elif path in blamed_in_source:
                continue
            elif path.endswith(".ipynb"):
                text = transform_notebook(data.decode("utf-8"), path, strip=not solutions)
                data = _with_kernel_metadata(path, text, root).encode("utf-8")
        except MarkerError as err:
            problems.extend(err.problems)
            continue
        kit[path] = (data, source.stat().st_mode & 0o777)
    if problems:
        raise MarkerError(problems)
    if student_readme:
        kit = with_student_readme(kit, root)
    return kit


def _notebook_source_module(root: Path):
    """instructor.notebook_source if `root` has notebook sources, else None.

    Imported only then, so that a grader's copy of this module (in a bundle or
    the Gradescope zip, without instructor/notebooks/) needs neither that
    module nor Jupytext.
    """
    if not (root / NOTEBOOK_SOURCES).is_dir():
        return None
    from instructor import notebook_source

    return notebook_source


def _with_kernel_metadata(path: str, text: str, root: Path) -> str:
    """A kit notebook with the kernel metadata JupyterLab would add on opening it (kit/kernel.py).

    Imported only for a notebook of a kit that has kit/kernel.py, so a grader's
    copy of this module (the Gradescope zip holds no kit/) still imports.
    """
    if not (root / "kit" / "kernel.py").is_file():
        return text
    from kit import kernel

    return kernel.with_metadata(text, kernel.notebook_metadata()) if path in kernel.NOTEBOOKS else text


def _check_compiles(text: str, path: str) -> None:
    try:
        compile(text, path, "exec", dont_inherit=True)
    except SyntaxError as err:
        raise MarkerError(
            [
                f"{path}:{err.lineno}: the stripped file is not valid Python ({err.msg}); "
                "check the indentation of the solution markers around it"
            ]
        ) from err


# --- the student's README ----------------------------------------------------------
#
# The repository has one README.md. The kit's README.md is that file with the
# instructor-only blocks dropped and the list of student regions written in,
# so the two never drift apart.

README = "README.md"
INSTRUCTOR_BEGIN = "<!-- BEGIN INSTRUCTOR ONLY -->"
INSTRUCTOR_END = "<!-- END INSTRUCTOR ONLY -->"
REGIONS_BEGIN = "<!-- BEGIN STUDENT REGIONS: instructor/build.py writes this list from the solution markers -->"
REGIONS_END = "<!-- END STUDENT REGIONS -->"
NOTEBOOK = "assignment.ipynb"


def with_student_readme(kit: dict[str, KitFile], root: Path) -> dict[str, KitFile]:
    """The kit with README.md turned into the student's (unchanged if it has none)."""
    if README not in kit:
        return kit
    data, mode = kit[README]
    regions = student_regions(build_kit(root, solutions=True, student_readme=False))
    text = student_readme_text(data.decode("utf-8"), regions)
    return {**kit, README: (text.encode("utf-8"), mode)}


def student_readme_text(readme: str, regions: list[str]) -> str:
    """`readme` without its instructor-only blocks, with `regions` as its list of student regions.

    Raises MarkerError (naming README.md and the line) for an unpaired or
    nested block marker or a missing list, so nothing meant for instructors
    can leak through a typo.
    """
    lines = readme.splitlines(keepends=True)
    problems: list[str] = []
    out: list[str] = []
    opened: tuple[str, int] | None = None  # the open block's marker and line
    found_regions = False
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if text in (INSTRUCTOR_BEGIN, REGIONS_BEGIN):
            if opened:
                problems.append(f"{README}:{number}: {text!r} inside the block opened on line {opened[1]}")
            opened = (text, number)
            found_regions |= text == REGIONS_BEGIN
            if text == REGIONS_BEGIN:  # the list replaces the block, its markers too
                indent = line[: len(line) - len(line.lstrip())]  # nest the list where the block sits
                out.extend(f"{indent}{entry}\n" for entry in regions)
            continue
        if text in (INSTRUCTOR_END, REGIONS_END):
            expected = INSTRUCTOR_END if opened and opened[0] == INSTRUCTOR_BEGIN else REGIONS_END
            if not opened or text != expected:
                problems.append(f"{README}:{number}: {text!r} closes no block opened by its BEGIN")
            opened = None
            continue
        if text.startswith("<!--") and ("INSTRUCTOR" in text.upper() or "STUDENT REGIONS" in text.upper()):
            problems.append(f"{README}:{number}: malformed block marker {text!r}")
        if opened is None:
            out.append(line)
    if opened:
        problems.append(f"{README}:{opened[1]}: {opened[0]!r} is never closed")
    if not found_regions:
        problems.append(f"{README}: no {REGIONS_BEGIN!r} ... {REGIONS_END!r} block for the list of student regions")
    if problems:
        raise MarkerError(problems)
    return re.sub(r"\n{3,}", "\n\n", "".join(out))  # a dropped block leaves no gap


def student_regions(solved: dict[str, KitFile]) -> list[str]:
    """Markdown bullets naming every place a student writes code or an answer.

    Read from the solution markers of the solutions kit: each region of a
    Python file by the function (or method) that holds it, each notebook
    region by its cell's kind, number, section heading and first line.
    """
    notebook = solved[NOTEBOOK][0].decode("utf-8") if NOTEBOOK in solved else ""

    def first_mention(path: str) -> tuple[int, str]:  # the order the notebook sends you there
        at = notebook.find(path)
        return (at if at >= 0 else len(notebook), path)

    entries: list[str] = []
    for path in sorted((p for p in solved if p.endswith(".py")), key=first_mention):
        entries.extend(_python_regions(path, solved[path][0].decode("utf-8")))
    if notebook:
        entries.extend(_notebook_regions(notebook))
    return entries


def _python_regions(path: str, text: str) -> list[str]:
    regions = find_regions(text.splitlines(keepends=True), path + ":{line}")
    if not regions:
        return []
    functions = function_spans(ast.parse(text, path))
    counts: dict[str, int] = {}
    for region in regions:
        name = holder(functions, region.begin + 1)
        counts[name] = counts.get(name, 0) + 1
    return [f"- `{path}`, `{name}`" + (f" ({count} places)" if count > 1 else "") for name, count in counts.items()]


def _notebook_regions(text: str) -> list[str]:
    entries = []
    section = ""
    for index, cell in enumerate(json.loads(text).get("cells", [])):
        source = cell.get("source", "")
        lines = ("".join(source) if isinstance(source, list) else str(source)).splitlines(keepends=True)
        if cell.get("cell_type") == "markdown":
            headings = [
                line.strip().lstrip("#").strip()
                for line in lines
                if re.match(r"#{1,2} ", line) and line.strip() not in (BEGIN, END)
            ]
            section = headings[-1] if headings else section
        if not find_regions(lines, f"{NOTEBOOK}, cell {index + 1}, line {{line}}"):
            continue
        first = next((line.strip() for line in lines if line.strip() and line.strip() not in (BEGIN, END)), "")
        if cell.get("cell_type") == "code":
            first = first if len(first) <= 50 else first[:47] + "..."
            entries.append(f'- `{NOTEBOOK}`, section "{section}": code cell {index + 1}, starting `{first}`')
        else:
            label = re.match(r"\*\*(.+?)\.?\*\*", first)  # "**Inline question 1.**"
            name = label.group(1) if label else (first if len(first) <= 50 else first[:47] + "...")
            entries.append(f'- `{NOTEBOOK}`, section "{section}": answer cell {index + 1}, {name}')
    return entries


def write_files(kit: dict[str, KitFile], directory: Path) -> None:
    """Write the kit's files below `directory` (which must exist)."""
    for path, (data, mode) in sorted(kit.items()):
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(mode)


def with_hidden_tests(kit: dict[str, KitFile], root: Path = REPO_ROOT) -> dict[str, KitFile]:
    """The kit plus the hidden tests, as the grader's harness runs them: at tests/hidden/.

    In this repository they live in instructor/hidden_tests/ (the folder is the
    rule: nothing of instructor/ is released); the harness puts them beside the
    visible tests, where tests/conftest.py's diagnosis reaches their failures.
    """
    hidden = {}
    for path in repository_files(root):
        if path.startswith(HIDDEN_TESTS):
            source = root / path
            hidden[HARNESS_HIDDEN_TESTS + path[len(HIDDEN_TESTS) :]] = (
                source.read_bytes(),
                source.stat().st_mode & 0o777,
            )
    return {**kit, **hidden}
