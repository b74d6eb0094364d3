"""What is graded, read from the nbgrader source and release notebooks.

The source notebook (solutions/) gives the test cells and their points; the
release (assignments/) gives the checksums nbgrader stamped on the locked
cells, against which a submission's test cells are compared.
"""
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.utils import compute_checksum, is_grade, is_solution

from .checks import CHECKS

REPO = Path(__file__).resolve().parents[1]
NAME = "softmax"
SOURCE = REPO / "solutions" / NAME / f"{NAME}.ipynb"
RELEASE = REPO / "assignments" / NAME / f"{NAME}.ipynb"
SOLUTION_IDS = ("softmax", "softmax_backward", "cross_entropy_error", "SoftmaxWithLoss",
                "softmax_loss_naive", "softmax_loss_vectorized")


@dataclass(frozen=True)
class TestCell:
    __test__ = False   # not a pytest test class

    grade_id: str
    points: float
    checksum: str     # of the released cell, as nbgrader computes it


@dataclass(frozen=True)
class Spec:
    name: str
    solution_ids: tuple
    tests: tuple      # TestCell, in notebook order

    @property
    def max_score(self):
        return sum(t.points for t in self.tests)

    def test(self, grade_id):
        return next(t for t in self.tests if t.grade_id == grade_id)


def load_spec(source=SOURCE, release=RELEASE):
    """The Spec of the assignment; fails loudly if notebook and checks disagree."""
    src = nbformat.read(str(source), as_version=4)
    rel = nbformat.read(str(release), as_version=4)
    released = {c.metadata.nbgrader["grade_id"]: c for c in rel.cells
                if "nbgrader" in c.metadata and is_grade(c)}
    tests = []
    for cell in src.cells:
        if "nbgrader" in cell.metadata and is_grade(cell) and cell.cell_type == "code":
            gid = cell.metadata.nbgrader["grade_id"]
            if gid not in CHECKS:
                raise RuntimeError(f"test cell {gid} has no check in autograder.checks")
            if gid not in released:
                raise RuntimeError(f"test cell {gid} is missing from {release}: run `make release`")
            tests.append(TestCell(gid, float(cell.metadata.nbgrader["points"]),
                                  compute_checksum(released[gid])))
    solutions = tuple(c.metadata.nbgrader["grade_id"] for c in src.cells
                      if "nbgrader" in c.metadata and is_solution(c))
    if solutions != SOLUTION_IDS:
        raise RuntimeError(f"solution cells {solutions} differ from {SOLUTION_IDS}")
    return Spec(NAME, solutions, tuple(tests))
