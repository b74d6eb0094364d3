"""bench/REPORT.md and the README's benchmark figures, from bench/REPORT.json.

REPORT.json holds every saved section (bench/out/<section>.json, see run.py) as
{"sections": {name: saved}}. `render` and `readme_figures` are pure functions of it, so a
test can check that REPORT.md and the README say what REPORT.json holds
(tests/bench/test_report.py).

A ratio between graders is shown only when every grader of the comparison was given the
same notebooks, byte for byte (the sections record a digest of what each one graded,
every round): no figure compares different sets.
"""
import re
import statistics

import pairs

C_FLOPS = 2 * 10 * 3073 * 10000 / 1e9   # one (10 x 3073) @ (3073 x 10000) product
ONE_GOAL, ONE_GB_GOAL, BATCH_GOAL = 0.5, 1.5, 10.0
SPEED_RUNS_GOAL = 200       # runs of each of the two that decide, idle and loaded together
PEERS = {"otter": "Otter-Grader", "nbgrader": "nbgrader"}
SECTION_ORDER = ("latency", "imports", "batch", "scale", "speed", "kernel", "notebook")


def ok(flag):
    return "**pass**" if flag else "**FAIL**"


def _span(v, fmt="{:.2f}"):
    return f"{fmt.format(v['median'])} ({fmt.format(v['min'])}-{fmt.format(v['max'])})"


def _ratio_text(r):
    return f"**{r['median']:.1f}x** ({r['min']:.1f}-{r['max']:.1f}x)"


def _load_text(s):
    lo, hi = pairs.load_span(s["data"]["rounds"])
    return f"{lo:.1f}-{hi:.1f}"


def _quiet(s):
    """Whether the machine was quiet at least once in the rounds: no more runnable tasks
    (1-minute load average) than cores before some run."""
    return pairs.load_span(s["data"]["rounds"])[0] <= s["machine"]["nproc"]


def _goal_result(flag, s):
    if flag or _quiet(s):
        return ok(flag)
    lo, _ = pairs.load_span(s["data"]["rounds"])
    return f"{ok(flag)} (load {lo:.1f} or more on {s['machine']['nproc']} cores: not quiet)"


def _stamp(s):
    m = s["machine"]
    return (f"{s['date']}, commit {m['commit']}, load average {s['load_start'][0]:.1f} -> "
            f"{s['load_end'][0]:.1f} (1 min; {m['nproc']} cores), {s['seconds']:.0f} s"
            + _machine_speed(m))


def _machine_speed(m):
    """The machine's speed when the section began (run.probe), where it was recorded."""
    if "loop_ms" not in m:
        return ""
    return (f"; machine speed: a 1M-step Python loop {m['loop_ms']:.0f} ms, first touch of "
            f"a fresh page {m['page_us']:.1f} us")


UNRECORDED = "unrecorded"


def same_set(d):
    """The one digest every grader of a comparison section was given in every round;
    UNRECORDED for a section saved before the digests were recorded (its code gave every
    grader the same folder); None when they differ (no ratio is shown then)."""
    if "given" not in d:
        return UNRECORDED
    digests = {(g["n"], g["sha256"]) for runs in d["given"].values() for g in runs}
    if len(digests) != 1 or not all(d["given"].values()):
        return None
    n, sha = digests.pop()
    return {"n": n, "sha256": sha}


def _ratio(s, slow, fast):
    """pairs.ratio over a section's rounds, or None when the sets were not the same."""
    return pairs.ratio(s["data"]["rounds"], slow, fast) if same_set(s["data"]) else None


def _ratio_or_why(r):
    return _ratio_text(r) if r else "not shown: the graders were not given the same notebooks"


def _set_text(d):
    same = same_set(d)
    if same == UNRECORDED:
        return ("every grader was given the same folder (the digests of what each graded "
                "were not recorded in this run)")
    if same:
        return (f"every grader was given the same {same['n']} notebook(s) in every round "
                f"(sha256 {same['sha256']})")
    return "the graders were NOT given the same notebooks: no ratio is shown"


def _same_result(d):
    same = same_set(d)
    return "n/a (not recorded)" if same == UNRECORDED else ok(same is not None)


