"""Higher-order mutants: whole rewrites that students really make.

A single-token mutant changes one place of the reference; students more often
write a different program that is right on the examples they tried: a floor
inside a log, a branch on a dtype or a shape, an in-place update of an input,
state kept on the class or in a cache, a random subset of a large batch, another
exercise's function reused. Each entry is (cell, mutation class, what, source);
`mutants.py` grades them with the single-token ones (`make mutants`), and the
class says which hints name the cause (`mutants.ACCEPT`).
"""

_SOFTMAX = [
    ("int_dtype", "np.empty_like(x) holds the exponentials: integer scores truncate", '''
def softmax(x):
    out = np.empty_like(x)
    out[...] = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return out / np.sum(out, axis=-1, keepdims=True)
'''),
    ("in_place", "x -= max(x): the caller's scores change", '''
def softmax(x):
    x -= np.max(x, axis=-1, keepdims=True)
    e = np.exp(x)
    return e / np.sum(e, axis=-1, keepdims=True)
'''),
    ("cache", "results cached by shape", '''
_seen = {}

def softmax(x):
    if x.shape not in _seen:
        e = np.exp(x - np.max(x, axis=-1, keepdims=True))
        _seen[x.shape] = e / np.sum(e, axis=-1, keepdims=True)
    return _seen[x.shape]
'''),
    ("dtype_branch", "integer scores take a shortcut without the row maximum", '''
def softmax(x):
    if np.issubdtype(x.dtype, np.integer):
        e = np.exp(x - np.max(x))
        return e / np.sum(e)
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
'''),
    ("shape_branch", "a square batch is taken for a transposed one", '''
def softmax(x):
    axis = 0 if x.ndim == 2 and x.shape[0] == x.shape[1] else -1
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
'''),
    ("global_max", "one maximum for a large batch (it looked faster)", '''
def softmax(x):
    if x.ndim == 2 and x.shape[0] > 100:
        e = np.exp(x - np.max(x))
    else:
        e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
'''),
    ("floor", "probabilities clipped away from 0", '''
def softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return np.clip(e / np.sum(e, axis=-1, keepdims=True), 1e-7, 1.0)
'''),
    ("float32", "float32 to save memory", '''
def softmax(x):
    x = np.asarray(x, dtype=np.float32)
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
'''),
]

_BACKWARD = [
    ("in_place", "y *= (...): the forward output changes", '''
def softmax_backward(dout, y):
    y *= dout - np.sum(dout * y, axis=-1, keepdims=True)
    return y
'''),
    ("in_place", "dout -= sum(dout * y): the upstream gradient changes", '''
def softmax_backward(dout, y):
    dout -= np.sum(dout * y, axis=-1, keepdims=True)
    return y * dout
'''),
    ("one_d", "axis=1 written for a batch: a single example (1-D) fails", '''
def softmax_backward(dout, y):
    s = np.sum(dout * y, axis=1).reshape(-1, 1)
    return y * (dout - s)
'''),
    ("cache", "the last shape's result reused", '''
_last = {}

def softmax_backward(dout, y):
    key = y.shape
    if key not in _last:
        _last[key] = y * (dout - np.sum(dout * y, axis=-1, keepdims=True))
    return _last[key]
'''),
]

