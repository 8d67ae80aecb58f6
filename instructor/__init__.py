"""Instructor tools for the softmax kit: release, grading and Gradescope.

Run from the repository root (the instructor's copy, with solutions):

    python -m instructor.release OUT_DIR [--solutions]   # the student kit
    python -m instructor.grade SUBMISSION... [--jobs N] [--csv grades.csv]
    python -m instructor.gradescope autograder.zip       # Gradescope upload

Nothing here is part of the student kit: the release leaves this package out.
"""