def _peers_versions(sections):
    for name in ("latency", "batch"):
        v = sections.get(name, {}).get("data", {}).get("peers")
        if v:
            return v
    return {}


def _agreement(verdicts, a, b):
    """(agreeing, total, [(student, test, a points, b points)]) over every round."""
    agree, total, diffs = 0, 0, []
    for ra, rb in zip(verdicts[a], verdicts[b]):
        for student, tests in sorted(ra.items()):
            other = rb.get(student) or {}
            for test, pts in tests.items():
                total += 1
                theirs = other.get(test)
                if theirs is not None and abs(theirs - pts) < 1e-9:
                    agree += 1
                else:
                    diffs.append((student, test, pts, theirs))
    return agree, total, diffs


def render(data):
    """REPORT.md's text from REPORT.json's {"sections": {name: saved}}."""
    saved = data["sections"]
    L = ["# Performance benchmark (issues 5 and 20)\n",
         "Written by `make bench` (`bench/run.py`) from `bench/REPORT.json`; do not edit.\n"]
    any_s = next(iter(saved.values()), None)
    if any_s:
        m = any_s["machine"]
        versions = _peers_versions(saved)
        L.append(f"Machine: {m['nproc']} cores, {m['cpu']}; Python {m['python']}. Peers "
                 f"(bench/.venv-peers, pinned in bench/requirements-peers.txt): "
                 f"{', '.join(f'{k} {v}' for k, v in versions.items()) or 'not measured'}. "
                 "Each section below says when it ran, on which commit, and the load average "
                 "(runnable tasks, 1 minute) before and after: a load above the cores "
                 "stretches every wall-clock figure. Ratios are taken within interleaved "
                 "rounds (every grader once per round, the order reversed each round) on the "
                 "same notebooks (a digest of what each grader was given is recorded every "
                 "round), so a busy minute weighs on both sides of a ratio; each run starts "
                 "once the machine is quiet (at most 10% of its CPU busy over a quarter "
                 "second: what the run before left behind is over).\n")
        took = [(n, saved[n]["seconds"]) for n in SECTION_ORDER if n in saved]
        L.append(f"The sections took {sum(t for _, t in took) / 60:.1f} minutes in all: " +
                 ", ".join(f"{n} {t:.0f} s" for n, t in took) + ".\n")
    L.append("## Summary\n")
    L.append("| # | figure | measured | goal | result |")
    L.append("|---|---|---|---|---|")
    L += _summary_rows(saved)
    L.append("")
    for name, fn in (("latency", _latency), ("imports", _imports), ("batch", _batch),
                     ("scale", _scale), ("speed", _speed), ("kernel", _kernel),
                     ("notebook", _notebook)):
        if name in saved:
            L += fn(saved[name])
    return "\n".join(L) + "\n"


def _speed_counts(rows):
    """(false fails, runs that should pass, false passes, runs that should fail, runs of
    each of the two that decide): limits (should_pass None) are not counted."""
    ff = sum(r["wrong"] for r in rows if r["should_pass"] is True)
    fp = sum(r["wrong"] for r in rows if r["should_pass"] is False)
    ng = sum(r["runs"] for r in rows if r["should_pass"] is True)
    nb = sum(r["runs"] for r in rows if r["should_pass"] is False)
    most = max((r["runs"] for r in rows), default=0)
    decide = [r for r in rows if r.get("decides", r["runs"] == most)]
    per_side = min((sum(r["runs"] for r in decide if r["should_pass"] is side)
                    for side in (True, False)), default=0)
    return ff, ng, fp, nb, per_side


