"""The harness's side of the boundary: calls into the student's code, run by the worker.

In the grading harness the tests reach the student's names through proxies
(instructor/grading/remote.py); each call they make is sent here as data to
the worker process (instructor/grading/worker.py, inside the sandbox) and
its answer comes back as data. For a test nothing
changes: arguments the call modified are modified here too, an array the
call returned that is (a view of) an argument is one here too, what the call
printed is printed here, and an error it raised is raised here with the
worker's traceback attached. What a test can no longer get is any object
of the student's: only numbers, arrays, strings and handles.

Time is bounded from here. Each entry point (a function, a method) gets a
timeout sized from the reference solution's own time for it; once it has
timed out it is not called again ("timed out earlier in <test>"), so a
submission that never returns is graded in seconds per entry point. Each
test also has a budget for all of its calls together. A worker that dies or
times out is killed with everything it started and a fresh one serves the
next call. A fresh worker first imports the student's files, one request
each: a file whose import ends the process or never finishes is not
imported again, and nothing in it is called again (every call would end the
same way, one restart each).

The proxies' and the calls' frames are hidden from pytest's tracebacks
(`__tracebackhide__`): a failure shows the test's line and the student's
error, and pytest does not spend time formatting the boundary's own lines.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from instructor.grading import wire
from instructor.grading.points import is_hidden

# Per-call timeout: a floor for start-up noise, plus a multiple of the reference's time.
TIMEOUT_FLOOR = 2.0  # seconds: numpy's first call, a loaded machine
TIMEOUT_FACTOR = 20.0  # the student's code may be this much slower than the reference
UNKNOWN_TIMEOUT = 10.0  # seconds for an entry point the reference never called
MAX_FILE_BYTES = 64 * 2**20  # a file passed to or from a call (a saved model is ~250 kB)
OUTPUT_TAIL = 2000  # characters of the worker's stderr shown after a crash
READ_CHUNK = 1 << 20  # bytes read from the worker at a time
EXIT_GRACE = 1.0  # seconds to wait for a worker whose output ended to be seen exiting
MAX_INCIDENTS = 100  # timeouts and crashes noted per submission (each ends a call; a few are normal)


class StudentCodeError(Exception):
    """The student's code failed in a way that has no exception of its own here."""


class StudentTimeout(StudentCodeError):
    """A call to the student's code did not return in time."""


class StudentImportError(StudentCodeError, ImportError):
    """A student's file cannot be imported: importing it ended the process running it, or never finished."""


class _NoAnswer(Exception):
    """The worker gave no answer (it has been replaced): kind "timeout" after `seconds` (`budget`: the
    test's budget ran out first) or "crash" (`why` says how it ended)."""

    def __init__(self, kind: str, why: str = "", seconds: float = 0.0, budget: bool = False):
        super().__init__(kind)
        self.kind, self.why, self.seconds, self.budget = kind, why, seconds, budget


def _public(test_id: str) -> str:
    """A test's id for a message any student may read: a hidden test's id would name its cases."""
    return "a hidden test" if is_hidden(test_id) else test_id


def _for_student(error: BaseException, kind: str, message: str, **data) -> BaseException:
    """Attach what the student may read of `error` as plain data (instructor/grading/student_view.py).

    kind: "raised" (their code raised: type, message and the kit frames the worker
    reported), "timeout" or "crash" (the process running their code died).
    """
    error.student_error = {"kind": kind, "message": message, **data}
    return error


METHOD = object()  # what a getattr returns for a bound method: remote.py calls it through RemoteMethod
LOST_OBJECT = (
    "this object was lost: the process running your code was restarted after a timeout or a crash earlier in this test"
)


class Handle:
    """An object that lives in the worker, known here by its handle and the worker it lives in
    (its generation): remote.py's RemoteObject."""

    _handle: int
    _generation: int

    @classmethod
    def _from_handle(cls, handle: int, generation: int):
        obj = object.__new__(cls)
        object.__setattr__(obj, "_handle", handle)
        object.__setattr__(obj, "_generation", generation)
        return obj


class RemoteTraceback(Exception):
    """The traceback of an error raised in the worker, as text."""

    def __str__(self) -> str:
        return "\n" + str(self.args[0]) if self.args else ""


