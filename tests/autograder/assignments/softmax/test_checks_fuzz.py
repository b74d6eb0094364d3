"""Any value a student's code returns is that student's failure of the test, never a grader fault.

Every registered check of every assignment runs against a student whose every
call returns a value drawn by hypothesis: first as the worker's `plain` makes
it from an arbitrary Python value (ragged, nested, objects, huge, NaN, wrong
types, tuples of the wrong arity, arrays of different shapes), then as any
well-formed reply the boundary lets through (`interface.well_formed`), failed
calls with any error text included. The check must come back as a Verdict; an
exception out of it would make the row an "internal grader error".
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder.assignment import get
from autograder.check.registry import run_check
from autograder.model import Flag, Outcome, OutcomeKind, Stopped
from autograder.hidden import InKernelStudent
from autograder.sandbox.worker import plain
from autograder.student.interface import well_formed

from tests.autograder.helpers import namespace_with, reference_namespace

ASSIGNMENT = get("softmax")
CHECKS = list(ASSIGNMENT.checks)

_floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
_shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6)
_arrays = st.one_of(
    hnp.arrays(np.float64, _shapes, elements=_floats),
    hnp.arrays(np.float64, st.sampled_from([(10, 65), (3, 5), (4, 10), (1, 3), (65, 10)]),
               elements=st.floats(-1e300, 1e300) | st.just(0.0)),
    hnp.arrays(st.sampled_from([np.int64, np.bool_, np.float32, np.complex128, np.uint8]),
               _shapes))


class _Odd:
    def __float__(self):
        raise ValueError("no")

    def __len__(self):
        return 3


_scalars = st.one_of(st.none(), st.booleans(), st.integers(), _floats, st.text(max_size=20),
                     st.binary(max_size=20), st.just(_Odd()), st.just(object()),
                     st.just(float("nan")), st.just(10 ** 400), st.just(1e308),
                     st.builds(complex, _floats, _floats), st.just({"a": 1}),
                     st.just({"__bad__": "dict"}), st.just(Ellipsis))
_ragged = st.builds(lambda a, b: (a, b), _arrays, _arrays)     # (dx, something else)
python_values = st.recursive(
    st.one_of(_scalars, _arrays, _ragged),
    lambda inner: st.one_of(st.lists(inner, max_size=9), st.tuples(inner),
                            st.tuples(inner, inner), st.tuples(inner, inner, inner),
                            st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=12)

# What a reply may hold once past the boundary (see interface.well_formed).
wire_values = st.recursive(
    st.one_of(st.none(), hnp.arrays(np.float64, _shapes, elements=_floats),
              st.builds(lambda s: {"__bad__": s}, st.text(max_size=30))),
    lambda inner: st.lists(inner, max_size=8), max_leaves=10).filter(well_formed)

errors = st.one_of(st.text(max_size=80), st.sampled_from([
    "NotImplementedError", "IndexError: index 10 is out of bounds for axis 0 with size 10",
    "ValueError: operands could not be broadcast together", "IndexError: index 3",
    "the call was stopped: timeout (30 s)", "its cell failed when run: SyntaxError",
    "ValueError: shapes (3,5) and (4,) not aligned", "AttributeError: 'NoneType'"]))


def outcomes(values):
    ok = st.builds(lambda v, m, w: Outcome(True, v, modified=m, warnings=w), values,
                   st.lists(st.booleans(), max_size=5), st.lists(st.text(max_size=10), max_size=2))
    failed = st.builds(lambda e, k: Outcome(False, error=e, kind=k), errors,
                       st.sampled_from([*OutcomeKind, None]))
    # What the jailed student's interface makes of a call the grader stopped, or of a
    # function whose cell failed: the cause typed, beside a describing text.
    stopped = st.builds(lambda r, d: Outcome(False, error=f"the call was stopped: {r} ({d})",
                                             kind=OutcomeKind.FAULT, stopped=Stopped(r, d)),
                        st.sampled_from([Flag.TIMEOUT, Flag.MEMORY, Flag.CRASH]),
                        st.text(max_size=30))
    cell_failed = st.builds(lambda e: Outcome(False, error=f"its cell failed when run: {e}",
                                              kind=OutcomeKind.MISSING, cell_error=e), errors)
    return st.one_of(ok, ok, ok, failed, stopped, cell_failed)


class DrawnStudent:
    """The reference solution, except that any of its answers may be replaced by a
    drawn Outcome (so the drawn value reaches every step of a check, not only the
    first); a timed call takes a drawn time too."""

    def __init__(self, data, values, answers=None):
        self.data, self.strategy = data, outcomes(values)
        self.right = InKernelStudent(reference_namespace())
        # Which answers are replaced, counted over the whole check: one or two drawn
        # positions among the answers the right solution gets, so a drawn value reaches
        # a check's later steps as often as its first.
        last = max(0, answers) if answers else 120
        self.swapped = set(data.draw(st.lists(st.integers(0, last), min_size=1, max_size=2)))
        self.seen = 0

    def _swap(self, outs):
        new = []
        for o in outs:
            new.append(self.data.draw(self.strategy) if self.seen in self.swapped else o)
            self.seen += 1
        return new

    def call(self, fn, calls):
        return self._swap(self.right.call(fn, calls))

    def layer(self, cls, steps):
        outs = self._swap(self.right.layer(cls, steps))
        failed = [i for i, o in enumerate(outs) if not o.ok]
        return outs[:failed[0] + 1] if failed else outs     # the harness stops at an error

    def cell_source(self, name):
        return self.data.draw(st.sampled_from(["", "for i in range(3): pass", "x = ("]))

    def all_sources(self):
        return self.data.draw(st.lists(st.sampled_from(
            ["", "x = (", "  indented", "def softmax_loss_vectorized(W, X, y, reg):\n    return h(W)",
             "def h(W):\n    return [w for w in W]", "h = lambda W: W", "\0"]), max_size=4))

    def timed(self, fn, args):
        out = self.right.call(fn, [args])[0]
        return self.data.draw(st.floats(0, 10) | st.just(float("inf"))), self._swap([out])[0]


class Timer:
    def timed(self, args):
        return 0.01


class CountingStudent:
    """The right solution, counting the answers a check receives."""

    def __init__(self):
        self.right, self.seen = InKernelStudent(reference_namespace()), 0

    def call(self, fn, calls):
        self.seen += len(calls)
        return self.right.call(fn, calls)

    def layer(self, cls, steps):
        self.seen += len(steps)
        return self.right.layer(cls, steps)

    def cell_source(self, name):
        return ""

    def all_sources(self):
        return []

    def timed(self, fn, args):
        self.seen += 1
        return 0.001, self.right.call(fn, [args])[0]


_ANSWERS = {}


def answers(check):
    """How many answers the right solution gets from `check` (positions to swap)."""
    if check.test_id not in _ANSWERS:
        student = CountingStudent()
        assert _run(check, student).passed
        _ANSWERS[check.test_id] = student.seen
    return _ANSWERS[check.test_id]


def _run(check, student):
    v = run_check(check, student, Timer() if check.timed else None, ASSIGNMENT.hints)
    assert isinstance(v.passed, bool) and isinstance(v.message, str)
    return v


def _fuzz(values):
    """A test that runs `check` on students answering with `values`."""
    @given(data=st.data())
    def run(check, data):
        _run(check, DrawnStudent(data, values, answers(check)))

    def test(check):
        # A timed check judges answers on N = 2000 examples: fewer, slower examples.
        examples = 15 if check.timed else 100
        settings(max_examples=examples, deadline=None, derandomize=True,
                 suppress_health_check=list(HealthCheck))(run)(check)
    return test


@pytest.mark.parametrize("check", CHECKS, ids=[c.test_id for c in CHECKS])
def test_any_python_value_a_student_returns_is_judged(check):
    _fuzz(python_values.map(plain))(check)


@pytest.mark.parametrize("check", CHECKS, ids=[c.test_id for c in CHECKS])
def test_any_reply_past_the_boundary_is_judged(check):
    _fuzz(wire_values)(check)


def test_a_backward_returning_two_arrays_of_different_shapes_is_the_students_failure():
    """The red team's case: a layer whose backward returns (dx, something else)."""
    src = """
class SoftmaxWithLoss:
    def forward(self, x, t):
        self.y, self.t = softmax(x), t
        return cross_entropy_error(self.y, t)

    def backward(self, dout=1):
        self.calls = getattr(self, "calls", 0) + 1
        if self.calls == 2:     # the second backward() on one forward
            return np.zeros(np.shape(self.y)), np.zeros(3)
        y = np.atleast_2d(self.y)
        t = self.t if np.ndim(self.t) == np.ndim(self.y) else np.eye(y.shape[1])[self.t]
        return ((y - np.atleast_2d(t)) * dout / y.shape[0]).reshape(np.shape(self.y))
"""
    student = InKernelStudent(namespace_with({"SoftmaxWithLoss": src}))
    v = _run(ASSIGNMENT.checks["test_SoftmaxWithLoss"], student)
    assert not v.passed and v.mistake
