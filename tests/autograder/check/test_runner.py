"""The grader's own machinery: budget at the row level, timer replacement, retries.

- A sleeping student's row ends within its budget; the tests left when it runs
  out fail with flag `timeout` and a message naming the budget.
- A reference timer whose process dies is replaced and the call retried; a
  timer that fails twice raises TimerFailed, never a student's zero.
- grade_one retries a grader failure once; a second failure propagates (the
  pipeline's row then says "internal grader error", which is never stored).
"""
import dataclasses
import json
import os
import signal
import time

import pytest

from autograder import pipeline
from autograder.assignments.softmax import ASSIGNMENT
from autograder.assignments.softmax.checks import speed_input
from autograder.submissions.notebook import StudentCode
from autograder.model import StudentResult, TestResult
from autograder.check.runner import ProcessTimer, grade_code
from autograder.sandbox import JailSettings, Limits, bwrap_available, modes
from autograder.check.timing import TimerFailed
from tests.autograder.helpers import jail

UNSAFE = not bwrap_available()


@pytest.fixture(scope="module")
def spec():
    return pipeline.load_assignment("softmax")[1]


def test_a_sleeping_students_row_ends_within_its_budget(spec):
    sleepy = "import time\ntime.sleep(0.9)\n"
    cells = [(sid, sleepy + f"def {sid}(*a, **k):\n    time.sleep(0.9)\n")
             for sid in ASSIGNMENT.solution_ids]
    timer = ProcessTimer(ASSIGNMENT.timer_reference)
    t0 = time.monotonic()
    try:
        result = grade_code(student_id="sleepy", code=StudentCode(cells=cells, sha256="x"),
                            assignment=ASSIGNMENT, spec=spec, grader="g",
                            timer_factory=lambda: timer,
                            jail=jail(unsafe=UNSAFE, timeout=1.0, budget=5.0))
    finally:
        timer.close()
    assert time.monotonic() - t0 < 5.0 + 3.0
    assert "timeout" in result.flags and result.score == 0
    assert any("time budget of 5 s for this student ran out" in t.message
               for t in result.tests), [t.message for t in result.tests]


def test_a_dead_reference_timer_is_replaced():
    timer = ProcessTimer(ASSIGNMENT.timer_reference)
    try:
        assert timer.timed(speed_input(0)) > 0
        os.killpg(timer.worker.proc.pid, signal.SIGKILL)
        assert timer.timed(speed_input(1)) > 0      # a new process, same answer
    finally:
        timer.close()


def test_a_started_timer_loads_the_reference_when_first_timed():
    timer = ProcessTimer(ASSIGNMENT.timer_reference)
    try:
        timer.start()                   # returns before the process has loaded anything
        worker = timer.worker
        assert worker is not None and not timer.loaded
        timer.start()                   # a second start keeps the same process
        assert timer.worker is worker
        assert timer.timed(speed_input(0)) > 0
        assert timer.worker is worker and timer.loaded
    finally:
        timer.close()
    assert timer.worker is None


def test_a_timer_that_keeps_failing_is_an_internal_error():
    def broken_reference(W, X, y, reg):
        raise RuntimeError("grader bug")
    timer = ProcessTimer(broken_reference)
    try:
        with pytest.raises(TimerFailed):
            timer.timed(speed_input(0))
    finally:
        timer.close()


RESULT = StudentResult("s", "x", "g", tests=[TestResult("test_a", 1.0, 1.0, True)])
INTERNAL = StudentResult("s", "x", "g", tests=[
    TestResult("test_a", 0.0, 1.0, False, "not graded: internal grader error", internal=True)])


def _grade_one(monkeypatch, failures, failure=None):
    calls = []

    def fake_grade_code(**kw):
        calls.append(kw["jail"])
        if len(calls) <= failures:
            if failure is not None:
                return failure
            raise TimerFailed("reference timer died twice")
        return RESULT
    monkeypatch.setattr(pipeline, "grade_code", fake_grade_code)

    class Timers:
        get = prestart = None
    out = pipeline.grade_one("s", StudentCode(sha256="x"), assignment=None, spec=None,
                             grader="g", opts=pipeline.Options(timeout=10), timers=Timers(),
                             jail=JAIL)
    return out, calls


