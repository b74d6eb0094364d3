"""Typical wrong cells, one per catalogued mistake.

Each entry: name -> (solution cell id, cell source, the test it must fail,
the mistake the feedback must name). Used by `make demo` and by the tests
that prove every mistake is recognised from what the code returns.
"""
from autograder.model import CoreMistake

MISTAKES = {
    "softmax_no_max": ("softmax", '''
def softmax(x):
    e = np.exp(x)
    return e / np.sum(e, axis=-1, keepdims=True)
''', "test_softmax", "no_max_subtraction"),

    "softmax_wrong_axis": ("softmax", '''
def softmax(x):
    z = x - np.max(x)
    e = np.exp(z)
    return e / np.sum(e, axis=0, keepdims=True)
''', "test_softmax", "wrong_axis"),

    "softmax_in_place": ("softmax", '''
def softmax(x):
    x -= np.max(x, axis=-1, keepdims=True)
    e = np.exp(x)
    return e / np.sum(e, axis=-1, keepdims=True)
''', "test_softmax", CoreMistake.MODIFIES_INPUT),

    "backward_whole_sum": ("softmax_backward", '''
def softmax_backward(dout, y):
    return y * (dout - np.sum(dout * y))
''', "test_softmax_backward", "backward_whole_sum"),

    "ce_not_averaged": ("cross_entropy_error", '''
def cross_entropy_error(y, t):
    y = np.atleast_2d(y)
    t = np.asarray(t)
    if t.size == y.size:
        t = t.reshape(y.shape).argmax(axis=1)
    t = t.reshape(-1)
    return -np.sum(np.log(y[np.arange(y.shape[0]), t] + 1e-7))
''', "test_cross_entropy_error", "not_averaged"),

    "ce_int_labels": ("cross_entropy_error", '''
def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    return -np.sum(t * np.log(y + 1e-7)) / y.shape[0]
''', "test_cross_entropy_error", "int_labels"),

    "layer_not_divided": ("SoftmaxWithLoss", '''
class SoftmaxWithLoss:
    def __init__(self):
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        return cross_entropy_error(self.y, t)

    def backward(self, dout=1):
        n = self.y.shape[0]
        onehot = np.zeros_like(self.y)
        t = np.asarray(self.t)
        onehot[np.arange(n), t.argmax(axis=1) if t.ndim == 2 else t] = 1
        return (self.y - onehot) * dout
''', "test_SoftmaxWithLoss", "backward_not_divided"),

    "naive_not_averaged": ("softmax_loss_naive", '''
def softmax_loss_naive(W, X, y, reg):
    loss = 0.0
    dW = np.zeros(W.shape)
    for i in range(X.shape[1]):
        s = W.dot(X[:, i])
        s = s - s.max()
        p = np.exp(s) / np.sum(np.exp(s))
        loss += -np.log(p[y[i]])
        for j in range(W.shape[0]):
            dW[j] += (p[j] - (j == y[i])) * X[:, i]
    loss += 0.5 * reg * np.sum(W * W)
    dW += reg * W
    return loss, dW
''', "test_softmax_loss_naive_loss", "not_averaged"),

    "naive_reg_2x": ("softmax_loss_naive", '''
def softmax_loss_naive(W, X, y, reg):
    N = X.shape[1]
    loss = 0.0
    dW = np.zeros(W.shape)
    for i in range(N):
        s = W.dot(X[:, i])
        s = s - s.max()
        p = np.exp(s) / np.sum(np.exp(s))
        loss += -np.log(p[y[i]])
        for j in range(W.shape[0]):
            dW[j] += (p[j] - (j == y[i])) * X[:, i]
    loss = loss / N + reg * np.sum(W * W)
    dW = dW / N + 2 * reg * W
    return loss, dW
''', "test_softmax_loss_naive_loss", "reg_2x_loss"),

    "naive_reg_missing_grad": ("softmax_loss_naive", '''
def softmax_loss_naive(W, X, y, reg):
    N = X.shape[1]
    loss = 0.0
    dW = np.zeros(W.shape)
    for i in range(N):
        s = W.dot(X[:, i])
        s = s - s.max()
        p = np.exp(s) / np.sum(np.exp(s))
        loss += -np.log(p[y[i]])
        for j in range(W.shape[0]):
            dW[j] += (p[j] - (j == y[i])) * X[:, i]
    loss = loss / N + 0.5 * reg * np.sum(W * W)
    dW = dW / N
    return loss, dW
''', "test_softmax_loss_naive_grad", "reg_missing_grad"),

    "vectorized_sign": ("softmax_loss_vectorized", '''
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    S = W @ X
    S = S - S.max(axis=0, keepdims=True)
    P = np.exp(S) / np.exp(S).sum(axis=0, keepdims=True)
    loss = -np.log(P[y, np.arange(N)]).mean() + 0.5 * reg * np.sum(W * W)
    Y = np.zeros_like(P)
    Y[y, np.arange(N)] = 1
    dW = (Y - P) @ X.T / N + reg * W
    return loss, dW
''', "test_softmax_loss_vectorized_grad", "grad_sign"),

    "vectorized_wrong_axis": ("softmax_loss_vectorized", '''
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    S = W @ X
    S = S - S.max(axis=1, keepdims=True)
    P = np.exp(S) / np.exp(S).sum(axis=1, keepdims=True)
    loss = -np.log(P[y, np.arange(N)]).mean() + 0.5 * reg * np.sum(W * W)
    P[y, np.arange(N)] -= 1
    dW = P @ X.T / N + reg * W
    return loss, dW
''', "test_softmax_loss_vectorized_loss", "loss_wrong_axis"),

    "vectorized_no_max": ("softmax_loss_vectorized", '''
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    E = np.exp(W @ X)
    P = E / E.sum(axis=0, keepdims=True)
    loss = -np.log(P[y, np.arange(N)]).mean() + 0.5 * reg * np.sum(W * W)
    P[y, np.arange(N)] -= 1
    dW = P @ X.T / N + reg * W
    return loss, dW
''', "test_softmax_loss_vectorized_stable", "no_max_subtraction"),

    "vectorized_loop": ("softmax_loss_vectorized", '''
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    loss = 0.0
    dW = np.zeros(W.shape)
    for i in range(N):
        s = W @ X[:, i]
        s = s - s.max()
        p = np.exp(s)
        p /= p.sum()
        loss -= np.log(p[y[i]])
        p[y[i]] -= 1
        dW += np.outer(p, X[:, i])
    return loss / N + 0.5 * reg * np.sum(W * W), dW / N + reg * W
''', "test_softmax_loss_vectorized_speed", "loop_in_vectorized"),

    # A loop the code check cannot see (it is inside a string): only the
    # timing can catch it.
    "vectorized_hidden_loop": ("softmax_loss_vectorized", '''
exec("""
def _all_examples(W, X, y, reg):
    N = X.shape[1]
    loss = 0.0
    dW = np.zeros(W.shape)
    for i in range(N):
        s = W @ X[:, i]
        s = s - s.max()
        p = np.exp(s)
        p /= p.sum()
        loss -= np.log(p[y[i]])
        p[y[i]] -= 1
        dW += np.outer(p, X[:, i])
    return loss / N + 0.5 * reg * np.sum(W * W), dW / N + reg * W
""")

def softmax_loss_vectorized(W, X, y, reg):
    return _all_examples(W, X, y, reg)
''', "test_softmax_loss_vectorized_speed", "too_slow"),

    # Right whenever every row has similar scores: only rows of very different
    # sizes show that one maximum for the whole batch is not enough.
    "softmax_global_max": ("softmax", '''
def softmax(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e, axis=-1, keepdims=True)
''', "test_softmax", "global_max"),

    "ce_no_delta": ("cross_entropy_error", '''
def cross_entropy_error(y, t):
    y = np.atleast_2d(y)
    t = np.asarray(t)
    if t.size == y.size:
        t = t.reshape(y.shape).argmax(axis=1)
    t = t.reshape(-1)
    return float(-np.mean(np.log(y[np.arange(y.shape[0]), t])))
''', "test_cross_entropy_error", "no_delta"),

    "layer_changes_y": ("SoftmaxWithLoss", '''
class SoftmaxWithLoss:
    def __init__(self):
        self.y = self.t = None

    def forward(self, x, t):
        self.t, self.y = t, softmax(x)
        return cross_entropy_error(self.y, t)

    def backward(self, dout=1):
        y = self.y.reshape(1, -1) if self.y.ndim == 1 else self.y
        t = np.asarray(self.t)
        if t.size == y.size:
            t = t.reshape(y.shape).argmax(axis=1)
        y[np.arange(y.shape[0]), t.reshape(-1)] -= 1      # changes self.y
        return (y * dout / y.shape[0]).reshape(self.y.shape)
''', "test_SoftmaxWithLoss", "layer_state"),

    "naive_hard_coded": ("softmax_loss_naive", '''
def softmax_loss_naive(W, X, y, reg):
    N = X.shape[1]
    loss = 0.0
    dW = np.zeros((10, 65))
    for i in range(N):
        s = W.dot(X[:, i])
        s = s - s.max()
        p = np.exp(s) / np.sum(np.exp(s))
        loss += -np.log(p[y[i]])
        for j in range(10):
            dW[j] += (p[j] - (j == y[i])) * X[:, i]
    return loss / N + 0.5 * reg * np.sum(W * W), dW / N + reg * W
''', "test_softmax_loss_naive_loss", "hard_coded_size"),

    "vectorized_index_order": ("softmax_loss_vectorized", '''
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    S = W @ X
    S = S - S.max(axis=0, keepdims=True)
    P = np.exp(S) / np.exp(S).sum(axis=0, keepdims=True)
    loss = -np.log(P[np.arange(N), y]).mean() + 0.5 * reg * np.sum(W * W)
    P[np.arange(N), y] -= 1
    return loss, P @ X.T / N + reg * W
''', "test_softmax_loss_vectorized_loss", "index_order"),

    "vectorized_float32": ("softmax_loss_vectorized", '''
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    S = (W @ X).astype(np.float32)
    S = S - S.max(axis=0, keepdims=True)
    P = np.exp(S) / np.exp(S).sum(axis=0, keepdims=True)
    loss = -np.log(P[y, np.arange(N)]).mean() + 0.5 * reg * np.sum(W * W)
    P[y, np.arange(N)] -= 1
    return float(loss), P @ X.T / N + reg * W
''', "test_softmax_loss_vectorized_loss", "float32"),
    # Part 3 takes the exact -log p (Ex. 5): a floor inside the log is off for a
    # confident prediction. Once a correct style; the contract rules it out.
    "vectorized_log_floor": ("softmax_loss_vectorized", '''
def softmax_loss_vectorized(W, X, y, reg):
    C, N = W.shape[0], X.shape[1]
    S = W.dot(X)
    S -= S.max(axis=0)
    P = np.exp(S) / np.exp(S).sum(axis=0)
    Y = np.eye(C)[:, y]
    loss = np.mean(-np.log(np.sum(P * Y, axis=0) + 1e-7)) + 0.5 * reg * np.sum(W * W)
    dW = (P - Y).dot(X.T) / N + reg * W
    return loss, dW
''', "test_softmax_loss_vectorized_loss", "log_floor"),

    "naive_log_clip": ("softmax_loss_naive", '''
def softmax_loss_naive(W, X, y, reg):
    num_classes, num_train = W.shape[0], X.shape[1]
    loss, dW = 0.0, np.zeros(W.shape)
    for i in range(num_train):
        f = W.dot(X[:, i])
        f = f - np.max(f)
        p = np.exp(f) / np.sum(np.exp(f))
        loss += -np.log(np.clip(p[y[i]], 1e-7, 1.0))
        for c in range(num_classes):
            dW[c, :] += (p[c] - (c == y[i])) * X[:, i]
    loss /= num_train
    dW /= num_train
    return loss + 0.5 * reg * np.sum(W ** 2), dW + reg * W
''', "test_softmax_loss_naive_loss", "log_floor"),

    # Reuses Part 1 and Part 2: the loss carries cross_entropy_error's 1e-7.
    "vectorized_reuses_cross_entropy": ("softmax_loss_vectorized", '''
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    probs = softmax((W @ X).T)                  # (N, C), rows are examples
    loss = cross_entropy_error(probs, y) + 0.5 * reg * np.sum(W * W)
    dscores = probs.copy()
    dscores[np.arange(N), y] -= 1
    dW = dscores.T @ X.T / N + reg * W
    return loss, dW
''', "test_softmax_loss_vectorized_loss", "log_floor"),

    # np.zeros_like(W) keeps an integer W's dtype: the float updates raise.
    "naive_zeros_like": ("softmax_loss_naive", '''
def softmax_loss_naive(W, X, y, reg):
    C, N = W.shape[0], X.shape[1]
    loss = 0.0
    dW = np.zeros_like(W)
    for i in range(N):
        s = W.dot(X[:, i])
        s = s - np.max(s)
        e = np.exp(s)
        loss += np.log(e.sum()) - s[y[i]]
        for j in range(C):
            dW[j] += (e[j] / e.sum() - (j == y[i])) * X[:, i]
    return loss / N + 0.5 * reg * np.sum(W * W), dW / N + reg * W
''', "test_softmax_loss_naive_loss", "int_dtype"),

    "softmax_empty_like": ("softmax", '''
def softmax(x):
    out = np.empty_like(x)
    out[...] = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return out / np.sum(out, axis=-1, keepdims=True)
''', "test_softmax", "int_dtype"),

    # One-hot told apart by dtype: integer one-hot labels are read as indices.
    "ce_onehot_by_dtype": ("cross_entropy_error", '''
def cross_entropy_error(y, t):
    y = np.atleast_2d(y)
    t = np.asarray(t)
    if t.dtype.kind == "f":
        t = t.reshape(y.shape).argmax(axis=1)
    t = t.reshape(-1)
    return float(-np.mean(np.log(y[np.arange(y.shape[0]), t] + 1e-7)))
''', "test_cross_entropy_error", "int_onehot"),

    # A plain int has no .reshape.
    "ce_python_int": ("cross_entropy_error", '''
def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, -1) if t.size == y.size else t.reshape(1)
        y = y.reshape(1, -1)
    if t.size == y.size:
        t = t.argmax(axis=1)
    n = y.shape[0]
    return float(-np.sum(np.log(y[np.arange(n), t] + 1e-7)) / n)
''', "test_cross_entropy_error", "scalar_label"),

    # One-hot detected by a length: integer labels (N,) look one-hot when N == C.
    "ce_onehot_by_length": ("cross_entropy_error", '''
def cross_entropy_error(y, t):
    t = np.asarray(t)
    if y.ndim == 1:
        y = y.reshape(1, -1)
        t = t.reshape(1, -1) if t.size == y.size else t.reshape(1)
    if t.shape[-1] == y.shape[1]:
        t = t.reshape(y.shape).argmax(axis=1)
    n = y.shape[0]
    return float(-np.sum(np.log(y[np.arange(n), t] + 1e-7)) / n)
''', "test_cross_entropy_error", "n_equals_c"),

    # forward shifts the caller's x in place.
    "layer_in_place_forward": ("SoftmaxWithLoss", '''
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

    def backward(self, dout=1):
        y = np.atleast_2d(self.y)
        n = y.shape[0]
        t = np.asarray(self.t)
        onehot = t.reshape(y.shape) if t.size == y.size else np.eye(y.shape[1])[t.reshape(-1)]
        return ((y - onehot) * dout / n).reshape(np.shape(self.y))
''', "test_SoftmaxWithLoss", CoreMistake.MODIFIES_INPUT),

    # The state lives on the class: every layer shares the last forward's batch.
    "layer_class_state": ("SoftmaxWithLoss", '''
class SoftmaxWithLoss:
    y = None
    t = None

    def forward(self, x, t):
        SoftmaxWithLoss.t = t
        SoftmaxWithLoss.y = softmax(x)
        return cross_entropy_error(SoftmaxWithLoss.y, t)

    def backward(self, dout=1):
        y = np.atleast_2d(self.y)
        n = y.shape[0]
        t = np.asarray(self.t)
        onehot = t.reshape(y.shape) if t.size == y.size else np.eye(y.shape[1])[t.reshape(-1)]
        return ((y - onehot) * dout / n).reshape(np.shape(self.y))
''', "test_SoftmaxWithLoss", "class_state"),

    # A random subset of a large batch: fast, and wrong.
    "vectorized_random_subset": ("softmax_loss_vectorized", '''
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    if N > 1000:
        keep = np.random.default_rng(0).choice(N, 500, replace=False)
        X, y, N = X[:, keep], y[keep], 500
    S = W @ X
    S = S - S.max(axis=0, keepdims=True)
    log_p = S - np.log(np.exp(S).sum(axis=0, keepdims=True))
    loss = -log_p[y, np.arange(N)].mean() + 0.5 * reg * np.sum(W * W)
    P = np.exp(log_p)
    P[y, np.arange(N)] -= 1
    return loss, P @ X.T / N + reg * W
''', "test_softmax_loss_vectorized_loss", "subset"),
}

# The ones `make demo` shows beside a perfect and a blank submission.
DEMO = ("softmax_no_max", "ce_int_labels", "naive_reg_2x", "vectorized_sign", "vectorized_loop")
