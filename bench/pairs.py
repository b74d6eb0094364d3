"""Interleaved timing: every contender once per round, the order turned each round.

On a shared machine the load drifts over minutes; timing all of A, then all of B,
would charge the drift to one side. Here each round runs every contender back to
back (the order reversed on odd rounds), and a ratio is taken within a round, so a
busy minute weighs on both sides of it. The load average is read before each run.
"""
import os
import statistics
import time


def load1():
    """The 1-minute load average (the number of runnable tasks, over 2 cores here)."""
    return os.getloadavg()[0]


def _cpu_times():
    """(busy, total) CPU jiffies of the whole machine so far (/proc/stat's first line)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)       # idle + iowait
    return sum(fields) - idle, sum(fields)


def settle(quiet=0.1, window=0.25, limit=10.0):
    """Wait for a quiet machine: at most `quiet` of its CPU time busy over `window` s, so
    that what the run before left behind (a kernel shutting down, files written back)
    is over before the next one is timed; at most `limit` s. Seconds waited (0.0 where
    /proc/stat cannot be read)."""
    start = time.perf_counter()
    try:
        busy0, total0 = _cpu_times()
        while time.perf_counter() - start < limit:
            time.sleep(window)
            busy1, total1 = _cpu_times()
            if total1 > total0 and (busy1 - busy0) / (total1 - total0) <= quiet:
                break
            busy0, total0 = busy1, total1
    except (OSError, ValueError, IndexError):
        return 0.0
    return time.perf_counter() - start


def rounds(contenders, n, log=print):
    """Run each of `contenders` ({name: fn() -> seconds}) once per round, `n` rounds,
    each run started on a quiet machine (`settle`).

    Returns {"seconds": {name: [s per round]}, "load": [load before each run], "order":
    [[names in the order run] per round], "settled": [seconds waited before each run]}.
    """
    names = list(contenders)
    res = {"seconds": {k: [] for k in names}, "load": [], "order": [], "settled": []}
    for i in range(n):
        order = names if i % 2 == 0 else names[::-1]
        res["order"].append(order)
        for name in order:
            res["settled"].append(settle())
            res["load"].append(load1())
            t = contenders[name]()
            res["seconds"][name].append(t)
            log(f"    round {i + 1}/{n}: {name}: {t:.2f} s (load {res['load'][-1]:.1f})")
    return res


def ratio(res, slow, fast):
    """Per-round ratios seconds[slow] / seconds[fast]: {"median", "min", "max", "all"}."""
    r = [s / f for s, f in zip(res["seconds"][slow], res["seconds"][fast])]
    return {"median": statistics.median(r), "min": min(r), "max": max(r), "all": r}


def summary(values):
    """{"median", "min", "max"} of a list of seconds."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def load_span(res):
    return min(res["load"]), max(res["load"])


def timed(fn):
    """fn() -> seconds of wall clock it took (fn's return value is dropped)."""
    def run():
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0
    return run
