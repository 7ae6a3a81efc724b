"""Cross-fitted responsibilities (``crossfit``): flexible experts must not
swallow rows that a linear expert explains as well.

Known truth: data from one linear (logistic) model; a linear and a tree
expert. Plain EM hands the tree most rows (it fits them in sample); scored
out of fold, the linear expert keeps them.
"""

import pickle
import re
import warnings
from unittest import mock

import numpy as np
import pytest
from _data import make_xor
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.compose import make_column_transformer
from sklearn.datasets import make_classification
from sklearn.decomposition import PCA, KernelPCA, TruncatedSVD
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    Perceptron,
    Ridge,
    RidgeClassifier,
    SGDClassifier,
)
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    MinMaxScaler,
    OneHotEncoder,
    PolynomialFeatures,
    SplineTransformer,
    StandardScaler,
)
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils._param_validation import InvalidParameterError

from skmoe import (
    MixtureOfExpertsClassifier,
    MixtureOfExpertsClassifierCV,
    MixtureOfExpertsRegressor,
    MixtureOfExpertsRegressorCV,
    _crossfit,
)
from skmoe._base import _TrainingData
from skmoe._crossfit import (
    PATIENCE,
    _FoldMemo,
    assign_folds,
    crossfit_columns,
    crossfit_folds,
    crossfit_outputs,
    is_flexible,
    splice_outputs,
    stalled,
)
from skmoe.rules import RuleExpert


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def linear_data(n=160, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-2, 2, size=(n, 2))
    return X, 1 + 2 * X[:, 0] - X[:, 1] + 0.5 * rng.standard_normal(n)


def logistic_data(n=200, seed=0):
    X, _ = linear_data(n, seed)
    rng = np.random.RandomState(seed + 1)
    logit = 2 * X[:, 0] - X[:, 1]
    return X, (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)


def linear_and_tree(crossfit, **params):
    experts = [
        ("linear", LinearRegression()),
        ("tree", DecisionTreeRegressor(min_samples_leaf=3, random_state=0)),
    ]
    params = {"n_init": 1, "max_iter": 30, "random_state": 0, **params}
    return MixtureOfExpertsRegressor(experts, crossfit=crossfit, **params)


def logistic_and_tree(crossfit, **params):
    experts = [
        ("linear", LogisticRegression()),
        ("tree", DecisionTreeClassifier(min_samples_leaf=3, random_state=0)),
    ]
    params = {"n_init": 1, "max_iter": 30, "random_state": 0, **params}
    return MixtureOfExpertsClassifier(experts, crossfit=crossfit, **params)


# ---- known truth: the linear regime stays with the linear expert ------------


def test_regressor_linear_truth_kept_by_linear_expert():
    X, y = linear_data()
    plain = linear_and_tree(False).fit(X, y)
    crossfit = linear_and_tree("auto").fit(X, y)
    # In sample, the tree explains the rows it fits: plain EM gives it about
    # half of them. Out of fold it is worse than the line everywhere.
    assert plain.expert_weights_[1] > 0.3
    assert crossfit.expert_weights_[0] > 0.9
    # ... and the mixture generalises like the line.
    X_test, y_test = linear_data(seed=1)
    line = LinearRegression().fit(X, y).score(X_test, y_test)
    assert crossfit.score(X_test, y_test) > line - 0.01
    assert plain.score(X_test, y_test) < crossfit.score(X_test, y_test)


def test_classifier_logistic_truth_kept_by_logistic_expert():
    X, y = logistic_data()
    plain = logistic_and_tree(False).fit(X, y)
    crossfit = logistic_and_tree("auto").fit(X, y)
    assert plain.expert_weights_[1] > 0.6
    assert crossfit.expert_weights_[0] > 0.6


def test_optimism_penalises_the_tree_more():
    # The penalty of the E-step is each expert's optimism per row: a deep
    # tree's far exceeds a line's (3 parameters over about 200 rows).
    X, y = linear_data()
    model = linear_and_tree("auto").fit(X, y)
    weight = np.ones(len(y))
    folds = assign_folds(5, weight, None, np.random.RandomState(0))
    data = _TrainingData(X, X, y, y, weight, {}, folds)
    resp = model.responsibilities(X, y)
    outputs = model._expert_outputs(X, y)
    rng = np.random.RandomState(0)
    _, (line, tree) = crossfit_outputs(model, data, resp, rng, 1, outputs)
    assert 0 <= line < 0.1
    assert tree > 5 * line


