import pickle

import numpy as np
import pytest

import data_utils


@pytest.fixture(scope="module")
def digits():
    return data_utils.load_digits_split(num_val=300, num_test=300, seed=0)


def test_add_bias_row():
    X = np.arange(6.0).reshape(2, 3)
    Xb = data_utils.add_bias_row(X)
    assert Xb.shape == (3, 3)
    np.testing.assert_array_equal(Xb[:2], X)
    np.testing.assert_array_equal(Xb[2], np.ones(3))


def test_digits_shapes_and_types(digits):
    assert set(digits) == {"X_train", "y_train", "X_val", "y_val", "X_test", "y_test"}
    assert digits["X_train"].shape == (65, 1797 - 600)
    assert digits["X_val"].shape == (65, 300)
    assert digits["X_test"].shape == (65, 300)
    for part in ("train", "val", "test"):
        y = digits[f"y_{part}"]
        assert y.shape == (digits[f"X_{part}"].shape[1],)
        assert np.issubdtype(y.dtype, np.integer)
        assert y.min() >= 0 and y.max() <= 9
        np.testing.assert_array_equal(digits[f"X_{part}"][-1], 1.0)


def test_digits_training_mean_is_subtracted(digits):
    # Pixels are centred with the *training* mean only.
    np.testing.assert_allclose(digits["X_train"][:-1].mean(axis=1), 0.0, atol=1e-12)
    # Scaled by 1/16: centred values lie in [-1, 1].
    assert np.abs(digits["X_train"][:-1]).max() <= 1.0


class _FakeDigits:
    """50 'images' whose pixel 0 is the image's id: every column is traceable."""

    def __init__(self, n=50):
        self.data = np.zeros((n, 64))
        self.data[:, 0] = np.arange(n)          # id, 0..n-1 (raw pixel units)
        self.data[:, 1] = 16.0                  # constant 16 -> 1.0 after scaling
        self.target = np.arange(n) % 10


def test_digits_splits_disjoint_complete_and_no_leakage(monkeypatch):
    import sklearn.datasets
    fake = _FakeDigits()
    monkeypatch.setattr(sklearn.datasets, "load_digits", lambda: fake)
    d = data_utils.load_digits_split(num_val=10, num_test=5, seed=3)
    assert d["X_train"].shape == (65, 35)
    assert d["X_val"].shape == (65, 10) and d["X_test"].shape == (65, 5)
    # Pixel 1 is constant: centred to exactly 0 (so the scale/16 and mean apply).
    for part in ("train", "val", "test"):
        np.testing.assert_allclose(d[f"X_{part}"][1], 0.0, atol=1e-12)
    # All splits are shifted by the same mean m0; the smallest id is 0.
    centred = np.concatenate([d[f"X_{p}"][0] for p in ("train", "val", "test")])
    m0 = -centred.min()
    ids = {p: np.rint((d[f"X_{p}"][0] + m0) * 16).astype(int)
           for p in ("train", "val", "test")}
    all_ids = np.concatenate(list(ids.values()))
    assert sorted(all_ids) == list(range(50)), "splits must be disjoint and cover all images"
    # The shift is the mean of the *training* images only (no val/test leakage).
    np.testing.assert_allclose(m0, ids["train"].mean() / 16, atol=1e-12)
    # Labels travel with their images.
    for p in ("train", "val", "test"):
        np.testing.assert_array_equal(d[f"y_{p}"], ids[p] % 10)


def test_digits_split_is_seeded():
    # Same seed, same split; another seed reshuffles.
    a = data_utils.load_digits_split(seed=0)
    b = data_utils.load_digits_split(seed=0)
    c = data_utils.load_digits_split(seed=1)
    np.testing.assert_array_equal(a["X_val"], b["X_val"])
    assert not np.array_equal(a["y_val"], c["y_val"])


def test_digits_split_rejects_too_large_holdout():
    with pytest.raises(ValueError):
        data_utils.load_digits_split(num_val=1000, num_test=1000)


def _write_batch(path, data, labels):
    with open(path, "wb") as f:
        pickle.dump({b"batch_label": b"test", b"labels": list(labels),
                     b"data": data, b"filenames": [b"x.png"] * len(labels)}, f)


def test_load_cifar10_reads_python_batches(tmp_path):
    rng = np.random.default_rng(0)
    batches = {}
    for k, name in enumerate([f"data_batch_{b}" for b in range(1, 6)] + ["test_batch"]):
        data = rng.integers(0, 256, size=(4, 3072), dtype=np.uint8)
        labels = [(k + i) % 10 for i in range(4)]
        _write_batch(tmp_path / name, data, labels)
        batches[name] = (data, labels)
    Xtr, ytr, Xte, yte = data_utils.load_cifar10(str(tmp_path))
    assert Xtr.shape == (20, 3072) and ytr.shape == (20,)
    assert Xte.shape == (4, 3072) and yte.shape == (4,)
    assert Xtr.dtype == np.float64
    np.testing.assert_array_equal(Xtr[:4], batches["data_batch_1"][0])
    np.testing.assert_array_equal(Xtr[16:], batches["data_batch_5"][0])
    np.testing.assert_array_equal(ytr[4:8], batches["data_batch_2"][1])
    np.testing.assert_array_equal(Xte, batches["test_batch"][0])
    np.testing.assert_array_equal(yte, batches["test_batch"][1])

    mean = Xtr.mean(axis=0)
    cols = data_utils.cifar10_to_columns(Xte, mean)
    assert cols.shape == (3073, 4)
    np.testing.assert_array_equal(cols[-1], 1.0)
    np.testing.assert_allclose(cols[:-1], (Xte - mean).T)


def test_load_cifar10_missing_folder_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="cifar-10-batches-py"):
        data_utils.load_cifar10(str(tmp_path / "nowhere"))
    _write_batch(tmp_path / "data_batch_1", np.zeros((1, 3072), np.uint8), [0])
    with pytest.raises(FileNotFoundError, match="data_batch_2"):
        data_utils.load_cifar10(str(tmp_path))
