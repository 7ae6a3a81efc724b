"""MixtureOfExpertsRegressor: recovery of a known mixture and its predictions."""

import itertools
import warnings

import numpy as np
import pytest
from _data import (
    EXPERT_COEF,
    GATE_COEF,
    make_hard_regimes,
    make_linear_mixture,
    true_log_likelihood,
)
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.tree import DecisionTreeRegressor

from skmoe import (
    DegenerateFitWarning,
    MixtureOfExpertsClassifier,
    MixtureOfExpertsRegressor,
    SoftmaxGate,
)
from skmoe._noise import nn_noise_variance


@pytest.fixture(scope="module")
def recovery_fit():
    X, y = make_linear_mixture(3000, random_state=0)
    moe = MixtureOfExpertsRegressor(n_experts=3, random_state=0).fit(X, y)
    return moe


def test_recovers_expert_coefficients(recovery_fit):
    fitted = np.array([[e.intercept_, *e.coef_] for e in recovery_fit.experts_])
    errors = [
        np.abs(fitted[list(perm)] - EXPERT_COEF).max()
        for perm in itertools.permutations(range(3))
    ]
    assert min(errors) < 0.1


def test_recovers_noise_variance(recovery_fit):
    assert_allclose(recovery_fit.noise_var_, 0.25, rtol=0.15)


