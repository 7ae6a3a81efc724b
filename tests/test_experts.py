"""Experts of every kind: model selection, heterogeneous experts, experts
without sample_weight, Pipelines, rules, prefit models, any classifier as the
gate and column selectors for the gate and the experts."""

import copy
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from _data import (
    make_concomitant,
    make_hard_regimes,
    make_linear_mixture,
    make_three_kinds_classification,
    make_three_kinds_regression,
    make_two_regimes,
    make_xor,
    three_kinds_class_region,
    three_kinds_region,
)
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    VotingClassifier,
    VotingRegressor,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.gaussian_process import GaussianProcessClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from skmoe import (
    DegenerateFitWarning,
    MixtureOfExpertsClassifier,
    MixtureOfExpertsRegressor,
    SoftmaxGate,
)
from skmoe._estimators import fit_mode
from skmoe._experts import MIN_HARD_ROWS, fallback_rows, fit_expert
from skmoe._gating import fit_gate
from skmoe._likelihood import LABEL_NOISE_FLOOR, label_noise, smoothed_one_hot
from skmoe.rules import RuleExpert

# Short EM runs that stop at max_iter are fine here: the tests compare fits
# with each other, not with a converged optimum.
no_convergence_warning = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


# ---- rules used as experts (module level, so that they pickle) --------------


def doubling(X):
    """Regression rule: y = 2x, right for x < 0 in make_two_regimes-like data."""
    return 2.0 * X[:, 0]


def first_above_half(X):
    """Label rule: 1 where x1 > 0.5."""
    return (X[:, 0] > 0.5).astype(int)


def first_above_half_proba(X):
    """Probability rule over classes [0, 1]: 0.97 for the label of
    :func:`first_above_half`."""
    p1 = np.where(X[:, 0] > 0.5, 0.97, 0.03)
    return np.column_stack([1 - p1, p1])


def one_or_unknown(X):
    """Label rule that says 1 where x1 > 0.5 and 7 (never a class) elsewhere."""
    return np.where(X[:, 0] > 0.5, 1, 7)


def make_rule_regions(n_samples, random_state, flip=0.0):
    """2-D labels: for x2 < 0 the label is first_above_half (the rule's region),
    for x2 >= 0 it is x1 + x2 < 0 (a different linear boundary). ``flip`` of
    the rule's region has its label flipped."""
    rng = np.random.RandomState(random_state)
    X = rng.uniform(-2, 2, size=(n_samples, 2))
    y = np.where(X[:, 1] < 0, X[:, 0] > 0.5, X[:, 0] + X[:, 1] < 0).astype(int)
    flipped = (X[:, 1] < 0) & (rng.uniform(size=n_samples) < flip)
    return X, np.where(flipped, 1 - y, y)


# ---- 1. model selection and composition --------------------------------------


@no_convergence_warning
def test_grid_search_over_count_and_template_parameter():
    X, y = make_linear_mixture(300, random_state=0)
    search = GridSearchCV(
        MixtureOfExpertsRegressor(Ridge(), random_state=0),
        {"n_experts": [2, 3], "experts__alpha": [0.1, 1000.0]},
        cv=3,
        error_score="raise",
    ).fit(X, y)
    # The data are a three-expert mixture; alpha=1000 flattens every expert.
    assert search.best_params_ == {"n_experts": 3, "experts__alpha": 0.1}
    best = search.best_estimator_
    assert len(best.experts_) == 3
    assert all(isinstance(e, Ridge) and e.alpha == 0.1 for e in best.experts_)
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores))


@no_convergence_warning
def test_grid_search_over_named_experts_and_drop():
    X, y = make_hard_regimes(300, random_state=0)
    moe = MixtureOfExpertsRegressor(
        [("lin", Ridge()), ("tree", DecisionTreeRegressor(max_depth=3))],
        random_state=0,
    )
    tree = DecisionTreeRegressor(max_depth=3, random_state=0)
    search = GridSearchCV(
        moe,
        {"tree": ["drop", tree], "lin__alpha": [0.1, 1000.0]},
        cv=3,
        error_score="raise",
    ).fit(X, y)
    # One linear model cannot fit four linear regimes; with the tree beside it
    # the mixture can, and a heavily shrunk linear expert only hurts.
    assert search.best_params_["lin__alpha"] == 0.1
    assert isinstance(search.best_params_["tree"], DecisionTreeRegressor)
    best = search.best_estimator_
    assert list(best.named_experts_) == ["lin", "tree"]
    assert best.named_experts_.lin.alpha == 0.1
    assert best.named_experts_.tree.max_depth == 3
    assert best.gate_ is not None
    # The candidates with the tree dropped were fitted too, as one-expert
    # mixtures, and scored worse.
    results = search.cv_results_
    dropped = np.array([p["tree"] == "drop" for p in results["params"]], dtype=bool)
    assert np.all(np.isfinite(results["mean_test_score"]))
    assert results["mean_test_score"][dropped].max() < (
        results["mean_test_score"][~dropped].max()
    )
    lone = clone(moe).set_params(tree="drop").fit(X, y)
    assert list(lone.named_experts_) == ["lin"] and lone.gate_ is None


@no_convergence_warning
def test_cross_val_score_equals_a_manual_loop():
    X, y = make_two_regimes(240, random_state=0)
    moe = MixtureOfExpertsRegressor(
        [("lin", LinearRegression()), ("tree", DecisionTreeRegressor(max_depth=3))],
        n_init=1,  # one start: the equality is tested, not the restarts
        random_state=0,
    )
    cv = KFold(3, shuffle=True, random_state=0)
    scores = cross_val_score(moe, X, y, cv=cv)
    manual = [
        r2_score(y[test], clone(moe).fit(X[train], y[train]).predict(X[test]))
        for train, test in cv.split(X)
    ]
    assert_allclose(scores, manual, rtol=1e-12)
    assert np.all(scores > 0.95)


def test_clone_is_independent_of_the_fitted_original():
    X, y = make_two_regimes(200, random_state=0)
    moe = MixtureOfExpertsRegressor(
        [("lin", Ridge(alpha=1.0)), ("knn", KNeighborsRegressor())], random_state=0
    ).fit(X, y)
    before = moe.predict(X)
    fitted = list(moe.experts_)
    copy_ = clone(moe)
    assert not hasattr(copy_, "experts_")
    # The clone's experts are new, unfitted objects with the same parameters.
    for (_, mine), (_, theirs) in zip(copy_.experts, moe.experts, strict=True):
        assert mine is not theirs
        assert mine.get_params() == theirs.get_params()
        assert not hasattr(mine, "n_features_in_")
    copy_.set_params(lin__alpha=50.0, knn__n_neighbors=3)
    copy_.fit(X[:100], y[:100])
    assert moe.get_params()["lin__alpha"] == 1.0
    assert moe.get_params()["knn__n_neighbors"] == 5
    assert all(a is b for a, b in zip(moe.experts_, fitted, strict=True))
    assert_array_equal(moe.predict(X), before)
    assert copy_.named_experts_.lin.alpha == 50.0


