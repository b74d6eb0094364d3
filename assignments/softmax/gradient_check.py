"""Numerical gradients with centered differences, and how to compare them.

A centered difference ``(f(x + h) - f(x - h)) / 2h`` has error O(h^2),
against O(h) for the one-sided ``(f(x + h) - f(x)) / h``, so it is the one
to trust when checking an analytic gradient.
"""
import numpy as np


def rel_error(a, b):
    """Max relative error ``max |a - b| / max(1e-8, |a| + |b|)`` (elementwise).

    Relative, because an absolute difference of 1e-6 is tiny for a gradient
    of size 100 and huge for one of size 1e-6. Roughly: < 1e-7 is excellent,
    around 1e-5 worth a look, > 1e-3 almost certainly a bug.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def eval_numerical_gradient(f, x, h=1e-5):
    """Gradient of a scalar function ``f`` at ``x``, by centered differences.

    ``f`` takes the array ``x`` (any shape) and returns a float. Each entry
    of ``x`` is nudged in place, then restored, so ``x`` is unchanged on
    return. Returns an array of ``x``'s shape. Costs 2 * x.size calls of f.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        fxph = float(f(x))
        x[ix] = old - h
        fxmh = float(f(x))
        x[ix] = old  # restore: the caller's array must not drift
        grad[ix] = (fxph - fxmh) / (2 * h)
        it.iternext()
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Numerical ``sum(df * dF/dx)`` for an array-valued ``F = f(x)``.

    ``df`` (shape of ``f(x)``) is the upstream gradient dL/dF; the result
    (shape of ``x``) is dL/dx, what a layer's backward pass should return.
    ``x`` is perturbed in place and restored.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        pos = np.array(f(x), dtype=np.float64)  # copy: f may return a view
        x[ix] = old - h
        neg = np.array(f(x), dtype=np.float64)
        x[ix] = old
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, seed=0,
                      verbose=True):
    """Compare ``analytic_grad`` with centered differences at random entries.

    Checking every entry of a large ``W`` is slow (2 loss evaluations each),
    so we sample ``num_checks`` positions with a seeded generator. ``f``
    takes ``x`` and returns a float; ``x`` is restored after each nudge.
    Returns the list of relative errors (and prints them if ``verbose``).
    """
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        old = x[ix]
        x[ix] = old + h
        fxph = float(f(x))
        x[ix] = old - h
        fxmh = float(f(x))
        x[ix] = old
        numeric = (fxph - fxmh) / (2 * h)
        analytic = float(analytic_grad[ix])
        err = abs(numeric - analytic) / max(1e-8, abs(numeric) + abs(analytic))
        errors.append(err)
        if verbose:
            print(f"numerical: {numeric: .6f}  analytic: {analytic: .6f}  "
                  f"relative error: {err:.2e}")
    return errors
