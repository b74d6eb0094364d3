"""The wall attacks through run_autograder, in an emulated /autograder on this host.

The test of record for autograder.zip is tests/e2e/test_gradescope_container.py
(setup.sh and run_autograder in real containers with Docker's seccomp profile).
This file keeps what needs the grader on the host itself: a listener on the
host the network attacks aim at, and a walk of the root as the student's uid.
A tmp folder stands for /autograder: the zip is unpacked into ROOT/source and
setup.sh runs against this machine's package index.
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

from autograder.assignments.softmax.samples import build, write
from autograder.gradescope.build import build as build_zip
from autograder.gradescope.schema import problems

from .adversarial import walls
from .adversarial.listener import Listener

pytestmark = pytest.mark.slow

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
