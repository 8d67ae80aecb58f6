"""Tests for what each audience reads of a grade (instructor/grading/results.py, found_mistakes.py,
student_view.py, gradebook.py, feedback.py), on grades made without grading (fast).

test_class_grading.py checks the same on real grades of a class, end to end.
"""

from __future__ import annotations

import csv
import io
import json

from instructor.grading import results
from instructor.grading.cli import Progress, QuietLines
from instructor.grading.feedback import feedback_text
from instructor.grading.gradebook import detail_path, entry_column, write_gradebook
from instructor.grading.results import (
    gradescope_json,
    hidden_names,
    is_result_file,
    print_line,
    print_table,
    write_json_dir,
)
from instructor.grading.student_view import code_around, error_block
from instructor.tests.class_fixtures import HIDDEN, VISIBLE, student_visible, synthetic_grade

SECRET = "uint8 labels: loss 1.25, expected 1.5 (from ('best', (W, X, np.array([0, 0]), 0.0)))"
ISOLATION = "bubblewrap sandbox (test)"


def failing_everywhere() -> results.Grade:
    failing = {t: {"output": f"tests/hidden/x.py:3: in test\n    secret_line()\nE   {SECRET}"} for t in HIDDEN}
    failing[HIDDEN[0]]["student"] = {
        "error": {"kind": "raised", "type": "ValueError", "file": "classifiers/softmax.py", "line": 7}
    }
    failing[HIDDEN[1]]["findings"] = (("softmax_loss_vectorized", "overflow-without-shift"),)
    failing[VISIBLE[0]] = {"output": "E   AssertionError: full text", "student": {"text": "E   AssertionError: short"}}
    return synthetic_grade("Ada", failing)


def test_a_hidden_test_shows_students_its_plain_name_points_and_mistake_never_its_text():
    data = gradescope_json(failing_everywhere())
    shown = student_visible(data)
    assert "uint8 labels" not in shown and "best" not in shown and "secret_line" not in shown
    assert "test_hidden_loss_matches" not in shown and "case a" not in shown, "no node id or case name"
    assert ISOLATION not in shown and "Isolation" not in shown, "the isolation line is the instructor's"
    by_name = {t["name"]: t for t in data["tests"]}
    plain = "Hidden test (softmax): loss matches (naive version, case 1 of 2)"
    assert by_name[plain]["visibility"] == "after_published" and by_name[plain]["max_score"] > 0
    assert "Your code raised ValueError in classifiers/softmax.py, line 7." in by_name[plain]["output"]
    named = by_name["Hidden test (softmax): loss matches (vectorized version, case 1 of 2)"]["output"]
    assert "[overflow-without-shift] softmax_loss_vectorized: scores of 800 give inf or nan" in named
    assert by_name[VISIBLE[0]]["output"] == "E   AssertionError: short", "a visible test: the student's view"
    # The instructor sees everything, in tests only staff see, and in extra_data.
    staff = [t for t in data["tests"] if t["visibility"] == "hidden"]
    assert all(t["max_score"] == 0 for t in staff)
    assert any(SECRET in t["output"] for t in staff) and any(
        t["output"] == "E   AssertionError: full text" for t in staff
    )
    assert any(ISOLATION in t["output"] for t in staff) and data["extra_data"]["isolation"] == ISOLATION
    assert sum(t["max_score"] for t in data["tests"]) == sum(t.max_score for t in failing_everywhere().tests)


def test_a_test_that_never_ran_tells_the_student_why_in_one_line():
    stopped = "not run: the test run stopped early (exit status 1):\ntests/hidden/test_hidden_checks.py F [the log]"
    grade = synthetic_grade("Ada", {VISIBLE[0]: {"output": stopped}, HIDDEN[0]: {"output": stopped}})
    shown = student_visible(gradescope_json(grade))
    assert "not run: the test run stopped early (exit status 1):" in shown and "the log" not in shown


