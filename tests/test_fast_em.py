"""Cheaper EM iterations: partial M-steps of the gate and the logistic experts
(generalised EM) and predictions computed without re-validating the inputs.
The fitted model is the one full M-steps give, and EM still climbs."""

import pickle
import warnings
from contextlib import contextmanager
from unittest import mock

import numpy as np
import pytest
from _data import make_linear_mixture, make_xor
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor, SoftmaxGate
from skmoe._fast_mstep import NEWTON_MAX_ITER, supports_fast_mstep
from skmoe._gating import (
    EM_GATE_LBFGS_STEPS,
    _objective,
    fit_gate,
    gate_design,
    gate_log_proba,
)
from skmoe._likelihood import aligned_proba, predict_mean
from skmoe.exceptions import ExpertOutputError

fast_logistic = pytest.mark.skipif(
    not supports_fast_mstep(LogisticRegression()),
    reason="this scikit-learn's LogisticRegression keeps its own fit",
)


@contextmanager
def full_m_steps():
    """Every M-step solved in full, as before the partial M-steps: the gate
    refitted by its own ``fit``, warm logistic experts by Newton to the end."""
    with (
        mock.patch("skmoe._gating._can_em_refit", lambda *args: False),
        mock.patch("skmoe._fast_mstep.EM_NEWTON_STEPS", NEWTON_MAX_ITER),
    ):
        yield


def gate_problem(n_experts, seed=0, n=400):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 3)) * [1.0, 5.0, 0.2] + 2.0
    logits = X @ rng.normal(size=(3, n_experts))
    resp = np.exp(logits - logits.max(axis=1, keepdims=True))
    resp /= resp.sum(axis=1, keepdims=True)
    return X, resp, rng.uniform(0.5, 2.0, size=n)


ALPHA = 0.01  # the gates' penalty in these tests


def gate_loss(gate, design, resp):
    """The objective SoftmaxGate.fit minimises, at the gate's weights."""
    alpha = ALPHA / design.total
    return _objective(gate._W, design.Z, resp, design.weight, alpha)[0]


@pytest.mark.parametrize("n_experts", [2, 3])
def test_partial_gate_steps_go_downhill_to_the_full_fit(n_experts):
    X, resp, w = gate_problem(n_experts)
    gate = SoftmaxGate(ALPHA, warm_start=True)
    design = gate_design(gate, X, w)
    gate.fit(X, resp[::-1], sample_weight=w)
    losses = [gate_loss(gate, design, resp)]
    for _ in range(8):
        fit_gate(gate, X, resp, w, design=design)
        assert gate.n_iter_ <= 1
        losses.append(gate_loss(gate, design, resp))
    assert np.all(np.diff(losses) <= 1e-15)
    assert losses[-1] < losses[0]
    # Both stop at the gradient tolerance (1e-8) of a flat optimum: equal
    # objectives, the same probabilities, coefficients to that flatness.
    full = SoftmaxGate(ALPHA).fit(X, resp, sample_weight=w)
    assert losses[-1] == pytest.approx(gate_loss(full, design, resp), abs=1e-11)
    assert_allclose(gate.predict_proba(X), full.predict_proba(X), atol=1e-5)
    assert_allclose(gate.coef_, full.coef_, atol=1e-3)


def test_the_gate_refits_in_full_on_other_inputs_or_for_other_gates():
    X, resp, w = gate_problem(2)
    design = gate_design(SoftmaxGate(warm_start=True), X, w)
    gate = SoftmaxGate(warm_start=True).fit(X, resp[::-1], sample_weight=w)
    # Other rows than the design was made of: a full fit, to convergence.
    fit_gate(gate, X.copy(), resp, w, design=design)
    full = SoftmaxGate().fit(X, resp, sample_weight=w)
    assert_allclose(gate.coef_, full.coef_, atol=1e-7)
    # Gates whose fit differs (load balance, a subclass) get no design.
    assert gate_design(SoftmaxGate(warm_start=True, balance=0.1), X, w) is None
    assert gate_design(SoftmaxGate(warm_start=False), X, w) is None

    class MyGate(SoftmaxGate):
        pass

    assert gate_design(MyGate(warm_start=True), X, w) is None


@pytest.mark.parametrize(
    "solver, n_features, n_experts",
    [("lbfgs", 50, 3), ("auto", 70, 3)],  # "auto": 71 * 3 > 200 parameters
    ids=["lbfgs", "auto, many parameters"],
)
def test_partial_lbfgs_gate_steps_go_downhill_to_the_full_fit(
    solver, n_features, n_experts
):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, n_features))
    logits = X[:, :3] @ rng.normal(size=(3, n_experts))
    resp = np.exp(logits - logits.max(axis=1, keepdims=True))
    resp /= resp.sum(axis=1, keepdims=True)
    w = rng.uniform(0.5, 2.0, size=400)
    gate = SoftmaxGate(ALPHA, warm_start=True, solver=solver, tol=1e-10)
    design = gate_design(gate, X, w)
    gate.fit(X, resp[::-1], sample_weight=w)
    losses, iterations = [gate_loss(gate, design, resp)], []
    for _ in range(40):
        fit_gate(gate, X, resp, w, design=design)
        iterations.append(gate.n_iter_)
        losses.append(gate_loss(gate, design, resp))
    assert np.all(np.diff(losses) <= 1e-12)
    # The first M-step stops at the cap, short of the fit to tol.
    full = SoftmaxGate(ALPHA, solver=solver, tol=1e-10, max_iter=5000)
    full.fit(X, resp, sample_weight=w)
    assert full.n_iter_ > EM_GATE_LBFGS_STEPS
    assert iterations[0] == EM_GATE_LBFGS_STEPS == max(iterations)
    assert losses[-1] == pytest.approx(gate_loss(full, design, resp), abs=1e-9)
    assert_allclose(gate.predict_proba(X), full.predict_proba(X), atol=1e-4)


