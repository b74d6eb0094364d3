"""Issue 15, classes 6 to 9: attacks on the verdicts rather than on the jail.

- LEAK (6): code that behaves differently once it sees a hidden input, so that
  something shown at once (more than 1 MB of output, the tampering flag, a crash,
  an internal grader error) would tell the student a hidden verdict. What the
  student sees at once on Gradescope must be byte for byte that of the same
  notebook without the conditional behaviour.
- PROBE (7): wrong answers whose messages would give the hidden expected value
  back, given the value returned (a relative error, a difference). Two probes that
  differ only in the value they return must get the same message.
- ODD (8): legal-looking return values that once made a hidden check raise: the
  row must be the student's failure of that test, never an internal error.
- FREE (9): points without the work: a shift-invariant constant (stability) and
  per-example loops leaner than the old reference loop (speed).

Every cell is a drop-in for one solution cell of the perfect notebook.
"""
V = "softmax_loss_vectorized"

# The perfect vectorized function, renamed, that the LEAK attacks wrap.
_RIGHT = '''
def _right(W, X, y, reg):
    N = X.shape[1]
    S = W @ X
    S = S - S.max(axis=0, keepdims=True)
    P = np.exp(S)
    P /= P.sum(axis=0, keepdims=True)
    loss = -np.log(P[y, np.arange(N)]).mean() + 0.5 * reg * np.sum(W * W)
    P[y, np.arange(N)] -= 1
    return float(loss), P @ X.T / N + reg * W
'''

# Two ways to tell a hidden input from the notebook's own checks, which call this
# function with N = 2, 20, 30, 60 and 500 examples and reg = 0, 0.05, 0.1 and 0.2.
BY_SIZE = '''
def _hidden(W, X):
    return X.shape[1] not in (2, 20, 30, 60, 500)
'''
BY_REG = '''
def _hidden(W, X):
    return reg_seen[0] not in (0.0, 0.05, 0.1, 0.2)
'''


def _leak(trigger, action):
    return {V: _RIGHT + trigger + f'''
reg_seen = [0.0]


def softmax_loss_vectorized(W, X, y, reg):
    reg_seen[0] = reg
    if _hidden(W, X):
{action}
    return _right(W, X, y, reg)
'''}


LEAK = {
    "leak-output-flood": _leak(BY_SIZE, '''        print("x" * 1_500_000)'''),
    "leak-output-stderr": _leak(BY_REG, '''        import sys
        for _ in range(300):
            sys.stderr.write("y" * 10_000)'''),
    # ctypes is already loaded (NumPy imports it before the watch starts), so importing
    # it raises no audit event; reading memory through it does (ctypes.string_at).
    "leak-tamper-import": _leak(BY_SIZE, '''        import ctypes
        ctypes.string_at(id(W), 8)'''),
    "leak-tamper-patch": _leak(BY_REG, '''        np.allclose = lambda *a, **k: True'''),
    "leak-crash-exit": _leak(BY_SIZE, '''        import os
        os._exit(7)'''),
    "leak-crash-memory": _leak(BY_REG, '''        _keep = np.ones((4096, 1024, 1024), dtype=np.uint8)  # 4 GB'''),
    "leak-odd-value": _leak(BY_SIZE, '''        return (np.zeros((2, 3)), [1, [2, 3]], object())'''),
}

# Two probes of each kind differ only in the constant they return.
PROBE = {
    "probe-loss-a": {V: "def softmax_loss_vectorized(W, X, y, reg):\n"
                        "    return 2.302585, np.zeros_like(W)\n"},
    "probe-loss-b": {V: "def softmax_loss_vectorized(W, X, y, reg):\n"
                        "    return 2.290000, np.zeros_like(W)\n"},
    "probe-ce-a": {"cross_entropy_error": "def cross_entropy_error(y, t):\n    return 1.0\n"},
    "probe-ce-b": {"cross_entropy_error": "def cross_entropy_error(y, t):\n    return 1.5\n"},
}
PROBE_PAIRS = (("probe-loss-a", "probe-loss-b", "test_softmax_loss_vectorized_loss"),
               ("probe-ce-a", "probe-ce-b", "test_cross_entropy_error"))

_LAYER_HEAD = '''
class SoftmaxWithLoss:
    def __init__(self):
        self.y = self.t = None

    def forward(self, x, t):
        self.y, self.t = softmax(x), t
        return cross_entropy_error(self.y, t)
'''
ODD = {
    # backward returns two arrays of different shapes (the red team's case).
    "odd-backward-pair": ({"SoftmaxWithLoss": _LAYER_HEAD + '''
    def backward(self, dout=1):
        return np.zeros(np.shape(self.y)), np.zeros(3)
'''}, "test_SoftmaxWithLoss"),
    # backward is right once, then a ragged nested list.
    "odd-backward-ragged": ({"SoftmaxWithLoss": _LAYER_HEAD + '''
    def backward(self, dout=1):
        self.n = getattr(self, "n", 0) + 1
        if self.n > 1:
            return [[1.0, 2.0], [3.0], [[4.0]]]
        y = np.atleast_2d(self.y)
        t = np.asarray(self.t)
        onehot = t if t.shape == np.shape(self.y) else np.eye(y.shape[1])[t.reshape(-1)]
        return ((y - np.atleast_2d(onehot)) * dout / y.shape[0]).reshape(np.shape(self.y))
'''}, "test_SoftmaxWithLoss"),
    # A triple where a pair is due, holding an object and a ragged list.
    "odd-loss-triple": ({V: '''
def softmax_loss_vectorized(W, X, y, reg):
    return 1.0, [np.zeros(2), np.zeros((2, 2))], object()
'''}, "test_softmax_loss_vectorized_loss"),
    # softmax returns an array of Python objects.
    "odd-softmax-objects": ({"softmax": '''
def softmax(x):
    out = np.empty(np.shape(x), dtype=object)
    out[...] = None
    return out
'''}, "test_softmax"),
}

FREE = {
    # A constant result does not change under a shift of the scores.
    "free-stability-zeros": ({V: "def softmax_loss_vectorized(W, X, y, reg):\n"
                                 "    return 0.0, np.zeros_like(W)\n"},
                             ("test_softmax_loss_vectorized_stable",
                              "test_softmax_loss_vectorized_speed")),
    "free-stability-weights": ({V: "def softmax_loss_vectorized(W, X, y, reg):\n"
                                   "    return float(np.log(W.shape[0])), W * 0.0 + reg\n"},
                               ("test_softmax_loss_vectorized_stable",
                                "test_softmax_loss_vectorized_speed")),
}
