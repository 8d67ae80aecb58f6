"""Grading: the graded tests run in a trusted harness, the student's code in a sandboxed worker.

    python -m instructor.grading SUBMISSION... [--jobs N] [--csv grades.csv]   # grade
    python -m instructor.grading.gradescope autograder.zip                     # Gradescope upload

Which side each module is on:

    trusted (the instructor's process and the harness)
        cli.py             the command line: finds the files, grades, writes results
        submission.py      reads a submission (zip or folder) and finds the graded files
        bundle.py          the grading bundle: harness kit, worker kit, manifest
        harness.py         runs one submission's graded tests, within its time bound
        harness_plugin.py  the pytest plugin inside the harness: swaps in the boundary
        boundary.py        the proxies for the student's functions and classes; timeouts
        sandbox.py         bubblewrap, a separate user, or nothing (trusted), never silently
        points.py          the points table
        results.py         the grade: console table, results.json, CSV
        gradescope.py      the Gradescope autograder zip
    both sides
        wire.py            the boundary's data format: JSON plus raw arrays, no pickle
    untrusted (inside the sandbox, next to student code)
        worker.py          imports the student's files and answers the harness's calls
"""
