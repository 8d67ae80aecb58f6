"""The one boundary between the grading harness and the student's process: data only.

Both sides speak it: the harness (trusted, instructor/grading/boundary.py)
and the worker (untrusted, instructor/grading/worker.py, which runs the
student's code in the sandbox). A message is one frame:

    4 bytes   length of the JSON header, big-endian
    header    UTF-8 JSON
    arrays    the raw bytes of every array the header lists, in order

Values in the header are JSON numbers, strings, booleans and null, plus
tagged objects for what JSON lacks ({"$": "array", ...}, "tuple", "list",
"dict", "scalar", "path", "object"). Arrays travel as raw bytes of a
whitelisted dtype (bool, integers, floats, complex): no pickle, no object
arrays, so a hostile message can at worst be malformed, which raises
WireError. This module imports nothing from the kit or the grader, so the
worker can run it alone.
"""

from __future__ import annotations

import json
import math
import os
import struct

import numpy as np

HEADER = struct.Struct(">I")
MAX_HEADER_BYTES = 8 * 2**20  # a header holds names, numbers and short texts
MAX_ARRAY_BYTES = 512 * 2**20  # all arrays of one message: CIFAR-sized batches fit easily
MAX_DEPTH = 20  # nesting of lists and dicts in one value
COALESCE_BYTES = 1 << 20  # a frame up to this size is sent with one write
ARRAY_KINDS = "biufc"  # bool, signed, unsigned, float, complex: plain numbers only


class WireError(ValueError):
    """A frame or value that is not what this protocol carries."""


class Encoder:
    """Turns one value into a JSON-able tree plus a list of arrays."""

    def __init__(self, encode_object=None):
        self.arrays: list[np.ndarray] = []  # what is sent, by frame index
        self.sources: list[np.ndarray] = []  # the arrays given, by frame index (copy-back, aliases)
        self.encode_object = encode_object  # hook for values the caller knows (handles, paths)

    def array(self, a: np.ndarray, **extra) -> dict:
        if a.dtype.kind not in ARRAY_KINDS or a.dtype.fields is not None:
            raise WireError(f"an array of dtype {a.dtype} cannot cross the boundary (numbers only)")
        if a.flags.c_contiguous:
            order, data = "C", a
        elif a.flags.f_contiguous:
            order, data = "F", a.T  # the transpose of a Fortran array is C-contiguous
        else:
            order, data = "strided", np.ascontiguousarray(a)
        self.arrays.append(np.ascontiguousarray(data))
        self.sources.append(a)
        return {
            "$": "array",
            "i": len(self.arrays) - 1,
            "dtype": a.dtype.str,
            "shape": list(a.shape),
            "order": order,
            "writeable": bool(a.flags.writeable),
            **extra,
        }

    def encode(self, value, depth: int = 0):
        if depth > MAX_DEPTH:
            raise WireError("a value nested too deeply")
        if type(value) is np.ndarray:  # the most common value first: thousands per submission
            return self.array(value)
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int) and not isinstance(value, np.integer):
            return value
        if isinstance(value, float) and not isinstance(value, np.floating):
            return value if math.isfinite(value) else {"$": "float", "repr": repr(value)}
        if isinstance(value, np.ndarray):
            return self.array(value)
        if isinstance(value, np.generic):
            return {"$": "scalar", "array": self.array(np.asarray(value))}
        if isinstance(value, (list, tuple)):
            items = [self.encode(v, depth + 1) for v in value]
            return {"$": "tuple" if isinstance(value, tuple) else "list", "items": items}
        if isinstance(value, dict):
            return {
                "$": "dict",
                "items": [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in value.items()],
            }
        if self.encode_object is not None:
            tagged = self.encode_object(value, self)
            if tagged is not None:
                return tagged
        raise WireError(f"a {type(value).__name__} cannot cross the boundary (arrays, numbers and strings only)")


