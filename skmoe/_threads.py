"""How many BLAS and OpenMP threads EM may use.

One EM iteration is a chain of many small linear-algebra calls: the gate's
gradient and Hessian, each expert's solver steps, the experts' predictions.
On problems of everyday size each call is too small to share among threads,
and a threaded BLAS still pays for waking its threads and synchronising them
at every call; on a machine whose other cores are busy, a thread that waits
for a core stalls the whole call. On two cores shared with other work,
``benchmarks/bench_threads.py`` measured EM with OpenBLAS's default threads
against one thread: 2.6-3.2 times slower on the 3-linear-expert regression
over 150,000 rows of 2 features, 1.4-4.5 times on Ridge experts over 20,000
rows of 10 to 300 features, and 5 times on a 2-expert logistic mixture on
breast_cancer (569 rows, 30 features) while its experts were refitted by
L-BFGS (1.2-1.4 times with the direct M-step of ``_fast_mstep``). Threads
never paid there, so :func:`em_thread_limits` keeps one thread below
:data:`MIN_WORK_FOR_THREADS`, above the largest of those problems.

Thread limits only ever go down here: a pool that the user already limited
(``threadpoolctl.threadpool_limits`` around ``fit``, ``OMP_NUM_THREADS``...)
keeps its limit, and what the fit changed is restored when it ends.
"""

import numbers
import os
import sys
import threading
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

# EM keeps one BLAS / OpenMP thread while n_samples * n_features ** 2 (the
# arithmetic of one pass of normal equations or of a Hessian over the data)
# is below this. On the 2-core machine of the benchmarks threads never paid
# below it, also for X of 20,000 x 300 (1.8e9); above, the few large matrix
# products may gain from more cores, so the configured threads stay.
MIN_WORK_FOR_THREADS = 2e9

_controller = None
_modules_seen = None  # len(sys.modules) when _controller was made
_lock = threading.Lock()

# The BLAS pools (one per process) that the fits running now have lowered,
# with their threads before the first of those fits, and the limits of
# those fits. Fits run side by side in threads (a threading backend's
# GridSearchCV) end in any order: each restoring what it found gave a
# running fit all the threads back, or left a lower count in place after
# both had ended. The pools follow the lowest running limit and are
# restored when the last fit ends.
_original = {}
_active = {}


def _get_controller():
    """The process's thread pools.

    Inspecting them costs a few ms, as much as a small fit, so it is done
    again only when modules were imported since: a library that brings its
    own BLAS or OpenMP (LightGBM's, PyTorch's) comes with an import, and an
    expert that uses it would otherwise run with all its threads.
    """
    global _controller, _modules_seen
    if _controller is None or len(sys.modules) != _modules_seen:
        _controller = ThreadpoolController()
        _modules_seen = len(sys.modules)
    return _controller


def check_blas_threads(blas_threads):
    """Validate the ``blas_threads`` setting; return it.

    Parameters
    ----------
    blas_threads : "auto", int >= 1 or None

    Returns
    -------
    blas_threads : "auto", int or None
    """
    if blas_threads is None or (
        isinstance(blas_threads, str) and blas_threads == "auto"
    ):
        return blas_threads
    if isinstance(blas_threads, numbers.Integral) and not isinstance(
        blas_threads, bool
    ):
        if blas_threads >= 1:
            return int(blas_threads)
        raise ValueError(
            f"'blas_threads' must be 'auto', an int >= 1 or None; got {blas_threads!r}."
        )
    raise TypeError(
        f"'blas_threads' must be 'auto', an int >= 1 or None; got {blas_threads!r}."
    )


def thread_limit(blas_threads, n_samples, n_features):
    """The most threads EM should use, or None to leave the pools as they are.

    Parameters
    ----------
    blas_threads : "auto", int >= 1 or None
        ``"auto"``: one thread when ``n_samples * n_features ** 2`` is below
        :data:`MIN_WORK_FOR_THREADS`, no limit above; an int: at most that
        many threads; None: no limit.
    n_samples, n_features : int
        The shape of the training data.

    Returns
    -------
    limit : int or None

    Examples
    --------
    >>> from skmoe._threads import thread_limit
    >>> thread_limit("auto", 569, 30), thread_limit("auto", 100_000, 500)
    (1, None)
    >>> thread_limit(4, 569, 30), thread_limit(None, 569, 30)
    (4, None)
    """
    blas_threads = check_blas_threads(blas_threads)
    if blas_threads == "auto":
        work = float(n_samples) * float(n_features) ** 2
        return 1 if work < MIN_WORK_FOR_THREADS else None
    return blas_threads


