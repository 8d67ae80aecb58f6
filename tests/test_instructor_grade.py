"""Tests for the grader (instructor/grading/); left out of the kit.

Submissions are made from the reference solution by small text edits:
- MISTAKES: one classic error each; every one must lose points, and the
  test named in the table must be among those that fail.
- VARIANTS: correct solutions written differently; each must get full marks.
- THREATS: code that hangs, crashes, exits, hogs memory, patches numpy or
  pytest, rewrites a test file or fails to import; the damage must stay
  confined to the calls it touches, and grading must finish.
- ATTACKS: a student who wants a better grade than their code earns: forged
  reports, reading the hidden tests or the instructor's files, a process that
  outlives the grade, the network, code that never returns. Each must score
  exactly what its honest twin (the same maths without the attack) scores.
All of them are graded in one batch (2 jobs) by a session fixture, in the
bubblewrap sandbox; killing the grader and the fallbacks without bubblewrap
have tests of their own.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from instructor.grading import cli, sandbox
from instructor.grading.bundle import build_bundle
from instructor.grading.results import Grade, failure_summary
from instructor.grading.sandbox import Limits
from instructor.grading.submission import read_submission
from instructor.markers import BEGIN, END, strip_python

pytestmark = pytest.mark.slow  # a few minutes on 2 cores: ~55 submissions graded in sandboxes

REPO = Path(__file__).resolve().parent.parent
SOFTMAX, LINEAR = "classifiers/softmax.py", "classifiers/linear_classifier.py"
GRADED_CODE = [SOFTMAX, LINEAR]
# Generous for these tests, short enough that the never-returning submissions are quick.
TEST_LIMITS = Limits(timeout=20.0, memory_mb=3072, total=240.0)
MARKER = f"grader-test-leftover-{uuid.uuid4().hex[:12]}"  # in the argv of every process an attack leaves behind

# An int instead of a snippet: append the new lines at the end of that solution region
# (the reference's own lines may be rewritten for speed; these edits survive that).
NAIVE, VECTORIZED = 0, 1
VEC_LOSS = "    loss = np.mean(np.log(sum_exp) - scores[rows, y]) + reg * np.sum(W * W)\n"
NAIVE_LOSS = "    loss = loss / num_train + reg * np.sum(W * W)\n"
UPDATE = "            self.W -= learning_rate * grad  # in place: W keeps its dtype\n"
SAMPLE = "            batch = rng.integers(0, num_train, size=batch_size)  # (B,)\n"
PREDICT = "        y_pred = np.argmax(scores, axis=1)  # (N,)\n"


def sandbox_required():
    """The batch needs bubblewrap; CI installs it (.ci/run), elsewhere the tests say how."""
    command, problem = sandbox.bwrap_problem()
    if command is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to grade in the sandbox: {problem}")
        pytest.skip(f"{problem}: {sandbox.INSTALL_HINT}")
    return sandbox.choose_isolation()


# name: ([(file, old, new), ...], a test that must fail)
MISTAKES = {
    "naive: no reg in the loss": ([(SOFTMAX, NAIVE_LOSS, "    loss = loss / num_train\n")],
                                  "test_loss_includes_reg_times_sum_of_squared_weights[naive]"),
    "vectorized: no reg in the loss": ([(SOFTMAX, VEC_LOSS, VEC_LOSS.replace(" + reg * np.sum(W * W)", ""))],
                                       "test_loss_includes_reg_times_sum_of_squared_weights[vectorized]"),
    "naive: no reg in the gradient": ([(SOFTMAX, "    dW /= num_train\n    dW += 2 * reg * W\n", "    dW /= num_train\n")],
                                      "test_regularization_gradient_is_2_reg_W[naive]"),
    "vectorized: no reg in the gradient": ([(SOFTMAX, VECTORIZED, "dW = dW - 2 * reg * W\n")],
                                           "test_regularization_gradient_is_2_reg_W[vectorized]"),
    "0.5 * reg convention": ([(SOFTMAX, VEC_LOSS, VEC_LOSS.replace("+ reg *", "+ 0.5 * reg *")),
                              (SOFTMAX, VECTORIZED, "dW = dW - reg * W\n")],
                             "test_loss_includes_reg_times_sum_of_squared_weights[vectorized]"),
    "vectorized: no division by N": ([(SOFTMAX, VEC_LOSS, VEC_LOSS.replace("np.mean(", "np.sum(")),
                                      (SOFTMAX, "    dscores /= num_train  # (N, C)\n", "")],
                                     "test_loss_is_a_mean_over_examples_not_a_sum[vectorized]"),
    "naive: no division by N": ([(SOFTMAX, NAIVE_LOSS, "    loss = loss + reg * np.sum(W * W)\n"),
                                 (SOFTMAX, "    dW /= num_train\n", "")],
                                "test_loss_is_a_mean_over_examples_not_a_sum[naive]"),
    "vectorized: -1 on the wrong class": ([(SOFTMAX, "    dscores[rows, y] -= 1", "    dscores[:, y] -= 1")],
                                          "test_gradient_at_zero_weights_is_X_T_times_uniform_minus_onehot[vectorized]"),
    "naive: -1 on the wrong class": ([(SOFTMAX, "(j == y[i])", "(j == (y[i] + 1) % num_classes)")],
                                     "test_gradient_at_zero_weights_is_X_T_times_uniform_minus_onehot[naive]"),
    "naive: wrong sign": ([(SOFTMAX, "dW[:, j] += (p_j - (j == y[i]))", "dW[:, j] -= (p_j - (j == y[i]))")], "test_gradient_matches_finite_differences"),
    "vectorized: wrong sign": ([(SOFTMAX, "    dscores /= num_train  # (N, C)\n", "    dscores /= -num_train\n")],
                               "test_vectorized_matches_naive"),
    "vectorized: no max shift": ([(SOFTMAX, "    scores -= np.max(scores, axis=1, keepdims=True)  # (N, C)\n", "")],
                                 "test_loss_is_stable_for_huge_scores[vectorized]"),
    "naive: no max shift": ([(SOFTMAX, "shifted = scores - np.max(scores)  # (C,)", "shifted = scores")],
                            "test_loss_is_stable_for_huge_scores[naive]"),
    "vectorized: log(exp / sum)": ([(SOFTMAX, VEC_LOSS, "    loss = np.mean(-np.log(np.exp(scores[rows, y]) / sum_exp))"
                                     " + reg * np.sum(W * W)\n")],
                                   "test_loss_is_exact_when_correct_class_is_far_below_the_best[vectorized]"),
    "naive: log(exp / sum)": ([(SOFTMAX, "loss += np.log(sum_exp) - shifted[y[i]]", "loss += -np.log(exp_scores[y[i]] / sum_exp)")],
                              "test_loss_is_exact_when_correct_class_is_far_below_the_best[naive]"),
    "vectorized: loop over examples": ([(SOFTMAX, VECTORIZED, "dW = sum(np.outer(X[i], dscores[i]) for i in range(num_train)) + 2 * reg * W\n")],
                                       "test_vectorized_source_has_no_loops"),
    "vectorized: loop for the -1": ([(SOFTMAX, "    dscores[rows, y] -= 1  # (N, C), now P - Y\n",
                                      "    for i in range(num_train):\n        dscores[i, y[i]] -= 1\n")],
                                    "test_hidden_checks.py::test_vectorized_has_no_loops"),
    "vectorized: returns W itself as dW": ([(SOFTMAX, VECTORIZED, "dW = W\\n")],
                                           "test_gradient_is_a_new_array_not_W_itself[vectorized]"),
    "vectorized: modifies W in place": ([(SOFTMAX, VECTORIZED, "W *= 2.0  # reuses W's memory\n")],
                                        "test_inputs_are_not_modified"),
    "vectorized: float64 forced": ([(SOFTMAX, VECTORIZED, "dW = dW.astype(np.float64)\n")],
                                   "test_float32_inputs_give_float32_gradient[vectorized]"),
    "naive: float64 forced": ([(SOFTMAX, "    dW /= num_train\n", "    dW = dW.astype(np.float64) / num_train\n")],
                              "test_hidden_checks.py::test_float32_stays_float32"),
    "SGD: float64 forced": ([(LINEAR, UPDATE, "            self.W = self.W.astype(np.float64) - learning_rate * grad\n")],
                            "test_float32_training_keeps_float32_weights"),
    "predict returns probabilities": ([(LINEAR, PREDICT, "        y_pred = np.exp(scores) / np.sum(np.exp(scores), axis=1, keepdims=True)\n")],
                                      "test_predict_returns_integer_labels_not_scores"),
    "predict returns float labels": ([(LINEAR, PREDICT, "        y_pred = np.argmax(scores, axis=1).astype(float)\n")],
                                     "test_hidden_checks.py::test_predict_labels"),
    "SGD samples without updating W": ([(LINEAR, UPDATE, "            pass  # forgot the update\n")], "test_training_updates_W"),
    "SGD: wrong sign of the update": ([(LINEAR, UPDATE, UPDATE.replace("-=", "+="))], "test_hidden_checks.py::test_sgd_step_follows_the_gradient"),
    "SGD: no learning rate": ([(LINEAR, UPDATE, "            self.W -= grad\n")], "test_hidden_checks.py::test_sgd_step_follows_the_gradient"),
    "SGD: the same batch every step": ([(LINEAR, SAMPLE, "            batch = np.arange(batch_size) % num_train\n")],
                                       "test_batches_are_random_rows_with_matching_labels"),
    "SGD: labels not matching the rows": ([(LINEAR, "            y_batch = y[batch]  # (B,)\n",
                                            "            y_batch = y[rng.integers(0, num_train, size=batch_size)]\n")],
                                          "test_batches_are_random_rows_with_matching_labels"),
    "SGD: np.random instead of rng": ([(LINEAR, SAMPLE, "            batch = np.random.randint(0, num_train, size=batch_size)\n")],
                                      "test_same_seed_gives_the_same_run_and_another_seed_does_not"),
}

# name: {(file, region index): new body}, regions counted from the top of the file.
VARIANTS = {
    "naive: classes in the outer loop": {(SOFTMAX, 0): """\
