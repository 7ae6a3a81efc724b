"""What the CV estimators refuse, and how: folds no candidate can be scored
on, bad parameters and text columns, each named; and split metadata
(``groups``) routed to ``cv``, as LassoCV routes it, and metadata the experts
request to every candidate's fit, cut to its rows."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    StratifiedGroupKFold,
    StratifiedKFold,
    TimeSeriesSplit,
)

from skmoe import MixtureOfExpertsClassifierCV, MixtureOfExpertsRegressorCV

# A small grid and short EM runs: these tests are about inputs, not fits.
SMALL = dict(n_experts_grid=(1, 2), alphas=(1e-2,), max_iter=20, random_state=0)
CV_CLASSES = [MixtureOfExpertsRegressorCV, MixtureOfExpertsClassifierCV]


def regression(n=60, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, 3))
    return X, X[:, 0] + 0.1 * rng.standard_normal(n)


def classification(n=60, seed=0):
    X, y = regression(n, seed)
    return X, (y > 0).astype(int)


def data_for(cls):
    return regression() if cls is MixtureOfExpertsRegressorCV else classification()


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


# ---- folds no candidate can be scored on ---------------------------------------


def one_row_of_class_2():
    X, y = classification()
    y[0] = 2  # stratified folds hold it out once, leaving it out of training
    return X, y, 3


def sorted_classes():
    X, _ = classification()
    return X, np.sort(np.arange(60) % 3), KFold(3)  # split 0 trains on 1 and 2


def sorted_text_classes():
    X, y, cv = sorted_classes()
    return X, np.array(["a", "b", "c"], dtype=object)[y], cv


# StratifiedKFold warns of the class with one row; the fit then says why.
@pytest.mark.filterwarnings("ignore:The least populated class:UserWarning")
@pytest.mark.parametrize(
    "make, missing",
    [
        (one_row_of_class_2, r"class 2 \(1 row in y\)"),
        (sorted_classes, r"class 0 \(20 rows in y\)"),
        (sorted_text_classes, r"class 'a' \(20 rows in y\)"),
    ],
)
def test_a_class_missing_from_a_training_fold_is_named(make, missing):
    X, y, cv = make()
    y_given = y.copy()
    clf = MixtureOfExpertsClassifierCV(cv=cv, **SMALL)
    with pytest.raises(ValueError, match=rf"split 0 of cv hold no row .* of {missing}"):
        clf.fit(X, y)
    with pytest.raises(ValueError, match=r"stratified folds.*at least 2 rows"):
        clf.fit(X, y)
    np.testing.assert_array_equal(y, y_given)


def test_a_class_of_weight_zero_everywhere_is_fitted_as_the_mixtures_fit_it():
    # No split can hold such a class, and none needs to: it is scored at
    # weight 0 where it is held out. It was refused, with advice (stratify,
    # give each class 2 rows) that could not help; LogisticRegressionCV and
    # the mixtures fit it.
    X, y = classification(90)
    y = np.repeat([0, 1, 2], 30)
    weights = np.where(y == 2, 0.0, 1.0)
    clf = MixtureOfExpertsClassifierCV(cv=3, **SMALL).fit(X, y, sample_weight=weights)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert np.all(np.isfinite(clf.cv_results_["mean_test_score"]))


def test_a_class_of_weight_zero_in_a_training_fold_is_named():
    # Weight 0 counts as absent: the rows of class 2 in the training rows of
    # split 0 were still counted, and that split's score (-5.8 and -10.1
    # against about -1 elsewhere) decided the ranking.
    X, y = classification(90)
    y = np.repeat([0, 1, 2], 30)
    splits = list(StratifiedKFold(3).split(X, y))
    train = splits[0][0]
    weights = np.ones(90)
    weights[train[y[train] == 2]] = 0
    clf = MixtureOfExpertsClassifierCV(cv=splits, **SMALL)
    with pytest.raises(ValueError, match=r"split 0 of cv hold no row \(of positive"):
        clf.fit(X, y, sample_weight=weights)


@pytest.mark.parametrize(
    "zero, rows",
    [
        (slice(0, 20), r"the 20 validation rows of split 0"),
        (slice(20, 60), r"the 40 training rows of split 0"),
    ],
)
def test_a_fold_without_weight_is_named(zero, rows):
    X, y = regression()
    sample_weight = np.ones(60)
    sample_weight[zero] = 0
    given = sample_weight.copy()
    moe = MixtureOfExpertsRegressorCV(cv=3, **SMALL)
    with pytest.raises(ValueError, match=rf"sample_weight sums to 0 over {rows} of cv"):
        moe.fit(X, y, sample_weight=sample_weight)
    with pytest.raises(ValueError, match=r"KFold\(n_splits, shuffle=True\)"):
        moe.fit(X, y, sample_weight=sample_weight)
    np.testing.assert_array_equal(sample_weight, given)


@pytest.mark.parametrize("cls", CV_CLASSES)
@pytest.mark.parametrize("cv", [[], iter([])], ids=["list", "iterator"])
def test_no_splits_are_named(cls, cv):
    X, y = data_for(cls)
    with pytest.raises(ValueError, match=r"cv=.* gave no train/test splits"):
        cls(cv=cv, **SMALL).fit(X, y)


@pytest.mark.parametrize("cls", CV_CLASSES)
def test_more_experts_than_a_training_fold_has_rows_is_named(cls):
    # 60 rows in 2 folds: 30 training rows each.
    X, y = data_for(cls)
    moe = cls(**{**SMALL, "n_experts_grid": (1, 40)}, cv=2)
    with pytest.raises(ValueError, match=r"n_experts_grid asks for up to 40 experts"):
        moe.fit(X, y)


def failing_fits():
    """(estimator class, fit arguments that fail) for the new checks, on two
    of the three features, so a partial fit would change n_features_in_."""
    X, y, _ = one_row_of_class_2()
    yield MixtureOfExpertsClassifierCV, (X[:, :2], y), {}
    X, y = regression()
    weights = np.r_[np.zeros(20), np.ones(40)]
    yield MixtureOfExpertsRegressorCV, (X[:, :2], y), {"sample_weight": weights}


@pytest.mark.filterwarnings("ignore:The least populated class:UserWarning")
@pytest.mark.parametrize("cls, args, kwargs", list(failing_fits()))
def test_a_failed_fit_leaves_the_estimator_as_it_was(cls, args, kwargs):
    estimator = cls(cv=3, **SMALL).fit(*data_for(cls))
    before = dict(vars(estimator))
    with pytest.raises(ValueError, match="split 0 of cv"):
        estimator.fit(*args, **kwargs)
    assert vars(estimator).keys() == before.keys()
    assert all(vars(estimator)[key] is value for key, value in before.items())


# ---- the estimators' own checks -----------------------------------------------


@pytest.mark.parametrize("cls", CV_CLASSES)
@pytest.mark.parametrize(
    "name, value",
    [("tol", -1), ("max_iter", 0), ("n_jobs", "2"), ("n_jobs", 0), ("cv", "three")],
)
def test_bad_parameters_are_named_as_the_cv_estimators(cls, name, value):
    X, y = data_for(cls)
    estimator = cls(**{**SMALL, name: value})
    with pytest.raises(ValueError, match=rf"'{name}' parameter of {cls.__name__} "):
        estimator.fit(X, y)


@pytest.mark.parametrize("cls", CV_CLASSES)
@pytest.mark.parametrize("as_frame", [True, False])
def test_columns_of_text_are_named(cls, as_frame):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame({"a": np.arange(20.0), "c": ["u", "v"] * 10})
    y = np.arange(20.0) if cls is MixtureOfExpertsRegressorCV else np.arange(20) % 2
    if not as_frame:
        X = X.to_numpy()
    named = r"columns 'c' \(" if as_frame else r"dtype is object"
    with pytest.raises(ValueError, match=rf"X must hold numbers.*{named}.*Encode"):
        cls(cv=2, **SMALL).fit(X, y)


@pytest.mark.parametrize("cls", CV_CLASSES)
def test_columns_named_in_an_arrow_table_reach_the_candidates(cls):
    # Only a pandas frame reached them: any other (pyarrow, polars) became
    # the validated array, without its names, so a gate_features selection
    # by name was refused and predicting on the fitted frame warned that
    # the candidates were fitted without names.
    pa = pytest.importorskip("pyarrow")
    X, y = data_for(cls)
    table = pa.table({"g": X[:, 0], "x": X[:, 1], "z": X[:, 2]})
    model = cls(gate_features=["g"], cv=3, **SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model.fit(table, y)
        prediction = model.predict(table)
    by_position = cls(gate_features=[0], cv=3, **SMALL).fit(X, y)
    assert model.feature_names_in_.tolist() == ["g", "x", "z"]
    np.testing.assert_allclose(prediction, by_position.predict(X))


@pytest.mark.parametrize("cls", CV_CLASSES)
def test_top_k_is_capped_at_each_candidates_experts(cls):
    # The grid holds one expert, and top_k=2 failed every fit: "'top_k'
    # must be between 1 and the number of experts (1)".
    X, y = data_for(cls)
    model = cls(top_k=2, cv=3, **SMALL).fit(X, y)
    assert model.best_estimator_.top_k == min(2, model.n_experts_)
    assert np.all(np.isfinite(model.cv_results_["mean_test_score"]))


@pytest.mark.parametrize("cls", CV_CLASSES)
@pytest.mark.parametrize("routing_on", [False, True])
def test_init_resp_is_refused_as_such(cls, routing_on):
    # Routing off, the error said to switch it on; on, it said to call
    # set_fit_request on an inner mixture no one can reach.
    X, y = data_for(cls)
    start = np.full((len(y), 2), 0.5)
    with sklearn.config_context(enable_metadata_routing=routing_on):
        with pytest.raises(ValueError, match=r"fit takes no init_resp"):
            cls(cv=3, **SMALL).fit(X, y, init_resp=start)


# ---- metadata routed to cv -----------------------------------------------------


@pytest.mark.parametrize(
    "cls, cv",
    [
        (MixtureOfExpertsRegressorCV, GroupKFold(3)),
        (MixtureOfExpertsClassifierCV, StratifiedGroupKFold(3)),
    ],
)
def test_groups_reach_a_group_splitter(routing, cls, cv):
    X, y = data_for(cls)
    groups = np.arange(60) // 10
    sample_weight = np.linspace(0.5, 2.0, 60)
    routed = cls(cv=cv, **SMALL).fit(X, y, sample_weight=sample_weight, groups=groups)
    splits = list(cv.split(X, y, groups))
    given = cls(cv=splits, **SMALL).fit(X, y, sample_weight=sample_weight)
    assert routed.n_splits_ == 3
    for i in range(3):
        np.testing.assert_array_equal(
            routed.cv_results_[f"split{i}_test_score"],
            given.cv_results_[f"split{i}_test_score"],
        )
    # Each split holds out whole groups.
    for train, test in splits:
        assert not set(groups[train]) & set(groups[test])


@pytest.mark.parametrize("cls", CV_CLASSES)
def test_the_router_sends_groups_to_cv_only_if_it_takes_them(cls):
    assert cls(cv=GroupKFold(3)).get_metadata_routing().consumes(
        "fit", ["groups", "other"]
    ) == {"groups"}
    assert cls(cv=KFold(3)).get_metadata_routing().consumes("fit", ["groups"]) == set()


@pytest.mark.parametrize("cls", CV_CLASSES)
def test_groups_need_metadata_routing_enabled(cls):
    X, y = data_for(cls)
    estimator = cls(cv=GroupKFold(3), **SMALL)
    with pytest.raises(ValueError, match=r"enable_metadata_routing=True.*'groups'"):
        estimator.fit(X, y, groups=np.arange(60) // 10)


def test_metadata_no_one_takes_is_refused(routing):
    X, y = regression()
    moe = MixtureOfExpertsRegressorCV(cv=KFold(3), **SMALL)
    with pytest.raises(TypeError, match=r"unexpected argument.*'groups'"):
        moe.fit(X, y, groups=np.arange(60) // 10)


# ---- metadata routed to the candidates' experts --------------------------------


class _Recording:
    """Keeps the ``groups`` each fit received (in ``received``, a list)."""

    received = []

    def fit(self, X, y, sample_weight=None, groups=None):
        type(self).received.append(None if groups is None else np.array(groups))
        return super().fit(X, y, sample_weight=sample_weight)


class RecordingRegressor(_Recording, LinearRegression):
    received = []


class RecordingClassifier(_Recording, LogisticRegression):
    received = []


RECORDER = {
    MixtureOfExpertsRegressorCV: RecordingRegressor,
    MixtureOfExpertsClassifierCV: RecordingClassifier,
}


@pytest.mark.parametrize("cls", CV_CLASSES)
@pytest.mark.parametrize("cv", [KFold(3), GroupKFold(3)], ids=["KFold", "GroupKFold"])
def test_metadata_an_expert_requests_reaches_it_cut_to_the_training_rows(
    routing, cls, cv
):
    X, y = data_for(cls)
    recorder = RECORDER[cls]
    recorder.received = []
    # Row ids as groups, six rows each: what an expert gets tells which rows
    # it was fitted on.
    groups = np.arange(60) // 6
    expert = recorder().set_fit_request(groups=True)
    moe = cls(experts=expert, cv=cv, **SMALL).fit(X, y, groups=groups)
    split_groups = groups if isinstance(cv, GroupKFold) else None
    train_sets = [groups[train] for train, _ in cv.split(X, y, split_groups)]
    received = recorder.received
    assert len(received) > 0 and all(g is not None for g in received)
    # Every fit got the groups of its own rows: a fold's or, in the refit, all.
    allowed = [*train_sets, groups]
    assert all(any(np.array_equal(g, a) for a in allowed) for g in received)
    for rows in allowed:
        assert any(np.array_equal(g, rows) for g in received)
    assert np.array_equal(received[-1], groups)
    assert moe.best_estimator_.experts_[0].__class__ is recorder


@pytest.mark.parametrize("cls", CV_CLASSES)
def test_the_router_sends_what_the_experts_request_to_the_candidates(routing, cls):
    expert = RECORDER[cls]().set_fit_request(groups=True)
    router = cls(experts=expert, cv=KFold(3)).get_metadata_routing()
    assert router.consumes("fit", ["groups", "other"]) == {"groups"}
    # Not requested by the experts: not consumed, as before.
    router = cls(experts=RECORDER[cls](), cv=KFold(3)).get_metadata_routing()
    assert router.consumes("fit", ["groups"]) == set()


@pytest.mark.parametrize("cls", CV_CLASSES)
def test_expert_metadata_needs_metadata_routing_enabled(cls):
    X, y = data_for(cls)
    expert = RECORDER[cls]()
    with pytest.raises(ValueError, match=r"enable_metadata_routing=True.*'groups'"):
        cls(experts=expert, cv=KFold(3), **SMALL).fit(X, y, groups=np.arange(60))


# ---- NaN, nested parameters and transform, as on the mixtures ------------------


def with_nan_in_column_0(cls):
    X, y = data_for(cls)
    X = X.copy()
    X[::7, 0] = np.nan
    return X, y


def hist_gradient_boosting(cls, **kwargs):
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )

    if cls is MixtureOfExpertsRegressorCV:
        return HistGradientBoostingRegressor(max_iter=5, **kwargs)
    return HistGradientBoostingClassifier(max_iter=5, **kwargs)


@pytest.mark.parametrize("cls", CV_CLASSES)
def test_nan_is_taken_where_every_candidate_takes_it(cls):
    """Experts that take NaN and a gate on complete columns: the mixtures fit
    this, and so does GridSearchCV around them; the CV estimator did not."""
    X, y = with_nan_in_column_0(cls)
    search = cls(hist_gradient_boosting(cls), gate_features=[1, 2], **SMALL)
    search.fit(X, y)
    assert np.isnan(X).any()  # the input is left as it was
    np.testing.assert_array_equal(search.predict(X), search.best_estimator_.predict(X))


@pytest.mark.parametrize("cls", CV_CLASSES)
def test_nan_a_candidate_refuses_gets_that_candidates_error(cls, monkeypatch):
    # Before any fold is fitted, as LogisticRegressionCV refuses NaN at once.
    import skmoe._cv_path

    def no_fit(*args, **kwargs):
        raise AssertionError("a candidate was fitted")

    monkeypatch.setattr(skmoe._cv_path, "fit_candidate", no_fit)
    X, y = with_nan_in_column_0(cls)
    with pytest.raises(ValueError, match="NaN in the gate's columns"):
        cls(hist_gradient_boosting(cls), **SMALL).fit(X, y)
    with pytest.raises(ValueError, match=r"NaN in the experts' columns.*'expert0'"):
        cls(**SMALL).fit(X, y)


@pytest.mark.parametrize("cls", CV_CLASSES)
def test_the_allow_nan_tag_is_that_of_every_candidate(cls):
    """With a gate that refuses NaN only a grid of one expert (no gate) takes
    it; experts that refuse it refuse it on every grid."""
    from sklearn.utils import get_tags

    hgb = hist_gradient_boosting(cls)
    assert get_tags(cls(hgb, n_experts_grid=(1,))).input_tags.allow_nan
    assert not get_tags(cls(hgb, n_experts_grid=(1, 2))).input_tags.allow_nan
    assert not get_tags(cls(n_experts_grid=(1,))).input_tags.allow_nan


@pytest.mark.parametrize("cls", CV_CLASSES)
def test_nested_parameters_reach_the_default_expert_and_gate(cls):
    """As on the mixtures, so that GridSearchCV can tune experts__... while
    experts=None; the CV estimators raised AttributeError on None."""
    name, value = (
        ("fit_intercept", False) if cls is MixtureOfExpertsRegressorCV else ("C", 5.0)
    )
    search = cls().set_params(**{f"experts__{name}": value}, gate__alpha=0.5)
    assert search.experts.get_params()[name] == value
    assert search.gate.alpha == 0.5
    assert search.get_params()[f"experts__{name}"] == value


@pytest.mark.parametrize("cls", CV_CLASSES)
def test_set_params_is_all_or_nothing(cls):
    search = cls()
    with pytest.raises(ValueError, match="Invalid parameter 'no_such'"):
        search.set_params(gate__alpha=0.5, no_such=1)
    assert search.gate is None and search.experts is None


@pytest.mark.parametrize("cls", CV_CLASSES)
def test_transform_is_the_chosen_mixtures_in_a_pipeline(cls):
    """As GridSearchCV passes transform on, so that the estimator can be a
    Pipeline's intermediate step."""
    from sklearn.pipeline import make_pipeline

    X, y = data_for(cls)
    search = cls(**SMALL).fit(X, y)
    best = search.best_estimator_
    np.testing.assert_array_equal(search.transform(X), best.transform(X))
    np.testing.assert_array_equal(
        search.get_feature_names_out(), best.get_feature_names_out()
    )
    final = (
        LinearRegression()
        if cls is MixtureOfExpertsRegressorCV
        else (LogisticRegression())
    )
    frame = cls(**SMALL).set_output(transform="pandas").fit(X, y).transform(X)
    assert frame.columns.tolist() == best.get_feature_names_out().tolist()
    pipe = make_pipeline(cls(**SMALL), final).fit(X, y)
    assert pipe[:-1].get_feature_names_out().tolist() == [
        f"{type(best).__name__.lower()}_{name}" for name in best._expert_names
    ]