def test_pipeline_with_scaler_equals_scaling_by_hand():
    X, y = make_linear_mixture(300, random_state=0)
    X = X * [10.0, 0.01] + [5.0, -3.0]
    X_test, _ = make_linear_mixture(100, random_state=1)
    X_test = X_test * [10.0, 0.01] + [5.0, -3.0]
    params = dict(n_experts=3, random_state=0)
    pipe = make_pipeline(StandardScaler(), MixtureOfExpertsRegressor(**params))
    pipe.fit(X, y)
    scaler = StandardScaler().fit(X)
    by_hand = MixtureOfExpertsRegressor(**params).fit(scaler.transform(X), y)
    assert_allclose(
        pipe.predict(X_test), by_hand.predict(scaler.transform(X_test)), rtol=1e-10
    )


# ---- 2. heterogeneous experts win where each kind fits one region ------------


def test_heterogeneous_regression_experts_beat_each_alone_and_voting():
    X, y = make_three_kinds_regression(600, random_state=0)
    X_test, y_test = make_three_kinds_regression(3000, random_state=1)
    experts = [
        ("lin", LinearRegression()),
        ("tree", DecisionTreeRegressor(max_depth=4, random_state=0)),
        ("knn", KNeighborsRegressor()),
    ]
    baselines = {
        name: clone(expert).fit(X, y).score(X_test, y_test) for name, expert in experts
    }
    baselines["voting"] = VotingRegressor(experts).fit(X, y).score(X_test, y_test)
    # Plain EM: with cross-fitting (crossfit="auto") the tree and the
    # neighbours, which generalise alike on the steps, share that region
    # (held-out log-likelihood -0.041 either way); see test_crossfit.py.
    # Measured on this test's data: the tree then owns 53 % of the steps and
    # the mixture's test MSE there is 0.117, against 0.092 in plain EM.
    # Every start runs to convergence (init_max_iter=None): with trees and
    # neighbours EM is not an ascent, and which start leads after the short
    # runs depended on the BLAS kernel (Sandybridge's led to a fit of
    # log-likelihood -0.256 and test R^2 0.860; every start run out gives
    # 0.241-0.244 and 0.960-0.962 on each kernel tried).
    moe = MixtureOfExpertsRegressor(
        experts,
        init_params="kmeans_xy",
        n_init=8,
        init_max_iter=None,
        random_state=0,
        crossfit=False,
    ).fit(X, y)
    score = moe.score(X_test, y_test)
    assert score > max(baselines.values()) + 0.01, (score, baselines)
    # Each kind of expert is trusted on the region it suits.
    owner = moe.predict_expert(X_test)
    region = three_kinds_region(X_test)
    for k in range(3):
        assert np.mean(owner[region == k] == k) > 0.75, (k, np.bincount(owner))


def test_heterogeneous_classification_experts_beat_each_alone_and_voting():
    X, y = make_three_kinds_classification(600, random_state=0)
    X_test, y_test = make_three_kinds_classification(5000, random_state=1)
    experts = [
        ("lr", LogisticRegression(C=100.0)),
        ("tree", DecisionTreeClassifier(max_depth=4, random_state=0)),
        ("knn", KNeighborsClassifier()),
    ]
    baselines = {
        name: clone(expert).fit(X, y).score(X_test, y_test) for name, expert in experts
    }
    for voting in ("hard", "soft"):
        baselines[f"voting_{voting}"] = (
            VotingClassifier(experts, voting=voting).fit(X, y).score(X_test, y_test)
        )
    # Plain EM, as in the regression test above: cross-fitted (the default
    # here), the tree owns 44 % of its band, where the mixture's accuracy is
    # 0.973 rather than 0.997 (overall 0.957 rather than 0.962).
    moe = MixtureOfExpertsClassifier(
        experts, n_init=5, crossfit=False, random_state=0
    ).fit(X, y)
    score = moe.score(X_test, y_test)
    assert score > max(baselines.values()) + 0.01, (score, baselines)
    owner = moe.predict_expert(X_test)
    region = three_kinds_class_region(X_test)
    for k in range(3):
        assert np.mean(owner[region == k] == k) > 0.6, (k, np.bincount(owner))


# ---- 3. experts without sample_weight ----------------------------------------


@pytest.mark.parametrize("how", ["hard", "resample"])
@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_knn_experts_fit_and_are_reproducible(kind, how):
    if kind == "regressor":
        X, y = make_two_regimes(300, random_state=0, noise_sd=0.3)
        Estimator, knn, minimum = MixtureOfExpertsRegressor, KNeighborsRegressor, 0.9
    else:
        X, y = make_xor(400, random_state=0)
        Estimator, knn, minimum = MixtureOfExpertsClassifier, KNeighborsClassifier, 0.9
    assert fit_mode(knn()) == "unweighted"
    # A fixed start, so that the only randomness left is the resampling.
    start = np.column_stack([X[:, 0] < 0, X[:, 0] >= 0]).astype(float) + 0.1

    def fit(seed):
        return Estimator(
            [("knn", knn()), ("other", knn(n_neighbors=15))],
            unweighted_fit=how,
            # Plain EM: cross-fitting (the default for kNN experts) draws
            # random folds, which would let the seed matter for "hard".
            crossfit=False,
            max_iter=20,
            random_state=seed,
        ).fit(X, y, init_resp=start)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        first, again, other_seed = fit(0), fit(0), fit(1)
    assert first.score(X, y) > minimum
    out = first.predict_proba(X) if kind == "classifier" else first.predict(X)
    out_again = again.predict_proba(X) if kind == "classifier" else again.predict(X)
    out_other = (
        other_seed.predict_proba(X) if kind == "classifier" else other_seed.predict(X)
    )
    assert_array_equal(out, out_again)
    for expert in first.experts_:
        assert expert.n_samples_fit_ >= MIN_HARD_ROWS
    if how == "hard":
        # Nothing random is left: the seed cannot matter.
        assert_array_equal(out, out_other)
        assert sum(e.n_samples_fit_ for e in first.experts_) <= len(X)
    else:
        assert not np.allclose(out, out_other)
        assert all(e.n_samples_fit_ == len(X) for e in first.experts_)


def test_hard_fallback_takes_the_owned_rows():
    rng = np.random.RandomState(0)
    resp = rng.dirichlet(np.ones(3), size=60)
    sample_weight = rng.uniform(0.5, 2.0, size=60)
    sample_weight[:6] = 0.0
    for index in range(3):
        rows = fallback_rows(resp, index, sample_weight, "hard", None)
        expected = np.flatnonzero((resp.argmax(axis=1) == index) & (sample_weight > 0))
        assert len(expected) >= MIN_HARD_ROWS
        assert_array_equal(np.sort(rows), expected)


def test_hard_fallback_tops_up_with_the_most_responsible_rows():
    rng = np.random.RandomState(0)
    n = 40
    resp = np.empty((n, 2))
    resp[:, 0] = rng.uniform(0.0, 0.4, n)  # expert 0 owns almost nothing
    resp[:3, 0] = [0.9, 0.8, 0.7]
    resp[:, 1] = 1 - resp[:, 0]
    sample_weight = rng.uniform(0.5, 2.0, n)
    rows = fallback_rows(resp, 0, sample_weight, "hard", None)
    assert len(rows) == MIN_HARD_ROWS
    weight = sample_weight * resp[:, 0]
    expected = np.argsort(-weight)[:MIN_HARD_ROWS]
    assert set(rows) == set(expected)
    assert {0, 1, 2} <= set(rows)


