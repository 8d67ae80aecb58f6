"""Progress that survives saving the notebook.

    for lr, reg in progress(grid, desc="grid search"):
        ...
    steps = progress(range(num_iters), desc="SGD", unit="steps")
    for it in steps:
        ...
        steps.record_loss(loss)  # shown as "loss <first> -> <latest>"

In a notebook, a live bar (an HTML <progress> element with a text fallback)
is redrawn in place while the loop runs; when the loop ends, the same output
becomes one line of text such as `SGD: 1500/1500 steps, loss 302 -> 2.1, 11 s`.
That line is what the saved notebook holds, so JupyterLab, nbviewer and
GitHub show the finished run. (A tqdm widget, by contrast, is saved with its
first frame, `0/1500`, and reopens as "Error displaying widget".) Outside a
notebook the line is redrawn on stderr, as tqdm does in a terminal.
"""

from __future__ import annotations

import html
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

Item = TypeVar("Item")

# Redraw at most this often: often enough to look live, rarely enough that a
# fast loop (1,500 SGD steps in a second) spends no time drawing.
REDRAW_SECONDS = 0.2


def _notebook_display():
    """IPython's `display` when running in a Jupyter kernel (Lab, Notebook, VS Code, Colab), else None."""
    if "IPython" not in sys.modules:  # a kernel imported it long ago: not in one (and no 0.1 s import for pytest)
        return None
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    shell = get_ipython()
    return display if shell is not None and getattr(shell, "kernel", None) is not None else None


def _seconds(elapsed: float) -> str:
    return f"{elapsed:.1f} s" if elapsed < 10 else f"{elapsed:.0f} s"


class progress(Generic[Item]):
    """Wrap `iterable`; show how far the loop got, and finish with one line of text.

    Inputs:
    - iterable: what the loop runs over.
    - desc: a short label, e.g. "SGD".
    - unit: what one item is, e.g. "steps".
    - total: the number of items, if len(iterable) does not say.
    - disable: if true, show nothing (train(verbose=False)).
    """

    def __init__(
        self, iterable: Iterable[Item], desc: str = "", unit: str = "", total: int | None = None, disable: bool = False
    ) -> None:
        self.iterable = iterable
        self.desc, self.unit = desc, unit
        self.total = total if total is not None else (len(iterable) if hasattr(iterable, "__len__") else None)
        self.disable = disable
        self.count = 0
        self.first_loss: float | None = None
        self.last_loss: float | None = None
        self._start = self._drawn_at = 0.0
        self._display = None  # IPython's display in a notebook; None in a terminal
        self._handle = None  # the notebook output this bar redraws
        self._width = 0  # the terminal line's length, to blank it when it shrinks
        self._closed = False

    def __iter__(self) -> Iterator[Item]:
        if self.disable:
            yield from self.iterable
            return
        self._display = _notebook_display()
        self._start = time.perf_counter()
        self._draw(force=True)
        for item in self.iterable:
            yield item
            self.count += 1
            self._draw()
        self.close()

    def record_loss(self, loss: float) -> None:
        """Remember the latest loss (and the first) for the line."""
        if self.first_loss is None:
            self.first_loss = float(loss)
        self.last_loss = float(loss)

    def text(self) -> str:
        """The line as it stands: `SGD: 37/1500 steps, loss 302 -> 45.1, 0.4 s`."""
        stopped = self._closed and self.total is not None and self.count < self.total
        done = f"{self.count}/{self.total}" if self.total is not None else f"{self.count}"
        parts = [f"{self.desc}: {'stopped at ' if stopped else ''}{done}{' ' + self.unit if self.unit else ''}"]
        if self.first_loss is not None:
            parts.append(f"loss {self.first_loss:.3g} -> {self.last_loss:.3g}")
        parts.append(_seconds(time.perf_counter() - self._start))
        return ", ".join(parts)

    def close(self) -> None:
        """Replace the live bar by the final line (also after a loop that stopped early)."""
        if self.disable or self._closed:
            return
        self._closed = True
        self._draw(force=True, final=True)

    def _draw(self, force: bool = False, final: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._drawn_at < REDRAW_SECONDS:
            return
        self._drawn_at = now
        line = self.text()
        if self._display is None:
            sys.stderr.write("\r" + line.ljust(self._width) + ("\n" if final else ""))
            sys.stderr.flush()
            self._width = len(line)
            return
        if final:
            bundle = {"text/plain": line}  # what the saved notebook keeps
        else:
            bar = (
                f"<progress value='{self.count}' max='{self.total}' style='width: 20em'></progress>"
                if self.total
                else ""
            )
            bundle = {"text/html": f"<div>{bar} <code>{html.escape(line)}</code></div>", "text/plain": line}
        if self._handle is None:
            self._handle = self._display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)