num_train, num_classes = X.shape[0], W.shape[1]
probs = np.zeros((num_train, num_classes), dtype=W.dtype)
for i in range(num_train):
    s = X[i].dot(W)
    s = s - s.max()
    log_norm = np.log(np.exp(s).sum())
    loss += log_norm - s[y[i]]
    probs[i] = np.exp(s - log_norm)
for j in range(num_classes):
    for i in range(num_train):
        dW[:, j] += X[i] * (probs[i, j] - (1.0 if y[i] == j else 0.0))
loss = loss / num_train + reg * np.sum(W ** 2)
dW = dW / num_train + 2 * reg * W
"""},
    "naive: np.logaddexp.reduce and outer": {(SOFTMAX, 0): """\
for i in range(X.shape[0]):
    scores = X[i] @ W
    log_norm = np.logaddexp.reduce(scores)
    loss -= scores[y[i]] - log_norm
    p = np.exp(scores - log_norm)
    p[y[i]] -= 1
    dW += np.outer(X[i], p)
loss = loss / X.shape[0] + reg * (W * W).sum()
dW = dW / X.shape[0] + 2 * reg * W
"""},
    "vectorized: einsum and a hand-written log-sum-exp": {(SOFTMAX, 1): """\
N = X.shape[0]
scores = np.einsum("nd,dc->nc", X, W)
m = scores.max(axis=1, keepdims=True)
lse = m[:, 0] + np.log(np.exp(scores - m).sum(axis=1))
loss = np.mean(lse - scores[np.arange(N), y]) + reg * np.einsum("dc,dc->", W, W)
P = np.exp(scores - lse[:, None])
P[np.arange(N), y] -= 1
dW = np.einsum("nd,nc->dc", X, P) / N + 2 * reg * W
"""},
    "vectorized: one-hot, log-softmax and X.T @ dscores": {(SOFTMAX, 1): """\
