"""SQUAREM: the same optimum as plain EM, in fewer iterations, never below
plain EM's path."""

import warnings

import numpy as np
import pytest
from _data import make_linear_mixture
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from skmoe import MixtureOfExpertsRegressor
from skmoe._acceleration import Squarem, project, squarem_step


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
