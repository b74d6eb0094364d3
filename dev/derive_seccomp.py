"""Derive the jail's system-call allow-list: grade honest work under strace, list the calls.

    .venv/bin/python dev/derive_seccomp.py [--modes bubblewrap container] [--keep DIR]

Writes a corpus of submissions (every sample of the assignment, every mistake and
style, the red team's honest students, and notebooks that import matplotlib,
scikit-learn and SciPy and run the reference notebook's helper modules: data
loading, plots, the gradient check, training), grades it with the real CLI in each
sandbox mode under `strace -f`, with a filter that allows everything (so no
refusal changes what the code does), and reads the traces of the jailed workers
from the moment BOOT loads the filter.

Prints every call made with its count, the arguments the filter checks (open
flags, fcntl and ioctl commands, prlimit64's new limit, socket families), and
the difference with `autograder/sandbox/seccomp.py`'s ALLOWED: exit status 1
when honest code made a call, or passed an argument, that the list refuses.
Needs strace (apt-get install strace); container mode needs root.
"""
import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autograder.assignments.softmax.samples import (MISTAKES, STYLES, build,  # noqa: E402
                                                    mistake_overrides, reference_cells, write)
from autograder.sandbox import seccomp  # noqa: E402

# The CLI, with a filter that lets every call through (the marker prctl stays).
INNER = """
import sys
from autograder.sandbox import seccomp
_all = seccomp._assemble([(seccomp._RET, seccomp.RET_ALLOW, None, None)])
seccomp.program = lambda arch=None, allowed=None: _all
from autograder.cli import main
sys.exit(main(sys.argv[1:]))
"""

HELPERS = REPO / "solutions" / "softmax"

# Run inside softmax's first call: the libraries a student may import and every
# helper module of the reference notebook, exercised as the notebook does.
LIBRARIES = r'''
def _exercise():
    import io
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import scipy.special
    import sklearn.datasets
    sklearn.datasets.load_digits()
    fig, ax = plt.subplots()
    ax.plot([1.0, 2.0])
    fig.savefig(io.BytesIO(), format="png")
    scipy.special.logsumexp([1.0, 2.0])
'''


def helpers_cell():
    """A softmax cell that first runs the helper modules' code (sources inlined)."""
    sources = {p.stem: p.read_text() for p in sorted(HELPERS.glob("*.py"))}
    body = [LIBRARIES, f"_HELPERS = {sources!r}", r'''
def _helpers():
    import numpy as np
    ns = {}
    for name in ("gradient_check", "timing", "plots", "data_utils", "linear_classifier"):
        mod = {"__name__": name}
        exec(_HELPERS[name], mod)
        ns[name] = mod
    d = ns["data_utils"]
    split = d["load_digits_split"]()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5))
    ns["gradient_check"]["eval_numerical_gradient"](lambda v: float((v ** 2).sum()), x)
    ns["timing"]["time_function"](np.sum, x)
    ns["plots"]["plot_loss_curve"]([3.0, 2.0, 1.0])
    ns["plots"]["plot_weights"](rng.normal(size=(10, 65)))
    return split
''']
    ref = reference_cells()["softmax"]
    wrapped = ref.replace("def softmax(x):", "def softmax(x):\n    _exercise()\n    _helpers()", 1)
    assert wrapped != ref, "the reference softmax cell changed shape"
    return "\n".join(body) + "\n" + wrapped


def write_corpus(folder):
    write(folder, "perfect", build())
    write(folder, "blank", build(perfect=False))
    for name in MISTAKES:
        write(folder, "mistake-" + name.replace("_", "-"), build(mistake_overrides(name)))
    for name, overrides in STYLES.items():
        write(folder, "style-" + name.replace("_", "-"), build(overrides))
    write(folder, "helpers-and-libraries", build({"softmax": helpers_cell()}))


def grade_traced(python, subs, out, mode, trace):
    cmd = ["strace", "-f", "-qq", "-s", "64", "-o", str(trace),
           python, "-c", INNER, "grade", str(subs), "--out", str(out), "--jobs", "1",
           "--no-progress", "--sandbox", mode, "--timeout", "120"]
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"grading in {mode} mode failed:\n{r.stderr[-3000:]}")


LINE = re.compile(r"^(\d+)\s+(.*)$")
CALL = re.compile(r"^([a-z_0-9]+)\((.*)")


