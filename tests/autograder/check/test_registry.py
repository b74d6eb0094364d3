"""A failed call reads as what happened: raised by the student, or stopped by the grader.

The cause is a typed field of the Outcome; no text is rewritten or read back."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.check.registry import Check, close, require_ok, run_check
from autograder.model import CoreMistake, Flag, Outcome, OutcomeKind, Raised, Stopped
from autograder.wording import failed_call


def test_a_stopped_call_is_not_said_to_have_raised():
    out = Outcome(False, error="anything at all", kind=OutcomeKind.FAULT,
                  stopped=Stopped(Flag.TIMEOUT, "no answer within 30 s"))

    def run(student):
        require_ok(out, "softmax(x)")

    verdict = run_check(Check(test_id="test_softmax", target="softmax", run=run), None)
    assert verdict.message == "softmax(x) was stopped by the grader: timeout (no answer within 30 s)"


def test_real_exceptions_are_told_as_raised_and_failed_cells_as_failed_cells():
    assert failed_call("f(x)", Outcome(False, error="ValueError: bad")) == \
        "f(x) raised ValueError: bad"
    assert failed_call("f(x)", Outcome(False, error="its cell failed when run: x",
                                       cell_error="NameError: EPS")) == \
        "f(x) could not run: its cell failed when run: NameError: EPS"


def test_a_students_error_text_that_reads_like_the_graders_is_left_as_it_is():
    """Student code can raise any text: a message that copies the grader's words is quoted,
    never rewritten nor taken for the grader stopping the call."""
    out = Outcome(False, error="Exception: x raised the call was stopped: timeout (fake)")

    def run(student):
        require_ok(out, "f(x)")

    verdict = run_check(Check(test_id="t", target="f", run=run), None)
    assert verdict.message == "f(x) raised Exception: x raised the call was stopped: timeout (fake)"


def _verdict(out):
    def run(student):
        require_ok(out, "f(x)")
    return run_check(Check(test_id="t", target="f", run=run), None)


NOT_WRITTEN = Raised("NotImplementedError", (NotImplementedError, RuntimeError, Exception,
                                             BaseException))


def test_not_written_yet_is_read_from_the_class_raised_never_from_the_words():
    assert _verdict(Outcome(False, error="NotImplementedError: todo",
                            raised=NOT_WRITTEN)).mistake == CoreMistake.NOT_IMPLEMENTED
    # The same words from a class that is not Python's NotImplementedError, or with no
    # facts at all, name nothing.
    fake = Raised("NotImplementedError", (Exception, BaseException))
    assert _verdict(Outcome(False, error="NotImplementedError: todo", raised=fake)).mistake is None
    assert _verdict(Outcome(False, error="NotImplementedError: todo")).mistake is None
    # A cell that raised it at import leaves the function undefined: the cell is the cause.
    assert _verdict(Outcome(False, error="its cell failed when run: NotImplementedError",
                            cell_error="NotImplementedError", raised=NOT_WRITTEN)).mistake is None


def test_the_verdict_carries_what_the_reported_call_raised():
    missed = Raised("NameError", (NameError, Exception, BaseException), "EPS")
    assert _verdict(Outcome(False, error="NameError: name 'EPS' is not defined",
                            raised=missed)).raised == missed


@settings(max_examples=400, deadline=None)
@given(got=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), max_size=4),
       noise=st.lists(st.floats(-1e-3, 1e-3), min_size=4, max_size=4),
       want_special=st.sampled_from([None, np.inf, -np.inf, np.nan]),
       rtol=st.floats(0, 1e-2), atol=st.floats(0, 1e-4), scalar=st.booleans())
def test_close_is_numpys_allclose_on_a_finite_result(got, noise, want_special, rtol, atol,
                                                    scalar):
    """`close` is np.allclose's test (with `got` finite and of `want`'s shape) for every
    value, infinities and nan in either side included."""
    g = np.array(got, dtype=float)
    with np.errstate(all="ignore"):
        w = g * (1 + np.array(noise[:len(got)])) + np.array(noise[:len(got)]) * 1e-6
    if want_special is not None and len(got):
        w[len(got) // 2] = want_special
    if scalar and len(got):
        g, w = g[0], w[0]
    g, w = np.asarray(g), np.asarray(w)
    with np.errstate(all="ignore"):
        numpy_says = g.shape == w.shape and bool(np.all(np.isfinite(g))) and \
            bool(np.allclose(g, w, rtol=rtol, atol=atol))
        assert close(g, w, rtol, atol) == numpy_says


def test_close_needs_the_same_shape():
    assert not close(np.zeros(3), np.zeros((1, 3)))
    assert not close(np.zeros(1), np.float64(0.0))
    assert close(0.1 + 0.2, 0.3)