def test_log_likelihood_is_cross_fitted():
    # The recorded curve is the cross-fitted log-likelihood: below the
    # in-sample one of the same fitted model.
    X, y = linear_data()
    # Room for the tree's two re-seeds, each a new path of EM.
    model = linear_and_tree("auto", max_iter=200).fit(X, y)
    assert model.log_likelihood_ == model.log_likelihoods_[-1]
    assert model.log_likelihood_ < model.log_likelihood(X, y).mean()
    assert model.converged_


# ---- plain EM unchanged where nothing is flexible -------------------------


@pytest.mark.parametrize(
    "make, data",
    [
        (
            lambda cf: MixtureOfExpertsRegressor(random_state=0, crossfit=cf),
            linear_data,
        ),
        (
            lambda cf: MixtureOfExpertsClassifier(random_state=0, crossfit=cf),
            logistic_data,
        ),
    ],
)
def test_all_linear_auto_is_plain_em_exactly(make, data):
    X, y = data()
    auto, off = make("auto").fit(X, y), make(False).fit(X, y)
    assert_array_equal(auto.log_likelihoods_, off.log_likelihoods_)
    assert_array_equal(auto.gate_proba(X), off.gate_proba(X))
    assert_array_equal(auto.predict(X), off.predict(X))


def test_int_crossfit_applies_to_linear_experts_too():
    X, y = linear_data()
    forced = MixtureOfExpertsRegressor(random_state=0, crossfit=3, n_init=1).fit(X, y)
    plain = MixtureOfExpertsRegressor(random_state=0, crossfit=None, n_init=1)
    assert forced.log_likelihood_ < plain.fit(X, y).log_likelihood_


# ---- determinism, n_jobs, sample weights, metadata ------------------------


def test_deterministic_with_random_state():
    X, y = linear_data()
    first, second = (linear_and_tree("auto").fit(X, y) for _ in range(2))
    assert_array_equal(first.log_likelihoods_, second.log_likelihoods_)
    assert_array_equal(first.predict(X), second.predict(X))
    other = linear_and_tree("auto", random_state=1).fit(X, y)
    assert not np.array_equal(other.log_likelihoods_, first.log_likelihoods_)


def test_n_jobs_does_not_change_the_fit():
    X, y = linear_data()
    one = linear_and_tree("auto").fit(X, y)
    two = linear_and_tree("auto", n_jobs=2).fit(X, y)
    assert_array_equal(one.log_likelihoods_, two.log_likelihoods_)


def test_zero_weight_rows_are_absent():
    # Folds are dealt among the rows of positive weight, and a row of weight
    # zero is in no training fold: the fit equals the fit without it. (Linear
    # experts, whose weighted fit ignores such rows exactly; a tree's split
    # points would see them. No noise floor: its estimate looks at them.)
    X, y = linear_data(100)
    extra = np.random.RandomState(5).uniform(-2, 2, size=(30, 2))
    X_all = np.vstack([X, extra])
    y_all = np.concatenate([y, np.full(30, 50.0)])  # far off: would show
    weight = np.r_[np.ones(len(y)), np.zeros(30)]
    params = {"crossfit": 3, "reg_var": 0.0, "n_init": 1, "random_state": 0}
    weighted = MixtureOfExpertsRegressor(**params)
    weighted.fit(X_all, y_all, sample_weight=weight)
    removed = MixtureOfExpertsRegressor(**params).fit(X, y)
    assert_allclose(weighted.log_likelihoods_, removed.log_likelihoods_, rtol=1e-8)
    assert_allclose(weighted.predict(X), removed.predict(X), rtol=1e-8)


def test_weights_are_not_repeated_rows():
    # Documented: a row of weight 2 lies in one fold, where two repeated rows
    # may lie in two (and then predict each other): the fits differ.
    X, y = linear_data(100)
    weighted = linear_and_tree("auto").fit(X, y, sample_weight=np.full(100, 2.0))
    repeated = linear_and_tree("auto").fit(np.vstack([X, X]), np.r_[y, y])
    assert not np.allclose(weighted.predict(X), repeated.predict(X))


