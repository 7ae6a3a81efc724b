"""Numerical extremes: tiny and huge scales, saturated probabilities, exact
experts, duplicated experts and many experts on few rows. The fit finishes
with a finite log-likelihood and finite outputs, and warns where the result
is degenerate."""

import warnings

import numpy as np
import pytest
from _data import assert_sound_fit, make_two_regimes, make_xor
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmoe import (
    DeadExpertWarning,
    DegenerateFitWarning,
    MixtureOfExpertsClassifier,
    MixtureOfExpertsRegressor,
)
from skmoe.rules import RuleExpert


@pytest.fixture(scope="module")
def regimes():
    return make_two_regimes(200, random_state=0)


@pytest.fixture(scope="module")
def reference(regimes):
    return MixtureOfExpertsRegressor(random_state=0).fit(*regimes)


def caught_warnings(fit):
    """Run ``fit()`` and return (its result, the categories it warned)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fit()
    return result, {w.category for w in caught}


@pytest.mark.parametrize("scale", [1e-8, 1e8])
def test_feature_scale_does_not_change_the_regressor(regimes, reference, scale):
    X, y = regimes
    model = MixtureOfExpertsRegressor(random_state=0).fit(X * scale, y)
    assert_sound_fit(model, X * scale, y)
    # Linear experts and the standardising gate are scale-free.
    assert_allclose(model.predict(X * scale), reference.predict(X), atol=1e-6)
    assert_allclose(model.log_likelihood_, reference.log_likelihood_, atol=1e-6)


def test_features_of_very_different_scales():
    rng = np.random.RandomState(1)
    X = rng.standard_normal((200, 3))
    y = np.where(X[:, 0] > 0, X[:, 1], -X[:, 2]) + 0.1 * rng.standard_normal(200)
    scales = np.array([1e-8, 1.0, 1e8])
    # The start and the gate standardise the columns; LinearRegression does
    # not (its least squares drops columns 1e16 times smaller than the
    # largest), so the experts standardise in a Pipeline.
    expert = make_pipeline(StandardScaler(), LinearRegression())
    # Plain EM: a Pipeline counts as a flexible expert, which crossfit="auto"
    # scores out of fold, while a bare LinearRegression pays AIC's k / n; the
    # comparison below is of the scales, not of the two penalties.
    model = MixtureOfExpertsRegressor(expert, crossfit=False, random_state=0)
    model.fit(X * scales, y)
    plain = MixtureOfExpertsRegressor(random_state=0).fit(X, y)
    assert_sound_fit(model, X * scales, y)
    assert_allclose(model.predict(X * scales), plain.predict(X), atol=1e-6)
    assert_allclose(model.log_likelihood_, plain.log_likelihood_, atol=1e-9)


@pytest.mark.parametrize("scale", [1e-6, 1e6])
def test_target_scale_scales_the_model(regimes, reference, scale):
    X, y = regimes
    model = MixtureOfExpertsRegressor(random_state=0).fit(X, y * scale)
    assert_sound_fit(model, X, y * scale)
    assert_allclose(model.predict(X), scale * reference.predict(X), rtol=1e-9)
    assert_allclose(model.noise_var_, scale**2 * reference.noise_var_, rtol=1e-9)
    # A density of y * s is the density of y divided by s.
    assert_allclose(
        model.log_likelihood_, reference.log_likelihood_ - np.log(scale), atol=1e-9
    )


def test_target_far_from_zero(regimes, reference):
    X, y = regimes
    model = MixtureOfExpertsRegressor(random_state=0).fit(X, y + 1e8)
    assert_sound_fit(model, X, y + 1e8)
    # Only rounding at 1e8 (about 1e-8) separates it from the centred fit.
    assert_allclose(model.predict(X) - 1e8, reference.predict(X), atol=1e-5)
    assert_allclose(model.log_likelihood_, reference.log_likelihood_, atol=1e-6)


@pytest.mark.parametrize("scale", [1e-8, 1e8])
def test_feature_scale_classifier(scale):
    X, y = make_xor(300, random_state=0)
    model = MixtureOfExpertsClassifier(n_experts=4, random_state=0)
    model.fit(X * scale, y)
    assert_sound_fit(model, X * scale, y)
    assert model.score(X * scale, y) > 0.95


@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_perfectly_separable_classes(scale):
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(300, 2))
    X = X[np.abs(X[:, 0]) > 0.2] * scale  # a gap between the classes
    y = (X[:, 0] > 0).astype(int)
    model = MixtureOfExpertsClassifier(LogisticRegression(C=1e4), random_state=0)
    model.fit(X, y)
    assert_sound_fit(model, X, y)
    proba = model.predict_proba(X)
    assert model.score(X, y) == 1.0
    # Saturated: probabilities reach 0 and 1 to within rounding, never beyond.
    assert proba.min() < 1e-10 and proba.max() > 1 - 1e-10
    assert proba.min() >= 0 and proba.max() <= 1 + 1e-12
    assert -1e-3 < model.log_likelihood_ <= 1e-12


def test_experts_that_fit_their_rows_exactly_warn(regimes):
    X, _ = regimes
    y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])  # no noise
    model, warned = caught_warnings(
        lambda: MixtureOfExpertsRegressor(random_state=0).fit(X, y)
    )
    assert DegenerateFitWarning in warned
    assert_sound_fit(model, X, y)
    assert_allclose(model.noise_var_, model._var_floor)
    assert model.score(X, y) > 0.99


def test_only_the_exact_expert_is_named(regimes):
    X, _ = regimes
    rng = np.random.RandomState(0)
    noisy = 4 - X[:, 0] + 0.3 * rng.standard_normal(len(X))
    y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], noisy)
    model = MixtureOfExpertsRegressor(random_state=0)
    with pytest.warns(DegenerateFitWarning) as record:
        model.fit(X, y)
    exact = [
        name
        for name, var in zip(model.named_experts_, model.noise_var_, strict=True)
        if var <= model._var_floor
    ]
    assert len(exact) == 1
    assert str(record[0].message).startswith(f"Experts {exact} fit their rows")
    slope = model.named_experts_[exact[0]].coef_[0]
    assert_allclose(slope, 2.0)
    assert_sound_fit(model, X, y)


def doubled(X):
    return 2 * X[:, 0]


def doubled_plus_tiny(X):
    return 2 * X[:, 0] + 1e-12


@pytest.mark.parametrize("kind", ["frozen", "rules"])
def test_near_duplicate_experts(regimes, kind):
    X, y = regimes
    if kind == "frozen":
        first = LinearRegression().fit(X, y)
        second = LinearRegression().fit(X, y + 1e-9)
        experts = [("a", FrozenEstimator(first)), ("b", FrozenEstimator(second))]
        expected = first.predict(X)
    else:
        experts = [("a", RuleExpert(doubled)), ("b", RuleExpert(doubled_plus_tiny))]
        expected = doubled(X)
    model = MixtureOfExpertsRegressor(experts, random_state=0).fit(X, y)
    assert_sound_fit(model, X, y)
    # Whichever expert the gate picks, the mixture predicts what both do.
    assert_allclose(model.predict(X), expected, atol=1e-6)
    assert_allclose(model.expert_weights_.sum(), 1.0)


def test_clones_that_converge_to_one_expert():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((200, 2))
    y = X @ [1.0, -2.0] + 0.1 * rng.standard_normal(200)  # a single regime
    model = MixtureOfExpertsRegressor(n_experts=3, random_state=0).fit(X, y)
    assert_sound_fit(model, X, y)
    coefs = np.array([expert.coef_ for expert in model.experts_])
    assert_allclose(coefs, np.tile([1.0, -2.0], (3, 1)), atol=0.1)
    assert model.score(X, y) > 0.99


@pytest.mark.parametrize(
    "Estimator, make_data",
    [
        (MixtureOfExpertsRegressor, make_two_regimes),
        (MixtureOfExpertsClassifier, make_xor),
    ],
    ids=["regressor", "classifier"],
)
def test_64_experts_on_500_rows(Estimator, make_data):
    X, y = make_data(500, random_state=1)
    model = Estimator(n_experts=64, max_iter=8, random_state=0)
    model, warned = caught_warnings(lambda: model.fit(X, y))
    assert ConvergenceWarning in warned  # 8 iterations are not enough
    assert_sound_fit(model, X, y)
    assert model.score(X, y) > 0.95
    # Experts that end with (almost) no rows are reported, never silent.
    dead = model.expert_weights_ < model.min_expert_weight
    assert not dead.any() or DeadExpertWarning in warned
    if Estimator is MixtureOfExpertsRegressor:
        # Here some do starve and get re-seeded along the way.
        assert DeadExpertWarning in warned