_CE = [
    ("labels_format", "one-hot told apart by dtype: integer one-hot read as indices", '''
def cross_entropy_error(y, t):
    y = np.atleast_2d(y)
    t = np.asarray(t)
    if t.dtype.kind == "f":
        t = t.reshape(y.shape).argmax(axis=1)
    t = t.reshape(-1)
    return float(-np.mean(np.log(y[np.arange(y.shape[0]), t] + 1e-7)))
'''),
    ("labels_format", "a Python int label has no .reshape", '''
def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, -1) if t.size == y.size else t.reshape(1)
        y = y.reshape(1, -1)
    if t.size == y.size:
        t = t.argmax(axis=1)
    n = y.shape[0]
    return float(-np.sum(np.log(y[np.arange(n), t] + 1e-7)) / n)
'''),
    ("labels_format", "one-hot detected by a length: N == C misread", '''
def cross_entropy_error(y, t):
    t = np.asarray(t)
    if y.ndim == 1:
        y = y.reshape(1, -1)
        t = t.reshape(1, -1) if t.size == y.size else t.reshape(1)
    if t.shape[-1] == y.shape[1]:
        t = t.reshape(y.shape).argmax(axis=1)
    n = y.shape[0]
    return float(-np.sum(np.log(y[np.arange(n), t] + 1e-7)) / n)
'''),
    ("delta", "np.clip(y, 1e-7, 1) instead of + 1e-7", '''
def cross_entropy_error(y, t):
    y = np.atleast_2d(y)
    t = np.asarray(t)
    if t.size == y.size:
        t = t.reshape(y.shape).argmax(axis=1)
    t = t.reshape(-1)
    return float(-np.mean(np.log(np.clip(y[np.arange(y.shape[0]), t], 1e-7, 1.0))))
'''),
    ("delta", "np.maximum(y, 1e-7) instead of + 1e-7", '''
def cross_entropy_error(y, t):
    y = np.atleast_2d(y)
    t = np.asarray(t)
    if t.size == y.size:
        t = t.reshape(y.shape).argmax(axis=1)
    t = t.reshape(-1)
    return float(-np.mean(np.log(np.maximum(y[np.arange(y.shape[0]), t], 1e-7))))
'''),
    ("labels_format", "int32 labels taken for one-hot (a dtype test)", '''
def cross_entropy_error(y, t):
    y = np.atleast_2d(y)
    t = np.asarray(t)
    if t.dtype != np.int64 and t.ndim > 0:
        t = t.reshape(y.shape).argmax(axis=1)
    t = t.reshape(-1)
    return float(-np.mean(np.log(y[np.arange(y.shape[0]), t] + 1e-7)))
'''),
    ("one_d", "1-D one-hot labels not reshaped with y", '''
def cross_entropy_error(y, t):
    t = np.asarray(t)
    if y.ndim == 1:
        y = y.reshape(1, -1)
    if t.size == y.size:
        t = t.argmax(axis=1)
    t = t.reshape(-1)
    n = y.shape[0]
    return float(-np.sum(np.log(y[np.arange(n), t] + 1e-7)) / n)
'''),
    ("cache", "the loss cached by the shape of y", '''
_cache = {}

def cross_entropy_error(y, t):
    key = np.shape(y)
    if key not in _cache:
        y2 = np.atleast_2d(y)
        tt = np.asarray(t)
        if tt.size == y2.size:
            tt = tt.reshape(y2.shape).argmax(axis=1)
        tt = tt.reshape(-1)
        _cache[key] = float(-np.mean(np.log(y2[np.arange(y2.shape[0]), tt] + 1e-7)))
    return _cache[key]
'''),
]

_LAYER_BACKWARD = '''
    def backward(self, dout=1):
        y = np.atleast_2d(self.y)
        n = y.shape[0]
        t = np.asarray(self.t)
        onehot = t.reshape(y.shape) if t.size == y.size else np.eye(y.shape[1])[t.reshape(-1)]
        return ((y - onehot) * dout / n).reshape(np.shape(self.y))
'''

