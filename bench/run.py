"""`make bench`: ours against Otter-Grader and plain nbgrader on the same submissions,
our grader at scale, the speed check's reliability, the loss kernel, the notebook.

    python bench/run.py [SECTION ...]     sections: latency imports batch scale speed kernel notebook
    python bench/run.py report            REPORT.md (and README's figures) from the sections saved

Each section saves what it measured, with its date, commit and load average, in
bench/out/<section>.json; then bench/REPORT.json (every saved section), bench/REPORT.md
and the README's benchmark figures (between `<!-- bench:KEY -->` markers) are written
from them, so a section can be measured again alone (on a shared machine: when it is
quietest). With no SECTION, all are measured: about 15 minutes on a quiet 2-core machine
(the report's header says how long each section took).

Knobs (environment; a quick look: BENCH_SECTIONS="latency batch" BENCH_ROUNDS=1 BENCH_BATCH=4):
BENCH_ROUNDS (interleaved rounds of both peer comparisons; default 5 for one notebook,
2 for the batch), BENCH_BATCH_ROUNDS (the batch's alone), BENCH_BATCH (8: submissions
in the batch comparison, the sample set in turn), BENCH_SCALE (20,100,400),
BENCH_SPEED_RUNS (100 per configuration of the two solutions that decide).
"""
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
sys.path[:0] = [str(REPO), str(HERE)]

import pairs             # noqa: E402
import peers             # noqa: E402
import scale             # noqa: E402

SECTIONS = ("latency", "imports", "batch", "scale", "speed", "kernel", "notebook")


def _int(name, default):
    return int(os.environ.get(name, default))


def machine():
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "autograder"], cwd=REPO,
                               capture_output=True, text=True).stdout.strip()
    except OSError:
        rev, dirty = "?", ""
    blas_env = {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS_", "OMP_", "MKL_"))}
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "commit": rev + (" (autograder/ modified)" if dirty else ""), "blas_env": blas_env,
            **probe()}


def probe():
    """How fast this machine is now, in two numbers that wall-clock figures taken at
    different times can be read against: a pure-Python loop (CPU), and the first touch
    of fresh memory per 4 KiB page (a virtual machine whose host reclaims the guest's
    free memory pays several microseconds a page; starting processes and importing
    modules touch tens of thousands of pages). Best of 3 each."""
    import mmap

    def loop():
        t = time.perf_counter()
        s = 0
        for i in range(1_000_000):
            s += i * i
        return time.perf_counter() - t

    def touch(mb=64):
        m = mmap.mmap(-1, mb << 20)
        try:
            t = time.perf_counter()
            for i in range(0, mb << 20, 4096):
                m[i] = 1
            return (time.perf_counter() - t) / (mb << 8)
        finally:
            m.close()
    return {"loop_ms": round(min(loop() for _ in range(3)) * 1e3, 1),
            "page_us": round(min(touch() for _ in range(3)) * 1e6, 2)}


# ------------------------------------------------------------------ sections


class Work:
    """What the sections share in one run, made on first use under `tmp`: the sample
    batch, one correct notebook alone, Otter's autograder.zip and nbgrader's course."""

    def __init__(self, tmp):
        self.tmp = Path(tmp)
        self._made = {}

    def _once(self, key, make):
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]

    def samples(self, n):
        """(folder of n submissions, kinds): the sample set in turn."""
        return self._once(("samples", n), lambda: scale.make_batch(self.tmp / f"samples-{n}", n))

    def one(self):
        """A folder holding one correct notebook (the sample `perfect`) as student/."""
        return self._once("one", lambda: scale.make_one(self.tmp / "one"))

    def otter_zip(self):
        return self._once("otter", lambda: peers.otter_autograder(self.tmp / "otter"))

    def course(self):
        return self._once("course", lambda: peers.nbgrader_course(self.tmp / "course"))


def _rounds(section, default):
    specific = os.environ.get(f"BENCH_{section.upper()}_ROUNDS")
    return int(specific or os.environ.get("BENCH_ROUNDS") or default)


