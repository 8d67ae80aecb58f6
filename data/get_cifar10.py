"""Download CIFAR-10 (python version), verify it, and unpack it safely; or make an offline stand-in.

Run from the repository root (``setup.sh`` runs the first line for you)::

    python data/get_cifar10.py                        # download into data/cifar-10-batches-py
    python data/get_cifar10.py --url URL              # ... from a course mirror
    python data/get_cifar10.py --from-file PATH       # ... from a cifar-10-python.tar.gz you have
    python data/get_cifar10.py --synthetic            # offline: a stand-in as hard as CIFAR-10, same format
    python data/get_cifar10.py --help                 # every option

What it guarantees, and why (the classic ``wget | tar xzf`` does none of it):

1. The archive's MD5 is checked before anything is unpacked, and each batch's
   MD5 after: a corrupt or tampered download never reaches your experiments.
2. The download goes to ``cifar-10-python.tar.gz.part``; an interrupted run
   resumes with an HTTP Range request, and transient failures are retried
   with exponential backoff.
3. Only the seven expected regular files are unpacked (no links, no absolute
   or ``..`` paths), into a staging directory that is renamed into place at
   the end, so a failure never leaves a half-written dataset.
4. Running it again when the data is there and verified does nothing.

Expected failures (offline, HTTP 404, bad checksum) print one message and exit
with status 1; use it from Python as ``main(["--dest", "/tmp/cifar"])``.
"""

from __future__ import annotations

import argparse
import os
import pickle
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    # Run as `python data/get_cifar10.py`: Python put data/ on sys.path, not the
    # repository root, so `import data.cifar10` needs the root added.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data.cifar10 import BATCH_DIR_NAME, TRAIN_BATCHES, CifarFormatError, is_synthetic
from data.download import BACKOFF_SECONDS, RETRIES, TIMEOUT_SECONDS, DownloadError, download, say
from data.extract import DATASET_FILES, extract_batches, install_staged, md5_of, verify_md5
from data.synthetic_cifar10 import write_synthetic_batches

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
ARCHIVE_SIZE = 170_498_071  # bytes, as published; sizes the progress bar
ARCHIVE_MD5 = "c58f30108f718f92721af3b95e74349a"
BATCH_MD5 = {  # published checksums of the files inside the official archive
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}
DEFAULT_DEST = Path(__file__).resolve().parent  # data/, so the loader finds it by default

OFFLINE_HINT = (
    "If you are offline or the server is unreachable, run one of:\n"
    "  .venv/bin/python data/get_cifar10.py --url URL          download from a course mirror\n"
    "  .venv/bin/python data/get_cifar10.py --from-file PATH   install a cifar-10-python.tar.gz you have\n"
    "  .venv/bin/python data/get_cifar10.py --synthetic        an offline stand-in (NOT real CIFAR-10)\n"
    "  (or ./setup.sh --synthetic, which runs the last one)"
)


def _default_batch_md5s(archive_md5: str) -> Mapping[str, str] | None:
    # The batch checksums describe the official archive only: with --md5 naming
    # another archive, the batches are checked for presence, not content.
    return BATCH_MD5 if archive_md5.lower() == ARCHIVE_MD5 else None


# ---------------------------------------------------------------------------
# Download (data/download.py), verify and unpack (data/extract.py): the pipeline
# ---------------------------------------------------------------------------


def _existing_dataset(batch_dir: Path, batch_md5s: Mapping[str, str] | None) -> str:
    """What batch_dir holds already: "absent", "verified", "synthetic" or "other"."""
    if not batch_dir.exists() and not batch_dir.is_symlink():
        return "absent"
    if batch_dir.is_dir() and not any(batch_dir.iterdir()):
        return "absent"
    try:
        if is_synthetic(batch_dir):
            return "synthetic"
    except (OSError, CifarFormatError, pickle.UnpicklingError):
        return "other"
    if not all((batch_dir / name).is_file() for name in DATASET_FILES):
        return "other"
    if batch_md5s and any(md5_of(batch_dir / name) != md5.lower() for name, md5 in batch_md5s.items()):
        return "other"
    return "verified"


def _needs_install(batch_dir: Path, batch_md5s: Mapping[str, str] | None, quiet: bool) -> bool:
    """False (and says so) when a verified dataset is there: reruns change nothing."""
    state = _existing_dataset(batch_dir, batch_md5s)
    if state == "verified":
        checked = "checksums verified" if batch_md5s else "all files present"
        say(f"CIFAR-10 is already in {batch_dir} ({checked}); nothing to do.", quiet)
        return False
    if state == "other":
        raise DownloadError(
            f"{batch_dir} exists but is not a verified CIFAR-10 dataset (files "
            "missing, changed or unreadable); move it away or delete it, then "
            "run this again"
        )
    if state == "synthetic":
        say(f"{batch_dir} holds the synthetic stand-in; it will be replaced by real CIFAR-10.", quiet)
    return True