def _summary_rows(saved):
    R = []
    if "latency" in saved:
        s = saved["latency"]
        res = s["data"]["rounds"]
        ours, gb = pairs.summary(res["seconds"]["ours"]), pairs.summary(res["seconds"]["ours_gradebook"])
        load = _load_text(s)
        R.append(f"| 1 | one correct notebook, whole command (`grade DIR --out OUT`), seconds, "
                 f"median (range) of {len(res['seconds']['ours'])} rounds, load {load} | "
                 f"{_span(ours)} s | <= {ONE_GOAL} s (quiet machine) | "
                 f"{_goal_result(ours['median'] <= ONE_GOAL, s)} |")
        R.append(f"| 1b | the same with nbgrader's course output (`--gradebook yes`) | "
                 f"{_span(gb)} s | <= {ONE_GB_GOAL} s (quiet machine) | "
                 f"{_goal_result(gb['median'] <= ONE_GB_GOAL, s)} |")
        for peer, label in (("otter", "Otter-Grader `otter run`"),
                            ("nbgrader", "plain `nbgrader autograde`")):
            r, rg = _ratio(s, peer, "ours"), _ratio(s, peer, "ours_gradebook")
            R.append(f"| 1c | same notebook, {label}: {_span(pairs.summary(res['seconds'][peer]))} s; "
                     f"its time / ours, per round | {_ratio_or_why(r)}" +
                     (f"; with our course output {_ratio_text(rg)}" if rg else "") + " | - | - |")
        R.append(f"| 1d | the same notebook for every grader | {_set_text(s['data'])} | same "
                 f"| {_same_result(s['data'])} |")
    if "batch" in saved:
        s = saved["batch"]
        d = s["data"]
        for peer, label in (("otter", "Otter-Grader, `otter run` 2 at a time"),
                            ("nbgrader", "plain `nbgrader autograde` (one at a time, its only mode)")):
            r = _ratio(s, peer, "ours")
            R.append(f"| 2 | batch of the same {d['n']} submissions, ours `--jobs 2` (with course "
                     f"output, gradebook, histogram) vs {label}; ratio of wall times per round, "
                     f"median (range) of {len(d['rounds']['order'])} rounds, load "
                     f"{_load_text(s)} | {_ratio_or_why(r)} | >= {BATCH_GOAL:g}x | "
                     f"{ok(bool(r) and r['median'] >= BATCH_GOAL)} |")
        R.append(f"| 2a | the same submissions for every grader | {_set_text(d)} | same | "
                 f"{_same_result(d)} |")
        for peer in ("otter", "nbgrader"):
            agree, total, _ = _agreement(d["verdicts"], "ours", peer)
            R.append(f"| 2b | verdicts (points per student and test) equal to {peer}'s, over "
                     f"every round | {agree} / {total} | all | {ok(agree == total)} |")
    if "scale" in saved:
        rows = saved["scale"]["data"]["rows"]
        R.append("| 3 | ours at scale: s/submission; peak memory of the process tree; OUT per "
                 "submission | " + "; ".join(
                     f"{r['n']}: {r['per_submission']:.2f} s, {r['peak_mb']:.0f} MB, "
                     f"{r['out_kb_per_submission']:.0f} KB" for r in rows) +
                 " | 20, 100 and 400 | " +
                 ok({20, 100, 400} <= {r["n"] for r in rows}) + " |")
    if "speed" in saved:
        ff, ng, fp, nb, per_side = _speed_counts(saved["speed"]["data"]["rows"])
        enough = per_side >= SPEED_RUNS_GOAL
        R.append(f"| 4a | speed check, false fails of correct vectorized solutions (the slowest "
                 f"honest style included), idle and loaded | {ff} / {ng} | 0, with >= "
                 f"{SPEED_RUNS_GOAL} runs of the slowest honest style | "
                 f"{ok(ff == 0 and enough)} |")
        R.append(f"| 4b | speed check, false passes of loops over the examples (the leanest "
                 f"included), idle and loaded | {fp} / {nb} | 0, with >= {SPEED_RUNS_GOAL} "
                 f"runs of the leanest loop | {ok(fp == 0 and enough)} |")
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


# ------------------------------------------------------------------ the README's figures

MARKER = re.compile(r"<!-- bench:([\w-]+) -->(.*?)<!-- /bench:\1 -->", re.S)
NOT_MEASURED = "not measured"