JAIL = pipeline.jail_settings(pipeline.Options(timeout=10), modes.UNSAFE, ["/secret"])


def test_the_runs_jail_settings_carry_the_options():
    """Mode, secrets and caps travel in one frozen record; the budget defaults from --timeout."""
    assert JAIL == JailSettings(mode=modes.UNSAFE, limits=Limits(memory_mb=1024), timeout=10,
                                budget=120.0, secrets=("/secret",))
    assert pipeline.jail_settings(pipeline.Options(budget=7.5, memory_mb=512), modes.UNSAFE,
                                  ()).budget == 7.5
    with pytest.raises(dataclasses.FrozenInstanceError):
        JAIL.timeout = 1


def test_a_grader_failure_is_retried_once(monkeypatch):
    out, calls = _grade_one(monkeypatch, failures=1)
    assert out is RESULT and calls == [JAIL, JAIL]


def test_a_test_failed_inside_the_grader_is_retried_once_then_kept(monkeypatch):
    out, calls = _grade_one(monkeypatch, failures=1, failure=INTERNAL)
    assert out is RESULT and len(calls) == 2
    out, calls = _grade_one(monkeypatch, failures=2, failure=INTERNAL)
    assert out is INTERNAL and len(calls) == 2 and out.internal_error


def test_a_check_that_fails_inside_the_grader_costs_only_its_test(spec, monkeypatch):
    """A bug in one check is that test's internal error; the other tests are graded."""
    from dataclasses import replace

    from autograder.assignments.softmax.samples import reference_cells

    def boom(student):
        raise ZeroDivisionError("a bug in the check")
    broken = replace(ASSIGNMENT.checks["test_softmax_backward"], run=boom)
    monkeypatch.setitem(ASSIGNMENT.checks._checks, "test_softmax_backward", broken)
    cells = [(sid, src) for sid, src in reference_cells().items() if sid in ("softmax",
                                                                            "softmax_backward")]
    one = type(spec)(spec.name, spec.solution_ids, spec.tests[:2])
    result = grade_code(student_id="s", code=StudentCode(cells=cells, sha256="x"),
                        assignment=ASSIGNMENT, spec=one, grader="g",
                        timer_factory=None, jail=jail(unsafe=UNSAFE))
    first, second = result.tests
    assert first.passed and not first.internal
    assert not second.passed and second.internal and "internal grader error" in second.message
    assert result.internal_error


def test_a_grader_failure_twice_is_not_a_students_result(monkeypatch):
    with pytest.raises(TimerFailed):
        _grade_one(monkeypatch, failures=2)


def test_internal_errors_are_never_reused_from_the_store(tmp_path):
    from autograder.model import StudentResult
    from autograder.record.store import ResultStore
    store = ResultStore(tmp_path)
    store.save(StudentResult("s", "sha", "g", flags=["crash"],
                             problem="internal grader error: TimerFailed: x", internal=True))
    assert store.load("s", "sha", "g") is None


def test_a_students_text_saying_internal_error_is_the_students_result(tmp_path):
    """A problem quoting the notebook (its format field: "internal error") is the student's
    unreadable notebook: stored and reused, and on PrairieLearn an attempt like any other."""
    from autograder.prairielearn.results import results_json
    from autograder.report.visibility import plan
    from autograder.model import StudentResult
    from autograder.record.store import ResultStore
    r = StudentResult("s", "sha", "g", flags=["invalid_notebook"],
                      problem="the notebook's format is 'internal grader error', not 4")
    assert not r.internal_error
    store = ResultStore(tmp_path)
    store.save(r)
    assert store.load("s", "sha", "g") == r
    assert "autograder failed" not in json.dumps(results_json(r, plan(r)))


