"""Properties that hold for any data, checked by hypothesis on random shapes
and values: probabilities sum to 1, the mixture's prediction lies between its
experts', the order of the rows does not matter, a seed fixes the model, and
a repeated row is a row of weight 2.

The examples are derandomised (the same ones on every run) and few, with
small data and few EM iterations, so the module stays fast and reproducible.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.tree import DecisionTreeRegressor

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor

PROPERTY = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Degenerate draws (constant columns, one repeated value, experts that starve
# or fit exactly) are part of the point; their warnings are not.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _values(n_rows, n_columns):
    # Any magnitude the mixture accepts: zero, or from 1e-150 (below it X and
    # y are refused, as test_numerical_range checks) to 1e3.
    elements = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False).map(
        lambda value: value if abs(value) >= 1e-150 else 0.0
    )
    return hnp.arrays(np.float64, (n_rows, n_columns), elements=elements)


@st.composite
def raw_data(draw, classes=False):
    """Any values: hypothesis favours zeros, repeats and extremes."""
    n_rows = draw(st.integers(6, 40))
    X = draw(_values(n_rows, draw(st.integers(1, 3))))
    if classes:
        y = draw(hnp.arrays(np.int64, n_rows, elements=st.integers(0, 2)))
        if len(np.unique(y)) < 2:
            y[: n_rows // 2] = (y[0] + 1) % 3
    else:
        y = draw(_values(n_rows, 1))[:, 0]
    return X, y


@st.composite
def regime_data(draw, classes=False):
    """Random shapes and coefficients of a two-regime problem, with noise:
    data on which EM has a clear optimum to converge to."""
    n_rows = draw(st.integers(20, 60))
    n_columns = draw(st.integers(1, 3))
    rng = np.random.RandomState(draw(st.integers(0, 2**31 - 1)))
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3]))
    X = rng.standard_normal((n_rows, n_columns))
    coef = rng.uniform(-3, 3, size=(2, n_columns + 1))
    regime = X[:, 0] > rng.uniform(-0.5, 0.5)
    linear = coef[:, 0] + X @ coef[:, 1:].T  # (n_rows, 2): both regimes
    signal = np.where(regime, linear[:, 0], linear[:, 1])
    if classes:
        y = (signal + 0.3 * rng.standard_normal(n_rows) > 0).astype(int)
        if len(np.unique(y)) < 2:
            y[0] = 1 - y[0]
    else:
        y = signal + 0.1 * rng.standard_normal(n_rows)
    return X * scale, y


def _fit(model, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y, **kwargs)


def _regressor(**params):
    return MixtureOfExpertsRegressor(
        n_experts=params.pop("n_experts", 2), max_iter=10, random_state=0, **params
    )


def _classifier(**params):
    return MixtureOfExpertsClassifier(
        n_experts=params.pop("n_experts", 2), max_iter=10, random_state=0, **params
    )


@PROPERTY
@given(data=raw_data(), n_experts=st.integers(1, 3))
def test_regression_rows_sum_to_one(data, n_experts):
    X, y = data
    model = _fit(_regressor(n_experts=n_experts), X, y)
    for rows in (model.responsibilities(X, y), model.gate_proba(X)):
        assert np.all(np.isfinite(rows)) and np.all(rows >= 0)
        assert_allclose(rows.sum(axis=1), 1.0, rtol=1e-10)


@PROPERTY
@given(data=raw_data(classes=True), n_experts=st.integers(1, 3))
def test_classification_rows_sum_to_one(data, n_experts):
    X, y = data
    model = _fit(_classifier(n_experts=n_experts), X, y)
    for rows in (
        model.predict_proba(X),
        model.responsibilities(X, y),
        model.gate_proba(X),
    ):
        assert np.all(np.isfinite(rows)) and np.all(rows >= 0)
        assert_allclose(rows.sum(axis=1), 1.0, rtol=1e-10)


@PROPERTY
@given(data=raw_data(), n_experts=st.integers(1, 3), top_k=st.sampled_from([None, 1]))
def test_prediction_lies_between_the_experts(data, n_experts, top_k):
    X, y = data
    model = _fit(_regressor(n_experts=n_experts), X, y)
    experts = model.expert_predictions(X)
    prediction = model.predict(X, top_k=top_k)
    # A convex combination of the experts, up to rounding.
    slack = 1e-9 * (1 + np.abs(experts).max())
    assert np.all(prediction >= experts.min(axis=1) - slack)
    assert np.all(prediction <= experts.max(axis=1) + slack)


@PROPERTY
@given(data=regime_data(), seed=st.integers(0, 2**31 - 1))
def test_permuting_rows_permutes_outputs_regression(data, seed):
    X, y = data
    perm = np.random.RandomState(seed).permutation(len(X))
    model = _fit(_regressor(), X, y)
    assert_array_equal(model.predict(X[perm]), model.predict(X)[perm])
    assert_array_equal(
        model.log_likelihood(X[perm], y[perm]), model.log_likelihood(X, y)[perm]
    )
    # Fitted on the rows in another order, it is the same model: the start
    # visits rows in an order of their own, and the rest is sums over rows.
    permuted = _fit(_regressor(), X[perm], y[perm])
    assert_allclose(
        permuted.predict(X), model.predict(X), rtol=1e-6, atol=1e-6 * np.abs(y).max()
    )
    assert_allclose(
        permuted.log_likelihood_, model.log_likelihood_, rtol=1e-6, atol=1e-6
    )


@PROPERTY
@given(data=regime_data(classes=True), seed=st.integers(0, 2**31 - 1))
def test_permuting_rows_permutes_outputs_classification(data, seed):
    X, y = data
    perm = np.random.RandomState(seed).permutation(len(X))
    model = _fit(_classifier(), X, y)
    assert_array_equal(model.predict_proba(X[perm]), model.predict_proba(X)[perm])
    permuted = _fit(_classifier(), X[perm], y[perm])
    assert_allclose(permuted.predict_proba(X), model.predict_proba(X), atol=1e-4)


@PROPERTY
@given(
    data=regime_data(),
    random_state=st.integers(0, 2**31 - 1),
    init_params=st.sampled_from(["kmeans", "random"]),
)
def test_same_random_state_same_model(data, random_state, init_params):
    X, y = data
    # Trees drawing one feature at random per split: randomness in every
    # expert as well as in the start.
    params = dict(
        experts=DecisionTreeRegressor(max_depth=2, max_features=1),
        n_experts=3,
        init_params=init_params,
        max_iter=5,
        random_state=random_state,
    )
    first = _fit(MixtureOfExpertsRegressor(**params), X, y)
    second = _fit(MixtureOfExpertsRegressor(**params), X, y)
    assert_array_equal(first.log_likelihoods_, second.log_likelihoods_)
    assert_array_equal(first.predict(X), second.predict(X))
    assert_array_equal(first.gate_proba(X), second.gate_proba(X))


@PROPERTY
@given(data=regime_data())
def test_duplicated_rows_equal_doubled_weights_regression(data):
    X, y = data
    doubled = _fit(_regressor(), X, y, sample_weight=np.full(len(X), 2.0))
    repeated = _fit(_regressor(), np.repeat(X, 2, axis=0), np.repeat(y, 2))
    assert_allclose(
        repeated.predict(X), doubled.predict(X), rtol=1e-6, atol=1e-6 * np.abs(y).max()
    )
    assert_allclose(
        repeated.log_likelihood_, doubled.log_likelihood_, rtol=1e-6, atol=1e-6
    )


@PROPERTY
@given(data=regime_data(classes=True))
def test_duplicated_rows_equal_doubled_weights_classification(data):
    X, y = data
    doubled = _fit(_classifier(), X, y, sample_weight=np.full(len(X), 2.0))
    repeated = _fit(_classifier(), np.repeat(X, 2, axis=0), np.repeat(y, 2))
    assert_allclose(repeated.predict_proba(X), doubled.predict_proba(X), atol=1e-4)
