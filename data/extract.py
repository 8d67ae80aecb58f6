"""Verify the CIFAR-10 archive and unpack its seven files, safely.

Only the seven expected regular files are unpacked (no links, no absolute or
`..` paths, nothing implausibly large), into a staging directory that is
renamed into place at the end, so a failure never leaves a half-written
dataset. Checksums are MD5s, as CIFAR-10 publishes them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from data.cifar10 import BATCH_DIR_NAME, META_FILE, TEST_BATCH, TRAIN_BATCHES
from data.download import CHUNK_SIZE, DownloadError

DATASET_FILES = (*TRAIN_BATCHES, TEST_BATCH, META_FILE)
MAX_FILE_BYTES = 64 << 20  # real batches are ~31 MB; a bigger "batch" could fill the disk


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


def verify_md5(path: Path, expected: str, what: str) -> None:
    """Raise DownloadError unless the file's MD5 is `expected`."""
    got = md5_of(path)
    if got != expected.lower():
        raise DownloadError(
            f"{what} {path.name} is corrupt or not the expected file: expected MD5 {expected.lower()}, got {got}"
        )


def _wanted_name(member: tarfile.TarInfo, archive: Path) -> str | None:
    """The batch file name a tar member should become, None to skip it.

    Raises DownloadError for anything that could write outside the destination
    or is not a plain file: CIFAR-10 holds none of these, so the archive is hostile.
    """
    path = PurePosixPath(member.name)
    if (
        path.is_absolute()
        or member.name.startswith("\\")
        or ".." in path.parts
        or (path.parts and ":" in path.parts[0])
    ):  # "C:..." on Windows
        raise DownloadError(
            f"{archive}: refusing member {member.name!r}: path leaves the destination; this is not the CIFAR-10 archive"
        )
    if not (member.isfile() or member.isdir()):
        kind = "link" if member.issym() or member.islnk() else "special file"
        raise DownloadError(f"{archive}: refusing member {member.name!r}: a {kind}; CIFAR-10 holds regular files only")
    if member.isfile() and path.parts[:1] == (BATCH_DIR_NAME,) and len(path.parts) == 2 and path.name in DATASET_FILES:
        if member.size > MAX_FILE_BYTES:
            raise DownloadError(
                f"{archive}: refusing member {member.name!r}: "
                f"{member.size:,} bytes is far too large for a CIFAR-10 batch"
            )
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


def install_staged(new_dir: Path, batch_dir: Path, staging: Path) -> None:
    """Swap `new_dir` into place; an old (synthetic) set is moved into staging first."""
    if batch_dir.exists() or batch_dir.is_symlink():
        os.replace(batch_dir, staging / "previous")
    os.replace(new_dir, batch_dir)  # a rename: the dataset appears all at once


def extract_batches(
    archive: str | os.PathLike, dest: str | os.PathLike, batch_md5s: Mapping[str, str] | None = None
) -> Path:
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
            raise DownloadError(
                f"{archive}: expected {BATCH_DIR_NAME}/ with {', '.join(DATASET_FILES)}; missing {', '.join(missing)}"
            )
        for name, expected in (batch_md5s or {}).items():
            if found.get(name) != expected.lower():
                raise DownloadError(
                    f"{archive}: {name} is corrupt: expected MD5 {expected.lower()}, got {found.get(name)}"
                )
        install_staged(new_dir, dest / BATCH_DIR_NAME, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest / BATCH_DIR_NAME
