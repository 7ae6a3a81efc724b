"""What an expert returns is checked precisely, or handled."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.linear_model import LinearRegression, LogisticRegression

from skmoe import (
    ExpertOutputError,
    MixtureOfExpertsClassifier,
    MixtureOfExpertsRegressor,
)


class DuplicateClasses(LogisticRegression):
    """Reports one class twice in classes_."""

    def fit(self, X, y, sample_weight=None):
        super().fit(X, y, sample_weight=sample_weight)
        self.classes_ = np.array([self.classes_[0], *self.classes_[:-1]])
        return self


class ComplexRegressor(LinearRegression):
    def predict(self, X):
        return super().predict(X) + 1j


class Float16Classifier(LogisticRegression):
    def predict_proba(self, X):
        return super().predict_proba(X).astype(np.float16)


class ReturnsNone(LinearRegression):
    """A fit that forgets ``return self``."""

    def fit(self, X, y, sample_weight=None):
        super().fit(X, y, sample_weight=sample_weight)


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 2))
    y = X @ [1.0, -1.0] + 0.1 * rng.standard_normal(200)
    return X, y


def test_duplicate_classes_are_refused(data):
    X, y = data
    labels = np.digitize(y, [-0.5, 0.5])
    moe = MixtureOfExpertsClassifier(DuplicateClasses(), n_experts=2)
    with pytest.raises(ExpertOutputError, match=r"Expert 'expert0'.*duplicates"):
        moe.fit(X, labels)


def test_complex_predictions_are_refused(data):
    X, y = data
    moe = MixtureOfExpertsRegressor(ComplexRegressor(), n_experts=2)
    with pytest.raises(
        ExpertOutputError, match=r"iteration 1: its predictions are complex"
    ):
        moe.fit(X, y)


def test_float16_probabilities_are_accepted_and_renormalised(data):
    X, y = data
    labels = np.digitize(y, [-0.5, 0.5])
    moe = MixtureOfExpertsClassifier(Float16Classifier(), n_experts=2, random_state=0)
    moe.fit(X, labels)
    proba = moe.predict_proba(X)
    assert proba.dtype == np.float64
    assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    reference = MixtureOfExpertsClassifier(n_experts=2, random_state=0).fit(X, labels)
    # float16 keeps about three digits.
    assert_allclose(proba, reference.predict_proba(X), atol=5e-3)


def test_fit_returning_none_keeps_the_fitted_expert(data):
    X, y = data
    moe = MixtureOfExpertsRegressor(ReturnsNone(), n_experts=2, random_state=0)
    moe.fit(X, y)
    assert all(isinstance(expert, ReturnsNone) for expert in moe.experts_)
    reference = MixtureOfExpertsRegressor(n_experts=2, random_state=0).fit(X, y)
    assert_allclose(moe.predict(X), reference.predict(X))


def test_sum_check_message_shows_the_row_sums():
    from skmoe._estimators import check_proba

    with pytest.raises(ExpertOutputError, match=r"row sums from 0.9 to 0.9"):
        check_proba(np.array([[0.5, 0.4]]), (1, 2))
