"""Tests of SoftmaxGate against known truths and independent fits."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import special
from sklearn import config_context
from sklearn.base import clone
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor, SoftmaxGate


def _softmax_data(rng, n=300, coef=None, intercept=None):
    """Inputs and the exact softmax probabilities of a known linear model."""
    if coef is None:
        coef = np.array([[1.5, -1.0], [0.0, 0.8], [-1.0, 0.5]])
    if intercept is None:
        intercept = np.array([0.4, -0.1, -0.3])
    X = rng.normal(size=(n, coef.shape[1]))
    proba = special.softmax(X @ coef.T + intercept, axis=1)
    return X, proba, coef, intercept


def _standardise(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


def _centre(a):
    """Remove the softmax invariance: subtract the mean over classes."""
    return a - a.mean(axis=0, keepdims=True)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# --------------------------------------------------------------------------
# Correctness of the fit


def test_recovers_known_softmax_parameters(rng):
    X, proba, coef, intercept = _softmax_data(rng, n=2000)
    gate = SoftmaxGate(alpha=1e-8, tol=1e-12).fit(X, proba)
    assert_array_equal(gate.classes_, [0, 1, 2])
    assert gate.coef_.shape == (3, 2)
    assert gate.intercept_.shape == (3,)
    # Parameters up to a constant shared by all classes.
    assert_allclose(_centre(gate.coef_), _centre(coef), atol=1e-5)
    assert_allclose(_centre(gate.intercept_), _centre(intercept), atol=1e-5)
    assert_allclose(gate.coef_[1:] - gate.coef_[0], coef[1:] - coef[0], atol=1e-5)
    # And the probabilities on fresh inputs, including far outside the data.
    X_new = 3.0 * rng.normal(size=(50, 2))
    expected = special.softmax(X_new @ coef.T + intercept, axis=1)
    assert_allclose(gate.predict_proba(X_new), expected, atol=1e-5)


def test_labels_equal_one_hot_soft_targets(rng):
    X = rng.normal(size=(120, 3))
    labels = np.array(["cat", "dog", "eel"])[
        np.argmax(X @ rng.normal(size=(3, 3)) + rng.normal(size=(120, 3)), axis=1)
    ]
    one_hot = (labels[:, None] == np.array(["cat", "dog", "eel"])).astype(float)
    by_label = SoftmaxGate(alpha=0.3).fit(X, labels)
    by_soft = SoftmaxGate(alpha=0.3).fit(X, one_hot)
    assert_array_equal(by_label.classes_, ["cat", "dog", "eel"])
    assert_array_equal(by_soft.classes_, [0, 1, 2])
    assert_allclose(by_label.coef_, by_soft.coef_, rtol=1e-10, atol=1e-12)
    assert_allclose(by_label.intercept_, by_soft.intercept_, rtol=1e-10, atol=1e-12)
    assert_allclose(by_label.predict_proba(X), by_soft.predict_proba(X), rtol=1e-10)
    assert_array_equal(by_label.predict(X), by_label.classes_[by_soft.predict(X)])


@pytest.mark.parametrize("alpha", [0.1, 2.0])
def test_equals_sklearn_logistic_regression_on_labels(rng, alpha):
    X = _standardise(rng.normal(loc=3.0, scale=[1.0, 5.0, 0.2], size=(200, 3)))
    y = np.digitize(X @ [1.0, -0.5, 0.3] + 0.7 * rng.normal(size=200), [-0.6, 0.6])
    gate = SoftmaxGate(alpha=alpha, tol=1e-12).fit(X, y)
    ref = LogisticRegression(C=1.0 / alpha, tol=1e-12, max_iter=10_000).fit(X, y)
    assert_allclose(gate.coef_, ref.coef_, atol=1e-5)
    assert_allclose(_centre(gate.intercept_), _centre(ref.intercept_), atol=1e-5)
    assert_allclose(gate.predict_proba(X), ref.predict_proba(X), atol=1e-6)


def test_soft_targets_equal_weighted_stack_of_labels(rng):
    """Cross-entropy on soft targets t equals labels j on copies weighted t_j."""
    X = _standardise(rng.normal(size=(80, 2)))
    targets = rng.dirichlet([0.5, 1.0, 2.0], size=80)
    alpha = 0.5
    gate = SoftmaxGate(alpha=alpha, tol=1e-12).fit(X, targets)

    X_stack = np.vstack([X, X, X])
    y_stack = np.repeat([0, 1, 2], 80)
    w_stack = targets.T.ravel()
    ref = LogisticRegression(C=1.0 / alpha, tol=1e-12, max_iter=10_000)
    ref.fit(X_stack, y_stack, sample_weight=w_stack)
    assert_allclose(gate.coef_, ref.coef_, atol=1e-5)
    assert_allclose(_centre(gate.intercept_), _centre(ref.intercept_), atol=1e-5)

    # The same identity for the gate itself (the stack has the same weighted
    # mean and variance as X, so the internal standardisation agrees).
    stacked = SoftmaxGate(alpha=alpha, tol=1e-12).fit(
        X_stack, y_stack, sample_weight=w_stack
    )
    assert_allclose(gate.coef_, stacked.coef_, atol=1e-8)
    assert_allclose(gate.intercept_, stacked.intercept_, atol=1e-8)


def test_newton_and_lbfgs_agree(rng):
    X = rng.normal(scale=[1.0, 10.0, 0.1], size=(150, 3))
    targets = rng.dirichlet(np.ones(4), size=150)
    newton = SoftmaxGate(alpha=0.05, solver="newton", tol=1e-10).fit(X, targets)
    lbfgs = SoftmaxGate(alpha=0.05, solver="lbfgs", tol=1e-10, max_iter=5000).fit(
        X, targets
    )
    assert_allclose(newton.predict_proba(X), lbfgs.predict_proba(X), atol=1e-6)
    assert_allclose(
        newton.coef_ * X.std(axis=0), lbfgs.coef_ * X.std(axis=0), atol=1e-5
    )
    assert_allclose(newton.intercept_, lbfgs.intercept_, atol=1e-5)


@pytest.mark.parametrize("targets", ["soft", "labels"])
def test_two_classes_by_one_logit_agree_with_lbfgs_on_both(rng, targets):
    # Newton on two classes works on the difference of the two logits; the
    # optimum is the one of the full two-column problem.
    X = rng.normal(scale=[1.0, 10.0, 0.1], size=(150, 3))
    y = rng.dirichlet(np.ones(2), size=150)
    if targets == "labels":
        y = (y[:, 1] > rng.uniform(size=150)).astype(int)
    newton = SoftmaxGate(alpha=0.05, solver="newton", tol=1e-10).fit(X, y)
    lbfgs = SoftmaxGate(alpha=0.05, solver="lbfgs", tol=1e-10, max_iter=5000).fit(X, y)
    assert newton.n_iter_ < 20
    assert_allclose(newton.coef_[0], -newton.coef_[1], rtol=1e-12)
    assert_allclose(newton.predict_proba(X), lbfgs.predict_proba(X), atol=1e-6)
    assert_allclose(
        newton.coef_ * X.std(axis=0), lbfgs.coef_ * X.std(axis=0), atol=1e-5
    )
    assert_allclose(newton.intercept_, lbfgs.intercept_, atol=1e-5)


def test_integer_sample_weight_equals_repeated_rows(rng):
    X = rng.normal(size=(40, 2))
    targets = rng.dirichlet([1.0, 1.0, 1.0], size=40)
    weights = rng.integers(0, 4, size=40)
    weights[:3] = [0, 2, 3]
    weighted = SoftmaxGate(alpha=0.2, tol=1e-12).fit(X, targets, sample_weight=weights)
    repeated = SoftmaxGate(alpha=0.2, tol=1e-12).fit(
        np.repeat(X, weights, axis=0), np.repeat(targets, weights, axis=0)
    )
    assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-8, atol=1e-10)
    assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-8, atol=1e-10)


def test_soft_target_rows_are_normalised(rng):
    X = rng.normal(size=(60, 2))
    targets = rng.dirichlet([1.0, 2.0, 1.0], size=60)
    scaled = targets * rng.uniform(0.01, 100.0, size=(60, 1))
    ref = SoftmaxGate(alpha=0.1).fit(X, targets)
    gate = SoftmaxGate(alpha=0.1).fit(X, scaled)
    assert_allclose(gate.coef_, ref.coef_, rtol=1e-10, atol=1e-12)
    assert_allclose(gate.intercept_, ref.intercept_, rtol=1e-10, atol=1e-12)


def test_warm_start_same_solution_in_fewer_iterations(rng):
    X, proba, coef, intercept = _softmax_data(rng, n=300)
    logits = X @ coef.T + intercept
    changed = special.softmax(logits + 0.05 * rng.normal(size=logits.shape), axis=1)

    warm = SoftmaxGate(alpha=1e-3, tol=1e-10, warm_start=True).fit(X, proba)
    warm.fit(X, changed)
    cold = SoftmaxGate(alpha=1e-3, tol=1e-10).fit(X, changed)
    assert warm.n_iter_ < cold.n_iter_
    assert_allclose(warm.coef_, cold.coef_, atol=1e-7)
    assert_allclose(warm.intercept_, cold.intercept_, atol=1e-7)

    # Without warm_start a refit starts from scratch.
    again = SoftmaxGate(alpha=1e-3, tol=1e-10).fit(X, proba).fit(X, changed)
    assert again.n_iter_ == cold.n_iter_


def test_warm_start_with_a_new_number_of_classes(rng):
    X = rng.normal(size=(100, 2))
    three = rng.dirichlet(np.ones(3), size=100)
    four = rng.dirichlet(np.ones(4), size=100)
    gate = SoftmaxGate(alpha=0.1, warm_start=True).fit(X, three).fit(X, four)
    cold = SoftmaxGate(alpha=0.1).fit(X, four)
    assert gate.coef_.shape == (4, 2)
    assert_allclose(gate.coef_, cold.coef_, atol=1e-8)
    assert_allclose(gate.intercept_, cold.intercept_, atol=1e-8)


def test_coefficients_are_on_the_original_scale(rng):
    X, proba, _, _ = _softmax_data(rng, n=200)
    ref = SoftmaxGate(alpha=0.5).fit(X, proba)

    X_scaled = X.copy()
    X_scaled[:, 0] *= 1000.0
    scaled = SoftmaxGate(alpha=0.5).fit(X_scaled, proba)
    assert_allclose(scaled.coef_[:, 0], ref.coef_[:, 0] / 1000.0, rtol=1e-8)
    assert_allclose(scaled.coef_[:, 1], ref.coef_[:, 1], rtol=1e-8)
    assert_allclose(scaled.intercept_, ref.intercept_, rtol=1e-8, atol=1e-12)
    assert_allclose(scaled.predict_proba(X_scaled), ref.predict_proba(X), rtol=1e-8)

    # Shifting a feature moves only the intercepts, by -coef * shift.
    X_shifted = X.copy()
    X_shifted[:, 1] += 50.0
    shifted = SoftmaxGate(alpha=0.5).fit(X_shifted, proba)
    assert_allclose(shifted.coef_, ref.coef_, rtol=1e-8)
    assert_allclose(
        shifted.intercept_,
        ref.intercept_ - 50.0 * ref.coef_[:, 1],
        rtol=1e-6,
        atol=1e-8,
    )
    assert_allclose(shifted.predict_proba(X_shifted), ref.predict_proba(X), rtol=1e-8)


@pytest.mark.parametrize("factor", [1e-3, 1e-13])
def test_tiny_feature_scale_is_standardised_too(rng, factor):
    """A feature in tiny units (picofarads written in farads) is not constant."""
    X, proba, _, _ = _softmax_data(rng, n=200)
    ref = SoftmaxGate(alpha=0.5).fit(X, proba)
    X_small = X.copy()
    X_small[:, 0] *= factor
    small = SoftmaxGate(alpha=0.5).fit(X_small, proba)
    assert_allclose(small.predict_proba(X_small), ref.predict_proba(X), atol=1e-8)
    assert_allclose(small.coef_[:, 0] * factor, ref.coef_[:, 0], rtol=1e-6)


def test_constant_feature_gets_zero_coefficient(rng):
    X, proba, _, _ = _softmax_data(rng, n=150)
    ref = SoftmaxGate(alpha=0.5).fit(X, proba)
    X_const = np.column_stack([X[:, 0], np.full(150, 7.0), X[:, 1]])
    with np.errstate(all="raise"):
        gate = SoftmaxGate(alpha=0.5).fit(X_const, proba)
    assert_allclose(gate.coef_[:, 1], 0.0, atol=1e-12)
    assert_allclose(gate.coef_[:, [0, 2]], ref.coef_, rtol=1e-8)
    assert_allclose(gate.predict_proba(X_const), ref.predict_proba(X), rtol=1e-8)


def test_coef_matches_the_fitted_logits(rng):
    """coef_ and intercept_ reproduce predict_proba through an explicit softmax."""
    X = rng.normal(loc=[5.0, -2.0], scale=[3.0, 0.5], size=(100, 2))
    targets = rng.dirichlet(np.ones(3), size=100)
    gate = SoftmaxGate(alpha=0.1).fit(X, targets)
    logits = np.array(
        [
            [
                sum(gate.coef_[k, j] * x[j] for j in range(2)) + gate.intercept_[k]
                for k in range(3)
            ]
            for x in X
        ]
    )
    assert_allclose(gate.predict_proba(X), special.softmax(logits, axis=1), rtol=1e-10)
    assert_allclose(gate.decision_function(X), logits, rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------
# Separable data and the penalty


def test_separable_labels_stay_finite(rng):
    x = np.concatenate([rng.uniform(-2, -0.5, 30), rng.uniform(0.5, 2, 30)])
    X = np.column_stack([x, rng.normal(size=60)])
    y = (x > 0).astype(int)
    coefs = {}
    for alpha in (0.0, 1e-3, 1.0):
        gate = SoftmaxGate(alpha=alpha).fit(X, y)
        proba = gate.predict_proba(X)
        assert np.all(np.isfinite(gate.coef_))
        assert np.all(np.isfinite(gate.intercept_))
        assert not np.any(np.isnan(proba))
        assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
        assert_array_equal(gate.predict(X), y)
        coefs[alpha] = np.abs(gate.coef_[:, 0]).max()
        if alpha <= 1e-3:
            assert proba[np.arange(60), y].min() > 0.99
    assert coefs[1.0] < coefs[1e-3] < coefs[0.0]


@pytest.mark.parametrize("alpha", [0.01, 0.1, 1.0, 10.0])
def test_larger_alpha_gives_smaller_coefficients(rng, alpha):
    X = rng.normal(size=(100, 2))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    small = SoftmaxGate(alpha=alpha).fit(X, y)
    large = SoftmaxGate(alpha=10.0 * alpha).fit(X, y)
    assert np.linalg.norm(large.coef_) < np.linalg.norm(small.coef_)


# --------------------------------------------------------------------------
# Prediction API


def test_binary_decision_function(rng):
    X = rng.normal(size=(80, 2))
    y = np.where(X[:, 0] + 0.5 * rng.normal(size=80) > 0, "yes", "no")
    gate = SoftmaxGate(alpha=0.1).fit(X, y)
    X_new = rng.normal(size=(50, 2))
    scores = gate.decision_function(X_new)
    assert scores.shape == (50,)
    assert_array_equal(gate.classes_, ["no", "yes"])
    assert_array_equal(gate.predict(X_new), np.where(scores > 0, "yes", "no"))
    proba = gate.predict_proba(X_new)
    assert_allclose(scores, np.log(proba[:, 1] / proba[:, 0]), rtol=1e-8)


def test_multiclass_decision_function_argmax_is_predict(rng):
    X = rng.normal(size=(90, 2))
    y = np.digitize(X[:, 0] + X[:, 1], [-0.5, 0.5]) + 10
    gate = SoftmaxGate(alpha=0.1).fit(X, y)
    X_new = rng.normal(size=(60, 2))
    scores = gate.decision_function(X_new)
    assert scores.shape == (60, 3)
    assert_array_equal(gate.predict(X_new), gate.classes_[np.argmax(scores, axis=1)])
    assert_array_equal(gate.classes_, [10, 11, 12])
    assert_allclose(
        gate.predict_proba(X_new), special.softmax(scores, axis=1), rtol=1e-10
    )


def test_predict_log_proba_is_log_of_predict_proba(rng):
    X, proba, _, _ = _softmax_data(rng, n=100)
    gate = SoftmaxGate().fit(X, proba)
    X_new = rng.normal(size=(30, 2))
    log_proba = gate.predict_log_proba(X_new)
    assert log_proba.shape == (30, 3)
    assert_allclose(log_proba, np.log(gate.predict_proba(X_new)), rtol=1e-12)
    assert_allclose(special.logsumexp(log_proba, axis=1), 0.0, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_inputs_not_modified(rng, dtype):
    X = rng.normal(loc=2.0, scale=3.0, size=(50, 2)).astype(dtype)
    targets = rng.uniform(0.1, 5.0, size=(50, 3))  # rows not normalised
    weights = rng.uniform(0.5, 2.0, size=50)
    labels = rng.integers(0, 3, size=50)
    X_copy, t_copy, w_copy, l_copy = (
        X.copy(),
        targets.copy(),
        weights.copy(),
        labels.copy(),
    )
    gate = SoftmaxGate().fit(X, targets, sample_weight=weights)
    gate.predict_proba(X)
    gate.decision_function(X)
    SoftmaxGate().fit(X, labels, sample_weight=weights)
    assert_array_equal(X, X_copy)
    assert X.dtype == dtype
    assert_array_equal(targets, t_copy)
    assert_array_equal(weights, w_copy)
    assert_array_equal(labels, l_copy)


def test_decision_boundary_display(rng):
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.inspection import DecisionBoundaryDisplay

    X = rng.normal(size=(90, 2))
    names = np.array(["a", "b", "c"])
    y = names[np.digitize(X[:, 0] - X[:, 1], [-0.7, 0.7])]
    gate = SoftmaxGate().fit(X, y)
    try:
        disp = DecisionBoundaryDisplay.from_estimator(gate, X, grid_resolution=20)
        grid = np.c_[disp.xx0.ravel(), disp.xx1.ravel()]
        # One response surface per class (n_classes exists from 1.8 on).
        assert disp.response.shape == (20, 20, 3)
        assert_allclose(disp.response.reshape(-1, 3), gate.decision_function(grid))

        disp = DecisionBoundaryDisplay.from_estimator(
            gate, X, response_method="predict", grid_resolution=20
        )
        # Predicted labels, encoded as their index in classes_.
        expected = np.searchsorted(gate.classes_, gate.predict(grid))
        assert_array_equal(disp.response.ravel(), expected)
    finally:
        plt.close("all")


# --------------------------------------------------------------------------
# Validation


@pytest.mark.parametrize(
    "params, name",
    [
        ({"alpha": -1.0}, "alpha"),
        # alpha = 1 / C, and LogisticRegression rejects C = 0.
        ({"alpha": np.inf}, "alpha"),
        ({"solver": "sgd"}, "solver"),
        ({"max_iter": 0}, "max_iter"),
        ({"tol": -1e-3}, "tol"),
    ],
    ids=["alpha-negative", "alpha-inf", "solver", "max_iter", "tol"],
)
def test_bad_parameters_raise(rng, params, name):
    X = rng.normal(size=(20, 2))
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match=name):
        SoftmaxGate(**params).fit(X, y)


def test_negative_soft_targets_raise(rng):
    X = rng.normal(size=(10, 2))
    targets = rng.dirichlet(np.ones(3), size=10)
    targets[4, 1] = -0.1
    with pytest.raises(ValueError, match="non-negative"):
        SoftmaxGate().fit(X, targets)


def test_soft_target_row_of_zeros_raises(rng):
    X = rng.normal(size=(10, 2))
    targets = rng.dirichlet(np.ones(3), size=10)
    targets[7] = 0.0
    with pytest.raises(ValueError, match="sum"):
        SoftmaxGate().fit(X, targets)


@pytest.mark.parametrize(
    "scale_X, weight, match",
    [
        (1e160, 1.0, r"X holds values of magnitude up to .*e\+160"),
        (1.0, 1e-160, r"sample_weight sums to .*e-159"),
    ],
)
def test_magnitudes_beyond_exact_arithmetic_raise(rng, scale_X, weight, match):
    # Standardising such X, or weighing the penalty against such a total,
    # overflows: the gate would end with NaN coefficients.
    X = rng.normal(size=(20, 2))
    with pytest.raises(ValueError, match=match):
        SoftmaxGate().fit(scale_X * X, np.arange(20) % 2, np.full(20, weight))


@pytest.mark.parametrize("index", [[5], [], [0, 0], [1.5], [[0, 1]], [-1]])
def test_take_classes_refuses_what_is_not_distinct_positions(rng, index):
    X = rng.normal(size=(30, 2))
    gate = SoftmaxGate().fit(X, np.arange(30) % 3)
    with pytest.raises(ValueError, match=r"distinct positions in classes_, from 0"):
        gate.take_classes(index)
    assert gate.classes_.tolist() == [0, 1, 2]


def test_penalty_needs_a_positive_total_weight():
    with pytest.raises(ValueError, match="total_weight must be positive; got 0"):
        SoftmaxGate().penalty(2, 0)
    with pytest.raises(ValueError, match="total_weight must be positive; got 'x'"):
        SoftmaxGate().penalty(2, "x")


@pytest.mark.parametrize("n_features", [-1, 2.5, "x"])
def test_penalty_needs_a_count_of_features(n_features):
    with pytest.raises(ValueError, match=r"n_features must be an int >= 0; got"):
        SoftmaxGate().penalty(n_features, 10)


def test_single_class_raises(rng):
    X = rng.normal(size=(10, 2))
    with pytest.raises(ValueError, match="class"):
        SoftmaxGate().fit(X, np.full(10, "only"))


# ---- classifiers as the gate --------------------------------------------------


def _two_regimes(n=600, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-3, 3, size=(n, 2)) * [1.0, 1000.0]
    y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
    return X, y + 0.1 * rng.standard_normal(n)


def test_a_pipeline_gates_first_steps_see_each_row_once():
    # The gate's last step is fitted to the rows copied once per expert; its
    # scaler learns from the rows as given, as the Pipeline alone would. It
    # learnt from the surviving copies instead: a mean of 0.27 for one of
    # -0.016, and gate probabilities 0.014 off the same model with the gate's
    # columns scaled beforehand.
    X, y = _two_regimes()
    params = dict(n_experts=2, n_init=1, random_state=0)
    gate = make_pipeline(StandardScaler(), LogisticRegression())
    piped = MixtureOfExpertsRegressor(gate=gate, **params).fit(X, y)
    scaler = piped.gate_[0]
    assert scaler.n_samples_seen_ == len(X)
    assert_allclose(scaler.mean_, X.mean(axis=0))
    scaled = np.hstack([X, StandardScaler().fit_transform(X)])
    bare = MixtureOfExpertsRegressor(
        gate=LogisticRegression(),
        gate_features=[2, 3],
        expert_features=[0, 1],
        **params,
    ).fit(scaled, y)
    assert_allclose(piped.gate_proba(X), bare.gate_proba(scaled), atol=1e-10)


@pytest.mark.parametrize("where", ["gate", "config"])
def test_a_pipeline_gate_with_pandas_output_fits_as_with_arrays(where):
    # The first steps then hand the last a DataFrame, whose rows were taken
    # by position as an array's: every fit failed with a KeyError.
    X, y = _two_regimes()
    params = dict(n_experts=2, n_init=1, random_state=0)
    gate = make_pipeline(StandardScaler(), LogisticRegression())
    expected = MixtureOfExpertsRegressor(gate=gate, **params).fit(X, y).gate_proba(X)
    # The global setting holds for predicting too, as a Pipeline's own would.
    output = "pandas" if where == "config" else "default"
    with config_context(transform_output=output), warnings.catch_warnings():
        warnings.simplefilter("error")  # no feature-name mismatch either
        if where == "gate":
            gate = clone(gate).set_output(transform="pandas")
        frames = MixtureOfExpertsRegressor(gate=gate, **params).fit(X, y)
        assert_allclose(frames.gate_proba(X), expected, atol=1e-12)
    assert_array_equal(frames.gate_[-1].feature_names_in_, ["x0", "x1"])


def test_a_pipeline_gates_step_that_needs_y_learns_from_the_copies():
    # Feature selection needs labels, which only the copies have.
    X, y = _two_regimes()
    gate = make_pipeline(SelectKBest(f_classif, k=1), LogisticRegression())
    moe = MixtureOfExpertsRegressor(gate=gate, n_experts=2, n_init=1, random_state=0)
    moe.fit(X, y)
    assert moe.gate_[0].get_support().tolist() == [True, False]
    assert moe.score(X, y) > 0.95


@pytest.mark.parametrize(
    "n_features, n_classes, by_newton",
    [(150, 2, True), (150, 3, False), (5, 34, True), (59, 16, True), (59, 17, False)],
    ids=["1 logit", "3 wide", "many classes", "960 narrow", "1020 narrow"],
)
def test_auto_solver_counts_the_parameters_newton_solves(
    rng, monkeypatch, n_features, n_classes, by_newton
):
    # 150 features: two classes are one logit of 151 parameters, within
    # Newton's 200; three are 453. Two classes went to L-BFGS, counted as 302.
    # A narrow gate (at most 60 columns) stays with Newton up to 1,000
    # parameters: 34 classes on 5 features (204) went to L-BFGS, and EM with
    # 34 experts crawled.
    from skmoe import _gating

    solved = []
    for name in ("_fit_two", "_fit_newton", "_fit_lbfgs"):
        real = getattr(_gating, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            solved.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(_gating, name, spy)
    X = rng.standard_normal((300, n_features))
    y = np.arange(300) % n_classes
    gate = SoftmaxGate(alpha=1.0, warm_start=True).fit(X, y)
    assert (solved[0] != "_fit_lbfgs") is by_newton
    resp = np.full((300, n_classes), 1.0 / n_classes)
    design = _gating.gate_design(gate, X, np.ones(300))
    gate._em_refit(design, resp)
    assert (solved[1] != "_fit_lbfgs") is by_newton


@pytest.mark.parametrize(
    "Mixture", [MixtureOfExpertsRegressor, MixtureOfExpertsClassifier]
)
def test_auto_penalty_does_not_count_constant_columns(Mixture):
    """A constant column has no say in the gate (its coefficient is 0), but
    alpha="auto" counted it in d: one such column moved a 3-expert fit's
    predictions by 0.16 and its log-likelihood by 0.014 per row, ten of
    them by 0.68 (a bias column of PolynomialFeatures is one). The y-aware
    start counted it too, giving y more say: two such columns moved the
    regressor's predictions by 1.3."""
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(300, 2))
    if Mixture is MixtureOfExpertsRegressor:
        y = np.where(X[:, 0] < 0, 2 * X[:, 1], -X[:, 1] + 1) + 0.3 * rng.normal(
            size=300
        )
        y += np.where(X[:, 0] > 1.5, 3.0, 0.0)
    else:
        y = (X[:, 1] > np.where(X[:, 0] < 0, 1.0, -1.0)).astype(int)
        y[rng.rand(300) < 0.1] ^= 1
    with_constant = np.column_stack([X, np.full(300, 5.0), np.ones(300)])
    plain = Mixture(n_experts=3, random_state=0).fit(X, y)
    # The experts see the same columns either way: their own solvers'
    # tolerance, not the gate, would tell a constant column apart (scikit-
    # learn 1.7's L-BFGS ended 8e-4 apart in probability).
    padded = Mixture(n_experts=3, expert_features=[0, 1], random_state=0)
    padded.fit(with_constant, y)
    method = "predict" if Mixture is MixtureOfExpertsRegressor else "predict_proba"
    assert_allclose(
        getattr(padded, method)(with_constant), getattr(plain, method)(X), atol=1e-5
    )
    assert_allclose(padded.log_likelihood_, plain.log_likelihood_, atol=1e-7)
    assert padded.gate_._n_varying == 2


