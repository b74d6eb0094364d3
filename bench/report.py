"""bench/REPORT.md from the saved sections (bench/out/<section>.json, see run.py)."""
import statistics

import pairs

C_FLOPS = 2 * 10 * 3073 * 10000 / 1e9   # one (10 x 3073) @ (3073 x 10000) product
ONE_GOAL, ONE_GB_GOAL, BATCH_GOAL = 0.5, 1.5, 10.0


def ok(flag):
    return "**pass**" if flag else "**FAIL**"


def _span(v, fmt="{:.2f}"):
    return f"{fmt.format(v['median'])} ({fmt.format(v['min'])}-{fmt.format(v['max'])})"


def _ratio_text(r):
    return f"**{r['median']:.1f}x** ({r['min']:.1f}-{r['max']:.1f}x)"


def _load_text(s):
    lo, hi = pairs.load_span(s["data"]["rounds"])
    return f"{lo:.1f}-{hi:.1f}"


def _stamp(s):
    m = s["machine"]
    return (f"{s['date']}, commit {m['commit']}, load average {s['load_start'][0]:.1f} -> "
            f"{s['load_end'][0]:.1f} (1 min; {m['nproc']} cores), {s['seconds']:.0f} s")


def _agreement(verdicts, a, b):
    """(agreeing, total, [(student, test, a points, b points)]) over every round."""
    agree, total, diffs = 0, 0, []
    for ra, rb in zip(verdicts[a], verdicts[b]):
        for student, tests in sorted(ra.items()):
            other = rb.get(student)
            for test, pts in tests.items():
                total += 1
                theirs = None if other is None else other.get(test)
                if theirs is not None and abs(theirs - pts) < 1e-9:
                    agree += 1
                else:
                    diffs.append((student, test, pts, theirs))
    return agree, total, diffs


def render(saved, peers_versions=None):
    L = ["# Performance benchmark (issues 5 and 20)\n"]
    any_s = next(iter(saved.values()), None)
    if any_s:
        m = any_s["machine"]
        L.append(f"Machine: {m['nproc']} cores, {m['cpu']}; Python {m['python']}. Peers "
                 f"(bench/.venv-peers, pinned in bench/requirements-peers.txt): "
                 f"{', '.join(f'{k} {v}' for k, v in (peers_versions or {}).items()) or 'not installed'}. "
                 "Each section below says when it ran, on which commit, and the load average "
                 "(runnable tasks, 1 minute) before and after: this machine is shared, and a "
                 "load above the 2 cores stretches every wall-clock figure. Ratios are taken "
                 "within interleaved rounds (every grader once per round, the order reversed "
                 "each round), so a busy minute weighs on both sides of a ratio.\n")
    L.append("## Summary\n")
    L.append("| # | figure | measured | goal | result |")
    L.append("|---|---|---|---|---|")
    L += _summary_rows(saved)
    L.append("")
    for name, fn in (("latency", _latency), ("imports", _imports), ("batch", _batch), ("scale", _scale),
                     ("speed", _speed), ("kernel", _kernel), ("notebook", _notebook)):
        if name in saved:
            L += fn(saved[name])
    return "\n".join(L) + "\n"


