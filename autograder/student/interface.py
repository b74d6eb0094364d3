"""The interface the checks use, on a student's jailed worker.

Every method returns plain Outcomes (see autograder.model); a call that
hangs or kills the worker, or whose reply is not what the worker's harness
sends, becomes a failed Outcome for that call only. Timed calls follow
`autograder.check.timing`: the input travels in the timed request, and the CPU
time counted is everything the jail ran since the previous timed call ended.
"""
import time

import numpy as np

from autograder.model import Flag, Outcome, OutcomeKind, Stopped
from autograder.wording import cell_failed_text, stopped_text
from ..sandbox import WorkerDied
from .blame import Blame
from .raised import raised_from_reply, raised_well_formed
from .lifecycle import CellWorker


def measure(worker, msg, timeout, since=None):
    """(seconds, reply, cpu at the end): CPU time of the worker's jail for one
    request (from `since`, a reading of worker.cpu_seconds(), when given),
    else wall time."""
    cpu0, wall0 = worker.cpu_seconds(), time.perf_counter()
    reply = worker.request(msg, timeout)
    cpu1, wall1 = worker.cpu_seconds(), time.perf_counter()
    if cpu0 is None or cpu1 is None:
        return wall1 - wall0, reply, None
    return cpu1 - (cpu0 if since is None else min(since, cpu0)), reply, cpu1


def well_formed(value, depth=0):
    """True for what the harness's `plain` makes: None, a float array, a
    {"__bad__": str}, or a short list of those."""
    if value is None or (isinstance(value, np.ndarray) and value.dtype == np.float64):
        return True
    if isinstance(value, dict):
        return set(value) == {"__bad__"} and isinstance(value["__bad__"], str)
    if isinstance(value, list):
        return depth < 3 and len(value) <= 8 and all(well_formed(v, depth + 1) for v in value)
    return False


_KINDS = {k.value: k for k in OutcomeKind}
def outcome_from_reply(r):
    """The Outcome of one result of the worker's harness (a dict as `call_one` makes it).
    A kind the harness never sends (student code wrote the reply) is no kind."""
    kind = r.get("kind")
    return Outcome(ok=bool(r.get("ok")), value=r.get("value"), error=r.get("error") or "",
                   kind=_KINDS.get(kind) if isinstance(kind, str) else None,
                   modified=list(r.get("modified") or []),
                   warnings=list(r.get("warnings") or []),
                   raised=raised_from_reply(r.get("raised")))


def _stopped(reason, detail):
    """The Outcome of a call the grader stopped (its worker died, hung or forged a reply).
    `error` describes it for the checks' diagnosis of errors; `stopped` is the fact."""
    return Outcome(False, error=stopped_text(reason, detail),
                   kind=OutcomeKind.FAULT, stopped=Stopped(reason, detail))


def _result_ok(r):
    """True for a result as the harness's call_one makes it (see worker.py)."""
    if not isinstance(r, dict) or not isinstance(r.get("ok", False), bool):
        return False
    modified, warns = r.get("modified", []), r.get("warnings", [])
    return (well_formed(r.get("value"))
            and all(r.get(k) is None or isinstance(r.get(k), str) for k in ("error", "kind"))
            and isinstance(modified, list) and all(isinstance(m, bool) for m in modified)
            and isinstance(warns, list) and all(isinstance(w, str) for w in warns)
            and raised_well_formed(r.get("raised")))


