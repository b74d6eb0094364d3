"""Grading throughput: `python -m autograder grade --jobs 2` against plain
`nbgrader autograde` on the same batch of sample submissions."""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from autograder.assignments.softmax import ASSIGNMENT, REPO

NAME = ASSIGNMENT.name


def make_batch(folder, n):
    """n submissions: copies of the sample set (perfect, blank, mistakes, a style)."""
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


def _env():
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def run_ours(batch, out, jobs=2):
    """(wall seconds, per-student timings dicts)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "autograder", "grade", str(batch), "--out", str(out),
                    "--jobs", str(jobs), "--no-progress"], check=True, cwd=REPO, env=_env(),
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    timings = []
    for f in sorted((Path(out) / "results").glob("*.json")):
        timings.append(json.loads(f.read_text()).get("timings") or {})
    return wall, timings


def run_nbgrader(batch, course, n):
    """(wall seconds of `nbgrader autograde` on the first n submissions, setup seconds)."""
    course = Path(course)
    t0 = time.perf_counter()
    shutil.copytree(REPO / "solutions", course / "source")
    db = f"sqlite:///{course}/gradebook.db"
    common = [f"--CourseDirectory.root={course}", f"--CourseDirectory.db_url={db}",
              "--CourseDirectory.source_directory=source",
              "--CourseDirectory.release_directory=release", "--log-level=ERROR"]
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", NAME, "--force",
                    *common], check=True, cwd=course, env=_env(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subs = sorted(Path(batch).iterdir())[:n]
    for s in subs:
        dest = course / "submitted" / s.name / NAME
        dest.mkdir(parents=True)
        shutil.copy(s / "softmax.ipynb", dest / "softmax.ipynb")
        # Students upload the notebook; helper modules come from the release.
        for helper in (REPO / "solutions" / NAME).glob("*.py"):
            shutil.copy(helper, dest / helper.name)
    setup = time.perf_counter() - t0
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", NAME, "--create", *common],
                   check=True, cwd=course, env=_env(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    graded = len(list((course / "autograded").glob(f"*/{NAME}/{NAME}.ipynb")))
    return wall, setup, graded


def breakdown(timings, wall, jobs):
    """Where our grader's time goes, in CPU-slot seconds per submission."""
    n = max(len(timings), 1)
    parts = {}
    for t in timings:
        for k, v in t.items():
            parts[k] = parts.get(k, 0.0) + v
    grading = sum(parts.values())
    # Workers run `jobs` students at once: wall * jobs is the slot time spent;
    # what the per-student timings do not cover is setup, reports and idle slots.
    rest = max(wall * jobs - grading, 0.0)
    rows = [(k, v / n) for k, v in sorted(parts.items(), key=lambda kv: -kv[1])]
    rows.append(("reports, gradebook, start-up (wall x jobs - grading)", rest / n))
    return rows