def test_hard_fallback_never_takes_zero_weight_rows():
    n = 40
    resp = np.zeros((n, 2))
    resp[:, 1] = 1.0
    # Expert 0 is responsible for three rows only; elsewhere its responsibility
    # underflowed to exactly 0, as exp() does in EM.
    resp[[20, 21, 22]] = [[0.9, 0.1], [0.8, 0.2], [0.7, 0.3]]
    sample_weight = np.ones(n)
    sample_weight[:10] = 0.0  # rows that do not count
    rows = fallback_rows(resp, 0, sample_weight, "hard", None)
    assert {20, 21, 22} <= set(rows)
    assert np.all(sample_weight[rows] > 0), sorted(rows)
    # Owned rows with zero sample weight are left out as well.
    resp_owned = np.zeros((n, 2))
    resp_owned[:, 0] = 1.0
    rows = fallback_rows(resp_owned, 0, sample_weight, "hard", None)
    assert_array_equal(rows, np.arange(10, n))


def test_resample_fallback_draws_in_proportion_to_weight_times_resp():
    resp = np.array(
        [[0.9, 0.1], [0.5, 0.5], [0.2, 0.8], [0.6, 0.4], [0.0, 1.0], [0.7, 0.3]]
    )
    sample_weight = np.array([1.0, 2.0, 3.0, 0.5, 4.0, 0.0])
    probability = sample_weight * resp[:, 0] / np.dot(sample_weight, resp[:, 0])
    rng = np.random.RandomState(0)
    draws = np.concatenate(
        [fallback_rows(resp, 0, sample_weight, "resample", rng) for _ in range(3000)]
    )
    assert len(draws) == 3000 * len(resp)
    counts = np.bincount(draws, minlength=len(resp))
    # Rows with zero weight or zero responsibility are never drawn.
    assert counts[4] == 0 and counts[5] == 0
    positive = probability > 0
    _, p_value = stats.chisquare(counts[positive], len(draws) * probability[positive])
    assert p_value > 1e-3
    assert_allclose(counts / len(draws), probability, atol=0.01)


def test_a_one_class_fallback_gets_the_top_row_of_every_other_class():
    from skmoe._experts import with_two_classes

    y = np.array(["a", "a", "b", "b", "c", "c", "a"])
    weight = np.array([0.9, 0.8, 0.1, 0.3, 0.2, 0.0, 0.7])
    rows = np.array([0, 1, 6])  # class "a" only
    # Row 3 is the likelier "b"; row 5 has no weight, so row 4 is the "c".
    assert with_two_classes(rows, y, weight).tolist() == [0, 1, 6, 3, 4]
    assert with_two_classes(np.array([0, 2]), y, weight).tolist() == [0, 2]
    only_a = np.array(["a"] * 7)
    assert with_two_classes(rows, only_a, weight).tolist() == [0, 1, 6]