num_train, num_classes = X.shape[0], W.shape[1]
scores = X.dot(W)
scores = scores - scores.max(axis=1)[:, np.newaxis]
log_probs = scores - np.log(np.sum(np.exp(scores), axis=1, keepdims=True))
onehot = np.eye(num_classes, dtype=W.dtype)[y]
loss = -np.sum(log_probs * onehot) / num_train + reg * np.sum(np.square(W))
dscores = (np.exp(log_probs) - onehot) / num_train
dW = X.T @ dscores + 2 * reg * W
"""},
    "classifier: rng.choice, a new W each step, .argmax": {
        (LINEAR, 0): "idx = rng.choice(num_train, size=batch_size, replace=True)\nX_batch, y_batch = X[idx], y[idx]\n",
        (LINEAR, 1): "self.W = self.W - learning_rate * grad\n",
        (LINEAR, 2): "y_pred = (X @ self.W).argmax(axis=1)\n",
    },
}

NAIVE_START = "    num_train = X.shape[0]\n    num_classes = W.shape[1]\n"
VEC_START = "    num_train = X.shape[0]\n    rows = np.arange(num_train)\n"
CIFAR_ROWS = "    if X.shape == (50, 3073):  # only test_vectorized_matches_naive_on_cifar_sized_rows\n"
IMPORTS = "import numpy as np\n"
SUM_IN_THE_LOSS = [(SOFTMAX, VEC_LOSS, VEC_LOSS.replace("np.mean(", "np.sum("))]
# name: ([(file, old, new), ...]) -- their expectations are in the tests below.
THREATS = {
    "hangs on one input": [(SOFTMAX, NAIVE_START, "    if reg == 0.7:\n        while True:\n            pass\n" + NAIVE_START)],
    "os._exit at import": [(LINEAR, "import os\n", "import os\nos._exit(0)\n")],
    "sys.exit in a test": [(SOFTMAX, VEC_START, CIFAR_ROWS + "        import sys\n        sys.exit(0)\n" + VEC_START)],
    "os._exit in a test": [(SOFTMAX, VEC_START, CIFAR_ROWS + "        import os\n        os._exit(3)\n" + VEC_START)],
    "memory hog in a test": [(SOFTMAX, VEC_START, CIFAR_ROWS + "        hog = bytearray(12 * 2**30)\n" + VEC_START)],
    "patches numpy.testing and pytest": [
        *SUM_IN_THE_LOSS,
        (SOFTMAX, IMPORTS, IMPORTS + "import numpy.testing, pytest\n"
         "numpy.testing.assert_allclose = lambda *a, **k: None\n"
         "class _Any:\n    def __eq__(self, other):\n        return True\n"
         "pytest.approx = lambda *a, **k: _Any()\n"),
    ],
    "rewrites a test file": [(SOFTMAX, IMPORTS, IMPORTS +
                              "open('tests/test_linear_classifier.py', 'w').write('def test_free():\\n    pass\\n')\n")],
    "syntax error in softmax.py": [(SOFTMAX, "    sum_exp = np.sum(probs, axis=1)  # (N,), each in [1, C]\n", "    sum_exp = = 1\n")],
    "import error in linear_classifier.py": [(LINEAR, "import os\n", "import os\nimport no_such_module_anywhere\n")],
}

# The honest twin of most attacks: both losses return the kit's zeros (loss 0.0, dW = 0).
ZEROS = [(SOFTMAX, NAIVE, "pass\n"), (SOFTMAX, VECTORIZED, "pass\n")]
NEVER_RETURNS = [(SOFTMAX, NAIVE, "while True:\n    pass\n"), (SOFTMAX, VECTORIZED, "while True:\n    pass\n")]


def at_import(code: str) -> tuple:
    """An edit that runs `code` when softmax.py is imported, inside try/except so the maths still runs."""
    body = "".join("    " + line + "\n" for line in code.strip("\n").splitlines())
    return (SOFTMAX, IMPORTS, IMPORTS + "try:\n" + body + "except Exception:\n    pass\n")


FORGE_REPORTS = """
import os, sys, json
fake = b'{"e": "report", "id": "x", "when": "call", "outcome": "passed", "text": ""}\\n' * 50
for fd in range(3, 64):
    try:
        os.write(fd, fake)
    except OSError:
        pass