_LAYER = [
    ("in_place", "forward shifts x in place", '''
class SoftmaxWithLoss:
    def __init__(self):
        self.y = None
        self.t = None

    def forward(self, x, t):
        x -= np.max(x, axis=-1, keepdims=True)
        e = np.exp(x)
        self.y = e / np.sum(e, axis=-1, keepdims=True)
        self.t = t
        return cross_entropy_error(self.y, t)
''' + _LAYER_BACKWARD),
    ("class_state", "y and t stored on the class", '''
class SoftmaxWithLoss:
    y = None
    t = None

    def forward(self, x, t):
        SoftmaxWithLoss.t = t
        SoftmaxWithLoss.y = softmax(x)
        return cross_entropy_error(SoftmaxWithLoss.y, t)
''' + _LAYER_BACKWARD),
    ("class_state", "the batch kept in a module-level dict", '''
_state = {}

class SoftmaxWithLoss:
    def __init__(self):
        self.y = None
        self.t = None

    def forward(self, x, t):
        _state["y"], _state["t"] = softmax(x), t
        self.y, self.t = _state["y"], t
        return cross_entropy_error(self.y, t)

    def backward(self, dout=1):
        y = np.atleast_2d(_state["y"])
        n = y.shape[0]
        t = np.asarray(_state["t"])
        onehot = t.reshape(y.shape) if t.size == y.size else np.eye(y.shape[1])[t.reshape(-1)]
        return ((y - onehot) * dout / n).reshape(np.shape(_state["y"]))
'''),
    ("in_place", "backward subtracts 1 from self.y in place", '''
class SoftmaxWithLoss:
    def __init__(self):
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.y = softmax(x)
        self.t = t
        return cross_entropy_error(self.y, t)

    def backward(self, dout=1):
        y = np.atleast_2d(self.y)
        n = y.shape[0]
        t = np.asarray(self.t)
        if t.size == y.size:
            y -= t.reshape(y.shape)
        else:
            y[np.arange(n), t] -= 1
        return (y * dout / n).reshape(np.shape(self.y))
'''),
    ("labels_format", "one-hot told apart by dtype in backward", '''
class SoftmaxWithLoss:
    def __init__(self):
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.y = softmax(x)
        self.t = t
        return cross_entropy_error(self.y, t)

    def backward(self, dout=1):
        y = np.atleast_2d(self.y)
        n = y.shape[0]
        t = np.asarray(self.t)
        if t.dtype.kind == "f":
            onehot = t.reshape(y.shape)
        else:
            onehot = np.zeros_like(y)
            onehot[np.arange(n), t.reshape(-1)] = 1
        return ((y - onehot) * dout / n).reshape(np.shape(self.y))
'''),
    ("labels_format", "forward computes sum(t * log y): one-hot only", '''
class SoftmaxWithLoss:
    def __init__(self):
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.y = softmax(x)
        self.t = t
        y = np.atleast_2d(self.y)
        return float(-np.sum(np.reshape(t, y.shape) * np.log(y + 1e-7)) / y.shape[0])
''' + _LAYER_BACKWARD),
    ("one_d", "the batch size read from t's first axis", '''
class SoftmaxWithLoss:
    def __init__(self):
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.y = softmax(x)
        self.t = t
        return cross_entropy_error(self.y, t)

    def backward(self, dout=1):
        t = np.asarray(self.t)
        n = t.shape[0]
        y = np.atleast_2d(self.y)
        onehot = t.reshape(y.shape) if t.size == y.size else np.eye(y.shape[1])[t.reshape(-1)]
        return ((y - onehot) * dout / n).reshape(np.shape(self.y))
'''),
    ("cache", "softmax of the scores cached by their shape", '''
_probs = {}

class SoftmaxWithLoss:
    def __init__(self):
        self.y = None
        self.t = None

    def forward(self, x, t):
        if np.shape(x) not in _probs:
            _probs[np.shape(x)] = softmax(x)
        self.y = _probs[np.shape(x)]
        self.t = t
        return cross_entropy_error(self.y, t)
''' + _LAYER_BACKWARD),
]

_NAIVE_HEAD = '''
def softmax_loss_naive(W, X, y, reg):
    C, N = W.shape[0], X.shape[1]
    loss = 0.0
    dW = np.zeros(W.shape)
    for i in range(N):
'''
_NAIVE_TAIL = '''
        for j in range(C):
            dW[j] += (e[j] / e.sum() - (j == y[i])) * X[:, i]
    return loss / N + 0.5 * reg * np.sum(W * W), dW / N + reg * W
'''

