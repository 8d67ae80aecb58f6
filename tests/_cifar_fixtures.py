"""Test helpers for CIFAR-10: tiny datasets, archives, and a local HTTP server.

Nothing here touches the internet. Use from a test file::

    from tests._cifar_fixtures import make_archive, serve, synthetic_cifar10_dir

`synthetic_cifar10_dir` is a session-scoped pytest fixture; register it for
every test file with one line in tests/conftest.py::

    from tests._cifar_fixtures import synthetic_cifar10_dir  # noqa: F401
"""

from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

from data.cifar10 import META_FILE, TEST_BATCH, TRAIN_BATCHES
from data.get_cifar10 import BATCH_DIR_NAME, make_synthetic_cifar10
from data.synthetic_cifar10 import CLASS_NAMES, synthetic_images, write_batch

SMALL_TRAIN = 50  # images in a test archive: 10 per training batch, a few KB each
SMALL_TEST = 10
SYNTHETIC_TRAIN = 500  # the session dataset: enough for split tests, made in ~0.1 s
SYNTHETIC_TEST = 100
STALL_SECONDS = 1.0  # how long the "stall" server pauses; tests use a much shorter timeout
REPO_ROOT = Path(__file__).resolve().parent.parent


def md5_bytes(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()  # integrity, not security


def write_plain_batches(
    batch_dir: Path, num_train: int = SMALL_TRAIN, num_test: int = SMALL_TEST, seed: int = 0
) -> dict[str, bytes]:
    """Write small batches labelled like real CIFAR-10 (no SYNTHETIC marker).

    A download test needs data the installer treats as real; returns name -> file bytes.
    """
    batch_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(CLASS_NAMES), num_train + num_test)
    parts = np.array_split(y[:num_train], len(TRAIN_BATCHES))
    batches = {
        name: (f"training batch {i} of 5", labels)
        for i, (name, labels) in enumerate(zip(TRAIN_BATCHES, parts), start=1)
    }
    batches[TEST_BATCH] = ("testing batch 1 of 1", y[num_train:])
    for name, (label, labels) in batches.items():
        write_batch(
            batch_dir / name, {"batch_label": label, "labels": labels.tolist(), "data": synthetic_images(labels, rng)}
        )
    write_batch(
        batch_dir / META_FILE, {"num_cases_per_batch": len(parts[0]), "label_names": list(CLASS_NAMES), "num_vis": 3072}
    )
    return {path.name: path.read_bytes() for path in batch_dir.iterdir()}


class Archive(NamedTuple):
    data: bytes  # the .tar.gz
    md5: str
    batch_md5s: dict[str, str]  # file name -> MD5, like data.get_cifar10.BATCH_MD5


def make_archive(files: dict[str, bytes], extra: Sequence[tuple[tarfile.TarInfo, bytes | None]] = ()) -> Archive:
    """A .tar.gz in the official layout: cifar-10-batches-py/<name> plus a readme.

    extra: more members, each a (TarInfo, bytes or None) pair, e.g. hostile ones.
    """
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        directory = tarfile.TarInfo(BATCH_DIR_NAME)
        directory.type, directory.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(directory)
        members = [(f"{BATCH_DIR_NAME}/readme.html", b"<html>CIFAR-10</html>")]
        members += [(f"{BATCH_DIR_NAME}/{name}", data) for name, data in files.items()]
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info, data in extra:
            tar.addfile(info, None if data is None else io.BytesIO(data))
    data = buffer.getvalue()
    return Archive(data, md5_bytes(data), {name: md5_bytes(b) for name, b in files.items()})


def tar_member(
    name: str, data: bytes | None = b"evil", *, symlink_to: str | None = None, hardlink_to: str | None = None
) -> tuple[tarfile.TarInfo, bytes | None]:
    """One (possibly hostile) member for make_archive(extra=...)."""
    info = tarfile.TarInfo(name)
    if symlink_to is not None:
        info.type, info.linkname, data = tarfile.SYMTYPE, symlink_to, None
    elif hardlink_to is not None:
        info.type, info.linkname, data = tarfile.LNKTYPE, hardlink_to, None
    else:
        info.size = len(data)
    return info, data


