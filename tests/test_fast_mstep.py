"""The fast M-step gives what the experts' own weighted fit converges to, as
real, usable scikit-learn estimators, and leaves every other case to ``fit``."""

import copy
import gc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _data import make_linear_mixture
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    PolynomialFeatures,
    RobustScaler,
    SplineTransformer,
    StandardScaler,
)
from sklearn.tree import DecisionTreeRegressor

from skmoe import (
    MixtureOfExpertsClassifier,
    MixtureOfExpertsRegressor,
    _experts,
    _fast_mstep,
)
from skmoe._base import _BaseMixtureOfExperts
from skmoe._fast_mstep import (
    EM_NEWTON_STEPS,
    RunMemo,
    fast_mstep,
    fit_pipeline,
    logistic_design,
    supports_fast_mstep,
    supports_pipeline_mstep,
)

# Before scikit-learn 1.8, LogisticRegression's default penalty is "l2" rather
# than the l1_ratio form the fast M-step knows, so every logistic expert keeps
# its own fit there (as the fallback tests check); the tests of the fast
# logistic path itself apply only where it runs.
fast_logistic = pytest.mark.skipif(
    not supports_fast_mstep(LogisticRegression()),
    reason="this scikit-learn's LogisticRegression keeps its own fit",
)

ATOL = 1e-6


def regression_data(n=300, seed=0):
    """Features of unequal scales away from 0, a linear target, row weights
    spanning two orders of magnitude."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 4)) * [1.0, 10.0, 0.1, 3.0] + 5.0
    y = X @ np.array([1.0, -0.2, 4.0, 0.5]) + rng.normal(size=n)
    w = rng.uniform(0.02, 2.0, size=n)
    return X, y, w


def classification_data(n_classes, n=300, seed=0, labels=None, standardize=False):
    """Labels drawn from a known multinomial logit on ``regression_data``'s X,
    standardised if asked (for lbfgs, which converges slowly on raw X)."""
    X, _, w = regression_data(n, seed)
    rng = np.random.RandomState(seed + 1)
    logits = (X - 5.0) @ rng.normal(size=(4, n_classes))
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    y = (proba.cumsum(axis=1) < rng.uniform(size=(n, 1))).sum(axis=1)
    y = np.minimum(y, n_classes - 1)
    if labels is not None:
        y = np.asarray(labels)[y]
    if standardize:
        X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, y, w


def fitted_before(expert, X, y):
    """``expert`` after a first, unweighted fit of its own on a few rows: the
    fast M-step solves the fits after an expert's first one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clone(expert).fit(X[::3], y[::3])


def tight(expert):
    """The expert's own estimator, solved to convergence: the reference."""
    reference = clone(expert)
    if isinstance(reference, LogisticRegression):
        reference.set_params(solver="newton-cholesky", tol=1e-12, max_iter=1000)
    return reference


@pytest.mark.parametrize(
    "expert",
    [
        LinearRegression(),
        LinearRegression(fit_intercept=False),
        Ridge(alpha=3.0),
        Ridge(alpha=0.5, fit_intercept=False),
        Ridge(alpha=2.0, solver="svd"),
    ],
    ids=repr,
)
@pytest.mark.parametrize("scale", [1.0, 1e-3])
def test_linear_experts_equal_their_weighted_fit(expert, scale):
    X, y, w = regression_data()
    w = w * scale  # Ridge's penalty does not scale with the weights
    reference = tight(expert).fit(X, y, sample_weight=w)
    (fitted,) = fast_mstep([fitted_before(expert, X, y)], X, y, w[:, np.newaxis])
    np.testing.assert_allclose(fitted.coef_, reference.coef_, rtol=0, atol=ATOL)
    np.testing.assert_allclose(
        fitted.intercept_, reference.intercept_, rtol=0, atol=ATOL
    )
    np.testing.assert_allclose(fitted.predict(X), reference.predict(X), atol=ATOL)
    assert fitted.n_features_in_ == reference.n_features_in_
    if isinstance(expert, LinearRegression):
        assert fitted.rank_ == reference.rank_
        np.testing.assert_allclose(fitted.singular_, reference.singular_, rtol=1e-8)


