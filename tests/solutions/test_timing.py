import time

import pytest

from timing import time_function


def test_returns_best_of_repeats():
    delays = iter([0.05, 0.01, 0.03])
    calls = []

    def f(tag):
        calls.append(tag)
        time.sleep(next(delays))

    best = time_function(f, "x", repeat=3)
    assert calls == ["x", "x", "x"]
    assert 0.009 <= best < 0.03  # the fastest (0.01 s) run, not the mean


def test_rejects_zero_repeat():
    with pytest.raises(ValueError):
        time_function(lambda: None, repeat=0)
