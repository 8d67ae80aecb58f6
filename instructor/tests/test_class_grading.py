"""A class of a dozen, exported as Gradescope and as Canvas write it, graded end to end (left out of the kit).

The README's command (`python -m instructor.grading EXPORT.zip --jobs 2
--csv grades.csv --json-dir results/ --report report/`) grades each export
in the sandbox: a correct student, a resubmission (the latest is graded),
classic mistakes (charged once, or named by the diagnosis), a missing file,
a broken file, submit.py's zip uploaded as it is, and a student with no
graded file (not graded: exit status 1). Then the gradebook is checked
against the export's identities, the class report's numbers against the
individual results, the feedback files against the hidden tests, and the
page is opened in Debian's Chromium (a screenshot is written beside the
report: `--basetemp DIR` keeps it).
"""

from __future__ import annotations

import csv
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from instructor import REPO_ROOT
from instructor.grading import rubric, sandbox, suite
from instructor.grading.bundle import build_bundle
from instructor.tests.chromium import chromium_or_skip, launch
from instructor.tests.class_fixtures import (
    Submission,
    canvas_export,
    gradescope_export,
    hidden_test_secrets,
    zip_bytes,
)

pytestmark = pytest.mark.slow  # two exports of a dozen graded in the sandbox: a minute or two on 2 cores

SOFTMAX, LINEAR = "classifiers/softmax.py", "classifiers/linear_classifier.py"
SYNTAX_ERROR = rubric.edit(rubric.VECTORIZED, "rows = np.arange(num_train)\n", "rows = = 1\n")


def mistakes(*names: str) -> list:
    return [edit for name in names for edit in rubric.BY_NAME[name].edits]


# name, SID, Canvas user id, the edits of the self-test's suite (None: the reference), what is handed in.
CLASS = [
    ("Ada Lovelace", "100", 11, [], "files"),
    ("Ben Ng", "200", 22, [], "resubmitted"),  # first with no reg in the loss, then right
    ("Cleo Park", "300", 33, mistakes("vectorized: no reg in the loss", "naive: no reg in the gradient"), "files"),
    ("Dev Rao", "400", 44, mistakes("vectorized: wrong sign of the gradient", "naive: -1 on the wrong class"), "files"),
    (
        "Eve Stone",
        "500",
        55,
        mistakes("naive: loss not divided by N", "naive: gradient not divided by N", "vectorized: modifies W in place"),
        "files",
    ),
    ("Finn Wu", "600", 66, mistakes("vectorized: no max shift", "naive: log(exp / sum)"), "files"),
    ("Gus Hale", "700", 77, mistakes("vectorized: loop over examples", "predict returns probabilities"), "files"),
    ("Hana Ito", "800", 88, mistakes("SGD: wrong sign of the update", "SGD: the same batch every step"), "files"),
    ("Ian Cole", "900", 99, mistakes("vectorized: returns W itself as dW"), "no classifier"),
    ("Jo Kim", "1000", 110, [SYNTAX_ERROR], "files"),
    ("Kai Moss", "1100", 121, [], "a pdf"),
    ("Lu Chen", "1200", 132, mistakes("vectorized: the 0.5 * reg convention"), "submission.zip"),
]
EXPECTED_MISTAKES = {  # student -> (code, function) the gradebook's mistakes column must name
    "Cleo Park": {
        ("reg-missing-in-loss", "softmax_loss_vectorized"),
        ("reg-missing-in-gradient", "softmax_loss_naive"),
    },
    "Dev Rao": {("gradient-sign-flipped", "softmax_loss_vectorized"), ("gradient-wrong-target", "softmax_loss_naive")},
    "Eve Stone": {("loss-not-averaged", "softmax_loss_naive"), ("mutates-input", "softmax_loss_vectorized")},
    "Finn Wu": {
        ("overflow-without-shift", "softmax_loss_vectorized"),
        ("underflow-log-of-ratio", "softmax_loss_naive"),
    },
    # Right numbers the wrong way, and a file that does not parse: the tests name these.
    "Gus Hale": {
        ("vectorized-has-loops", "softmax_loss_vectorized"),
        ("predict-not-labels", "LinearClassifier.predict"),
    },
    "Jo Kim": {("does-not-import", "classifiers/softmax.py")},
    "Hana Ito": {("sgd-wrong-sign", "Softmax.train")},
    "Ian Cole": {("dW-is-an-input", "softmax_loss_vectorized")},
    "Lu Chen": {("reg-half-convention", "softmax_loss_vectorized")},
}


def student_files(edits: list) -> dict[str, bytes]:
    files = suite.build_files(suite.graded_files(REPO_ROOT), suite.Case("mistake", edits))
    return {Path(path).name: text.encode() for path, text in files.items()}


