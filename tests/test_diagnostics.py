"""A fit says when EM probably went wrong, and what to try."""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from skmoe import DeadExpertWarning, LocalOptimumWarning, MixtureOfExpertsRegressor
from skmoe._diagnostics import dead_experts, restart_spread, small_experts


def test_small_experts_are_named_with_their_share():
    shares = np.array([0.49, 0.49, 0.02])
    message = small_experts(["a", "b", "c"], shares, min_expert_weight=1e-3)
    assert message.startswith("Experts ['c'] hold only 2.0% of the rows")
    assert "more starts (n_init)" in message
    # Dead experts are another warning's business; fair shares say nothing.
    assert small_experts(["a", "b", "c"], shares, min_expert_weight=0.05) is None
    assert small_experts(["a", "b"], np.array([0.9, 0.1]), 1e-3) is None


def test_restart_spread_needs_different_optima_and_a_best_reached_once():
    assert restart_spread([-1.0]) is None
    assert restart_spread([-1.0, -1.005]) is None
    assert "span -1.159 to 0.924" in restart_spread([-1.136, 0.924, -1.159])
    # A best that another start reached too is replicated: nothing to say.
    assert restart_spread([-1.136, 0.924, 0.92]) is None


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
        n_experts=2, init_params="kmeans", n_init=2, init_max_iter=None, random_state=1
    )
    (warning,) = caught(lambda: moe.fit(X, y))
    assert "2 starts ended in different optima" in str(warning.message)
    assert moe.log_likelihood_ == max(c[-1] for c in moe.start_log_likelihoods_)


def test_starts_that_replicate_the_best_optimum_do_not_warn(xor_of_slopes):
    # Two of four starts reach the best: it is replicated, and the two in
    # a poorer optimum say nothing about the fit kept. (Classifiers warned
    # on 40 of 49 correct fits, with the same span at 3, 10 or 30 starts.)
    X, y = xor_of_slopes
    moe = MixtureOfExpertsRegressor(
        n_experts=2, init_params="kmeans", n_init=4, init_max_iter=None, random_state=1
    )
    assert caught(lambda: moe.fit(X, y)) == []
    finals = sorted(c[-1] for c in moe.start_log_likelihoods_)
    assert finals[-1] - finals[0] > 1.0  # different optima
    assert finals[-1] - finals[-2] < 0.01  # the best reached twice


def test_starts_left_after_their_short_run_are_not_compared(xor_of_slopes):
    X, y = xor_of_slopes
    kw = dict(n_experts=2, init_params="kmeans", n_init=2, random_state=1)
    # The same starts as above, left after two iterations: they have not
    # reached their optima, so their log-likelihoods say nothing of them.
    moe = MixtureOfExpertsRegressor(init_max_iter=2, **kw)
    assert caught(lambda: moe.fit(X, y)) == []
    assert sum(len(c) == 2 for c in moe.start_log_likelihoods_) == 1
    # Given room to settle within their short runs, they are compared.
    (warning,) = caught(lambda: moe.set_params(init_max_iter=500).fit(X, y))
    assert "2 starts ended in different optima" in str(warning.message)


def test_a_start_that_leaves_an_expert_tiny_warns(xor_of_slopes):
    X, y = xor_of_slopes
    start = np.tile([0.495, 0.495, 0.01], (len(X), 1))
    moe = MixtureOfExpertsRegressor(n_experts=3, max_iter=2, tol=1e9)
    (warning,) = caught(lambda: moe.fit(X, y, init_resp=start))
    assert "of a fair share (33%)" in str(warning.message)
    # More starts cannot help a fit from init_resp: it makes one start. The
    # advice was n_init or init_params, which it ignores.
    assert "init_resp makes one start" in str(warning.message)
    assert "more starts (n_init)" not in str(warning.message)


def test_a_good_fit_does_not_warn(xor_of_slopes):
    X, y = xor_of_slopes
    # One start that finds the regimes: no expert is small (restarts that
    # disagree warn on their own, tested above).
    moe = MixtureOfExpertsRegressor(n_experts=2, n_init=1, random_state=2)
    assert caught(lambda: moe.fit(X, y)) == []
    assert moe.score(X, y) > 0.95


def two_lines(n, seed):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-3, 3, size=(n, 2))
    left = X[:, 0] < 0
    y = np.where(left, 1 + 2 * X[:, 0] - X[:, 1], -2 - X[:, 0] + 2 * X[:, 1])
    return X, y + 0.3 * rng.standard_normal(n)


def dead_warnings(fit):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fit()
    return [str(w.message) for w in record if w.category is DeadExpertWarning]


def test_re_seeds_are_said_of_the_kept_start_under_its_final_names():
    """Each start warned of its own re-seeds as it ran, under the names it
    gave its experts then: a discarded start's re-seeds were said of a fit
    that had none, and a kept expert renamed when the experts were sorted
    was named as another."""
    X, y = two_lines(1000, 3)
    moe = MixtureOfExpertsRegressor(n_experts=6, random_state=3)
    said = dead_warnings(lambda: moe.fit(X, y))
    named = [
        name for message in said for name in moe._expert_names if f"'{name}'" in message
    ]
    assert sorted(named) == sorted(
        name for name, count in moe._reseeds.items() for _ in range(count)
    )
    # A start's re-seed of its first expert is said of the name it ends with.
    start = np.full((1000, 3), 1e-12)
    start[:500, 1] = start[500:, 2] = 1
    moe = MixtureOfExpertsRegressor(n_experts=3, random_state=0)
    (message,) = dead_warnings(lambda: moe.fit(X, y, init_resp=start))
    (name,) = moe._reseeds
    assert f"Experts ['{name}'] received less than" in message


@pytest.mark.parametrize("policy", ["reseed", "prune"])
def test_an_expert_that_dies_at_the_last_iteration_is_said_to_have_died_too_late(
    policy,
):
    # No E-step follows the last iteration, so nothing was re-seeded or
    # pruned; the warning said "still dead after re-seeding. Consider fewer
    # experts", where raising max_iter is the remedy.
    X, y = two_lines(1000, 0)
    start = np.full((1000, 3), 1e-12)
    start[:500, 0] = start[500:, 1] = 1
    moe = MixtureOfExpertsRegressor(n_experts=3, max_iter=1, dead_expert=policy)
    (message,) = dead_warnings(lambda: moe.fit(X, y, init_resp=start))
    verb = "re-seed" if policy == "reseed" else "prune"
    assert f"at the last iteration, too late to {verb} them" in message
    assert "Raise max_iter" in message and "fewer experts" not in message


def test_a_nested_mixture_that_pruned_experts_says_so():
    # A child's prunes were said neither mid-fit nor at the end.
    X, y = two_lines(800, 0)
    child = MixtureOfExpertsRegressor(
        n_experts=3, dead_expert="prune", min_expert_weight=0.3, random_state=0
    )
    moe = MixtureOfExpertsRegressor(
        [("a", child), ("b", LinearRegression())], random_state=0
    )
    said = dead_warnings(lambda: moe.fit(X, y))
    n_left = len(moe.named_experts_.a.experts_)
    assert n_left < 3
    assert f"{3 - n_left} of the 3 experts of 'a'" in " ".join(said)
