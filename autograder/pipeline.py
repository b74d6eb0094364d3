"""The grading pipeline: find -> sandboxed run + checks -> gradebook -> reports.

Each stage hands plain data to the next. Results are saved one student at a
time as they finish, so an interrupted batch resumes where it stopped and a
student's result never depends on another's.
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from . import gradebook, reports
from .assignment import RELEASE, REPO, SOURCE, load_spec
from .discover import UsageError, find_submissions
from .notebook import read_submission
from .results import ResultStore, StudentResult, file_sha256, grader_fingerprint
from .runner import ProcessTimer, grade_code
from .sandbox import Limits, bwrap_available
from .sandbox.jail import JailCgroups


@dataclass
class Options:
    jobs: int = 0             # 0: one per core
    timeout: float = 30.0     # seconds per cell / per call
    memory_mb: int = 1024
    unsafe: bool = False      # run without bubblewrap
    progress: bool = True


class _Timers:
    """One clean reference-timer process per grading thread, made on first use."""

    def __init__(self):
        self.local = threading.local()
        self.all = []
        self.lock = threading.Lock()

    def get(self):
        t = getattr(self.local, "timer", None)
        if t is None:
            t = self.local.timer = ProcessTimer()
            with self.lock:
                self.all.append(t)
        return t

    def close(self):
        for t in self.all:
            t.close()


def _check_paths(submissions, out):
    sub, out = Path(submissions).resolve(), Path(out).resolve()
    if out == sub or sub in out.parents:
        raise UsageError(f"--out {out} is inside the submissions folder; choose a folder outside it")


def grade_one(sub, spec, grader, opts, timers, secrets):
    code = read_submission(sub.notebook, spec)
    return grade_code(sub.student_id, code, spec, file_sha256(sub.notebook), grader,
                      timers.get, Limits(memory_mb=opts.memory_mb), opts.timeout, opts.unsafe,
                      secrets)


def _secrets(submissions, out):
    """Paths whose mere opening by student code is noted as tampering."""
    return [str(p.resolve()) for p in (REPO / "autograder", REPO / "solutions", REPO / "tests",
                                       REPO / "assignments", Path(submissions), Path(out))]


def grade(submissions, out, opts=Options(), spec=None):
    """Grade every submission; returns the StudentResults, sorted by student id."""
    if not opts.unsafe and not bwrap_available():
        raise UsageError("the sandbox (bubblewrap) is not available: install it "
                         "(Debian/Ubuntu: apt-get install bubblewrap), or pass "
                         "--unsafe-no-sandbox to run student code unconfined")
    _check_paths(submissions, out)
    subs = find_submissions(submissions)
    JailCgroups.remove_stale()
    spec = spec or load_spec()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    grader = grader_fingerprint([SOURCE, RELEASE])
    store = ResultStore(out)

    results, todo = {}, []
    for sub in subs:
        cached = store.load(sub.student_id, file_sha256(sub.notebook), grader)
        if cached is not None:
            results[sub.student_id] = cached
        else:
            todo.append(sub)

    jobs = opts.jobs or os.cpu_count() or 1
    timers = _Timers()
    bar = tqdm(total=len(subs), initial=len(results), unit="nb", desc="grading",
               disable=not opts.progress, dynamic_ncols=True)
    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        secrets = _secrets(submissions, out)
        futures = {pool.submit(grade_one, s, spec, grader, opts, timers, secrets): s
                   for s in todo}
        for fut in as_completed(futures):
            sub = futures[fut]
            try:
                result = fut.result()
                store.save(result)
            except Exception as e:  # noqa: BLE001 - a grader bug must not stop the batch
                result = StudentResult(sub.student_id, "", grader, flags=["crash"],
                                       problem=f"internal grader error: {type(e).__name__}: {e}")
            results[sub.student_id] = result
            bar.update(1)
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
        timers.close()

    ordered = [results[s.student_id] for s in subs]
    write_outputs(ordered, spec, out)
    return ordered


def write_outputs(results, spec, out):
    """The gradebook and every report, from the results alone."""
    out = Path(out)
    gradebook.record(results, spec, out / "gradebook.db")
    reports.write_grades_csv(results, spec, out / "grades.csv")
    for r in results:
        reports.write_feedback(r, spec, out)
        reports.write_gradescope(r, spec, out)
    reports.write_histogram(results, spec, out / "score_histogram.png")
