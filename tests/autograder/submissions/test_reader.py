"""Opening a submission as hostile input: no link followed, regular files only,
bounded size; parsing in a child bounded in memory and time."""
import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from autograder.submissions import reader
from autograder.assignment import load_spec
from autograder.assignments.softmax import ASSIGNMENT
from autograder.assignments.softmax.samples import build, write
from autograder.submissions.notebook import _request

SPEC = load_spec(ASSIGNMENT)
SECRET = b"TOP-SECRET-BYTES-42"


@pytest.fixture
def honest(tmp_path):
    return write(tmp_path, "honest", build())


def refused(root, parts):
    with pytest.raises(reader.Refused) as e:
        reader.read_bytes(root, parts)
    return e.value


@pytest.mark.parametrize("target", ["/proc/self/mem", "/proc/self/pagemap", "/etc/passwd"])
def test_links_to_system_files_are_refused_without_reading(tmp_path, target):
    (tmp_path / "eve").mkdir()
    (tmp_path / "eve" / "softmax.ipynb").symlink_to(target)
    r = refused(tmp_path, ("eve", "softmax.ipynb"))
    assert r.flag == "symlink" and "symbolic link" in r.problem
    assert reader.sha256_of(tmp_path, ("eve", "softmax.ipynb")) == "refused:symlink"


def test_link_to_another_students_notebook_and_relative_links(tmp_path, honest):
    (tmp_path / "eve").mkdir()
    (tmp_path / "eve" / "softmax.ipynb").symlink_to(honest)                  # absolute
    (tmp_path / "mal").mkdir()
    (tmp_path / "mal" / "softmax.ipynb").symlink_to("../honest/softmax.ipynb")  # relative
    for who in ("eve", "mal"):
        assert refused(tmp_path, (who, "softmax.ipynb")).flag == "symlink"


def test_a_linked_folder_on_the_way_is_refused(tmp_path, honest):
    (tmp_path / "eve").symlink_to(tmp_path / "honest")
    assert refused(tmp_path, ("eve", "softmax.ipynb")).flag == "symlink"
    (tmp_path / "mal").mkdir()
    (tmp_path / "mal" / "softmax").symlink_to(tmp_path / "honest")
    assert refused(tmp_path, ("mal", "softmax", "softmax.ipynb")).flag == "symlink"


def test_fifo_and_socket_do_not_block_and_are_refused(tmp_path):
    (tmp_path / "f").mkdir()
    os.mkfifo(tmp_path / "f" / "softmax.ipynb")          # opening it blocking would hang
    r = refused(tmp_path, ("f", "softmax.ipynb"))
    assert r.flag == "invalid_notebook" and "FIFO" in r.problem
    (tmp_path / "s").mkdir()
    short = tempfile.mkdtemp(dir="/tmp")                  # socket paths are short
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(f"{short}/softmax.ipynb")
        os.rename(f"{short}/softmax.ipynb", tmp_path / "s" / "softmax.ipynb")
        assert refused(tmp_path, ("s", "softmax.ipynb")).flag == "invalid_notebook"
    finally:
        sock.close()
    (tmp_path / "d" / "softmax.ipynb").mkdir(parents=True)
    assert "a folder" in refused(tmp_path, ("d", "softmax.ipynb")).problem


def test_size_cap_is_checked_before_reading(tmp_path, monkeypatch):
    (tmp_path / "big").mkdir()
    with open(tmp_path / "big" / "softmax.ipynb", "wb") as f:
        f.truncate(50 * 1024 * 1024)                     # 50 MB, sparse: cheap to make
    read = []
    monkeypatch.setattr(os, "read", lambda *a: read.append(a) or b"")
    r = refused(tmp_path, ("big", "softmax.ipynb"))
    assert r.flag == "invalid_notebook" and "50.0 MB" in r.problem and "20.0 MB" in r.problem
    assert read == []


def test_honest_file_is_read_and_hashed(tmp_path, honest):
    data, sha = reader.read_bytes(tmp_path, ("honest", "softmax.ipynb"))
    assert data == honest.read_bytes()
    assert sha == reader.sha256_of(tmp_path, ("honest", "softmax.ipynb"))


UNREADABLE = """
import os, sys
sys.path.insert(0, sys.argv[1])
from autograder.submissions import reader
root = sys.argv[2]
for parts in (("file000", "softmax.ipynb"), ("dir000", "softmax.ipynb")):
    try:
        reader.read_bytes(root, parts)
        print("read", parts[0])
    except reader.Refused as r:
        print(r.flag, parts[0], r.problem)
"""


def test_mode_000_file_or_folder_as_a_normal_user():
    root = Path(tempfile.mkdtemp(dir="/tmp"))
    os.chmod(root, 0o755)
    for name in ("file000", "dir000"):
        (root / name).mkdir()
        (root / name / "softmax.ipynb").write_bytes(SECRET)
        os.chmod(root / name, 0o755)
    os.chmod(root / "file000" / "softmax.ipynb", 0)
    os.chmod(root / "dir000", 0)
    cmd = [sys.executable, "-c", UNREADABLE, str(Path(reader.__file__).parents[2]), str(root)]
    if os.geteuid() == 0:        # as root, mode 000 means nothing: drop to nobody
        cmd = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "--"] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd="/")
    lines = out.stdout.splitlines()
    assert len(lines) == 2, out.stderr
    assert all(line.startswith("invalid_notebook") and "permission denied" in line
               for line in lines), lines
    assert "TOP-SECRET" not in out.stdout


def nb_bytes(obj):
    return json.dumps(obj).encode()


