"""The checks of the student's notebook: each test cell as released, in a jail of its own."""
import json
import re

import pytest

from autograder.assignment import load_spec
from autograder.assignments.softmax import ASSIGNMENT
from autograder.assignments.softmax.samples import build, mistake_overrides, write
from autograder.submissions.notebook import StudentCode, read_submission
from autograder.check import notebook_checks
from autograder.sandbox import bwrap_available
from tests.autograder.helpers import jail

UNSAFE = not bwrap_available()
SPEC = load_spec(ASSIGNMENT)
SUITE = notebook_checks.suite(ASSIGNMENT.release)


def _run(tmp_path, nb, name="s"):
    code = read_submission(write(tmp_path, name, nb), SPEC)
    return notebook_checks.run(code, SUITE, jail=jail(unsafe=UNSAFE))


def test_the_suite_is_the_release_and_its_helpers_only():
    assert [gid for gid, _ in SUITE.tests] == [t.grade_id for t in SPEC.tests]
    # What the test cells use from the release's import cell, nothing else.
    assert SUITE.imports.splitlines() == [
        "import numpy as np", "from gradient_check import eval_numerical_gradient, rel_error",
        "from timing import time_function", "from submission_check import check_submission"]
    everything = SUITE.helpers + SUITE.imports + "".join(src for _, src in SUITE.tests)
    for secret in ("autograder", "HIDDEN TESTS", "check("):
        assert secret not in everything
    # As a word: symtable's `is_referenced` (grader_definitions.py) is no secret.
    assert not re.search(r"\breference\b", everything)


def test_the_hidden_checks_get_the_suites_helpers_without_reading_a_cell():
    import subprocess
    import sys
    assert notebook_checks.helpers(ASSIGNMENT.release) == SUITE.helpers
    # The release's test cells end comments with "?", which IPython's transform reads:
    # the helpers alone (all a run without notebook checks needs) never import it.
    probe = ("import sys; from autograder.check import notebook_checks as n; "
             "from autograder.assignments.softmax import ASSIGNMENT as a; "
             "n.helpers(a.release); print('IPython' in sys.modules); "
             "n.suite(a.release); print('IPython' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "True"]


def test_a_perfect_notebook_passes_every_check_cell(tmp_path):
    results, flags = _run(tmp_path, build())
    assert [(r.grade_id, r.passed, r.message) for r in results] == \
        [(t.grade_id, True, "") for t in SPEC.tests]
    assert flags == []


def test_a_failed_assert_comes_back_whole_as_the_check_cell_shows_it(tmp_path):
    results, _ = _run(tmp_path, build(mistake_overrides("vectorized_sign")))
    failed = {r.grade_id: r.message for r in results if not r.passed}
    assert set(failed) == {"test_softmax_loss_vectorized_grad"}
    message = failed["test_softmax_loss_vectorized_grad"]
    assert message.startswith("AssertionError: for the hand-checked example dW should be\n")
    assert "dW = (P - Y) @ X.T / N + reg * W." in message


def test_an_edited_test_cell_is_run_as_released(tmp_path):
    nb = build(mistake_overrides("softmax_no_max"))
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_softmax":
            cell.source = "print('all good')\n"
    results, _ = _run(tmp_path, nb)
    first = results[0]
    assert first.grade_id == "test_softmax" and not first.passed
    assert "subtract the maximum score before np.exp" in first.message


def test_nothing_is_run_without_a_notebook():
    code = StudentCode(problem="no softmax.ipynb was found", flags={"missing_notebook"})
    results, flags = notebook_checks.run(code, SUITE, jail=jail(unsafe=UNSAFE))
    assert all(not r.passed and r.message.startswith("not run: no softmax.ipynb")
               for r in results) and flags == []


@pytest.mark.parametrize("body, words", [
    ("    import os\n    os._exit(3)\n", "stopped by the grader: crash"),
    ("    import os\n    os.kill(os.getpid(), 0)\n    e = np.exp(x - x.max(-1, keepdims=True))\n"
     "    return e / e.sum(-1, keepdims=True)\n", "not allowed (os.kill)"),
    ("    raise ValueError('x' * 5000)\n", "ValueError: xxx"),
])
def test_what_student_code_does_is_that_check_cells_failure(tmp_path, body, words):
    nb = build({"softmax": f"def softmax(x):\n{body}"})
    results, _ = _run(tmp_path, nb)
    assert not results[0].passed and words in results[0].message
    assert len(results[0].message) < 3000
    json.dumps([r.__dict__ for r in results])
