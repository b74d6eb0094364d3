"""The reference notebook (nbgrader source) runs top to bottom and reproduces.

`pytest --nbval` re-executes every cell and compares the outputs with the ones
stored in the notebook (cells marked `# NBVAL_IGNORE_OUTPUT`, i.e. timings and
relative errors, are run but not compared), so a change in a seed, a helper
module or a dependency that moves a printed loss or accuracy fails here.
"""
import os
import re
import subprocess
import sys

import nbformat
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
NOTEBOOK_DIR = os.path.join(ROOT, "solutions", "softmax")
NOTEBOOK = os.path.join(NOTEBOOK_DIR, "softmax.ipynb")

SOLUTION_IDS = ["softmax", "softmax_backward", "cross_entropy_error", "SoftmaxWithLoss",
                "softmax_loss_naive", "softmax_loss_vectorized"]
TEST_POINTS = {
    "test_softmax": 2, "test_softmax_backward": 2, "test_cross_entropy_error": 2,
    "test_SoftmaxWithLoss": 2, "test_softmax_loss_naive_loss": 2,
    "test_softmax_loss_naive_grad": 2, "test_softmax_loss_vectorized_loss": 2,
    "test_softmax_loss_vectorized_grad": 2, "test_softmax_loss_vectorized_stable": 2,
    "test_softmax_loss_vectorized_speed": 2,
}


def _env():
    # nbgrader/jupyter helpers are found next to the interpreter, activated or not.
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    # Small matrices: several BLAS threads on a busy 2-core runner only add noise
    # to the timed cells (the notebook also limits them with threadpoolctl).
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    return env


def _cells():
    return nbformat.read(NOTEBOOK, as_version=4).cells


def test_notebook_cells_follow_the_contract():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    grade_ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                 if "nbgrader" in c.metadata]
    assert len(grade_ids) == len(set(grade_ids)), "nbgrader grade_ids must be unique"
    solutions = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
                 if c.metadata.get("nbgrader", {}).get("solution")}
    assert list(solutions) == SOLUTION_IDS
    for name, cell in solutions.items():
        assert cell.cell_type == "code"
        assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
        assert re.search(rf"^(def|class) {name}\b", cell.source, re.M), name
        assert not re.search(r"^\s*(import|from)\s", cell.source, re.M), \
            f"{name}: solution cells may use only np"
    graded = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
              if c.metadata.get("nbgrader", {}).get("grade")}
    assert {k: c.metadata["nbgrader"]["points"] for k, c in graded.items()} == TEST_POINTS
    for gid, cell in graded.items():
        assert cell.metadata["nbgrader"]["locked"] is True
        hidden = ("### BEGIN HIDDEN TESTS\nfrom autograder.hidden import check\n"
                  f'check("{gid}", globals())\n### END HIDDEN TESTS')
        assert cell.source.endswith(hidden), gid
        assert "assert " in cell.source.split("### BEGIN HIDDEN TESTS")[0], \
            f"{gid} needs visible checks"


def test_notebook_is_saved_with_outputs():
    cells = [c for c in _cells() if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in cells), \
        "run `jupyter nbconvert --to notebook --execute --inplace` and save the outputs"
    assert not any(o.output_type == "error" for c in cells for o in c.outputs)


@pytest.mark.slow
def test_reference_notebook_passes_nbval():
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", NOTEBOOK, "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


@pytest.mark.slow
def test_reference_notebook_trains_a_good_classifier():
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": NOTEBOOK_DIR}}).execute()
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                     for o in c.outputs)
    val = re.findall(r"^validation accuracy: ([0-9.]+)$", text, re.M)
    assert val, "the notebook no longer prints its final validation accuracy"
    assert float(val[-1]) >= 0.90