_NAIVE = [
    ("log_floor", "+ 1e-7 inside the log", _NAIVE_HEAD + '''
        s = W.dot(X[:, i])
        s = s - np.max(s)
        e = np.exp(s)
        loss += -np.log(e[y[i]] / e.sum() + 1e-7)''' + _NAIVE_TAIL),
    ("log_floor", "probabilities clipped before the log", _NAIVE_HEAD + '''
        s = W.dot(X[:, i])
        s = s - np.max(s)
        e = np.exp(s)
        loss += -np.log(np.clip(e[y[i]] / e.sum(), 1e-10, 1.0))''' + _NAIVE_TAIL),
    ("log_floor", "Part 2's cross_entropy_error reused", _NAIVE_HEAD + '''
        s = W.dot(X[:, i])
        s = s - np.max(s)
        e = np.exp(s)
        loss += cross_entropy_error(e / e.sum(), y[i])''' + _NAIVE_TAIL),
    ("int_dtype", "dW = np.zeros_like(W)", _NAIVE_HEAD.replace("np.zeros(W.shape)",
                                                              "np.zeros_like(W)") + '''
        s = W.dot(X[:, i])
        s = s - np.max(s)
        e = np.exp(s)
        loss += np.log(e.sum()) - s[y[i]]''' + _NAIVE_TAIL),
    ("no_max", "scores clipped to +-500 instead of shifted", _NAIVE_HEAD + '''
        s = np.clip(W.dot(X[:, i]), -500, 500)
        e = np.exp(s)
        loss += np.log(e.sum()) - s[y[i]]''' + _NAIVE_TAIL),
    ("no_max", "probabilities without the shift, the loss from them", _NAIVE_HEAD + '''
        s = W.dot(X[:, i])
        e = np.exp(s)
        loss += -np.log(e[y[i]] / e.sum())''' + _NAIVE_TAIL),
    ("cache", "the result cached by the shapes", '''
_memo = {}

def softmax_loss_naive(W, X, y, reg):
    key = (W.shape, X.shape, reg)
    if key in _memo:
        return _memo[key]
    C, N = W.shape[0], X.shape[1]
    loss = 0.0
    dW = np.zeros(W.shape)
    for i in range(N):
        s = W.dot(X[:, i])
        s = s - np.max(s)
        e = np.exp(s)
        loss += np.log(e.sum()) - s[y[i]]
        for j in range(C):
            dW[j] += (e[j] / e.sum() - (j == y[i])) * X[:, i]
    _memo[key] = (loss / N + 0.5 * reg * np.sum(W * W), dW / N + reg * W)
    return _memo[key]
'''),
    ("float32", "each example in float32", _NAIVE_HEAD + '''
        s = W.dot(X[:, i].astype(np.float32)).astype(np.float32)
        s = s - np.max(s)
        e = np.exp(s)
        loss += np.log(e.sum()) - s[y[i]]''' + _NAIVE_TAIL),
    ("in_place", "the bias row of X set to 1 in place", _NAIVE_HEAD.replace(
        "    for i in range(N):\n", "    X[-1] = 1\n    for i in range(N):\n") + '''
        s = W.dot(X[:, i])
        s = s - np.max(s)
        e = np.exp(s)
        loss += np.log(e.sum()) - s[y[i]]''' + _NAIVE_TAIL),
]

_VEC_TAIL = '''
    log_p = S - np.log(np.exp(S).sum(axis=0, keepdims=True))
    loss = -log_p[y, np.arange(N)].mean() + 0.5 * reg * np.sum(W * W)
    P = np.exp(log_p)
    P[y, np.arange(N)] -= 1
    return loss, P @ X.T / N + reg * W
'''

