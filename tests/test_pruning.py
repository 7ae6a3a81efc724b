"""Pruning never removes the last expert.

A ``min_expert_weight`` above ``1 / n_experts`` puts every expert below it at
once; ``dead_expert="prune"`` then keeps the heaviest, and the mixture is that
one expert, fitted on every row.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LogisticRegression

from skmoe import (
    DeadExpertWarning,
    MixtureOfExpertsClassifier,
    MixtureOfExpertsRegressor,
)

rng = np.random.RandomState(0)
X = rng.randn(60, 3)
y_reg = X @ [1.0, 2.0, 0.0] + 0.1 * rng.randn(60)
y_clf = (y_reg > 0).astype(int)


def pruned_to_one(Estimator, y, **params):
    """Fit with every expert under ``min_expert_weight``; check the warning."""
    moe = Estimator(dead_expert="prune", random_state=0, **params)
    with pytest.warns(DeadExpertWarning, match=r"the heaviest, was kept\)"):
        moe.fit(X, y)
    assert len(moe.experts_) == 1
    assert moe.gate_ is None
    assert_allclose(moe.expert_weights_, [1.0])
    return moe


@pytest.mark.parametrize(
    "params",
    [
        {"n_experts": 2, "min_expert_weight": 0.6},
        {"n_experts": 3, "min_expert_weight": 0.4},
        {"n_experts": 3, "min_expert_weight": 0.4, "gate": LogisticRegression()},
    ],
)
def test_regressor_pruned_to_one_is_the_single_expert_fit(params):
    moe = pruned_to_one(MixtureOfExpertsRegressor, y_reg, **params)
    alone = MixtureOfExpertsRegressor(n_experts=1).fit(X, y_reg)
    assert_allclose(moe.predict(X), alone.predict(X))
    assert_allclose(moe.predict(X), moe.experts_[0].predict(X))
    quantiles = moe.predict_quantiles(X, [0.1, 0.9])
    assert np.all(np.isfinite(quantiles)) and np.all(quantiles[:, 0] < quantiles[:, 1])
    assert np.isfinite(moe.bic(X, y_reg))


@pytest.mark.parametrize(
    "params",
    [
        {"n_experts": 2, "min_expert_weight": 0.6},
        {"n_experts": 2, "min_expert_weight": 0.6, "gate": LogisticRegression()},
    ],
)
def test_classifier_pruned_to_one_is_the_single_expert_fit(params):
    moe = pruned_to_one(MixtureOfExpertsClassifier, y_clf, **params)
    alone = MixtureOfExpertsClassifier(n_experts=1).fit(X, y_clf)
    # The kept expert's last fit is warm-started from its pruned-mixture
    # solution, so it matches the single-expert fit to the solver's tolerance.
    assert_allclose(moe.predict_proba(X), alone.predict_proba(X), atol=0.05)
    assert_array_equal(moe.predict(X), alone.predict(X))
    assert_array_equal(moe.predict(X), moe.experts_[0].predict(X))
    assert np.isfinite(moe.bic(X, y_clf))
