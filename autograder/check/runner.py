"""Run an assignment's checks on one student's code: a StudentResult.

The student's code runs in a jailed worker (`autograder.student`); timed
checks compare it with the assignment's reference in a clean process of its
own (`ProcessTimer`).
"""
from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from . import notebook_checks
from autograder.check.registry import Registry, catalogue, run_check
from autograder.model import (READING, STARTUP, UNAVAILABLE_NAME, Flag, Spec, StudentResult,
                              TestCell, TestResult, Verdict)
from autograder.submissions.notebook import StudentCode, explain
from autograder.sandbox import JailSettings, Limits, WorkerDied, WorkerProcess, modes
from autograder.student import SandboxStudent  # noqa: F401  (re-exported for callers)
from autograder.student.interface import measure
from .timing import TimerFailed


class Graded(Protocol):
    """What grading needs of an assignment (an `assignment.Assignment` is one): its
    checks, and its hints {mistake name: text for the student}."""

    @property
    def checks(self) -> Registry: ...

    @property
    def hints(self) -> Mapping[str, str]: ...


class ProcessTimer:
    """The reference loop in a clean process of its own, timed like the student's.

    Same round trip, same pipes, same one BLAS thread; nothing the student
    runs can reach it.
    """

    def __init__(self, reference: Callable, timeout: float = 60.0) -> None:
        """`reference`: a self-contained function (numpy as np only), run by name."""
        self.timeout = timeout
        self.fn = reference.__name__
        self.source = inspect.getsource(reference)
        self.worker: WorkerProcess | None = None
        self.loaded = False

    def start(self) -> WorkerProcess:
        """Start the timer's process without waiting for it: it starts Python and NumPy
        while the student's notebook is read and jailed (`timed` waits for it)."""
        if self.worker is None:
            self.worker = WorkerProcess(Limits(memory_mb=4096), sandbox=modes.UNSAFE)
            self.loaded = False
        return self.worker

    def _load(self) -> WorkerProcess:
        worker = self.start()
        if not self.loaded:
            r = worker.request({"op": "exec", "name": "reference", "source": self.source},
                               self.timeout)
            if not r.get("ok"):
                raise WorkerDied(Flag.CRASH, f"the reference did not load: {r.get('error')}")
            self.loaded = True
        return worker

    def timed(self, args: Sequence) -> float:
        """CPU seconds of the reference on `args`, sent in the timed request.

        A timer process that dies or fails is replaced and the call retried
        once; a second failure raises TimerFailed (the grader's problem: the
        caller must not record it as the student's result).
        """
        why = None
        for _ in range(2):
            try:
                worker = self._load()
                seconds, reply, _ = measure(worker, {"op": "timed", "fn": self.fn,
                                                     "args": list(args)}, self.timeout)
                if reply.get("ok"):
                    return seconds
                why = f"the reference raised {reply.get('error')}"
            except WorkerDied as e:
                why = f"{e.reason}: {e.detail}"
            self.close()
        raise TimerFailed(f"the reference timer failed twice ({why})")

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()
            self.worker = None


def _raised_since(student: SandboxStudent | None, raised: dict[Flag, str], where: str) -> None:
    """Note `where` as the origin of every flag of `student` not seen before."""
    if student is not None:
        for flag in student.flags:
            raised.setdefault(flag, where)


def _internal(test: TestCell, error: BaseException) -> TestResult:
    """The result of a test whose check failed inside the grader (not the student's)."""
    return TestResult(test.grade_id, 0.0, test.points, False,
                      f"not graded: internal grader error ({type(error).__name__}: "
                      f"{str(error)[:200]})", internal=True)


