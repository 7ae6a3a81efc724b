"""Bad input gets a clear error naming the parameter, the value and what is
allowed; nothing the user passed is modified."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils import get_tags

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor, SoftmaxGate
from skmoe.rules import RuleExpert

rng = np.random.RandomState(0)
X = rng.standard_normal((30, 3))
y_reg = X @ [1.0, -1.0, 0.5] + 0.1 * rng.standard_normal(30)
y_clf = (X[:, 0] > 0).astype(int)


class NoPredict(RegressorMixin, BaseEstimator):
    def fit(self, X, y, sample_weight=None):
        return self


def invalid(name, allowed, got):
    """The uniform message of scikit-learn's parameter validation."""
    return (
        rf"The '{name}' parameter of MixtureOfExpertsRegressor must be {allowed}\. "
        rf"Got {got} instead\."
    )


@pytest.mark.parametrize(
    "params, error, match",
    [
        (
            {"n_experts": 0},
            ValueError,
            invalid("n_experts", r"an int in the range \[1, inf\)", "0"),
        ),
        (
            {"n_experts": -1},
            ValueError,
            invalid("n_experts", r"an int in the range \[1, inf\)", "-1"),
        ),
        (
            {"n_experts": 2.5},
            TypeError,
            invalid("n_experts", r"an int in the range \[1, inf\)", "2.5"),
        ),
        (
            {"n_experts": 31},
            ValueError,
            r"'n_experts' must be at most the number of "
            r"samples \(30\); got 31",
        ),
        (
            {"tol": -1e-3},
            ValueError,
            invalid("tol", r"a float in the range \[0.0, inf\)", "-0.001"),
        ),
        (
            {"tol": "small"},
            TypeError,
            invalid("tol", r"a float in the range \[0.0, inf\)", "'small'"),
        ),
        (
            {"max_iter": 0},
            ValueError,
            invalid("max_iter", r"an int in the range \[1, inf\)", "0"),
        ),
        (
            {"n_init": 0},
            ValueError,
            invalid("n_init", r"an int in the range \[1, inf\)", "0"),
        ),
        ({"verbose_interval": 0}, ValueError, r"'verbose_interval' parameter"),
        (
            {"reg_var": -1.0},
            ValueError,
            invalid("reg_var", r"a float in the range \[0.0, 1.0\]", "-1.0"),
        ),
        (
            {"init_params": "k-means++"},
            ValueError,
            r"The 'init_params' parameter of MixtureOfExpertsRegressor must be a str "
            r"among \{.*'kmeans'.*\} or an array-like\. Got 'k-means\+\+' instead",
        ),
        ({"init_params": 3}, TypeError, r"The 'init_params' parameter"),
        ({"experts": "tree"}, TypeError, r"The 'experts' parameter"),
        (
            {"experts": LinearRegression},
            TypeError,
            r"Expert 'expert0' must be an "
            r"estimator instance, got the class LinearRegression",
        ),
        (
            {"experts": NoPredict()},
            TypeError,
            r"The 'experts' parameter .* must be None, an object implementing 'fit' "
            r"and 'predict'.* Got NoPredict\(\) instead",
        ),
        (
            {"unweighted_fit": "soft"},
            ValueError,
            r"The 'unweighted_fit' parameter .* must be a str among "
            r"\{('hard', 'resample'|'resample', 'hard')\}\. Got 'soft' instead",
        ),
        (
            {"gate": LinearRegression()},
            TypeError,
            r"The 'gate' parameter .* must be None or an object implementing 'fit' "
            r"and 'predict_proba'\. Got LinearRegression\(\) instead",
        ),
        (
            {"gate": KNeighborsClassifier()},
            TypeError,
            r"'gate' \(KNeighborsClassifier\) must accept sample_weight",
        ),
        (
            {"gate": KNeighborsClassifier},
            TypeError,
            r"'gate' must be None, a SoftmaxGate or a classifier instance",
        ),
        # It was refused for not taking sample_weight, which it takes.
        (
            {"gate": RuleExpert(np.sum, classes=[0, 1])},
            TypeError,
            r"'gate' \(RuleExpert\) is fixed .* the gate may not",
        ),
        (
            {"experts": RuleExpert(np.sum, classes=[0, 1])},
            ValueError,
            r"Expert 'expert0' is a RuleExpert with classes",
        ),
        ({"gate_features": []}, ValueError, r"'gate_features' selects no columns"),
        # An empty integer array, from a callable too: it reached EM and
        # failed there with an IndexError.
        (
            {"expert_features": np.array([], dtype=int)},
            ValueError,
            r"'expert_features' selects no columns",
        ),
        (
            {"gate_features": lambda X: np.flatnonzero(np.zeros(X.shape[1]))},
            ValueError,
            r"'gate_features' selects no columns",
        ),
        (
            {"expert_features": [0, 3]},
            ValueError,
            r"'expert_features' selects columns \[3\] out of range for 3 features",
        ),
        (
            {"gate_features": [True, False]},
            ValueError,
            r"'gate_features' as a boolean mask must have one entry per feature \(3\)",
        ),
        (
            {"gate_features": ["a"]},
            ValueError,
            r"'gate_features' selects columns by name \(\['a'\]\), which needs X to "
            r"be a DataFrame",
        ),
        ({"gate_features": [0.5]}, TypeError, r"'gate_features' must be None, an int"),
        (
            {"gate_features": [[0, 1]]},
            ValueError,
            r"'gate_features' must be one-dimensional .* got \[\[0, 1\]\] with "
            r"shape \(1, 2\)",
        ),
        (
            {"experts": LogisticRegression()},
            ValueError,
            r"Expert 'expert0' "
            r"\(LogisticRegression\) should be a regressor",
        ),
        (
            {"gate": SoftmaxGate(alpha=-1)},
            ValueError,
            r"The 'alpha' parameter of SoftmaxGate must be a float in the range "
            r"\[0.0, inf\) or a str among \{'auto'\}\. Got -1 instead",
        ),
        (
            {"experts": [("a", LinearRegression()), ("a", LinearRegression())]},
            ValueError,
            r"Expert names are not unique: \['a', 'a'\]",
        ),
        (
            {"experts": [("a__b", LinearRegression())]},
            ValueError,
            r"Expert names must not contain __: got \['a__b'\]",
        ),
        # "/" joins the names along a hierarchy: leaf_names_ held duplicates.
        (
            {"experts": [("sub/expert0", LinearRegression())]},
            ValueError,
            r"Expert names must not contain '/'.*got \['sub/expert0'\]",
        ),
        (
            {"experts": [("tol", LinearRegression())]},
            ValueError,
            r"Expert names conflict with constructor arguments: \['tol'\]",
        ),
        ({"experts": [("a", "drop")]}, ValueError, r"All experts are dropped"),
    ],
)
def test_bad_parameters(params, error, match):
    with pytest.raises(error, match=match):
        MixtureOfExpertsRegressor(**params).fit(X, y_reg)


