"""What a student reads of a failing test: the test's own lines and their own code, nothing of the grader.

Runs in the harness (instructor/grading/harness_plugin.py), where the test's
exception is at hand. The instructor keeps pytest's full text (the grader's
frames, the worker's traceback); the student gets

- for a visible test (one they have in their kit): the test's frames and
  its message, without the grader's modules and paths, and, when their own
  code raised, the error, their file and line, and the lines around it;
- for a hidden test: nothing of the test at all. `error_summary` keeps only
  what their code did (the exception's type and their file and line, or a
  timeout), never a message, which could carry the hidden inputs; the
  results (instructor/grading/results.py) add the plain name, the points and
  the named mistakes.

The error data comes from the worker (instructor/grading/worker.py's
`kit_frames`), through the boundary, which attaches it to the exception it
raises here as `student_error`; the lines shown are read from the student's
own files as handed in (the harness's copy), never from anything else.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from instructor.grading.points import HIDDEN_PREFIXES, is_hidden

CONTEXT_LINES = 2  # lines of the student's code shown before and after the line that failed
TEXT_LIMIT = 4000  # characters of one student view (the end is kept: the error is there)
# The boundary's own exception classes, as pytest names them (module.qualname), and as a student reads them.
RENAMED = {
    "instructor.grading.boundary.StudentCodeError: ": "",
    "instructor.grading.boundary.StudentTimeout: ": "Timeout: ",
    "instructor.grading.boundary.StudentImportError: ": "ImportError: ",
}


def student_error_of(error: BaseException | None) -> dict | None:
    """The `student_error` data the boundary attached to `error` or to an exception in its chain."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        data = getattr(error, "student_error", None)
        if isinstance(data, dict):
            return data
        error = error.__cause__ or error.__context__
    return None


def own_frames(data: dict, submission: Path) -> list[dict]:
    """The frames of `data` in the student's own files (the ones they handed in), innermost last."""
    where = data.get("where") if isinstance(data.get("where"), list) else []
    return [
        f
        for f in where
        if isinstance(f, dict)
        and isinstance(f.get("file"), str)
        and isinstance(f.get("line"), int)
        and ".." not in Path(f["file"]).parts
        and (submission / f["file"]).is_file()
    ]


def code_around(path: Path, line: int, offset: int | None = None) -> list[str]:
    """The lines of `path` around `line`, numbered, the line itself marked with >."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    shown = []
    width = len(str(min(len(lines), line + CONTEXT_LINES)))
    for number in range(max(1, line - CONTEXT_LINES), min(len(lines), line + CONTEXT_LINES) + 1):
        mark = ">" if number == line else " "
        shown.append(f"  {mark} {number:>{width}} | {lines[number - 1]}")
        if number == line and isinstance(offset, int) and offset > 0:
            shown.append(" " * (len(f"  {mark} {number:>{width}} | ") + offset - 1) + "^")
    return shown


def error_block(data: dict, submission: Path) -> str:
    """Your code raised ...: the error, where in your files, and your lines around it."""
    kind = data.get("kind")
    if kind != "raised":
        return str(data.get("message", ""))
    frames = own_frames(data, submission)
    message = str(data.get("message", ""))
    lines = [f"Your code raised {data.get('type', 'an error')}" + (f": {message}" if message else "")]
    for frame in frames:
        inside = f", in {frame['function']}" if frame.get("function") else ""
        lines.append(f"  {frame['file']}, line {frame['line']}{inside}")
    if frames:
        last = frames[-1]
        lines.extend(code_around(submission / last["file"], last["line"], last.get("offset")))
    return "\n".join(lines)


def _in_visible_tests(kit: Path):
    tests = (kit / "tests").resolve()
    hidden = [(kit / prefix).resolve() for prefix in HIDDEN_PREFIXES]

    def keep(entry) -> bool:
        path = Path(str(entry.path)).resolve()
        return path.is_relative_to(tests) and not any(path.is_relative_to(h) for h in hidden)

    return keep


def visible_text(excinfo: pytest.ExceptionInfo, kit: Path, submission: Path) -> str:
    """A visible test's failure as its student reads it: its own frames and message, then their error."""
    error = excinfo.value
    if isinstance(error, pytest.fail.Exception) and not error.pytrace:
        text = str(error.msg)
    else:
        keep = _in_visible_tests(kit)
        # pytest's own filter first (a helper's __tracebackhide__), then the visible tests' frames only.
        hide = lambda info: info.traceback.filter(info).filter(keep)
        text = str(excinfo.getrepr(style="short", chain=False, tbfilter=hide))
        for qualified, plain in RENAMED.items():
            text = text.replace(qualified, plain)
    data = student_error_of(error)
    if data is not None:
        text = f"{text.rstrip()}\n\n{error_block(data, submission)}"
    return text[-TEXT_LIMIT:]


def error_summary(data: dict | None, submission: Path) -> dict | None:
    """What the student's code did in a hidden test, without a message: kind, type and their file and line."""
    if data is None:
        return None
    summary = {"kind": str(data.get("kind", "raised")), "type": str(data.get("type", ""))}
    frames = own_frames(data, submission)
    if frames:
        last = frames[-1]
        summary.update(file=last["file"], line=last["line"], function=str(last.get("function", "")))
    return summary


def describe_failure(excinfo: pytest.ExceptionInfo, nodeid: str, kit: Path, submission: Path) -> dict:
    """The report event's "student" entry: the text for a visible test, the error summary for any."""
    summary = error_summary(student_error_of(excinfo.value), submission)
    view: dict = {"error": summary} if summary else {}
    if not is_hidden(nodeid):
        view["text"] = visible_text(excinfo, kit, submission)
    return view