def uploads(edits: list, handed_in: str) -> list[dict[str, bytes]]:
    """What the student uploaded, oldest first: one submission, or two when they resubmitted."""
    files = student_files(edits)
    if handed_in == "resubmitted":
        return [student_files(mistakes("vectorized: no reg in the loss")), files]
    if handed_in == "no classifier":
        return [{"softmax.py": files["softmax.py"]}]
    if handed_in == "a pdf":
        return [{"my answers.pdf": b"%PDF-1.4 I ran out of time"}]
    if handed_in == "submission.zip":
        return [{"submission.zip": zip_bytes({f"classifiers/{name}": data for name, data in files.items()})}]
    return [files]


def email(name: str) -> str:
    return name.split()[0].lower() + "@uni.example"


def canvas_name(name: str) -> str:
    first, last = name.split()
    return (last + first).lower()  # Canvas's file-name form of "Last, First"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return build_bundle(REPO_ROOT, tmp_path_factory.mktemp("bundle") / "b")


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("exports")
    submissions, files = [], []
    number = 1000
    for name, sid, user, edits, handed_in in CLASS:
        for attempt, uploaded in enumerate(uploads(edits, handed_in)):
            number += 1
            when = f"2026-11-{28 + attempt} 1{attempt}:00:00.000000000 -08:00"
            submissions.append(
                Submission(f"submission_{number}", [{"name": name, "sid": sid, "email": email(name)}], when, uploaded)
            )
            for original, data in uploaded.items():
                # Canvas renames a file uploaded again: softmax-1.py, in a later submission.
                stem, dot, suffix = original.rpartition(".")
                again = f"{stem}-{attempt}{dot}{suffix}" if attempt else original
                files.append((canvas_name(name), user, 9000 + number, again, data, attempt > 0))
    return {
        "gradescope": gradescope_export(root / "gradescope-export.zip", submissions),
        "canvas": canvas_export(root / "canvas-submissions.zip", files),
    }


def grade_export(export: Path, bundle, out: Path) -> tuple[subprocess.CompletedProcess, float]:
    """The README's command, as an instructor runs it."""
    out.mkdir(parents=True)
    command = [
        sys.executable,
        "-m",
        "instructor.grading",
        str(export),
        "--jobs",
        "2",
        "--csv",
        str(out / "grades.csv"),
        "--json-dir",
        str(out / "results"),
        "--report",
        str(out / "report"),
        "--bundle",
        str(bundle.root),
        "--timeout",
        "30",
        "--quiet",
    ]
    started = time.monotonic()
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=1800)
    return run, time.monotonic() - started


@pytest.fixture(scope="module")
def graded(bundle, exports, tmp_path_factory) -> dict[str, dict]:
    command, problem = sandbox.bwrap_problem()
    if command is None:
        pytest.skip(f"{problem}: {sandbox.INSTALL_HINT}")
    out = tmp_path_factory.mktemp("graded")
    done = {}
    for kind, export in exports.items():
        run, seconds = grade_export(export, bundle, out / kind)
        print(f"\n{kind} export of {len(CLASS)} students graded in {seconds:.1f} s")
        done[kind] = {"run": run, "out": out / kind, "seconds": seconds}
    return done


@pytest.mark.parametrize("kind", ["gradescope", "canvas"])
def test_an_export_is_graded_as_it_comes_one_row_per_student(graded, kind):
    run, out = graded[kind]["run"], graded[kind]["out"]
    assert run.returncode == 1, f"one student handed in no graded file: exit status 1\n{run.stderr[-3000:]}"
    assert "not graded: no graded file in it" in run.stderr and "my answers.pdf" in run.stderr
    quiet_lines = [line for line in run.stdout.splitlines() if ": Score: " in line]
    assert len(quiet_lines) == len(CLASS) - 1, "--quiet: one line per student graded"
    rows = {r["Student"]: r for r in csv.DictReader((out / "grades.csv").open(encoding="utf-8"))}
    names = {name: (name if kind == "gradescope" else canvas_name(name)) for name, *_ in CLASS}
    assert set(rows) == set(names.values()), "every student, keyed by the export's identity"
    for name, sid, user, _, _ in CLASS:
        row = rows[names[name]]
        if kind == "gradescope":
            assert (row["SIS User ID"], row["Email"], row["ID"]) == (sid, email(name), "")
        else:
            assert (row["ID"], row["SIS User ID"]) == (str(user), "")
    assert rows[names["Ada Lovelace"]]["Score"] == "100"
    assert rows[names["Ben Ng"]]["Score"] == "100", "the latest submission is graded"
    assert "not graded" in rows[names["Ben Ng"]]["Notes"], "the earlier one is named"
    assert rows[names["Kai Moss"]]["Score"] == "" and rows[names["Kai Moss"]]["Notes"].startswith("not graded")
    assert "linear_classifier.py is missing" in rows[names["Ian Cole"]]["Notes"]
    assert "graded the files inside submission.zip" in rows[names["Lu Chen"]]["Notes"]
    assert 0 < float(rows[names["Jo Kim"]]["Score"]) < 50, "a file that does not parse costs its tests"
    for name, expected in EXPECTED_MISTAKES.items():
        named = {tuple(part.split(" in ")) for part in rows[names[name]]["Mistakes"].split("; ") if part}
        assert expected <= named, (name, named)
    assert not any("bubblewrap" in v for r in rows.values() for v in r.values()), "the isolation is in no row"
    assert run.stdout.count("Isolation: bubblewrap") == 1


