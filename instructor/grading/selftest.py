"""The instructor's self-test: do the current tests and points still grade classic work correctly?

    python -m instructor.grading.selftest [--jobs 2]

Builds a grading bundle from this repository (the reference gate runs
first), then grades a built-in suite against it, in the sandbox:

- classic mistakes, each with the points it is meant to cost (the rubric);
- correct solutions written in other styles, which must get full marks;
- attacks, each against its honest twin (the same maths without the
  attack), which must not score more (an attack that breaks its own
  channel to the grader scores less).

It prints one table (each mistake's cost beside its intended cost: the
rubric, also in instructor/grading/points.py) and warns when a mistake loses
nothing, costs less than half or more than twice its intended points, or its
named test no longer fails, when a correct variant loses anything, or when an
attack scores more than its twin (exit status 1). The suite does not copy lines
of the reference solution: it brings its own correct code for every
solution region (softmax.py: 0 naive, 1 vectorized; linear_classifier.py:
0 the batch, 1 the update, 2 predict) and makes each mistake by editing
that, so it keeps working after the reference is rewritten.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from instructor.markers import BEGIN, END

SOFTMAX, LINEAR = "classifiers/softmax.py", "classifiers/linear_classifier.py"
NAIVE, VECTORIZED = (SOFTMAX, 0), (SOFTMAX, 1)
BATCH, UPDATE, PREDICT = (LINEAR, 0), (LINEAR, 1), (LINEAR, 2)
# A mistake should cost roughly its intended points: warned about beyond this factor either way.
# (Mistakes points.CHARGES knows cost exactly that; the others cost the points of the tests they fail.)
ROUGHLY = 2.0

# The suite's own correct code for every solution region: the kit's setup lines
# (loss = 0.0, dW = np.zeros_like(W), X_batch = None, ...) sit outside the regions.
CORRECT = {
    NAIVE: """\
num_train, num_classes = X.shape[0], W.shape[1]
for i in range(num_train):
    row = X[i] @ W
    shifted = row - np.max(row)
    log_norm = np.log(np.sum(np.exp(shifted)))
    loss += log_norm - shifted[y[i]]
    for j in range(num_classes):
        p_j = np.exp(shifted[j] - log_norm)
        dW[:, j] += (p_j - (j == y[i])) * X[i]
loss = loss / num_train + reg * np.sum(W * W)
dW = dW / num_train + 2 * reg * W
""",
    VECTORIZED: """\
num_train = X.shape[0]
rows = np.arange(num_train)
scores = X @ W
scores = scores - np.max(scores, axis=1, keepdims=True)
log_norm = np.log(np.sum(np.exp(scores), axis=1))
loss = np.mean(log_norm - scores[rows, y]) + reg * np.sum(W * W)
dscores = np.exp(scores - log_norm[:, None])
dscores[rows, y] -= 1
dW = X.T @ dscores / num_train + 2 * reg * W
""",
    BATCH: """\
