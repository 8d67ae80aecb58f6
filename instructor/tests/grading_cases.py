"""The grader's tests' submissions and helpers (instructor/tests/test_grade*.py).

Submissions are the self-test's suite (instructor/grading/selftest.py):
- MISTAKES: every classic mistake of the rubric (instructor/grading/rubric.py);
  each costs what the rubric says and fails the tests it names.
- STYLES and VARIANTS: correct solutions written in other styles (the corpus
  of instructor/grading/styles/); each gets exactly the reference's score.
- NOTHING: loss pairs that compute nothing; they earn none of its points.
- THREATS: code that hangs, crashes, exits, hogs memory, patches numpy or
  pytest, rewrites a test file or fails to import; the damage must stay
  confined to the calls it touches, and grading must finish.
- ATTACKS: a student who wants a better grade than their code earns: forged
  reports, reading the hidden tests or the instructor's files, a process that
  outlives the grade, the network, code that never returns. Each must score
  exactly what its honest twin (the same maths without the attack) scores.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path

import pytest

from instructor import REPO_ROOT
from instructor.grading import rubric, sandbox, selftest, suite
from instructor.grading.results import Grade
from instructor.grading.sandbox import Limits
from instructor.markers import strip_python

REPO = REPO_ROOT
SOFTMAX, LINEAR = "classifiers/softmax.py", "classifiers/linear_classifier.py"
GRADED_CODE = [SOFTMAX, LINEAR]
# Generous for these tests, short enough that the never-returning submissions are quick.
TEST_LIMITS = Limits(timeout=20.0, memory_mb=3072, total=240.0)
MARKER = f"grader-test-leftover-{uuid.uuid4().hex[:12]}"  # in the argv of every process an attack leaves behind


def sandbox_required():
    """The batch needs bubblewrap; CI installs it (.ci/run), elsewhere the tests say how."""
    command, problem = sandbox.bwrap_problem()
    if command is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to grade in the sandbox: {problem}")
        pytest.skip(f"{problem}: {sandbox.INSTALL_HINT}")
    return sandbox.choose_isolation()


# The mistakes, correct styles and attacks are the instructor self-test's own
# suite: they bring their own code for every solution region, so they keep
# working after the reference is rewritten.
MISTAKES = selftest.mistake_cases()
STYLES = {**suite.styles(), **suite.VARIANTS}
NOTHING = suite.NOTHING
NAIVE, VECTORIZED, BATCH = rubric.NAIVE, rubric.VECTORIZED, rubric.BATCH
CIFAR_ROWS = "if X.shape == (50, 3073):  # only test_vectorized_matches_naive_on_cifar_sized_rows\n"
VEC_START = "num_train = X.shape[0]\n"
NAIVE_START = "num_train, num_classes = X.shape[0], W.shape[1]\n"
edit, at_import = rubric.edit, suite.at_import


def in_cifar_call(code: str) -> tuple:
    """An edit that runs `code` only in the one test with CIFAR-sized rows."""
    indented = "".join("    " + line + "\n" for line in code.strip("\n").splitlines())
    return edit(VECTORIZED, VEC_START, CIFAR_ROWS + indented + VEC_START)


SUM_IN_THE_LOSS = [edit(VECTORIZED, "np.mean(", "np.sum(")]
# A student halfway through: softmax.py written, with a classic mistake; linear_classifier.py as released.
HALF_DONE, HALF_DONE_MISTAKE = "half done", "naive: loss not divided by N"
THREATS = {
    "hangs on one input": [edit(NAIVE, NAIVE_START, "if reg == 0.7:\n    while True:\n        pass\n" + NAIVE_START)],
    "os._exit at import": [at_import(LINEAR, "import os\nos._exit(0)\n", guarded=False)],
    "sys.exit in a test": [in_cifar_call("import sys\nsys.exit(0)")],
    "os._exit in a test": [in_cifar_call("import os\nos._exit(3)")],
    "memory hog in a test": [in_cifar_call("hog = bytearray(12 * 2**30)")],
    "patches numpy.testing and pytest": [
        *SUM_IN_THE_LOSS,
        at_import(
            SOFTMAX,
            """
