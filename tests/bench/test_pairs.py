"""Interleaved rounds start each run on a quiet machine."""
import importlib

import pytest

from tests.conftest_paths import REPO


@pytest.fixture
def pairs(monkeypatch):
    """bench/pairs.py (bench/ holds scripts, not a package: imported from its folder)."""
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    return importlib.import_module("pairs")


def fake_cpu(monkeypatch, pairs, busy_fractions):
    """/proc/stat as a machine whose CPU is busy by each fraction in turn, per window."""
    state = {"busy": 0, "total": 0, "left": list(busy_fractions)}

    def times():
        return state["busy"], state["total"]

    def sleep(_):
        f = state["left"].pop(0) if state["left"] else busy_fractions[-1]
        state["busy"] += int(100 * f)
        state["total"] += 100
    monkeypatch.setattr(pairs, "_cpu_times", times)
    monkeypatch.setattr(pairs.time, "sleep", sleep)
    return state


def test_settle_waits_until_a_window_is_quiet(monkeypatch, pairs):
    state = fake_cpu(monkeypatch, pairs, [0.9, 0.5, 0.05, 0.9])
    pairs.settle(quiet=0.1, window=0.25, limit=10.0)
    assert state["left"] == [0.9]              # stopped at the first quiet window


def test_settle_gives_up_after_its_limit(monkeypatch, pairs):
    fake_cpu(monkeypatch, pairs, [1.0])
    clock = iter(range(100))
    monkeypatch.setattr(pairs.time, "perf_counter", lambda: next(clock))
    assert pairs.settle(quiet=0.1, window=0.25, limit=5.0) == pytest.approx(6, abs=1)


def test_every_run_of_a_round_is_settled_first(monkeypatch, pairs):
    calls = []
    monkeypatch.setattr(pairs, "settle", lambda: calls.append("settle") or 0.0)
    res = pairs.rounds({"a": lambda: calls.append("a") or 1.0,
                        "b": lambda: calls.append("b") or 2.0}, 2, log=lambda *a: None)
    assert calls == ["settle", "a", "settle", "b", "settle", "b", "settle", "a"]
    assert res["settled"] == [0.0] * 4 and res["seconds"] == {"a": [1.0, 1.0], "b": [2.0, 2.0]}
