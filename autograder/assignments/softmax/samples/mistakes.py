"""Typical wrong cells, one per catalogued mistake.

Each entry: name -> (solution cell id, cell source, the test it must fail,
the mistake the feedback must name). Used by `make demo` and by the tests
that prove every mistake is recognised from what the code returns.
"""

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
''', "test_softmax", "modifies_input"),

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
    dW = np.zeros_like(W)
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
    dW = np.zeros_like(W)
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
    dW = np.zeros_like(W)
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
    dW = np.zeros_like(W)
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
    dW = np.zeros_like(W)
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
}

# The ones `make demo` shows beside a perfect and a blank submission.
DEMO = ("softmax_no_max", "ce_int_labels", "naive_reg_2x", "vectorized_sign", "vectorized_loop")
