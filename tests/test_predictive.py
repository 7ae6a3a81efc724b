"""The regressor's predictive distribution: quantiles, intervals and samples.

The pure functions of ``skmoe._predictive`` are checked against scipy on
mixtures drawn at random; the estimator's methods against a known truth (the
3-expert linear mixture of ``_data``), whose predictive distribution is a
Gaussian mixture the fitted model should reproduce.
"""

import functools
import re
import warnings

import numpy as np
import pytest
from _data import EXPERT_COEF, GATE_COEF, NOISE_SD, make_linear_mixture
from numpy.testing import assert_allclose
from scipy.optimize import brentq
from scipy.special import log_softmax
from scipy.stats import norm
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import BayesianRidge, LinearRegression

from skmoe import MixtureOfExpertsRegressor
from skmoe._math import mixture_mean_and_var
from skmoe._predictive import (
    central_interval,
    mixture_cdf,
    mixture_log_pdf,
    mixture_quantiles,
    sample_mixture,
)

QUANTILES = np.array([1e-8, 1e-3, 0.05, 0.25, 0.5, 0.75, 0.95, 1 - 1e-3, 1 - 1e-8])


def random_mixtures(n_rows, n_components, random_state):
    """Mixtures with uneven weights, far-apart means and sds over 3 decades."""
    rng = np.random.RandomState(random_state)
    weights = rng.dirichlet(np.full(n_components, 0.5), size=n_rows)
    means = rng.standard_normal((n_rows, n_components)) * 10 ** rng.uniform(
        -1, 2, size=(n_rows, 1)
    )
    sds = 10 ** rng.uniform(-1.5, 1.5, size=(n_rows, n_components))
    return weights, means, sds**2


def true_mixture(X):
    """Weights, means and variances of the known truth of ``make_linear_mixture``."""
    gate = np.exp(log_softmax(X @ GATE_COEF, axis=1))
    means = EXPERT_COEF[:, 0] + X @ EXPERT_COEF[:, 1:].T
    return gate, means, np.full(means.shape[1], NOISE_SD**2)


def lower_tail(y, weights, means, variances, p):
    """F(y) for p <= 1/2 and 1 - F(y) computed as the CDF of -y otherwise, so
    that both tails are compared to full relative precision."""
    upper = p > 0.5
    signs = np.where(upper, -1.0, 1.0)
    tails = [
        mixture_cdf(sign * y[:, [k]], weights, sign * means, variances)[:, 0]
        for k, sign in enumerate(signs)
    ]
    return np.column_stack(tails), np.where(upper, 1 - p, p)


@pytest.fixture(scope="module")
def known_truth():
    """A 3-expert mixture fitted on 5,000 rows of the truth, and 10,000 new rows."""
    X, y = make_linear_mixture(5000, random_state=0)
    moe = MixtureOfExpertsRegressor(n_experts=3, random_state=0).fit(X, y)
    X_test, y_test = make_linear_mixture(10_000, random_state=1)
    return moe, X_test, y_test


@pytest.fixture(scope="module")
def two_regimes():
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(400, 1))
    y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
    y += 0.1 * rng.standard_normal(400)
    return MixtureOfExpertsRegressor(random_state=0).fit(X, y), X, y


# ---- the pure functions ----------------------------------------------------


def test_quantiles_invert_the_cdf():
    weights, means, variances = random_mixtures(500, 4, random_state=0)
    quantiles = mixture_quantiles(weights, means, variances, QUANTILES)
    assert quantiles.shape == (500, len(QUANTILES))
    tail, target = lower_tail(quantiles, weights, means, variances, QUANTILES)
    # Solved to 1e-10 sd of the narrowest component in y: the CDF then
    # matches to ~1e-10 in probability, relatively in the far tails too.
    assert_allclose(tail, np.broadcast_to(target, tail.shape), rtol=1e-7, atol=1e-10)
    assert np.all(np.diff(quantiles, axis=1) > 0)


def test_quantiles_match_a_scalar_root_finder():
    weights, means, variances = random_mixtures(40, 3, random_state=1)
    quantiles = mixture_quantiles(weights, means, variances, [0.1, 0.5, 0.9])
    sd_min = np.sqrt(variances).min(axis=1)
    for row in range(40):
        mixture = weights[[row]], means[[row]], variances[[row]]
        for k, p in enumerate([0.1, 0.5, 0.9]):
            root = brentq(
                lambda y, p=p, mixture=mixture: (
                    mixture_cdf(np.array([y]), *mixture)[0] - p
                ),
                means[row].min() - 20 * np.sqrt(variances[row]).max(),
                means[row].max() + 20 * np.sqrt(variances[row]).max(),
                xtol=1e-14,
                rtol=4 * np.finfo(float).eps,
                maxiter=500,
            )
            assert abs(quantiles[row, k] - root) <= 1e-9 * max(sd_min[row], 1.0)


