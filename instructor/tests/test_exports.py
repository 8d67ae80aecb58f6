"""Tests for reading a class's submissions as LMSs export them (instructor/grading/exports.py, submission.py).

No grading here (fast): which students an export holds, what identity each
row gets, which submission and which files are graded, and that nothing
odd (a corrupt or hostile zip, duplicate names, unclaimed files) is dropped
without a word. test_class_grading.py grades such exports end to end.
"""

from __future__ import annotations

import os
import zipfile

import pytest

from instructor.grading.exports import ExportError, Student, assign_keys, open_export
from instructor.grading.submission import MAX_FILE_BYTES, SubmissionError, read_submission
from instructor.tests.class_fixtures import Submission, canvas_export, gradescope_export, zip_bytes

GRADED = ["classifiers/softmax.py", "classifiers/linear_classifier.py"]
BOTH = {"softmax.py": b"# softmax of %s", "linear_classifier.py": b"# classifier"}


def files_of(who: str) -> dict[str, bytes]:
    return {"softmax.py": f"# softmax of {who}".encode(), "linear_classifier.py": b"# classifier"}


def person(name: str, sid: str) -> dict:
    return {"name": name, "sid": sid, "email": f"{name.split()[0].lower()}@uni.example"}


GRADESCOPE_CLASS = [
    Submission(
        "submission_1001", [person("Ada Lovelace", "100")], "2026-11-30 17:02:11.123456000 -08:00", files_of("ada")
    ),
    # Ben handed in twice: the later one (a day after) is his grade; the earlier is listed, not graded.
    Submission("submission_1002", [person("Ben Ng", "200")], "2026-11-29 09:00:00.000000000 -08:00", files_of("ben 1")),
    Submission("submission_1003", [person("Ben Ng", "200")], "2026-11-30 09:00:00.000000000 -08:00", files_of("ben 2")),
    # A group of two: each gets a row.
    Submission(
        "submission_1004",
        [person("Cleo Park", "300"), person("Dev Rao", "400")],
        "2026-11-30 10:00:00.000000000 -08:00",
        files_of("cleo and dev"),
    ),
    # submit.py's zip, uploaded as it is.
    Submission(
        "submission_1005",
        [person("Eve Stone", "500")],
        "2026-11-30 11:00:00.000000000 -08:00",
        {
            "submission.zip": zip_bytes(
                {"classifiers/softmax.py": b"# softmax of eve", "classifiers/linear_classifier.py": b"# c"}
            )
        },
    ),
    # Only a PDF: listed, and not graded (read_submission says why).
    Submission(
        "submission_1006", [person("Finn Wu", "600")], "2026-11-30 12:00:00.000000000 -08:00", {"report.pdf": b"%PDF"}
    ),
]


@pytest.mark.parametrize("form", ["export.zip", "export-unzipped"])
def test_a_gradescope_export_gives_one_row_per_student_named_by_the_metadata(tmp_path, form):
    export = open_export(gradescope_export(tmp_path / form, GRADESCOPE_CLASS), GRADED)
    assert export.layout == "gradescope", export
    by_sid = {e.student.sid: e for e in export.entries}
    assert sorted(by_sid) == ["100", "200", "300", "400", "500", "600"], "one row per student, a group's members each"
    ada = by_sid["100"].student
    assert (ada.name, ada.email) == ("Ada Lovelace", "ada@uni.example")
    assert by_sid["200"].source == "submission_1003", "the latest submission is graded"
    assert any("submission_1002" in note for note in by_sid["200"].notes), "the earlier one is named, not dropped"
    assert by_sid["200"].submitted_at.startswith("2026-11-30T09:00:00")
    files, _ = read_submission(by_sid["200"].tree, GRADED)
    assert files["classifiers/softmax.py"] == b"# softmax of ben 2"
    assert by_sid["300"].source == by_sid["400"].source == "submission_1004"
    files, notes = read_submission(by_sid["500"].tree, GRADED)
    assert files["classifiers/softmax.py"] == b"# softmax of eve" and any("inside submission.zip" in n for n in notes)
    with pytest.raises(SubmissionError, match=r"no graded file.*softmax\.py.*report\.pdf"):
        read_submission(by_sid["600"].tree, GRADED)
    assert not export.problems, export.problems


def test_the_metadata_is_read_with_a_yaml_library_including_rubys_tags(tmp_path):
    # Ruby's TimeWithZone and BigDecimal tags, as some exports hold: read as plain data, never as objects.
    metadata = (
        "submission_7:\n  :submitters:\n  - :name: 'Zoë \"Z\" O''Neil'\n    :sid: 007\n    :email: z@uni.example\n"
        "  :created_at: !ruby/object:ActiveSupport::TimeWithZone\n    utc: 2026-11-30 01:00:00.000000000 Z\n"
        "    zone: !ruby/object:ActiveSupport::TimeZone\n      name: America/Los_Angeles\n"
        "  :score: !ruby/object:BigDecimal 18:0.85e2\n"
    )
    root = tmp_path / "export"
    (root / "submission_7").mkdir(parents=True)
    (root / "submission_7" / "softmax.py").write_text("#")
    (root / "submission_metadata.yml").write_text(metadata, encoding="utf-8")
    [entry] = open_export(root, GRADED).entries
    assert entry.student.name == 'Zoë "Z" O\'Neil' and entry.student.sid == "7"
    assert entry.submitted_at.startswith("2026-11-30T01:00:00")


