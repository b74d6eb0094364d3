"""`make bench`: the four performance figures of issue 5, side by side.

Writes bench/REPORT.md and prints the table. Knobs (environment):
BENCH_SUBMISSIONS (50), BENCH_NBGRADER (6), BENCH_SPEED_RUNS (100 per configuration).
"""
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(REPO), str(HERE)]

import kernel            # noqa: E402
import latency           # noqa: E402
import notebook_time     # noqa: E402
import speed_check       # noqa: E402
import throughput        # noqa: E402

C_FLOPS = 2 * 10 * 3073 * 10000 / 1e9   # one (10 x 3073) @ (3073 x 10000) product

N_SUBS = int(os.environ.get("BENCH_SUBMISSIONS", 50))
N_NBGRADER = int(os.environ.get("BENCH_NBGRADER", 6))
SPEED_RUNS = int(os.environ.get("BENCH_SPEED_RUNS", 100))


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
    except OSError:
        rev = "?"
    blas_env = {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS_", "OMP_", "MKL_"))}
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "commit": rev,
            "blas_env": blas_env}


def ok(flag):
    return "**pass**" if flag else "**FAIL**"


def main():
    t_all = time.perf_counter()
    info = machine()
    print(f"bench on {info['nproc']} x {info['cpu']}, {info['date']}")
    res = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        tmp = Path(tmp)
        print(f"1. throughput: {N_SUBS} submissions, ours with --jobs 2 ...")
        batch, kinds = throughput.make_batch(tmp, N_SUBS)
        wall, timings = throughput.run_ours(batch, tmp / "out", jobs=2)
        res["ours"] = (wall, len(timings), throughput.breakdown(timings, wall, 2))
        print(f"   ours: {wall:.1f} s for {len(timings)} = {wall / N_SUBS:.2f} s/submission")
        print(f"   nbgrader autograde on {N_NBGRADER} of them ...")
        nwall, nsetup, ngraded = throughput.run_nbgrader(batch, tmp / "course", N_NBGRADER)
        res["nbgrader"] = (nwall, nsetup, ngraded)
        print(f"   nbgrader: {nwall:.1f} s for {ngraded} = {nwall / max(ngraded, 1):.2f} s/submission")
        print("1b. single-submission latency (whole command, one correct notebook) ...")
        perfect = next(p for p in sorted(batch.iterdir()) if p.name.endswith("-perfect"))
        res["latency"] = latency.measure(perfect / "softmax.ipynb")
        print(f"   ours: {res['latency']['ours_median']:.2f} s, nbgrader autograde: "
              f"{res['latency']['nbgrader_median']:.2f} s (medians)")
    print(f"2. speed check reliability: {SPEED_RUNS} runs x 4 configurations ...")
    res["speed"] = speed_check.measure(SPEED_RUNS)
    print("3. kernel at C=10, D=3073, N=10000 ...")
    res["kernel"] = kernel.measure()
    print("4. reference notebook (nbclient) ...")
    res["notebook"] = notebook_time.measure()
    print(f"   {res['notebook']['seconds']:.1f} s")
    res["total"] = time.perf_counter() - t_all
    report = render(info, kinds, res)
    (HERE / "REPORT.md").write_text(report)
    print()
    print(report.split("\n## ")[1].split("\n", 1)[1])    # the summary table
    print(f"wrote {HERE / 'REPORT.md'} ({res['total']:.0f} s)")
    return 0


