"""Hostile inputs: each gets a correct fit or a ValueError/TypeError that names
the problem, never a bare numpy or scipy error and never NaN in the outputs.

``test_rejected`` lists the inputs that are refused, with the message each
gets; the tests after it cover the inputs that fit, and check that the fit is
right, not only that it ran.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from _data import assert_sound_fit
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import DataConversionWarning
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.utils import get_tags

from skmoe import (
    DegenerateFitWarning,
    MixtureOfExpertsClassifier,
    MixtureOfExpertsClassifierCV,
    MixtureOfExpertsRegressor,
    MixtureOfExpertsRegressorCV,
)
from skmoe.rules import RuleExpert

Reg, Clf = MixtureOfExpertsRegressor, MixtureOfExpertsClassifier

rng = np.random.RandomState(0)
X = rng.standard_normal((40, 3))
# Two linear regimes split by the sign of the first column.
y_reg = np.where(X[:, 0] > 0, 1 + 2 * X[:, 1], -1 - X[:, 1])
y_reg = y_reg + 0.1 * rng.standard_normal(40)
y_clf = (X[:, 0] + X[:, 1] > 0).astype(int)


def target(Estimator):
    return y_reg if Estimator is Reg else y_clf


def fit_quietly(model, X, y, **kwargs):
    """Fit, ignoring convergence and dead-expert warnings (small data)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y, **kwargs)


def with_nan(values, dtype=np.float64):
    values = np.array(values, dtype=dtype)
    values[3] = np.nan
    return values


def with_inf(values):
    values = np.array(values, dtype=np.float64)
    values[0] = np.inf
    return values


def object_X(value):
    X_object = X.astype(object)
    X_object[0, 2] = value
    return X_object


def frame_with(column):
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame["c"] = column
    return frame


WORDS = np.array(["red", "green"])[rng.randint(2, size=40)]
BOTH = [Reg, Clf]

