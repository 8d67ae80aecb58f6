"""Fetch a URL into a file, resuming what is already there and retrying network hiccups.

    from data.download import download
    download(url, "cifar-10-python.tar.gz.part", expected_size=170_498_071)

The bytes go to the `.part` file: an interrupted run resumes with an HTTP
Range request, transient failures (timeouts, resets, HTTP 5xx) are retried
with exponential backoff, and an attempt that made progress resets the count.
Nothing here checks the content: the caller verifies a checksum.
"""

from __future__ import annotations

import http.client
import os
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

CHUNK_SIZE = 1 << 20  # 1 MiB reads: fast, yet the progress bar moves smoothly
RETRIES = 5  # attempts in a row without progress before giving up
BACKOFF_SECONDS = 1.0  # first wait between attempts; doubles each time (1, 2, 4, 8 s)
TIMEOUT_SECONDS = 30.0  # a connection silent this long counts as failed and is retried
TRANSIENT_HTTP = {408, 429, 500, 502, 503, 504}  # worth retrying; other errors are final
USER_AGENT = "cs231n-softmax-kit/get_cifar10"


class DownloadError(Exception):
    """An expected failure: main() prints its message and exits with status 1."""


class _Transient(Exception):
    """A failure worth retrying (timeout, reset connection, HTTP 5xx)."""


class _RangeNotSatisfiable(Exception):
    """HTTP 416: the server has no bytes from our offset on; `total` is its file size."""

    def __init__(self, total: int | None) -> None:
        super().__init__(total)
        self.total = total


def say(message: str, quiet: bool) -> None:
    if not quiet:
        print(message, flush=True)


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """Parse "bytes 100-199/200" -> (100, 200) and "bytes */200" -> (None, 200)."""
    try:
        span, total = value.split(" ", 1)[1].split("/")
        start = None if span == "*" else int(span.split("-")[0])
        return start, (None if total == "*" else int(total))
    except (AttributeError, IndexError, ValueError):
        return None, None


def _open(url: str, offset: int, timeout: float, hint: str) -> http.client.HTTPResponse:
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
        raise DownloadError(f"could not download {url}: HTTP {err.code} {err.reason}{hint}") from None
    except urllib.error.URLError as err:
        if isinstance(err.reason, socket.gaierror):  # no DNS: offline, retrying will not help
            raise DownloadError(f"could not download {url}: cannot resolve the host ({err.reason}){hint}") from None
        raise _Transient(str(err.reason)) from None
    except (OSError, http.client.HTTPException) as err:
        raise _Transient(f"{type(err).__name__}: {err}") from None


def _fetch_once(url: str, part: Path, expected_size: int | None, timeout: float, quiet: bool, hint: str) -> None:
    """One attempt: append to (or restart) the .part file until the server stops."""
    offset = part.stat().st_size if part.exists() else 0
    try:
        response = _open(url, offset, timeout, hint)
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
                say("The server ignored the resume request; starting the download over.", quiet)
            offset, mode, total = 0, "wb", None
        length = response.headers.get("Content-Length")
        if total is None:
            total = offset + int(length) if length and length.isdigit() else expected_size
        received = offset
        with (
            open(part, mode) as f,
            tqdm(
                total=total,
                initial=offset,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=part.name.removesuffix(".part"),
                disable=quiet,
                leave=False,
            ) as bar,
        ):
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


def download(
    url: str,
    part: str | os.PathLike,
    *,
    expected_size: int | None = None,
    retries: int = RETRIES,
    backoff: float = BACKOFF_SECONDS,
    timeout: float = TIMEOUT_SECONDS,
    quiet: bool = False,
    hint: str = "",
) -> None:
    """Fetch `url` into the file `part`, resuming whatever `part` already holds.

    Retries transient failures, waiting backoff, 2*backoff, 4*backoff, ... seconds;
    an attempt that made progress resets the count. Raises DownloadError when the
    URL is wrong (HTTP 404) or after `retries` attempts in a row without progress.
    Does not check the content: the caller verifies the MD5. `hint`, when
    given, is added on a line of its own to every final error (what to try instead).
    """
    hint = f"\n{hint}" if hint else ""
    part = Path(part)
    failures = 0
    while True:
        before = part.stat().st_size if part.exists() else 0
        try:
            _fetch_once(url, part, expected_size, timeout, quiet, hint)
            return
        except _Transient as err:
            after = part.stat().st_size if part.exists() else 0
            failures = 0 if after > before else failures + 1
            if failures >= retries:
                raise DownloadError(
                    f"could not download {url}: {err} (gave up after {retries} attempts){hint}"
                ) from None
            delay = backoff * 2 ** max(failures - 1, 0) if failures else 0.0
            say(f"Download interrupted ({err}); retrying {f'in {delay:g} s' if delay else 'now'}.", quiet)
            time.sleep(delay)