def test_hidden_names_keep_only_which_version_and_number_the_cases():
    names = hidden_names(
        [
            "tests/hidden/test_hidden_softmax.py::test_hidden_labels_of_any_integer_dtype_work[naive-uint8]",
            "tests/hidden/test_hidden_softmax.py::test_hidden_labels_of_any_integer_dtype_work[naive-int16]",
            "tests/hidden/test_hidden_checks.py::test_float32_stays_float32",
            "tests/hidden/test_hidden_checks.py::test_sgd_step_follows_the_gradient[float32]",
        ]
    )
    assert list(names.values()) == [
        "Hidden test (softmax): labels of any integer dtype work (naive version, case 1 of 2)",
        "Hidden test (softmax): labels of any integer dtype work (naive version, case 2 of 2)",
        "Hidden test (checks): float32 stays float32",
        "Hidden test (checks): sgd step follows the gradient",
    ]


def test_found_mistakes_are_one_list_for_every_output(tmp_path, capsys):
    charged = {"explained": {"softmax_loss_vectorized": ("reg-missing-in-loss",)}, "charged": True}
    grade = synthetic_grade(
        "Ben Ng",
        {
            VISIBLE[1]: {**charged, "findings": (("softmax_loss_vectorized", "reg-missing-in-loss"),)},
            HIDDEN[1]: charged,
            VISIBLE[3]: {"findings": (("softmax_loss_vectorized", "overflow-without-shift"),)},
            HIDDEN[5]: {"findings": (("Softmax.train", "sgd-wrong-sign"),)},
        },
        sid="200",
    )
    mistakes = grade.mistakes
    assert [(m.code, m.function, m.charged) for m in mistakes] == [
        ("reg-missing-in-loss", "softmax_loss_vectorized", True),
        ("overflow-without-shift", "softmax_loss_vectorized", False),
        ("sgd-wrong-sign", "Softmax.train", False),
    ]
    assert mistakes[0].cost == 6.0 and mistakes[0].tests == (VISIBLE[1], HIDDEN[1]), "charged once, named twice"
    assert mistakes[2].explanation.startswith("W moved up the gradient"), "the training table for the SGD loop"
    assert mistakes[1].cost == round(100 / len(VISIBLE + HIDDEN), 2), "its test's lost points"
    codes = [m.code for m in mistakes]
    data = gradescope_json(grade)
    assert [m["code"] for m in data["extra_data"]["mistakes"]] == codes
    assert all(code in data["output"] for code in codes)
    print_table(grade)
    print_line(grade)
    out = capsys.readouterr().out
    assert all(out.count(code) >= 2 for code in codes)
    write_gradebook([grade], tmp_path / "grades.csv")
    [row] = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert row["Mistakes"] == "; ".join(f"{m.code} in {m.function}" for m in mistakes)
    text = feedback_text(grade)
    assert all(f"`{code}`" in text for code in codes)


def test_the_gradebook_carries_the_exports_identity_and_the_isolation_is_in_no_row(tmp_path):
    ada, ben = synthetic_grade("Ada Lovelace", {}, sid="100"), synthetic_grade("Ben Ng", {VISIBLE[0]: {}})
    ben.student.canvas_id, ben.student.sid, ada.student.email = "22", "", "ada@uni.example"
    not_graded = ValueError("no graded file in it (expected softmax.py, linear_classifier.py)")
    not_graded.student, not_graded.submission_name = ada.student.__class__("Finn Wu", sid="600"), "Finn Wu"
    write_gradebook([ada, ben, not_graded], tmp_path / "grades.csv")
    rows = list(csv.DictReader((tmp_path / "grades.csv").open(encoding="utf-8")))
    assert list(rows[0])[:6] == ["Student", "ID", "SIS User ID", "Email", "Score", "Total"]
    assert [(r["Student"], r["ID"], r["SIS User ID"], r["Score"]) for r in rows] == [
        ("Ada Lovelace", "", "100", "100"),
        ("Ben Ng", "22", "", f"{ben.score:g}"),
        ("Finn Wu", "", "600", ""),
    ]
    assert rows[2]["Notes"].startswith("not graded: no graded file"), "nothing dropped"
    assert ISOLATION not in (tmp_path / "grades.csv").read_text()
    detail = list(csv.reader(detail_path(tmp_path / "grades.csv").open()))
    assert detail[0][:5] == ["Student", "ID", "SIS User ID", "Email", "Score"] and len(detail) == 3
    assert all(len(column) < 60 and "::" not in column for column in detail[0])