# (estimators, make (X, y, fit kwargs), error, message)
REJECTED = {
    "empty arrays": (
        BOTH,
        lambda E: (np.empty((0, 3)), np.empty(0), {}),
        ValueError,
        r"Found array with 0 sample\(s\) \(shape=\(0, 3\)\) "
        r"while a minimum of 2 is required",
    ),
    "no features": (
        BOTH,
        lambda E: (np.empty((40, 0)), target(E), {}),
        ValueError,
        r"Found array with 0 feature\(s\)",
    ),
    "one sample": (
        BOTH,
        lambda E: (X[:1], target(E)[:1], {}),
        ValueError,
        r"Found array with 1 sample\(s\) .* a minimum of 2 is required",
    ),
    "1-D X": (
        BOTH,
        lambda E: (X[:, 0], target(E), {}),
        ValueError,
        r"Expected 2D array, got 1D array",
    ),
    "X and y of different lengths": (
        BOTH,
        lambda E: (X, target(E)[:-1], {}),
        ValueError,
        r"inconsistent numbers of samples",
    ),
    "y with NaN": (
        BOTH,
        lambda E: (X, with_nan(target(E)), {}),
        ValueError,
        r"Input y contains NaN",
    ),
    "y with inf": (
        BOTH,
        lambda E: (X, with_inf(target(E)), {}),
        ValueError,
        r"Input y contains infinity",
    ),
    "y with two columns": (
        BOTH,
        lambda E: (X, np.column_stack([target(E)] * 2), {}),
        ValueError,
        r"y should be a 1d array, got an array of "
        r"shape \(40, 2\)",
    ),
    "X with NaN": (
        BOTH,
        lambda E: (with_nan(X), target(E), {}),
        ValueError,
        r"X contains NaN in the experts' columns, and experts "
        r"\['expert0', 'expert1'.*\] do not accept missing values",
    ),
    "complex X": (
        BOTH,
        lambda E: (X + 1j, target(E), {}),
        ValueError,
        r"Complex data not supported",
    ),
    "X of object dtype holding text": (
        BOTH,
        lambda E: (object_X("tall"), target(E), {}),
        ValueError,
        r"X must hold numbers, but its dtype is object and it holds values that "
        r"are not \(could not convert string to float: 'tall'\)\. Encode",
    ),
    "X of object dtype holding a dict": (
        BOTH,
        lambda E: (object_X({"a": 1}), target(E), {}),
        TypeError,
        r"X must hold numbers, .*argument must be a string or a real number",
    ),
    "X of str dtype": (
        BOTH,
        lambda E: (object_X("tall").astype(str), target(E), {}),
        ValueError,
        r"X must hold numbers, but its dtype is <U",
    ),
    "pandas categorical column": (
        BOTH,
        lambda E: (frame_with(pd.Categorical(WORDS)), target(E), {}),
        ValueError,
        r"X must hold numbers, but its columns 'c' \(category\) do not. "
        r"Encode such columns first, for example with OneHotEncoder",
    ),
    "pandas string column": (
        BOTH,
        lambda E: (frame_with(pd.array(WORDS, dtype="string")), target(E), {}),
        ValueError,
        r"X must hold numbers, but its columns 'c' \(string\)",
    ),
    "pandas datetime column": (
        BOTH,
        lambda E: (frame_with(pd.date_range("2024", periods=40)), target(E), {}),
        ValueError,
        r"X must hold numbers, but its columns 'c' \(datetime64",
    ),
    "pandas nullable ints with NA": (
        BOTH,
        lambda E: (frame_with(pd.array([1, None] * 20, dtype="Int64")), target(E), {}),
        ValueError,
        r"X contains NaN in the experts' columns, and experts "
        r"\['expert0', 'expert1'.*\] do not accept missing values",
    ),
    "sample_weight all zeros": (
        BOTH,
        lambda E: (X, target(E), {"sample_weight": np.zeros(40)}),
        ValueError,
        r"Sample weights must contain at least one non-zero number",
    ),
    "sample_weight negative": (
        BOTH,
        lambda E: (X, target(E), {"sample_weight": -np.ones(40)}),
        ValueError,
        r"Negative values in data passed to `sample_weight`",
    ),
    "sample_weight with NaN": (
        BOTH,
        lambda E: (X, target(E), {"sample_weight": with_nan(np.ones(40))}),
        ValueError,
        r"Input sample_weight contains NaN",
    ),
    "sample_weight with inf": (
        BOTH,
        lambda E: (X, target(E), {"sample_weight": with_inf(np.ones(40))}),
        ValueError,
        r"Input sample_weight contains infinity",
    ),
    "sample_weight of wrong length": (
        BOTH,
        lambda E: (X, target(E), {"sample_weight": np.ones(39)}),
        ValueError,
        r"sample_weight.shape == \(39,\), expected \(40,\)",
    ),
    "sample_weight 2-D": (
        BOTH,
        lambda E: (X, target(E), {"sample_weight": np.ones((40, 2))}),
        ValueError,
        r"Sample weights must be 1D array or scalar",
    ),
    "more experts than rows": (
        [Reg],
        lambda E: (X[:2], y_reg[:2], {}),
        ValueError,
        r"'n_experts' must be at most the number of samples \(2\); got 3",
    ),
    "text y for a regressor": (
        [Reg],
        lambda E: (X, WORDS, {}),
        ValueError,
        r"y must be numeric for MixtureOfExpertsRegressor; got dtype <U5 .*For "
        r"class labels use MixtureOfExpertsClassifier",
    ),
    "categorical y for a regressor": (
        [Reg],
        lambda E: (X, pd.Series(pd.Categorical(WORDS)), {}),
        ValueError,
        r"y must be numeric for MixtureOfExpertsRegressor",
    ),
    "constant y for a classifier": (
        [Clf],
        lambda E: (X, np.ones(40), {}),
        ValueError,
        # The label as the user wrote it, not numpy's repr of a scalar.
        r"needs samples of at least 2 classes .* only one class: 1\.0\.$",
    ),
    "one class left with positive weight": (
        [Clf],
        lambda E: (X, y_clf, {"sample_weight": (y_clf == 1).astype(float)}),
        ValueError,
        r"at least 2 classes with positive weight",
    ),
    "continuous y for a classifier": (
        [Clf],
        lambda E: (X, y_reg, {}),
        ValueError,
        r"Unknown label type: continuous",
    ),
    "labels mixing strings and ints": (
        [Clf],
        lambda E: (X, np.array(["a", 1], dtype=object)[y_clf], {}),
        ValueError,
        r"y mixes class labels of different kinds \(numbers, strings\); labels "
        r"must be all strings, all booleans or all numbers",
    ),
    "labels mixing bools and ints": (
        [Clf],
        lambda E: (X, np.array([True, 2], dtype=object)[y_clf], {}),
        ValueError,
        r"y mixes class labels of different kinds \(booleans, numbers\)",
    ),
    "labels with None": (
        [Clf],
        lambda E: (X, np.array(["a", None], dtype=object)[y_clf], {}),
        ValueError,
        r"y contains missing class labels \(None\)",
    ),
    "labels as bytes": (
        [Clf],
        lambda E: (X, np.array([b"a", b"b"])[y_clf], {}),
        TypeError,
        r"labels represented as bytes is not supported",
    ),
}