@pytest.mark.parametrize(
    "expert, how",
    [
        # One class: fits, then predicts one column.
        (LinearDiscriminantAnalysis(), "hard"),
        (LinearDiscriminantAnalysis(), "resample"),
        (GaussianProcessClassifier(), "hard"),  # refuses one class
    ],
    ids=["LDA-hard", "LDA-resample", "GPC-hard"],
)
def test_unweighted_classifiers_that_need_two_classes_fit(expert, how):
    """An expert that owns a region of one class is what the mixture looks
    for; these experts crashed there (AxisError, 'requires 2 or more
    distinct classes')."""
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(200, 2))
    middle = (X[:, 1] > 0).astype(int)
    y = np.where(X[:, 0] < -0.3, 0, np.where(X[:, 0] > 0.3, 2, middle))
    moe = MixtureOfExpertsClassifier(
        expert, n_experts=3, n_init=1, random_state=0, unweighted_fit=how
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        moe.fit(X, y)
    proba = moe.predict_proba(X)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert moe.score(X, y) > 0.9


def test_fit_expert_fits_an_unweighted_expert_on_the_fallback_rows():
    X, y = make_two_regimes(50, random_state=0)
    rng = np.random.RandomState(0)
    resp = rng.dirichlet([1.0, 1.0], size=50)
    sample_weight = np.ones(50)
    for how in ("hard", "resample"):
        expert = fit_expert(
            KNeighborsRegressor(), X, y, sample_weight, resp, 1, "unweighted", how, 7
        )
        rows = fallback_rows(resp, 1, sample_weight, how, np.random.RandomState(7))
        reference = KNeighborsRegressor().fit(X[rows], y[rows])
        assert expert.n_samples_fit_ == len(rows)
        assert_array_equal(expert.predict(X), reference.predict(X))


# ---- 4. a Pipeline whose last step takes weights -----------------------------


def test_pipeline_expert_is_fitted_with_the_weights():
    X, y = make_linear_mixture(200, random_state=0)
    weight = np.random.RandomState(0).uniform(0.1, 3.0, size=200)
    pipe = make_pipeline(StandardScaler(), Ridge(alpha=5.0))
    assert fit_mode(pipe) == "pipeline"
    moe = MixtureOfExpertsRegressor(pipe, n_experts=1).fit(X, y, sample_weight=weight)
    fitted = moe.experts_[0]
    assert isinstance(fitted, Pipeline)
    reference = clone(pipe).fit(X, y, ridge__sample_weight=weight)
    unweighted = clone(pipe).fit(X, y)
    assert_allclose(fitted[-1].coef_, reference[-1].coef_, rtol=1e-10)
    assert_allclose(fitted[-1].intercept_, reference[-1].intercept_, rtol=1e-10)
    assert not np.allclose(fitted[-1].coef_, unweighted[-1].coef_, rtol=1e-3)
    # The scaler is fitted without weights, as the pipeline does by hand.
    assert_allclose(fitted[0].mean_, X.mean(axis=0))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("routing", [False, True])
def test_pipeline_experts_get_responsibility_weights(routing):
    # One EM iteration from a given start: each expert is fitted with
    # sample_weight * start[:, i], which can be reproduced by hand.
    X, y = make_linear_mixture(200, random_state=0)
    rng = np.random.RandomState(1)
    weight = rng.uniform(0.1, 3.0, size=200)
    start = rng.dirichlet([1.0, 1.0], size=200)
    pipe = make_pipeline(StandardScaler(), Ridge(alpha=5.0))
    moe = MixtureOfExpertsRegressor([("a", pipe), ("b", clone(pipe))], max_iter=1)
    with config_context(enable_metadata_routing=routing):
        moe.fit(X, y, sample_weight=weight, init_resp=start)
        predictions = moe.predict(X)
    for i, expert in enumerate(moe.experts_):
        reference = clone(pipe).fit(X, y, ridge__sample_weight=weight * start[:, i])
        assert_allclose(expert[-1].coef_, reference[-1].coef_, rtol=1e-10)
    plain = clone(moe).fit(X, y, sample_weight=weight, init_resp=start)
    assert_allclose(plain.predict(X), predictions, rtol=1e-12)


def test_pipeline_expert_under_metadata_routing_gives_the_same_fit():
    X, y = make_hard_regimes(300, random_state=0)
    moe = MixtureOfExpertsRegressor(
        make_pipeline(StandardScaler(), Ridge(alpha=0.1)),
        n_experts=4,
        n_init=1,  # one start: the routing is tested, not the restarts
        random_state=0,
    )
    plain = clone(moe).fit(X, y)
    with config_context(enable_metadata_routing=True):
        routed = clone(moe).fit(X, y)
    assert_allclose(routed.predict(X), plain.predict(X), rtol=1e-12)
    assert plain.score(X, y) > 0.8


@pytest.mark.parametrize(
    "columns",
    [["x1"], "x1", make_column_selector(dtype_include="number")],
    ids=["names", "a name", "a selector"],
)
@pytest.mark.parametrize("where", ["expert", "gate"])
@pytest.mark.filterwarnings("ignore::skmoe.exceptions.LocalOptimumWarning")
def test_a_column_transformer_selecting_by_name_is_refused_up_front(columns, where):
    # The mixture gives its experts and gate arrays without names: the
    # selection could only fail, deep inside, at the first M-step, even for
    # a lone expert whose Pipeline fits the same frame alone.
    X, y = make_linear_mixture(100, random_state=0)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    select = make_column_transformer((StandardScaler(), columns))
    if where == "expert":
        moe = MixtureOfExpertsRegressor(make_pipeline(select, Ridge()), n_experts=1)
        who = r"Expert 'expert0' \(Pipeline\)"
    else:
        gate = make_pipeline(select, LogisticRegression())
        moe = MixtureOfExpertsRegressor(n_experts=2, gate=gate)
        who = r"The gate \(Pipeline\)"
    with pytest.raises(ValueError, match=who + " selects columns by name .*position"):
        moe.fit(frame, y)
    assert not hasattr(moe, "experts_")
    by_position = make_column_transformer((StandardScaler(), [0, 1]))
    last = Ridge() if where == "expert" else LogisticRegression()
    name = "experts" if where == "expert" else "gate"
    moe.set_params(**{name: make_pipeline(by_position, last)}).fit(frame, y)
    assert np.all(np.isfinite(moe.predict(frame)))


# ---- 5. rules as experts -----------------------------------------------------


def test_regression_rule_receives_its_region():
    X, y = make_two_regimes(400, random_state=0)
    # y = 1 + 2x on x < 0: shift so that the doubling rule is exactly right there.
    y = np.where(X[:, 0] < 0, y - 1, y)
    rule = RuleExpert(doubling)
    moe = MixtureOfExpertsRegressor(
        [("rule", rule), ("lin", LinearRegression())], random_state=0
    ).fit(X, y)
    left = X[:, 0] < 0
    assert np.mean(moe.predict_expert(X)[left] == 0) > 0.9
    assert np.mean(moe.predict_expert(X)[~left] == 1) > 0.9
    # The rule's learned noise is the data's noise (sd 0.1).
    assert 0.005 < moe.noise_var_[0] < 0.02
    assert_allclose(moe.named_experts_.lin.coef_, [-1.0], atol=0.05)


def _doubling_nan_as_zero(X):
    return np.nan_to_num(2 * X[:, 0])


def test_a_rule_that_handles_missing_values_takes_them():
    # The rule sees X as given, NaN included, but its tags said it took no
    # NaN, so a mixture refused it on such data.
    X, y = make_two_regimes(400, random_state=0)
    X = np.column_stack([X[:, 0], X[:, 0]])
    X[:40, 1] = np.nan
    experts = [
        ("rule", RuleExpert(_doubling_nan_as_zero)),
        ("lin", make_pipeline(SimpleImputer(), LinearRegression())),
    ]
    moe = MixtureOfExpertsRegressor(experts, gate_features=[0], random_state=0)
    moe.fit(X, y)
    assert np.all(np.isfinite(moe.predict(X)))
    with pytest.raises(ValueError, match="returned NaN or inf"):
        RuleExpert(doubling).fit(X[:, 1:]).predict(X[:, 1:])


@pytest.mark.parametrize(
    "rule",
    [RuleExpert(first_above_half), RuleExpert(first_above_half_proba, classes=[0, 1])],
    ids=["labels", "probabilities"],
)
def test_classification_rule_receives_its_region(rule):
    X, y = make_rule_regions(600, random_state=0)
    X_test, y_test = make_rule_regions(2000, random_state=1)
    # Three starts: from a start that hands the rule the other region, EM
    # can settle with the rule owning nothing.
    moe = MixtureOfExpertsClassifier(
        [("rule", rule), ("lr", LogisticRegression(C=100.0))],
        n_init=3,
        random_state=0,
    ).fit(X, y)
    region = X_test[:, 1] < 0
    owner = moe.predict_expert(X_test)
    assert np.mean(owner[region] == 0) > 0.9
    assert np.mean(owner[~region] == 1) > 0.9
    assert moe.score(X_test, y_test) > 0.95
    assert_allclose(moe.predict_proba(X_test).sum(axis=1), 1.0)
    if rule.classes is None:
        assert moe.label_noise_[0] == LABEL_NOISE_FLOOR
        assert np.isnan(moe.label_noise_[1])
    else:
        assert np.all(np.isnan(moe.label_noise_))
        assert_allclose(
            moe.expert_predictions(X_test)[:, 0], first_above_half_proba(X_test)
        )


def test_label_noise_of_a_lone_rule_is_its_weighted_error_rate():
    X, y = make_rule_regions(500, random_state=0, flip=0.2)
    weight = np.random.RandomState(0).uniform(0.0, 2.0, size=500)
    wrong = first_above_half(X) != y
    moe = MixtureOfExpertsClassifier([("rule", RuleExpert(first_above_half))])
    moe.fit(X, y, sample_weight=weight)
    assert moe.gate_ is None
    assert_allclose(moe.label_noise_[0], np.average(wrong, weights=weight))
    proba = moe.predict_proba(X)
    expected = np.where(
        first_above_half(X) == 1, 1 - moe.label_noise_[0], moe.label_noise_[0]
    )
    assert_allclose(proba[:, 1], expected)
    # A rule that is right on every row keeps the floor's doubt.
    right = first_above_half(X)
    perfect = MixtureOfExpertsClassifier([("rule", RuleExpert(first_above_half))])
    assert perfect.fit(X, right).label_noise_[0] == LABEL_NOISE_FLOOR


def test_label_noise_reflects_the_error_rate_on_the_rules_region():
    X, y = make_rule_regions(1000, random_state=0, flip=0.1)
    moe = MixtureOfExpertsClassifier(
        [("rule", RuleExpert(first_above_half)), ("lr", LogisticRegression(C=100.0))],
        random_state=0,
    ).fit(X, y)
    region = X[:, 1] < 0
    error = np.mean(first_above_half(X[region]) != y[region])
    assert 0.05 < error < 0.15
    assert abs(moe.label_noise_[0] - error) < 0.04, (moe.label_noise_[0], error)


def test_rule_with_an_unseen_label_has_no_opinion():
    proba = smoothed_one_hot(
        np.array(["a", "z", "c", "b"]), np.array(["a", "b", "c"]), 0.1
    )
    assert_allclose(
        proba,
        [
            [0.9, 0.05, 0.05],
            [1 / 3, 1 / 3, 1 / 3],
            [0.05, 0.05, 0.9],
            [0.05, 0.9, 0.05],
        ],
    )
    X, y = make_rule_regions(400, random_state=0)
    moe = MixtureOfExpertsClassifier(
        [("rule", RuleExpert(one_or_unknown)), ("lr", LogisticRegression())],
        random_state=0,
    ).fit(X, y)
    rule_proba = moe.expert_predictions(X)[:, 0]
    unknown = X[:, 0] <= 0.5
    assert_allclose(rule_proba[unknown], 0.5)
    noise = moe.label_noise_[0]
    assert_allclose(rule_proba[~unknown, 0], noise)
    assert_allclose(rule_proba[~unknown, 1], 1 - noise)
    assert LABEL_NOISE_FLOOR <= noise <= 0.5
    assert_allclose(moe.predict_proba(X).sum(axis=1), 1.0)


def _first_above_zero_as_int(X):
    return (X[:, 0] > 0).astype(int)


def test_a_label_rule_in_another_encoding_is_named():
    # It abstained on every row, with a label noise at the floor, and only
    # a DeadExpertWarning said anything; a prefit expert with those classes
    # is named.
    X = np.random.RandomState(0).uniform(-1, 1, (400, 2))
    y = np.where(X[:, 0] > 0, "pos", "neg")
    experts = [
        ("rule", RuleExpert(_first_above_zero_as_int)),
        ("lr", LogisticRegression()),
    ]
    with pytest.warns(DegenerateFitWarning, match=r"\['rule'\] know none of y's"):
        MixtureOfExpertsClassifier(experts, random_state=0).fit(X, y)


@pytest.mark.parametrize("classes", [5, "ab", [[0, 1]], [], [0, 0]])
def test_rule_classes_that_are_not_labels_are_named(classes):
    X, y = make_rule_regions(100, random_state=0)
    rule = RuleExpert(first_above_half_proba, classes=classes)
    message = r"RuleExpert's 'classes' must be None or a 1-D sequence of distinct"
    with pytest.raises(ValueError, match=message):
        rule.predict(X)
    moe = MixtureOfExpertsClassifier([("rule", rule), ("lr", LogisticRegression())])
    with pytest.raises(ValueError, match="Expert 'rule': " + message):
        moe.fit(X, y)


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_rule_mixture_clones_and_pickles(kind):
    if kind == "regressor":
        X, y = make_two_regimes(300, random_state=0)
        moe = MixtureOfExpertsRegressor(
            [("rule", RuleExpert(doubling)), ("lin", LinearRegression())],
            random_state=0,
        )
        output = "predict"
    else:
        X, y = make_rule_regions(300, random_state=0)
        moe = MixtureOfExpertsClassifier(
            [
                ("rule", RuleExpert(first_above_half_proba, classes=[0, 1])),
                ("lr", LogisticRegression()),
            ],
            random_state=0,
        )
        output = "predict_proba"
    moe.fit(X, y)
    expected = getattr(moe, output)(X)
    restored = pickle.loads(pickle.dumps(moe))
    assert_array_equal(getattr(restored, output)(X), expected)
    refitted = clone(moe).fit(X, y)
    assert_allclose(getattr(refitted, output)(X), expected, rtol=1e-12)
    rule = clone(moe).experts[0][1]
    assert isinstance(rule, RuleExpert) and rule.rule is moe.experts[0][1].rule


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_em_never_changes_a_rule(kind):
    if kind == "regressor":
        X, y = make_two_regimes(300, random_state=0)
        rule = RuleExpert(doubling)
        moe = MixtureOfExpertsRegressor([("rule", rule), ("lin", LinearRegression())])
    else:
        X, y = make_rule_regions(300, random_state=0)
        rule = RuleExpert(first_above_half)
        moe = MixtureOfExpertsClassifier([("rule", rule), ("lr", LogisticRegression())])
    before = copy.copy(rule.__dict__)
    moe.set_params(random_state=0, n_init=2).fit(X, y)
    assert rule.__dict__ == before
    moe.fit(X[:150], y[:150])
    assert rule.__dict__ == before


# ---- 6. prefit experts -------------------------------------------------------


def test_router_over_frozen_regressors_beats_each():
    X_a, y_a = make_two_regimes(300, random_state=0, noise_sd=0.3)
    left = X_a[:, 0] < 0
    low = LinearRegression().fit(X_a[left], y_a[left])
    high = LinearRegression().fit(X_a[~left], y_a[~left])
    coefs = [(m.coef_.copy(), m.intercept_) for m in (low, high)]
    X, y = make_two_regimes(300, random_state=1, noise_sd=0.3)
    X_test, y_test = make_two_regimes(2000, random_state=2, noise_sd=0.3)
    moe = MixtureOfExpertsRegressor(
        [("low", FrozenEstimator(low)), ("high", FrozenEstimator(high))],
        random_state=0,
    ).fit(X, y)
    score = moe.score(X_test, y_test)
    alone = [m.score(X_test, y_test) for m in (low, high)]
    assert score > max(alone) + 0.3, (score, alone)
    assert score > 0.95
    for model, (coef, intercept) in zip((low, high), coefs, strict=True):
        assert_array_equal(model.coef_, coef)
        assert model.intercept_ == intercept
    assert moe.named_experts_.low.estimator is low


def _frozen_experts_from_both_halves():
    """Two regimes and three prefit models of different kinds, frozen."""
    X, y = make_two_regimes(300, random_state=0, noise_sd=0.3)
    models = [
        LinearRegression().fit(X, y),
        DecisionTreeRegressor(max_depth=2).fit(X, y),
        KNeighborsRegressor(50).fit(X, y),
    ]
    named = [(f"m{i}", FrozenEstimator(m)) for i, m in enumerate(models)]
    return X, y, models, named


@pytest.mark.filterwarnings("ignore::skmoe.exceptions.DeadExpertWarning")
@pytest.mark.filterwarnings("ignore::skmoe.exceptions.LocalOptimumWarning")
@pytest.mark.parametrize(
    "kwargs",
    [
        {"warm_start": True},  # continued from a copy of the fitted experts
        # A copy before each jump, handed back when the jump is rejected (as
        # from this start).
        {"acceleration": "squarem", "n_init": 1, "random_state": 2},
        {"assignment": "stochastic", "max_iter": 30},  # a copy of the best state
    ],
    ids=["warm start", "squarem", "stochastic"],
)
def test_frozen_experts_stay_the_users_objects_through_every_copy(kwargs):
    """The guide: a prefit model is shared, not cloned. EM's copies of its
    experts (to continue, to undo a jump, to keep the best draw) deep-copied
    it, so the fitted mixture held a second copy of every prefit model."""
    X, y, models, named = _frozen_experts_from_both_halves()
    moe = MixtureOfExpertsRegressor(named, **{"random_state": 0, **kwargs})
    moe.fit(X, y)
    moe.fit(X, y)  # a warm start continues from the fitted experts
    for (_, frozen), fitted, model in zip(named, moe.experts_, models, strict=True):
        assert fitted is frozen
        assert fitted.estimator is model


def test_frozen_experts_fitted_on_other_columns_are_refused():
    # Trained earlier on the columns in another order, the experts read
    # each column as the one that stood there: R^2 -0.375 against 0.997,
    # with only scikit-learn's warning that X has no names.
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"season": rng.uniform(-3, 3, 400), "temp": rng.normal(size=400)})
    y = np.where(X.season < 0, 3 * X.temp, -2 * X.temp) + 0.1 * rng.normal(size=400)
    cold = X.season < 0
    own_order = ["temp", "season"]
    experts = [
        (name, FrozenEstimator(LinearRegression().fit(X.loc[rows, own_order], y[rows])))
        for name, rows in (("winter", cold), ("summer", ~cold))
    ]
    with pytest.raises(ValueError, match=r"'winter' was fitted on the columns \['temp"):
        MixtureOfExpertsRegressor(experts, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # X without names
        in_order = MixtureOfExpertsRegressor(experts, random_state=0).fit(
            X[own_order], y
        )
        selected = MixtureOfExpertsRegressor(
            experts, expert_features=own_order, random_state=0
        ).fit(X, y)
        assert in_order.score(X[own_order], y) > 0.99
        assert selected.score(X, y) > 0.99


def _feature_name_warnings(caught):
    return [w for w in caught if "valid feature names" in str(w.message)]


def test_frozen_experts_fitted_on_named_columns_are_given_them():
    """A model trained on a DataFrame, whose columns the mixture checked,
    warned at every call that X had no names: 90 warnings in one default
    fit and one more per predict."""
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    y = 2 * X.a + rng.normal(size=200)
    labels = (X.a > 0).astype(int)
    regressor = MixtureOfExpertsRegressor(
        [("pre", FrozenEstimator(LinearRegression().fit(X, y))), ("new", Ridge())],
        random_state=0,
    )
    classifier = MixtureOfExpertsClassifier(
        [
            ("proba", FrozenEstimator(LogisticRegression().fit(X, labels))),
            ("labels", FrozenEstimator(LinearSVC().fit(X, labels))),
        ],
        random_state=0,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        regressor.fit(X, y)
        regressor.predict(X, return_std=True)
        regressor.predict(X, top_k=1)
        regressor.predict_quantiles(X, [0.1, 0.9])
        classifier.fit(X, labels)
        classifier.predict_proba(X)
        classifier.predict(X, top_k=1)
    assert _feature_name_warnings(caught) == []
    # The names are given back, not the columns changed: the same numbers.
    assert_allclose(
        regressor.expert_predictions(X)[:, 0], regressor.experts_[0].predict(X)
    )


def test_frozen_experts_fitted_on_named_columns_warn_once_without_names():
    # The mixture cannot check the columns' order then, and says so once.
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(100, 2)), columns=["a", "b"])
    y = X.a - X.b + 0.1 * rng.normal(size=100)
    frozen = FrozenEstimator(LinearRegression().fit(X, y))
    moe = MixtureOfExpertsRegressor([("pre", frozen), ("new", Ridge())], n_init=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        moe.fit(X.to_numpy(), y)
    messages = [str(w.message) for w in caught]
    assert _feature_name_warnings(caught) == []
    assert (
        sum("'pre' was fitted on the named columns ['a', 'b']" in m for m in messages)
        == 1
    )


def test_a_frozen_mixture_gives_its_own_predictive_distribution():
    """A prefit mixture inside FrozenEstimator reports its own likelihood,
    which EM uses; its quantiles and draws were those of one Gaussian."""
    X, y = make_two_regimes(600, random_state=0, noise_sd=0.3)
    child = MixtureOfExpertsRegressor(n_experts=2, n_init=1, random_state=0)
    child.fit(X, y)
    parent = MixtureOfExpertsRegressor([("child", FrozenEstimator(child))]).fit(X, y)
    border = np.array([[0.0], [-2.0]])
    assert_allclose(
        parent.predict_quantiles(border, [0.05, 0.5, 0.95]),
        child.predict_quantiles(border, [0.05, 0.5, 0.95]),
    )
    assert_allclose(
        parent.sample_y(border, 50, random_state=0),
        child.sample_y(border, 50, random_state=0),
    )
    # Nothing of the prefit mixture is estimated here, not even a variance.
    assert parent.bic(X, y) == pytest.approx(-2 * parent.log_likelihood(X, y).sum())


def _three_blobs(n_samples, random_state):
    rng = np.random.RandomState(random_state)
    centres = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]])
    label = rng.randint(3, size=n_samples)
    X = centres[label] + rng.standard_normal((n_samples, 2))
    return X, np.array(["a", "b", "c"])[label]


