"""Build the Gradescope autograder zip.

    python -m instructor.grading.gradescope autograder.zip [--timeout SECONDS]

Upload the zip as a Gradescope "programming assignment" autograder (base
image: Ubuntu). It holds, at its root:

- setup.sh         installs Python 3, bubblewrap and a virtual environment at
                   /autograder/venv with the kit's requirements.txt (once,
                   when Gradescope builds the image);
- run_autograder   grades /autograder/submission with instructor.grading and
                   writes /autograder/results/results.json. Student code runs
                   in the bubblewrap sandbox when the container allows it,
                   else as `nobody`, who can read neither the bundle nor the
                   results directory; results.json says which;
- requirements.txt, instructor/ (the grader: no notebook sources, which hold
  solutions) and bundle/ (the harness's kit with the hidden tests, the
  worker's kit, the manifest; no solution code).

$AUTOGRADER_ROOT (default /autograder) moves the whole tree, so a test can
run run_autograder against a simulated /autograder in a temporary directory;
$GRADER_PYTHON picks the interpreter and $GRADER_FALLBACK replaces the
fallback isolation (`--user nobody`).
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

from instructor import REPO_ROOT
from instructor.grading.bundle import BundleError, bundle_files, cached_bundle
from instructor.grading.points import PointsError
from instructor.markers import MarkerError

# Only the grader and what it imports: the notebook sources under instructor/ hold solutions.
GRADER_FILES = (
    "instructor/__init__.py",
    "instructor/build.py",
    "instructor/markers.py",
    "instructor/notebook_source.py",
)
# The grader's packages: grading itself, and the kit's own machinery it reads (kit.validation's
# loss_value, diagnose.codes's sentences): student-kit files, no solution in them.
GRADER_PACKAGES = ("instructor/grading", "kit", "diagnose")

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope image build: Python 3, a venv and the kit's requirements.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q python3 python3-venv python3-pip bubblewrap
# The apt Python, by full path: a python3 found first on PATH (pyenv, conda)
# may live where `nobody`, who runs the student code, cannot read it.
/usr/bin/python3 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --quiet --upgrade pip
/autograder/venv/bin/python -m pip install --quiet -r /autograder/source/requirements.txt
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this once per submission, as root, from /autograder.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{GRADER_PYTHON:-$ROOT/venv/bin/python}}"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
# Where bubblewrap cannot make a sandbox (some containers forbid namespaces), student
# code runs as nobody instead; $GRADER_FALLBACK overrides (--trusted in tests only).
FALLBACK=(${{GRADER_FALLBACK:---user nobody}})
if [ "$(id -u)" = 0 ]; then
    # Student code must read neither the bundle nor the results, whichever isolation runs.
    chmod 700 "$ROOT/source" "$ROOT/results"
fi
cd "$ROOT/source"
"$PYTHON" -m instructor.grading "$ROOT/submission" --bundle "$ROOT/source/bundle" \\
    --gradescope "$RESULTS" --overwrite --timeout {timeout:g} "${{FALLBACK[@]}}"
status=$?
if [ ! -s "$RESULTS" ]; then
    # The grader could not even start: say so, and that it is not the student's score.
    printf '{{"output": "The autograder is misconfigured and could not start (exit status %s). %s", "tests": []}}\\n' \\
        "$status" "This is not your score: your course staff need to fix the autograder and regrade." > "$RESULTS"
fi
exit "$status"
"""


def _add(archive: zipfile.ZipFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.external_attr = (0o100000 | mode) << 16  # a regular file with these permissions
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def build_zip(out: Path, repo: Path = REPO_ROOT, timeout: float = 60.0) -> None:
    """Write the autograder zip to `out`."""
    bundle = cached_bundle(repo)
    partial = out.with_name(out.name + ".part")
    with zipfile.ZipFile(partial, "w") as archive:
        _add(archive, "setup.sh", SETUP_SH.encode(), 0o755)
        _add(archive, "run_autograder", RUN_AUTOGRADER.format(timeout=timeout).encode(), 0o755)
        _add(archive, "requirements.txt", (repo / "requirements.txt").read_bytes())
        _add(archive, "submit.py", (repo / "submit.py").read_bytes())  # the graded-file list
        for name in [
            *GRADER_FILES,
            *sorted(
                p.relative_to(repo).as_posix() for package in GRADER_PACKAGES for p in (repo / package).glob("*.py")
            ),
        ]:
            _add(archive, name, (repo / name).read_bytes())
        for path in sorted(bundle_files(bundle.root)):
            name = path.relative_to(bundle.root).as_posix()
            if name == "manifest.json":  # a cached bundle's, with the commit the repository is at now
                manifest = {**json.loads(path.read_bytes()), "source": bundle.source}
                _add(archive, "bundle/manifest.json", json.dumps(manifest, indent=1).encode())
            else:
                _add(archive, f"bundle/{name}", path.read_bytes(), path.stat().st_mode & 0o777)
    partial.replace(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m instructor.grading.gradescope", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("out", type=Path, help="the zip to write, e.g. autograder.zip")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per test (default %(default)s)")
    args = parser.parse_args(argv)
    try:
        build_zip(args.out, timeout=args.timeout)  # builds a bundle: the reference gate runs first
    except (BundleError, PointsError, MarkerError) as err:
        print(f"gradescope: nothing written: {err}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}: upload it as the Gradescope autograder")
    return 0


if __name__ == "__main__":
    sys.exit(main())
