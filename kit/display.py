"""How the kit's checks show themselves in Jupyter: a table with a green or red edge.

gradient_check.GradientCheckResult and diagnose's Report both display as
one: their name-value rows, edged green when the check passed, red when not.
"""

from __future__ import annotations

import html

PASS_COLOUR, FAIL_COLOUR = "#1a7f37", "#cf222e"


def verdict_table(rows: list[tuple[str, str]], passed: bool) -> str:
    """HTML for (name, value) rows, edged in the colour of the verdict."""
    colour = PASS_COLOUR if passed else FAIL_COLOUR
    cells = "".join(
        f"<tr><th style='text-align:left'>{html.escape(name)}</th>"
        f"<td style='text-align:left'>{html.escape(value)}</td></tr>"
        for name, value in rows
    )
    return f"<table style='border-left:4px solid {colour}'>{cells}</table>"