def test_frozen_classifier_on_a_subset_of_classes():
    X, y = _three_blobs(600, random_state=0)
    ac = np.isin(y, ["a", "c"])
    partial = LogisticRegression().fit(X[ac], y[ac])
    assert_array_equal(partial.classes_, ["a", "c"])
    moe = MixtureOfExpertsClassifier(
        [("partial", FrozenEstimator(partial)), ("full", LogisticRegression())],
        random_state=0,
    ).fit(X, y)
    assert_array_equal(moe.classes_, ["a", "b", "c"])
    experts = moe.expert_predictions(X)
    # Its two columns land on "a" and "c"; it puts nothing on "b".
    assert_allclose(experts[:, 0, [0, 2]], partial.predict_proba(X))
    assert np.all(experts[:, 0, 1] == 0)
    proba = moe.predict_proba(X)
    assert_allclose(proba.sum(axis=1), 1.0)
    gate = moe.gate_proba(X)
    assert_allclose(proba[:, 1], gate[:, 1] * experts[:, 1, 1])
    assert moe.score(X, y) > 0.8


def test_frozen_classifier_that_knows_an_extra_class():
    X, y = _three_blobs(600, random_state=0)
    rng = np.random.RandomState(1)
    X_d = rng.standard_normal((100, 2)) + [0.0, -3.0]
    wide = LogisticRegression().fit(
        np.vstack([X, X_d]), np.concatenate([y, np.full(100, "d")])
    )
    assert_array_equal(wide.classes_, ["a", "b", "c", "d"])
    moe = MixtureOfExpertsClassifier(
        [("wide", FrozenEstimator(wide)), ("lr", LogisticRegression())],
        random_state=0,
    ).fit(X, y)
    assert_array_equal(moe.classes_, ["a", "b", "c"])
    known = wide.predict_proba(X)[:, :3]
    expected = known / known.sum(axis=1, keepdims=True)
    assert_allclose(moe.expert_predictions(X)[:, 0], expected, rtol=1e-10)
    proba = moe.predict_proba(X)
    assert proba.shape == (600, 3)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert moe.score(X, y) > 0.8


