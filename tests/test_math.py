"""Tests of the pure functions in skmoe._math against independent computations."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import special, stats

from skmoe._math import (
    gaussian_log_prob,
    log_responsibilities,
    log_softmax,
    logsumexp_rows,
    mean_log_likelihood,
    mixture_mean_and_var,
    noise_variances,
    weighted_mean_and_var,
)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# --------------------------------------------------------------------------
# log_softmax


def test_log_softmax_rows_exp_sum_to_one(rng):
    logits = rng.normal(scale=5.0, size=(20, 4))
    out = log_softmax(logits)
    assert out.shape == logits.shape
    assert_allclose(np.exp(out).sum(axis=1), 1.0, rtol=1e-12)


def test_log_softmax_equals_scipy(rng):
    logits = rng.normal(scale=3.0, size=(15, 5))
    assert_allclose(
        log_softmax(logits), special.log_softmax(logits, axis=1), rtol=1e-12, atol=1e-12
    )


def test_log_softmax_stable_for_huge_logits():
    logits = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [1e4, 1e4, 0.0]])
    out = log_softmax(logits)
    assert np.all(np.isfinite(out))
    assert_allclose(np.exp(out).sum(axis=1), 1.0, rtol=1e-12)
    # Exact answers: log(1) for the dominant entry, -1e4 / -2e4 for the others,
    # log(1/3) for three equal entries, log(1/2) for two tied maxima.
    expected = np.array(
        [
            [0.0, -1e4, -2e4],
            [np.log(1 / 3)] * 3,
            [np.log(0.5), np.log(0.5), -1e4 - np.log(2)],
        ]
    )
    assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    assert_allclose(out, special.log_softmax(logits, axis=1), rtol=1e-12)


# --------------------------------------------------------------------------
# log_responsibilities


def _naive_responsibilities(log_gate, log_prob):
    n, m = log_gate.shape
    resp = np.empty((n, m))
    norm = np.empty(n)
    for t in range(n):
        joint = [np.exp(log_gate[t, i]) * np.exp(log_prob[t, i]) for i in range(m)]
        total = sum(joint)
        norm[t] = np.log(total)
        for i in range(m):
            resp[t, i] = joint[i] / total
    return resp, norm


def test_log_responsibilities_matches_naive(rng):
    log_gate = special.log_softmax(rng.normal(size=(12, 3)), axis=1)
    log_prob = rng.normal(scale=2.0, size=(12, 3))
    log_resp, log_norm = log_responsibilities(log_gate, log_prob)
    resp, norm = _naive_responsibilities(log_gate, log_prob)
    assert log_resp.shape == (12, 3)
    assert log_norm.shape == (12,)
    assert_allclose(np.exp(log_resp), resp, rtol=1e-12)
    assert_allclose(log_norm, norm, rtol=1e-12)
    assert_allclose(np.exp(log_resp).sum(axis=1), 1.0, rtol=1e-12)


def test_log_norm_is_logsumexp_of_joint(rng):
    log_gate = special.log_softmax(rng.normal(size=(10, 4)), axis=1)
    log_prob = rng.normal(scale=30.0, size=(10, 4))
    _, log_norm = log_responsibilities(log_gate, log_prob)
    assert_allclose(
        log_norm, special.logsumexp(log_gate + log_prob, axis=1), rtol=1e-12
    )


def test_log_responsibilities_all_experts_very_unlikely():
    log_gate = np.log(np.array([[0.2, 0.3, 0.5], [0.5, 0.25, 0.25]]))
    log_prob = np.array([[-1e5, -1e5, -1e5], [-1e5, -1e5 - 1.0, -1e5 + 2.0]])
    log_resp, log_norm = log_responsibilities(log_gate, log_prob)
    assert np.all(np.isfinite(log_resp))
    assert np.all(np.isfinite(log_norm))
    resp = np.exp(log_resp)
    # Subtracting numbers of size 1e5 costs about 1e5 * eps ~ 2e-11 of accuracy.
    assert_allclose(resp.sum(axis=1), 1.0, rtol=1e-9)
    # Equal likelihoods: the posterior equals the prior.
    assert_allclose(resp[0], [0.2, 0.3, 0.5], rtol=1e-9)
    # Shifting every log-likelihood of a row by a constant leaves the posterior.
    shifted = log_prob[1] + 1e5
    expected = np.exp(log_gate[1] + shifted) / np.exp(log_gate[1] + shifted).sum()
    assert_allclose(resp[1], expected, rtol=1e-9)
    assert_allclose(log_norm[0], -1e5, rtol=1e-14)


# --------------------------------------------------------------------------
# mean_log_likelihood


def test_mean_log_likelihood_unit_weights_is_mean(rng):
    log_norm = rng.normal(size=9)
    assert_allclose(
        mean_log_likelihood(log_norm, np.ones(9)), np.mean(log_norm), rtol=1e-12
    )


def test_mean_log_likelihood_integer_weights_equal_repeated_rows(rng):
    log_norm = rng.normal(size=8)
    weights = np.array([1, 3, 2, 1, 4, 1, 2, 5])
    repeated = np.repeat(log_norm, weights)
    result = mean_log_likelihood(log_norm, weights.astype(float))
    assert isinstance(result, float)
    assert_allclose(result, np.mean(repeated), rtol=1e-12)
    # Scaling all weights changes nothing: the mean is per unit weight.
    assert_allclose(
        mean_log_likelihood(log_norm, 7.5 * weights.astype(float)), result, rtol=1e-12
    )


def test_mean_log_likelihood_ignores_zero_weight_rows(rng):
    log_norm = rng.normal(size=10)
    weights = rng.uniform(0.5, 2.0, size=10)
    weights[[2, 5, 7]] = 0.0
    keep = weights > 0
    expected = np.sum(weights[keep] * log_norm[keep]) / np.sum(weights[keep])
    assert_allclose(mean_log_likelihood(log_norm, weights), expected, rtol=1e-12)
    # Whatever a zero-weight row holds does not matter.
    changed = log_norm.copy()
    changed[[2, 5, 7]] = [-1e3, 5e2, 42.0]
    assert_allclose(mean_log_likelihood(changed, weights), expected, rtol=1e-12)


# --------------------------------------------------------------------------
# weighted_mean_and_var


def test_weighted_mean_and_var_1d_matches_np_average(rng):
    values = rng.normal(size=30)
    weights = rng.uniform(0.1, 3.0, size=30)
    mean, var = weighted_mean_and_var(values, weights)
    expected_mean = np.average(values, weights=weights)
    expected_var = np.average((values - expected_mean) ** 2, weights=weights)
    assert np.ndim(mean) == 0
    assert np.ndim(var) == 0
    assert_allclose(mean, expected_mean, rtol=1e-12)
    assert_allclose(var, expected_var, rtol=1e-12)


def test_weighted_mean_and_var_2d_matches_np_average(rng):
    values = rng.normal(loc=[1.0, -2.0, 10.0], scale=[1.0, 0.1, 5.0], size=(25, 3))
    weights = rng.uniform(0.1, 3.0, size=25)
    mean, var = weighted_mean_and_var(values, weights)
    assert mean.shape == (3,)
    assert var.shape == (3,)
    for j in range(3):
        m = np.average(values[:, j], weights=weights)
        v = np.average((values[:, j] - m) ** 2, weights=weights)
        assert_allclose(mean[j], m, rtol=1e-12)
        assert_allclose(var[j], v, rtol=1e-12)


@pytest.mark.parametrize("shape", [(12,), (12, 2)])
def test_weighted_mean_and_var_integer_weights_equal_repeated_rows(rng, shape):
    values = rng.normal(size=shape)
    weights = rng.integers(1, 5, size=12)
    mean, var = weighted_mean_and_var(values, weights.astype(float))
    repeated = np.repeat(values, weights, axis=0)
    assert_allclose(mean, repeated.mean(axis=0), rtol=1e-12)
    # Biased (ddof=0) variance.
    assert_allclose(var, repeated.var(axis=0), rtol=1e-12)


# --------------------------------------------------------------------------
# noise_variances


def test_noise_variances_weighted_mean_squared_residual(rng):
    residuals = rng.normal(scale=[0.5, 2.0, 1.0], size=(40, 3))
    weights = rng.uniform(0.0, 1.0, size=(40, 3))
    var = noise_variances(residuals, weights, floor=1e-12)
    assert var.shape == (3,)
    for i in range(3):
        expected = sum(weights[t, i] * residuals[t, i] ** 2 for t in range(40))
        expected /= sum(weights[t, i] for t in range(40))
        assert_allclose(var[i], expected, rtol=1e-12)


def test_noise_variances_floor_applied(rng):
    residuals = np.column_stack([np.full(10, 1e-4), rng.normal(size=10)])
    weights = np.ones((10, 2))
    floor = 1e-3
    var = noise_variances(residuals, weights, floor=floor)
    # 1e-8 is below the floor; the second expert's variance is not.
    assert var[0] == floor
    assert_allclose(var[1], np.mean(residuals[:, 1] ** 2), rtol=1e-12)
    assert var[1] > floor


def test_noise_variances_zero_weight_expert_gets_floor(rng):
    residuals = rng.normal(size=(10, 3))
    weights = rng.uniform(0.1, 1.0, size=(10, 3))
    weights[:, 1] = 0.0
    floor = 0.25
    with np.errstate(all="raise"):
        var = noise_variances(residuals, weights, floor=floor)
    assert not np.any(np.isnan(var))
    assert var[1] == floor
    for i in (0, 2):
        expected = np.average(residuals[:, i] ** 2, weights=weights[:, i])
        assert_allclose(var[i], max(expected, floor), rtol=1e-12)


# --------------------------------------------------------------------------
# gaussian_log_prob


def test_gaussian_log_prob_matches_scipy_with_per_expert_var(rng):
    y = rng.normal(size=15)
    mean = rng.normal(size=(15, 3))
    var = np.array([0.3, 1.0, 4.0])
    out = gaussian_log_prob(y, mean, var)
    assert out.shape == (15, 3)
    for t in range(15):
        for i in range(3):
            expected = stats.norm.logpdf(y[t], loc=mean[t, i], scale=np.sqrt(var[i]))
            assert_allclose(out[t, i], expected, rtol=1e-12)


def test_gaussian_log_prob_matches_scipy_with_per_row_var(rng):
    y = rng.normal(size=15)
    mean = rng.normal(size=(15, 2))
    var = rng.uniform(0.1, 3.0, size=(15, 2))
    out = gaussian_log_prob(y, mean, var)
    expected = stats.norm.logpdf(y[:, None], loc=mean, scale=np.sqrt(var))
    assert_allclose(out, expected, rtol=1e-12)


# --------------------------------------------------------------------------
# mixture_mean_and_var


def _total_variance_loops(gate, mean, var):
    n, m = gate.shape
    var = np.broadcast_to(var, (n, m))
    mix_mean = np.zeros(n)
    mix_var = np.zeros(n)
    for t in range(n):
        mu = sum(gate[t, i] * mean[t, i] for i in range(m))
        # E[Var] + Var[E]
        within = sum(gate[t, i] * var[t, i] for i in range(m))
        between = sum(gate[t, i] * (mean[t, i] - mu) ** 2 for i in range(m))
        mix_mean[t] = mu
        mix_var[t] = within + between
    return mix_mean, mix_var


@pytest.mark.parametrize("per_row_var", [False, True])
def test_mixture_mean_and_var_law_of_total_variance(rng, per_row_var):
    gate = special.softmax(rng.normal(size=(10, 3)), axis=1)
    mean = rng.normal(scale=3.0, size=(10, 3))
    var = (
        rng.uniform(0.1, 2.0, size=(10, 3))
        if per_row_var
        else np.array([0.5, 1.0, 2.0])
    )
    mix_mean, mix_var = mixture_mean_and_var(gate, mean, var)
    expected_mean, expected_var = _total_variance_loops(gate, mean, var)
    assert mix_mean.shape == (10,)
    assert mix_var.shape == (10,)
    assert_allclose(mix_mean, expected_mean, rtol=1e-12)
    assert_allclose(mix_var, expected_var, rtol=1e-12)


def test_mixture_mean_and_var_monte_carlo():
    rng = np.random.default_rng(1)
    gate = np.array([[0.2, 0.5, 0.3]])
    mean = np.array([[-3.0, 0.0, 4.0]])
    var = np.array([0.5, 1.0, 2.0])
    n_draws = 400_000
    expert = rng.choice(3, size=n_draws, p=gate[0])
    draws = rng.normal(mean[0, expert], np.sqrt(var[expert]))
    mix_mean, mix_var = mixture_mean_and_var(gate, mean, var)
    # Standard errors: sd / sqrt(N) ~ 0.005 for the mean, ~0.03 for the variance.
    assert_allclose(mix_mean[0], draws.mean(), atol=0.03)
    assert_allclose(mix_var[0], draws.var(), rtol=0.01)


def test_mixture_mean_and_var_single_expert(rng):
    mean = rng.normal(size=(7, 1))
    var = rng.uniform(0.1, 2.0, size=(7, 1))
    mix_mean, mix_var = mixture_mean_and_var(np.ones((7, 1)), mean, var)
    assert_allclose(mix_mean, mean[:, 0], rtol=1e-12)
    assert_allclose(mix_var, var[:, 0], rtol=1e-12)
    mix_mean, mix_var = mixture_mean_and_var(np.ones((7, 1)), mean, np.array([0.7]))
    assert_allclose(mix_mean, mean[:, 0], rtol=1e-12)
    assert_allclose(mix_var, 0.7, rtol=1e-12)


def test_logsumexp_rows_matches_scipy_and_handles_minus_inf(rng):
    values = rng.standard_normal((20, 4)) * 300
    assert_allclose(logsumexp_rows(values), special.logsumexp(values, axis=1))
    values[3] = -np.inf
    values[5, :2] = -np.inf
    result = logsumexp_rows(values)
    assert result[3] == -np.inf
    assert_allclose(result[5], special.logsumexp(values[5]))


@pytest.mark.parametrize("n_columns", [1, 2, 3, 7, 8, 12])
@pytest.mark.parametrize("order", ["C", "F"])
def test_logsumexp_rows_is_the_max_shift_formula_to_the_bit(rng, n_columns, order):
    # Few columns are reduced one column at a time (numpy's row reduction is
    # slow on short rows); that must add in numpy's own order.
    values = np.asarray(rng.standard_normal((700, n_columns)) * 50, order=order)
    values[rng.random(values.shape) < 0.1] = -np.inf
    values[0] = -np.inf
    values[1, 0] = np.inf
    shift = values.max(axis=1, keepdims=True)
    shift[~np.isfinite(shift)] = 0.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        expected = np.log(np.exp(values - shift).sum(axis=1)) + shift[:, 0]
        result = logsumexp_rows(values)
    np.testing.assert_array_equal(result, expected)
    assert result[0] == -np.inf and result[1] == np.inf
