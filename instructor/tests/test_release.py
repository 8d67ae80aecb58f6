"""Tests for instructor/release.py and instructor/markers.py (left out of the kit).

The real repository is released once per session into a temporary directory;
the released kit's own pytest then runs in a subprocess, as a student's would.
Marker errors are exercised on small fake repositories.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from instructor import REPO_ROOT, build, release
from instructor.markers import LOOKS_LIKE_MARKER, MarkerError, strip_python, transform_notebook

REPO = REPO_ROOT
BEGIN, END = "### BEGIN " + "SOLUTION", "### END " + "SOLUTION"  # split: this file is never released anyway
GRADED_TEST_FILES = ["tests/test_softmax.py", "tests/test_linear_classifier.py"]


def run_pytest(kit: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="300", HYPOTHESIS_PROFILE="grading", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfE", *args],
        cwd=kit,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="session")
def student_kit(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release") / "kit"
    assert release.main([str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def solutions_kit(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release") / "kit"
    assert release.main([str(out), "--solutions"]) == 0
    return out


def kit_paths(kit: Path) -> set[str]:
    return {p.relative_to(kit).as_posix() for p in kit.rglob("*") if p.is_file()}


# --- the real kit ---------------------------------------------------------------


def test_student_kit_leaves_out_instructor_tools_hidden_tests_and_local_files(student_kit):
    paths = kit_paths(student_kit)
    leaked = [
        p
        for p in paths
        if p.startswith(("instructor/", ".ci/", ".venv/"))
        or "__pycache__" in p
        or p.startswith((".pytest_cache/", ".hypothesis/", "data/cifar-10-batches-py/"))
    ]
    assert not leaked, f"instructor-only or local files in the student kit: {sorted(leaked)}"
    for needed in (
        "classifiers/softmax.py",
        "classifiers/linear_classifier.py",
        "tests/conftest.py",
        "setup.sh",
        "requirements.txt",
        "pyproject.toml",
    ):
        assert needed in paths, f"{needed} is missing from the student kit"
    assert os.access(student_kit / "setup.sh", os.X_OK), "setup.sh lost its executable bit"


def test_student_kit_has_no_solution_left(student_kit):
    for path in kit_paths(student_kit):
        if not path.endswith((".py", ".ipynb")):
            continue  # prose (the README) may name the markers
        text = (student_kit / path).read_text(errors="replace")
        if path.endswith(".ipynb"):
            text = "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
        survivors = [line for line in text.splitlines() if LOOKS_LIKE_MARKER.match(line)]
        assert not survivors, f"a marker survived in {path}: {survivors}"
    softmax = (student_kit / "classifiers/softmax.py").read_text()
    assert "np.log(sum_exp)" not in softmax, "solution code survived in classifiers/softmax.py"
    assert "    # YOUR CODE HERE\n    raise NotImplementedError()\n" in softmax


def test_no_released_python_file_outside_the_stubs_computes_a_softmax_loss(student_kit):
    # A working loss anywhere in the kit (a benchmark contender, a test's own
    # reference) is an answer a student can call or copy. Every softmax
    # cross-entropy needs np.exp and np.log; after stripping, no released
    # Python file may use both.
    for path in kit_paths(student_kit):
        if path.endswith(".py"):
            text = (student_kit / path).read_text(errors="replace")
            assert not ("np.exp(" in text and "np.log(" in text), (
                f"{path} computes exp and log: a softmax loss outside the student regions? "
                "Put it between solution markers or in INSTRUCTOR_ONLY"
            )


def test_stubs_sit_at_the_indentation_of_their_region(student_kit):
    text = (student_kit / "classifiers/linear_classifier.py").read_text()
    assert "            # YOUR CODE HERE\n            raise NotImplementedError()\n" in text  # inside the loop
    assert "        # YOUR CODE HERE\n        raise NotImplementedError()\n" in text  # predict


def test_released_notebook_is_stripped_and_clean(student_kit):
    notebook_path = student_kit / "assignment.ipynb"
    if not notebook_path.exists():
        pytest.skip("assignment.ipynb is not in the repository yet")
    notebook = json.loads(notebook_path.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    sources = ["".join(c["source"]) for c in notebook["cells"]]
    assert not any("BEGIN SOLUTION" in s for s in sources)


@pytest.mark.slow  # the released kit's whole suite, as a student runs it
def test_released_kit_collects_cleanly_and_says_what_is_not_implemented(student_kit, tmp_path):
    # The whole suite, as a student runs it. The run shows each stub once (instructor/tests/
    # test_student_run.py reads that view); the JUnit report keeps every test's own message.
    report = tmp_path / "junit.xml"
    result = run_pytest(student_kit, f"--junitxml={report}")
    assert result.returncode == 1, result.stdout[-3000:]  # failures, not a usage or collection error
    assert "ERROR collecting" not in result.stdout, f"collection errors:\n{result.stdout[-3000:]}"
    failures = {
        case.get("name"): failure.get("message", "")
        for case in ElementTree.parse(report).iter("testcase")
        for failure in [*case.iter("failure"), *case.iter("error")]
    }
    assert len(failures) >= 40, result.stdout.strip().splitlines()[-1]
    unexplained = {name: message for name, message in failures.items() if "is not implemented yet" not in message}
    assert not unexplained, f"failures that do not say 'not implemented yet': {unexplained}"
    messages = "\n".join(failures.values())
    for name in ("softmax_loss_naive", "softmax_loss_vectorized", "LinearClassifier.train"):
        assert f"{name} is not implemented yet" in messages
    # The notebook's first stub: named by its first line and section, saying what to write.
    assert (
        "assignment.ipynb stopped at a cell that is not implemented yet (the cell starting "
        "'def softmax_vector(s):' in section \"2. The maths\", line"
    ) in messages, messages[-3000:]
    assert "set J_formula and dL_ds_formula: both from p and label alone" in messages


def test_released_kit_collects_every_test_file_without_errors(student_kit):
    result = run_pytest(student_kit, "--collect-only")
    assert result.returncode == 0, result.stdout[-3000:]


def test_solutions_kit_keeps_the_solutions_and_passes(solutions_kit):
    assert BEGIN in (solutions_kit / "classifiers/softmax.py").read_text()
    assert not (solutions_kit / "instructor").exists() and not (solutions_kit / ".ci").exists()
    result = run_pytest(solutions_kit, *GRADED_TEST_FILES)
    assert result.returncode == 0, result.stdout[-3000:]


# --- markers on small fake repositories ------------------------------------------


def make_repo(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


GOOD_PY = f"def f(x):\n    y = 1\n    {BEGIN}\n    y = x * 2\n    {END}\n    return y\n"


def test_strip_python_replaces_the_region_at_its_indentation():
    assert strip_python(GOOD_PY, "f.py") == (
        "def f(x):\n    y = 1\n    # YOUR CODE HERE\n    raise NotImplementedError()\n    return y\n"
    )


BAD_MARKERS = {
    "unterminated": (f"def f():\n    {BEGIN}\n    return 1\n", "f.py:2", "unterminated"),
    "nested": (f"def f():\n    {BEGIN}\n    {BEGIN}\n    {END}\n    {END}\n", "f.py:3", "nested"),
    "unmatched": (f"def f():\n    return 1\n    {END}\n", "f.py:3", "unmatched"),
    "misspelled": (f"def f():\n    ## BEGIN SOLUTION\n    return 1\n    {END}\n", "f.py:2", "malformed"),
}


@pytest.mark.parametrize("case", list(BAD_MARKERS))
def test_bad_marker_is_an_error_naming_file_and_line_and_nothing_is_written(tmp_path, case, capsys):
    text, where, what = BAD_MARKERS[case]
    repo = make_repo(tmp_path / "repo", {"f.py": text, "ok.py": GOOD_PY})
    out = tmp_path / "out"
    assert release.main([str(out), "--source", str(repo)]) == 1
    err = capsys.readouterr().err
    assert where in err and what in err, err
    assert not out.exists(), "a failed release must write nothing"
    assert [p.name for p in tmp_path.iterdir()] == ["repo"], "the staging directory was left behind"


def notebook(cells: list[tuple[str, str]]) -> str:
    return json.dumps(
        {
            "cells": [
                {
                    "cell_type": kind,
                    "metadata": {},
                    "source": source.splitlines(keepends=True),
                    **(
                        {
                            "outputs": [{"output_type": "stream", "name": "stdout", "text": ["hi\n"]}],
                            "execution_count": 3,
                        }
                        if kind == "code"
                        else {}
                    ),
                }
                for kind, source in cells
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


def test_notebook_code_and_markdown_regions_are_stripped_and_outputs_cleared():
    text = notebook(
        [
            ("code", f"for i in range(3):\n    {BEGIN}\n    print(i)\n    {END}\nx = 1"),
            ("markdown", f"**Your answer:**\n{BEGIN}\nBecause log(10).\n{END}"),
            ("code", "print('setup')"),
        ]
    )
    cells = json.loads(transform_notebook(text, "nb.ipynb", strip=True))["cells"]
    assert "".join(cells[0]["source"]) == (
        "for i in range(3):\n    # YOUR CODE HERE\n"
        "    raise NotImplementedError('write this part of the cell (see the text above it)')\nx = 1"
    )
    assert "".join(cells[1]["source"]) == "**Your answer:**\nYOUR ANSWER HERE"
    for cell in (cells[0], cells[2]):
        assert cell["outputs"] == [] and cell["execution_count"] is None
    assert "".join(cells[2]["source"]) == "print('setup')"


def test_notebook_code_stub_names_what_to_set_and_repeats_the_todo():
    text = notebook(
        [
            (
                "code",
                "p = 1\nJ = None\ng = None  # (C,)\n# TODO: both from p,\n# no loops.\n"
                f"{BEGIN}\nJ = g = p\n{END}\nprint(J)",
            )
        ]
    )
    source = "".join(json.loads(transform_notebook(text, "nb.ipynb", strip=True))["cells"][0]["source"])
    assert "raise NotImplementedError('set J and g: both from p, no loops.')\nprint(J)" in source, source


def test_notebook_marker_error_names_the_cell_and_line(tmp_path, capsys):
    repo = make_repo(
        tmp_path / "repo",
        {
            "nb.ipynb": notebook([("code", "x = 1"), ("code", f"y = 2\n{BEGIN}\ny = 3")]),
        },
    )
    assert release.main([str(tmp_path / "out"), "--source", str(repo)]) == 1
    err = capsys.readouterr().err
    assert "nb.ipynb, cell 2, line 2" in err and "unterminated" in err, err


def test_all_marker_problems_are_listed_at_once(tmp_path):
    repo = make_repo(tmp_path / "repo", {"a.py": BAD_MARKERS["nested"][0], "b.py": BAD_MARKERS["unmatched"][0]})
    with pytest.raises(MarkerError) as info:
        build.build_kit(repo)
    assert {problem.split(":")[0] for problem in info.value.problems} == {"a.py", "b.py"}


def test_stripped_file_that_is_not_valid_python_is_an_error(tmp_path):
    # A region that opens a block without its body: the stub cannot fix that.
    text = f"def f():\n    {BEGIN}\n    if True:\n    {END}\n        return 1\n"
    repo = make_repo(tmp_path / "repo", {"f.py": text})
    with pytest.raises(MarkerError, match=r"f\.py:.*not valid Python"):
        build.build_kit(repo)


def test_walk_without_git_skips_environments_caches_and_data(tmp_path):
    repo = make_repo(
        tmp_path / "repo",
        {
            "ok.py": GOOD_PY,
            ".venv/lib/x.py": "",
            "pkg/__pycache__/m.pyc": "",
            ".hypothesis/db": "",
            "data/cifar-10-batches-py/data_batch_1": "",
            "data/cifar-10-python.tar.gz": "",
            "instructor/grade.py": "",
            "instructor/hidden_tests/test_h.py": "",
            ".ci/run": "",
            "tests/test_ok.py": "",
        },
    )
    assert sorted(build.build_kit(repo)) == ["ok.py", "tests/test_ok.py"]


def test_existing_output_directory_is_refused_unless_forced(tmp_path, capsys):
    repo = make_repo(tmp_path / "repo", {"ok.py": GOOD_PY})
    out = tmp_path / "out"
    make_repo(out, {"old.txt": "old"})
    assert release.main([str(out), "--source", str(repo)]) == 1
    assert "exists" in capsys.readouterr().err and (out / "old.txt").exists()
    assert release.main([str(out), "--source", str(repo), "--force"]) == 0
    assert kit_paths(out) == {"ok.py"}


# --- notebooks written from their Jupytext sources ------------------------------


def make_paired_repo(root: Path, names: tuple[str, ...] = ("nb",)) -> Path:
    """A repository with instructor/notebooks/NAME.py and the NAME.ipynb it writes."""
    from instructor import notebook_source

    for name in names:
        make_repo(
            root,
            {
                f"instructor/notebooks/{name}.py": (
                    '# %% [markdown] id="intro"\n# # A heading\n\n'
                    f'# %% id="work" tags=["parameters"]\nx = 1\n{BEGIN}\ny = 2\n{END}\n'
                )
            },
        )
    for pair in notebook_source.pairs(root):
        notebook_source.sync(pair, root)
    return root


def test_release_refuses_a_notebook_out_of_step_with_its_source(tmp_path, capsys):
    repo = make_paired_repo(tmp_path / "repo", ("nb", "other"))
    notebook = json.loads((repo / "other.ipynb").read_text())
    notebook["cells"][1]["source"] = ["x = 1  # edited in the .ipynb only\n"]
    (repo / "other.ipynb").write_text(json.dumps(notebook))
    out = tmp_path / "out"
    assert release.main([str(out), "--source", str(repo)]) == 1
    err = capsys.readouterr().err
    assert "other.ipynb is out of step with instructor/notebooks/other.py" in err, err
    assert "cell 2 (work): line 1" in err and "python -m instructor.notebook_source" in err, err
    assert "nb.ipynb" not in err.replace("other.ipynb", ""), "the notebook in step was blamed too"
    assert not out.exists()


def test_released_notebook_is_stripped_and_loses_its_pairing(tmp_path):
    repo = make_paired_repo(tmp_path / "repo")
    assert json.loads((repo / "nb.ipynb").read_text())["metadata"]["jupytext"]["formats"] == (
        "ipynb,instructor/notebooks//py:percent"
    )
    kit = build.build_kit(repo)
    assert sorted(kit) == ["nb.ipynb"], "the source must stay in the instructor's repository"
    notebook = json.loads(kit["nb.ipynb"][0])
    assert "jupytext" not in notebook["metadata"]
    assert [cell["id"] for cell in notebook["cells"]] == ["intro", "work"]
    assert notebook["cells"][1]["metadata"]["tags"] == ["parameters"]
    assert "".join(notebook["cells"][1]["source"]) == (
        "x = 1\n# YOUR CODE HERE\nraise NotImplementedError('write this part of the cell (see the text above it)')"
    )


def test_sync_names_new_cells_in_the_source_and_gives_the_notebook_their_ids(tmp_path):
    from instructor import notebook_source

    repo = make_paired_repo(tmp_path / "repo")
    source = repo / "instructor/notebooks/nb.py"
    source.write_text(source.read_text() + "\n# %% [markdown]\n# ## Section 2: more\n")
    assert notebook_source.main(["--check", "--source", str(repo)]) == 1
    assert notebook_source.main(["--source", str(repo)]) == 0
    assert '# %% [markdown] id="section-2-more"' in source.read_text()
    assert [cell["id"] for cell in json.loads((repo / "nb.ipynb").read_text())["cells"]] == [
        "intro",
        "work",
        "section-2-more",
    ]
    assert notebook_source.main(["--check", "--source", str(repo)]) == 0


def test_jupyterlab_opens_the_source_as_a_notebook_and_saves_both_files(tmp_path):
    # The contents manager JupyterLab's server uses once Jupytext is installed
    # (its server extension derives it from the default manager, as here).
    import asyncio

    from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
    from jupytext.async_contentsmanager import build_async_jupytext_contents_manager_class

    from instructor import notebook_source

    repo = make_paired_repo(tmp_path / "repo")
    manager = build_async_jupytext_contents_manager_class(AsyncLargeFileManager)(root_dir=str(repo))

    async def edit_and_save():
        model = await manager.get("instructor/notebooks/nb.py", type="notebook", content=True)
        cells = model["content"]["cells"]
        assert [cell["id"] for cell in cells] == ["intro", "work"]
        cells[0]["source"] = "# A better heading"
        await manager.save({"type": "notebook", "content": model["content"]}, "instructor/notebooks/nb.py")

    asyncio.run(edit_and_save())
    assert "# # A better heading" in (repo / "instructor/notebooks/nb.py").read_text()
    assert "# A better heading" in json.loads((repo / "nb.ipynb").read_text())["cells"][0]["source"]
    assert notebook_source.check(notebook_source.source_of("nb.ipynb", repo), repo) == []


def test_misspelled_end_marker_is_reported_where_it_was_typed_not_at_the_next_begin(tmp_path):
    lines = ["def f(x):"] + ["    x += 1"] * 78 + [f"    {BEGIN}", "    y = x * 2", "    ### END SOLUTOIN"]
    lines += ["    z = 0"] * 34 + [f"    {BEGIN}", "    z = y", f"    {END}", "    return z"]
    assert lines[81] == "    ### END SOLUTOIN" and lines[116] == f"    {BEGIN}"  # lines 82 and 117
    repo = make_repo(tmp_path / "repo", {"f.py": "\n".join(lines) + "\n"})
    with pytest.raises(MarkerError) as info:
        build.build_kit(repo)
    assert len(info.value.problems) == 1, info.value.problems
    assert info.value.problems[0].startswith("f.py:82: malformed marker '### END SOLUTOIN'"), info.value.problems


@pytest.mark.parametrize("typo", ["### BEGN SOLUTION", "### ENDSOLUTION", "### END SOLUTIONS", "# END_SOLUTION"])
def test_marker_typos_are_caught(typo):
    with pytest.raises(MarkerError, match=r"f\.py:2: malformed marker"):
        strip_python(f"x = 1\n{typo}\n", "f.py")


@pytest.mark.parametrize("comment", ["# END of the loop", "# BEGIN with the data", "# TODO: the solution"])
def test_ordinary_comments_are_not_markers(comment):
    assert strip_python(f"x = 1\n{comment}\n", "f.py") == f"x = 1\n{comment}\n"


def test_marker_typo_in_a_notebook_source_is_reported_at_the_line_of_the_source(tmp_path, capsys):
    repo = make_paired_repo(tmp_path / "repo")
    source = repo / "instructor/notebooks/nb.py"
    lines = source.read_text().splitlines()
    typed_at = lines.index(END) + 1
    lines[typed_at - 1] = "### END SOLUTOIN"
    source.write_text("\n".join(lines) + "\n")
    from instructor import notebook_source

    notebook_source.sync(notebook_source.pairs(repo)[0], repo)  # in step: only the typo is wrong
    assert release.main([str(tmp_path / "out"), "--source", str(repo)]) == 1
    err = capsys.readouterr().err
    assert f"instructor/notebooks/nb.py:{typed_at}: malformed marker '### END SOLUTOIN'" in err, err
    assert "nb.ipynb" not in err, f"the typo was blamed on the notebook, which the instructor did not edit:\n{err}"


def test_every_notebook_in_the_repository_is_in_step_with_its_source():
    # Any instructor/notebooks/NAME.py and its NAME.ipynb, not only the assignment.
    from instructor import notebook_source

    found = notebook_source.pairs(REPO)
    assert "assignment.ipynb" in [pair.notebook for pair in found]
    problems = [problem for pair in found for problem in notebook_source.check(pair, REPO)]
    assert not problems, "\n".join(problems)
    unnamed = [
        f"{pair.source}, cell {i + 1}"
        for pair in found
        for i, cell in enumerate(notebook_source.read_source(REPO / pair.source).cells)
        if notebook_source.ID_KEY not in cell.metadata
    ]
    assert not unnamed, f"cells without an id: {unnamed}; `{notebook_source.SYNC_COMMAND}` names them"


def test_a_grader_can_build_the_kit_from_a_notebook_out_of_step(tmp_path):
    repo = make_paired_repo(tmp_path / "repo")
    notebook = json.loads((repo / "nb.ipynb").read_text())
    notebook["cells"][0]["source"] = ["# edited in the .ipynb only"]
    (repo / "nb.ipynb").write_text(json.dumps(notebook))
    with pytest.raises(MarkerError, match="out of step"):
        build.build_kit(repo)
    assert "nb.ipynb" in build.build_kit(repo, check_notebook_sources=False)


def test_release_works_without_jupytext_where_there_are_no_notebook_sources(tmp_path):
    # A grader's copy of release.py (the Gradescope zip, a grading bundle)
    # ships without instructor/notebook_source.py and may lack Jupytext.
    repo = make_repo(tmp_path / "repo", {"ok.py": GOOD_PY})
    blocked = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'jupytext' or name == 'instructor.notebook_source':\n"
        "            raise ImportError(f'{name} is not available here')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from pathlib import Path\n"
        "from instructor import build\n"
        "print(sorted(build.build_kit(Path(sys.argv[1]))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", blocked, str(repo)], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and result.stdout.strip() == "['ok.py']", result.stderr[-2000:]


# What a student receives, file by file: the folder is the rule (instructor/build.py),
# so this list changes only when the student's kit itself does.
STUDENT_KIT = {
    ".gitignore",
    "README.md",
    "assignment.ipynb",
    "derivation.ipynb",
    "gradient_check.py",
    "pyproject.toml",
    "requirements.txt",
    "setup.sh",
    "submit.py",
    "benchmarks/README.md",
    "benchmarks/__init__.py",
    "benchmarks/bench_softmax.py",
    "benchmarks/machine.py",
    "benchmarks/settings.py",
    "benchmarks/tables.py",
    "classifiers/__init__.py",
    "classifiers/linear_classifier.py",
    "classifiers/softmax.py",
    "data/__init__.py",
    "data/cifar10.py",
    "data/download.py",
    "data/extract.py",
    "data/get_cifar10.py",
    "data/synthetic_cifar10.py",
    "diagnose/__init__.py",
    "diagnose/codes.py",
    "diagnose/findings.py",
    "diagnose/loss.py",
    "diagnose/probes.py",
    "diagnose/training.py",
    "kit/__init__.py",
    "kit/colab.py",
    "kit/display.py",
    "kit/kernel.py",
    "kit/progress.py",
    "kit/stubs.py",
    "kit/validation.py",
    "tests/__init__.py",
    "tests/_cifar_fixtures.py",
    "tests/answers.py",
    "tests/conftest.py",
    "tests/stand_in.py",
    "tests/strategies.py",
    "tests/student_code.py",
    "tests/run_report.py",
    "tests/test_benchmarks.py",
    "tests/test_cifar10.py",
    "tests/test_colab.py",
    "tests/test_derivation.py",
    "tests/test_diagnose.py",
    "tests/test_get_cifar10.py",
    "tests/test_gradient_check.py",
    "tests/test_kernel.py",
    "tests/test_linear_classifier.py",
    "tests/test_notebook.py",
    "tests/test_progress.py",
    "tests/test_setup.py",
    "tests/test_softmax.py",
    "tests/test_validation.py",
}


def test_the_student_kit_is_exactly_these_files():
    kit = set(build.build_kit(REPO))
    assert kit == STUDENT_KIT, f"added: {sorted(kit - STUDENT_KIT)}; missing: {sorted(STUDENT_KIT - kit)}"