def test_unweighted_expert_is_cross_fitted():
    # k-nearest neighbours take no sample_weight: their copies are fitted on
    # the training folds' rows they own, and the fit runs through.
    X, y = linear_data()
    experts = [("linear", LinearRegression()), ("knn", KNeighborsRegressor(3))]
    model = MixtureOfExpertsRegressor(experts, n_init=1, random_state=0).fit(X, y)
    assert model.expert_weights_[0] > 0.8


class _TaggedTree(RegressorMixin, BaseEstimator):
    """A tree that checks its routed ``tag`` is aligned with its rows."""

    def fit(self, X, y, sample_weight=None, tag=None):
        assert tag is not None and len(tag) == X.shape[0]
        assert_array_equal(tag, np.round(X[:, 0] * 1e6))
        self.tree_ = DecisionTreeRegressor(min_samples_leaf=3, random_state=0)
        self.tree_.fit(X, y, sample_weight=sample_weight)
        self.n_fits_ = getattr(self, "n_fits_", 0) + 1
        return self

    def predict(self, X):
        return self.tree_.predict(X)


def test_routed_metadata_follows_the_training_rows():
    X, y = linear_data()
    tag = np.round(X[:, 0] * 1e6)
    with config_context(enable_metadata_routing=True):
        tree = _TaggedTree()
        tree.set_fit_request(tag=True, sample_weight=True)
        experts = [
            ("linear", LinearRegression().set_fit_request(sample_weight=True)),
            ("tree", tree),
        ]
        model = MixtureOfExpertsRegressor(
            experts, n_init=1, max_iter=5, random_state=0
        ).fit(X, y, tag=tag)
    assert model.n_iter_ >= 1


def test_failing_copy_names_the_fold():
    class Failing(DecisionTreeRegressor):
        def fit(self, X, y, sample_weight=None):
            if X.shape[0] < 150:  # a fold's copy, never the full fit
                raise ValueError("boom")
            return super().fit(X, y, sample_weight=sample_weight)

    X, y = linear_data()
    experts = [("linear", LinearRegression()), ("bad", Failing())]
    model = MixtureOfExpertsRegressor(experts, n_init=1, random_state=0)
    with pytest.raises(
        ValueError,
        match=r"'bad'.*cross-fitted copy for fold 1 of 5\): boom\. .*crossfit=False",
    ):
        model.fit(X, y)


def test_a_copy_that_fails_to_predict_its_held_out_rows_is_named():
    # A category seen in one row only: the copy fitted without that row
    # meets it in its held-out fold. The expert itself fits these data.
    rng = np.random.RandomState(0)
    site = rng.choice([0.0, 1.0, 2.0], 400)
    site[0] = 3.0
    load = rng.uniform(0, 10, 400)
    X = np.column_stack([site, load])
    y = np.where(site == 1, 5 + 0.5 * load, 1 + 2 * load) + rng.standard_normal(400)
    encode = make_column_transformer((OneHotEncoder(), [0]), remainder="passthrough")
    expert = make_pipeline(encode, Ridge())
    model = MixtureOfExpertsRegressor(expert, n_experts=2, random_state=0)
    with pytest.raises(
        ValueError,
        match=r"'expert0' \(Pipeline\) failed to predict at EM iteration 1 "
        r"\(cross-fitted copy for fold \d of 5\): Found unknown categories.*"
        r"crossfit=False fits the experts without them \(crossfit='auto' here\)",
    ):
        model.fit(X, y)
    assert model.set_params(crossfit=False).fit(X, y).score(X, y) > 0.8


# ---- parameter checks -------------------------------------------------------


@pytest.mark.parametrize("value", [1, 0, -3, "folds", 2.5, "AUTO"])
@pytest.mark.parametrize("cls", [MixtureOfExpertsRegressor, MixtureOfExpertsClassifier])
def test_bad_crossfit_names_the_parameter(cls, value):
    X, y = logistic_data(40)
    with pytest.raises(InvalidParameterError, match="'crossfit'"):
        cls(crossfit=value).fit(X, y)


def test_more_folds_than_rows_is_refused():
    X, y = linear_data(20)
    weight = np.r_[np.ones(6), np.zeros(14)]
    model = MixtureOfExpertsRegressor(crossfit=8, n_init=1)
    with pytest.raises(ValueError, match=re.escape("'crossfit' asks for 8 folds")):
        model.fit(X, y, sample_weight=weight)


