"""Free parameters of a mixture, and bic / aic built on them."""

import numpy as np
import pytest
from scipy.special import log_softmax, logsumexp
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, PolynomialFeatures, StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from benchmarks.flexmix import make_data
from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor
from skmoe._complexity import (
    aic_from_log_likelihood,
    bic_from_log_likelihood,
    n_parameters,
)
from skmoe.rules import RuleExpert


def regression_data(n=200, n_features=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, n_features))
    y = np.where(X[:, 0] > 0, X @ np.arange(1, n_features + 1), -X[:, -1])
    return X, y + 0.1 * rng.standard_normal(n)


def classification_data(n=200, n_classes=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, 3))
    return X, np.argmax(X @ rng.standard_normal((3, n_classes)), axis=1)


def first_column(X):
    return X[:, 0]


def first_sign(X):
    return (X[:, 0] > 0).astype(int)


# ---- the counts ---------------------------------------------------------------


@pytest.mark.parametrize(
    "expert, per_expert",
    [
        # 3 coefficients, an intercept and a noise variance
        (LinearRegression(), 5),
        (LinearRegression(fit_intercept=False), 4),
        # counted like LinearRegression, though its effective dof are fewer
        (Ridge(alpha=10.0), 5),
    ],
)
def test_linear_regression_experts(expert, per_expert):
    X, y = regression_data()
    moe = MixtureOfExpertsRegressor(expert, n_experts=2, random_state=0).fit(X, y)
    gate = (2 - 1) * (3 + 1)
    assert n_parameters(moe) == gate + 2 * per_expert


def test_one_expert_has_no_gate():
    X, y = regression_data()
    moe = MixtureOfExpertsRegressor(n_experts=1).fit(X, y)
    assert n_parameters(moe) == 3 + 1 + 1


def test_feature_selectors_change_the_counts():
    X, y = regression_data(n_features=4)
    moe = MixtureOfExpertsRegressor(
        n_experts=2, gate_features=[0], expert_features=[1, 2], random_state=0
    ).fit(X, y)
    gate = (2 - 1) * (1 + 1)
    experts = 2 * (2 + 1 + 1)
    assert n_parameters(moe) == gate + experts


@pytest.mark.parametrize("n_classes, per_expert", [(2, 3 + 1), (3, 2 * (3 + 1))])
def test_logistic_regression_experts(n_classes, per_expert):
    X, y = classification_data(n_classes=n_classes)
    moe = MixtureOfExpertsClassifier(n_experts=2, random_state=0).fit(X, y)
    assert n_parameters(moe) == (2 - 1) * (3 + 1) + 2 * per_expert


def test_fixed_experts_count_only_what_em_estimates_for_them():
    X, y = regression_data()
    prefit = FrozenEstimator(LinearRegression().fit(X, y))
    moe = MixtureOfExpertsRegressor(
        [("rule", RuleExpert(first_column)), ("prefit", prefit)], random_state=0
    ).fit(X, y)
    # Gate, and a noise variance for each fixed expert.
    assert n_parameters(moe) == (3 + 1) + 1 + 1

    X, y = classification_data(n_classes=2)
    clf = MixtureOfExpertsClassifier(
        [("rule", RuleExpert(first_sign)), ("lr", LogisticRegression())],
        random_state=0,
    ).fit(X, y)
    # A rule without probabilities: its error rate; the logistic expert: 4.
    assert n_parameters(clf) == (3 + 1) + 1 + (3 + 1)


