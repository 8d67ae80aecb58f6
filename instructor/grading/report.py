"""The class report: what the class got wrong, in one folder that opens from disk.

    python -m instructor.grading export.zip --jobs 2 --report report/

    report/
      index.html        the page (no server, nothing fetched: open it from disk)
      report.json       the same numbers, for a script
      histogram.png/svg the score distribution
      mistakes.png/svg  the classic mistakes, by the number of students who made them
      feedback/KEY.md   one file per student, ready to paste into an LMS comment

`class_numbers` computes everything from the grades (and the submissions
not graded), using the grades' own mistakes (found_mistakes.py) and test
results, so the report says what the individual results say:

- scores: the count, mean, median, quartiles, min, max, full and zero scores
  and a histogram;
- mistakes: every classic mistake found, ranked by the students who made it,
  with its code, the sentence a student reads, what it cost (mean points per
  student who made it) and who (named as in the export);
- tests: per graded test, the share of the graded class that passed it;
- not graded (with the reason), and incidents: timeouts, crashes, memory,
  the time limit;
- the run: when, which bundle, the isolation used (once), the export's
  problems.

The page and its figures are report_page.py's.
"""

from __future__ import annotations

import datetime
import json
import re
import shutil
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from instructor.grading.feedback import feedback_text, not_graded_text
from instructor.grading.results import Grade, hidden_names

REPORT_JSON = "report.json"  # what marks a folder as a class report (--overwrite replaces only those)
HISTOGRAM_BIN = 5.0  # points per bar of the score histogram
UNSAFE_IN_FILE_NAMES = re.compile(r"[^A-Za-z0-9._-]+")  # a feedback file's name keeps only these
LOW_PASS_SHARE = 0.25  # a test fewer than this share of the class passes: flagged as a possible problem in it


@dataclass
class RunInfo:
    """The grading run, said once: the isolation used, the bundle, the export's problems, the time."""

    isolation: str
    bundle: dict
    problems: list[str] = field(default_factory=list)
    grading_seconds: float = 0.0
    submissions: int = 0


def _label(result) -> str:
    student = result.student if isinstance(result, Grade) else getattr(result, "student", None)
    if student is not None:
        return student.label
    return result.submission if isinstance(result, Grade) else str(getattr(result, "submission_name", ""))


def _key(result) -> str:
    """The student's key, as a file name's stem (exports.assign_keys makes them safe; this makes sure)."""
    student = result.student if isinstance(result, Grade) else getattr(result, "student", None)
    key = student.key if student is not None and student.key else _label(result)
    return UNSAFE_IN_FILE_NAMES.sub("-", key).strip(".-") or "student"


def _quartiles(scores: list[float]) -> tuple[float, float, float]:
    if len(scores) == 1:
        return scores[0], scores[0], scores[0]
    q1, median, q3 = statistics.quantiles(scores, n=4, method="inclusive")
    return q1, median, q3


def histogram(scores: list[float], total: float) -> dict:
    """Bars of HISTOGRAM_BIN points from 0 to total; the last bar holds full marks."""
    count = max(1, round(total / HISTOGRAM_BIN))
    edges = [round(i * total / count, 4) for i in range(count + 1)]
    counts = [0] * count
    for score in scores:
        counts[min(count - 1, max(0, int(score / total * count)) if total else 0)] += 1
    return {"edges": edges, "counts": counts}


def class_numbers(grades: list[Grade], failures: list[BaseException], run: RunInfo) -> dict:
    """Everything the report shows, as plain data (report.json)."""
    total = max((g.total for g in grades), default=0.0)
    scores = sorted(g.score for g in grades)
    summary: dict = {"graded": len(grades), "not_graded": len(failures), "total": total}
    if scores:
        q1, median, q3 = _quartiles(scores)
        summary.update(
            mean=round(statistics.fmean(scores), 2),
            median=round(median, 2),
            q1=round(q1, 2),
            q3=round(q3, 2),
            min=scores[0],
            max=scores[-1],
            full=sum(g.score >= g.total for g in grades),
            zero=sum(g.score == 0 for g in grades),
            histogram=histogram(scores, total),
        )
    return {
        "generated_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "run": asdict(run),
        "scores": summary,
        "mistakes": _mistakes(grades),
        "tests": _tests(grades),
        "not_graded": [{"student": _label(f), "key": _key(f), "reason": str(f)} for f in failures],
        "incidents": _incidents(grades),
        "students": [
            {
                "student": _label(g),
                "key": _key(g),
                "score": g.score,
                "total": g.total,
                "mistakes": sorted({m.code for m in g.mistakes}),
                "feedback": f"feedback/{_key(g)}.md",
            }
            for g in grades
        ],
    }