@pytest.mark.parametrize(
    "cls", [MixtureOfExpertsRegressorCV, MixtureOfExpertsClassifierCV]
)
def test_cv_estimators_pass_crossfit_on(cls):
    model = cls(crossfit=4)
    assert model.get_params()["crossfit"] == 4
    assert model._mixture(2, None, 0).crossfit == 4


# ---- the pieces -------------------------------------------------------------


def test_which_experts_are_flexible():
    assert is_flexible(DecisionTreeRegressor())
    assert is_flexible(KNeighborsRegressor())
    assert not is_flexible(LinearRegression())
    assert not is_flexible(LogisticRegression())
    assert not is_flexible(RuleExpert(np.sign))
    assert not is_flexible(MixtureOfExpertsRegressor())

    # scikit-learn's linear models, alone or after column-wise scaling: as
    # many coefficients as columns, whatever the data.
    class Subclassed(LinearRegression):
        pass

    linear_models = (Lasso(), ElasticNet(), RidgeClassifier(), SGDClassifier())
    for linear in (*linear_models, Subclassed()):
        assert not is_flexible(linear)
    assert not is_flexible(make_pipeline(StandardScaler(), LogisticRegression()))
    assert not is_flexible(make_pipeline(SimpleImputer(), MinMaxScaler(), Ridge()))
    # A projection learnt from X alone: a linear model of X with fewer
    # coefficients.
    assert not is_flexible(make_pipeline(StandardScaler(), PCA(2), Ridge()))
    assert not is_flexible(make_pipeline(TruncatedSVD(2), LogisticRegression()))
    assert is_flexible(make_pipeline(KernelPCA(2, kernel="rbf"), Ridge()))
    # Features expanded, or a flexible model last: flexible.
    assert is_flexible(make_pipeline(PolynomialFeatures(), LinearRegression()))
    assert is_flexible(make_pipeline(StandardScaler(), KNeighborsRegressor()))


@pytest.mark.parametrize("n_experts", [1, 2])
def test_too_few_rows_for_the_copies_run_plain_em(n_experts):
    # KNeighborsRegressor() alone fits 6 rows; its cross-fitted copies, on
    # 4 or 5 of them, could not find 5 neighbours.
    rng = np.random.RandomState(0)
    X, y = rng.standard_normal((6, 2)), rng.standard_normal(6)
    moe = MixtureOfExpertsRegressor(
        KNeighborsRegressor(), n_experts=n_experts, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a degenerate fit, as it should say
        moe.fit(X, y)
    if n_experts == 1:
        assert_array_equal(moe.predict(X), KNeighborsRegressor().fit(X, y).predict(X))
    # From 13 rows on, each copy has at least 10 rows: cross-fitted.
    mixture, knn = (
        MixtureOfExpertsRegressor(KNeighborsRegressor()),
        [KNeighborsRegressor()],
    )
    assert crossfit_folds(mixture, knn, np.ones(13), None, rng) is not None
    assert crossfit_folds(mixture, knn, np.ones(12), None, rng) is None


def test_a_scaled_logistic_expert_runs_plain_em_as_a_bare_one():
    # A scaler + logistic Pipeline was cross-fitted as if it were a tree:
    # five extra fits per expert and iteration, and another optimum.
    X, y = make_xor(600, random_state=0)
    kw = dict(n_experts=3, n_init=1, random_state=0)
    piped = MixtureOfExpertsClassifier(
        make_pipeline(StandardScaler(), LogisticRegression()), **kw
    ).fit(X, y)
    plain = MixtureOfExpertsClassifier(
        make_pipeline(StandardScaler(), LogisticRegression()), crossfit=False, **kw
    ).fit(X, y)
    assert_array_equal(piped.log_likelihoods_, plain.log_likelihoods_)


def test_crossfit_columns():
    tree, line = DecisionTreeRegressor(), LinearRegression()
    rule = RuleExpert(np.sign)
    frozen = FrozenEstimator(clone(line).fit([[0.0], [1.0]], [0.0, 1.0]))
    assert crossfit_columns([line, line], "auto") == []
    assert crossfit_columns([line, line], 3) == [0, 1]
    # Once one expert is flexible, every expert EM refits is cross-fitted
    # (the rule is not); with scope "flexible", only the flexible one.
    assert crossfit_columns([line, tree, rule], "auto") == [0, 1]
    assert crossfit_columns([line, tree, rule], 3, "flexible") == [1]
    assert crossfit_columns([frozen, tree], True) == [1]
    assert crossfit_columns([line, tree], False) == []
    assert crossfit_columns([line, tree], None) == []


def test_assign_folds_stratified_and_balanced():
    rng = np.random.RandomState(0)
    strata = np.repeat([0, 1, 2], [50, 30, 7])
    folds = assign_folds(5, np.ones(87), strata, rng)
    sizes = np.bincount(folds)
    assert sizes.max() - sizes.min() <= 1
    for c in range(3):
        per_fold = np.bincount(folds[strata == c], minlength=5)
        assert per_fold.max() - per_fold.min() <= 1


def test_assign_folds_ignores_absent_rows():
    weight = np.r_[np.ones(10), np.zeros(5)]
    with_absent = assign_folds(3, weight, None, np.random.RandomState(0))
    alone = assign_folds(3, np.ones(10), None, np.random.RandomState(0))
    assert_array_equal(with_absent[:10], alone)


def test_splice_outputs():
    full = (np.zeros((4, 3)), {0: np.zeros(4), 2: None})
    part = (np.ones((2, 2)), {0: np.full(2, 7.0), 1: np.ones(2)})
    means, var = splice_outputs(full, part, np.array([1, 3]), [0, 2])
    assert_array_equal(means, [[0, 0, 0], [1, 0, 1], [0, 0, 0], [1, 0, 1]])
    assert_array_equal(var[0], [0, 7, 0, 7])
    assert var[2] is None  # no spread on all rows: none spliced in


def test_splice_outputs_widens_labels_rather_than_cut_them():
    # A copy's label longer than any the expert gave on all rows was cut to
    # their width: "bad" became "b", another class.
    full = {0: np.array(["b", "b", "b"])}
    spliced = splice_outputs(full, {0: np.array(["bad"])}, np.array([1]), [0])
    assert spliced[0].tolist() == ["b", "bad", "b"]
    ints = splice_outputs({0: np.array([1, 1])}, {0: np.array(["a"])}, [0], [0])
    assert ints[0].tolist() == ["a", 1]  # not "1": labels keep their kind


def wandering_data():
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(400, 2))
    y = np.where(X[:, 0] < 0, np.sin(2 * X[:, 1]), X[:, 1])
    return X, y + 0.3 * rng.standard_normal(400)


