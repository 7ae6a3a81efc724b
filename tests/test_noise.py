"""The nearest-neighbour noise estimate behind the regressor's noise floor."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LinearRegression
from sklearn.neighbors import NearestNeighbors
from sklearn.tree import DecisionTreeRegressor

from skmoe import MixtureOfExpertsRegressor
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


@pytest.mark.parametrize("n_features", [3, 5, 10])
def test_a_sloped_mean_in_several_dimensions_is_not_taken_for_noise(n_features):
    # Neighbours among 200 rows in 5 dimensions lie ~1 standard deviation
    # apart: differences of y alone see the slope and come out thousands of
    # times the noise variance.
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(200, n_features))
    y = X @ np.full(n_features, 3.0) + 0.05 * rng.standard_normal(200)
    assert nn_noise_variance(X, y, np.ones(200)) == pytest.approx(0.0025, rel=0.3)


def test_it_is_the_raw_difference_estimate_when_that_is_smaller():
    # Two flat clusters far apart in x1: the line through them has slope 10,
    # which its residuals carry within each cluster; y's own differences
    # between neighbours there are noise alone.
    rng = np.random.RandomState(0)
    far = rng.uniform(size=300) < 0.5
    X = np.column_stack([rng.uniform(0, 1, 300) + 10 * far, rng.uniform(0, 1, 300)])
    y = 100.0 * far + 0.1 * rng.standard_normal(300)
    assert nn_noise_variance(X, y, np.ones(300)) == pytest.approx(0.01, rel=0.3)


def test_scaling_every_weight_leaves_it_unchanged():
    rng = np.random.RandomState(2)
    X = rng.standard_normal((100, 4))
    y = X @ [1.0, -2.0, 0.5, 3.0] + 0.3 * rng.standard_normal(100)
    w = rng.uniform(0.5, 2.0, size=100)
    assert nn_noise_variance(X, y, 7.0 * w) == pytest.approx(
        nn_noise_variance(X, y, w), rel=1e-12
    )


def test_too_few_rows_per_parameter_keep_the_raw_estimate():
    # 12 rows and 10 inputs: a linear fit would leave no noise in its
    # residuals, and the floor would vanish.
    rng = np.random.RandomState(3)
    X = rng.standard_normal((12, 10))
    y = X @ np.arange(10.0) + 0.1 * rng.standard_normal(12)
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    _, index = NearestNeighbors(n_neighbors=2).fit(Z).kneighbors(Z)
    raw = 0.5 * np.mean((y - y[index[:, 1]]) ** 2)
    assert nn_noise_variance(X, y, np.ones(12)) == pytest.approx(raw, rel=1e-12)


def test_one_linear_expert_in_several_dimensions_keeps_its_own_noise():
    # One expert is the expert alone: its noise variance is the residual
    # mean square, not a floor lifted by the slope between neighbours.
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(200, 5))
    y = X @ np.full(5, 3.0) + 0.05 * rng.standard_normal(200)
    moe = MixtureOfExpertsRegressor(n_experts=1).fit(X, y)
    residual = y - LinearRegression().fit(X, y).predict(X)
    assert moe.noise_var_[0] == pytest.approx(np.mean(residual**2), rel=1e-6)


@pytest.mark.filterwarnings("ignore::skmoe.DegenerateFitWarning")
def test_the_floor_is_set_on_the_columns_the_mixture_sees():
    # A tree that fits its rows exactly sits at the floor. Four columns that
    # neither the gate nor the expert sees must not move it: with them, the
    # nearest neighbours lie far apart in x0 and differ by the curve.
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(200, 5))
    y = 5 * np.sin(2 * X[:, 0]) + 0.05 * rng.standard_normal(200)
    tree = DecisionTreeRegressor(random_state=0)
    params = dict(n_experts=1, crossfit=False)
    seen = MixtureOfExpertsRegressor(
        tree, gate_features=[0], expert_features=[0], **params
    ).fit(X, y)
    alone = MixtureOfExpertsRegressor(tree, **params).fit(X[:, [0]], y)
    assert seen.noise_var_[0] == pytest.approx(alone.noise_var_[0], rel=1e-12)


def test_a_column_constant_up_to_rounding_is_constant():
    # (u * 0.1) / u * 10 is 1 in exact arithmetic and 1 +- 1 ulp in floats.
    # Scaled to unit variance, that rounding would decide which rows are
    # neighbours; StandardScaler, the gate and the start call it constant.
    rng = np.random.RandomState(0)
    x = rng.uniform(-3, 3, size=500)
    y = np.where(x > 0, 20, -20) * x + 0.01 * rng.standard_normal(500)
    u = rng.uniform(0.1, 1.0, size=500)
    rounded = (u * 0.1) / u * 10
    assert np.ptp(rounded) > 0
    weight = np.ones(500)
    exact = nn_noise_variance(np.column_stack([x, np.ones(500)]), y, weight)
    noisy = nn_noise_variance(np.column_stack([x, rounded]), y, weight)
    assert noisy == pytest.approx(exact, rel=1e-12)


# ---- when the floor binds, the fit says so ---------------------------------------


def planes_of_different_slopes(n, noise_sd, seed=0):
    """Two planes over [-3, 3]^2, split at x0 = 0, that differ in slope:
    neighbours in 2-D lie far apart against a small noise, so the model-free
    estimate overstates it (by about 5,600 times at sd 0.003)."""
    rng = np.random.RandomState(seed)
    X = rng.uniform(-3, 3, size=(n, 2))
    y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 1], 4 - X[:, 0])
    return X, y + noise_sd * rng.standard_normal(n)


def floor_warnings(record):
    return [str(w.message) for w in record if "noise floor binds" in str(w.message)]


def test_a_binding_floor_on_linear_experts_warns_with_the_remedy():
    """Intervals 7.5 times too wide (coverage 1.0 at 90 %) came with no
    word: the exact-fit warning needs residuals below 1/1000 of the floor."""
    import warnings

    from skmoe.exceptions import DegenerateFitWarning

    X, y = planes_of_different_slopes(1000, noise_sd=0.003)
    with pytest.warns(DegenerateFitWarning, match=r"noise floor binds.*lower reg_var"):
        moe = MixtureOfExpertsRegressor(random_state=0).fit(X, y)
    assert np.all(np.sqrt(moe.noise_var_) > 5 * 0.003)
    # The remedy it names gives the noise back.
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        lower = MixtureOfExpertsRegressor(reg_var=1e-4, random_state=0).fit(X, y)
    assert not floor_warnings(record)
    assert np.allclose(np.sqrt(lower.noise_var_), 0.003, rtol=0.2)


@pytest.mark.parametrize("noise_sd", [0.03, 0.3])
def test_a_floor_that_barely_binds_or_not_at_all_is_silent(noise_sd):
    import warnings

    X, y = planes_of_different_slopes(1000, noise_sd=noise_sd)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        MixtureOfExpertsRegressor(random_state=0).fit(X, y)
    assert not floor_warnings(record)


def test_a_tree_at_the_floor_is_not_told_to_lower_it():
    """A flexible expert's small residuals are its fit, not its noise: the
    floor protects it."""
    import warnings

    X, y = planes_of_different_slopes(1000, noise_sd=0.003)
    experts = [
        ("lin", LinearRegression()),
        ("tree", DecisionTreeRegressor(max_depth=8)),
    ]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        moe = MixtureOfExpertsRegressor(experts, random_state=0)
        moe.fit(X, y)
    # The linear expert is told; the tree, at the floor too, is not.
    assert floor_warnings(record)
    assert all("'tree'" not in message for message in floor_warnings(record))


def two_lines_far_from_zero(n, offset, seed=0):
    """Two regimes around ``offset`` with noise sd 0.1: float64 resolves
    1.5e-5 at 1e11, so the noise is well measured."""
    rng = np.random.RandomState(seed)
    X = rng.uniform(-3, 3, size=(n, 1))
    y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
    return X, offset + y + 0.1 * rng.standard_normal(n)


def test_the_rounding_floor_does_not_grow_with_the_rows():
    """The floor's rounding term was (n eps)^2 y^2: at 30,000 rows around
    1e11 it was 0.44, 44 times the noise variance, and a y of 22,000
    distinct values counted as constant."""
    X, y = two_lines_far_from_zero(30_000, 1e11)
    moe = MixtureOfExpertsRegressor(n_init=1, random_state=0).fit(X, y)
    assert not moe._constant_target
    np.testing.assert_allclose(moe.noise_var_, 0.01, rtol=0.1)
    shifted = MixtureOfExpertsRegressor(n_init=1, random_state=0).fit(X, y - 1e11)
    np.testing.assert_allclose(moe.noise_var_, shifted.noise_var_, rtol=0.01)


def test_weights_stay_repeated_rows_and_zero_weights_absent_far_from_zero():
    X, y = two_lines_far_from_zero(300, 1e11)
    weight = np.full(300, 100)

    def fit(*args, **kwargs):
        return MixtureOfExpertsRegressor(n_init=1, random_state=0).fit(*args, **kwargs)

    weighted = fit(X, y, sample_weight=weight)
    repeated = fit(np.repeat(X, weight, axis=0), np.repeat(y, weight))
    # Equal to the rounding of sums of 30,000 values around 1e11 (the floor
    # had made them 0.44 and 0.009).
    np.testing.assert_allclose(repeated.noise_var_, weighted.noise_var_, rtol=1e-4)
    assert repeated.log_likelihood_ == pytest.approx(weighted.log_likelihood_, abs=1e-4)

    padded_X = np.vstack([X, np.zeros((29_700, 1))])
    padded_y = np.concatenate([y, np.full(29_700, 1e11)])
    padded_w = np.concatenate([np.ones(300), np.zeros(29_700)])
    padded = fit(padded_X, padded_y, sample_weight=padded_w)
    np.testing.assert_allclose(padded.noise_var_, fit(X, y).noise_var_, rtol=1e-4)