REJECTED_PARAMS = [
    pytest.param(Estimator, *case, id=f"{name} ({Estimator.__name__[16:]})")
    for name, (estimators, *case) in REJECTED.items()
    for Estimator in estimators
]


@pytest.mark.parametrize("Estimator, make, error, match", REJECTED_PARAMS)
def test_rejected(Estimator, make, error, match):
    X_bad, y_bad, kwargs = make(Estimator)
    model = Estimator(n_experts=3 if Estimator is Reg else 2, random_state=0)
    with pytest.raises(error, match=match):
        model.fit(X_bad, y_bad, **kwargs)
    # Nothing was left behind.
    assert not [key for key in vars(model) if key.endswith("_")]


@pytest.fixture(scope="module", params=BOTH, ids=["Regressor", "Classifier"])
def fitted(request):
    Estimator = request.param
    return fit_quietly(Estimator(random_state=0), X, target(Estimator))


@pytest.mark.parametrize(
    "transform, error, match",
    [
        (with_nan, ValueError, r"X contains NaN in the experts. columns"),
        (lambda X: X[:, :2], ValueError, r"X has 2 features, but .* is expecting 3"),
        (lambda X: object_X("tall"), ValueError, r"X must hold numbers"),
        (lambda X: X[:0], ValueError, r"Found array with 0 sample\(s\)"),
        # Finite, but the gate's logits overflow: NaN probabilities before.
        (lambda X: X * 1e300, ValueError, r"X holds values of magnitude up to"),
    ],
    ids=["NaN", "too few features", "text", "empty", "huge"],
)
def test_rejected_at_predict_time(fitted, transform, error, match):
    method = getattr(fitted, "predict_proba", fitted.predict)
    with pytest.raises(error, match=match):
        method(transform(X))
    with pytest.raises(error, match=match):
        fitted.gate_proba(transform(X))


def test_tiny_rows_are_ordinary_at_predict_time(fitted):
    # All-tiny training data are refused (nothing to standardise against);
    # a new row near zero is an ordinary input.
    method = getattr(fitted, "predict_proba", fitted.predict)
    near_zero = np.full((1, X.shape[1]), 1e-200)
    assert_allclose(method(near_zero), method(np.zeros_like(near_zero)))


def test_new_targets_too_large_are_refused():
    model = fit_quietly(Reg(random_state=0), X, target(Reg))
    for method in (model.log_likelihood, model.responsibilities):
        with pytest.raises(ValueError, match=r"y holds values of magnitude up to"):
            method(X, np.full(len(X), 1e200))


def _first_column(X):
    """A fixed rule (a value, or a label 0/1); RuleExpert takes dense X only."""
    return (np.asarray(X)[:, 0] > 0).astype(int)


@pytest.mark.parametrize(
    "to_sparse",
    [sp.csr_matrix, sp.csc_array, sp.coo_array],
    ids=["CSR matrix", "CSC array", "COO array"],
)
@pytest.mark.parametrize("Estimator", BOTH)
def test_sparse_X_fits_when_the_experts_take_it(Estimator, to_sparse):
    y = target(Estimator)
    dense = fit_quietly(Estimator(random_state=0), X, y)
    sparse = fit_quietly(Estimator(random_state=0), to_sparse(X), y)
    assert get_tags(sparse).input_tags.sparse
    # Linear experts on sparse X are solved iteratively: close, not equal.
    # Logistic experts on dense X are solved to their optimum by Newton (the
    # fast M-step), on sparse X by scikit-learn's lbfgs, which stops at its
    # own tolerance: on these nearly separable classes the probabilities
    # agree to about 1e-4, and the labels exactly.
    method = "predict_proba" if Estimator is Clf else "predict"
    assert_allclose(
        getattr(sparse, method)(to_sparse(X)),
        getattr(dense, method)(X),
        rtol=1e-5,
        atol=1e-3 if Estimator is Clf else 1e-6,
    )
    if Estimator is Clf:
        assert_array_equal(sparse.predict(to_sparse(X)), dense.predict(X))
    assert_sound_fit(sparse, X, y)