def _two_planes(n=300, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-3, 3, size=(n, 2))
    y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 1], -1 - X[:, 1])
    return X, y + 0.2 * rng.standard_normal(n)


def test_an_ensemble_gate_given_warm_start_keeps_learning():
    # Its warm start keeps its trees: the gate after 30 EM iterations was
    # the gate after one (log-likelihood -0.43 against 0.18).
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = _two_planes(600)

    def fit(warm_start):
        gate = HistGradientBoostingClassifier(
            max_iter=20, warm_start=warm_start, random_state=0
        )
        model = MixtureOfExpertsRegressor(
            n_experts=2, gate=gate, n_init=1, max_iter=10, tol=0, random_state=0
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return model.fit(X, y)

    given, cold = fit(True), fit(False)
    assert_array_equal(given.gate_proba(X), cold.gate_proba(X))
    assert given.gate_.warm_start is True  # handed back as given


def test_a_gate_with_class_weight_is_refused_by_name():
    # A class weight rescales an expert's responsibilities: the gate's fit
    # was no longer the M-step, and EM wandered for 1,000 iterations.
    X, y = _two_planes()
    for gate in (
        LogisticRegression(class_weight="balanced"),
        make_pipeline(StandardScaler(), LogisticRegression(class_weight={0: 2})),
    ):
        model = MixtureOfExpertsRegressor(n_experts=2, gate=gate, random_state=0)
        with pytest.raises(ValueError, match=r"class_weight=.* use the mixture's bal"):
            model.fit(X, y)


@pytest.mark.parametrize("assignment, n_experts", [("hard", 3), ("stochastic", 6)])
def test_a_warm_started_gate_keeps_its_classes_when_an_expert_has_no_rows(
    assignment, n_experts
):
    # The guide allows LogisticRegression(warm_start=True) as the gate; an
    # expert left without rows for an iteration dropped its class from the
    # gate's labels, and the warm start failed inside scikit-learn.
    X, y = _two_planes()
    model = MixtureOfExpertsRegressor(
        n_experts=n_experts,
        gate=LogisticRegression(warm_start=True),
        assignment=assignment,
        n_init=2,
        max_iter=60,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    assert model.gate_proba(X).shape[1] == len(model.experts_)


def test_a_gate_with_classes_other_than_expert_indices_is_refused():
    # classes_ were taken as expert indices unchecked: shifted ones failed
    # with a bare IndexError, negative or repeated ones sent probability to
    # the wrong experts silently.
    from sklearn.base import BaseEstimator, ClassifierMixin

    class Relabelled(ClassifierMixin, BaseEstimator):
        def __init__(self, shift=0):
            self.shift = shift

        def fit(self, X, y, sample_weight=None):
            self.model_ = LogisticRegression().fit(X, y, sample_weight=sample_weight)
            self.classes_ = -self.model_.classes_ - 1 if self.shift else y.max()
            return self

        def predict_proba(self, X):
            return self.model_.predict_proba(X)

    X, y = _two_planes()
    for shift in (0, 1):
        model = MixtureOfExpertsRegressor(
            n_experts=3, gate=Relabelled(shift), n_init=1, random_state=0
        )
        with pytest.raises(ValueError, match="classes must be distinct expert indic"):
            model.fit(X, y)


def test_a_logistic_gate_fits_when_one_expert_holds_every_row():
    # Given responsibilities (or hard EM) can put every row on one expert;
    # a LogisticRegression gate failed inside scikit-learn ("needs samples
    # of at least 2 classes") where the default gate fitted.
    X, y = _two_planes(240)
    start = np.zeros((240, 3))
    start[:, 0] = 1
    model = MixtureOfExpertsRegressor(
        n_experts=3,
        gate=LogisticRegression(),
        dead_expert="keep",
        n_init=1,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y, init_resp=start)
    # The gate's penalty keeps a little probability on the experts without
    # rows, which stay dead.
    assert model.expert_weights_[0] > 0.95
    assert np.all(np.isfinite(model.predict(X)))
