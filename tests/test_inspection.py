"""skmoe.inspection: the mixture's inspection methods through a Pipeline, with
pandas output for DataFrame input."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from _data import make_concomitant, make_two_regimes
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skmoe import (
    MixtureOfExpertsClassifier,
    MixtureOfExpertsRegressor,
    MixtureOfExpertsRegressorCV,
)
from skmoe.inspection import (
    gate_proba,
    predict_expert,
    responsibilities,
    routing_summary,
)

FUNCTIONS = [gate_proba, predict_expert, routing_summary, responsibilities]


def _call(function, estimator, X, y):
    if function is responsibilities:
        return function(estimator, X, y)
    return function(estimator, X)


@pytest.fixture(scope="module")
def frame():
    """Regimes decided by ``z`` (z > 0), y linear in ``x``; ``x`` in large
    units, a categorical column that does not matter, and an index that is
    neither 0..n-1 nor sorted."""
    X, y = make_concomitant(300, random_state=0, n_noise=0)
    rng = np.random.RandomState(1)
    X_frame = pd.DataFrame(
        {
            "x": 1000 * X[:, 0],
            "z": X[:, 1],
            "city": rng.choice(["Oslo", "Lima", "Pune"], size=300),
        },
        index=pd.Index(rng.permutation(300) + 5000, name="customer"),
    )
    regime = (X[:, 1] > 0).astype(int)
    return X_frame, pd.Series(y, index=X_frame.index, name="spend"), regime


@pytest.fixture(scope="module")
def column_pipeline(frame):
    X, y, _ = frame
    columns = ColumnTransformer(
        [
            ("num", StandardScaler(), ["x", "z"]),
            ("cat", OneHotEncoder(), ["city"]),
        ]
    )
    experts = [("low", LinearRegression()), ("high", LinearRegression())]
    moe = MixtureOfExpertsRegressor(experts, random_state=0)
    return Pipeline([("columns", columns), ("moe", moe)]).fit(X, y)


# ---- through a Pipeline with a ColumnTransformer -----------------------------------


def test_gate_proba_through_column_pipeline(column_pipeline, frame):
    X, _, _ = frame
    moe = column_pipeline[-1]
    gate = gate_proba(column_pipeline, X)
    assert isinstance(gate, pd.DataFrame)
    assert_array_equal(gate.index, X.index)
    assert gate.index.name == "customer"
    assert list(gate.columns) == ["low", "high"] == list(moe.named_experts_)
    # The preceding steps are applied: the mixture's own method on the
    # transformed rows gives the same numbers.
    expected = moe.gate_proba(column_pipeline[:-1].transform(X))
    assert_allclose(gate.to_numpy(), expected)


def test_predict_expert_recovers_the_regimes(column_pipeline, frame):
    # Known truth: the regime is z > 0. Routed through the scaler and encoder,
    # the experts the gate trusts most are the two regimes, up to their order.
    X, _, regime = frame
    expert = predict_expert(column_pipeline, X)
    assert isinstance(expert, pd.Series)
    assert expert.name == "expert"
    assert_array_equal(expert.index, X.index)
    assert list(expert.cat.categories) == ["low", "high"]
    codes = expert.cat.codes.to_numpy()
    agreement = max(np.mean(codes == regime), np.mean(codes != regime))
    assert agreement > 0.95
    assert_array_equal(
        codes, column_pipeline[-1].predict_expert(column_pipeline[:-1].transform(X))
    )
    assert_array_equal(expert.astype(str), np.array(["low", "high"])[codes])


def test_routing_summary_through_column_pipeline(column_pipeline, frame):
    X, _, _ = frame
    summary = routing_summary(column_pipeline, X)
    assert isinstance(summary, pd.DataFrame)
    assert list(summary.index) == ["low", "high"]
    assert summary.index.name == "expert"
    assert list(summary.columns) == ["share", "mean_gate", "confidence"]
    counts = predict_expert(column_pipeline, X).value_counts(sort=False)
    assert_allclose(summary["share"], counts.loc[summary.index] / len(X))
    gate = gate_proba(column_pipeline, X)
    assert_allclose(summary["mean_gate"], gate.mean(axis=0))
    assert ((summary["confidence"] > 0.5) & (summary["confidence"] <= 1)).all()


def test_responsibilities_through_column_pipeline(column_pipeline, frame):
    X, y, regime = frame
    resp = responsibilities(column_pipeline, X, y)
    assert isinstance(resp, pd.DataFrame)
    assert_array_equal(resp.index, X.index)
    assert list(resp.columns) == ["low", "high"]
    assert_allclose(resp.sum(axis=1), 1.0)
    moe = column_pipeline[-1]
    expected = moe.responsibilities(column_pipeline[:-1].transform(X), y)
    assert_allclose(resp.to_numpy(), expected)
    # With y, the posterior knows the regime better than the gate alone.
    top = resp.to_numpy().argmax(axis=1)
    assert max(np.mean(top == regime), np.mean(top != regime)) > 0.95


def test_a_subset_of_rows_keeps_its_index(column_pipeline, frame):
    X, y, _ = frame
    rows = X.iloc[[7, 3, 250]]
    for function in FUNCTIONS:
        result = _call(function, column_pipeline, rows, y.iloc[[7, 3, 250]])
        if function is routing_summary:
            assert list(result.index) == ["low", "high"]
        else:
            assert_array_equal(result.index, rows.index)


# ---- a bare mixture, numpy in and out ----------------------------------------------


@pytest.fixture(scope="module")
def regimes_1d():
    X, y = make_two_regimes(120, random_state=0, noise_sd=0.3)
    return X, y, MixtureOfExpertsRegressor(random_state=0).fit(X, y)


def test_numpy_in_numpy_out_as_the_methods(regimes_1d):
    X, y, moe = regimes_1d
    assert_allclose(gate_proba(moe, X), moe.gate_proba(X))
    assert_array_equal(predict_expert(moe, X), moe.predict_expert(X))
    assert_allclose(responsibilities(moe, X, y), moe.responsibilities(X, y))
    summary, expected = routing_summary(moe, X), moe.routing_summary(X)
    assert set(summary) == set(expected)
    for key in ("share", "mean_gate", "confidence"):
        assert_allclose(summary[key], expected[key])
    for function in (gate_proba, predict_expert):
        assert isinstance(function(moe, X), np.ndarray)


def test_scaler_pipeline_with_numpy_input(regimes_1d):
    X, y, _ = regimes_1d
    pipe = make_pipeline(StandardScaler(), MixtureOfExpertsRegressor(random_state=0))
    pipe.fit(10 * X + 3, y)
    moe = pipe[-1]
    X_scaled = pipe[0].transform(10 * X + 3)
    assert_allclose(gate_proba(pipe, 10 * X + 3), moe.gate_proba(X_scaled))
    assert isinstance(gate_proba(pipe, 10 * X + 3), np.ndarray)
    # The regimes switch at x = 0, i.e. at 3 in the units the pipeline takes.
    expert = predict_expert(pipe, np.array([[-27.0], [33.0]]))
    assert expert[0] != expert[1]


def test_nested_pipeline_applies_every_step(frame):
    X, y, _ = frame
    inner = make_pipeline(StandardScaler(), MixtureOfExpertsRegressor(random_state=0))
    outer = make_pipeline(
        ColumnTransformer([("num", "passthrough", ["x", "z"])]), inner
    ).fit(X, y)
    moe = inner[-1]
    X_moe = inner[0].transform(outer[0].transform(X))
    assert_allclose(gate_proba(outer, X).to_numpy(), moe.gate_proba(X_moe))


def test_classifier_through_pipeline(frame):
    X, _, regime = frame
    labels = (X["x"] > 0).astype(int) ^ regime  # a different rule per regime
    experts = [("a", LogisticRegression()), ("b", LogisticRegression())]
    pipe = make_pipeline(
        ColumnTransformer([("num", StandardScaler(), ["x", "z"])]),
        MixtureOfExpertsClassifier(experts, random_state=0),
    ).fit(X, labels)
    gate = gate_proba(pipe, X)
    assert list(gate.columns) == ["a", "b"]
    assert_allclose(responsibilities(pipe, X, labels).sum(axis=1), 1.0)


def test_a_cv_estimator_is_looked_at_through_its_chosen_mixture(regimes_1d):
    X, y, _ = regimes_1d
    cv_moe = MixtureOfExpertsRegressorCV(
        n_experts_grid=(1, 2), alphas=(1e-3,), cv=3, random_state=0
    )
    pipe = make_pipeline(StandardScaler(), cv_moe).fit(X, y)
    chosen = pipe[-1].best_estimator_
    assert len(chosen.experts_) == 2
    X_scaled = pipe[0].transform(X)
    assert_allclose(gate_proba(pipe, X), chosen.gate_proba(X_scaled))
    assert_array_equal(predict_expert(pipe, X), chosen.predict_expert(X_scaled))
    assert_allclose(responsibilities(pipe, X, y), chosen.responsibilities(X_scaled, y))
    assert_allclose(
        routing_summary(pipe[-1], X_scaled)["share"],
        chosen.routing_summary(X_scaled)["share"],
    )
    with pytest.raises(NotFittedError):
        gate_proba(MixtureOfExpertsRegressorCV(), X)


# ---- what is refused --------------------------------------------------------------


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
def test_not_a_mixture(function, regimes_1d):
    X, y, _ = regimes_1d
    with pytest.raises(TypeError, match=rf"{function.__name__} needs a fitted skmoe"):
        _call(function, LinearRegression().fit(X, y), X, y)
    pipe = make_pipeline(StandardScaler(), LinearRegression()).fit(X, y)
    message = "got a Pipeline whose last step is LinearRegression"
    with pytest.raises(TypeError, match=message):
        _call(function, pipe, X, y)


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
def test_not_fitted(function, regimes_1d):
    X, y, _ = regimes_1d
    with pytest.raises(NotFittedError):
        _call(function, MixtureOfExpertsRegressor(), X, y)
    with pytest.raises(NotFittedError):
        _call(
            function, make_pipeline(StandardScaler(), MixtureOfExpertsRegressor()), X, y
        )


def test_works_without_pandas_and_imports_no_matplotlib():
    # pandas is optional: the functions look for it only when given a
    # DataFrame, and with numpy input they work where it is not installed.
    code = """
import sys

class NoPandas:  # as if pandas were not installed
    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("no pandas here")

sys.meta_path.insert(0, NoPandas())
import numpy as np
from skmoe import MixtureOfExpertsRegressor
from skmoe.inspection import gate_proba, predict_expert, routing_summary
X = np.linspace(-1, 1, 60)[:, None]
y = np.abs(X[:, 0]) + 0.01 * np.sin(40 * X[:, 0])
moe = MixtureOfExpertsRegressor(random_state=0, max_iter=5).fit(X, y)
assert gate_proba(moe, X).shape == (60, 2)
assert predict_expert(moe, X).shape == (60,)
assert abs(routing_summary(moe, X).share.sum() - 1) < 1e-12
assert "pandas" not in sys.modules, "pandas imported"
assert "matplotlib" not in sys.modules, "matplotlib imported"
"""
    subprocess.run([sys.executable, "-W", "ignore", "-c", code], check=True)
