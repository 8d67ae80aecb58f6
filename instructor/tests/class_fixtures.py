"""Classes for the tests of class grading: exports as Gradescope and Canvas write them, and synthetic grades.

- `gradescope_export(path, submissions)` writes a "Download Submissions"
  zip (or folder): `submission_metadata.yml` with Ruby-style keys and one
  folder per submission;
- `canvas_export(path, uploads)` writes Canvas's flat zip of
  `name[_LATE]_userid_submissionid_file`;
- `student_visible(results_json)` is all a student reads of a results.json,
  `hidden_test_secrets()` what of the hidden tests they must never read;
- `synthetic_grade(...)` / `synthetic_class(n)` make Grade objects as the
  grader would, without grading (for the report's numbers and its speed).
"""

from __future__ import annotations

import ast
import random
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from instructor import REPO_ROOT
from instructor.grading.exports import Student
from instructor.grading.results import Grade, TestResult


@dataclass
class Submission:
    """One submission in a Gradescope export: its folder, its submitters, when, and its files."""

    folder: str
    submitters: list[dict]  # {"name", "sid", "email"}
    created_at: str  # Ruby's form: 2026-11-30 17:02:11.123456000 -08:00
    files: dict[str, bytes] = field(default_factory=dict)


def metadata_yaml(submissions: list[Submission]) -> str:
    """submission_metadata.yml as Gradescope writes it: Ruby symbols as keys (`:name:`), quoted SIDs."""
    lines = []
    for s in submissions:
        lines.append(f"{s.folder}:")
        lines.append("  :submitters:")
        for person in s.submitters:
            lines.append(f"  - :name: {person['name']}")
            lines.append(f"    :sid: '{person.get('sid', '')}'")
            lines.append(f"    :email: {person.get('email', '')}")
        lines.append(f"  :created_at: {s.created_at}")
        lines.append("  :score: !ruby/object:BigDecimal 18:0.0")  # Ruby's own tag, as some exports hold
        lines.append("  :status: processed")
        lines.append("  :history: []")
    return "\n".join(lines) + "\n"


def gradescope_export(path: Path, submissions: list[Submission], top: str = "assignment_4242_export/") -> Path:
    """A Gradescope export: a zip when `path` ends in .zip, else the same tree unzipped into `path`."""
    files = {f"{top}submission_metadata.yml": metadata_yaml(submissions).encode()}
    for s in submissions:
        for name, data in s.files.items():
            files[f"{top}{s.folder}/{name}"] = data
    return _write(path, files)


def canvas_export(path: Path, uploads: list[tuple[str, int, int, str, bytes, bool]]) -> Path:
    """A Canvas export: (name, user id, submission id, original file name, bytes, late) per file."""
    files = {}
    for name, user, submission, original, data, late in uploads:
        files[f"{name}{'_LATE' if late else ''}_{user}_{submission}_{original}"] = data
    return _write(path, files)


def _write(path: Path, files: dict[str, bytes]) -> Path:
    if path.suffix == ".zip":
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in files.items():
                archive.writestr(name, data)
    else:
        for name, data in files.items():
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            (path / name).write_bytes(data)
    return path


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A zip (submit.py's submission.zip, say) as bytes."""
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --- what students read ----------------------------------------------------------------------


def student_visible(data: dict) -> str:
    """Everything results.json shows a student: `output`, and the name and output of every test not "hidden"."""
    return "\n".join(
        [data.get("output", "")]
        + [f"{t['name']}\n{t.get('output', '')}" for t in data.get("tests", []) if t.get("visibility") != "hidden"]
    )


STUB_MESSAGE = "is not implemented yet"
SECRET_LENGTH = 8  # shorter fragments of the hidden tests' f-strings (": loss ") are not telling, and not theirs


def hidden_test_secrets() -> list[str]:
    """What of instructor/hidden_tests/ a student must never read: its source lines and its string
    constants (case names, messages), each longer than a word, that no public kit file also holds."""
    public = "\n".join(
        p.read_text() for d in ("tests", "diagnose", "classifiers") for p in (REPO_ROOT / d).rglob("*.py")
    )
    secrets = set()
    for path in (REPO_ROOT / "instructor" / "hidden_tests").glob("*.py"):
        text = path.read_text()
        secrets.update(line.strip() for line in text.splitlines() if len(line.strip()) > 20)
        for node in ast.walk(ast.parse(text)):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and len(node.value.strip()) >= SECRET_LENGTH
            ):
                secrets.add(node.value.strip())
    # "X is not implemented yet" is the kit's own stub message (tests/conftest.py writes it with an f-string).
    return sorted(
        s for s in secrets if s not in public and not s.startswith(('"""', "#")) and not s.endswith(STUB_MESSAGE)
    )


