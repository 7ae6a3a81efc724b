"""Every warning of a fit points at the line that called fit."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.tree import DecisionTreeRegressor

from skmoe import (
    DeadExpertWarning,
    DegenerateFitWarning,
    MixtureOfExpertsRegressor,
    WarmStartWarning,
)

rng = np.random.RandomState(0)
X = rng.uniform(-3, 3, size=(200, 1))
y = np.abs(X[:, 0]) + 0.1 * rng.standard_normal(200)
STARVED = np.tile([0.5, 0.5 - 1e-7, 1e-7], (200, 1))


def caught_by(fit):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit()
    return caught


FITS = {
    ConvergenceWarning: lambda n_init: MixtureOfExpertsRegressor(
        max_iter=1, tol=0, n_init=n_init
    ).fit(X, y),
    DeadExpertWarning: lambda n_init: MixtureOfExpertsRegressor(
        n_experts=3,
        min_expert_weight=0.01,
        dead_expert="keep",
        n_init=n_init,
        random_state=0,
    ).fit(X, y, init_resp=STARVED),
    # Plain EM: deep trees then fit their own rows exactly.
    DegenerateFitWarning: lambda n_init: MixtureOfExpertsRegressor(
        DecisionTreeRegressor(), n_init=n_init, crossfit=False, random_state=0
    ).fit(X, y),
    FutureWarning: lambda n_init: MixtureOfExpertsRegressor(
        n_experts=3, init_params=STARVED, n_init=n_init, random_state=0
    ).fit(X, y),
}


@pytest.mark.parametrize("n_init", [1, 2])
@pytest.mark.parametrize("category", FITS, ids=lambda c: c.__name__)
def test_fit_warnings_point_at_the_caller(category, n_init):
    caught = caught_by(lambda: FITS[category](n_init))
    ours = [w for w in caught if issubclass(w.category, category)]
    assert ours, f"no {category.__name__}"
    assert {w.filename for w in ours} == {__file__}


def test_warm_start_warning_points_at_the_caller():
    moe = MixtureOfExpertsRegressor(warm_start=True, random_state=0).fit(X, y)
    moe.set_params(n_experts=3)
    caught = caught_by(lambda: moe.fit(X, y))
    ours = [w for w in caught if w.category is WarmStartWarning]
    assert [w.filename for w in ours] == [__file__]


def test_warnings_of_a_nested_mixture_point_at_the_outer_call():
    inner = MixtureOfExpertsRegressor(max_iter=1, tol=0)
    outer = MixtureOfExpertsRegressor(inner, n_experts=2, max_iter=2, random_state=0)
    caught = caught_by(lambda: outer.fit(X, y))
    ours = [w for w in caught if w.category is ConvergenceWarning]
    assert ours
    assert {w.filename for w in ours} == {__file__}
