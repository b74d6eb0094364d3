"""WorkerProcess.cpu_seconds counts CPU that a thread or a child took and gave back.

Run on an unconfined worker (no seccomp: threads and forks work), through the
jail's cgroup accounting when there is one and through the process walk
(process CPU clocks + reaped children) that stands in when there is not.
"""
import pytest

from autograder.sandbox import WorkerProcess, modes

WORK = 0.3      # seconds of CPU the hidden work burns

CELL = f'''
import os, threading, time

def burn():
    t = time.thread_time()
    while time.thread_time() - t < {WORK}:
        pass

def in_thread():
    t = threading.Thread(target=burn)
    t.start(); t.join()             # the thread has exited before the reading

def in_child_reaped():
    pid = os.fork()
    if pid == 0:
        burn(); os._exit(0)
    os.waitpid(pid, 0)

def in_child_zombie():
    r, w = os.pipe()
    if os.fork() == 0:
        burn(); os.write(w, b"x"); os._exit(0)
    os.read(r, 1)                   # never reaped
    time.sleep(0.05)

def idle():
    return 0
'''


@pytest.fixture(params=["cgroup_if_any", "process_walk"])
def worker(request):
    w = WorkerProcess(sandbox=modes.UNSAFE)
    if request.param == "process_walk":
        w.cgroup = None
    assert w.request({"op": "exec", "name": "cell", "source": CELL}, 30)["ok"]
    yield w
    w.close()


def _cpu_of(worker, fn):
    before = worker.cpu_seconds()
    reply = worker.request({"op": "call", "fn": fn, "calls": [[]]}, 30)
    assert reply["results"][0]["ok"], reply
    return worker.cpu_seconds() - before


@pytest.mark.parametrize("fn", ["in_thread", "in_child_reaped", "in_child_zombie"])
def test_hidden_work_is_counted(worker, fn):
    assert _cpu_of(worker, fn) >= 0.8 * WORK


def test_an_idle_call_costs_little(worker):
    assert _cpu_of(worker, "idle") < 0.05
