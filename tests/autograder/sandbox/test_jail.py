"""What a jailed worker can and cannot do. Needs bubblewrap (CI installs it)."""
import os
import tempfile
import time

import numpy as np
import pytest

from autograder.sandbox import Limits, WorkerDied, WorkerProcess, bwrap_available
from tests.autograder.helpers import bubblewrap

pytestmark = pytest.mark.skipif(not bwrap_available() and not os.environ.get("CI"),
                                reason="bubblewrap is not installed")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def run(source, timeout=20, limits=Limits()):
    with WorkerProcess(limits, sandbox=bubblewrap()) as w:
        return w.request({"op": "exec", "name": "probe", "source": source}, timeout)


def test_runs_numpy_code_and_returns_numbers():
    with WorkerProcess(sandbox=bubblewrap()) as w:
        assert w.request({"op": "exec", "name": "f", "source": "def f(x):\n    return x * 2\n"},
                         20)["ok"]
        r = w.request({"op": "call", "fn": "f", "calls": [[np.arange(3.0)]]}, 20)
    assert np.array_equal(r["results"][0]["value"], [0.0, 2.0, 4.0])


@pytest.mark.parametrize("source", [
    "open(%r).read()" % os.path.join(REPO, "autograder", "assignments", "softmax", "reference.py"),
    "open(%r).read()" % os.path.join(REPO, "solutions", "softmax", "softmax.ipynb"),
    "import autograder.assignments.softmax.reference",
])
def test_cannot_see_grader_or_solutions(source):
    r = run(source)
    assert not r["ok"] and ("Error" in r["error"])


def test_repo_shows_nothing_but_the_bound_virtualenv():
    r = run("import os\nextra = set(os.listdir(%r)) - {'.venv'}\nassert not extra, extra" % REPO)
    assert r["ok"], r


def test_no_network():
    r = run("import socket\nsocket.create_connection(('127.0.0.1', 22), timeout=2)")
    assert not r["ok"]


def test_system_is_read_only_and_tmp_is_private(tmp_path):
    assert not run("open('/usr/lib/evil', 'w')")["ok"]
    marker = tmp_path / "outside"
    assert not run(f"open({str(marker)!r}, 'w').write('x')")["ok"]
    assert not marker.exists()
    # /tmp is the jail's own and empty; no file can be made in it either (seccomp: no
    # new inodes, which a tmpfs size would not bound).
    # (A checkout or venv under /tmp is bound into the jail's /tmp at its path: only
    # that may be there, never the host's other files.)
    host_file = tempfile.NamedTemporaryFile(dir="/tmp", prefix="host-only-")
    with host_file:
        r = run(f"import os\nassert {os.path.basename(host_file.name)!r} not in os.listdir('/tmp')")
    assert r["ok"], r
    r = run("open('/tmp/scratch', 'w').write('fine')")
    assert not r["ok"] and "PermissionError" in r["error"]


def test_not_root_inside():
    r = run("import os\nassert os.getuid() != 0")
    assert r["ok"], r


def test_infinite_loop_times_out_and_is_killed():
    start = time.monotonic()
    with pytest.raises(WorkerDied) as e:
        run("while True:\n    pass\n", timeout=2)
    assert e.value.reason == "timeout"
    assert time.monotonic() - start < 15


def test_memory_limit_gives_memory_error():
    r = run("x = np.ones(4 * 10**9 // 8)", limits=Limits(memory_mb=512))
    assert not r["ok"] and r["kind"] == "memory"


def test_hard_exit_and_segfault_are_crashes():
    for source in ("import os; os._exit(3)", "import ctypes; ctypes.string_at(0)"):
        with pytest.raises(WorkerDied) as e:
            run(source)
        assert e.value.reason == "crash"