for name, module in list(sys.modules.items()):
    if name.startswith(("instructor", "_grader")) and hasattr(module, "send"):
        plain = module.send
        def send(fd, body, encoder, plain=plain):
            text = json.dumps(body).replace('"failed"', '"passed"').replace('"ok": false', '"ok": true')
            return plain(fd, json.loads(text), encoder)
        module.send = send
"""
# Look everywhere a grader's files could show: parents' working directories and
# environments through /proc, the instructor's repository by its path, the
# hidden tests by import. Found solutions are used; found hidden tests are
# raised as an error message, so they would show in results.json.
SNOOP = """
import glob, os, sys
found = []
places = [{repo!r}, os.getcwd(), os.path.dirname(os.getcwd())]
for pid in os.listdir('/proc'):
    if pid.isdigit():
        for link in ('cwd', 'root'):
            try:
                places.append(os.readlink(f'/proc/{{pid}}/{{link}}'))
            except OSError:
                pass
        try:
            env = open(f'/proc/{{pid}}/environ', 'rb').read().decode(errors='replace').split('\\0')
            places += [v.split('=', 1)[1] for v in env if '=' in v and '/' in v]
        except OSError:
            pass
for place in places:
    for part in place.split(':'):
        for pattern in ('classifiers/softmax.py', '*/classifiers/softmax.py', 'tests/hidden/reference.py',
                        '*/tests/hidden/reference.py', '*/*/tests/hidden/reference.py'):
            found += glob.glob(os.path.join(part, pattern))
SOLUTION = None
for path in found:
    try:
        text = open(path).read()
    except OSError:
        continue
    if 'def reference_loss' in text:
        LEAK = text
    elif 'BEGIN SOLUTION' in text and 'raise NotImplementedError()' not in text:
        SOLUTION = {{}}
        exec(compile(text, path, 'exec'), SOLUTION)
try:
    from tests.hidden.reference import reference_loss as STOLEN
except ImportError:
    STOLEN = None
"""
USE_SNOOPED = """\
if SOLUTION is not None:
    loss, dW = SOLUTION['{function}'](W, X, y, reg)
elif STOLEN is not None:
    loss, dW = STOLEN(W, X, y, reg)
elif 'LEAK' in globals():
    raise ValueError(LEAK)
"""
DAEMON = """
import os, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(120)', '{marker}'])
    os._exit(0)
"""
NETWORK = """
import socket
with socket.create_connection(('127.0.0.1', {port}), timeout=2) as connection:
    connection.sendall(b'LEAKED FROM THE SANDBOX')
