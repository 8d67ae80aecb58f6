"""Load CIFAR-10 from its on-disk python format, safely, and cut the standard splits.

CIFAR-10 holds 60,000 colour images of 32x32 pixels in 10 classes: five training
batches of 10,000 images (``data_batch_1`` ... ``data_batch_5``), one test batch
(``test_batch``) and ``batches.meta`` with the class names, all in one directory
``cifar-10-batches-py/``. Get it with ``python data/get_cifar10.py`` (or an offline
stand-in with ``python data/get_cifar10.py --synthetic``).

Each batch file is a Python 2 pickle of a dict::

    {"batch_label": "training batch 1 of 5",
     "labels": [6, 9, 9, 4, ...],                 # N ints in [0, 10)
     "data": <uint8 array of shape (N, 3072)>}    # per row: 1024 red, 1024 green,
                                                  # 1024 blue values, each 32x32 row-major

A pickle can name any Python function and call it while loading, so
``pickle.load`` on a file from the internet can run any code. This module
unpickles with an allow-list holding exactly what CIFAR-10 needs (numpy's array
reconstruction and dtype), so a hostile batch file is refused instead of run.

Usage::

    from data.cifar10 import load_cifar10, get_cifar10_data
    X_train, y_train, X_test, y_test = load_cifar10()  # X (N, 32, 32, 3) uint8, y (N,) int64
    data = get_cifar10_data()  # rows (N, 3073): flattened, mean subtracted, bias column

``root`` defaults to ``$CIFAR10_DIR``, else ``data/cifar-10-batches-py`` next to this file.
"""

from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path

import numpy as np

BATCH_DIR_NAME = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
META_FILE = "batches.meta"
ENV_VAR = "CIFAR10_DIR"
NUM_CLASSES = 10
IMAGE_SHAPE = (32, 32, 3)  # height, width, channels: how students look at images
ROW_SIZE = 32 * 32 * 3  # 3072 bytes per image in the files
# `get_cifar10.py --synthetic` starts every batch_label with this, so the
# loader (and the notebook's banner) can tell the stand-in from real CIFAR-10.
SYNTHETIC_MARKER = "SYNTHETIC"


class CifarFormatError(ValueError):
    """A batch file is truncated, malformed, or holds something CIFAR-10 never does."""


class UnsafePickleError(pickle.UnpicklingError):
    """A batch file asks for something CIFAR-10 never needs: refused, never run."""


class SyntheticDataWarning(UserWarning):
    """The data on disk is the offline stand-in, not real CIFAR-10."""


# ---------------------------------------------------------------------------
# Safe unpickling
# ---------------------------------------------------------------------------

# numpy's array-rebuilding function, taken from a live array's __reduce__ so we
# never import it by name: `numpy.core` is the numpy 1.x spelling and warns on
# numpy 2, `numpy._core` does not exist on old numpy 1.x.
_reconstruct = np.empty(0, dtype=np.uint8).__reduce__()[0]


def _plain_dtype(*args: object) -> np.dtype:
    """np.dtype(...), refusing dtypes that hold Python objects (CIFAR-10 is uint8)."""
    dtype = np.dtype(*args)
    if dtype.hasobject:  # object arrays hold arbitrary Python objects
        raise UnsafePickleError(f"expected a numeric dtype, got {dtype}")
    return dtype


# (module, name) a real CIFAR-10 pickle refers to -> the live object to use.
# Files written by numpy 1.x say `numpy.core.multiarray`, numpy 2.x `numpy._core...`.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _plain_dtype,
}


class _CifarUnpickler(pickle.Unpickler):
    """An Unpickler that resolves only the globals a CIFAR-10 batch needs."""

    def __init__(self, file) -> None:
        # encoding="bytes": Python 2 strings arrive as bytes (keys like b"data"),
        # and the pixel string goes to numpy without a text round trip.
        super().__init__(file, encoding="bytes")

    def find_class(self, module: str, name: str) -> object:
        # pickle calls this for every global a file names, before using it.
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refusing to load {module}.{name}: a CIFAR-10 batch only needs numpy "
                "arrays, so this file is not CIFAR-10 (and may be hostile)"
            ) from None