def write_frame(fd: int, header: dict, arrays: list[np.ndarray]) -> None:
    """Send one frame on file descriptor `fd`."""
    head = json.dumps(header, allow_nan=False).encode()
    if len(head) > MAX_HEADER_BYTES:
        raise WireError(f"a header of {len(head)} bytes is too large")
    if sum(a.nbytes for a in arrays) > MAX_ARRAY_BYTES:
        raise WireError("the arrays of one message are too large")
    chunks = [HEADER.pack(len(head)), head, *(memoryview(a).cast("B") for a in arrays if a.nbytes)]
    if sum(len(c) for c in chunks) <= COALESCE_BYTES:
        chunks = [b"".join(chunks)]  # one write: the reader wakes once, not once per piece
    for chunk in chunks:
        write_all(fd, chunk)


def write_all(fd: int, data: bytes | memoryview) -> None:
    """Write all of `data` to the (blocking) file descriptor `fd`."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def frame_bytes(body: dict, encoder: Encoder) -> bytes:
    """The bytes `send` would write for `body`: to queue several frames and write them as the reader takes them."""
    arrays = encoder.arrays
    head = json.dumps(frame_header(body, arrays), allow_nan=False).encode()
    if len(head) > MAX_HEADER_BYTES:
        raise WireError(f"a header of {len(head)} bytes is too large")
    if sum(a.nbytes for a in arrays) > MAX_ARRAY_BYTES:
        raise WireError("the arrays of one message are too large")
    return b"".join([HEADER.pack(len(head)), head, *(memoryview(a).cast("B") for a in arrays if a.nbytes)])


def split_frame(buffer: bytes | bytearray) -> tuple[dict, list[bytes], int] | None:
    """The frame at the start of `buffer` as read_frame gives it, and its length in bytes; None if not all
    of it is there yet. WireError if what is there cannot be a frame."""
    if len(buffer) < HEADER.size:
        return None
    (size,) = HEADER.unpack_from(buffer)
    if size <= MAX_HEADER_BYTES and len(buffer) < HEADER.size + size:
        return None
    header, specs = _header(size, lambda: bytes(buffer[HEADER.size : HEADER.size + size]))
    start = HEADER.size + size
    if len(buffer) < start + sum(specs):
        return None
    raw = []
    for count in specs:
        raw.append(bytes(buffer[start : start + count]))
        start += count
    return header, raw, start


def read_exactly(read, count: int) -> bytes:
    """`count` bytes from read(n); WireError if the stream ends first."""
    parts, missing = [], count
    while missing:
        chunk = read(missing)
        if not chunk:
            raise WireError(f"the stream ended {missing} bytes before the end of a message")
        parts.append(chunk)
        missing -= len(chunk)
    return b"".join(parts)


def read_frame(read) -> tuple[dict, list[bytes]]:
    """One frame from read(n): its header and the raw bytes of its arrays."""
    (size,) = HEADER.unpack(read_exactly(read, HEADER.size))
    header, specs = _header(size, lambda: read_exactly(read, size))
    return header, [read_exactly(read, n) for n in specs]


def _header(size: int, read_header) -> tuple[dict, list[int]]:
    """A frame's header (read_header() gives its `size` bytes) and its arrays' byte counts, checked."""
    if size > MAX_HEADER_BYTES:
        raise WireError(f"a header of {size} bytes is too large")
    try:
        header = json.loads(read_header())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise WireError(f"a header that is not JSON ({err})") from err
    if not isinstance(header, dict):
        raise WireError("a header that is not a JSON object")
    specs = header.get("arrays", [])
    if not isinstance(specs, list) or not all(isinstance(n, int) and n >= 0 for n in specs):
        raise WireError("a header whose array sizes are not counts")
    if sum(specs) > MAX_ARRAY_BYTES:
        raise WireError("the arrays of one message are too large")
    return header, specs


def frame_header(body: dict, arrays: list[np.ndarray]) -> dict:
    """The header to send: the body plus the byte count of each array."""
    return {**body, "arrays": [int(a.nbytes) for a in arrays]}


class Decoder:
    """Turns a decoded header tree and its raw arrays back into values."""

    def __init__(self, raw: list[bytes], decode_object=None, originals: dict | None = None):
        self.raw = raw
        self.decode_object = decode_object  # hook for tags the caller knows
        # The arrays this side sent, by frame index: a result that the other side
        # reports as a view of one of them ("alias") becomes the same view here.
        self.originals = originals or {}

    def array(self, spec) -> np.ndarray:
        try:
            dtype = np.dtype(str(spec["dtype"]))
            shape = tuple(int(n) for n in spec["shape"])
            data = self.raw[int(spec["i"])]
            order = spec.get("order", "C")
        except (KeyError, TypeError, ValueError, IndexError) as err:
            raise WireError(f"a malformed array ({err})") from err
        if dtype.kind not in ARRAY_KINDS or dtype.fields is not None or any(n < 0 for n in shape):
            raise WireError(f"an array of dtype {dtype} and shape {shape}")
        if len(data) != math.prod(shape) * dtype.itemsize:
            raise WireError(f"an array of shape {shape} and dtype {dtype} does not match its {len(data)} bytes")
        if order == "F":
            a = np.frombuffer(data, dtype=dtype).reshape(shape[::-1]).copy().T
        elif order == "strided" and len(shape) and math.prod(shape):
            # Same values, not contiguous: every other element of a buffer twice as long.
            wide = np.zeros((2 * shape[0], *shape[1:]), dtype=dtype)
            a = wide[::2]
            a[...] = np.frombuffer(data, dtype=dtype).reshape(shape)
        else:
            a = np.frombuffer(data, dtype=dtype).reshape(shape).copy()
        if not spec.get("writeable", True):
            a.flags.writeable = False
        alias = spec.get("alias")
        return self._view_of_original(a, alias) if isinstance(alias, dict) else a

    def _view_of_original(self, a: np.ndarray, alias: dict) -> np.ndarray:
        """The same view of our own array when the other side's result was a view of it."""
        source = self.originals.get(alias.get("i"))
        if not isinstance(source, np.ndarray) or not (source.flags.c_contiguous or source.flags.f_contiguous):
            return a
        try:
            view = np.ndarray(
                a.shape,
                a.dtype,
                buffer=source.reshape(-1, order="A").view(np.uint8),
                offset=int(alias["offset"]),
                strides=tuple(int(s) for s in alias["strides"]),
            )
        except (KeyError, TypeError, ValueError):
            return a
        return view if np.array_equal(view, a, equal_nan=a.dtype.kind in "fc") else a

    def decode(self, value, depth: int = 0):
        if depth > MAX_DEPTH:
            raise WireError("a value nested too deeply")
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if not isinstance(value, dict) or "$" not in value:
            raise WireError(f"an untagged {type(value).__name__}")
        tag = value["$"]
        if tag == "array":
            return self.array(value)
        if tag == "scalar":
            return self.array(value.get("array", {}))[()]
        if tag == "float":
            text = value.get("repr")
            if text not in ("inf", "-inf", "nan"):
                raise WireError(f"a float spelled {text!r}")
            return float(text)
        if tag in ("list", "tuple"):
            items = [self.decode(v, depth + 1) for v in _items(value)]
            return tuple(items) if tag == "tuple" else items
        if tag == "dict":
            pairs = _items(value)
            if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
                raise WireError("a malformed dict")
            result = {}
            for k, v in pairs:
                key = self.decode(k, depth + 1)
                if not isinstance(key, (str, int, float, bool, tuple)) and key is not None:
                    raise WireError(f"a dict key of type {type(key).__name__}")
                result[key] = self.decode(v, depth + 1)
            return result
        if self.decode_object is not None:
            return self.decode_object(value, self)
        raise WireError(f"an unknown tag {tag!r}")


def _items(value: dict) -> list:
    items = value.get("items")
    if not isinstance(items, list):
        raise WireError("a malformed list")
    return items


def send(fd: int, body: dict, encoder: Encoder) -> None:
    """Send `body` (already encoded with `encoder`) and the encoder's arrays."""
    write_frame(fd, frame_header(body, encoder.arrays), encoder.arrays)
