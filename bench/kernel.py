"""Loss + gradient kernels at CIFAR-10 size against one streaming read of X."""
import time

import numpy as np

from autograder.assignments.softmax import reference
from bench.blocked import softmax_loss_blocked

C, D, N = 10, 3073, 10000


def _best(f, repeats):
    f()                                     # warm up (page faults, thread pools)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times), float(np.median(times))


def blas_info():
    try:
        from threadpoolctl import threadpool_info
        return [{k: v for k, v in d.items() if k in ("internal_api", "version", "architecture",
                                                      "num_threads", "threading_layer")}
                for d in threadpool_info()]
    except Exception:                       # noqa: BLE001 - optional information
        return []


def torch_step(W, X, y, reg):
    """A torch callable computing the same loss and dW, or (None, why)."""
    try:
        import torch
    except Exception as e:                  # noqa: BLE001 - the bench extra is optional
        return None, f"torch not installed ({type(e).__name__})"
    Xt = torch.from_numpy(np.ascontiguousarray(X.T))       # (N, D): torch's row layout
    yt = torch.from_numpy(y.astype(np.int64))
    W0 = torch.from_numpy(W)

    def step():
        Wt = W0.clone().requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(Xt @ Wt.T, yt) + 0.5 * reg * (Wt * Wt).sum()
        loss.backward()
        return float(loss.detach()), Wt.grad.numpy()
    return step, f"torch {torch.__version__}, {torch.get_num_threads()} threads"


def measure(repeats=7, log=print):
    rng = np.random.default_rng(0)
    W = rng.normal(size=(C, D)) * 1e-3
    X = rng.normal(size=(D, N))
    X[-1] = 1.0
    y = rng.integers(0, C, size=N)
    reg = 0.05
    want_loss, want_dW = reference.softmax_loss(W, X, y, reg)
    rows = {}

    def add(name, f, check=True):
        if check:
            loss, dW = f()
            assert np.isclose(loss, want_loss, rtol=1e-8) and \
                np.allclose(dW, want_dW, rtol=1e-6, atol=1e-10), name
        best, med = _best(f, repeats)
        rows[name] = {"best": best, "median": med}
        log(f"  kernel: {name:44s} {best * 1e3:8.1f} ms (median {med * 1e3:.1f})")

    add("X.sum() (one streaming read of X)", lambda: X.sum(), check=False)
    add("one GEMM W @ X alone (the loss needs two)", lambda: W @ X, check=False)
    add("reference.softmax_loss (two GEMMs)", lambda: reference.softmax_loss(W, X, y, reg))
    add("blocked.softmax_loss_blocked", lambda: softmax_loss_blocked(W, X, y, reg))
    sweep = {}
    for b in (32, 96, 192, 384, 768):
        sweep[b] = _best(lambda: softmax_loss_blocked(W, X, y, reg, block=b), 3)[0]
    step, torch_note = torch_step(W, X, y, reg)
    if step is not None:
        loss, dW = step()
        assert np.isclose(loss, want_loss, rtol=1e-8) and np.allclose(dW, want_dW, rtol=1e-6,
                                                                      atol=1e-10)
        add("PyTorch CPU cross_entropy + backward", step, check=False)
    log(f"  kernel: block sweep (ms) " + ", ".join(f"{b}: {t * 1e3:.0f}" for b, t in sweep.items()))
    return {"rows": rows, "sweep": sweep, "torch": torch_note, "blas": blas_info(),
            "bytes_X": X.nbytes}
