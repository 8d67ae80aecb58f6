"""The loader and the stand-in against real CIFAR-10 files: the course's sample, cut short.

The sample (real batch files holding the first 500 images of each training
batch and the first 100 test images; its README says more) sits at
`../shared/cifar10-sample` beside this repository on the course's machines
and in CI, and nowhere else: a student's kit has no copy, so these tests
live here, and skip when it is absent (a fresh clone).
"""

from __future__ import annotations

import pickletools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from data import get_cifar10 as gc
from data.cifar10 import is_synthetic, label_names, load_cifar10, load_cifar10_batch
from data.get_cifar10 import BATCH_DIR_NAME
from instructor import REPO_ROOT

SAMPLE_DIR = REPO_ROOT.parent / "shared" / "cifar10-sample" / BATCH_DIR_NAME
pytestmark = pytest.mark.skipif(not SAMPLE_DIR.is_dir(), reason=f"no real CIFAR-10 sample at {SAMPLE_DIR}")
FIRST_TEST_LABELS = [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]  # from the dataset's own documentation
FIRST_TRAIN_LABELS = [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def pixels_from_raw_bytes(path: Path, num_images: int) -> np.ndarray:
    """Pixels read straight from a batch file's bytes, without pickle: (N, 3072).

    The pixel string is the last thing in the file, followed by 4 one-byte
    opcodes (TUPLE, BUILD, SETITEMS, STOP).
    """
    raw = path.read_bytes()
    size = num_images * 3072
    return np.frombuffer(raw[-4 - size : -4], dtype=np.uint8).reshape(num_images, 3072)


def test_real_sample_labels_shapes_and_dtypes():
    X_train, y_train, X_test, y_test = load_cifar10(SAMPLE_DIR)
    assert X_train.shape == (2500, 32, 32, 3) and X_train.dtype == np.uint8
    assert X_test.shape == (100, 32, 32, 3) and X_test.dtype == np.uint8
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert y_test[:10].tolist() == FIRST_TEST_LABELS
    assert y_train[:10].tolist() == FIRST_TRAIN_LABELS
    assert X_train.flags.c_contiguous and X_test.flags.c_contiguous


def test_real_sample_pixels_are_channel_last_in_the_right_places():
    """Row r of the file is 1024 red, 1024 green, 1024 blue; X[n, h, w, c] must match."""
    _, _, X_test, _ = load_cifar10(SAMPLE_DIR)
    raw = pixels_from_raw_bytes(SAMPLE_DIR / "test_batch", 100)
    assert X_test[0, 0, :4, 0].tolist() == [158, 159, 165, 166]  # first red values of the file
    for n, h, w, c in [(0, 0, 0, 0), (0, 0, 0, 2), (3, 31, 0, 1), (99, 12, 27, 2), (50, 5, 31, 0)]:
        assert X_test[n, h, w, c] == raw[n, c * 1024 + h * 32 + w], (n, h, w, c)


def test_real_sample_batches_and_label_names():
    X, y = load_cifar10_batch(SAMPLE_DIR / "data_batch_2")
    assert X.shape == (500, 32, 32, 3) and y.shape == (500,)
    raw = pixels_from_raw_bytes(SAMPLE_DIR / "data_batch_2", 500)
    assert np.array_equal(X[:, 0, 0, :], raw[:, [0, 1024, 2048]]), "top-left pixel, RGB"
    assert label_names(SAMPLE_DIR) == CLASS_NAMES
    assert not is_synthetic(SAMPLE_DIR)


def test_loading_real_files_emits_no_warning_and_never_imports_numpy_core():
    """numpy 2 renamed `numpy.core` to `numpy._core` and warns on the old name."""
    code = (
        "import sys, numpy; from data.cifar10 import load_cifar10, label_names; "
        f"load_cifar10({str(SAMPLE_DIR)!r}); label_names({str(SAMPLE_DIR)!r}); "
        "print(numpy.__version__.split('.')[0], 'numpy.core' in sys.modules)"
    )
    run = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    numpy_major, imported_old_name = run.stdout.split()
    if int(numpy_major) >= 2:  # on numpy 1.x, numpy.core is simply numpy's own package
        assert imported_old_name == "False", "the loader imported the deprecated numpy.core"


def test_synthetic_files_use_the_same_pickle_opcodes_as_real_ones(tmp_path):
    real = SAMPLE_DIR / "test_batch"
    fake = gc.make_synthetic_cifar10(tmp_path, 50, 100) / "test_batch"

    def opcodes(path: Path) -> list[str]:  # small ints may take 1 or 2 bytes: same meaning
        return [op.name.replace("BININT2", "BININT1") for op, _, _ in pickletools.genops(path.read_bytes())]

    assert opcodes(fake) == opcodes(real)


# The stand-in (data/synthetic_cifar10.py) against real images, the same way:
# 2,000 training and 500 validation images, 600 SGD steps at lr 1e-6, a small
# and a large reg. Measured: real 0.49/0.36 and 0.34/0.28 (train/validation),
# the stand-in 0.51/0.38 and 0.32/0.28.
CALIBRATION_STEPS, CALIBRATION_REGS = 600, (1e3, 3e4)
MAX_VALIDATION_DIFFERENCE = 0.06  # the stand-in's validation accuracy, at each reg, against the real one's


@pytest.mark.slow  # four short trainings: about ten seconds
def test_the_stand_in_is_as_hard_as_real_images_for_a_linear_softmax(tmp_path):
    import warnings

    from tests._cifar_fixtures import linear_accuracies

    X, y, _, _ = load_cifar10(SAMPLE_DIR)
    real = [
        linear_accuracies(X[:2000], y[:2000], X[2000:], y[2000:], 1e-6, reg, num_iters=CALIBRATION_STEPS)
        for reg in CALIBRATION_REGS
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the stand-in's SyntheticDataWarning
        stand_in_data = load_cifar10(gc.make_synthetic_cifar10(tmp_path, 2000, 500, seed=0))
    stand_in = [linear_accuracies(*stand_in_data, 1e-6, reg, num_iters=CALIBRATION_STEPS) for reg in CALIBRATION_REGS]
    table = f"real {real}, stand-in {stand_in} (train, validation) at reg {CALIBRATION_REGS}"
    for (_, real_val), (_, stand_in_val) in zip(real, stand_in):
        assert abs(real_val - stand_in_val) < MAX_VALIDATION_DIFFERENCE, table
    for (small_train, small_val), (large_train, large_val) in (real, stand_in):
        assert small_train - small_val > large_train - large_val, f"the gap should grow as reg shrinks: {table}"
