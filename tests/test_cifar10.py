"""Tests for data/cifar10.py: the safe loader and the standard splits.

Small synthetic sets in the real file format stand in for CIFAR-10 (the
loader on real batch files is tested in the instructor's repository, on a
real sample this kit does not hold).
Run with ``python -m pytest tests/test_cifar10.py``.
"""

from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest

from data import cifar10
from data.cifar10 import (
    CifarFormatError,
    SyntheticDataWarning,
    get_cifar10_data,
    is_synthetic,
    label_names,
    load_cifar10,
    load_cifar10_batch,
    read_batch,
)
from tests._cifar_fixtures import (
    REPO_ROOT,
    SYNTHETIC_TEST,
    SYNTHETIC_TRAIN,
    synthetic_cifar10_dir,  # noqa: F401 (a pytest fixture)
    write_plain_batches,
)

ignore_synthetic = pytest.mark.filterwarnings("ignore::data.cifar10.SyntheticDataWarning")
CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


@ignore_synthetic
def test_loading_emits_no_deprecation_warning(synthetic_cifar10_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", SyntheticDataWarning)
        load_cifar10(synthetic_cifar10_dir)
        label_names(synthetic_cifar10_dir)


def test_python3_pickle_with_str_keys_and_numpy_2_spelling_loads(tmp_path):
    """A batch re-saved from Python 3 (str keys, numpy._core) reads the same."""
    data = np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072) % 251
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({"batch_label": "x", "labels": [1, 9], "data": data}, protocol=3))
    assert b"numpy._core" in path.read_bytes() or b"numpy.core" in path.read_bytes()
    X, y = load_cifar10_batch(path)
    assert y.tolist() == [1, 9]
    assert np.array_equal(X.transpose(0, 3, 1, 2).reshape(2, 3072), data)


# ---------------------------------------------------------------------------
# Files that must be refused
# ---------------------------------------------------------------------------