def test_child_parses_an_honest_notebook(honest):
    r = reader.ReaderProcess()
    try:
        reply = r.parse(honest.read_bytes(), _request(SPEC))
        assert reply["ok"] and [n for n, _ in reply["cells"]] == list(SPEC.solution_ids)
        reply2 = r.parse(honest.read_bytes(), _request(SPEC))       # the same process, reused
        assert reply2 == reply
    finally:
        r.close()


def test_child_refuses_a_notebook_too_big_for_its_memory(honest):
    nb = json.loads(honest.read_bytes())
    nb["metadata"]["junk"] = [{} for _ in range(5_000_000)]         # ~15 MB of tiny dicts
    r = reader.ReaderProcess(memory_mb=200)
    try:
        reply = r.parse(nb_bytes(nb), _request(SPEC))
        assert not reply["ok"] and "memory" in reply["problem"]
        assert r.parse(honest.read_bytes(), _request(SPEC))["ok"]     # still works after
    finally:
        r.close()


def test_deeply_nested_json_and_garbage(honest):
    r = reader.ReaderProcess()
    try:
        for data in (b'{"a":' * 100000 + b"1" + b"}" * 100000, b"[" * 1000000,
                     b"\xff\xfe garbage", b"[1, 2]", b'{"nbformat": "four", "cells": []}'):
            reply = r.parse(data, _request(SPEC))
            assert not reply["ok"] and reply["problem"].startswith("the notebook could not be read")
            assert "\n" not in reply["problem"]
    finally:
        r.close()


def test_child_over_its_wall_time_is_killed_and_replaced(honest):
    nb = json.loads(honest.read_bytes())
    nb["metadata"]["junk"] = [[0] * 50 for _ in range(100_000)]
    r = reader.ReaderProcess(wall_seconds=0.05)
    try:
        with pytest.raises(reader.ReaderDied) as e:
            r.parse(nb_bytes(nb), _request(SPEC))
        assert r.proc is None and "took more than" in e.value.reason
        r.wall_seconds = 60
        assert r.parse(honest.read_bytes(), _request(SPEC))["ok"]
    finally:
        r.close()


def test_child_killed_from_outside_is_replaced(honest):
    r = reader.ReaderProcess()
    try:
        assert r.parse(honest.read_bytes(), _request(SPEC))["ok"]
        r.proc.kill()
        r.proc.wait()
        with pytest.raises(reader.ReaderDied) as e:
            r.parse(honest.read_bytes(), _request(SPEC))
        assert e.value.retry
        assert r.parse(honest.read_bytes(), _request(SPEC))["ok"]
    finally:
        r.close()


def test_child_over_its_cpu_budget_is_stopped_and_not_retried(honest):
    nb = json.loads(honest.read_bytes())
    # A definitions analysis with 80 000 needed names: seconds of CPU, little memory.
    nb["cells"].insert(1, {"cell_type": "code", "metadata": {}, "outputs": [],
                           "execution_count": None,
                           "source": "\n".join(f"C{i} = {i}" for i in range(240000))})
    for c in nb["cells"]:
        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "softmax":
            c["source"] = "def softmax(x):\n    return (" + ", ".join(
                f"C{i}" for i in range(0, 240000, 3)) + ")\n"
    r = reader.ReaderProcess(cpu_seconds=0)      # the budget: what start-up used, plus 1 s
    try:
        with pytest.raises(reader.ReaderDied) as e:
            r.parse(nb_bytes(nb), _request(SPEC))
        assert not e.value.retry and "of CPU" in e.value.reason and r.proc is None
    finally:
        r.close()


def test_an_outline_over_the_cap_is_sent_as_none():
    """The outline only shows the notebook: over the parent's cap, its frame says None."""
    import os
    from autograder.submissions import reader_child
    for outline, kept in (({"cells": ["x" * 100]}, True), ({"cells": ["x" * 100_000]}, False)):
        r, w = os.pipe()
        try:
            reader_child._outline_frame(w, {"outline": outline, "rss_kb": 7}, 10_000)
            os.close(w)
            (n,) = reader_child.FRAME.unpack(reader_child.read_exact(r, 4))
            got = json.loads(reader_child.read_exact(r, n))
        finally:
            os.close(r)
        assert got == {"outline": outline if kept else None, "rss_kb": 7}


FAKE_CHILD = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
from autograder.submissions.reader_child import FRAME, _write, read_exact
_write(1, {"ready": True})
n, = FRAME.unpack(read_exact(0, 4)); json.loads(read_exact(0, n))
n, = FRAME.unpack(read_exact(0, 4)); read_exact(0, n)
_write(1, {"ok": True, "cells": [["f", "x = 1"]], "tampered": {}, "unavailable": {},
           "problem": "", "rss_kb": 1})
os._exit(3)       # dies making the outline
"""


def test_a_child_that_dies_making_the_outline_leaves_the_code_as_read(monkeypatch):
    monkeypatch.setattr(reader, "_CHILD_CODE", FAKE_CHILD)
    r = reader.ReaderProcess()
    try:
        reply = r.parse(b"{}", {"solution_ids": ["f"], "tests": [], "outline": True})
        assert reply == {"ok": True, "cells": [["f", "x = 1"]], "tampered": {},
                         "unavailable": {}, "problem": "", "outline": None}
        assert r.proc is None           # stopped: the next parse starts a fresh child
    finally:
        r.close()


def test_a_child_ends_on_close_though_another_process_holds_its_input(honest):
    """A process forked while a reader runs (the course writer) holds a copy of the
    reader's input: closing it would never end it; the reader is told to end instead,
    and leaves by itself (status 0, not killed after a wait)."""
    child = reader.ReaderProcess()
    assert child.parse(honest.read_bytes(), _request(SPEC))["ok"]
    holder = subprocess.Popen(["sleep", "60"], pass_fds=(child.proc.stdin.fileno(),))
    try:
        assert child.close() == 0
    finally:
        holder.kill()
        holder.wait()
