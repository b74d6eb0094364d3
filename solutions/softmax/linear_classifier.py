"""Minibatch SGD for a linear classifier in column layout.

Shapes: ``W (C, D)``, ``X (D, N)`` (one example per column, last row ones
for the bias), ``y (N,)`` ints in ``[0, C)``. The loss function is passed
in, so the same loop trains with ``softmax_loss_vectorized`` or any other
``loss_fn(W, X, y, reg) -> (loss, dW)``.
"""
import numpy as np


def train_sgd(loss_fn, X, y, learning_rate=1e-1, reg=1e-4, num_iters=500,
              batch_size=200, seed=0, W=None, num_classes=None):
    """Train ``W`` by minibatch stochastic gradient descent.

    Each step samples ``batch_size`` columns of ``X`` (with replacement),
    evaluates ``loss_fn`` on them and moves ``W`` against the gradient.
    Returns ``(W, loss_history)``: the trained ``(C, D)`` matrix and a list
    of the ``num_iters`` minibatch losses. ``W`` given as input is copied,
    not modified. ``C`` defaults to ``max(y) + 1``.
    """
    rng = np.random.default_rng(seed)
    D, N = X.shape
    if W is None:
        C = int(num_classes if num_classes is not None else np.max(y) + 1)
        # Small random weights: scores start near 0, so the initial softmax
        # is almost uniform and the loss starts near log(C).
        W = 0.001 * rng.standard_normal((C, D))
    else:
        W = np.array(W, dtype=np.float64)  # copy: never change the caller's W
    loss_history = []
    for _ in range(num_iters):
        # A fresh random minibatch each step: a noisy but cheap gradient.
        idx = rng.integers(0, N, size=batch_size)
        loss, dW = loss_fn(W, X[:, idx], y[idx], reg)
        loss_history.append(float(loss))
        W -= learning_rate * dW
    return W, loss_history


def predict(W, X):
    """Predicted labels ``(N,)``: the class with the highest score ``W @ X``."""
    return np.argmax(W @ X, axis=0)


def accuracy(W, X, y):
    """Fraction of columns of ``X`` whose predicted label equals ``y``."""
    return float(np.mean(predict(W, X) == y))
