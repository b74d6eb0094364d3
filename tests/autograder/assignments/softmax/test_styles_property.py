"""No correct style left behind: every correct style gets full marks on random inputs.

The hidden checks' inputs (sizes C, D, N, reg and score offsets) are replaced
by ones hypothesis draws, and the real checks judge each correct style
(the notebook's reference cells and every entry of samples/styles.py:
log-sum-exp, one-hot matrices, the row layout, einsum, scipy's logsumexp,
probabilities with the 1e-7 delta, reuse of the Part 1-2 layers, a double
loop) on them.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.assignments.softmax import ASSIGNMENT, checks
from autograder.assignments.softmax.inputs import SHIFTS, Case
from autograder.assignments.softmax.samples import reference_cells
from autograder.assignments.softmax.samples.styles import STYLES
from autograder.check.registry import run_check
from autograder.hidden import InKernelStudent

from ...helpers import namespace_with

CHECKS = ("test_softmax", "test_softmax_loss_naive_loss", "test_softmax_loss_naive_grad",
          "test_softmax_loss_vectorized_loss", "test_softmax_loss_vectorized_grad",
          "test_softmax_loss_vectorized_stable")
NOTEBOOK = {k: v for k, v in reference_cells().items()
            if k in ("softmax", "softmax_loss_naive", "softmax_loss_vectorized")}
ALL_STYLES = {"notebook": NOTEBOOK, **STYLES}


@st.composite
def problems(draw):
    return dict(C=draw(st.integers(2, 12)), D=draw(st.integers(2, 70)),
                N=draw(st.integers(1, 60)),
                reg=draw(st.one_of(st.just(0.0), st.floats(1e-4, 1.0))),
                offset=draw(st.floats(-2000.0, 2000.0)),
                row_offsets=draw(st.lists(st.floats(-2000.0, 2000.0), min_size=1,
                                          max_size=6)),
                seed=draw(st.integers(0, 2 ** 32 - 1)))


def _inputs(p):
    """The checks' hidden cases, rebuilt from one drawn problem: the covering set's
    dimension values (regimes, dtypes, label formats) on the drawn sizes and offsets."""
    rng = np.random.default_rng(p["seed"])
    C, D, N, reg, off = p["C"], p["D"], p["N"], p["reg"], p["offset"]
    W = rng.normal(size=(C, D)) * 0.05
    X = rng.normal(size=(D, N))
    X[-1] = 1.0
    y = rng.integers(0, C, size=N)
    W_off = W.copy()
    W_off[:, -1] += off                     # every score + offset
    d = {"shape": "drawn", "dtype": "float64", "regime": "ordinary", "labels": "int64",
         "reg": "0"}
    confident = W * 60
    S = confident @ X
    classifier = [Case(d, (W, X, y, 0.0)), Case({**d, "reg": "positive"}, (W, X, y, reg)),
                  Case({**d, "regime": "confident right"}, (confident, X, S.argmax(0), reg)),
                  Case({**d, "regime": "confident wrong"}, (confident, X, S.argmin(0), 0.0)),
                  Case({**d, "dtype": "int"}, (np.round(W * 20).astype(int),
                                               np.round(X).astype(int), y.astype(np.int32), reg))]
    naive = classifier + [Case({**d, "regime": "offset"}, (W_off, X, y, 0.0)),
                          Case({**d, "regime": "offset"}, (W_off, X, y, reg))]
    W_row = W.copy()
    W_row[:, 0] += off                      # each example by its own amount
    def shifted(label, Ws):
        return Case({"shift": label, "shape": "drawn", "dtype": "float64"}, (Ws, X, y, 0.0),
                    {"base": (W, X, y, 0.0), "shift": SHIFTS[label]})
    stability = [shifted("offset +1000", W_off), shifted("offset -1000", W - (W_off - W)),
                 shifted("per-example offsets", W_row)]
    rows = np.array(p["row_offsets"])[:, None]
    sd = {"shape": "drawn", "dtype": "float64", "regime": "ordinary", "calls": "once"}
    xs = [rng.normal(size=C) * 3, rng.normal(size=(1, C)) * 3, rng.normal(size=(N, C)) * 3,
          rng.normal(size=(N, C)) + off, rng.normal(size=(len(rows), C)) + rows,
          np.round(rng.normal(size=(N, C)) * 3).astype(int)]
    softmax = [Case({**sd, "regime": f"drawn {k}"}, (x,)) for k, x in enumerate(xs)]
    made = {"softmax": softmax, "softmax_loss_naive": naive,
            "softmax_loss_vectorized": classifier, "stability": stability}
    return {"hidden_cases": lambda name: made[name]}


@pytest.mark.parametrize("style", sorted(ALL_STYLES))
def test_correct_style_gets_full_marks_on_random_inputs(style):
    ns = namespace_with(ALL_STYLES[style])

    @settings(max_examples=15, deadline=None, database=None)
    @given(problems())
    def full_marks(p):
        with pytest.MonkeyPatch.context() as mp:
            for name, maker in _inputs(p).items():
                mp.setattr(checks, name, maker)
            failed = {}
            for test_id in CHECKS:
                v = run_check(ASSIGNMENT.checks[test_id], InKernelStudent(ns), None,
                              ASSIGNMENT.hints)
                if not v.passed:
                    failed[test_id] = v.message
            assert failed == {}, (p, failed)

    full_marks()


def test_the_property_can_fail():
    """The same machinery fails a wrong style (a loss summed over the batch)."""
    wrong = {"softmax_loss_vectorized": NOTEBOOK["softmax_loss_vectorized"].replace(
        "-np.mean(log_probs[y, cols])", "-np.sum(log_probs[y, cols])")}
    assert wrong["softmax_loss_vectorized"] != NOTEBOOK["softmax_loss_vectorized"]
    ns = namespace_with(wrong)
    p = dict(C=4, D=6, N=9, reg=0.1, offset=500.0, row_offsets=[0.0], seed=1)
    with pytest.MonkeyPatch.context() as mp:
        for name, maker in _inputs(p).items():
            mp.setattr(checks, name, maker)
        v = run_check(ASSIGNMENT.checks["test_softmax_loss_vectorized_loss"],
                      InKernelStudent(ns), None, ASSIGNMENT.hints)
    assert not v.passed and v.mistake == "not_averaged"
    assert "W (4, 6)" in v.message        # judged on the drawn inputs, not the usual ones