@pytest.mark.parametrize("Estimator", BOTH)
def test_sparse_X_is_refused_when_an_expert_is_not(Estimator):
    learned = LinearRegression() if Estimator is Reg else LogisticRegression()
    experts = [("rule", RuleExpert(_first_column)), ("lin", learned)]
    model = Estimator(experts, random_state=0)
    assert not get_tags(model).input_tags.sparse
    with pytest.raises(
        TypeError,
        match=r"Sparse X is accepted only when every "
        r"expert accepts sparse input, and \['rule'\] do not",
    ):
        model.fit(sp.csr_matrix(X), target(Estimator))
    assert not [key for key in vars(model) if key.endswith("_")]
    fit_quietly(model, X, target(Estimator))
    with pytest.raises(TypeError, match=r"\['rule'\] do not"):
        model.predict(sp.csr_matrix(X))


def test_one_row_at_predict_time(fitted):
    one = fitted.predict(X[:1])
    assert one.shape == (1,)
    # One row goes through a matrix-vector product, many rows through a
    # matrix-matrix one: OpenBLAS may round them 1 ulp apart (seen with
    # numpy 1.25's OpenBLAS), so equal up to rounding, not bit for bit.
    assert_allclose(one, fitted.predict(X)[:1], rtol=1e-12)


# ---- inputs that fit: the fit must be right -------------------------------


@pytest.mark.parametrize("Estimator", BOTH)
def test_one_feature(Estimator):
    x = X[:, :1]
    y = np.abs(x[:, 0]) if Estimator is Reg else (np.abs(x[:, 0]) > 0.7).astype(int)
    model = fit_quietly(Estimator(random_state=0), x, y)
    assert model.n_features_in_ == 1
    assert_sound_fit(model, x, y)
    # |x| is two lines; |x| > 0.7 needs one threshold per side.
    assert model.score(x, y) > 0.95


@pytest.mark.parametrize("Estimator", BOTH)
def test_two_samples(Estimator):
    x, y = X[:2], (y_reg[:2] if Estimator is Reg else np.array([0, 1]))
    model = fit_quietly(Estimator(random_state=0), x, y)
    assert_sound_fit(model, x, y)
    if Estimator is Reg:
        assert_allclose(model.predict(x), y, atol=1e-6)
    else:
        assert_array_equal(model.predict(x), y)


def test_constant_y_is_predicted_and_warned_about():
    y = np.full(40, 3.5)
    with pytest.warns(DegenerateFitWarning, match=r"y is constant"):
        model = Reg(random_state=0).fit(X, y)
    assert_sound_fit(model, X, y)
    assert_allclose(model.predict(X), 3.5, rtol=1e-12)
    # The noise floor stays at y's rounding error, not at 1e-308: the
    # log-likelihood is large but finite.
    assert 0 < model.log_likelihood_ < 40


@pytest.mark.parametrize("Estimator", BOTH)
@pytest.mark.parametrize("how", ["constant X", "one row repeated"])
def test_x_without_information(Estimator, how):
    x = np.ones((40, 3)) if how == "constant X" else np.repeat(X[:1], 40, axis=0)
    y = target(Estimator)
    model = fit_quietly(Estimator(random_state=0), x, y)
    assert_sound_fit(model, x, y)
    # With nothing to go on, the best prediction is the marginal of y: the
    # mean of y at EM's fixed point, to within where tol stops EM.
    if Estimator is Reg:
        assert_allclose(model.predict(x), y.mean(), rtol=1e-5)
    else:
        frequencies = np.bincount(y) / len(y)
        assert_allclose(
            model.predict_proba(x), np.tile(frequencies, (40, 1)), atol=1e-4
        )


@pytest.mark.parametrize("Estimator", BOTH)
def test_more_experts_than_distinct_rows(Estimator):
    x = np.tile(X[:3], (10, 1))
    y = np.tile(y_reg[:3] if Estimator is Reg else [0, 1, 1], 10)
    model = fit_quietly(Estimator(n_experts=5, random_state=0), x, y)
    assert_sound_fit(model, x, y)
    if Estimator is Reg:
        assert_allclose(model.predict(x), y, atol=1e-3)
    else:
        assert_array_equal(model.predict(x), y)


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["no", "yes"]),
        np.array([False, True]),
        np.array([-7, 12]),
        np.array([1, np.int64(2)], dtype=object),
        np.array([1.0, 3.0]),
    ],
    ids=[
        "strings",
        "bools",
        "negative and positive ints",
        "python and numpy ints in an object array",
        "float labels",
    ],
)
def test_labels_of_every_kind(labels):
    y = labels[y_clf]
    model = fit_quietly(Clf(random_state=0), X, y)
    assert_sound_fit(model, X, y)
    assert model.classes_.tolist() == sorted(set(labels.tolist()))
    predicted = model.predict(X)
    assert np.mean(predicted == y) > 0.9
    assert set(predicted.tolist()) <= set(labels.tolist())