batch = rng.integers(0, num_train, size=batch_size)
X_batch = X[batch]
y_batch = y[batch]
""",
    UPDATE: "self.W -= learning_rate * grad\n",
    PREDICT: "y_pred = np.argmax(X @ self.W, axis=1)\n",
}


@dataclass
class Case:
    kind: str  # "mistake", "variant", "attack", "twin", "reference", "threat"
    # Over CORRECT: {region: new body}, or a list of edits: (region, old, new) replaces text in
    # that region's body, ("body", region, text) replaces the body, ("import", path, code) runs
    # code when that file is imported.
    edits: list | dict
    must_fail: str = ""  # a mistake: a test (part of its name) that must fail
    intended: float = 0.0  # a mistake: the points it is meant to cost
    twin: str = ""  # an attack: its honest twin's name


def edit(region, old: str, new: str) -> tuple:
    return (region, old, new)


def body(region, text: str) -> tuple:
    return ("body", region, text)


def at_import(path: str, code: str, guarded: bool = True) -> tuple:
    """Code that runs when `path` is imported (inside try/except when guarded, so the maths still runs)."""
    return ("import", path, _at_import(code) if guarded else code)


# name: Case. "intended" is the rubric: what the mistake should cost out of 100.
MISTAKES = {
    "naive: no reg in the loss": Case(
        "mistake",
        [edit(NAIVE, "loss / num_train + reg * np.sum(W * W)", "loss / num_train")],
        "test_loss_includes_reg_times_sum_of_squared_weights[naive]",
        4,
    ),
    "vectorized: no reg in the loss": Case(
        "mistake",
        [edit(VECTORIZED, " + reg * np.sum(W * W)", "")],
        "test_loss_includes_reg_times_sum_of_squared_weights[vectorized]",
        6,
    ),
    "naive: no reg in the gradient": Case(
        "mistake", [edit(NAIVE, " + 2 * reg * W", "")], "test_regularization_gradient_is_2_reg_W[naive]", 4
    ),
    "vectorized: no reg in the gradient": Case(
        "mistake", [edit(VECTORIZED, " + 2 * reg * W", "")], "test_regularization_gradient_is_2_reg_W[vectorized]", 6
    ),
    "0.5 * reg convention": Case(
        "mistake",
        [edit(VECTORIZED, "+ reg * np.sum", "+ 0.5 * reg * np.sum"), edit(VECTORIZED, "+ 2 * reg * W", "+ reg * W")],
        "test_loss_includes_reg_times_sum_of_squared_weights[vectorized]",
        8,
    ),
    "vectorized: no division by N": Case(
        "mistake",
        [edit(VECTORIZED, "np.mean(", "np.sum("), edit(VECTORIZED, " / num_train", "")],
        "test_loss_is_a_mean_over_examples_not_a_sum[vectorized]",
        8,
    ),
    "naive: no division by N": Case(
        "mistake",
        [edit(NAIVE, "loss / num_train", "loss"), edit(NAIVE, "dW / num_train", "dW")],
        "test_loss_is_a_mean_over_examples_not_a_sum[naive]",
        6,
    ),
    "vectorized: -1 on the wrong class": Case(
        "mistake",
        [edit(VECTORIZED, "dscores[rows, y] -= 1", "dscores[:, y] -= 1")],
        "test_gradient_at_zero_weights_is_X_T_times_uniform_minus_onehot[vectorized]",
        12,
    ),
    "naive: -1 on the wrong class": Case(
        "mistake",
        [edit(NAIVE, "(j == y[i])", "(j == (y[i] + 1) % num_classes)")],
        "test_gradient_at_zero_weights_is_X_T_times_uniform_minus_onehot[naive]",
        10,
    ),
    "naive: wrong sign": Case(
        "mistake", [edit(NAIVE, "dW[:, j] += (p_j", "dW[:, j] -= (p_j")], "test_gradient_matches_finite_differences", 10
    ),
    "vectorized: wrong sign": Case(
        "mistake",
        [edit(VECTORIZED, "X.T @ dscores / num_train", "-X.T @ dscores / num_train")],
        "test_vectorized_matches_naive",
        12,
    ),
    "vectorized: no max shift": Case(
        "mistake",
        [edit(VECTORIZED, "scores = scores - np.max(scores, axis=1, keepdims=True)\n", "")],
        "test_loss_is_stable_for_huge_scores[vectorized]",
        5,
    ),
    "naive: no max shift": Case(
        "mistake",
        [edit(NAIVE, "shifted = row - np.max(row)", "shifted = row")],
        "test_loss_is_stable_for_huge_scores[naive]",
        4,
    ),
    "vectorized: log(exp / sum)": Case(
        "mistake",
        [
            edit(
                VECTORIZED,
                "np.mean(log_norm - scores[rows, y])",
                "np.mean(-np.log(np.exp(scores[rows, y]) / np.exp(log_norm)))",
            )
        ],
        "test_loss_is_exact_when_correct_class_is_far_below_the_best[vectorized]",
        4,
    ),
    "naive: log(exp / sum)": Case(
        "mistake",
        [edit(NAIVE, "loss += log_norm - shifted[y[i]]", "loss += -np.log(np.exp(shifted[y[i]]) / np.exp(log_norm))")],
        "test_loss_is_exact_when_correct_class_is_far_below_the_best[naive]",
        3,
    ),
    "vectorized: loop over examples": Case(
        "mistake",
        [
            edit(
                VECTORIZED,
                "dW = X.T @ dscores / num_train",
                "dW = sum(np.outer(X[i], dscores[i]) for i in range(num_train)) / num_train",
            )
        ],
        "test_vectorized_source_has_no_loops",
        5,
    ),
    "vectorized: loop for the -1": Case(
        "mistake",
        [edit(VECTORIZED, "dscores[rows, y] -= 1\n", "for i in range(num_train):\n    dscores[i, y[i]] -= 1\n")],
        "test_hidden_checks.py::test_vectorized_has_no_loops",
        5,
    ),
    "vectorized: returns W itself as dW": Case(
        "mistake",
        [
            edit(
                VECTORIZED,
                "dW = X.T @ dscores / num_train + 2 * reg * W",
                "W += X.T @ dscores / num_train + 2 * reg * W - W\ndW = W",
            )
        ],
        "test_gradient_is_a_new_array_not_W_itself[vectorized]",
        8,
    ),
    "vectorized: modifies W in place": Case(
        "mistake",
        [edit(VECTORIZED, "num_train = X.shape[0]\n", "num_train = X.shape[0]\nW *= 1.0000001\n")],
        "test_inputs_are_not_modified",
        4,
    ),
    "vectorized: float64 forced": Case(
        "mistake",
        [edit(VECTORIZED, "+ 2 * reg * W", "+ 2 * reg * W.astype(np.float64)")],
        "test_float32_inputs_give_float32_gradient[vectorized]",
        3,
    ),
    "naive: float64 forced": Case(
        "mistake",
        [edit(NAIVE, "dW = dW / num_train", "dW = dW.astype(np.float64) / num_train")],
        "test_hidden_checks.py::test_float32_stays_float32",
        3,
    ),
    "SGD: float64 forced": Case(
        "mistake",
        [edit(UPDATE, "self.W -= learning_rate * grad", "self.W = self.W.astype(np.float64) - learning_rate * grad")],
        "test_float32_training_keeps_float32_weights",
        3,
    ),
    "predict returns probabilities": Case(
        "mistake",
        [
            edit(
                PREDICT,
                "y_pred = np.argmax(X @ self.W, axis=1)",
                "y_pred = np.exp(X @ self.W) / np.exp(X @ self.W).sum(axis=1, keepdims=True)",
            )
        ],
        "test_predict_returns_integer_labels_not_scores",
        6,
    ),
    "predict returns float labels": Case(
        "mistake", [edit(PREDICT, "axis=1)", "axis=1).astype(float)")], "test_hidden_checks.py::test_predict_labels", 4
    ),
    "SGD: no update of W": Case(
        "mistake", [edit(UPDATE, "self.W -= learning_rate * grad", "pass")], "test_training_updates_W", 12
    ),
    "SGD: wrong sign of the update": Case(
        "mistake", [edit(UPDATE, "-=", "+=")], "test_hidden_checks.py::test_sgd_step_follows_the_gradient", 10
    ),
    "SGD: no learning rate": Case(
        "mistake",
        [edit(UPDATE, "learning_rate * grad", "grad")],
        "test_hidden_checks.py::test_sgd_step_follows_the_gradient",
        6,
    ),
    "SGD: the same batch every step": Case(
        "mistake",
        [edit(BATCH, "rng.integers(0, num_train, size=batch_size)", "np.arange(batch_size) % num_train")],
        "test_batches_are_random_rows_with_matching_labels",
        3,
    ),
    "SGD: labels not matching the rows": Case(
        "mistake",
        [edit(BATCH, "y_batch = y[batch]", "y_batch = y[rng.integers(0, num_train, size=batch_size)]")],
        "test_batches_are_random_rows_with_matching_labels",
        6,
    ),
    "SGD: np.random instead of rng": Case(
        "mistake",
        [
            edit(
                BATCH, "rng.integers(0, num_train, size=batch_size)", "np.random.randint(0, num_train, size=batch_size)"
            )
        ],
        "test_same_seed_gives_the_same_run_and_another_seed_does_not",
        2,
    ),
}

VARIANTS = {
    "naive: classes in the outer loop": Case(
        "variant",
        {
            NAIVE: """\
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
"""
        },
    ),
    "naive: np.logaddexp.reduce and outer": Case(
        "variant",
        {
            NAIVE: """\