def worker_calls(trace):
    """[(name, args text)] of every call the jailed workers made after the filter.

    One trace file, each line led by its pid: a pid is a worker from its execve
    of worker.py, counted from its next prctl(PR_SET_SECCOMP) (BOOT loading the
    filter) until it exits, so a pid the kernel hands out again is not mixed in."""
    state, calls = {}, []       # pid -> "exec'd" | "filtered"
    with open(trace, errors="replace") as f:
        for raw in f:
            m = LINE.match(raw)
            if not m:
                continue
            pid, rest = m.groups()
            rest = rest.replace(" <unfinished ...>", "")
            if rest.startswith("+++ ") or rest.startswith("execve("):
                state.pop(pid, None)
                if rest.startswith("execve(") and "worker.py" in rest:
                    state[pid] = "exec'd"
                continue
            if rest.startswith("prctl(PR_SET_SECCOMP") and pid in state:
                state[pid] = "filtered"
                continue
            call = CALL.match(rest)
            if call and state.get(pid) == "filtered":
                calls.append((call.group(1), call.group(2)))
    return calls


def _arg(args, i):
    return [a.strip() for a in re.split(r",\s*(?![^{\[]*[}\]])", args)][i] if args else ""


def observed_arguments(calls):
    """{call: Counter of the checked argument as strace shows it}."""
    seen = collections.defaultdict(collections.Counter)
    for name, args in calls:
        if name == "openat":
            seen[name]["creates" if re.search(r"O_CREAT|O_TMPFILE", args) else "no create"] += 1
        elif name == "open":
            seen[name]["creates" if re.search(r"O_CREAT|O_TMPFILE", args) else "no create"] += 1
        elif name in ("fcntl", "ioctl"):
            seen[name][_arg(args, 1)] += 1
        elif name == "prlimit64":
            seen[name]["new limit" if _arg(args, 2) != "NULL" else "read only"] += 1
        elif name in ("socket", "socketpair"):
            seen[name][_arg(args, 0)] += 1
    return seen


ALLOWED_ARGS = {"fcntl": {"F_DUPFD", "F_GETFD", "F_SETFD", "F_GETFL", "F_SETFL",
                          "F_DUPFD_CLOEXEC"},
                "ioctl": {"TCGETS", "TIOCGWINSZ", "FIONREAD", "FIONBIO", "FIOCLEX"},
                "openat": {"no create"}, "open": {"no create"}, "prlimit64": {"read only"}}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--modes", nargs="+", default=["bubblewrap", "container"])
    p.add_argument("--keep", help="keep the corpus and traces in this folder")
    args = p.parse_args(argv)
    if shutil.which("strace") is None:
        sys.exit("strace is not installed (apt-get install strace)")
    modes = [m for m in args.modes if m != "container" or os.geteuid() == 0]
    work = Path(args.keep or tempfile.mkdtemp(prefix="derive-seccomp-"))
    work.mkdir(parents=True, exist_ok=True)
    os.chmod(work, 0o755)
    write_corpus(work / "subs")
    counts, seen = collections.Counter(), collections.defaultdict(collections.Counter)
    for mode in modes:
        grade_traced(sys.executable, work / "subs", work / f"out-{mode}", mode,
                     work / f"trace-{mode}.txt")
        calls = worker_calls(work / f"trace-{mode}.txt")
        print(f"{mode}: {len(calls)} calls by the jailed workers")
        counts.update(name for name, _ in calls)
        for k, v in observed_arguments(calls).items():
            seen[k].update(v)
    missing = sorted(n for n in counts if n not in seccomp.ALLOWED)
    bad_args = {k: sorted(set(v) - ALLOWED_ARGS.get(k, set(v))) for k, v in seen.items()}
    bad_args = {k: v for k, v in bad_args.items() if v}
    print("\ncalls made (count):")
    for name, n in counts.most_common():
        print(f"  {name:22s} {n:8d}{'   NOT ALLOWED' if name in missing else ''}")
    print("\nchecked arguments seen:")
    for name, c in sorted(seen.items()):
        print(f"  {name}: " + ", ".join(f"{k} x{n}" for k, n in c.most_common()))
    unused = sorted(n for n in seccomp.ALLOWED if n not in counts)
    print(f"\nallowed but not seen here ({len(unused)}): {' '.join(unused)}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    if missing or bad_args:
        print(f"\nREFUSED by the allow-list: calls {missing}, arguments {bad_args}")
        return 1
    print("\nthe allow-list covers every call and argument seen")
    return 0


if __name__ == "__main__":
    sys.exit(main())