def test_em_with_flexible_experts_stops_when_it_stalls_without_crossfit():
    # A tree's refit is not an ascent step: its splits move with the weights,
    # so EM's curve can keep jumping by more than tol. Without cross-fitting
    # it used to run to max_iter (with boosting experts, for minutes).
    X, y = wandering_data()
    moe = MixtureOfExpertsRegressor(
        DecisionTreeRegressor(max_depth=4),
        n_experts=2,
        crossfit=False,
        n_init=1,
        max_iter=300,
        random_state=0,
    ).fit(X, y)
    curve = moe.log_likelihoods_
    assert moe.converged_ and moe.n_iter_ < 300
    assert abs(curve[-1] - curve[-2]) >= moe.tol  # it did not settle ...
    assert stalled(list(curve))  # ... it stalled


@pytest.mark.parametrize(
    "expert", [Perceptron(random_state=0), SGDClassifier(random_state=0)]
)
def test_em_with_stochastically_trained_experts_stops_when_it_stalls(expert):
    # A linear model trained by stochastic steps goes on from its last
    # weights with new noise at every M-step: half the steps went down, and
    # EM ran to max_iter (38 s and 74 s for a 3-fold CV of this case).
    X, y = make_classification(
        400,
        4,
        n_informative=3,
        n_redundant=0,
        n_classes=3,
        flip_y=0.15,
        class_sep=0.7,
        random_state=1,
    )
    moe = MixtureOfExpertsClassifier(
        expert, n_experts=3, n_init=1, max_iter=300, random_state=0
    ).fit(X, y)
    assert moe.converged_ and moe.n_iter_ < 300
    assert stalled(list(moe.log_likelihoods_))


