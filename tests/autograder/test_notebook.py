"""Reading a submission: only solution cells run; changed test cells are tampering."""
import nbformat

from autograder.assignment import load_spec
from autograder.assignments.softmax import ASSIGNMENT
from autograder.notebook import read_submission
from autograder.assignments.softmax.samples import build, write

SPEC = load_spec(ASSIGNMENT)


def read(tmp_path, nb):
    return read_submission(write(tmp_path, "s", nb), SPEC)


def test_clean_submission_gives_six_cells_and_no_flags(tmp_path):
    code = read(tmp_path, build())
    assert [name for name, _ in code.cells] == list(SPEC.solution_ids)
    assert code.tampered == {} and code.flags == set()


def test_edited_deleted_or_relabelled_test_cells_are_tampering(tmp_path):
    nb = build()
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    by_id["test_softmax"].source += "\nprint('ok')"
    by_id["test_cross_entropy_error"].metadata.nbgrader["points"] = 50
    nb.cells.remove(by_id["test_softmax_backward"])
    code = read(tmp_path, nb)
    assert set(code.tampered) == {"test_softmax", "test_cross_entropy_error",
                                  "test_softmax_backward"}
    assert "tampering" in code.flags


def test_copy_pasted_solution_cell_uses_the_last_one(tmp_path):
    nb = build()
    i = next(i for i, c in enumerate(nb.cells)
             if c.metadata.get("nbgrader", {}).get("grade_id") == "softmax")
    dup = nbformat.from_dict(nb.cells[i])
    dup.source = "def softmax(x):\n    return 'second'\n"
    nb.cells.insert(i + 1, dup)
    code = read(tmp_path, nb)
    assert "return 'second'" in dict(code.cells)["softmax"]
    assert code.flags == set()


def test_magics_become_harmless_python(tmp_path):
    nb = build()
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") == "softmax":
            c.source = "%timeit 1 + 1\n" + c.source
    src = dict(read(tmp_path, nb).cells)["softmax"]
    compile(src, "<cell>", "exec")        # valid Python now


def test_missing_and_broken_notebooks(tmp_path):
    assert read_submission(None, SPEC).flags == {"missing_notebook"}
    bad = tmp_path / "bad.ipynb"
    bad.write_text("not json at all")
    code = read_submission(bad, SPEC)
    assert code.flags == {"invalid_notebook"} and "could not be read" in code.problem
