"""Single-submission latency: what one student waits for (the Gradescope case).

Whole command, wall clock, one correct notebook, sandbox on: `python -m
autograder grade` against plain `nbgrader autograde` on the same notebook.
Median of several runs, each from a cold process (start-up included).
"""
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import throughput
from autograder.assignments.softmax import REPO

RUNS = 5


def _ours(folder, out):
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "autograder", "grade", str(folder), "--out", str(out),
                    "--no-progress"], check=True, cwd=REPO, env=throughput._env(),
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def measure(notebook, runs=RUNS, nbgrader_runs=3):
    """{"ours": [seconds...], "nbgrader": [seconds...]} for one notebook."""
    res = {"ours": [], "nbgrader": []}
    with tempfile.TemporaryDirectory(prefix="latency-") as tmp:
        tmp = Path(tmp)
        one = tmp / "one" / "student"
        one.mkdir(parents=True)
        shutil.copy(notebook, one / "softmax.ipynb")
        for i in range(runs):
            res["ours"].append(_ours(one.parent, tmp / f"out{i}"))
        for i in range(nbgrader_runs):
            wall, _setup, graded = throughput.run_nbgrader(one.parent, tmp / f"course{i}", 1)
            assert graded == 1
            res["nbgrader"].append(wall)
    res["ours_median"] = statistics.median(res["ours"])
    res["nbgrader_median"] = statistics.median(res["nbgrader"])
    return res
