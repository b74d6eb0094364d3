"""Our grader at growing batch sizes: seconds per submission, peak memory, OUT's size.

Peak memory is of the whole process tree of the command (the grader, its reader and
timer children, every jail), sampled from /proc every 50 ms: the sum of the resident
sets of all its processes at the sampled moment with the most.
"""
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from autograder.assignments.softmax import REPO

PAGE = os.sysconf("SC_PAGE_SIZE")
JOBS = 2        # workers of every batch we time (the default on 2 cores, stated for others)


def make_batch(folder, n):
    """n submissions in folder/submissions: the sample set in turn (perfect, blank, the
    mistakes, a style), as s000-<kind>/softmax.ipynb. Returns (folder, kinds)."""
    from autograder.assignments.softmax.samples import write_samples
    folder = Path(folder)
    samples = folder / "_samples"
    write_samples(samples)
    kinds = sorted(p.name for p in samples.iterdir())
    batch = folder / "submissions"
    for i in range(n):
        kind = kinds[i % len(kinds)]
        dest = batch / f"s{i:03d}-{kind}"
        dest.mkdir(parents=True)
        shutil.copy(samples / kind / "softmax.ipynb", dest / "softmax.ipynb")
    shutil.rmtree(samples)
    return batch, kinds


def make_one(folder):
    """folder/student/softmax.ipynb: one correct notebook (the sample `perfect`); folder."""
    from autograder.assignments.softmax.samples import build, write
    write(folder, "student", build())
    return Path(folder)


def env():
    e = dict(os.environ)
    e["PATH"] = str(Path(sys.executable).parent) + os.pathsep + e.get("PATH", "")
    return e


def ours_command(batch, out, *extra):
    return [sys.executable, "-m", "autograder", "grade", str(batch), "--out", str(out),
            "--no-progress", *extra]


def run_ours(batch, out, *extra):
    """Wall seconds of the whole command (start-up, grading, every report)."""
    shutil.rmtree(out, ignore_errors=True)     # a fresh OUT: no result is reused
    t0 = time.perf_counter()
    subprocess.run(ours_command(batch, out, *extra), check=True, cwd=REPO, env=env(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _tree(pid):
    pids, frontier = [], [pid]
    while frontier:
        p = frontier.pop()
        pids.append(p)
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    frontier += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            pass
    return pids


def _rss(pid):
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return 0


def run_measured(batch, out, *extra):
    """(wall seconds, peak tree RSS bytes, processes at that peak) of our command."""
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen(ours_command(batch, out, *extra), cwd=REPO, env=env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = [0, 0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            pids = _tree(proc.pid)
            total = sum(_rss(p) for p in pids)
            if total > peak[0]:
                peak[:] = [total, len(pids)]
            done.wait(0.05)
    t = threading.Thread(target=sample, daemon=True)
    t.start()
    rc = proc.wait()
    wall = time.perf_counter() - t0
    done.set()
    t.join()
    if rc != 0:
        raise subprocess.CalledProcessError(rc, proc.args)
    return wall, peak[0], peak[1]


def du(folder):
    """Bytes of the files under folder."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def measure(sizes, work, log=print):
    """One row per batch size: n, seconds, s/submission, peak MB, OUT MB and KB/submission
    (`--jobs JOBS`, a fresh OUT, the whole command)."""
    from pairs import load1
    rows = []
    for n in sizes:
        folder = Path(work) / f"scale-{n}"
        batch, _ = make_batch(folder, n)
        load = load1()
        wall, peak, procs = run_measured(batch, folder / "out", "--jobs", str(JOBS))
        size = du(folder / "out")
        rows.append({"n": n, "seconds": wall, "per_submission": wall / n,
                     "peak_mb": peak / 1e6, "peak_processes": procs, "out_mb": size / 1e6,
                     "out_kb_per_submission": size / n / 1e3, "load_before": load,
                     "load_after": load1()})
        log(f"  {n} submissions: {wall:.1f} s = {wall / n:.2f} s/submission, peak "
            f"{peak / 1e6:.0f} MB ({procs} processes), OUT {size / 1e6:.1f} MB "
            f"(load {load:.1f} -> {rows[-1]['load_after']:.1f})")
        shutil.rmtree(folder)
    return rows


def import_profile(batch, out, *extra, top=10):
    """`python -X importtime` of our command: {"total_s", "top": [(module, seconds)] of the
    top-level imports by cumulative time, "modules": count, "rfc3987_syntax": imported?}."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = ours_command(batch, out, *extra)
    cmd[1:1] = ["-X", "importtime"]
    r = subprocess.run(cmd, cwd=REPO, env=env(), stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, check=True)
    rows = []
    for line in r.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        _, cumulative, name = line[len("import time:"):].split("|")
        if cumulative.strip().isdigit():
            # One space after the bar, then two more per level of nesting.
            rows.append((name[1:].rstrip(), int(cumulative) / 1e6))
    tops = [(n, s) for n, s in rows if not n.startswith(" ")]
    # A refused optional import is listed too, at a few microseconds: count only a real one.
    iri = max((s for n, s in rows if n.strip() == "rfc3987_syntax"), default=0.0)
    return {"total_s": sum(s for _, s in tops), "modules": len(rows),
            "top": sorted(tops, key=lambda t: -t[1])[:top], "rfc3987_syntax_s": iri}


def import_seconds(module, repeats=3):
    """Median wall seconds a fresh interpreter of ours takes to import `module`, less its
    own start (`python -c pass`); None when `module` is not installed."""
    def wall(code):
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-c", code], env=env(), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        return time.perf_counter() - t0 if r.returncode == 0 else None
    import statistics
    bare = statistics.median(wall("pass") for _ in range(repeats))
    runs = [wall(f"import {module}") for _ in range(repeats)]
    return None if None in runs else statistics.median(runs) - bare