def test_held_out_log_likelihood_close_to_truth(recovery_fit):
    X_test, y_test = make_linear_mixture(20000, random_state=1)
    fitted = recovery_fit.log_likelihood(X_test, y_test).mean()
    truth = true_log_likelihood(X_test, y_test).mean()
    assert abs(fitted - truth) < 0.01


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("init_params", ["kmeans", "kmeans_xy", "random"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_log_likelihood_never_decreases_with_linear_experts(init_params, seed):
    X, y = make_linear_mixture(1000, random_state=seed)
    moe = MixtureOfExpertsRegressor(
        n_experts=3,
        init_params=init_params,
        tol=1e-10,
        max_iter=60,
        random_state=seed,
    ).fit(X, y)
    curve = moe.log_likelihoods_
    assert len(curve) > 5
    assert np.all(np.diff(curve) >= -1e-8 * np.abs(curve[1:]))


@pytest.mark.parametrize(
    "expert", [LinearRegression(), Ridge(alpha=3.0), DecisionTreeRegressor(max_depth=3)]
)
def test_one_expert_is_that_expert_alone(expert):
    X, y = make_linear_mixture(300, random_state=0)
    # Plain EM: cross-fitting would measure the noise out of fold.
    moe = MixtureOfExpertsRegressor(
        expert, n_experts=1, crossfit=False, random_state=0
    ).fit(X, y)
    alone = expert.set_params(
        **(
            {"random_state": moe.experts_[0].random_state}
            if "random_state" in expert.get_params()
            else {}
        )
    ).fit(X, y)
    assert_allclose(moe.predict(X), alone.predict(X), rtol=1e-10, atol=1e-10)
    residual_var = np.mean((y - alone.predict(X)) ** 2)
    assert_allclose(moe.noise_var_, [residual_var], rtol=1e-10)
    assert_allclose(moe.gate_proba(X), 1.0)


@pytest.mark.parametrize(
    "Mixture", [MixtureOfExpertsRegressor, MixtureOfExpertsClassifier]
)
def test_a_lone_randomised_expert_is_that_estimator_fitted_once(Mixture):
    # Its own random_state is kept and it gets no unit sample_weight (with
    # which a forest draws other bootstraps); one fit, no restarts to warn of.
    X, y = make_linear_mixture(300, random_state=0)
    if Mixture is MixtureOfExpertsClassifier:
        y = (y > np.median(y)).astype(int)
        expert = RandomForestClassifier(n_estimators=5, random_state=3)
    else:
        expert = RandomForestRegressor(n_estimators=5, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        moe = Mixture(expert, n_experts=1, random_state=0).fit(X, y)
    alone = clone(expert).fit(X, y)
    method = "predict_proba" if Mixture is MixtureOfExpertsClassifier else "predict"
    assert_array_equal(getattr(moe, method)(X), getattr(alone, method)(X))
    assert len(moe.start_log_likelihoods_) == 1


def test_prediction_is_gate_weighted_mean_of_experts(recovery_fit):
    X, _ = make_linear_mixture(50, random_state=3)
    gate = recovery_fit.gate_proba(X)
    experts = recovery_fit.expert_predictions(X)
    assert experts.shape == (50, 3)
    assert_allclose(gate.sum(axis=1), 1.0)
    assert_allclose(recovery_fit.predict(X), (gate * experts).sum(axis=1))


def test_return_std_is_the_mixture_spread(recovery_fit):
    X, _ = make_linear_mixture(50, random_state=3)
    gate = recovery_fit.gate_proba(X)
    mu = recovery_fit.expert_predictions(X)
    mean, std = recovery_fit.predict(X, return_std=True)
    # Second moment of the mixture minus the squared mean, written out.
    second = (gate * (recovery_fit.noise_var_ + mu**2)).sum(axis=1)
    assert_allclose(std, np.sqrt(second - mean**2), rtol=1e-10)
    assert np.all(std >= np.sqrt(recovery_fit.noise_var_.min()) - 1e-12)


def test_prediction_interval_covers_held_out_rows(recovery_fit):
    X, y = make_linear_mixture(5000, random_state=4)
    mean, std = recovery_fit.predict(X, return_std=True)
    coverage = np.mean(np.abs(y - mean) <= 2 * std)
    assert coverage > 0.9


def test_integer_sample_weight_equals_repeated_rows():
    X, y = make_linear_mixture(200, random_state=5)
    weight = np.random.RandomState(0).randint(0, 4, size=len(y))
    repeat = np.repeat(np.arange(len(y)), weight)
    shuffle = np.random.RandomState(1).permutation(len(repeat))
    params = dict(n_experts=3, random_state=0, tol=1e-8)
    weighted = MixtureOfExpertsRegressor(**params).fit(X, y, sample_weight=weight)
    repeated = MixtureOfExpertsRegressor(**params).fit(
        X[repeat][shuffle], y[repeat][shuffle]
    )
    assert weighted.n_iter_ == repeated.n_iter_
    assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-7, atol=1e-9)
    assert_allclose(weighted.log_likelihood_, repeated.log_likelihood_, rtol=1e-9)


def test_default_gate_keeps_sharp_regimes_sharp():
    X, y = make_hard_regimes(4000, random_state=0)
    X_test, y_test = make_hard_regimes(20000, random_state=1)
    params = dict(n_experts=4, n_init=3, max_iter=300, random_state=0)
    default = MixtureOfExpertsRegressor(**params).fit(X, y)
    tiny = MixtureOfExpertsRegressor(gate=SoftmaxGate(alpha=1e-9), **params).fit(X, y)
    held_out = default.log_likelihood(X_test, y_test).mean()
    assert held_out > tiny.log_likelihood(X_test, y_test).mean() - 0.01
    assert np.all(np.isfinite(default.gate_.coef_))
    # The gate is confident away from the boundaries.
    far = np.all(np.abs(X_test) > 0.3, axis=1)
    assert np.mean(default.gate_proba(X_test[far]).max(axis=1) > 0.99) > 0.95


def test_noise_variance_floor_stops_collapse():
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(60, 1))
    y = rng.standard_normal(60)
    # Deep trees fit their rows exactly; without a floor the variance is 0.
    moe = MixtureOfExpertsRegressor(
        DecisionTreeRegressor(), n_experts=2, crossfit=False, random_state=0
    ).fit(X, y)
    noise = nn_noise_variance(X, y, np.ones(len(y)))
    assert_allclose(moe.noise_var_.min(), moe.reg_var * noise, rtol=1e-6)
    assert np.isfinite(moe.log_likelihood_)


@pytest.mark.parametrize("shift", [0.0, 10.0])
def test_a_noise_free_target_of_any_mean_settles_at_the_rounding_floor(shift):
    # The floor's last resort is the rounding error of y's values. Scaled by
    # y's mean alone it was ~1e-34 for a mean of 0: exact residuals then
    # moved the log-likelihood by nats per iteration until max_iter.
    X = np.random.RandomState(0).standard_normal((100, 2))
    y = X[:, 0] + shift
    with pytest.warns(DegenerateFitWarning, match="y looks noise-free"):
        moe = MixtureOfExpertsRegressor(n_experts=2, random_state=0).fit(X, y)
    assert moe.converged_ and moe.n_iter_ < 50
    eps = np.finfo(np.float64).eps
    assert moe.noise_var_.min() >= (len(y) * eps) ** 2 * np.mean(y**2) * (1 - 1e-9)


class HeavyTailedExpert(LinearRegression):
    """A linear expert that reports a Laplace likelihood of its own."""

    def log_likelihood(self, X, y):
        return -np.abs(y - self.predict(X)) - np.log(2.0)


def test_expert_reporting_its_own_likelihood_is_trusted():
    X, y = make_linear_mixture(400, random_state=6)
    moe = MixtureOfExpertsRegressor(
        [("laplace", HeavyTailedExpert()), ("gauss", LinearRegression())],
        random_state=0,
    ).fit(X, y)
    laplace, gauss = moe.experts_
    log_gate = np.log(moe.gate_proba(X))
    own = laplace.log_likelihood(X, y)
    normal = -0.5 * (
        np.log(2 * np.pi * moe.noise_var_[1])
        + (y - gauss.predict(X)) ** 2 / moe.noise_var_[1]
    )
    expected = np.logaddexp(log_gate[:, 0] + own, log_gate[:, 1] + normal)
    assert_allclose(moe.log_likelihood(X, y), expected, rtol=1e-10)


def test_predict_expert_finds_the_true_regimes(recovery_fit):
    X, _ = make_linear_mixture(5000, random_state=7)
    true_gate = np.exp(X @ GATE_COEF)
    true_gate /= true_gate.sum(axis=1, keepdims=True)
    confident = true_gate.max(axis=1) > 0.9
    true_expert = true_gate.argmax(axis=1)[confident]
    found = recovery_fit.predict_expert(X[confident])
    assert_array_equal(found, recovery_fit.gate_proba(X[confident]).argmax(axis=1))
    # Experts come back in their own order: match each fitted expert to the
    # true regime it most often claims, then count agreement.
    mapping = {k: np.bincount(true_expert[found == k]).argmax() for k in range(3)}
    agreement = np.mean([mapping[k] for k in found] == true_expert)
    assert len(set(mapping.values())) == 3
    assert agreement > 0.95