def _text(value: object) -> object:
    """Decode Python 2 byte strings; leave everything else alone."""
    return value.decode("latin1") if isinstance(value, bytes) else value


def read_batch(path: str | os.PathLike) -> dict[str, object]:
    """Safely unpickle one CIFAR-10 file and return its dict with str keys.

    Inputs:
    - path: a batch file (``data_batch_1``, ``test_batch``, ``batches.meta``).

    Returns the unpickled dict; keys are str whichever way the file spelled them.
    Raises CifarFormatError for a truncated or malformed file, UnsafePickleError
    (a pickle.UnpicklingError) for a file that asks for anything but numpy arrays.
    """
    path = Path(path)
    with open(path, "rb") as f:
        try:
            obj = _CifarUnpickler(f).load()
        except UnsafePickleError as err:
            raise UnsafePickleError(f"{path}: {err}") from None
        # A cut-short file ends mid-opcode (EOFError, UnpicklingError) or
        # mid-array (ValueError); garbage can raise almost anything else.
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError) as err:
            raise CifarFormatError(
                f"{path}: truncated or malformed batch file ({type(err).__name__}: {err}); "
                "delete it and run `python data/get_cifar10.py` again"
            ) from err
    if not isinstance(obj, dict):
        raise CifarFormatError(f"{path}: expected a pickled dict, got {type(obj).__name__}")
    return {_text(key): value for key, value in obj.items()}


# ---------------------------------------------------------------------------
# Batches
# ---------------------------------------------------------------------------