for i in range(X.shape[0]):
    scores = X[i] @ W
    log_norm = np.logaddexp.reduce(scores)
    loss -= scores[y[i]] - log_norm
    p = np.exp(scores - log_norm)
    p[y[i]] -= 1
    dW += np.outer(X[i], p)
loss = loss / X.shape[0] + reg * (W * W).sum()
dW = dW / X.shape[0] + 2 * reg * W
"""
        },
    ),
    "vectorized: einsum and a hand-written log-sum-exp": Case(
        "variant",
        {
            VECTORIZED: """\
N = X.shape[0]
scores = np.einsum("nd,dc->nc", X, W)
m = scores.max(axis=1, keepdims=True)
lse = m[:, 0] + np.log(np.exp(scores - m).sum(axis=1))
loss = np.mean(lse - scores[np.arange(N), y]) + reg * np.einsum("dc,dc->", W, W)
P = np.exp(scores - lse[:, None])
P[np.arange(N), y] -= 1
dW = np.einsum("nd,nc->dc", X, P) / N + 2 * reg * W
"""
        },
    ),
    "vectorized: one-hot, log-softmax and X.T @ dscores": Case(
        "variant",
        {
            VECTORIZED: """\
num_train, num_classes = X.shape[0], W.shape[1]
scores = X.dot(W)
scores = scores - scores.max(axis=1)[:, np.newaxis]
log_probs = scores - np.log(np.sum(np.exp(scores), axis=1, keepdims=True))
onehot = np.eye(num_classes, dtype=W.dtype)[y]
loss = -np.sum(log_probs * onehot) / num_train + reg * np.sum(np.square(W))
dscores = (np.exp(log_probs) - onehot) / num_train
dW = X.T @ dscores + 2 * reg * W
"""
        },
    ),
    "classifier: rng.choice, a new W each step, .argmax": Case(
        "variant",
        {
            BATCH: "idx = rng.choice(num_train, size=batch_size, replace=True)\nX_batch, y_batch = X[idx], y[idx]\n",
            UPDATE: "self.W = self.W - learning_rate * grad\n",
            PREDICT: "y_pred = (X @ self.W).argmax(axis=1)\n",
        },
    ),
}

ZEROS = [body(NAIVE, "pass\n"), body(VECTORIZED, "pass\n")]  # the kit's own setup lines: loss 0.0, dW = 0


def _at_import(code: str) -> str:
    body = "".join("    " + line + "\n" for line in code.strip("\n").splitlines())
    return "try:\n" + body + "except Exception:\n    pass\n"


FORGE_REPORTS = """
import os, sys, json
fake = b'{"e": "report", "id": "x", "when": "call", "outcome": "passed", "text": ""}\\n' * 50
for fd in range(3, 64):
    try:
        os.write(fd, fake)
    except OSError:
        pass