def _log_proba_of_y(moe, X, y):
    proba = moe.predict_proba(X)
    return np.log(proba[np.arange(len(y)), np.searchsorted(moe.classes_, y)])


def test_frozen_mixtures_on_other_classes_are_read_as_any_prefit_classifier():
    """A prefit mixture reports its own likelihood, which EM asked for with
    labels it may not know ('y contains labels not seen in fit'), or, with
    an extra class, not renormalised: EM then fitted another model than the
    one predict_proba gives."""
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(600, 2))
    upper = X[:, 1] >= 0
    y = np.where(X[:, 0] < 0, np.where(upper, "b", "a"), np.where(upper, "c", "b"))
    left = X[:, 0] < 0
    children = {
        "left": MixtureOfExpertsClassifier(n_init=1, random_state=0),  # a, b
        "right": MixtureOfExpertsClassifier(n_init=1, random_state=0),  # b, c
    }
    children["left"].fit(X[left], y[left])
    children["right"].fit(X[~left], y[~left])
    moe = MixtureOfExpertsClassifier(
        [(name, FrozenEstimator(child)) for name, child in children.items()],
        n_init=1,
        random_state=0,
    ).fit(X, y)
    assert moe.score(X, y) > 0.95
    assert_allclose(moe.log_likelihood(X, y), _log_proba_of_y(moe, X, y))
    # A child that knows a class the mixture does not.
    y_wide = y.copy()
    y_wide[:30] = "legacy"
    wide = MixtureOfExpertsClassifier(n_init=1, random_state=0).fit(X, y_wide)
    moe = MixtureOfExpertsClassifier(
        [
            ("wide", FrozenEstimator(wide)),
            ("right", FrozenEstimator(children["right"])),
        ],
        n_init=1,
        random_state=0,
    ).fit(X, y)
    assert_allclose(moe.log_likelihood(X, y), _log_proba_of_y(moe, X, y))


