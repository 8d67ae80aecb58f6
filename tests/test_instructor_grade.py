"""Tests for the grader (instructor/grade.py and friends); left out of the kit.

Submissions are made from the reference solution by small text edits:
- MISTAKES: one classic error each; every one must lose points, and the
  test or check named in the table must be among those that fail.
- VARIANTS: correct solutions written differently; each must get full marks.
- THREATS: code that hangs, crashes, exits, hogs memory, patches numpy or
  pytest, rewrites a test file or fails to import; the damage must stay
  confined to the tests it touches, and grading must finish.
All of them are graded in one batch (2 jobs) by a session fixture.
"""

from __future__ import annotations

import csv
import json
import os
import re
import sys
import zipfile
from pathlib import Path

import pytest

from instructor import grade as grader
from instructor.bundle import build_bundle
from instructor.markers import BEGIN, END, strip_python
from instructor.sandbox import Limits, check_user_can_run_python

pytestmark = pytest.mark.slow  # about two minutes on 2 cores: ~45 submissions graded in subprocesses

REPO = Path(__file__).resolve().parent.parent
SOFTMAX, LINEAR = "classifiers/softmax.py", "classifiers/linear_classifier.py"
# Generous for these tests, short enough that the hanging submission is quick.
TEST_LIMITS = Limits(timeout=8.0, memory_mb=3072, total=300.0)

# An int instead of a snippet: append the new lines at the end of that solution region
# (the reference's own lines may be rewritten for speed; these edits survive that).
NAIVE, VECTORIZED = 0, 1
VEC_LOSS = "    loss = np.mean(np.log(sum_exp) - scores[rows, y]) + reg * np.sum(W * W)\n"
NAIVE_LOSS = "    loss = loss / num_train + reg * np.sum(W * W)\n"
UPDATE = "            self.W -= learning_rate * grad  # in place: W keeps its dtype\n"
SAMPLE = "            batch = rng.integers(0, num_train, size=batch_size)  # (B,)\n"
PREDICT = "        y_pred = np.argmax(scores, axis=1)  # (N,)\n"