def _mistakes(grades: list[Grade]) -> list[dict]:
    """Each mistake (a code and its sentence), who made it and what it cost them, most students first."""
    found: dict[tuple[str, str], dict] = {}
    for g in grades:
        for m in g.mistakes:
            row = found.setdefault(
                (m.code, m.explanation),
                {"code": m.code, "explanation": m.explanation, "by": {}, "functions": {}, "charged": False},
            )
            row["by"][_label(g)] = row["by"].get(_label(g), 0.0) + m.cost
            row["functions"][m.function] = row["functions"].get(m.function, 0) + 1
            row["charged"] |= m.charged
    rows = []
    for row in found.values():
        costs = list(row.pop("by").items())
        rows.append(
            {
                **row,
                "students": len(costs),
                "share": round(len(costs) / len(grades), 4) if grades else 0.0,
                "mean_points": round(statistics.fmean(c for _, c in costs), 2),
                "names": sorted(name for name, _ in costs),
            }
        )
    return sorted(rows, key=lambda r: (-r["students"], -r["mean_points"], r["code"]))


def _tests(grades: list[Grade]) -> list[dict]:
    """Per graded test (in the grades' order): how many of the graded class passed it."""
    if not grades:
        return []
    order = [t.name for t in grades[0].tests]
    passed = dict.fromkeys(order, 0)
    worth = {t.name: t.max_score for t in grades[0].tests}
    hidden = {t.name for t in grades[0].tests if t.hidden}
    for g in grades:
        for t in g.tests:
            passed[t.name] = passed.get(t.name, 0) + t.passed
    plain = hidden_names([name for name in order if name in hidden])  # numbered in the grades' order, as results.json
    return [
        {
            "test": name,
            "shown_as": plain.get(name, name),
            "hidden": name in hidden,
            "max_score": worth.get(name, 0.0),
            "passed": passed[name],
            "share": round(passed[name] / len(grades), 4),
            "low": passed[name] / len(grades) < LOW_PASS_SHARE,
        }
        for name in passed
    ]


def _incidents(grades: list[Grade]) -> list[dict]:
    """Timeouts, crashes, memory and the time limit, per student, as the grader recorded them."""
    rows = []
    for g in grades:
        if g.stopped:
            rows.append({"student": _label(g), "kind": "stopped", "detail": g.stopped})
        for incident in g.incidents:
            rows.append({"student": _label(g), "kind": str(incident.get("kind")), "detail": incident.get("detail", "")})
    return rows


def write_report(directory: Path, grades: list[Grade], failures: list[BaseException], run: RunInfo) -> float:
    """Write the report folder (replacing an earlier report there); returns the seconds it took."""
    from instructor.grading import report_page  # matplotlib: imported only when a report is written

    started = time.monotonic()
    numbers = class_numbers(grades, failures, run)
    directory.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    try:
        (building / "feedback").mkdir()
        for g in grades:
            (building / "feedback" / f"{_key(g)}.md").write_text(feedback_text(g), encoding="utf-8")
        for f in failures:
            (building / "feedback" / f"{_key(f)}.md").write_text(not_graded_text(_label(f), str(f)), encoding="utf-8")
        report_page.write_figures(building, numbers)
        (building / "index.html").write_text(report_page.page(numbers), encoding="utf-8")
        (building / REPORT_JSON).write_text(json.dumps(numbers, indent=1), encoding="utf-8")
        if directory.exists():
            shutil.rmtree(directory)  # an earlier report (cli.check_targets makes sure it is one)
        building.rename(directory)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return time.monotonic() - started