for name, module in list(sys.modules.items()):
    if name.startswith("instructor") and hasattr(module, "send"):
        plain = module.send
        def send(fd, body, encoder, plain=plain):
            text = json.dumps(body).replace('"failed"', '"passed"').replace('"ok": false', '"ok": true')
            return plain(fd, json.loads(text), encoder)
        module.send = send
"""
# Look everywhere a grader's files could show: parents' working directories,
# roots and environments through /proc, and the hidden tests by import. A
# solution found is used; hidden tests found are raised as an error message,
# so they would show in results.json.
SNOOP = """
import glob, os
places = [os.getcwd(), os.path.dirname(os.getcwd())] + EXTRA_PLACES
for pid in os.listdir('/proc'):
    if pid.isdigit():
        for link in ('cwd', 'root'):
            try:
                places.append(os.readlink(f'/proc/{pid}/{link}'))
            except OSError:
                pass
        try:
            env = open(f'/proc/{pid}/environ', 'rb').read().decode(errors='replace').split('\\0')
            places += [v.split('=', 1)[1] for v in env if '=' in v and '/' in v]
        except OSError:
            pass
SOLUTION, LEAK = None, None
for place in places:
    for part in place.split(':'):
        for pattern in ('classifiers/softmax.py', '*/classifiers/softmax.py', 'tests/hidden/*.py',
                        '*/tests/hidden/*.py', '*/*/tests/hidden/*.py', 'instructor/grading/reference.py',
                        '*/instructor/grading/reference.py', 'instructor/hidden_tests/*.py'):
            for path in glob.glob(os.path.join(part, pattern)):
                if os.path.realpath(path).startswith(os.getcwd() + os.sep):
                    continue  # the student's own kit
                text = open(path).read()
                if 'def reference_' + 'loss' in text:
                    LEAK = text
                elif 'BEGIN ' + 'SOLUTION' in text and 'raise NotImplementedError()' not in text:
                    SOLUTION = {}
                    exec(compile(text, path, 'exec'), SOLUTION)