def test_frozen_classifier_that_knows_none_of_the_classes_is_named():
    X, y = _three_blobs(600, random_state=0)
    coded = LogisticRegression().fit(X, np.searchsorted(["a", "b", "c"], y))
    moe = MixtureOfExpertsClassifier(
        [("coded", FrozenEstimator(coded)), ("lr", LogisticRegression())],
        random_state=0,
    )
    with pytest.warns(
        DegenerateFitWarning, match=r"Experts \['coded'\] know none of y's classes"
    ):
        moe.fit(X, y)
    # It says the same for every row: no opinion.
    assert_allclose(moe.expert_predictions(X)[:, 0], 1 / 3)


@pytest.mark.filterwarnings("ignore::skmoe.exceptions.DeadExpertWarning")
def test_a_labels_only_expert_predicting_none_of_the_classes_is_named():
    # Its classes_ were y's, but it predicted them as text: every row was
    # "no opinion", the mixture chance-level, and nothing was said.
    class TextLabels(ClassifierMixin, BaseEstimator):
        def fit(self, X, y, sample_weight=None):
            self.model_ = LogisticRegression().fit(X, y, sample_weight=sample_weight)
            self.classes_ = self.model_.classes_
            return self

        def predict(self, X):
            return self.model_.predict(X).astype(str)

    X, y = _three_blobs(300, random_state=0)
    y = np.searchsorted(["a", "b", "c"], y)
    moe = MixtureOfExpertsClassifier(
        [("text", TextLabels()), ("lr", LogisticRegression())],
        n_init=1,
        crossfit=False,
        random_state=0,
    )
    with pytest.warns(
        DegenerateFitWarning,
        match=r"Experts \['text'\] know none of y's classes \[0, 1, 2\] "
        r"\(theirs: \['0'",
    ):
        moe.fit(X, y)


# ---- 7. any classifier as the gate -------------------------------------------


GATES = [
    HistGradientBoostingClassifier(max_iter=30),
    DecisionTreeClassifier(max_depth=3),
    MLPClassifier(hidden_layer_sizes=(8,), max_iter=300),
    make_pipeline(StandardScaler(), LogisticRegression()),
]
GATE_IDS = ["hist_gradient_boosting", "tree", "mlp", "pipeline"]


@no_convergence_warning
@pytest.mark.parametrize("gate", GATES, ids=GATE_IDS)
def test_any_classifier_as_gate_in_a_regressor(gate):
    X, y = make_two_regimes(300, random_state=0)
    X_test, y_test = make_two_regimes(1000, random_state=1)
    # The start of k-means on x alone: the regimes switch at x0 = 0, which it
    # finds. From the y-aware start (the default) a non-convex gate may settle
    # elsewhere: over seeds 0-9 the MLP gate's test R^2 spans 0.948-0.985
    # from it, 0.972-0.985 from this one, and the gate is what is tested
    # here. One start (n_init=1): restarts are not, and each refits the gate.
    moe = MixtureOfExpertsRegressor(
        gate=gate, init_params="kmeans", n_init=1, max_iter=20, random_state=0
    )
    moe.fit(X, y)
    assert moe.gate_ is not gate and type(moe.gate_) is type(gate)
    proba = moe.gate_proba(X_test)
    assert proba.shape == (1000, 2)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert moe.score(X_test, y_test) > 0.95
    # The gate splits the inputs where the regimes switch.
    owner = moe.predict_expert(X_test)
    left = X_test[:, 0] < 0
    assert max(np.mean(owner == left), np.mean(owner != left)) > 0.95


@no_convergence_warning
@pytest.mark.parametrize("gate", GATES, ids=GATE_IDS)
def test_any_classifier_as_gate_in_a_classifier(gate):
    X, y = make_xor(400, random_state=0)
    X_test, y_test = make_xor(2000, random_state=1)
    # One start: restarts are not tested here, and each refits the gate.
    moe = MixtureOfExpertsClassifier(
        n_experts=2, gate=gate, n_init=1, max_iter=12, random_state=0
    ).fit(X, y)
    proba = moe.predict_proba(X_test)
    assert proba.shape == (2000, 2)
    assert_allclose(proba.sum(axis=1), 1.0)
    gate_proba = moe.gate_proba(X_test)
    assert gate_proba.shape == (2000, 2)
    assert_allclose(gate_proba.sum(axis=1), 1.0)
    # XOR needs the gate: one logistic regression is at chance level.
    assert moe.score(X_test, y_test) > 0.85


class _Recorder(ClassifierMixin, BaseEstimator):
    """A gate that records what fit_gate hands it."""

    def fit(self, X, y, sample_weight=None):
        self.X_, self.y_, self.sample_weight_ = X, y, sample_weight
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))


def test_fit_gate_replicates_each_row_once_per_expert():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((5, 2))
    resp = rng.dirichlet(np.ones(3), size=5)
    resp[1] = [0.0, 1.0, 0.0]
    sample_weight = np.array([1.0, 2.0, 0.5, 0.0, 3.0])
    gate = fit_gate(_Recorder(), X, resp, sample_weight)
    expected = [
        (X[t], i, sample_weight[t] * resp[t, i])
        for i in range(3)
        for t in range(5)
        if sample_weight[t] * resp[t, i] > 0
    ]
    assert len(gate.y_) == len(expected) == 3 * 4 - 2
    assert_array_equal(gate.X_, [row for row, _, _ in expected])
    assert_array_equal(gate.y_, [label for _, label, _ in expected])
    assert_allclose(gate.sample_weight_, [w for _, _, w in expected])


def test_replicated_logistic_regression_gate_equals_softmax_gate():
    rng = np.random.RandomState(0)
    n = 300
    X = rng.standard_normal((n, 2)) * [3.0, 0.5] + [1.0, -2.0]
    logits = np.column_stack([X[:, 0], -X[:, 0] + X[:, 1], 0.5 * X[:, 1]])
    resp = np.exp(logits - logits.max(axis=1, keepdims=True))
    resp /= resp.sum(axis=1, keepdims=True)
    sample_weight = rng.uniform(0.5, 2.0, size=n)
    # SoftmaxGate standardises its inputs with the weights; do it beforehand so
    # that both models see the same inputs and the same penalty.
    mean = np.average(X, axis=0, weights=sample_weight)
    std = np.sqrt(np.average((X - mean) ** 2, axis=0, weights=sample_weight))
    Z = (X - mean) / std
    C = 10.0
    lr = fit_gate(
        LogisticRegression(C=C, tol=1e-12, max_iter=10_000), Z, resp, sample_weight
    )
    softmax = SoftmaxGate(alpha=1 / C, tol=1e-12).fit(Z, resp, sample_weight)
    assert_allclose(lr.predict_proba(Z), softmax.predict_proba(Z), atol=1e-6)
    assert_allclose(lr.coef_, softmax.coef_, atol=1e-6)