def test_scaled_pipelines_count_as_their_last_step():
    # A scaler or an imputer is fitted to X alone, outside the likelihood of
    # y, and leaves the model as many coefficients: experts and gates after
    # them count as they do alone.
    X, y = classification_data(n_classes=3)
    X = X * [1.0, 100.0, 0.01] + 5.0
    scaled = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression())
    moe = MixtureOfExpertsClassifier(
        scaled, gate=make_pipeline(MinMaxScaler(), LogisticRegression()), n_experts=2
    ).fit(X, y)
    bare = MixtureOfExpertsClassifier(gate=LogisticRegression(), n_experts=2).fit(
        StandardScaler().fit_transform(X), y
    )
    assert n_parameters(moe) == n_parameters(bare) == (2 - 1) * 4 + 2 * 2 * 4
    X, y = regression_data()
    moe = MixtureOfExpertsRegressor(
        make_pipeline(StandardScaler(), Ridge()), n_experts=2, random_state=0
    ).fit(X, y)
    assert n_parameters(moe) == (2 - 1) * (3 + 1) + 2 * (3 + 1 + 1)
    # A step that is not column-wise has no such count.
    expanded = make_pipeline(PolynomialFeatures(), LinearRegression())
    moe.set_params(experts=expanded).fit(X, y)
    with pytest.raises(ValueError, match=r"'expert0' \(Pipeline\)"):
        moe.bic(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_hierarchical_mixture_counts_every_level():
    X, y = regression_data(n=100)
    # Short EM runs: the count does not depend on how far EM got.
    inner = MixtureOfExpertsRegressor(n_experts=2, max_iter=5)
    hme = MixtureOfExpertsRegressor(inner, n_experts=2, max_iter=5, random_state=0)
    hme.fit(X, y)
    leaves = 2 * (3 + 1 + 1)  # coefficients, intercept, noise variance
    inner_count = (3 + 1) + leaves
    assert n_parameters(hme.experts_[0]) == inner_count
    # The outer gate, and the inner mixtures; the outer level adds no noise
    # variance for experts that report their own likelihood.
    assert n_parameters(hme) == (3 + 1) + 2 * inner_count


@pytest.mark.parametrize(
    "mixture, name, kind",
    [
        (
            MixtureOfExpertsRegressor(DecisionTreeRegressor(max_depth=2)),
            "expert0",
            "DecisionTreeRegressor",
        ),
        (
            MixtureOfExpertsRegressor(
                [("lin", LinearRegression()), ("knn", KNeighborsRegressor())]
            ),
            "knn",
            "KNeighborsRegressor",
        ),
        (
            MixtureOfExpertsClassifier(gate=DecisionTreeClassifier(max_depth=2)),
            "gate",
            "DecisionTreeClassifier",
        ),
    ],
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_no_count_for_trees_and_neighbours(mixture, name, kind):
    if isinstance(mixture, MixtureOfExpertsClassifier):
        X, y = classification_data(n_classes=2)
    else:
        X, y = regression_data()
    mixture.set_params(random_state=0).fit(X, y)
    message = rf"unknown for the \w+ '{name}' \({kind}\).*no fixed count.*CV"
    for criterion in (mixture.bic, mixture.aic):
        with pytest.raises(ValueError, match=message):
            criterion(X, y)


# ---- the criteria ------------------------------------------------------------


def test_bic_and_aic_by_hand():
    X, y = regression_data(n=50, n_features=1)
    moe = MixtureOfExpertsRegressor(n_experts=2, random_state=0).fit(X, y)
    # The log-likelihood from the fitted parameters, as the model defines it.
    gate = moe.gate_
    log_gate = log_softmax(X @ gate.coef_.T + gate.intercept_, axis=1)
    means = np.column_stack([e.predict(X) for e in moe.experts_])
    var = moe.noise_var_
    log_density = -0.5 * (np.log(2 * np.pi * var) + (y[:, None] - means) ** 2 / var)
    total = logsumexp(log_gate + log_density, axis=1).sum()
    # gate (2 - 1) * (1 + 1), experts 2 * (slope, intercept, variance)
    n_params = 2 + 2 * 3
    np.testing.assert_allclose(moe.bic(X, y), -2 * total + n_params * np.log(50))
    np.testing.assert_allclose(moe.aic(X, y), -2 * total + 2 * n_params)


def test_the_formulas():
    assert bic_from_log_likelihood(-10.0, 2, np.e**3) == pytest.approx(26.0)
    assert aic_from_log_likelihood(-10.0, 2) == 24.0


def test_bic_chooses_three_regimes_as_flexmix_does():
    # The 3-regime case of benchmarks/flexmix.py (its "quick" profile's
    # data set): a softmax gate on (x1, x2), three linear experts, noise sd
    # 0.5. flexmix's stepFlexmix chose K=3 by BIC; so must skmoe.
    X, y = make_data(3_000, 3, seed=1000 * 3 + 3_000 % 997)
    bic = {
        k: MixtureOfExpertsRegressor(n_experts=k, random_state=0).fit(X, y).bic(X, y)
        for k in (2, 3, 4)
    }
    assert min(bic, key=bic.get) == 3


def test_bic_chooses_one_expert_without_regimes():
    rng = np.random.RandomState(1)
    X = rng.uniform(-3, 3, size=(500, 2))
    y = X @ [1.5, -0.5] + 0.3 * rng.standard_normal(500)
    bic = [
        MixtureOfExpertsRegressor(n_experts=k, random_state=0).fit(X, y).bic(X, y)
        for k in (1, 2, 3)
    ]
    assert np.argmin(bic) == 0
