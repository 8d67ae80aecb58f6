"""Tests for the grader's command line and its limits (instructor/grading/cli.py); left out of the kit.

The command as the READMEs give it, its outputs (Gradescope's results.json,
the gradebook) and exit statuses, pinned bundles, the warm harness grading a
batch, killing the grader, and grading without bubblewrap (a separate user,
or trusted code with no sandbox).
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from instructor.grading import attacks, cli, harness, rubric, sandbox, suite
from instructor.grading import points as points_table
from instructor.grading.results import failure_summary
from instructor.grading.submission import read_submission
from instructor.tests.class_fixtures import student_visible
from instructor.tests.grading_cases import (
    GRADED_CODE,
    LINEAR,
    MISTAKES,
    REPO,
    SOFTMAX,
    TEST_LIMITS,
    at_import,
    grader_processes,
    leftovers,
    make_submission,
    reference_files,
    sandbox_required,
    suite_files,
    write_flat,
)

pytestmark = pytest.mark.slow  # each grades in a sandbox or starts the grader


@pytest.mark.parametrize(
    "signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["SIGINT", "SIGTERM", "SIGKILL"]
)
def test_killing_the_grader_leaves_nothing_running(tmp_path, bundle, signum):
    sandbox_required()
    marker = f"grader-kill-test-{uuid.uuid4().hex[:12]}"
    daemon = at_import(SOFTMAX, attacks.DAEMON.format(seconds=60, marker=marker))
    submission = make_submission(tmp_path, [daemon, *attacks.NEVER_RETURNS])
    work = tmp_path / "work"
    work.mkdir()
    grader = subprocess.Popen(
        [sys.executable, "-m", "instructor.grading", str(submission), "--bundle", str(bundle.root)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TMPDIR": str(work)},
    )
    try:
        deadline = time.monotonic() + 60
        while not leftovers(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert leftovers(marker), "the submission never started its daemon"
        time.sleep(0.3)  # well inside a call that never returns
        grader.send_signal(signum)
        grader.wait(timeout=20)
        deadline = time.monotonic() + 10
        while (leftovers(marker) or grader_processes(str(work))) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not leftovers(marker), f"still running after {signal.Signals(signum).name}: {leftovers(marker)}"
        assert not grader_processes(str(work)), f"grader processes still running: {grader_processes(str(work))}"
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


PUBLIC_VENV = Path("/tmp/softmax-kit-grader-venv-for-nobody")  # outside /root, readable by every user


@pytest.fixture(scope="module")
def public_python() -> Path:
    """A Python that `nobody` can start, as on Gradescope (a venv made from /usr/bin/python3).

    This machine's own Python may live under /root (pyenv), which `nobody`
    cannot enter; the separate-user fallback needs one every user can run.
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("--user needs root")
    if not Path("/usr/bin/python3").exists():
        pytest.skip("no /usr/bin/python3 to make a venv every user can run")
    python = PUBLIC_VENV / "bin" / "python"
    needed = ["numpy>=1.24,<3", "tqdm>=4.66,<5", "pytest>=7.4,<10", "hypothesis>=6.90,<7", "jupytext>=1.16,<2"]
    ready = (
        python.exists()
        and subprocess.run(
            [python, "-c", "import numpy, tqdm, pytest, hypothesis, jupytext"], capture_output=True
        ).returncode
        == 0
    )
    if not ready:
        subprocess.run(["rm", "-rf", str(PUBLIC_VENV)], check=True)
        made = subprocess.run(["/usr/bin/python3", "-m", "venv", str(PUBLIC_VENV)], capture_output=True, text=True)
        if made.returncode != 0:
            pytest.skip(f"cannot make a venv from /usr/bin/python3: {made.stderr.strip()[-200:]}")
        installed = subprocess.run(
            [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *needed],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if installed.returncode != 0:
            pytest.skip(f"cannot install the grader's packages for nobody: {installed.stderr.strip()[-300:]}")
    PUBLIC_VENV.chmod(0o755)
    return python


def test_without_bubblewrap_a_separate_user_runs_the_code_and_results_say_so(tmp_path_factory, bundle, public_python):
    tmp = tmp_path_factory.mktemp("user-fallback")
    marker = f"grader-user-test-{uuid.uuid4().hex[:12]}"
    submission = make_submission(tmp, [at_import(SOFTMAX, attacks.DAEMON.format(seconds=120, marker=marker))])
    results = tmp / "results.json"
    env = {**os.environ, sandbox.BWRAP_ENV: "/nonexistent/bwrap", "PYTHONPATH": str(REPO)}
    run = subprocess.run(
        [
            str(public_python),
            "-m",
            "instructor.grading",
            str(submission),
            "--bundle",
            str(bundle.root),
            "--gradescope",
            str(results),
            "--user",
            "nobody",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    code = run.returncode
    assert code == 0, run.stderr[-2000:]
    data = json.loads(results.read_text())
    assert data["score"] == 100, [t["output"] for t in data["tests"] if t["status"] == "failed"][:3]
    assert "separate user 'nobody'" in data["extra_data"]["isolation"]
    # Where that user may read files and the network is for the instructor to know, not the students.
    assert "separate user" not in student_visible(data) and "reachable" not in student_visible(data)
    staff = [t["output"] for t in data["tests"] if t["visibility"] == "hidden"]
    assert any("Isolation: separate user 'nobody'" in text for text in staff)
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


@pytest.mark.parametrize(
    "names",
    [
        ("softmax (1).py", "linear_classifier (1).py"),
        ("Softmax.py", "Linear_Classifier.py"),
        ("deep/nested/folder/softmax-2.py", "deep/nested/folder/linear_classifier copy.py"),
    ],
)
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
    # Alice's folder holds the submission.zip that submit.py wrote, unextracted: it is opened, not graded 0.
    good = tmp_path / "alice"
    good.mkdir()
    with zipfile.ZipFile(good / "submission.zip", "w") as archive:
        for path, text in reference_files().items():
            archive.writestr(path, text)
    bad = write_flat(tmp_path / "frank" / "submission", suite_files(MISTAKES["vectorized: no reg in the loss"]))
    # The bad one also tries to write the results itself, where the grader will.
    results = tmp_path / "out" / "results.json"
    (bad / "softmax.py").write_text(
        f"import json, os\nos.makedirs({str(results.parent)!r}, exist_ok=True)\n"
        f"open({str(results)!r}, 'w').write(json.dumps({{'score': 100}}))\n" + (bad / "softmax.py").read_text()
    )
    gradebook, json_dir = tmp_path / "grades.csv", tmp_path / "json"
    code = cli.main(
        [
            str(good),
            str(bad),
            "--bundle",
            str(bundle.root),
            "--jobs",
            "2",
            "--csv",
            str(gradebook),
            "--json-dir",
            str(json_dir),
            "--timeout",
            "30",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "Score: 100 / 100" in out and "PASS" in out and "FAIL" in out
    assert out.count("Isolation: bubblewrap") == 1 and "isolation:" not in out, "a batch says its isolation once"
    rows = list(csv.DictReader(gradebook.read_text().splitlines()))
    assert [r["Student"] for r in rows] == ["alice", "frank/submission"], "students named by folder"
    assert "graded the files inside submission.zip" in rows[0]["Notes"]
    assert float(rows[0]["Score"]) == 100 and float(rows[1]["Score"]) < 100 and rows[0]["Total"] == "100"
    assert rows[1]["Mistakes"] == "reg-missing-in-loss in softmax_loss_vectorized"
    assert not any("bubblewrap" in value for row in rows for value in row.values()), "the isolation is in no row"
    detail = list(csv.reader((tmp_path / "grades-tests.csv").read_text().splitlines()))
    assert len(detail[0]) < 60, "one column per points entry, not per parametrized case"
    assert sum(float(v) for v in detail[1][5:]) == pytest.approx(100)
    assert sorted(p.name for p in json_dir.iterdir()) == ["alice.json", "frank__submission.json"]
    # A second run must not overwrite those results silently; with --overwrite, it leaves none of them stale.
    assert cli.main([str(good), str(bad), "--bundle", str(bundle.root), "--json-dir", str(json_dir)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    rerun = [str(bad), "--bundle", str(bundle.root), "--gradescope", str(results), "--json-dir", str(json_dir)]
    assert cli.main([*rerun, "--overwrite"]) == 0
    assert sorted(p.name for p in json_dir.iterdir()) == ["submission.json"], "no result of the earlier run is left"
    data = json.loads(results.read_text())
    assert 0 < data["score"] < 100
    check_gradescope_schema(data)


def check_gradescope_schema(data: dict) -> None:
    assert set(data) >= {"score", "execution_time", "output", "tests"}
    assert data["tests"], "no tests in results.json"
    for test in data["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility"}
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in ("visible", "after_published", "hidden")
        # Students see hidden tests by a plain name after publication; only staff see "hidden" entries.
        assert (test["visibility"] == "after_published") == test["name"].startswith("Hidden test")
        assert test["visibility"] != "hidden" or test["max_score"] == 0
    assert sum(Decimal(str(t["max_score"])) for t in data["tests"]) == 100, "max_scores must add up to the total"
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]), abs=0.01)
    assert "bubblewrap" in data["extra_data"]["isolation"] and "Isolation:" not in student_visible(data)


def test_nothing_to_grade_is_said_with_exit_status_1_never_a_row_of_zeros(tmp_path, bundle, capsys):
    sandbox_required()
    damaged = tmp_path / "export.zip"
    damaged.write_bytes(b"PK\x03\x04" + os.urandom(3000))  # a download cut short
    gradebook = tmp_path / "out" / "grades.csv"
    assert (
        cli.main([str(damaged), "--bundle", str(bundle.root), "--csv", str(gradebook), "--report", str(tmp_path / "r")])
        == 1
    )
    err = capsys.readouterr().err
    assert "export.zip: not a readable zip file" in err and "could not be given to any student" in err
    assert len(gradebook.read_text().splitlines()) == 1, "no row of zeros"
    empty = tmp_path / "bob"
    empty.mkdir()
    (empty / "notes.txt").write_text("I ran out of time")
    results = tmp_path / "results.json"
    assert cli.main([str(empty), "--bundle", str(bundle.root), "--gradescope", str(results)]) == 1
    assert "not graded: no graded file in it" in capsys.readouterr().err
    data = json.loads(results.read_text())
    assert data["tests"] == [] and "softmax.py" in data["output"] and "notes.txt" in data["output"]


def test_a_broken_bundle_exits_non_zero_and_writes_no_score(tmp_path, capsys):
    results = tmp_path / "results.json"
    not_a_bundle = tmp_path / "nothing"
    not_a_bundle.mkdir()
    gradebook = tmp_path / "grades.csv"
    code = cli.main(
        [str(tmp_path), "--bundle", str(not_a_bundle), "--gradescope", str(results), "--csv", str(gradebook)]
    )
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


@pytest.mark.parametrize(
    "output, expected",
    [
        (
            "E   AssertionError: dW should have W's shape (3, 2), got (2, 3)\nE   assert (2, 3) == (3, 2)",
            "dW should have W's shape (3, 2), got (2, 3)",
        ),
        (
            "E   AssertionError: \nE   Not equal to tolerance rtol=1e-12, atol=0\nE   dW should be 2 * reg * W\n"
            "E   Mismatched elements: 20 / 20 (100%)\nE    DESIRED: array([[0.1, 0.2],...",
            "dW should be 2 * reg * W (Not equal to tolerance rtol=1e-12, atol=0)",
        ),
        (
            "E   AssertionError: \nE   Not equal to tolerance rtol=1e-07, atol=0\nE   \nE   Mismatched elements: 1 / 4",
            "Not equal to tolerance rtol=1e-07, atol=0",
        ),
        ("tests/x.py:3: in test_x\nE   assert 0.5 == 2.3 ± 2.3e-06", "assert 0.5 == 2.3 ± 2.3e-06"),
        ("Timed out after 8 s", "Timed out after 8 s"),
    ],
)
def test_console_summary_shows_the_failure_message_not_the_last_array_row(output, expected):
    assert failure_summary(output) == expected


def test_a_pinned_bundle_regrades_with_its_own_tests_and_points(tmp_path, capsys):
    pinned = tmp_path / "bundle-2026-fall"
    from instructor.grading import bundle as bundle_module

    assert bundle_module.main([str(pinned)]) == 0
    manifest = (pinned / "manifest.json").read_text()
    assert bundle_module.main([str(pinned)]) == 2, "an existing bundle is never rebuilt in place"
    source = json.loads(manifest)["source"]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    assert source["commit"] == head and source["built_at"] and source["kit_version"], source
    submission = write_flat(tmp_path / "late", reference_files())
    assert cli.main([str(submission), "--bundle", str(pinned), "--trusted", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Score: 100 / 100" in out
    # The grader says which bundle it grades with: the kit's version, the commit and the date.
    assert f"bundle: kit {source['kit_version']} (commit {head[:12]}" in out and source["built_at"] in out
    assert (pinned / "manifest.json").read_text() == manifest, "grading must not change a pinned bundle"


@pytest.mark.slow
def test_one_warm_harness_grades_a_batch_and_nothing_of_a_submission_reaches_the_next(tmp_path, bundle):
    # One harness collects once and forks a child per submission: a timeout, a diagnosis (cached
    # per session by tests/conftest.py) or a test's state in one child must not reach the next.
    isolation = sandbox_required()
    by_name = {m.name: m for m in rubric.MISTAKES}
    first, second = by_name["vectorized: no reg in the loss"], by_name["vectorized: no reg in the gradient"]

    def mistake(m):
        files = suite_files(suite.Case("mistake", list(m.edits), mistake=m))
        return write_flat(tmp_path / m.name.replace(" ", "-").replace(":", ""), files)

    hang = make_submission(tmp_path, attacks.NEVER_RETURNS)
    reference = write_flat(tmp_path / "ref", reference_files())
    warm = harness.harness_for(bundle.harness, list(points_table.GRADED_TEST_PATHS))
    grades = cli.grade_many(bundle, [hang, mistake(first), mistake(second), reference], TEST_LIMITS, isolation)
    assert harness.harness_for(bundle.harness, list(points_table.GRADED_TEST_PATHS)) is warm
    assert warm.process.poll() is None, "the same harness graded all four"
    _, with_first, with_second, right = grades
    assert right.score == 100 and not right.notes and not right.mistakes, "the timeouts before did not carry over"
    assert {m.code for m in with_first.mistakes} >= {"reg-missing-in-loss"}
    found = {m.code for m in with_second.mistakes}
    assert "reg-missing-in-gradient" in found and "reg-missing-in-loss" not in found, found