def _given(folder):
    """The digest of the notebooks of a submissions folder (<student>/softmax.ipynb)."""
    return peers.submissions_digest(Path(folder).glob(f"*/{peers.NAME}.ipynb"))


def sec_latency(work, log):
    """One correct notebook, whole command, every grader once per round."""
    tmp = work.tmp / "latency"
    one = work.one()
    zip_path, course = work.otter_zip(), work.course()
    ours_out, gb_out = tmp / "ours", tmp / "ours-gb"
    verdicts = {}
    given = {k: [] for k in ("ours", "ours_gradebook", "otter", "nbgrader")}

    def ours(key, out, *extra):
        def run():
            given[key].append(_given(one))
            return scale.run_ours(one, out, *extra)
        return run

    def otter():
        notebook = one / "student" / f"{peers.NAME}.ipynb"
        given["otter"].append(peers.submissions_digest([notebook]))
        t0 = time.perf_counter()
        peers._otter_one(zip_path, notebook, tmp / "otter-out")
        t = time.perf_counter() - t0
        verdicts["otter"] = peers.otter_scores(tmp / "otter-out")
        shutil.rmtree(tmp / "otter-out")
        return t

    def nbgrader():
        t, scores, digest = peers.run_nbgrader(course, one)
        given["nbgrader"].append(digest)
        verdicts["nbgrader"] = scores.get("student")
        return t

    contenders = {"ours": ours("ours", ours_out),
                  "ours_gradebook": ours("ours_gradebook", gb_out, "--gradebook", "yes"),
                  "otter": otter, "nbgrader": nbgrader}
    res = pairs.rounds(contenders, _rounds("latency", 5), log=log)
    verdicts["ours"] = peers.ours_scores(ours_out).get("student")
    stored = next((ours_out / "results").glob("*.json"), None)
    timings = json.loads(stored.read_text()).get("timings") if stored else None
    return {"rounds": res, "verdicts": verdicts, "timings": timings, "given": given,
            "peers": peers.versions()}


def sec_imports(work, log):
    """What our own process imports for one notebook, with and without the course output."""
    one, tmp = work.one(), work.tmp / "imports"
    return {"ours": scale.import_profile(one, tmp / "o1"),
            "ours_gradebook": scale.import_profile(one, tmp / "o2", "--gradebook", "yes"),
            "rfc3987_syntax_alone_s": scale.import_seconds("rfc3987_syntax")}


def sec_batch(work, log):
    """The same batch for all three: ours --jobs 2, Otter 2 at a time, nbgrader autograde
    (one at a time: it has no other mode)."""
    n = _int("BENCH_BATCH", 8)
    tmp = work.tmp / "batch"
    batch, kinds = work.samples(n)
    zip_path, course = work.otter_zip(), work.course()
    verdicts = {"ours": [], "otter": [], "nbgrader": []}
    given = {k: [] for k in verdicts}
    out = tmp / "ours"

    def ours():
        given["ours"].append(_given(batch))
        t = scale.run_ours(batch, out, "--jobs", str(scale.JOBS))
        verdicts["ours"].append(peers.ours_scores(out))
        return t

    def otter():
        shutil.rmtree(tmp / "otter-out", ignore_errors=True)
        t, scores, digest = peers.run_otter(zip_path, batch, tmp / "otter-out", jobs=scale.JOBS)
        given["otter"].append(digest)
        verdicts["otter"].append(scores)
        return t

    def nbgrader():
        t, scores, digest = peers.run_nbgrader(course, batch)
        given["nbgrader"].append(digest)
        verdicts["nbgrader"].append(scores)
        return t

    res = pairs.rounds({"ours": ours, "otter": otter, "nbgrader": nbgrader},
                       _rounds("batch", 2), log=log)
    timings = [json.loads(f.read_text()).get("timings") or {}
               for f in sorted((out / "results").glob("*.json"))]
    return {"n": n, "kinds": kinds, "rounds": res, "verdicts": verdicts, "timings": timings,
            "given": given, "peers": peers.versions()}