def test_auto_does_not_cross_fit_two_classes_of_which_one_has_one_row():
    # The stratified folds hold the one row out once, and that fold's copies
    # were fitted on one class: "This solver needs samples of at least 2
    # classes", though each expert alone fits the data.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(100, 2))
    y = np.zeros(100, dtype=int)
    y[0] = 1
    experts = [
        ("lr", LogisticRegression()),
        ("tree", DecisionTreeClassifier(max_depth=2)),
    ]
    auto = MixtureOfExpertsClassifier(experts, random_state=0).fit(X, y)
    plain = MixtureOfExpertsClassifier(experts, crossfit=False, random_state=0).fit(
        X, y
    )
    assert_array_equal(auto.predict_proba(X), plain.predict_proba(X))
    three = np.where(np.arange(100) < 50, y, 2)  # the row of class 1 among two others
    MixtureOfExpertsClassifier(experts, random_state=0).fit(X, three)


def test_a_reseed_starts_a_new_path_for_the_stall_rule():
    # A re-seeded expert starts afresh and the curve dips; the stall rule
    # must judge the new path, not compare it with the best before the
    # re-seed (which stopped runs in the dip, the re-seeded expert holding
    # rows it could not keep).
    X, y = wandering_data()
    kw = dict(crossfit=False, n_init=1, max_iter=300, random_state=0)
    tree = DecisionTreeRegressor(max_depth=4)
    plain = MixtureOfExpertsRegressor(tree, n_experts=2, **kw).fit(X, y)
    stop = plain.n_iter_
    assert stalled(list(plain.log_likelihoods_))  # it stopped by stalling
    original = MixtureOfExpertsRegressor._handle_dead_experts

    def reseed_late(self, log_resp, log_norm, data, n_iter):
        log_resp, revived = original(self, log_resp, log_norm, data, n_iter)
        return log_resp, revived or n_iter == stop - 1  # a new path here

    with mock.patch.object(
        MixtureOfExpertsRegressor, "_handle_dead_experts", reseed_late
    ):
        moe = MixtureOfExpertsRegressor(tree, n_experts=2, **kw).fit(X, y)
    assert_array_equal(
        moe.log_likelihoods_[: stop - 1], plain.log_likelihoods_[: stop - 1]
    )
    # Past where the former rule stopped it, and on until the new path
    # settles by tol or stalls in its turn.
    curve = moe.log_likelihoods_
    assert moe.n_iter_ > stop
    assert abs(curve[-1] - curve[-2]) < moe.tol or moe.n_iter_ > stop - 1 + PATIENCE


def test_em_with_linear_experts_stops_by_tol_only(objectives):
    # On what EM climbs: the log-likelihood less the gate's penalty.
    X, y = wandering_data()
    moe = MixtureOfExpertsRegressor(
        n_experts=3, crossfit=False, n_init=1, tol=1e-8, random_state=0
    ).fit(X, y)
    assert moe.converged_
    assert len(objectives) == len(moe.log_likelihoods_)
    assert abs(objectives[-1] - objectives[-2]) < moe.tol


def test_stalled():
    assert not stalled([1.0, 2.0, 3.0], patience=2)
    assert stalled([1.0, 3.0, 2.0, 2.5], patience=2)
    assert not stalled([1.0, 3.0, 2.0, 3.5], patience=2)


def test_label_only_expert_is_cross_fitted():
    # An SVC without probabilities gives labels; its copies' labels are
    # spliced in for its optimism (its in-sample error rate is 0.1 %, its
    # out-of-fold one near the data's 20 %), and the logistic expert gains.
    X, y = logistic_data()
    experts = [("linear", LogisticRegression()), ("svc", SVC(C=100.0))]
    shares = {}
    for crossfit in (False, "auto"):
        model = MixtureOfExpertsClassifier(
            experts, crossfit=crossfit, n_init=1, random_state=0
        ).fit(X, y)
        shares[crossfit] = model.expert_weights_[0]
        assert 0 < model.label_noise_[1] < 0.5
    assert shares["auto"] > shares[False]


def test_classifier_folds_are_stratified_with_rare_classes():
    # Three folds over a class of four rows: each fold's copies see it.
    X, y = logistic_data(120)
    y = y.copy()
    y[:4] = 2
    model = MixtureOfExpertsClassifier(crossfit=3, n_init=1, random_state=0)
    model.fit(X, y)
    assert model.predict_proba(X).shape == (120, 3)
    assert np.isfinite(model.log_likelihood_)


