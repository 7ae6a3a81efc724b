"""MixtureOfExpertsClassifier: accuracy where one model is not enough, labels,
probabilities and the likelihood of the observed classes."""

import numpy as np
import pytest
from _data import make_xor
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from skmoe import MixtureOfExpertsClassifier
from skmoe._likelihood import aligned_proba
from skmoe.rules import RuleExpert


@pytest.fixture(scope="module")
def xor_fit():
    X, y = make_xor(2000, random_state=0)
    return MixtureOfExpertsClassifier(n_experts=4, random_state=0).fit(X, y)


def test_xor_beats_a_single_logistic_regression(xor_fit):
    X, y = make_xor(2000, random_state=0)
    X_test, y_test = make_xor(5000, random_state=1)
    single = LogisticRegression().fit(X, y).score(X_test, y_test)
    mixture = xor_fit.score(X_test, y_test)
    assert mixture > single + 0.20
    assert mixture > 0.9


def test_predict_proba_rows_sum_to_one(xor_fit):
    X_test, _ = make_xor(500, random_state=2)
    proba = xor_fit.predict_proba(X_test)
    assert proba.shape == (500, 2)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert np.all((proba >= 0) & (proba <= 1))
    assert_array_equal(xor_fit.predict(X_test), xor_fit.classes_[proba.argmax(axis=1)])
    with np.errstate(divide="ignore"):
        assert_allclose(xor_fit.predict_log_proba(X_test), np.log(proba))


def test_proba_is_gate_weighted_mixture_of_experts(xor_fit):
    X_test, _ = make_xor(100, random_state=3)
    gate = xor_fit.gate_proba(X_test)
    experts = xor_fit.expert_predictions(X_test)
    assert experts.shape == (100, 4, 2)
    assert_allclose(
        xor_fit.predict_proba(X_test), np.einsum("nm,nmc->nc", gate, experts)
    )


def test_log_likelihood_is_log_proba_of_observed_class(xor_fit):
    X_test, y_test = make_xor(300, random_state=4)
    proba = xor_fit.predict_proba(X_test)[np.arange(300), y_test]
    assert_allclose(xor_fit.log_likelihood(X_test, y_test), np.log(proba), rtol=1e-8)
    resp = xor_fit.responsibilities(X_test, y_test)
    assert_allclose(resp.sum(axis=1), 1.0)


def test_string_labels_round_trip():
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y]
    moe = MixtureOfExpertsClassifier(n_experts=2, random_state=0).fit(X, names)
    assert_array_equal(moe.classes_, ["setosa", "versicolor", "virginica"])
    assert set(moe.predict(X)) <= set(moe.classes_)
    assert moe.score(X, names) > 0.95
    assert_allclose(
        moe.log_likelihood(X, names),
        np.log(moe.predict_proba(X)[np.arange(len(y)), y]),
        rtol=1e-8,
    )
    with pytest.raises(ValueError, match="labels not seen in fit"):
        moe.log_likelihood(X[:2], ["setosa", "rose"])


def test_one_expert_is_that_expert_alone():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    moe = MixtureOfExpertsClassifier(n_experts=1, random_state=0).fit(X, y)
    alone = LogisticRegression().fit(X, y)
    assert_allclose(moe.predict_proba(X), alone.predict_proba(X), rtol=1e-8)


def test_integer_sample_weight_equals_repeated_rows():
    X, y = make_xor(200, random_state=5)
    weight = np.random.RandomState(0).randint(0, 4, size=len(y))
    repeat = np.repeat(np.arange(len(y)), weight)
    shuffle = np.random.RandomState(1).permutation(len(repeat))
    params = dict(n_experts=3, random_state=0)
    weighted = MixtureOfExpertsClassifier(**params).fit(X, y, sample_weight=weight)
    repeated = MixtureOfExpertsClassifier(**params).fit(
        X[repeat][shuffle], y[repeat][shuffle]
    )
    assert weighted.n_iter_ == repeated.n_iter_
    assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-5, atol=1e-7
    )


def test_heterogeneous_named_experts():
    X, y = make_xor(600, random_state=6)
    moe = MixtureOfExpertsClassifier(
        [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=3))],
        random_state=0,
    ).fit(X, y)
    assert list(moe.named_experts_) == ["lr", "tree"]
    assert moe.score(X, y) > 0.9
    assert_allclose(moe.predict_proba(X).sum(axis=1), 1.0)


def test_only_one_weighted_class_is_an_error():
    X, y = make_xor(100, random_state=7)
    weight = (y == 1).astype(float)
    with pytest.raises(ValueError, match="at least 2 classes"):
        MixtureOfExpertsClassifier().fit(X, y, sample_weight=weight)


def test_expert_that_saw_some_classes_is_aligned():
    X, y = load_iris(return_X_y=True)
    partial = LogisticRegression().fit(X[y > 0], y[y > 0])
    proba = aligned_proba(partial, X, np.array([0, 1, 2]))
    assert proba.shape == (150, 3)
    assert_array_equal(proba[:, 0], 0.0)
    assert_allclose(proba[:, 1:], partial.predict_proba(X))


def _certain_of_class_one(X):
    return np.tile([0.0, 1.0], (len(X), 1))


def test_probabilities_never_exceed_one():
    # Two experts certain of the same class: the gate's weights can sum to
    # 1 + 2e-16, and so could the mixture's probability, which log_loss refuses.
    rng = np.random.RandomState(0)
    X = 3 * rng.standard_normal((300, 2))
    y = (X[:, 0] > -2).astype(int)
    certain = RuleExpert(_certain_of_class_one, classes=[0, 1])
    moe = MixtureOfExpertsClassifier(
        [("a", certain), ("b", clone(certain))], random_state=0
    ).fit(X, y)
    proba = moe.predict_proba(10 * rng.standard_normal((20000, 2)))
    assert proba.max() <= 1.0
    assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    assert np.isfinite(log_loss(y, moe.predict_proba(X), labels=[0, 1]))


def test_weights_stay_repeated_rows_through_a_reseed_of_labels_only_experts():
    # A labels-only expert gives every row it gets right log(1 - 1e-4),
    # equal but for rounding; the re-seed's cut split such rows by the order
    # of the sums (row order, rows of weight 0): repeated rows shuffled gave
    # probabilities 0.84 apart, and scikit-learn's own weight check failed.
    import warnings

    from sklearn.linear_model import RidgeClassifier
    from sklearn.utils.estimator_checks import (
        check_sample_weight_equivalence_on_dense_data,
    )

    rng = np.random.RandomState(42)  # check_sample_weight_equivalence's data
    X = rng.rand(15, 30)
    y = rng.randint(0, 3, size=15)
    weight = rng.randint(0, 5, size=15)
    X_rep, y_rep = X.repeat(weight, axis=0), y.repeat(weight)
    perm = np.random.RandomState(3).permutation(len(y_rep))

    def fit(*args, **kwargs):
        model = MixtureOfExpertsClassifier(RidgeClassifier(), random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the re-seeds it reports
            return model.fit(*args, **kwargs)

    repeated = fit(X_rep, y_rep).predict_proba(X)
    assert_allclose(fit(X, y, sample_weight=weight).predict_proba(X), repeated)
    assert_allclose(fit(X_rep[perm], y_rep[perm]).predict_proba(X), repeated)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_sample_weight_equivalence_on_dense_data(
            "moe", MixtureOfExpertsClassifier(RidgeClassifier(), n_init=1)
        )