@fast_logistic
@pytest.mark.parametrize("n_classes", [2, 3, 4])
@pytest.mark.parametrize(
    "params",
    [{}, {"C": 0.1}, {"C": 10.0, "fit_intercept": False}, {"solver": "newton-cg"}],
    ids=repr,
)
@pytest.mark.parametrize("scale", [1.0, 1e-2])
def test_logistic_expert_equals_its_weighted_fit(n_classes, params, scale):
    X, y, w = classification_data(n_classes)
    w = w * scale  # the penalty 1 / C is on the summed loss: weights matter
    expert = LogisticRegression(**params)
    reference = tight(expert).fit(X, y, sample_weight=w)
    (fitted,) = fast_mstep([fitted_before(expert, X, y)], X, y, w[:, np.newaxis])
    np.testing.assert_allclose(fitted.coef_, reference.coef_, rtol=0, atol=ATOL)
    np.testing.assert_allclose(
        fitted.intercept_, reference.intercept_, rtol=0, atol=ATOL
    )
    np.testing.assert_allclose(
        fitted.predict_proba(X), reference.predict_proba(X), atol=ATOL
    )
    assert fitted.coef_.shape == reference.coef_.shape
    assert fitted.intercept_.shape == reference.intercept_.shape
    assert fitted.n_iter_.shape == (1,) and fitted.n_iter_.dtype == np.int32


def penalised_loss(expert, X, y, w):
    """LogisticRegression's objective: weighted log-loss + ||coef||^2 / (2 C)."""
    proba = expert.predict_proba(X)[
        np.arange(len(y)), np.searchsorted(expert.classes_, y)
    ]
    return -w @ np.log(proba) + 0.5 / expert.C * np.sum(expert.coef_**2)


def test_solution_is_at_least_as_good_as_the_default_fit():
    # The estimator's own fit stops at tol=1e-4; the fast M-step solves the
    # same problem further, so its objective is as low or lower.
    X, y, w = classification_data(3, standardize=True)
    own = LogisticRegression().fit(X, y, sample_weight=w)
    expert = fitted_before(LogisticRegression(), X, y)
    (fitted,) = fast_mstep([expert], X, y, w[:, np.newaxis])
    assert penalised_loss(fitted, X, y, w) <= penalised_loss(own, X, y, w) + 1e-9
    np.testing.assert_allclose(fitted.predict_proba(X), own.predict_proba(X), atol=0.05)


def test_fitted_expert_is_a_usable_estimator():
    X, y, w = classification_data(3, labels=["low", "mid", "high"], standardize=True)
    expert = fitted_before(LogisticRegression(C=2.0), X, y)
    (fitted,) = fast_mstep([expert], X, y, w[:, np.newaxis])
    assert list(fitted.classes_) == ["high", "low", "mid"]
    assert set(fitted.predict(X)) <= {"high", "low", "mid"}
    assert 0.5 < fitted.score(X, y, sample_weight=w) <= 1.0
    np.testing.assert_allclose(fitted.predict_proba(X).sum(axis=1), 1.0)
    # Softmax fixes the intercepts only up to a constant: the zero-sum one,
    # as scikit-learn's solvers end on it.
    assert abs(fitted.intercept_.sum()) < 1e-10
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "coef_")
    # Refitting the estimator itself works as usual afterwards.
    assert fitted.fit(X, y).coef_.shape == (3, 4)


def test_experts_are_fitted_in_place_each_on_its_column():
    X, y, w = regression_data()
    left = (X[:, 0] < 5.0).astype(float)
    weights = np.column_stack([left, 1.0 - left]) * w[:, np.newaxis] + 1e-12
    experts = [fitted_before(e, X, y) for e in (LinearRegression(), Ridge())]
    fitted = fast_mstep(experts, X, y, weights)
    assert fitted[0] is experts[0] and fitted[1] is experts[1]
    for expert, column in zip(fitted, weights.T, strict=True):
        reference = clone(expert).fit(X, y, sample_weight=column)
        np.testing.assert_allclose(expert.coef_, reference.coef_, atol=ATOL)


def logistic_objective(expert, X, y, w):
    """scikit-learn's objective: weighted log-loss plus ``||coef||^2 / (2 C)``."""
    proba = expert.predict_proba(X)[
        np.arange(len(y)), np.searchsorted(expert.classes_, y)
    ]
    return -w @ np.log(proba) + 0.5 / expert.C * np.vdot(expert.coef_, expert.coef_)


@fast_logistic
@pytest.mark.parametrize("n_classes", [2, 3])
def test_a_warm_m_step_goes_downhill_in_bounded_steps_to_the_same_solution(n_classes):
    X, y, w = classification_data(n_classes, standardize=True)
    # The first fits are the estimator's own; the next ones are Newton's,
    # from the last solution (warm: at most EM_NEWTON_STEPS, as in EM) or
    # from zero (cold: to convergence).
    cold = LogisticRegression()
    fast_mstep([cold], X, y, w[:, np.newaxis])
    warm = clone(cold).set_params(warm_start=True)
    fast_mstep([warm], X, y, w[:, np.newaxis])
    nudged = w * np.linspace(0.5, 1.5, len(w))  # the next EM iteration's weights
    before = logistic_objective(warm, X, y, nudged)
    fast_mstep([warm], X, y, nudged[:, np.newaxis])
    fast_mstep([cold], X, y, nudged[:, np.newaxis])
    assert warm.n_iter_[0] <= EM_NEWTON_STEPS < cold.n_iter_[0]
    assert logistic_objective(warm, X, y, nudged) < before
    # Repeated on the same weights, as EM settles, the bounded steps reach
    # the solution of a full fit.
    for _ in range(5):
        fast_mstep([warm], X, y, nudged[:, np.newaxis])
    np.testing.assert_allclose(warm.coef_, cold.coef_, atol=ATOL)
    np.testing.assert_allclose(warm.intercept_, cold.intercept_, atol=ATOL)


