"""MixtureOfExpertsRegressorCV and MixtureOfExpertsClassifierCV: capacity chosen
by cross-validated held-out log-likelihood."""

import inspect

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmoe import (
    MixtureOfExpertsClassifier,
    MixtureOfExpertsClassifierCV,
    MixtureOfExpertsRegressor,
    MixtureOfExpertsRegressorCV,
    SoftmaxGate,
)
from skmoe._cv import candidate_grid, split_features, split_responsibilities
from skmoe._cv_path import chosen_candidate

# Small grids, three folds and short EM runs keep scikit-learn's checks quick;
# two penalties, so that the path between them is checked too.
SMALL = dict(n_experts_grid=(1, 2), alphas=(1e-2, 1e-4), cv=3, max_iter=10)
CHECKED = [MixtureOfExpertsRegressorCV(**SMALL), MixtureOfExpertsClassifierCV(**SMALL)]


@parametrize_with_checks(CHECKED)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def three_regimes(n=600, seed=0):
    """y is piecewise linear in x with three pieces, noise sd 0.1."""
    rng = np.random.RandomState(seed)
    X = rng.uniform(-3, 3, size=(n, 1))
    y = np.select([X[:, 0] < -1, X[:, 0] < 1], [-2 * X[:, 0], 2.0], X[:, 0])
    return X, y + 0.1 * rng.standard_normal(n)


def one_regime(n=600, seed=0):
    """y is one linear function of x plus noise: no regimes at all."""
    rng = np.random.RandomState(seed)
    X = rng.uniform(-3, 3, size=(n, 2))
    return X, X @ [1.5, -0.5] + 0.3 * rng.standard_normal(n)


# ---- known truth ----------------------------------------------------------------


def test_three_regimes_choose_three_experts():
    X, y = three_regimes()
    moe = MixtureOfExpertsRegressorCV(alphas=(1e-3,), cv=3, random_state=0)
    moe.fit(X, y)
    assert moe.n_experts_ == 3
    assert len(moe.best_estimator_.experts_) == 3
    # Each regime's slope is recovered by one expert.
    slopes = sorted(float(e.coef_[0]) for e in moe.best_estimator_.experts_)
    np.testing.assert_allclose(slopes, [-2.0, 0.0, 1.0], atol=0.05)


def test_only_the_chosen_fit_of_the_refit_speaks(monkeypatch):
    # The refit walks the path to the chosen candidate; the fits along the
    # way, including the chosen number of experts at an earlier penalty,
    # are quiet, as the guide promises: their warnings are not the model's.
    import skmoe._cv as cv_module
    import skmoe._cv_path as path_module

    calls, in_refit = [], []
    fit_candidate, refit_path = path_module.fit_candidate, cv_module.refit_path

    def recording_fit(make, n_experts, alpha, start, data, quiet):
        if in_refit:
            calls.append((n_experts, alpha, quiet))
        return fit_candidate(make, n_experts, alpha, start, data, quiet)

    def recording_refit(*args, **kwargs):
        in_refit.append(True)
        return refit_path(*args, **kwargs)

    monkeypatch.setattr(path_module, "fit_candidate", recording_fit)
    monkeypatch.setattr(cv_module, "refit_path", recording_refit)
    X, y = three_regimes(300)
    moe = MixtureOfExpertsRegressorCV(
        n_experts_grid=(1, 2, 3), alphas=(1.0, 1e-3), cv=3, random_state=0
    ).fit(X, y)
    assert moe.alpha_ == 1e-3
    speaking = [call for call in calls if not call[2]]
    assert speaking == [(moe.n_experts_, moe.alpha_, False)]
    assert (moe.n_experts_, 1.0, True) in calls


def test_no_regimes_choose_the_expert_alone():
    X, y = one_regime()
    moe = MixtureOfExpertsRegressorCV(cv=3, random_state=0).fit(X, y)
    assert moe.n_experts_ == 1
    assert moe.best_estimator_.gate_ is None


def test_classifier_needs_two_experts_for_xor_and_one_for_a_logit():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(300, 2))
    xor = (X[:, 0] * X[:, 1] > 0).astype(int)
    # Drawn from a logistic regression: one LogisticRegression is the truth.
    # (A probit or a noisy threshold would not be: two logistic experts
    # approximate another link better than one.)
    proba = 1 / (1 + np.exp(-(3 * X[:, 0] - 2 * X[:, 1])))
    logit = (rng.uniform(size=300) < proba).astype(int)
    params = dict(n_experts_grid=(1, 2), alphas=(1e-3,), cv=3, random_state=0)
    assert MixtureOfExpertsClassifierCV(**params).fit(X, xor).n_experts_ == 2
    assert MixtureOfExpertsClassifierCV(**params).fit(X, logit).n_experts_ == 1


