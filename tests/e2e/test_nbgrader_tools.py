"""nbgrader's own tools on the grader's output, as an instructor and a student use them.

OUT is an nbgrader course root: `nbgrader export` writes its own CSV and leaves
ours alone, formgrader (a real `jupyter server`) shows each submission with our
scores and hints, and feedback goes back to a student through nbgrader's
exchange (`generate_feedback`, `release_feedback`, the student's
`fetch_feedback`). `nbgrader validate` shows a check's whole message.
"""
import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from autograder.assignments.softmax import ASSIGNMENT, REPO
from autograder.assignments.softmax.samples import build, mistake_overrides, write

from .conftest import read_grades, run_grader

pytestmark = pytest.mark.slow

SAMPLES = {"perfect": lambda: build(), "no-max": lambda: build(mistake_overrides("softmax_no_max")),
           "blank": lambda: build(perfect=False)}


@pytest.fixture(scope="module", autouse=True)
def home(tmp_path_factory):
    """A HOME of the tests' own: nbgrader's submit keeps a copy of each submission in
    the user's data folder (nbgrader_cache), where the real user's Assignment List
    would list it."""
    path = tmp_path_factory.mktemp("home")
    _HOME["path"] = path
    yield path
    _HOME.clear()


_HOME = {}


def nbgrader(*args, cwd, check=True):
    """The venv's nbgrader, run as an instructor types it (in `cwd`), with the tests' HOME."""
    home = _HOME["path"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_")}
    env.update(PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
               HOME=str(home), JUPYTER_DATA_DIR=str(home / ".local" / "share" / "jupyter"))
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tools")
    subs = tmp / "subs"
    for sid, make in SAMPLES.items():
        write(subs, sid, make())
    (subs / "no-notebook").mkdir()
    out = tmp / "out"
    r = run_grader("grade", subs, "--out", out, "--no-progress", "--gradebook", "yes")
    assert r.returncode == 0, r.stderr[-3000:]
    return out


def test_nbgrader_export_writes_its_own_csv_and_leaves_ours(graded):
    ours_before = (graded / "grades.csv").read_bytes()
    nbgrader("export", cwd=graded)
    assert (graded / "grades.csv").read_bytes() == ours_before
    with open(graded / "nbgrader_grades.csv", newline="") as f:
        theirs = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    ours = read_grades(graded)
    assert theirs == {sid: float(row["score"]) for sid, row in ours.items()}
    assert theirs["perfect"] == 20.0 and theirs["no-max"] < 20.0


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url):
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.status, r.read().decode("utf-8", "replace")


def test_formgrader_shows_our_scores_and_hints(graded, tmp_path):
    port, token = _free_port(), os.urandom(12).hex()
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    log = open(tmp_path / "server.log", "w")
    # Started in OUT, as the README says: formgrader reads OUT/nbgrader_config.py.
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "server", "--no-browser", "--allow-root",
         "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         f"--IdentityProvider.token={token}"],
        cwd=graded, env=env, stdout=log, stderr=subprocess.STDOUT)
    base, q = f"http://127.0.0.1:{port}", f"token={token}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                _get(f"{base}/api/status?{q}")
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, \
                    (tmp_path / "server.log").read_text()[-3000:]
                time.sleep(0.5)
        status, page = _get(f"{base}/formgrader/?{q}")
        assert status == 200 and "formgrader" in page.lower()
        status, body = _get(f"{base}/formgrader/api/submitted_notebooks/softmax/softmax?{q}")
        rows = {r["student"]: r for r in json.loads(body)}
        assert rows["perfect"]["score"] == 20.0 and rows["blank"]["score"] == 0.0
        assert rows["no-max"]["failed_tests"] and not rows["perfect"]["failed_tests"]
        # The assignment page's "# Submissions": each student with a notebook.
        status, body = _get(f"{base}/formgrader/api/assignment/softmax?{q}")
        assert json.loads(body)["num_submissions"] == 3
        # The page a grader opens for one submission: scores, our verdicts, hints.
        status, page = _get(f"{base}/formgrader/submissions/{rows['no-max']['id']}/?{q}")
        assert status == 200
        assert "autograder: test_softmax: 0 / 2 failed" in page
        assert "test_softmax_backward: 2 / 2 passed" in page
        status, body = _get(f"{base}/formgrader/api/comments?submission_id="
                            f"{rows['no-max']['id']}&{q}")
        comments = {c["name"]: c["auto_comment"] for c in json.loads(body)}
        assert "test_softmax: 0 / 2 failed" in comments["softmax"]
        assert "Hint:" in comments["softmax"]
        # A student without a notebook has a row, and no page that would fail.
        status, body = _get(f"{base}/formgrader/api/submissions/softmax?{q}")
        assert {r["student"] for r in json.loads(body)} >= {"no-notebook"}
        assert "Traceback" not in (tmp_path / "server.log").read_text()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_feedback_reaches_the_student_through_the_exchange(tmp_path, home):
    """release -> fetch -> submit -> collect -> `grade .` on the course checkout ->
    generate/release/fetch feedback, as the README's instructor section walks through it."""
    course, student, exchange = tmp_path / "course", tmp_path / "student", tmp_path / "exchange"
    # The instructor's checkout: its nbgrader_config.py, solutions/ and assignments/,
    # and the folders a checkout also has (none of them a student).
    course.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(REPO / "solutions", course / "solutions")
    shutil.copytree(REPO / "assignments", course / "assignments")
    for d in (".git", ".venv", "autograder", "tests"):
        (course / d).mkdir()
    write(course / "demo-out" / "submissions", "perfect", build())
    student.mkdir()
    ex = [f"--Exchange.root={exchange}", "--CourseDirectory.course_id=softmax-workbook"]
    nbgrader("generate_assignment", "softmax", "--force", *ex, cwd=course)
    nbgrader("release_assignment", "softmax", *ex, cwd=course)
    nbgrader("fetch_assignment", "softmax", *ex, cwd=student)
    write(tmp_path / "work", "me", build(mistake_overrides("softmax_no_max")))
    shutil.copy(tmp_path / "work" / "me" / "softmax.ipynb", student / "softmax" / "softmax.ipynb")
    nbgrader("submit", "softmax", *ex, cwd=student)
    # nbgrader's cache of the submission is in the tests' HOME, not the real user's.
    assert list((home / ".local/share/jupyter/nbgrader_cache/softmax-workbook").iterdir())
    nbgrader("collect", "softmax", *ex, cwd=course)
    (collected,) = os.listdir(course / "submitted")
    # One more student whose notebook came another way (an LMS download).
    write(course / "submitted" / "lms-student", "softmax", build())

    out = tmp_path / "out"
    r = run_grader("grade", course, "--out", out, "--no-progress")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "nbgrader course root (nbgrader_config.py)" in r.stderr
    assert set(read_grades(out)) == {collected, "lms-student"}
    nbgrader("generate_feedback", "softmax", cwd=out)
    released = nbgrader("release_feedback", "softmax", *ex, cwd=out)
    log = released.stdout + released.stderr
    assert "Traceback" not in log
    assert "not released" in log and "lms-student" in log
    nbgrader("fetch_feedback", "softmax", *ex, cwd=student)
    fetched = list((student / "softmax" / "feedback").rglob("softmax.html"))
    assert len(fetched) == 1
    html = fetched[0].read_text()
    assert "test_softmax: 0 / 2 failed" in html and "Hint:" in html
    assert "HIDDEN TESTS" not in html and "autograder.hidden" not in html


