"""Data with a known truth, shared by the tests."""

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