def test_one_expert_is_the_expert_alone():
    X, y = three_regimes(n=200)
    moe = MixtureOfExpertsRegressorCV(n_experts_grid=(1,), cv=3).fit(X, y)
    alone = LinearRegression().fit(X, y)
    np.testing.assert_allclose(moe.predict(X), alone.predict(X), rtol=1e-10)
    assert moe.n_experts_ == 1


# ---- what is reported -------------------------------------------------------


def test_cv_results_have_one_entry_per_candidate_and_fold():
    X, y = three_regimes(n=300)
    ks, alphas = (1, 2, 3), (1.0, 1e-3)
    moe = MixtureOfExpertsRegressorCV(
        n_experts_grid=ks, alphas=alphas, cv=4, random_state=0
    ).fit(X, y)
    results = moe.cv_results_
    n_candidates = len(ks) * len(alphas)
    assert results["params"] == candidate_grid(ks, alphas)
    np.testing.assert_array_equal(results["param_n_experts"], [1, 1, 2, 2, 3, 3])
    np.testing.assert_array_equal(
        results["param_gate__alpha"], [1.0, 1e-3, 1.0, 1e-3, 1.0, 1e-3]
    )
    splits = np.array([results[f"split{i}_test_score"] for i in range(4)])
    assert splits.shape == (4, n_candidates)
    assert "split4_test_score" not in results
    np.testing.assert_allclose(results["mean_test_score"], splits.mean(axis=0))
    np.testing.assert_allclose(results["std_test_score"], splits.std(axis=0))
    for key in ("rank_test_score", "mean_fit_time", "std_fit_time", "mean_n_iter"):
        assert results[key].shape == (n_candidates,)
    assert moe.n_splits_ == 4
    # Three regimes: no fewer experts come within one standard error of the
    # best mean, so the chosen candidate is the best, ranked first.
    best = np.argmax(results["mean_test_score"])
    se = splits[:, best].std(ddof=1) / 2.0
    within = results["mean_test_score"] >= results["mean_test_score"][best] - se
    assert results["param_n_experts"][within].min() == results["param_n_experts"][best]
    assert moe.best_index_ == best
    assert results["rank_test_score"][moe.best_index_] == 1
    assert moe.best_score_ == results["mean_test_score"][moe.best_index_]
    assert moe.best_params_ == {"n_experts": moe.n_experts_, "gate__alpha": moe.alpha_}


def test_one_se_picks_the_fewest_experts_within_a_standard_error():
    # Candidates in grid order: (1 expert), (2, alpha=1), (2, alpha=0.01),
    # (3, alpha=1). The last has the best mean (-0.29), whose fold scores
    # have a standard error of 0.0173.
    ks = np.array([1, 2, 2, 3])
    scores = np.array(
        [
            [-0.40, -0.30, -0.30, -0.26],
            [-0.41, -0.31, -0.30, -0.32],
            [-0.39, -0.30, -0.30, -0.29],
        ]
    )
    assert chosen_candidate(scores, ks, "best") == 3
    # Two experts are within it (-0.3033, -0.3000 >= -0.3073); of their
    # penalties, the better mean.
    assert chosen_candidate(scores, ks, "one_se") == 2
    # Narrower fold scores of the best leave two experts outside.
    scores[:, 3] = [-0.285, -0.295, -0.29]
    assert chosen_candidate(scores, ks, "one_se") == 3
    # Equal means at the chosen number: the first, the larger penalty.
    scores[:, 3] = [-0.26, -0.32, -0.29]
    scores[:, 2] = scores[:, 1]
    assert chosen_candidate(scores, ks, "one_se") == 1
    # A candidate that failed to score is never chosen, nor is its NaN the best.
    scores[:, 3] = np.nan
    assert chosen_candidate(scores, ks, "best") == 1
    # One split has no standard error: the best.
    scores[:, 3] = [-0.26, -0.32, -0.29]
    assert chosen_candidate(scores[:1], ks, "one_se") == 3


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_selection_best_takes_the_highest_mean_one_se_the_simpler_mixture():
    # One linear model with heavy-tailed noise: two Gaussian experts score a
    # little better on held-out rows (a scale mixture fits the tails), by
    # less than the folds' standard error.
    rng = np.random.RandomState(9)
    X = rng.normal(size=(150, 2))
    y = X @ [1.0, -2.0] + rng.standard_t(3, size=150)
    params = dict(n_experts_grid=(1, 2), alphas=(1e-2,), cv=3, random_state=0)
    best = MixtureOfExpertsRegressorCV(selection="best", **params).fit(X, y)
    one_se = MixtureOfExpertsRegressorCV(**params).fit(X, y)
    mean = one_se.cv_results_["mean_test_score"]
    np.testing.assert_array_equal(best.cv_results_["mean_test_score"], mean)
    assert mean[1] > mean[0]
    assert best.n_experts_ == best.best_estimator_.n_experts == 2
    assert one_se.n_experts_ == one_se.best_estimator_.n_experts == 1
    assert one_se.best_score_ == mean[0]
    # The single expert is the linear regression alone.
    np.testing.assert_allclose(
        one_se.predict(X), LinearRegression().fit(X, y).predict(X), atol=1e-10
    )


