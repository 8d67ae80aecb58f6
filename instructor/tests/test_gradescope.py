"""Tests for instructor/grading/gradescope.py (left out of the kit).

The autograder zip is unpacked into a simulated /autograder tree in a
temporary directory and its run_autograder is run there, as Gradescope would.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from instructor import REPO_ROOT
from instructor.grading import gradescope

REPO = REPO_ROOT
GRADED = ("classifiers/softmax.py", "classifiers/linear_classifier.py")


@pytest.fixture(scope="session")
def autograder_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gradescope") / "autograder.zip"
    gradescope.build_zip(out, timeout=30)
    return out


def test_zip_has_setup_and_run_autograder_at_its_root_and_no_solution(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        names = archive.namelist()
        assert {"setup.sh", "run_autograder", "requirements.txt"} <= set(names)
        for name in ("setup.sh", "run_autograder"):
            assert (archive.getinfo(name).external_attr >> 16) & 0o111, f"{name} is not executable"
        softmax = archive.read("bundle/worker/classifiers/softmax.py").decode()
        assert "raise NotImplementedError()" in softmax and "np.log(sum_exp)" not in softmax
        assert "bundle/harness/classifiers/softmax.py" not in names, "the harness never holds student files"
        assert any(n.startswith("bundle/harness/tests/hidden/") for n in names)
        assert not any(n.startswith("bundle/worker/tests/hidden/") for n in names), "the worker sees no hidden test"
        instructor_files = [n for n in names if n.startswith("instructor/")]
        assert "instructor/grading/worker.py" in instructor_files
        assert all(n in gradescope.GRADER_FILES or n.startswith("instructor/grading/") for n in instructor_files), (
            "only the grader goes to Gradescope, no notebook source"
        )
        for name in instructor_files:
            lines = archive.read(name).decode().splitlines()
            assert "### BEGIN SOLUTION" not in [line.strip() for line in lines], f"{name} holds a solution"
    setup = zipfile.ZipFile(autograder_zip).read("setup.sh").decode()
    result = subprocess.run(["bash", "-n", "-c", setup])
    assert result.returncode == 0
    # The venv must come from the apt Python: one found on PATH (pyenv under
    # /root) is unreadable for `nobody`, and every submission would score 0.
    assert "/usr/bin/python3 -m venv /autograder/venv" in setup
    assert "bubblewrap" in setup, "the sandbox must be installed on Gradescope"


def simulate(tmp_path: Path, autograder_zip: Path, submission: dict[str, str | bytes]) -> dict:
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(root / "source")
    for name in ("run_autograder", "setup.sh"):
        (root / "source" / name).chmod(0o755)
    (root / "submission").mkdir()
    for name, content in submission.items():
        path = root / "submission" / name
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    # No --user fallback here: the simulated tree sits in a folder `nobody` cannot enter.
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), GRADER_PYTHON=sys.executable, GRADER_FALLBACK="--trusted")
    result = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert (root / "results" / "results.json").exists(), result.stdout[-2000:] + result.stderr[-2000:]
    return json.loads((root / "results" / "results.json").read_text())


@pytest.mark.slow
def test_run_autograder_grades_a_flat_submission(tmp_path, autograder_zip):
    files = {Path(p).name: (REPO / p).read_text() for p in GRADED}
    data = simulate(tmp_path, autograder_zip, files)
    assert data["score"] == 100, [t for t in data["tests"] if t["status"] == "failed"][:3]
    assert {"score", "execution_time", "output", "tests", "extra_data"} <= set(data)
    assert data["extra_data"]["isolation"] and "Isolation:" not in data["output"], "the isolation is the staff's"
    visibilities = {t["visibility"] for t in data["tests"]}
    assert visibilities == {"visible", "after_published", "hidden"}
    assert [t["name"] for t in data["tests"] if t["visibility"] == "hidden"] == ["Grader notes (instructor only)"]


@pytest.mark.slow
def test_run_autograder_opens_a_submission_zip_uploaded_as_it_is(tmp_path, autograder_zip):
    # A student who uploads the submission.zip that submit.py writes, not the files in it.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in GRADED:
            archive.write(REPO / path, path)
        archive.writestr("assignment.ipynb", "{}")
    data = simulate(tmp_path, autograder_zip, {"submission.zip": buffer.getvalue()})
    assert data["score"] == 100, [t for t in data["tests"] if t["status"] == "failed"][:3]
    assert "graded the files inside submission.zip" in data["output"]


@pytest.mark.slow
def test_run_autograder_says_what_to_upload_when_nothing_graded_is_there(tmp_path, autograder_zip):
    data = simulate(tmp_path, autograder_zip, {"my answers.pdf": b"%PDF-1.4"})
    assert data["score"] == 0 and data["tests"] == []
    assert "could not be graded" in data["output"] and "softmax.py" in data["output"]
    assert "my answers.pdf" in data["output"]


@pytest.mark.slow
def test_run_autograder_cannot_import_the_hidden_tests(tmp_path, autograder_zip):
    # The hidden reference is in the bundle, next to the grader, but not where student code runs.
    files = {Path(p).name: (REPO / p).read_text() for p in GRADED}
    files["softmax.py"] = files["softmax.py"].replace(
        "import numpy as np\n",
        "import numpy as np\ntry:\n    from instructor.grading.reference import reference_loss\n"
        "except ImportError:\n    reference_loss = None\n"
        "assert reference_loss is None, 'the hidden tests are reachable'\n",
        1,
    )
    data = simulate(tmp_path, autograder_zip, files)
    assert data["score"] == 100, [t["output"][-300:] for t in data["tests"] if t["status"] == "failed"][:2]


@pytest.mark.slow
def test_run_autograder_scores_a_broken_submission_and_still_writes_results(tmp_path, autograder_zip):
    files = {Path(p).name: (REPO / p).read_text() for p in GRADED}
    files["softmax.py"] = "def softmax_loss_naive(:\n"
    data = simulate(tmp_path, autograder_zip, files)
    softmax = [t for t in data["tests"] if "softmax" in t["name"]]
    assert softmax and all(t["score"] == 0 for t in softmax), "every softmax test needs the broken file"
    assert any("SyntaxError" in t["output"] for t in data["tests"])
    # linear_classifier.py is correct, and its tests train the kit's stand-in loss (tests/stand_in.py):
    # they earn their points (30 in all, less the few that train Softmax itself).
    assert 25 < data["score"] <= 30