try:
    from instructor.grading.reference import reference_loss as STOLEN
except ImportError:
    STOLEN = None
"""
USE_SNOOPED = """\
if SOLUTION is not None:
    loss, dW = SOLUTION['{function}'](W, X, y, reg)
elif STOLEN is not None:
    loss, dW = STOLEN(W, X, y, reg)
elif LEAK is not None:
    raise ValueError(LEAK)
"""
DAEMON = """
import os, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep({seconds})', '{marker}'])
    os._exit(0)
"""
NETWORK = """
import socket
with socket.create_connection(('127.0.0.1', {port}), timeout=2) as connection:
    connection.sendall(b'LEAKED FROM THE SANDBOX')
"""
NEVER_RETURNS = [body(NAIVE, "while True:\n    pass\n"), body(VECTORIZED, "while True:\n    pass\n")]
HEADER = "import numpy as np\n"  # the line of each graded file that import-time code goes after


def attacks(marker: str, port: int, extra_places: list[str]) -> dict[str, Case]:
    """Attacks and their honest twins. `marker` tags leftover processes; `port` is a loopback listener."""
    snoop = (
        "import",
        SOFTMAX,
        "SOLUTION = LEAK = STOLEN = None\n" + _at_import(f"EXTRA_PLACES = {extra_places!r}\n" + SNOOP),
    )
    return {
        "twin: zeros": Case("twin", ZEROS),
        "attack: forges the report channel": Case(
            "attack", [*ZEROS, at_import(SOFTMAX, FORGE_REPORTS)], twin="twin: zeros"
        ),
        "attack: reads the hidden tests and the instructor's files": Case(
            "attack",
            [
                snoop,
                body(NAIVE, USE_SNOOPED.format(function="softmax_loss_naive")),
                body(VECTORIZED, USE_SNOOPED.format(function="softmax_loss_vectorized")),
            ],
            twin="twin: zeros",
        ),
        "attack: leaves a daemon running": Case(
            "attack", [at_import(SOFTMAX, DAEMON.format(seconds=120, marker=marker))], twin="reference"
        ),
        "attack: talks to the network": Case(
            "attack", [at_import(SOFTMAX, NETWORK.format(port=port))], twin="reference"
        ),
        "attack: never returns": Case("attack", NEVER_RETURNS),  # judged by its time and what it leaves running
    }


def regions(text: str) -> list[tuple[int, int]]:
    lines = text.splitlines()
    begins = [i for i, line in enumerate(lines) if line.strip() == BEGIN]
    ends = [i for i, line in enumerate(lines) if line.strip() == END]
    return list(zip(begins, ends))


def fill(stub: str, bodies: dict[int, str]) -> str:
    """The stub file (regions holding `raise NotImplementedError()`) with region i's body replaced by bodies[i]."""
    lines = stub.splitlines(keepends=True)
    for index, (begin, end) in sorted(((i, r) for i, r in enumerate(regions(stub)) if i in bodies), reverse=True):
        indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
        body = [indent + line if line.strip() else line for line in bodies[index].splitlines(keepends=True)]
        lines[begin + 1 : end] = body
    return "".join(lines)


def build_files(files: dict[str, str], case: Case) -> dict[str, str]:
    """The submission: the graded files (with their solution markers) with every region filled for `case`."""
    bodies = dict(CORRECT)
    imports = {path: "" for path in files}
    for item in case.edits.items() if isinstance(case.edits, dict) else case.edits:
        if isinstance(case.edits, dict):
            region, text = item
            bodies[region] = text
            continue
        what, where, text = item
        if what == "import":
            imports[where] += text
        elif what == "body":
            bodies[where] = text
        else:
            count = bodies[what].count(where)
            if count != 1:
                raise ValueError(f"the suite's edit {where!r} matches {count} times in {what}")
            bodies[what] = bodies[what].replace(where, text)
    out = {}
    for path, text in files.items():
        text = fill(text, {index: b for (p, index), b in bodies.items() if p == path})
        if imports[path]:
            if HEADER not in text:
                raise ValueError(f"{path} has no line {HEADER.strip()!r} to put import-time code after")
            text = text.replace(HEADER, HEADER + imports[path], 1)
        out[path] = text
    return out


