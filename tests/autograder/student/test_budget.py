"""Issue 8, class 5: a student's code ends within its wall-clock budget.

Code that sleeps just under the per-call timeout at every request (in its
cells, in every function) used to hold its row for ~35 timeouts. With a
budget, every request waits at most what is left of it, and then every call
fails at once with `timeout` and a message naming the budget.
"""
import time

import numpy as np
import pytest

from autograder.sandbox import bwrap_available
from autograder.student import SandboxStudent
from tests.autograder.helpers import jail

UNSAFE = not bwrap_available()
TIMEOUT, BUDGET = 1.0, 4.0

SLEEPY_CELLS = [
    ("imports", "import numpy as np\nimport time"),
    *[(f"cell{i}", f"time.sleep({TIMEOUT * 0.9})\n"
                   f"def f{i}(x):\n    time.sleep({TIMEOUT * 0.9})\n    return x\n")
      for i in range(8)],
]


def _student(cells, budget=BUDGET):
    return SandboxStudent(cells, jail=jail(unsafe=UNSAFE, timeout=TIMEOUT, budget=budget))


def test_sleeping_cells_and_calls_end_within_the_budget():
    t0 = time.monotonic()
    student = _student(SLEEPY_CELLS)
    try:
        outs = []
        for i in range(8):
            outs += student.call(f"f{i}", [(np.ones(1),)])
        elapsed = time.monotonic() - t0
    finally:
        student.close()
    assert elapsed < BUDGET + 2.0, elapsed       # jail start-up and kill as slack
    assert student.out_of_budget()
    assert "timeout" in student.flags
    late = [o for o in outs if not o.ok]
    assert late and all("time budget of 4 s for this student ran out" in o.error
                        for o in late[-2:]), [o.error for o in outs]


def test_timed_calls_respect_the_budget_too():
    student = _student([("imports", "import numpy as np\nimport time"),
                        ("f", f"def f(x):\n    time.sleep({TIMEOUT * 0.9})\n    return x\n")],
                       budget=2.5)
    t0 = time.monotonic()
    try:
        results = [student.timed("f", (np.ones(1),)) for _ in range(6)]
    finally:
        student.close()
    assert time.monotonic() - t0 < 2.5 + 2.0
    seconds, out = results[-1]
    assert seconds == float("inf") and "budget" in out.error


def test_an_honest_student_never_notices_the_budget():
    student = _student([("imports", "import numpy as np"),
                        ("f", "def f(x):\n    return x + 1\n")])
    try:
        outs = [student.call("f", [(np.ones(2),)])[0] for _ in range(20)]
    finally:
        student.close()
    assert all(o.ok for o in outs) and not student.out_of_budget()
    assert "timeout" not in student.flags


def test_no_budget_means_only_the_per_call_timeout():
    student = SandboxStudent([("f", "def f():\n    return 1\n")],
                             jail=jail(unsafe=UNSAFE, timeout=5))
    try:
        assert not student.out_of_budget() and student.budget is None
        assert student.call("f", [()])[0].ok
    finally:
        student.close()


@pytest.mark.parametrize("timeout,expected", [(30, 240), (5, 120), (60, 480)])
def test_default_budget(timeout, expected):
    from autograder.pipeline import default_budget
    assert default_budget(timeout) == expected
