"""SQUAREM: the same optimum as plain EM, in fewer iterations, never below
plain EM's path."""

import warnings

import numpy as np
import pytest
from _data import curves_differ, make_linear_mixture
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.tree import DecisionTreeRegressor

from skmoe import MixtureOfExpertsRegressor
from skmoe._acceleration import AUTO_DELAY, Squarem, project, squarem_step


def test_a_step_of_minus_one_is_the_second_em_step():
    rng = np.random.RandomState(0)
    R0, R1, R2 = (project(rng.rand(20, 3)) for _ in range(3))
    R, alpha = squarem_step(R0, R1, R2, step_max=1.0)
    assert alpha == -1.0
    assert R is R2


def test_a_linear_map_is_solved_by_one_jump():
    # EM near an optimum is a linear contraction; along one direction SQUAREM
    # jumps to its fixed point exactly.
    fixed = project(np.random.RandomState(0).rand(10, 2))
    direction = np.tile([0.1, -0.1], (10, 1))
    R0 = fixed + direction
    R1 = fixed + 0.5 * direction
    R2 = fixed + 0.25 * direction
    R, alpha = squarem_step(R0, R1, R2, step_max=100.0)
    assert alpha == pytest.approx(-2.0)
    assert_allclose(R, fixed, atol=1e-12)


def test_jumps_are_projected_onto_responsibilities():
    R0 = np.array([[0.5, 0.5], [0.9, 0.1]])
    R1 = np.array([[0.3, 0.7], [0.95, 0.05]])
    R2 = np.array([[0.2, 0.8], [0.97, 0.03]])
    R, _ = squarem_step(R0, R1, R2, step_max=50.0)
    assert np.all(R > 0)
    assert_allclose(R.sum(axis=1), 1.0)


def test_a_rejected_jump_falls_back_to_the_plain_step():
    fixed = project(np.random.RandomState(0).rand(5, 2))
    R0, R1, R2 = (
        fixed + step * np.tile([0.1, -0.1], (5, 1)) for step in (1, 0.5, 0.25)
    )
    squarem = Squarem()
    squarem.step_max = 8.0
    squarem.restart(R0)
    squarem.next_resp(R1, -1.0, can_jump=True)
    jump = squarem.next_resp(R2, -0.5, can_jump=True)
    assert jump is not R2
    assert squarem.judge(-0.6) is False  # worse than R2's step
    assert squarem.fallback() is R2
    assert squarem.step_max == 2.0


def test_a_rejection_is_false_itself_for_numpy_floats():
    # EM asks `judge(...) is False`: numpy's False is not False, and a
    # rejected jump taken for a kept one would never fall back.
    R0, R1, R2 = (
        np.full((3, 2), 0.5) + d * np.array([0.1, -0.1]) for d in (1, 0.5, 0.25)
    )
    squarem = Squarem()
    squarem.step_max = 8.0
    squarem.restart(R0)
    squarem.next_resp(R1, np.float64(-1.0), can_jump=True)
    squarem.next_resp(R2, np.float64(-0.5), can_jump=True)
    assert squarem.judge(np.float64(-0.6)) is False


def test_steps_within_the_delay_are_not_used():
    rng = np.random.RandomState(0)
    R = [project(rng.rand(6, 2)) for _ in range(5)]
    squarem = Squarem(delay=2)
    for n_iter in (1, 2):
        assert squarem.next_resp(R[n_iter - 1], -1.0, True, n_iter) is R[n_iter - 1]
    squarem.restart(R[1], n_iter=2)  # a re-seed inside the delay
    assert squarem.cycle == []
    assert squarem.next_resp(R[2], -1.0, True, n_iter=3) is R[2]
    assert squarem.next_resp(R[3], -1.0, True, n_iter=4) is R[3]
    # The first jump extrapolates from steps 3, 4 and 5 only.
    jump = squarem.next_resp(R[4], -1.0, True, n_iter=5)
    expected, _ = squarem_step(R[2], R[3], R[4], squarem.step_max)
    assert_allclose(jump, expected)


def test_a_weighted_row_counts_as_repeated_rows_in_the_step_length():
    # Rows contracting towards a fixed point at different rates, so that the
    # step length depends on how much each row counts.
    fixed = project(np.random.RandomState(0).rand(4, 3))
    direction = np.array([[0.1, -0.05, -0.05]] * 4)
    rate = np.array([[0.9], [0.2], [0.5], [0.7]])
    R0, R1, R2 = (fixed + rate**k * direction for k in range(3))
    weight = np.array([2.0, 0.0, 1.0, 1.0])
    repeat = [0, 0, 2, 3]
    weighted, alpha = squarem_step(R0, R1, R2, 50.0, weight)
    repeated, same = squarem_step(R0[repeat], R1[repeat], R2[repeat], 50.0)
    assert alpha == pytest.approx(same, rel=1e-12)
    assert alpha != pytest.approx(squarem_step(R0, R1, R2, 50.0)[1], rel=1e-3)
    assert_allclose(weighted[repeat], repeated, rtol=1e-12)


