"""CellWorker: a jail started beforehand is the one its first start uses, and is closed."""
from autograder.sandbox import WorkerDied, WorkerProcess, bwrap_available
from autograder.student.blame import Blame
from autograder.student.lifecycle import CellWorker

UNSAFE = not bwrap_available()
CELLS = [("c", "def f(v):\n    return v + 1\n")]


def test_a_jail_started_beforehand_runs_the_cells_and_is_closed_with_the_worker():
    jail = WorkerProcess(unsafe=UNSAFE)
    cells = CellWorker(CELLS, blame=Blame(), unsafe=UNSAFE, jail=jail)
    try:
        reply = cells.request({"op": "call", "fn": "f", "calls": [[1.5]]})
        assert cells.worker is jail and reply["results"][0]["value"] == 2.5
    finally:
        cells.close()
    assert jail.proc.poll() is not None and cells.worker is None


def test_a_jail_never_used_is_closed_too():
    jail = WorkerProcess(unsafe=UNSAFE)
    CellWorker(CELLS, blame=Blame(), unsafe=UNSAFE, jail=jail).close()
    assert jail.proc.poll() is not None


def test_once_the_first_jail_is_lost_a_new_one_is_started():
    jail = WorkerProcess(unsafe=UNSAFE)
    cells = CellWorker(CELLS, blame=Blame(), unsafe=UNSAFE, jail=jail)
    try:
        cells.start()
        cells.lost(WorkerDied("crash", "gone"))
        assert jail.proc.poll() is not None
        reply = cells.request({"op": "call", "fn": "f", "calls": [[1.0]]})
        assert cells.worker is not jail and reply["results"][0]["value"] == 2.0
    finally:
        cells.close()
