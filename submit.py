"""Package your work for grading: writes submission.zip with the graded files.

    python submit.py                 # writes submission.zip next to this file
    python submit.py -o my_work.zip  # somewhere else

The zip holds exactly the files that are graded:
classifiers/softmax.py, classifiers/linear_classifier.py and assignment.ipynb.
It refuses (and writes nothing) when one is missing, or when the notebook has
not been run: run it top to bottom and save it first, so the grader sees your
results. Parts still left as `raise NotImplementedError()` are listed as a
warning; the zip is written anyway.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zipfile
from pathlib import Path

KIT_DIR = Path(__file__).resolve().parent
GRADED_FILES = ("classifiers/softmax.py", "classifiers/linear_classifier.py", "assignment.ipynb")
NOTEBOOK = "assignment.ipynb"
STUB_LINE = "raise NotImplementedError()"


class SubmissionError(Exception):
    """The submission cannot be written; the message says what to do."""


def check_notebook(path: Path) -> None:
    """Raise SubmissionError unless the notebook is valid and has been run."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SubmissionError(f"{NOTEBOOK} is not a valid notebook ({err}); restore it from the kit") from err
    code_cells = [c for c in notebook.get("cells", []) if c.get("cell_type") == "code"]
    if not any(c.get("execution_count") is not None for c in code_cells):
        raise SubmissionError(
            f"{NOTEBOOK} has not been run: open it, choose Kernel > Restart & Run All, "
            "save it, then run `python submit.py` again (without a browser: "
            f"`.venv/bin/jupyter nbconvert --to notebook --execute --inplace {NOTEBOOK}`)"
        )


def unfinished_parts(kit: Path) -> list[str]:
    """Where a `raise NotImplementedError()` stub is still in place."""
    found = []
    for name in GRADED_FILES:
        if not name.endswith(".py"):
            continue
        for number, line in enumerate((kit / name).read_text(encoding="utf-8").splitlines(), 1):
            if line.strip() == STUB_LINE:
                found.append(f"{name}:{number}")
    return found


def write_submission(kit: Path, output: Path) -> list[str]:
    """Write the zip of GRADED_FILES; return the unfinished parts as warnings."""
    missing = [name for name in GRADED_FILES if not (kit / name).is_file()]
    if missing:
        raise SubmissionError(
            f"missing {', '.join(missing)} in {kit}: run this from your kit, and restore any "
            "file you deleted from a fresh copy of the kit"
        )
    check_notebook(kit / NOTEBOOK)
    partial = output.with_name(output.name + ".part")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in GRADED_FILES:
            archive.write(kit / name, arcname=name)
    os.replace(partial, output)
    return unfinished_parts(kit)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python submit.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=KIT_DIR / "submission.zip",
                        help="where to write the zip (default: submission.zip in the kit)")
    parser.add_argument("--kit", type=Path, default=KIT_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        warnings = write_submission(args.kit.resolve(), args.output)
    except SubmissionError as err:
        print(f"submit: {err}", file=sys.stderr)
        return 1
    for where in warnings:
        print(f"warning: {where} is not implemented yet (still `{STUB_LINE}`)", file=sys.stderr)
    print(f"wrote {args.output} with {', '.join(GRADED_FILES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
