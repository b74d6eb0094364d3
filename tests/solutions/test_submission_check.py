"""check_submission: the check cells say, before submitting, what the grader will not have."""
import json

import nbformat
import pytest

from autograder.assignments.softmax import ASSIGNMENT
from autograder.assignments.softmax.samples import build, reference_cells, write
from autograder.release.notebooks import RULES, RULES_COPY

import submission_check

EXERCISES = ("softmax", "softmax_backward", "cross_entropy_error", "SoftmaxWithLoss",
             "softmax_loss_naive", "softmax_loss_vectorized")


def cells(nb):
    return json.loads(nbformat.writes(nb))["cells"]


def runtime_constant():
    """A helper constant set from the data (`dtype = X_train.dtype`): passes every check
    in the notebook, and the grader cannot run it."""
    src = reference_cells()["softmax_loss_vectorized"].replace(
        "def softmax_loss_vectorized(W, X, y, reg):\n",
        "def softmax_loss_vectorized(W, X, y, reg):\n    W = W.astype(dtype)\n", 1)
    nb = build({"softmax_loss_vectorized": src})
    data = next(i for i, c in enumerate(nb.cells) if "load_digits_split(" in c.source)
    nb.cells.insert(data + 1, nbformat.v4.new_code_cell("dtype = X_train.dtype\n"))
    return nb


def test_the_students_copy_is_the_graders_rule():
    assert (ASSIGNMENT.source.parent / RULES_COPY).read_bytes() == RULES.read_bytes()
    assert (ASSIGNMENT.release.parent / RULES_COPY).read_bytes() == RULES.read_bytes()


@pytest.mark.parametrize("notebook", ["source", "release", "filled"])
def test_nothing_to_say_about_notebooks_the_grader_runs_whole(notebook):
    nb = {"source": lambda: nbformat.read(str(ASSIGNMENT.source), as_version=4),
          "release": lambda: nbformat.read(str(ASSIGNMENT.release), as_version=4),
          "filled": build}[notebook]()
    for name in EXERCISES:
        assert submission_check.unavailable(name, cells(nb)) == {}, name


def test_a_constant_from_running_code_is_named_with_its_cell():
    found = submission_check.unavailable("softmax_loss_vectorized", cells(runtime_constant()))
    assert list(found) == ["dtype"]
    assert "`dtype = X_train.dtype`" in found["dtype"] and "X_train" in found["dtype"]
    assert submission_check.unavailable("softmax", cells(runtime_constant())) == {}


def test_the_check_cell_fails_in_the_notebooks_folder(tmp_path, monkeypatch):
    write(tmp_path, "me", runtime_constant())
    monkeypatch.chdir(tmp_path / "me")
    submission_check.check_submission("softmax")               # nothing to say
    with pytest.raises(AssertionError) as e:
        submission_check.check_submission("softmax_loss_vectorized")
    assert "works here but not when graded (softmax.ipynb as last saved)" in str(e.value)
    assert all(len(line) <= 200 for line in str(e.value).splitlines())
    monkeypatch.chdir(tmp_path)                                 # no notebook: the grader's jail
    submission_check.check_submission("softmax_loss_vectorized")


def test_magic_cells_are_read_as_the_grader_reads_them():
    src = "def softmax(x):\n    return _n(np.exp(x))\n"
    for helper, lacking in (("%%time\ndef _n(e):\n    return e / e.sum()\n", False),
                            ("_n = lambda e: e / e.sum()\n", True),
                            ("%%capture\n%%time\ndef _n(e):\n    return e\n", False),
                            ("%%timeit\n_n = len(X_train)\n", False),
                            ("_n = make_normaliser()\n%time 1\n", True)):
        nb = build({"softmax": src})
        nb.cells.insert(3, nbformat.v4.new_code_cell(helper))
        assert bool(submission_check.unavailable("softmax", cells(nb))) == lacking, helper
