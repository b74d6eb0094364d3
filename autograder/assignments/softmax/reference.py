"""Reference implementations: grader-only, never copied to a student's machine.

Shapes follow DESIGN.md: scores (N, C) for the layer functions, and the
column layout for the classifier: W (C, D), X (D, N), y (N,).
"""
import numpy as np


def softmax(x):
    """Stable softmax over the last axis. x (C,) or (N, C) -> same shape."""
    x = np.asarray(x, dtype=float)
    z = x - x.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def softmax_backward(dout, y):
    """dL/dx from dout = dL/dy and y = softmax(x); both (C,) or (N, C)."""
    return y * (dout - np.sum(dout * y, axis=-1, keepdims=True))


def _as_label_index(y, t):
    """Integer labels (N,) for y (N, C) from one-hot or integer t."""
    y2 = np.atleast_2d(y)
    t = np.asarray(t)
    if t.shape == np.shape(y) and t.ndim >= 1 and np.shape(y)[-1] > 1 and t.size == np.size(y):
        return np.atleast_2d(t).argmax(axis=1)
    return t.reshape(y2.shape[0]).astype(int)


def cross_entropy_error(y, t):
    """Mean over the batch of -log(y[label] + 1e-7).

    y (C,) or (N, C) probabilities; t one-hot of the same shape or integer
    labels (N,) / a scalar label.
    """
    y2 = np.atleast_2d(np.asarray(y, dtype=float))
    labels = _as_label_index(y, t)
    n = y2.shape[0]
    return float(-np.sum(np.log(y2[np.arange(n), labels] + 1e-7)) / n)


class SoftmaxWithLoss:
    """Softmax followed by cross-entropy; x (N, C), t one-hot (N, C) or labels (N,)."""

    def __init__(self):
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        return cross_entropy_error(self.y, t)

    def backward(self, dout=1):
        y = np.atleast_2d(self.y)
        n = y.shape[0]
        onehot = np.zeros_like(y)
        onehot[np.arange(n), _as_label_index(self.y, self.t)] = 1.0
        return ((y - onehot) * dout / n).reshape(np.shape(self.y))


def softmax_loss(W, X, y, reg):
    """Loss and gradient of the linear softmax classifier.

    W (C, D), X (D, N), y (N,) ints in [0, C); returns (loss, dW (C, D)) with
    loss = mean cross-entropy + 0.5 * reg * sum(W * W).
    """
    W = np.asarray(W, dtype=float)
    X = np.asarray(X, dtype=float)
    y = np.asarray(y).astype(int)
    n = X.shape[1]
    scores = W @ X                                   # (C, N)
    scores = scores - scores.max(axis=0, keepdims=True)
    log_p = scores - np.log(np.exp(scores).sum(axis=0, keepdims=True))
    loss = -log_p[y, np.arange(n)].mean() + 0.5 * reg * np.sum(W * W)
    dscores = np.exp(log_p)
    dscores[y, np.arange(n)] -= 1.0
    dW = dscores @ X.T / n + reg * W
    return float(loss), dW


def softmax_loss_loop(W, X, y, reg):
    """The leanest loop over the examples that does each example's softmax in Python:
    plain floats (`math` on `.tolist()` rows), the two matrix products outside the loop.

    The speed check times a student's vectorized code against it. bench/speed_check.py
    times the other ways to loop (per-example vector operations, numpy scalar gathers,
    a matrix-vector product per example): each is slower than this one, or, when it
    leaves the softmax itself to vectorized code and keeps only a scalar gather per
    example, still fails the check. Self-contained (np only): the timer runs its source.
    """
    from math import exp, log
    n = X.shape[1]
    loss = 0.0
    rows = []
    for s, label in zip((W @ X).T.tolist(), y.tolist()):
        m = max(s)
        e = [exp(v - m) for v in s]
        z = sum(e)
        loss += log(z) - (s[label] - m)
        g = [v / z for v in e]
        g[label] -= 1.0
        rows.append(g)
    dW = np.array(rows).T @ X.T / n + reg * W
    return loss / n + 0.5 * reg * np.sum(W * W), dW
