"""A fit says when EM probably went wrong, and what to try."""

import warnings

import numpy as np
import pytest

from skmoe import LocalOptimumWarning, MixtureOfExpertsRegressor
from skmoe._diagnostics import dead_experts, restart_spread, small_experts


def test_small_experts_are_named_with_their_share():
    shares = np.array([0.49, 0.49, 0.02])
    message = small_experts(["a", "b", "c"], shares, min_expert_weight=1e-3)
    assert message.startswith("Experts ['c'] hold only 2.0% of the rows")
    assert "more starts (n_init)" in message
    # Dead experts are another warning's business; fair shares say nothing.
    assert small_experts(["a", "b", "c"], shares, min_expert_weight=0.05) is None
    assert small_experts(["a", "b"], np.array([0.9, 0.1]), 1e-3) is None


def test_restart_spread_needs_different_optima():
    assert restart_spread([-1.0]) is None
    assert restart_spread([-1.0, -1.005]) is None
    assert "span -1.159 to 0.924" in restart_spread([-1.136, 0.924, -1.159])


def test_dead_experts_say_what_was_done():
    message = dead_experts(["a", "b"], np.array([0.9995, 0.0005]), 1e-3, "keep")
    assert "['b']" in message and "dead_expert='keep'" in message
    assert dead_experts(["a", "b"], np.array([0.5, 0.5]), 1e-3, "keep") is None


def caught(fit):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fit()
    return [w for w in record if w.category is LocalOptimumWarning]


@pytest.fixture(scope="module")
def xor_of_slopes():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(400, 2))
    y = np.where(X[:, 0] < 0, 2 * X[:, 1], -2 * X[:, 1])
    return X, y + 0.1 * rng.standard_normal(400)


def test_starts_in_different_optima_warn(xor_of_slopes):
    X, y = xor_of_slopes
    # k-means on x alone: the starts split the square in different directions.
    # Every start runs to convergence: the warning compares finished starts.
    moe = MixtureOfExpertsRegressor(
        n_experts=2, init_params="kmeans", n_init=4, init_max_iter=None, random_state=1
    )
    (warning,) = caught(lambda: moe.fit(X, y))
    assert "4 starts ended in different optima" in str(warning.message)
    assert moe.log_likelihood_ == max(c[-1] for c in moe.start_log_likelihoods_)


def test_starts_left_after_their_short_run_are_not_compared(xor_of_slopes):
    X, y = xor_of_slopes
    kw = dict(n_experts=2, init_params="kmeans", n_init=4, random_state=1)
    # The same starts as above, left after two iterations: they have not
    # reached their optima, so their log-likelihoods say nothing of them.
    moe = MixtureOfExpertsRegressor(init_max_iter=2, **kw)
    assert caught(lambda: moe.fit(X, y)) == []
    assert sum(len(c) == 2 for c in moe.start_log_likelihoods_) == 3
    # Given room to settle within their short runs, they are compared.
    (warning,) = caught(lambda: moe.set_params(init_max_iter=500).fit(X, y))
    assert "4 starts ended in different optima" in str(warning.message)


def test_a_start_that_leaves_an_expert_tiny_warns(xor_of_slopes):
    X, y = xor_of_slopes
    start = np.tile([0.495, 0.495, 0.01], (len(X), 1))
    moe = MixtureOfExpertsRegressor(n_experts=3, max_iter=2, tol=1e9)
    (warning,) = caught(lambda: moe.fit(X, y, init_resp=start))
    assert "of a fair share (33%)" in str(warning.message)


def test_a_good_fit_does_not_warn(xor_of_slopes):
    X, y = xor_of_slopes
    # One start that finds the regimes: no expert is small (restarts that
    # disagree warn on their own, tested above).
    moe = MixtureOfExpertsRegressor(n_experts=2, n_init=1, random_state=2)
    assert caught(lambda: moe.fit(X, y)) == []
    assert moe.score(X, y) > 0.95
