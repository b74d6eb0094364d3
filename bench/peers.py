"""The peers, run on the same submissions as ours: Otter-Grader (`otter run`) and plain
`nbgrader autograde`, from the benchmark-only environment bench/.venv-peers.

`make bench` makes that environment (bench/requirements-peers.txt: the peers pinned,
plus this project so that their kernels can import the assignment's hidden checks).

The same assignment for every grader. nbgrader grades with the source notebook's test
cells (the visible asserts, then `autograder.hidden.check(test id)`, our checks run in
the student's kernel). For Otter the same test cells are written as OK-format tests,
one file per graded test cell with its points (`write_otter_tests`): the cell's source
runs in the notebook's namespace after Otter has executed the notebook. So a verdict
that differs between the three graders is a difference of the grader, not of the tests.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder.assignment import load_spec
from autograder.assignments.softmax import ASSIGNMENT, REPO

NAME = ASSIGNMENT.name
HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv-peers"
PY = VENV / "bin" / "python"
SOURCE = REPO / "solutions" / NAME
HELPERS = sorted(SOURCE.glob("*.py"))      # what the release ships beside the notebook


class PeersMissing(RuntimeError):
    """bench/.venv-peers is not there: `make bench` makes it."""


def versions():
    """{"otter-grader": "7.0.0", "nbgrader": "0.9.6"} as installed in the peers' environment."""
    if not PY.exists():
        raise PeersMissing(f"{VENV} is missing: run `make bench` (it installs the peers)")
    code = ("import importlib.metadata as m, json; print(json.dumps({p: m.version(p) "
            "for p in ('otter-grader', 'nbgrader')}))")
    return json.loads(subprocess.run([str(PY), "-c", code], check=True, capture_output=True,
                                     text=True).stdout)


def _env():
    """The peers' environment, with this checkout first on the import path: the editable
    install in bench/.venv-peers points at whichever checkout made it, and the peers'
    kernels must run the checks of the commit being measured, as ours does."""
    env = dict(os.environ)
    env["PATH"] = str(PY.parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env.pop("VIRTUAL_ENV", None)
    return env


def submissions_digest(notebooks):
    """{"n", "sha256"} of the notebooks a grader was given, in student order: two graders
    with the same digest graded byte-identical submissions (the report compares only those)."""
    h = hashlib.sha256()
    paths = sorted(Path(p) for p in notebooks)
    for p in paths:
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return {"n": len(paths), "sha256": h.hexdigest()[:16]}


def _test_cells():
    """[(grade_id, points, source)] of the source notebook's graded test cells, in order."""
    nb = json.loads(ASSIGNMENT.source.read_text())
    out = []
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and cell["cell_type"] == "code":
            src = cell["source"]
            out.append((meta["grade_id"], float(meta["points"]),
                        "".join(src) if isinstance(src, list) else src))
    return out


def otter_test(grade_id, points, source):
    """One OK-format test file: the test cell's source, run in the notebook's namespace,
    its printed lines discarded (a doctest example that prints would fail)."""
    code = (">>> import contextlib as _c, io as _io\n"
            ">>> with _c.redirect_stdout(_io.StringIO()):\n"
            f"...     exec(compile({source!r}, {grade_id!r}, 'exec'), globals())\n")
    spec = {"name": grade_id, "points": points,
            "suites": [{"type": "doctest", "scored": True, "setup": "", "teardown": "",
                        "cases": [{"code": code, "hidden": False, "locked": False}]}]}
    return f"OK_FORMAT = True\n\ntest = {spec!r}\n"


def write_otter_tests(folder):
    """folder/tests/<grade_id>.py for every graded test cell; returns their grade_ids."""
    tests = Path(folder) / "tests"
    tests.mkdir(parents=True, exist_ok=True)
    ids = []
    for grade_id, points, source in _test_cells():
        (tests / f"{grade_id}.py").write_text(otter_test(grade_id, points, source))
        ids.append(grade_id)
    return ids


def otter_autograder(folder):
    """folder/autograder.zip made by `otter generate` (tests + the helper modules)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_otter_tests(folder)
    for h in HELPERS:
        shutil.copy(h, folder / h.name)
    (folder / "otter_config.json").write_text(json.dumps({"name": NAME}))
    subprocess.run([str(PY), "-m", "otter", "generate", "-t", "tests", "-o", "autograder.zip",
                    "--no-requirements", "--no-environment", *[h.name for h in HELPERS]],
                   check=True, cwd=folder, env=_env(), capture_output=True)
    return folder / "autograder.zip"


def _otter_one(zip_path, notebook, out):
    out.mkdir(parents=True, exist_ok=True)
    r = subprocess.run([str(PY), "-m", "otter", "run", "-a", str(zip_path), "-o", str(out),
                        "--no-logo", str(notebook)], cwd=out, env=_env(),
                       capture_output=True, text=True)
    return r.returncode


def otter_scores(out):
    """{test id: points} from Otter's results.json in `out`, or None when it wrote none."""
    try:
        res = json.loads((Path(out) / "results.json").read_text())
    except (OSError, ValueError):
        return None
    return {t["name"]: float(t.get("score", 0.0)) for t in res.get("tests", [])
            if "score" in t}


def run_otter(zip_path, batch, out, *, jobs=2):
    """`otter run` on every submission of `batch` (a folder of <student>/NAME.ipynb),
    `jobs` at a time; (wall seconds, {student: {test id: points} or None}, the digest of
    the notebooks it was given)."""
    subs = sorted(p for p in Path(batch).iterdir() if p.is_dir())
    notebooks = [s / f"{NAME}.ipynb" for s in subs]
    given = submissions_digest(notebooks)
    out = Path(out)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(lambda s: _otter_one(zip_path, s / f"{NAME}.ipynb", out / s.name), subs))
    wall = time.perf_counter() - t0
    return wall, {s.name: otter_scores(out / s.name) for s in subs}, given


