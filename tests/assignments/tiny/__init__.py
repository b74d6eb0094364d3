"""A second, tiny assignment: one solution cell, one check.

It proves the core grades an assignment it has never heard of: the tests
point AUTOGRADER_ASSIGNMENTS at tests/assignments and grade it end to end,
with no line of the core naming it.
"""
from pathlib import Path

import numpy as np

from autograder.assignment import Assignment
from autograder.check.registry import Fail, Registry, as_array, close
from autograder.model import CoreMistake

HERE = Path(__file__).resolve().parent
REGISTRY = Registry()


@REGISTRY.check("test_double", target="double")
def check_double(student):
    """double(x) returns 2 * x for 1-D and 2-D arrays."""
    xs = [np.arange(3.0), np.linspace(-1, 1, 6).reshape(2, 3)]
    for x, out in zip(xs, student.call("double", [(x,) for x in xs])):
        got = as_array(out, f"double(x) for x of shape {x.shape}", x.shape)
        if not close(got, 2 * x):
            raise Fail(f"double(x) for x of shape {x.shape} is wrong", "halved"
                       if close(got, x / 2) else None)


ASSIGNMENT = Assignment(
    name="tiny",
    source=HERE / "source" / "tiny.ipynb",
    release=HERE / "release" / "tiny.ipynb",
    solution_ids=("double",),
    checks=REGISTRY,
    hints={"halved": "You divided by 2: double means multiply by 2.",
           CoreMistake.NOT_IMPLEMENTED: "double is not written yet."},
    package_dir=HERE,
)
