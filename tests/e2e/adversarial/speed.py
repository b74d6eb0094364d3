"""Class 1: per-example loops the speed test must catch, however they are hidden.

Each attack replaces `softmax_loss_vectorized` (and sometimes another cell)
with code that gives the RIGHT loss and gradient, one example at a time, so
only the timing can tell: every one must earn 0 speed points. The loops are
hidden from a reading of the vectorized cell in as many different ways as we
could think of (threads, children, caches, strings, other cells, recursion,
functional helpers, iterator protocols...).
"""

# One example's loss and gradient, stable for any score magnitude
# (log-sum-exp after the max shift). No loop in it.
ONE = '''
def _ex(W, x, yi):
    s = W @ x
    s = s - s.max()
    e = np.exp(s)
    z = e.sum()
    p = e / z
    p[yi] -= 1.0
    return np.log(z) - s[yi], np.outer(p, x)

def _finish(W, loss, dW, N, reg):
    return float(loss / N + 0.5 * reg * np.sum(W * W)), dW / N + reg * W
'''

# A plain per-example loop, used by the attacks that hide *where* it runs.
LOOP = ONE + '''
def _loop(W, X, y, reg):
    loss, dW = 0.0, np.zeros(W.shape)
    for i in range(X.shape[1]):
        l, g = _ex(W, X[:, i], y[i])
        loss += l
        dW += g
    return _finish(W, loss, dW, X.shape[1], reg)
'''

V = "softmax_loss_vectorized"
N_ = "softmax_loss_naive"