def test_a_gradescope_export_with_surprises_lists_each_and_drops_nothing(tmp_path):
    root = gradescope_export(tmp_path / "export", GRADESCOPE_CLASS[:1], top="")
    (root / "submission_9999").mkdir()  # a folder the metadata does not name
    (root / "submission_9999" / "softmax.py").write_text("# who?")
    (root / "submission_metadata.yml").write_text(
        (root / "submission_metadata.yml").read_text()
        + "submission_5555:\n  :submitters:\n  - :name: Gone Missing\n    :sid: '555'\n"
    )
    export = open_export(root, GRADED)
    names = {e.student.name: e for e in export.entries}
    assert set(names) == {"Ada Lovelace", "submission_9999", "Gone Missing"}
    assert names["Gone Missing"].tree is None and "no files" in names["Gone Missing"].error
    assert any("submission_9999" in p and "not in submission_metadata.yml" in p for p in export.problems)
    assert any("submission_5555" in p and "not graded" in p for p in export.problems)


def test_metadata_that_is_not_yaml_is_a_problem_and_the_folders_are_still_graded(tmp_path):
    root = gradescope_export(tmp_path / "export", GRADESCOPE_CLASS[:2], top="")
    (root / "submission_metadata.yml").write_text(":submitters: [unclosed\n")
    export = open_export(root, GRADED)
    assert export.layout == "gradescope" and len(export.entries) == 2
    assert any("could not be read" in p for p in export.problems)


CANVAS_CLASS = [
    ("lovelaceada", 11, 901, "softmax.py", b"# ada", False),
    ("lovelaceada", 11, 901, "linear_classifier.py", b"# ada c", False),
    # Ben resubmitted softmax.py: Canvas renamed it softmax-1.py, with a later submission id.
    ("ngben", 22, 902, "softmax.py", b"# ben old", False),
    ("ngben", 22, 950, "softmax-1.py", b"# ben new", True),
    ("ngben", 22, 902, "linear_classifier.py", b"# ben c", False),
    ("stoneeve", 33, 903, "submission.zip", zip_bytes({"classifiers/softmax.py": b"# eve"}), False),
]


@pytest.mark.parametrize("form", ["canvas.zip", "canvas-unzipped"])
def test_a_canvas_export_groups_files_by_user_and_grades_the_latest(tmp_path, form):
    path = canvas_export(tmp_path / form, CANVAS_CLASS)
    if form.endswith("unzipped"):
        (path / "notes from the TA.txt").write_text("not a submission")
    export = open_export(path, GRADED)
    assert export.layout == "canvas"
    by_id = {e.student.canvas_id: e for e in export.entries}
    assert sorted(by_id) == ["11", "22", "33"] and by_id["11"].student.name == "lovelaceada"
    files, _ = read_submission(by_id["22"].tree, GRADED)
    assert files["classifiers/softmax.py"] == b"# ben new", "the later submission's file, under its -1 name"
    assert any("softmax.py" in n and "not graded" in n for n in by_id["22"].notes)
    assert any("late" in n for n in by_id["22"].notes)
    files, _ = read_submission(by_id["33"].tree, GRADED)
    assert files == {"classifiers/softmax.py": b"# eve"}
    if form.endswith("unzipped"):
        assert export.unclaimed == 1 and any("notes from the TA.txt" in p for p in export.problems)


def test_a_folder_of_student_folders_given_alone_is_a_class(tmp_path):
    root = tmp_path / "subs"
    for who in ("alice", "bob"):
        (root / who).mkdir(parents=True)
        (root / who / "submission.zip").write_bytes(zip_bytes({"classifiers/softmax.py": who.encode()}))
    (root / "carol" / "kit" / "classifiers").mkdir(parents=True)
    (root / "carol" / "kit" / "classifiers" / "softmax.py").write_text("carol")
    (root / "dave").mkdir()
    (root / "dave" / "essay.txt").write_text("no code")
    (root / "grades-old.csv").write_text("stray")
    export = open_export(root, GRADED)
    assert export.layout == "folders"
    assert [e.student.name for e in export.entries] == ["alice", "bob", "carol", "dave"]
    files, _ = read_submission(export.entries[0].tree, GRADED)
    assert files == {"classifiers/softmax.py": b"alice"}, "a student's unextracted submission.zip is opened"
    assert export.entries[3].tree is None and export.unclaimed == 1
    assert any("grades-old.csv" in p for p in export.problems)


def test_a_zip_of_student_zips_is_a_class_read_one_student_at_a_time(tmp_path):
    path = tmp_path / "class.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for who in ("alice", "bob"):
            archive.writestr(f"{who}.zip", zip_bytes({"softmax.py": who.encode(), "linear_classifier.py": b"#"}))
    export = open_export(path, GRADED)
    assert export.layout == "folders" and [e.student.name for e in export.entries] == ["alice", "bob"]
    files, _ = read_submission(export.entries[1].tree, GRADED)
    assert files == {"classifiers/softmax.py": b"bob", "classifiers/linear_classifier.py": b"#"}


