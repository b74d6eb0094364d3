"""The red team's batch (issue 8): every attack class, graded in ONE batch with
honest students, as root and with the grader dropped to uid 65534.

One SUBMISSIONS folder holds the honest students (perfect, another correct
style, a typical mistake, blank) and every attack of
`tests/e2e/adversarial/catalogue.py` (classes 1-8 of the issue, several
differently written attacks each). It is graded once per mode with
`--jobs 2`, a short `--timeout` and a `--budget`, and watched from outside
(`adversarial/harness.py`): the grader's peak RSS, the host's tmpfs/memfd
memory, how long budget attackers' code runs, processes left behind, and
every file outside OUT. Nothing here is marked xfail: a failing test is a
hole that is still open.
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
import uuid
from pathlib import Path

import numpy as np
import pytest

from autograder.assignment import load_spec
from autograder.assignments.softmax import ASSIGNMENT
from autograder.assignments.softmax import reference as ref
from autograder.assignments.softmax.samples import build, reference_cells

from .adversarial import files, harness, sinks, speed, verdicts
from .adversarial.catalogue import ALL, CATALOGUE, HONEST, comm_name, write_batch
from .adversarial.listener import Listener
from .conftest import REPO, python_for_user, repo_copy, user_tmpdir

pytestmark = pytest.mark.slow

JOBS, TIMEOUT, BUDGET, MEMORY = 2, 3.0, 20.0, 512
SLEEP = TIMEOUT - 0.5            # a sleeper stays just under the per-call timeout
BUDGET_SLACK = 8.0               # killing, restarting, writing the row
PEAK_LIMIT_KB = 1536 * 1024      # the 1.5 GB
BATCH_LIMIT_S = 600              # the whole batch, as a bound on any stall
SHMEM_LIMIT_KB = 1024 * 1024     # tmpfs/memfd the jails may hold together (2 jobs)
SPEC = load_spec(ASSIGNMENT)
TESTS = [t.grade_id for t in SPEC.tests]
MODES = ["root", "user"]
TOKEN = uuid.uuid4().hex[:4]     # in the process names of this run's attackers
TAG_PREFIX = ("h7" + TOKEN).encode()


def _grader_options(python):
    help_text = subprocess.run([python, "-m", "autograder", "grade", "--help"], cwd=REPO,
                               capture_output=True, text=True).stdout
    opts = ["--jobs", str(JOBS), "--timeout", str(TIMEOUT), "--memory", str(MEMORY),
            "--no-progress"]
    if "--budget" in help_text:
        opts += ["--budget", str(BUDGET)]
    return opts


def read_grades(out):
    with open(Path(out) / "grades.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def by_id(rows):
    return {r["student_id"]: r for r in rows}


# Formula-leading characters (OWASP CSV injection) may be neutralised by a
# prefix; the name is otherwise kept as it is.
def row_for(grades, name):
    for cand in (name, "'" + name, "\t" + name, " " + name):
        if cand in grades:
            return grades[cand]
    return None


@pytest.fixture(scope="module")
def batch():
    """The shared folder: SUBMISSIONS, the secret outside it, options."""
    base = Path(tempfile.mkdtemp(prefix="h7-adversarial-"))
    os.chmod(base, 0o755)
    marker = "H7SECRET-" + uuid.uuid4().hex
    ctx = files.Ctx(base=base, secret=None, marker=marker)
    ctx.secret = files.prepare_secret(base, marker)
    subs = base / "submissions"
    subs.mkdir()
    listener = Listener()       # what the network attacks aim at, on this host
    try:
        write_batch(subs, ctx, {"sleep": SLEEP, "token": TOKEN, "ports": listener.ports})
        files.world_readable(base)
    except BaseException:
        listener.close()
        shutil.rmtree(base, ignore_errors=True)
        raise
    yield dict(base=base, subs=subs, ctx=ctx, marker=marker, listener=listener)
    listener.close()
    for p in [base, *base.rglob("*")]:
        try:
            if not p.is_symlink():
                os.chmod(p, 0o755 if p.is_dir() else 0o644)
        except OSError:
            pass
    shutil.rmtree(base, ignore_errors=True)


def _argv_env(mode):
    if mode == "root":
        if os.geteuid() != 0:
            pytest.skip("grading as root needs root")
        python, cwd = sys.executable, repo_copy(0)
        env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
        venv_bin = str(Path(sys.executable).parent)
        env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                      if p != venv_bin) or "/usr/bin:/bin"
        prefix, out_parent = [], Path(tempfile.mkdtemp(prefix="h7-out-root-"))
    elif os.geteuid() == 0:
        python, cwd = python_for_user(), repo_copy(65534)
        env = {"PATH": f"{Path(python).parent}:/usr/bin:/bin", "HOME": str(user_tmpdir()),
               "LANG": "C.UTF-8"}
        prefix = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "--"]
        out_parent = user_tmpdir()
    else:   # already a normal user: grade as we are
        python, cwd = sys.executable, REPO
        env = dict(os.environ)
        prefix, out_parent = [], Path(tempfile.mkdtemp(prefix="h7-out-user-"))
    argv = prefix + ["prlimit", f"--as={harness.GRADER_AS_BYTES}", "--", python, "-m", "autograder"]
    return argv, env, Path(cwd), out_parent


def _grade(argv, env, cwd, subs, out, python_opts, swap=None):
    cmd = argv + ["grade", str(subs), "--out", str(out), *python_opts]
    kw = dict(cwd=cwd, env=env, timeout=BATCH_LIMIT_S + 120, tag_prefix=TAG_PREFIX)
    if swap is None:
        return harness.run_watched(cmd, **kw)
    with swap:
        return harness.run_watched(cmd, **kw)


@pytest.fixture(scope="module")
def alone():
    """The honest students graded alone, as root, with the same options."""
    d = Path(tempfile.mkdtemp(prefix="h7-alone-"))
    for sid, make in HONEST.items():
        from autograder.assignments.softmax.samples import write
        write(d / "subs", sid, make())
    argv, env, cwd, unused = _argv_env("root") if os.geteuid() == 0 else _argv_env("user")
    shutil.rmtree(unused, ignore_errors=True)
    w = _grade(argv, env, cwd, d / "subs", d / "out", _grader_options(sys.executable))
    assert w.returncode == 0, w.stderr[-3000:]
    print(f"\n[alone] honest only: {w.wall:.0f} s, grader VmHWM {w.grader_hwm_kb / 1024:.0f} MB")
    yield by_id(read_grades(d / "out"))
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module", params=MODES)
def graded(request, batch):
    """The whole batch graded once in this mode, watched."""
    mode = request.param
    argv, env, cwd, out_parent = _argv_env(mode)
    out = out_parent / "out"
    subs = batch["subs"]
    swap_folder = subs / "link-swap-race"
    swap = harness.Swapper(swap_folder, (swap_folder / "softmax.ipynb").read_bytes(),
                           batch["ctx"].secret)
    watched_roots = [str(cwd), str(subs), str(batch["ctx"].secret.parent)]
    before = harness.tree_digest(*watched_roots, skip={str(swap_folder)})
    opts = _grader_options(sys.executable)
    w = _grade(argv, env, cwd, subs, out, opts, swap=swap)
    time.sleep(1.0)
    after = harness.tree_digest(*watched_roots, skip={str(swap_folder)})
    left = harness.leftover_processes(cwd, TAG_PREFIX)
    rows = read_grades(out) if (out / "grades.csv").exists() else []
    print(f"\n[{mode}] batch: {w.wall:.0f} s, rc {w.returncode}, grader VmHWM "
          f"{w.grader_hwm_kb / 1024:.0f} MB, grader tree peak {w.tree_peak_kb / 1024:.0f} MB, "
          f"host Shmem +{(w.shmem_peak_kb - w.shmem_base_kb) / 1024:.0f} MB, "
          f"Slab +{(w.slab_peak_kb - w.slab_base_kb) / 1024:.0f} MB, "
          f"{len(rows)} rows, {swap.swaps} swaps, options {' '.join(opts)}")
    print(f"[{mode}] budget spans: " + ", ".join(f"{k} {v[1] - v[0]:.0f}s"
                                               for k, v in sorted(w.spans.items())))
    yield dict(mode=mode, w=w, out=out, rows=rows, grades=by_id(rows), before=before,
               after=after, left=left, opts=opts, argv=argv, env=env, cwd=cwd)
    for k in list(left):
        try:
            os.kill(k, 9)
        except OSError:
            pass
    shutil.rmtree(out_parent, ignore_errors=True)


def _describe(row):
    if row is None:
        return "no row"
    return (f"score {row['score']}/{row['max_score']} flags [{row['flags']}] "
            + " ".join(f"{t[5:]}={row[t]}" for t in TESTS if row.get(t) not in (None, "0", "0.0")))


# ------------------------------------------------------------------ the batch


def test_the_batch_finishes_with_exit_0_in_bounded_time(graded):
    w = graded["w"]
    assert not w.timed_out, f"still running after {BATCH_LIMIT_S + 120} s"
    assert w.returncode == 0, w.stderr[-3000:]
    assert w.wall < BATCH_LIMIT_S, f"the batch took {w.wall:.0f} s"


def test_every_folder_has_a_row(graded, batch):
    grades = graded["grades"]
    folders = [e for e in os.listdir(os.fsencode(batch["subs"]))]
    assert len(graded["rows"]) == len(folders), (len(graded["rows"]), len(folders))
    missing = [n for n in list(HONEST) + [a.name for a in CATALOGUE] if row_for(grades, n) is None]
    assert not missing, f"no row for {missing}"


def test_honest_rows_equal_their_rows_graded_alone(graded, alone):
    for sid in HONEST:
        assert "tampering" not in alone[sid]["flags"], (sid, _describe(alone[sid]))
        assert graded["grades"].get(sid) == alone[sid], (sid, _describe(graded["grades"].get(sid)),
                                                         _describe(alone[sid]))


@pytest.mark.parametrize("name", [a.name for a in CATALOGUE])
def test_attack_earns_nothing_undeserved(graded, alone, name):
    attack = next(a for a in CATALOGUE if a.name == name)
    exp = attack.expectation(graded["mode"] == "user")
    row = row_for(graded["grades"], name)
    assert row is not None, f"class {attack.klass} {name}: no row"
    flags = set(row["flags"].split(";")) - {""}
    why = f"class {attack.klass} {name} ({attack.how}): {_describe(row)}"
    perfect = alone["honest-perfect"]
    same_as_perfect = all(row[t] == perfect[t] for t in TESTS) and row["score"] == perfect["score"]
    if exp.perfect:
        assert same_as_perfect and flags == set(), why + " -- expected the perfect row"
    if exp.refused_or_perfect:
        refused = "invalid_notebook" in flags and float(row["score"]) == 0
        assert refused or same_as_perfect, why + " -- expected invalid_notebook and 0, or the perfect row"
    zero = TESTS if exp.zero == ALL else exp.zero
    earned = {t: row[t] for t in zero if float(row[t]) != 0}
    assert not earned, why + f" -- earned {earned}"
    missed = {t: row[t] for t in exp.full if row[t] != perfect[t]}
    assert not missed, why + f" -- the wall did not hold (its own report failed): {missed}"
    if exp.zero == ALL:
        assert float(row["score"]) == 0, why
    assert exp.flags_all <= flags, why + f" -- missing flags {set(exp.flags_all) - flags}"
    if exp.flags_any:
        assert flags & exp.flags_any, why + f" -- expected one of {sorted(exp.flags_any)}"
    assert float(row["score"]) <= SPEC.max_score


@pytest.mark.parametrize("name", [a.name for a in CATALOGUE if a.tag])
def test_a_slow_student_ends_within_the_budget(graded, name):
    attack = next(a for a in CATALOGUE if a.name == name)
    spans, comm = graded["w"].spans, comm_name(attack.tag, TOKEN)
    assert comm in spans, f"{name}: its code was never seen running (comm {comm})"
    first, last = spans[comm]
    assert last - first <= BUDGET + BUDGET_SLACK, (
        f"{name}: its code ran for {last - first:.0f} s, budget {BUDGET:g} s "
        f"(options: {' '.join(graded['opts'])})")


def test_grader_peak_rss_below_1_5_gb(graded):
    w = graded["w"]
    assert w.grader_hwm_kb < PEAK_LIMIT_KB, f"grader VmHWM {w.grader_hwm_kb / 1024:.0f} MB"
    assert w.tree_peak_kb < PEAK_LIMIT_KB, f"grader tree peak {w.tree_peak_kb / 1024:.0f} MB"


def test_host_memory_held_in_tmpfs_and_memfd_is_bounded(graded):
    w = graded["w"]
    grown = w.shmem_peak_kb - w.shmem_base_kb
    assert grown < SHMEM_LIMIT_KB, f"host Shmem grew by {grown / 1024:.0f} MB during the batch"
    # Kernel memory of the jails' files (a tmpfs size bounds bytes, not inodes).
    # The whole machine's Slab: other work on it counts too, hence the margin.
    slab = w.slab_peak_kb - w.slab_base_kb
    assert slab < SHMEM_LIMIT_KB, f"host Slab grew by {slab / 1024:.0f} MB during the batch"


def test_no_student_caused_internal_grader_error(graded):
    """An "internal grader error" is retried from scratch (a second budget) and never
    cached: nothing a student sends may produce one. Read from what each stored result
    declares, not from its words: a student's text may say "internal grader error" too."""
    from autograder.model import StudentResult
    hits = []
    for p in sorted((graded["out"] / "results").glob("*.json")):
        r = StudentResult.from_dict(json.loads(p.read_text(encoding="utf-8")))
        if r.internal_error:
            hits.append((r.student_id, r.problem, [t.message for t in r.tests if t.internal]))
    assert not hits, hits[:10]


