"""Pruning never removes the last expert.

A ``min_expert_weight`` above ``1 / n_experts`` puts every expert below it at
once; ``dead_expert="prune"`` then keeps the heaviest, and the mixture is that
one expert, fitted on every row.
"""

import re

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
    # The kept start's prunes are said (a discarded start's are not).
    with pytest.warns(DeadExpertWarning, match=r"were pruned.*; 1 expert remains"):
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


# ---- pruning and re-seeding within EM ------------------------------------------


def _starved_third():
    """Two regimes, and a start that gives a third expert no row."""
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(400, 1))
    y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
    start = np.full((400, 3), 1e-12)
    start[:200, 0] = start[200:, 1] = 1.0
    return X, y + 0.3 * rng.standard_normal(400), start


def test_a_warm_started_gate_is_refitted_afresh_on_the_survivors():
    # The gate refitted on fewer classes started from its solution for the
    # classes before, and LogisticRegression refused it: every fit failed.
    X, y, start = _starved_third()
    moe = MixtureOfExpertsRegressor(
        n_experts=3,
        gate=LogisticRegression(warm_start=True),
        dead_expert="prune",
        min_expert_weight=0.01,
        random_state=0,
    )
    with pytest.warns(DeadExpertWarning, match="pruned"):
        moe.fit(X, y, init_resp=start)
    assert len(moe.experts_) == 2
    assert moe.gate_.classes_.tolist() == [0, 1]
    assert moe.score(X, y) > 0.95


@pytest.mark.parametrize("dead_expert", ["prune", "reseed"])
def test_the_last_iteration_ends_on_the_responsibilities_it_fitted(dead_expert):
    # Pruned or re-seeded after the last iteration, with no E-step after it,
    # the model ended inconsistent: expert_weights_ summed to 0.9926 and
    # log_likelihood_ was not the mean of log_likelihood on the rows.
    X, y, start = _starved_third()
    start[:5, 2] = 1.0
    moe = MixtureOfExpertsRegressor(
        n_experts=3,
        min_expert_weight=0.05,
        dead_expert=dead_expert,
        max_iter=1,
        random_state=0,
    )
    with pytest.warns(DeadExpertWarning) as caught:
        moe.fit(X, y, init_resp=start)
    # Said to be re-seeded, and then still dead: the re-seed never ran.
    assert not any("at iteration 1 and were" in str(w.message) for w in caught)
    assert_allclose(moe.expert_weights_.sum(), 1.0)
    assert_allclose(moe.expert_weights_, moe.responsibilities(X, y).mean(axis=0))
    assert_allclose(moe.log_likelihood_, moe.log_likelihood(X, y).mean())


def test_top_k_of_the_mixture_as_built_still_asks_for_the_dense_prediction():
    # After pruning, predict(top_k=n_experts) was refused ("between 1 and
    # the number of experts (2)"), though the parameter top_k is capped.
    X, y, start = _starved_third()
    moe = MixtureOfExpertsRegressor(
        n_experts=3,
        top_k=1,
        dead_expert="prune",
        min_expert_weight=0.01,
        random_state=0,
    )
    with pytest.warns(DeadExpertWarning, match="pruned"):
        moe.fit(X, y, init_resp=start)
    dense = moe.set_params(top_k=None).predict(X)
    moe.set_params(top_k=1)
    assert_allclose(moe.predict(X, top_k=moe.n_experts), dense)
    assert_allclose(moe.predict(X, top_k=len(moe.experts_)), dense)
    with pytest.raises(ValueError, match=r"'top_k' must be between 1 and .* \(2\)"):
        moe.predict(X, top_k=4)


def test_when_every_expert_falls_below_the_heaviest_is_kept():
    # An even start puts all three at a third, below 0.4 at once.
    moe = MixtureOfExpertsRegressor(
        n_experts=3, min_expert_weight=0.4, dead_expert="prune", random_state=0
    )
    even = np.full((len(X), 3), 1 / 3)
    even[:, 0] += 1e-3  # the heaviest, by a little
    with pytest.warns(
        DeadExpertWarning,
        match=r"\(expert0, the heaviest, was kept\)",
    ):
        moe.fit(X, y_reg, init_resp=even)
    assert len(moe.experts_) == 1


def two_lines(n, noise_sd, seed):
    """Two linear regimes split at x0 = 0, too few for the experts asked."""
    rng = np.random.RandomState(seed)
    X_ = rng.uniform(-3, 3, size=(n, 2))
    y_ = np.where(X_[:, 0] < 0, 1 + 2 * X_[:, 0], 4 - X_[:, 0])
    return X_, y_ + noise_sd * rng.standard_normal(n)


def stochastic_pruning(min_expert_weight, random_state):
    return MixtureOfExpertsRegressor(
        n_experts=4,
        assignment="stochastic",
        dead_expert="prune",
        min_expert_weight=min_expert_weight,
        max_iter=40,
        n_init=1,
        random_state=random_state,
    )


def test_stochastic_em_keeps_pruned_experts_pruned():
    # Stochastic EM ends on its best iteration; one from before a prune
    # brought the pruned experts back (4 experts, one below the threshold,
    # with the warning blaming max_iter).
    moe = stochastic_pruning(min_expert_weight=0.1, random_state=6)
    with pytest.warns(DeadExpertWarning, match="were pruned") as record:
        moe.fit(*two_lines(240, 0.2, seed=1))
    assert len(moe.experts_) == 3
    assert np.all(moe.expert_weights_ >= 0.1)
    assert not any("too late" in str(w.message) for w in record)


def test_a_pruned_experts_name_taken_by_a_survivor_is_said_so():
    # The experts left are renamed by position: the warning named pruned
    # experts 'expert0' and 'expert2', names that then belonged to two of
    # the experts kept, without saying so.
    import warnings

    X, y = two_lines(400, 0.3, seed=0)
    moe = MixtureOfExpertsRegressor(
        n_experts=6,
        dead_expert="prune",
        min_expert_weight=0.12,
        n_init=1,
        random_state=0,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        moe.fit(X, y)
    pruned = [
        str(w.message)
        for w in caught
        if issubclass(w.category, DeadExpertWarning) and "pruned" in str(w.message)
    ]
    named = [
        name
        for message in pruned
        for name in re.findall(r"'(expert\d+)'", message.split(" received")[0])
    ]
    taken = sorted(set(named) & set(moe.named_experts_))
    assert taken  # the case at hand: a pruned name now names a kept expert
    for name in taken:
        assert any(
            "named as when pruned: " in message and name in message.split("(")[1]
            for message in pruned
        )


def test_the_kept_heaviest_expert_is_named_as_then_and_now():
    # Renamed by position, the kept expert took a pruned expert's name: the
    # warning said "(expert0, the heaviest, was kept)" beside a pruned
    # 'expert0'.
    moe = stochastic_pruning(min_expert_weight=0.3, random_state=0)
    with pytest.warns(
        DeadExpertWarning, match=r"\(the heaviest, expert1 then, now expert0, was"
    ):
        moe.fit(*two_lines(240, 0.2, seed=1))
    assert len(moe.experts_) == 1
