import numpy as np
import pytest

from gradient_check import (eval_numerical_gradient, eval_numerical_gradient_array,
                            grad_check_sparse, rel_error)


def test_rel_error_basic():
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert rel_error(1.0, 3.0) == pytest.approx(0.5)
    # Both zero: the 1e-8 floor avoids 0/0.
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    # It is the max over entries.
    assert rel_error(np.array([1.0, 1.0]), np.array([1.0, 0.0])) == pytest.approx(1.0)


def test_numerical_gradient_of_quadratic():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    A = A + A.T
    b = rng.standard_normal(4)
    x = rng.standard_normal(4)
    x0 = x.copy()

    def f(v):
        return 0.5 * v @ A @ v + b @ v

    num = eval_numerical_gradient(f, x)
    assert rel_error(num, A @ x0 + b) < 1e-8
    np.testing.assert_array_equal(x, x0)  # restored


def test_numerical_gradient_matrix_input():
    W = np.arange(6.0).reshape(2, 3)
    num = eval_numerical_gradient(lambda w: np.sum(w ** 3), W)
    np.testing.assert_allclose(num, 3 * W ** 2, rtol=1e-7, atol=1e-6)


def test_numerical_gradient_array_is_vector_jacobian_product():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4))
    df = rng.standard_normal((3, 4))
    x0 = x.copy()
    num = eval_numerical_gradient_array(np.tanh, x, df)
    assert rel_error(num, df * (1 - np.tanh(x0) ** 2)) < 1e-7
    np.testing.assert_array_equal(x, x0)


def test_numerical_gradient_array_with_inplace_returning_f():
    # f returning a view of x must not corrupt the result.
    x = np.array([1.0, -2.0, 3.0])
    num = eval_numerical_gradient_array(lambda v: v, x, np.ones(3))
    np.testing.assert_allclose(num, np.ones(3), atol=1e-8)


def test_grad_check_sparse_detects_right_and_wrong(capsys):
    x = np.random.default_rng(2).standard_normal((5, 6))
    x0 = x.copy()
    f = lambda w: float(np.sum(np.sin(w)))  # noqa: E731
    good = grad_check_sparse(f, x, np.cos(x0), num_checks=7)
    assert len(good) == 7 and max(good) < 1e-7
    assert "relative error" in capsys.readouterr().out
    bad = grad_check_sparse(f, x, 2 * np.cos(x0), num_checks=7, verbose=False)
    assert min(bad) > 0.3
    np.testing.assert_array_equal(x, x0)


def test_grad_check_sparse_is_seeded():
    x = np.random.default_rng(3).standard_normal((10, 10))
    g = np.zeros_like(x)
    g[0, 0] = 1.0  # wrong only at one entry: which entries are checked matters
    f = lambda w: 0.0  # noqa: E731
    a = grad_check_sparse(f, x, g, num_checks=20, seed=5, verbose=False)
    b = grad_check_sparse(f, x, g, num_checks=20, seed=5, verbose=False)
    assert a == b
