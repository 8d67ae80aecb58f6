"""Download CIFAR-10 (python version), verify it, and unpack it safely; or make an offline stand-in.

Run from the repository root (``setup.sh`` runs the first line for you)::

    python data/get_cifar10.py                        # download into data/cifar-10-batches-py
    python data/get_cifar10.py --url URL              # ... from a course mirror
    python data/get_cifar10.py --from-file PATH       # ... from a cifar-10-python.tar.gz you have
    python data/get_cifar10.py --synthetic            # offline: a learnable stand-in, same format
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
import hashlib
import http.client
import os
import pickle
import shutil
import socket
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

import numpy as np
from tqdm import tqdm

if __package__ in (None, ""):
    # Run as `python data/get_cifar10.py`: Python put data/ on sys.path, not the
    # repository root, so `import data.cifar10` needs the root added.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data.cifar10 import (  # noqa: E402
    BATCH_DIR_NAME,
    META_FILE,
    TEST_BATCH,
    TRAIN_BATCHES,
    CifarFormatError,
    is_synthetic,
)
from data.synthetic_cifar10 import write_synthetic_batches  # noqa: E402

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
DATASET_FILES = (*TRAIN_BATCHES, TEST_BATCH, META_FILE)
DEFAULT_DEST = Path(__file__).resolve().parent  # data/, so the loader finds it by default

CHUNK_SIZE = 1 << 20  # 1 MiB reads: fast, yet the progress bar moves smoothly
RETRIES = 5  # attempts in a row without progress before giving up
BACKOFF_SECONDS = 1.0  # first wait between attempts; doubles each time (1, 2, 4, 8 s)
TIMEOUT_SECONDS = 30.0  # a connection silent this long counts as failed and is retried
TRANSIENT_HTTP = {408, 429, 500, 502, 503, 504}  # worth retrying; other errors are final
MAX_FILE_BYTES = 64 << 20  # real batches are ~31 MB; a bigger "batch" could fill the disk
USER_AGENT = "cs231n-softmax-kit/get_cifar10"

OFFLINE_HINT = (
    "If you are offline or the server is unreachable, run one of:\n"
    "  .venv/bin/python data/get_cifar10.py --url URL          download from a course mirror\n"
    "  .venv/bin/python data/get_cifar10.py --from-file PATH   install a cifar-10-python.tar.gz you have\n"
    "  .venv/bin/python data/get_cifar10.py --synthetic        an offline stand-in (NOT real CIFAR-10)\n"
    "  (or ./setup.sh --synthetic, which runs the last one)"
)


class DownloadError(Exception):
    """An expected failure: main() prints its message and exits with status 1."""


class _Transient(Exception):
    """A failure worth retrying (timeout, reset connection, HTTP 5xx)."""


class _RangeNotSatisfiable(Exception):
    """HTTP 416: the server has no bytes from our offset on; `total` is its file size."""

    def __init__(self, total: int | None) -> None:
        super().__init__(total)
        self.total = total


def _say(message: str, quiet: bool) -> None:
    if not quiet:
        print(message, flush=True)


# ---------------------------------------------------------------------------
# Checksums
# ---------------------------------------------------------------------------


def md5_of(path: str | os.PathLike) -> str:
    """Hex MD5 of a file, read in chunks.

    MD5 here is an integrity check against a published checksum (did every byte
    arrive intact?), not a security feature: usedforsecurity=False says so, and
    keeps it working on Pythons built in FIPS mode.
    """
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def _default_batch_md5s(archive_md5: str) -> Mapping[str, str] | None:
    # The batch checksums describe the official archive only: with --md5 naming
    # another archive, the batches are checked for presence, not content.
    return BATCH_MD5 if archive_md5.lower() == ARCHIVE_MD5 else None


# ---------------------------------------------------------------------------
# Download with resume and retries
# ---------------------------------------------------------------------------


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """Parse "bytes 100-199/200" -> (100, 200) and "bytes */200" -> (None, 200)."""
    try:
        span, total = value.split(" ", 1)[1].split("/")
        start = None if span == "*" else int(span.split("-")[0])
        return start, (None if total == "*" else int(total))
    except (AttributeError, IndexError, ValueError):
        return None, None


def _open(url: str, offset: int, timeout: float) -> http.client.HTTPResponse:
    """One GET request; asks for the bytes from `offset` on when resuming."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        return urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        err.close()
        if err.code == 416:
            total = _content_range(err.headers.get("Content-Range"))[1]
            raise _RangeNotSatisfiable(total) from None
        if err.code in TRANSIENT_HTTP:
            raise _Transient(f"HTTP {err.code} {err.reason}") from None
        raise DownloadError(f"could not download {url}: HTTP {err.code} {err.reason}\n"
                            f"{OFFLINE_HINT}") from None
    except urllib.error.URLError as err:
        if isinstance(err.reason, socket.gaierror):  # no DNS: offline, retrying will not help
            raise DownloadError(f"could not download {url}: cannot resolve the host "
                                f"({err.reason})\n{OFFLINE_HINT}") from None
        raise _Transient(str(err.reason)) from None
    except (OSError, http.client.HTTPException) as err:
        raise _Transient(f"{type(err).__name__}: {err}") from None