def grade_code(*, student_id: str, code: StudentCode, assignment: Graded, spec: Spec,
               grader: str, timer_factory: Callable[[], ProcessTimer], jail: JailSettings,
               started: WorkerProcess | None = None,
               notebook_suite: notebook_checks.Suite | None = None, helpers: str | None = None,
               when_started: Callable[[], None] | None = None) -> StudentResult:
    """StudentResult for one StudentCode (see notebook.read_submission).

    `spec` is the assignment's Spec (what is graded), `assignment` gives the
    checks and hints; `timer_factory()` returns the reference timer of this
    thread for timed checks. `jail` (JailSettings): how the student's code is
    jailed; once its `budget` (wall-clock seconds for this student's code) is
    spent, the remaining tests fail with flag `timeout`. The result is keyed by
    `code.sha256`.
    `notebook_suite` (a notebook_checks.Suite): also run the notebook's own
    checks, in a jail of their own that is closed before the hidden checks'
    jail starts. `helpers` (a Suite's `helpers` source): the release's helper
    modules, importable by the student's cells as in the notebook (Validate ran
    them there), installed before those cells in the hidden checks' jail.

    Each flag is recorded with where it was first raised (`raised`): reading,
    start-up, or the test whose check was running. A failure of the grader's
    own machinery inside a check (TimerFailed, a bug) fails that test as an
    internal error (`TestResult.internal`): it is not the student's result, and
    the rest of the student is still graded.

    `started`: a WorkerProcess started beforehand (as `jail` says), sent nothing
    yet: the first jail to start (the notebook checks', else the hidden checks') is
    that one. Closed before this returns, used or not. `when_started()`: called once
    the hidden checks' jail has started (not when nothing runs), e.g. to start the
    reference timer's process then, beside the checks rather than beside the jail's
    own start.
    """
    hints = catalogue(assignment.hints)
    result = StudentResult(student_id, code.sha256, grader, flags=[], problem=code.problem,
                           unavailable=dict(code.unavailable))
    flags = set(code.flags)
    raised = {f: READING for f in code.flags}
    timings: dict[str, float] = {}
    if notebook_suite is not None:
        t0 = time.perf_counter()
        first, started = started, None
        result.notebook_checks, result.notebook_flags = notebook_checks.run(
            code, notebook_suite, jail=jail, started=first)
        timings["notebook_checks"] = time.perf_counter() - t0
    cells = ([(notebook_checks.HELPERS, helpers)] if helpers else []) + list(code.cells)
    if code.problem and started is not None:
        started.close()
    student = (SandboxStudent(cells, jail=jail, started=started)
               if not code.problem else None)
    try:
        if student is not None:
            t0 = time.perf_counter()
            try:
                student.start()
            except WorkerDied:
                pass
            _raised_since(student, raised, STARTUP)
            timings["start_and_cells"] = time.perf_counter() - t0
            if when_started is not None:
                when_started()
        for test in spec.tests:
            t0 = time.perf_counter()
            check = assignment.checks[test.grade_id]
            settled = bool(code.problem) or test.grade_id in code.tampered
            if code.problem or student is None:     # no problem: a student was started
                verdict = Verdict(False, f"not graded: {code.problem}")
            elif test.grade_id in code.tampered:
                verdict = Verdict(False, f"no points: {code.tampered[test.grade_id]}")
            elif student.out_of_budget():
                flags.add(Flag.TIMEOUT)
                raised.setdefault(Flag.TIMEOUT, test.grade_id)
                verdict = Verdict(False, f"not graded: the time budget of {student.budget:g} s "
                                         "for this student ran out")
            else:
                try:
                    timer = timer_factory() if check.timed else None
                    verdict = run_check(check, student, timer, hints)
                except Exception as e:  # noqa: BLE001 - the grader's failure, see the docstring
                    result.tests.append(_internal(test, e))
                    _raised_since(student, raised, test.grade_id)
                    continue
                finally:
                    timings[test.grade_id] = time.perf_counter() - t0
                acts = list(dict.fromkeys(student.suspicious.get(check.target) or ()))
                if acts:
                    verdict = Verdict(
                        False, "no points: while graded, this code tried something not "
                               f"allowed ({'; '.join(acts[:3])})")
            _raised_since(student, raised, test.grade_id)
            why = explain(verdict.message, verdict.raised, code.unavailable)
            # A name the grader lacks is the cause: no formula hint beside it.
            mistake, hint = ((UNAVAILABLE_NAME, None) if why.lacking and not verdict.passed
                             else (verdict.mistake, verdict.hint))
            result.tests.append(TestResult(
                test.grade_id, test.points if verdict.passed else 0.0, test.points,
                verdict.passed, why.message, mistake, hint, settled=settled))
    finally:
        if student is not None:
            student.close()
            flags |= student.flags
            # Raised while closing (the jail's last notes): the last test's.
            _raised_since(student, raised, spec.tests[-1].grade_id if spec.tests else STARTUP)
    result.flags = sorted(flags)
    last = spec.tests[-1].grade_id if spec.tests else STARTUP
    result.raised = {f: raised.get(f, last) for f in result.flags}
    result.timings = {k: round(v, 4) for k, v in timings.items()}
    return result
