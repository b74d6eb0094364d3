"""Data loading for the softmax workbook.

Everything here returns the *column layout* used in Part 3: a data matrix
``X`` has shape ``(D, N)`` (one example per column) and labels ``y`` are
integers of shape ``(N,)``. The last row of ``X`` is all ones (the bias
trick), so a weight matrix ``W`` of shape ``(C, D)`` carries its biases in
its last column and the scores are simply ``W @ X`` of shape ``(C, N)``.
"""
import os
import pickle

import numpy as np

CIFAR10_CLASSES = ("plane", "car", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")


def add_bias_row(X):
    """Append a row of ones: ``(D, N) -> (D + 1, N)``.

    With this extra input, ``W @ X`` includes the bias, so the classifier
    needs a single parameter matrix instead of a ``W`` and a ``b``.
    """
    X = np.asarray(X)
    return np.vstack([X, np.ones((1, X.shape[1]), dtype=X.dtype)])


def load_digits_split(num_val=300, num_test=300, seed=0):
    """scikit-learn's bundled 8x8 digits, split and preprocessed.

    Returns a dict with ``X_train, y_train, X_val, y_val, X_test, y_test``:
    each ``X`` float64 of shape ``(65, N)`` (64 centred pixels + a bias row
    of ones), each ``y`` int64 of shape ``(N,)`` with values in ``[0, 10)``.
    The 1797 images are shuffled with a fixed ``seed``; the last
    ``num_val + num_test`` of the shuffle become validation and test.
    """
    from sklearn.datasets import load_digits  # bundled with sklearn: no download

    digits = load_digits()
    images = digits.data.astype(np.float64) / 16.0   # pixels 0..16 -> 0..1
    labels = digits.target.astype(np.int64)
    n = images.shape[0]
    num_train = n - num_val - num_test
    if num_train <= 0:
        raise ValueError(f"num_val + num_test must be < {n}, "
                         f"got {num_val} + {num_test}")

    order = np.random.default_rng(seed).permutation(n)
    parts = {"train": order[:num_train],
             "val": order[num_train:num_train + num_val],
             "test": order[num_train + num_val:]}

    # The mean comes from the training images only: computing it over val/test
    # too would leak information about the held-out data into training.
    mean_image = images[parts["train"]].mean(axis=0)

    data = {}
    for name, idx in parts.items():
        rows = images[idx] - mean_image          # (N, 64) centred
        data[f"X_{name}"] = add_bias_row(rows.T)  # (65, N) columns
        data[f"y_{name}"] = labels[idx]
    return data


def _load_cifar_batch(path):
    """One CIFAR-10 python batch -> ``X (N, 3072) float64``, ``y (N,) int64``."""
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    X = np.asarray(batch[b"data"], dtype=np.float64)
    y = np.asarray(batch[b"labels"], dtype=np.int64)
    return X, y


def load_cifar10(root):
    """Read a local copy of CIFAR-10's python batches.

    ``root`` is the folder ``cifar-10-batches-py`` holding ``data_batch_1`` ..
    ``data_batch_5`` and ``test_batch``. Returns ``Xtr (50000, 3072)``,
    ``ytr (50000,)``, ``Xte (10000, 3072)``, ``yte (10000,)``; X rows are the
    raw pixel values (0..255) as float64, in CIFAR's channel-major order.
    """
    names = [f"data_batch_{b}" for b in range(1, 6)] + ["test_batch"]
    missing = [n for n in names if not os.path.isfile(os.path.join(root, n))]
    if missing:
        raise FileNotFoundError(
            f"CIFAR-10 batches not found in {root!r} (missing {', '.join(missing)}); "
            "download and unpack cifar-10-python.tar.gz from "
            "https://www.cs.toronto.edu/~kriz/cifar.html and pass the "
            "cifar-10-batches-py folder")
    train = [_load_cifar_batch(os.path.join(root, n)) for n in names[:5]]
    Xtr = np.concatenate([X for X, _ in train])
    ytr = np.concatenate([y for _, y in train])
    Xte, yte = _load_cifar_batch(os.path.join(root, "test_batch"))
    return Xtr, ytr, Xte, yte


def cifar10_to_columns(X, mean_image):
    """Rows ``(N, 3072)`` -> centred columns with bias, ``(3073, N)``.

    ``mean_image`` (3072,) should be the mean of the *training* rows.
    """
    return add_bias_row((np.asarray(X, dtype=np.float64) - mean_image).T)
