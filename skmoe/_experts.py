"""The experts' M-step: each expert refitted to its share of every row.

Experts that take ``sample_weight`` are fitted with the responsibilities as
weights; the others through a fallback (hard EM or weighted resampling);
fixed experts (prefit models, rules) are never refitted. Failures name the
expert and the EM iteration.
"""

import io
import pickle
import types
from contextlib import contextmanager
from copy import deepcopy

import numpy as np
from joblib import cpu_count, effective_n_jobs
from sklearn.base import is_classifier, is_regressor
from sklearn.utils.parallel import Parallel, delayed
from threadpoolctl import threadpool_limits

from ._compat import _check_method_params
from ._estimators import (
    column_names_selected,
    fit_mode,
    fit_weighted,
    is_fixed,
    same_type_error,
)
from ._fast_mstep import (
    fast_mstep,
    fit_pipeline,
    supports_fast_mstep,
    supports_pipeline_mstep,
)
from ._threads import blas_as_in_parent, parent_blas
from ._warn import warn
from .rules import RuleExpert

# Smallest responsibility an expert is fitted with. Soft EM never assigns a row
# exactly zero in exact arithmetic, but exp() underflows; an expert whose
# weights all underflow would otherwise receive all-zero sample weights, which
# scikit-learn estimators reject.
RESP_FLOOR = np.finfo(np.float64).eps

# Fewest rows an expert without sample_weight is fitted on under the "hard"
# fallback, so that e.g. KNeighbors(n_neighbors=5) never gets too few.
MIN_HARD_ROWS = 10

UNWEIGHTED_FIT = ("hard", "resample")


def check_expert(name, expert, kind):
    """Raise a clear error if ``expert`` cannot serve in a mixture of ``kind``.

    Parameters
    ----------
    name : str
        The expert's name, quoted in errors.
    expert : object
        The unfitted expert as the user gave it.
    kind : {"regressor", "classifier"}
        What the mixture is.
    """
    if isinstance(expert, type):
        raise TypeError(
            f"Expert {name!r} must be an estimator instance, got the class "
            f"{expert.__name__}; use {expert.__name__}() instead."
        )
    for method in ("fit", "predict"):
        if not callable(getattr(expert, method, None)):
            raise TypeError(
                f"Expert {name!r} must implement fit and predict; "
                f"{type(expert).__name__} has no {method!r} method."
            )
    if isinstance(expert, RuleExpert):
        if kind == "regressor" and expert.classes is not None:
            raise ValueError(
                f"Expert {name!r} is a RuleExpert with classes, which returns "
                "probabilities; a regressor needs a rule that returns values."
            )
        if expert.classes is not None:
            try:
                expert.classes_  # noqa: B018 -- refuses classes that are not labels
            except ValueError as exc:
                raise ValueError(f"Expert {name!r}: {exc}") from None
        return
    is_kind = is_classifier if kind == "classifier" else is_regressor
    if not is_kind(expert):
        raise ValueError(
            f"Expert {name!r} ({type(expert).__name__}) should be a {kind}."
        )
    _check_columns_by_position(f"Expert {name!r}", expert)


def check_prefit_columns(name, expert, columns):
    """Refuse a prefit expert whose own columns are not the ones it is given.

    A mixture gives its experts their columns without names. A model
    trained earlier on a DataFrame knows its columns' names, and on other
    columns, or the same in another order, it would read each one as the
    column that stood there when it was trained: wrong predictions, with
    only scikit-learn's warning that X has no names. ``columns`` are the
    names of the mixture's expert columns, or None if X had none: then it
    cannot be checked, and a warning says so once.
    """
    own = getattr(expert, "feature_names_in_", None) if is_fixed(expert) else None
    if own is None:
        return
    if columns is None:
        warn(
            f"Expert {name!r} was fitted on the named columns {list(own)!r}, "
            "but X has no column names, so the mixture cannot check that it "
            "gives the expert those columns in that order. Give the mixture "
            "X as a DataFrame to have them checked.",
            UserWarning,
        )
    elif list(own) != list(columns):
        raise ValueError(
            f"Expert {name!r} was fitted on the columns {list(own)!r}, but the "
            f"mixture gives its experts the columns {list(columns)!r}, in that "
            "order, without their names: the expert would read each column as "
            "the one that stood there when it was fitted. Give the mixture X "
            "with the expert's columns in its order, or select them with "
            "expert_features."
        )