"""


def attacks(port: int) -> dict[str, tuple[list, str]]:
    """name: (edits, the honest twin's name): the attack must score exactly what its twin scores."""
    snoop = at_import(SNOOP.format(repo=str(REPO)))
    return {
        "attack: forges the report channel": ([at_import(FORGE_REPORTS), *ZEROS], "twin: zeros"),
        "attack: reads the hidden tests and the instructor's files": (
            [snoop, (SOFTMAX, NAIVE, USE_SNOOPED.format(function="softmax_loss_naive")),
             (SOFTMAX, VECTORIZED, USE_SNOOPED.format(function="softmax_loss_vectorized"))], "twin: zeros"),
        "attack: leaves a daemon running": ([at_import(DAEMON.format(marker=MARKER))], "reference"),
        "attack: talks to the network": ([at_import(NETWORK.format(port=port))], "reference"),
        "attack: never returns": (NEVER_RETURNS, None),  # judged by time and leftovers, below
    }


def replace_region(text: str, index: int, body: str) -> str:
    """Replace the body of the index-th solution region, indented like its markers."""
    lines = text.splitlines(keepends=True)
    begins = [i for i, line in enumerate(lines) if line.strip() == BEGIN]
    ends = [i for i, line in enumerate(lines) if line.strip() == END]
    begin, end = begins[index], ends[index]
    indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
    new = [indent + line if line.strip() else line for line in body.splitlines(keepends=True)]
    return "".join(lines[: begin + 1] + new + lines[end:])


def append_to_region(text: str, index: int, code: str) -> str:
    """Add `code` just before the END marker of the index-th solution region."""
    lines = text.splitlines(keepends=True)
    end = [i for i, line in enumerate(lines) if line.strip() == END][index]
    indent = lines[end][: len(lines[end]) - len(lines[end].lstrip())]
    return "".join(lines[:end] + [indent + line for line in code.splitlines(keepends=True)] + lines[end:])


def apply_edits(files: dict[str, str], edits) -> dict[str, str]:
    files = dict(files)
    for path, old, new in edits:
        if isinstance(old, int):
            files[path] = append_to_region(files[path], old, new)
            continue
        count = files[path].count(old)
        if count != 1:
            raise AssertionError(f"{path}: the snippet {old!r} occurs {count} times in the reference; update the table")
        files[path] = files[path].replace(old, new)
    return files


def reference_files() -> dict[str, str]:
    return {path: (REPO / path).read_text() for path in (SOFTMAX, LINEAR)}


def write_flat(directory: Path, files: dict[str, str]) -> Path:
    """A flat upload, as Gradescope stores it: softmax.py, linear_classifier.py at the top."""
    directory.mkdir(parents=True)
    for path, text in files.items():
        (directory / Path(path).name).write_text(text)
    return directory


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


def grader_processes() -> list[str]:
    """Workers and harnesses still running: none may outlive the grade that started them."""
    return leftovers("instructor.grading.worker") + leftovers("instructor.grading.harness_plugin")


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


@pytest.fixture(scope="session")
def bundle(tmp_path_factory):
    return build_bundle(REPO, tmp_path_factory.mktemp("bundle") / "b")


@pytest.fixture(scope="session")
def listener():
    """A TCP listener on 127.0.0.1 that the network attack tries to reach."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server
    server.close()


@pytest.fixture(scope="session")
def graded(bundle, listener, tmp_path_factory) -> dict[str, Grade]:
    """Grade the reference, every mistake, variant, threat and attack in one batch, in the sandbox."""
    isolation = sandbox_required()
    root = tmp_path_factory.mktemp("submissions")
    reference = reference_files()
    submissions = {"reference": write_flat(root / "reference", reference)}
    stubs = {path: strip_python(text, path) for path, text in reference.items()}
    submissions["untouched stub"] = write_flat(root / "stub", stubs)
    for number, (name, (edits, _)) in enumerate(MISTAKES.items()):
        submissions[name] = write_flat(root / f"mistake{number}", apply_edits(reference, edits))
    for number, (name, regions) in enumerate(VARIANTS.items()):
        files = dict(reference)
        for (path, index), body in regions.items():
            files[path] = replace_region(files[path], index, body)
        submissions[name] = write_flat(root / f"variant{number}", files)
    for number, (name, edits) in enumerate(THREATS.items()):
        submissions[name] = write_flat(root / f"threat{number}", apply_edits(reference, edits))
    submissions["twin: zeros"] = write_flat(root / "zeros", apply_edits(reference, ZEROS))
    submissions["twin: sum in the loss"] = write_flat(root / "sum", apply_edits(reference, SUM_IN_THE_LOSS))
    for number, (name, (edits, _)) in enumerate(attacks(listener.getsockname()[1]).items()):
        submissions[name] = write_flat(root / f"attack{number}", apply_edits(reference, edits))
    names = list(submissions)
    watcher = Watcher()
    watcher.start()
    try:
        results = cli.grade_many(bundle, [submissions[n] for n in names], TEST_LIMITS, isolation, jobs=2)
    finally:
        watcher.stop.set()
        watcher.join()
    for name, result in zip(names, results):
        assert isinstance(result, Grade), f"{name}: the grader failed: {result!r}"
    grades = dict(zip(names, results))
    grades["_daemons seen"] = watcher.seen
    return grades


def failed(grade: Grade) -> dict[str, str]:
    return {t.name: t.output for t in grade.tests if not t.passed}


def test_points_sum_to_the_documented_total(bundle):
    assert sum(Decimal(str(p)) for p in bundle.points.values()) == 100, "per-test points must add up exactly"
    assert all(points >= 0 for points in bundle.points.values())


def test_untouched_student_kit_scores_zero(graded):
    # Tests of kit code outside the student regions (load errors, untrained
    # models) pass on a stub; they must carry no points.
    grade = graded["untouched stub"]
    earned = {t.name: t.score for t in grade.tests if t.score > 0}
    assert grade.score == 0, f"the released stubs earned points: {earned}"


def test_reference_gets_full_marks(graded):
    grade = graded["reference"]
    assert grade.score == grade.total == 100, failed(grade)
    assert "bubblewrap" in grade.isolation


@pytest.mark.parametrize("name", list(MISTAKES))
def test_mistake_loses_points(graded, name):
    grade, must_fail = graded[name], MISTAKES[name][1]
    assert grade.score < grade.total, f"{name!r} got full marks"
    assert any(must_fail in test for test in failed(grade)), (
        f"{name!r}: expected {must_fail} to fail; failed: {sorted(failed(grade))}")


def test_mistake_suite_catches_every_mistake(graded):
    caught = [name for name in MISTAKES if graded[name].score < graded[name].total]
    print(f"\nmistake suite: {len(caught)} of {len(MISTAKES)} caught")
    for name in MISTAKES:
        print(f"  {graded[name].score:6.2f} / {graded[name].total:g}  {name}")
    assert len(caught) == len(MISTAKES)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_correct_variant_gets_full_marks(graded, name):
    grade = graded[name]
    assert grade.score == grade.total, f"{name!r} lost points: {failed(grade)}"


def grade_names(grade, prefix):
    return [t.name for t in grade.tests if t.name.startswith(prefix)]


def softmax_test_names(grade):
    return grade_names(grade, ("tests/test_softmax.py", "tests/hidden/test_hidden_softmax"))


def test_a_hang_times_out_once_and_the_function_is_not_called_again(graded):
    grade = graded["hangs on one input"]
    lost = failed(grade)
    first = "tests/test_softmax.py::test_loss_includes_reg_times_sum_of_squared_weights[naive]"
    assert first in lost and "did not return within" in lost[first], lost.get(first)
    assert all("naive" in name or "softmax" in message or "timed out" in message for name, message in lost.items())
    assert not any("vectorized" in name for name in lost if "naive" not in name)
    assert any("timed out earlier" in message for message in lost.values())
    assert any("softmax_loss_naive timed out" in note for note in grade.notes)


def test_os_exit_at_import_costs_only_the_tests_needing_that_file(graded):
    grade = graded["os._exit at import"]
    lost = failed(grade)
    assert set(softmax_test_names(grade)).isdisjoint(lost)
    assert set(grade_names(grade, "tests/test_linear_classifier.py")) - {
        t for t in grade_names(grade, "tests/test_linear_classifier.py") if "load_rejects" in t} <= set(lost) | {
        t.name for t in grade.tests if t.max_score == 0}
    assert any("exited with code 0" in message for message in lost.values())


@pytest.mark.parametrize("threat,why", [("sys.exit in a test", "SystemExit"), ("os._exit in a test", "exited with code 3"),
                                        ("memory hog in a test", "MemoryError")])
def test_exit_or_memory_hog_in_one_call_costs_that_test(graded, threat, why):
    lost = failed(graded[threat])
    assert list(lost) == ["tests/test_softmax.py::test_vectorized_matches_naive_on_cifar_sized_rows"], sorted(lost)
    assert why in lost["tests/test_softmax.py::test_vectorized_matches_naive_on_cifar_sized_rows"]


def test_patching_numpy_and_pytest_changes_nothing(graded):
    patched, honest = graded["patches numpy.testing and pytest"], graded["twin: sum in the loss"]
    assert patched.score == honest.score, (patched.score, honest.score)


def test_rewriting_a_test_file_changes_nothing(graded):
    grade = graded["rewrites a test file"]
    assert grade.score == 100, failed(grade)


def test_syntax_error_scores_zero_with_the_error_shown_and_finishes(graded):
    grade = graded["syntax error in softmax.py"]
    assert grade.tests and grade.score == 0
    assert any("SyntaxError" in t.output for t in grade.tests)
    assert any("does not parse" in t.output for t in grade.tests)


def test_import_error_costs_exactly_the_tests_needing_the_file(graded):
    grade = graded["import error in linear_classifier.py"]
    lost = failed(grade)
    assert set(softmax_test_names(grade)).isdisjoint(lost)
    classifier = grade_names(grade, "tests/test_linear_classifier.py")
    assert set(classifier) - {t.name for t in grade.tests if t.max_score == 0} <= set(lost)
    assert "no_such_module_anywhere" in lost[classifier[0]]


# --- attacks: each scores exactly what its honest twin scores -------------------


@pytest.mark.parametrize("name", [n for n, (_, twin) in attacks(0).items() if twin])
def test_attack_scores_what_its_honest_twin_scores(graded, name):
    twin = attacks(0)[name][1]
    assert graded[name].score == graded[twin].score, (
        f"{name!r} scored {graded[name].score}, its honest twin {graded[twin].score}: "
        f"{sorted(set(failed(graded[twin])) ^ set(failed(graded[name])))[:5]}")


def test_no_solution_or_hidden_test_reaches_the_results(graded):
    grade = graded["attack: reads the hidden tests and the instructor's files"]
    text = json.dumps([t.output for t in grade.tests])
    assert "def reference_loss" not in text and "BEGIN SOLUTION" not in text


def test_a_daemon_started_by_student_code_does_not_outlive_the_grade(graded):
    assert graded["_daemons seen"], "the daemon attack never started its process: the test proves nothing"
    assert not leftovers(), f"still running after grading: {leftovers()}"
    assert not grader_processes(), f"grader processes still running: {grader_processes()}"


def test_student_code_cannot_reach_a_listener_on_the_loopback(graded, listener):
    listener.settimeout(0.5)
    with pytest.raises(socket.timeout):
        connection, _ = listener.accept()
        connection.close()


def test_a_submission_that_never_returns_is_graded_in_bounded_time(graded, bundle):
    grade = graded["attack: never returns"]
    assert len(grade.tests) == len(bundle.tests), "every test must get a result"
    assert grade.execution_time < 60, f"took {grade.execution_time} s"
    assert any("did not return within" in t.output for t in grade.tests)
    assert any("timed out earlier" in t.output for t in grade.tests)


def make_submission(tmp_path: Path, edits) -> Path:
    return write_flat(tmp_path / f"sub-{uuid.uuid4().hex[:6]}", apply_edits(reference_files(), edits))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["SIGINT", "SIGTERM", "SIGKILL"])
def test_killing_the_grader_leaves_nothing_running(tmp_path, bundle, signum):
    sandbox_required()
    marker = f"grader-kill-test-{uuid.uuid4().hex[:12]}"
    daemon = at_import(DAEMON.format(marker=marker).replace("time.sleep(120)", "time.sleep(60)"))
    submission = make_submission(tmp_path, [daemon, *NEVER_RETURNS])
    grader = subprocess.Popen([sys.executable, "-m", "instructor.grading", str(submission), "--bundle", str(bundle.root)],
                              cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not leftovers(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert leftovers(marker), "the submission never started its daemon"
        time.sleep(0.3)  # well inside a call that never returns
        grader.send_signal(signum)
        grader.wait(timeout=20)
        deadline = time.monotonic() + 10
        while (leftovers(marker) or grader_processes()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not leftovers(marker), f"still running after {signal.Signals(signum).name}: {leftovers(marker)}"
        assert not grader_processes(), f"grader processes still running: {grader_processes()}"
    finally:
        if grader.poll() is None:
            grader.kill()


# --- without bubblewrap ------------------------------------------------------------


def test_without_bubblewrap_grading_refuses_and_says_how_to_install_it(tmp_path, bundle, monkeypatch, capsys):
    monkeypatch.setenv(sandbox.BWRAP_ENV, str(tmp_path / "no-bwrap-here"))
    results = tmp_path / "results.json"
    submission = write_flat(tmp_path / "ref", reference_files())
    code = cli.main([str(submission), "--bundle", str(bundle.root), "--gradescope", str(results)])
    assert code == 2
    err = capsys.readouterr().err
    assert "apt-get install bubblewrap" in err and "--trusted" in err
    data = json.loads(results.read_text())
    assert "misconfigured" in data["output"] and "score" not in data


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="--user needs root")
def test_without_bubblewrap_a_separate_user_runs_the_code_and_results_say_so(tmp_path_factory, bundle, monkeypatch):
    monkeypatch.setenv(sandbox.BWRAP_ENV, "/nonexistent/bwrap")
    tmp = tmp_path_factory.mktemp("user-fallback")
    marker = f"grader-user-test-{uuid.uuid4().hex[:12]}"
    submission = make_submission(tmp, [at_import(DAEMON.format(marker=marker))])
    results = tmp / "results.json"
    code = cli.main([str(submission), "--bundle", str(bundle.root), "--gradescope", str(results), "--user", "nobody"])
    assert code == 0
    data = json.loads(results.read_text())
    assert data["score"] == 100, [t["output"] for t in data["tests"] if t["status"] == "failed"][:3]
    assert "separate user 'nobody'" in data["extra_data"]["isolation"] and "Isolation: separate user" in data["output"]
    assert not leftovers(marker), f"the fallback left a process running: {leftovers(marker)}"


def test_without_bubblewrap_trusted_grading_says_it_had_no_sandbox(tmp_path, bundle, monkeypatch, capsys):
    monkeypatch.setenv(sandbox.BWRAP_ENV, "/nonexistent/bwrap")
    submission = write_flat(tmp_path / "ref", reference_files())
    assert cli.main([str(submission), "--bundle", str(bundle.root), "--trusted", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Score: 100 / 100" in out


# --- formats, outputs and the command line -------------------------------------


def test_zip_with_a_top_folder_and_the_kit_layout_is_read(tmp_path):
    path = tmp_path / "upload.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("kit/classifiers/softmax.py", "A")
        archive.writestr("kit/classifiers/linear_classifier.py", "B")
        archive.writestr("__MACOSX/kit/classifiers/._softmax.py", "junk")
    files, notes = read_submission(path, GRADED_CODE)
    assert files == {SOFTMAX: b"A", LINEAR: b"B"} and not notes


@pytest.mark.parametrize("names", [
    ("softmax (1).py", "linear_classifier (1).py"),
    ("Softmax.py", "Linear_Classifier.py"),
    ("deep/nested/folder/softmax-2.py", "deep/nested/folder/linear_classifier copy.py"),
])
def test_files_are_found_as_students_name_them(tmp_path, names):
    folder = tmp_path / "upload"
    for name, text in zip(names, ("A", "B")):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    (folder / "assignment (1).ipynb").write_text("{}")
    files, notes = read_submission(folder, GRADED_CODE)
    assert files == {SOFTMAX: b"A", LINEAR: b"B"}
    assert all("missing" not in note for note in notes), notes
    assert not any("assignment" in note for note in notes), "the notebook is not graded: no note about it"


def test_a_missing_graded_file_is_noted(tmp_path):
    (tmp_path / "softmax.py").write_text("A")
    files, notes = read_submission(tmp_path, GRADED_CODE)
    assert list(files) == [SOFTMAX] and len(notes) == 1 and "linear_classifier.py is missing" in notes[0]


def test_command_line_writes_gradescope_json_and_a_gradebook(tmp_path, bundle, capsys):
    sandbox_required()
    edits = MISTAKES["vectorized: no reg in the loss"][0]
    good = write_flat(tmp_path / "alice" / "submission", reference_files())
    bad = write_flat(tmp_path / "frank" / "submission", apply_edits(reference_files(), edits))
    # The bad one also tries to write the results itself, where the grader will.
    results = tmp_path / "out" / "results.json"
    (bad / "softmax.py").write_text(
        f"import json, os\nos.makedirs({str(results.parent)!r}, exist_ok=True)\n"
        f"open({str(results)!r}, 'w').write(json.dumps({{'score': 100}}))\n" + (bad / "softmax.py").read_text())
    gradebook, json_dir = tmp_path / "grades.csv", tmp_path / "json"
    code = cli.main([str(good), str(bad), "--bundle", str(bundle.root), "--jobs", "2", "--csv", str(gradebook),
                     "--json-dir", str(json_dir), "--timeout", "30"])
    assert code == 0
    out = capsys.readouterr().out
    assert "Score: 100 / 100" in out and "PASS" in out and "FAIL" in out and "isolation: bubblewrap" in out
    rows = list(csv.reader(open(gradebook)))
    assert rows[0][:3] == ["submission", "score", "total"] and rows[0][-1] == "notes" and len(rows) == 3
    assert [r[0] for r in rows[1:]] == ["alice/submission", "frank/submission"], "students named by folder"
    assert float(rows[1][1]) == 100 and float(rows[2][1]) < 100
    assert len(rows[0]) < 60, "one column per points entry, not per parametrized case"
    assert sum(float(v) for v in rows[1][3:-1]) == pytest.approx(100)
    assert sorted(p.name for p in json_dir.iterdir()) == ["alice__submission.json", "frank__submission.json"]
    # A second run must not overwrite those results silently.
    assert cli.main([str(good), str(bad), "--bundle", str(bundle.root), "--json-dir", str(json_dir)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    assert cli.main([str(bad), "--bundle", str(bundle.root), "--gradescope", str(results)]) == 0
    data = json.loads(results.read_text())
    assert 0 < data["score"] < 100
    check_gradescope_schema(data)


def check_gradescope_schema(data: dict) -> None:
    assert set(data) >= {"score", "execution_time", "output", "tests"}
    assert data["tests"], "no tests in results.json"
    for test in data["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility"}
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in ("visible", "after_published")
        assert (test["visibility"] == "after_published") == test["name"].startswith("tests/hidden/")
    assert sum(Decimal(str(t["max_score"])) for t in data["tests"]) == 100, "max_scores must add up to the total"
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]), abs=0.01)
    assert "bubblewrap" in data["extra_data"]["isolation"] and "Isolation:" in data["output"]


def test_a_broken_bundle_exits_non_zero_and_writes_no_score(tmp_path, capsys):
    results = tmp_path / "results.json"
    not_a_bundle = tmp_path / "nothing"
    not_a_bundle.mkdir()
    gradebook = tmp_path / "grades.csv"
    code = cli.main([str(tmp_path), "--bundle", str(not_a_bundle), "--gradescope", str(results), "--csv", str(gradebook)])
    assert code == 2
    assert "not a grading bundle" in capsys.readouterr().err
    data = json.loads(results.read_text())
    assert "score" not in data and "misconfigured" in data["output"] and "not your score" in data["output"]
    assert not gradebook.exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="--user needs root")
def test_user_who_cannot_reach_the_python_gets_one_clear_error(tmp_path, monkeypatch):
    # A Python behind a directory only root may enter, like a venv made from
    # pyenv under /root: `nobody` cannot start it, so grading must stop with
    # a message naming the user and the fix, not score every submission 0.
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    python = private / "python"
    python.symlink_to(sys.executable)
    tmp_path.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(python))
    with pytest.raises(sandbox.SandboxUnavailable, match=r"--user nobody: that user cannot run this Python") as info:
        sandbox.check_user_can_run_python("nobody")
    assert "/usr/bin/python3" in str(info.value)


@pytest.mark.parametrize("output, expected", [
    ("E   AssertionError: dW should have W's shape (3, 2), got (2, 3)\nE   assert (2, 3) == (3, 2)",
     "dW should have W's shape (3, 2), got (2, 3)"),
    ("E   AssertionError: \nE   Not equal to tolerance rtol=1e-12, atol=0\nE   dW should be 2 * reg * W\n"
     "E   Mismatched elements: 20 / 20 (100%)\nE    DESIRED: array([[0.1, 0.2],...",
     "dW should be 2 * reg * W (Not equal to tolerance rtol=1e-12, atol=0)"),
    ("E   AssertionError: \nE   Not equal to tolerance rtol=1e-07, atol=0\nE   \nE   Mismatched elements: 1 / 4",
     "Not equal to tolerance rtol=1e-07, atol=0"),
    ("tests/x.py:3: in test_x\nE   assert 0.5 == 2.3 ± 2.3e-06", "assert 0.5 == 2.3 ± 2.3e-06"),
    ("Timed out after 8 s", "Timed out after 8 s"),
])
def test_console_summary_shows_the_failure_message_not_the_last_array_row(output, expected):
    assert failure_summary(output) == expected
