"""A failed call reads as what happened: raised by the student, or stopped by the grader."""
from autograder.check.registry import Check, Fail, readable, require_ok, run_check
from autograder.model import Outcome


def test_a_stopped_call_is_not_said_to_have_raised():
    out = Outcome(False, error="the call was stopped: timeout (no answer within 30 s)")

    def run(student):
        require_ok(out, "softmax(x)")

    verdict = run_check(Check(test_id="test_softmax", target="softmax", run=run), None)
    assert verdict.message == "softmax(x) was stopped by the grader: timeout (no answer within 30 s)"


def test_readable_keeps_real_exceptions_and_explains_failed_cells():
    assert readable("f(x) raised ValueError: bad") == "f(x) raised ValueError: bad"
    assert readable("f(x) raised its cell failed when run: NameError: EPS") == \
        "f(x) could not run: its cell failed when run: NameError: EPS"
    assert isinstance(Fail("m"), Exception)
