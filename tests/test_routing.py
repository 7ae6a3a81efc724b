"""Routing: top-k inference, training variants, load balancing, dead experts
and the interpretability API."""

import warnings

import numpy as np
import pytest
from _data import (
    make_hard_regimes,
    make_linear_mixture,
    make_xor,
    true_log_likelihood,
)
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression

from skmoe import (
    DeadExpertWarning,
    MixtureOfExpertsClassifier,
    MixtureOfExpertsRegressor,
)
from skmoe._routing import assign, top_k_weights
from skmoe.rules import RuleExpert


@pytest.fixture(scope="module")
def regimes():
    X, y = make_hard_regimes(3000, random_state=0)
    moe = MixtureOfExpertsRegressor(n_experts=4, n_init=3, random_state=0).fit(X, y)
    return moe, X, y


@pytest.fixture(scope="module")
def xor():
    X, y = make_xor(1500, random_state=0)
    moe = MixtureOfExpertsClassifier(n_experts=4, random_state=0).fit(X, y)
    return moe, X, y


# ---- top-k inference ------------------------------------------------------


def test_top_k_all_experts_equals_dense(regimes, xor):
    moe, X, _ = regimes
    dense, dense_std = moe.predict(X, return_std=True)
    routed, routed_std = moe.predict(X, return_std=True, top_k=4)
    assert_allclose(routed, dense, rtol=0, atol=1e-12)
    assert_allclose(routed_std, dense_std, rtol=0, atol=1e-12)
    clf, Xc, _ = xor
    assert_allclose(clf.predict_proba(Xc, top_k=4), clf.predict_proba(Xc), atol=1e-12)


def test_top_1_is_the_top_experts_output(regimes, xor):
    moe, X, _ = regimes
    top = moe.predict_expert(X)
    rows = np.arange(len(X))
    expected = moe.expert_predictions(X)[rows, top]
    assert_allclose(moe.predict(X, top_k=1), expected, rtol=1e-12)
    _, std = moe.predict(X, return_std=True, top_k=1)
    assert_allclose(std, np.sqrt(moe.noise_var_[top]), rtol=1e-12)
    clf, Xc, _ = xor
    top = clf.predict_expert(Xc)
    expected = clf.expert_predictions(Xc)[np.arange(len(Xc)), top]
    assert_allclose(clf.predict_proba(Xc, top_k=1), expected, rtol=1e-12)


def test_top_k_from_the_constructor_and_its_override(regimes):
    moe, X, _ = regimes
    sparse = MixtureOfExpertsRegressor(n_experts=4, top_k=1)
    sparse.__dict__.update(
        {k: v for k, v in moe.__dict__.items() if k.endswith("_") or k[0] == "_"}
    )
    assert_allclose(sparse.predict(X), moe.predict(X, top_k=1))
    assert_allclose(sparse.predict(X, top_k=4), moe.predict(X))


def test_top_k_sets_are_nested_and_break_ties_as_argmax():
    # A partial sort broke ties anyhow: with gate (1, 1, 1, 1, 2, 2, 2) / 10
    # the top 2 could leave out expert 4, which argmax (top_k=1) keeps.
    rng = np.random.RandomState(0)
    gate = rng.randint(1, 4, size=(2000, 7)).astype(float)
    gate /= gate.sum(axis=1, keepdims=True)
    previous = top_k_weights(gate, 1) > 0
    assert_array_equal(np.argmax(previous, axis=1), np.argmax(gate, axis=1))
    for k in range(2, 7):
        kept = top_k_weights(gate, k) > 0
        assert np.all(kept.sum(axis=1) == k)
        assert np.all(kept[previous])  # the top k - 1 stay in the top k
        previous = kept


def test_top_k_weights_keep_the_largest_and_renormalise():
    gate = np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]])
    assert_allclose(top_k_weights(gate, 2), [[0, 2 / 3, 1 / 3], [0.625, 0, 0.375]])
    assert top_k_weights(gate, 3) is gate


