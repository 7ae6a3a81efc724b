"""The nearest-neighbour noise estimate behind the regressor's noise floor."""

import numpy as np
import pytest
import scipy.sparse as sp

from skmoe._noise import _distinct_rows, nn_noise_variance


def test_it_measures_the_noise_not_the_spread_of_the_regimes():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(4000, 1))
    # Two regimes far apart (slopes -50 and +50) and noise sd 0.1: Var(y) is
    # about 800 times the noise variance.
    y = np.where(X[:, 0] < 0, -50, 50) * X[:, 0] + 0.1 * rng.standard_normal(4000)
    assert np.var(y) > 500 * 0.01
    assert nn_noise_variance(X, y, np.ones(4000)) == pytest.approx(0.01, rel=0.15)


def test_a_weight_acts_as_repeated_rows():
    rng = np.random.RandomState(1)
    X = rng.standard_normal((300, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.3 * rng.standard_normal(300)
    w = rng.randint(0, 4, size=300).astype(float)
    repeated = nn_noise_variance(
        np.repeat(X, w.astype(int), axis=0),
        np.repeat(y, w.astype(int)),
        np.ones(int(w.sum())),
    )
    assert nn_noise_variance(X, y, w) == pytest.approx(repeated, rel=1e-12)


def test_sparse_inputs_give_the_dense_estimate():
    rng = np.random.RandomState(2)
    X = rng.standard_normal((200, 4)) * (rng.rand(200, 4) < 0.5)
    y = X.sum(axis=1) + 0.2 * rng.standard_normal(200)
    dense = nn_noise_variance(X, y, np.ones(200))
    assert nn_noise_variance(sp.csr_matrix(X), y, np.ones(200)) == pytest.approx(
        dense, rel=1e-12
    )


def test_no_two_distinct_rows_give_zero():
    X = np.ones((5, 2))
    assert nn_noise_variance(X, np.full(5, 3.0), np.ones(5)) == 0.0
    # Rows of zero weight do not count.
    y = np.array([3.0, 3.0, 7.0, 3.0, 3.0])
    assert nn_noise_variance(X, y, np.array([1.0, 1, 0, 1, 1])) == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_distinct_rows_are_numpys_unique_rows(seed):
    rng = np.random.default_rng(seed)
    A = rng.integers(-2, 3, size=(400, 3)).astype(float) * 0.5
    A[rng.random(A.shape) < 0.1] = -0.0  # equal to 0.0, as np.unique says
    A[:50] = rng.normal(size=(50, 3))  # and rows seen once
    rows, inverse = _distinct_rows(A)
    expected_rows, expected_inverse = np.unique(A, axis=0, return_inverse=True)
    np.testing.assert_array_equal(rows, expected_rows)
    np.testing.assert_array_equal(inverse, expected_inverse.ravel())
    np.testing.assert_array_equal(rows[inverse], A)