def test_feature_names_of_an_earlier_fit_are_forgotten():
    pd = pytest.importorskip("pandas")
    X, y, w = regression_data()
    expert = LinearRegression().fit(pd.DataFrame(X, columns=list("abcd")), y)
    fast_mstep([expert], X, y, w[:, np.newaxis])
    assert not hasattr(expert, "feature_names_in_")
    expert.predict(X)  # no warning about missing names: it was fitted on arrays


@pytest.mark.parametrize(
    "expert",
    [
        LinearRegression(positive=True),
        Ridge(positive=True, solver="lbfgs"),
        Ridge(alpha=np.array([1.0])),
        Ridge(solver="saga"),
        LogisticRegression(l1_ratio=1.0, solver="saga"),
        LogisticRegression(l1_ratio=0.5, solver="saga"),
        LogisticRegression(C=np.inf),
        LogisticRegression(class_weight="balanced"),
        LogisticRegression(solver="liblinear"),
        LogisticRegression(solver="sag"),
        LogisticRegression(penalty="l2"),
        LogisticRegression(verbose=1),
        DecisionTreeRegressor(),
    ],
    ids=repr,
)
def test_unsupported_options_are_not_claimed(expert):
    assert not supports_fast_mstep(expert)


def test_subclasses_keep_their_own_fit():
    class Tweaked(LinearRegression):
        def fit(self, X, y, sample_weight=None):
            self.n_fits_ = getattr(self, "n_fits_", 0) + 1
            return super().fit(X, y, sample_weight=sample_weight)

    X, y, w = regression_data()
    assert not supports_fast_mstep(Tweaked())
    expert = Tweaked().fit(X, y)
    fast_mstep([expert], X, y, w[:, np.newaxis])
    assert expert.n_fits_ == 2


def own_fit_equal(expert, X, y, w):
    """fast_mstep gives exactly what the estimator's own fit gives."""
    reference = clone(expert).fit(X, y, sample_weight=w)
    (fitted,) = fast_mstep([fitted_before(expert, X, y)], X, y, w[:, np.newaxis])
    np.testing.assert_array_equal(fitted.coef_, reference.coef_)
    np.testing.assert_array_equal(fitted.intercept_, reference.intercept_)


@pytest.mark.parametrize(
    "expert",
    [LogisticRegression(class_weight="balanced"), Ridge(positive=True)],
    ids=repr,
)
def test_unsupported_experts_are_fitted_by_their_own_fit(expert):
    if isinstance(expert, LogisticRegression):
        X, y, w = classification_data(3, standardize=True)
    else:
        X, y, w = regression_data()
    own_fit_equal(expert, X, y, w)


def test_inputs_other_than_dense_float64_use_the_own_fit():
    X, y, w = regression_data()
    own_fit_equal(LinearRegression(), X.astype(np.float32), y, w)
    own_fit_equal(Ridge(), sp.csr_matrix(X), y, w)
    Xc, yc, wc = classification_data(2, standardize=True)
    own_fit_equal(LogisticRegression(), Xc.astype(np.float32), yc, wc)


def test_collinear_features_use_the_least_squares_solver():
    # Two equal columns: the normal equations are singular and
    # LinearRegression's minimum-norm solution is the one to give.
    X, y, w = regression_data()
    X = np.column_stack([X, X[:, 0]])
    assert supports_fast_mstep(LinearRegression())
    own_fit_equal(LinearRegression(), X, y, w)


@pytest.mark.parametrize(
    "expert, n_rows",
    [
        (LinearRegression(), 12),  # 12 centred rows span 11 of 12 columns
        (LinearRegression(fit_intercept=False), 11),
        (Ridge(alpha=1.0), 12),
    ],
    ids=repr,
)
def test_more_features_than_rows_use_the_own_fit_without_the_normal_equations(
    expert, n_rows, monkeypatch
):
    # The shapes alone decide: the features' square system is never formed
    # nor decomposed (LinearRegression's lstsq, Ridge's n_samples-square one).
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(n_rows, 12)), rng.normal(size=n_rows)
    w = rng.uniform(0.5, 2.0, size=n_rows)
    assert_own_fit_without_normal_equations(expert, X, y, w, monkeypatch)