@pytest.mark.parametrize(
    "init_resp, match",
    [
        (
            np.ones((30, 3)),
            r"'init_resp' as an array must have shape \(n_samples, n_experts\) = "
            r"\(30, 2\); got \(30, 3\)",
        ),
        (-np.ones((30, 2)), r"'init_resp' .* non-negative"),
    ],
)
def test_bad_initial_responsibilities(init_resp, match):
    with pytest.raises(ValueError, match=match):
        MixtureOfExpertsRegressor().fit(X, y_reg, init_resp=init_resp)


def test_initial_responsibilities_of_huge_entries_are_their_proportions():
    # Rows of 1e308 overflow their sum; what counts is their proportions.
    start = np.tile([1.0, 0.5], (30, 1))
    fits = [
        MixtureOfExpertsRegressor(max_iter=3, random_state=0).fit(
            X, y_reg, init_resp=start * scale
        )
        for scale in (1.0, 1.5e308)
    ]
    assert_allclose(fits[1].log_likelihoods_, fits[0].log_likelihoods_, rtol=1e-12)
    # A row of zeros beside them is still refused, not turned into NaN.
    huge_and_empty = start * 1.5e308
    huge_and_empty[0] = 0.0
    with pytest.raises(ValueError, match=r"'init_resp' .* positive sum in every row"):
        MixtureOfExpertsRegressor().fit(X, y_reg, init_resp=huge_and_empty)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"verbose": "loud"}, r"The 'verbose' parameter"),
        ({"warm_start": "yes"}, r"The 'warm_start' parameter .* Got 'yes' instead"),
        ({"n_jobs": 0}, r"The 'n_jobs' parameter .* Got 0 instead"),
        ({"balance": -1.0}, r"The 'balance' parameter"),
        ({"min_expert_weight": 1.0}, r"The 'min_expert_weight' parameter"),
        ({"top_k": 0}, r"The 'top_k' parameter"),
        ({"assignment": "fuzzy"}, r"The 'assignment' parameter"),
        ({"dead_expert": "bury"}, r"The 'dead_expert' parameter"),
    ],
)
def test_parameters_are_validated_before_the_data(params, match):
    # Declared constraints are checked first: the data here are unusable.
    from skmoe._compat import InvalidParameterError

    with pytest.raises(InvalidParameterError, match=match):
        MixtureOfExpertsRegressor(**params).fit([["text"]], ["y"])