def test_fold_scores_are_held_out_log_likelihoods():
    X, y = three_regimes(n=300)
    cv = KFold(3, shuffle=True, random_state=1)
    moe = MixtureOfExpertsRegressorCV(
        n_experts_grid=(1,), alphas=None, cv=cv, random_state=0
    ).fit(X, y)
    for i, (train, test) in enumerate(cv.split(X)):
        alone = MixtureOfExpertsRegressor(n_experts=1).fit(X[train], y[train])
        expected = alone.log_likelihood(X[test], y[test]).mean()
        np.testing.assert_allclose(moe.cv_results_[f"split{i}_test_score"], expected)


def test_one_expert_is_fitted_once_for_every_penalty():
    X, y = three_regimes(n=300)
    moe = MixtureOfExpertsRegressorCV(
        n_experts_grid=(1, 2), alphas=(1.0, 1e-2, 1e-4), cv=3, random_state=0
    ).fit(X, y)
    results = moe.cv_results_
    one = results["param_n_experts"] == 1
    # No gate, so the penalty changes nothing: one fit, reused.
    assert np.ptp(results["mean_test_score"][one]) == 0
    np.testing.assert_array_equal(results["mean_n_iter"][one], [1, 0, 0])


def test_without_alphas_the_gate_is_kept_as_given():
    X, y = three_regimes(n=300)
    gate = SoftmaxGate(alpha=0.5)
    moe = MixtureOfExpertsRegressorCV(
        n_experts_grid=(2, 3), alphas=None, gate=gate, cv=3, random_state=0
    ).fit(X, y)
    assert "param_gate__alpha" not in moe.cv_results_
    assert moe.alpha_ is None
    assert moe.best_estimator_.gate_.alpha == 0.5


def test_refit_uses_the_chosen_candidate_and_delegates():
    X, y = three_regimes(n=300)
    moe = MixtureOfExpertsRegressorCV(
        n_experts_grid=(2, 3), alphas=(1.0, 1e-4), cv=3, random_state=0
    ).fit(X, y)
    best = moe.best_estimator_
    assert isinstance(best, MixtureOfExpertsRegressor)
    assert len(best.experts_) == moe.n_experts_
    assert best.gate_.alpha == moe.alpha_
    np.testing.assert_array_equal(moe.predict(X), best.predict(X))
    mean, std = moe.predict(X[:5], return_std=True)
    np.testing.assert_array_equal(std, best.predict(X[:5], return_std=True)[1])
    np.testing.assert_array_equal(moe.log_likelihood(X, y), best.log_likelihood(X, y))
    assert moe.score(X, y) == best.score(X, y)