class CountingRegressor(RegressorMixin, BaseEstimator):
    """A linear regressor that records the rows it is asked to predict."""

    def fit(self, X, y, sample_weight=None):
        self.model_ = LinearRegression().fit(X, y, sample_weight=sample_weight)
        self.calls_ = []
        return self

    def predict(self, X):
        self.calls_.append(len(X))
        return self.model_.predict(X)


def test_each_expert_predicts_once_and_only_for_its_rows(regimes):
    _, X, y = regimes
    moe = MixtureOfExpertsRegressor(
        CountingRegressor(), n_experts=4, n_init=3, random_state=0
    ).fit(X, y)
    X_new = X[X[:, 0] < -0.5]  # two of the four regimes only
    for expert in moe.experts_:
        expert.calls_.clear()
    moe.predict(X_new, top_k=1)
    routed = np.bincount(moe.predict_expert(X_new), minlength=4)
    calls = [expert.calls_ for expert in moe.experts_]
    assert sorted(routed)[:2] == [0, 0]
    assert calls == [[n] if n else [] for n in routed]


def test_top_1_loses_little_where_experts_are_separated(regimes):
    moe, _, _ = regimes
    X_test, y_test = make_hard_regimes(5000, random_state=1)
    dense = moe.score(X_test, y_test)
    y_top = moe.predict(X_test, top_k=1)
    top = 1 - np.sum((y_test - y_top) ** 2) / np.sum((y_test - y_test.mean()) ** 2)
    assert top > dense - 0.01 * abs(dense)


# ---- training variants -----------------------------------------------------


@pytest.fixture(scope="module")
def recovery():
    X, y = make_linear_mixture(3000, random_state=0)
    X_test, y_test = make_linear_mixture(10000, random_state=1)
    soft = MixtureOfExpertsRegressor(n_experts=3, n_init=5, random_state=0)
    soft.fit(X, y)
    return X, y, X_test, y_test, soft.log_likelihood(X_test, y_test).mean()


@pytest.mark.parametrize("assignment", ["hard", "stochastic", "annealed"])
def test_variants_reach_soft_em(recovery, assignment):
    # Hard assignments lock in early (single hard starts reached -1.71, -1.98
    # and -1.08 here, soft EM -1.08), so every variant gets the same 5 starts.
    X, y, X_test, y_test, soft = recovery
    moe = MixtureOfExpertsRegressor(
        n_experts=3, assignment=assignment, n_init=5, max_iter=60, random_state=0
    ).fit(X, y)
    held_out = moe.log_likelihood(X_test, y_test).mean()
    assert held_out > soft - 0.02 * abs(soft)


def test_annealing_ends_hard():
    rng = np.random.RandomState(0)
    log_resp = np.log(rng.dirichlet(np.ones(3), size=500))
    first = assign(log_resp, "annealed", 1, None, rng)
    last = assign(log_resp, "annealed", 50, None, rng)
    assert_allclose(first, np.exp(log_resp))  # temperature 1: soft EM
    assert last.max(axis=1).mean() > 0.95
    assert last.max(axis=1).mean() > first.max(axis=1).mean() + 0.3
    assert_array_equal(last.argmax(axis=1), log_resp.argmax(axis=1))


def test_a_temperature_near_the_smallest_float_is_hard_assignment():
    """Dividing a row of small negative log posteriors by 1e-320 made it all
    -inf, and the softmax NaN, blamed on an expert a step later."""
    rng = np.random.RandomState(0)
    log_resp = np.log(rng.dirichlet(np.ones(3), size=500))
    log_resp[0] = np.log([1 - 2e-12, 1e-12, 1e-12])  # largest entry -2e-12
    resp = assign(log_resp, "annealed", 1, np.array([1e-320]), rng)
    assert np.all(np.isfinite(resp))
    hard = assign(log_resp, "hard", 1, None, rng)
    assert_array_equal(resp, hard)


