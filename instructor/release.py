"""Write the student kit: the repository without solutions or instructor tools.

    python -m instructor.release OUT_DIR              # the kit students get
    python -m instructor.release OUT_DIR --solutions  # the same files, solved (TAs)
    python -m instructor.release OUT_DIR --force      # replace an existing OUT_DIR

Every `### BEGIN SOLUTION` ... `### END SOLUTION` region in `.py` files and
notebook code cells becomes `# YOUR CODE HERE` + `raise NotImplementedError()`;
in markdown cells it becomes `YOUR ANSWER HERE` (see instructor/markers.py).
Notebook outputs and execution counts are cleared in both modes.

A notebook with a source in instructor/notebooks/ (instructor/notebook_source.py)
must be in step with it, or nothing is written.

Only files git tracks (or untracked files it does not ignore) are copied, so
`.venv`, caches and the CIFAR-10 download never are. The instructor tools,
tests/hidden/ and tests/test_instructor_*.py are left out. A malformed marker
anywhere stops the release with every problem listed and nothing written:
the kit is built in memory, written to a temporary directory, then renamed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

from instructor.markers import MarkerError, check_python, strip_python, transform_notebook

REPO_ROOT = Path(__file__).resolve().parent.parent

# Left out of every kit: the instructor's tools and CI, the hidden tests, and
# benchmarks/row_blocked.py, a benchmark contender that solves the assignment.
INSTRUCTOR_ONLY = ("instructor/*", ".ci/*", "tests/hidden/*", "tests/test_instructor_*.py",
                   "benchmarks/row_blocked.py")
HIDDEN_TESTS = "tests/hidden/*"
NOTEBOOK_SOURCES = "instructor/notebooks"  # instructor/notebook_source.py: each NAME.py writes NAME.ipynb
# Never copied, even when git tracks them by mistake (and in the no-git walk).
SKIP_DIRS = {".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".hypothesis",
             ".ipynb_checkpoints", "cifar-10-batches-py", "node_modules", ".mypy_cache"}
SKIP_FILES = ("*.pyc", "*.tar.gz", "*.part", "*.executed.ipynb", "submission.zip", "results.json",
              ".DS_Store")

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
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=root, capture_output=True, check=True,
        ).stdout.decode().split("\0")
        paths = [p for p in listed if p and (root / p).is_file()]
    except (OSError, subprocess.CalledProcessError):
        paths = []
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            rel = Path(folder).relative_to(root)
            paths.extend((rel / name).as_posix() for name in sorted(files))
    return sorted({p for p in paths if not _skipped(p)})


def build_kit(root: Path = REPO_ROOT, *, solutions: bool = False, include_hidden: bool = False,
              check_notebook_sources: bool = True) -> dict[str, KitFile]:
    """The kit as {relative path: (content, mode)}, in memory.

    solutions=False strips every solution region; True keeps them (markers
    are still checked). include_hidden=True keeps tests/hidden/ (the grader's
    copy of the kit). Raises MarkerError listing every malformed marker and,
    unless check_notebook_sources=False (a grader, which never grades the
    notebook's text), every notebook out of step with its source in
    instructor/notebooks/.
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
        hidden = fnmatch(path, HIDDEN_TESTS)
        if any(fnmatch(path, pattern) for pattern in INSTRUCTOR_ONLY) and not (include_hidden and hidden):
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
                data = transform_notebook(data.decode("utf-8"), path, strip=not solutions).encode("utf-8")
        except MarkerError as err:
            problems.extend(err.problems)
            continue
        kit[path] = (data, source.stat().st_mode & 0o777)
    if problems:
        raise MarkerError(problems)
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


def _check_compiles(text: str, path: str) -> None:
    try:
        compile(text, path, "exec", dont_inherit=True)
    except SyntaxError as err:
        raise MarkerError(
            [f"{path}:{err.lineno}: the stripped file is not valid Python ({err.msg}); "
             "check the indentation of the solution markers around it"]
        ) from err


def write_files(kit: dict[str, KitFile], directory: Path) -> None:
    """Write the kit's files below `directory` (which must exist)."""
    for path, (data, mode) in sorted(kit.items()):
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(mode)


def write_kit(kit: dict[str, KitFile], out_dir: Path, *, force: bool = False) -> None:
    """Write the kit to out_dir atomically: all of it, or nothing.

    Raises FileExistsError if out_dir exists and is not empty, unless force.
    """
    out_dir = out_dir.resolve()
    if out_dir.exists() and any(out_dir.iterdir()) and not force:
        raise FileExistsError(f"{out_dir} exists and is not empty (use --force to replace it)")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        write_files(kit, staging)
        staging.chmod(0o755)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m instructor.release", description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="where to write the kit (must not exist, or be empty)")
    parser.add_argument("--solutions", action="store_true", help="keep the solutions (a TA copy)")
    parser.add_argument("--force", action="store_true", help="replace OUT_DIR if it exists")
    parser.add_argument("--source", type=Path, default=REPO_ROOT, help="the instructor repository (default: this one)")
    args = parser.parse_args(argv)
    try:
        kit = build_kit(args.source.resolve(), solutions=args.solutions)
        write_kit(kit, args.out_dir, force=args.force)
    except MarkerError as err:
        print(f"release: nothing written; fix these first:\n{err}", file=sys.stderr)
        return 1
    except FileExistsError as err:
        print(f"release: {err}", file=sys.stderr)
        return 1
    kind = "solutions kit" if args.solutions else "student kit"
    print(f"wrote the {kind} ({len(kit)} files) to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