def test_the_predictive_distribution_is_the_chosen_mixtures():
    X, y = three_regimes(n=300)
    moe = MixtureOfExpertsRegressorCV(
        n_experts_grid=(2, 3), alphas=(1e-4,), cv=3, random_state=0
    ).fit(X, y)
    best = moe.best_estimator_
    q = [0.05, 0.5, 0.95]
    np.testing.assert_array_equal(
        moe.predict_quantiles(X, q), best.predict_quantiles(X, q)
    )
    np.testing.assert_array_equal(
        moe.predict_interval(X, coverage=0.8), best.predict_interval(X, coverage=0.8)
    )
    np.testing.assert_array_equal(
        moe.sample_y(X[:5], n_samples=3, random_state=0),
        best.sample_y(X[:5], n_samples=3, random_state=0),
    )
    np.testing.assert_array_equal(moe.gate_proba(X), best.gate_proba(X))
    assert moe.gate_proba(X).shape == (300, moe.n_experts_)
    # The mixture's own checks of the arguments answer for it.
    with pytest.raises(ValueError, match="coverage"):
        moe.predict_interval(X, coverage=1.5)


def test_one_chosen_expert_predicts_its_own_gaussian():
    X, y = one_regime()
    moe = MixtureOfExpertsRegressorCV(cv=3, random_state=0).fit(X, y)
    assert moe.n_experts_ == 1
    np.testing.assert_array_equal(moe.gate_proba(X[:4]), np.ones((4, 1)))
    mean, std = moe.predict(X, return_std=True)
    low, high = moe.predict_interval(X, coverage=0.9).T
    np.testing.assert_allclose(low, mean - 1.6448536 * std, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(high, mean + 1.6448536 * std, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "method, args",
    [
        ("predict_quantiles", ([0.5],)),
        ("predict_interval", ()),
        ("sample_y", ()),
        ("gate_proba", ()),
        ("log_likelihood", (np.zeros(3),)),
    ],
)
def test_delegates_need_a_fit(method, args):
    with pytest.raises(NotFittedError):
        getattr(MixtureOfExpertsRegressorCV(), method)(np.zeros((3, 1)), *args)


def test_classifier_delegates_to_the_refitted_mixture():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((150, 2))
    y = np.array(["a", "b", "c"])[np.argmax(X @ [[1, -1, 0], [0, 1, -1]], axis=1)]
    clf = MixtureOfExpertsClassifierCV(
        n_experts_grid=(1, 2), alphas=(1e-3,), cv=3, random_state=0
    ).fit(X, y)
    best = clf.best_estimator_
    assert isinstance(best, MixtureOfExpertsClassifier)
    np.testing.assert_array_equal(clf.classes_, ["a", "b", "c"])
    np.testing.assert_array_equal(clf.predict(X), best.predict(X))
    np.testing.assert_array_equal(clf.predict_proba(X), best.predict_proba(X))
    np.testing.assert_array_equal(clf.predict_log_proba(X), best.predict_log_proba(X))
    np.testing.assert_array_equal(clf.gate_proba(X), best.gate_proba(X))


def test_an_int_cv_is_stratified_for_the_classifier():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((90, 2))
    y = np.repeat([0, 1, 2], 30)  # sorted: plain KFold would leave a class out
    params = dict(n_experts_grid=(1,), alphas=None)
    as_int = MixtureOfExpertsClassifierCV(cv=3, **params).fit(X, y)
    stratified = MixtureOfExpertsClassifierCV(cv=StratifiedKFold(3), **params)
    stratified.fit(X, y)
    np.testing.assert_array_equal(
        as_int.cv_results_["mean_test_score"],
        stratified.cv_results_["mean_test_score"],
    )


def test_same_random_state_same_choice_and_model():
    X, y = three_regimes(n=300)
    params = dict(n_experts_grid=(2, 3), alphas=(1e-2,), cv=3, random_state=3)
    a = MixtureOfExpertsRegressorCV(**params).fit(X, y)
    b = MixtureOfExpertsRegressorCV(**params).fit(X, y)
    np.testing.assert_array_equal(
        a.cv_results_["mean_test_score"], b.cv_results_["mean_test_score"]
    )
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


def test_parallel_folds_give_the_same_results():
    X, y = three_regimes(n=300)
    params = dict(n_experts_grid=(1, 2, 3), alphas=(1e-2,), cv=3, random_state=0)
    serial = MixtureOfExpertsRegressorCV(**params).fit(X, y)
    parallel = MixtureOfExpertsRegressorCV(n_jobs=2, **params).fit(X, y)
    np.testing.assert_allclose(
        serial.cv_results_["mean_test_score"],
        parallel.cv_results_["mean_test_score"],
        rtol=1e-12,
    )


# ---- the mixture's parameters ---------------------------------------------------


@pytest.mark.parametrize(
    "cv_class, mixture_class",
    [
        (MixtureOfExpertsRegressorCV, MixtureOfExpertsRegressor),
        (MixtureOfExpertsClassifierCV, MixtureOfExpertsClassifier),
    ],
)
def test_the_mixture_parameters_are_offered_with_its_defaults(cv_class, mixture_class):
    own = {"n_experts_grid", "alphas", "cv", "selection", "n_jobs"}
    not_offered = {"n_experts", "n_jobs", "warm_start"}
    mixture = inspect.signature(mixture_class).parameters
    offered = inspect.signature(cv_class).parameters
    assert set(offered) - own == set(mixture) - not_offered
    for name in set(offered) - own:
        assert offered[name].default == mixture[name].default, name


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_mixture_parameters_reach_every_candidate():
    X, y = three_regimes(n=200)
    moe = MixtureOfExpertsRegressorCV(
        DecisionTreeRegressor(max_depth=2),
        n_experts_grid=(1, 2),
        alphas=(1e-3,),
        cv=3,
        max_iter=7,
        reg_var=0.01,
        random_state=0,
    ).fit(X, y)
    best = moe.best_estimator_
    assert best.max_iter == 7 and best.reg_var == 0.01
    assert all(e.max_depth == 2 for e in best.experts_)
    assert max(moe.cv_results_["mean_n_iter"]) <= 7


# ---- bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, error, match",
    [
        (dict(n_experts_grid=(0, 2)), ValueError, r"'n_experts_grid'.*\(0, 2\)"),
        (dict(n_experts_grid=()), ValueError, r"'n_experts_grid'.*non-empty"),
        (dict(n_experts_grid=(2, 2)), ValueError, r"'n_experts_grid'.*repeat"),
        (dict(n_experts_grid=(1.5,)), ValueError, r"'n_experts_grid'.*ints >= 1"),
        (dict(n_experts_grid=3), TypeError, r"'n_experts_grid'.*got 3"),
        (dict(alphas=(-1.0,)), ValueError, r"'alphas'.*non-negative.*-1.0"),
        (dict(alphas=(np.inf,)), ValueError, r"'alphas'.*finite"),
        (dict(alphas=()), ValueError, r"'alphas'.*non-empty"),
        (dict(alphas=(0.1, 0.1)), ValueError, r"'alphas'.*repeat"),
        (dict(alphas=0.1), TypeError, r"'alphas'.*got 0.1"),
        (dict(gate=LogisticRegression()), ValueError, r"'alphas'.*alphas=None"),
        (
            dict(experts=[("a", LinearRegression()), ("b", LinearRegression())]),
            ValueError,
            r"'experts' must be None or one estimator",
        ),
        (dict(init_params=np.ones((10, 2))), ValueError, r"'init_params'.*ndarray"),
        (dict(selection="1se"), ValueError, r"'selection'.*'one_se', 'best'.*'1se'"),
    ],
)
def test_bad_parameters_are_named(params, error, match):
    X, y = three_regimes(n=60)
    with pytest.raises(error, match=match):
        MixtureOfExpertsRegressorCV(**params).fit(X, y)