def test_rows_without_weight_do_not_count_towards_the_rank(monkeypatch):
    X, y, w = regression_data(n=20)
    w[3:] = 0.0  # three rows carry the fit: 3 centred rows span 2 of 4 columns
    assert_own_fit_without_normal_equations(LinearRegression(), X, y, w, monkeypatch)


def assert_own_fit_without_normal_equations(expert, X, y, w, monkeypatch):
    """fast_mstep gives the estimator's own fit without decomposing the
    normal equations (the references are fitted before that is refused)."""
    reference = clone(expert).fit(X, y, sample_weight=w)
    before = fitted_before(expert, X, y)

    def refuse(*args, **kwargs):
        raise AssertionError("the normal equations were decomposed")

    monkeypatch.setattr(_fast_mstep.linalg, "eigvalsh", refuse)
    (fitted,) = fast_mstep([before], X, y, w[:, np.newaxis])
    np.testing.assert_array_equal(fitted.coef_, reference.coef_)
    np.testing.assert_array_equal(fitted.intercept_, reference.intercept_)


@pytest.mark.parametrize("before", [False, True])
def test_a_single_class_raises_the_estimators_own_error(before):
    X, y, w = classification_data(2, standardize=True)
    expert = (
        fitted_before(LogisticRegression(), X, y) if before else LogisticRegression()
    )
    with pytest.raises(ValueError, match="at least 2 classes"):
        fast_mstep([expert], X, np.zeros(len(X)), w[:, np.newaxis])


@fast_logistic
def test_first_fit_is_the_estimators_own_and_checks_its_parameters():
    X, y, w = classification_data(2, standardize=True)
    assert supports_fast_mstep(LogisticRegression(max_iter=-1))
    with pytest.raises(ValueError, match="max_iter"):
        fast_mstep([LogisticRegression(max_iter=-1)], X, y, w[:, np.newaxis])
    (first,) = fast_mstep([LogisticRegression()], X, y, w[:, np.newaxis])
    own = LogisticRegression().fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(first.coef_, own.coef_)
    assert first.n_iter_[0] == own.n_iter_[0]


@pytest.mark.parametrize(
    "expert",
    [
        LinearRegression(),
        Ridge(alpha=3.0),
        pytest.param(LogisticRegression(), marks=fast_logistic),
        pytest.param(LogisticRegression(C=0.1), marks=fast_logistic),
    ],
    ids=repr,
)
def test_a_first_fit_among_several_experts_is_solved_from_zero(expert):
    # In a mixture of several experts, the first fit is solved here too:
    # to the estimator's own optimum, from zero, not by its own solver.
    logistic = isinstance(expert, LogisticRegression)
    if logistic:
        X, y, w = classification_data(3, standardize=True)
    else:
        X, y, w = regression_data()
    (first,) = fast_mstep([clone(expert)], X, y, w[:, np.newaxis], own_first_fit=False)
    reference = tight(expert).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(first.coef_, reference.coef_, atol=ATOL)
    np.testing.assert_allclose(first.intercept_, reference.intercept_, atol=ATOL)
    if logistic:
        # Newton ran from zero to convergence, where the own lbfgs fit stops
        # at its looser tolerance.
        own = clone(expert).fit(X, y, sample_weight=w)
        assert first.n_iter_[0] > EM_NEWTON_STEPS
        assert (
            np.abs(first.coef_ - reference.coef_).max()
            < np.abs(own.coef_ - reference.coef_).max()
        )


@pytest.mark.parametrize(
    "expert",
    [
        LinearRegression(copy_X="yes"),
        Ridge(alpha=1.0, tol=-1.0),
        pytest.param(LogisticRegression(max_iter=-1), marks=fast_logistic),
    ],
    ids=repr,
)
def test_a_first_fit_solved_here_checks_the_parameters_as_fit_does(expert):
    X, y, w = (
        classification_data(2, standardize=True)
        if isinstance(expert, LogisticRegression)
        else regression_data()
    )
    assert supports_fast_mstep(expert)
    with pytest.raises(ValueError) as solved_here:
        fast_mstep([expert], X, y, w[:, np.newaxis], own_first_fit=False)
    with pytest.raises(ValueError) as own_fit:
        clone(expert).fit(X, y, sample_weight=w)
    assert str(solved_here.value) == str(own_fit.value)
    assert not hasattr(expert, "coef_")


