"""Thread limits around EM: one BLAS/OpenMP thread for small problems, the
configured threads for large ones, the user's setting and outer limits first."""

import sys
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression
from threadpoolctl import threadpool_info, threadpool_limits

from skmoe import MixtureOfExpertsRegressor, _threads
from skmoe._threads import (
    MIN_WORK_FOR_THREADS,
    check_blas_threads,
    em_thread_limits,
    thread_limit,
)

# A problem far below and one far above the threshold (n_samples, n_features).
SMALL = (569, 30)
LARGE = (int(MIN_WORK_FOR_THREADS // 100**2) + 1, 100)


def blas_threads_now():
    """The thread counts of the BLAS pools, as a sorted list."""
    return sorted(
        p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"
    )


def mixture(blas_threads="auto"):
    return SimpleNamespace(blas_threads=blas_threads)


@pytest.fixture
def two_threads():
    """BLAS with two threads, whatever the machine's default, so that a limit
    to one is visible (also on a one-core machine)."""
    if not blas_threads_now():
        pytest.skip("no BLAS library found by threadpoolctl")
    with threadpool_limits(limits=2, user_api="blas"):
        assert set(blas_threads_now()) == {2}
        yield


def test_auto_limits_small_problems_only():
    assert thread_limit("auto", *SMALL) == 1
    assert thread_limit("auto", *LARGE) is None
    # The threshold is on n_samples * n_features ** 2: more rows of the
    # small problem's width stay below it until the work reaches it.
    rows = int(MIN_WORK_FOR_THREADS // 30**2)
    assert thread_limit("auto", rows - 1, 30) == 1
    assert thread_limit("auto", rows + 1, 30) is None


def test_explicit_settings_override_the_size_rule():
    assert thread_limit(None, *SMALL) is None
    assert thread_limit(3, *SMALL) == 3
    assert thread_limit(1, *LARGE) == 1


@pytest.mark.parametrize("bad", [0, -2])
def test_bad_value_is_a_value_error_naming_the_parameter(bad):
    with pytest.raises(ValueError, match=rf"'blas_threads'.*'auto'.*got {bad}"):
        check_blas_threads(bad)


@pytest.mark.parametrize("bad", ["one", 1.5, True, "Auto"])
def test_bad_type_is_a_type_error_naming_the_parameter(bad):
    with pytest.raises(TypeError, match=r"'blas_threads' must be 'auto'"):
        check_blas_threads(bad)


def test_small_problem_runs_on_one_thread_and_restores(two_threads):
    with em_thread_limits(mixture(), *SMALL) as limits:
        assert set(blas_threads_now()) == {1}
        assert limits["blas"] == 1
    assert set(blas_threads_now()) == {2}


def test_large_problem_keeps_the_configured_threads(two_threads):
    with em_thread_limits(mixture(), *LARGE) as limits:
        assert set(blas_threads_now()) == {2}
        assert limits == {}


def test_override_none_keeps_threads_on_small_problems(two_threads):
    with em_thread_limits(mixture(None), *SMALL) as limits:
        assert set(blas_threads_now()) == {2}
        assert limits == {}


def test_override_int_limits_large_problems(two_threads):
    with em_thread_limits(mixture(1), *LARGE):
        assert set(blas_threads_now()) == {1}
    assert set(blas_threads_now()) == {2}


def test_estimator_without_the_setting_means_auto(two_threads):
    with em_thread_limits(object(), *SMALL):
        assert set(blas_threads_now()) == {1}


def test_limits_never_raise_an_outer_limit(two_threads):
    # The user allows one thread; a setting of 4 (or None) must not undo that.
    with threadpool_limits(limits=1, user_api="blas"):
        for setting in (4, None, "auto"):
            with em_thread_limits(mixture(setting), *LARGE):
                assert set(blas_threads_now()) == {1}
        assert set(blas_threads_now()) == {1}
    # An int above the configured count leaves the count as it is.
    with em_thread_limits(mixture(4), *SMALL):
        assert set(blas_threads_now()) == {2}


def test_nested_limits_restore_in_order(two_threads):
    # A mixture as the expert of another: the inner fit finds one thread and
    # must leave it so until the outer fit ends.
    with em_thread_limits(mixture(), *SMALL):
        with em_thread_limits(mixture(), *SMALL) as inner:
            assert inner == {}
        assert set(blas_threads_now()) == {1}
    assert set(blas_threads_now()) == {2}


def test_limits_are_restored_when_the_fit_raises(two_threads):
    with pytest.raises(RuntimeError, match="expert failed"):
        with em_thread_limits(mixture(), *SMALL):
            raise RuntimeError("expert failed")
    assert set(blas_threads_now()) == {2}


# ---- inside a fit --------------------------------------------------------


class RecordingRegressor(RegressorMixin, BaseEstimator):
    """A linear expert that records the BLAS threads in force during its fit;
    with ``fail=True`` its fit raises, as a broken expert's would."""

    def __init__(self, fail=False):
        self.fail = fail

    def fit(self, X, y, sample_weight=None):
        self.threads_seen_ = blas_threads_now()
        if self.fail:
            raise RuntimeError("this expert cannot fit")
        self.model_ = LinearRegression().fit(X, y, sample_weight=sample_weight)
        return self

    def predict(self, X):
        return self.model_.predict(X)


def small_data():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(200, 2))
    y = np.where(X[:, 0] < 0, X[:, 1], -X[:, 1]) + 0.1 * rng.standard_normal(200)
    return X, y


def threads_in_fit(**params):
    """The BLAS thread counts the experts saw in their last M-step."""
    moe = MixtureOfExpertsRegressor(
        RecordingRegressor(), n_experts=2, max_iter=3, random_state=0, **params
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        moe.fit(*small_data())
    return {n for expert in moe.experts_ for n in expert.threads_seen_}


def test_fit_of_a_small_problem_runs_on_one_thread(two_threads):
    assert threads_in_fit() == {1}
    assert set(blas_threads_now()) == {2}  # restored after the fit


def test_fit_of_a_large_problem_keeps_the_threads(two_threads, monkeypatch):
    # The same data count as large once the threshold is below their size.
    monkeypatch.setattr(_threads, "MIN_WORK_FOR_THREADS", 100)
    assert threads_in_fit() == {2}


def test_blas_threads_parameter_overrides_the_size_rule(two_threads, monkeypatch):
    assert threads_in_fit(blas_threads=None) == {2}
    monkeypatch.setattr(_threads, "MIN_WORK_FOR_THREADS", 100)
    assert threads_in_fit(blas_threads=1) == {1}


def test_outer_limit_wins_inside_the_fit(two_threads):
    with threadpool_limits(limits=1, user_api="blas"):
        assert threads_in_fit(blas_threads=None) == {1}
        assert threads_in_fit(blas_threads=2) == {1}
    assert set(blas_threads_now()) == {2}


def test_threads_are_restored_when_the_fit_fails(two_threads):
    moe = MixtureOfExpertsRegressor(RecordingRegressor(fail=True), random_state=0)
    with pytest.raises(RuntimeError, match="cannot fit"):
        moe.fit(*small_data())
    assert set(blas_threads_now()) == {2}


@pytest.mark.parametrize("bad", [0, "all", 1.5])
def test_bad_blas_threads_is_refused_naming_it(bad):
    with pytest.raises((ValueError, TypeError), match="blas_threads"):
        MixtureOfExpertsRegressor(blas_threads=bad).fit(*small_data())


def test_thread_limit_leaves_the_model_unchanged(two_threads):
    X, y = small_data()
    limited = MixtureOfExpertsRegressor(random_state=0).fit(X, y)
    free = MixtureOfExpertsRegressor(blas_threads=None, random_state=0).fit(X, y)
    np.testing.assert_allclose(limited.predict(X), free.predict(X), atol=1e-8)


def test_pools_are_inspected_again_after_an_import(monkeypatch):
    # A library that brings its own BLAS or OpenMP comes with an import: the
    # pools inspected before it would leave its threads unlimited. With no
    # import in between, the inspection (a few ms) is not repeated.
    first = _threads._get_controller()
    assert _threads._get_controller() is first
    monkeypatch.setitem(sys.modules, "a_library_with_its_own_openmp", SimpleNamespace())
    assert _threads._get_controller() is not first


def test_fits_side_by_side_keep_the_limit_until_the_last_ends(two_threads):
    # Fits in threads (a threading backend's GridSearchCV) end in any order.
    # Each restoring what it found, the first to end gave the other all the
    # threads back.
    first, second = (
        em_thread_limits(mixture(), *SMALL),
        em_thread_limits(mixture(), *SMALL),
    )
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert set(blas_threads_now()) == {1}
    second.__exit__(None, None, None)
    assert set(blas_threads_now()) == {2}


def test_fits_with_other_limits_restore_the_count_they_found():
    # With three threads, a fit limited to two and one limited to one: the
    # pool follows the lowest running limit, and is three again at the end.
    # Each restoring what it found left two after both had ended.
    if not blas_threads_now():
        pytest.skip("no BLAS library found by threadpoolctl")
    with threadpool_limits(limits=3, user_api="blas"):
        assert set(blas_threads_now()) == {3}
        two, one = (
            em_thread_limits(mixture(2), *SMALL),
            em_thread_limits(mixture(1), *SMALL),
        )
        two.__enter__()
        assert set(blas_threads_now()) == {2}
        one.__enter__()
        assert set(blas_threads_now()) == {1}
        two.__exit__(None, None, None)
        assert set(blas_threads_now()) == {1}
        one.__exit__(None, None, None)
        assert set(blas_threads_now()) == {3}
