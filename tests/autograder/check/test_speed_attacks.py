"""Issue 8, class 1: a per-example loop earns no speed points, however it is hidden.

Every attack computes the loss with one Python-level step per example, hidden
from a reading of the vectorized cell in a different way (two ways per kind),
or tries to hide its CPU time (a thread that has exited, a forked child,
answers cached from inputs found through gc or frames). The real check runs
(`SandboxStudent` + `ProcessTimer` + the softmax speed check): in the jail,
and without the jail's seccomp filter (`unsafe`), where threads and forks run
and only the timing can catch them. Honest vectorized styles still pass.
"""
import inspect
import sys
import textwrap

import pytest

from autograder.assignments.softmax import ASSIGNMENT, checks, reference
from autograder.assignments.softmax.samples.styles import STYLES
from autograder.check.registry import run_check
from autograder.check.runner import ProcessTimer, SandboxStudent
from autograder.sandbox import bwrap_available
from tests.autograder.helpers import jail

pytestmark = [pytest.mark.slow]
FN = "softmax_loss_vectorized"
CHECK = checks.REGISTRY["test_softmax_loss_vectorized_speed"]
PRELUDE = ("imports", "import numpy as np")
NAIVE = ("softmax_loss_naive", inspect.getsource(reference.softmax_loss_loop)
         .replace("softmax_loss_loop", "softmax_loss_naive"))

# One example's loss and gradient: the unit of work every attack repeats N times.
ONE = '''
def _one(W, x, label):
    s = W @ x
    s = s - s.max()
    p = np.exp(s)
    p /= p.sum()
    l = -np.log(p[label])
    p[label] -= 1.0
    return l, np.outer(p, x)
'''


def _cell(body):
    return textwrap.dedent(ONE) + textwrap.dedent(body)