SPEED = {
    # The work runs in a thread that exits before the time is read.
    "speed-thread-exits": {V: LOOP + '''
import threading

def softmax_loss_vectorized(W, X, y, reg):
    box = {}
    def work():
        box["r"] = _loop(W, X, y, reg)
    try:
        t = threading.Thread(target=work)
        t.start()
        t.join()
    except Exception:
        pass
    if "r" not in box:
        work()
    return box["r"]
'''},
    # Several short-lived threads, each a slice of the examples.
    "speed-thread-slices": {V: ONE + '''
import threading

def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    parts = []
    def work(lo, hi):
        loss, dW = 0.0, np.zeros(W.shape)
        for i in range(lo, hi):
            l, g = _ex(W, X[:, i], y[i])
            loss += l
            dW += g
        parts.append((loss, dW))
    bounds = [(k * N // 4, (k + 1) * N // 4) for k in range(4)]
    try:
        ts = [threading.Thread(target=work, args=b) for b in bounds]
        [t.start() for t in ts]
        [t.join() for t in ts]
    except Exception:
        parts.clear()
    if len(parts) != 4:
        parts.clear()
        [work(*b) for b in bounds]
    return _finish(W, sum(p[0] for p in parts), sum(p[1] for p in parts), N, reg)
'''},
    # The work runs in a forked child that is reaped before the reading.
    "speed-forked-child": {V: LOOP + '''
import os, pickle

def softmax_loss_vectorized(W, X, y, reg):
    try:
        r, w = os.pipe()
        pid = os.fork()
    except Exception:
        return _loop(W, X, y, reg)
    if pid == 0:
        os.write(w, pickle.dumps(_loop(W, X, y, reg)))
        os._exit(0)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 1 << 20)
        if not chunk:
            break
        data += chunk
    os.waitpid(pid, 0)
    return pickle.loads(data) if data else _loop(W, X, y, reg)
'''},
    # multiprocessing (a process pool, falling back to a thread pool).
    "speed-multiprocessing": {V: ONE + '''
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    one = lambda i: _ex(W, X[:, i], y[i])
    try:
        import multiprocessing.dummy as mp
        with mp.Pool(4) as pool:
            parts = pool.map(one, range(N))
    except Exception:
        parts = list(getattr(__import__("builtins"), "ma" + "p")(one, range(N)))
    return _finish(W, sum(p[0] for p in parts), sum(p[1] for p in parts), N, reg)
'''},
    # A cache keyed on the inputs' bytes, kept as a function attribute.
    "speed-cache-funcattr": {V: LOOP + '''
import hashlib

def softmax_loss_vectorized(W, X, y, reg):
    key = hashlib.sha1(W.tobytes() + X.tobytes() + np.asarray(y).tobytes()
                       + repr(reg).encode()).hexdigest()
    memo = softmax_loss_vectorized.__dict__.setdefault("memo", {})
    if key not in memo:
        memo[key] = _loop(W, X, y, reg)
    loss, dW = memo[key]
    return loss, dW.copy()
'''},
    # A cache keyed on cheap fingerprints, kept in module state (numpy's).
    "speed-cache-module": {V: LOOP + '''
import sys

def softmax_loss_vectorized(W, X, y, reg):
    store = sys.modules["numpy"].__dict__.setdefault("_h7_memo", {})
    key = (X.shape, float(X[0, 0]), float(X[-2, -1]), float(W[0, 0]), int(y[0]), int(y[-1]), reg)
    if key not in store:
        store[key] = _loop(W, X, y, reg)
    loss, dW = store[key]
    return loss, dW.copy()
'''},
    # On the first call, find every input array still in memory (gc) and
    # compute all the answers; later calls are dictionary look-ups.
    "speed-gc-precompute": {V: LOOP + '''
import gc, hashlib

_ANS = {}

def _k(W, X, y):
    return hashlib.sha1(W.tobytes()[:4096] + X.tobytes()[:65536] + np.asarray(y).tobytes()[:4096]).digest()

def _arrays():
    found = {}
    for o in gc.get_objects():
        try:
            refs = gc.get_referents(o)
        except Exception:
            continue
        for a in refs:
            if isinstance(a, np.ndarray):
                found[id(a)] = a
    return list(found.values())

def _fill(reg):
    arrs = _arrays()
    Ws = [a for a in arrs if a.ndim == 2 and a.shape[0] < a.shape[1] <= 100 and a.dtype.kind == "f"]
    Xs = [a for a in arrs if a.ndim == 2 and a.shape[1] >= 1000 and a.dtype.kind == "f"]
    ys = [a for a in arrs if a.ndim == 1 and a.shape[0] >= 1000 and a.dtype.kind in "iu"]
    for X in Xs[:8]:
        for W in Ws[:8]:
            for y in [v for v in ys if v.shape[0] == X.shape[1]][:8]:
                if W.shape[1] == X.shape[0]:
                    _ANS.setdefault(_k(W, X, y), _loop(W, X, y, reg))

def softmax_loss_vectorized(W, X, y, reg):
    k = _k(W, X, y)
    if k not in _ANS:
        _fill(reg)
    if k not in _ANS:
        _ANS[k] = _loop(W, X, y, reg)
    loss, dW = _ANS[k]
    return loss, dW.copy()
'''},
    # Walk the frames up to the worker, find its pending/stashed inputs, and
    # answer them all at the first call.
    "speed-frames-stash": {V: LOOP + '''
import sys, hashlib

_SEEN = {}

def _fp(W, X, y):
    return hashlib.md5(X.tobytes()[:8192] + W.tobytes()[:800]).digest()

def _scan(reg):
    f = sys._getframe(1)
    while f is not None:
        for v in list(f.f_locals.values()):
            try:
                stash = getattr(v, "stash", None)
            except Exception:
                continue
            if isinstance(stash, list):
                for args in stash:
                    try:
                        W, X, y, r = args
                        _SEEN.setdefault(_fp(W, X, y), _loop(W, X, y, r))
                    except Exception:
                        pass
        f = f.f_back

def softmax_loss_vectorized(W, X, y, reg):
    k = _fp(W, X, y)
    if k not in _SEEN:
        _scan(reg)
    if k not in _SEEN:
        _SEEN[k] = _loop(W, X, y, reg)
    loss, dW = _SEEN[k]
    return loss, dW.copy()
'''},
    # The loop lives in a string put together at run time and compiled.
    "speed-compiled-string": {V: ONE + '''
_SRC = "lambda W, X, y: [_ex(W, X[:, i], y[i]) " + "f" + "or i in range(X.shape[1])]"
_per = eval(compile(_SRC, "<hidden>", "eval"))

def softmax_loss_vectorized(W, X, y, reg):
    parts = _per(W, X, y)
    return _finish(W, sum(p[0] for p in parts), sum(p[1] for p in parts), X.shape[1], reg)
'''},
    # The loop is base64 in the cell and exec'd into a helper.
    "speed-base64-exec": {V: ONE + '''
import base64
exec(base64.b64decode(
    "ZGVmIF9oaWRkZW4oVywgWCwgeSwgcmVnKToKICAgIGxvc3MsIGRXID0gMC4wLCBucC56ZXJvcyhX"
    "LnNoYXBlKQogICAgaSA9IDAKICAgIHdoaWxlIGkgPCBYLnNoYXBlWzFdOgogICAgICAgIGwsIGcg"
    "PSBfZXgoVywgWFs6LCBpXSwgeVtpXSkKICAgICAgICBsb3NzICs9IGwKICAgICAgICBkVyArPSBn"
    "CiAgICAgICAgaSArPSAxCiAgICByZXR1cm4gX2ZpbmlzaChXLCBsb3NzLCBkVywgWC5zaGFwZVsx"
    "XSwgcmVnKQo=").decode())

def softmax_loss_vectorized(W, X, y, reg):
    return _hidden(W, X, y, reg)
'''},
    # The helper with the loop is defined in another solution cell.
    "speed-other-cell": {N_: LOOP + '''
def softmax_loss_naive(W, X, y, reg):
    return _loop(W, X, y, reg)
''', V: '''
def softmax_loss_vectorized(W, X, y, reg):
    return globals()["_lo" + "op"](W, X, y, reg)
'''},
    # The vectorized version calls the naive one under a computed name.
    "speed-globals-naive": {V: '''
softmax_loss_vectorized = lambda W, X, y, reg: globals()["softmax_loss_" + "na" + "ive"](W, X, y, reg)
'''},
    # Divide and conquer down to single examples: recursion, no loop syntax.
    "speed-recursion": {V: ONE + '''
def _rec(W, X, y, lo, hi):
    if hi - lo == 1:
        return _ex(W, X[:, lo], y[lo])
    mid = (lo + hi) // 2
    a, b = _rec(W, X, y, lo, mid), _rec(W, X, y, mid, hi)
    return a[0] + b[0], a[1] + b[1]

def softmax_loss_vectorized(W, X, y, reg):
    loss, dW = _rec(W, X, y, 0, X.shape[1])
    return _finish(W, loss, dW, X.shape[1], reg)
'''},
    # functools.reduce over the example indices.
    "speed-reduce": {V: ONE + '''
import functools

def softmax_loss_vectorized(W, X, y, reg):
    def step(acc, i):
        l, g = _ex(W, X[:, i], y[i])
        return acc[0] + l, acc[1] + g
    loss, dW = functools.reduce(step, range(X.shape[1]), (0.0, np.zeros(W.shape)))
    return _finish(W, loss, dW, X.shape[1], reg)
'''},
    # itertools.starmap over (column, label) pairs.
    "speed-starmap": {V: ONE + '''
import itertools

def softmax_loss_vectorized(W, X, y, reg):
    parts = list(itertools.starmap(lambda x, t: _ex(W, x, t), zip(X.T, y)))
    return _finish(W, sum(p[0] for p in parts), sum(p[1] for p in parts), X.shape[1], reg)
'''},
    # np.vectorize under another name (a "vectorized" Python loop).
    "speed-np-vectorize-alias": {V: ONE + '''
_vz = getattr(np, "vector" + "ize")

def softmax_loss_vectorized(W, X, y, reg):
    acc = {"l": 0.0, "g": np.zeros(W.shape)}
    def one(i):
        l, g = _ex(W, X[:, i], y[i])
        acc["l"] += l
        acc["g"] += g
        return 0.0
    _vz(one, otypes=[float])(np.arange(X.shape[1]))
    return _finish(W, acc["l"], acc["g"], X.shape[1], reg)
'''},
    # np.frompyfunc, also under another name.
    "speed-frompyfunc": {V: ONE + '''
_fp = np.__dict__["from" + "pyfunc"]

def softmax_loss_vectorized(W, X, y, reg):
    uf = _fp(lambda i: _ex(W, X[:, int(i)], y[int(i)]), 1, 1)
    parts = uf(np.arange(X.shape[1]))
    return _finish(W, sum(p[0] for p in parts), sum(p[1] for p in parts), X.shape[1], reg)
'''},
    # np.apply_along_axis on the stacked (label, column) rows.
    "speed-apply-along-axis": {V: ONE + '''
_along = getattr(np, "apply_" + "along_axis")

def softmax_loss_vectorized(W, X, y, reg):
    C, D = W.shape
    def one(col):
        l, g = _ex(W, col[1:], int(col[0]))
        return np.concatenate([[l], g.ravel()])
    rows = _along(one, 0, np.vstack([y[None, :].astype(float), X]))
    total = rows.sum(axis=1)
    return _finish(W, total[0], total[1:].reshape(C, D), X.shape[1], reg)
'''},
    # sorted() with a key that does the work as a side effect.
    "speed-sorted-key": {V: ONE + '''
def softmax_loss_vectorized(W, X, y, reg):
    acc = [0.0, np.zeros(W.shape)]
    def key(i):
        l, g = _ex(W, X[:, i], y[i])
        acc[0] += l
        acc[1] += g
        return i
    sorted(range(X.shape[1]), key=key)
    return _finish(W, acc[0], acc[1], X.shape[1], reg)
'''},
    # A class whose iterator protocol yields one example at a time; sum() drives it.
    "speed-iter-class": {V: ONE + '''
class _Examples:
    def __init__(self, W, X, y):
        self.W, self.X, self.y, self.i = W, X, y, 0
    def __iter__(self):
        return self
    def __next__(self):
        if self.i >= self.X.shape[1]:
            raise StopIteration
        self.i += 1
        return _ex(self.W, self.X[:, self.i - 1], self.y[self.i - 1])[0]

class _Grads(_Examples):
    def __next__(self):
        if self.i >= self.X.shape[1]:
            raise StopIteration
        self.i += 1
        return _ex(self.W, self.X[:, self.i - 1], self.y[self.i - 1])[1]

def softmax_loss_vectorized(W, X, y, reg):
    return _finish(W, sum(_Examples(W, X, y)), sum(_Grads(W, X, y), np.zeros(W.shape)),
                   X.shape[1], reg)
'''},
    # A generator function, driven by a builtin through a computed name.
    "speed-generator": {V: ONE + '''
def _each(W, X, y):
    i = 0
    while i < X.shape[1]:
        yield _ex(W, X[:, i], y[i])
        i += 1

def softmax_loss_vectorized(W, X, y, reg):
    parts = list(_each(W, X, y))
    return _finish(W, sum(p[0] for p in parts), sum(p[1] for p in parts), X.shape[1], reg)
'''},
    # Split into N one-column arrays; map the example function over them
    # (the loop is in the definition of a decorator written in another cell).
    "speed-decorator-split": {"softmax": '''
def softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)

def batched(one):
    def run(W, X, y, reg):
        cols = np.array_split(X, X.shape[1], axis=1)
        parts = [one(W, c[:, 0], t) for c, t in zip(cols, y)]
        loss = sum(p[0] for p in parts) / X.shape[1] + 0.5 * reg * np.sum(W * W)
        return float(loss), sum(p[1] for p in parts) / X.shape[1] + reg * W
    return run
''', V: ONE + '''
@batched
def softmax_loss_vectorized(W, x, yi):
    return _ex(W, x, yi)
'''},
    # Fast and wrong, in the vectorized AND the naive cell alike (only the
    # regularization term; a constant): the speed test must not pay for code
    # that does not compute the loss, whatever the naive cell says.
    "speed-reg-only-matches-naive": {N_: '''
def softmax_loss_naive(W, X, y, reg):
    return float(0.5 * reg * np.sum(W * W)), reg * W
''', V: '''
def softmax_loss_vectorized(W, X, y, reg):
    return float(0.5 * reg * np.sum(W * W)), reg * W
'''},
    "speed-constant-matches-naive": {N_: '''
def softmax_loss_naive(W, X, y, reg):
    return 0.0, np.zeros_like(W)
''', V: '''
def softmax_loss_vectorized(W, X, y, reg):
    return 0.0, np.zeros_like(W)
'''},
}
