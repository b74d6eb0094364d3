"""Build sample submissions from the student release.

A sample is the release notebook with some solution cells filled in: with
the reference solutions of the source notebook ("perfect"), with nothing
("blank"), or with a typical mistake, another correct style, or an attack.
"""
from pathlib import Path

import nbformat

from autograder.submissions.nbcells import is_solution
from ..notebooks import RELEASE, SOURCE
from .mistakes import DEMO, MISTAKES
from .styles import STYLES

MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def reference_cells(source=SOURCE):
    """{solution id: the source notebook's cell with the solution markers removed}."""
    nb = nbformat.read(str(source), as_version=4)
    cells = {}
    for cell in nb.cells:
        if "nbgrader" in cell.metadata and is_solution(cell):
            lines = [ln for ln in cell.source.splitlines() if ln.strip() not in MARKERS]
            cells[cell.metadata.nbgrader["grade_id"]] = "\n".join(lines)
    return cells


def build(overrides=None, perfect=True, release=RELEASE):
    """The release notebook with solution cells filled in."""
    nb = nbformat.read(str(release), as_version=4)
    fill = dict(reference_cells()) if perfect else {}
    fill.update(overrides or {})
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in fill and is_solution(cell):
            cell.source = fill[gid].strip("\n")
    return nb


def mistake_overrides(name):
    cell_id, source, _test, _mistake = MISTAKES[name]
    return {cell_id: source}


def write(folder, student_id, nb):
    path = Path(folder) / student_id / "softmax.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def write_samples(folder, names=DEMO):
    """The demo set: a perfect, a blank and a few typical mistakes."""
    write(folder, "perfect", build())
    write(folder, "blank", build(perfect=False))
    for name in names:
        write(folder, name.replace("_", "-"), build(mistake_overrides(name)))
    for name, overrides in list(STYLES.items())[:1]:
        write(folder, f"style-{name}".replace("_", "-"), build(overrides))