def _fetch_once(url: str, part: Path, expected_size: int | None,
                timeout: float, quiet: bool) -> None:
    """One attempt: append to (or restart) the .part file until the server stops."""
    offset = part.stat().st_size if part.exists() else 0
    try:
        response = _open(url, offset, timeout)
    except _RangeNotSatisfiable as err:
        if err.total == offset:
            return  # the .part file already holds every byte
        part.unlink()  # longer than the file, or a different file: start over
        raise _Transient("the server cannot resume from here; starting over") from None
    with response:
        start, total = _content_range(response.headers.get("Content-Range"))
        if response.status == 206:  # partial content: the bytes from `start` on
            if start != offset:
                part.unlink()
                raise _Transient("the server resumed from the wrong place; starting over")
            mode = "ab"
        else:  # 200: the whole file, whether or not we asked for a range
            if offset:
                _say("The server ignored the resume request; starting the download over.", quiet)
            offset, mode, total = 0, "wb", None
        length = response.headers.get("Content-Length")
        if total is None:
            total = offset + int(length) if length and length.isdigit() else expected_size
        received = offset
        with open(part, mode) as f, tqdm(
            total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024,
            desc=ARCHIVE_NAME, disable=quiet, leave=False,
        ) as bar:
            try:  # read1: whatever has arrived, so a stall loses nothing already received
                while chunk := response.read1(CHUNK_SIZE):
                    f.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            except (OSError, http.client.HTTPException) as err:
                raise _Transient(f"connection lost after {received:,} bytes ({err})") from None
    # http.client returns b"" (no error!) when a connection drops early, so count.
    if total is not None and received < total:
        raise _Transient(f"connection closed after {received:,} of {total:,} bytes")


def download(url: str, part: str | os.PathLike, *, expected_size: int | None = None,
             retries: int = RETRIES, backoff: float = BACKOFF_SECONDS,
             timeout: float = TIMEOUT_SECONDS, quiet: bool = False) -> None:
    """Fetch `url` into the file `part`, resuming whatever `part` already holds.

    Retries transient failures, waiting backoff, 2*backoff, 4*backoff, ... seconds;
    an attempt that made progress resets the count. Raises DownloadError when the
    URL is wrong (HTTP 404) or after `retries` attempts in a row without progress.
    Does not check the content: the caller verifies the MD5.
    """
    part = Path(part)
    failures = 0
    while True:
        before = part.stat().st_size if part.exists() else 0
        try:
            _fetch_once(url, part, expected_size, timeout, quiet)
            return
        except _Transient as err:
            after = part.stat().st_size if part.exists() else 0
            failures = 0 if after > before else failures + 1
            if failures >= retries:
                raise DownloadError(f"could not download {url}: {err} "
                                    f"(gave up after {retries} attempts)\n{OFFLINE_HINT}") from None
            delay = backoff * 2 ** max(failures - 1, 0) if failures else 0.0
            _say(f"Download interrupted ({err}); retrying {f'in {delay:g} s' if delay else 'now'}.",
                 quiet)
            time.sleep(delay)


def verify_md5(path: Path, expected: str, what: str) -> None:
    """Raise DownloadError unless the file's MD5 is `expected`."""
    got = md5_of(path)
    if got != expected.lower():
        raise DownloadError(f"{what} {path.name} is corrupt or not the expected file: "
                            f"expected MD5 {expected.lower()}, got {got}")


# ---------------------------------------------------------------------------
# Safe extraction through a staging directory
# ---------------------------------------------------------------------------


def _wanted_name(member: tarfile.TarInfo, archive: Path) -> str | None:
    """The batch file name a tar member should become, None to skip it.

    Raises DownloadError for anything that could write outside the destination
    or is not a plain file: CIFAR-10 holds none of these, so the archive is hostile.
    """
    path = PurePosixPath(member.name)
    if path.is_absolute() or member.name.startswith("\\") or ".." in path.parts \
            or (path.parts and ":" in path.parts[0]):  # "C:..." on Windows
        raise DownloadError(f"{archive}: refusing member {member.name!r}: path leaves the "
                            "destination; this is not the CIFAR-10 archive")
    if not (member.isfile() or member.isdir()):
        kind = "link" if member.issym() or member.islnk() else "special file"
        raise DownloadError(f"{archive}: refusing member {member.name!r}: a {kind}; "
                            "CIFAR-10 holds regular files only")
    if member.isfile() and path.parts[:1] == (BATCH_DIR_NAME,) and len(path.parts) == 2 \
            and path.name in DATASET_FILES:
        if member.size > MAX_FILE_BYTES:
            raise DownloadError(f"{archive}: refusing member {member.name!r}: "
                                f"{member.size:,} bytes is far too large for a CIFAR-10 batch")
        return path.name
    return None  # readme.html and directories: not needed


