"""The mixtures behave as scikit-learn's own meta-estimators: metadata
routing, HTML repr, missing values, transform."""

import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context
from sklearn.base import clone
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    StackingRegressor,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge, RidgeCV
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
from sklearn.utils import estimator_html_repr, get_tags

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor, SoftmaxGate


class Recorder(LinearRegression):
    """A linear expert that keeps the metadata its fit received."""

    def fit(self, X, y, sample_weight=None, groups=None):
        self.received_ = {"groups": groups, "sample_weight": sample_weight}
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(300, 2))
    y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
    groups = np.arange(300) % 6
    return X, y + 0.1 * rng.standard_normal(300), groups


def quiet(fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit()


# ---- metadata routing -------------------------------------------------------


def test_routed_metadata_reaches_the_expert_that_requests_it(data):
    X, y, groups = data
    with config_context(enable_metadata_routing=True):
        recorder = Recorder().set_fit_request(groups=True, sample_weight=True)
        moe = MixtureOfExpertsRegressor(
            [("rec", recorder), ("lin", LinearRegression())], random_state=0
        )
        moe.fit(X, y, groups=groups)
    received = moe.named_experts_["rec"].received_
    assert_array_equal(received["groups"], groups)
    # EM's responsibilities still arrive as sample_weight.
    assert received["sample_weight"].shape == (300,)
    assert received["sample_weight"].std() > 0


def test_metadata_nobody_requests_is_refused(data):
    X, y, groups = data
    with config_context(enable_metadata_routing=True):
        with pytest.raises(TypeError, match="groups"):
            MixtureOfExpertsRegressor(random_state=0).fit(X, y, groups=groups)
    with pytest.raises(ValueError, match="enable_metadata_routing"):
        MixtureOfExpertsRegressor(random_state=0).fit(X, y, groups=groups)


def test_refusing_sample_weight_fits_the_expert_without_weights(data):
    # A request is honoured: an expert that asked not to receive
    # sample_weight is fitted like an expert that takes none (hard EM).
    X, y, _ = data
    with config_context(enable_metadata_routing=True):
        refusing = Recorder().set_fit_request(sample_weight=False)
        moe = MixtureOfExpertsRegressor(
            [("rec", refusing), ("lin", LinearRegression())], random_state=0
        )
        quiet(lambda: moe.fit(X, y))
    assert moe.named_experts_["rec"].received_["sample_weight"] is None
    assert moe.score(X, y) > 0.95


def test_routing_off_gives_the_same_model_as_routing_on(data):
    X, y, _ = data
    weight = np.random.RandomState(1).uniform(0.5, 2, size=len(y))
    off = MixtureOfExpertsRegressor(random_state=0).fit(X, y, sample_weight=weight)
    with config_context(enable_metadata_routing=True):
        on = MixtureOfExpertsRegressor(random_state=0).fit(X, y, sample_weight=weight)
    assert_array_equal(on.predict(X), off.predict(X))


def test_groups_reach_an_experts_own_cross_validation_inside_a_search(data):
    # GridSearchCV splits by groups, and the same groups reach the
    # GroupKFold inside each RidgeCV expert, split with the rows.
    X, y, groups = data
    with config_context(enable_metadata_routing=True):
        # One start: RidgeCV chooses its own penalty, so crossfit="auto"
        # cross-fits it (its fits take the groups too); three starts would
        # triple that (36 s against 10 s) without routing anything new.
        moe = MixtureOfExpertsRegressor(
            RidgeCV(cv=GroupKFold(3)), n_init=1, random_state=0
        )
        search = GridSearchCV(moe, {"n_experts": [1, 2]}, cv=GroupKFold(3))
        search.fit(X, y, groups=groups)
    assert search.best_params_ == {"n_experts": 2}
    assert search.best_score_ > 0.95


def test_pipeline_expert_gets_routed_metadata(data):
    X, y, groups = data
    with config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            StandardScaler().set_fit_request(sample_weight=False),
            Recorder().set_fit_request(sample_weight=True, groups=True),
        )
        moe = MixtureOfExpertsRegressor(pipe, n_experts=2, random_state=0)
        moe.fit(X, y, groups=groups)
    for expert in moe.experts_:
        assert_array_equal(expert[-1].received_["groups"], groups)
        assert expert[-1].received_["sample_weight"].std() > 0
    assert moe.score(X, y) > 0.95


def test_a_pipeline_expert_without_requests_is_named_in_a_value_error(data):
    # Routed metadata make the Pipeline route sample_weight by its steps'
    # requests, which scikit-learn wants set; its UnsetMetadataPassedError
    # (a ValueError) came out as a RuntimeError.
    X, y, groups = data
    with config_context(enable_metadata_routing=True):
        pipe = make_pipeline(StandardScaler(), Recorder().set_fit_request(groups=True))
        moe = MixtureOfExpertsRegressor(pipe, n_experts=2, random_state=0)
        with pytest.raises(
            ValueError, match=r"Expert 'expert0' \(Pipeline\).*\[sample"
        ):
            moe.fit(X, y, groups=groups)


