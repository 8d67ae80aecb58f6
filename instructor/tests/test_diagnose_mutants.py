"""diagnose.py against the grader's mistake suite and the reference; left out of the kit.

The mistakes and correct variants of the instructor self-test's suite
(instructor/grading/selftest.py, which tests/test_instructor_grade.py grades)
fill the solution regions of classifiers/softmax.py and are loaded as a
module; each loss is then diagnosed in this process, no grading involved.
Also: the stored answer of diagnose.py's fixed probe is the reference's, and a
failing graded test carries the finding in its message (tests/conftest.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import diagnose
from diagnose import CODES, Finding, diagnose_loss
from instructor import REPO_ROOT
from instructor.build import build_kit, with_hidden_tests, write_files
from instructor.grading import selftest
from instructor.grading.reference import reference_loss
from instructor.grading.selftest import BATCH, LINEAR, MISTAKES, SOFTMAX, UPDATE, VARIANTS, body, edit
from instructor.tests import loss_variants

REPO = REPO_ROOT
BOTH = ("softmax_loss_naive", "softmax_loss_vectorized")
REG_CODES = {"reg-missing-in-loss", "reg-missing-in-gradient", "reg-half-convention"}

# The codes each mistake of the suite must get, and only those; the other function gets none.
EXPECTED = {
    "naive: no reg in the loss": {"reg-missing-in-loss"},
    "vectorized: no reg in the loss": {"reg-missing-in-loss"},
    "naive: no reg in the gradient": {"reg-missing-in-gradient"},
    "vectorized: no reg in the gradient": {"reg-missing-in-gradient"},
    "0.5 * reg convention": {"reg-half-convention"},
    "vectorized: no division by N": {"loss-not-averaged", "gradient-not-averaged"},
    "naive: no division by N": {"loss-not-averaged", "gradient-not-averaged"},
    "vectorized: -1 on the wrong class": {"gradient-wrong-target"},
    "naive: -1 on the wrong class": {"gradient-wrong-target"},
    "naive: wrong sign": {"gradient-sign-flipped"},
    "vectorized: wrong sign": {"gradient-sign-flipped"},
    "vectorized: no max shift": {"overflow-without-shift"},
    "naive: no max shift": {"overflow-without-shift"},
    "vectorized: log(exp / sum)": {"underflow-log-of-ratio"},
    "naive: log(exp / sum)": {"underflow-log-of-ratio"},
    # Right numbers, wrong way (a loop where none may be): the static check's business, not ours.
    "vectorized: loop over examples": set(),
    "vectorized: loop for the -1": set(),
    "vectorized: modifies W in place": {"mutates-input"},
    "vectorized: returns W itself as dW": {"mutates-input"},
    "vectorized: float64 forced": {"float32-promoted"},
    "naive: float64 forced": {"float32-promoted"},
}
# The same for the training loop (diagnose_training of the edited Softmax class).
TRAINING_EXPECTED = {
    "SGD: float64 forced": {"float32-promoted"},
    "SGD: no update of W": {"sgd-no-update"},
    "SGD: wrong sign of the update": {"sgd-wrong-sign"},
    "SGD: no learning rate": {"sgd-step-size"},
    "SGD: the same batch every step": {"sgd-same-batch"},
    "SGD: labels not matching the rows": {"sgd-labels-mismatched"},
    "SGD: np.random instead of rng": {"sgd-not-seeded"},
    # predict() is not part of the training step.
    "predict returns probabilities": set(),
    "predict returns float labels": set(),
}
LINEAR_MISTAKES = [name for name, case in MISTAKES.items() if any(e[0][0] == LINEAR for e in case.edits)]
LINEAR_VARIANTS = [name for name, case in VARIANTS.items() if any(path == LINEAR for path, _ in case.edits)]
SOFTMAX_MISTAKES = [name for name, case in MISTAKES.items() if any(e[0][0] == SOFTMAX for e in case.edits)]
SOFTMAX_VARIANTS = [name for name, case in VARIANTS.items() if any(path == SOFTMAX for path, _ in case.edits)]


def suite_files(case: selftest.Case | None = None) -> dict[str, str]:
    """The graded files filled by the suite: the reference's own text when case is None."""
    originals = selftest.graded_files(REPO)
    return originals if case is None else selftest.build_files(originals, case)


def load_softmax(text: str, name: str, path: str = SOFTMAX) -> types.ModuleType:
    module = types.ModuleType(f"module_{abs(hash(name))}")
    module.__file__ = str(REPO / path)
    exec(compile(text, f"<{name}>", "exec"), module.__dict__)
    return module


