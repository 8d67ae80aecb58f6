"""Tests for instructor/grading/points.py's own messages (left out of the kit)."""

from __future__ import annotations

import pytest

from instructor import REPO_ROOT
from instructor.grading import points


def test_a_table_that_does_not_fit_names_the_file_to_edit(monkeypatch):
    with pytest.raises(points.PointsError) as unmatched:
        points.assign_points(["tests/test_nothing.py::test_unknown"])
    monkeypatch.setattr(points, "POINTS", [*points.POINTS, ("tests/x.py::*", 1, "one point too many")])
    with pytest.raises(points.PointsError) as too_many:
        points.assign_points([])
    for error in (unmatched, too_many):
        named = str(error.value).split()[0].rstrip(":")
        assert named == "instructor/grading/points.py", str(error.value)
        assert (REPO_ROOT / named).is_file()
