"""The speed check's reliability: false fails and false passes over many runs.

Runs the real check (`SandboxStudent` in its bubblewrap jail + `ProcessTimer`
+ `checks.run_check`, i.e. `autograder.check.timing.compare`) on correct vectorized
solutions (the notebook's, and the slowest honest style we know, scipy's
logsumexp) and on right answers computed with a Python loop over the examples in
every style of `samples/loops.py` (the leanest, the one a bar must stop, first),
idle and with the other core kept busy by a spinning process. Each run gets a
fresh jail, as each student does when graded, so the first (cold) calls weigh
as they do in grading; the reference timer is shared, as a grading thread
shares it. A loop that only adds floats (`loops.FLOAT_SUM`), or reads the arrays
with `.item()` (`loops.ITEM_READS`), is reported apart: no timing can fail it
without failing honest code (see their comments).
"""
import contextlib
import re
import statistics
import subprocess
import sys
import time
from unittest import mock

from autograder.assignments.softmax import ASSIGNMENT, checks
from autograder.check.registry import run_check as _run
from autograder.check.runner import ProcessTimer, SandboxStudent
from autograder.assignments.softmax.samples import reference_cells
from autograder.assignments.softmax.samples.loops import FLOAT_SUM, ITEM_READS, LOOP_STYLES
from autograder.assignments.softmax.samples.mistakes import MISTAKES
from autograder.assignments.softmax.samples.styles import STYLES
from autograder.sandbox import JailSettings, modes


def run_check(test_id, student, timer=None):
    """A check of the softmax registry by test id, with the softmax hints."""
    return _run(checks.REGISTRY[test_id], student, timer, ASSIGNMENT.hints)


TEST_ID = "test_softmax_loss_vectorized_speed"
PRELUDE = ("imports", "import numpy as np")
V = "softmax_loss_vectorized"
# The two that decide: the slowest honest vectorization and the leanest loop.
SLOWEST_HONEST, LEANEST_LOOP = "scipy_logsumexp", "cheap scalar work"


# Runs of the others, as a share of the two that decide: a loop near the bar (3-4x against
# 5x) gets a quarter; those far from it (about 1x and below, seconds a run) a few runs each.
NEAR_THE_BAR = {"scalar gather"}


def solutions():
    """name -> (cells, should pass (None: a known limit, not counted), share of the runs)."""
    rows = {
        f"correct ({SLOWEST_HONEST}, the slowest honest style)": (
            [PRELUDE, (V, STYLES[SLOWEST_HONEST][V])], True, 1.0),
        "correct (the notebook's)": ([PRELUDE, (V, reference_cells()[V])], True, 0.1),
        f"loop: {LEANEST_LOOP} (the leanest)": ([PRELUDE, (V, LOOP_STYLES[LEANEST_LOOP])],
                                                False, 1.0),
    }
    for name, src in LOOP_STYLES.items():
        if name != LEANEST_LOOP:
            rows[f"loop: {name}"] = ([PRELUDE, (V, src)], False,
                                     0.25 if name in NEAR_THE_BAR else 0.05)
    hidden = MISTAKES["vectorized_hidden_loop"]
    rows["loop: hidden from the code check"] = ([PRELUDE, (hidden[0], hidden[1])], False, 0.05)
    rows["limit: a loop that only adds floats"] = ([PRELUDE, (V, FLOAT_SUM)], None, 0.05)
    rows["limit: a loop that reads arrays with .item()"] = ([PRELUDE, (V, ITEM_READS)], None,
                                                            0.05)
    return rows


@contextlib.contextmanager
def busy_core(on=True):
    """A process spinning on one core for the duration (killed afterwards)."""
    if not on:
        yield None
        return
    p = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        yield p
    finally:
        p.kill()
        p.wait()


def run_config(cells, runs, busy, unsafe=False):
    """(verdicts, messages, seconds) of `runs` speed checks, a fresh jail each."""
    timer = ProcessTimer(ASSIGNMENT.timer_reference)
    jail = JailSettings(mode=modes.UNSAFE if unsafe else modes.select("bubblewrap"))
    passed, messages = [], []
    t0 = time.perf_counter()
    try:
        with busy_core(busy):
            for _ in range(runs):
                student = SandboxStudent(cells, jail=jail)
                try:
                    student.start()
                    v = run_check(TEST_ID, student, timer)
                finally:
                    student.close()
                passed.append(v.passed)
                messages.append(v.message)
    finally:
        timer.close()
    return passed, messages, time.perf_counter() - t0


def ratio_of(message):
    """The median ratio a verdict's message states ("9x faster", "only 1.0x faster")."""
    m = re.search(r"(\d+(?:\.\d+)?)x faster", message)
    return float(m.group(1)) if m else None


def measure(runs=100, unsafe=False, log=print):
    """Rows for the report: one per (solution, load), of the timing alone: the check's
    reading of the code (`checks.loops_reached`, which fails every loop these samples
    write before any timing) is switched off, so the timing's own false passes and
    false fails are what is counted."""
    with mock.patch.object(checks, "loops_reached", lambda sources, fn: []):
        return _measure(runs, unsafe, log)


def _measure(runs, unsafe, log):
    rows = []
    for name, (cells, should_pass, share) in solutions().items():
        for busy in (False, True):
            passed, messages, secs = run_config(cells, max(1, round(runs * share)), busy, unsafe)
            wrong = 0 if should_pass is None else sum(1 for p in passed if p != should_pass)
            ratios = [r for r in map(ratio_of, messages) if r is not None]
            row = {"solution": name, "load": "other core busy" if busy else "idle",
                   "runs": len(passed), "should_pass": should_pass, "decides": share == 1.0,
                   "passed": sum(passed), "wrong": wrong, "seconds": secs,
                   "ratio_min": min(ratios, default=None),
                   "ratio_median": statistics.median(ratios) if ratios else None,
                   "ratio_max": max(ratios, default=None),
                   "sample_message": next((m for p, m in zip(passed, messages)
                                           if should_pass is not None and p != should_pass),
                                          messages[0] if messages else "")}
            span = (f"ratio {row['ratio_min']:g}..{row['ratio_max']:g}x, median "
                    f"{row['ratio_median']:g}x" if ratios else "no ratio")
            log(f"  speed check: {name:48s} {row['load']:16s} {row['passed']:3d}/{row['runs']} "
                f"passed, {wrong} wrong, {span} ({secs:.0f} s)")
            rows.append(row)
    return rows


if __name__ == "__main__":
    measure(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