@fast_logistic
def test_a_logistic_design_is_used_only_for_its_own_arrays():
    X, y, w = classification_data(3, standardize=True)
    design = logistic_design(X, y)
    fresh = fitted_before(LogisticRegression(warm_start=True), X, y)
    with_design, without, other_design = (copy.deepcopy(fresh) for _ in range(3))
    fast_mstep([with_design], X, y, w[:, np.newaxis], design=design)
    fast_mstep([without], X, y, w[:, np.newaxis])
    np.testing.assert_array_equal(with_design.coef_, without.coef_)
    # A design of other arrays (other labels) is not used for these.
    other = logistic_design(X, (y + 1) % 3)
    fast_mstep([other_design], X, y, w[:, np.newaxis], design=other)
    np.testing.assert_array_equal(other_design.coef_, without.coef_)
    assert not np.array_equal(without.coef_, fresh.coef_)


def _counting_terms(monkeypatch):
    """Count the passes over ``Z`` that :func:`_newton` makes."""
    calls = []
    terms = _fast_mstep._logistic_terms

    def counted(*args):
        calls.append(1)
        return terms(*args)

    monkeypatch.setattr(_fast_mstep, "_logistic_terms", counted)
    return calls


@pytest.mark.parametrize("n_classes", [2, 3])
def test_newton_from_its_memo_gives_the_same_bits_in_one_pass_fewer(
    monkeypatch, n_classes
):
    # EM's next M-step starts where the last one ended, with new weights: the
    # memo of the last run spares the first pass over Z, and nothing else.
    X, y, w = classification_data(n_classes, standardize=True)
    design = logistic_design(X, y)
    binary = n_classes == 2
    q, n_logits = X.shape[1] + 1, 1 if binary else n_classes
    penalised = np.zeros((q, n_logits), dtype=bool)
    penalised[:-1] = True
    args = (design.Z, design.targets)
    memo = {}
    W, _ = _fast_mstep._newton(
        np.zeros((q, n_logits)), *args, w / w.sum(), 1e-3, penalised, binary, memo=memo
    )
    calls = _counting_terms(monkeypatch)
    new_weight = np.random.RandomState(3).uniform(0.1, 1.0, size=len(y))
    new_weight /= new_weight.sum()
    step = (new_weight, 1e-3, penalised, binary, 1)
    with_memo = _fast_mstep._newton(W.copy(), *args, *step, memo=memo)
    with_memo_passes = len(calls)
    without = _fast_mstep._newton(W.copy(), *args, *step)
    np.testing.assert_array_equal(with_memo[0], without[0])
    assert with_memo_passes == len(calls) - with_memo_passes - 1
    # Another W, or another Z, does not take the memo's terms.
    for W_other, Z_other in [(W + 1e-12, design.Z), (W, design.Z.copy())]:
        calls.clear()
        other = (Z_other, design.targets, *step)
        with_memo = _fast_mstep._newton(W_other.copy(), *other, memo={**memo})
        with_memo_passes = len(calls)
        without = _fast_mstep._newton(W_other.copy(), *other)
        np.testing.assert_array_equal(with_memo[0], without[0])
        assert with_memo_passes == len(calls) - with_memo_passes


