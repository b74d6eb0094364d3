"""autograder.submissions.nbcells gives nbgrader's own answers without importing nbgrader."""
import copy
import json

import nbformat
import pytest
from nbgrader.utils import compute_checksum, is_grade, is_locked, is_solution

from autograder.submissions import nbcells as cells
from autograder.assignments.softmax import ASSIGNMENT

from tests.conftest_paths import TINY


def notebooks():
    return [ASSIGNMENT.source, ASSIGNMENT.release, TINY / "source" / "tiny.ipynb",
            TINY / "release" / "tiny.ipynb"]


def variants(raw):
    """The notebook's own cells, then edited copies a student could make."""
    yield from raw
    for cell in raw:
        if cells.grade_id(cell):
            edited = copy.deepcopy(cell)
            edited["source"] = cells.source(edited) + "\n# edited"
            yield edited
            relabelled = copy.deepcopy(cell)
            relabelled["metadata"]["nbgrader"]["points"] = 99
            relabelled["metadata"]["nbgrader"]["grade"] = True
            yield relabelled
            as_lines = copy.deepcopy(cell)
            as_lines["source"] = cells.source(cell).splitlines(True)
            yield as_lines


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_same_answers_as_nbgrader(path):
    raw = json.loads(path.read_text())["cells"]
    compared = 0
    for cell in variants(raw):
        node = nbformat.from_dict(cell)
        node.source = cells.source(cell)     # as nbformat.read joins a list of lines
        if "nbgrader" in node.metadata:
            assert cells.is_grade(cell) == bool(is_grade(node))
            assert cells.is_solution(cell) == bool(is_solution(node))
            assert cells.is_locked(cell) == bool(is_locked(node))
        if cells.grade_id(cell):
            assert cells.checksum(cell) == compute_checksum(node)
            compared += 1
    assert compared > 0


@pytest.mark.parametrize("metadata", [{}, {"nbgrader": "x"}, {"nbgrader": {"grade": True}},
                                      {"nbgrader": {"grade_id": 3}},
                                      {"nbgrader": {"grade_id": "t", "grade": True,
                                                    "points": "lots"}}])
def test_unusable_metadata_has_no_checksum(metadata):
    cell = {"cell_type": "code", "source": "x = 1", "metadata": metadata}
    assert cells.checksum(cell) is None
