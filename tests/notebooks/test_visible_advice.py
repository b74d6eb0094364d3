"""A visible check's advice names the same cause as the grader's hint for the same code."""
import sys

import nbformat
import pytest

from autograder.assignments.softmax import ASSIGNMENT
from autograder.assignments.softmax.mistakes import HINTS
from autograder.assignments.softmax.samples.mistakes import MISTAKES
from tests.autograder.helpers import namespace_with

_, WRONG_AXIS, _, HINT = MISTAKES["vectorized_wrong_axis"]     # max and sum over axis 1
VARIANTS = {
    "max and sum over axis 1": WRONG_AXIS,
    "max over axis 1": WRONG_AXIS.replace("sum(axis=1", "sum(axis=0"),
    "sum over axis 1": WRONG_AXIS.replace("max(axis=1", "max(axis=0"),
}


def visible_failure(test_id, source):
    """The AssertionError message of the visible part of a check cell, or None."""
    sys.path.insert(0, str(ASSIGNMENT.source.parent))
    try:
        from gradient_check import eval_numerical_gradient, rel_error
    finally:
        sys.path.pop(0)
    nb = nbformat.read(str(ASSIGNMENT.source), as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == test_id)
    ns = namespace_with({"softmax_loss_vectorized": source})
    ns.update(eval_numerical_gradient=eval_numerical_gradient, rel_error=rel_error)
    try:
        exec(cell.source.split("### BEGIN HIDDEN TESTS")[0], ns)
    except AssertionError as e:
        return str(e)
    return None


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_wrong_axis_gets_the_graders_advice(variant, capsys):
    assert HINT == "loss_wrong_axis" and "axis 0" in HINTS[HINT] and "axis 1" in HINTS[HINT]
    message = visible_failure("test_softmax_loss_vectorized_loss", VARIANTS[variant])
    assert message is not None, variant
    assert "over the classes of" in message and "axis 0" in message \
        and "not axis 1" in message, message
    # Every line fits Validate's width (student-config/nbgrader_config.py: 250).
    assert all(len("    AssertionError: " + line) <= 247 for line in message.splitlines())