def readme_figures(data):
    """{key: text} the README shows between `<!-- bench:KEY -->` and `<!-- /bench:KEY -->`.

    `table` is the benchmark table; the others are figures quoted in the README's prose.
    A section that was not measured gives "not measured" rather than an old figure."""
    saved = data["sections"]
    f = {}
    lat = saved.get("latency")
    if lat:
        sec = lat["data"]["rounds"]["seconds"]
        both = sec["ours"] + sec["ours_gradebook"]
        f["one-ours"] = f"{statistics.median(sec['ours']):.2f} s"
        f["one-ours-gradebook"] = f"{statistics.median(sec['ours_gradebook']):.2f} s"
        f["one-otter"] = f"{statistics.median(sec['otter']):.1f} s"
        f["one-nbgrader"] = f"{statistics.median(sec['nbgrader']):.1f} s"
        f["one-range"] = f"{min(both):.1f}-{max(both):.1f} s"
        f["one-load"] = _load_text(lat)
    if "speed" in saved:
        f["speed-runs"] = f"{_speed_counts(saved['speed']['data']['rows'])[4]} runs"
    alone = saved.get("imports", {}).get("data", {}).get("rfc3987_syntax_alone_s")
    if alone is not None:
        f["iri-import"] = f"{alone:.1f} s"
    # Blank lines around: the table is a block of its own between the two comments.
    f["bench-minutes"] = f"{sum(s['seconds'] for s in saved.values()) / 60:.0f} minutes"
    f["table"] = "\n\n" + "\n".join(_readme_table(saved)) + "\n\n"
    for key in ("one-ours", "one-ours-gradebook", "one-otter", "one-nbgrader", "one-range",
                "one-load", "speed-runs", "iri-import"):
        f.setdefault(key, NOT_MEASURED)
    return f


def _readme_table(saved):
    T = ["| `bench/REPORT.md` | measured |", "|---|---|"]
    lat, bat = saved.get("latency"), saved.get("batch")
    versions = _peers_versions(saved)
    if lat:
        res = lat["data"]["rounds"]
        ours = pairs.summary(res["seconds"]["ours"])
        gb = pairs.summary(res["seconds"]["ours_gradebook"])
        T.append(f"| one correct notebook, whole command, ours (median and range of "
                 f"{len(res['order'])} rounds, load average {_load_text(lat)} on "
                 f"{lat['machine']['nproc']} cores, {lat['date'][:10]}) | {_span(ours)} s; "
                 f"with `--gradebook yes` {_span(gb)} s |")
        for peer in ("otter", "nbgrader"):
            r = _ratio(lat, peer, "ours")
            T.append(f"| the same notebook, {PEERS[peer]} {versions.get(_pkg(peer), '')} "
                     f"`{'otter run' if peer == 'otter' else 'nbgrader autograde'}` | "
                     f"{statistics.median(res['seconds'][peer]):.1f} s: " +
                     (f"{_ratio_text(r)} our time" if r else _ratio_or_why(r)) + " |")
    if bat:
        d = bat["data"]
        res, n = d["rounds"], d["n"]
        per = {k: statistics.median(v) / n for k, v in res["seconds"].items()}
        T.append(f"| a batch of the same {n} submissions, ours `--jobs 2` with every report "
                 f"(median of {len(res['order'])} rounds, load average {_load_text(bat)}, "
                 f"{bat['date'][:10]}) | {per['ours']:.2f} s per submission |")
        for peer, how in (("otter", "2 at a time"), ("nbgrader", "one at a time")):
            r = _ratio(bat, peer, "ours")
            agree, total, _ = _agreement(d["verdicts"], "ours", peer)
            T.append(f"| the same batch, {PEERS[peer]} {how} | {per[peer]:.2f} s per "
                     f"submission: " + (f"{_ratio_text(r)} our time" if r else _ratio_or_why(r)) +
                     f"; points equal to ours on {agree} of {total} (student, test) |")
    if "scale" in saved:
        s = saved["scale"]
        rows = s["data"]["rows"]
        T.append(f"| ours at scale, `--jobs {s['data'].get('jobs', 2)}`: seconds per submission, "
                 f"peak memory of the process tree, OUT per submission (load average "
                 f"{min(r['load_before'] for r in rows):.1f}-"
                 f"{max(r['load_after'] for r in rows):.1f}, {s['date'][:10]}) | " +
                 "; ".join(f"{r['n']}: {r['per_submission']:.2f} s, {r['peak_mb']:.0f} MB, "
                           f"{r['out_kb_per_submission']:.0f} KB" for r in rows) + " |")
    if "speed" in saved:
        ff, ng, fp, nb, _ = _speed_counts(saved["speed"]["data"]["rows"])
        T.append(f"| speed check, correct vectorized solutions failed / loops passed, idle "
                 f"and with the other core busy ({saved['speed']['date'][:10]}) | {ff} of {ng} / "
                 f"{fp} of {nb} |")
    return T


