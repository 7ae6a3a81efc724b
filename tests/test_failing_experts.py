"""Experts that fail: they raise, return NaN or return the wrong shape, in fit
or later. The error names the expert and the EM iteration, and the mixture is
left exactly as it was before ``fit``; so is it after a KeyboardInterrupt."""

import _thread
import gc
import signal
import threading
import time
import warnings

import numpy as np
import pytest
from _data import make_two_regimes, make_xor
from numpy.testing import assert_array_equal
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor

# EM fits every expert once per iteration, so an expert's n-th fit belongs to
# EM iteration n. With tol=0 EM runs all max_iter iterations.
FAIL_AT = 5
EM = dict(tol=0, max_iter=6, random_state=0)


class Faulty:
    """Counts its fits; from the ``fail_at``-th on, it misbehaves as ``how``
    says (in fit or in its outputs)."""

    def __init__(self, how="raise", fail_at=FAIL_AT):
        super().__init__()
        self.how = how
        self.fail_at = fail_at

    def fit(self, X, y, sample_weight=None):
        self.n_fits_ = getattr(self, "n_fits_", 0) + 1
        if self.n_fits_ >= self.fail_at and self.how == "raise":
            raise RuntimeError("boom")
        if self.n_fits_ >= self.fail_at and self.how == "interrupt":
            raise KeyboardInterrupt
        return super().fit(X, y, sample_weight=sample_weight)

    def _broken(self):
        return getattr(self, "n_fits_", 0) >= self.fail_at


class FaultyRegressor(Faulty, LinearRegression):
    def predict(self, X):
        prediction = super().predict(X)
        if not self._broken():
            return prediction
        if self.how == "nan":
            prediction[0] = np.nan
        elif self.how == "inf":
            prediction[1] = -np.inf
        elif self.how == "short":
            prediction = prediction[:-1]
        elif self.how == "two columns":
            prediction = np.column_stack([prediction, prediction])
        elif self.how == "predict raises":
            raise ArithmeticError("cannot predict")
        elif self.how == "huge":  # finite, but a diverged model's size
            prediction = prediction * 1e160
        return prediction


class FaultyClassifier(Faulty, LogisticRegression):
    def predict_proba(self, X):
        proba = super().predict_proba(X)
        if not self._broken():
            return proba
        if self.how == "nan":
            proba[2] = np.nan
        elif self.how == "one column":
            proba = proba[:, :1]
        elif self.how == "short":
            proba = proba[:-1]
        elif self.how == "negative":
            proba[0] = [-0.5, 1.5]
        elif self.how == "unnormalised":
            proba = 2 * proba
        return proba


class FaultyLabeller(ClassifierMixin, BaseEstimator):
    """An expert without predict_proba whose labels come out short."""

    def __init__(self, fail_at=FAIL_AT):
        self.fail_at = fail_at

    def fit(self, X, y, sample_weight=None):
        self.n_fits_ = getattr(self, "n_fits_", 0) + 1
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        labels = np.where(X[:, 0] > 0, self.classes_[-1], self.classes_[0])
        return labels[:-1] if self.n_fits_ >= self.fail_at else labels


class LikelihoodReporter(LinearRegression):
    """Reports its own log-likelihood, which turns NaN at the 5th fit."""

    def fit(self, X, y, sample_weight=None):
        self.n_fits_ = getattr(self, "n_fits_", 0) + 1
        return super().fit(X, y, sample_weight=sample_weight)

    def log_likelihood(self, X, y):
        values = -0.5 * (y - self.predict(X)) ** 2
        if self.n_fits_ >= FAIL_AT:
            values[0] = np.nan
        return values


@pytest.fixture(scope="module")
def reg_data():
    return make_two_regimes(60, random_state=0)


@pytest.fixture(scope="module")
def clf_data():
    return make_xor(60, random_state=0)


def assert_left_as_it_was(model, before):
    """The mixture's attributes are the very objects they were before fit."""
    assert vars(model).keys() == before.keys()
    assert all(vars(model)[key] is value for key, value in before.items())


def fails_like(model, X, y, error, match):
    before = dict(vars(model))
    with pytest.raises(error, match=match):
        model.fit(X, y)
    assert_left_as_it_was(model, before)
    assert not hasattr(model, "experts_")


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_expert_raising_in_fit_at_iteration_5(reg_data, n_jobs):
    model = MixtureOfExpertsRegressor(
        [("ok", LinearRegression()), ("bad", FaultyRegressor())],
        n_jobs=n_jobs,
        **EM,
    )
    fails_like(
        model,
        *reg_data,
        RuntimeError,
        r"Expert 'bad' \(FaultyRegressor\) failed to fit at EM iteration "
        r"5: boom",
    )


class _NeedsMore(ValueError):
    """An error that cannot be built from a message alone, as scikit-learn's
    UnsetMetadataPassedError."""

    def __init__(self, message, *, details):
        super().__init__(message)
        self.details = details


class _RaisesNeedsMore(LinearRegression):
    def fit(self, X, y, sample_weight=None):
        raise _NeedsMore("not set", details=None)