def test_both_exports_give_each_student_the_same_score(graded):
    scores = {}
    for kind in ("gradescope", "canvas"):
        rows = list(csv.DictReader((graded[kind]["out"] / "grades.csv").open(encoding="utf-8")))
        scores[kind] = {r["SIS User ID"] or r["ID"]: r["Score"] for r in rows}
    by_canvas_id = {str(user): sid for _, sid, user, _, _ in CLASS}
    assert {by_canvas_id[k]: v for k, v in scores["canvas"].items()} == scores["gradescope"]


@pytest.mark.parametrize("kind", ["gradescope", "canvas"])
def test_the_report_says_what_the_individual_results_say(graded, kind):
    out = graded[kind]["out"]
    report = json.loads((out / "report" / "report.json").read_text())
    results = {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}
    assert len(results) == len(CLASS) - 1 == report["scores"]["graded"] and report["scores"]["not_graded"] == 1
    for student in report["students"]:
        assert student["score"] == results[student["key"]]["score"]
        codes = {m["code"] for m in results[student["key"]]["extra_data"]["mistakes"]}
        assert set(student["mistakes"]) == codes
    scores = [r["score"] for r in results.values()]
    assert report["scores"]["median"] == round(statistics.median(scores), 2)
    assert report["scores"]["full"] == sum(s == 100 for s in scores)
    label = {s["key"]: s["student"] for s in report["students"]}
    for row in report["mistakes"]:
        makers = {k for k, r in results.items() if row["code"] in {m["code"] for m in r["extra_data"]["mistakes"]}}
        assert row["students"] == len(makers) and row["names"] == sorted(label[k] for k in makers), row["code"]
    for row in report["tests"]:
        passed = sum(
            t["status"] == "passed" for r in results.values() for t in r["tests"] if t["name"] == row["shown_as"]
        )
        assert row["passed"] == passed, row
    [missing] = report["not_graded"]
    assert "Kai" in missing["student"] or "kai" in missing["student"]
    assert "no graded file" in missing["reason"]
    assert report["run"]["isolation"].startswith("bubblewrap")


@pytest.mark.parametrize("kind", ["gradescope", "canvas"])
def test_feedback_files_explain_the_mistakes_and_hold_nothing_of_the_hidden_tests(graded, kind):
    folder = graded[kind]["out"] / "report" / "feedback"
    assert len(list(folder.iterdir())) == len(CLASS), "one per student, the one not graded too"
    secrets = hidden_test_secrets()
    for path in folder.iterdir():
        text = path.read_text()
        leaked = [s for s in secrets if s in text]
        assert not leaked and "tests/hidden/" not in text, (path.name, leaked[:3])
    cleo = next(p for p in folder.iterdir() if p.name.startswith(("cleo", "parkcleo")))
    text = cleo.read_text()
    assert "`reg-missing-in-loss` in `softmax_loss_vectorized`: the loss does not grow by" in text
    assert "charged once: 6 points" in text and "Score: " in text


def test_the_report_opens_in_chromium_from_disk_and_fetches_nothing(graded):
    chromium_or_skip()
    from playwright import sync_api

    page_path = graded["gradescope"]["out"] / "report" / "index.html"
    screenshot = page_path.with_name("screenshot.png")
    requested = []
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.on("request", lambda request: requested.append(request.url))
            page.route("http*://**/*", lambda route: route.abort())  # nothing may come from the network
            page.goto(page_path.as_uri())
            page.wait_for_load_state("load")
            heading = page.inner_text("h1")
            images = page.eval_on_selector_all("img", "imgs => imgs.map(i => [i.getAttribute('src'), i.naturalWidth])")
            mistakes = page.eval_on_selector_all("#mistakes tr", "rows => rows.length")
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    assert heading == f"Class report: {len(CLASS) - 1} graded, 1 not graded"
    assert images and all(width > 0 for _, width in images), f"every figure shows: {images}"
    assert mistakes - 1 >= len({c for codes in EXPECTED_MISTAKES.values() for c, _ in codes})
    assert all(url.startswith("file://") for url in requested), [u for u in requested if not u.startswith("file")]
    assert screenshot.stat().st_size > 10_000
    print(f"\nscreenshot of the class report: {screenshot}")
