"""Hidden graded tests: run by the grader, never released to students."""