def _summary_rows(saved):
    R = []
    if "latency" in saved:
        s = saved["latency"]
        res = s["data"]["rounds"]
        ours, gb = pairs.summary(res["seconds"]["ours"]), pairs.summary(res["seconds"]["ours_gradebook"])
        load = _load_text(s)
        R.append(f"| 1 | one correct notebook, whole command (`grade DIR --out OUT`), seconds, "
                 f"median (range) of {len(res['seconds']['ours'])} rounds, load {load} | "
                 f"{_span(ours)} s | <= {ONE_GOAL} s (quiet machine) | {ok(ours['median'] <= ONE_GOAL)} |")
        R.append(f"| 1b | the same with nbgrader's course output (`--gradebook yes`) | "
                 f"{_span(gb)} s | <= {ONE_GB_GOAL} s (quiet machine) | "
                 f"{ok(gb['median'] <= ONE_GB_GOAL)} |")
        for peer, label in (("otter", "Otter-Grader `otter run`"),
                            ("nbgrader", "plain `nbgrader autograde`")):
            r, rg = pairs.ratio(res, peer, "ours"), pairs.ratio(res, peer, "ours_gradebook")
            R.append(f"| 1c | same notebook, {label}: {_span(pairs.summary(res['seconds'][peer]))} s; "
                     f"its time / ours, per round | {_ratio_text(r)}; with our course output "
                     f"{_ratio_text(rg)} | - | - |")
    if "batch" in saved:
        s = saved["batch"]
        d = s["data"]
        res = d["rounds"]
        for peer, label in (("otter", "Otter-Grader, `otter run` 2 at a time"),
                            ("nbgrader", "plain `nbgrader autograde` (one at a time, its only mode)")):
            r = pairs.ratio(res, peer, "ours")
            R.append(f"| 2 | batch of the same {d['n']} submissions, ours `--jobs 2` (with course "
                     f"output, gradebook, histogram) vs {label}; ratio of wall times per round, "
                     f"load {_load_text(s)} | {_ratio_text(r)} | >= {BATCH_GOAL:g}x | "
                     f"{ok(r['median'] >= BATCH_GOAL)} |")
        for peer in ("otter", "nbgrader"):
            agree, total, _ = _agreement(d["verdicts"], "ours", peer)
            R.append(f"| 2b | verdicts (points per student and test) equal to {peer}'s, over "
                     f"every round | {agree} / {total} | all | {ok(agree == total)} |")
    if "scale" in saved:
        rows = saved["scale"]["data"]["rows"]
        R.append("| 3 | ours at scale: s/submission; peak memory of the process tree; OUT per "
                 "submission | " + "; ".join(
                     f"{r['n']}: {r['per_submission']:.2f} s, {r['peak_mb']:.0f} MB, "
                     f"{r['out_kb_per_submission']:.0f} KB" for r in rows) + " | - | - |")
    if "speed" in saved:
        rows = saved["speed"]["data"]["rows"]
        # should_pass None: a known limit, shown but not counted (see _speed).
        ff = sum(r["wrong"] for r in rows if r["should_pass"] is True)
        fp = sum(r["wrong"] for r in rows if r["should_pass"] is False)
        ng = sum(r["runs"] for r in rows if r["should_pass"] is True)
        nb = sum(r["runs"] for r in rows if r["should_pass"] is False)
        R.append(f"| 4a | speed check, false fails of correct vectorized solutions (the slowest "
                 f"honest style included), idle and loaded | {ff} / {ng} | 0 | {ok(ff == 0)} |")
        R.append(f"| 4b | speed check, false passes of loops over the examples (the leanest "
                 f"included), idle and loaded | {fp} / {nb} | 0 | {ok(fp == 0)} |")
    else:
        R.append("| 4 | speed check, false fails and false passes | not measured in this run "
                 "(`make bench BENCH_SECTIONS=speed`) | 0 | n/a |")
    if "kernel" in saved:
        k = saved["kernel"]["data"]["rows"]
        t_sum = k["X.sum() (one streaming read of X)"]["best"]
        t_ref = k["reference.softmax_loss (two GEMMs)"]["best"]
        t_blk = k["blocked.softmax_loss_blocked"]["best"]
        t_torch = k.get("PyTorch CPU cross_entropy + backward", {}).get("best")
        R.append(f"| 5a | blocked loss+grad vs one read of X (`X.sum()`) | {t_blk * 1e3:.0f} ms vs "
                 f"{t_sum * 1e3:.1f} ms: **{t_blk / t_sum:.1f}x** | <= 2x | {ok(t_blk <= 2 * t_sum)} |")
        if t_torch:
            R.append(f"| 5b | blocked vs PyTorch CPU cross_entropy + backward | {t_blk * 1e3:.0f} ms "
                     f"vs {t_torch * 1e3:.0f} ms: **{t_torch / t_blk:.1f}x faster** | ahead | "
                     f"{ok(t_blk < t_torch)} |")
        else:
            R.append(f"| 5b | blocked vs PyTorch | not measured: {saved['kernel']['data']['torch']} "
                     "| ahead | n/a |")
        R.append(f"| 5c | blocked vs two-GEMM `reference.softmax_loss` (no goal) | {t_blk * 1e3:.0f} "
                 f"ms vs {t_ref * 1e3:.0f} ms: {t_ref / t_blk:.1f}x faster | - | - |")
    if "notebook" in saved:
        nbt = saved["notebook"]["data"]
        R.append(f"| 6 | whole reference notebook (nbclient, {nbt['cells']} code cells, "
                 f"{nbt['errors']} errors) | {nbt['seconds']:.1f} s | < 30 s | "
                 f"{ok(nbt['seconds'] < 30 and nbt['errors'] == 0)} |")
    return R


