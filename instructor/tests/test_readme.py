"""Tests for the student README that instructor/release.py writes from README.md.

The released README must hold nothing meant for instructors (their commands,
CI, the reference solution's speed tables, the block markers themselves) and
must list every place a student writes code or an answer. The regions are
found here independently of the release, straight from the solution markers.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from instructor import REPO_ROOT, build, release
from instructor.markers import BEGIN, MarkerError

REPO = REPO_ROOT

# Text that only the instructor's repository may show.
INSTRUCTOR_CONTENT = (
    "instructor",
    ".ci/",
    "`.ci",
    " CI ",
    "CI runs",
    "Gradescope",
    "grade submission",
    "hidden test",
    "reference solution",
    "| N | dtype |",
    "torch",
    "BEGIN SOLUTION",
    "<!--",
)
# What a student needs from it: set up, work, test and hand in, laptop and Colab.
STUDENT_CONTENT = (
    "./setup.sh",
    ".venv/bin/python -m pytest",
    "Colab",
    "Drive",
    "!python submit.py",
    "Kernel > Restart Kernel and Run All\n     Cells…",
    "--execute --inplace assignment.ipynb",
    "submit.py --unfinished",
    "YOUR ANSWER HERE",
    "raise NotImplementedError()",
)


@pytest.fixture(scope="module")
def released_readme() -> str:
    return build.build_kit(REPO)["README.md"][0].decode("utf-8")


def test_released_readme_has_no_instructor_content(released_readme):
    found = [text for text in INSTRUCTOR_CONTENT if text.lower() in released_readme.lower()]
    lines = [line for line in released_readme.splitlines() if any(t.lower() in line.lower() for t in found)]
    assert not found, f"instructor-only text in the student README: {found}\n" + "\n".join(lines)


def test_released_readme_says_how_to_set_up_work_test_and_hand_in(released_readme):
    missing = [text for text in STUDENT_CONTENT if text not in released_readme]
    assert not missing, f"the student README should mention: {missing}"


def python_regions(path: Path) -> list[str]:
    """The function holding each solution region of a Python file."""
    text = path.read_text()
    begins = [number for number, line in enumerate(text.splitlines(), 1) if line.strip() == BEGIN]
    functions = [node for node in ast.walk(ast.parse(text)) if isinstance(node, ast.FunctionDef)]
    return [
        min((f for f in functions if f.lineno <= line <= f.end_lineno), key=lambda f: f.end_lineno - f.lineno).name
        for line in begins
    ]


def test_released_readme_lists_every_student_region(released_readme):
    solved = build.build_kit(REPO, solutions=True, student_readme=False)
    regions = 0
    for path in solved:
        if path.endswith(".py") and BEGIN in (REPO / path).read_text():
            for name in python_regions(REPO / path):
                regions += 1
                assert re.search(rf"`{re.escape(path)}`, `(\w+\.)?{name}`", released_readme), (
                    f"{path}: the region in {name} is not listed in the student README"
                )
    cells = json.loads(solved["assignment.ipynb"][0])["cells"]
    for number, cell in enumerate(cells, 1):
        if any(line.strip() == BEGIN for line in "".join(cell["source"]).splitlines()):
            regions += 1
            kind = "code cell" if cell["cell_type"] == "code" else "answer cell"
            assert f"{kind} {number}," in released_readme, f"notebook {kind} {number} is not listed"
    assert regions >= 10, f"expected the kit's regions (at least 10), found {regions}"


def test_repository_readme_keeps_its_instructor_sections():
    readme = (REPO / "README.md").read_text()
    assert "## For instructors" in readme and "python -m instructor.release" in readme
    assert build.INSTRUCTOR_BEGIN in readme and build.REGIONS_BEGIN in readme


IMAGE_BYTES = 200_000  # a picture in the instructor guide: a screenshot, small enough for the repository


def test_the_instructor_guides_pictures_are_there_and_small():
    guide = REPO / "instructor" / "README.md"
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", guide.read_text())
    assert "report-example.png" in pictures, "the class report's picture"
    for name in pictures:
        path = guide.parent / name
        assert path.is_file() and path.stat().st_size < IMAGE_BYTES, name


@pytest.mark.parametrize(
    "readme, problem",
    [
        (f"{build.REGIONS_BEGIN}\n{build.REGIONS_END}\n{build.INSTRUCTOR_BEGIN}\nsecret\n", "never closed"),
        (f"{build.REGIONS_BEGIN}\n{build.REGIONS_END}\n{build.INSTRUCTOR_END}\n", "closes no block"),
        (
            f"{build.INSTRUCTOR_BEGIN}\n{build.INSTRUCTOR_BEGIN}\n{build.INSTRUCTOR_END}\n"
            f"{build.REGIONS_BEGIN}\n{build.REGIONS_END}\n",
            "inside the block",
        ),
        (
            f"<!-- BEGIN INSTRUCTOR -->\nsecret\n<!-- END INSTRUCTOR -->\n{build.REGIONS_BEGIN}\n{build.REGIONS_END}\n",
            "malformed block marker",
        ),
        ("no list here\n", "no '<!-- BEGIN STUDENT REGIONS"),
    ],
)
def test_a_bad_readme_block_stops_the_release(readme, problem):
    with pytest.raises(MarkerError, match=re.escape(problem)):
        build.student_readme_text(readme, ["- a region"])


def test_dropped_blocks_leave_the_rest_and_no_gap():
    readme = (
        f"# Kit\n\nfor all\n\n{build.INSTRUCTOR_BEGIN}\nfor instructors\n{build.INSTRUCTOR_END}\n\n"
        f"places:\n\n  {build.REGIONS_BEGIN}\n  {build.REGIONS_END}\n\nend\n"
    )
    assert build.student_readme_text(readme, ["- `a.py`, `f`"]) == (
        "# Kit\n\nfor all\n\nplaces:\n\n  - `a.py`, `f`\n\nend\n"
    )


def test_a_release_with_a_broken_readme_writes_nothing(tmp_path, capsys):
    source = tmp_path / "repo"
    source.mkdir()
    (source / "README.md").write_text(f"{build.INSTRUCTOR_BEGIN}\nsecret\n")
    (source / "a.py").write_text("x = 1\n")
    out = tmp_path / "kit"
    assert release.main([str(out), "--source", str(source)]) == 1
    assert "README.md:1" in capsys.readouterr().err and not out.exists()
