"""Instructor tools for the softmax kit: release, grading and Gradescope.

Run from the repository root (the instructor's copy, with solutions):

    python -m instructor.release OUT_DIR [--solutions]   # the student kit
    python -m instructor.grading SUBMISSION... [--jobs N] [--csv grades.csv]
    python -m instructor.grading.gradescope autograder.zip   # Gradescope upload

Nothing in this folder is part of the student kit: the release copies
everything else (instructor/build.py).
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent  # the instructor's repository