def test_release_feedback_for_a_class_graded_from_a_folder_says_why_not(graded, tmp_path):
    """No student of a plain folder submitted through the exchange: nothing to release,
    one warning naming them, no traceback (nbgrader's own command fails here)."""
    nbgrader("generate_feedback", "softmax", cwd=graded)
    (tmp_path / "exchange").mkdir(mode=0o777)     # as `make exchange` makes it
    ex = [f"--Exchange.root={tmp_path / 'exchange'}", "--CourseDirectory.course_id=softmax-workbook"]
    proc = nbgrader("release_feedback", "softmax", *ex, cwd=graded)
    log = proc.stdout + proc.stderr
    assert "Traceback" not in log, log[-3000:]
    assert "not released: 3 student(s)" in log and "no-max" in log, log[-3000:]
    assert not list((tmp_path / "exchange").rglob("*.html"))


def test_nbgrader_validate_shows_the_whole_hint(tmp_path):
    folder = tmp_path / "softmax"
    shutil.copytree(ASSIGNMENT.release.parent, folder)
    write(tmp_path / "w", "me", build(mistake_overrides("softmax_no_max")))
    shutil.copy(tmp_path / "w" / "me" / "softmax.ipynb", folder / "softmax.ipynb")
    proc = nbgrader("validate", folder / "softmax.ipynb", cwd=REPO, check=False)
    text = proc.stdout + proc.stderr
    line = next(l for l in text.splitlines() if "AssertionError: softmax([1000, 1000])" in l)
    assert line.rstrip().endswith("subtract the maximum score before np.exp."), line


def _with_helpers(nb):
    """The notebook a student writes with a helper cell and a constant in the import cell."""
    cells = nb.cells
    imports = next(c for c in cells if "threadpool_limits" in c.source)
    imports.source += "\nEPS = 1e-7\n"
    import nbformat
    helper = nbformat.v4.new_code_cell(
        "def _normalise(e):\n    return e / np.sum(e, axis=-1, keepdims=True)\n")
    cells.insert(cells.index(imports) + 1, helper)
    gid = lambda c: c.metadata.get("nbgrader", {}).get("grade_id")
    next(c for c in cells if gid(c) == "softmax").source = (
        "def softmax(x):\n    return _normalise(np.exp(x - np.max(x, axis=-1, keepdims=True)))\n")
    ce = next(c for c in cells if gid(c) == "cross_entropy_error")
    assert "+ 1e-7" in ce.source
    ce.source = ce.source.replace("+ 1e-7", "+ EPS")
    return nb


def test_validate_and_the_grader_agree_on_helper_cells_and_constants(tmp_path):
    """What passes Validate does not lose points to the way the grader runs cells."""
    folder = tmp_path / "softmax"
    shutil.copytree(ASSIGNMENT.release.parent, folder)
    write(tmp_path / "subs", "helpers", _with_helpers(build()))
    shutil.copy(tmp_path / "subs" / "helpers" / "softmax.ipynb", folder / "softmax.ipynb")
    proc = nbgrader("validate", folder / "softmax.ipynb", cwd=REPO, check=False)
    assert "Success! Your notebook passes all the tests." in proc.stdout, proc.stdout[-3000:]
    r = run_grader("grade", tmp_path / "subs", "--out", tmp_path / "out", "--no-progress")
    assert r.returncode == 0, r.stderr[-3000:]
    row = read_grades(tmp_path / "out")["helpers"]
    assert float(row["score"]) == float(row["max_score"]) and row["flags"] == "", row