def mistake_module(name: str) -> types.ModuleType:
    return load_softmax(suite_files(MISTAKES[name])[SOFTMAX], name)


def variant_module(name: str) -> types.ModuleType:
    return load_softmax(suite_files(VARIANTS[name])[SOFTMAX], name)


def codes(loss_fn) -> set[str]:
    return {f.code for f in diagnose.diagnose_loss(loss_fn)}


def test_every_softmax_mistake_of_the_suite_has_an_expectation():
    assert sorted(EXPECTED) == sorted(SOFTMAX_MISTAKES)


@pytest.mark.parametrize("name", SOFTMAX_MISTAKES)
def test_suite_mistake_gets_its_code_and_the_other_function_none(name):
    module = mistake_module(name)
    fn_name = "softmax_loss_naive" if name.startswith("naive") else "softmax_loss_vectorized"
    got = {fn: codes(getattr(module, fn)) for fn in BOTH}
    expected = {fn: EXPECTED[name] if fn == fn_name else set() for fn in BOTH}
    assert got == expected, "\n".join(str(f) for fn in BOTH for f in diagnose.diagnose_loss(getattr(module, fn)))


@pytest.mark.parametrize("name", ["reference", *SOFTMAX_VARIANTS])
def test_reference_and_suite_variants_get_no_finding(name):
    module = load_softmax(suite_files()[SOFTMAX], name) if name == "reference" else variant_module(name)
    for fn in BOTH:
        assert diagnose.diagnose_loss(getattr(module, fn)) == [], fn


def test_every_training_mistake_of_the_suite_has_an_expectation():
    assert sorted(TRAINING_EXPECTED) == sorted(LINEAR_MISTAKES)


def linear_module(name: str, case: selftest.Case | None = None) -> types.ModuleType:
    return load_softmax(suite_files(case)[LINEAR], name, LINEAR)


@pytest.mark.parametrize("name", LINEAR_MISTAKES)
def test_suite_training_mistake_gets_its_code(name):
    findings = diagnose.diagnose_training(linear_module(name, MISTAKES[name]).Softmax)
    assert {f.code for f in findings} == TRAINING_EXPECTED[name], "\n".join(map(str, findings))


# Training codes the suite has no mistake for: name -> (edits, the code).
MORE_TRAINING_MISTAKES = {
    "half the batch": ([edit(BATCH, "size=batch_size)", "size=batch_size // 2)")], "sgd-batch-size"),
    "no replacement": (
        [
            edit(
                BATCH,
                "rng.integers(0, num_train, size=batch_size)",
                "rng.choice(num_train, size=batch_size, replace=False)",
            )
        ],
        "sgd-without-replacement",
    ),
    "squared gradient": ([body(UPDATE, "self.W -= learning_rate * grad * grad\n")], "training-wrong"),
}


@pytest.mark.parametrize("name", list(MORE_TRAINING_MISTAKES))
def test_more_training_mistakes_get_their_code(name):
    edits, code = MORE_TRAINING_MISTAKES[name]
    module = linear_module(name, selftest.Case("mistake", edits))
    assert [f.code for f in diagnose.diagnose_training(module.Softmax)] == [code]


@pytest.mark.parametrize("name", ["reference", *LINEAR_VARIANTS])
def test_reference_and_suite_variants_train_without_finding(name):
    module = linear_module(name, VARIANTS.get(name))
    assert diagnose.diagnose_training(module.Softmax) == []
    assert diagnose.diagnose_training(module.LinearClassifier) == []


def test_the_fixed_probe_stores_the_reference_answer():
    loss, dW = reference_loss(np.array(diagnose.FIXED_W), np.array(diagnose.FIXED_X), np.array(diagnose.FIXED_Y), 0.0)
    assert loss == pytest.approx(diagnose.FIXED_LOSS, rel=1e-15)
    np.testing.assert_allclose(dW, diagnose.FIXED_DW, rtol=1e-14)


# --- the finding in a graded test's failure message (tests/conftest.py) ------------------


def kit_with(tmp_path: Path, files: dict[str, str]) -> Path:
    """The grader's harness kit (the student's kit with the hidden tests) holding `files`."""
    write_files(with_hidden_tests(build_kit(REPO, check_notebook_sources=False)), tmp_path)
    for path, text in files.items():
        (tmp_path / path).write_text(text)
    return tmp_path


def run_pytest(kit: Path, *args: str) -> str:
    # Room for the message in the summary; the hidden tests import the reference from instructor/.
    # As the grader runs it: every failure in full (tests/student_view.py off).
    env = dict(os.environ, COLUMNS="400", PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(REPO))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rf", "-o", "student_view=off", *args],
        cwd=kit,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result.stdout + result.stderr