def test_one_students_kit_is_one_submission_not_a_class(tmp_path):
    kit = tmp_path / "kit"
    for name in [*GRADED, "tests/test_softmax.py", "backup/softmax.py"]:
        (kit / name).parent.mkdir(parents=True, exist_ok=True)
        (kit / name).write_text(name)
    export = open_export(kit, GRADED)
    assert export.layout == "single" and len(export.entries) == 1
    files, notes = read_submission(kit, GRADED)
    assert files["classifiers/softmax.py"] == b"classifiers/softmax.py"
    assert any("2 files could be classifiers/softmax.py" in n for n in notes), "the other candidate is named"


def test_a_damaged_export_zip_is_one_clear_error(tmp_path):
    path = tmp_path / "export.zip"
    path.write_bytes(zip_bytes({"a.txt": os.urandom(5000)})[:3000])  # a download cut short
    with pytest.raises(ExportError, match=r"export\.zip: not a readable zip file"):
        open_export(path, GRADED)


def test_hostile_names_in_an_export_are_skipped_and_listed_and_nothing_is_written(tmp_path):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("submission_metadata.yml", "submission_1:\n  :submitters:\n  - :name: Mallory\n")
        archive.writestr("submission_1/softmax.py", b"# mallory")
        archive.writestr("submission_1/../../../escaped/linear_classifier.py", b"# climbing out")
        archive.writestr("/abs/linear_classifier.py", b"# absolute")
        link = zipfile.ZipInfo("submission_1/linear_classifier.py")
        link.external_attr = (0o120777) << 16  # a symbolic link to a secret
        archive.writestr(link, "/etc/shadow")
    before = set(tmp_path.rglob("*"))
    export = open_export(path, GRADED)
    [entry] = export.entries
    files, notes = read_submission(entry.tree, GRADED)
    assert files == {"classifiers/softmax.py": b"# mallory"}, "no linear_classifier.py: a link is never followed"
    assert any("linear_classifier.py is missing" in n for n in notes)
    unsafe = [p for p in export.problems if "not a safe file name" in p]
    assert len(unsafe) == 2 and any("/abs/" in p for p in unsafe) and any("escaped" in p for p in unsafe)
    assert set(tmp_path.rglob("*")) == before, "nothing was written anywhere"


def test_a_huge_or_broken_file_is_noted_and_the_rest_is_graded(tmp_path):
    path = tmp_path / "upload.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, pytest.warns(UserWarning, match="Duplicate"):
        archive.writestr("softmax.py", b"\0" * (MAX_FILE_BYTES + 10))  # a zip bomb's first step
        archive.writestr("linear_classifier.py", b"# first")
        archive.writestr("linear_classifier.py", b"# second")  # two entries of one name
    files, notes = read_submission(path, GRADED)
    assert files == {"classifiers/linear_classifier.py": b"# second"}
    assert any("larger than 50 MB" in n for n in notes) and any(
        "2 entries named linear_classifier.py" in n for n in notes
    )
    broken = tmp_path / "broken.zip"
    data = bytearray(zip_bytes({"softmax.py": b"print('a long enough file to damage')" * 20}))
    data[60] ^= 0xFF  # inside the compressed bytes: the CRC check fails when read
    broken.write_bytes(bytes(data))
    with pytest.raises(SubmissionError, match="could not be read"):
        read_submission(broken, GRADED)


def test_keys_are_unique_and_safe_as_file_names():
    students = [
        Student("Ada Lovelace", sid="100"),
        Student("Ada Lovelace", sid="100"),
        Student("../../etc/passwd"),
        Student("李 雷", canvas_id="7"),
        Student("kept", key="kept"),
    ]
    assign_keys(students)
    keys = [s.key for s in students]
    assert keys == ["ada-lovelace_100", "ada-lovelace_100-2", "etc-passwd", "student_7", "kept"]
    assert all("/" not in k and not k.startswith(".") for k in keys)


def test_a_submission_with_only_an_unopened_zip_is_opened_and_with_nothing_it_is_refused(tmp_path):
    folder = tmp_path / "01_alice"
    folder.mkdir()
    (folder / "submission.zip").write_bytes(zip_bytes({"classifiers/softmax.py": b"A", "assignment.ipynb": b"{}"}))
    files, notes = read_submission(folder, GRADED)
    assert files == {"classifiers/softmax.py": b"A"}
    assert any("inside submission.zip" in n for n in notes)
    assert any("linear_classifier.py is missing" in n for n in notes)
    empty = tmp_path / "02_bob"
    empty.mkdir()
    (empty / "notes.txt").write_text("I ran out of time")
    with pytest.raises(SubmissionError, match=r"no graded file in it.*notes\.txt"):
        read_submission(empty, GRADED)
    (empty / "kit.tar.gz").write_bytes(b"\x1f\x8b")
    with pytest.raises(SubmissionError, match=r"kit\.tar\.gz: only zip files are opened"):
        read_submission(empty, GRADED)
