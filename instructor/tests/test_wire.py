"""Tests for instructor/grading/wire.py: the boundary carries data and nothing else (left out of the kit).

And one for boundary.py: a worker that exits mid-call is reported as exiting.
"""

from __future__ import annotations

import io
import math
import os

import numpy as np
import pytest

from instructor.grading import wire


def round_trip(value):
    encoder = wire.Encoder()
    body = {"value": encoder.encode(value)}
    read_fd, write_fd = os.pipe()
    try:
        wire.send(write_fd, body, encoder)
        os.close(write_fd)
        with os.fdopen(read_fd, "rb") as reader:
            header, raw = wire.read_frame(reader.read)
    finally:
        for fd in (write_fd,):
            try:
                os.close(fd)
            except OSError:
                pass
    return wire.Decoder(raw).decode(header["value"])


def test_numbers_strings_and_containers_keep_their_types():
    value = (1, 2.5, "text", None, True, [np.float32(1.5), np.int64(3)], {"a": (1, 2)}, math.inf)
    back = round_trip(value)
    assert back == value
    assert type(back[5][0]) is np.float32 and type(back[5][1]) is np.int64 and isinstance(back[0], int)
    assert math.isnan(round_trip(math.nan))


@pytest.mark.parametrize(
    "make",
    [
        lambda a: a,
        lambda a: np.asfortranarray(a),
        lambda a: a[::2, ::3],
        lambda a: a.astype(np.float32),
        lambda a: a > 0,
        lambda a: a[:0],
    ],
    ids=["C", "Fortran", "strided", "float32", "bool", "empty"],
)
def test_arrays_keep_values_dtype_and_layout_kind(make):
    a = make(np.random.default_rng(0).standard_normal((6, 9)))
    b = round_trip(a)
    assert b.dtype == a.dtype and b.shape == a.shape and np.array_equal(a, b)
    assert b.flags.c_contiguous == a.flags.c_contiguous and b.flags.f_contiguous == a.flags.f_contiguous


def test_read_only_arrays_arrive_read_only():
    a = np.arange(6.0)
    a.flags.writeable = False
    assert not round_trip(a).flags.writeable


@pytest.mark.parametrize(
    "value", [np.array([object()], dtype=object), np.zeros(2, dtype=[("x", "f8")]), lambda: None, object()]
)
def test_anything_but_plain_numbers_is_refused(value):
    with pytest.raises(wire.WireError):
        wire.Encoder().encode(value)


def frame(header: bytes, tail: bytes = b"") -> io.BytesIO:
    return io.BytesIO(wire.HEADER.pack(len(header)) + header + tail)


@pytest.mark.parametrize(
    "stream",
    [
        io.BytesIO(b"\x00\x00"),  # cut short
        frame(b"not json"),
        frame(b"[1, 2]"),  # not an object
        frame(b'{"arrays": [16]}', b"short"),  # fewer bytes than announced
        frame(b'{"arrays": ["x"]}'),
        io.BytesIO(wire.HEADER.pack(wire.MAX_HEADER_BYTES + 1)),
        frame(b'{"arrays": [%d]}' % (wire.MAX_ARRAY_BYTES + 1)),
    ],
    ids=["truncated", "not-json", "not-object", "missing-bytes", "bad-size", "huge-header", "huge-arrays"],
)
def test_malformed_frames_raise_wire_error(stream):
    with pytest.raises(wire.WireError):
        wire.read_frame(stream.read)


@pytest.mark.parametrize(
    "spec",
    [
        {"$": "array", "i": 0, "dtype": "O", "shape": [1]},  # object dtype: could hold anything
        {"$": "array", "i": 0, "dtype": "<f8", "shape": [3]},  # 8 bytes for 3 floats
        {"$": "array", "i": 5, "dtype": "<f8", "shape": [1]},  # no such array
        {"$": "pickle", "data": "..."},
        {"$": "float", "repr": "__import__('os')"},
        ["an", "untagged", "list"],
    ],
)
def test_malformed_values_raise_wire_error(spec):
    with pytest.raises(wire.WireError):
        wire.Decoder([b"\x00" * 8]).decode(spec)


# --- the boundary: a worker that exits ---------------------------------------


@pytest.mark.parametrize("linger", [0.0, 0.3])
def test_a_worker_that_exits_mid_call_is_reported_as_exiting_not_as_garbage(tmp_path, linger):
    # os._exit in student code: the worker's output ends first and the process is seen to
    # exit a moment later (longer inside bubblewrap); the message must name the exit.
    import sys

    from instructor.grading.boundary import Boundary, StudentCodeError

    script = (
        "import os, sys, time\nsys.stdin.buffer.read(1)\nos.write(1, b'\\x00\\x00')\nos.close(1)\n"
        f"time.sleep({linger})\nos._exit(3)\n"
    )
    boundary = Boundary(
        {
            "worker_command": [sys.executable, "-c", script],
            "worker_env": {},
            "worker_log": str(tmp_path / "worker.log"),
            "worker_cwd": str(tmp_path),
        }
    )
    try:
        with pytest.raises(StudentCodeError, match="exited with code 3"):
            boundary.call("softmax_loss_naive", {"op": "call", "name": "softmax_loss_naive"}, (1.0,))
    finally:
        boundary.close()
