"""Every warning of a fit points at the line that called fit; a quiet fit
silences them in its own thread only."""

import sys
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor

from skmoe import (
    DeadExpertWarning,
    DegenerateFitWarning,
    MixtureOfExpertsRegressor,
    MixtureOfExpertsRegressorCV,
    WarmStartWarning,
)

rng = np.random.RandomState(0)
X = rng.uniform(-3, 3, size=(200, 1))
y = np.abs(X[:, 0]) + 0.1 * rng.standard_normal(200)
STARVED = np.tile([0.5, 0.5 - 1e-7, 1e-7], (200, 1))


def caught_by(fit):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit()
    return caught


FITS = {
    ConvergenceWarning: lambda n_init: MixtureOfExpertsRegressor(
        max_iter=1, tol=0, n_init=n_init
    ).fit(X, y),
    DeadExpertWarning: lambda n_init: MixtureOfExpertsRegressor(
        n_experts=3,
        min_expert_weight=0.01,
        dead_expert="keep",
        n_init=n_init,
        random_state=0,
    ).fit(X, y, init_resp=STARVED),
    # Plain EM: deep trees then fit their own rows exactly.
    DegenerateFitWarning: lambda n_init: MixtureOfExpertsRegressor(
        DecisionTreeRegressor(), n_init=n_init, crossfit=False, random_state=0
    ).fit(X, y),
    FutureWarning: lambda n_init: MixtureOfExpertsRegressor(
        n_experts=3, init_params=STARVED, n_init=n_init, random_state=0
    ).fit(X, y),
}


@pytest.mark.parametrize("n_init", [1, 2])
@pytest.mark.parametrize("category", FITS, ids=lambda c: c.__name__)
def test_fit_warnings_point_at_the_caller(category, n_init):
    caught = caught_by(lambda: FITS[category](n_init))
    ours = [w for w in caught if issubclass(w.category, category)]
    assert ours, f"no {category.__name__}"
    assert {w.filename for w in ours} == {__file__}


def test_warm_start_warning_points_at_the_caller():
    moe = MixtureOfExpertsRegressor(warm_start=True, random_state=0).fit(X, y)
    moe.set_params(n_experts=3)
    caught = caught_by(lambda: moe.fit(X, y))
    ours = [w for w in caught if w.category is WarmStartWarning]
    assert [w.filename for w in ours] == [__file__]


def test_warnings_of_a_nested_mixture_point_at_the_outer_call():
    inner = MixtureOfExpertsRegressor(max_iter=1, tol=0)
    outer = MixtureOfExpertsRegressor(inner, n_experts=2, max_iter=2, random_state=0)
    caught = caught_by(lambda: outer.fit(X, y))
    ours = [w for w in caught if w.category is ConvergenceWarning]
    assert ours
    assert {w.filename for w in ours} == {__file__}


def _short(**params):
    return MixtureOfExpertsRegressor(max_iter=1, tol=0, n_init=1, **params)


@pytest.mark.parametrize(
    "fit",
    [
        lambda: make_pipeline(StandardScaler(), _short()).fit(X, y),
        lambda: cross_val_score(_short(), X, y, cv=2),
        lambda: GridSearchCV(_short(), {"n_experts": [2]}, cv=2).fit(X, y),
        lambda: MixtureOfExpertsRegressorCV(max_iter=1, tol=0, cv=2).fit(X, y),
    ],
    ids=["Pipeline", "cross_val_score", "GridSearchCV", "CV estimator"],
)
def test_warnings_through_scikit_learn_point_at_the_caller(fit):
    # They pointed at scikit-learn's pipeline.py, _validation.py, and at
    # skmoe's own _cv_path.py.
    ours = [w for w in caught_by(fit) if w.category is ConvergenceWarning]
    assert ours
    assert {w.filename for w in ours} == {__file__}


# ---- quiet fits and threads ----------------------------------------------------


class _Warnings:
    """A stand-in for the warnings module as ``skmoe._warn`` sees it, which
    records what it is asked and by which thread."""

    def __init__(self):
        self.shown, self.filter_changes = [], []

    def warn(self, message, category, stacklevel=1):
        self.shown.append((threading.current_thread().name, str(message)))

    def catch_warnings(self):
        self.filter_changes.append(threading.current_thread().name)
        return warnings.catch_warnings()

    def simplefilter(self, *args, **kwargs):
        warnings.simplefilter(*args, **kwargs)


def test_quiet_fits_in_worker_threads_leave_the_process_filters_alone(monkeypatch):
    # catch_warnings saves and restores the process's filters: two threads
    # entering and leaving it at once left an "ignore UserWarning" filter
    # behind for good, silencing every later warning. In a worker thread a
    # quiet fit now silences skmoe's own warnings by a context variable.
    from skmoe import _warn

    stand_in = _Warnings()
    monkeypatch.setattr(_warn, "warnings", stand_in)

    def worker():
        with _warn.quietly():
            _warn.warn("hidden", DeadExpertWarning)
        _warn.warn("shown", DeadExpertWarning)

    thread = threading.Thread(target=worker, name="worker")
    thread.start()
    thread.join()
    assert stand_in.shown == [("worker", "shown")]
    assert stand_in.filter_changes == []
    with _warn.quietly():  # the main thread silences other libraries' too
        _warn.warn("hidden", DeadExpertWarning)
    assert stand_in.filter_changes == ["MainThread"]
    assert len(stand_in.shown) == 1


def test_cv_estimators_fitted_in_threads_change_no_filter(monkeypatch):
    # Whatever skmoe module would save and restore the process's filters.
    saved_by_skmoe = []
    real = warnings.catch_warnings

    def spy(*args, **kwargs):
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if caller.startswith("skmoe"):
            saved_by_skmoe.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(warnings, "catch_warnings", spy)
    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 2, size=(120, 1))
    y = np.abs(X[:, 0]) + 0.1 * rng.standard_normal(120)
    cv = MixtureOfExpertsRegressorCV(n_experts_grid=(1, 2), cv=2, random_state=0)
    with ThreadPoolExecutor(2) as pool:
        fitted = list(pool.map(lambda c: c.fit(X, y), [clone(cv), clone(cv)]))
    assert all(model.n_experts_ in (1, 2) for model in fitted)
    assert saved_by_skmoe == []
