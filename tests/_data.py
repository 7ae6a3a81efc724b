"""Data with a known truth, and checks of a fitted model, shared by the tests."""

import numpy as np
from scipy.special import log_softmax, logsumexp

# A 3-expert linear mixture on 2-D inputs: gate logits X @ GATE_COEF, expert i
# predicts EXPERT_COEF[i, 0] + X @ EXPERT_COEF[i, 1:], noise sd NOISE_SD.
GATE_COEF = np.array([[2.5, -2.5, 0.0], [0.0, 0.0, 2.5]])
EXPERT_COEF = np.array([[1.0, 2.0, -1.0], [-1.0, -1.0, 2.0], [0.5, 0.0, -3.0]])
NOISE_SD = 0.5


def make_linear_mixture(n_samples, random_state):
    """Draw (X, y) from the known 3-expert mixture."""
    rng = np.random.RandomState(random_state)
    X = rng.standard_normal((n_samples, 2))
    gate = np.exp(log_softmax(X @ GATE_COEF, axis=1))
    expert = (gate.cumsum(axis=1) > rng.uniform(size=(n_samples, 1))).argmax(axis=1)
    coef = EXPERT_COEF[expert]
    y = coef[:, 0] + np.einsum("nd,nd->n", X, coef[:, 1:])
    return X, y + NOISE_SD * rng.standard_normal(n_samples)


def true_log_likelihood(X, y):
    """Per-row log-likelihood under the true mixture."""
    log_gate = log_softmax(X @ GATE_COEF, axis=1)
    mean = EXPERT_COEF[:, 0] + X @ EXPERT_COEF[:, 1:].T
    log_prob = -0.5 * (
        np.log(2 * np.pi * NOISE_SD**2) + (y[:, np.newaxis] - mean) ** 2 / NOISE_SD**2
    )
    return logsumexp(log_gate + log_prob, axis=1)


