"""The interface the checks use, on a student's jailed worker.

Every method returns plain Outcomes (see autograder.checking); a call that
hangs or kills the worker becomes a failed Outcome for that call only.
"""
import time

from ..checking import Outcome
from ..sandbox import Limits, WorkerDied
from ..sandbox.worker import pack_inputs
from .blame import Blame
from .lifecycle import CellWorker


def measure(worker, msg, timeout):
    """(seconds, reply): CPU time of the worker for one request, else wall time."""
    cpu0, wall0 = worker.cpu_seconds(), time.perf_counter()
    reply = worker.request(msg, timeout)
    cpu1, wall1 = worker.cpu_seconds(), time.perf_counter()
    if cpu0 is None or cpu1 is None:
        return wall1 - wall0, reply
    return cpu1 - cpu0, reply


class SandboxStudent:
    """The student's solution cells, run in a jailed worker, as the checks see them."""

    def __init__(self, cells, *, limits=Limits(), timeout=30.0, unsafe=False, secrets=()):
        self.blame = Blame()
        self.sources = dict(cells)
        self.cells = CellWorker(cells, blame=self.blame, limits=limits, timeout=timeout,
                                unsafe=unsafe, secrets=secrets)

    # -- for the runner
    @property
    def flags(self):
        return self.blame.flags

    @property
    def suspicious(self):
        return self.blame.suspicious

    def start(self):
        self.cells.start()

    def close(self):
        self.cells.close()

    # -- what a reply means
    def _explain(self, reply, name):
        """A missing function is explained by what happened to its cell."""
        out = Outcome.from_reply(reply)
        if out.kind == "memory":
            self.blame.flag("memory")
        if not out.ok and out.kind == "missing":
            if name not in self.sources:
                out.error = f"NameError: {name} is not defined (its solution cell is missing)"
            elif name in self.cells.cell_error:
                out.error = f"its cell failed when run: {self.cells.cell_error[name]}"
        return out

    @staticmethod
    def _fault(e, n):
        return [Outcome(False, error=f"the call was stopped: {e.reason} ({e.detail})",
                        kind="fault")] * n

    # -- the interface checks use
    def call(self, fn, calls):
        try:
            reply = self.cells.request({"op": "call", "fn": fn,
                                        "calls": [list(c) for c in calls]}, blame=fn)
        except WorkerDied as e:
            return self._fault(e, len(calls))
        return [self._explain(r, fn) for r in reply["results"]]

    def layer(self, cls, steps):
        try:
            reply = self.cells.request({"op": "layer", "cls": cls,
                                        "steps": [[m, list(a)] for m, a in steps]}, blame=cls)
        except WorkerDied as e:
            return self._fault(e, 1)
        return [self._explain(r, cls) for r in reply["results"]]

    def cell_source(self, name):
        return self.sources.get(name, "")

    def stash(self, inputs):
        msg = pack_inputs(inputs)
        self.cells.replay = [msg]
        try:
            self.cells.request(msg)
        except WorkerDied:
            pass

    def timed(self, fn, k):
        """(CPU seconds, outcome) of one call on stashed input k.

        Measured by the grader from the kernel's accounting of the jail's
        processes, not reported by the jail; a patched timer changes nothing.
        """
        try:
            self.cells.start()
            seconds, reply = measure(self.cells.worker, {"op": "timed", "fn": fn, "k": k},
                                     self.cells.timeout)
            self.cells.note(reply, fn)
        except WorkerDied as e:
            self.cells.lost(e, fn)
            return float("inf"), self._fault(e, 1)[0]
        return seconds, self._explain(reply, fn)
