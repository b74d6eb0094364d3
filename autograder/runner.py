"""Sandboxed execution and checks for one submission.

`SandboxStudent` keeps one jailed worker holding the student's cells and
restarts it (without the cell that killed it) when a call hangs or crashes
it, so one bad function costs only its own tests.
"""
import inspect
import time

from .checking import Outcome, Verdict, run_check
from .results import StudentResult, TestResult
from .sandbox import Limits, WorkerDied, WorkerProcess
from .sandbox.worker import pack_inputs

MAX_RESTARTS = 4


def measure(worker, msg, timeout):
    """(seconds, reply): CPU time of the worker for one request, else wall time."""
    cpu0, wall0 = worker.cpu_seconds(), time.perf_counter()
    reply = worker.request(msg, timeout)
    cpu1, wall1 = worker.cpu_seconds(), time.perf_counter()
    if cpu0 is None or cpu1 is None:
        return wall1 - wall0, reply
    return cpu1 - cpu0, reply


class SandboxStudent:
    """The student's solution cells, run in a jailed worker."""

    def __init__(self, cells, limits=Limits(), timeout=30.0, unsafe=False, secrets=()):
        self.secrets = [str(p) for p in secrets]
        self.suspicious = {}    # solution id -> what its code tried
        self.cells = list(cells)
        self.sources = dict(self.cells)
        self.limits, self.timeout, self.unsafe = limits, timeout, unsafe
        self.cell_error = {}    # solution id -> why the cell did not run
        self.flags = set()
        self.restarts = 0
        self.worker = None
        self._stash = None

    # -- worker lifecycle
    def start(self):
        """Start the worker and run the cells, unless it is already running."""
        while self.worker is None:
            if self.restarts > MAX_RESTARTS:
                raise WorkerDied("crash", "the grader gave up after repeated crashes")
            self.worker = WorkerProcess(self.limits, unsafe=self.unsafe)
            name = None
            try:
                self.worker.request({"op": "secrets", "paths": self.secrets}, self.timeout)
                for name, source in self.cells:
                    if name in self.cell_error and self.cell_error[name].startswith("fault:"):
                        continue    # it hung or crashed the worker before
                    r = self.worker.request({"op": "exec", "name": name, "source": source},
                                            self.timeout)
                    self._note_suspicious(r, name)
                    if not r.get("ok"):
                        self.cell_error[name] = str(r.get("error"))
                        if r.get("kind") == "memory":
                            self.flags.add("memory")
                self._note_output()
                name = None
                if self._stash is not None:
                    self.worker.request(self._stash, self.timeout)
            except WorkerDied as e:
                self._lost(e, blame=name)
                if name is not None:
                    self.cell_error[name] = f"fault: {e.reason} ({e.detail})"

    def _lost(self, e, blame=None):
        self.flags.add(e.reason)
        if self.worker is not None:
            # What it noted before it died (a crash through ctypes, say).
            self._note_suspicious({"suspicious": self.worker.notes()}, blame)
            self.worker.close()
        self.worker = None
        self.restarts += 1

    def _note_suspicious(self, reply, name):
        """Blame new suspicious acts on the cell whose code was running."""
        # The reply's list and the notes channel: code that clears one
        # (through gc, say) still shows up in the other.
        seen = list(reply.get("suspicious") or [])
        if self.worker is not None:
            seen += self.worker.notes()
        known = {x for v in self.suspicious.values() for x in v}
        new = [x for x in seen if x not in known]
        if new and name:
            self.suspicious.setdefault(name, []).extend(new)
            self.flags.add("tampering")

    def _note_output(self):
        if self.worker is not None and self.worker.output_bytes > 1024 * 1024:
            self.flags.add("output_truncated")

    def _request(self, msg, blame=None):
        self.start()
        try:
            reply = self.worker.request(msg, self.timeout)
        except WorkerDied as e:
            self._lost(e, blame)
            raise
        self._note_output()
        if blame:
            self._note_suspicious(reply, blame)
        return reply

    def _explain(self, reply, name):
        """A missing function is explained by what happened to its cell."""
        out = Outcome.from_reply(reply)
        if out.kind == "memory":
            self.flags.add("memory")
        if not out.ok and out.kind == "missing":
            if name not in self.sources:
                out.error = f"NameError: {name} is not defined (its solution cell is missing)"
            elif name in self.cell_error:
                out.error = f"its cell failed when run: {self.cell_error[name]}"
        return out

    def _fault(self, e, n):
        return [Outcome(False, error=f"the call was stopped: {e.reason} ({e.detail})",
                               kind="fault")] * n

    # -- the interface checks use
    def call(self, fn, calls):
        try:
            reply = self._request({"op": "call", "fn": fn, "calls": [list(c) for c in calls]},
                                  blame=fn)
        except WorkerDied as e:
            return self._fault(e, len(calls))
        return [self._explain(r, fn) for r in reply["results"]]

    def layer(self, cls, steps):
        try:
            reply = self._request({"op": "layer", "cls": cls,
                                   "steps": [[m, list(a)] for m, a in steps]}, blame=cls)
        except WorkerDied as e:
            return self._fault(e, 1)
        return [self._explain(r, cls) for r in reply["results"]]

    def cell_source(self, name):
        return self.sources.get(name, "")

    def stash(self, inputs):
        self._stash = pack_inputs(inputs)
        try:
            self._request(self._stash)
        except WorkerDied:
            pass

    def timed(self, fn, k):
        """(CPU seconds, outcome) of one call on stashed input k.

        Measured by the grader from the kernel's accounting of the jail's
        processes, not reported by the jail; a patched timer changes nothing.
        """
        try:
            self.start()
            seconds, reply = measure(self.worker, {"op": "timed", "fn": fn, "k": k},
                                     self.timeout)
            self._note_suspicious(reply, fn)
        except WorkerDied as e:
            self._lost(e, fn)
            return float("inf"), self._fault(e, 1)[0]
        return seconds, self._explain(reply, fn)

    def close(self):
        if self.worker is not None:
            self.worker.close()
            self.worker = None


