import numpy as np

from data_utils import load_digits_split
from linear_classifier import accuracy, predict, train_sgd


def softmax_loss(W, X, y, reg):
    """A reference loss for the tests (the notebook's exercise, not shipped)."""
    S = W @ X
    S = S - S.max(axis=0)
    P = np.exp(S)
    P /= P.sum(axis=0)
    N = X.shape[1]
    loss = -np.log(P[y, np.arange(N)]).mean() + 0.5 * reg * np.sum(W * W)
    P[y, np.arange(N)] -= 1
    return loss, P @ X.T / N + reg * W


def test_predict_is_argmax_of_scores():
    W = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    X = np.array([[2.0, 0.0, -1.0], [1.0, 3.0, -1.0]])
    np.testing.assert_array_equal(predict(W, X), [0, 1, 2])
    assert accuracy(W, X, np.array([0, 1, 1])) == 2 / 3


def test_sgd_calls_loss_with_minibatches_and_initialises_small():
    seen = []

    def loss_fn(W, X, y, reg):
        seen.append((W.copy(), X.shape, y.shape, reg))
        return 1.0, np.zeros_like(W)

    X = np.ones((5, 40))
    y = np.arange(40) % 3
    W, hist = train_sgd(loss_fn, X, y, learning_rate=0.1, reg=0.5,
                        num_iters=4, batch_size=8)
    assert W.shape == (3, 5) and hist == [1.0] * 4
    assert all(s[1] == (5, 8) and s[2] == (8,) and s[3] == 0.5 for s in seen)
    assert 0 < np.abs(seen[0][0]).max() < 0.01  # 0.001 * N(0, 1)


def test_sgd_is_seeded_and_leaves_given_W_alone():
    d = load_digits_split()
    W0 = np.zeros((10, 65))
    a = train_sgd(softmax_loss, d["X_train"], d["y_train"], num_iters=20, seed=1, W=W0)
    b = train_sgd(softmax_loss, d["X_train"], d["y_train"], num_iters=20, seed=1, W=W0)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1]
    np.testing.assert_array_equal(W0, 0.0)


def test_sgd_learns_digits():
    d = load_digits_split()
    W, hist = train_sgd(softmax_loss, d["X_train"], d["y_train"],
                        learning_rate=0.5, reg=1e-4, num_iters=300)
    assert abs(hist[0] - np.log(10)) < 0.05  # untrained: about -log(0.1)
    assert np.mean(hist[-20:]) < 0.5 * hist[0]
    assert accuracy(W, d["X_val"], d["y_val"]) >= 0.9
