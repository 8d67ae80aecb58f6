"""A feedback file per student: Markdown to paste into an LMS comment.

    text = feedback_text(grade)          # a graded student
    text = not_graded_text(label, why)   # one the grader could not grade

The score, the mistakes found (found_mistakes.py) with the sentence that
explains each, and the failing tests' messages exactly as results.json
shows them to the student (results.student_output): a hidden test by its
plain name, its points and the mistakes it names, never its source, inputs
or case names. Tests that failed with the same message are listed together.
"""

from __future__ import annotations

import re

from instructor.grading.results import Grade, hidden_names, student_output

LONGEST_FENCE = re.compile(r"`{3,}")  # a run of backticks in a message would end a fence of the same length


def _fenced(text: str) -> str:
    longest = max((len(m) for m in LONGEST_FENCE.findall(text)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}text\n{text.rstrip()}\n{fence}"


def feedback_text(grade: Grade, title: str = "Softmax assignment") -> str:
    """The student's feedback in Markdown."""
    name = grade.student.name if grade.student is not None else grade.submission
    lines = [f"# {title}: feedback for {name}", "", f"**Score: {grade.score:g} / {grade.total:g}**", ""]
    mistakes = grade.mistakes
    if mistakes:
        lines += ["## Mistakes found", ""]
        for m in mistakes:
            cost = f"charged once: {m.cost:g} points" if m.charged else f"the tests that name it lost {m.cost:g} points"
            lines.append(f"- `{m.code}` in `{m.function}`: {m.explanation} ({cost})")
        lines.append("")
    failing = [t for t in grade.tests if not t.passed]
    if failing:
        names = hidden_names([t.name for t in grade.tests if t.hidden])
        groups: dict[str, list] = {}
        for t in failing:
            groups.setdefault(student_output(t, mistakes), []).append(t)
        lines += [f"## Tests that failed ({len(failing)} of {len(grade.tests)})", ""]
        for output, tests in groups.items():
            lost = sum(t.max_score - t.score for t in tests)
            if len(tests) == 1:
                t = tests[0]
                lines.append(f"### {names.get(t.name, t.name)}: {t.score:g} of {t.max_score:g} points")
            else:
                lines.append(f"### {len(tests)} tests with the same message ({lost:g} points lost)")
                lines += [f"- {names.get(t.name, t.name)}: {t.score:g} of {t.max_score:g}" for t in tests]
            lines += ["", _fenced(output), ""]
    if grade.notes:
        lines += ["## Notes", "", *(f"- {note}" for note in grade.notes), ""]
    return "\n".join(lines)


def not_graded_text(label: str, why: str, title: str = "Softmax assignment") -> str:
    return (
        f"# {title}: feedback for {label}\n\n**Not graded**: {why}\n\n"
        "Hand in `classifiers/softmax.py` and `classifiers/linear_classifier.py`, or the `submission.zip` "
        "that `python submit.py` writes.\n"
    )