def fit(acceleration, tol, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MixtureOfExpertsRegressor(
            tol=tol, max_iter=3000, acceleration=acceleration, random_state=0, **params
        ).fit(X, y)


@pytest.fixture(scope="module")
def too_many_experts():
    # Five experts for three regimes: the spare ones share regimes along a
    # flat ridge of the likelihood, where plain EM crawls.
    return make_linear_mixture(1500, random_state=0)


def test_squarem_ends_as_high_as_plain_em_in_fewer_iterations(too_many_experts):
    X, y = too_many_experts
    plain = fit(None, 1e-6, X, y, n_experts=5, n_init=1)
    fast = fit("squarem", 1e-6, X, y, n_experts=5, n_init=1)
    assert fast.n_iter_ * 2.5 <= plain.n_iter_
    assert fast.log_likelihood_ >= plain.log_likelihood_ - 1e-6


@pytest.mark.parametrize("seed", [0, 1])
def test_accepted_steps_never_lose_likelihood(seed):
    X, y = make_linear_mixture(1000, random_state=seed)
    moe = fit("squarem", 1e-8, X, y, n_experts=4)
    assert np.all(np.diff(moe.log_likelihoods_) > -1e-9)
    assert len(moe.log_likelihoods_) <= moe.n_iter_


def test_other_assignments_run_plain():
    X, y = make_linear_mixture(300, random_state=0)
    hard = fit("squarem", 1e-6, X, y, assignment="hard")
    plain = fit(None, 1e-6, X, y, assignment="hard")
    assert_allclose(hard.log_likelihoods_, plain.log_likelihoods_)


def test_auto_is_plain_em_while_a_run_settles_within_its_delay():
    X, y = make_linear_mixture(600, random_state=0)
    plain = fit(None, 1e-5, X, y, n_experts=3, n_init=1)
    auto = fit("auto", 1e-5, X, y, n_experts=3, n_init=1)
    assert plain.n_iter_ <= AUTO_DELAY  # the case settles within the delay
    assert_array_equal(auto.log_likelihoods_, plain.log_likelihoods_)
    assert_allclose(auto.predict(X), plain.predict(X), rtol=0, atol=0)


def test_auto_extrapolates_a_run_that_still_climbs_after_its_delay(
    too_many_experts,
):
    X, y = too_many_experts
    plain = fit(None, 1e-6, X, y, n_experts=5, n_init=1)
    auto = fit("auto", 1e-6, X, y, n_experts=5, n_init=1)
    # Plain EM up to the first jump, which follows three steps past the delay.
    head = AUTO_DELAY + 3
    assert_array_equal(auto.log_likelihoods_[:head], plain.log_likelihoods_[:head])
    assert auto.n_iter_ * 1.5 <= plain.n_iter_
    assert auto.log_likelihood_ >= plain.log_likelihood_ - 1e-6
    assert np.all(np.diff(auto.log_likelihoods_) > -1e-9)


def test_a_paused_and_resumed_run_extrapolates_as_an_uninterrupted_one(
    too_many_experts,
):
    # Short runs of 5 iterations, then the leader's long run: its curve is
    # the uninterrupted run's, jumps included.
    X, y = too_many_experts
    kw = dict(n_experts=5, n_init=2)
    full = fit("auto", 1e-6, X, y, init_max_iter=None, **kw)
    short = fit("auto", 1e-6, X, y, init_max_iter=5, **kw)
    plain = fit(None, 1e-6, X, y, init_max_iter=None, **kw)
    leader = short.best_start_
    assert_array_equal(short.log_likelihoods_, full.start_log_likelihoods_[leader])
    # ... and jumps were made in it.
    assert curves_differ(short.log_likelihoods_, plain.start_log_likelihoods_[leader])


def test_auto_leaves_flexible_experts_to_plain_em():
    # A tree's refit is not an ascent step: a jump could not be judged.
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(400, 2))
    y = np.where(X[:, 0] < 0, np.sin(2 * X[:, 1]), X[:, 1])
    y = y + 0.3 * rng.standard_normal(400)
    tree = DecisionTreeRegressor(max_depth=4)
    kw = dict(experts=tree, n_experts=2, crossfit=False, n_init=1)
    plain = fit(None, 1e-8, X, y, **kw)
    auto = fit("auto", 1e-8, X, y, **kw)
    assert len(plain.log_likelihoods_) > AUTO_DELAY + 3
    assert_array_equal(auto.log_likelihoods_, plain.log_likelihoods_)
    squarem = fit("squarem", 1e-8, X, y, **kw)
    assert curves_differ(squarem.log_likelihoods_, plain.log_likelihoods_)