def _check_columns_by_position(who, estimator):
    """Refuse a ColumnTransformer that selects columns by name inside an
    expert or the gate, which receive their columns without names."""
    columns = column_names_selected(estimator)
    if columns is not None:
        raise ValueError(
            f"{who} ({type(estimator).__name__}) selects columns by name "
            f"({columns!r}) in a ColumnTransformer, but a mixture gives its "
            "experts and its gate their columns as a float array without names. "
            "Select them by position there, or by name with expert_features "
            "and gate_features (which read a DataFrame's names), encoding "
            "categorical columns before the mixture."
        )


def fallback_rows(resp, index, sample_weight, how, rng, minimum=MIN_HARD_ROWS):
    """Rows an expert without sample_weight is fitted on.

    Parameters
    ----------
    resp : ndarray of shape (n, M)
    index : int
        The expert.
    sample_weight : ndarray of shape (n,)
    how : {"hard", "resample"}
        ``"hard"``: the rows the expert explains best (its responsibility is
        the largest), topped up with its most responsible rows up to
        ``MIN_HARD_ROWS`` (or the expert's ``n_neighbors``, which a
        neighbours model needs at least), as flexmix's hard EM;
        ``"resample"``: ``n`` rows drawn with replacement, with probability
        ``sample_weight * resp`` (as ``"hard"`` if that is 0 everywhere).
    rng : numpy.random.RandomState
        Used by ``"resample"`` only.
    minimum : int, default=MIN_HARD_ROWS
        Fewest rows for ``"hard"``.

    Returns
    -------
    rows : ndarray of int
    """
    weight = sample_weight * resp[:, index]
    if how == "resample" and weight.sum() > 0:
        return rng.choice(len(weight), size=len(weight), p=weight / weight.sum())
    # "hard", and an expert with no responsibility left to draw by (hard or
    # stochastic EM, a fold without its rows): its most responsible rows.
    present = sample_weight > 0  # a zero weight means the row is absent
    owned = np.flatnonzero((resp.argmax(axis=1) == index) & present)
    minimum = min(minimum, np.count_nonzero(present))
    if len(owned) >= minimum:
        return owned
    candidates = np.flatnonzero(present)
    return candidates[np.argsort(-weight[candidates], kind="stable")[:minimum]]


def with_two_classes(rows, y, weight):
    """``rows``, plus the most responsible row of every other class if they
    hold only one class of ``y``.

    An expert that owns a region of one class is what a mixture looks for,
    but many classifiers cannot be fitted on one class (Gaussian processes)
    or then predict one column only (discriminant analysis). Weighted
    experts never meet this: every row keeps a small weight.

    Parameters
    ----------
    rows : ndarray of int
        The rows :func:`fallback_rows` picked.
    y : ndarray of shape (n,)
        The class labels.
    weight : ndarray of shape (n,)
        The expert's share of each row (zero: the row is absent).

    Returns
    -------
    rows : ndarray of int
    """
    # At every M-step of the expert: one comparison, not a sort of its rows.
    label = y[rows[0]]
    if np.any(y[rows] != label):
        return rows
    others = np.flatnonzero((weight > 0) & (y != label))
    if not len(others):
        return rows  # y itself has one class among the present rows
    # The most responsible row of each other class (unique keeps the first).
    ranked = others[np.argsort(-weight[others], kind="stable")]
    _, first = np.unique(y[ranked], return_index=True)
    return np.concatenate([rows, ranked[np.sort(first)]])


