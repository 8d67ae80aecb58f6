"""What a diagnosis returns: findings, and a Report that prints or displays them as PASS or FAIL."""

from __future__ import annotations

from dataclasses import dataclass

from kit.display import verdict_table


@dataclass(frozen=True)
class Finding:
    """One diagnosed mistake: `code` (one of CODES) and a `message` for the student."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


@dataclass
class Report:
    """The verdict on a loss function or a training loop: PASS when nothing was found.

    print() it for text, or display() it in Jupyter for a table.
    """

    name: str
    findings: list[Finding]

    @property
    def passed(self) -> bool:
        return not self.findings

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        head = f"{self.name}: {'PASS' if self.passed else 'FAIL'}"
        return "\n".join([head, *(f"  {finding}" for finding in self.findings)])

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        """IPython's plain text (a notebook saved as text, a terminal): what print() shows."""
        printer.text(str(self))

    def _repr_html_(self) -> str:
        rows = [(self.name, "PASS: no mistake found" if self.passed else "FAIL")]
        return verdict_table(rows + [(finding.code, finding.message) for finding in self.findings], self.passed)