ATTACKS = {
    # -- CPU hidden in a thread that exits before the grader reads the clock
    "thread_join": _cell('''
        import threading
        def softmax_loss_vectorized(W, X, y, reg):
            out = {}
            def work():
                out["r"] = softmax_loss_naive(W, X, y, reg)
            t = threading.Thread(target=work)
            t.start(); t.join()
            return out["r"]
        '''),
    "thread_pool": _cell('''
        from concurrent.futures import ThreadPoolExecutor
        def softmax_loss_vectorized(W, X, y, reg):
            with ThreadPoolExecutor(1) as ex:
                return ex.submit(softmax_loss_naive, W, X, y, reg).result()
        '''),
    # -- CPU hidden in a forked child
    "fork_reaped": _cell('''
        import os, pickle
        def softmax_loss_vectorized(W, X, y, reg):
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.write(w, pickle.dumps(softmax_loss_naive(W, X, y, reg)))
                os._exit(0)
            os.close(w)
            data = b""
            while True:
                chunk = os.read(r, 1 << 16)
                if not chunk:
                    break
                data += chunk
            os.close(r)
            os.waitpid(pid, 0)
            return pickle.loads(data)
        '''),
    "fork_zombie": _cell('''
        import os, pickle
        def softmax_loss_vectorized(W, X, y, reg):
            r, w = os.pipe()
            if os.fork() == 0:
                os.write(w, pickle.dumps(softmax_loss_naive(W, X, y, reg)))
                os._exit(0)
            os.close(w)
            with os.fdopen(r, "rb") as f:
                return pickle.loads(f.read())     # the child is never reaped
        '''),
    # -- answers cached from inputs found through gc or frames
    "cache_gc": _cell('''
        import gc
        _cache = {}
        def softmax_loss_vectorized(W, X, y, reg):
            for o in gc.get_objects():
                if isinstance(o, (list, tuple)) and len(o) == 4 and \\
                        all(isinstance(a, np.ndarray) for a in o[:3]):
                    _cache.setdefault(o[0].tobytes(), softmax_loss_naive(*o))
            hit = _cache.get(W.tobytes())
            return hit if hit is not None else softmax_loss_naive(W, X, y, reg)
        '''),
    "cache_frames": _cell('''
        import sys
        _cache = {}
        def softmax_loss_vectorized(W, X, y, reg):
            f = sys._getframe(1)
            while f is not None:
                for v in list(f.f_locals.values()):
                    a = v.get("args") if isinstance(v, dict) else None
                    if isinstance(a, list) and len(a) == 4 and hasattr(a[0], "tobytes"):
                        _cache.setdefault(a[0].tobytes(), softmax_loss_naive(*a))
                f = f.f_back
            hit = _cache.get(W.tobytes())
            return hit if hit is not None else softmax_loss_naive(W, X, y, reg)
        '''),
    # -- the loop where a reading of the cell does not see it
    "exec_string": _cell('''
        exec("def _all(W, X, y, reg):\\n"
             "    L, G = 0.0, 0.0\\n"
             "    for i in range(X.shape[1]):\\n"
             "        l, g = _one(W, X[:, i], y[i]); L += l; G = G + g\\n"
             "    N = X.shape[1]\\n"
             "    return L / N + 0.5 * reg * np.sum(W * W), G / N + reg * W\\n")
        def softmax_loss_vectorized(W, X, y, reg):
            return _all(W, X, y, reg)
        '''),
    "exec_compile_function": _cell('''
        import types
        _code = compile("lambda W, X, y: [_one(W, X[:, i], y[i]) for i in range(X.shape[1])]",
                        "<x>", "eval")
        _each = eval(_code)
        def softmax_loss_vectorized(W, X, y, reg):
            parts = _each(W, X, y)
            N = X.shape[1]
            return (sum(p[0] for p in parts) / N + 0.5 * reg * np.sum(W * W),
                    sum(p[1] for p in parts) / N + reg * W)
        '''),
    "naive_by_name": _cell('''
        def softmax_loss_vectorized(W, X, y, reg):
            return softmax_loss_naive(W, X, y, reg)
        '''),
    "helper_from_another_cell": None,       # built below: the loop lives in the naive cell
    "recursion_halving": _cell('''
        def _rec(W, X, y, lo, hi):
            if hi - lo == 1:
                return _one(W, X[:, lo], y[lo])
            mid = (lo + hi) // 2
            a, b = _rec(W, X, y, lo, mid), _rec(W, X, y, mid, hi)
            return a[0] + b[0], a[1] + b[1]
        def softmax_loss_vectorized(W, X, y, reg):
            N = X.shape[1]
            L, G = _rec(W, X, y, 0, N)
            return L / N + 0.5 * reg * np.sum(W * W), G / N + reg * W
        '''),
    "recursion_linear": _cell('''
        import sys
        sys.setrecursionlimit(100_000)     # one frame per example, and N = 20000
        def _rec(W, X, y, i):
            if i == X.shape[1]:
                return 0.0, 0.0
            l, g = _one(W, X[:, i], y[i])
            L, G = _rec(W, X, y, i + 1)
            return L + l, G + g
        def softmax_loss_vectorized(W, X, y, reg):
            N = X.shape[1]
            L, G = _rec(W, X, y, 0)
            return L / N + 0.5 * reg * np.sum(W * W), G / N + reg * W
        '''),
    "functools_reduce": _cell('''
        import functools
        def softmax_loss_vectorized(W, X, y, reg):
            N = X.shape[1]
            def step(acc, i):
                l, g = _one(W, X[:, i], y[i])
                return acc[0] + l, acc[1] + g
            L, G = functools.reduce(step, range(N), (0.0, 0.0))
            return L / N + 0.5 * reg * np.sum(W * W), G / N + reg * W
        '''),
    "functools_reduce_operator": _cell('''
        from functools import reduce as fold
        import operator
        def softmax_loss_vectorized(W, X, y, reg):
            N = X.shape[1]
            ls = fold(operator.add, (_one(W, X[:, i], y[i])[0] for i in range(N)))
            gs = fold(operator.add, (_one(W, X[:, i], y[i])[1] for i in range(N)))
            return ls / N + 0.5 * reg * np.sum(W * W), gs / N + reg * W
        '''),
    "itertools_starmap": _cell('''
        import itertools
        def softmax_loss_vectorized(W, X, y, reg):
            N = X.shape[1]
            parts = list(itertools.starmap(lambda x, t: _one(W, x, t), zip(X.T, y)))
            return (sum(p[0] for p in parts) / N + 0.5 * reg * np.sum(W * W),
                    sum(p[1] for p in parts) / N + reg * W)
        '''),
    "itertools_starmap_accumulate": _cell('''
        from itertools import starmap as sm, accumulate
        def softmax_loss_vectorized(W, X, y, reg):
            N = X.shape[1]
            *_, last = accumulate(sm(lambda x, t: _one(W, x, t), zip(X.T, y)),
                                  lambda a, b: (a[0] + b[0], a[1] + b[1]))
            return last[0] / N + 0.5 * reg * np.sum(W * W), last[1] / N + reg * W
        '''),
    "vectorize_alias_getattr": _cell('''
        _v = getattr(np, "vec" + "torize")
        def softmax_loss_vectorized(W, X, y, reg):
            N = X.shape[1]
            G = np.zeros_like(W)
            def each(i):
                l, g = _one(W, X[:, i], y[i])
                G[...] += g
                return l
            L = _v(each, otypes=[float])(np.arange(N)).sum()
            return L / N + 0.5 * reg * np.sum(W * W), G / N + reg * W
        '''),
    "vectorize_alias_import": _cell('''
        from numpy import vectorize as spread
        def softmax_loss_vectorized(W, X, y, reg):
            N = X.shape[1]
            G = np.zeros_like(W)
            def each(i):
                l, g = _one(W, X[:, i], y[i])
                G[...] += g
                return l
            L = spread(each, otypes=[float])(np.arange(N)).sum()
            return L / N + 0.5 * reg * np.sum(W * W), G / N + reg * W
        '''),
    "globals_concat": _cell('''
        def softmax_loss_vectorized(W, X, y, reg):
            return globals()["softmax_loss_" + "naive"](W, X, y, reg)
        '''),
    "globals_search": _cell('''
        def softmax_loss_vectorized(W, X, y, reg):
            g = globals()
            name = next(n for n in g if n.endswith("_naive"))
            return g[name](W, X, y, reg)
        '''),
}

