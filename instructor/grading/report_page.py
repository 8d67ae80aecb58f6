"""The class report's page and figures, from report.py's numbers.

`page(numbers)` is one HTML file with its style inline and no script: it
opens from disk (file://) and fetches nothing, its only other files being
the figures beside it. Every name and message is HTML-escaped (a student's
name comes from the export). `write_figures` draws with matplotlib (the Agg
backend, no display): histogram.png/.svg and mistakes.png/.svg.
"""

from __future__ import annotations

import html
import itertools
from pathlib import Path

FIGURE_DPI = 110  # the PNGs: sharp on a laptop screen, a few tens of kB
MISTAKES_SHOWN = 15  # bars in the mistakes figure (the table lists them all)
NAMES_INLINE = 6  # a mistake made by this many students or fewer lists them in its row; more fold away
TESTS_SHOWN = 10  # the least passed tests shown open; the rest fold away
NAME_LIMIT = 60  # characters of a test's name in the figure

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; line-height: 1.4; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ccc; }
.run { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; width: 100%; font-size: 0.92em; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; white-space: nowrap; }
.cards { display: flex; flex-wrap: wrap; gap: 0.6em; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.4em 0.9em; min-width: 6em; }
.card b { display: block; font-size: 1.4em; }
.bar { background: #4878a8; height: 0.8em; display: inline-block; vertical-align: middle; }
.low { background: #fbe3e3; } .low .bar { background: #c0392b; }
code { background: #f4f4f4; padding: 0 0.2em; white-space: nowrap; } img { max-width: 100%; }
details summary { cursor: pointer; color: #345; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; } .figures img { flex: 1 1 30em; max-width: 48%; }
"""


def write_figures(directory: Path, numbers: dict) -> None:
    """histogram.png/svg and mistakes.png/svg."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scores = numbers["scores"]
    figure, axes = plt.subplots(figsize=(6.4, 3.4))
    if "histogram" in scores:
        edges, counts = scores["histogram"]["edges"], scores["histogram"]["counts"]
        widths = [b - a for a, b in itertools.pairwise(edges)]
        axes.bar(edges[:-1], counts, width=widths, align="edge", color="#4878a8", edgecolor="white")
        axes.axvline(scores["median"], color="#c0392b", linestyle="--", label=f"median {scores['median']:g}")
        axes.legend(loc="upper left", frameon=False)
    axes.set(xlabel=f"score (out of {scores['total']:g})", ylabel="students", title="Score distribution")
    axes.yaxis.get_major_locator().set_params(integer=True)
    _save(figure, directory / "histogram")
    mistakes = numbers["mistakes"][:MISTAKES_SHOWN]
    height = 1.2 + 0.32 * max(1, len(mistakes))
    figure, axes = plt.subplots(figsize=(6.4, height))
    labels = [m["code"] for m in mistakes][::-1]
    axes.barh(labels, [m["students"] for m in mistakes][::-1], color="#4878a8")
    axes.set(xlabel="students", title="Classic mistakes: students who made each")
    axes.xaxis.get_major_locator().set_params(integer=True)
    _save(figure, directory / "mistakes")


def _save(figure, stem: Path) -> None:
    import matplotlib.pyplot as plt

    figure.tight_layout()
    figure.savefig(stem.with_suffix(".png"), dpi=FIGURE_DPI)
    figure.savefig(stem.with_suffix(".svg"))
    plt.close(figure)


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _percent(share: float) -> str:
    return f"{100 * share:.0f}%"


def _bar(share: float) -> str:
    return f'<span class="bar" style="width:{max(1, round(100 * share))}px"></span> {_percent(share)}'


def page(numbers: dict) -> str:
    """The whole index.html."""
    run, scores = numbers["run"], numbers["scores"]
    bundle = run.get("bundle") or {}
    version = bundle.get("kit_version", "unknown")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Class report</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Class report: {scores['graded']} graded, {scores['not_graded']} not graded</h1>",
        f'<p class="run">Generated {_e(numbers["generated_at"])}; kit {_e(version)}, bundle built '
        f"{_e(bundle.get('built_at', 'at an unknown date'))}; graded in {run['grading_seconds']:g} s. "
        f"Isolation: {_e(run['isolation'])}.</p>",
        _summary(scores),
        '<div class="figures"><img src="histogram.svg" alt="score histogram">'
        '<img src="mistakes.svg" alt="classic mistakes by students"></div>',
        _mistakes(numbers["mistakes"], scores["graded"]),
        _tests(numbers["tests"]),
        _not_graded(numbers["not_graded"], numbers["incidents"], run["problems"]),
        _students(numbers["students"]),
        "</body></html>",
    ]
    return "\n".join(parts)


def _summary(scores: dict) -> str:
    if not scores["graded"]:
        return "<p>No submission could be graded.</p>"
    cards = [
        ("median", scores["median"]),
        ("quartiles", f"{scores['q1']:g} – {scores['q3']:g}"),
        ("mean", scores["mean"]),
        ("lowest", scores["min"]),
        ("highest", scores["max"]),
        ("full marks", scores["full"]),
        ("zero", scores["zero"]),
        ("out of", scores["total"]),
    ]
    shown = "".join(
        f'<div class="card"><span>{_e(k)}</span><b>{_e(f"{v:g}" if isinstance(v, float) else v)}</b></div>'
        for k, v in cards
    )
    return f'<h2>Scores</h2><div class="cards">{shown}</div>'


def _mistakes(mistakes: list[dict], graded: int) -> str:
    if not mistakes:
        return "<h2>Classic mistakes</h2><p>No classic mistake was found.</p>"
    rows = []
    for rank, m in enumerate(mistakes, 1):
        functions = ", ".join(f"<code>{_e(f)}</code>" for f in m["functions"])
        how = "charged once" if m["charged"] else "lost in its tests"
        if len(m["names"]) <= NAMES_INLINE:
            who = ", ".join(_e(n) for n in m["names"])
        else:
            items = "".join(f"<li>{_e(n)}</li>" for n in m["names"])
            who = f"<details><summary>{m['students']} students</summary><ul>{items}</ul></details>"
        rows.append(
            f"<tr><td class=num>{rank}</td><td><code>{_e(m['code'])}</code></td><td>{_e(m['explanation'])}"
            f"<br><small>in {functions}</small></td>"
            f"<td class=num>{m['students']} ({_percent(m['share'])})</td>"
            f"<td class=num>{m['mean_points']:g} <small>({how})</small></td>"
            f"<td>{who}</td></tr>"
        )
    head = "<tr><th>#</th><th>code</th><th>what it means</th><th>students</th><th>points (mean)</th><th>who</th></tr>"
    return (
        f"<h2>Classic mistakes</h2><p>Ranked by the number of the {graded} graded students who made each; "
        "the points are what it cost each of them on average.</p>"
        f'<table id="mistakes">{head}{"".join(rows)}</table>'
    )


def _tests(tests: list[dict]) -> str:
    rows = []
    for t in sorted(tests, key=lambda t: (t["share"], t["test"])):
        low = ' class="low"' if t["low"] else ""
        rows.append(
            f"<tr{low}><td>{_e(t['shown_as'])}{' <small>(hidden)</small>' if t['hidden'] else ''}</td>"
            f"<td class=num>{t['max_score']:g}</td><td class=num>{t['passed']}</td><td>{_bar(t['share'])}</td></tr>"
        )
    flagged = sum(t["low"] for t in tests)
    note = (
        f"<p><b>{flagged} test(s)</b> (in red) passed by fewer than a quarter of the class: "
        "a possible problem in the assignment itself.</p>"
        if flagged
        else "<p>Every test was passed by at least a quarter of the class.</p>"
    )
    head = "<tr><th>test</th><th>points</th><th>passed</th><th>share of the class</th></tr>"
    shown = max(TESTS_SHOWN, flagged)
    rest = rows[shown:]
    folded = (
        f'<details><summary>the other {len(rest)} tests</summary><table id="more-tests">{head}{"".join(rest)}</table>'
        "</details>"
        if rest
        else ""
    )
    return f'<h2>Tests, least passed first</h2>{note}<table id="tests">{head}{"".join(rows[:shown])}</table>{folded}'


def _not_graded(not_graded: list[dict], incidents: list[dict], problems: list[str]) -> str:
    parts = ["<h2>Not graded, timed out, or stopped by a limit</h2>"]
    if not (not_graded or incidents or problems):
        parts.append("<p>Every submission was graded, with no timeout and no limit reached.</p>")
    if not_graded:
        items = "".join(f"<li><b>{_e(n['student'])}</b>: {_e(n['reason'])}</li>" for n in not_graded)
        parts.append(f'<h3>Not graded ({len(not_graded)})</h3><ul id="not-graded">{items}</ul>')
    if incidents:
        rows = "".join(
            f"<tr><td>{_e(i['student'])}</td><td>{_e(i['kind'])}</td><td>{_e(i['detail'])}</td></tr>" for i in incidents
        )
        parts.append(f'<h3>Timeouts and limits ({len(incidents)})</h3><table id="incidents">{rows}</table>')
    if problems:
        items = "".join(f"<li>{_e(p)}</li>" for p in problems)
        parts.append(f'<h3>Problems in the export ({len(problems)})</h3><ul id="problems">{items}</ul>')
    return "".join(parts)


def _students(students: list[dict]) -> str:
    rows = "".join(
        f"<tr><td>{_e(s['student'])}</td><td class=num>{s['score']:g} / {s['total']:g}</td>"
        f"<td>{', '.join(f'<code>{_e(c)}</code>' for c in s['mistakes'])}</td>"
        f'<td><a href="{_e(s["feedback"])}">feedback</a></td></tr>'
        for s in sorted(students, key=lambda s: s["student"].lower())
    )
    head = "<tr><th>student</th><th>score</th><th>mistakes</th><th></th></tr>"
    table = f'<table id="students">{head}{rows}</table>'
    return f"<h2>Students</h2><details><summary>all {len(students)}</summary>{table}</details>"