def _latency(s):
    d = s["data"]
    res = d["rounds"]
    L = ["## 1. One student, whole command\n", f"Measured {_stamp(s)}.\n",
         "One correct notebook (the sample `perfect`) in a folder of its own. Each grader's "
         "whole command is timed, from a cold process to its exit: ours `python -m autograder "
         "grade DIR --out OUT --no-progress` (bubblewrap jail on; a fresh OUT each time, so "
         "nothing is reused), the same with `--gradebook yes` (nbgrader's course output: "
         "gradebook.db, autograded/, nbgrader_config.py), Otter-Grader's `otter run -a "
         "autograder.zip` (non-containerised, the whole notebook run in a kernel, then the "
         "OK-format tests), and plain `nbgrader autograde softmax --create` in a course "
         "generated once beforehand (not timed).\n"]
    L.append("| round | order | " + " | ".join(res["seconds"]) + " | load before each |")
    L.append("|---|---|" + "---|" * len(res["seconds"]) + "---|")
    k = len(res["seconds"])
    for i, order in enumerate(res["order"]):
        loads = res["load"][i * k:(i + 1) * k]
        L.append(f"| {i + 1} | {' > '.join(order)} | " +
                 " | ".join(f"{res['seconds'][n][i]:.2f}" for n in res["seconds"]) +
                 f" | {', '.join(f'{x:.1f}' for x in loads)} |")
    L.append("")
    v = d["verdicts"]
    same = {p: v.get(p) == v.get("ours") for p in ("otter", "nbgrader")}
    L.append("Verdicts on this notebook: ours " +
             f"{sum((v.get('ours') or {}).values()):g} points; " +
             "; ".join(f"{p} {sum((v.get(p) or {}).values()):g} ("
                       f"{'the same per test' if same[p] else 'different per test'})"
                       for p in ("otter", "nbgrader")) + ".\n")
    if d.get("timings"):
        L.append("Where our one-student run spends its time (the last round's "
                 "`OUT/results/*.json` timings; the rest of the wall time is Python's start, "
                 "imports, reading the notebook and writing the reports):\n")
        L.append("| part | seconds |")
        L.append("|---|---|")
        for name, t in sorted(d["timings"].items(), key=lambda kv: -kv[1]):
            L.append(f"| {'jail start + running the cells' if name == 'start_and_cells' else name} | {t:.3f} |")
        L.append("")
    return L


def _imports(s):
    L = ["## 1b. What our own process imports\n", f"Measured {_stamp(s)}.\n",
         "`python -X importtime -m autograder grade DIR --out OUT` on the same one notebook, "
         "one run each, wall seconds at the load above (quiet, they are several times "
         "smaller). nbgrader, SQLAlchemy and nbconvert come only with the course output; "
         "rfc3987_syntax (an IRI grammar jsonschema builds at import, 1.6 s quiet) is refused "
         "while nbgrader loads. The import of nbgrader runs in a background thread while the "
         "student is graded, so its seconds overlap the grading rather than add to it.\n",
         "| run | imports, s | modules | rfc3987_syntax, s | largest top-level imports, s |",
         "|---|---|---|---|---|"]
    for key, label in (("ours", "ours"), ("ours_gradebook", "`--gradebook yes`")):
        imp = s["data"][key]
        L.append(f"| {label} | {imp['total_s']:.2f} | {imp['modules']} | "
                 f"{imp['rfc3987_syntax_s']:.3f} | " +
                 ", ".join(f"{n} {t:.2f}" for n, t in imp["top"][:6]) + " |")
    L.append("")
    return L


