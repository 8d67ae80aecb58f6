"""The self-test's suite of submissions: how each one is written out as graded files.

A case is edits of the suite's own correct code (instructor/grading/rubric.py's
CORRECT) for the solution regions of the instructor's graded files, or whole
files (a correct style of instructor/grading/styles/). `build_files` turns a
case into the text of classifiers/softmax.py and classifiers/linear_classifier.py,
ready to grade. Only the instructor's files' solution markers are used: every
region is refilled, so the suite keeps working after the reference is rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from instructor.grading.regions import BATCH, CORRECT, LINEAR, NAIVE, PREDICT, SOFTMAX, UPDATE, VECTORIZED, body
from instructor.grading.rubric import Mistake
from instructor.markers import BEGIN, END

STYLES = Path(__file__).with_name("styles")  # correct softmax.py files, one idiom each
HEADER = "import numpy as np\n"  # the line of each graded file that import-time code goes after


@dataclass
class Case:
    """One submission of the suite.

    - kind: "reference", "mistake", "style", "variant", "nothing", "attack", "twin" or "threat".
    - edits: over CORRECT, {region: new body} or a list of edit(...), body(...), at_import(...).
    - files: whole graded files that replace the refilled ones ({path: text}).
    - mistake: the rubric's entry, for a mistake.
    - twin: an attack's honest twin (a case name).
    """

    kind: str
    edits: list | dict = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    mistake: Mistake | None = None
    twin: str = ""


def at_import(path: str, code: str, guarded: bool = True) -> tuple:
    """Code that runs when `path` is imported (inside try/except when guarded, so the maths still runs)."""
    if guarded:
        code = "try:\n" + "".join("    " + line + "\n" for line in code.strip("\n").splitlines())
        code += "except Exception:\n    pass\n"
    return ("import", path, code)


def styles() -> dict[str, Case]:
    """Every correct style of instructor/grading/styles/, beside the suite's correct classifier."""
    return {
        f"style: {path.stem}": Case("style", files={SOFTMAX: path.read_text(encoding="utf-8")})
        for path in sorted(STYLES.glob("*.py"))
    }


# A correct classifier written another way: it must earn full marks too.
VARIANTS = {
    "classifier: rng.choice, a new W each step, .argmax": Case(
        "variant",
        {
            BATCH: "idx = rng.choice(num_train, size=batch_size, replace=True)\nX_batch, y_batch = X[idx], y[idx]\n",
            UPDATE: "self.W = self.W - learning_rate * grad\n",
            PREDICT: "y_pred = (X @ self.W).argmax(axis=1)\n",
        },
    ),
}


def _both(text: str) -> list:
    return [body(NAIVE, text), body(VECTORIZED, text)]


# Loss pairs that compute nothing: each must earn none of the loss pair's points
# (points.LOSS_PAIR). The kit's own setup lines give loss = 0.0 and dW = zeros.
NOTHING = {
    "nothing: zeros": Case("nothing", _both("pass\n")),
    "nothing: a constant": Case("nothing", _both("loss = 2.302585\ndW = np.full_like(W, 0.01)\n")),
    "nothing: random numbers": Case(
        "nothing",
        _both(
            "rng = np.random.default_rng()\nloss = float(rng.uniform(0.5, 3.0))\n"
            "dW = rng.standard_normal(W.shape).astype(W.dtype)\n"
        ),
    ),
    "nothing: an echo of the inputs": Case(
        "nothing",
        _both(
            "loss = float(np.abs(X).mean() + reg * np.sum(W * W))\n"
            "dW = X.T @ np.ones((X.shape[0], W.shape[1]), dtype=W.dtype) / X.shape[0] + 2 * reg * W\n"
        ),
    ),
}


def regions(text: str) -> list[tuple[int, int]]:
    lines = text.splitlines()
    begins = [i for i, line in enumerate(lines) if line.strip() == BEGIN]
    ends = [i for i, line in enumerate(lines) if line.strip() == END]
    return list(zip(begins, ends))


def fill(stub: str, bodies: dict[int, str]) -> str:
    """The file with region i's body replaced by bodies[i] (the markers stay)."""
    lines = stub.splitlines(keepends=True)
    for index, (begin, end) in sorted(((i, r) for i, r in enumerate(regions(stub)) if i in bodies), reverse=True):
        indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
        text = [indent + line if line.strip() else line for line in bodies[index].splitlines(keepends=True)]
        lines[begin + 1 : end] = text
    return "".join(lines)


def build_files(files: dict[str, str], case: Case) -> dict[str, str]:
    """The submission: the graded files (with their solution markers) with every region filled for `case`."""
    bodies = dict(CORRECT)
    imports = dict.fromkeys(files, "")
    items = case.edits.items() if isinstance(case.edits, dict) else case.edits
    for item in items:
        if isinstance(case.edits, dict):
            region, text = item
            bodies[region] = text
            continue
        what, where, text = item
        if what == "import":
            imports[where] += text
        elif what == "body":
            bodies[where] = text
        else:
            count = bodies[what].count(where)
            if count != 1:
                raise ValueError(f"the suite's edit {where!r} matches {count} times in {what}")
            bodies[what] = bodies[what].replace(where, text)
    out = {}
    for path, text in files.items():
        text = case.files.get(path) or fill(text, {index: b for (p, index), b in bodies.items() if p == path})
        if imports[path]:
            if HEADER not in text:
                raise ValueError(f"{path} has no line {HEADER.strip()!r} to put import-time code after")
            text = text.replace(HEADER, HEADER + imports[path], 1)
        out[path] = text
    return out


def graded_files(repo: Path) -> dict[str, str]:
    """The instructor's graded files: only their solution markers are used (every region is refilled)."""
    files = {path: (repo / path).read_text(encoding="utf-8") for path in (SOFTMAX, LINEAR)}
    for path, index in CORRECT:
        if len(regions(files[path])) <= index:
            raise ValueError(f"{path} has fewer solution regions than the self-test fills ({index + 1})")
    return files