HELPER_NAIVE = ("softmax_loss_naive", textwrap.dedent(ONE) + textwrap.dedent('''
    def _examples(W, X, y):
        L, G = 0.0, 0.0
        for i in range(X.shape[1]):
            l, g = _one(W, X[:, i], y[i])
            L, G = L + l, G + g
        return L, G

    def softmax_loss_naive(W, X, y, reg):
        N = X.shape[1]
        L, G = _examples(W, X, y)
        return L / N + 0.5 * reg * np.sum(W * W), G / N + reg * W
    '''))


def cells_of(name):
    if name == "helper_from_another_cell":
        return [PRELUDE, HELPER_NAIVE, (FN, '''
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    L, G = _examples(W, X, y)
    return L / N + 0.5 * reg * np.sum(W * W), G / N + reg * W
''')]
    return [PRELUDE, NAIVE, (FN, ATTACKS[name])]


HONEST = {
    "einsum": STYLES["einsum_logsumexp"]["softmax_loss_vectorized"],
    "onehot_matrix": STYLES["onehot_transposed"]["softmax_loss_vectorized"],
    "plain_matmul": inspect.getsource(reference.softmax_loss)
    .replace("def softmax_loss(", "def softmax_loss_vectorized("),
}


@pytest.fixture(scope="module")
def timer():
    t = ProcessTimer(ASSIGNMENT.timer_reference)
    yield t
    t.close()


def speed_verdict(cells, timer, unsafe):
    student = SandboxStudent(cells, jail=jail(unsafe=unsafe, timeout=60))
    try:
        return run_check(CHECK, student, timer, ASSIGNMENT.hints)
    finally:
        student.close()


def test_every_attack_is_a_correct_loss_function():
    """The attacks compute the right answer: only their speed can fail them."""
    import numpy as np
    from tests.autograder.helpers import namespace_with
    W, X, y, reg = checks.speed_input(0, seed=1)
    X, y = X[:, :50], y[:50]
    want = reference.softmax_loss(W, X, y, reg)
    limit = sys.getrecursionlimit()
    try:
        for name in ATTACKS:
            if name.startswith(("thread", "fork")):
                continue    # checked in the unsafe runs below
            cells = dict(c for c in cells_of(name) if c[0] != "imports")
            ns = namespace_with(cells)
            loss, dW = ns[FN](W, X, y, reg)
            assert np.isclose(loss, want[0]) and np.allclose(dW, want[1]), name
    finally:
        # One attack raises the limit for its recursion; left raised in this test process,
        # a later test's deeply nested JSON overflows the C stack instead of raising.
        sys.setrecursionlimit(limit)


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_a_hidden_loop_earns_no_speed_points_by_timing_alone(name, timer, monkeypatch):
    """Without the seccomp filter threads and forks run: the timing alone catches them
    (the reading of the code for loops is switched off here)."""
    monkeypatch.setattr(checks, "loops_reached", lambda sources, fn: [])
    v = speed_verdict(cells_of(name), timer, unsafe=True)
    assert not v.passed, v.message
    assert "faster than a loop over examples" in v.message, v.message
    assert v.mistake in ("too_slow", "loop_in_vectorized")


@pytest.mark.skipif(not bwrap_available(), reason="bubblewrap not available")
@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_a_hidden_loop_earns_no_speed_points_in_the_jail(name, timer):
    v = speed_verdict(cells_of(name), timer, unsafe=False)
    assert not v.passed, v.message


@pytest.mark.parametrize("name", sorted(HONEST))
def test_honest_vectorized_styles_pass(name, timer):
    v = speed_verdict([PRELUDE, (FN, HONEST[name])], timer, unsafe=False
                      if bwrap_available() else True)
    assert v.passed, v.message
    assert "loop" not in v.message.replace("a loop over examples", "")   # no loop claim


# Attacks whose loop stays out of the code's reach: text run by a top-level exec, a
# name or an attribute put together at run time. The timing fails them (above).
UNREAD = {"exec_string", "globals_concat", "vectorize_alias_getattr"}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_a_loop_the_code_shows_fails_before_any_timing(name):
    """Every loop (or loop helper, or code run from text) written in the function or in a
    function of the student's it names, in any cell, fails the check at once."""
    class NoTimer:
        def timed(self, args):
            raise AssertionError("timed although the code shows a loop")
    student = SandboxStudent(cells_of(name), jail=jail(unsafe=True, timeout=60))
    try:
        found = checks.loops_reached(student.all_sources(), FN)
        if name in UNREAD:
            assert found == [], found
            return
        assert found, name
        v = run_check(CHECK, student, NoTimer(), ASSIGNMENT.hints)
    finally:
        student.close()
    assert not v.passed and v.mistake == "loop_in_vectorized", v.message
    assert "runs a Python loop" in v.message