def _copy_member(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> str:
    """Stream one member into `target` (which must not exist); returns its MD5."""
    digest = hashlib.md5(usedforsecurity=False)  # integrity check, as in md5_of
    source = tar.extractfile(member)
    with source, open(target, "xb") as out:
        while chunk := source.read(CHUNK_SIZE):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _install(new_dir: Path, batch_dir: Path, staging: Path) -> None:
    """Swap `new_dir` into place; an old (synthetic) set is moved into staging first."""
    if batch_dir.exists() or batch_dir.is_symlink():
        os.replace(batch_dir, staging / "previous")
    os.replace(new_dir, batch_dir)  # a rename: the dataset appears all at once


def extract_batches(archive: str | os.PathLike, dest: str | os.PathLike,
                    batch_md5s: Mapping[str, str] | None = None) -> Path:
    """Unpack the seven CIFAR-10 files of `archive` into dest/cifar-10-batches-py.

    Inputs:
    - archive: a .tar.gz in the official layout (cifar-10-batches-py/data_batch_1 ...)
    - dest: the directory to hold cifar-10-batches-py/
    - batch_md5s: file name -> expected MD5; None checks presence only

    Returns the batch directory. Raises DownloadError for a hostile, incomplete or
    corrupt archive; then nothing is written to dest (staging is removed).
    """
    archive, dest = Path(archive), Path(dest)
    staging = Path(tempfile.mkdtemp(prefix=".staging-cifar10-", dir=dest))
    try:
        new_dir = staging / BATCH_DIR_NAME
        new_dir.mkdir()
        found: dict[str, str] = {}
        try:
            with tarfile.open(archive, "r:*") as tar:
                for member in tar:  # streams through the .gz once
                    name = _wanted_name(member, archive)
                    if name in found:
                        raise DownloadError(f"{archive}: {member.name!r} appears twice")
                    if name is not None:
                        found[name] = _copy_member(tar, member, new_dir / name)
        except (tarfile.TarError, EOFError, zlib.error) as err:
            raise DownloadError(f"{archive}: not a readable .tar.gz ({err})") from None
        missing = [name for name in DATASET_FILES if name not in found]
        if missing:
            raise DownloadError(f"{archive}: expected {BATCH_DIR_NAME}/ with "
                                f"{', '.join(DATASET_FILES)}; missing {', '.join(missing)}")
        for name, expected in (batch_md5s or {}).items():
            if found.get(name) != expected.lower():
                raise DownloadError(f"{archive}: {name} is corrupt: expected MD5 "
                                    f"{expected.lower()}, got {found.get(name)}")
        _install(new_dir, dest / BATCH_DIR_NAME, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest / BATCH_DIR_NAME


# ---------------------------------------------------------------------------
# Download, verify, unpack: the whole pipeline
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
    if batch_md5s and any(md5_of(batch_dir / name) != md5.lower()
                          for name, md5 in batch_md5s.items()):
        return "other"
    return "verified"


def _needs_install(batch_dir: Path, batch_md5s: Mapping[str, str] | None, quiet: bool) -> bool:
    """False (and says so) when a verified dataset is there: reruns change nothing."""
    state = _existing_dataset(batch_dir, batch_md5s)
    if state == "verified":
        checked = "checksums verified" if batch_md5s else "all files present"
        _say(f"CIFAR-10 is already in {batch_dir} ({checked}); nothing to do.", quiet)
        return False
    if state == "other":
        raise DownloadError(f"{batch_dir} exists but is not a verified CIFAR-10 dataset (files "
                            "missing, changed or unreadable); move it away or delete it, then "
                            "run this again")
    if state == "synthetic":
        _say(f"{batch_dir} holds the synthetic stand-in; it will be replaced by real CIFAR-10.",
             quiet)
    return True


def download_cifar10(dest: str | os.PathLike = DEFAULT_DEST, url: str = URL,
                     md5: str = ARCHIVE_MD5, batch_md5s: Mapping[str, str] | None = None, *,
                     retries: int = RETRIES, backoff: float = BACKOFF_SECONDS,
                     timeout: float = TIMEOUT_SECONDS, quiet: bool = False) -> Path:
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
            raise DownloadError(f"{err}\nDelete it (or pass its checksum with --md5) and "
                                "run this again.") from None
        _say(f"Using the verified archive {archive}.", quiet)
    else:
        _say(f"Downloading {url}", quiet)
        official = md5.lower() == ARCHIVE_MD5
        download(url, part, expected_size=ARCHIVE_SIZE if official else None,
                 retries=retries, backoff=backoff, timeout=timeout, quiet=quiet)
        try:
            verify_md5(part, md5, "downloaded file")
        except DownloadError as err:
            part.unlink()  # resuming can never repair it: next run starts clean
            raise DownloadError(f"{err}\nThe download was deleted. If {url} is a course "
                                "mirror with another archive, pass its checksum with --md5."
                                ) from None
        os.replace(part, archive)  # the final name means "verified"
    extract_batches(archive, dest, batch_md5s)
    _say(f"CIFAR-10 is ready in {batch_dir}", quiet)
    return batch_dir


def install_from_file(archive: str | os.PathLike, dest: str | os.PathLike = DEFAULT_DEST,
                      md5: str = ARCHIVE_MD5, batch_md5s: Mapping[str, str] | None = None, *,
                      quiet: bool = False) -> Path:
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
    _say(f"CIFAR-10 is ready in {batch_dir}", quiet)
    return batch_dir


# ---------------------------------------------------------------------------
# The offline stand-in (--synthetic): data/synthetic_cifar10.py writes the files
# ---------------------------------------------------------------------------


def _check_count(name: str, value: int, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"expected {name} to be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"expected {name} >= {minimum}, got {value}")


def make_synthetic_cifar10(dest: str | os.PathLike = DEFAULT_DEST, num_train: int = 50_000,
                           num_test: int = 10_000, seed: int = 0) -> Path:
    """Write a learnable stand-in for CIFAR-10 in its exact on-disk format.

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
        raise FileExistsError(f"{batch_dir} holds data that is not the synthetic stand-in; "
                              "refusing to overwrite it (choose another --dest)")
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-cifar10-", dir=dest))
    try:
        new_dir = staging / BATCH_DIR_NAME
        new_dir.mkdir()
        write_synthetic_batches(new_dir, num_train, num_test, seed)
        _install(new_dir, batch_dir, staging)
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
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, metavar="DIR",
                        help="directory to hold cifar-10-batches-py/ (default: %(default)s)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--url", default=os.environ.get("CIFAR10_URL") or URL,
                        help="download from this URL, e.g. a course mirror (default: "
                             "$CIFAR10_URL if set, else %(default)s)")
    source.add_argument("--from-file", type=Path, metavar="PATH",
                        help="install from a cifar-10-python.tar.gz you already have")
    source.add_argument("--synthetic", action="store_true",
                        help="write a learnable stand-in in the same format (NOT real CIFAR-10), "
                             "for offline use and CI")
    parser.add_argument("--md5", type=_md5_hex, default=os.environ.get("CIFAR10_MD5") or ARCHIVE_MD5,
                        metavar="HEX",
                        help="expected MD5 of the archive, for a mirror serving another one "
                             "(default: $CIFAR10_MD5 if set, else the official %(default)s; "
                             "per-file checksums are checked only for the official archive)")
    synthetic = parser.add_argument_group("with --synthetic")
    synthetic.add_argument("--num-train", type=int, metavar="N",
                           help="training images (default: 50000)")
    synthetic.add_argument("--num-test", type=int, metavar="M",
                           help="test images (default: 10000)")
    synthetic.add_argument("--seed", type=int, metavar="S", help="random seed (default: 0)")
    parser.add_argument("--quiet", action="store_true", help="print errors only")
    args = parser.parse_args(argv)
    extras = [flag for flag, value in (("--num-train", args.num_train),
                                       ("--num-test", args.num_test), ("--seed", args.seed))
              if value is not None]
    if extras and not args.synthetic:
        parser.error(f"{', '.join(extras)} only apply with --synthetic")
    return args


def _run(args: argparse.Namespace) -> None:
    if args.synthetic:
        num_train = 50_000 if args.num_train is None else args.num_train
        num_test = 10_000 if args.num_test is None else args.num_test
        batch_dir = make_synthetic_cifar10(args.dest, num_train, num_test,
                                           0 if args.seed is None else args.seed)
        _say(f"Wrote a SYNTHETIC stand-in ({num_train} training, {num_test} test images) "
             f"to {batch_dir}.\nIt is NOT CIFAR-10: use it to run the pipeline offline; "
             "run this script without --synthetic to get the real data.", args.quiet)
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
