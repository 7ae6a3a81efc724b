"""Across the float range the mixture is equivariant to scaling X and y and
refuses, with an error naming the input, what it cannot fit exactly."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skmoe import MixtureOfExpertsRegressor, SoftmaxGate
from skmoe._compat import InvalidParameterError


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(300, 1))
    y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
    return X, y + 0.1 * rng.standard_normal(300)


@pytest.fixture(scope="module")
def reference(data):
    return MixtureOfExpertsRegressor(random_state=0).fit(*data)


@pytest.mark.parametrize("scale", [1e-140, 1e-60, 1e60, 1e140])
def test_scaling_y_scales_the_model(data, reference, scale):
    X, y = data
    moe = MixtureOfExpertsRegressor(random_state=0).fit(X, y * scale)
    assert_allclose(moe.predict(X), reference.predict(X) * scale, rtol=1e-6)
    assert_allclose(moe.noise_var_, reference.noise_var_ * scale**2, rtol=1e-6)
    assert_allclose(
        moe.log_likelihood_, reference.log_likelihood_ - np.log(scale), rtol=1e-8
    )


@pytest.mark.parametrize("scale", [1e-140, 1e-60, 1e60, 1e140])
def test_scaling_X_leaves_the_model(data, reference, scale):
    X, y = data
    moe = MixtureOfExpertsRegressor(random_state=0).fit(X * scale, y)
    assert_allclose(moe.predict(X * scale), reference.predict(X), rtol=1e-6)
    assert_allclose(moe.log_likelihood_, reference.log_likelihood_, rtol=1e-8)


@pytest.mark.parametrize("scale", [1e-140, 1e140])
def test_scaling_every_weight_leaves_an_unpenalised_model(data, scale):
    # Weights are frequencies, so a penalty weighs against their sum; with no
    # gate penalty the model must not depend on their scale at all.
    X, y = data
    weight = np.random.RandomState(1).uniform(0.5, 2, size=len(y))
    params = dict(gate=SoftmaxGate(alpha=0.0), random_state=0)
    unit = MixtureOfExpertsRegressor(**params).fit(X, y, sample_weight=weight)
    scaled = MixtureOfExpertsRegressor(**params).fit(X, y, sample_weight=weight * scale)
    assert_allclose(scaled.predict(X), unit.predict(X), rtol=1e-6)
    assert_allclose(scaled.log_likelihood_, unit.log_likelihood_, rtol=1e-8)


@pytest.mark.parametrize(
    "what, change, pattern",
    [
        ("tiny y", lambda X, y, w: (X, y * 1e-160, w), r"^y holds values"),
        ("huge y", lambda X, y, w: (X, y * 1e200, w), r"^y holds values"),
        ("huge X", lambda X, y, w: (X * 1e300, y, w), r"^X holds values"),
        ("tiny X", lambda X, y, w: (X * 1e-300, y, w), r"^X holds values"),
        ("tiny weights", lambda X, y, w: (X, y, w * 1e-320), r"^sample_weight sums"),
        ("huge weights", lambda X, y, w: (X, y, w * 1e306), r"^sample_weight sums"),
    ],
)
def test_out_of_range_inputs_are_refused(data, what, change, pattern):
    X, y = data
    X, y, weight = change(X, y, np.ones(len(y)))
    with pytest.raises(ValueError, match=pattern) as caught:
        MixtureOfExpertsRegressor(random_state=0).fit(X, y, sample_weight=weight)
    assert "1e-150, 1e+150" in str(caught.value)


@pytest.mark.parametrize("reg_var", [np.inf, -1.0, 2.0])
def test_reg_var_out_of_range_is_refused(data, reg_var):
    with pytest.raises(InvalidParameterError, match="'reg_var' parameter"):
        MixtureOfExpertsRegressor(reg_var=reg_var).fit(*data)