@pytest.mark.slow  # a pytest run in a subprocess: a few seconds
def test_failing_graded_tests_start_with_the_finding(tmp_path):
    files = suite_files(MISTAKES["vectorized: no reg in the gradient"])
    out = run_pytest(
        kit_with(tmp_path, files),
        "tests/test_softmax.py",
        "tests/hidden/test_hidden_softmax.py",
        "-k",
        "regularization_gradient or independent_reference",
    )
    failed = [line for line in out.splitlines() if line.startswith("FAILED")]
    assert failed and all("vectorized" in line for line in failed), out[-3000:]
    # The short summary line of each failure is the finding, for the vectorized loss only.
    assert all("[reg-missing-in-gradient] softmax_loss_vectorized:" in line for line in failed), out[-3000:]
    assert "softmax_loss_naive:" not in out


@pytest.mark.slow  # a pytest run in a subprocess: a few seconds
def test_failing_classifier_tests_start_with_the_training_finding(tmp_path):
    files = suite_files(MISTAKES["SGD: wrong sign of the update"])
    out = run_pytest(
        kit_with(tmp_path, files),
        "tests/test_linear_classifier.py",
        "tests/hidden/test_hidden_linear_classifier.py",
        "-k",
        "loss_falls or sgd_step",
    )
    failed = [line for line in out.splitlines() if line.startswith("FAILED")]
    assert len(failed) >= 2, out[-3000:]
    assert all("[sgd-wrong-sign] Softmax.train:" in line for line in failed), out[-3000:]


def finding_codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


# --- one mutant per code ---------------------------------------------------------


@pytest.mark.parametrize("code", CODES)
def test_mutant_named_for_the_code_gets_exactly_that_code(code):
    mutant = loss_variants.MUTANTS[code]
    findings = diagnose_loss(mutant)
    assert finding_codes(findings) == [code], f"{mutant.__name__}: " + "; ".join(map(str, findings))
    assert findings[0].message.strip(), "every finding says what is wrong"


@pytest.mark.parametrize("code", list(loss_variants.MORE_MUTANTS))
def test_another_way_to_make_the_mistake_gets_the_same_code(code):
    mutant = loss_variants.MORE_MUTANTS[code]
    assert finding_codes(diagnose_loss(mutant)) == [code], mutant.__name__


def test_two_mistakes_get_both_codes():
    def no_shift_and_no_penalty_gradient(W, X, y, reg):
        loss, dW = loss_variants._vectorized(W, X, y, reg, shift=False, reg_grad=0.0)
        return loss, dW

    assert finding_codes(diagnose_loss(no_shift_and_no_penalty_gradient)) == [
        "reg-missing-in-gradient",
        "overflow-without-shift",
    ]


# --- correct losses -----------------------------------------------------------------


@pytest.mark.parametrize("style", list(loss_variants.CORRECT))
def test_correct_loss_in_any_style_gets_no_finding(style):
    assert diagnose_loss(loss_variants.CORRECT[style]) == []


problem_settings = dict(
    num_train=st.integers(1, 6),
    num_classes=st.integers(2, 6),
    dtype=st.sampled_from([np.float64, np.float32]),
    reg=st.sampled_from([0.0, 1e-3, 0.5, 10.0]),
)


@settings(max_examples=30, deadline=None)
@given(**problem_settings)
def test_correct_losses_get_no_finding_for_any_shape_dtype_and_reg(num_train, num_classes, dtype, reg):
    for style, loss_fn in loss_variants.CORRECT.items():
        found = diagnose_loss(loss_fn, num_train=num_train, num_classes=num_classes, dtype=dtype, reg=reg)
        assert found == [], f"{style}: {found}"


@settings(max_examples=30, deadline=None)
@given(**problem_settings)
def test_mutants_keep_their_code_for_any_shape_dtype_and_reg(num_train, num_classes, dtype, reg):
    for code, mutant in loss_variants.MUTANTS.items():
        found = finding_codes(diagnose_loss(mutant, num_train=num_train, num_classes=num_classes, dtype=dtype, reg=reg))
        if code in REG_CODES and reg == 0:
            assert found == [], f"{mutant.__name__} with reg = 0: no reg mistake can show, got {found}"
        elif code == "gradient-wrong-target" and num_train == 1:
            # With one example every -1 is "at the label" of probe 1; the fixed case still sees dW wrong.
            assert found == ["gradient-wrong"], f"{mutant.__name__}: {found}"
        else:
            assert found == [code], f"{mutant.__name__}: {found}"