def test_annealed_gate_is_sharper_than_soft(recovery):
    X, y, *_ = recovery
    soft = MixtureOfExpertsRegressor(n_experts=3, random_state=0).fit(X, y)
    annealed = MixtureOfExpertsRegressor(
        n_experts=3, assignment="annealed", random_state=0
    ).fit(X, y)
    assert annealed.n_iter_ >= 15  # not stopped while still cooling
    sharp = annealed.gate_proba(X).max(axis=1).mean()
    assert sharp > soft.gate_proba(X).max(axis=1).mean()


def test_hard_assignment_is_hard():
    rng = np.random.RandomState(0)
    log_resp = np.log(rng.dirichlet(np.ones(4), size=200))
    hard = assign(log_resp, "hard", 1, None, rng)
    assert_array_equal(hard.argmax(axis=1), log_resp.argmax(axis=1))
    assert_array_equal(hard.sum(axis=1), 1.0)
    assert set(np.unique(hard)) == {0.0, 1.0}


def test_stochastic_assignment_follows_the_posterior():
    rng = np.random.RandomState(0)
    posterior = np.array([[0.7, 0.2, 0.1]])
    draws = assign(
        np.log(np.repeat(posterior, 20000, axis=0)), "stochastic", 1, None, rng
    )
    assert_allclose(draws.mean(axis=0), posterior[0], atol=0.01)


def test_stochastic_em_is_reproducible_and_keeps_its_best(recovery):
    X, y, *_ = recovery
    params = dict(n_experts=3, assignment="stochastic", max_iter=15)
    first = MixtureOfExpertsRegressor(random_state=1, **params).fit(X, y)
    again = MixtureOfExpertsRegressor(random_state=1, **params).fit(X, y)
    other = MixtureOfExpertsRegressor(random_state=2, **params).fit(X, y)
    assert_array_equal(first.predict(X), again.predict(X))
    assert not np.array_equal(first.predict(X), other.predict(X))
    assert first.n_iter_ <= 15
    assert first.log_likelihood_ == first.log_likelihoods_.max()
    assert_allclose(first.log_likelihood(X, y).mean(), first.log_likelihood_)


# ---- load balancing --------------------------------------------------------


def test_balance_spreads_rows_over_experts():
    # One linear law everywhere: any split of the rows explains y equally well.
    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 2, size=(1000, 2))
    y = X @ [1.0, -2.0] + 0.3 * rng.standard_normal(1000)
    start = np.tile([0.9, 0.05, 0.05], (1000, 1))
    params = dict(n_experts=3, random_state=0)
    free = MixtureOfExpertsRegressor(**params).fit(X, y, init_resp=start)
    balanced = MixtureOfExpertsRegressor(balance=1.0, **params)
    balanced.fit(X, y, init_resp=start)
    # The share of the rows each expert takes (its mean responsibility).
    free_share, balanced_share = free.expert_weights_, balanced.expert_weights_
    uniform = np.full(3, 1 / 3)
    assert np.abs(free_share - uniform).sum() > 1.0
    assert np.abs(balanced_share - uniform).sum() < 0.2
    # The fit itself is as good: any split explains y equally well.
    assert balanced.score(X, y) > free.score(X, y) - 1e-3


# ---- dead experts ----------------------------------------------------------


