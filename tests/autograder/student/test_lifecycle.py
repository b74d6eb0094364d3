"""CellWorker: a jail started beforehand is the one its first start uses, and is closed."""
from autograder.sandbox import WorkerDied, WorkerProcess, bwrap_available
from autograder.student.blame import Blame
from autograder.student.lifecycle import CellWorker
from tests.autograder.helpers import jail

UNSAFE = not bwrap_available()
CELLS = [("c", "def f(v):\n    return v + 1\n")]


def test_a_jail_started_beforehand_runs_the_cells_and_is_closed_with_the_worker():
    started = WorkerProcess(sandbox=jail(unsafe=UNSAFE).mode)
    cells = CellWorker(CELLS, blame=Blame(), jail=jail(unsafe=UNSAFE), started=started)
    try:
        reply = cells.request({"op": "call", "fn": "f", "calls": [[1.5]]})
        assert cells.worker is started and reply["results"][0]["value"] == 2.5
    finally:
        cells.close()
    assert started.proc.poll() is not None and cells.worker is None


def test_a_jail_never_used_is_closed_too():
    started = WorkerProcess(sandbox=jail(unsafe=UNSAFE).mode)
    CellWorker(CELLS, blame=Blame(), jail=jail(unsafe=UNSAFE), started=started).close()
    assert started.proc.poll() is not None


def test_once_the_first_jail_is_lost_a_new_one_is_started():
    started = WorkerProcess(sandbox=jail(unsafe=UNSAFE).mode)
    cells = CellWorker(CELLS, blame=Blame(), jail=jail(unsafe=UNSAFE), started=started)
    try:
        cells.start()
        cells.lost(WorkerDied("crash", "gone"))
        assert started.proc.poll() is not None
        reply = cells.request({"op": "call", "fn": "f", "calls": [[1.0]]})
        assert cells.worker is not started and reply["results"][0]["value"] == 2.0
    finally:
        cells.close()