def test_an_error_of_a_type_built_otherwise_keeps_its_base_type(reg_data):
    # It became a RuntimeError, which `except ValueError` no longer caught.
    model = MixtureOfExpertsRegressor(
        [("ok", LinearRegression()), ("bad", _RaisesNeedsMore())], **EM
    )
    with pytest.raises(ValueError, match=r"Expert 'bad' .* failed to fit.*not set"):
        model.fit(*reg_data)


def test_classifier_expert_raising_in_fit_at_iteration_5(clf_data):
    model = MixtureOfExpertsClassifier(
        [("ok", LogisticRegression()), ("bad", FaultyClassifier())], **EM
    )
    fails_like(
        model,
        *clf_data,
        RuntimeError,
        r"Expert 'bad' \(FaultyClassifier\) failed to fit at EM iteration 5",
    )


@pytest.mark.parametrize(
    "how, error, match",
    [
        ("nan", ValueError, r"1 of 60 rows have NaN or infinite predictions"),
        ("inf", ValueError, r"1 of 60 rows have NaN or infinite predictions"),
        (
            "short",
            ValueError,
            r"its predictions have shape \(59,\) for 60 rows; "
            r"expected \(60,\)",
        ),
        ("two columns", ValueError, r"its predictions have shape \(60, 2\)"),
        # Finite: their squared residuals overflowed, and the fit failed with
        # a NaN log-likelihood that named no expert.
        ("huge", ValueError, r"60 of 60 rows have predictions beyond 1e\+150"),
    ],
    ids=["nan", "inf", "short", "two columns", "huge"],
)
def test_regression_expert_with_bad_output(reg_data, how, error, match):
    model = MixtureOfExpertsRegressor(
        [("ok", LinearRegression()), ("bad", FaultyRegressor(how))], **EM
    )
    prefix = (
        r"Expert 'bad' \(FaultyRegressor\) gave unusable output at EM "
        r"iteration 5: "
    )
    fails_like(model, *reg_data, error, prefix + match)


def test_regression_expert_whose_predict_raises(reg_data):
    model = MixtureOfExpertsRegressor(
        [("ok", LinearRegression()), ("bad", FaultyRegressor("predict raises"))],
        **EM,
    )
    # The error keeps its type (ArithmeticError) and gains the names.
    fails_like(
        model,
        *reg_data,
        ArithmeticError,
        r"Expert 'bad' \(FaultyRegressor\) failed to predict at EM "
        r"iteration 5: cannot predict",
    )


@pytest.mark.parametrize(
    "how, match",
    [
        ("nan", r"1 of 60 rows have NaN or infinite probabilities"),
        (
            "one column",
            r"its probabilities have shape \(60, 1\) for 60 rows; "
            r"expected \(60, 2\)",
        ),
        ("short", r"its probabilities have shape \(59, 2\)"),
        (
            "negative",
            r"its probabilities must be non-negative with rows summing "
            r"to 1; got values down to -0.5",
        ),
        (
            "unnormalised",
            r"its probabilities must be non-negative with rows "
            r"summing to 1; got values down to .* and row sums from 2 to 2\.",
        ),
    ],
    ids=["nan", "one column", "short", "negative", "unnormalised"],
)
def test_classifier_expert_with_bad_output(clf_data, how, match):
    model = MixtureOfExpertsClassifier(
        [("ok", LogisticRegression()), ("bad", FaultyClassifier(how))], **EM
    )
    prefix = (
        r"Expert 'bad' \(FaultyClassifier\) gave unusable output at EM "
        r"iteration 5: "
    )
    fails_like(model, *clf_data, ValueError, prefix + match)


def test_label_only_expert_with_short_output(clf_data):
    model = MixtureOfExpertsClassifier(
        [("ok", LogisticRegression()), ("rule", FaultyLabeller())], **EM
    )
    fails_like(
        model,
        *clf_data,
        ValueError,
        r"Expert 'rule' \(FaultyLabeller\) gave unusable output at EM "
        r"iteration 5: its predictions have shape \(59,\) for 60 rows",
    )


def test_expert_reporting_a_nan_likelihood(reg_data):
    model = MixtureOfExpertsRegressor(
        [("ok", LinearRegression()), ("own", LikelihoodReporter())], **EM
    )
    fails_like(
        model,
        *reg_data,
        ValueError,
        r"Expert 'own' \(LikelihoodReporter\) gave unusable output at EM "
        r"iteration 5: 1 of 60 rows have NaN or infinite log-likelihoods",
    )


class FaultyGate(LogisticRegression):
    """A replicated-row gate that fails at its 5th fit (fitted once per
    iteration), by raising or by returning NaN."""

    def __init__(self, how="raise"):
        super().__init__()
        self.how = how

    def fit(self, X, y, sample_weight=None):
        self.n_fits_ = getattr(self, "n_fits_", 0) + 1
        if self.how == "raise" and self.n_fits_ >= FAIL_AT:
            raise FloatingPointError("gate diverged")
        return super().fit(X, y, sample_weight=sample_weight)

    def predict_proba(self, X):
        proba = super().predict_proba(X)
        if self.how == "nan" and self.n_fits_ >= FAIL_AT:
            proba[:] = np.nan
        return proba


