"""The worker: runs the student's code for the harness, inside the sandbox. Untrusted side.

    python -m instructor.grading.worker CONFIG_JSON

Started by the harness (instructor/grading/boundary.py) with a pipe on its
stdin and stdout, it answers one request at a time (instructor/grading/wire.py):
call a student function, make an object, call a method, get or set an
attribute. It imports the student's files through the kit's
tests/student_code.py and sends back the values, the inputs the call
changed, what it printed, or the error it raised.

Nothing here is trusted: student code runs in this process and may rewrite
any of it. That is fine by design: the harness decides every verdict from
the data it receives, so the worst this process can do is send wrong
values, fail or never answer. Everything that must hold regardless (the
time limits, the sandbox, killing leftovers) is enforced from outside.
"""

from __future__ import annotations

import ctypes
import importlib
import io
import json
import os
import resource
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

from instructor.grading import wire

TEXT_LIMIT = 64 * 1024  # characters of printed output kept per call
TRACEBACK_LIMIT = 8000  # characters of a traceback kept
MAX_FRAMES = 50  # innermost frames of a traceback searched for the kit's files (a deep recursion has thousands)
PR_SET_PDEATHSIG = 1
HOLD_SECONDS = 0.005  # the longest a batch's answers are held back to be written together
HOLD_COUNT = 256  # answers held back at most


def set_limits(config: dict) -> None:
    """Address space, file size and core dumps; die with the parent (outside bubblewrap too)."""
    for name, value in (
        ("RLIMIT_AS", config.get("memory")),
        ("RLIMIT_FSIZE", config.get("fsize")),
        ("RLIMIT_CORE", 0),
        ("RLIMIT_NPROC", config.get("nproc")),
    ):
        if value is not None:
            resource.setrlimit(getattr(resource, name), (value, value))
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    parent = os.environ.get("GRADER_PARENT")
    if config.get("check_parent") and parent and os.getppid() != int(parent):
        os._exit(1)  # the harness died before the line above took effect