class ProcessTimer:
    """The reference loop in a clean process of its own, timed like the student's.

    Same round trip, same pipes, same one BLAS thread; nothing the student
    runs can reach it.
    """

    def __init__(self, reference, timeout=60.0):
        """`reference`: a self-contained function (numpy as np only), run by name."""
        self.timeout = timeout
        self.fn = reference.__name__
        self.worker = WorkerProcess(Limits(memory_mb=4096), unsafe=True)
        src = inspect.getsource(reference)
        self.worker.request({"op": "exec", "name": "reference", "source": src}, timeout)

    def stash(self, inputs):
        self.worker.request(pack_inputs(inputs), self.timeout)

    def timed(self, k):
        seconds, _ = measure(self.worker, {"op": "timed", "fn": self.fn, "k": k},
                             self.timeout)
        return seconds

    def close(self):
        self.worker.close()


def grade_code(*, student_id, code, assignment, spec, sha, grader, timer_factory,
               limits=Limits(), timeout=30.0, unsafe=False, secrets=()):
    """StudentResult for one StudentCode (see notebook.read_submission).

    `spec` is the assignment's Spec (what is graded), `assignment` gives the
    checks and hints; `timer_factory()` returns the reference timer of this
    thread for timed checks.
    """
    result = StudentResult(student_id, sha, grader, flags=[], problem=code.problem)
    flags = set(code.flags)
    student = (SandboxStudent(code.cells, limits, timeout, unsafe, secrets)
               if not code.problem else None)
    timings = {}
    try:
        if student is not None:
            t0 = time.perf_counter()
            try:
                student.start()
            except WorkerDied:
                pass
            timings["start_and_cells"] = time.perf_counter() - t0
        for test in spec.tests:
            t0 = time.perf_counter()
            check = assignment.checks[test.grade_id]
            if code.problem:
                verdict = Verdict(False, f"not graded: {code.problem}")
            elif test.grade_id in code.tampered:
                verdict = Verdict(False, f"no points: {code.tampered[test.grade_id]}")
            else:
                timer = timer_factory() if check.timed else None
                verdict = run_check(check, student, timer, assignment.hints)
                acts = student.suspicious.get(check.target)
                if acts:
                    verdict = Verdict(
                        False, "no points: while graded, this code tried something not "
                               f"allowed ({'; '.join(acts[:3])})")
            result.tests.append(TestResult(
                test.grade_id, test.points if verdict.passed else 0.0, test.points,
                verdict.passed, verdict.message, verdict.mistake, verdict.hint))
            timings[test.grade_id] = time.perf_counter() - t0
    finally:
        if student is not None:
            student.close()
            flags |= student.flags
    result.flags = sorted(flags)
    result.timings = {k: round(v, 4) for k, v in timings.items()}
    return result