def test_verbose_accepts_a_bool():
    moe = MixtureOfExpertsRegressor(verbose=True, max_iter=2, tol=1.0)
    moe.fit(X, y_reg)
    assert moe.n_iter_ >= 1


def test_initial_responsibilities_as_init_params_are_deprecated():
    start = np.tile([0.7, 0.3], (30, 1))
    old = MixtureOfExpertsRegressor(init_params=start, random_state=0)
    with pytest.warns(FutureWarning, match="pass them to fit"):
        old.fit(X, y_reg)
    new = MixtureOfExpertsRegressor(random_state=0).fit(X, y_reg, init_resp=start)
    np.testing.assert_allclose(old.predict(X), new.predict(X))
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="once"):
        old.fit(X, y_reg, init_resp=start)


def test_initial_responsibilities_are_split_with_the_rows():
    # As fit metadata, the start is split with the rows by cross-validation:
    # as a constructor argument it had the shape of the whole data.
    from sklearn.model_selection import KFold, cross_val_score

    start = np.tile([0.7, 0.3], (30, 1))
    moe = MixtureOfExpertsRegressor(random_state=0)
    scores = cross_val_score(moe, X, y_reg, cv=KFold(3), params={"init_resp": start})
    assert scores.shape == (3,)
    assert np.all(scores > 0.9)


def test_regressor_as_classifier_expert():
    with pytest.raises(
        ValueError,
        match=r"'expert0' \(LinearRegression\) should "
        r"be a classifier",
    ):
        MixtureOfExpertsClassifier(LinearRegression()).fit(X, y_clf)


def test_unknown_column_names():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    with pytest.raises(
        ValueError,
        match=r"'gate_features' names unknown columns "
        r"\['z'\]",
    ):
        MixtureOfExpertsRegressor(gate_features=["a", "z"]).fit(frame, y_reg)


def first_column_twice(X):
    return np.column_stack([X[:, 0], X[:, 0]])


def nan_rule(X):
    return np.full(len(X), np.nan)


@pytest.mark.parametrize(
    "rule, match",
    [
        (
            first_column_twice,
            r"returned shape \(30, 2\) for 30 rows; expected "
            r"\(30,\)",
        ),
        (nan_rule, r"returned NaN or inf"),
        ("not callable", r"RuleExpert's 'rule' must be a callable"),
    ],
)
def test_bad_rules(rule, match):
    experts = [("rule", RuleExpert(rule)), ("lin", LinearRegression())]
    with pytest.raises((ValueError, TypeError), match=match):
        MixtureOfExpertsRegressor(experts).fit(X, y_reg)