def fit_expert(
    expert,
    X,
    y,
    sample_weight,
    resp,
    index,
    mode,
    how,
    seed,
    params=None,
    design=None,
    pipelines=None,
):
    """M-step for one expert: fit it to its share of each row.

    ``seed`` feeds the ``"resample"`` fallback; it is drawn before any parallel
    dispatch so that results do not depend on ``n_jobs``. ``params`` is the
    metadata routed to the expert's ``fit`` (sample-aligned values follow the
    rows the fallback picks). ``design`` is the run's
    :func:`~skmoe._fast_mstep.logistic_design` of ``X`` and ``y``, or None;
    ``pipelines`` the run's dict for :func:`~skmoe._fast_mstep.fit_pipeline`,
    or None (a fit that keeps nothing for later M-steps).
    """
    params = params or {}
    if mode == "fixed":
        return expert
    if mode == "unweighted":
        minimum = max(MIN_HARD_ROWS, getattr(expert, "n_neighbors", 0) or 0)
        rows = fallback_rows(
            resp, index, sample_weight, how, np.random.RandomState(seed), minimum
        )
        if is_classifier(expert):
            rows = with_two_classes(rows, y, sample_weight * resp[:, index])
        expert.fit(X[rows], y[rows], **_check_method_params(X, params, rows))
        return expert
    weight = sample_weight * np.maximum(resp[:, index], RESP_FLOOR)
    if mode == "weighted" and not params and supports_fast_mstep(expert):
        # Linear and logistic experts: their own objective, solved directly.
        # A lone expert is the mixture: it is fitted as it fits itself.
        return fast_mstep(
            [expert],
            X,
            y,
            weight[:, np.newaxis],
            own_first_fit=resp.shape[1] == 1,
            design=design,
        )[0]
    if (
        mode == "pipeline"
        and not params
        and resp.shape[1] > 1
        and supports_pipeline_mstep(expert)
    ):
        # Its first steps see the same unweighted rows at every M-step:
        # fitted once per run, the last step refitted on their output.
        return fit_pipeline(
            expert, X, y, weight, {} if pipelines is None else pipelines
        )
    # The fitted expert is the object itself, whatever fit returns, as in
    # scikit-learn's own meta-estimators.
    fit_weighted(expert, X, y, weight, mode, params)
    return expert


def fit_expert_named(name, n_iter, expert, *args):
    """:func:`fit_expert`, with any failure naming the expert and the iteration.

    The error keeps its type where it can be built from a message, so callers
    catching, say, ``ValueError`` still do.
    """
    with fitting(name, expert, n_iter):
        return fit_expert(expert, *args)


@contextmanager
def fitting(name, expert, n_iter):
    """Name the expert and the EM iteration in any error raised while (part
    of) it is fitted."""
    try:
        yield
    except Exception as exc:
        message = (
            f"Expert {name!r} ({type(expert).__name__}) failed to fit at EM "
            f"iteration {n_iter}: {exc}"
        )
        raise same_type_error(exc, message) from exc


def fit_expert_in_worker(openmp_threads, parent, *args):
    """:func:`fit_expert_named` with OpenMP limited to this worker's share,
    and BLAS in a worker process to the threads of the ``parent`` (see
    :func:`~skmoe._threads.blas_as_in_parent`).

    Thread workers do not inherit OpenMP limits, so without this each of
    ``n_jobs`` experts that parallelise inside (HistGradientBoosting) would
    start one OpenMP thread per core, and they would fight for the cores.
    """
    with (
        threadpool_limits(limits=openmp_threads, user_api="openmp"),
        blas_as_in_parent(parent),
    ):
        return fit_expert_named(*args)


def fit_experts(
    experts,
    names,
    X,
    y,
    sample_weight,
    resp,
    rng,
    n_iter,
    how,
    n_jobs,
    params=None,
    design=None,
    pipelines=None,
):
    """M-step of the experts: expert ``i`` refitted to ``resp[:, i]``.

    Parameters
    ----------
    experts : list of estimators
        Refitted in place (fixed experts are left alone).
    names : list of str
        Their names, for errors.
    X : ndarray or sparse matrix of shape (n, d)
        The experts' columns.
    y : ndarray of shape (n,)
    sample_weight : ndarray of shape (n,)
    resp : ndarray of shape (n, M)
    rng : numpy.random.RandomState
        Seeds of the resampling fallback are drawn from it here, before any
        dispatch, so that ``n_jobs`` never changes the result.
    n_iter : int
        The EM iteration, for errors.
    how : {"hard", "resample"}
        The fallback for experts without ``sample_weight``.
    n_jobs : int or None
        Experts fitted side by side in threads.
    params : dict or None
        Metadata routed to each expert's ``fit``, by name.
    design : LogisticDesign or None
        :func:`~skmoe._fast_mstep.logistic_design` of ``X`` and ``y``, made
        once per EM run for the logistic experts solved directly.
    pipelines : dict or None
        What :func:`~skmoe._fast_mstep.fit_pipeline` keeps for the EM run.

    Returns
    -------
    experts : list of estimators
        The same objects, fitted.
    """
    modes = [fit_mode(expert) for expert in experts]
    seeds = [
        rng.randint(np.iinfo(np.int32).max) if mode == "unweighted" else None
        for mode in modes
    ]
    params = params or {}
    # A fixed expert is never refitted: not sent to a worker (a process
    # backend would copy a prefit model there and back every iteration).
    refitted = [i for i, mode in enumerate(modes) if mode != "fixed"]
    jobs = [
        (
            names[i],
            n_iter,
            experts[i],
            X,
            y,
            sample_weight,
            resp,
            i,
            modes[i],
            how,
            seeds[i],
            params.get(names[i]),
            design,
            pipelines,
        )
        for i in refitted
    ]
    fitted = list(experts)
    for i, expert in zip(refitted, run_fit_jobs(jobs, n_jobs, n_iter), strict=True):
        fitted[i] = expert
    return fitted