# ---------------------------------------------------------------------------
# A local HTTP server with misbehaviours on demand
# ---------------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves server.payload; each request follows the next step of server.plan.

    Steps: "ok" (honours Range), "ignore-range" (always 200 and the whole file),
    "wrong-range" (206, but from byte 0 whatever was asked), "cut" (promises
    everything, sends half, hangs up), "stall" (sends half, then goes silent for
    STALL_SECONDS), "404", "500".
    """

    def do_GET(self) -> None:
        server = self.server
        step = server.plan.pop(0) if len(server.plan) > 1 else server.plan[0]
        server.ranges.append(self.headers.get("Range"))
        if step in ("404", "500"):
            self.send_error(int(step))
            return
        data, start = server.payload, 0
        asked = self.headers.get("Range")
        if asked and step != "ignore-range":
            start = 0 if step == "wrong-range" else int(asked.removeprefix("bytes=").split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if step in ("cut", "stall"):
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            if step == "stall":
                time.sleep(STALL_SECONDS)
            return  # HTTP/1.0: returning closes the connection mid-body
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean


@contextmanager
def serve(payload: bytes, plan: Sequence[str] = ("ok",)) -> Iterator[tuple[str, object]]:
    """Run the server on 127.0.0.1 (a free port) in a thread; yields (url, server).

    server.ranges lists the Range header of every request (None when absent).
    """
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.payload, server.plan, server.ranges = payload, list(plan), []
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/cifar-10-python.tar.gz", server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# ---------------------------------------------------------------------------
# A linear softmax, trained the notebook's way, to measure how hard a dataset is
# ---------------------------------------------------------------------------


def linear_accuracies(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    learning_rate: float,
    reg: float,
    num_iters: int = 1500,
    batch_size: int = 200,
    seed: int = 0,
) -> tuple[float, float]:
    """(training, validation) accuracy of minibatch SGD on a softmax, from images (N, 32, 32, 3) uint8.

    The notebook's pipeline in float32 (for speed): mean image subtracted, a
    bias column, W of scale 1e-3, the loss's gradient (P - Y) / N + 2 reg W.
    The kit's own code is not used, so a stub in classifiers/ changes nothing.
    """

    def rows(X: np.ndarray, mean: np.ndarray) -> np.ndarray:  # (N, 3073)
        X = X.reshape(len(X), -1) - mean
        return np.hstack([X, np.ones((len(X), 1))]).astype(np.float32)

    mean = X_train.reshape(len(X_train), -1).mean(axis=0)
    X, X_v = rows(X_train, mean), rows(X_val, mean)
    rng = np.random.default_rng(seed)
    W = 1e-3 * rng.standard_normal((X.shape[1], len(CLASS_NAMES))).astype(np.float32)  # (D, C)
    for _ in range(num_iters):
        batch = rng.integers(0, len(X), batch_size)
        scores = X[batch] @ W  # (B, C)
        probs = np.exp(scores - scores.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        probs[np.arange(batch_size), y_train[batch]] -= 1  # dL/dscores, times B
        W -= np.float32(learning_rate) * (X[batch].T @ probs / batch_size + np.float32(2 * reg) * W)
    return float(np.mean(np.argmax(X @ W, axis=1) == y_train)), float(np.mean(np.argmax(X_v @ W, axis=1) == y_val))


# ---------------------------------------------------------------------------
# Shared fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def synthetic_cifar10_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic CIFAR-10 (500 train, 100 test) in the real layout; the batch dir."""
    return make_synthetic_cifar10(tmp_path_factory.mktemp("cifar10"), SYNTHETIC_TRAIN, SYNTHETIC_TEST, seed=0)
