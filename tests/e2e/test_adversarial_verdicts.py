"""Issue 15, class 6: nothing a student sees at once depends on a hidden verdict.

Each attack is the perfect notebook whose vectorized loss misbehaves only once it
sees an input the notebook's own checks never use (two different triggers, see
adversarial/verdicts.py): it floods the output, trips the tamper watch, crashes,
runs out of memory or returns an odd value. Graded as Gradescope grades it
(`gradescope run` on a folder standing for /autograder, the repository's default
gradescope.toml), what is shown at once (the top-level output and every entry
visible now) must be byte for byte that of the perfect notebook, while the hidden
entries show that the attack did fire.
"""
import json
import shutil

import pytest

from autograder.assignments.softmax.samples import build, write
from autograder.gradescope.run import run

from .adversarial.verdicts import LEAK

pytestmark = pytest.mark.slow


def _grade(tmp_path, name, cells=None):
    root = tmp_path / name
    (root / "submission").mkdir(parents=True)
    nb = write(tmp_path / "nb", name, build(cells))
    shutil.copy(nb, root / "submission" / "softmax.ipynb")
    (root / "submission_metadata.json").write_text("{}")
    run(root)
    return json.loads((root / "results" / "results.json").read_text())


def shown_now(doc):
    """Everything a student sees before the due date: the bytes to compare."""
    return json.dumps([doc["output"]] + [t for t in doc["tests"] if t["visibility"] == "visible"],
                      sort_keys=True)


def shown_late(doc):
    return json.dumps([t for t in doc["tests"] if t["visibility"] != "visible"], sort_keys=True)


@pytest.fixture(scope="module")
def perfect(tmp_path_factory):
    return _grade(tmp_path_factory.mktemp("leak"), "perfect")


def test_the_notebook_checks_are_shown_at_once(perfect):
    now = [t for t in perfect["tests"] if t["visibility"] == "visible"]
    assert now and all(t["tags"][1] == "notebook" and t["status"] == "passed" for t in now)
    assert "Checks in your notebook: 10 of 10 test cells pass." in perfect["output"]


@pytest.mark.parametrize("name", sorted(LEAK))
def test_what_is_shown_at_once_does_not_depend_on_hidden_inputs(tmp_path, perfect, name):
    doc = _grade(tmp_path, name, LEAK[name])
    assert shown_late(doc) != shown_late(perfect), f"{name}: the attack never fired"
    assert shown_now(doc) == shown_now(perfect), (doc["output"], perfect["output"])