def download_cifar10(
    dest: str | os.PathLike = DEFAULT_DEST,
    url: str = URL,
    md5: str = ARCHIVE_MD5,
    batch_md5s: Mapping[str, str] | None = None,
    *,
    retries: int = RETRIES,
    backoff: float = BACKOFF_SECONDS,
    timeout: float = TIMEOUT_SECONDS,
    quiet: bool = False,
) -> Path:
    """Download, verify and unpack CIFAR-10 into dest/cifar-10-batches-py.

    Inputs:
    - dest: directory for the archive and cifar-10-batches-py/ (default data/)
    - url: where to fetch the archive (the official site, or a course mirror)
    - md5: expected MD5 of the archive
    - batch_md5s: expected MD5 per extracted file; None means the official ones
      when md5 is the official archive's, else presence checks only
    - retries, backoff, timeout: see download()

    Returns the batch directory. Raises DownloadError for expected failures.
    The verified archive is kept as dest/cifar-10-python.tar.gz, so deleting the
    batch directory and running again unpacks it without the network.
    """
    dest = Path(dest)
    batch_md5s = _default_batch_md5s(md5) if batch_md5s is None else batch_md5s
    batch_dir = dest / BATCH_DIR_NAME
    if not _needs_install(batch_dir, batch_md5s, quiet):
        return batch_dir
    dest.mkdir(parents=True, exist_ok=True)
    archive, part = dest / ARCHIVE_NAME, dest / (ARCHIVE_NAME + ".part")
    if archive.exists():  # ours only get this name once verified; check it all the same
        try:
            verify_md5(archive, md5, "existing archive")
        except DownloadError as err:
            raise DownloadError(f"{err}\nDelete it (or pass its checksum with --md5) and run this again.") from None
        say(f"Using the verified archive {archive}.", quiet)
    else:
        say(f"Downloading {url}", quiet)
        official = md5.lower() == ARCHIVE_MD5
        download(
            url,
            part,
            expected_size=ARCHIVE_SIZE if official else None,
            retries=retries,
            backoff=backoff,
            timeout=timeout,
            quiet=quiet,
            hint=OFFLINE_HINT,
        )
        try:
            verify_md5(part, md5, "downloaded file")
        except DownloadError as err:
            part.unlink()  # resuming can never repair it: next run starts clean
            raise DownloadError(
                f"{err}\nThe download was deleted. If {url} is a course "
                "mirror with another archive, pass its checksum with --md5."
            ) from None
        os.replace(part, archive)  # the final name means "verified"
    extract_batches(archive, dest, batch_md5s)
    say(f"CIFAR-10 is ready in {batch_dir}", quiet)
    return batch_dir


def install_from_file(
    archive: str | os.PathLike,
    dest: str | os.PathLike = DEFAULT_DEST,
    md5: str = ARCHIVE_MD5,
    batch_md5s: Mapping[str, str] | None = None,
    *,
    quiet: bool = False,
) -> Path:
    """Verify an archive the user already has and unpack it (same checks as a download)."""
    archive, dest = Path(archive), Path(dest)
    batch_md5s = _default_batch_md5s(md5) if batch_md5s is None else batch_md5s
    batch_dir = dest / BATCH_DIR_NAME
    if not archive.is_file():
        raise DownloadError(f"--from-file {archive}: no such file")
    if not _needs_install(batch_dir, batch_md5s, quiet):
        return batch_dir
    verify_md5(archive, md5, "archive")
    dest.mkdir(parents=True, exist_ok=True)
    extract_batches(archive, dest, batch_md5s)
    say(f"CIFAR-10 is ready in {batch_dir}", quiet)
    return batch_dir


# ---------------------------------------------------------------------------
# The offline stand-in (--synthetic): data/synthetic_cifar10.py writes the files
# ---------------------------------------------------------------------------


