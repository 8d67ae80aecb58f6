"""The offline stand-in for CIFAR-10: images a linear classifier finds about as hard, in the exact on-disk format.

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
SIZE = 32  # pixels per side

# Each image is a scene: a sky colour above a ground colour, split at a blurred
# horizon; an object (a soft ellipse) near the middle; a few blobs of clutter;
# then a change of brightness and texture noise at several scales. Each class
# draws its scene from palettes of its own (ships: sky above sea; frogs: brown
# and green; cars: grey road, a car of any colour), and everything varies from
# image to image: colours, the horizon, the object's size, shape, position and
# opacity; and a fifth of the images borrow another class's background or
# object colours. A linear classifier then does on it what it does on CIFAR-10
# (measured against real CIFAR-10 images, 2,000 for training and 500 for
# validation, with the notebook's grid: validation accuracies within a few
# points of the real ones, 0.40 at best against 0.37): about 0.40 validation
# accuracy with the notebook's full-size settings, a training accuracy that
# leads the validation accuracy by more the smaller reg is (a few points with
# 49,000 images, 0.2 with 2,000), and templates that show a class's colours
# and layout: a blurred blob in the middle and the background around it.
SKY, PALE, GREY, INDOOR = (140, 175, 215), (190, 195, 200), (125, 125, 125), (150, 130, 115)
GRASS, EARTH, SEA, ROAD, SAND = (95, 115, 60), (110, 95, 70), (50, 80, 130), (90, 90, 90), (160, 140, 100)


class Scene(NamedTuple):
    """How one class's images are drawn: RGB palettes, the horizon, and the object's shape."""

    skies: tuple  # the colours above the horizon, one drawn per image
    grounds: tuple  # the colours below it
    horizon: tuple[float, float]  # its height, as a fraction of the image from the top: drawn in this range
    objects: tuple  # the object's colours
    radii: tuple[float, float]  # the object's half-width and half-height, in pixels
    drop: float  # how far below the centre the object sits, in pixels


SCENES = (  # one per class, in CLASS_NAMES order
    Scene(  # airplane
        skies=(SKY, PALE),
        grounds=(SKY, PALE, GREY),
        horizon=(0.6, 0.9),
        objects=((200, 200, 205), (120, 125, 135), (90, 95, 105)),
        radii=(11, 4),
        drop=0,
    ),
    Scene(  # automobile
        skies=(GREY, PALE, INDOOR),
        grounds=(ROAD, GREY),
        horizon=(0.55, 0.75),
        objects=((170, 30, 30), (30, 50, 140), (220, 220, 220), (30, 30, 30), (120, 120, 130)),
        radii=(12, 6),
        drop=3,
    ),
    Scene(  # bird
        skies=(SKY, GRASS, PALE),
        grounds=(GRASS, EARTH),
        horizon=(0.6, 0.9),
        objects=((120, 100, 70), (90, 80, 60), (160, 150, 130)),
        radii=(6, 5),
        drop=0,
    ),
    Scene(  # cat
        skies=(INDOOR, GREY, PALE),
        grounds=(INDOOR, EARTH),
        horizon=(0.55, 0.85),
        objects=((140, 110, 80), (90, 80, 75), (200, 190, 180), (200, 140, 80)),
        radii=(8, 8),
        drop=1,
    ),
    Scene(  # deer
        skies=(GRASS, EARTH),
        grounds=(GRASS, EARTH),
        horizon=(0.4, 0.8),
        objects=((130, 100, 70), (110, 85, 60)),
        radii=(8, 8),
        drop=0,
    ),
    Scene(  # dog
        skies=(INDOOR, GREY, PALE),
        grounds=(INDOOR, GRASS),
        horizon=(0.55, 0.85),
        objects=((150, 110, 75), (210, 200, 185), (80, 65, 55)),
        radii=(9, 9),
        drop=1,
    ),
    Scene(  # frog
        skies=(EARTH, GRASS),
        grounds=(EARTH, GRASS),
        horizon=(0.3, 0.7),
        objects=((110, 120, 60), (150, 140, 80), (100, 85, 60)),
        radii=(8, 6),
        drop=2,
    ),
    Scene(  # horse
        skies=(SKY, GRASS, PALE),
        grounds=(GRASS, EARTH, SAND),
        horizon=(0.45, 0.7),
        objects=((120, 80, 50), (70, 50, 40), (190, 180, 170)),
        radii=(10, 8),
        drop=0,
    ),
    Scene(  # ship
        skies=(SKY, PALE),
        grounds=(SEA, (70, 100, 140)),
        horizon=(0.5, 0.7),
        objects=((200, 200, 200), (110, 110, 115), (150, 60, 50)),
        radii=(11, 5),
        drop=1,
    ),
    Scene(  # truck
        skies=(GREY, PALE, SKY),
        grounds=(ROAD, GREY),
        horizon=(0.6, 0.8),
        objects=((170, 30, 30), (220, 220, 220), (40, 60, 130), (200, 160, 40), (60, 60, 60)),
        radii=(14, 9),
        drop=1,
    ),
)
# How much each image varies; together they set how hard the classes are to tell apart.
# Calibrated on real CIFAR-10 (see above): make them smaller and the stand-in gets easier.
BORROWED = 0.2  # the fraction of images whose background, and separately object colours, come from another class
BACKGROUND_JITTER = (25.0, 12.0)  # std of an image's sky and ground colours: brightness, then each channel
OBJECT_JITTER = (45.0, 20.0)  # the same for the object, whose colour varies more
OPACITY = (0.6, 1.0)  # the object's opacity over the background, drawn in this range
SHIFT = 4.0  # the object's centre moves up to this many pixels each way
SIZE_SPREAD, ASPECT_SPREAD = 0.35, 0.3  # std of the log of the object's size and of its width-to-height ratio
HORIZON_BLUR = 8.0  # pixels over which sky turns into ground
CLUTTER_BLOBS, CLUTTER_RADII, CLUTTER_STD = 8, (1.5, 5.0), 30.0  # small round blobs, lighter or darker, anywhere
BRIGHTNESS_STD = 20.0  # the whole image lighter or darker
NOISE_STD = {4: 18.0, 8: 20.0, 16: 14.0}  # texture: Gaussian noise on an n x n grid, smoothly enlarged to 32 x 32
_AXIS = np.arange(SIZE, dtype=np.float32)


def _enlarge(n: int) -> np.ndarray:
    """(n * n, 32 * 32): `grid.reshape(-1, n * n) @ it` enlarges n x n grids to 32 x 32, bilinearly."""
    x = np.clip((_AXIS + 0.5) * n / SIZE - 0.5, 0, n - 1)
    low = np.floor(x).astype(int)
    high = np.minimum(low + 1, n - 1)
    weight = (x - low).astype(np.float32)
    A = np.zeros((SIZE, n), np.float32)  # one axis: 32 samples from n
    A[np.arange(SIZE), low] += 1 - weight
    A[np.arange(SIZE), high] += weight
    return np.kron(A, A).T  # both axes at once: one matrix product per image


def _colours(rng: np.random.Generator, palette: tuple, count: int, jitter: tuple[float, float]) -> np.ndarray:
    """`count` colours (count, 3): each a palette entry, made lighter or darker and shifted per channel."""
    brightness, channel = jitter
    colours = np.asarray(palette, np.float32)[rng.integers(0, len(palette), count)]
    colours += rng.normal(0, brightness, (count, 1)).astype(np.float32)
    colours += rng.normal(0, channel, (count, 3)).astype(np.float32)
    return colours


def _scene_colours(y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sky, ground and object colours (N, 3) each, some borrowed from another class's palettes."""
    N = len(y)
    background_class = np.where(rng.random(N) < BORROWED, rng.integers(0, len(SCENES), N), y)
    object_class = np.where(rng.random(N) < BORROWED, rng.integers(0, len(SCENES), N), y)
    sky, ground, thing = (np.empty((N, 3), np.float32) for _ in range(3))
    for c, scene in enumerate(SCENES):
        rows = np.flatnonzero(background_class == c)
        sky[rows] = _colours(rng, scene.skies, len(rows), BACKGROUND_JITTER)
        ground[rows] = _colours(rng, scene.grounds, len(rows), BACKGROUND_JITTER)
        rows = np.flatnonzero(object_class == c)
        thing[rows] = _colours(rng, scene.objects, len(rows), OBJECT_JITTER)
    return sky, ground, thing