def _set_blas_pools(controller):
    """Each BLAS pool in ``_original`` at the lowest limit of the fits
    running (never above its original count), or back at its original count
    when none runs. Called with ``_lock`` held."""
    for pool in controller.lib_controllers:
        if pool.filepath in _original:
            original = _original[pool.filepath]
            pool.set_num_threads(min([original, *_active.values()]))
    if not _active:
        _original.clear()


def parent_blas():
    """``(pid, threads)``: this process and the fewest threads of its BLAS
    pools now (None without one), for :func:`blas_as_in_parent`."""
    with _lock:
        counts = [pool.num_threads for pool in _pools_above(_get_controller(), "blas")]
    return os.getpid(), min(counts, default=None)


def _pools_above(controller, user_api, limit=0):
    """The pools of ``user_api`` (``"blas"`` or ``"openmp"``) running more
    than ``limit`` threads, one per library (by file)."""
    return [
        pool
        for pool in controller.select(user_api=user_api).lib_controllers
        if pool.num_threads > limit
    ]


@contextmanager
def blas_as_in_parent(parent):
    """In a worker process, BLAS lowered to the threads of the process that
    sent the work (``parent``, from :func:`parent_blas`), so that an expert
    fitted there computes as it would at home; in the parent's own threads,
    which share its pools, nothing.

    A process backend gives its workers threads of its own (loky: the cores
    over ``n_jobs``), whatever ``blas_threads`` set in the parent, and the
    models parted by rounding where the counts differed. Only ever lowered.
    """
    pid, threads = parent
    if threads is None or os.getpid() == pid:
        yield
        return
    with _blas_limit(threads):
        yield


@contextmanager
def _blas_limit(limit):
    """The BLAS pools at most ``limit`` threads while the block runs, with
    the limits of the fits running beside it (see ``_original``); yields
    the pools it lowered."""
    fit = object()  # this block's key in _active
    try:
        with _lock:
            controller = _get_controller()
            lowered = _pools_above(controller, "blas", limit)
            _active[fit] = limit
            for pool in lowered:
                _original.setdefault(pool.filepath, pool.num_threads)
            _set_blas_pools(controller)
        yield lowered
    finally:
        with _lock:
            _active.pop(fit, None)
            _set_blas_pools(_get_controller())


@contextmanager
def _openmp_limit(limit):
    """The OpenMP pools at most ``limit`` threads while the block runs.

    OpenMP's thread count belongs to the calling thread: set and restored
    here, by this block. Selected by file and limited as a group:
    threadpoolctl 3.1 takes no file paths as keys of ``limits``. Yields the
    pools it lowered.
    """
    with _lock:
        controller = _get_controller()
        lowered = _pools_above(controller, "openmp", limit)
    if not lowered:
        yield lowered
        return
    with controller.select(filepath=[pool.filepath for pool in lowered]).limit(
        limits=limit
    ):
        yield lowered


@contextmanager
def em_thread_limits(estimator, n_samples, n_features):
    """Limit BLAS and OpenMP threads while EM runs, as ``blas_threads`` says.

    The setting is the estimator's ``blas_threads`` attribute (``"auto"``
    when it has none). A pool is only ever lowered to the limit, never
    raised: threads the user limited beforehand stay limited. Nested fits
    (a mixture as an expert) find the pools already limited and change
    nothing. The pools changed are restored on exit.

    Parameters
    ----------
    estimator : object
        The mixture being fitted.
    n_samples, n_features : int
        The shape of its training data.

    Yields
    ------
    limits : dict
        The limits set, by user API (``{"blas": 1, "openmp": 1}``); empty
        when nothing was changed.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from threadpoolctl import threadpool_info
    >>> from skmoe._threads import em_thread_limits
    >>> moe = SimpleNamespace(blas_threads="auto")  # stands for a mixture
    >>> with em_thread_limits(moe, 500, 3):
    ...     pools = threadpool_info()
    >>> all(p["num_threads"] == 1 for p in pools if p["user_api"] == "blas")
    True
    """
    limit = thread_limit(
        getattr(estimator, "blas_threads", "auto"), n_samples, n_features
    )
    if limit is None:
        yield {}
        return
    # BLAS for the linear algebra, OpenMP for experts that parallelise inside
    # (HistGradientBoosting), which pay the same price of waking threads for
    # little work on small data. Per library (by file), so that a pool the
    # user limited further keeps its own, lower count.
    with _blas_limit(limit) as blas, _openmp_limit(limit) as openmp:
        yield {pool.user_api: limit for pool in [*blas, *openmp]}
