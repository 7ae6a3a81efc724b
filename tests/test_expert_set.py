"""One owner for the expert set: pruning and sorting move experts, names,
shares, likelihood parameters and the gate together."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression

from skmoe import (
    DeadExpertWarning,
    MixtureOfExpertsClassifier,
    MixtureOfExpertsRegressor,
    SoftmaxGate,
)


def two_lines(n=300, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-3, 3, size=(n, 2))
    y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
    return X, y + 0.1 * rng.standard_normal(n)


def starved(n, n_experts=3):
    """A start that leaves the last expert (almost) nothing."""
    start = np.full((n, n_experts), 1e-9)
    start[: n // 2, 0] = start[n // 2 :, 1] = 1.0
    return start


def prune_at_first_iteration(moe, X, y):
    """Fit for two iterations from a start that starves the last expert, so
    that it is pruned after the first and the last runs on the survivors
    (none is pruned after the last iteration, where no E-step would
    follow)."""
    moe.set_params(
        max_iter=2, dead_expert="prune", min_expert_weight=0.01, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(DeadExpertWarning, match="pruned"):
            moe.fit(X, y, init_resp=starved(len(X)))
    return moe


def assert_consistent(moe, X):
    """Every per-expert part of a fitted mixture has one entry per expert."""
    n_experts = len(moe.experts_)
    assert len(moe.named_experts_) == n_experts
    assert moe.expert_weights_.shape == (n_experts,)
    assert moe.gate_proba(X).shape == (len(X), n_experts)
    assert_allclose(moe.gate_proba(X).sum(axis=1), 1.0)
    if isinstance(moe.gate_, SoftmaxGate):
        assert moe.gate_.coef_.shape[0] == n_experts
        assert moe.gate_.intercept_.shape == (n_experts,)
        assert_array_equal(moe.gate_.classes_, np.arange(n_experts))


@pytest.mark.parametrize(
    "experts",
    [
        None,
        [
            ("a", LinearRegression()),
            ("b", LinearRegression()),
            ("c", LinearRegression()),
        ],
    ],
    ids=["cloned", "named"],
)
def test_pruning_keeps_the_gate_consistent(experts):
    X, y = two_lines()
    moe = prune_at_first_iteration(
        MixtureOfExpertsRegressor(experts, n_experts=3), X, y
    )
    assert len(moe.experts_) == 2
    assert_consistent(moe, X)
    assert moe.noise_var_.shape == (2,)
    # The gate sends each half to its own surviving expert, as the start did.
    assert_array_equal(np.unique(moe.predict_expert(X)), [0, 1])
    assert np.all(np.isfinite(moe.predict(X)))


def test_pruning_refits_a_gate_that_cannot_take_its_own_columns():
    X, y = two_lines()
    moe = MixtureOfExpertsRegressor(n_experts=3, gate=LogisticRegression())
    moe = prune_at_first_iteration(moe, X, y)
    assert len(moe.experts_) == 2
    assert_array_equal(moe.gate_.classes_, [0, 1])
    assert_consistent(moe, X)
    assert np.all(np.isfinite(moe.predict(X)))


def test_pruning_to_one_expert_drops_the_gate():
    X, y = two_lines()
    start = np.full((len(X), 2), 1e-9)
    start[:, 0] = 1.0
    moe = MixtureOfExpertsRegressor(
        n_experts=2, dead_expert="prune", min_expert_weight=0.01, random_state=0
    )
    with pytest.warns(DeadExpertWarning, match="pruned; 1 expert remains"):
        moe.fit(X, y, init_resp=start)
    assert moe.gate_ is None
    assert_allclose(moe.gate_proba(X), 1.0)


def test_pruned_classifier_keeps_label_noise_per_expert():
    X, y = two_lines()
    labels = (y > 1).astype(int)
    moe = prune_at_first_iteration(MixtureOfExpertsClassifier(n_experts=3), X, labels)
    assert moe.label_noise_.shape == (2,)
    assert_consistent(moe, X)
    assert_allclose(moe.predict_proba(X).sum(axis=1), 1.0)


@pytest.mark.parametrize("top_k", [2, 3])
def test_top_k_survives_pruning(top_k):
    # top_k is checked against the experts the user asked for; pruning may
    # leave fewer, and predict must still work (with every survivor), as
    # must top_k=n_experts, the dense prediction.
    X, y = two_lines()
    moe = MixtureOfExpertsRegressor(n_experts=3, top_k=top_k)
    moe = prune_at_first_iteration(moe, X, y)
    assert len(moe.experts_) == 2
    assert_allclose(moe.predict(X), moe.predict(X, top_k=2))
    assert_allclose(moe.predict(X, top_k=3), moe.predict(X, top_k=2))
    with pytest.raises(ValueError, match="between 1 and the number of experts"):
        moe.predict(X, top_k=4)


def test_sorting_moves_gate_and_noise_with_the_experts():
    # Cloned experts are sorted by share; the model must not change.
    X, y = two_lines()
    X[:, 1] = 0.0
    rng = np.random.RandomState(0)
    start = np.column_stack([X[:, 0] < 0, X[:, 0] >= 0]) * 0.9 + 0.05
    start[rng.rand(len(X)) < 0.2] = [0.5, 0.5]
    named = MixtureOfExpertsRegressor(
        [("a", LinearRegression()), ("b", LinearRegression())], random_state=0
    ).fit(X, y, init_resp=start[:, ::-1])
    cloned = MixtureOfExpertsRegressor(n_experts=2, random_state=0).fit(
        X, y, init_resp=start[:, ::-1]
    )
    order = np.argsort(-named.expert_weights_, kind="stable")
    assert_allclose(cloned.expert_weights_, named.expert_weights_[order])
    assert_allclose(cloned.noise_var_, named.noise_var_[order])
    assert_allclose(cloned.gate_proba(X), named.gate_proba(X)[:, order], atol=1e-12)
    assert_allclose(cloned.predict(X), named.predict(X), atol=1e-12)


def test_softmax_gate_take_classes_keeps_probabilities_conditional():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 2))
    y = np.argmax(X @ rng.normal(size=(2, 3)), axis=1)
    gate = SoftmaxGate().fit(X, y)
    full = gate.predict_proba(X)
    taken = SoftmaxGate().fit(X, y).take_classes([2, 0])
    kept = full[:, [2, 0]]
    assert_allclose(taken.predict_proba(X), kept / kept.sum(axis=1, keepdims=True))
    assert_array_equal(taken.predict(X), np.array([2, 0])[np.argmax(kept, axis=1)])
