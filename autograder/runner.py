"""Run an assignment's checks on one student's code: a StudentResult.

The student's code runs in a jailed worker (`autograder.student`); timed
checks compare it with the assignment's reference in a clean process of its
own (`ProcessTimer`).
"""
import inspect
import time

from .checking import Verdict, run_check
from .results import StudentResult, TestResult
from .sandbox import Limits, WorkerDied, WorkerProcess
from .sandbox.worker import pack_inputs
from .student import SandboxStudent  # noqa: F401  (re-exported for callers)
from .student.interface import measure

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
    student = (SandboxStudent(code.cells, limits=limits, timeout=timeout, unsafe=unsafe,
                              secrets=secrets)
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
