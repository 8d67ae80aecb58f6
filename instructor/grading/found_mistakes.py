"""The classic mistakes one grade found: the one list every output reads.

The console's notes, results.json (both audiences), the gradebook's
mistakes column, the feedback files and the class report all call
`found_mistakes(grade)`, so they never disagree about what a student got
wrong. Its input is the grade's test results (instructor/grading/results.py's
TestResult) and the bundle's tables; two sources feed it today:

- **charged once**: a failing test whose every call to the loss pair is the
  reference with classic mistakes switched on (instructor/grading/mistakes.py)
  carries them in `explained`; those the bundle's CHARGES price were charged
  once (`charged`), at that price;
- **the diagnosis**: a failing softmax or classifier test carries what
  diagnose.py found in the code it tests in `findings` (tests/conftest.py
  records them on the test, the harness passes them on as data).

- **the tests themselves**: a mistake no diagnosis can see (a loop in the
  vectorized loss, predict returning scores, a file that does not import)
  is named by the failing test that recognises it (rubric.named_by_test:
  its name, or the import error in its message).

Each mistake is one code in one function ("reg-missing-in-loss" in
softmax_loss_vectorized), with the sentence a student reads for it (the
bundle's copy of diagnose/codes.py), the failing tests that name it, and
what it cost: its CHARGES price when charged once, else the points lost by
the failing tests that name it (which other mistakes named in the same
tests share).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from instructor.grading.rubric import named_by_test

TRAINING_SUFFIX = ".train"  # a function named like this is the SGD loop: its codes are diagnose's TRAINING_CODES


class GradedTest(Protocol):
    """What a mistake is read from: one graded test's result (results.TestResult)."""

    name: str
    passed: bool
    score: float
    max_score: float
    output: str  # its failure message (an import error names the file)
    explained: dict[str, tuple[str, ...]]  # function -> classic mistakes (mistakes.py)
    findings: tuple[tuple[str, str], ...]  # (function, code) found by diagnose.py
    charged: bool  # its explained mistakes were charged once (points.charge_once)


@dataclass(frozen=True)
class FoundMistake:
    code: str  # "reg-missing-in-loss"
    function: str  # "softmax_loss_vectorized", "Softmax.train"
    explanation: str  # the sentence a student reads for the code
    charged: bool  # charged once, at `cost`; else its tests cost their points
    cost: float  # points: the CHARGES price, or what the failing tests naming it lost
    tests: tuple[str, ...]  # the failing tests that name it

    def line(self) -> str:
        """[code] function: explanation (what it cost)."""
        how = "charged once" if self.charged else "lost in the tests that name it"
        return f"[{self.code}] {self.function}: {self.explanation} ({self.cost:g} points, {how})"


def error_lines(output: str) -> str:
    """What a failure says (pytest's "E" lines), without the test's source that pytest shows above it."""
    said = [line[1:].strip() for line in output.splitlines() if line.startswith("E ")]
    return "\n".join(said) if said else output


def explanation(code: str, function: str, explanations: dict[str, dict[str, str]]) -> str:
    """The sentence a student reads for `code` found in `function`; explanations: {"loss", "training", "tests"}."""
    table = explanations.get("training" if function.endswith(TRAINING_SUFFIX) else "loss", {})
    return table.get(code) or explanations.get("tests", {}).get(code) or explanations.get("loss", {}).get(code, "")


def found_mistakes(
    tests: Iterable[GradedTest], charges: dict[str, dict[str, float]], explanations: dict[str, dict[str, str]]
) -> list[FoundMistake]:
    """Every classic mistake the failing tests name, each once: charged ones first, then by cost."""
    named: dict[tuple[str, str], list] = {}  # (function, code) -> [failing tests, charged]
    for test in tests:
        if test.passed:
            continue
        pairs = [(f, c) for f, codes in test.explained.items() for c in codes] + list(test.findings)
        pairs += [(where, code) for code, where in named_by_test(test.name, error_lines(test.output))]
        for function, code in dict.fromkeys(pairs):
            entry = named.setdefault((function, code), [[], False])
            entry[0].append(test)
            if test.charged and code in test.explained.get(function, ()) and code in charges.get(function, {}):
                entry[1] = True
    found = []
    for (function, code), (failing, charged) in named.items():
        cost = charges[function][code] if charged else round(sum(t.max_score - t.score for t in failing), 2)
        found.append(
            FoundMistake(
                code=code,
                function=function,
                explanation=explanation(code, function, explanations),
                charged=charged,
                cost=cost,
                tests=tuple(t.name for t in failing),
            )
        )
    return sorted(found, key=lambda m: (not m.charged, -m.cost, m.code, m.function))


def in_test(mistakes: list[FoundMistake], test_name: str) -> list[FoundMistake]:
    """The mistakes one failing test names (a hidden test's student view shows these)."""
    return [m for m in mistakes if test_name in m.tests]