def test_one_component_gives_the_gaussian_quantiles_exactly():
    rng = np.random.RandomState(2)
    means = rng.standard_normal((50, 1)) * 100
    variances = 10 ** rng.uniform(-3, 3, size=(50, 1))
    quantiles = mixture_quantiles(np.ones((50, 1)), means, variances, QUANTILES)
    expected = norm.ppf(QUANTILES, loc=means, scale=np.sqrt(variances))
    assert_allclose(quantiles, expected, rtol=1e-13, atol=1e-11)


def test_equal_components_give_their_common_quantiles():
    # Two copies of one Gaussian: the mixture is that Gaussian.
    weights = np.array([[0.3, 0.7]])
    quantiles = mixture_quantiles(weights, [[2.0, 2.0]], [4.0, 4.0], QUANTILES)
    assert_allclose(quantiles[0], norm.ppf(QUANTILES, 2.0, 2.0), rtol=1e-13)


def test_zero_weight_components_are_ignored():
    weights, means, variances = random_mixtures(30, 3, random_state=3)
    padded = (
        np.hstack([weights, np.zeros((30, 1))]),
        np.hstack([means, np.full((30, 1), 1e6)]),
        np.hstack([variances, np.full((30, 1), 1e-6)]),
    )
    assert_allclose(
        mixture_quantiles(*padded, QUANTILES),
        mixture_quantiles(weights, means, variances, QUANTILES),
        rtol=1e-12,
        atol=1e-12,
    )
    draws = sample_mixture(*padded, n_samples=200, random_state=0)
    assert np.all(draws < 1e5)


def test_quantiles_of_symmetric_mixtures_are_symmetric():
    weights, means, variances = np.array([[0.5, 0.5]]), [[-3.0, 3.0]], [1.0, 1.0]
    quantiles = mixture_quantiles(weights, means, variances, QUANTILES)
    assert_allclose(quantiles[0], -quantiles[0, ::-1], atol=1e-9)
    assert abs(quantiles[0, 4]) <= 1e-12


def test_central_interval_has_equal_tails():
    weights, means, variances = random_mixtures(100, 3, random_state=4)
    interval = central_interval(weights, means, variances, 0.8)
    assert interval.shape == (100, 2)
    tail, _ = lower_tail(interval, weights, means, variances, np.array([0.1, 0.9]))
    assert_allclose(tail, 0.1, rtol=1e-7)