# name: ([(file, old, new), ...], a test or check that must fail)
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
                                    "check::vectorized_has_no_loops"),
    "vectorized: modifies W in place": ([(SOFTMAX, VECTORIZED, "W *= 2.0  # reuses W's memory\n")],
                                        "test_inputs_are_not_modified"),
    "vectorized: float64 forced": ([(SOFTMAX, VECTORIZED, "dW = dW.astype(np.float64)\n")],
                                   "test_float32_inputs_give_float32_gradient[vectorized-float-reg]"),
    "naive: float64 forced": ([(SOFTMAX, "    dW /= num_train\n", "    dW = dW.astype(np.float64) / num_train\n")],
                              "check::float32_stays_float32"),
    "SGD: float64 forced": ([(LINEAR, UPDATE, "            self.W = self.W.astype(np.float64) - learning_rate * grad\n")],
                            "test_float32_training_keeps_float32_weights"),
    "predict returns probabilities": ([(LINEAR, PREDICT, "        y_pred = np.exp(scores) / np.sum(np.exp(scores), axis=1, keepdims=True)\n")],
                                      "test_predict_returns_integer_labels_not_scores"),
    "predict returns float labels": ([(LINEAR, PREDICT, "        y_pred = np.argmax(scores, axis=1).astype(float)\n")],
                                     "check::predict_labels"),
    "SGD samples without updating W": ([(LINEAR, UPDATE, "            pass  # forgot the update\n")], "test_training_updates_W"),
    "SGD: wrong sign of the update": ([(LINEAR, UPDATE, UPDATE.replace("-=", "+="))], "check::sgd_step_follows_the_gradient"),
    "SGD: no learning rate": ([(LINEAR, UPDATE, "            self.W -= grad\n")], "check::sgd_step_follows_the_gradient"),
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
# name: ([(file, old, new), ...]) -- their expectations are in the tests below.
THREATS = {
    "hangs on one input": [(SOFTMAX, NAIVE_START, "    if reg == 0.7:\n        while True:\n            pass\n" + NAIVE_START)],
    "os._exit at import": [(LINEAR, "import os\n", "import os\nos._exit(0)\n")],
    "sys.exit in a test": [(SOFTMAX, VEC_START, CIFAR_ROWS + "        import sys\n        sys.exit(0)\n" + VEC_START)],
    "os._exit in a test": [(SOFTMAX, VEC_START, CIFAR_ROWS + "        import os\n        os._exit(3)\n" + VEC_START)],
    "memory hog in a test": [(SOFTMAX, VEC_START, CIFAR_ROWS + "        hog = bytearray(12 * 2**30)\n" + VEC_START)],
    "patches numpy.testing and pytest": [
        (SOFTMAX, VEC_LOSS, VEC_LOSS.replace("np.mean(", "np.sum(")),
        (SOFTMAX, "import numpy as np\n", "import numpy as np\nimport numpy.testing, pytest\n"
         "numpy.testing.assert_allclose = lambda *a, **k: None\n"
         "class _Any:\n    def __eq__(self, other):\n        return True\n"
         "pytest.approx = lambda *a, **k: _Any()\n"),
    ],
    "rewrites a test file": [(SOFTMAX, "import numpy as np\n", "import numpy as np\n"
                              "open('tests/test_linear_classifier.py', 'w').write('def test_free():\\n    pass\\n')\n")],
    "syntax error in softmax.py": [(SOFTMAX, "    sum_exp = np.sum(probs, axis=1)  # (N,), each in [1, C]\n", "    sum_exp = = 1\n")],
    "import error in linear_classifier.py": [(LINEAR, "import os\n", "import os\nimport no_such_module_anywhere\n")],
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


@pytest.fixture(scope="session")
def bundle(tmp_path_factory):
    return build_bundle(REPO, tmp_path_factory.mktemp("bundle") / "b")


@pytest.fixture(scope="session")
def graded(bundle, tmp_path_factory) -> dict[str, grader.Grade]:
    """Grade the reference, every mistake, variant and threat in one batch."""
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
    names = list(submissions)
    grades = grader.grade_many(bundle, [submissions[n] for n in names], TEST_LIMITS, jobs=2)
    return dict(zip(names, grades))


def failed(grade: grader.Grade) -> dict[str, str]:
    return {t.name: t.output for t in grade.tests if not t.passed}


def test_points_sum_to_the_documented_total(bundle):
    assert bundle.total == pytest.approx(100)
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


def softmax_test_names(grade):
    return [t.name for t in grade.tests if t.name.startswith(("tests/test_softmax.py", "tests/hidden/test_hidden_softmax"))]


def test_a_hang_costs_only_the_tests_that_hang(graded):
    lost = failed(graded["hangs on one input"])
    assert sorted(lost) == [
        "tests/test_softmax.py::test_loss_includes_reg_times_sum_of_squared_weights[naive]",
        "tests/test_softmax.py::test_regularization_gradient_is_2_reg_W[naive]",
    ]
    assert all("timed out" in message for message in lost.values())


def test_os_exit_at_import_costs_only_the_tests_needing_that_file(graded):
    grade = graded["os._exit at import"]
    lost = failed(grade)
    assert lost and all("linear_classifier" in name or name.startswith(("check::predict", "check::sgd")) for name in lost)
    assert all(name in lost for name in grade_names(grade, "tests/test_linear_classifier.py"))
    assert "crashed while importing" in lost[grade_names(grade, "tests/test_linear_classifier.py")[0]]


def grade_names(grade, prefix):
    return [t.name for t in grade.tests if t.name.startswith(prefix)]


@pytest.mark.parametrize("threat,why", [("sys.exit in a test", "SystemExit"), ("os._exit in a test", "crashed"),
                                        ("memory hog in a test", "MemoryError")])
def test_exit_or_memory_hog_in_one_test_costs_that_test(graded, threat, why):
    lost = failed(graded[threat])
    assert list(lost) == ["tests/test_softmax.py::test_vectorized_matches_naive_on_cifar_sized_rows"], sorted(lost)
    assert why in lost["tests/test_softmax.py::test_vectorized_matches_naive_on_cifar_sized_rows"]


def test_patching_numpy_and_pytest_is_detected_and_earns_nothing_extra(graded):
    patched, honest = graded["patches numpy.testing and pytest"], graded["vectorized: no division by N"]
    assert patched.score <= honest.score, (patched.score, honest.score)
    lost = failed(patched)
    assert any("tampering detected" in message for message in lost.values())
    assert "check::vectorized_loss_and_gradient" in lost


def test_rewriting_a_test_file_costs_that_files_tests(graded):
    grade = graded["rewrites a test file"]
    lost = failed(grade)
    assert sorted(lost) == grade_names(grade, "tests/test_linear_classifier.py") or set(lost) == set(
        grade_names(grade, "tests/test_linear_classifier.py"))
    assert any("modified tests/test_linear_classifier.py" in m for m in lost.values())


def test_syntax_error_scores_zero_with_the_error_shown_and_finishes(graded):
    grade = graded["syntax error in softmax.py"]
    assert grade.tests and grade.score == 0
    assert "SyntaxError" in grade.tests[-1].output or any("SyntaxError" in t.output for t in grade.tests)
    assert any("does not parse" in t.output for t in grade.tests)


def test_import_error_costs_exactly_the_tests_needing_the_file(graded):
    grade = graded["import error in linear_classifier.py"]
    lost = failed(grade)
    assert set(softmax_test_names(grade)).isdisjoint(lost)
    classifier = grade_names(grade, "tests/test_linear_classifier.py")
    assert set(classifier) <= set(lost)
    assert "no_such_module_anywhere" in lost[classifier[0]]


# --- formats, outputs and the command line -------------------------------------


def test_zip_with_a_top_folder_and_the_kit_layout_is_read(tmp_path):
    path = tmp_path / "upload.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("kit/classifiers/softmax.py", "A")
        archive.writestr("kit/classifiers/linear_classifier.py", "B")
        archive.writestr("__MACOSX/kit/classifiers/._softmax.py", "junk")
    files, notes = grader.read_submission(path)
    assert files == {SOFTMAX: b"A", LINEAR: b"B"}
    assert notes and "assignment.ipynb is missing" in notes[0]


def test_command_line_writes_gradescope_json_and_csv(tmp_path, bundle, capsys):
    edits = MISTAKES["vectorized: no reg in the loss"][0]
    good = write_flat(tmp_path / "good", reference_files())
    bad = write_flat(tmp_path / "bad", apply_edits(reference_files(), edits))
    # The bad one also tries to write the results itself, where the grader will.
    results = tmp_path / "out" / "results.json"
    (bad / "softmax.py").write_text(
        f"import json, os\nos.makedirs({str(results.parent)!r}, exist_ok=True)\n"
        f"open({str(results)!r}, 'w').write(json.dumps({{'score': 100}}))\n" + (bad / "softmax.py").read_text())
    code = grader.main([str(good), str(bad), "--bundle", str(bundle.root), "--jobs", "2", "--csv", str(tmp_path / "grades.csv"),
                        "--json-dir", str(tmp_path / "json"), "--timeout", "30"])
    assert code == 0
    out = capsys.readouterr().out
    assert re.search(r"Score: 100 / 100", out) and "PASS" in out and "FAIL" in out
    rows = list(csv.reader(open(tmp_path / "grades.csv")))
    assert rows[0][:3] == ["submission", "score", "total"] and len(rows) == 3
    assert float(rows[1][1]) == 100 and float(rows[2][1]) < 100
    assert len(rows[0]) == 3 + len(bundle.tests) + len(bundle.checks)
    assert grader.main([str(bad), "--bundle", str(bundle.root), "--gradescope", str(results)]) == 0
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
        hidden = test["name"].startswith(("tests/hidden/", "check::"))
        assert (test["visibility"] == "after_published") == hidden
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]), abs=0.01)


def test_results_json_is_written_even_when_the_grader_fails(tmp_path, capsys):
    results = tmp_path / "results.json"
    not_a_bundle = tmp_path / "nothing"
    not_a_bundle.mkdir()
    assert grader.main([str(tmp_path), "--bundle", str(not_a_bundle), "--gradescope", str(results)]) == 0
    data = json.loads(results.read_text())
    assert data["score"] == 0 and "Traceback" in data["output"] and "not a grading bundle" in data["output"]


def test_user_check_does_nothing_without_a_user():
    check_user_can_run_python(Limits())  # no --user: nothing to check, nothing run


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
    with pytest.raises(PermissionError, match=r"--user nobody: that user cannot run this Python") as info:
        check_user_can_run_python(Limits(user="nobody"))
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
    assert grader.failure_summary(output) == expected