def fit_quietly(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


@pytest.fixture(scope="module")
def regression():
    return make_linear_mixture(1500, random_state=0)


@pytest.fixture(scope="module")
def classification():
    X, y = make_xor(1200, random_state=0)
    return X, y


def test_em_still_climbs_with_partial_m_steps(regression, classification):
    for Model, (X, y), K in [
        (MixtureOfExpertsRegressor, regression, 3),
        (MixtureOfExpertsClassifier, classification, 4),
    ]:
        model = fit_quietly(Model(n_experts=K, n_init=1, random_state=0), X, y)
        assert model.n_iter_ > 5
        assert np.all(np.diff(model.log_likelihoods_) > -1e-9)


def test_partial_m_steps_reach_the_model_of_full_m_steps(regression):
    X, y = regression
    params = dict(n_experts=3, n_init=1, tol=1e-8, random_state=0)
    fast = fit_quietly(MixtureOfExpertsRegressor(**params), X, y)
    with full_m_steps():
        full = fit_quietly(MixtureOfExpertsRegressor(**params), X, y)
    assert abs(fast.log_likelihood_ - full.log_likelihood_) < 1e-6
    assert_allclose(fast.gate_proba(X), full.gate_proba(X), atol=1e-3)
    assert_allclose(fast.predict(X), full.predict(X), atol=1e-3)
    assert "_gate_design_of_run" not in vars(fast)


@fast_logistic
def test_at_convergence_gate_and_experts_equal_full_refits(classification):
    X, y = classification
    model = fit_quietly(
        MixtureOfExpertsClassifier(n_experts=4, n_init=1, tol=1e-8, random_state=0),
        X,
        y,
    )
    resp = model.responsibilities(X, y)
    gate = SoftmaxGate().fit(X, resp)
    assert_allclose(model.gate_proba(X), gate.predict_proba(X), atol=1e-3)
    for i, expert in enumerate(model.experts_):
        tight = LogisticRegression(solver="newton-cholesky", tol=1e-12, max_iter=1000)
        tight.fit(X, y, sample_weight=resp[:, i])
        assert_allclose(expert.predict_proba(X), tight.predict_proba(X), atol=1e-3)
    # Nothing of the training data stays on the fitted model.
    assert "_gate_design_of_run" not in vars(model)
    assert len(pickle.dumps(model)) < X.nbytes


def test_squarem_with_partial_m_steps_never_falls_below_its_plain_steps(
    regression,
):
    # A rejected jump hands back the experts and the gate that gave the plain
    # step, from which the partial M-steps are an ascent again.
    X, y = regression
    model = fit_quietly(
        MixtureOfExpertsRegressor(
            n_experts=4, n_init=1, tol=1e-8, acceleration="squarem", random_state=0
        ),
        X,
        y,
    )
    assert np.all(np.diff(model.log_likelihoods_) > -1e-9)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_logistic_probabilities_are_the_experts_own(n_classes):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    y = rng.randint(n_classes, size=200)
    expert = LogisticRegression().fit(X, y)
    assert_array_equal(
        aligned_proba(expert, X, expert.classes_), expert.predict_proba(X)
    )


@pytest.mark.parametrize("Expert", [LinearRegression, Ridge])
def test_linear_predictions_are_the_experts_own(Expert):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    expert = Expert().fit(X, X @ [1.0, -2.0, 0.5])
    assert_array_equal(predict_mean(expert, X), expert.predict(X))


def test_broken_coefficients_are_still_reported():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(50, 2))
    y = rng.randint(2, size=50)
    expert = LogisticRegression().fit(X, y)
    expert.coef_[0, 0] = np.nan
    with pytest.raises(ExpertOutputError, match="NaN or infinite"):
        aligned_proba(expert, X, expert.classes_)
    linear = LinearRegression().fit(X, X[:, 0])
    linear.intercept_ = np.inf
    with pytest.raises(ExpertOutputError, match="NaN or infinite"):
        predict_mean(linear, X)


def test_the_gates_log_probabilities_are_its_own():
    X, resp, w = gate_problem(3)
    gate = SoftmaxGate().fit(X, resp, sample_weight=w)
    assert_array_equal(gate_log_proba(gate, X, 3), gate._log_proba(X))