def test_fork_bomb_is_contained_and_nothing_survives():
    src = ("import os, time\n"
           "for _ in range(200):\n"
           "    try:\n"
           "        if os.fork() == 0:\n"
           "            time.sleep(300); os._exit(0)\n"
           "    except OSError:\n"
           "        break\n")
    with WorkerProcess(Limits(processes=16), sandbox=bubblewrap()) as w:
        pid = w.proc.pid
        w.request({"op": "exec", "name": "bomb", "source": src}, 30)
    time.sleep(0.5)
    # Every process of the jail is gone once the worker is closed.
    survivors = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[2]) == pid or int(fields[3]) == pid:   # group or session
                    survivors.append(p)
            except OSError:
                pass
    assert survivors == []


def test_student_output_cannot_forge_replies():
    with WorkerProcess(sandbox=bubblewrap()) as w:
        r = w.request({"op": "exec", "name": "x",
                       "source": "import os\nos.write(1, b'\\x00\\x00\\x00\\x02{}')\nprint('hi')"}, 20)
        assert r["ok"]
        assert w.request({"op": "ping"}, 20)["ok"]


def test_no_thread_or_process_can_be_started():
    src = ("import os, threading, subprocess\n"
           "def attempts():\n"
           "    refused = 0.0\n"
           "    for start in (os.fork, lambda: threading.Thread(target=print).start(),\n"
           "                  lambda: subprocess.run(['true']), lambda: os.memfd_create('x')):\n"
           "        try:\n"
           "            start()\n"
           "        except (OSError, RuntimeError):\n"
           "            refused += 1\n"
           "    return refused\n")
    with WorkerProcess(sandbox=bubblewrap()) as w:
        assert w.request({"op": "exec", "name": "spawn", "source": src}, 20)["ok"]
        r = w.request({"op": "call", "fn": "attempts", "calls": [[]]}, 20)
        assert r["results"][0]["value"] == 4.0
        # The worker itself carries on.
        assert w.request({"op": "ping"}, 20)["ok"]


def test_no_file_can_be_made_in_tmp_or_dev_shm():
    src = ("def fill(where, mb):\n"
           "    written = 0\n"
           "    try:\n"
           "        for i in range(mb):\n"
           "            with open(f'{where}/f{i}', 'wb') as f:\n"
           "                f.write(b'x' * (1 << 20))\n"
           "            written += 1\n"
           "    except OSError:\n"
           "        pass\n"
           "    return float(written)\n")
    with WorkerProcess(Limits(memory_mb=1024, file_mb=32), sandbox=bubblewrap()) as w:
        assert w.request({"op": "exec", "name": "fill", "source": src}, 20)["ok"]
        r = w.request({"op": "call", "fn": "fill", "calls": [["/tmp", 100], ["/dev/shm", 4]]},
                      30)
    tmp_mb, shm_mb = (x["value"] for x in r["results"])
    assert tmp_mb == 0 and shm_mb == 0


def test_no_inode_flood():
    # Empty files, directories, links, O_TMPFILE: each would cost the host kernel memory
    # that no size limit sees; every one is refused.
    src = ("import os\n"
           "def flood():\n"
           "    made = 0\n"
           "    for make in (lambda i: open(f'/tmp/e{i}', 'x').close(),\n"
           "                 lambda i: os.mkdir(f'/tmp/d{i}'),\n"
           "                 lambda i: os.symlink('/tmp', f'/tmp/l{i}'),\n"
           "                 lambda i: os.mkfifo(f'/tmp/p{i}'),\n"
           "                 lambda i: os.close(os.open('/tmp', os.O_TMPFILE | os.O_WRONLY)),\n"
           "                 lambda i: os.close(os.open(f'/dev/shm/s{i}', os.O_CREAT | os.O_RDWR))):\n"
           "        for i in range(50):\n"
           "            try:\n"
           "                make(i)\n"
           "                made += 1\n"
           "            except OSError:\n"
           "                pass\n"
           "    return float(made)\n")
    with WorkerProcess(Limits(memory_mb=1024), sandbox=bubblewrap()) as w:
        assert w.request({"op": "exec", "name": "flood", "source": src}, 20)["ok"]
        r = w.request({"op": "call", "fn": "flood", "calls": [[]]}, 30)
    assert r["results"][0]["value"] == 0


