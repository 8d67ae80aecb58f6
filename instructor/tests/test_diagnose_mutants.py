"""diagnose against the rubric's mistakes, the corpus of correct styles and the reference; left out of the kit.

Every classic mistake of instructor/grading/rubric.py, made by the self-test's
own edits (instructor/tests/mutants.py), is diagnosed in this process: it must
get exactly its codes (the ones a diagnosis can give), and the other function
none; every correct style of instructor/grading/styles/ gets no finding.
Also: the stored answers of diagnose's probes are the reference's, and a
failing graded test carries the finding in its message (tests/conftest.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import diagnose
from diagnose import CODES, TRAINING_CODES, Finding, diagnose_loss
from diagnose.probes import BIG_DW, BIG_LOSS, LOW_DW, LOW_LOSS, MIXED_DW, MIXED_LOSS
from instructor import REPO_ROOT
from instructor.build import build_kit, with_hidden_tests, write_files
from instructor.grading import rubric, suite
from instructor.grading.reference import reference_loss
from instructor.tests import loss_variants
from instructor.tests.mutants import (
    LOSS_MISTAKES,
    TRAINING_MISTAKES,
    loss_mutant,
    mistake_module,
    style_functions,
    suite_module,
)

REPO = REPO_ROOT
BOTH = rubric.LOSS_FUNCTIONS
REG_CODES = {
    "reg-missing-in-loss",
    "reg-missing-in-gradient",
    "reg-half-convention",
    "reg-half-in-loss",
    "reg-half-in-gradient",
}
STYLE_FUNCTIONS = style_functions()


def codes(loss_fn) -> set[str]:
    return {f.code for f in diagnose.diagnose_loss(loss_fn)}


def diagnosable(mistake: rubric.Mistake, table=CODES) -> set[str]:
    """The codes of a mistake that a diagnosis can give (the others only a test can name)."""
    return {code for code in mistake.codes if code in table}


@pytest.mark.parametrize("name", list(LOSS_MISTAKES))
def test_each_loss_mistake_of_the_rubric_gets_its_codes_and_the_other_function_none(name):
    mistake = LOSS_MISTAKES[name]
    module = mistake_module(mistake)
    function, _ = loss_mutant(mistake)
    got = {fn: codes(getattr(module, fn)) for fn in BOTH}
    expected = {fn: diagnosable(mistake) if fn == function else set() for fn in BOTH}
    assert got == expected, "\n".join(str(f) for fn in BOTH for f in diagnose.diagnose_loss(getattr(module, fn)))


def test_every_code_of_the_loss_diagnosis_has_a_mutant():
    # From the rubric, or for codes no classic mistake gives, from loss_variants.
    made = {code for mistake in LOSS_MISTAKES.values() for code in diagnosable(mistake)}
    assert set(CODES) == made | set(loss_variants.OTHER_MUTANTS) | {"loss-wrong", "gradient-wrong"}


def test_every_code_the_rubric_names_has_a_sentence_and_every_charged_code_a_diagnosis():
    for mistake in rubric.MISTAKES:
        for code in mistake.codes:
            assert rubric.sentence(code), code
        if mistake.charged_once:
            assert set(mistake.codes) <= set(CODES), f"{mistake.name}: charged codes must be diagnosis codes"


@pytest.mark.parametrize("code", list(loss_variants.OTHER_MUTANTS))
def test_the_other_codes_get_exactly_that_code(code):
    mutant = loss_variants.OTHER_MUTANTS[code]
    findings = diagnose_loss(mutant)
    assert [f.code for f in findings] == [code], f"{mutant.__name__}: " + "; ".join(map(str, findings))
    assert findings[0].message.strip(), "every finding says what is wrong"


@pytest.mark.parametrize("name", ["reference", *STYLE_FUNCTIONS])
def test_the_reference_and_every_correct_style_get_no_finding(name):
    functions = (
        [getattr(suite_module(None, "reference"), fn) for fn in BOTH]
        if name == "reference"
        else [STYLE_FUNCTIONS[name]]
    )
    for loss_fn in functions:
        assert diagnose.diagnose_loss(loss_fn) == [], name


@pytest.mark.parametrize("name", list(TRAINING_MISTAKES))
def test_each_training_mistake_of_the_rubric_gets_its_code(name):
    mistake = TRAINING_MISTAKES[name]
    findings = diagnose.diagnose_training(mistake_module(mistake, rubric.LINEAR).Softmax)
    # predict() is not part of the training step: its mistakes are the tests' to name.
    assert {f.code for f in findings} == diagnosable(mistake, TRAINING_CODES), "\n".join(map(str, findings))


# Training codes the rubric has no mistake for: name -> (edits, the code).
MORE_TRAINING_MISTAKES = {
    "half the batch": ([rubric.edit(rubric.BATCH, "size=batch_size)", "size=batch_size // 2)")], "sgd-batch-size"),
    "no replacement": (
        [
            rubric.edit(
                rubric.BATCH,
                "rng.integers(0, num_train, size=batch_size)",
                "rng.choice(num_train, size=batch_size, replace=False)",
            )
        ],
        "sgd-without-replacement",
    ),
    "squared gradient": ([rubric.body(rubric.UPDATE, "self.W -= learning_rate * grad * grad\n")], "training-wrong"),
}


@pytest.mark.parametrize("name", list(MORE_TRAINING_MISTAKES))
def test_more_training_mistakes_get_their_code(name):
    edits, code = MORE_TRAINING_MISTAKES[name]
    module = suite_module(suite.Case("mistake", edits), name, rubric.LINEAR)
    assert [f.code for f in diagnose.diagnose_training(module.Softmax)] == [code]


@pytest.mark.parametrize("name", ["reference", *suite.VARIANTS])
def test_reference_and_suite_variants_train_without_finding(name):
    module = suite_module(suite.VARIANTS.get(name), name, rubric.LINEAR)
    assert diagnose.diagnose_training(module.Softmax) == []
    assert diagnose.diagnose_training(module.LinearClassifier) == []


EXTREME_PROBES = {  # name -> (W (1, 2), X (2, 1), stored loss, stored dW); labels 0 and 1
    "big": (diagnose.probes.BIG_W, ((1.0,), (1.0,)), BIG_LOSS, BIG_DW),
    "low": (diagnose.probes.LOW_W, ((1.0,), (1.0,)), LOW_LOSS, LOW_DW),
    "mixed": (((800.0, 0.0),), ((1.0,), (-1.0,)), MIXED_LOSS, MIXED_DW),
}


@pytest.mark.parametrize("name", list(EXTREME_PROBES))
def test_the_extreme_probes_store_the_reference_answers(name):
    W, X, loss, dW = EXTREME_PROBES[name]
    loss_ref, dW_ref = reference_loss(np.array(W), np.array(X), np.array([0, 1]), 0.0)
    assert loss_ref == pytest.approx(loss, rel=1e-14, abs=1e-300)
    np.testing.assert_allclose(dW_ref, dW, rtol=1e-13, atol=1e-300)


def test_the_fixed_probe_stores_the_reference_answer():
    loss, dW = reference_loss(np.array(diagnose.FIXED_W), np.array(diagnose.FIXED_X), np.array(diagnose.FIXED_Y), 0.0)
    assert loss == pytest.approx(diagnose.FIXED_LOSS, rel=1e-15)
    np.testing.assert_allclose(dW, diagnose.FIXED_DW, rtol=1e-14)


# --- the finding in a graded test's failure message (tests/conftest.py) ------------------


def suite_files(mistake: rubric.Mistake) -> dict[str, str]:
    case = suite.Case("mistake", list(mistake.edits), mistake=mistake)
    return suite.build_files(suite.graded_files(REPO), case)


def kit_with(tmp_path: Path, files: dict[str, str]) -> Path:
    """The grader's harness kit (the student's kit with the hidden tests) holding `files`."""
    write_files(with_hidden_tests(build_kit(REPO, check_notebook_sources=False)), tmp_path)
    for path, text in files.items():
        (tmp_path / path).write_text(text)
    return tmp_path


def run_pytest(kit: Path, *args: str) -> str:
    # Room for the message in the summary; the hidden tests import the reference from instructor/.
    # As the grader runs it: every failure in full (tests/run_report.py off).
    env = dict(os.environ, COLUMNS="400", PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(REPO))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rf", "-o", "run_report=off", *args],
        cwd=kit,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result.stdout + result.stderr


@pytest.mark.slow  # a pytest run in a subprocess: a few seconds
def test_failing_graded_tests_start_with_the_finding(tmp_path):
    files = suite_files(rubric.BY_NAME["vectorized: no reg in the gradient"])
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
    files = suite_files(rubric.BY_NAME["SGD: wrong sign of the update"])
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


# --- across shapes, dtypes and regs -------------------------------------------------------

problem_settings = dict(
    num_train=st.integers(1, 6),
    num_classes=st.integers(2, 6),
    dtype=st.sampled_from([np.float64, np.float32]),
    reg=st.sampled_from([0.0, 1e-3, 0.5, 10.0]),
)


@settings(max_examples=10, deadline=None)
@given(**problem_settings)
def test_correct_styles_get_no_finding_for_any_shape_dtype_and_reg(num_train, num_classes, dtype, reg):
    for style, loss_fn in STYLE_FUNCTIONS.items():
        found = diagnose_loss(loss_fn, num_train=num_train, num_classes=num_classes, dtype=dtype, reg=reg)
        assert found == [], f"{style}: {found}"


def _single_code_mutants():
    for mistake in LOSS_MISTAKES.values():
        if len(diagnosable(mistake)) == 1 and len(mistake.codes) == 1:
            yield mistake, loss_mutant(mistake)[1]


@settings(max_examples=15, deadline=None)
@given(**problem_settings)
def test_mutants_keep_their_code_for_any_shape_dtype_and_reg(num_train, num_classes, dtype, reg):
    for mistake, mutant in _single_code_mutants():
        (code,) = mistake.codes
        found = finding_codes(diagnose_loss(mutant, num_train=num_train, num_classes=num_classes, dtype=dtype, reg=reg))
        if code in REG_CODES and reg == 0:
            assert found == [], f"{mistake.name} with reg = 0: no reg mistake can show, got {found}"
        elif code == "gradient-wrong-target" and num_train == 1 and mistake.function == "softmax_loss_vectorized":
            # dscores[:, y] -= 1 with one example puts the -1 "at the label" of probe 1; the fixed
            # case still sees dW wrong. (The naive mutant's -1 on the next class shows at any N.)
            assert found == ["gradient-wrong"], f"{mistake.name}: {found}"
        else:
            assert found == [code], f"{mistake.name}: {found}"