_VECTORIZED = [
    ("subset", "a random half of a large batch", '''
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    if N > 1000:
        keep = np.random.default_rng().choice(N, N // 2, replace=False)
        X, y, N = X[:, keep], y[keep], N // 2
    S = W @ X
    S = S - S.max(axis=0, keepdims=True)''' + _VEC_TAIL),
    ("subset", "only the first 1000 examples", '''
def softmax_loss_vectorized(W, X, y, reg):
    X, y = X[:, :1000], y[:1000]
    N = X.shape[1]
    S = W @ X
    S = S - S.max(axis=0, keepdims=True)''' + _VEC_TAIL),
    ("log_floor", "Part 2's cross_entropy_error reused", '''
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    probs = softmax((W @ X).T)
    loss = cross_entropy_error(probs, y) + 0.5 * reg * np.sum(W * W)
    d = probs.copy()
    d[np.arange(N), y] -= 1
    return loss, d.T @ X.T / N + reg * W
'''),
    ("log_floor", "+ 1e-7 inside the log of P", '''
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    S = W @ X
    S = S - S.max(axis=0, keepdims=True)
    P = np.exp(S) / np.exp(S).sum(axis=0, keepdims=True)
    loss = -np.log(P[y, np.arange(N)] + 1e-7).mean() + 0.5 * reg * np.sum(W * W)
    P[y, np.arange(N)] -= 1
    return loss, P @ X.T / N + reg * W
'''),
    ("log_floor", "P clipped to [1e-12, 1] before the log", '''
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    S = W @ X
    S = S - S.max(axis=0, keepdims=True)
    P = np.exp(S) / np.exp(S).sum(axis=0, keepdims=True)
    loss = -np.log(np.clip(P[y, np.arange(N)], 1e-12, 1.0)).mean() + 0.5 * reg * np.sum(W * W)
    P[y, np.arange(N)] -= 1
    return loss, P @ X.T / N + reg * W
'''),
    ("int_dtype", "the probabilities written into np.zeros_like(scores)", '''
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    S = W @ X
    S = S - S.max(axis=0, keepdims=True)
    P = np.zeros_like(S)
    P[...] = np.exp(S) / np.exp(S).sum(axis=0, keepdims=True)
    loss = -np.log(P[y, np.arange(N)]).mean() + 0.5 * reg * np.sum(W * W)
    P[y, np.arange(N)] -= 1
    return loss, P @ X.T / N + reg * W
'''),
    ("in_place", "the bias row of X set to 1 in place", '''
def softmax_loss_vectorized(W, X, y, reg):
    X[-1] = 1
    N = X.shape[1]
    S = W @ X
    S = S - S.max(axis=0, keepdims=True)''' + _VEC_TAIL),
    ("shape_branch", "scores transposed when they look square", '''
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    S = W @ X
    if S.shape[0] == S.shape[1]:
        S = S.T
    S = S - S.max(axis=0, keepdims=True)''' + _VEC_TAIL),
    ("cache", "the result cached by the shapes", '''
_memo = {}

def softmax_loss_vectorized(W, X, y, reg):
    key = (W.shape, X.shape, reg)
    if key not in _memo:
        N = X.shape[1]
        S = W @ X
        S = S - S.max(axis=0, keepdims=True)
        log_p = S - np.log(np.exp(S).sum(axis=0, keepdims=True))
        loss = -log_p[y, np.arange(N)].mean() + 0.5 * reg * np.sum(W * W)
        P = np.exp(log_p)
        P[y, np.arange(N)] -= 1
        _memo[key] = (loss, P @ X.T / N + reg * W)
    return _memo[key]
'''),
    ("float32", "float32 for large batches (to be fast)", '''
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    S = W @ X
    if N > 1000:
        S = S.astype(np.float32)
    S = S - S.max(axis=0, keepdims=True)''' + _VEC_TAIL),
    ("labels_format", "labels used as given only when int64", '''
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    if y.dtype != np.int64:
        y = np.argsort(y)
    S = W @ X
    S = S - S.max(axis=0, keepdims=True)''' + _VEC_TAIL),
]

REALISTIC = [("softmax", *m) for m in _SOFTMAX] + \
    [("softmax_backward", *m) for m in _BACKWARD] + \
    [("cross_entropy_error", *m) for m in _CE] + \
    [("SoftmaxWithLoss", *m) for m in _LAYER] + \
    [("softmax_loss_naive", *m) for m in _NAIVE] + \
    [("softmax_loss_vectorized", *m) for m in _VECTORIZED]