def make_xor(n_samples, random_state):
    """Four-quadrant XOR: the label is whether x1 and x2 share a sign."""
    rng = np.random.RandomState(random_state)
    X = rng.uniform(-1, 1, size=(n_samples, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def make_hard_regimes(n_samples, random_state):
    """Four linear regimes split sharply by the signs of x1 and x2."""
    rng = np.random.RandomState(random_state)
    X = rng.uniform(-2, 2, size=(n_samples, 2))
    regime = 2 * (X[:, 0] > 0) + (X[:, 1] > 0)
    coef = np.array([[1, 2, -1], [-2, 1, 1], [0.5, -1, 2], [3, 0, -2]])[regime]
    y = coef[:, 0] + np.einsum("nd,nd->n", X, coef[:, 1:])
    return X, y + 0.3 * rng.standard_normal(n_samples)


def make_two_regimes(n_samples, random_state, noise_sd=0.1):
    """Two linear regimes on 1-D inputs, switching at x = 0:
    y = 1 + 2x for x < 0 and y = 4 - x for x >= 0."""
    rng = np.random.RandomState(random_state)
    X = rng.uniform(-3, 3, size=(n_samples, 1))
    y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
    return X, y + noise_sd * rng.standard_normal(n_samples)


def three_kinds_region(X):
    """Region of each row of :func:`make_three_kinds_regression`: 0 linear,
    1 steps, 2 wiggles."""
    return np.digitize(X[:, 0], [-1.0, 1.0])


def make_three_kinds_regression(n_samples, random_state, noise_sd=0.2):
    """1-D regression whose three regions suit three kinds of model.

    On x in [-3, -1) y is linear (a linear model fits it), on [-1, 1) a step
    function with three jumps (a shallow tree fits it), on [1, 3] a fast sine
    (a nearest-neighbour average fits it).
    """
    rng = np.random.RandomState(random_state)
    x = rng.uniform(-3, 3, n_samples)
    linear = 2.0 + 1.5 * x
    steps = np.select([x < -0.5, x < 0.0, x < 0.5], [1.0, -2.0, 2.0], 0.0)
    wiggles = 1.5 * np.sin(8 * x)
    y = np.choose(three_kinds_region(x[:, np.newaxis]), [linear, steps, wiggles])
    return x[:, np.newaxis], y + noise_sd * rng.standard_normal(n_samples)


def three_kinds_class_region(X):
    """Region of each row of :func:`make_three_kinds_classification`."""
    return np.rint(X[:, 0] / 3).astype(int) + 1


def make_three_kinds_classification(n_samples, random_state):
    """Binary labels on 5-D inputs with three regions suiting three kinds of model.

    Column 0 (``g``) places a row in one of three separated bands, ``g`` near
    -3, 0 or 3; columns 1-4 (``f``) are standard normal. In band 0 the label is
    a linear function of all of ``f`` (a logistic regression fits it, and four
    dimensions defeat nearest neighbours); in band 1 it is an axis-aligned
    quadrant of ``f1, f2`` (a shallow tree fits it); in band 2 ``f2..f4`` are
    nearly constant and the label is a wiggly boundary ``f1 > sin(4 u)`` in
    the plane of ``f1`` and ``u = g - 3`` (nearest neighbours fit it).
    """
    rng = np.random.RandomState(random_state)
    region = rng.randint(3, size=n_samples)
    u = rng.uniform(-1, 1, n_samples)
    F = rng.standard_normal((n_samples, 4))
    F[region == 2, 1:] *= 0.05
    linear = F @ np.array([1.0, -1.0, 0.5, 1.0]) > 0
    box = (F[:, 0] > 0.3) & (F[:, 1] > -0.5)
    wiggly = F[:, 0] > np.sin(4 * u)
    y = np.choose(region, [linear, box, wiggly]).astype(int)
    return np.column_stack([u + 3 * (region - 1), F]), y


def make_concomitant(n_samples, random_state, n_noise=3):
    """Regimes decided by a column the target does not depend on.

    Columns: ``x``, ``z`` and ``n_noise`` pure-noise columns. The regime is
    ``z > 0``; within it y is linear in ``x`` alone (slope 2 or -1.5).
    """
    rng = np.random.RandomState(random_state)
    x = rng.standard_normal(n_samples)
    z = rng.standard_normal(n_samples)
    noise = rng.standard_normal((n_samples, n_noise))
    y = np.where(z > 0, 1 + 2 * x, -1 - 1.5 * x)
    return np.column_stack([x, z, noise]), y + 0.3 * rng.standard_normal(n_samples)


def assert_sound_fit(model, X, y):
    """Assert that a fitted mixture gives usable outputs on ``(X, y)``.

    Every output is finite and has the documented shape; gate probabilities,
    responsibilities and class probabilities are rows summing to 1; the
    log-likelihood is finite.
    """
    n_samples = len(X)
    n_experts = len(model.experts_)
    assert np.isfinite(model.log_likelihood_)
    gate = model.gate_proba(X)
    assert gate.shape == (n_samples, n_experts)
    np.testing.assert_allclose(gate.sum(axis=1), 1.0, rtol=1e-10)
    resp = model.responsibilities(X, y)
    assert resp.shape == (n_samples, n_experts)
    assert np.all(np.isfinite(resp)) and np.all(resp >= 0)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=1e-10)
    assert np.all(np.isfinite(model.log_likelihood(X, y)))
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(X)
        assert proba.shape == (n_samples, len(model.classes_))
        assert np.all(np.isfinite(proba)) and np.all(proba >= 0)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-10)
        assert not np.any(np.isnan(model.predict_log_proba(X)))
        assert set(model.predict(X).tolist()) <= set(model.classes_.tolist())
    else:
        mean, std = model.predict(X, return_std=True)
        assert mean.shape == std.shape == (n_samples,)
        assert np.all(np.isfinite(mean)) and np.all(np.isfinite(std))
        assert np.all(std >= 0)


def curves_differ(curve, other):
    """Whether two log-likelihood curves are not the same path: of other
    lengths, or apart somewhere (a check that SQUAREM jumped)."""
    curve, other = np.asarray(curve), np.asarray(other)
    return len(curve) != len(other) or bool(np.any(curve != other))