# ---- the helpers ------------------------------------------------------------------


def test_split_grows_the_largest_expert_and_keeps_the_others():
    rng = np.random.RandomState(0)
    # Two clusters of rows, at x < -2 and x > 2.
    X = np.r_[np.linspace(-3, -2, 20), np.linspace(2, 3, 20)][:, np.newaxis]
    y = X[:, 0].copy()
    w = np.ones(40)
    resp = np.column_stack([np.full(40, 0.7), np.full(40, 0.3)])
    Z = split_features(X, y[:, np.newaxis], w)
    grown = split_responsibilities(resp, Z, w, 3, rng)
    assert grown.shape == (40, 3)
    np.testing.assert_allclose(grown.sum(axis=1), 1.0)
    # Expert 0 (the largest share) is split between itself and the new
    # expert 2; expert 1 keeps its column.
    np.testing.assert_array_equal(grown[:, 1], resp[:, 1])
    np.testing.assert_allclose(grown[:, 0] + grown[:, 2], resp[:, 0])
    # The split follows the data: a row's share goes mostly to the half of
    # its cluster.
    left = X[:, 0] < 0
    for half in (0, 2):
        share = grown[:, half] / resp[:, 0]
        assert set(np.round(share, 6)) == {0.2, 0.8}
        assert np.ptp(share[left]) == 0 and np.ptp(share[~left]) == 0