def run_fit_jobs(jobs, n_jobs, n_iter):
    """Run :func:`fit_expert_named` on each job, side by side in threads with
    ``n_jobs``; return the fitted experts in the order of ``jobs``.

    Parameters
    ----------
    jobs : list of tuple
        The arguments of :func:`fit_expert_named`, one tuple per expert.
    n_jobs : int or None
        Threads; ``None`` or 1 fits one expert at a time.
    n_iter : int or str
        The EM iteration, quoted in errors.

    Returns
    -------
    experts : list of estimators
    """
    if n_jobs in (None, 1):
        return [fit_expert_named(*job) for job in jobs]
    try:
        openmp_threads = max(1, cpu_count() // effective_n_jobs(n_jobs))
        parent = parent_blas()
        return realigned(
            Parallel(n_jobs=n_jobs, prefer="threads")(
                delayed(fit_expert_in_worker)(openmp_threads, parent, *job)
                for job in jobs
            )
        )
    except Exception as exc:
        # An expert's own failure arrives named (as its message says; a
        # process backend keeps only the message); anything else broke in
        # the parallel machinery.
        said = exc.args[0] if exc.args else ""  # str() quotes a KeyError's
        if isinstance(said, str) and said.startswith("Expert "):
            raise
        raise RuntimeError(
            f"Fitting the experts in parallel (n_jobs={n_jobs}) failed "
            f"in the parallel backend at EM iteration {n_iter}: "
            f"{type(exc).__name__}: {exc}. If a dask Client or another "
            "joblib backend is in use, check that it is still running."
        ) from exc


class _Unaligned(Exception):
    """Raised by :class:`_AlignmentCheck` at the first unaligned array."""


class _AlignmentCheck(pickle.Pickler):
    """Walks an object as pickling does, stopping at an unaligned array.

    Arrays go out of band (the buffer callback drops them), so the walk
    copies no data. Functions and classes are not walked: they hold no
    arrays here, and a lambda (which cloudpickle sends to dask's workers)
    would stop the standard pickler.
    """

    def __init__(self):
        super().__init__(io.BytesIO(), protocol=5, buffer_callback=lambda _: False)

    def persistent_id(self, obj):
        if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
            return "not walked"
        return None

    def reducer_override(self, obj):
        if isinstance(obj, np.ndarray) and not obj.flags.aligned:
            raise _Unaligned
        return NotImplemented


def realigned(results):
    """``results`` of parallel calls, or a deep copy of them if one of their
    arrays is unaligned.

    dask's distributed scheduler hands back the arrays of a result from
    another process inside its message frames, at any byte offset. numpy
    reads such arrays, but compiled code that asks for aligned ones refuses
    them: a fitted ``SplineTransformer`` from a worker failed to transform
    ("Expected a 1-dim C contiguous array"). A deep copy puts every array in
    fresh memory, aligned.

    Parameters
    ----------
    results : object
        What ``Parallel`` returned.

    Returns
    -------
    results : object
        ``results`` itself when all its arrays are aligned (always, from
        threads) or when it does not pickle (then it did not cross
        processes).
    """
    try:
        _AlignmentCheck().dump(results)
    except _Unaligned:
        return deepcopy(results)
    except Exception:  # not picklable: it never left the process
        pass
    return results