def test_dask_collections_refuse_an_explicit_crossfit():
    da = pytest.importorskip("dask.array")
    X, y = linear_data(40)
    model = MixtureOfExpertsRegressor(crossfit=3)
    with pytest.raises(ValueError, match="crossfit=3 is not supported on Dask"):
        model.fit(da.from_array(X, chunks=20), da.from_array(y, chunks=20))


def test_a_penalised_expert_with_many_coefficients_keeps_its_rows():
    # 10 classes x 64 pixels: AIC would charge the logistic expert its 650
    # coefficients (2.4 nats per row on 270 rows) although C=1 keeps its
    # out-of-fold loss close to its in-sample one; measured out of fold, it
    # keeps the rows, and the mixture is as accurate as the expert alone.
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    rows = np.random.RandomState(0).choice(len(X), 400, replace=False)
    X_train, X_test, y_train, y_test = train_test_split(
        StandardScaler().fit_transform(X[rows]),
        y[rows],
        random_state=0,
        stratify=y[rows],
    )
    logistic = LogisticRegression(max_iter=1000)
    alone = clone(logistic).fit(X_train, y_train).score(X_test, y_test)
    moe = MixtureOfExpertsClassifier(
        [("linear", logistic), ("tree", DecisionTreeClassifier(max_depth=4))],
        n_init=1,
        random_state=0,
    ).fit(X_train, y_train)
    assert moe.expert_weights_[0] > 0.9
    assert moe.score(X_test, y_test) >= alone - 0.02


def test_copies_that_share_a_folds_rows_cannot_change_them():
    # The copies of a fold share its rows, to fit on and to predict: one that
    # scales in place must not move the rows the others see. At predict it
    # did: the tree's copies scored the rows the scaler had scaled, and the
    # fit parted from the one with copy=True at the first iteration.
    X, y = linear_data()

    def experts(copy):
        scaled = make_pipeline(
            StandardScaler(copy=copy), PolynomialFeatures(), LinearRegression()
        )
        return [("scaled", scaled), ("tree", DecisionTreeRegressor(max_depth=3))]

    models = [
        MixtureOfExpertsRegressor(
            experts(copy), n_init=1, max_iter=5, random_state=0
        ).fit(X, y)
        for copy in (True, False)
    ]
    assert_array_equal(models[0].log_likelihoods_, models[1].log_likelihoods_)


# ---- the copies of Pipeline experts ------------------------------------------


def test_copies_of_a_pipeline_fit_its_first_steps_once_per_fold(monkeypatch):
    # EM weights a Pipeline's last step only: a copy's spline features,
    # fitted on the fold's rows at every M-step, ended where they began.
    # Fitted once per fold and run, the model is the same to the bit; past
    # the memory budget the copies are fitted whole, as before.
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(300, 2))
    y = np.where(X[:, 0] > 0, np.sin(2 * X[:, 1]), X[:, 1] ** 2)
    y += 0.1 * rng.standard_normal(300)
    experts = [
        ("spline", make_pipeline(SplineTransformer(n_knots=4), Ridge())),
        ("tree", DecisionTreeRegressor(max_depth=3)),
    ]
    model = MixtureOfExpertsRegressor(experts, n_init=1, max_iter=15, random_state=0)
    fits = []
    fit_transform = SplineTransformer.fit_transform

    def counted(self, *args, **kwargs):
        fits.append(len(args[0]))
        return fit_transform(self, *args, **kwargs)

    monkeypatch.setattr(SplineTransformer, "fit_transform", counted)
    kept = clone(model).fit(X, y)
    assert kept.n_iter_ > 2
    assert sorted(fits) == [240] * 5 + [300]  # each fold once, the expert once
    fits.clear()
    monkeypatch.setattr(_crossfit, "_budget", lambda: 0)
    whole = clone(model).fit(X, y)
    assert len(fits) - 1 >= 5 * whole.n_iter_  # each fold at every M-step
    assert_array_equal(kept.log_likelihoods_, whole.log_likelihoods_)
    assert_array_equal(kept.predict(X), whole.predict(X))


def test_the_kept_first_steps_do_not_travel():
    # A process backend pickles the runs of its starts: what they keep is
    # rebuilt where it is missing.
    memo = _FoldMemo()
    memo["spline", 0] = "kept"
    memo.nbytes = 10
    restored = pickle.loads(pickle.dumps(memo))
    assert type(restored) is type(memo) and not restored and restored.nbytes == 0
