"""A cache-blocked loss and gradient of the linear softmax classifier.

The straightforward vectorized version (`reference.softmax_loss`) makes two
GEMMs over the whole of X: `scores = W @ X`, then `dW = dscores @ X.T`. With a
handful of classes both are memory-bound, so X (D x N doubles: 246 MB for
CIFAR-10's D = 3073, N = 10000) streams from main memory twice, plus the
(C, N) temporaries of the softmax.

`softmax_loss_blocked` reads X once: it walks over column blocks of X (a few
examples at a time, small enough to stay in cache) and, while a block is hot,
computes its scores, the stable softmax, the loss terms and the block's share
of dW. The columns are split between threads (one per core, each with a
one-thread BLAS: numpy releases the GIL in the GEMMs), each with its own dW.
The result is the same (loss, dW) up to rounding.
"""
import contextlib
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

try:                                    # scikit-learn's dependency; optional here
    from threadpoolctl import ThreadpoolController
    _CONTROLLER = ThreadpoolController()
except Exception:                       # noqa: BLE001
    _CONTROLLER = None

# Columns per block. A block of X is D * block * 8 bytes (D = 3073: 192 -> 4.7 MB):
# it stays in the last-level cache between its two GEMMs, and is wide enough that
# each GEMM call runs at full speed. bench/kernel.py sweeps it (make bench).
DEFAULT_BLOCK = 192


_POOL = None


def _pool(threads):
    global _POOL
    if _POOL is None or _POOL._max_workers < threads:
        _POOL = ThreadPoolExecutor(max_workers=threads)
    return _POOL


def softmax_loss_blocked(W, X, y, reg, block=DEFAULT_BLOCK, blas_threads=1, threads=None):
    """Loss and gradient of the linear softmax classifier, one pass over X.

    W     (C, D) float weights.
    X     (D, N) float data, columns are examples (any memory order).
    y     (N,)   int labels in [0, C).
    reg   float, L2 strength.
    block int, examples (columns of X) per block.
    blas_threads  BLAS threads for the per-block GEMMs (default 1: these GEMMs
          are small, and a threaded BLAS spends more time waking and syncing
          its threads than computing -- measured 10x slower and erratic on a
          2-core VM); None leaves the BLAS setting alone. The limit is
          process-wide while the call runs (threadpoolctl).
    threads  threads sharing the columns (default: one per core).

    Returns (loss, dW (C, D)) with
        loss = mean_i -log softmax(W x_i)[y_i] + 0.5 * reg * sum(W * W)
        dW   = (1/N) sum_i (p_i - onehot(y_i)) x_i^T + reg * W
    the same as `reference.softmax_loss`. Inputs are not modified.
    """
    limit = contextlib.nullcontext()
    if blas_threads is not None and _CONTROLLER is not None:
        limit = _CONTROLLER.limit(limits=int(blas_threads), user_api="blas")
    W = np.asarray(W, dtype=float)
    X = np.asarray(X, dtype=float)
    y = np.asarray(y).astype(np.intp, copy=False)
    n = X.shape[1]
    threads = max(1, min(int(threads or os.cpu_count() or 1), n // max(1, int(block)) or 1))
    bounds = np.linspace(0, n, threads + 1).astype(int)

    def part(i):
        a, b = bounds[i], bounds[i + 1]
        return _blocked(W, X[:, a:b], y[a:b], block)

    with limit:
        parts = list(_pool(threads).map(part, range(threads))) if threads > 1 else [part(0)]
    dW = parts[0][1]
    for _, d in parts[1:]:
        dW += d
    dW /= n
    dW += reg * W
    loss = sum(p[0] for p in parts) / n + 0.5 * reg * float(np.sum(W * W))
    return float(loss), dW


def _blocked(W, X, y, block):
    """(sum of -log p_y over the columns of X, unscaled data part of dW)."""
    C, D = W.shape
    n = X.shape[1]
    block = max(1, int(block))
    dW = np.zeros((C, D))
    # Per-block work space, reused: no (C, N) temporaries.
    xb = np.empty((D, block))
    sb = np.empty((C, block))
    gb = np.empty((C, D))
    total = 0.0
    for j in range(0, n, block):
        b = min(block, n - j)
        if b < block:                       # the last, partial block
            xb, sb = np.empty((D, b)), np.empty((C, b))
        # Copy the block into a contiguous buffer: X is read from memory once,
        # here, and both GEMMs below run on the cached copy.
        np.copyto(xb, X[:, j:j + b])
        np.dot(W, xb, out=sb)                              # scores (C, b)
        sb -= sb.max(axis=0)
        cols = np.arange(b)
        yb = y[j:j + b]
        s_true = sb[yb, cols]                              # shifted true-class scores
        np.exp(sb, out=sb)
        z = sb.sum(axis=0)                                 # (b,)
        # -log p_y = log z - s_y: exact even when p_y underflows.
        total += float(np.sum(np.log(z)) - np.sum(s_true))
        sb /= z
        sb[yb, cols] -= 1.0                                # dscores = p - onehot
        np.dot(sb, xb.T, out=gb)
        dW += gb
    return total, dW