def test_an_expert_asking_for_other_weights_as_sample_weight_is_refused(data):
    # The alias reached the expert beside EM's own weights: "got multiple
    # values for keyword argument 'sample_weight'", deep in its fit.
    X, y, groups = data
    with config_context(enable_metadata_routing=True):
        expert = Ridge().set_fit_request(sample_weight="w")
        moe = MixtureOfExpertsRegressor([("a", expert), ("b", Ridge())])
        with pytest.raises(ValueError, match=r"\['a'\] request other metadata as"):
            moe.fit(X, y, w=np.ones(len(y)))


def test_initial_responsibilities_are_routed_by_a_search(data):
    X, y, groups = data
    start = np.column_stack([X[:, 0] < 0, X[:, 0] >= 0]) * 0.8 + 0.1
    with config_context(enable_metadata_routing=True):
        moe = MixtureOfExpertsRegressor(max_iter=1).set_fit_request(init_resp=True)
        search = GridSearchCV(moe, {"n_experts": [2]}, cv=GroupKFold(3))
        quiet(lambda: search.fit(X, y, groups=groups, init_resp=start))
    # Each fold starts from its own rows of the start (a start of the whole
    # data's shape would be refused), and one EM iteration from the true
    # split already fits well.
    assert search.best_score_ > 0.8


# ---- HTML repr ----------------------------------------------------------------


def test_html_repr_shows_named_experts_and_the_gate():
    moe = MixtureOfExpertsRegressor(
        [("lin", LinearRegression()), ("boost", HistGradientBoostingRegressor())]
    )
    html = estimator_html_repr(moe)
    labels = re.findall(
        r'<label[^>]*class="sk-toggleable__label[^"]*"[^>]*>(.*?)<', html
    )
    assert (
        labels[:1] == ["MixtureOfExpertsRegressor"]
        or "MixtureOfExpertsRegressor" in html
    )
    for name in ("lin", "boost", "gate", "SoftmaxGate"):
        assert f">{name}<" in html or name in re.sub(r"<[^>]+>", " ", html).split()
    assert (
        "skmoe.readthedocs.io/en/latest/generated/skmoe.MixtureOfExpertsRegressor.html"
        in html
    )
    assert "generated/skmoe.SoftmaxGate.html" in html
    assert "sklearn.linear_model.LinearRegression.html" in html


def test_html_repr_of_cloned_experts_names_each_clone():
    html = estimator_html_repr(MixtureOfExpertsClassifier(n_experts=3))
    text = re.sub(r"<[^>]+>", " ", html).split()
    assert {"expert0", "expert1", "expert2", "gate"} <= set(text)


# ---- missing values -----------------------------------------------------------


def with_missing(X, column, share=0.2, seed=0):
    X = X.copy()
    X[np.random.RandomState(seed).rand(len(X)) < share, column] = np.nan
    return X


def test_nan_is_accepted_where_every_part_takes_it(data):
    X, y, _ = data
    X = np.column_stack([X, with_missing(X, 1)[:, 1]])
    moe = MixtureOfExpertsRegressor(
        HistGradientBoostingRegressor(max_iter=30),
        gate_features=[0],
        max_iter=10,
        random_state=0,
    )
    quiet(lambda: moe.fit(X, y))
    assert np.all(np.isfinite(moe.predict(X)))
    assert moe.score(X, y) > 0.9


def test_nan_for_experts_that_refuse_it_names_them(data):
    X, y, _ = data
    moe = MixtureOfExpertsRegressor(
        [("lin", LinearRegression()), ("boost", HistGradientBoostingRegressor())],
        gate_features=[0],
    )
    with pytest.raises(ValueError, match=r"experts \['lin'\] do not accept"):
        moe.fit(with_missing(X, 1), y)


def test_nan_in_the_gate_columns_names_the_gate(data):
    X, y, _ = data
    moe = MixtureOfExpertsRegressor(HistGradientBoostingRegressor(max_iter=10))
    with pytest.raises(ValueError, match=r"gate's columns .*\(SoftmaxGate\)"):
        moe.fit(with_missing(X, 0), y)
    # A gate that takes NaN may see it.
    moe.set_params(gate=HistGradientBoostingClassifier(max_iter=10), max_iter=3)
    quiet(lambda: moe.fit(with_missing(X, 0), y))
    assert np.all(np.isfinite(moe.predict(with_missing(X, 0, seed=1))))