def test_per_entry_columns_are_short_and_unique():
    from instructor.grading import points

    columns = [entry_column(i) for i in range(len(points.POINTS))]
    assert columns[0] == "softmax: return types and shapes [1]"
    assert "hidden checks: SGD learns [3]" in columns and "classifier: SGD learns [2]" in columns
    assert len(set(columns)) == len(columns) and max(map(len, columns)) < 80


def test_overwrite_removes_an_earlier_runs_results_and_nothing_else(tmp_path):
    results_dir = tmp_path / "json"
    results_dir.mkdir()
    (results_dir / "01_alice.json").write_text(json.dumps({"output": "", "score": 0, "tests": []}))
    (results_dir / "my-notes.json").write_text(json.dumps({"todo": "keep me"}))
    grade = synthetic_grade("Alice", {})
    write_json_dir([grade], results_dir)
    assert sorted(p.name for p in results_dir.iterdir()) == ["alice.json", "my-notes.json"]
    assert is_result_file(results_dir / "alice.json") and not is_result_file(results_dir / "my-notes.json")


def test_a_students_error_shows_their_lines_and_none_of_the_graders(tmp_path):
    (tmp_path / "classifiers").mkdir()
    (tmp_path / "classifiers" / "softmax.py").write_text("".join(f"line_{i} = {i}\n" for i in range(1, 11)))
    data = {
        "kind": "raised",
        "type": "ZeroDivisionError",
        "message": "division by zero",
        "where": [
            {"file": "tests/student_code.py", "line": 44, "function": "__getattr__"},  # the kit's, not handed in
            {"file": "../../etc/passwd", "line": 1, "function": "x"},
            {"file": "classifiers/softmax.py", "line": 5, "function": "softmax_loss_naive"},
        ],
    }
    block = error_block(data, tmp_path)
    assert block.splitlines() == [
        "Your code raised ZeroDivisionError: division by zero",
        "  classifiers/softmax.py, line 5, in softmax_loss_naive",
        "    3 | line_3 = 3",
        "    4 | line_4 = 4",
        "  > 5 | line_5 = 5",
        "    6 | line_6 = 6",
        "    7 | line_7 = 7",
    ]
    assert code_around(tmp_path / "classifiers" / "softmax.py", 1, offset=3)[1].endswith("  ^")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_batch_on_a_terminal_shows_a_bar_with_the_count_rate_and_time_left():
    stream = Terminal()
    progress = Progress(4, stream=stream)
    for name in ("Ada", "Ben", "Cy"):
        progress(synthetic_grade(name, {}))
    progress.close()
    shown = stream.getvalue().split("\r")[-1]
    assert "3/4" in shown and "submission/s" in shown and "<" in shown, shown  # elapsed<left
    assert "75%" in shown


def test_a_batch_in_a_log_gets_a_line_per_submission_and_quiet_one_line_each_as_graded(capsys):
    stream = io.StringIO()
    progress = Progress(2, stream=stream)
    progress(synthetic_grade("Ada", {}))
    progress(RuntimeError("unreadable zip"))
    assert stream.getvalue().splitlines() == ["[1/2] Ada: 100 / 100", "[2/2] ?: not graded"]
    quiet = QuietLines()
    quiet(synthetic_grade("Ada", {}))
    quiet(RuntimeError("unreadable zip"))
    assert capsys.readouterr().out.splitlines() == ["Ada: Score: 100 / 100"]