def _ellipses(rng: np.random.Generator, count: int, radii: tuple[float, float], drop: float) -> np.ndarray:
    """Soft object masks (count, 32, 32) in [0, 1]: ellipses of varied size, shape, place and opacity."""
    scale = np.exp(rng.normal(0, SIZE_SPREAD, count)).astype(np.float32)
    aspect = np.exp(rng.normal(0, ASPECT_SPREAD, count)).astype(np.float32)
    centre = (SIZE - 1) / 2 + rng.uniform(-SHIFT, SHIFT, (2, count)).astype(np.float32)
    across = ((_AXIS - centre[0][:, None]) / (radii[0] * scale * aspect)[:, None]) ** 2  # (count, 32 columns)
    down = ((_AXIS - (centre[1] + drop)[:, None]) / (radii[1] * scale / aspect)[:, None]) ** 2  # (count, 32 rows)
    masks = np.clip(1 - down[:, :, None] - across[:, None, :], 0, 1)
    masks *= rng.uniform(*OPACITY, (count, 1, 1)).astype(np.float32)
    return masks


def _clutter(rng: np.random.Generator, count: int) -> np.ndarray:
    """(count, 32, 32): CLUTTER_BLOBS round blobs per image, each lighter or darker than what is under it."""
    centre = rng.uniform(0, SIZE, (2, count, CLUTTER_BLOBS, 1)).astype(np.float32)
    radius = rng.uniform(*CLUTTER_RADII, (count, CLUTTER_BLOBS, 1)).astype(np.float32)
    across = np.exp(-(((_AXIS - centre[0]) / radius) ** 2))  # (count, blobs, 32 columns)
    down = np.exp(-(((_AXIS - centre[1]) / radius) ** 2))  # (count, blobs, 32 rows)
    down *= rng.normal(0, CLUTTER_STD, (count, CLUTTER_BLOBS, 1)).astype(np.float32)
    return down.transpose(0, 2, 1) @ across  # a Gaussian blob is a product of two profiles: sum them all at once


