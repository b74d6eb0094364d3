"""What Validate (Restart & Run All) accepts, the grader accepts: notebooks written the
ways IPython allows, graded end to end."""
import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.assignments.softmax import ASSIGNMENT

from autograder.assignments.softmax.samples import build, reference_cells, write

pytestmark = pytest.mark.slow

REF = reference_cells()


def with_helper_cell(overrides, helper, before="softmax"):
    """The release filled in, with `helper` as a new code cell above the exercise cell."""
    nb = build(overrides)
    at = next(i for i, c in enumerate(nb.cells)
              if c.metadata.get("nbgrader", {}).get("grade_id") == before)
    nb.cells.insert(at, nbformat.v4.new_code_cell(helper))
    return nb


STAR_SOFTMAX = ("def softmax(x):\n    e = exp(x - x.max(axis=-1, keepdims=True))\n"
                "    return e / e.sum(axis=-1, keepdims=True)\n")
# A helper's constant that comes from running code (the data), which the grader cannot run.
RUNTIME_CONSTANT = REF["softmax_loss_vectorized"].replace(
    "def softmax_loss_vectorized(W, X, y, reg):\n",
    "def softmax_loss_vectorized(W, X, y, reg):\n    W = W.astype(dtype)\n", 1)
assert RUNTIME_CONSTANT != REF["softmax_loss_vectorized"]


def runtime_constant():
    nb = build({"softmax_loss_vectorized": RUNTIME_CONSTANT})
    data = next(i for i, c in enumerate(nb.cells) if "load_digits_split(" in c.source)
    nb.cells.insert(data + 1, nbformat.v4.new_code_cell("dtype = X_train.dtype\n"))
    return nb


CORRECT = {
    "helper-module-in-exercise": lambda: build(
        {"softmax": "from gradient_check import *\nfrom timing import time_function\n"
                    + REF["softmax"]}),
    "helper-module-import-used": lambda: build(
        {"softmax": "def softmax(x):\n    e = np.exp(x - x.max(axis=-1, keepdims=True))\n"
                    "    assert rel_error(e, e) == 0\n    return e / e.sum(axis=-1, keepdims=True)\n"}),
    "star-own-cell": lambda: with_helper_cell({"softmax": STAR_SOFTMAX}, "from numpy import *\n"),
    "magic-time": lambda: build({"softmax": "%%time\n" + REF["softmax"]}),
    "magic-nested": lambda: build({"softmax_loss_vectorized": "%%capture\n%%time\n"
                                   + REF["softmax_loss_vectorized"]}),
    "magic-helper": lambda: with_helper_cell(
        {"softmax": "def softmax(x):\n    return _normalise(np.exp(x - x.max(-1, keepdims=True)))\n"},
        "%%time\ndef _normalise(e):\n    return e / e.sum(-1, keepdims=True)\n"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from .conftest import read_grades, run_grader
    subs = tmp_path_factory.mktemp("subs")
    for sid, make in CORRECT.items():
        write(subs, sid, make())
    write(subs, "runtime-constant", runtime_constant())
    write(subs, "perfect", build())
    out = tmp_path_factory.mktemp("out")
    r = run_grader("grade", subs, "--out", out, "--no-progress", "--jobs", "2")
    assert r.returncode == 0, r.stderr[-3000:]
    return out, read_grades(out)


@pytest.mark.parametrize("sid", sorted(CORRECT))
def test_correct_work_written_as_ipython_allows_gets_full_marks(graded, sid):
    _, grades = graded
    row, perfect = grades[sid], grades["perfect"]
    assert row["flags"] == "" and row["score"] == perfect["score"] == perfect["max_score"], row


def test_a_name_the_grader_lacks_is_the_cause_named_with_no_formula_hint(graded):
    out, grades = graded
    with open(out / "mistakes.csv", newline="") as f:
        lost = [r for r in csv.DictReader(f) if r["student_id"] == "runtime-constant"]
    assert lost and {r["mistake"] for r in lost} == {"name_the_grader_lacks"}, lost
    page = (out / "feedback" / "runtime-constant" / "softmax.html").read_text()
    assert "`dtype` is set in cell" in page and "X_train" in page
    assert "The loss is off" not in page and "dW is off" not in page


def test_validate_tells_the_student_before_submitting(tmp_path):
    """The helper whose constant comes from running code: Validate (as JupyterLab's button
    runs it, with the student configuration only) fails, naming the name and its cell."""
    folder = tmp_path / "softmax"
    shutil.copytree(ASSIGNMENT.release.parent, folder)
    write(tmp_path / "w", "me", runtime_constant())
    shutil.copy(tmp_path / "w" / "me" / "softmax.ipynb", folder / "softmax.ipynb")
    repo = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_")}
    env.update(HOME=str(tmp_path), JUPYTER_CONFIG_DIR=str(repo / "student-config"),
               PATH=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""))
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "validate", "softmax.ipynb"],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout
    assert "softmax_loss_vectorized works here but not when graded" in out, out[-3000:]
    assert "`dtype = X_train.dtype`" in out and "Success!" not in out, out[-3000:]
