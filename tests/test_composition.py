"""Nested parameters of experts and gate, as in VotingClassifier."""

import numpy as np
import pytest
from _data import make_linear_mixture
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.tree import DecisionTreeRegressor

from skmoe import MixtureOfExpertsRegressor, SoftmaxGate


def named():
    return MixtureOfExpertsRegressor(
        [("lin", Ridge(alpha=1.0)), ("tree", DecisionTreeRegressor(max_depth=2))]
    )


def test_deep_params_expose_named_experts():
    params = named().get_params(deep=True)
    assert isinstance(params["lin"], Ridge)
    assert params["lin__alpha"] == 1.0
    assert params["tree__max_depth"] == 2
    assert "lin" not in named().get_params(deep=False)


def test_set_params_on_named_experts():
    moe = named()
    original = moe.experts
    moe.set_params(lin__alpha=5.0, tree=LinearRegression())
    assert moe.get_params()["lin__alpha"] == 5.0
    assert isinstance(moe.get_params()["tree"], LinearRegression)
    # Replacing an expert builds a new list; the user's list is untouched.
    assert isinstance(original[1][1], DecisionTreeRegressor)


def test_drop_an_expert():
    X, y = make_linear_mixture(200, random_state=0)
    moe = named().set_params(tree="drop").fit(X, y)
    assert list(moe.named_experts_) == ["lin"]
    assert len(moe.experts_) == 1
    assert moe.gate_ is None


def test_template_and_default_parameters():
    moe = MixtureOfExpertsRegressor(Ridge())
    moe.set_params(experts__alpha=3.0)
    assert moe.experts.alpha == 3.0
    default = MixtureOfExpertsRegressor().set_params(
        gate__alpha=0.5, experts__fit_intercept=False
    )
    assert isinstance(default.gate, SoftmaxGate) and default.gate.alpha == 0.5
    assert isinstance(default.experts, LinearRegression)
    assert default.experts.fit_intercept is False


def test_clone_is_independent():
    moe = named()
    copy = clone(moe)
    copy.set_params(lin__alpha=9.0)
    assert moe.get_params()["lin__alpha"] == 1.0


def test_grid_search_over_experts_gate_and_count():
    X, y = make_linear_mixture(300, random_state=0)
    search = GridSearchCV(
        MixtureOfExpertsRegressor(Ridge(), random_state=0),
        {"n_experts": [1, 3], "experts__alpha": [0.1, 10.0], "gate__alpha": [1e-3]},
        cv=3,
    ).fit(X, y)
    assert search.best_params_["n_experts"] == 3
    assert search.best_estimator_.gate.alpha == 1e-3
    assert len(search.best_estimator_.experts_) == 3


@pytest.mark.parametrize("bad", [-1, "helloworld", {}, [], np.array([1.0, 4.0])])
def test_set_params_never_raises_on_junk_experts(bad):
    moe = MixtureOfExpertsRegressor().set_params(experts=bad)
    assert moe.get_params(deep=True)["experts"] is bad


def test_template_parameters_on_named_experts_are_refused():
    with pytest.raises(ValueError, match="use '<name>__<parameter>' instead"):
        named().set_params(experts__alpha=2.0)
