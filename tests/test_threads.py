"""Thread limits around EM: one BLAS/OpenMP thread for small problems, the
configured threads for large ones, the user's setting and outer limits first."""

from types import SimpleNamespace

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

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