def test_pipelines_that_impute_take_nan(data):
    # scikit-learn leaves a Pipeline's allow_nan tag False; one whose steps
    # take NaN up to an imputer takes it, as it does alone.
    X, y, _ = data
    X_missing = with_missing(X, 1)
    imputing = make_pipeline(SimpleImputer(), LinearRegression())
    moe = MixtureOfExpertsRegressor(
        imputing,
        gate=make_pipeline(SimpleImputer(), LogisticRegression()),
        n_experts=2,
        random_state=0,
    )
    quiet(lambda: moe.fit(X_missing, y))
    assert np.all(np.isfinite(moe.predict(X_missing)))
    assert get_tags(moe).input_tags.allow_nan
    # A step before the imputer that refuses NaN, or no imputer at all: the
    # Pipeline refuses it, and the mixture says so up front.
    for refusing in (
        make_pipeline(StandardScaler(), LinearRegression()),
        make_pipeline(PolynomialFeatures(), SimpleImputer(), LinearRegression()),
    ):
        moe.set_params(experts=refusing)
        with pytest.raises(ValueError, match=r"experts \['expert0', 'expert1'\]"):
            moe.fit(X_missing, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "gate, init_params",
    [
        (
            make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression()),
            "auto",
        ),
        (make_pipeline(SimpleImputer(), LogisticRegression()), "random"),
    ],
    ids=["k-means start", "random start"],
)
def test_nan_in_the_gate_columns_still_finds_the_regimes(gate, init_params):
    # The start places each row by the gate columns it has. With NaN left in
    # its k-means, every row started in one cluster and EM stayed there: R^2
    # 0.66 against 0.98, the experts identical (with a HistGradientBoosting
    # gate too: the start does not depend on the gate); "random" crashed.
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(600, 2))
    y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
    y = y + 0.1 * rng.standard_normal(600)
    moe = MixtureOfExpertsRegressor(
        make_pipeline(SimpleImputer(), LinearRegression()),
        gate=gate,
        init_params=init_params,
        max_iter=15,
        random_state=0,
    )
    complete = clone(moe).fit(X, y)
    X_missing = with_missing(X, 1, share=0.1)
    missing = moe.fit(X_missing, y)
    assert missing.score(X_missing, y) > 0.97
    assert missing.score(X_missing, y) > complete.score(X, y) - 0.005
    slopes = sorted(expert[-1].coef_[0] for expert in missing.experts_)
    assert_allclose(slopes, [-1, 2], atol=0.05)


def test_nan_at_predict_time_is_checked_by_column(data):
    X, y, _ = data
    moe = MixtureOfExpertsRegressor(random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"experts \['expert0', 'expert1'\]"):
        moe.predict(with_missing(X, 1))


def test_allow_nan_tag_follows_the_experts_and_the_gate():
    hgb = HistGradientBoostingClassifier()
    assert not get_tags(MixtureOfExpertsClassifier(hgb)).input_tags.allow_nan
    assert get_tags(MixtureOfExpertsClassifier(hgb, gate=hgb)).input_tags.allow_nan
    assert not get_tags(
        MixtureOfExpertsClassifier(LogisticRegression(), gate=hgb)
    ).input_tags.allow_nan


def test_one_expert_has_no_gate_to_refuse_nan(data):
    # One expert owns every row; NaN is for it alone to accept, as it would
    # be fitted alone.
    X, y, _ = data
    X = with_missing(X, 0)
    hgb = HistGradientBoostingRegressor(max_iter=20)
    for experts in (dict(experts=hgb, n_experts=1), dict(experts=[("hgb", hgb)])):
        moe = MixtureOfExpertsRegressor(**experts)
        assert get_tags(moe).input_tags.allow_nan
        assert_allclose(moe.fit(X, y).predict(X), clone(hgb).fit(X, y).predict(X))
    with pytest.raises(ValueError, match=r"the gate \(SoftmaxGate\)"):
        MixtureOfExpertsRegressor(hgb, n_experts=2).fit(X, y)


# ---- transform ------------------------------------------------------------------


def test_transform_gives_the_gate_probabilities(data):
    X, y, _ = data
    moe = MixtureOfExpertsRegressor(random_state=0).fit(X, y)
    assert_allclose(moe.transform(X), moe.gate_proba(X))
    assert moe.get_feature_names_out().tolist() == [
        "mixtureofexpertsregressor_expert0",
        "mixtureofexpertsregressor_expert1",
    ]
    frame = clone(moe).set_output(transform="pandas").fit(X, y).transform(X)
    assert frame.columns.tolist() == moe.get_feature_names_out().tolist()


def test_a_mixture_can_feed_a_stacking_regressor(data):
    X, y, _ = data
    stack = StackingRegressor(
        [("moe", MixtureOfExpertsRegressor(random_state=0))],
        final_estimator=LinearRegression(),
        cv=3,
    ).fit(X, y)
    assert stack.score(X, y) > 0.95


def test_softmax_gate_parameters_are_validated():
    from skmoe._compat import InvalidParameterError

    with pytest.raises(
        InvalidParameterError, match="'solver' parameter of SoftmaxGate"
    ):
        SoftmaxGate(solver="sgd").fit([[0.0], [1.0]], [0, 1])


def test_html_repr_of_many_clones_draws_the_template_once():
    html = estimator_html_repr(MixtureOfExpertsClassifier(n_experts=10**5))
    text = re.sub(r"<[^>]+>", " ", html).split()
    assert {"expert0", "...", "expert99999", "gate"} <= set(text)
    assert "expert1" not in text
    # One template box and the gate's, not one per clone.
    assert len(html) < 100_000