@pytest.mark.parametrize("a, b, test", verdicts.PROBE_PAIRS)
def test_a_wrong_answer_gets_the_same_words_however_far_it_is(graded, a, b, test):
    """Issue 15, class 7: two probes that differ only in the value they return get the
    same message, so no message carries a distance from the hidden expected value."""
    import json as _json

    def message(sid):
        from autograder.record.store import safe_name
        r = _json.loads((graded["out"] / "results" / f"{safe_name(sid)}.json").read_text())
        return next(t["message"] for t in r["tests"] if t["grade_id"] == test)
    assert message(a) == message(b)
    assert "relative error" not in message(a)


def test_no_byte_of_a_link_target_in_out(graded, batch):
    needles = [batch["marker"].encode()]
    try:
        needles += [ln for ln in Path("/etc/shadow").read_bytes().splitlines() if len(ln) >= 12]
    except OSError:
        pass
    hits = harness.files_containing(graded["out"], needles)
    assert not hits, f"link targets' bytes in OUT: {sorted(hits)[:5]}"


def test_nothing_outside_out_changed(graded):
    assert graded["before"] == graded["after"], "the repo copy, SUBMISSIONS or the secret changed"
    assert not Path("/tmp/pwned").exists()


def test_no_byte_reached_a_listener_on_the_host(graded, batch):
    """Issue 15: the network attacks (UDP with the hidden inputs, TCP, raw, packet,
    netlink, libc) sent nothing that arrived."""
    time.sleep(0.5)
    assert batch["listener"].ports and batch["listener"].got == [], batch["listener"].got[:3]


