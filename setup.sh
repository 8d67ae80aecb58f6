#!/usr/bin/env bash
# Set up the softmax kit: a virtual environment with the requirements, a
# Jupyter kernel for it, and the CIFAR-10 data.
#
#   ./setup.sh              everything (downloads CIFAR-10, ~170 MB, once)
#   ./setup.sh --no-data    skip the data (CI)
#   ./setup.sh --synthetic  offline: generate the stand-in data (NOT CIFAR-10)
#
# Safe to re-run: each step notices what is already done. Set PYTHON to pick
# the interpreter (default: python3).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
KIT_DIR=$(pwd)
VENV="$KIT_DIR/.venv"
PYTHON=${PYTHON:-python3}
DATA=download  # download | none | synthetic

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }  # the header comment
for arg in "$@"; do
    case "$arg" in
        --no-data) DATA=none ;;
        --synthetic) DATA=synthetic ;;
        -h|--help) usage; exit 0 ;;
        *) echo "setup.sh: unknown option '$arg'" >&2; usage >&2; exit 2 ;;
    esac
done

step() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nsetup.sh: %s\n' "$*" >&2; exit 1; }

step "Checking Python (3.10 or newer)"
command -v "$PYTHON" >/dev/null 2>&1 \
    || fail "'$PYTHON' not found. Install Python 3.10+ or run: PYTHON=/path/to/python3 ./setup.sh"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || fail "$("$PYTHON" --version 2>&1) is too old: the kit needs Python 3.10 or newer."
echo "using $("$PYTHON" --version 2>&1) at $(command -v "$PYTHON")"

step "Creating the virtual environment in .venv"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    echo ".venv already exists: reusing it"
else
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV" \
        || fail "could not create .venv (on Debian/Ubuntu: sudo apt install python3-venv)."
fi

# The kit's requirements; in the instructor's repository, the instructor's tools on top.
REQUIREMENTS=requirements.txt
[ -f instructor/requirements.txt ] && REQUIREMENTS=instructor/requirements.txt
step "Installing $REQUIREMENTS (numpy, matplotlib, jupyter, pytest, ...)"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS" \
    || fail "pip could not install $REQUIREMENTS (see the error above); re-run ./setup.sh once fixed."

# The kit's kernel, softmax-kit, inside .venv (so no other copy of the kit takes
# it over), named after this folder, and written into the notebooks' metadata (kit/kernel.py).
step "Registering this kit's Jupyter kernel in .venv"
"$VENV/bin/python" -m kit.kernel || fail "could not register the Jupyter kernel (see the error above)."

case "$DATA" in
    download)
        step "Fetching CIFAR-10 into data/cifar-10-batches-py"
        "$VENV/bin/python" data/get_cifar10.py \
            || fail "the CIFAR-10 download did not complete (see above). Re-run ./setup.sh to resume it; offline, ./setup.sh --synthetic sets up the stand-in instead." ;;
    synthetic)
        step "Generating the offline stand-in in data/cifar-10-batches-py (NOT real CIFAR-10)"
        "$VENV/bin/python" data/get_cifar10.py --synthetic \
            || fail "could not write the stand-in (see above)." ;;
    none)
        step "Skipping the data (--no-data)" ;;
esac

step "Done"
echo "Open the assignment:  .venv/bin/jupyter notebook assignment.ipynb"
echo "Run the tests:        .venv/bin/python -m pytest"
