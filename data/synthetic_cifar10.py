"""The offline stand-in for CIFAR-10: learnable images in the exact on-disk format.

`python data/get_cifar10.py --synthetic` calls `write_synthetic_batches` (through
`make_synthetic_cifar10` there, which stages and installs the files safely). The
files are byte-for-byte in the real format: Python 2 pickles (protocol 2) with
str keys and the pixels rebuilt through numpy.core.multiarray._reconstruct,
written opcode by opcode so any Python and numpy produce the same bytes.
Every batch_label starts with SYNTHETIC_MARKER, so the loader can tell.
"""

from __future__ import annotations

import os
import pickle
import struct
from pathlib import Path
from typing import NamedTuple

import numpy as np

from data.cifar10 import META_FILE, SYNTHETIC_MARKER, TEST_BATCH, TRAIN_BATCHES

CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


# Each class is a pattern (a bar, a disk, stripes ...) painted in a class colour
# on a random background, then moved and noised. The colour is learnable by a
# linear classifier from raw pixels; per-image colour jitter and random shifts
# make the classes overlap, so a softmax lands well above chance (about 65% with
# the notebook's default settings), not at 100%.
CLASS_COLOURS = np.array(
    [  # RGB in [0, 1], one row per class
        [0.9, 0.9, 1.0],
        [1.0, 0.2, 0.2],
        [0.6, 0.4, 0.1],
        [1.0, 0.6, 0.2],
        [0.4, 0.6, 0.2],
        [0.7, 0.5, 0.4],
        [0.2, 0.9, 0.3],
        [0.5, 0.3, 0.2],
        [0.2, 0.3, 1.0],
        [0.9, 0.9, 0.2],
    ],
    dtype=np.float32,
)
COLOUR_JITTER = 0.35  # std of the per-image colour noise: blurs the class colours together
PATTERN_BRIGHTNESS = 90.0  # how far a pattern rises above its background, out of 255
MAX_SHIFT = 4  # patterns move up to 4 pixels each way