def test_each_flag_is_recorded_with_the_test_whose_check_raised_it(spec):
    """More than 1 MB of output while softmax_backward's check runs: that test's flag,
    not a flag of the notebook (reports show it with that test, see reports/visibility)."""
    from autograder.assignments.softmax.samples import reference_cells
    from autograder.model import READING
    cells = reference_cells()
    loud = cells["softmax_backward"].replace(
        "def softmax_backward(dout, y):",
        "def softmax_backward(dout, y):\n    print('x' * 300_000)", 1)
    code = StudentCode(cells=[("softmax", cells["softmax"]), ("softmax_backward", loud)],
                       sha256="x", flags={"tampering"}, tampered={"test_softmax": "edited"})
    two = type(spec)(spec.name, spec.solution_ids, spec.tests[:2])
    result = grade_code(student_id="s", code=code, assignment=ASSIGNMENT, spec=two,
                        grader="g", timer_factory=None, jail=jail(unsafe=UNSAFE))
    assert result.raised == {"tampering": READING, "output_truncated": "test_softmax_backward"}
    assert result.tests[0].settled and not result.tests[1].settled


def test_the_first_jail_boots_while_the_notebook_is_read_and_is_the_students(
        monkeypatch, tmp_path):
    from autograder.record.store import ResultStore
    events = []

    class Jail:
        def __init__(self, *a, **k):
            events.append("launch")
            self.closed = False

        def close(self):
            self.closed = True

    def read(sub, spec, **kw):
        events.append("read")
        return StudentCode(sha256="x")

    def fake_grade_code(**kw):
        events.append(("grade", kw["started"]))
        return RESULT
    monkeypatch.setattr(pipeline, "WorkerProcess", Jail)
    monkeypatch.setattr(pipeline, "read_submission", read)
    monkeypatch.setattr(pipeline, "grade_code", fake_grade_code)

    class Sub:
        student_id = "s"
        notebook = None

    class Timers:
        get = None

        def prestart(self):
            pass
    store = ResultStore(tmp_path)
    graded = pipeline.read_and_grade(Sub(), store=store, outline=False, timers=Timers(),
                                     assignment=None, spec=None, grader="g",
                                     opts=pipeline.Options(timeout=10), jail=JAIL)
    assert graded.result is RESULT and graded.fresh
    assert events[:2] == ["launch", "read"] and isinstance(events[2][1], Jail)
    assert events[2][1].closed      # used or not, no jail outlives grade_one
    # A student with a stored result is read first: reused, it needs no jail at all.
    store.save(StudentResult("s", "x", "g"))
    events.clear()
    graded = pipeline.read_and_grade(Sub(), store=store, outline=False, timers=Timers(),
                                     assignment=None, spec=None, grader="g",
                                     opts=pipeline.Options(timeout=10), jail=JAIL)
    assert not graded.fresh and events == ["read"]


def test_a_jail_started_for_an_unreadable_notebook_is_closed(spec):
    from autograder.sandbox import WorkerProcess
    settings = jail(unsafe=UNSAFE)
    started = WorkerProcess(sandbox=settings.mode)
    result = grade_code(student_id="s", code=StudentCode(sha256="x", problem="unreadable"),
                        assignment=ASSIGNMENT, spec=spec, grader="g",
                        timer_factory=lambda: None, jail=settings, started=started)
    assert started.proc.poll() is not None and result.score == 0


def test_the_reference_timer_is_started_once_the_students_jail_has(spec, monkeypatch):
    from autograder.check import runner
    events = []
    real_start = runner.SandboxStudent.start
    monkeypatch.setattr(runner.SandboxStudent, "start",
                        lambda self: (real_start(self), events.append("jail")))
    monkeypatch.setattr(runner, "run_check", lambda *a, **k: runner.Verdict(True, ""))
    cells = [("softmax", "def softmax(x):\n    return x\n")]
    for code in (StudentCode(cells=cells, sha256="x"), StudentCode(sha256="x", problem="bad")):
        grade_code(student_id="s", code=code, assignment=ASSIGNMENT, spec=spec,
                   grader="g", timer_factory=lambda: None, jail=jail(unsafe=UNSAFE),
                   when_started=lambda: events.append("timer"))
    assert events == ["jail", "timer"]      # and nothing for a notebook that runs nothing