class Worker:
    def __init__(self, kit: Path):
        self.kit = kit
        self.objects: dict[int, object] = {}
        self.files_dir = Path(tempfile.mkdtemp(prefix="grader-files-"))
        import tests.student_code as student_code  # the kit's own, from the worker's copy

        self.student_code = student_code
        # Objects of the classes in these modules stay here and cross as handles.
        self.object_modules = {module for module, _, _ in student_code.STUDENT_API.values()}

    # --- values in and out -------------------------------------------------------

    def decode_object(self, value: dict, decoder: wire.Decoder):
        tag = value.get("$")
        if tag == "object":
            handle = value.get("h")
            if handle not in self.objects:
                raise wire.WireError(f"no object with handle {handle!r}")
            return self.objects[handle]
        if tag == "path":
            directory = Path(tempfile.mkdtemp(dir=self.files_dir))
            path = directory / Path(str(value.get("name", "file"))).name
            if value.get("data") is not None:
                path.write_bytes(decoder.array(value["data"]).tobytes())
            self.paths.append(path)
            return path if value.get("kind") == "Path" else str(path)
        raise wire.WireError(f"an unknown tag {tag!r}")

    def encode_object(self, value, encoder: wire.Encoder):
        if getattr(type(value), "__module__", None) in self.object_modules and not callable(value):
            handle = len(self.objects) + 1
            self.objects[handle] = value
            return {"$": "object", "h": handle, "class": type(value).__name__}
        if callable(value) and hasattr(value, "__self__"):
            return {"$": "method", "name": getattr(value, "__name__", "")}
        return None

    def alias_of(self, result, inputs: dict):
        """For an array result sharing memory with input i: (i, byte offset, strides)."""
        for i, source in inputs.items():
            if source.size and np.shares_memory(result, source):
                offset = result.__array_interface__["data"][0] - source.__array_interface__["data"][0]
                return {"i": i, "offset": int(offset), "strides": list(result.strides)}
        return None

    # --- requests ------------------------------------------------------------------

    def target(self, request: dict):
        op, name = request.get("op"), str(request.get("name", ""))
        code = self.student_code
        if op == "import" and name in self.object_modules:  # one of the student's files, on its own
            return lambda: importlib.import_module(name) and None
        if op == "call":
            if name in code.HELPERS:
                return getattr(code, name)
            if code.STUDENT_API.get(name, (None, None))[1] == "function":
                return getattr(code, name)
        elif op == "new":
            if code.STUDENT_API.get(name, (None, None))[1] == "class":
                return getattr(code, name)
        elif op == "classmethod":
            cls_name = str(request.get("cls", ""))
            if code.STUDENT_API.get(cls_name, (None, None))[1] == "class" and not name.startswith("_"):
                return getattr(getattr(code, cls_name), name)
        elif op == "method" and not name.startswith("_"):
            return getattr(self.objects[request["h"]], name)
        raise wire.WireError(f"no such request: {op} {name}")

    def handle(self, header: dict, raw: list[bytes]) -> tuple[dict, wire.Encoder]:
        self.paths: list[Path] = []
        decoder = wire.Decoder(raw, self.decode_object)
        inputs: dict[int, np.ndarray] = {}  # the frame's array index -> the array passed in
        original_array = decoder.array

        def tracked_array(spec):
            a = original_array(spec)
            inputs[int(spec["i"])] = a
            return a

        decoder.array = tracked_array
        encoder = wire.Encoder(self.encode_object)
        op = header.get("op")
        out, err = io.StringIO(), io.StringIO()
        try:
            args = decoder.decode(header.get("args", {"$": "list", "items": []}))
            kwargs = decoder.decode(header.get("kwargs", {"$": "dict", "items": []}))
            if op == "getattr":
                obj, value = self.objects[header["h"]], None
                value = getattr(obj, str(header.get("name")))
            elif op == "setattr":
                setattr(self.objects[header["h"]], str(header.get("name")), args[0])
                value = None
            else:
                function = self.target(header)
                before = {i: a.copy() for i, a in inputs.items()}
                saved = sys.stdout, sys.stderr
                sys.stdout, sys.stderr = out, err
                try:
                    value = function(*args, **kwargs)
                finally:
                    sys.stdout, sys.stderr = saved
                changed = [
                    i for i, a in inputs.items() if a.shape != before[i].shape or a.tobytes() != before[i].tobytes()
                ]
                mutated = [{"i": i, "array": encoder.array(inputs[i])} for i in changed]
            if isinstance(value, np.ndarray):
                encoded = encoder.array(value, alias=self.alias_of(value, inputs))
            elif isinstance(value, tuple):
                encoded = {
                    "$": "tuple",
                    "items": [
                        encoder.array(v, alias=self.alias_of(v, inputs))
                        if isinstance(v, np.ndarray)
                        else encoder.encode(v)
                        for v in value
                    ],
                }
            else:
                encoded = encoder.encode(value)
            body = {"ok": True, "value": encoded}
            if op not in ("getattr", "setattr"):
                body["mutated"] = mutated
                body["files"] = [
                    {"i": i, "data": encoder.array(np.frombuffer(p.read_bytes(), np.uint8))}
                    for i, p in enumerate(self.paths)
                    if p.is_file()
                ]
        except BaseException as error:  # noqa: BLE001 - SystemExit too: every error is an answer
            encoder = wire.Encoder()
            body = {"ok": False, "error": self.describe_error(error, encoder)}
        body["stdout"], body["stderr"] = out.getvalue()[-TEXT_LIMIT:], err.getvalue()[-TEXT_LIMIT:]
        return body, encoder

    def describe_error(self, error: BaseException, encoder: wire.Encoder) -> dict:
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        text = text.replace(str(self.kit) + os.sep, "")  # paths as the student sees them
        attrs = {}
        for key, value in list(vars(error).items())[:10] if hasattr(error, "__dict__") else []:
            try:
                attrs[str(key)] = encoder.encode(value)
            except (wire.WireError, RecursionError):
                continue
        try:
            message = str(error)
        except Exception:  # noqa: BLE001 - a hostile __str__
            message = "<an error whose message could not be printed>"
        return {
            "type": type(error).__name__,
            "module": type(error).__module__,
            "message": message[-TRACEBACK_LIMIT:],
            "traceback": text[-TRACEBACK_LIMIT:],
            "attrs": attrs,
            "where": self.kit_frames(error),
        }

    def kit_frames(self, error: BaseException) -> list[dict]:
        """Where in the kit's files the error arose, innermost last: {"file", "line", "function"}.

        Only frames in the kit (paths relative to it, as the student sees them), none of the
        grader's; a syntax error adds the place it points at. The harness shows the student
        the lines of their own files around these places (instructor/grading/student_view.py).
        """
        frames = []
        for frame in traceback.extract_tb(error.__traceback__)[-MAX_FRAMES:]:
            relative = self.relative(frame.filename)
            if relative is not None:
                frames.append({"file": relative, "line": frame.lineno, "function": frame.name})
        if isinstance(error, SyntaxError) and isinstance(error.lineno, int):
            relative = self.relative(error.filename or "")
            if relative is not None:
                frames.append({"file": relative, "line": error.lineno, "function": "", "offset": error.offset})
        return frames

    def relative(self, filename: str) -> str | None:
        """`filename` relative to the kit, or None if it lies outside it."""
        try:
            return Path(filename).resolve().relative_to(self.kit.resolve()).as_posix()
        except (ValueError, OSError):
            return None


def main() -> None:
    config = json.loads(sys.argv[1])
    set_limits(config)
    kit = Path(config["kit"]).resolve()
    # The channel moves off fds 0 and 1, so a stray print cannot corrupt it.
    channel_in, channel_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)
    sys.path[:0] = [str(kit)]
    os.chdir(kit)
    worker = Worker(kit)
    reader = io.BufferedReader(io.FileIO(channel_in, "r", closefd=False), buffer_size=1 << 20)
    held: list[bytes] = []  # answers held back while more requests of the same batch follow
    held_since = 0.0
    while True:
        try:
            header, raw = wire.read_frame(reader.read)
        except wire.WireError:
            return  # the harness closed the pipe: done
        body, encoder = worker.handle(header, raw)
        try:
            frame = wire.frame_bytes(body, encoder)
        except wire.WireError as error:  # e.g. a result too large to send
            fallback = wire.Encoder()
            failed = {"ok": False, "stdout": "", "stderr": "", "error": worker.describe_error(error, fallback)}
            frame = wire.frame_bytes(failed, fallback)
        if not held:
            held_since = time.monotonic()
        held.append(frame)
        # One write for a batch's answers (Boundary.call_many marks all but its last request "more"),
        # or for what HOLD_SECONDS gave: the grader's timeouts are seconds, this is milliseconds.
        if not header.get("more") or time.monotonic() - held_since > HOLD_SECONDS or len(held) >= HOLD_COUNT:
            wire.write_all(channel_out, b"".join(held))
            held.clear()


if __name__ == "__main__":
    main()
