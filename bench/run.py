"""`make bench`: ours against Otter-Grader and plain nbgrader on the same submissions,
our grader at scale, the speed check's reliability, the loss kernel, the notebook.

    python bench/run.py [SECTION ...]     sections: latency imports batch scale speed kernel notebook
    python bench/run.py report            REPORT.md from the sections saved so far

Each section saves what it measured, with its date, commit and load average, in
bench/out/<section>.json; REPORT.md is then written from every saved section, so a
section can be measured again alone (on a shared machine: when it is quietest).
With no SECTION, all are measured.

Knobs (environment): BENCH_ROUNDS (3: interleaved rounds of the one-notebook
comparison), BENCH_BATCH (8: submissions in the batch comparison, one of each sample),
BENCH_BATCH_ROUNDS (2), BENCH_SCALE (20,100,400), BENCH_SPEED_RUNS (100 per
configuration).
"""
import datetime
import json
import os
import platform
import shutil
import statistics
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
C_FLOPS = 2 * 10 * 3073 * 10000 / 1e9   # one (10 x 3073) @ (3073 x 10000) product


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
            "commit": rev + (" (autograder/ modified)" if dirty else ""), "blas_env": blas_env}


# ------------------------------------------------------------------ sections


def sec_latency(tmp, log):
    """One correct notebook, whole command, every grader once per round."""
    batch, _ = scale.make_batch(tmp / "all", 8)
    perfect = next(p for p in sorted(batch.iterdir()) if p.name.endswith("-perfect"))
    one = tmp / "one"
    (one / "student").mkdir(parents=True)
    shutil.copy(perfect / "softmax.ipynb", one / "student" / "softmax.ipynb")
    zip_path = peers.otter_autograder(tmp / "otter")
    course = peers.nbgrader_course(tmp / "course")
    ours_out, gb_out = tmp / "ours", tmp / "ours-gb"
    verdicts = {}

    def otter():
        t0 = time.perf_counter()
        peers._otter_one(zip_path, one / "student" / "softmax.ipynb", tmp / "otter-out")
        t = time.perf_counter() - t0
        verdicts["otter"] = peers.otter_scores(tmp / "otter-out")
        return t

    def nbgrader():
        t, scores = peers.run_nbgrader(course, one)
        verdicts["nbgrader"] = scores.get("student")
        return t

    contenders = {"ours": lambda: scale.run_ours(one, ours_out),
                  "ours_gradebook": lambda: scale.run_ours(one, gb_out, "--gradebook", "yes"),
                  "otter": otter, "nbgrader": nbgrader}
    res = pairs.rounds(contenders, _int("BENCH_ROUNDS", 3), log=log)
    verdicts["ours"] = peers.ours_scores(ours_out).get("student")
    timings = json.loads(next((ours_out / "results").glob("*.json")).read_text()).get("timings")
    return {"rounds": res, "verdicts": verdicts, "timings": timings}


def sec_imports(tmp, log):
    """What our own process imports for one notebook, with and without the course output."""
    batch, _ = scale.make_batch(tmp / "all", 8)
    perfect = next(p for p in sorted(batch.iterdir()) if p.name.endswith("-perfect"))
    one = tmp / "one"
    (one / "student").mkdir(parents=True)
    shutil.copy(perfect / "softmax.ipynb", one / "student" / "softmax.ipynb")
    return {"ours": scale.import_profile(one, tmp / "o1"),
            "ours_gradebook": scale.import_profile(one, tmp / "o2", "--gradebook", "yes")}


def sec_batch(tmp, log):
    """The same batch for all three: ours --jobs 2, Otter 2 at a time, nbgrader autograde."""
    n = _int("BENCH_BATCH", 8)
    batch, kinds = scale.make_batch(tmp / "b", n)
    zip_path = peers.otter_autograder(tmp / "otter")
    course = peers.nbgrader_course(tmp / "course")
    verdicts = {"ours": [], "otter": [], "nbgrader": []}
    out = tmp / "ours"

    def ours():
        t = scale.run_ours(batch, out, "--jobs", "2")
        verdicts["ours"].append(peers.ours_scores(out))
        return t

    def otter():
        shutil.rmtree(tmp / "otter-out", ignore_errors=True)
        t, scores = peers.run_otter(zip_path, batch, tmp / "otter-out", jobs=2)
        verdicts["otter"].append(scores)
        return t

    def nbgrader():
        t, scores = peers.run_nbgrader(course, batch)
        verdicts["nbgrader"].append(scores)
        return t

    res = pairs.rounds({"ours": ours, "otter": otter, "nbgrader": nbgrader},
                       _int("BENCH_BATCH_ROUNDS", 2), log=log)
    timings = [json.loads(f.read_text()).get("timings") or {}
               for f in sorted((out / "results").glob("*.json"))]
    return {"n": n, "kinds": kinds, "rounds": res, "verdicts": verdicts, "timings": timings}


def sec_scale(tmp, log):
    sizes = [int(s) for s in os.environ.get("BENCH_SCALE", "20,100,400").split(",") if s]
    return {"rows": scale.measure(sizes, tmp, log=log)}


def sec_speed(tmp, log):
    import speed_check
    return {"runs": _int("BENCH_SPEED_RUNS", 100),
            "rows": speed_check.measure(_int("BENCH_SPEED_RUNS", 100), log=log)}


def sec_kernel(tmp, log):
    import kernel
    return kernel.measure()


def sec_notebook(tmp, log):
    import notebook_time
    return notebook_time.measure()


def measure(section, log=print):
    """Run one section and save bench/out/<section>.json."""
    info = machine()
    started = datetime.datetime.now(datetime.timezone.utc)
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"bench-{section}-") as tmp:
        data = globals()[f"sec_{section}"](Path(tmp), log)
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
    for s in wanted:
        print(f"== {s} (load {os.getloadavg()[0]:.1f})")
        saved = measure(s)
        print(f"   {s}: {saved['seconds']:.0f} s")
    return write_report()


def write_report():
    from report import render
    saved = {s: json.loads((OUT / f"{s}.json").read_text())
             for s in SECTIONS if (OUT / f"{s}.json").exists()}
    text = render(saved, peers_versions=_versions_or_none())
    (HERE / "REPORT.md").write_text(text)
    print()
    print(text.split("\n## ")[1].split("\n", 1)[1])    # the summary table
    print(f"wrote {HERE / 'REPORT.md'}")
    return 0


def _versions_or_none():
    try:
        return peers.versions()
    except peers.PeersMissing:
        return None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
