"""Where the softmax assignment's notebooks are: the nbgrader source and the student release.

A leaf of the package: `__init__` (the Assignment) and `samples` (which fill the
release in) both read these paths here, so neither imports the other.
"""
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
SOURCE = REPO / "solutions" / "softmax" / "softmax.ipynb"
RELEASE = REPO / "assignments" / "softmax" / "softmax.ipynb"