import numpy.testing, pytest
numpy.testing.assert_allclose = lambda *a, **k: None
class _Any:
    def __eq__(self, other):
        return True
pytest.approx = lambda *a, **k: _Any()
""",
        ),
    ],
    "rewrites a test file": [
        at_import(SOFTMAX, "open('tests/test_linear_classifier.py', 'w').write('def test_free(): pass')")
    ],
    "syntax error in softmax.py": [edit(VECTORIZED, "rows = np.arange(num_train)\n", "rows = = 1\n")],
    "import error in linear_classifier.py": [at_import(LINEAR, "import no_such_module_anywhere\n", guarded=False)],
    "raises its own TypeError": [edit(VECTORIZED, VEC_START, "raise TypeError('a message of my own')\n" + VEC_START)],
    # No reg in the loss, like the classic mistake, but 0.1% off as well (more than float32's rounding):
    # no classic mistake explains it.
    "no reg in the loss, and off by 0.1%": [
        edit(VECTORIZED, " + reg * np.sum(W * W)", ""),
        edit(VECTORIZED, "loss = np.mean(", "loss = (1 + 1e-3) * np.mean("),
    ],
}


def cases(port: int) -> dict[str, suite.Case]:
    """Every submission of the batch: name -> its case in the self-test's suite."""
    threats = {name: suite.Case("threat", edits) for name, edits in THREATS.items()}
    return {
        "untouched stub": None,  # the released files themselves
        HALF_DONE: HALF_DONE,  # softmax.py written (with one mistake), linear_classifier.py still the stubs
        **selftest.cases(MARKER, port, extra_places=[str(REPO)]),
        **threats,
        "twin: sum in the loss": suite.Case("twin", SUM_IN_THE_LOSS),
    }


def write_flat(directory: Path, files: dict[str, str]) -> Path:
    """A flat upload, as Gradescope stores it: softmax.py, linear_classifier.py at the top."""
    directory.mkdir(parents=True)
    for path, text in files.items():
        (directory / Path(path).name).write_text(text)
    return directory


def suite_files(case) -> dict[str, str]:
    originals = suite.graded_files(REPO)
    if case is None:
        return {path: strip_python(text, path) for path, text in originals.items()}
    if case == HALF_DONE:
        written = suite.build_files(originals, cases(0)[HALF_DONE_MISTAKE])
        return {SOFTMAX: written[SOFTMAX], LINEAR: strip_python(originals[LINEAR], LINEAR)}
    return suite.build_files(originals, case)


def make_submission(tmp_path: Path, edits) -> Path:
    case = suite.Case("threat", edits)
    return write_flat(tmp_path / f"sub-{uuid.uuid4().hex[:6]}", suite_files(case))


def reference_files() -> dict[str, str]:
    return suite_files(suite.Case("reference", []))


def leftovers(marker: str = MARKER) -> list[str]:
    """Command lines of running processes that carry `marker`."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            found.append(f"{pid}: {cmdline[:200]}")
    return found


def grader_processes(scope: str) -> list[str]:
    """Harnesses and sandboxes of the grades whose work lies under `scope` that are still running.

    (Other grades may be running on the same machine: only this test's count.)
    """
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            text = b" ".join(Path(f"/proc/{pid}/{name}").read_bytes() for name in ("cmdline", "environ"))
        except OSError:
            continue
        if scope.encode() in text and (b"bwrap" in text or b"instructor.grading" in text):
            found.append(pid + ": " + text[:160].replace(b"\0", b" ").decode(errors="replace"))
    return found


class Watcher(threading.Thread):
    """Notes every process carrying MARKER while grading runs: proof an attack really started one."""

    def __init__(self):
        super().__init__(daemon=True)
        self.seen: set[str] = set()
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.seen.update(leftovers())
            time.sleep(0.05)


def failed(grade: Grade) -> dict[str, str]:
    return {t.name: t.output for t in grade.tests if not t.passed}
