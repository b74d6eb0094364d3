"""Container mode: a separate uid per worker, grader paths locked away, caps as in bubblewrap."""
import os
import time
from pathlib import Path

import numpy as np
import pytest

from autograder.sandbox import Limits, SandboxUnavailable, WorkerDied, WorkerProcess
from autograder.sandbox import container

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="container mode runs as root")


@pytest.fixture
def mode(monkeypatch):
    # Only the paths a test names are locked away, never this checkout itself.
    monkeypatch.setattr(container, "grader_paths",
                        lambda extra=(): (sorted(Path(p) for p in extra), []))
    m = container.ContainerMode()
    yield m
    m.close()


def call(w, source, fn, *args):
    assert w.request({"op": "exec", "name": fn, "source": source}, 20)["ok"]
    return w.request({"op": "call", "fn": fn, "calls": [list(args)]}, 20)["results"][0]


WHO = ("import os\n"
       "def who():\n"
       "    return [os.getuid(), os.getgid(), len(os.getgroups()), os.stat(os.getcwd()).st_mode & 0o777,\n"
       "            os.stat(os.getcwd()).st_uid]\n")


def test_concurrent_workers_get_distinct_unprivileged_uids(mode):
    with WorkerProcess(sandbox=mode) as a, WorkerProcess(sandbox=mode) as b:
        ua = call(a, WHO, "who")["value"].tolist()
        ub = call(b, WHO, "who")["value"].tolist()
    assert ua[0] != ub[0] and min(ua[0], ub[0]) >= container.BASE_UID
    for u in (ua, ub):
        assert u[0] == u[1] and u[2] == 0            # own group, no supplementary ones
        assert u[3] == 0o700 and u[4] == u[0]        # a private home of its own


def test_no_process_or_thread_and_nothing_survives(mode):
    src = ("import os, threading\n"
           "def spawn():\n"
           "    n = 0.0\n"
           "    for f in (os.fork, lambda: threading.Thread(target=len).start()):\n"
           "        try:\n"
           "            f()\n"
           "        except (OSError, RuntimeError):\n"
           "            n += 1\n"
           "    return n\n")
    w = WorkerProcess(sandbox=mode)
    uid = int(call(w, WHO, "who")["value"].tolist()[0])
    assert call(w, src, "spawn")["value"] == 2.0
    w.close()
    time.sleep(0.1)
    alive = [p for p in os.listdir("/proc") if p.isdigit() and _uid(p) == uid]
    assert alive == []


def _uid(pid):
    try:
        return container._real_uid(pid)
    except OSError:
        return None


def test_home_is_sized_and_memory_capped(mode):
    mode.describe()         # sets the mode up, which finds out about tmpfs
    if not mode.tmpfs:
        pytest.skip("this host does not let root mount a tmpfs")
    src = ("def fill():\n"
           "    n = 0\n"
           "    try:\n"
           "        for i in range(100):\n"
           "            open(f'f{i}', 'wb').write(b'x' * (1 << 20)); n += 1\n"
           "    except OSError:\n"
           "        pass\n"
           "    return float(n)\n")
    with WorkerProcess(Limits(memory_mb=256), sandbox=mode) as w:
        assert call(w, src, "fill")["value"] <= 64
        r = w.request({"op": "exec", "name": "big", "source": "x = np.ones(200 * 2**20 // 8)"}, 20)
    assert not r["ok"] and r["kind"] == "memory"


def test_home_tmpfs_caps_inodes(mode):
    """A tmpfs size bounds bytes, not files: the home's inode count is capped too
    (a second wall: the seccomp filter already refuses every new inode)."""
    mode.describe()
    if not mode.tmpfs:
        pytest.skip("this host does not let root mount a tmpfs")
    src = "import os\ndef inodes():\n    return float(os.statvfs('.').f_files)\n"
    with WorkerProcess(sandbox=mode) as w:
        assert call(w, src, "inodes")["value"] == container.HOME_INODES


def test_prepare_locks_grader_paths_away(mode, tmp_path):
    secret = tmp_path / "solutions"
    secret.mkdir()
    (secret / "answer.py").write_text("ANSWER = 42\n")
    os.chmod(tmp_path, 0o755)
    os.chmod(secret, 0o755)
    os.chmod(secret / "answer.py", 0o644)
    # pytest's own tmp root is closed to others; open the way down to tmp_path.
    for d in tmp_path.parents:
        if str(d).startswith("/tmp/") and not os.stat(d).st_mode & 0o001:
            os.chmod(d, os.stat(d).st_mode | 0o001)
    mode.prepare(os.sys.executable, extra=[secret])
    assert not os.stat(secret).st_mode & 0o007
    with WorkerProcess(sandbox=mode) as w:
        r = w.request({"op": "exec", "name": "peek",
                       "source": f"open({str(secret / 'answer.py')!r}).read()"}, 20)
    assert not r["ok"] and "PermissionError" in r["error"]