@fast_logistic
# Thirty iterations (short of convergence) make the comparison; the warning
# saying so is expected.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("load", [load_breast_cancer, load_wine], ids=["2", "3"])
def test_em_with_memos_is_em_without_them_to_the_bit(monkeypatch, load):
    # Binary and multinomial experts: the memo keeps the linear predictor
    # and log-normaliser, and the probabilities are made again from them.
    X, y = load(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    moe = MixtureOfExpertsClassifier(n_experts=2, n_init=1, max_iter=30, random_state=0)
    with_memos = clone(moe).fit(X, y)
    used = []
    recall = _fast_mstep._recall

    def forgetful(*args):
        used.append(recall(*args) is not None)
        return None

    monkeypatch.setattr(_fast_mstep, "_recall", forgetful)
    without = clone(moe).fit(X, y)
    assert sum(used) > 50  # the experts' and the gate's memos were there to use
    np.testing.assert_array_equal(with_memos.log_likelihoods_, without.log_likelihoods_)
    np.testing.assert_array_equal(with_memos.gate_.coef_, without.gate_.coef_)
    for a, b in zip(with_memos.experts_, without.experts_, strict=True):
        np.testing.assert_array_equal(a.coef_, b.coef_)


@fast_logistic
def test_an_expert_changed_in_place_is_not_taken_for_the_memos_solution():
    # coef_ may be a view of the solution Newton returned: a change made to
    # it in place must not pass for that solution.
    X, y, w = classification_data(2, standardize=True)
    design = logistic_design(X, y)
    expert = LogisticRegression(warm_start=True)
    fast_mstep([expert], X, y, w[:, np.newaxis], own_first_fit=False, design=design)
    expert.coef_ += 0.1
    expert.intercept_ -= 0.2
    with_a_new_design = copy.deepcopy(expert)
    reweighted = w[::-1, np.newaxis].copy()
    fast_mstep([expert], X, y, reweighted, design=design)
    fast_mstep([with_a_new_design], X, y, reweighted, design=logistic_design(X, y))
    np.testing.assert_array_equal(expert.coef_, with_a_new_design.coef_)
    np.testing.assert_array_equal(expert.intercept_, with_a_new_design.intercept_)


@fast_logistic
def test_the_memo_of_an_expert_em_dropped_goes_with_it():
    # A rejected SQUAREM jump hands back copies of the experts: the memos of
    # the ones dropped must not pile up over a long run (each holds three
    # arrays of n values).
    X, y, w = classification_data(2, standardize=True)
    design = logistic_design(X, y)
    experts = [LogisticRegression(warm_start=True) for _ in range(3)]
    fast_mstep(
        experts, X, y, np.tile(w[:, np.newaxis], 3), own_first_fit=False, design=design
    )
    assert len(design.memos) == 3
    del experts[:2]
    gc.collect()
    assert len(design.memos) == 1


# ---- Pipelines of column-wise steps ------------------------------------------


def with_missing(X, seed=0):
    X = X.copy()
    X[np.random.RandomState(seed).uniform(size=X.shape) < 0.1] = np.nan
    return X


@pytest.mark.parametrize(
    "pipeline, data",
    [
        (make_pipeline(StandardScaler(), LinearRegression()), "linear"),
        (make_pipeline(MinMaxScaler(), Ridge(alpha=2.0)), "linear"),
        (
            make_pipeline(SimpleImputer(), RobustScaler(), LinearRegression()),
            "linear with NaN",
        ),
        pytest.param(
            make_pipeline(StandardScaler(), LogisticRegression(C=0.5)),
            "2 classes",
            marks=fast_logistic,
        ),
        pytest.param(
            Pipeline(
                [
                    ("scale", MaxAbsScaler()),
                    ("skip", "passthrough"),
                    ("logit", LogisticRegression()),
                ]
            ),
            "3 classes",
            marks=fast_logistic,
        ),
    ],
    ids=lambda p: "-".join(name for name, _ in p.steps) if hasattr(p, "steps") else p,
)
def test_a_scaled_pipeline_is_its_weighted_fit(pipeline, data):
    # The steps before the last fitted without weights, as EM's Pipeline fit
    # does it (the weights go to the last step); the last step solved.
    if data.startswith("linear"):
        X, y, w = regression_data()
        X = with_missing(X) if "NaN" in data else X
    else:
        X, y, w = classification_data(int(data[0]))
    assert supports_pipeline_mstep(pipeline)
    last = pipeline.steps[-1][0]
    reference = clone(pipeline)
    reference.steps[-1] = (last, tight(pipeline.steps[-1][1]))
    reference.fit(X, y, **{f"{last}__sample_weight": w})
    got = fit_pipeline(clone(pipeline), X, y, w, inputs={})
    np.testing.assert_allclose(got[-1].coef_, reference[-1].coef_, atol=ATOL)
    np.testing.assert_allclose(got[-1].intercept_, reference[-1].intercept_, atol=ATOL)
    for (_, step), (_, expected) in zip(
        got.steps[:-1], reference.steps[:-1], strict=True
    ):
        if not isinstance(step, str):
            np.testing.assert_array_equal(step.transform(X), expected.transform(X))
    method = "predict_proba" if hasattr(got, "predict_proba") else "predict"
    np.testing.assert_allclose(
        getattr(got, method)(X), getattr(reference, method)(X), atol=1e-6
    )


@pytest.mark.parametrize(
    "pipeline",
    [
        make_pipeline(StandardScaler(), LinearRegression(), verbose=True),
        make_pipeline(StandardScaler(), LinearRegression(), memory="cache"),
        type("OwnPipeline", (Pipeline,), {})([("lr", LinearRegression())]),
    ],
    ids=["verbose", "memory", "subclassed Pipeline"],
)
def test_other_pipelines_keep_their_own_fit(pipeline):
    # A memory clones the steps, verbose prints each step's fit, a subclass
    # may fit otherwise: only Pipeline.fit does what they ask.
    assert not supports_pipeline_mstep(pipeline)


@pytest.mark.parametrize(
    "pipeline, exact",
    [
        (make_pipeline(PolynomialFeatures(2), Ridge()), False),
        (make_pipeline(PCA(1), DecisionTreeRegressor(max_depth=3)), True),
        (make_pipeline(SplineTransformer(n_knots=4), StandardScaler(), Ridge()), False),
    ],
    ids=["polynomial Ridge", "PCA tree", "spline Ridge"],
)
def test_em_with_any_first_steps_fits_them_once_to_the_same_model(
    pipeline, exact, monkeypatch
):
    # Steps that are not column-wise end where they began too: fitted once
    # per run, with the last step fitted on their output (a tree by its own
    # fit, to the bit; Ridge solved directly, to its normal equations'
    # rounding), the model is the one of a Pipeline.fit at every M-step.
    X, y, _ = regression_data()
    moe = MixtureOfExpertsRegressor(
        pipeline, n_experts=2, crossfit=False, n_init=1, max_iter=20, random_state=0
    )
    calls = []
    fit_transform = PolynomialFeatures.fit_transform

    def counting(self, *args, **kwargs):
        calls.append(1)
        return fit_transform(self, *args, **kwargs)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        monkeypatch.setattr(PolynomialFeatures, "fit_transform", counting)
        once = clone(moe).fit(X, y)
        fitted_once = len(calls)
        monkeypatch.setattr(_experts, "supports_pipeline_mstep", lambda e: False)
        every = clone(moe).fit(X, y)
    if isinstance(pipeline[0], PolynomialFeatures):
        assert fitted_once == 2  # once per expert, not once per M-step
        assert len(calls) - fitted_once == 2 * every.n_iter_
    assert once.n_iter_ == every.n_iter_
    compare = np.testing.assert_array_equal if exact else np.testing.assert_allclose
    compare(once.log_likelihoods_, every.log_likelihoods_)
    compare(once.predict(X), every.predict(X))


@fast_logistic
def test_em_with_a_scaled_pipeline_is_em_on_the_scaled_columns():
    # The same fit as the bare experts on columns scaled beforehand (the gate
    # standardises its own inputs): each M-step solved directly, the outputs
    # at the training rows read from the scaled columns the M-step kept.
    X, y = load_breast_cancer(return_X_y=True)
    scaled = StandardScaler().fit_transform(X)
    expert = make_pipeline(StandardScaler(), LogisticRegression())
    piped = MixtureOfExpertsClassifier(expert, n_experts=2, random_state=0).fit(X, y)
    bare = MixtureOfExpertsClassifier(n_experts=2, random_state=0).fit(scaled, y)
    assert len(piped.log_likelihoods_) == len(bare.log_likelihoods_)
    np.testing.assert_allclose(
        piped.log_likelihoods_, bare.log_likelihoods_, rtol=1e-10
    )
    for pipeline, alone in zip(piped.experts_, bare.experts_, strict=True):
        assert isinstance(pipeline, Pipeline)
        np.testing.assert_allclose(pipeline[-1].coef_, alone.coef_, atol=1e-8)
    np.testing.assert_allclose(
        piped.predict_proba(X), bare.predict_proba(scaled), atol=1e-10
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_em_without_the_kept_columns_is_the_same_to_the_bit(kind, monkeypatch):
    # What fit_pipeline keeps is a cache: a run without it (a process backend
    # unpickles a run without it) refits the first steps to the same numbers
    # and takes the same steps.
    X, y, _ = regression_data()
    if kind == "classifier":
        X, y, _ = classification_data(3)
        moe = MixtureOfExpertsClassifier(
            make_pipeline(StandardScaler(), LogisticRegression()), n_experts=2
        )
    else:
        moe = MixtureOfExpertsRegressor(
            make_pipeline(SimpleImputer(), StandardScaler(), Ridge()), n_experts=2
        )
    moe.set_params(n_init=1, max_iter=30, random_state=0)
    kept = clone(moe).fit(X, y)
    monkeypatch.setattr(_BaseMixtureOfExperts, "_pipelines", lambda self: RunMemo())
    forgotten = clone(moe).fit(X, y)
    np.testing.assert_array_equal(kept.log_likelihoods_, forgotten.log_likelihoods_)
    for a, b in zip(kept.experts_, forgotten.experts_, strict=True):
        np.testing.assert_array_equal(a[-1].coef_, b[-1].coef_)


@fast_logistic
def test_steps_that_output_pandas_keep_the_direct_m_step():
    # set_output(transform="pandas") hands the last step a DataFrame: it is
    # solved on the frame's values and keeps the column names, as its fit on
    # the frame would. Refitted by its own solver instead, the fit was 5x
    # slower and ended elsewhere.
    pd = pytest.importorskip("pandas")
    X, y = load_breast_cancer(return_X_y=True)
    frame = pd.DataFrame(X, columns=[f"c{i}" for i in range(X.shape[1])])
    expert = make_pipeline(StandardScaler(), LogisticRegression())
    moe = MixtureOfExpertsClassifier(expert, n_experts=2, random_state=0)
    plain = clone(moe).fit(frame, y)
    pandas = clone(moe).set_params(experts=clone(expert).set_output(transform="pandas"))
    pandas.fit(frame, y)
    np.testing.assert_allclose(
        pandas.log_likelihoods_, plain.log_likelihoods_, rtol=1e-10
    )
    for pipeline in pandas.experts_:
        names = pipeline[0].get_feature_names_out()
        assert list(pipeline[-1].feature_names_in_) == list(names)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no feature-name mismatch
        np.testing.assert_allclose(
            pandas.predict_proba(frame), plain.predict_proba(frame), atol=1e-10
        )


def test_the_multinomial_hessian_summed_in_blocks_of_rows_is_the_whole_sum(
    monkeypatch,
):
    # Summed over blocks, one (rows, q L) array at a time: the same matrix.
    rng = np.random.RandomState(0)
    Z = np.hstack([rng.standard_normal((100, 3)), np.ones((100, 1))])
    proba = rng.dirichlet(np.ones(4), size=100)
    weight = rng.uniform(size=100) / 50
    penalised = np.ones((4, 4), dtype=bool)
    penalised[-1] = False
    args = (Z, proba, weight, 0.1, penalised, False)
    whole = _fast_mstep._logistic_hessian(*args)
    monkeypatch.setattr(_fast_mstep, "HESSIAN_CHUNK", 7)
    np.testing.assert_allclose(_fast_mstep._logistic_hessian(*args), whole, atol=1e-14)
    # The sum it is: sum_t w_t (diag(p_t) - p_t p_t^T) kron z_t z_t^T + penalty.
    expected = sum(
        w * np.kron(np.outer(z, z), np.diag(p) - np.outer(p, p))
        for w, z, p in zip(weight, Z, proba, strict=True)
    )
    expected[np.diag_indices(16)] += 0.1 * penalised.ravel()
    np.testing.assert_allclose(whole, expected, atol=1e-12)


def test_pipelines_with_the_same_columnwise_steps_share_their_output():
    # Cloned scaled experts: one copy of the scaled X for the run, not one per
    # expert (8 experts on 100,000 x 50 peaked at 901 MiB, 272 MiB shared);
    # each Pipeline's own scaler is still fitted.
    X, y, w = regression_data()
    inputs = RunMemo()
    pipelines = [make_pipeline(StandardScaler(), Ridge()) for _ in range(2)]
    pipelines.append(make_pipeline(StandardScaler(with_mean=False), Ridge()))
    pipelines.append(make_pipeline(PolynomialFeatures(), Ridge()))
    pipelines.append(make_pipeline(PolynomialFeatures(), Ridge()))
    pandas = make_pipeline(StandardScaler(), Ridge()).set_output(transform="pandas")
    pipelines.append(pandas)
    for pipeline in pipelines:
        fit_pipeline(pipeline, X, y, w, inputs)
    first, clone_, unscaled_mean, poly, poly_again = (inputs[p] for p in pipelines[:5])
    assert clone_ is first
    assert unscaled_mean is not first
    assert poly_again is not poly  # not column-wise: not compared
    # Another output container: not shared, and its last step alone keeps
    # the frame's column names.
    assert inputs[pandas] is not first
    assert not hasattr(pipelines[0][-1], "feature_names_in_")
    assert hasattr(pandas[-1], "feature_names_in_")
    for pipeline in pipelines[:3]:
        np.testing.assert_allclose(pipeline[0].scale_, X.std(axis=0))
    np.testing.assert_allclose(pipelines[0][-1].coef_, pipelines[1][-1].coef_)


@pytest.mark.parametrize(
    "last", [Ridge(), DecisionTreeRegressor(max_depth=3)], ids=["Ridge", "tree"]
)
def test_a_stateless_first_step_fits_as_the_pipeline_alone_does(last):
    # Its Pipeline fits and predicts alone; in a mixture the first steps'
    # slice was asked to transform, and a Pipeline judges itself fitted by
    # its last step: NotFittedError at EM iteration 1.
    from sklearn.base import BaseEstimator, TransformerMixin
    from sklearn.preprocessing import FunctionTransformer

    class AddSquares(TransformerMixin, BaseEstimator):
        def fit(self, X, y=None):
            return self  # nothing to learn, so no fitted attribute

        def transform(self, X):
            return np.column_stack([X, X**2])

    X, y = make_linear_mixture(300, random_state=3)
    squares = FunctionTransformer(lambda X: np.column_stack([X, X**2]))
    fitted = [
        MixtureOfExpertsRegressor(
            make_pipeline(step, clone(last)), n_experts=2, n_init=1, random_state=0
        ).fit(X, y)
        for step in (AddSquares(), squares)
    ]
    np.testing.assert_array_equal(fitted[0].predict(X), fitted[1].predict(X))