# --- synthetic grades ----------------------------------------------------------------------

VISIBLE = [f"tests/test_softmax.py::test_visible_{i}[{f}]" for i in range(20) for f in ("naive", "vectorized")]
HIDDEN = [
    *(
        f"tests/hidden/test_hidden_softmax.py::test_hidden_loss_matches[case {c}-{f}]"
        for c in "ab"
        for f in ("naive", "vectorized")
    ),
    "tests/hidden/test_hidden_checks.py::test_loss_and_gradient_values[vectorized]",
    "tests/hidden/test_hidden_checks.py::test_sgd_learns_separable_data",
]
EXPLANATIONS = {
    "loss": {
        "reg-missing-in-loss": "the loss does not grow by `reg * sum(W**2)`",
        "overflow-without-shift": "scores of 800 give inf or nan: shift each row by its max",
    },
    "training": {"sgd-wrong-sign": "W moved up the gradient: `W -= learning_rate * dW`"},
}
CHARGES = {"softmax_loss_vectorized": {"reg-missing-in-loss": 6.0}, "softmax_loss_naive": {"reg-missing-in-loss": 4.0}}


def synthetic_grade(name: str, failing: dict[str, dict], sid: str = "", ids: list[str] | None = None) -> Grade:
    """A Grade over `ids` (VISIBLE + HIDDEN), 100 points; failing: test id -> TestResult fields to override."""
    ids = ids or VISIBLE + HIDDEN
    worth = 100 / len(ids)
    grade = Grade(submission=name, isolation="bubblewrap sandbox (test)", charges=CHARGES, explanations=EXPLANATIONS)
    grade.student = Student(name, sid=sid, key=name.lower().replace(" ", "-"))
    for test_id in ids:
        fields = {"passed": True, "score": worth, "output": ""}
        if test_id in failing:
            fields = {
                "passed": False,
                "score": 0.0,
                "output": f"E   AssertionError: {test_id} failed",
                **failing[test_id],
            }
        grade.tests.append(
            TestResult(name=test_id, max_score=worth, hidden=test_id.startswith("tests/hidden/"), **fields)
        )
    return grade


def synthetic_class(count: int, seed: int = 0) -> list[Grade]:
    """`count` students: correct, no reg (charged once), no shift, a wrong SGD sign, or random failures."""
    rng = random.Random(seed)
    grades = []
    for number in range(count):
        kind = rng.choice(["correct", "reg", "shift", "sgd", "random"])
        failing: dict[str, dict] = {}
        if kind == "reg":
            for test_id in (VISIBLE[3], HIDDEN[1], HIDDEN[4]):
                failing[test_id] = {"explained": {"softmax_loss_vectorized": ("reg-missing-in-loss",)}, "charged": True}
        elif kind == "shift":
            for test_id in (VISIBLE[5], HIDDEN[3]):
                failing[test_id] = {"findings": (("softmax_loss_vectorized", "overflow-without-shift"),)}
        elif kind == "sgd":
            failing[HIDDEN[5]] = {"findings": (("Softmax.train", "sgd-wrong-sign"),)}
        elif kind == "random":
            failing = {test_id: {} for test_id in rng.sample(VISIBLE + HIDDEN, rng.randint(1, 30))}
        grades.append(synthetic_grade(f"Student {number:03d}", failing, sid=f"{100000 + number}"))
    return grades