@pytest.mark.parametrize("cv", [False, True], ids=["mixture", "CV"])
def test_numbers_stored_as_objects_are_scored_as_fit_reads_them(cv):
    # fit reads an object array of numbers as numbers; score compared them
    # with the numeric predictions as "unknown" labels and failed, the
    # default scorer of cross_val_score gave NaN, and the CV variant refused
    # them at fit.
    y = pd.Series(y_clf).astype(object)
    model = (
        MixtureOfExpertsClassifierCV(n_experts_grid=(1, 2), cv=3, random_state=0)
        if cv
        else Clf(n_init=1, random_state=0)
    )
    # scikit-learn's named scorers read such labels as of an unknown type
    # and score NaN: fit says so.
    with pytest.warns(DataConversionWarning, match="numbers stored as objects"):
        fitted = model.fit(X, y)
    as_ints = np.mean(fitted.predict(X) == y_clf)
    assert fitted.score(X, y) == as_ints > 0.9
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = cross_val_score(model, X, y, cv=3)
    assert np.all(np.isfinite(scores))


@pytest.mark.parametrize("cv", [False, True], ids=["mixture", "CV"])
def test_a_missing_target_in_a_list_is_refused_as_nan(cv):
    # scikit-learn tests y's finiteness before it converts objects: a None
    # became NaN unseen, and the fit failed at EM's first iteration blaming
    # an expert ("array must not contain infs or NaNs").
    y = list(y_reg)
    y[7] = None
    model = (
        MixtureOfExpertsRegressorCV(n_experts_grid=(1, 2), cv=3)
        if cv
        else Reg(n_init=1, random_state=0)
    )
    with pytest.raises(ValueError, match=r"^Input y contains NaN\.$"):
        model.fit(X, y)


def test_the_cv_regressor_names_a_text_target_as_the_mixture_does():
    y = np.array(["low", "high"])[y_clf]
    with pytest.raises(
        ValueError, match="y must be numeric for MixtureOfExpertsRegressorCV"
    ):
        MixtureOfExpertsRegressorCV(n_experts_grid=(1, 2), cv=3).fit(X, y)


@pytest.mark.parametrize("Estimator", BOTH)
def test_rows_of_weight_zero_do_not_count_towards_the_row_minimums(Estimator):
    # A row of weight 0 is absent: one positive row fitted two experts, two
    # fitted three, where the same rows alone were refused.
    weight = np.zeros(len(X))
    weight[[0, 1]] = 1
    y = target(Estimator)
    y = np.where(np.arange(len(y)) == 1, y[0] if Estimator is Reg else 1 - y[0], y)
    with pytest.raises(ValueError, match=r"number of samples of positive weight \(2\)"):
        Estimator(n_experts=3, n_init=1).fit(X, y, sample_weight=weight)
    weight[1] = 0
    # A classifier says first that one row is one class.
    one = (
        "gives 1 of the 40 rows a positive weight" if Estimator is Reg else "one class"
    )
    with pytest.raises(ValueError, match=one):
        Estimator(n_experts=1, n_init=1).fit(X, y, sample_weight=weight)


def test_pandas_labels():
    y = pd.Series(pd.Categorical(np.array(["low", "high"])[y_clf]))
    model = fit_quietly(Clf(random_state=0), X, y)
    assert model.classes_.tolist() == ["high", "low"]
    assert np.mean(model.predict(X) == y.to_numpy()) > 0.9


def test_three_classes_one_seen_once():
    y = y_clf.copy()
    y[5] = 2
    model = fit_quietly(Clf(random_state=0), X, y)
    assert_sound_fit(model, X, y)
    assert model.classes_.tolist() == [0, 1, 2]
    proba = model.predict_proba(X)
    # The rare class keeps a probability, small away from its row.
    assert np.all(proba[:, 2] > 0)
    assert np.median(proba[:, 2]) < 0.1