def _batch(s):
    d = s["data"]
    res = d["rounds"]
    n = d["n"]
    L = ["## 2. Batch: ours, Otter-Grader and nbgrader on the same submissions\n",
         f"Measured {_stamp(s)}.\n",
         f"{n} submissions, the sample set in turn ({', '.join(d['kinds'])}). Ours: "
         "`python -m autograder grade SUBS --out OUT --jobs 2 --no-progress`, whole command "
         "(start-up, grading, gradebook, histogram, class reports), a fresh OUT each round. "
         "Otter-Grader: one `otter run` per submission, 2 at a time (its non-containerised "
         "mode; `otter grade` needs Docker), with the same test cells as OK-format tests. "
         "nbgrader: `nbgrader autograde --create` on all of them in one command (it grades "
         "one notebook at a time), the gradebook reset to the generated assignment each "
         "round.\n"]
    L.append("| round | order | ours s | Otter s | nbgrader s | Otter / ours | nbgrader / ours | load before each |")
    L.append("|---|---|---|---|---|---|---|---|")
    for i, order in enumerate(res["order"]):
        o, t, g = (res["seconds"][k][i] for k in ("ours", "otter", "nbgrader"))
        loads = res["load"][i * 3:(i + 1) * 3]
        L.append(f"| {i + 1} | {' > '.join(order)} | {o:.1f} | {t:.1f} | {g:.1f} | {t / o:.1f}x | "
                 f"{g / o:.1f}x | {', '.join(f'{x:.1f}' for x in loads)} |")
    L.append("")
    per = {k: statistics.median(v) / n for k, v in res["seconds"].items()}
    L.append("Seconds per submission (median over rounds): " +
             ", ".join(f"{k} {v:.2f}" for k, v in per.items()) + ".\n")
    for peer in ("otter", "nbgrader"):
        agree, total, diffs = _agreement(d["verdicts"], "ours", peer)
        L.append(f"Verdicts equal to {peer}'s: {agree} of {total} (student, test) points over "
                 f"{len(d['verdicts']['ours'])} rounds." + (" Differences:" if diffs else ""))
        for student, test, mine, theirs in diffs[:20]:
            L.append(f"- {student} {test}: ours {mine:g}, {peer} "
                     f"{'no result' if theirs is None else f'{theirs:g}'}")
        L.append("")
    if d.get("timings"):
        parts = {}
        for t in d["timings"]:
            for k, v in t.items():
                parts[k] = parts.get(k, 0.0) + v
        total = sum(parts.values()) or 1.0
        L.append("Where our grading time goes in the last round (seconds per submission, "
                 "from `OUT/results/*.json`):\n")
        L.append("| part | s / submission | share |")
        L.append("|---|---|---|")
        for k, v in sorted(parts.items(), key=lambda kv: -kv[1]):
            label = "jail start + running the cells" if k == "start_and_cells" else k
            L.append(f"| {label} | {v / n:.3f} | {100 * v / total:.0f}% |")
        L.append("")
    return L


def _scale(s):
    rows = s["data"]["rows"]
    L = ["## 3. Ours at scale\n", f"Measured {_stamp(s)}.\n",
         "`python -m autograder grade SUBS --out OUT --no-progress` (2 workers, the "
         "default on 2 cores), the sample set in turn, a fresh OUT. Peak memory: the "
         "largest sum of resident sets over the command's whole process tree (grader, "
         "reader and timer children, jails), sampled every 50 ms.\n",
         "| submissions | seconds | s / submission | peak memory MB (processes) | OUT MB | OUT KB / submission | load before -> after |",
         "|---|---|---|---|---|---|---|"]
    for r in rows:
        L.append(f"| {r['n']} | {r['seconds']:.1f} | {r['per_submission']:.2f} | "
                 f"{r['peak_mb']:.0f} ({r['peak_processes']}) | {r['out_mb']:.1f} | "
                 f"{r['out_kb_per_submission']:.0f} | {r['load_before']:.1f} -> {r['load_after']:.1f} |")
    L.append("")
    if rows and max(r["n"] for r in rows) < 400:
        last = rows[-1]
        L.append(f"400 submissions were not measured in this run: at {last['per_submission']:.2f} "
                 f"s/submission (the last row, at its load) they would take about "
                 f"{400 * last['per_submission'] / 60:.0f} minutes; `BENCH_SCALE=20,100,400` "
                 "measures them.\n")
    return L