def graded_files(repo: Path) -> dict[str, str]:
    """The instructor's graded files: only their solution markers are used (every region is refilled)."""
    files = {path: (repo / path).read_text(encoding="utf-8") for path in (SOFTMAX, LINEAR)}
    for path, index in CORRECT:
        if len(regions(files[path])) <= index:
            raise ValueError(f"{path} has fewer solution regions than the self-test fills ({index + 1})")
    return files


@dataclass
class Row:
    name: str
    kind: str
    score: float
    lost: float
    note: str


def judge(cases: dict[str, Case], grades: dict) -> tuple[list[Row], list[str]]:
    """The self-test's table and its warnings."""
    rows, warnings = [], []
    for name, case in cases.items():
        grade = grades[name]
        lost = round(grade.total - grade.score, 2)
        failed = [t.name for t in grade.tests if not t.passed]
        note = ""
        if case.kind == "mistake":
            note = f"intended {case.intended:g}"
            if lost == 0:
                warnings.append(f"{name}: loses no points; add a test or points for it")
            elif not case.intended / ROUGHLY <= lost <= ROUGHLY * case.intended:
                note += f", {lost / case.intended:.2g}x"
                warnings.append(
                    f"{name}: costs {lost:g} points, intended {case.intended:g}; change its tests' "
                    "points or its CHARGES entry in instructor/grading/points.py"
                )
            if case.must_fail and not any(case.must_fail in t for t in failed):
                warnings.append(f"{name}: {case.must_fail} no longer fails")
        elif case.kind in ("variant", "reference") and lost > 0:
            warnings.append(f"{name}: a correct solution lost {lost:g} points ({', '.join(failed[:3])})")
        elif case.kind == "attack" and case.twin:
            twin = grades[case.twin]
            note = f"twin {twin.score:g}"
            if grade.score > twin.score:
                warnings.append(f"{name}: scored {grade.score:g}, more than its honest twin's {twin.score:g}")
        rows.append(Row(name, case.kind, grade.score, lost, note))
    return rows, warnings


def print_report(rows: list[Row], warnings: list[str], out=None) -> None:
    out = out or sys.stdout
    print("| submission | kind | score | lost | |", file=out)
    print("|---|---|---|---|---|", file=out)
    for row in rows:
        print(f"| {row.name} | {row.kind} | {row.score:g} | {row.lost:g} | {row.note} |", file=out)
    print(file=out)
    for warning in warnings:
        print(f"WARNING: {warning}", file=out)
    print(
        "self-test: "
        + (
            f"{len(warnings)} warning(s)"
            if warnings
            else "every mistake costs roughly its intended "
            "points, every correct variant gets full marks, no attack scores more than its twin"
        ),
        file=out,
    )


def main(argv: list[str] | None = None) -> int:
    from instructor import REPO_ROOT
    from instructor.grading import cli, sandbox
    from instructor.grading.bundle import BundleError, build_bundle
    from instructor.grading.results import Grade

    parser = argparse.ArgumentParser(prog="python -m instructor.grading.selftest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="submissions graded in parallel (default 2)")
    args = parser.parse_args(argv)
    cases = {
        "reference": Case("reference", []),
        **MISTAKES,
        **VARIANTS,
        **attacks(marker="selftest-leftover", port=9, extra_places=[str(REPO_ROOT)]),
    }
    try:
        isolation = sandbox.choose_isolation()
        with tempfile.TemporaryDirectory(prefix="selftest-") as tmp:
            root = Path(tmp)
            bundle = build_bundle(REPO_ROOT, root / "bundle")
            originals = graded_files(REPO_ROOT)
            paths = []
            for number, case in enumerate(cases.values()):
                folder = root / f"case{number:02d}"
                folder.mkdir()
                for path, text in build_files(originals, case).items():
                    (folder / Path(path).name).write_text(text)
                paths.append(folder)
            limits = sandbox.Limits(timeout=20.0, total=240.0)
            results = cli.grade_many(bundle, paths, limits, isolation, args.jobs)
    except (sandbox.SandboxUnavailable, BundleError, ValueError) as err:
        print(f"self-test: {err}", file=sys.stderr)
        return 2
    broken = [name for name, r in zip(cases, results) if not isinstance(r, Grade)]
    if broken:
        print(f"self-test: the grader failed on {', '.join(broken)}", file=sys.stderr)
        return 2
    rows, warnings = judge(cases, dict(zip(cases, results)))
    print_report(rows, warnings)
    return 1 if warnings else 0


if __name__ == "__main__":
    sys.exit(main())