def sec_scale(work, log):
    sizes = [int(s) for s in os.environ.get("BENCH_SCALE", "20,100,400").split(",") if s]
    return {"jobs": scale.JOBS, "rows": scale.measure(sizes, work.tmp / "scale", log=log)}


def sec_speed(work, log):
    import speed_check
    return {"runs": _int("BENCH_SPEED_RUNS", 100),
            "rows": speed_check.measure(_int("BENCH_SPEED_RUNS", 100), log=log)}


def sec_kernel(work, log):
    import kernel
    return kernel.measure()


def sec_notebook(work, log):
    import notebook_time
    return notebook_time.measure()


def measure(section, work, log=print):
    """Run one section and save bench/out/<section>.json."""
    info = machine()
    started = datetime.datetime.now(datetime.timezone.utc)
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    data = globals()[f"sec_{section}"](work, log)
    saved = {"section": section, "date": started.strftime("%Y-%m-%d %H:%M UTC"),
             "seconds": time.perf_counter() - t0, "load_start": load0,
             "load_end": os.getloadavg(), "machine": info, "data": data}
    OUT.mkdir(exist_ok=True)
    (OUT / f"{section}.json").write_text(json.dumps(saved, indent=1, default=float))
    return saved


def main(argv):
    if argv == ["report"]:          # only write REPORT.md from the saved sections
        return write_report()
    wanted = argv or list(SECTIONS)
    bad = [s for s in wanted if s not in SECTIONS]
    if bad:
        print(f"error: no section {', '.join(bad)}; sections: {' '.join(SECTIONS)}",
              file=sys.stderr)
        return 2
    if any(s in ("latency", "batch") for s in wanted):
        try:
            log_versions = peers.versions()
        except peers.PeersMissing as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print(f"peers: {log_versions}")
    compile_grader()
    t0 = time.perf_counter()
    failed = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Work(tmp)
        for s in wanted:
            print(f"== {s} (load {os.getloadavg()[0]:.1f})")
            # One section's failure costs that section only: the others of a long run
            # are still measured (its earlier save, if any, stays in the report, dated).
            try:
                saved = measure(s, work)
            except Exception as e:          # noqa: BLE001 - reported, and the exit code says so
                print(f"error: section {s} failed ({type(e).__name__}: {e}); "
                      f"rerun it alone: python bench/run.py {s}", file=sys.stderr)
                failed.append(s)
                continue
            print(f"   {s}: {saved['seconds']:.0f} s")
    print(f"measured {' '.join(wanted)} in {(time.perf_counter() - t0) / 60:.1f} minutes")
    rc = write_report()
    if failed:
        print(f"error: not measured: {' '.join(failed)} (see above)", file=sys.stderr)
        return 1
    return rc


def compile_grader(package=REPO / "autograder"):
    """Bytecode for every module of the grader (`package`), as an installed grader has it (pip
    compiles at install; a first run writes what is missing): where it may not be
    written (PYTHONDONTWRITEBYTECODE, as in some shells) each timed run compiled again
    every module changed since its bytecode was written, 35-50 ms of a one-notebook run
    (measured on 2 cores), and the peers' kernels, which import the checks, paid the same."""
    import compileall
    compileall.compile_dir(str(package), quiet=1)


def write_report():
    """bench/REPORT.json (every saved section), REPORT.md and the README's figures from it."""
    import report
    saved = {s: json.loads((OUT / f"{s}.json").read_text())
             for s in SECTIONS if (OUT / f"{s}.json").exists()}
    dumped = json.dumps({"sections": saved}, indent=1) + "\n"
    (HERE / "REPORT.json").write_text(dumped)
    data = json.loads(dumped)       # exactly what the test renders again
    text = report.render(data)
    (HERE / "REPORT.md").write_text(text)
    readme = REPO / "README.md"
    readme.write_text(report.fill_readme(readme.read_text(), report.readme_figures(data)))
    print()
    print(text.split("\n## ")[1].split("\n", 1)[1])    # the summary table
    print(f"wrote {HERE / 'REPORT.json'}, {HERE / 'REPORT.md'} and the figures in {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
