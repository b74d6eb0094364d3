"""A short version of `make bench`'s speed-check reliability measurement.

The real check (bubblewrap worker + clean timer process) while another
process keeps the other core busy: a correct vectorized solution always
passes, a loop over examples hidden from the code check never does.
"""
import contextlib
import subprocess
import sys
import time

import pytest

from autograder.assignments.softmax import ASSIGNMENT, checks
from autograder.check.registry import run_check as _run
from autograder.check.runner import ProcessTimer, SandboxStudent
from autograder.assignments.softmax.samples.loops import LOOP_STYLES
from autograder.assignments.softmax.samples.mistakes import MISTAKES
from autograder.assignments.softmax.samples.styles import STYLES
from autograder.sandbox import bwrap_available
from tests.autograder.helpers import jail


def run_check(test_id, student, timer=None):
    """A check of the softmax registry by test id, with the softmax hints."""
    return _run(checks.REGISTRY[test_id], student, timer, ASSIGNMENT.hints)


RUNS = 5
TEST_ID = "test_softmax_loss_vectorized_speed"
PRELUDE = ("imports", "import numpy as np")

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not bwrap_available(), reason="bubblewrap not available")]


@contextlib.contextmanager
def other_core_busy():
    p = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        yield
    finally:
        p.kill()
        p.wait()


def _verdicts(cells):
    """RUNS speed checks, each in a fresh jail as in grading, the other core busy."""
    timer = ProcessTimer(ASSIGNMENT.timer_reference)
    verdicts = []
    try:
        with other_core_busy():
            for _ in range(RUNS):
                student = SandboxStudent(cells, jail=jail())
                try:
                    verdicts.append(run_check(TEST_ID, student, timer))
                finally:
                    student.close()
    finally:
        timer.close()
    return verdicts


@pytest.mark.parametrize("style", ["einsum_logsumexp", "onehot_transposed", "scipy_logsumexp"])
def test_correct_vectorized_never_fails_on_a_busy_machine(style):
    cells = [PRELUDE, ("softmax_loss_vectorized", STYLES[style]["softmax_loss_vectorized"])]
    verdicts = _verdicts(cells)
    assert all(v.passed for v in verdicts), [v.message for v in verdicts]


def test_hidden_loop_never_passes_on_a_busy_machine():
    cell_id, source, _, _ = MISTAKES["vectorized_hidden_loop"]
    verdicts = _verdicts([PRELUDE, (cell_id, source)])
    assert not any(v.passed for v in verdicts)
    assert all(v.mistake == "too_slow" for v in verdicts), [v.message for v in verdicts]


@pytest.mark.parametrize("style", sorted(LOOP_STYLES))
def test_no_loop_over_the_examples_passes_on_a_busy_machine(style):
    """Every loop style, the leanest included (bench/speed_check.py counts 200 runs)."""
    verdicts = _verdicts([PRELUDE, ("softmax_loss_vectorized", LOOP_STYLES[style])])
    assert not any(v.passed for v in verdicts), [v.message for v in verdicts]
