"""Tests for the class report (instructor/grading/report.py, report_page.py) on synthetic grades (fast).

The report of a real class, graded end to end and opened in Chromium, is
test_class_grading.py's.
"""

from __future__ import annotations

import json
import re
import statistics
import time

import pytest

from instructor.grading.report import REPORT_JSON, RunInfo, class_numbers, histogram, write_report
from instructor.grading.results import gradescope_json
from instructor.tests.class_fixtures import VISIBLE, synthetic_class, synthetic_grade

RUN = RunInfo(
    "bubblewrap sandbox (test)", {"kit_version": "v1-test", "built_at": "2026-12-01 10:00:00 UTC"}, [], 1.0, 0
)
LARGE_CLASS = 500
# "For a class of 500 the report adds at most a few seconds": 0.6 s quiet, ~2.5 s on a loaded 2-core machine.
LARGE_CLASS_SECONDS = 15.0


def test_the_numbers_are_the_grades_own():
    grades = synthetic_class(40, seed=3)
    not_graded = ValueError("no graded file in it")
    not_graded.submission_name, not_graded.student = "Finn Wu", None
    numbers = class_numbers(grades, [not_graded], RUN)
    scores = sorted(g.score for g in grades)
    summary = numbers["scores"]
    assert (summary["graded"], summary["not_graded"], summary["total"]) == (40, 1, 100)
    assert summary["median"] == round(statistics.median(scores), 2)
    assert summary["full"] == sum(s == 100 for s in scores) and summary["zero"] == sum(s == 0 for s in scores)
    assert sum(summary["histogram"]["counts"]) == 40
    for row in numbers["mistakes"]:
        makers = [g for g in grades if any(m.code == row["code"] for m in g.mistakes)]
        assert row["students"] == len(makers) and row["names"] == sorted(g.student.label for g in makers)
        assert row["mean_points"] == round(
            statistics.fmean(sum(m.cost for m in g.mistakes if m.code == row["code"]) for g in makers), 2
        )
    assert [r["students"] for r in numbers["mistakes"]] == sorted(
        (r["students"] for r in numbers["mistakes"]), reverse=True
    )
    for row in numbers["tests"]:
        assert row["passed"] == sum(t.passed for g in grades for t in g.tests if t.name == row["test"])
    assert numbers["not_graded"] == [{"student": "Finn Wu", "key": "Finn-Wu", "reason": "no graded file in it"}]
    assert numbers["run"]["isolation"] == RUN.isolation, "the isolation, once per run"


def test_tests_are_named_as_results_json_names_them_to_students():
    cases = [f"tests/hidden/test_hidden_softmax.py::test_hidden_many[c{i:02d}-naive]" for i in range(30)]
    failing = {case: {} for case in cases[::3]}
    grades = [synthetic_grade(f"S{i}", failing if i % 2 else {}, ids=VISIBLE[:4] + cases) for i in range(4)]
    shown = {t["name"] for t in gradescope_json(grades[0])["tests"]}
    for row in class_numbers(grades, [], RUN)["tests"]:
        assert row["shown_as"] in shown
        assert row["shown_as"] == row["test"] or row["hidden"]
        same = [t for t in gradescope_json(grades[1])["tests"] if t["name"] == row["shown_as"]]
        assert row["passed"] == 2 * (same[0]["status"] == "passed") + 2, "the same test, the same case number"


def test_full_marks_land_in_the_last_bar_and_zero_in_the_first():
    bars = histogram([0.0, 4.99, 5.0, 99.5, 100.0], 100.0)
    assert len(bars["counts"]) == 20 and bars["edges"][-1] == 100
    assert bars["counts"][0] == 2 and bars["counts"][1] == 1 and bars["counts"][-1] == 2


def test_a_report_folder_opens_from_disk_and_fetches_nothing(tmp_path):
    grades = synthetic_class(12, seed=1)
    grades.append(synthetic_grade("<script>alert('x')</script> & co", {}))
    write_report(tmp_path / "report", grades, [], RUN)
    folder = tmp_path / "report"
    assert {p.name for p in folder.iterdir()} >= {
        "index.html",
        REPORT_JSON,
        "histogram.png",
        "histogram.svg",
        "feedback",
    }
    page = (folder / "index.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in page
    linked = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert linked and all(not re.match(r"[a-z]+:", link) for link in linked), f"only files beside it: {linked}"
    assert all((folder / link).is_file() for link in linked), "every figure and feedback file the page links"
    numbers = json.loads((folder / REPORT_JSON).read_text())
    assert len(numbers["students"]) == 13 and len(list((folder / "feedback").iterdir())) == 13


def test_overwriting_a_report_replaces_it_whole(tmp_path):
    folder = tmp_path / "report"
    write_report(folder, synthetic_class(3), [], RUN)
    (folder / "feedback" / "someone-gone.md").write_text("an earlier run's student")
    write_report(folder, synthetic_class(2), [], RUN)
    assert len(list((folder / "feedback").iterdir())) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["report"], "no leftover of the building"


@pytest.mark.slow
def test_a_report_of_500_students_takes_seconds(tmp_path):
    grades = synthetic_class(LARGE_CLASS, seed=2)
    started = time.monotonic()
    write_report(tmp_path / "report", grades, [], RUN)
    took = time.monotonic() - started
    print(f"\nreport of {LARGE_CLASS} students: {took:.2f} s")
    assert took < LARGE_CLASS_SECONDS
    assert len(list((tmp_path / "report" / "feedback").iterdir())) == LARGE_CLASS