def _class_patterns() -> np.ndarray:
    """One 32x32 mask per class with values in [0, 1]: shape (10, 32, 32)."""
    yy, xx = np.mgrid[0:32, 0:32].astype(np.float32)
    dy, dx = np.abs(yy - 15.5), np.abs(xx - 15.5)  # distances from the centre
    radius, box = np.hypot(dy, dx), np.maximum(dy, dx)
    return np.stack(
        [
            dy < 4,  # airplane: horizontal bar
            dx < 4,  # automobile: vertical bar
            (xx + yy) // 6 % 2 == 0,  # bird: diagonal stripes
            radius < 9,  # cat: disk
            np.abs(radius - 10) < 2.5,  # deer: ring
            (xx // 8 + yy // 8) % 2 == 0,  # dog: checkerboard
            (dx < 3) | (dy < 3),  # frog: cross
            (box > 7) & (box < 11),  # horse: square outline
            yy > 15.5,  # ship: lower half
            xx / 31.0,  # truck: left-to-right ramp
        ]
    ).astype(np.float32)


def _all_shifts(patterns: np.ndarray) -> np.ndarray:
    """Every pattern at every shift: (10, 2*MAX_SHIFT+1, 2*MAX_SHIFT+1, 32, 32).

    Precomputing the 81 shifts once turns "move each image" into one fancy index.
    """
    k = 2 * MAX_SHIFT + 1
    shifted = np.empty((len(patterns), k, k, 32, 32), dtype=np.float32)
    for i in range(k):
        for j in range(k):
            shifted[:, i, j] = np.roll(patterns, (i - MAX_SHIFT, j - MAX_SHIFT), axis=(1, 2))
    return shifted


def synthetic_images(y: np.ndarray, rng: np.random.Generator, shifted: np.ndarray | None = None) -> np.ndarray:
    """Images for labels y, as rows in the file layout: uint8 (N, 3072).

    Each row holds 1024 red, then 1024 green, then 1024 blue values.
    """
    shifted = _all_shifts(_class_patterns()) if shifted is None else shifted
    N, k = len(y), shifted.shape[1]
    masks = shifted[y, rng.integers(0, k, N), rng.integers(0, k, N)]  # (N, 32, 32)
    colours = CLASS_COLOURS[y] + rng.normal(0, COLOUR_JITTER, (N, 3)).astype(np.float32)
    background = (rng.uniform(40, 170, (N, 1)) + rng.normal(0, 20, (N, 3))).astype(np.float32)
    X = (PATTERN_BRIGHTNESS * colours)[:, :, None, None] * masks[:, None]  # (N, 3, 32, 32)
    X += background[:, :, None, None] - 63  # centre the noise below, whose mean is 63
    # Cheap noise: two random bytes / 4 each, summed (a triangle on 0..126, std ~26);
    # drawing 180 million Gaussians would take longer than everything else together.
    noise = rng.integers(0, 256, (2, N, 3, 32, 32), dtype=np.uint8) >> 2
    X += noise[0]
    X += noise[1]
    return np.clip(X, 0, 255).astype(np.uint8).reshape(N, -1)  # (N, 3072)


class _Global(NamedTuple):
    """A reference to module.name (the pickle GLOBAL opcode)."""

    module: str
    name: str


class _Reduce(NamedTuple):
    """An object rebuilt as func(*args) whose state is then set (REDUCE, BUILD)."""

    func: _Global
    args: tuple
    state: tuple


def _numpy1_array(X: np.ndarray) -> _Reduce:
    """What numpy 1.x's X.__reduce__() gives for a uint8 array, as CIFAR-10 stored it.

    _reconstruct(ndarray, (0,), "b") makes an empty array; its state then sets
    (version 1, shape, dtype("u1"), not Fortran order, the raw pixel bytes).
    """
    if X.dtype != np.uint8:
        raise TypeError(f"expected a uint8 array, got {X.dtype}")
    uint8 = _Reduce(_Global("numpy", "dtype"), ("u1", 0, 1), (3, "|", None, None, None, -1, -1, 0))
    return _Reduce(
        _Global("numpy.core.multiarray", "_reconstruct"),
        (_Global("numpy", "ndarray"), (0,), "b"),
        (1, X.shape, uint8, False, X.tobytes()),
    )


def _py2_pickle(obj: object, out: list[bytes]) -> None:
    """Append the bytes Python 2's cPickle (protocol 2) wrote for obj.

    Covers what a CIFAR-10 file holds: str and bytes (Python 2 str), int, None,
    False, tuples, lists, dicts and numpy arrays. Writing the opcodes ourselves
    gives files in exactly the real format (str keys, numpy.core._reconstruct,
    BINSTRING pixels) whichever Python and numpy are installed.
    """
    if isinstance(obj, (str, bytes)):
        raw = obj.encode("latin1") if isinstance(obj, str) else obj
        out.append(
            pickle.SHORT_BINSTRING + struct.pack("<B", len(raw))
            if len(raw) < 256
            else pickle.BINSTRING + struct.pack("<i", len(raw))
        )
        out.append(raw)
    elif obj is None or obj is False:
        out.append(pickle.NONE if obj is None else pickle.NEWFALSE)
    elif isinstance(obj, (int, np.integer)):
        value = int(obj)
        out.append(
            pickle.BININT1 + struct.pack("<B", value)
            if 0 <= value < 256
            else pickle.BININT2 + struct.pack("<H", value)
            if 0 <= value < 65536
            else pickle.BININT + struct.pack("<i", value)
        )
    elif isinstance(obj, _Global):
        out.append(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("ascii"))
    elif isinstance(obj, _Reduce):
        _py2_pickle(obj.func, out)
        _py2_pickle(obj.args, out)
        out.append(pickle.REDUCE)
        _py2_pickle(obj.state, out)
        out.append(pickle.BUILD)
    elif isinstance(obj, np.ndarray):
        _py2_pickle(_numpy1_array(obj), out)
    elif isinstance(obj, tuple):
        short = {1: pickle.TUPLE1, 2: pickle.TUPLE2, 3: pickle.TUPLE3}.get(len(obj))
        out.append(b"" if short else pickle.MARK)
        for item in obj:
            _py2_pickle(item, out)
        out.append(short or pickle.TUPLE)
    elif isinstance(obj, list):
        out.append(pickle.EMPTY_LIST)
        for start in range(0, len(obj), 1000):  # cPickle appended 1000 items at a time
            out.append(pickle.MARK)
            for item in obj[start : start + 1000]:
                _py2_pickle(item, out)
            out.append(pickle.APPENDS)
    elif isinstance(obj, dict):
        out.append(pickle.EMPTY_DICT + pickle.MARK)
        for key, value in obj.items():
            _py2_pickle(key, out)
            _py2_pickle(value, out)
        out.append(pickle.SETITEMS)
    else:
        raise TypeError(f"expected a value a CIFAR-10 batch holds, got {type(obj).__name__}")


def write_batch(path: str | os.PathLike, batch: dict) -> None:
    """Write one batch dict to `path` in the CIFAR-10 on-disk format."""
    out = [pickle.PROTO + b"\x02"]
    _py2_pickle(batch, out)
    out.append(pickle.STOP)
    with open(path, "xb") as f:
        f.writelines(out)


def write_synthetic_batches(batch_dir: Path, num_train: int, num_test: int, seed: int) -> None:
    """Write the five training batches, the test batch and batches.meta into batch_dir.

    Classes are balanced and shuffled; the same seed writes the same bytes.
    """
    rng = np.random.default_rng(seed)
    y = np.arange(num_train + num_test) % len(CLASS_NAMES)  # balanced classes ...
    rng.shuffle(y)  # ... in random order
    train_parts = np.array_split(y[:num_train], len(TRAIN_BATCHES))
    files = [
        (name, f"training batch {i} of {len(TRAIN_BATCHES)}", labels)
        for i, (name, labels) in enumerate(zip(TRAIN_BATCHES, train_parts), start=1)
    ]
    files.append((TEST_BATCH, "testing batch 1 of 1", y[num_train:]))
    shifted = _all_shifts(_class_patterns())
    for name, label, labels in files:
        write_batch(
            batch_dir / name,
            {
                "batch_label": f"{SYNTHETIC_MARKER} {label} (offline stand-in written by "
                f"get_cifar10.py --synthetic, seed {seed}; NOT CIFAR-10)",
                "labels": labels.tolist(),
                "data": synthetic_images(labels, rng, shifted),  # (n, 3072) uint8
            },
        )
    write_batch(
        batch_dir / META_FILE,
        {"num_cases_per_batch": len(train_parts[0]), "label_names": list(CLASS_NAMES), "num_vis": 3072},
    )