def _rows_and_labels(batch: dict[str, object], path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Check a batch dict: returns its pixel rows uint8 (N, 3072) and labels int64 (N,)."""
    data, labels = batch.get("data"), batch.get("labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != ROW_SIZE:
        got = f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise CifarFormatError(f"{path}: expected 'data' as uint8 (N, {ROW_SIZE}), got {got}")
    y = np.asarray(labels, dtype=np.int64) if isinstance(labels, (list, np.ndarray)) else None
    if y is None or y.shape != (data.shape[0],):
        got = f"{len(labels)} of them" if isinstance(labels, (list, np.ndarray)) else type(labels).__name__
        raise CifarFormatError(f"{path}: expected 'labels' as a list of {data.shape[0]} ints, got {got}")
    if y.size and (y.min() < 0 or y.max() >= NUM_CLASSES):
        raise CifarFormatError(f"{path}: expected labels in [0, {NUM_CLASSES}), got values from {y.min()} to {y.max()}")
    return data, y


def _channels_last(rows: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Rows as stored, uint8 (N, 3072) -> images uint8 (N, 32, 32, 3), C-contiguous.

    A file row holds 1024 red, then 1024 green, then 1024 blue values (one
    32x32 plane per colour); students index X[n, row, col, channel]. Copying one
    plane at a time reads memory in order: twice as fast as copying the
    transposed view rows.reshape(N, 3, 32, 32).transpose(0, 2, 3, 1).
    """
    N = rows.shape[0]
    out = np.empty((N, *IMAGE_SHAPE), dtype=np.uint8) if out is None else out
    planes = rows.reshape(N, 3, 1024)  # (N, channel, pixel)
    pixels = out.reshape(N, 1024, 3)  # (N, pixel, channel): a view into out
    for channel in range(3):
        pixels[:, :, channel] = planes[:, channel]
    return out


def load_cifar10_batch(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Load one batch file.

    Inputs:
    - path: a file such as ``data/cifar-10-batches-py/data_batch_1``.

    Returns a tuple of:
    - X: uint8 array of shape (N, 32, 32, 3), C-contiguous
    - y: int64 array of shape (N,), labels in [0, 10)
    """
    path = Path(path)
    rows, y = _rows_and_labels(read_batch(path), path)
    return _channels_last(rows), y


def batch_label(path: str | os.PathLike) -> str:
    """The ``batch_label`` string of a batch file, e.g. "training batch 1 of 5"."""
    return str(_text(read_batch(path).get("batch_label", "")))


# ---------------------------------------------------------------------------
# The whole dataset
# ---------------------------------------------------------------------------


def _how_to_get_it(where: Path) -> str:
    return (
        f"CIFAR-10 not found in {where} (expected {', '.join(TRAIN_BATCHES)} and {TEST_BATCH}).\n"
        "Get it with `python data/get_cifar10.py` (a course mirror: --url URL; an archive "
        "you already have: --from-file PATH; offline stand-in: --synthetic),\n"
        f"or set ${ENV_VAR} to the directory that holds the batch files."
    )


def dataset_dir(root: str | os.PathLike | None = None) -> Path:
    """Find the directory holding the batch files.

    ``root`` (else ``$CIFAR10_DIR``, else ``data/cifar-10-batches-py``) may be that
    directory or its parent. Raises FileNotFoundError saying how to get the data.
    """
    if root is None:
        root = os.environ.get(ENV_VAR) or Path(__file__).resolve().parent / BATCH_DIR_NAME
    root = Path(root).expanduser()
    for candidate in (root, root / BATCH_DIR_NAME):
        if all((candidate / name).is_file() for name in (*TRAIN_BATCHES, TEST_BATCH)):
            return candidate
    raise FileNotFoundError(_how_to_get_it(root))


def label_names(root: str | os.PathLike | None = None) -> list[str]:
    """The 10 class names, in label order: ["airplane", "automobile", ..., "truck"]."""
    path = dataset_dir(root) / META_FILE
    names = read_batch(path).get("label_names")
    if not isinstance(names, list) or len(names) != NUM_CLASSES:
        raise CifarFormatError(f"{path}: expected 'label_names' as a list of {NUM_CLASSES} names")
    return [str(_text(name)) for name in names]


def is_synthetic(root: str | os.PathLike | None = None) -> bool:
    """True when the dataset on disk is the `--synthetic` stand-in, not real CIFAR-10."""
    return batch_label(dataset_dir(root) / TEST_BATCH).startswith(SYNTHETIC_MARKER)


def _warn_synthetic(where: Path) -> None:
    warnings.warn(
        f"{where} holds the SYNTHETIC stand-in made by `get_cifar10.py --synthetic`, not "
        "real CIFAR-10: accuracies on it say nothing about real images",
        SyntheticDataWarning,
        stacklevel=4,  # point at the caller of load_cifar10 / get_cifar10_data
    )


def _load_all(root: str | os.PathLike | None) -> tuple[np.ndarray, ...]:
    """Load every batch; returns X_train, y_train, X_test, y_test, synthetic."""
    where = dataset_dir(root)
    parts, synthetic = [], False
    for name in (*TRAIN_BATCHES, TEST_BATCH):
        batch = read_batch(where / name)
        synthetic |= str(_text(batch.get("batch_label", ""))).startswith(SYNTHETIC_MARKER)
        parts.append(_rows_and_labels(batch, where / name))
    # One pass over the pixels after reading them: each training batch is
    # rearranged straight into its slice of a single preallocated array.
    X_train = np.empty((sum(len(y) for _, y in parts[:-1]), *IMAGE_SHAPE), dtype=np.uint8)
    start = 0
    for rows, y in parts[:-1]:
        _channels_last(rows, out=X_train[start : start + len(y)])  # (n, 32, 32, 3)
        start += len(y)
    y_train = np.concatenate([y for _, y in parts[:-1]])  # (50000,)
    X_test, y_test = _channels_last(parts[-1][0]), parts[-1][1]
    if synthetic:
        _warn_synthetic(where)
    return X_train, y_train, X_test, y_test, synthetic


def load_cifar10(
    root: str | os.PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load all of CIFAR-10.

    Returns a tuple of:
    - X_train: uint8 array of shape (50000, 32, 32, 3)
    - y_train: int64 array of shape (50000,)
    - X_test: uint8 array of shape (10000, 32, 32, 3)
    - y_test: int64 array of shape (10000,)
    Warns with SyntheticDataWarning when the data is the offline stand-in.
    """
    X_train, y_train, X_test, y_test, _ = _load_all(root)
    return X_train, y_train, X_test, y_test


# ---------------------------------------------------------------------------
# The standard splits, ready for a linear classifier
# ---------------------------------------------------------------------------


def _check_sizes(sizes: dict[str, int], num_train_available: int, num_test_available: int) -> None:
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"expected {name} to be an int, got {type(value).__name__}")
        if value < 0:
            raise ValueError(f"expected {name} >= 0, got {value}")
    wanted = sizes["num_training"] + sizes["num_validation"]
    if wanted > num_train_available:
        raise ValueError(
            f"expected num_training + num_validation <= {num_train_available} (the training "
            f"images available), got {sizes['num_training']} + {sizes['num_validation']} = {wanted}"
        )
    if sizes["num_test"] > num_test_available:
        raise ValueError(
            f"expected num_test <= {num_test_available} (the test images available), got {sizes['num_test']}"
        )
    if sizes["num_dev"] > sizes["num_training"]:
        raise ValueError(
            f"expected num_dev <= num_training = {sizes['num_training']} (dev is a "
            f"subset of train), got {sizes['num_dev']}"
        )


def _to_rows(X: np.ndarray, mean_image: np.ndarray | None, add_bias: bool, dtype: np.dtype) -> np.ndarray:
    """Images (N, 32, 32, 3) -> rows (N, D): flattened, centred, with a bias column.

    Fills one preallocated array in one pass, so the float64 training rows
    (49000 x 3073 x 8 bytes = 1.2 GB) are written once, not three times.
    """
    N, D = X.shape[0], X[0].size
    rows = np.empty((N, D + int(add_bias)), dtype=dtype)  # (N, D) or (N, D + 1)
    if mean_image is None:
        rows[:, :D] = X.reshape(N, D)
    else:  # cast and centre in one pass over the data
        np.subtract(X.reshape(N, D), mean_image, out=rows[:, :D])
    if add_bias:
        rows[:, D] = 1.0  # the bias trick: W's last row acts as b
    return rows


def get_cifar10_data(
    root: str | os.PathLike | None = None,
    num_training: int = 49000,
    num_validation: int = 1000,
    num_test: int = 1000,
    num_dev: int = 500,
    subtract_mean: bool = True,
    add_bias: bool = True,
    dtype: type | np.dtype = np.float64,
    seed: int | None = 0,
) -> dict[str, object]:
    """Load CIFAR-10 and cut the standard train / val / test / dev splits.

    - train: the first num_training training images
    - val: the num_validation training images right after them
    - test: the first num_test test images
    - dev: num_dev images drawn at random (``seed``) from train, for quick checks

    Images become rows of D = 3072 values (3073 with add_bias), cast to dtype.
    The mean training image is subtracted from every split (subtract_mean), and a
    column of ones is appended (add_bias) so the bias lives inside W.

    Returns a dict with:
    - X_train (num_training, D), y_train (num_training,), and likewise
      X_val / y_val, X_test / y_test, X_dev / y_dev; y are int64
    - mean_image: (3072,) the mean training row (returned even if not subtracted)
    - synthetic: True when the data is the offline stand-in (a SyntheticDataWarning
      is also issued)
    Raises ValueError when a size is negative or larger than the data.
    """
    X_all, y_all, X_test_all, y_test_all, synthetic = _load_all(root)
    sizes = dict(num_training=num_training, num_validation=num_validation, num_test=num_test, num_dev=num_dev)
    _check_sizes(sizes, X_all.shape[0], X_test_all.shape[0])
    dtype = np.dtype(dtype)

    train = slice(0, num_training)
    val = slice(num_training, num_training + num_validation)
    dev = np.random.default_rng(seed).choice(num_training, num_dev, replace=False)  # (num_dev,)

    # Mean of the *training* rows only: the model may not peek at val or test.
    if num_training:
        mean_image = X_all[train].reshape(num_training, -1).mean(axis=0).astype(dtype)
    else:
        mean_image = np.zeros(ROW_SIZE, dtype=dtype)  # (3072,)
    centre = mean_image if subtract_mean else None

    def rows(X: np.ndarray) -> np.ndarray:
        return _to_rows(X, centre, add_bias, dtype)

    return {
        "X_train": rows(X_all[train]),
        "y_train": y_all[train].copy(),
        "X_val": rows(X_all[val]),
        "y_val": y_all[val].copy(),
        "X_test": rows(X_test_all[:num_test]),
        "y_test": y_test_all[:num_test].copy(),
        "X_dev": rows(X_all[dev]),
        "y_dev": y_all[dev],
        "mean_image": mean_image,
        "synthetic": synthetic,
    }
