"""Grading: the graded tests run in a trusted harness, the student's code in a sandboxed worker.

    python -m instructor.grading SUBMISSION... [--jobs N] [--csv grades.csv]   # grade
    python -m instructor.grading EXPORT.zip --csv grades.csv --report report/  # a class's export
    python -m instructor.grading.gradescope autograder.zip                     # Gradescope upload
    python -m instructor.grading.selftest                                      # do the tests still bite?

Which side each module is on:

    trusted (the instructor's process and the harness)
        cli.py             the command line: finds the files, grades, writes results
        exports.py         a class as Gradescope or Canvas exports it: who each student is, which files
        submission.py      reads a submission (zip, folder, part of an export) and finds the graded files
        bundle.py          the grading bundle: harness kit, worker kit, manifest; the reference gate
        harness.py         runs one submission's graded tests, within its time bound
        harness_plugin.py  the pytest plugin inside the harness: swaps in the boundary
        student_view.py    what a student reads of a failing test (in the harness)
        remote.py          the proxies for the student's functions and classes the tests call
        boundary.py        their calls, sent to the worker: timeouts, crashes, files that cannot import
        sandbox.py         bubblewrap, a separate user, or nothing (trusted), never silently
        mistakes.py        classic loss mistakes recognised exactly, so each is charged once
        reference.py       the independent softmax the hidden tests and mistakes.py compare with
        points.py          the points table and what each classic mistake costs
        results.py         the grade, and what each audience reads: console, results.json
        found_mistakes.py  the classic mistakes one grade found: the one list every output reads
        gradebook.py       the CSV gradebook an LMS imports, and the points per test entry
        feedback.py        a feedback file per student (Markdown)
        report.py          the class report's numbers (report.json) and folder
        report_page.py     the class report's page and figures
        gradescope.py      the Gradescope autograder zip
        selftest.py        grades classic mistakes, correct styles and attacks with the current tests
    both sides
        wire.py            the boundary's data format: JSON plus raw arrays, no pickle
    untrusted (inside the sandbox, next to student code)
        worker.py          imports the student's files and answers the harness's calls
"""