# ---- 8. gate_features and expert_features ------------------------------------


def _concomitant_frame(n_samples, random_state):
    X, y = make_concomitant(n_samples, random_state)
    columns = ["x", "z"] + [f"noise{i}" for i in range(X.shape[1] - 2)]
    return pd.DataFrame(X, columns=columns), y


def test_column_selectors_of_every_kind_give_the_same_model():
    frame, y = _concomitant_frame(300, random_state=0)
    test_frame, _ = _concomitant_frame(200, random_state=1)
    n_features = frame.shape[1]
    selectors = {
        "int": ([1], [0]),
        "negative_int": ([-(n_features - 1)], [-n_features]),
        "bool": (
            np.arange(n_features) == 1,
            np.arange(n_features) == 0,
        ),
        "names": (["z"], ["x"]),
        "callable": (
            make_column_selector(pattern="^z$"),
            make_column_selector(pattern="^x$"),
        ),
    }
    predictions = {}
    for name, (gate_features, expert_features) in selectors.items():
        moe = MixtureOfExpertsRegressor(
            gate_features=gate_features,
            expert_features=expert_features,
            random_state=0,
        ).fit(frame, y)
        assert_array_equal(moe.gate_features_, [1])
        assert_array_equal(moe.expert_features_, [0])
        assert moe.gate_.n_features_in_ == 1
        assert all(e.n_features_in_ == 1 for e in moe.experts_)
        predictions[name] = moe.predict(test_frame)
    array = MixtureOfExpertsRegressor(
        gate_features=[1], expert_features=[0], random_state=0
    ).fit(frame.to_numpy(), y)
    predictions["numpy"] = array.predict(test_frame.to_numpy())
    for name, prediction in predictions.items():
        assert_array_equal(prediction, predictions["int"], err_msg=name)


def test_several_columns_keep_their_order():
    frame, y = _concomitant_frame(200, random_state=0)
    moe = MixtureOfExpertsRegressor(
        gate_features=make_column_selector(pattern="^z$|^noise0$"),
        expert_features=["noise1", "x"],
        random_state=0,
    ).fit(frame, y)
    assert_array_equal(moe.gate_features_, [1, 2])
    assert_array_equal(moe.expert_features_, [3, 0])
    by_index = MixtureOfExpertsRegressor(
        gate_features=[1, 2], expert_features=[3, 0], random_state=0
    ).fit(frame.to_numpy(), y)
    assert_array_equal(moe.predict(frame), by_index.predict(frame.to_numpy()))


def test_gate_on_the_regime_column_and_experts_on_x_fit_better():
    X, y = make_concomitant(300, random_state=0)
    X_test, y_test = make_concomitant(5000, random_state=1)
    split = MixtureOfExpertsRegressor(
        gate_features=[1], expert_features=[0], random_state=0
    ).fit(X, y)
    everything = MixtureOfExpertsRegressor(random_state=0).fit(X, y)
    split_ll = split.log_likelihood(X_test, y_test).mean()
    everything_ll = everything.log_likelihood(X_test, y_test).mean()
    assert split_ll > everything_ll + 0.01, (split_ll, everything_ll)
    # The experts found the two slopes in x.
    slopes = sorted(float(e.coef_[0]) for e in split.experts_)
    assert_allclose(slopes, [-1.5, 2.0], atol=0.1)


def test_none_label_is_no_opinion_for_that_row_only():
    classes = np.array(["healthy", "sick"], dtype=object)
    labels = np.array(["sick", None, "healthy"], dtype=object)
    assert_allclose(
        smoothed_one_hot(labels, classes, 0.1), [[0.1, 0.9], [0.5, 0.5], [0.9, 0.1]]
    )


def test_label_noise_ignores_rows_without_an_opinion():
    # Right on 2 of the 3 rows where it speaks; silent (-1) on two rows.
    labels = np.array([1, 0, -1, -1, 1])
    y_index = np.array([1, 0, 0, 1, 0])
    assert_allclose(label_noise(labels, y_index, np.array([0, 1]), np.ones(5)), 1 / 3)


def test_hard_fallback_gives_neighbours_models_enough_rows():
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(400, 2))
    y = np.sin(6 * X[:, 0]) + 0.1 * rng.standard_normal(400)
    moe = MixtureOfExpertsRegressor(
        KNeighborsRegressor(n_neighbors=30),
        n_experts=6,
        n_init=1,  # one start: the fallback is tested, not the restarts
        random_state=1,
    ).fit(X, y)
    assert all(expert.n_samples_fit_ >= 30 for expert in moe.experts_)


@pytest.mark.parametrize("in_pipeline", [False, True], ids=["alone", "in a Pipeline"])
def test_an_ensemble_given_warm_start_keeps_learning(in_pipeline):
    # Its warm start keeps the fitted trees and adds none: the experts
    # stopped changing after EM's first M-step (0 of 14 refits changed
    # them), with nothing said. EM refits them cold and hands warm_start
    # back as given.
    from sklearn.ensemble import GradientBoostingRegressor

    X, y = make_linear_mixture(300, random_state=5)

    def mixture(warm_start):
        expert = GradientBoostingRegressor(
            n_estimators=10, max_depth=2, warm_start=warm_start, random_state=0
        )
        if in_pipeline:
            expert = make_pipeline(StandardScaler(), expert)
        return MixtureOfExpertsRegressor(
            expert, n_experts=2, n_init=1, max_iter=10, crossfit=False, random_state=0
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        given, cold = mixture(True).fit(X, y), mixture(False).fit(X, y)
    assert_array_equal(given.predict(X), cold.predict(X))
    key = "gradientboostingregressor__warm_start" if in_pipeline else "warm_start"
    assert all(expert.get_params()[key] is True for expert in given.experts_)


def test_em_turns_off_only_the_warm_starts_that_would_freeze():
    # A linear step's warm start continues from its last solution, as EM
    # wants; an ensemble step's keeps its members and would freeze.
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.linear_model import SGDRegressor

    from skmoe._estimators import give_back_warm_start, warm_start_for_em

    linear = make_pipeline(StandardScaler(), SGDRegressor(warm_start=True))
    boosted = make_pipeline(
        StandardScaler(), GradientBoostingRegressor(warm_start=True)
    )
    experts = [clone(linear), clone(boosted)]
    warm_start_for_em(experts)
    assert experts[0].get_params()["sgdregressor__warm_start"] is True
    assert experts[1].get_params()["gradientboostingregressor__warm_start"] is False
    give_back_warm_start(experts, [linear, boosted])
    assert experts[1].get_params()["gradientboostingregressor__warm_start"] is True


def test_resampling_an_expert_without_responsibility_takes_its_best_rows():
    # Under hard EM an expert can hold no responsibility at all; drawing
    # rows with probability 0 / 0 failed with numpy's "probabilities contain
    # NaN", where unweighted_fit="hard" tops its rows up.
    rng = np.random.RandomState(0)
    resp = np.zeros((20, 2))
    resp[:, 0] = 1
    weight = np.ones(20)
    rows = fallback_rows(resp, 1, weight, "resample", rng)
    assert_array_equal(rows, fallback_rows(resp, 1, weight, "hard", rng))
    drawn = fallback_rows(resp, 0, weight, "resample", np.random.RandomState(0))
    assert len(drawn) == 20