@pytest.mark.parametrize("cls", CV_CLASSES)
def test_best_estimator_holds_its_own_templates(cls):
    # It shared the expert and gate objects with the CV estimator: a
    # set_params on one changed the other's parameters (a fitted
    # best_estimator_ then said experts__C=100, fitted with C=1).
    from skmoe import SoftmaxGate

    X, y = data_for(cls)
    expert = (
        LinearRegression()
        if cls is MixtureOfExpertsRegressorCV
        else (LogisticRegression())
    )
    for alphas in (None, (1e-2,)):
        params = {**SMALL, "alphas": alphas}
        cv = cls(expert, gate=SoftmaxGate(alpha=0.01), cv=3, **params).fit(X, y)
        best = cv.best_estimator_
        given = cv.get_params(deep=True)["experts__fit_intercept"]
        cv.set_params(experts__fit_intercept=not given)
        assert best.get_params(deep=True)["experts__fit_intercept"] is given
        best.set_params(gate__alpha=5.0)
        assert cv.gate.alpha == 0.01


@pytest.mark.parametrize("cls", CV_CLASSES)
@pytest.mark.parametrize("name", ["n_experts_grid", "alphas"])
def test_a_grid_read_only_once_is_refused_by_name(cls, name):
    # A generator worked for one fit, then was empty (its second fit, or a
    # fit after get_tags, said the grid was invalid).
    X, y = data_for(cls)
    values = (1, 2) if name == "n_experts_grid" else (1e-2, 1e-3)
    estimator = cls(cv=3, **{**SMALL, name: (v for v in values)})
    with pytest.raises(TypeError, match=rf"'{name}' must be .*not an iterator"):
        estimator.fit(X, y)


@pytest.mark.parametrize("cls", CV_CLASSES)
def test_a_split_training_on_one_row_is_refused_by_name(cls):
    X, y = data_for(cls)
    X, y = X[:12], y[:12]
    # One expert fits on one row as far as the grid's check went; the
    # candidate then failed inside without naming the split.
    params = {**SMALL, "n_experts_grid": (1,)}
    with pytest.raises(ValueError, match="split 0 of cv trains on 1 row of"):
        cls(cv=TimeSeriesSplit(11), **params).fit(X, y)