def starved_start(n_samples):
    resp = np.full((n_samples, 3), 1e-12)
    resp[: n_samples // 2, 0] = 1.0
    resp[n_samples // 2 :, 1] = 1.0
    return resp


def hopeless(X):
    """A rule that explains no row: its expert starves whatever EM does."""
    return np.full(len(X), 100.0)


@pytest.mark.parametrize("policy", ["reseed", "prune", "keep"])
def test_starved_expert_is_handled_as_the_policy_says(policy):
    X, y = make_linear_mixture(600, random_state=3)
    moe = MixtureOfExpertsRegressor(
        [
            ("a", LinearRegression()),
            ("b", LinearRegression()),
            ("bad", RuleExpert(hopeless)),
        ],
        dead_expert=policy,
        min_expert_weight=0.01,
        n_init=1,  # the warnings of one start are counted below
        random_state=0,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        moe.fit(X, y)
    messages = [str(w.message) for w in caught if w.category is DeadExpertWarning]
    assert messages and all("['bad']" in m for m in messages)
    if policy == "prune":
        assert list(moe.named_experts_) == ["a", "b"]
        assert moe.gate_proba(X).shape == (len(X), 2)
        assert len(moe.noise_var_) == 2
        assert_allclose(moe.expert_weights_.sum(), 1.0)
        assert "pruned; 2 experts remain" in messages[0]
    elif policy == "keep":
        assert list(moe.named_experts_) == ["a", "b", "bad"]
        assert moe.expert_weights_[2] < 0.01
        assert messages == [messages[0]] and "were kept" in messages[0]
    else:
        # A rule cannot learn from its new rows: re-seeded twice, then left,
        # and the fit says it is still dead.
        assert len(messages) == 3
        assert all("re-seeded" in m for m in messages[:2])
        assert "still dead after re-seeding" in messages[2]
        assert list(moe.named_experts_) == ["a", "b", "bad"]


def test_reseeding_revives_a_starved_learner():
    X, y = make_linear_mixture(1500, random_state=3)
    moe = MixtureOfExpertsRegressor(
        n_experts=3,
        min_expert_weight=0.01,
        max_iter=200,
        random_state=0,
    )
    with pytest.warns(DeadExpertWarning, match="re-seeded"):
        moe.fit(X, y, init_resp=starved_start(1500))
    # Handed the worst-explained rows, the third expert finds the third regime.
    assert moe.expert_weights_.min() > 0.2
    X_test, y_test = make_linear_mixture(5000, random_state=4)
    revived = moe.log_likelihood(X_test, y_test).mean()
    assert revived > true_log_likelihood(X_test, y_test).mean() - 0.02


# ---- interpretability ------------------------------------------------------


def test_routing_summary(regimes):
    moe, X, _ = regimes
    summary = moe.routing_summary(X)
    assert list(summary.expert) == ["expert0", "expert1", "expert2", "expert3"]
    assert_allclose(summary.share.sum(), 1.0)
    top = moe.predict_expert(X)
    assert_allclose(summary.share, np.bincount(top, minlength=4) / len(X))
    assert_allclose(summary.mean_gate, moe.gate_proba(X).mean(axis=0))
    gate = moe.gate_proba(X)
    for i in range(4):
        assert_allclose(summary.confidence[i], gate[top == i, i].mean())
    # Four sharp regimes of about a quarter each.
    assert np.all(np.abs(summary.share - 0.25) < 0.05)
    assert np.all(summary.confidence > 0.9)


def test_responsibilities_and_expert_predictions_shapes(xor):
    clf, X, y = xor
    assert clf.expert_predictions(X).shape == (len(X), 4, 2)
    resp = clf.responsibilities(X, y)
    assert resp.shape == (len(X), 4)
    assert_allclose(resp.sum(axis=1), 1.0)


# ---- bad input ---------------------------------------------------------------


@pytest.mark.parametrize(
    "params, error, match",
    [
        (
            {"top_k": 0},
            ValueError,
            r"The 'top_k' parameter .* must be None or an int in the range "
            r"\[1, inf\)\. Got 0 instead",
        ),
        ({"top_k": 3}, ValueError, r"'top_k' must be between 1 .* got 3"),
        ({"top_k": 1.5}, TypeError, r"The 'top_k' parameter .* Got 1.5 instead"),
        (
            {"assignment": "sparse"},
            ValueError,
            r"The 'assignment' parameter .* must be a str among .*'annealed'.*\. "
            r"Got 'sparse' instead",
        ),
        ({"balance": -1.0}, ValueError, r"The 'balance' parameter .* Got -1.0"),
        (
            {"balance": 1.0, "gate": LogisticRegression()},
            ValueError,
            r"'balance' > 0 needs the default SoftmaxGate",
        ),
        (
            {"min_expert_weight": -0.1},
            ValueError,
            r"The 'min_expert_weight' parameter .* must be a float in the range "
            r"\[0.0, 1.0\)\. Got -0.1 instead",
        ),
        (
            {"min_expert_weight": 1.0},
            ValueError,
            r"The 'min_expert_weight' parameter .* Got 1.0 instead",
        ),
        (
            {"dead_expert": "revive"},
            ValueError,
            r"The 'dead_expert' parameter .* Got 'revive' instead",
        ),
        (
            {"temperatures": [1.0, 0.0]},
            ValueError,
            r"'temperatures' must all be "
            r"positive",
        ),
        ({"temperatures": [0.5, 1.0]}, ValueError, r"'temperatures' must not rise"),
        ({"temperatures": []}, ValueError, r"'temperatures' must be a non-empty"),
        (
            {"temperatures": [[2.0, 1.0]]},
            ValueError,
            r"'temperatures' must be a 1-D sequence .* shape \(1, 2\)",
        ),
        (
            {"temperatures": ["hot"]},
            TypeError,
            r"'temperatures' must be None or a "
            r"sequence of numbers",
        ),
    ],
)
def test_bad_routing_parameters(params, error, match):
    X, y = make_linear_mixture(50, random_state=0)
    with pytest.raises(error, match=match):
        MixtureOfExpertsRegressor(**params).fit(X, y)


def test_bad_top_k_at_predict_time(regimes):
    moe, X, _ = regimes
    with pytest.raises(ValueError, match=r"'top_k' must be between 1 and the number"):
        moe.predict(X, top_k=5)
    with pytest.raises(TypeError, match=r"'top_k' must be None or an int"):
        moe.predict(X, top_k="2")


def test_convergence_is_not_declared_while_annealing(recovery):
    X, y, *_ = recovery
    with pytest.warns(ConvergenceWarning):
        MixtureOfExpertsRegressor(
            n_experts=3,
            assignment="annealed",
            temperatures=[1.0] * 5 + [0.1],
            max_iter=5,
            random_state=0,
        ).fit(X, y)


def test_pruned_experts_stay_pruned_under_warm_start():
    X, y = make_linear_mixture(600, random_state=3)
    moe = MixtureOfExpertsRegressor(
        [
            ("a", LinearRegression()),
            ("b", LinearRegression()),
            ("bad", RuleExpert(hopeless)),
        ],
        dead_expert="prune",
        min_expert_weight=0.01,
        warm_start=True,
        random_state=0,
    )
    with pytest.warns(DeadExpertWarning, match="pruned"):
        moe.fit(X, y)
    curve = list(moe.log_likelihoods_)
    moe.fit(X, y)  # continues with the two survivors
    assert list(moe.named_experts_) == ["a", "b"]
    assert_allclose(moe.log_likelihoods_[: len(curve)], curve)


def test_reseeds_are_counted_across_warm_started_fits():
    X, y = make_linear_mixture(600, random_state=3)
    moe = MixtureOfExpertsRegressor(
        [("a", LinearRegression()), ("bad", RuleExpert(hopeless))],
        min_expert_weight=0.01,
        warm_start=True,
        n_init=1,  # the re-seeds of one run are counted across the fits
        max_iter=5,
        tol=0,
        random_state=0,
    )
    reseeds = []
    for _ in range(3):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            moe.fit(X, y)
        reseeds += [w for w in caught if "re-seeded" in str(w.message)]
    assert len(reseeds) == 2