def _exception_type(name: str, module: str, kit_exceptions: dict) -> type | None:
    """The exception class to raise here for one raised in the worker, or None."""
    if name in kit_exceptions:
        return kit_exceptions[name]
    candidate = getattr(sys.modules["builtins"], name, None) if module == "builtins" else None
    if isinstance(candidate, type) and issubclass(candidate, Exception):
        return candidate
    return None  # SystemExit, KeyboardInterrupt, NumPy's and the student's own errors


class Worker:
    """One worker process, talked to over its stdin and stdout."""

    def __init__(self, config: dict):
        self.config = config
        log = open(config["worker_log"], "ab")  # noqa: SIM115 - handed to the child, closed below
        user = config.get("worker_user")
        extra = {"user": user[0], "group": user[1], "extra_groups": []} if user else {}
        self.process = subprocess.Popen(
            config["worker_command"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env={**config["worker_env"], "GRADER_PARENT": str(os.getpid())} if config["worker_env"] else {},
            cwd=config.get("worker_cwd") or "/",
            start_new_session=True,
            **extra,
        )
        log.close()
        self.out = self.process.stdout.fileno()
        self.imported = False  # it has imported the student's files (Boundary._worker_with_imports)
        os.set_blocking(self.process.stdin.fileno(), False)  # written only as the worker takes it in
        self.outgoing = memoryview(b"")  # requests not yet written
        self.pending = bytearray()  # bytes read and not yet taken as an answer

    def send(self, frames: list[bytes]) -> None:
        """Queue requests: they are written while answers are read (`answer`), so neither pipe fills up
        with both sides waiting on each other however many are queued."""
        self.outgoing = memoryview(b"".join([bytes(self.outgoing), *frames]))

    def answer(self, timeout: float) -> tuple[dict, list[bytes]]:
        """The next answer, waiting at most `timeout` s for it (TimeoutError); queued requests go out meanwhile."""
        deadline = time.monotonic() + timeout
        into = self.process.stdin.fileno()
        while True:
            frame = wire.split_frame(self.pending)
            if frame is not None:
                header, raw, length = frame
                del self.pending[:length]
                return header, raw
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            readable, writable, _ = select.select([self.out], [into] if self.outgoing else [], [], remaining)
            if writable:
                try:
                    written = os.write(into, self.outgoing)  # non-blocking: what fits now
                except BlockingIOError:
                    written = 0
                self.outgoing = self.outgoing[written:]
            if readable:
                chunk = os.read(self.out, READ_CHUNK)
                if not chunk:
                    raise wire.WireError("the worker's output ended")
                self.pending += chunk

    def kill(self) -> None:
        """Kill the worker and everything it started (its session; the sandbox's namespace)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        sweep_uid = self.config.get("sweep_uid")
        if sweep_uid is not None:  # no namespace: end every process of the worker's own user
            subprocess.run(
                [sys.executable, "-S", "-c", "import os, signal; os.kill(-1, signal.SIGKILL)"],
                user=sweep_uid,
                group=sweep_uid,
                extra_groups=[],
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.process.wait()

    def describe_exit(self) -> str:
        code = self.process.poll()
        if code is None:
            return "it stopped answering"
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            hint = " (out of memory?)" if name in ("SIGKILL", "SIGSEGV", "SIGABRT") else ""
            return f"it was killed by {name}{hint}"
        return f"it exited with code {code}"


class Boundary:
    """Calls into the student's code, with its time limits; one per harness session."""

    def __init__(self, config: dict):
        self.kit_exceptions: dict[str, type] = {}  # filled by remote_module
        self.classes: dict[str, type] = {}  # the student's classes as Handle subclasses, filled by remote_module
        self.object_class: type = Handle  # an object of a class not among them
        self.modules: dict[str, str] = {}  # a student name -> its module (STUDENT_API), filled by remote_module
        self.module_order: list[str] = []  # those modules, each once, in the order they are imported
        self.configure(config)

    def configure(self, config: dict) -> None:
        """Start afresh for one submission: its worker's command, its limits, nothing timed out yet."""
        self.config = config
        self.budgets: dict[str, float] = config.get("budgets", {})
        self.call_cap = float(config.get("call_timeout", 60.0))
        self.test_budget = float(config.get("test_budget", 60.0))
        self.worker: Worker | None = None
        self.generation = 0
        self.timed_out: dict[str, str] = {}  # entry point -> the test it timed out in
        self.broken: dict[str, str] = {}  # module -> why it cannot be imported (its import ended the worker)
        self.current_test = "collection"
        self.test_started = time.monotonic()
        self.test_used = 0.0
        self.durations: dict[str, float] = {}  # entry point -> longest call (recorded for budgets)
        self.incidents: list[dict] = []  # timeouts, crashes, memory: {"kind", "entry", "test", "detail"}

    # --- the test being run ----------------------------------------------------------

    def start_test(self, test_id: str) -> None:
        self.current_test, self.test_used = test_id, 0.0

    def timeout_for(self, key: str) -> float:
        reference = self.budgets.get(key)
        own = UNKNOWN_TIMEOUT if reference is None else TIMEOUT_FLOOR + TIMEOUT_FACTOR * reference
        return min(own, self.call_cap)

    # --- the worker ----------------------------------------------------------------------

    def ensure_worker(self) -> Worker:
        if self.worker is None or self.worker.process.poll() is not None:
            if self.worker is not None:
                self.worker.kill()
            self.worker = Worker(self.config)
            self.generation += 1
        return self.worker

    def _replace(self, worker: Worker) -> None:
        """Kill a worker that timed out or failed and start the next one now: it starts up while
        the harness reports the failure, not when the next test first calls."""
        worker.kill()
        self.ensure_worker()

    def close(self) -> None:
        if self.worker is not None:
            self.worker.kill()
            self.worker = None

    def worker_output(self) -> str:
        try:
            data = Path(self.config["worker_log"]).read_bytes()[-OUTPUT_TAIL:]
        except OSError:
            return ""
        return data.decode("utf-8", "replace").strip()

    # --- calls ----------------------------------------------------------------------------

    def call(self, key: str, header: dict, args: tuple = (), kwargs: dict | None = None):
        """Run one request for entry point `key` and return its decoded value."""
        __tracebackhide__ = True
        return self.call_many(key, header, [(args, kwargs or {})])[0]

    def call_many(self, key: str, header: dict, calls: list[tuple[tuple, dict]]) -> list:
        """Run one request for entry point `key` per (args, kwargs), all sent at once; their values, in order.

        One round trip's wait instead of one per call (a finite-difference check makes hundreds).
        Each answer still has its own timeout, counted from the answer before it. If a call
        raises, the calls after it still run (they were sent) and the first error is raised
        once every answer is in, with `call_index` saying which call it was.
        """
        __tracebackhide__ = True
        self._check_may_call(key)
        worker = self._worker_with_imports(key)
        self._check_may_call(key)  # its file may have just failed to import
        last = len(calls) - 1
        requests = [self._request({**header, "more": i < last}, args, kwargs) for i, (args, kwargs) in enumerate(calls)]
        worker.send([frame for frame, _, _ in requests])
        values, first_error = [], None
        started = time.monotonic()
        for index, (_, originals, paths) in enumerate(requests):
            reply, raw = self._next_answer(worker, key, started)
            now = time.monotonic()
            elapsed, started = now - started, now
            self.test_used += elapsed
            if header.get("op") not in ("getattr", "setattr"):
                self.durations[key] = max(self.durations.get(key, 0.0), elapsed)
            try:
                values.append(self._answer(key, reply, raw, originals, paths))
            except Exception as error:  # noqa: BLE001 - raised below, once the answers sent are in
                if first_error is None:
                    error.call_index, first_error = index, error
                values.append(None)
        if first_error is not None:
            raise first_error
        return values

    def module_of(self, key: str) -> str | None:
        """The student's module an entry point lives in: "Softmax.train" -> "classifiers.linear_classifier"."""
        return self.modules.get(key.split(".", 1)[0].removesuffix("()"))

    def check_entry(self, key: str) -> None:
        """StudentTimeout if `key` timed out earlier; StudentCodeError if its file cannot be imported."""
        if key in self.timed_out:
            message = f"{key} timed out earlier (in {_public(self.timed_out[key])}) and is not called again"
            raise _for_student(StudentTimeout(message), "timeout", message, type="Timeout")
        module = self.module_of(key)
        if module in self.broken:
            message = f"{key} is not called: {self.broken[module]}"
            raise _for_student(StudentImportError(message), "crash", message, type="Crash")

    def _check_may_call(self, key: str) -> None:
        """check_entry, and StudentTimeout if this test has used up its budget."""
        self.check_entry(key)
        if self.test_budget - self.test_used <= 0:
            raise self._budget_spent()

    def _request(self, header: dict, args: tuple, kwargs: dict) -> tuple[bytes, dict, dict]:
        """One call as a frame, with the arrays it sends (by index: the call may change them, or return a
        view of one) and the files it passes by path (written back after the call)."""
        self._paths: list[Path] = []
        encoder = wire.Encoder(self._encode_object)
        body = {**header, "args": encoder.encode(list(args)), "kwargs": encoder.encode(dict(kwargs or {}))}
        return wire.frame_bytes(body, encoder), dict(enumerate(encoder.sources)), dict(enumerate(self._paths))

    def _worker_with_imports(self, key: str) -> Worker:
        """A worker that has imported the student's files (all but those that cannot be).

        Each import is a request of its own, sent together, so a process that dies or
        hangs says which file did it; that file is marked broken and a fresh worker
        imports the rest. An import that raises is an ordinary answer: the calls raise it.
        """
        __tracebackhide__ = True
        worker = self.ensure_worker()
        while not worker.imported:
            todo = [m for m in self.module_order if m not in self.broken]
            # Never "more": each answer is written at once, so the file that ends the process is the one named.
            worker.send([wire.frame_bytes({"op": "import", "name": m}, wire.Encoder()) for m in todo])
            started = time.monotonic()
            for module in todo:
                try:
                    reply, _ = self._await(worker, key, started)
                except _NoAnswer as failure:
                    if failure.budget:
                        raise self._budget_spent() from None
                    path = module.replace(".", "/") + ".py"
                    why = (
                        f"importing it did not finish within {failure.seconds:.3g} s (an infinite loop at import?)"
                        if failure.kind == "timeout"
                        else f"importing it ended the process running your code: {failure.why}"
                    )
                    self.broken[module] = f"{path} cannot be imported ({why}); nothing in it is called again"
                    self._incident(failure.kind, f"import {path}", why)
                    break
                now = time.monotonic()
                self.test_used, started = self.test_used + now - started, now
                self._echo(reply)  # what the import printed, as a call's output
            else:
                worker.imported = True
            worker = self.ensure_worker()  # the same one, or the fresh one that replaced it
        return worker

    def _await(self, worker: Worker, key: str, since: float) -> tuple[dict, list[bytes]]:
        """The worker's next answer, within `key`'s own timeout and what is left of the test's budget.
        _NoAnswer if it times out or fails: the time is counted and the worker replaced."""
        __tracebackhide__ = True
        own = self.timeout_for(key)
        timeout = min(own, self.test_budget - self.test_used)
        try:
            return worker.answer(timeout)
        except TimeoutError:
            failure = _NoAnswer("timeout", seconds=timeout, budget=timeout < own)
        except (wire.WireError, OSError) as error:
            failure = _NoAnswer("crash", why=self._failure(worker, error))
        except BaseException:
            # Interrupted mid-request (a signal, an alarm): its answer may still come,
            # and must never be read as the answer to the next request.
            worker.kill()
            raise
        self.test_used += time.monotonic() - since
        self._replace(worker)
        raise failure

    def _failure(self, worker: Worker, error: BaseException) -> str:
        """Why a worker's answer could not be read: how it ended, or what it sent."""
        try:  # a worker that exits closes its output a moment before it can be seen to have exited
            worker.process.wait(timeout=EXIT_GRACE)
        except subprocess.TimeoutExpired:
            pass
        if worker.process.poll() is not None:
            return worker.describe_exit()
        return f"it sent something unreadable ({error})"

    def _budget_spent(self, during: str = "") -> StudentTimeout:
        message = f"this test used up its {self.test_budget:g} s for calls into your code" + during
        return _for_student(StudentTimeout(message), "timeout", message, type="Timeout")

    def _next_answer(self, worker: Worker, key: str, since: float) -> tuple[dict, list[bytes]]:
        """The worker's next answer for `key`; a timeout or a failure is raised as the student's error, and a
        call that timed out on its own limit (not the test's budget) is not made again."""
        __tracebackhide__ = True
        try:
            return self._await(worker, key, since)
        except _NoAnswer as failure:
            if failure.kind == "crash":
                said = f"the process running your code failed during {key}: {failure.why}"
                self._incident("crash", key, said)
                error = _for_student(StudentCodeError(f"{said}\n{self.worker_output()}"), "crash", said, type="Crash")
            elif failure.budget:
                error = self._budget_spent(f" during {key}")
                self._incident("timeout", key, str(error))
            else:
                self.timed_out[key] = self.current_test
                message = (
                    f"{key} did not return within {failure.seconds:.3g} s (an infinite loop?); "
                    "it is not called again in this grading run"
                )
                self._incident("timeout", key, message)
                error = _for_student(StudentTimeout(message), "timeout", message, type="Timeout")
        raise error from None

    def _echo(self, reply: dict) -> None:
        """Print here what the call printed there."""
        for stream, text in ((sys.stdout, reply.get("stdout")), (sys.stderr, reply.get("stderr"))):
            if isinstance(text, str) and text:
                stream.write(text)

    def _answer(self, key: str, reply: dict, raw: list[bytes], originals: dict, paths: dict):
        decoder = wire.Decoder(raw, self._decode_object, originals)
        self._echo(reply)
        if not reply.get("ok"):
            raise self._error(key, reply.get("error"), decoder)  # the student's own error, as raised there
        try:
            for change in reply.get("mutated", []):
                target = originals.get(int(change["i"]))
                value = decoder.array(change["array"])
                if target is not None:
                    if not target.flags.writeable:
                        raise StudentCodeError(f"{key} changed a read-only input array")
                    np.copyto(target, value.reshape(target.shape), casting="unsafe")
            for item in reply.get("files", []):
                path = paths.get(int(item["i"]))
                data = decoder.array(item["data"]).tobytes()
                unchanged = path is None or (path.exists() and path.read_bytes() == data)
                if not unchanged and len(data) <= MAX_FILE_BYTES:
                    path.write_bytes(data)
            return decoder.decode(reply.get("value"))
        except (wire.WireError, KeyError, TypeError, ValueError) as error:
            raise StudentCodeError(f"{key} sent back something that is not a result ({error})") from None

    def _error(self, key: str, error, decoder: wire.Decoder) -> BaseException:
        if not isinstance(error, dict):
            return StudentCodeError(f"{key} failed without saying why")
        name, module = str(error.get("type", "Exception")), str(error.get("module", ""))
        message, text = str(error.get("message", "")), str(error.get("traceback", ""))
        kind = _exception_type(name, module, self.kit_exceptions)
        if kind is None:
            exc = StudentCodeError(f"{name}: {message}" if message else name)
        else:
            try:
                exc = kind(message)
            except TypeError:
                exc = StudentCodeError(f"{name}: {message}")
        attrs = error.get("attrs") if isinstance(error.get("attrs"), dict) else {}
        for attr, value in attrs.items():
            if attr.isidentifier() and not attr.startswith("_"):
                try:
                    setattr(exc, attr, decoder.decode(value))
                except (wire.WireError, AttributeError, TypeError):
                    pass
        exc.__cause__ = RemoteTraceback(text)
        where = error.get("where") if isinstance(error.get("where"), list) else []
        if name == "MemoryError":
            self._incident("memory", key, f"{key} ran out of memory (MemoryError)")
        return _for_student(exc, "raised", message, type=name, where=where)

    def _incident(self, kind: str, key: str, detail: str) -> None:
        """Note a timeout, a crash or a limit reached, for the instructor's class report."""
        if len(self.incidents) < MAX_INCIDENTS:
            self.incidents.append({"kind": kind, "entry": key, "test": self.current_test, "detail": detail})

    # --- values that are not plain data ---------------------------------------------------

    def _encode_object(self, value, encoder: wire.Encoder):
        if isinstance(value, Handle):
            if value._generation != self.generation:
                raise StudentCodeError(LOST_OBJECT)
            return {"$": "object", "h": value._handle}
        if isinstance(value, os.PathLike):
            path = Path(value)
            data = None
            if path.is_file() and path.stat().st_size <= MAX_FILE_BYTES:
                data = encoder.array(np.frombuffer(path.read_bytes(), dtype=np.uint8))
            self._paths.append(path)
            return {"$": "path", "name": path.name, "kind": "Path", "data": data}
        return None

    def _decode_object(self, value: dict, decoder: wire.Decoder):
        tag = value.get("$")
        if tag == "object":
            cls = self.classes.get(str(value.get("class")), self.object_class)
            return cls._from_handle(int(value["h"]), self.generation)
        if tag == "method":
            return METHOD
        raise wire.WireError(f"an unexpected {tag!r} in a result")