def test_prepare_refuses_in_one_line_when_a_path_stays_readable(mode, tmp_path, monkeypatch):
    leak = tmp_path / "leak.txt"
    leak.write_text("x")
    for d in [tmp_path, *tmp_path.parents]:
        if str(d).startswith("/tmp"):
            os.chmod(d, os.stat(d).st_mode | 0o005)
    os.chmod(leak, 0o644)
    monkeypatch.setattr(container.os, "chmod", lambda *a, **k: None)   # as on a read-only fs
    with pytest.raises(SandboxUnavailable) as e:
        mode.prepare(os.sys.executable, extra=[leak])
    assert "\n" not in str(e.value) and str(leak) in str(e.value)


def test_a_hung_worker_is_killed_with_its_uid(mode):
    w = WorkerProcess(sandbox=mode)
    with pytest.raises(WorkerDied) as e:
        w.request({"op": "exec", "name": "loop", "source": "while True:\n    pass\n"}, 1)
    assert e.value.reason == "timeout"
    w.close()
    with WorkerProcess(sandbox=mode) as again:       # the slot is clean for the next one
        assert call(again, "def f(x):\n    return x\n", "f", np.ones(2))["ok"]


def test_grader_paths_cover_the_checkout_but_its_venv():
    protect, unlist = container.grader_paths(["/srv/subs"])
    repo = Path(container.__file__).resolve().parents[2]
    assert Path("/srv/subs") in protect
    if (repo / ".venv").is_dir() and Path(os.sys.prefix).resolve().parent == repo:
        assert {repo / "autograder", repo / "solutions", repo / "tests"} <= set(protect)
        assert repo / ".venv" not in protect and unlist == [repo]
    else:
        assert repo in protect or repo / "autograder" in protect


def test_closing_a_folder_keeps_only_the_way_to_the_python(tmp_path, monkeypatch):
    """Gradescope's /autograder: metadata, submission, source and results closed,
    venv/ (the worker's Python) kept, the root itself only unlisted."""
    root = tmp_path / "autograder"
    for d in ("venv/bin", "source/autograder", "submission", "results"):
        (root / d).mkdir(parents=True)
    (root / "submission_metadata.json").write_text("{}")
    (root / "run_autograder").write_text("")
    monkeypatch.setattr(os.sys, "prefix", str(root / "venv"))
    protect, unlist = container.closing([root])
    assert unlist == [root.resolve()]
    assert protect == sorted(root.resolve() / n for n in (
        "results", "run_autograder", "source", "submission", "submission_metadata.json"))
    # A folder the Python is not under is closed whole.
    assert container.closing([root / "source"]) == ([(root / "source").resolve()], [])


def test_close_sweeps_every_writable_folder_of_the_slot_uids(mode):
    """A file a student uid left anywhere it could write (here a world-writable
    folder of the host, not /tmp itself) does not outlive the batch."""
    import shutil
    import tempfile
    world = Path(tempfile.mkdtemp(prefix="ww-"))
    try:
        os.chmod(world, 0o1777)
        with WorkerProcess(sandbox=mode) as w:
            assert w.request({"op": "ping"}, 20)["ok"]
        left = world / "left-by-the-student"
        left.write_text("x")
        uid = mode.uids()[0]                 # the uid the worker ran as, still leased
        os.chown(left, uid, uid)
        kept = world / "roots"
        kept.write_text("x")
        mode.close()
        assert sorted(os.listdir(world)) == ["roots"]
    finally:
        shutil.rmtree(world, ignore_errors=True)


def test_two_graders_on_one_host_never_share_a_student_uid(mode):
    """Each grader's sweep kills every process of its uids: a uid is leased host-wide,
    and held until that grader's close(), so another grader's worker is never swept."""
    other = container.ContainerMode()
    try:
        with WorkerProcess(sandbox=mode) as a, WorkerProcess(sandbox=other) as b:
            ua = call(a, WHO, "who")["value"].tolist()[0]
            ub = call(b, WHO, "who")["value"].tolist()[0]
            assert ua != ub
        assert not set(mode.uids()) & set(other.uids())
        mode.close()                       # sweeps mode's uids: b's is not among them
        with WorkerProcess(sandbox=other) as b:
            assert call(b, WHO, "who")["value"].tolist()[0] in other.uids()
    finally:
        other.close()
    assert other.uids() == []