def nbgrader_course(course):
    """A course folder whose source is a copy of solutions/, the assignment generated."""
    course = Path(course)
    shutil.copytree(REPO / "solutions", course / "source")
    subprocess.run([str(PY), "-m", "nbgrader", "generate_assignment", NAME, "--force",
                    *_nbgrader_args(course)], check=True, cwd=course, env=_env(),
                   capture_output=True)
    shutil.copy(course / "gradebook.db", course / "gradebook.generated.db")
    return course


def _nbgrader_args(course):
    return [f"--CourseDirectory.root={course}",
            f"--CourseDirectory.db_url=sqlite:///{course}/gradebook.db",
            "--CourseDirectory.source_directory=source",
            "--CourseDirectory.release_directory=release", "--log-level=ERROR"]


def run_nbgrader(course, batch):
    """Plain `nbgrader autograde NAME --create` on every submission of `batch` (copied
    into course/submitted/ with the helper modules, as the release ships them);
    (wall seconds of autograde, {student: {test id: points} or None}, the digest of the
    notebooks in course/submitted/ that it graded)."""
    course = Path(course)
    subs = sorted(p for p in Path(batch).iterdir() if p.is_dir())
    if (course / "submitted").exists():
        shutil.rmtree(course / "submitted")
    for d in ("autograded", "feedback"):
        shutil.rmtree(course / d, ignore_errors=True)
    # The gradebook as generate_assignment left it: no student graded in an earlier round.
    shutil.copy(course / "gradebook.generated.db", course / "gradebook.db")
    for s in subs:
        dest = course / "submitted" / s.name / NAME
        dest.mkdir(parents=True)
        shutil.copy(s / f"{NAME}.ipynb", dest / f"{NAME}.ipynb")
        for h in HELPERS:
            shutil.copy(h, dest / h.name)
    given = submissions_digest((course / "submitted").glob(f"*/{NAME}/{NAME}.ipynb"))
    t0 = time.perf_counter()
    subprocess.run([str(PY), "-m", "nbgrader", "autograde", NAME, "--create",
                    *_nbgrader_args(course)], cwd=course, env=_env(), capture_output=True)
    wall = time.perf_counter() - t0
    return wall, nbgrader_scores(course, [s.name for s in subs]), given


def nbgrader_scores(course, students):
    """{student: {test id: points} or None} from the course's gradebook, read by the
    peers' own nbgrader (its import stays out of this process)."""
    ids = [t.grade_id for t in load_spec(ASSIGNMENT).tests]
    code = (
        "import json, sys\n"
        "from nbgrader.api import Gradebook\n"
        "db, name, students, ids = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), "
        "json.loads(sys.argv[4])\n"
        "out = {}\n"
        "with Gradebook('sqlite:///' + db) as gb:\n"
        "    for s in students:\n"
        "        try:\n"
        "            out[s] = {i: float(gb.find_grade(i, name, name, s).score) for i in ids}\n"
        "        except Exception:\n"
        "            out[s] = None\n"
        "print(json.dumps(out))\n")
    r = subprocess.run([str(PY), "-c", code, str(Path(course) / "gradebook.db"), NAME,
                        json.dumps(students), json.dumps(ids)], env=_env(),
                       capture_output=True, text=True)
    if r.returncode != 0:
        return {s: None for s in students}
    return json.loads(r.stdout)


def ours_scores(out):
    """{student: {test id: points}} from our OUT/grades.csv."""
    import csv
    ids = [t.grade_id for t in load_spec(ASSIGNMENT).tests]
    with open(Path(out) / "grades.csv", newline="") as f:
        return {row["student_id"]: {i: float(row[i] or 0) for i in ids}
                for row in csv.DictReader(f)}


if __name__ == "__main__":      # a smoke run: python bench/peers.py SUBMISSIONS WORKDIR
    print(versions())
    work = Path(sys.argv[2])
    z = otter_autograder(work / "otter")
    print("otter", run_otter(z, sys.argv[1], work / "otter-out"))
    print("nbgrader", run_nbgrader(nbgrader_course(work / "course"), sys.argv[1]))
