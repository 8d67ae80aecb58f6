"""A student's pytest run of the released kit, read as the student reads it (tests/run_report.py).

The kit is built as the release builds it (instructor/build.py), written to
a temporary folder with the student's files in it, and its whole suite run
with the README's command, `python -m pytest`, in a subprocess. Then the
output is read from the top: what it shows first, how long it is, what it
never says. (Without pytest's cache folder the Colab test skips; that takes
a minute of pip installs that say nothing about the view.)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from instructor import REPO_ROOT
from instructor.build import build_kit, write_files
from instructor.grading import suite
from instructor.grading.regions import LINEAR, NAIVE, SOFTMAX, VECTORIZED, edit
from instructor.markers import strip_python

# A student halfway through: softmax.py written with two classic mistakes, the rest untouched.
HALF_DONE = suite.Case(
    "mistake",
    [
        edit(NAIVE, "dW / num_train", "dW"),
        edit(VECTORIZED, " + 2 * reg * W", ""),
    ],
)
HALF_DONE_CODES = ("[gradient-not-averaged] softmax_loss_naive", "[reg-missing-in-gradient] softmax_loss_vectorized")
# The aim: about 40 lines with one file written (41 with the kit's 14 test files: one
# progress line each), its mistakes within the first lines.
MAX_LINES, MISTAKES_WITHIN = 42, 15
# Words written for the instructor's copy or the course's machines, never for a student.
NOT_FOR_STUDENTS = ("instructor", "course's", "build machines", "shared/cifar10-sample", "SKIPPED")
RUN_TIMEOUT_S = 600


def kit_with(root: Path, files: dict[str, str] | None = None, *, instructor_folder: bool = False) -> Path:
    """The student kit, as released, holding `files`; with an (empty) instructor/ folder if asked."""
    kit = root / "kit"
    kit.mkdir()
    write_files(build_kit(REPO_ROOT, check_notebook_sources=False), kit)
    for path, text in (files or {}).items():
        (kit / path).write_text(text)
    if instructor_folder:
        (kit / "instructor").mkdir()
    return kit


def half_done_files() -> dict[str, str]:
    originals = suite.graded_files(REPO_ROOT)
    return {
        SOFTMAX: suite.build_files(originals, HALF_DONE)[SOFTMAX],
        LINEAR: strip_python(originals[LINEAR], LINEAR),
    }


def student_run(kit: Path, *args: str) -> tuple[int, list[str]]:
    """`python -m pytest` in the kit, as the README says: its exit status and its output's lines."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=kit,
        env={key: value for key, value in os.environ.items() if key not in ("COLUMNS", "PYTEST_ADDOPTS")}
        | {"PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )
    return result.returncode, (result.stdout + result.stderr).splitlines()


def first_line_with(lines: list[str], text: str) -> int:
    """The 1-based number of the first line holding `text`."""
    return next(number for number, line in enumerate(lines, 1) if text in line)


@pytest.mark.slow
def test_the_untouched_kit_lists_each_part_once_and_fails_nothing(tmp_path):
    status, lines = student_run(kit_with(tmp_path))
    text = "\n".join(lines)
    assert status == 1, "a kit with every part a stub must not pass:\n" + text[-3000:]
    for part in ("softmax_loss_naive", "softmax_loss_vectorized", "LinearClassifier.train", "LinearClassifier.predict"):
        written = [line for line in lines if line.split()[:1] == [part]]
        assert len(written) == 1 and "not written yet" in written[0], f"{part}: {written}\n{text[-3000:]}"
    assert any(line.split()[:1] == ["assignment.ipynb"] and "not written yet" in line for line in lines), text
    assert "FAILURES" not in text and "ERRORS" not in text, "a stub must not show as a failure:\n" + text[-3000:]
    assert "failed" not in lines[-1] and "blocked by a stub" in lines[-1], lines[-1]
    assert not [word for word in NOT_FOR_STUDENTS if word in text], text
    assert len(lines) <= MAX_LINES, f"{len(lines)} lines:\n{text}"


@pytest.mark.slow
def test_halfway_the_named_mistakes_come_first_and_the_run_fits_a_screen(tmp_path):
    status, lines = student_run(kit_with(tmp_path, half_done_files()))
    text = "\n".join(lines)
    assert status == 1
    for code, part in (code.split() for code in HALF_DONE_CODES):
        opening = first_line_with(lines, code)
        assert opening <= MISTAKES_WITHIN and lines[opening - 1].split()[0] == part, text
    # Each failing test of the mistaken code is one line naming the mistake, after the opening lines.
    failures = [line for line in lines if line.startswith("tests/test_softmax.py:")]
    assert failures and all(any(code in line for code in HALF_DONE_CODES) for line in failures), text
    # Files the student does not edit: blocked by the stubs at most, never an error.
    assert "ERROR" not in text and "test_benchmarks.py" not in text.split("FAILURES")[-1], text
    assert "not written yet" in text and "blocked by a stub" in lines[-1], lines[-1]
    assert not [word for word in NOT_FOR_STUDENTS if word in text], text
    assert len(lines) <= MAX_LINES, f"{len(lines)} lines:\n{text}"


def test_a_short_traceback_asked_for_shows_the_failure_in_full(tmp_path):
    kit = kit_with(tmp_path, half_done_files())
    _, lines = student_run(kit, "tests/test_softmax.py", "-k", "mean_over_examples and naive", "--tb=short")
    text = "\n".join(lines)
    assert "divide dW by N" in text and "(named at the top)" not in text, text


def test_the_instructors_repository_shows_every_failure_in_full(tmp_path):
    kit = kit_with(tmp_path, half_done_files(), instructor_folder=True)
    _, lines = student_run(kit, "tests/test_softmax.py", "-k", "mean_over_examples and naive")
    text = "\n".join(lines)
    assert "Your code, part by part" not in text and "(named at the top)" not in text, text
    assert "divide dW by N" in text and re.search(r"^E\s+AssertionError", text, re.MULTILINE), text


def test_a_file_that_does_not_parse_is_one_opening_line_naming_the_line(tmp_path):
    files = half_done_files()
    lines = files[SOFTMAX].splitlines(keepends=True)
    broken = next(number for number, line in enumerate(lines, 1) if "rows = np.arange(num_train)" in line)
    lines[broken - 1] = lines[broken - 1].replace("rows = np.arange", "rows = = np.arange")
    kit = kit_with(tmp_path, {**files, SOFTMAX: "".join(lines)})
    _, shown = student_run(kit, "tests/test_gradient_check.py", "-k", "symmetric")
    opening = [line for line in shown if line.startswith(f"  {SOFTMAX}")]
    expected = f"  {SOFTMAX:<25} is not valid Python: invalid syntax (line {broken}); nothing in it can run"
    assert opening == [expected], "\n".join(shown)