@pytest.mark.parametrize(
    "how, error, match",
    [
        (
            "raise",
            FloatingPointError,
            r"The gate \(FaultyGate\) failed to fit at EM iteration 5: gate diverged",
        ),
        (
            "nan",
            ValueError,
            r"The gate \(FaultyGate\) gave unusable output: 60 of "
            r"60 rows have NaN or infinite probabilities",
        ),
    ],
    ids=["raise", "nan"],
)
def test_failing_gate(reg_data, how, error, match):
    model = MixtureOfExpertsRegressor(gate=FaultyGate(how), **EM)
    fails_like(model, *reg_data, error, match)


def test_a_fitted_mixture_survives_a_failed_refit(reg_data):
    X, y = reg_data
    model = MixtureOfExpertsRegressor(
        [("ok", LinearRegression()), ("bad", FaultyRegressor("nan", fail_at=99))],
        **EM,
    )
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    prediction = model.predict(X)
    before = dict(vars(model))
    model.set_params(bad=FaultyRegressor("nan"))
    with pytest.raises(ValueError, match=r"Expert 'bad' .* at EM iteration 5"):
        model.fit(X, y)
    assert vars(model)["experts"] is not before["experts"]  # set_params did that
    before["experts"] = vars(model)["experts"]
    assert_left_as_it_was(model, before)
    assert_array_equal(model.predict(X), prediction)


def test_nan_from_an_expert_at_predict_time_is_an_error(reg_data):
    X, y = reg_data
    # Fitted 6 times by EM (tol=0): NaN from its 7th fit on, which never comes.
    model = MixtureOfExpertsRegressor(
        [("ok", LinearRegression()), ("bad", FaultyRegressor("nan", fail_at=7))],
        **EM,
    )
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    model.named_experts_.bad.fail_at = 1  # now it predicts a NaN
    for method in (model.predict, model.expert_predictions):
        with pytest.raises(
            ValueError,
            match=r"Expert 'bad' \(FaultyRegressor\) "
            r"gave unusable output: 1 of 60 rows have NaN",
        ):
            method(X)


# ---- KeyboardInterrupt -----------------------------------------------------


@pytest.mark.parametrize("where", ["expert", "gate"])
def test_keyboard_interrupt_in_fit_leaves_the_mixture_unfitted(reg_data, where):
    if where == "expert":
        model = MixtureOfExpertsRegressor(
            [("ok", LinearRegression()), ("bad", FaultyRegressor("interrupt"))],
            **EM,
        )
    else:
        model = MixtureOfExpertsRegressor(gate=InterruptingGate(), **EM)
    before = dict(vars(model))
    with pytest.raises(KeyboardInterrupt):
        model.fit(*reg_data)
    assert_left_as_it_was(model, before)
    assert not hasattr(model, "experts_")


class InterruptingGate(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        self.n_fits_ = getattr(self, "n_fits_", 0) + 1
        if self.n_fits_ >= FAIL_AT:
            raise KeyboardInterrupt
        return super().fit(X, y, sample_weight=sample_weight)


def interrupted_fit(model, X, y, after):
    """Fit, with a KeyboardInterrupt sent to this thread ``after`` seconds in,
    as Ctrl-C would. Returns whether the fit was interrupted.

    Python raises the interrupt in whatever code runs when it arrives, and
    drops it ("Exception ignored in ...") when that is a finalizer. Garbage
    that earlier tests left (a multiprocessing connection's ``__del__`` has
    caught it) is therefore collected first, and the cyclic collector stays
    off until the interrupt has landed, so that it lands in the fit.

    A process started in the background by a shell (``pytest &``) ignores
    SIGINT, and then ``interrupt_main`` does nothing: Python's own handler
    is put back for the fit, as an interactive session has it.
    """
    collecting = gc.isenabled()
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    gc.collect()
    gc.disable()
    timer = threading.Timer(after, _thread.interrupt_main)
    timer.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
            # A fit long enough never gets here; wait so the signal lands
            # here rather than in the test runner.
            timer.join()
            time.sleep(0.1)
    except KeyboardInterrupt:
        return True
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, handler)
        if collecting:
            gc.enable()
    return False


@pytest.mark.parametrize("first_fitted", [False, True])
def test_ctrl_c_during_a_long_fit(first_fitted):
    X, y = make_two_regimes(3000, random_state=0)
    # Tens of seconds of EM if left alone; interrupted after a quarter second.
    model = MixtureOfExpertsRegressor(n_experts=8, tol=0, max_iter=5000, random_state=0)
    if first_fitted:
        with pytest.warns(ConvergenceWarning):
            model.set_params(max_iter=3).fit(X, y)
        model.set_params(max_iter=5000, warm_start=True)
        prediction = model.predict(X)
    before = dict(vars(model))
    start = time.perf_counter()
    assert interrupted_fit(model, X, y, after=0.25)
    assert time.perf_counter() - start < 10  # it did stop
    assert_left_as_it_was(model, before)
    if first_fitted:
        assert_array_equal(model.predict(X), prediction)
    else:
        assert not [key for key in vars(model) if key.endswith("_")]
