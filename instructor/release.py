"""Write the student kit: the repository without solutions or instructor tools.

    python -m instructor.release OUT_DIR              # the kit students get
    python -m instructor.release OUT_DIR --solutions  # the same files, solved (TAs)
    python -m instructor.release OUT_DIR --force      # replace an existing OUT_DIR

What goes into the kit is instructor/build.py's business (everything outside
instructor/ and .ci/, solutions stripped). Before anything is written, the
reference gate grades the reference solution and the untouched kit with the
current tests and points (instructor/grading/bundle.py): the reference must
earn full marks and the stubs exactly 0. A malformed marker or a failed gate
stops the release with every problem listed and nothing written: the kit is
written to a temporary directory, then renamed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from instructor import REPO_ROOT
from instructor.build import HIDDEN_TESTS, KitFile, build_kit, write_files
from instructor.grading.bundle import BundleError, build_bundle
from instructor.grading.points import PointsError
from instructor.markers import MarkerError


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


class GateError(RuntimeError):
    """The reference solution does not earn full marks, or the untouched kit earns points."""


def has_graded_tests(root: Path) -> bool:
    return (root / HIDDEN_TESTS).is_dir() and (root / "submit.py").is_file()


def reference_gate(root: Path) -> None:
    """Grade the reference solution and the untouched kit with the current tests and points.

    Raises GateError unless the reference earns full marks and the stubs exactly 0:
    a release must never go out with tests or points that grade it wrongly.
    """
    with tempfile.TemporaryDirectory(prefix="release-gate-") as tmp:
        try:
            build_bundle(root, Path(tmp) / "bundle")
        except (BundleError, PointsError) as err:
            raise GateError(str(err)) from err


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m instructor.release", description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="where to write the kit (must not exist, or be empty)")
    parser.add_argument("--solutions", action="store_true", help="keep the solutions (a TA copy)")
    parser.add_argument("--force", action="store_true", help="replace OUT_DIR if it exists")
    parser.add_argument("--source", type=Path, default=REPO_ROOT, help="the instructor repository (default: this one)")
    parser.add_argument(
        "--no-gate",
        action="store_true",
        help="skip the reference gate (grading the reference solution and the untouched kit first)",
    )
    args = parser.parse_args(argv)
    try:
        kit = build_kit(args.source.resolve(), solutions=args.solutions)
        if not args.no_gate and has_graded_tests(args.source.resolve()):
            reference_gate(args.source.resolve())
        write_kit(kit, args.out_dir, force=args.force)
    except MarkerError as err:
        print(f"release: nothing written; fix these first:\n{err}", file=sys.stderr)
        return 1
    except FileExistsError as err:
        print(f"release: {err}", file=sys.stderr)
        return 1
    except GateError as err:
        print(f"release: the reference gate failed, nothing written:\n{err}", file=sys.stderr)
        return 1
    kind = "solutions kit" if args.solutions else "student kit"
    print(f"wrote the {kind} ({len(kit)} files) to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
