"""The student's code, as the tests reach it: every test imports it from here.

In your kit this module simply imports your functions and classes from
classifiers/, the first time a test asks for them (so a mistake in one file
never stops the tests of the other). When the instructor grades, the grader
puts a stand-in for this module in its place that calls the same names in a
separate, sandboxed process: arguments and results then cross as plain data
(arrays, numbers, strings), and a test sees exactly what your code returns.

Three kinds of check must run next to your code, so they live here as
helpers that the tests call: counting the lines a function runs, recording
the minibatches that training draws, and diagnose.py's diagnosis.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent

# Everything the tests use from your files (and the stand-in built on them):
# name -> (module, kind, base class).
STUDENT_API = {
    "softmax_loss_naive": ("classifiers.softmax", "function", None),
    "softmax_loss_vectorized": ("classifiers.softmax", "function", None),
    "LinearClassifier": ("classifiers.linear_classifier", "class", None),
    "Softmax": ("classifiers.linear_classifier", "class", "LinearClassifier"),
    "TrainingDivergedError": ("classifiers.linear_classifier", "exception", "FloatingPointError"),
    # The kit's stand-in loss on your train and predict: the SGD tests train it (tests/stand_in.py).
    "OneVsRestLogistic": ("tests.stand_in", "class", "LinearClassifier"),
}
# The helpers below, which the grader runs next to the student's code too. One whose first
# argument names a function or method runs it: the grader skips it once that one has timed out.
HELPERS = ("count_lines_run", "train_recording_batches", "diagnosis")
TRAINING = "Softmax.train"  # the name diagnosis() gives the training loop


def __getattr__(name: str):
    """Import a student name on first use: `from tests.student_code import Softmax`."""
    if name not in STUDENT_API:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module_name, _, _ = STUDENT_API[name]
    return getattr(importlib.import_module(module_name), name)


def source_text(path: str) -> str:
    """The text of one of the student's files, e.g. "classifiers/softmax.py" (read, never run)."""
    return (KIT_ROOT / path).read_text(encoding="utf-8")


def count_lines_run(function_name: str, *args) -> int:
    """How many source lines of the function's own file run during one call.

    A loop hidden anywhere in that file runs more lines for larger inputs.
    """
    module_name, _, _ = STUDENT_API[function_name]
    module = importlib.import_module(module_name)
    function = getattr(module, function_name)
    filename = module.__file__
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if frame.f_code.co_filename == filename:
            if event == "line":
                count += 1
            return tracer
        return None

    sys.settrace(tracer)
    try:
        function(*args)
    finally:
        sys.settrace(None)
    return count


def train_recording_batches(model, X, y, **train_options) -> tuple[list[float], list[tuple]]:
    """Train `model` (a Softmax) and record every minibatch its loss was asked about.

    Returns (the history that train returned, [(X_batch, y_batch, loss) per step]).
    """
    seen = []
    original_loss = model.loss  # the bound method of the model's own class

    def recording_loss(X_batch, y_batch, reg):
        loss, dW = original_loss(X_batch, y_batch, reg)
        seen.append((X_batch.copy(), y_batch.copy(), loss))
        return loss, dW

    model.loss = recording_loss  # on this instance only
    try:
        history = model.train(X, y, **train_options)
    finally:
        del model.loss
    return history, seen


def diagnosis(name: str) -> list[tuple[str, str]]:
    """diagnose.py's findings on a loss function ("softmax_loss_naive", ...) or on TRAINING.

    Returns (code, message) pairs; an empty list means nothing wrong was found.
    """
    import diagnose

    if name == TRAINING:
        findings = diagnose.diagnose_training(__getattr__("Softmax"))
    else:
        findings = diagnose.diagnose_loss(__getattr__(name))
    return [(finding.code, finding.message) for finding in findings]
