"""What EM climbs: the log-likelihood less the penalties of the gate's and the
experts' fits. EM's steps are judged, and its stop decided, on it."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from skmoe import MixtureOfExpertsClassifier, SoftmaxGate
from skmoe._fast_mstep import supports_fast_mstep
from skmoe._objective import penalty_per_weight

# Before scikit-learn 1.8 LogisticRegression experts keep their own L-BFGS
# fit, which stops at its own tolerance: EM is then an ascent only up to it.
exact_logistic_mstep = pytest.mark.skipif(
    not supports_fast_mstep(LogisticRegression()),
    reason="this scikit-learn's LogisticRegression keeps its own fit",
)


@pytest.fixture(scope="module")
def breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def logistic_mixture(**params):
    return MixtureOfExpertsClassifier(n_experts=2, n_init=1, random_state=0, **params)


def fit_quietly(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def test_the_penalty_is_the_gates_and_the_l2_logistic_experts(breast_cancer):
    X, y = breast_cancer
    experts = [("l2", LogisticRegression(C=0.5)), ("tree", DecisionTreeClassifier())]
    model = fit_quietly(
        MixtureOfExpertsClassifier(
            experts, gate=SoftmaxGate(alpha=0.3), crossfit=False, max_iter=5
        ),
        X,
        y,
    )
    l2, tree = model.experts_
    assert not hasattr(tree, "coef_")
    # LogisticRegression's ||coef||^2 / (2 C); the gate's alpha / 2 ||W||^2 on
    # standardised inputs: W = coef * scale, the scale the gate standardised by.
    scale = X.std(axis=0)
    gate_W = model.gate_.coef_ * scale
    expected = l2.coef_.ravel() @ l2.coef_.ravel() / (2 * 0.5)
    expected += 0.5 * 0.3 * np.sum(gate_W**2)
    got = penalty_per_weight(model.experts_, model.gate_, X.shape[1], len(y))
    assert got == pytest.approx(expected / len(y), rel=1e-9)


@pytest.mark.parametrize("spelling", [{}, {"penalty": "l2"}])
def test_the_l2_penalty_counts_in_either_spelling(spelling):
    # penalty="l2" is scikit-learn's default before 1.8 and deprecated since.
    X = np.random.RandomState(0).randn(60, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        expert = LogisticRegression(C=0.5, **spelling).fit(X, X[:, 0] > 0)
    expected = np.sum(expert.coef_**2) / (2 * 0.5) / 60
    assert penalty_per_weight([expert], None, 2, 60.0) == pytest.approx(expected)


@pytest.mark.parametrize(
    "expert",
    [
        LinearRegression(),
        Ridge(alpha=10.0),
        # penalty="l1" is an L1 fit on every scikit-learn (l1_ratio=1 is one
        # only from 1.8 on, and liblinear penalises the intercept).
        LogisticRegression(penalty="l1", solver="saga", max_iter=2000),
        LogisticRegression(solver="liblinear"),
    ],
)
def test_experts_of_unknown_penalty_count_nothing(expert):
    X = np.random.RandomState(0).randn(60, 2)
    y = (X[:, 0] > 0).astype(int) if isinstance(expert, LogisticRegression) else X[:, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # penalty, from 1.8
        expert.fit(X, y)
    assert penalty_per_weight([expert], None, 2, 60.0) == 0.0
    gate = DecisionTreeClassifier(max_depth=1).fit(X, X[:, 1] > 0)
    assert penalty_per_weight([expert], gate, 2, 60.0) == 0.0


def test_a_logistic_regression_gate_counts_its_l2_penalty(breast_cancer):
    # Fitted on the rows replicated once per expert and weighted by the
    # responsibilities, its weighted log-loss is the gate's part of EM's
    # objective; its fit subtracts ||coef||^2 / (2 C) from it.
    X, y = breast_cancer
    model = fit_quietly(
        logistic_mixture(gate=LogisticRegression(C=0.05), max_iter=5), X, y
    )
    coef = model.gate_.coef_
    expected = np.sum(coef**2) / (2 * 0.05)
    expected += sum(np.sum(e.coef_**2) / 2.0 for e in model.experts_)  # C=1
    got = penalty_per_weight(model.experts_, model.gate_, X.shape[1], len(y))
    assert got == pytest.approx(expected / len(y), rel=1e-9)
    assert np.sum(coef**2) / (2 * 0.05) > 1e-3 * len(y)  # far above tol per row


@exact_logistic_mstep
def test_em_with_a_logistic_regression_gate_climbs_what_it_counts(
    breast_cancer, objectives
):
    # With the gate's L2 penalty left out, the objective EM was judged on fell
    # by 7.4e-6 nats per row at one step of this fit (the gate's penalty grew
    # faster than the log-likelihood): EM climbs it only with that penalty in.
    # The gate is refitted by L-BFGS to its own tolerance at every M-step, so
    # the ascent holds up to that: 1e-7 here.
    X, y = breast_cancer
    model = fit_quietly(
        logistic_mixture(gate=LogisticRegression(), tol=1e-6, acceleration=None),
        X,
        y,
    )
    curve = np.asarray(objectives)
    assert model.converged_ and len(curve) == model.n_iter_
    assert np.all(np.diff(curve) >= -1e-7)
    assert abs(curve[-1] - curve[-2]) < model.tol
    assert np.all(np.abs(np.diff(curve)[:-1]) >= model.tol)


@exact_logistic_mstep
def test_em_climbs_and_stops_on_the_penalised_objective(breast_cancer, objectives):
    # LogisticRegression(C=0.1) experts on breast_cancer: the recorded
    # log-likelihood peaks and turns down while what EM climbs still rises. A
    # stop on the recorded curve stopped after 36 iterations, near its peak,
    # where the objective still rose by 2e-5 per iteration (tol: 1e-6).
    X, y = breast_cancer
    model = logistic_mixture(
        experts=LogisticRegression(C=0.1), tol=1e-6, acceleration=None
    ).fit(X, y)
    curve = np.asarray(objectives)
    assert model.converged_
    assert len(curve) == model.n_iter_
    assert np.all(np.diff(curve) >= -1e-12)  # generalised EM: an ascent
    assert abs(curve[-1] - curve[-2]) < model.tol
    ll = model.log_likelihoods_
    assert ll.max() > ll[-1] + 1e-4  # ... of the objective, not of the curve


@exact_logistic_mstep
def test_squarem_never_falls_below_the_plain_step_in_the_objective(
    breast_cancer, objectives
):
    # The safeguard compares what EM climbs: a jump is kept only if it climbs
    # at least as high as the plain step it left.
    X, y = breast_cancer
    model = fit_quietly(
        logistic_mixture(tol=0, max_iter=150, acceleration="squarem"), X, y
    )
    curve = np.asarray(objectives)
    assert len(curve) < model.n_iter_  # some jumps were rejected ...
    assert np.all(np.diff(curve) >= -1e-12)  # ... and none that fell was kept


@exact_logistic_mstep
def test_a_scaled_logistic_pipeline_pays_its_last_steps_penalty(objectives):
    # The Pipeline's last step gets EM's weights, so its M-step maximises the
    # weighted log-likelihood less that step's L2 penalty: EM climbs the same
    # objective as with the bare expert on scaled columns, and stops on it.
    X, y = load_breast_cancer(return_X_y=True)
    expert = make_pipeline(StandardScaler(), LogisticRegression(C=0.1))
    model = logistic_mixture(experts=expert, tol=1e-6, acceleration=None).fit(X, y)
    curve = np.asarray(objectives)
    assert model.converged_ and len(curve) == model.n_iter_
    assert np.all(np.diff(curve) >= -1e-12)
    last = [pipeline[-1] for pipeline in model.experts_]
    expected = sum(np.sum(step.coef_**2) / (2 * 0.1) for step in last) / len(y)
    got = penalty_per_weight(model.experts_, model.gate_, X.shape[1], len(y))
    gate_only = penalty_per_weight([], model.gate_, X.shape[1], len(y))
    assert got - gate_only == pytest.approx(expected, rel=1e-9)