def render(info, kinds, res):
    wall, n_ours, parts = res["ours"]
    nwall, nsetup, ngraded = res["nbgrader"]
    ours_per = wall / max(n_ours, 1)
    nb_per = nwall / max(ngraded, 1)
    speedup = nb_per / ours_per if ours_per else float("nan")
    speed = res["speed"]
    false_fail = sum(r["wrong"] for r in speed if r["should_pass"])
    false_pass = sum(r["wrong"] for r in speed if not r["should_pass"])
    n_good = sum(r["runs"] for r in speed if r["should_pass"])
    n_bad = sum(r["runs"] for r in speed if not r["should_pass"])
    k = res["kernel"]["rows"]
    t_sum = k["X.sum() (one streaming read of X)"]["best"]
    t_ref = k["reference.softmax_loss (two GEMMs)"]["best"]
    t_blk = k["blocked.softmax_loss_blocked"]["best"]
    t_torch = k.get("PyTorch CPU cross_entropy + backward", {}).get("best")
    nbt = res["notebook"]

    L = []
    L.append("# Performance benchmark (issue 5)\n")
    L.append(f"Machine: {info['nproc']} cores, {info['cpu']}; Python {info['python']}; "
             f"{info['date']}; commit {info['commit']} (plus working tree). "
             f"Whole `make bench`: {res['total']:.0f} s.\n")
    L.append("## Summary\n")
    L.append("| # | figure | measured | goal | result |")
    L.append("|---|---|---|---|---|")
    L.append(f"| 1 | grading throughput, `python -m autograder grade --jobs 2` vs `nbgrader "
             f"autograde` | {ours_per:.2f} s/submission vs {nb_per:.2f} s/submission: "
             f"**{speedup:.1f}x** | >= 2x | {ok(speedup >= 2)} |")
    lat = res["latency"]
    L.append(f"| 1b | single-submission latency (wall, whole command, one correct notebook, "
             f"sandbox on) vs `nbgrader autograde` on the same notebook | "
             f"{lat['ours_median']:.2f} s vs {lat['nbgrader_median']:.2f} s "
             f"(medians of {len(lat['ours'])} and {len(lat['nbgrader'])} cold runs) | "
             f"<= 2.5 s | {ok(lat['ours_median'] <= 2.5)} |")
    L.append(f"| 2a | speed check, false fails of a correct vectorized solution | "
             f"{false_fail} / {n_good} | 0 | {ok(false_fail == 0)} |")
    L.append(f"| 2b | speed check, false passes of a hidden loop over examples | "
             f"{false_pass} / {n_bad} | 0 | {ok(false_pass == 0)} |")
    L.append(f"| 3a | blocked loss+grad vs one read of X (`X.sum()`) | {t_blk * 1e3:.0f} ms vs "
             f"{t_sum * 1e3:.1f} ms: **{t_blk / t_sum:.1f}x** | <= 2x | {ok(t_blk <= 2 * t_sum)} |")
    if t_torch:
        L.append(f"| 3b | blocked vs PyTorch CPU cross_entropy + backward | {t_blk * 1e3:.0f} ms vs "
                 f"{t_torch * 1e3:.0f} ms: **{t_torch / t_blk:.1f}x faster** | ahead (> 1x) | "
                 f"{ok(t_blk < t_torch)} |")
    else:
        L.append(f"| 3b | blocked vs PyTorch | not measured: {res['kernel']['torch']} | ahead | n/a |")
    L.append(f"| 3c | blocked vs two-GEMM `reference.softmax_loss` (no goal) | {t_blk * 1e3:.0f} ms vs "
             f"{t_ref * 1e3:.0f} ms: {t_ref / t_blk:.1f}x faster | - | - |")
    L.append(f"| 4 | whole reference notebook (nbclient, {nbt['cells']} code cells, "
             f"{nbt['errors']} errors) | {nbt['seconds']:.1f} s | < 30 s | "
             f"{ok(nbt['seconds'] < 30 and nbt['errors'] == 0)} |")
    L.append("")

    L.append("## 1. Grading throughput\n")
    L.append(f"Batch: {n_ours} submissions, copies of the sample set in turn ({', '.join(kinds)}). "
             f"Ours: `python -m autograder grade SUBS --out OUT --jobs 2 --no-progress`, sandbox "
             f"(bubblewrap) on, whole command timed (start-up, grading, gradebook, reports): "
             f"{wall:.1f} s.")
    L.append(f"nbgrader: plain `nbgrader autograde softmax --create` in a temporary course "
             f"folder (source = a copy of solutions/, `generate_assignment` first, not timed: "
             f"{nsetup:.0f} s), on the first **{ngraded}** submissions of the same batch only, "
             f"to stay inside the 10-minute budget: {nwall:.1f} s. The figure compared is "
             f"seconds per submission. nbgrader runs each whole notebook in a fresh kernel, "
             f"one at a time.\n")
    L.append("Where our grader's time goes (seconds per submission, summed over the two "
             "workers; per-student `timings` from `OUT/results/*.json`):\n")
    L.append("| part | s / submission | share |")
    L.append("|---|---|---|")
    total_slot = sum(v for _, v in parts) or 1.0
    for name, v in parts:
        label = {"start_and_cells": "jail start + running the student's cells"}.get(name, name)
        L.append(f"| {label} | {v:.3f} | {100 * v / total_slot:.0f}% |")
    L.append("")

    L.append("## 2. Speed check reliability\n")
    L.append(f"The real check: `SandboxStudent` (bubblewrap) + `ProcessTimer` + "
             f"`checks.run_check('test_softmax_loss_vectorized_speed', ...)`, a fresh jail "
             f"per run (as each student gets), {SPEED_RUNS} runs each"
             f"{'' if SPEED_RUNS >= 100 else ' (fewer than the 100 asked, set by BENCH_SPEED_RUNS)'}"
             f". \"Other core busy\": "
             f"a `python -c 'while True: pass'` process running throughout, killed afterwards.\n")
    L.append("| solution | load | runs | passed | wrong verdicts | seconds |")
    L.append("|---|---|---|---|---|---|")
    for r in speed:
        L.append(f"| {r['solution']} | {r['load']} | {r['runs']} | {r['passed']} | "
                 f"{r['wrong']} | {r['seconds']:.0f} |")
    wrong_msgs = sorted({r["sample_message"] for r in speed if r["wrong"]})
    if wrong_msgs:
        L.append("\nMessages of wrong verdicts: " + "; ".join(f"\"{m}\"" for m in wrong_msgs))
    L.append("")

    L.append("## 3. Kernel: loss + gradient at C = 10, D = 3073, N = 10000\n")
    L.append(f"X is {res['kernel']['bytes_X'] / 1e6:.0f} MB (float64, C order). Best of 7 "
             f"after a warm-up call; every kernel's result is checked against "
             f"`reference.softmax_loss`. {res['kernel']['torch']}.\n")
    L.append("| kernel | best ms | median ms | / X.sum() |")
    L.append("|---|---|---|---|")
    for name, r in k.items():
        L.append(f"| {name} | {r['best'] * 1e3:.1f} | {r['median'] * 1e3:.1f} | "
                 f"{r['best'] / t_sum:.1f}x |")
    t_gemm = k.get("one GEMM W @ X alone (the loss needs two)", {}).get("best")
    if t_gemm:
        L.append(f"\n**Why 3a misses 2x here.** Loss and gradient need two products with X "
                 f"(scores `W @ X` and `dW = G @ X.T`, 2 x {C_FLOPS:.2f} GFLOP). With C = 10 "
                 f"rows they are compute-bound in this BLAS: one of them alone takes "
                 f"{t_gemm * 1e3:.0f} ms = {t_gemm / t_sum:.1f}x a read of X, so two take at "
                 f"least ~{2 * t_gemm / t_sum:.1f}x, whatever the blocking. The blocked kernel "
                 f"reads X from memory once and reaches {t_blk / (2 * t_gemm):.2f}x of that "
                 f"two-GEMM floor; getting within 2x of a read would need a faster GEMM "
                 f"(float32, or a hand-written kernel), not better memory traffic.")
    L.append("\nBlock size sweep for `softmax_loss_blocked` (best of 3, ms): " +
             ", ".join(f"{b}: {t * 1e3:.0f}" for b, t in res["kernel"]["sweep"].items()) + ".")
    blas = res["kernel"]["blas"]
    L.append(f"\nBLAS (threadpoolctl): {blas if blas else 'not available'}; "
             f"BLAS environment variables: {info['blas_env'] or 'none set'}.\n")

    L.append("## 4. Reference notebook\n")
    L.append(f"`solutions/softmax/softmax.ipynb` run top to bottom with nbclient (kernel "
             f"python3, cwd solutions/softmax), kernel start included: {nbt['seconds']:.1f} s, "
             f"{nbt['errors']} error outputs.\n")
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    sys.exit(main())