def _check_count(name: str, value: int, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"expected {name} to be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"expected {name} >= {minimum}, got {value}")


def make_synthetic_cifar10(
    dest: str | os.PathLike = DEFAULT_DEST, num_train: int = 50_000, num_test: int = 10_000, seed: int = 0
) -> Path:
    """Write a stand-in for CIFAR-10 (made-up scenes about as hard for a linear classifier) in its on-disk format.

    Inputs:
    - dest: directory to hold cifar-10-batches-py/
    - num_train: training images, spread over the five data_batch files (>= 5)
    - num_test: images in test_batch (>= 1)
    - seed: the same seed writes the same files

    Returns the batch directory. Every batch_label starts with "SYNTHETIC", so
    data.cifar10.is_synthetic() and the loader's warning can tell. An existing
    stand-in is replaced; real data is never overwritten (FileExistsError).
    """
    _check_count("num_train", num_train, len(TRAIN_BATCHES))
    _check_count("num_test", num_test, 1)
    dest = Path(dest)
    batch_dir = dest / BATCH_DIR_NAME
    if _existing_dataset(batch_dir, None) not in ("absent", "synthetic"):
        raise FileExistsError(
            f"{batch_dir} holds data that is not the synthetic stand-in; "
            "refusing to overwrite it (choose another --dest)"
        )
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-cifar10-", dir=dest))
    try:
        new_dir = staging / BATCH_DIR_NAME
        new_dir.mkdir()
        write_synthetic_batches(new_dir, num_train, num_test, seed)
        install_staged(new_dir, batch_dir, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return batch_dir


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def _md5_hex(text: str) -> str:
    if len(text) != 32 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise argparse.ArgumentTypeError(f"expected 32 hex digits, got {text!r}")
    return text.lower()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python data/get_cifar10.py",
        description="Download CIFAR-10 (python version), verify its checksums and unpack it "
        "safely into DEST/cifar-10-batches-py; or write an offline stand-in.",
        epilog="The loader (data/cifar10.py) reads data/cifar-10-batches-py, or $CIFAR10_DIR "
        "when set. Exit status: 0 done (or already there), 1 failed, 2 bad options.",
    )
    parser.add_argument(
        "--dest",
        type=Path,
        default=DEFAULT_DEST,
        metavar="DIR",
        help="directory to hold cifar-10-batches-py/ (default: %(default)s)",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--url",
        default=os.environ.get("CIFAR10_URL") or URL,
        help="download from this URL, e.g. a course mirror (default: $CIFAR10_URL if set, else %(default)s)",
    )
    source.add_argument(
        "--from-file", type=Path, metavar="PATH", help="install from a cifar-10-python.tar.gz you already have"
    )
    source.add_argument(
        "--synthetic",
        action="store_true",
        help="write a stand-in in the same format (NOT real CIFAR-10), for offline use and CI",
    )
    parser.add_argument(
        "--md5",
        type=_md5_hex,
        default=os.environ.get("CIFAR10_MD5") or ARCHIVE_MD5,
        metavar="HEX",
        help="expected MD5 of the archive, for a mirror serving another one "
        "(default: $CIFAR10_MD5 if set, else the official %(default)s; "
        "per-file checksums are checked only for the official archive)",
    )
    synthetic = parser.add_argument_group("with --synthetic")
    synthetic.add_argument("--num-train", type=int, metavar="N", help="training images (default: 50000)")
    synthetic.add_argument("--num-test", type=int, metavar="M", help="test images (default: 10000)")
    synthetic.add_argument("--seed", type=int, metavar="S", help="random seed (default: 0)")
    parser.add_argument("--quiet", action="store_true", help="print errors only")
    args = parser.parse_args(argv)
    extras = [
        flag
        for flag, value in (("--num-train", args.num_train), ("--num-test", args.num_test), ("--seed", args.seed))
        if value is not None
    ]
    if extras and not args.synthetic:
        parser.error(f"{', '.join(extras)} only apply with --synthetic")
    return args


def _run(args: argparse.Namespace) -> None:
    if args.synthetic:
        num_train = 50_000 if args.num_train is None else args.num_train
        num_test = 10_000 if args.num_test is None else args.num_test
        batch_dir = make_synthetic_cifar10(args.dest, num_train, num_test, 0 if args.seed is None else args.seed)
        say(
            f"Wrote a SYNTHETIC stand-in ({num_train} training, {num_test} test images) "
            f"to {batch_dir}.\nIt is NOT CIFAR-10: use it to run the pipeline offline; "
            "run this script without --synthetic to get the real data.",
            args.quiet,
        )
    elif args.from_file is not None:
        install_from_file(args.from_file, args.dest, args.md5, quiet=args.quiet)
    else:
        download_cifar10(args.dest, args.url, args.md5, quiet=args.quiet)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failed, 2 bad options)."""
    try:
        args = parse_args(argv)
    except SystemExit as exit_:  # argparse exits on --help and on bad options
        return int(exit_.code or 0)
    try:
        _run(args)
    except (DownloadError, OSError, ValueError, TypeError) as err:
        # Expected failures (offline, bad checksum, disk full, bad --num-train):
        # one clear message, no traceback.
        print(f"get_cifar10: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("get_cifar10: interrupted; run the same command again to resume.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
