"""The unchanged core grades an assignment it has never heard of (tests/assignments/tiny)."""
import ast
import json
import os
from pathlib import Path

import nbformat
import pytest

from ..conftest_paths import ASSIGNMENTS, REPO, TINY
from .conftest import read_grades, run_grader

pytestmark = pytest.mark.slow


def tiny_notebook(body):
    nb = nbformat.read(str(TINY / "release" / "tiny.ipynb"), as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "double" and body is not None:
            cell.source = body
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    subs = tmp_path_factory.mktemp("tiny-subs")
    for sid, body in {"right": "def double(x):\n    return x + x",
                      "halved": "def double(x):\n    return x / 2",
                      "blank": None}.items():
        (subs / sid).mkdir()
        nbformat.write(tiny_notebook(body), str(subs / sid / "tiny.ipynb"))
    out = tmp_path_factory.mktemp("tiny-out")
    os.environ["AUTOGRADER_ASSIGNMENTS"] = str(ASSIGNMENTS)
    try:
        r = run_grader("grade", subs, "--out", out, "--assignment", "tiny", "--no-progress")
    finally:
        del os.environ["AUTOGRADER_ASSIGNMENTS"]
    assert r.returncode == 0, r.stderr[-3000:]
    return out, read_grades(out)


def test_scores_of_the_second_assignment(graded):
    out, grades = graded
    assert {sid: row["score"] for sid, row in grades.items()} == \
        {"right": "3", "halved": "0", "blank": "0"}
    assert list(grades["right"])[4:] == ["test_double"]
    result = json.loads((out / "gradescope" / "halved" / "results.json").read_text())
    assert "multiply by 2" in result["tests"][0]["output"]
    assert (out / "feedback" / "right" / "tiny.html").exists()


def test_an_unknown_assignment_is_one_line(tmp_path):
    (tmp_path / "subs" / "a").mkdir(parents=True)
    r = run_grader("grade", tmp_path / "subs", "--out", tmp_path / "out", "--assignment", "svm")
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "svm" in r.stderr and "softmax" in r.stderr


def core_identifiers():
    """(file, word) for every identifier and non-docstring string in the core's code."""
    core = REPO / "autograder"
    for path in sorted(core.rglob("*.py")):
        if (core / "assignments") in path.parents:
            continue
        tree = ast.parse(path.read_text())
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef,
                                        ast.AsyncFunctionDef))
                      and n.body and isinstance(n.body[0], ast.Expr)
                      and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and id(node) not in docstrings:
                yield path.relative_to(REPO), node.value
            elif isinstance(node, ast.Name):
                yield path.relative_to(REPO), node.id
            elif isinstance(node, ast.Attribute):
                yield path.relative_to(REPO), node.attr
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.arg)):
                yield path.relative_to(REPO), getattr(node, "name", None) or node.arg


def test_the_core_names_no_assignment():
    named = sorted({f"{p}: {w!r}" for p, w in core_identifiers()
                    if "softmax" in str(w).lower() or "tiny" in str(w).lower()})
    assert named == []