def _speed(s):
    d = s["data"]
    L = ["## 4. Speed check reliability\n", f"Measured {_stamp(s)}.\n",
         "The real check: `SandboxStudent` (bubblewrap) + `ProcessTimer` + "
         "`checks.run_check('test_softmax_loss_vectorized_speed', ...)`, a fresh jail per run "
         "(as each student gets), against the reference loop `reference.softmax_loss_loop` "
         "(each example's softmax in Python floats), on inputs of 3 classes, 8 features and "
         f"20 000 examples; {d['runs']} runs for the two that decide (the slowest honest "
         "vectorization and the leanest loop, `samples/loops.py`), a quarter of that for the "
         "other loops and the notebook's own solution. \"Other core busy\": a `python -c "
         "'while True: pass'` process running throughout, killed afterwards (on top of the "
         "machine's own load). Ratio: reference time / student time, the median of a run's "
         "calls; the bar is 5x.\n",
         "| solution | load | runs | passed | wrong verdicts | ratio min / median / max | seconds |",
         "|---|---|---|---|---|---|---|"]
    for r in d["rows"]:
        ratios = (f"{r['ratio_min']:g} / {r['ratio_median']:g} / {r['ratio_max']:g}"
                  if r.get("ratio_median") is not None else "-")
        wrong = r["wrong"] if r["should_pass"] is not None else "not counted"
        L.append(f"| {r['solution']} | {r['load']} | {r['runs']} | {r['passed']} | {wrong} | "
                 f"{ratios} | {r['seconds']:.0f} |")
    L.append("\nNot counted, a limit of any timing (`samples/loops.py`, `FLOAT_SUM`): a loop "
             "whose body only adds Python floats that vectorized code computed (~0.1 us per "
             "example) costs less than honest vectorized code varies by (scipy's logsumexp "
             "is ~4x numpy's own), so it passes as vectorized code does.")
    L.append("")
    return L


def _kernel(s):
    d = s["data"]
    k = d["rows"]
    t_sum = k["X.sum() (one streaming read of X)"]["best"]
    t_blk = k["blocked.softmax_loss_blocked"]["best"]
    L = ["## 5. Kernel: loss + gradient at C = 10, D = 3073, N = 10000\n", f"Measured {_stamp(s)}.\n",
         f"X is {d['bytes_X'] / 1e6:.0f} MB (float64, C order). Best of 7 after a warm-up "
         f"call; every kernel's result is checked against `reference.softmax_loss`. {d['torch']}.\n",
         f"These timings share the machine with its load (load average {s['load_start'][0]:.1f} "
         f"on {s['machine']['nproc']} cores when they ran): memory bandwidth and both cores are "
         "contended, so on a busy machine they say little about the kernels themselves.\n",
         "| kernel | best ms | median ms | / X.sum() |", "|---|---|---|---|"]
    for name, r in k.items():
        L.append(f"| {name} | {r['best'] * 1e3:.1f} | {r['median'] * 1e3:.1f} | {r['best'] / t_sum:.1f}x |")
    t_gemm = k.get("one GEMM W @ X alone (the loss needs two)", {}).get("best")
    if t_gemm:
        L.append(f"\n**Why 5a misses 2x here.** Loss and gradient need two products with X "
                 f"(scores `W @ X` and `dW = G @ X.T`, 2 x {C_FLOPS:.2f} GFLOP). With C = 10 rows "
                 f"they are compute-bound in this BLAS: one of them alone takes {t_gemm * 1e3:.0f} "
                 f"ms = {t_gemm / t_sum:.1f}x a read of X, so two take at least "
                 f"~{2 * t_gemm / t_sum:.1f}x, whatever the blocking. The blocked kernel reads X "
                 f"from memory once and reaches {t_blk / (2 * t_gemm):.2f}x of that two-GEMM "
                 "floor; getting within 2x of a read would need a faster GEMM (float32, or a "
                 "hand-written kernel), not better memory traffic.")
    L.append("\nBlock size sweep for `softmax_loss_blocked` (best of 3, ms): " +
             ", ".join(f"{b}: {t * 1e3:.0f}" for b, t in d["sweep"].items()) + ".")
    L.append(f"\nBLAS (threadpoolctl): {d['blas'] or 'not available'}; BLAS environment "
             f"variables: {s['machine']['blas_env'] or 'none set'}.\n")
    return L


def _notebook(s):
    d = s["data"]
    return ["## 6. Reference notebook\n", f"Measured {_stamp(s)}.\n",
            f"`solutions/softmax/softmax.ipynb` run top to bottom with nbclient (kernel python3, "
            f"cwd solutions/softmax), kernel start included: {d['seconds']:.1f} s, "
            f"{d['errors']} error outputs.\n"]