def _pkg(peer):
    return {"otter": "otter-grader", "nbgrader": "nbgrader"}[peer]


def fill_readme(text, figures):
    """The README's text with every marked figure replaced by `figures[key]`; a marker
    whose key is not a figure is an error (a README that cites a figure no one makes)."""
    unknown = sorted({k for k, _ in MARKER.findall(text)} - set(figures))
    if unknown:
        raise KeyError(f"README.md marks figures bench/report.py does not make: {unknown}")
    return MARKER.sub(lambda m: f"<!-- bench:{m[1]} -->{figures[m[1]]}<!-- /bench:{m[1]} -->",
                      text)


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
         "generated once beforehand (not timed). The same notebook: "
         f"{_set_text(d)}.\n"]
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
    alone = s["data"].get("rfc3987_syntax_alone_s")
    L = ["## 1b. What our own process imports\n", f"Measured {_stamp(s)}.\n",
         "`python -X importtime -m autograder grade DIR --out OUT` on the same one notebook, "
         "one run each, wall seconds at the load above (quiet, they are several times "
         "smaller). nbgrader, SQLAlchemy and nbconvert come only with the course output; "
         "rfc3987_syntax (an IRI grammar jsonschema builds at import" +
         (f": {alone:.1f} s to import alone, median of 3" if alone is not None else "") +
         ") is refused while nbgrader loads. The import of nbgrader runs in a background "
         "thread while the student is graded, so its seconds overlap the grading rather "
         "than add to it.\n",
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
         f"round. The same submissions: {_set_text(d)}.\n"]
    same = same_set(d) is not None
    L.append("| round | order | ours s | Otter s | nbgrader s | Otter / ours | nbgrader / ours | load before each |")
    L.append("|---|---|---|---|---|---|---|---|")
    for i, order in enumerate(res["order"]):
        o, t, g = (res["seconds"][k][i] for k in ("ours", "otter", "nbgrader"))
        loads = res["load"][i * 3:(i + 1) * 3]
        ratios = f"{t / o:.1f}x | {g / o:.1f}x" if same else "- | -"
        L.append(f"| {i + 1} | {' > '.join(order)} | {o:.1f} | {t:.1f} | {g:.1f} | {ratios} | "
                 f"{', '.join(f'{x:.1f}' for x in loads)} |")
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
         f"`python -m autograder grade SUBS --out OUT --jobs {s['data'].get('jobs', 2)} "
         "--no-progress`, the whole command (start-up, grading, gradebook, histogram, class "
         "reports), the sample set in turn, a fresh OUT. Peak memory: the "
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
         "The timing of the real check, alone: its reading of the code, which fails every "
         "loop these samples write before any timing (`checks.loops_reached`), is switched "
         "off, so what is counted is what the timing does with a loop the code hides. "
         "`SandboxStudent` (bubblewrap) + `ProcessTimer` + "
         "`checks.run_check('test_softmax_loss_vectorized_speed', ...)`, a fresh jail per run "
         "(as each student gets), against the reference loop `reference.softmax_loss_loop` "
         "(each example's softmax in Python floats), on inputs of 3 classes, 8 features and "
         f"20 000 examples; {d['runs']} runs for the two that decide (the slowest honest "
         "vectorization and the leanest loop, `samples/loops.py`), fewer for the others "
         "(`bench/speed_check.py`: a quarter for a loop near the bar, a few for those far "
         "below it). \"Other core busy\": a `python -c "
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
    L.append("\nNot counted, a limit of any timing (`samples/loops.py`, `FLOAT_SUM` and "
             "`ITEM_READS`): a loop whose body only adds Python floats that vectorized code "
             "computed (~0.1 us per example), or reads them with `.item()` (~0.12 us), costs "
             "less than honest vectorized code varies by (scipy's logsumexp is ~4x numpy's "
             "own), so it passes as vectorized code does; reading NumPy scalars (`Z[i]`, "
             "~0.28 us) is what the bar stops. A loop written as a loop is failed by the code "
             "check before any timing (`loop_in_vectorized`).")
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