@pytest.mark.parametrize(
    "Estimator", [MixtureOfExpertsRegressor, MixtureOfExpertsClassifier]
)
def test_bad_data(Estimator):
    y = y_reg if Estimator is MixtureOfExpertsRegressor else y_clf
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Estimator().fit(X_nan, y)
    X_inf = X.copy()
    X_inf[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        Estimator().fit(X_inf, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        Estimator().fit(X, y[:-1])
    with pytest.raises(ValueError, match="Expected 2D array"):
        Estimator().fit(X[:, 0], y)
    with pytest.raises(ValueError, match="Negative values in data passed to"):
        Estimator().fit(X, y, sample_weight=-np.ones(30))
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(29,\)"):
        Estimator().fit(X, y, sample_weight=np.ones(29))
    fitted = Estimator(random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features, but .* is expecting 3"):
        fitted.predict(X[:, :2])
    with pytest.raises(ValueError, match="X has 2 features, but .* is expecting 3"):
        fitted.gate_proba(X[:, :2])
    with pytest.raises(ValueError, match="NaN"):
        fitted.predict(X_nan)
    with pytest.raises(ValueError, match="y has 29 samples but X has 30"):
        fitted.log_likelihood(X, y[:-1])


def test_regression_target_for_classifier():
    with pytest.raises(ValueError, match="Unknown label type"):
        MixtureOfExpertsClassifier().fit(X, y_reg)


def test_one_class_for_classifier():
    with pytest.raises(ValueError, match="only one class"):
        MixtureOfExpertsClassifier().fit(X, np.zeros(30))


def test_nothing_passed_is_modified():
    experts = [("lin", LinearRegression()), ("other", LinearRegression())]
    X_copy, y_copy, w = X.copy(), y_reg.copy(), np.linspace(1, 2, 30)
    w_copy = w.copy()
    resp = np.full((30, 2), 0.5)
    moe = MixtureOfExpertsRegressor(experts, random_state=0)
    moe.fit(X_copy, y_copy, sample_weight=w, init_resp=resp)
    np.testing.assert_array_equal(X_copy, X)
    np.testing.assert_array_equal(y_copy, y_reg)
    np.testing.assert_array_equal(w, w_copy)
    np.testing.assert_array_equal(resp, 0.5)
    assert moe.experts == experts
    assert not hasattr(experts[0][1], "coef_")
    assert moe.experts_[0] is not experts[0][1]


class FailingRegressor(LinearRegression):
    """Fails in its third fit, i.e. at the third EM iteration."""

    def fit(self, X, y, sample_weight=None):
        type(self).calls += 1
        if type(self).calls == 3:
            raise RuntimeError("expert exploded")
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("first_fitted", [False, True])
def test_a_failed_fit_leaves_the_mixture_as_it_was(first_fitted):
    moe = MixtureOfExpertsRegressor(
        [("ok", LinearRegression()), ("bad", FailingRegressor())],
        warm_start=first_fitted,
        n_init=1,  # the fit calls are counted
        random_state=0,
        tol=0,
        max_iter=2,
    )
    FailingRegressor.calls = 0
    if first_fitted:
        with pytest.warns(ConvergenceWarning):
            moe.fit(X, y_reg)
        prediction = moe.predict(X)
    before = dict(vars(moe))
    # The error names the expert and the EM iteration, and keeps its type.
    iteration = 1 if first_fitted else 3
    with pytest.raises(
        RuntimeError,
        match=rf"Expert 'bad' \(FailingRegressor\) failed to fit at EM iteration "
        rf"{iteration}: expert exploded",
    ):
        moe.set_params(max_iter=5).fit(X, y_reg)
    moe.set_params(max_iter=2)
    assert vars(moe).keys() == before.keys()
    assert all(vars(moe)[k] is v for k, v in before.items())
    if first_fitted:
        np.testing.assert_array_equal(moe.predict(X), prediction)
    else:
        assert not hasattr(moe, "experts_")


def test_a_failing_expert_in_a_parallel_fit_is_named_too():
    FailingRegressor.calls = 0
    moe = MixtureOfExpertsRegressor(
        [("ok", LinearRegression()), ("bad", FailingRegressor())],
        n_jobs=2,
        n_init=1,  # the fit calls are counted
        tol=0,
        random_state=0,
    )
    with pytest.raises(RuntimeError, match=r"Expert 'bad' .* EM iteration 3"):
        moe.fit(X, y_reg)
    assert not hasattr(moe, "experts_")


def test_a_child_mixture_of_the_wrong_task():
    child = MixtureOfExpertsClassifier()
    with pytest.raises(
        ValueError,
        match=r"'expert0' \(MixtureOfExpertsClassifier\) "
        r"should be a regressor",
    ):
        MixtureOfExpertsRegressor(child).fit(X, y_reg)


@pytest.mark.parametrize(
    "Estimator", [MixtureOfExpertsRegressor, MixtureOfExpertsClassifier]
)
def test_a_huge_n_experts_is_refused_before_any_expert_is_built(Estimator):
    # A billion names or templates would not fit in memory: the check has
    # to come first, and the tags must not look at each clone.
    y = y_reg if Estimator is MixtureOfExpertsRegressor else y_clf
    moe = Estimator(n_experts=10**9)
    assert get_tags(moe).input_tags.sparse == get_tags(Estimator()).input_tags.sparse
    with pytest.raises(
        ValueError,
        match=r"'n_experts' must be at most the number of samples \(30\); "
        r"got 1000000000 experts",
    ):
        moe.fit(X, y)


def test_get_feature_names_out_checks_input_features():
    pd = pytest.importorskip("pandas")
    moe = MixtureOfExpertsClassifier(random_state=0).fit(X, y_clf)
    names = moe.get_feature_names_out()
    with pytest.raises(
        ValueError,
        match=r"input_features should have length equal to number of features "
        r"\(3\), got 2",
    ):
        moe.get_feature_names_out(["a", "b"])
    np.testing.assert_array_equal(moe.get_feature_names_out(["a", "b", "c"]), names)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    moe = MixtureOfExpertsRegressor(random_state=0).fit(frame, y_reg)
    with pytest.raises(ValueError, match="input_features is not equal to"):
        moe.get_feature_names_out(["a", "b", "z"])
    np.testing.assert_array_equal(
        moe.get_feature_names_out(["a", "b", "c"]), moe.get_feature_names_out()
    )


@pytest.mark.parametrize(
    "params, bad",
    [
        ({}, {"experts__alpha": 1.0}),  # LinearRegression has no alpha
        ({}, {"gate__no_such": 1.0}),
        ({}, {"tol": 0.5, "no_such": 1}),
        ({"experts": [("lin", Ridge())]}, {"lin__alpha": 5.0, "lin__no_such": 1}),
        ({"experts": Ridge()}, {"experts__alpha": 5.0, "experts__no_such": 1}),
    ],
)
def test_a_failed_set_params_changes_nothing(params, bad):
    moe = MixtureOfExpertsRegressor(**params)
    before = moe.get_params(deep=True)
    with pytest.raises(ValueError, match="no_such|alpha"):
        moe.set_params(**bad)
    after = moe.get_params(deep=True)
    assert after.keys() == before.keys()
    assert all(after[key] is before[key] for key in before)
    assert repr(moe) == repr(MixtureOfExpertsRegressor(**params))


@pytest.mark.parametrize("name", ["gate_features", "expert_features"])
def test_a_selector_returning_none_selects_every_column(name):
    moe = MixtureOfExpertsRegressor(**{name: lambda X: None}, random_state=0)
    moe.fit(X, y_reg)
    np.testing.assert_array_equal(getattr(moe, name + "_"), [0, 1, 2])
    reference = MixtureOfExpertsRegressor(random_state=0).fit(X, y_reg)
    np.testing.assert_allclose(moe.predict(X), reference.predict(X))