@pytest.mark.parametrize("Estimator", BOTH)
@pytest.mark.parametrize(
    "convert",
    [
        lambda X: X.astype(object),
        lambda X: X.astype(np.float32),
        lambda X: pd.DataFrame(X, columns=["a", "b", "c"]),
    ],
    ids=["object dtype of numbers", "float32", "pandas"],
)
def test_other_containers_and_dtypes_give_the_same_model(Estimator, convert):
    y = target(Estimator)
    X_other = convert(X)
    reference = fit_quietly(Estimator(random_state=0), np.asarray(X_other, float), y)
    model = fit_quietly(Estimator(random_state=0), X_other, y)
    assert_sound_fit(model, X_other, y)
    # float32 is read as float64: the same numbers, the same fit. (It took
    # the estimators' own fits instead of the direct M-steps, and ended
    # elsewhere: predictions up to 0.55 apart.)
    method = "predict_proba" if Estimator is Clf else "predict"
    assert_allclose(
        getattr(model, method)(X_other),
        getattr(reference, method)(np.asarray(X_other, float)),
        rtol=1e-9,
        atol=1e-9,
    )


@pytest.mark.parametrize("Estimator", BOTH)
def test_int_inputs(Estimator):
    X_int = np.round(3 * X).astype(np.int64)
    y = np.round(y_reg).astype(np.int64) if Estimator is Reg else y_clf
    model = fit_quietly(Estimator(random_state=0), X_int, y)
    assert_sound_fit(model, X_int, y)
    reference = fit_quietly(
        Estimator(random_state=0),
        X_int.astype(float),
        y.astype(float) if Estimator is Reg else y,
    )
    assert_allclose(model.predict(X_int), reference.predict(X_int.astype(float)))
    # Rounding blurs the regimes; the fit is still far better than the mean.
    assert model.score(X_int, y) > 0.6


def test_pandas_with_bool_and_numeric_category_columns():
    frame = pd.DataFrame(
        {
            "x": X[:, 0],
            "flag": X[:, 1] > 0,
            "level": pd.Categorical(np.round(X[:, 2]).astype(int)),
        }
    )
    model = fit_quietly(Reg(random_state=0), frame, y_reg)
    assert model.feature_names_in_.tolist() == ["x", "flag", "level"]
    assert_sound_fit(model, frame, y_reg)
    # Booleans count as 0/1 and numeric categories as their values.
    numbers = frame.astype({"flag": float, "level": float}).to_numpy()
    reference = fit_quietly(Reg(random_state=0), numbers, y_reg)
    assert_allclose(model.predict(frame), reference.predict(numbers), rtol=1e-12)


def _readonly(values):
    values = np.array(values)
    values.setflags(write=False)
    return values


@pytest.mark.parametrize("Estimator", BOTH)
@pytest.mark.parametrize(
    "layout",
    [
        lambda a: _readonly(a),
        np.asfortranarray,
        lambda a: np.repeat(a, 2, axis=0)[::2],
        lambda a: np.repeat(a, 2, axis=-1)[..., ::2] if a.ndim == 2 else a,
    ],
    ids=["read-only", "Fortran order", "every other row", "every other column"],
)
def test_memory_layouts(Estimator, layout):
    y = target(Estimator)
    weight = np.linspace(0.5, 1.5, 40)
    X_in, y_in, w_in = layout(X), layout(y), layout(weight)
    copies = (X_in.copy(), y_in.copy(), w_in.copy())
    model = fit_quietly(Estimator(random_state=0), X_in, y_in, sample_weight=w_in)
    reference = fit_quietly(Estimator(random_state=0), X, y, sample_weight=weight)
    assert_sound_fit(model, X_in, y_in)
    assert_allclose(model.predict(X_in), reference.predict(X), rtol=1e-9)
    # Inputs are never written to.
    for given, copy in zip((X_in, y_in, w_in), copies, strict=True):
        assert_array_equal(given, copy)


@pytest.mark.parametrize("Estimator", BOTH)
def test_weights_on_a_few_rows(Estimator):
    y = target(Estimator)
    weight = np.zeros(40)
    # Three rows of each class carry all the weight.
    kept = np.r_[np.flatnonzero(y_clf == 0)[:3], np.flatnonzero(y_clf == 1)[:3]]
    weight[kept] = 1.0
    model = fit_quietly(Estimator(random_state=0), X, y, sample_weight=weight)
    assert_sound_fit(model, X, y)
    # Six weighted rows: the mixture fits them, whatever the other rows say
    # (up to the noise floor, which six rows in three dimensions put near
    # a hundredth of their variance).
    if Estimator is Clf:
        assert_array_equal(model.predict(X[kept]), y[kept])
    else:
        assert model.score(X[kept], y[kept]) > 0.99
