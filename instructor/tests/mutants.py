"""The rubric's mistakes and the correct styles as plain Python functions, for the in-process tests.

    from instructor.tests.mutants import LOSS_MISTAKES, loss_mutant, STYLES, style_functions

Each classic mistake of instructor/grading/rubric.py is made by editing the
suite's correct code (instructor/grading/suite.py), then loaded as a module
here, so the tests of diagnose and of mistakes.py use exactly the mutants the
self-test grades: one definition of each mistake.
"""

from __future__ import annotations

import importlib.util
import types
from pathlib import Path

from instructor import REPO_ROOT
from instructor.grading import rubric, suite

SOFTMAX, LINEAR = rubric.SOFTMAX, rubric.LINEAR
# The loss-pair mistakes, and the training-loop ones: name -> the rubric's entry.
LOSS_MISTAKES = {m.name: m for m in rubric.MISTAKES if {e[0] for e in m.edits} <= {rubric.NAIVE, rubric.VECTORIZED}}
TRAINING_MISTAKES = {m.name: m for m in rubric.MISTAKES if m.name not in LOSS_MISTAKES}
STYLES = sorted(suite.STYLES.glob("*.py"))


def load(text: str, name: str, path: str = SOFTMAX) -> types.ModuleType:
    """Run the text of a graded file as a module (it may import the kit: kit.validation, numpy)."""
    module = types.ModuleType(f"suite_{abs(hash(name))}")
    module.__file__ = str(REPO_ROOT / path)
    exec(compile(text, f"<{name}>", "exec"), module.__dict__)
    return module


def suite_module(case: suite.Case | None, name: str, path: str = SOFTMAX) -> types.ModuleType:
    """A graded file filled by the suite for `case` (None: the suite's correct code)."""
    originals = suite.graded_files(REPO_ROOT)
    return load(suite.build_files(originals, case or suite.Case("reference"))[path], name, path)


def mistake_module(mistake: rubric.Mistake, path: str = SOFTMAX) -> types.ModuleType:
    return suite_module(suite.Case("mistake", list(mistake.edits), mistake=mistake), mistake.name, path)


def loss_mutant(mistake: rubric.Mistake):
    """(the loss function the mistake is in, that function with the mistake made)."""
    function = mistake.function or rubric.FUNCTION_OF[mistake.edits[0][0]]
    return function, getattr(mistake_module(mistake), function)


def style_module(path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(f"style_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def style_functions() -> dict[str, object]:
    """Every correct loss function of the corpus: "<style>: <function>" -> the function."""
    found = {}
    for path in STYLES:
        module = style_module(path)
        for function in rubric.LOSS_FUNCTIONS:
            found[f"{path.stem}: {function}"] = getattr(module, function)
    return found