class SandboxStudent:
    """The student's solution cells, run in a jailed worker, as the checks see them."""

    def __init__(self, cells, *, jail, started=None):
        """`jail`: the JailSettings of its workers; its `budget` (wall-clock seconds for
        everything this student's code does) counts from now. `started`: a WorkerProcess
        already started for it (see CellWorker), or None."""
        self.blame = Blame()
        self.sources = dict(cells)
        self.cells = CellWorker(cells, blame=self.blame, jail=jail, started=started)
        self._cpu_mark = None   # (worker, jail CPU) at the end of the last timed call

    # -- for the runner
    @property
    def flags(self):
        return self.blame.flags

    @property
    def suspicious(self):
        return self.blame.suspicious

    def start(self):
        self.cells.start()

    def out_of_budget(self):
        """True once the student's wall-clock budget has run out."""
        return self.cells.out_of_budget()

    @property
    def budget(self):
        return self.cells.budget

    def close(self):
        self.cells.close()

    # -- what a reply means
    def _explain(self, reply, name):
        """A missing function is explained by what happened to its cell."""
        if not _result_ok(reply):
            # The harness never sends this: student code wrote the reply.
            self.blame.flag(Flag.CRASH)
            return _stopped(Flag.CRASH, "a malformed reply")
        out = outcome_from_reply(reply)
        if out.kind is OutcomeKind.MEMORY:
            self.blame.flag(Flag.MEMORY)
        if not out.ok and out.kind is OutcomeKind.MISSING:
            if name not in self.sources:
                out.error = f"NameError: {name} is not defined (its solution cell is missing)"
            elif name in self.cells.cell_error:
                out.cell_error = self.cells.cell_error[name]
                out.error = cell_failed_text(out.cell_error)
                out.raised = self.cells.cell_raised.get(name)
        return out

    @staticmethod
    def _fault(e, n):
        return [_stopped(e.reason, e.detail)] * n

    def _results(self, reply, least, most):
        """The reply's list of results, of a length the request allows, else WorkerDied."""
        results = reply.get("results")
        if not isinstance(results, list) or not least <= len(results) <= most:
            # The harness never sends this: student code wrote the reply.
            e = WorkerDied(Flag.CRASH, "a malformed reply")
            self.cells.lost(e)
            raise e
        return results

    # -- the interface checks use
    def call(self, fn, calls):
        self._cpu_mark = None
        try:
            reply = self.cells.request({"op": "call", "fn": fn,
                                        "calls": [list(c) for c in calls]}, blame=fn)
            results = self._results(reply, len(calls), len(calls))
        except WorkerDied as e:
            return self._fault(e, len(calls))
        return [self._explain(r, fn) for r in results]

    def layer(self, cls, steps):
        self._cpu_mark = None
        try:
            reply = self.cells.request({"op": "layer", "cls": cls,
                                        "steps": [[m, list(a), *k] for m, a, *k in steps]}, blame=cls)
            results = self._results(reply, 1, max(1, len(steps)))
        except WorkerDied as e:
            return self._fault(e, 1)
        return [self._explain(r, cls) for r in results]

    def cell_source(self, name):
        return self.sources.get(name, "")

    def all_sources(self):
        """The source of every cell the jail runs, in the order it runs them (so of two
        definitions of one name, the later one is the one that counts)."""
        return list(self.sources.values())

    def timed(self, fn, args):
        """(CPU seconds, outcome) of one call of `fn` on `args`, sent in this request.

        Measured by the grader from the kernel's accounting of the jail (see
        WorkerProcess.cpu_seconds), not reported by the jail, so a patched
        timer changes nothing. The count runs from the end of the previous
        timed call on the same worker, so work the jail does in between (a
        thread left running while the reference is timed) is counted too.
        """
        try:
            self.cells.start()
            worker = self.cells.worker
            mark = self._cpu_mark[1] if self._cpu_mark and self._cpu_mark[0] is worker else None
            self._cpu_mark = None
            seconds, reply, end = measure(worker, {"op": "timed", "fn": fn, "args": list(args)},
                                          self.cells.request_timeout(), since=mark)
            self.cells.note(reply, fn)
            self._cpu_mark = (worker, end) if end is not None else None
        except WorkerDied as e:
            e = self.cells.budget_reason(e)
            self.cells.lost(e, fn)
            return float("inf"), self._fault(e, 1)[0]
        return seconds, self._explain(reply, fn)
