"""The loop samples (samples/loops.py) are what they say: right answers, computed with
a Python loop over the examples, so the speed check's benchmark times real loops."""
import sys

import numpy as np
import pytest

from autograder.assignments.softmax import checks, reference
from autograder.assignments.softmax.samples.loops import FLOAT_SUM, ITEM_READS, LOOP_STYLES

SAMPLES = {**LOOP_STYLES, "FLOAT_SUM": FLOAT_SUM, "ITEM_READS": ITEM_READS}


def _function(src):
    ns = {"np": np}
    exec(compile(src, "<sample>", "exec"), ns)
    return ns["softmax_loss_vectorized"]


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_loop_sample_is_right(name):
    args = checks.speed_input(0, seed=7)
    loss, dW = _function(SAMPLES[name])(*args)
    want_loss, want_dW = reference.softmax_loss(*args)
    assert loss == pytest.approx(want_loss, rel=1e-9)
    np.testing.assert_allclose(dW, want_dW, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_loop_sample_loops_over_the_examples(name):
    # Some line of the sample runs once per example (N times), and the code check sees it.
    src = SAMPLES[name]
    assert checks.loops_reached([src], "softmax_loss_vectorized")
    fn, args, lines = _function(src), checks.speed_input(0, seed=7), []

    def trace(frame, event, arg):
        if event == "line" and frame.f_code.co_filename == "<sample>":
            lines.append(frame.f_lineno)
        return trace
    sys.settrace(trace)
    try:
        fn(*args)
    finally:
        sys.settrace(None)
    assert max(lines.count(n) for n in set(lines)) >= args[1].shape[1]