def synthetic_images(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Images for labels y, as rows in the file layout: uint8 (N, 3072).

    Each row holds 1024 red, then 1024 green, then 1024 blue values.
    """
    N = len(y)
    X = np.empty((N, 3, SIZE, SIZE), np.float32)  # channels first, as the file stores them
    sky, ground, thing = _scene_colours(y, rng)
    for c, scene in enumerate(SCENES):
        rows = np.flatnonzero(y == c)
        horizon = rng.uniform(*scene.horizon, len(rows)).astype(np.float32) * SIZE
        below = np.clip((_AXIS - horizon[:, None]) / HORIZON_BLUR + 0.5, 0, 1)  # (n, 32 rows): 0 sky, 1 ground
        background = sky[rows, :, None] + (ground - sky)[rows, :, None] * below[:, None, :]  # (n, 3, 32 rows)
        masks = _ellipses(rng, len(rows), scene.radii, scene.drop)[:, None]  # (n, 1, 32, 32)
        X[rows] = background[..., None] + (thing[rows, :, None, None] - background[..., None]) * masks
    X += _clutter(rng, N)[:, None]
    X += rng.normal(0, BRIGHTNESS_STD, (N, 1, 1, 1)).astype(np.float32)
    for n, std in NOISE_STD.items():  # texture, the same in every channel (natural images are mostly grey)
        grid = rng.standard_normal((N, n * n), dtype=np.float32)
        X += (grid @ (std * _enlarge(n))).reshape(N, 1, SIZE, SIZE)
    # Pixel noise, cheaply: two random bytes / 4 each, summed (a triangle on 0..126, std ~26);
    # as many Gaussians would take longer than everything else together.
    fine = rng.integers(0, 256, (2, N, 3, SIZE, SIZE), dtype=np.uint8) >> 2
    X += fine[0]
    X += fine[1]
    X -= 63  # the noise's mean
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
    for name, label, labels in files:
        write_batch(
            batch_dir / name,
            {
                "batch_label": f"{SYNTHETIC_MARKER} {label} (offline stand-in written by "
                f"get_cifar10.py --synthetic, seed {seed}; NOT CIFAR-10)",
                "labels": labels.tolist(),
                "data": synthetic_images(labels, rng),  # (n, 3072) uint8
            },
        )
    write_batch(
        batch_dir / META_FILE,
        {"num_cases_per_batch": len(train_parts[0]), "label_names": list(CLASS_NAMES), "num_vis": 3072},
    )