def test_central_interval_up_to_the_last_coverage_below_1():
    # 1 - tail rounded to 1 there: the upper end was +inf, with
    # RuntimeWarnings, for a coverage the estimators accept.
    weights, means, variances = random_mixtures(20, 3, random_state=5)
    coverage = np.nextafter(1.0, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        interval = central_interval(weights, means, variances, coverage)
    assert np.all(np.isfinite(interval))
    # Each end leaves (1 - coverage) / 2 of the mass outside it.
    sd = np.sqrt(variances)
    above = (weights * norm.sf((interval[:, 1:] - means) / sd)).sum(axis=1)
    below = (weights * norm.cdf((interval[:, :1] - means) / sd)).sum(axis=1)
    assert_allclose(above, (1 - coverage) / 2, rtol=1e-6)
    assert_allclose(below, (1 - coverage) / 2, rtol=1e-6)


def test_log_pdf_is_the_derivative_of_the_cdf():
    weights, means, variances = random_mixtures(50, 3, random_state=5)
    y = mixture_quantiles(weights, means, variances, [0.3])[:, 0]
    h = 1e-5 * np.sqrt(variances).min(axis=1)
    slope = (
        mixture_cdf(y + h, weights, means, variances)
        - mixture_cdf(y - h, weights, means, variances)
    ) / (2 * h)
    assert_allclose(np.exp(mixture_log_pdf(y, weights, means, variances)), slope, 1e-5)


def test_samples_follow_the_mixture():
    weights, means, variances = random_mixtures(5, 3, random_state=6)
    draws = sample_mixture(weights, means, variances, 20_000, random_state=0)
    assert draws.shape == (5, 20_000)
    # The empirical CDF at the mixture's quantiles: within 4 binomial sds.
    quantiles = mixture_quantiles(weights, means, variances, [0.1, 0.5, 0.9])
    below = (draws[:, :, np.newaxis] <= quantiles[:, np.newaxis, :]).mean(axis=1)
    sd = np.sqrt(0.25 / 20_000)
    assert np.all(np.abs(below - [0.1, 0.5, 0.9]) < 4 * sd)


def test_samples_are_reproducible():
    weights, means, variances = random_mixtures(5, 3, random_state=7)
    first = sample_mixture(weights, means, variances, 10, random_state=3)
    again = sample_mixture(weights, means, variances, 10, random_state=3)
    other = sample_mixture(weights, means, variances, 10, random_state=4)
    assert_allclose(first, again)
    assert not np.allclose(first, other)


# ---- the estimator on data with a known truth ----------------------------------


@pytest.mark.parametrize("coverage", [0.5, 0.8, 0.9, 0.95])
def test_intervals_cover_held_out_rows_as_promised(known_truth, coverage):
    moe, X_test, y_test = known_truth
    lower, upper = moe.predict_interval(X_test, coverage=coverage).T
    covered = np.mean((lower <= y_test) & (y_test <= upper))
    assert abs(covered - coverage) <= 0.02
    # Each tail holds its half of the rest.
    assert abs(np.mean(y_test < lower) - (1 - coverage) / 2) <= 0.02


def test_quantiles_are_close_to_the_true_ones(known_truth):
    moe, X_test, _ = known_truth
    fitted = moe.predict_quantiles(X_test, [0.05, 0.5, 0.95])
    truth = mixture_quantiles(*true_mixture(X_test), [0.05, 0.5, 0.95])
    # The gate is estimated, so rows far out (where it extrapolates) may
    # differ; the typical row is within a tenth of the noise sd.
    assert np.median(np.abs(fitted - truth)) < 0.1 * NOISE_SD


def test_sd_band_misses_where_the_exact_interval_holds(known_truth):
    # Rows where two experts with means 4 noise sds apart share the gate:
    # the predictive distribution has two modes.
    moe, X_test, y_test = known_truth
    gate, means, _ = true_mixture(X_test)
    order = np.argsort(-gate, axis=1)
    top_two = np.take_along_axis(means, order[:, :2], axis=1)
    bimodal = (np.take_along_axis(gate, order[:, [1]], axis=1)[:, 0] > 0.25) & (
        np.abs(top_two[:, 0] - top_two[:, 1]) > 4 * NOISE_SD
    )
    assert bimodal.sum() > 1000
    X_b, y_b = X_test[bimodal], y_test[bimodal]
    mean, std = moe.predict(X_b, return_std=True)
    for coverage, band_covers, band_too_wide in [(0.5, "under", 0), (0.9, "over", 1.1)]:
        lower, upper = moe.predict_interval(X_b, coverage=coverage).T
        z = norm.ppf(0.5 + coverage / 2)
        exact = np.mean((lower <= y_b) & (y_b <= upper))
        band = np.mean(np.abs(y_b - mean) <= z * std)
        assert abs(exact - coverage) <= 0.03  # 1,900 rows: 0.03 is 3 sds
        if band_covers == "under":
            # mean +/- 0.67 sd sits in the trough between the modes.
            assert band < coverage - 0.15
        else:
            # mean +/- 1.64 sd spans both modes and more: too wide.
            assert band > coverage + 0.03
            assert np.mean(2 * z * std) > band_too_wide * np.mean(upper - lower)


def test_bimodal_row_gives_two_modes_in_samples(two_regimes):
    moe, _, _ = two_regimes
    # On the border x = 0 the gate splits about evenly between y = 1 and y = 4.
    border = [[0.0]]
    gate = moe.gate_proba(border)[0]
    assert 0.3 < gate.min()
    modes = np.sort(moe.expert_predictions(border)[0])
    draws = moe.sample_y(border, n_samples=4000, random_state=0)[0]
    counts, edges = np.histogram(draws, bins=np.linspace(-1, 6, 29))
    centres = (edges[1:] + edges[:-1]) / 2
    peaks = [
        centres[np.argmax(np.where(np.abs(centres - m) < 1, counts, 0))] for m in modes
    ]
    assert_allclose(peaks, modes, atol=0.25)
    # Almost nothing in the trough: the mean is the least likely value.
    trough = np.abs(draws - draws.mean()) < 0.5
    assert trough.mean() < 0.01
    # Each mode gets its share of the gate.
    near_upper = np.mean(np.abs(draws - modes[1]) < 1)
    weight_upper = gate[np.argmax(moe.expert_predictions(border)[0])]
    assert abs(near_upper - weight_upper) < 4 * np.sqrt(0.25 / 4000)


def test_sample_y_shape_and_moments(two_regimes):
    moe, X, _ = two_regimes
    draws = moe.sample_y(X[:50], n_samples=3000, random_state=0)
    assert draws.shape == (50, 3000)
    assert moe.sample_y(X[:5]).shape == (5, 1)
    mean, std = moe.predict(X[:50], return_std=True)
    assert np.all(np.abs(draws.mean(axis=1) - mean) < 5 * std / np.sqrt(3000))
    # Per row the sample variance is noisy where a rare expert lies far
    # away; pooled over rows, the standardised draws have variance 1.
    standardised = (draws - mean[:, np.newaxis]) / std[:, np.newaxis]
    assert abs(np.mean(standardised**2) - 1) < 0.03


def test_one_expert_gives_the_gaussian_of_predict(two_regimes):
    _, X, y = two_regimes
    moe = MixtureOfExpertsRegressor(n_experts=1).fit(X, y)
    mean, std = moe.predict(X, return_std=True)
    expected = norm.ppf(QUANTILES, loc=mean[:, None], scale=std[:, None])
    assert_allclose(moe.predict_quantiles(X, QUANTILES), expected, rtol=1e-12)
    z = norm.ppf(0.975)
    assert_allclose(
        moe.predict_interval(X, coverage=0.95),
        np.column_stack([mean - z * std, mean + z * std]),
        rtol=1e-12,
    )


def test_one_quantile_as_a_float(two_regimes):
    moe, X, _ = two_regimes
    assert_allclose(
        moe.predict_quantiles(X[:10], 0.3), moe.predict_quantiles(X[:10], [0.3])
    )


def test_top_k_is_routed_as_in_predict(two_regimes):
    moe, X, _ = two_regimes
    moe_top1 = MixtureOfExpertsRegressor(random_state=0, top_k=1).fit(*two_regimes[1:])
    top = moe_top1.predict_expert(X)
    means = moe_top1.expert_predictions(X)[np.arange(len(X)), top]
    sd = np.sqrt(moe_top1.noise_var_[top])
    assert_allclose(moe_top1.predict(X), means)
    assert_allclose(
        moe_top1.predict_quantiles(X, [0.1, 0.9]),
        norm.ppf([0.1, 0.9], loc=means[:, None], scale=sd[:, None]),
        rtol=1e-12,
    )
    draws = moe_top1.sample_y(X, n_samples=20, random_state=0)
    assert np.all(np.abs(draws - means[:, None]) < 8 * sd[:, None])


# ---- the distribution is the one of predict and log_likelihood -----------------


@functools.cache
def _hme():
    X, y = make_linear_mixture(600, random_state=2)
    hme = MixtureOfExpertsRegressor(
        MixtureOfExpertsRegressor(n_experts=2), n_experts=2, random_state=0
    ).fit(X, y)
    return hme, X, y


@functools.cache
def _with_own_spread():
    X, y = make_linear_mixture(600, random_state=3)
    moe = MixtureOfExpertsRegressor(
        [("bayes", BayesianRidge()), ("lin", LinearRegression())], random_state=0
    ).fit(X, y)
    return moe, X, y


@functools.cache
def _flat():
    X, y = make_linear_mixture(600, random_state=4)
    return MixtureOfExpertsRegressor(n_experts=3, random_state=0).fit(X, y), X, y


@pytest.mark.parametrize("make", [_flat, _hme, _with_own_spread])
def test_one_distribution_behind_every_method(make):
    # predict's mean and std are the moments, log_likelihood the log-density,
    # of the mixture whose quantiles and samples the new methods give.
    moe, X, y = make()
    weights, means, variances = moe._predictive_mixture(X)
    assert_allclose(weights.sum(axis=1), 1.0)
    mean, var = mixture_mean_and_var(weights, means, variances)
    pred_mean, pred_std = moe.predict(X, return_std=True)
    assert_allclose(mean, pred_mean, rtol=1e-10, atol=1e-10)
    assert_allclose(np.sqrt(var), pred_std, rtol=1e-6)
    assert_allclose(
        mixture_log_pdf(y, weights, means, variances),
        moe.log_likelihood(X, y),
        rtol=1e-8,
        atol=1e-10,
    )
    quantiles = moe.predict_quantiles(X, [0.2, 0.7])
    cdf = mixture_cdf(quantiles, weights, means, variances)
    assert_allclose(cdf, np.broadcast_to([0.2, 0.7], cdf.shape), rtol=1e-8)


def test_hierarchical_mixture_is_flattened_to_its_leaves():
    hme, X, _ = _hme()
    weights, _, _ = hme._predictive_mixture(X)
    assert_allclose(weights, hme.leaf_proba(X), rtol=1e-12)


# ---- validation -----------------------------------------------------------------


@pytest.mark.parametrize(
    "quantiles, error",
    [
        (0.0, ValueError),
        (1.0, ValueError),
        ([0.5, 1.2], ValueError),
        ([-0.1, 0.5], ValueError),
        ([0.5, np.nan], ValueError),
        ([], ValueError),
        ([[0.1, 0.9]], ValueError),
        ("median", TypeError),
        ("0.5", TypeError),
        (None, TypeError),
        ([0.1, [0.5]], TypeError),
        (True, TypeError),
    ],
)
def test_bad_quantiles_are_named(two_regimes, quantiles, error):
    moe, X, _ = two_regimes
    with pytest.raises(error, match=rf"'quantiles'.*{re.escape(repr(quantiles))}"):
        moe.predict_quantiles(X, quantiles)


@pytest.mark.parametrize(
    "coverage, error",
    [
        (0.0, ValueError),
        (1.0, ValueError),
        (1.5, ValueError),
        (-0.5, ValueError),
        (np.nan, ValueError),
        ("90%", TypeError),
        (None, TypeError),
        (True, TypeError),
    ],
)
def test_bad_coverage_is_named(two_regimes, coverage, error):
    moe, X, _ = two_regimes
    with pytest.raises(error, match=rf"'coverage'.*{re.escape(repr(coverage))}"):
        moe.predict_interval(X, coverage=coverage)


@pytest.mark.parametrize(
    "n_samples, error",
    [
        (0, ValueError),
        (-3, ValueError),
        (2.5, TypeError),
        ("10", TypeError),
        (None, TypeError),
        (True, TypeError),
    ],
)
def test_bad_n_samples_is_named(two_regimes, n_samples, error):
    moe, X, _ = two_regimes
    with pytest.raises(error, match=rf"'n_samples'.*{re.escape(repr(n_samples))}"):
        moe.sample_y(X, n_samples=n_samples)


def _call(moe, method, X):
    if method == "predict_quantiles":
        return moe.predict_quantiles(X, [0.5])
    return getattr(moe, method)(X)


METHODS = ["predict_quantiles", "predict_interval", "sample_y"]


@pytest.mark.parametrize("method", METHODS)
def test_not_fitted(method):
    with pytest.raises(NotFittedError):
        _call(MixtureOfExpertsRegressor(), method, [[0.0]])


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "X", [[[0.0, 1.0]], [[np.nan]], [["a"]], np.zeros((0, 1))], ids=str
)
def test_input_is_validated_as_by_predict(two_regimes, method, X):
    moe, _, _ = two_regimes
    with pytest.raises(ValueError) as expected:
        moe.predict(X)
    with pytest.raises(type(expected.value), match=re.escape(str(expected.value))):
        _call(moe, method, X)


def test_sparse_input_gives_the_dense_answer(two_regimes):
    from scipy import sparse

    moe, X, _ = two_regimes
    assert_allclose(
        moe.predict_quantiles(sparse.csr_matrix(X[:20]), [0.1, 0.9]),
        moe.predict_quantiles(X[:20], [0.1, 0.9]),
    )


def test_dask_input_is_predicted_block_by_block(two_regimes):
    da = pytest.importorskip("dask.array")
    moe, X, _ = two_regimes
    lazy_X = da.from_array(X, chunks=100)
    quantiles = moe.predict_quantiles(lazy_X, [0.1, 0.9])
    interval = moe.predict_interval(lazy_X, coverage=0.8)
    assert isinstance(quantiles, da.Array) and isinstance(interval, da.Array)
    assert_allclose(quantiles.compute(), moe.predict_quantiles(X, [0.1, 0.9]))
    assert_allclose(interval.compute(), moe.predict_interval(X, coverage=0.8))