def test_no_wall_attack_left_an_inode_or_ipc_object(graded):
    """Issue 15: no socket file, FIFO, node, file or message queue of the inode and
    IPC attacks anywhere the host shares, and no System V object of a jail uid."""
    left = [p for d in ("/tmp", "/var/tmp", "/dev/shm", "/dev/mqueue") if os.path.isdir(d)
            for p in os.listdir(d) if p.startswith("h15-")]
    assert not left, left[:5]
    owners = {65534}
    for kind in ("shm", "msg", "sem"):
        try:
            lines = Path("/proc/sysvipc", kind).read_text().splitlines()
        except OSError:
            continue
        head = lines[0].split()
        rows = [dict(zip(head, ln.split())) for ln in lines[1:]]
        assert not [r for r in rows if int(r["uid"]) in owners or int(r["uid"]) >= 61000], kind


def test_no_jail_process_left_behind(graded):
    assert not graded["left"], f"left running: {graded['left']}"


def test_names_are_escaped_where_written(graded):
    out = graded["out"]
    raws = (b"<script>alert(1)", b"<img src=x onerror=alert(2)>")
    html = [p for p in out.rglob("*.html") if any(r in p.read_bytes() for r in raws)]
    assert not html, f"unescaped name in {html[:3]}"
    # OWASP: a cell starting with = + - @ TAB or CR is run by a spreadsheet.
    bad = [r["student_id"] for r in graded["rows"] if r["student_id"][:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert not bad, f"grades.csv cells a spreadsheet would run: {bad}"


def _markdown_page(source):
    from nbconvert.filters.markdown_mistune import markdown2html_mistune
    return markdown2html_mistune(source)


def test_no_student_script_lives_in_any_page_we_write(graded):
    """Class 151: every HTML page in OUT, and every autograded notebook as formgrader renders
    it (Markdown cells through nbconvert's renderer, unsanitised, as formgrade does; the
    class 151 and 152 attackers' whole pages through formgrader's own template), holds no
    live payload. The browser test (test_browser_xss.py) runs them in Chromium."""
    out, bad = graded["out"], {}
    for p in (p for p in out.rglob("*.html") if p.is_file()):
        found = sinks.live_payloads(p.read_text(encoding="utf-8"))
        if found:
            bad[str(p.relative_to(out))] = found
    sink_attacks = {a.name for a in CATALOGUE if a.klass in (151, 152)}
    # A student may be called softmax.ipynb: their folder is no notebook.
    notebooks = sorted(p for p in (out / "autograded").rglob("*.ipynb") if p.is_file())
    assert {p.parent.parent.name for p in notebooks} >= sink_attacks - {"text-json-surrogates"}
    for p in notebooks:
        nb = json.loads(p.read_text(encoding="utf-8"))
        where = str(p.relative_to(out))
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                bad.setdefault(where, []).extend(sinks.live_payloads(_markdown_page(cell["source"])))
            assert cell["cell_type"] != "raw", where
            assert all(o["output_type"] == "stream" for o in cell.get("outputs", [])), where
        if p.parent.parent.name in sink_attacks:
            bad.setdefault(where, []).extend(sinks.live_payloads(sinks.formgrader_html(p)))
    bad = {k: v for k, v in bad.items() if v}
    assert not bad, bad


def test_every_file_we_write_is_valid_text(graded):
    """Class 152: whatever bytes came out of the jail, OUT holds valid UTF-8, and no JSON
    string in it escapes a lone surrogate."""
    for p in graded["out"].rglob("*"):
        if p.is_file() and p.suffix in (".html", ".json", ".ipynb", ".csv", ".py", ".txt"):
            text = p.read_bytes().decode("utf-8")
            if p.suffix in (".json", ".ipynb"):
                json.dumps(json.loads(text), ensure_ascii=False).encode("utf-8")


def test_the_terminal_gets_no_control_characters(graded):
    """Student ids and messages reach the terminal with control and format characters
    (escape sequences, carriage returns, bidirectional overrides) shown as escapes."""
    w = graded["w"]
    odd = {repr(c) for c in w.stdout + w.stderr
           if c not in "\n\t" and unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")}
    assert not odd, odd


def test_rerun_on_the_same_out_gives_the_same_grades(graded, batch):
    if graded["mode"] != "root":
        pytest.skip("once is enough")
    w = _grade(graded["argv"], graded["env"], graded["cwd"], batch["subs"], graded["out"],
               graded["opts"])
    assert w.returncode == 0, w.stderr[-2000:]
    again = by_id(read_grades(graded["out"]))
    skip = {"link-swap-race"}
    changed = {k: (_describe(graded["grades"].get(k)), _describe(v)) for k, v in again.items()
               if k not in skip and graded["grades"].get(k) != v}
    assert not changed, changed


def test_student_folders_named_like_an_nbgrader_course_still_get_their_rows(tmp_path):
    """Class 7 on its own (it would stop the whole batch): students named
    `submitted` (its notebook under another name) and `feedback` or `source`
    must not turn SUBMISSIONS into an nbgrader course root that drops them all."""
    from autograder.assignments.softmax.samples import write
    import nbformat
    subs = tmp_path / "subs"
    for sid in ("honest-perfect", "feedback", "source"):
        write(subs, sid, build())
    (subs / "submitted").mkdir()
    nbformat.write(build(), str(subs / "submitted" / "my work.ipynb"))
    argv, env, cwd, unused = _argv_env("root") if os.geteuid() == 0 else _argv_env("user")
    shutil.rmtree(unused, ignore_errors=True)
    w = _grade(argv, env, cwd, subs, tmp_path / "out", _grader_options(sys.executable))
    assert w.returncode == 0, w.stderr[-1500:]
    grades = by_id(read_grades(tmp_path / "out"))
    assert set(grades) == {"honest-perfect", "feedback", "source", "submitted"}, sorted(grades)


def test_a_folder_named_ipynb_checkpoints_is_graded_or_named(tmp_path):
    """Every folder is a row, or at least a warning: a student folder that
    happens to be called `.ipynb_checkpoints` must not vanish without a word."""
    from autograder.assignments.softmax.samples import write
    subs = tmp_path / "subs"
    for sid in ("honest-perfect", ".ipynb_checkpoints"):
        write(subs, sid, build())
    argv, env, cwd, unused = _argv_env("root") if os.geteuid() == 0 else _argv_env("user")
    shutil.rmtree(unused, ignore_errors=True)
    w = _grade(argv, env, cwd, subs, tmp_path / "out", _grader_options(sys.executable))
    assert w.returncode == 0, w.stderr[-1500:]
    grades = by_id(read_grades(tmp_path / "out"))
    assert ".ipynb_checkpoints" in grades or ".ipynb_checkpoints" in w.stderr + w.stdout, (
        f"rows {sorted(grades)}; nothing said about .ipynb_checkpoints")


# --------------------------------------------------- the attacks are real attacks


@pytest.mark.parametrize("name", sorted(speed.SPEED))
def test_speed_attack_is_a_right_per_example_loop(name):
    """Outside any jail: each class-1 attack gives the right answer (but the
    constant one) and is many times slower than the vectorized reference, so
    0 speed points in the batch is the right verdict, not luck."""
    cells = dict(reference_cells())
    cells.update(speed.SPEED[name])
    ns = {"np": np, "numpy": np}
    for cid in ("softmax", "softmax_backward", "cross_entropy_error", "SoftmaxWithLoss",
                "softmax_loss_naive", "softmax_loss_vectorized"):
        exec(cells[cid], ns)
    fn = ns["softmax_loss_vectorized"]
    rng = np.random.default_rng(1)

    def fresh():
        X = rng.normal(size=(65, 2000))
        X[-1] = 1.0
        return rng.normal(size=(10, 65)) * 0.01, X, rng.integers(0, 10, size=2000), 0.05

    args = fresh()
    if name in ("speed-constant-matches-naive", "speed-reg-only-matches-naive"):
        assert not np.isclose(fn(*args)[0], ref.softmax_loss(*args)[0])
        return
    loss, dW = fn(*args)
    want_loss, want_dW = ref.softmax_loss(*args)
    assert np.isclose(loss, want_loss) and np.allclose(dW, want_dW)

    # The grader's protocol, in miniature: a fresh input for every student
    # call (made just before it, so no cache or gc scan can see it early),
    # the reference timed on the same input, the median of the ratios; one
    # BLAS thread so a loaded machine moves both alike.
    from threadpoolctl import threadpool_limits

    def clock(f, a, k=1):
        best = float("inf")
        for _ in range(k):
            t = time.perf_counter()
            f(*a)
            best = min(best, time.perf_counter() - t)
        return best

    with threadpool_limits(1):
        ratios = []
        for _ in range(3):
            a = fresh()
            ratios.append(clock(fn, a) / clock(ref.softmax_loss, a, k=5))
    ratio = sorted(ratios)[1]
    assert ratio > 5, f"{name}: only {ratio:.1f}x slower than the reference ({ratios})"
