"""A jailed worker that holds the student's cells, and its restarts.

A worker that hangs or dies while running a cell is restarted without that
cell, so one bad function costs only its own tests; after MAX_RESTARTS the
student's remaining calls fail with `crash`. With a `budget`, no request
outlives the student's wall-clock budget: each waits at most what is left of
it, and once it is spent every call fails with `timeout` at once.
"""
import time

from autograder.model import Flag, OutcomeKind
from autograder.wording import cell_fault

from ..sandbox import WorkerDied, WorkerProcess
from .raised import raised_from_reply, raised_well_formed

MAX_RESTARTS = 4
OUTPUT_FLAG_BYTES = 1024 * 1024


class CellWorker:
    """The student's cells `[(solution id, source)]` loaded in a WorkerProcess."""

    def __init__(self, cells, *, blame, jail, started=None):
        """`jail`: the JailSettings of every worker it starts; its budget counts from now.
        `started`: a WorkerProcess started already, as `jail` says, that the first start
        uses instead of launching one (it has been sent nothing yet); this CellWorker
        owns it from now on and closes it."""
        self._started = started
        self.jail = jail
        self.budget = jail.budget
        self.deadline = None if self.budget is None else time.monotonic() + self.budget
        self.timeout = jail.timeout
        self.cells = list(cells)
        self.blame = blame
        self.secrets = [str(p) for p in jail.secrets]
        self.cell_error = {}    # solution id -> why the cell did not run
        self.cell_raised = {}   # solution id -> what its cell raised (Raised), when it did
        self.faulted = set()    # solution ids whose cell hung or killed the worker: not run again
        self.restarts = 0
        self.worker = None

    # -- the wall-clock budget
    def out_of_budget(self):
        return self.deadline is not None and time.monotonic() >= self.deadline

    def _spent(self):
        return WorkerDied(Flag.TIMEOUT, f"the time budget of {self.budget:g} s for this "
                                     "student ran out")

    def request_timeout(self):
        """Seconds the next request may take: the per-call timeout, or what is
        left of the budget; WorkerDied(Flag.TIMEOUT) when nothing is left."""
        if self.deadline is None:
            return self.timeout
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self._spent()
        return min(self.timeout, left)

    def budget_reason(self, e):
        """`e`, or the budget's own WorkerDied when the budget is why it timed out."""
        if e.reason == Flag.TIMEOUT and self.out_of_budget():
            return self._spent()
        return e

    def start(self):
        """Start the worker and run the cells, unless it is already running."""
        while self.worker is None:
            if self.restarts > MAX_RESTARTS:
                raise WorkerDied(Flag.CRASH, "the grader gave up after repeated crashes")
            self.request_timeout()      # raises once the budget is spent
            self.worker, self._started = (
                self._started or WorkerProcess(self.jail.limits, sandbox=self.jail.mode)), None
            name = None
            try:
                hello = self.worker.request({"op": "secrets", "paths": self.secrets},
                                            self.request_timeout())
                self.worker.watch_notes(hello.get("notes_fd"))
                for name, source in self.cells:
                    if name in self.faulted:
                        continue    # it hung or crashed the worker before
                    r = self.worker.request({"op": "exec", "name": name, "source": source},
                                            self.request_timeout())
                    self.note(r, name)
                    if not r.get("ok"):
                        self.cell_error[name] = str(r.get("error"))
                        if raised_well_formed(r.get("raised")):
                            self.cell_raised[name] = raised_from_reply(r.get("raised"))
                        if r.get("kind") == OutcomeKind.MEMORY:
                            self.blame.flag(Flag.MEMORY)
                self._note_output()
                name = None
            except WorkerDied as e:
                e = self.budget_reason(e)
                self.lost(e, blame=name)
                if name is not None:
                    self.faulted.add(name)
                    self.cell_error[name] = cell_fault(e.reason, e.detail)
                if self.out_of_budget():
                    raise e from None

    def request(self, msg, blame=None):
        """One request to a running worker; WorkerDied (after bookkeeping) if it is lost."""
        self.start()
        try:
            reply = self.worker.request(msg, self.request_timeout())
        except WorkerDied as e:
            e = self.budget_reason(e)
            self.lost(e, blame)
            raise e from None
        self._note_output()
        if blame:
            self.note(reply, blame)
        return reply

    def note(self, reply, name):
        seen = list(reply.get("suspicious") or [])
        if self.worker is not None:
            seen += self.worker.notes()
        self.blame.note(seen, name)

    def lost(self, e, blame=None):
        """The worker is gone: flag why, keep what it noted, restart on next use."""
        self.blame.flag(e.reason)
        if self.worker is not None:
            # What it noted before it died (a crash through ctypes, say).
            self.blame.note(self.worker.notes(), blame)
            self.worker.close()
        self.worker = None
        self.restarts += 1

    def _note_output(self):
        if self.worker is not None and self.worker.output_bytes > OUTPUT_FLAG_BYTES:
            self.blame.flag(Flag.OUTPUT_TRUNCATED)

    def close(self):
        for w in (self.worker, self._started):
            if w is not None:
                w.close()
        self.worker = self._started = None