class _RunsShellCommand:
    """Unpickling this calls os.system: the classic pickle attack."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class _CallsEval:
    def __reduce__(self):
        return eval, ("__import__('os').getcwd()",)


@pytest.mark.parametrize("protocol", [2, 4])
def test_pickle_that_would_run_a_shell_command_is_refused(tmp_path, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / "data_batch_1"
    path.write_bytes(
        pickle.dumps(
            {"batch_label": "training batch 1 of 5", "labels": [0], "data": _RunsShellCommand(marker)},
            protocol=protocol,
        )
    )
    refused = r"refusing to load (posix|os|nt)\.system"
    with pytest.raises(pickle.UnpicklingError, match=refused) as err:
        load_cifar10_batch(path)
    assert str(path) in str(err.value), "the error must name the file"
    assert not marker.exists(), "the shell command ran"


def test_pickle_calling_eval_is_refused(tmp_path):
    path = tmp_path / "test_batch"
    path.write_bytes(pickle.dumps(_CallsEval(), protocol=2))
    refused = r"refusing to load (builtins|__builtin__)\.eval"
    with pytest.raises(pickle.UnpicklingError, match=refused):
        read_batch(path)


def test_object_dtype_arrays_are_refused(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({"data": np.array([None, 1], dtype=object)}, protocol=3))
    with pytest.raises(cifar10.UnsafePickleError, match="data_batch_1: expected a numeric dtype"):
        read_batch(path)


@pytest.mark.parametrize("keep", [0, 10, 0.5, -1], ids=["empty", "10 bytes", "half", "last byte"])
@ignore_synthetic
def test_truncated_batch_raises_an_error_naming_the_file(tmp_path, synthetic_cifar10_dir, keep):
    raw = (synthetic_cifar10_dir / "data_batch_1").read_bytes()
    cut = {0: 0, 10: 10, 0.5: len(raw) // 2, -1: len(raw) - 1}[keep]
    path = tmp_path / "data_batch_1"
    path.write_bytes(raw[:cut])
    with pytest.raises(CifarFormatError, match="truncated or malformed") as err:
        load_cifar10_batch(path)
    assert str(path) in str(err.value)


MALFORMED = {
    "not a dict": ([1, 2, 3], "expected a pickled dict, got list"),
    "wrong row size": ({"labels": [0], "data": np.zeros((1, 100), np.uint8)}, "expected 'data'"),
    "float pixels": ({"labels": [0], "data": np.zeros((1, 3072))}, "expected 'data' as uint8"),
    "missing data": ({"labels": [0]}, "expected 'data'"),
    "labels too short": (
        {"labels": [0], "data": np.zeros((2, 3072), np.uint8)},
        "expected 'labels' as a list of 2 ints, got 1 of them",
    ),
    "label out of range": ({"labels": [10], "data": np.zeros((1, 3072), np.uint8)}, r"expected labels in \[0, 10\)"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_batch_raises_an_error_naming_the_file(tmp_path, case):
    content, message = MALFORMED[case]
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps(content, protocol=3))
    with pytest.raises(CifarFormatError, match=message) as err:
        load_cifar10_batch(path)
    assert str(path) in str(err.value)


def test_not_a_pickle_at_all_is_a_clear_error(tmp_path):
    path = tmp_path / "test_batch"
    path.write_text("<html>404 Not Found</html>")
    with pytest.raises(CifarFormatError, match="test_batch"):
        read_batch(path)


# ---------------------------------------------------------------------------
# Finding the data
# ---------------------------------------------------------------------------


def test_missing_dataset_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    with pytest.raises(FileNotFoundError) as err:
        load_cifar10(tmp_path)
    message = str(err.value)
    hints = ("python data/get_cifar10.py", "--synthetic", "--from-file", "$CIFAR10_DIR")
    for hint in (*hints, str(tmp_path)):
        assert hint in message


@ignore_synthetic
def test_cifar10_dir_environment_variable_is_the_default_root(synthetic_cifar10_dir, monkeypatch):
    monkeypatch.setenv("CIFAR10_DIR", str(synthetic_cifar10_dir))
    assert len(load_cifar10()[0]) == SYNTHETIC_TRAIN
    monkeypatch.setenv("CIFAR10_DIR", str(synthetic_cifar10_dir.parent))  # its parent works too
    assert len(load_cifar10()[2]) == SYNTHETIC_TEST
    assert is_synthetic()


def test_default_root_is_data_cifar_10_batches_py(monkeypatch):
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    expected = REPO_ROOT / "data" / "cifar-10-batches-py"
    try:
        assert cifar10.dataset_dir() == expected
    except FileNotFoundError as err:  # no dataset downloaded on this machine
        assert str(expected) in str(err)


# ---------------------------------------------------------------------------
# The synthetic stand-in is reported
# ---------------------------------------------------------------------------


def test_synthetic_data_is_flagged_by_warning_function_and_dict(synthetic_cifar10_dir):
    assert is_synthetic(synthetic_cifar10_dir)
    with pytest.warns(SyntheticDataWarning, match="SYNTHETIC"):
        load_cifar10(synthetic_cifar10_dir)
    with pytest.warns(SyntheticDataWarning):
        data = get_cifar10_data(synthetic_cifar10_dir, 400, 100, 50, 20)
    assert data["synthetic"] is True
    assert label_names(synthetic_cifar10_dir) == CLASS_NAMES


def test_plain_data_is_not_flagged(tmp_path):
    write_plain_batches(tmp_path, num_train=50, num_test=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = get_cifar10_data(tmp_path, 40, 10, 10, 5)
    assert data["synthetic"] is False and not is_synthetic(tmp_path)


# ---------------------------------------------------------------------------
# get_cifar10_data: the standard splits
# ---------------------------------------------------------------------------

SIZES = dict(num_training=300, num_validation=100, num_test=50, num_dev=40)


@pytest.fixture(scope="module")
def raw(synthetic_cifar10_dir):
    with pytest.warns(SyntheticDataWarning):
        return load_cifar10(synthetic_cifar10_dir)


@pytest.fixture(scope="module")
def data(synthetic_cifar10_dir):
    with pytest.warns(SyntheticDataWarning):
        return get_cifar10_data(synthetic_cifar10_dir, **SIZES)


def test_splits_have_the_requested_sizes_and_a_bias_column(data):
    D = 3072 + 1
    for split, n in [("train", 300), ("val", 100), ("test", 50), ("dev", 40)]:
        assert data[f"X_{split}"].shape == (n, D), split
        assert data[f"y_{split}"].shape == (n,) and data[f"y_{split}"].dtype == np.int64, split
        assert data[f"X_{split}"].dtype == np.float64, split
        assert np.all(data[f"X_{split}"][:, -1] == 1.0), f"bias column of X_{split}"
    assert data["mean_image"].shape == (3072,)


def test_splits_are_the_documented_slices(data, raw):
    X_train, y_train, X_test, y_test = raw
    mean = data["mean_image"]
    assert np.array_equal(data["y_train"], y_train[:300])
    assert np.array_equal(data["y_val"], y_train[300:400]), "val is the images right after train"
    assert np.array_equal(data["y_test"], y_test[:50]), "test is the first num_test test images"
    np.testing.assert_allclose(data["X_val"][:, :-1] + mean, X_train[300:400].reshape(100, -1))
    np.testing.assert_allclose(data["X_test"][:, :-1] + mean, X_test[:50].reshape(50, -1))


def test_training_mean_is_subtracted_from_every_split(data, raw):
    X_train = raw[0][:300].reshape(300, -1).astype(np.float64)
    np.testing.assert_allclose(data["mean_image"], X_train.mean(axis=0))
    np.testing.assert_allclose(data["X_train"][:, :-1].mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(data["X_train"][:, :-1], X_train - data["mean_image"])


def test_dev_is_a_subset_of_train(data):
    train_rows = {row.tobytes() for row in data["X_train"]}
    assert all(row.tobytes() in train_rows for row in data["X_dev"])
    assert len({row.tobytes() for row in data["X_dev"]}) == 40, "dev draws without replacement"


@ignore_synthetic
def test_dev_depends_only_on_the_seed(synthetic_cifar10_dir):
    a = get_cifar10_data(synthetic_cifar10_dir, **SIZES, seed=1)
    b = get_cifar10_data(synthetic_cifar10_dir, **SIZES, seed=1)
    c = get_cifar10_data(synthetic_cifar10_dir, **SIZES, seed=2)
    assert np.array_equal(a["X_dev"], b["X_dev"]) and not np.array_equal(a["X_dev"], c["X_dev"])


@ignore_synthetic
def test_options_turn_off_centring_and_bias_and_set_dtype(synthetic_cifar10_dir, raw):
    data = get_cifar10_data(synthetic_cifar10_dir, **SIZES, subtract_mean=False, add_bias=False, dtype=np.float32)
    assert data["X_train"].shape == (300, 3072) and data["X_train"].dtype == np.float32
    np.testing.assert_array_equal(data["X_train"], raw[0][:300].reshape(300, -1))


@ignore_synthetic
@pytest.mark.parametrize(
    "sizes, message",
    [
        (dict(num_training=SYNTHETIC_TRAIN, num_validation=1), f"num_training \\+ num_validation <= {SYNTHETIC_TRAIN}"),
        (dict(num_test=SYNTHETIC_TEST + 1), f"num_test <= {SYNTHETIC_TEST}"),
        (dict(num_training=100, num_validation=0, num_dev=101), "num_dev <= num_training = 100"),
        (dict(num_training=-1), "num_training >= 0, got -1"),
    ],
)
def test_sizes_larger_than_the_data_raise_with_available_counts(synthetic_cifar10_dir, sizes, message):
    defaults = dict(num_training=300, num_validation=100, num_test=50, num_dev=40)
    with pytest.raises(ValueError, match=message):
        get_cifar10_data(synthetic_cifar10_dir, **{**defaults, **sizes})


@ignore_synthetic
def test_non_integer_size_is_a_type_error(synthetic_cifar10_dir):
    with pytest.raises(TypeError, match="expected num_training to be an int, got float"):
        get_cifar10_data(synthetic_cifar10_dir, num_training=300.0)
