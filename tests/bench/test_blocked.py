"""The cache-blocked loss equals the reference two-GEMM version."""
import numpy as np
import pytest

from autograder.assignments.softmax import reference as ref
from bench.blocked import softmax_loss_blocked


def _case(C, D, N, seed, offset=0.0):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(C, D)) * 0.05
    W[:, -1] += offset                   # a large bias shared by every class
    X = rng.normal(size=(D, N))
    X[-1] = 1.0
    return W, X, rng.integers(0, C, size=N)


@pytest.mark.parametrize("C,D,N,block", [
    (3, 5, 1, 4), (3, 5, 7, 4), (10, 65, 40, 16), (10, 65, 100, 96),
    (10, 65, 97, 32), (4, 20, 33, 1), (10, 3073, 250, 96), (7, 13, 5, 1000),
])
@pytest.mark.parametrize("reg", [0.0, 0.37])
def test_equals_reference(C, D, N, block, reg):
    W, X, y = _case(C, D, N, seed=C * 1000 + N)
    W0, X0, y0 = W.copy(), X.copy(), y.copy()
    loss, dW = softmax_loss_blocked(W, X, y, reg, block=block)
    want_loss, want_dW = ref.softmax_loss(W, X, y, reg)
    assert isinstance(loss, float)
    assert dW.shape == W.shape
    np.testing.assert_allclose(loss, want_loss, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dW, want_dW, rtol=1e-9, atol=1e-12)
    assert np.array_equal(W, W0) and np.array_equal(X, X0) and np.array_equal(y, y0)


@pytest.mark.parametrize("offset", [1e3, -1e3, 1e5])
def test_large_score_offsets(offset):
    W, X, y = _case(10, 65, 50, seed=3, offset=offset)
    loss, dW = softmax_loss_blocked(W, X, y, 1e-4, block=16)
    want_loss, want_dW = ref.softmax_loss(W, X, y, 1e-4)
    assert np.isfinite(loss) and np.all(np.isfinite(dW))
    np.testing.assert_allclose(loss, want_loss, rtol=1e-9)
    np.testing.assert_allclose(dW, want_dW, rtol=1e-8, atol=1e-12)


def test_underflowing_true_class_probability():
    # Scores far apart: p_y underflows to 0, the loss stays finite and exact.
    W = np.array([[0.0, 0.0], [800.0, 0.0]])
    X = np.array([[1.0, 1.0], [1.0, 1.0]])
    y = np.array([0, 1])
    loss, dW = softmax_loss_blocked(W, X, y, 0.0, block=1)
    want_loss, want_dW = ref.softmax_loss(W, X, y, 0.0)
    np.testing.assert_allclose(loss, want_loss, rtol=1e-12)
    np.testing.assert_allclose(dW, want_dW, atol=1e-12)


def test_fortran_order_and_int32_labels():
    W, X, y = _case(10, 65, 77, seed=5)
    loss, dW = softmax_loss_blocked(W, np.asfortranarray(X), y.astype(np.int32), 0.1, block=20)
    want_loss, want_dW = ref.softmax_loss(W, X, y, 0.1)
    np.testing.assert_allclose(loss, want_loss, rtol=1e-10)
    np.testing.assert_allclose(dW, want_dW, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_columns_split_between_threads_give_the_same_result(threads):
    rng = np.random.default_rng(9)
    W = rng.normal(size=(7, 40)) * 0.1
    X = rng.normal(size=(40, 1001))
    y = rng.integers(0, 7, size=1001)
    got = softmax_loss_blocked(W, X, y, 0.3, block=64, threads=threads)
    want = ref.softmax_loss(W, X, y, 0.3)
    assert np.isclose(got[0], want[0], rtol=1e-12)
    assert np.allclose(got[1], want[1], rtol=1e-10, atol=1e-14)
