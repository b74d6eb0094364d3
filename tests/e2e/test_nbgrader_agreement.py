"""Plain `nbgrader autograde` (hidden checks in the kernel) agrees with the CLI."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.assignment import load_spec
from autograder.assignments.softmax import ASSIGNMENT, REPO
from autograder.assignments.softmax.samples import build, mistake_overrides, write
from autograder.assignments.softmax.samples.styles import STYLES

from .conftest import read_grades, run_grader

pytestmark = pytest.mark.slow

SAMPLES = {
    "perfect": lambda: build(),
    "reg-2x": lambda: build(mistake_overrides("naive_reg_2x")),
    "loop": lambda: build(mistake_overrides("vectorized_loop")),
    "blank": lambda: build(perfect=False),
    "styles": lambda: build({**STYLES["naive_double_loop"], **STYLES["onehot_transposed"]}),
}


def nbgrader_scores(course, subs):
    """{student: {test id: score}} from `nbgrader autograde` in a fresh course."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    shutil.copytree(REPO / "solutions", course / "source")
    common = [f"--CourseDirectory.root={course}",
              f"--CourseDirectory.db_url=sqlite:///{course}/gradebook.db",
              "--CourseDirectory.source_directory=source",
              "--CourseDirectory.release_directory=release", "--log-level=ERROR"]
    for step in (["generate_assignment", "softmax", "--force"], ["autograde", "softmax", "--create"]):
        if step[0] == "autograde":
            for sid in SAMPLES:
                dest = course / "submitted" / sid / "softmax"
                dest.mkdir(parents=True)
                shutil.copy(subs / sid / "softmax.ipynb", dest / "softmax.ipynb")
                for helper in (REPO / "solutions" / "softmax").glob("*.py"):
                    shutil.copy(helper, dest / helper.name)
        subprocess.run([sys.executable, "-m", "nbgrader", *step, *common], check=True,
                       cwd=course, env=env, capture_output=True, timeout=600)
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        return {sid: {t.grade_id: gb.find_grade(t.grade_id, "softmax", "softmax", sid).score
                      for t in load_spec(ASSIGNMENT).tests} for sid in SAMPLES}


def test_nbgrader_autograde_gives_the_same_points(tmp_path):
    subs = tmp_path / "subs"
    for sid, make in SAMPLES.items():
        write(subs, sid, make())
    r = run_grader("grade", subs, "--out", tmp_path / "out", "--no-progress")
    assert r.returncode == 0, r.stderr[-2000:]
    ours = read_grades(tmp_path / "out")
    theirs = nbgrader_scores(tmp_path / "course", subs)
    for sid in SAMPLES:
        assert {t: float(ours[sid][t]) for t in theirs[sid]} == theirs[sid], sid
