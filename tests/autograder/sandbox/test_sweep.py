"""Container mode's end-of-batch sweep: files and IPC objects of student uids go."""
import ctypes
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from autograder.sandbox import sweep

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="making another uid's objects needs root")

UID = 61987            # a student-like uid no test grades with

# Run as UID without any jail: what a student uid would leave if the filter let it.
LEAVE = r"""
import ctypes, os, socket, sys
libc = ctypes.CDLL(None, use_errno=True)
ids = [libc.shmget(0, 4096, 0o1600), libc.msgget(0, 0o1600), libc.semget(0, 1, 0o1600)]
rt = libc if hasattr(libc, "mq_open") else ctypes.CDLL("librt.so.1", use_errno=True)
assert rt.mq_open(b"/sweep-test-queue", 0o102, 0o600, None) >= 0
where = sys.argv[1]
open(os.path.join(where, "file"), "w").write("x")
os.mkdir(os.path.join(where, "dir"))
open(os.path.join(where, "dir", "inner"), "w").write("x")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(os.path.join(where, "sock"))
os.mkfifo(os.path.join(where, "fifo"))
print(" ".join(map(str, ids)))
"""


def _ipc_ids(kind):
    lines = Path("/proc/sysvipc", kind).read_text().splitlines()
    head = lines[0].split()
    return {int(dict(zip(head, ln.split()))[head[1]]) for ln in lines[1:]}


def test_sweep_removes_what_a_student_uid_left_and_nothing_else(tmp_path):
    world = Path(tempfile.mkdtemp(prefix="sweep-world-"))
    try:
        os.chmod(world, 0o1777)
        mine = world / "roots-own"
        mine.write_text("kept")
        r = subprocess.run(["setpriv", "--reuid", str(UID), "--regid", str(UID),
                            "--clear-groups", "--", sys.executable, "-I", "-c", LEAVE, str(world)],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        shm, msg, sem = map(int, r.stdout.split())
        assert shm in _ipc_ids("shm") and msg in _ipc_ids("msg") and sem in _ipc_ids("sem")
        folders = sweep.writable_folders(skip=(*sweep.SKIP, "/work"))
        assert str(world) in folders and "/tmp" in folders
        done = sweep.sweep([UID], folders)
        assert sorted(os.listdir(world)) == ["roots-own"]
        assert {Path(p).name for p in done["files"]} == {"file", "dir", "sock", "fifo"}
        assert shm not in _ipc_ids("shm") and msg not in _ipc_ids("msg")
        assert sem not in _ipc_ids("sem")
        assert {k for k, _ in done["ipc"]} == {"shm", "msg", "sem", "mqueue"}
        assert ("mqueue", "/dev/mqueue/sweep-test-queue") in done["ipc"]
    finally:
        subprocess.run(["rm", "-rf", str(world)])


def test_folders_others_cannot_enter_are_not_walked(tmp_path):
    closed = Path(tempfile.mkdtemp(prefix="sweep-closed-"))
    try:
        os.chmod(closed, 0o700)
        (closed / "open").mkdir(mode=0o777)
        os.chmod(closed / "open", 0o1777)
        assert str(closed / "open") not in sweep.writable_folders(top=str(closed.parent))
        os.chmod(closed, 0o711)
        assert str(closed / "open") in sweep.writable_folders(top=str(closed.parent))
    finally:
        subprocess.run(["rm", "-rf", str(closed)])


def test_find_and_the_python_walk_agree():
    skip = (*sweep.SKIP, "/work", "/root", "/var/lib")
    walk = sweep.start_walk(skip=skip)
    if walk is None:
        pytest.skip("no find(1) here")
    assert sorted(sweep.folders(walk, skip=skip)) == sorted(sweep.writable_folders(skip=skip))


def test_an_image_lists_its_writable_folders_once(tmp_path):
    """Gradescope's setup.sh writes the list; run_autograder loads it instead of walking."""
    out = tmp_path / "writable-folders.json"
    assert sweep.main([str(out)]) == 0
    found = sweep.load(out)
    assert "/tmp" in found and all(p.startswith("/") for p in found)
    out.write_text('["relative/path"]')
    assert sweep.load(out) is None
    assert sweep.load(tmp_path / "missing.json") is None