def test_memory_cap_counts_tmp():
    # --memory 256 = 192 MB address space + /tmp 64 MB: 200 MB cannot be allocated.
    r = run("x = np.ones(200 * 2**20 // 8)", limits=Limits(memory_mb=256))
    assert not r["ok"] and r["kind"] == "memory"
    assert run("x = np.ones(64 * 2**20 // 8)", limits=Limits(memory_mb=256))["ok"]


def as_normal_user(script, uid=65534):
    """Run `script` as `uid` over a copy of the grader that uid owns."""
    import subprocess
    from tests.e2e.conftest import python_for_user, repo_copy
    return subprocess.run(["setpriv", "--reuid", str(uid), "--regid", str(uid), "--clear-groups",
                           python_for_user(uid), "-c", script], cwd=repo_copy(uid),
                          capture_output=True, text=True, timeout=120)


HOSTILE_NEIGHBOUR = r"""
from autograder.sandbox import Limits, WorkerProcess, select
src = (
    "import os, threading, time\n"
    "held = []\n"
    "for _ in range(200):\n"
    "    try:\n"
    "        t = threading.Thread(target=time.sleep, args=(60,)); t.start(); held.append(t)\n"
    "    except Exception:\n"
    "        pass\n"
    "    try:\n"
    "        if os.fork() == 0:\n"
    "            time.sleep(60); os._exit(0)\n"
    "    except Exception:\n"
    "        pass\n")
mode = select("bubblewrap")
bad = WorkerProcess(Limits(processes=16), sandbox=mode)
bad.request({"op": "exec", "name": "hog", "source": src}, 30)
ok = 0
for _ in range(5):
    with WorkerProcess(sandbox=mode) as w:
        w.request({"op": "exec", "name": "f", "source": "def f(x):\n    return x + 1\n"}, 20)
        ok += w.request({"op": "call", "fn": "f", "calls": [[1.0]]}, 20)["results"][0]["value"] == 2.0
bad.close()
print("honest", ok)
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="drops to uid 65534 with setpriv")
def test_thread_and_fork_hog_cannot_starve_other_jails_of_the_same_user():
    # As a normal user every jail runs under the same host uid: a shared
    # RLIMIT_NPROC let one student's threads zero the next students (issue 8).
    r = as_normal_user(HOSTILE_NEIGHBOUR)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "honest 5" in r.stdout


CAPS_AS_USER = r"""
from autograder.sandbox import Limits, WorkerProcess, select
src = (
    "import os, numpy as np\n"
    "def probe():\n"
    "    n = 0\n"
    "    try:\n"
    "        for i in range(100):\n"
    "            open(f'/tmp/f{i}', 'wb').write(b'x' * (1 << 20)); n += 1\n"
    "    except OSError:\n"
    "        pass\n"
    "    try:\n"
    "        os.fork(); forked = 1\n"
    "    except OSError:\n"
    "        forked = 0\n"
    "    try:\n"
    "        np.ones(200 * 2**20 // 8); big = 1\n"
    "    except MemoryError:\n"
    "        big = 0\n"
    "    return [n, forked, big]\n")
with WorkerProcess(Limits(memory_mb=256), sandbox=select("bubblewrap")) as w:
    w.request({"op": "exec", "name": "probe", "source": src}, 30)
    print("caps", w.request({"op": "call", "fn": "probe", "calls": [[]]}, 30)["results"][0]["value"].tolist())
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="drops to uid 65534 with setpriv")
def test_caps_hold_for_a_normal_user():
    # No file in /tmp, no fork, --memory 256 = 192 MB address space + 64 MB /tmp.
    r = as_normal_user(CAPS_AS_USER)
    assert r.returncode == 0, r.stderr[-2000:]
    n, forked, big = eval(r.stdout.split("caps", 1)[1])
    assert n == 0 and forked == 0 and big == 0
