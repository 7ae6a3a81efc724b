"""Mixtures of experts on Dask collections: lazy prediction and data-parallel EM.

Two things a mixture can do with data larger than one machine:

* **Predict** block by block. As dask-ml's ``ParallelPostFit`` does, the fitted
  model becomes one key of the task graph (shipped to each worker once) and
  every block of rows is scored by the estimator's own method, so a lazy result
  equals the in-memory one block for block.
* **Fit** by EM when every M-step is a sum over rows. The responsibilities of
  a block are recomputed on the worker that holds it, from the previous
  parameters (E-step); the worker returns only small sums: the weighted normal
  equations of linear-Gaussian experts (``X^T W X``, ``X^T W y``, ``y^T W y``
  per expert), and the objective, gradient and Hessian of the gate and of
  logistic experts at the points their Newton solvers ask for. The driver adds
  the sums of all blocks and solves; the data never travel. Each EM iteration
  costs one pass for the E-step, the log-likelihood and the first Newton point
  of every solver, plus one pass per further Newton step.

Supported out of core: ``LinearRegression`` and ``Ridge`` experts (regressor),
``LogisticRegression`` experts with an L2 penalty (classifier), the default
``SoftmaxGate`` (Newton), soft EM. The result is an ordinary fitted mixture:
its experts are real fitted scikit-learn estimators with ``coef_`` and
``intercept_``.

Nothing here is imported by ``import skmoe``: the estimators' methods import
this module only when they are handed a Dask collection.
"""

import copy
import numbers
import sys
import time
import warnings
from types import SimpleNamespace

import numpy as np
from scipy import linalg
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.utils import check_random_state

from .._gating import SoftmaxGate, _hessian
from .._init import _INIT_SOFTENING, _sq_distances, weighted_kmeans
from .._math import (
    gaussian_log_prob,
    log_responsibilities,
    log_softmax,
    standard_scale,
)

# Rows drawn (in expectation) for what is decided on a sample: the k-means
# start and the cuts of re-seeded experts. With fewer rows than this every row
# is used, and the start equals the in-memory one.
SAMPLE_ROWS = 20_000

# Blocks whose sums are added in one task: a tree of fan-in 8 keeps the
# reduction shallow without gathering thousands of results in one place.
_FAN_IN = 8

# Logistic experts are solved by Newton until no gradient entry of the mean
# loss exceeds this: tighter than any scikit-learn default, so that the fit is
# the optimum the in-memory solver approaches to within its own ``tol``.
_LOGISTIC_TOL = 1e-10
_LOGISTIC_DECREMENT = 1e-13

# Methods whose result has one row per input row, and how many columns.
PREDICT_METHODS = (
    "predict",
    "predict_proba",
    "predict_log_proba",
    "gate_proba",
    "predict_expert",
    "predict_quantiles",
    "predict_interval",
    "transform",
)


def is_dask_collection(X):
    """Whether ``X`` is a Dask collection, without importing dask.

    If dask was never imported, no Dask collection can exist, so the check
    costs nothing for NumPy or pandas input.

    Parameters
    ----------
    X : object

    Returns
    -------
    is_dask : bool

    Examples
    --------
    >>> import numpy as np
    >>> from skmoe._dask import is_dask_collection
    >>> is_dask_collection(np.zeros((2, 2)))
    False
    >>> import dask.array as da
    >>> is_dask_collection(da.zeros((2, 2)))
    True
    """
    if "dask" not in sys.modules:
        return False
    if not type(X).__module__.startswith("dask"):
        return False
    import dask

    return dask.is_dask_collection(X)


# ---- input ----------------------------------------------------------------


def _is_frame(X):
    return hasattr(X, "columns") and hasattr(X, "dtypes")


def _check_frame_numeric(X):
    bad = [
        f"{column!r} ({dtype})"
        for column, dtype in zip(X.columns, X.dtypes, strict=True)
        if getattr(dtype, "kind", "O") not in "biuf"
    ]
    if bad:
        raise ValueError(
            f"X must hold numbers, but its columns {', '.join(bad)} do not. Encode "
            "them first (for example with dask_ml.preprocessing, or "
            "map_partitions over a fitted OneHotEncoder)."
        )


def _rows(X, lengths):
    """``X`` as a Dask array chunked by rows only, and its column names.

    ``lengths=True`` computes the partition lengths of a DataFrame (one pass),
    which fitting needs to align ``y`` and the weights with ``X``.
    """
    import dask.array as da

    names = None
    if _is_frame(X):
        _check_frame_numeric(X)
        columns = list(X.columns)
        if all(isinstance(c, str) for c in columns):
            names = np.asarray(columns, dtype=object)
        X = X.to_dask_array(lengths=lengths or None)
    elif hasattr(X, "to_dask_array"):  # a Series
        X = X.to_dask_array(lengths=lengths or None)
    if not isinstance(X, da.Array):
        raise TypeError(
            "X must be a Dask array or DataFrame here; got "
            f"{type(X).__module__}.{type(X).__name__}."
        )
    if X.ndim != 2:
        raise ValueError(
            f"X must be 2-D (n_samples, n_features); got a Dask array of shape "
            f"{X.shape}. Reshape a single feature with X.reshape(-1, 1)."
        )
    if len(X.chunks[1]) > 1:
        # A block must hold whole rows: every expert sees all its columns.
        X = X.rechunk({1: -1})
    return X, names


def _column(values, row_chunks, what):
    """``y``, ``sample_weight`` or an ``init_params`` array as a Dask array
    with the row chunks of ``X``."""
    import dask.array as da

    if is_dask_collection(values):
        if hasattr(values, "to_dask_array"):
            values = values.to_dask_array(lengths=True)
        if not isinstance(values, da.Array):
            raise TypeError(
                f"{what} must be a Dask array, Series or NumPy array; got "
                f"{type(values).__name__}."
            )
    else:
        values = np.asarray(values)
        values = da.from_array(values, chunks=(row_chunks,) + values.shape[1:])
    n_rows = sum(row_chunks)
    if values.shape[0] != n_rows:
        raise ValueError(
            f"{what} has {values.shape[0]} rows but X has {n_rows}; they must match."
        )
    chunks = (row_chunks,) + tuple((s,) for s in values.shape[1:])
    return values.rechunk(chunks)


# ---- lazy prediction --------------------------------------------------------


def _predict_block(block, model, method, names, kwargs):
    if names is not None:
        import pandas as pd

        block = pd.DataFrame(block, columns=names)
    result = getattr(model, method)(block, **kwargs)
    if isinstance(result, tuple):  # predict(return_std=True)
        result = np.column_stack(result)
    return np.asarray(result)


def predict_blocks(model, method, X, **kwargs):
    """A fitted mixture's ``method`` applied lazily to each block of rows.

    The model enters the task graph once (a single key), as in dask-ml's
    ``ParallelPostFit``, and each block is scored by the model's own NumPy
    method, so the result equals the in-memory one.

    Parameters
    ----------
    model : fitted MixtureOfExpertsRegressor or MixtureOfExpertsClassifier
    method : str
        One of ``predict``, ``predict_proba``, ``predict_log_proba``,
        ``gate_proba``, ``predict_expert``, ``predict_quantiles``,
        ``predict_interval``, ``transform``.
    X : dask.array.Array or dask.dataframe.DataFrame
        Rows to score; a DataFrame's partitions keep their column names.
    **kwargs
        Passed to ``method`` (``return_std``, ``top_k``, ``quantiles``...).

    Returns
    -------
    result : dask.array.Array
        Lazy; ``(n_samples,)`` or ``(n_samples, k)`` as the NumPy method
        returns. ``predict(return_std=True)`` gives a tuple of two arrays.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from skmoe import MixtureOfExpertsRegressor
    >>> from skmoe._dask import predict_blocks
    >>> X = np.linspace(-3, 3, 200).reshape(-1, 1)
    >>> y = np.abs(X[:, 0])
    >>> moe = MixtureOfExpertsRegressor(random_state=0).fit(X, y)
    >>> lazy = predict_blocks(moe, "predict", da.from_array(X, chunks=50))
    >>> lazy.numblocks
    (4,)
    >>> bool(np.allclose(lazy.compute(), moe.predict(X)))
    True
    """
    import dask

    if method not in PREDICT_METHODS:
        raise ValueError(f"'method' must be one of {PREDICT_METHODS}; got {method!r}.")
    frame = _is_frame(X)
    X, names = _rows(X, lengths=False)
    if not frame:
        names = None
    # The probe tells the output's width and dtype without touching the data.
    probe = _predict_block(
        np.zeros((1, X.shape[1]), dtype=X.dtype), model, method, names, kwargs
    )
    shared = dask.delayed(model, traverse=False)
    common = {"dtype": probe.dtype, "meta": np.empty((0,) * probe.ndim, probe.dtype)}
    if probe.ndim == 1:
        result = X.map_blocks(
            _predict_block, shared, method, names, kwargs, drop_axis=1, **common
        )
    else:
        result = X.map_blocks(
            _predict_block,
            shared,
            method,
            names,
            kwargs,
            chunks=(X.chunks[0], (probe.shape[1],)),
            **common,
        )
    if method == "predict" and kwargs.get("return_std"):
        return result[:, 0], result[:, 1]
    return result


# ---- experts that can be fitted from sums over rows -------------------------


def _logistic_alpha(expert):
    """The L2 strength (``1 / C``) of a LogisticRegression, or an error."""
    params = expert.get_params(deep=False)
    penalty = params.get("penalty", "deprecated")
    l1_ratio = params.get("l1_ratio", 0.0)
    if penalty in ("deprecated", "l2"):
        ok = l1_ratio in (0, 0.0, None) or penalty == "l2"
    else:
        ok = penalty is None
    if not ok or params.get("solver") == "liblinear":
        return None
    if params.get("class_weight") is not None or params.get("dual"):
        return None
    C = params.get("C", 1.0)
    if penalty is None or C == np.inf:
        return 0.0
    return 1.0 / C


def _expert_kind(expert, kind):
    """``"linear"``, ``"logistic"`` or None when the expert's M-step is not a
    sum over rows."""
    if kind == "regressor" and type(expert) in (LinearRegression, Ridge):
        if expert.get_params().get("positive"):
            return None
        alpha = expert.get_params().get("alpha", 0.0)
        if not isinstance(alpha, numbers.Real):
            return None
        return "linear"
    if kind == "classifier" and type(expert) is LogisticRegression:
        return "logistic" if _logistic_alpha(expert) is not None else None
    return None


def _refuse_experts(names, templates, kind):
    bad = [
        f"{name!r} ({type(expert).__name__})"
        for name, expert in zip(names, templates, strict=True)
        if _expert_kind(expert, kind) is None
    ]
    if not bad:
        return
    allowed = (
        "LinearRegression or Ridge (positive=False, scalar alpha)"
        if kind == "regressor"
        else "LogisticRegression with an L2 penalty or none (not liblinear, "
        "no class_weight)"
    )
    raise TypeError(
        f"Experts {', '.join(bad)} cannot be fitted on a Dask collection: "
        "out-of-core EM needs experts whose M-step reduces to sums over rows, "
        f"which for a {kind} means {allowed}. Instead, fit the mixture on a "
        "sample that fits in memory (for example X.sample(frac=...) or a few "
        "blocks, .compute()d) and predict on all rows: predict, predict_proba "
        "and gate_proba accept Dask collections and run block by block."
    )


def _check_options(model, n_experts):
    """Refuse the options that have no out-of-core counterpart."""
    if model.assignment != "soft":
        raise ValueError(
            f"assignment={model.assignment!r} is not supported on Dask "
            "collections: out-of-core EM is soft EM, whose M-step is a sum over "
            "rows of the posteriors. Use assignment='soft', or fit on an "
            "in-memory sample."
        )
    acceleration = getattr(model, "acceleration", None)
    if acceleration is not None:
        raise ValueError(
            f"acceleration={acceleration!r} is not supported on Dask "
            "collections: SQUAREM extrapolates the responsibilities of every "
            "row, which out-of-core EM never holds. Use acceleration=None."
        )
    if model.n_jobs not in (None, 1):
        raise ValueError(
            f"n_jobs={model.n_jobs!r} is not supported on Dask collections: the "
            "Dask cluster already parallelises every pass over the blocks. Leave "
            "n_jobs=None."
        )
    if model.balance:
        raise ValueError(
            f"balance={model.balance!r} is not supported on Dask collections: "
            "its gate objective is not convex and needs L-BFGS over the whole "
            "data. Use balance=0.0, or fit on an in-memory sample."
        )
    if n_experts > 1 and not (
        model.gate is None or isinstance(model.gate, SoftmaxGate)
    ):
        raise TypeError(
            f"gate={model.gate!r} cannot be fitted on a Dask collection: only "
            "the default SoftmaxGate has a Newton step made of sums over rows. "
            "Use gate=None."
        )
    if isinstance(model.gate, SoftmaxGate) and model.gate.solver == "lbfgs":
        raise ValueError(
            "gate__solver='lbfgs' is not supported on Dask collections: the "
            "gate is fitted by Newton steps from block sums. Use 'auto' or "
            "'newton'."
        )
    if model.warm_start and hasattr(model, "converged_"):
        raise ValueError(
            "warm_start=True on a fitted mixture is not supported on Dask "
            "collections: each out-of-core fit starts afresh. Set "
            "warm_start=False."
        )


# ---- one pass over the blocks ----------------------------------------------


def _combine(*parts):
    """Add the sums of several blocks; concatenate their samples (in order)."""
    out = {}
    for key in parts[0]:
        values = [part[key] for part in parts]
        if key.startswith("sample"):
            out[key] = np.concatenate(values)
        elif key == "classes":
            out[key] = np.unique(np.concatenate(values))
        else:
            total = values[0]
            for value in values[1:]:
                total = total + value
            out[key] = total
    return out


class _Data:
    """The training data as lists of delayed row blocks (X, y, weights, init)."""

    def __init__(self, X, y, sample_weight, init):
        self.X, self.y, self.sample_weight, self.init = X, y, sample_weight, init
        self.n_samples = X.shape[0]

    def blocks(self):
        if not hasattr(self, "_blocks"):  # built once: every pass reuses them
            self._blocks = self._split_blocks()
        return self._blocks

    def _split_blocks(self):
        columns = [self.X, self.y, self.sample_weight, self.init]
        delayed = [None if c is None else list(c.to_delayed().ravel()) for c in columns]
        n_blocks = len(delayed[0])
        return [[None if d is None else d[b] for d in delayed] for b in range(n_blocks)]

    def run(self, plan):
        """Evaluate ``plan`` on every block and add the results."""
        import dask

        shared = dask.delayed(plan, traverse=False)
        parts = [
            dask.delayed(_block_pass)(shared, index, *blocks)
            for index, blocks in enumerate(self.blocks())
        ]
        while len(parts) > 1:
            parts = [
                dask.delayed(_combine)(*parts[k : k + _FAN_IN])
                for k in range(0, len(parts), _FAN_IN)
            ]
        (total,) = dask.compute(parts[0])
        return total


def _block_pass(plan, index, X, y, sample_weight, init):
    return plan(index, X, y, sample_weight, init)


def _sample_mask(index, n_rows, fraction):
    """Rows of block ``index`` drawn for a sample; fixed, so reruns agree."""
    if fraction >= 1:
        return np.ones(n_rows, dtype=bool)
    return np.random.RandomState([7, index]).uniform(size=n_rows) < fraction


class _Summary:
    """First pass: row count, weight, weighted column sums, non-finite values,
    and the labels (classifier) or weighted target sum (regressor)."""

    def __init__(self, kind):
        self.kind = kind

    def __call__(self, index, X, y, w, init):
        X = np.asarray(X, dtype=np.float64)
        w = np.ones(len(X)) if w is None else np.asarray(w, dtype=np.float64)
        out = {
            "n": np.array(len(X)),
            "weight": w.sum(),
            "negative_weight": np.count_nonzero(w < 0),
            "nonfinite_X": np.count_nonzero(~np.isfinite(X)),
            "nonfinite_w": np.count_nonzero(~np.isfinite(w)),
            "sum_X": w @ X,
        }
        if self.kind == "regressor":
            y = np.asarray(y, dtype=np.float64)
            out["nonfinite_y"] = np.count_nonzero(~np.isfinite(y))
            out["sum_y"] = w @ y
        else:
            out["classes"] = np.unique(np.asarray(y))
        return out


class _Spread:
    """Second pass: weighted sums of squares about the means, the class
    masses, and the rows sampled for the k-means start."""

    def __init__(self, kind, mean_X, mean_y, classes, sample_columns, fraction):
        self.kind, self.mean_X, self.mean_y = kind, mean_X, mean_y
        self.classes, self.sample_columns, self.fraction = (
            classes,
            sample_columns,
            fraction,
        )

    def __call__(self, index, X, y, w, init):
        X = np.asarray(X, dtype=np.float64)
        w = np.ones(len(X)) if w is None else np.asarray(w, dtype=np.float64)
        out = {"sq_X": w @ (X - self.mean_X) ** 2}
        if self.kind == "regressor":
            y = np.asarray(y, dtype=np.float64)
            out["sq_y"] = w @ (y - self.mean_y) ** 2
        else:
            y_index = np.searchsorted(self.classes, np.asarray(y))
            out["class_mass"] = np.bincount(
                y_index, weights=w, minlength=len(self.classes)
            )
        if self.sample_columns is not None:
            rows = _sample_mask(index, len(X), self.fraction)
            out["sample_X"] = X[rows][:, self.sample_columns]
            out["sample_w"] = w[rows]
            out["sample_y"] = np.asarray(y)[rows]
        return out


# ---- the model's state during EM --------------------------------------------


class _Params:
    """What the E-step of a block needs: gate, experts, noise, columns."""

    def __init__(self, kind, experts, gate_coef, gate_intercept, noise_var, classes):
        self.kind, self.experts = kind, experts
        self.gate_coef, self.gate_intercept = gate_coef, gate_intercept
        self.noise_var, self.classes = noise_var, classes

    def e_step(self, Xe, Xg, y):
        """``(log_resp, log_norm)`` of a block, as the in-memory E-step."""
        n = len(Xe)
        if self.gate_coef is None:
            log_gate = np.zeros((n, 1))
        else:
            log_gate = log_softmax(Xg @ self.gate_coef.T + self.gate_intercept)
        if self.kind == "regressor":
            means = np.column_stack([e.predict(Xe) for e in self.experts])
            log_prob = gaussian_log_prob(y, means, self.noise_var)
        else:
            rows = np.arange(n)
            proba = np.column_stack(
                [e.predict_proba(Xe)[rows, y] for e in self.experts]
            )
            log_prob = np.log(np.maximum(proba, _proba_floor()))
        return log_responsibilities(log_gate, log_prob)


def _proba_floor():
    try:
        from .._likelihood import PROBA_FLOOR
    except ImportError:  # before the likelihood module existed
        from .._experts import PROBA_FLOOR
    return PROBA_FLOOR


def _resp_floor():
    from .._experts import RESP_FLOOR

    return RESP_FLOOR


class _Plan:
    """What one EM pass computes on a block.

    ``source`` says where the block's responsibilities come from:
    ``("array",)`` the ``init_params`` block, ``("random", W)`` a random gate,
    ``("kmeans", centres, y_mean, y_scale, y_factor)`` the nearest k-means
    centre, ``("estep", params, reseed)`` the E-step of ``params``, with
    ``reseed = (dead, cuts)`` handing dead experts the rows between cuts.
    ``points`` holds the Newton points to evaluate: ``"gate"`` and
    ``"expert<i>"`` for logistic experts; ``linear`` lists the experts whose
    normal equations to sum; ``sample`` asks for a sample of log-likelihoods.
    """

    def __init__(self, ctx, source, points, linear, sample=False):
        self.ctx, self.source, self.points = ctx, source, points
        self.linear, self.sample = linear, sample

    def resp(self, Xe, Xg, y, init):
        """Responsibilities of a block, and the E-step's sums if any."""
        ctx, source = self.ctx, self.source
        sums = {}
        if source[0] == "ones":
            return np.ones((len(Xe), 1)), sums, None
        if source[0] == "array":
            resp = np.asarray(init, dtype=np.float64)
            row_sums = resp.sum(axis=1, keepdims=True)
            if (
                not np.all(np.isfinite(resp))
                or np.any(resp < 0)
                or np.any(row_sums <= 0)
            ):
                raise ValueError(
                    "'init_params' as an array must hold finite, non-negative "
                    "responsibilities with a positive sum in every row."
                )
            return resp / row_sums, sums, None
        if source[0] == "random":
            W = source[1]
            Z = (Xg - ctx.gate_mean) / ctx.gate_scale
            return np.exp(log_softmax(Z @ W[1:] + W[0])), sums, None
        if source[0] == "kmeans":
            _, centres, y_mean, y_scale, y_factor = source
            Z = (Xg - ctx.gate_mean) / ctx.gate_scale
            if y_mean is not None:
                target = (ctx.target_features(y) - y_mean) / y_scale * y_factor
                Z = np.hstack([Z, target])
            d2 = _sq_distances(Z, np.where(np.isfinite(centres), centres, 0.0))
            d2[:, ~np.all(np.isfinite(centres), axis=1)] = np.inf
            labels = np.argmin(d2, axis=1)
            n_experts = len(centres)
            resp = np.full((len(Z), n_experts), _INIT_SOFTENING / n_experts)
            resp[np.arange(len(Z)), labels] += 1 - _INIT_SOFTENING
            return resp, sums, None
        _, params, reseed = source
        log_resp, log_norm = params.e_step(Xe, Xg, y)
        resp = np.exp(log_resp)
        if reseed is not None:
            dead, cuts = reseed
            n_experts = resp.shape[1]
            for k, i in enumerate(dead):
                rows = (log_norm > cuts[k]) & (log_norm <= cuts[k + 1])
                resp[rows] = _INIT_SOFTENING / n_experts
                resp[rows, i] += 1 - _INIT_SOFTENING
        return resp, sums, log_norm

    def __call__(self, index, X, y, w, init):
        ctx = self.ctx
        X = np.asarray(X, dtype=np.float64)
        w = np.ones(len(X)) if w is None else np.asarray(w, dtype=np.float64)
        Xe, Xg = X[:, ctx.expert_columns], X[:, ctx.gate_columns]
        y = ctx.encode(y)
        resp, out, log_norm = self.resp(Xe, Xg, y, init)
        if self.source[0] == "estep" and self.source[2] is None:
            # The E-step of the last M-step's parameters: its log-likelihood
            # and the experts' shares (before any re-seeding changes them).
            out["ll"] = w @ log_norm
            out["expert_weight"] = w @ resp
        if self.sample:
            rows = _sample_mask(index, len(X), ctx.sample_fraction)
            out["sample_log_norm"] = log_norm[rows]
            out["sample_w"] = w[rows]
        if self.points or self.linear:
            out["mass"] = w @ np.maximum(resp, _resp_floor())
        if self.linear:
            out.update(self._normal_equations(Xe, y, w, resp))
        for key, point in self.points.items():
            if key == "gate":
                Z = np.hstack(
                    [np.ones((len(Xg), 1)), (Xg - ctx.gate_mean) / ctx.gate_scale]
                )
                loss, grad, hess = _softmax_stats(point, Z, resp, w)
            else:
                i = int(key[len("expert") :])
                v = w * np.maximum(resp[:, i], _resp_floor())
                loss, grad, hess = ctx.logistic[i].block_stats(point, Xe, y, v)
            out[f"{key}:loss"] = np.asarray(loss)
            out[f"{key}:grad"] = grad
            out[f"{key}:hess"] = hess
        return out

    def _normal_equations(self, Xe, y, w, resp):
        """Per linear expert ``i``: ``Z^T V_i Z`` and ``Z^T V_i y`` with the
        experts' weights ``V = w * max(resp, floor)``, and the same sums with
        the noise weights ``U = w * resp``, plus ``y^T U_i y``.

        ``Z = [1, Xe - shift]`` and ``y - shift_y``: centring on the global
        means keeps the sums from cancelling when the data sit far from 0.
        """
        ctx = self.ctx
        Z = np.hstack([np.ones((len(Xe), 1)), Xe - ctx.shift_X])
        yc = y - ctx.shift_y
        floor = _resp_floor()
        out = {}
        for i in self.linear:
            u = w * resp[:, i]
            v = w * np.maximum(resp[:, i], floor)
            A = Z.T @ (Z * v[:, np.newaxis])
            b = Z.T @ (v * yc)
            # U differs from V only on rows whose responsibility underflowed.
            low = np.flatnonzero(resp[:, i] < floor)
            Zl, dl = Z[low], (v - u)[low]
            out[f"lin{i}:A"] = A
            out[f"lin{i}:b"] = b
            out[f"lin{i}:AU"] = A - Zl.T @ (Zl * dl[:, np.newaxis])
            out[f"lin{i}:bU"] = b - Zl.T @ (dl * yc[low])
            out[f"lin{i}:yyU"] = np.asarray(u @ yc**2)
            out[f"lin{i}:massU"] = np.asarray(u.sum())
        return out


def _softmax_stats(W, Z, targets, weight):
    """A block's share of the soft-target cross-entropy (unpenalised), its
    gradient and Hessian: the sums of ``skmoe._gating._objective`` and
    ``_hessian`` over the block's rows, with plain products in place of
    their three-operand einsum, the bulk of a pass's time otherwise."""
    log_proba = log_softmax(Z @ W)
    proba = np.exp(log_proba)
    loss = -(weight @ (targets * log_proba).sum(axis=1))
    grad = Z.T @ (weight[:, np.newaxis] * (proba - targets))
    return loss, grad, _hessian(Z, proba, weight, 0.0)


class _Context:
    """What every pass shares: columns, standardisation, shifts, targets."""

    def __init__(self, kind, expert_columns, gate_columns, classes):
        self.kind = kind
        self.expert_columns, self.gate_columns = expert_columns, gate_columns
        self.classes = classes
        self.logistic = {}
        self.sample_fraction = 1.0

    def encode(self, y):
        """The target as the likelihood reads it: floats, or class indices."""
        if self.kind == "regressor":
            return np.asarray(y, dtype=np.float64)
        return np.searchsorted(self.classes, np.asarray(y))

    def target_features(self, y):
        if self.kind == "regressor":
            return y[:, np.newaxis]
        return np.eye(len(self.classes))[y]


# ---- M-step solvers ------------------------------------------------------------


def _newton(W, alpha, penalised, max_iter, tol, decrement=None):
    """Damped Newton on a loss given by sums, as a generator.

    It yields the points where it needs the loss, gradient and Hessian (of the
    mean loss, unpenalised) and receives them; it returns ``(W, n_iter)``. The
    steps, line search and stopping rule are those of the gate's in-memory
    Newton (``skmoe._gating._fit_newton``), so the same sums give the same
    iterates. ``penalised`` marks the entries of ``W`` under the L2 penalty
    ``alpha / 2 * ||W[penalised]||^2``.

    With ``decrement``, it also stops once the Newton decrement ``g^T H^-1 g``
    falls below ``decrement * |loss|``, after taking that last full step: in
    the quadratic regime the step is exact to far below any tolerance, while
    a line search could no longer see the loss fall through its rounding and
    would spend a pass on each of ~35 halvings.
    """
    mask = penalised.ravel()

    def penalise(stats, W):
        loss, grad, hess = stats
        w = W.ravel() * mask
        loss = loss + 0.5 * alpha * (w @ w)
        grad = grad + alpha * w.reshape(W.shape)
        hess = hess.copy()
        hess[np.diag_indices_from(hess)] += alpha * mask
        return loss, grad, hess

    loss, grad, hess = penalise((yield W), W)
    for n_iter in range(1, max_iter + 1):
        if np.max(np.abs(grad)) <= tol:
            return W, n_iter - 1
        hess[np.diag_indices_from(hess)] += 1e-12 * max(np.trace(hess) / len(hess), 1.0)
        try:
            step = linalg.solve(hess, grad.ravel(), assume_a="pos").reshape(W.shape)
        except (linalg.LinAlgError, ValueError):
            step = np.linalg.lstsq(hess, grad.ravel(), rcond=None)[0].reshape(W.shape)
        slope = np.vdot(grad, step)
        if decrement is not None and slope <= decrement * max(abs(loss), 1.0):
            return W - step, n_iter
        t = 1.0
        while True:
            W_new = W - t * step
            new = penalise((yield W_new), W_new)
            if new[0] <= loss - 1e-4 * t * slope or t < 1e-10:
                break
            t *= 0.5
        if t < 1e-10 and new[0] >= loss:
            return W, n_iter
        W, (loss, grad, hess) = W_new, new
    return W, max_iter


class _Logistic:
    """A LogisticRegression expert's loss from block sums: binomial with one
    logit for two classes, multinomial (the gate's softmax loss on one-hot
    targets) for more, as scikit-learn parameterises them."""

    def __init__(self, expert, n_classes):
        self.fit_intercept = expert.fit_intercept
        self.binary = n_classes == 2
        self.n_classes = n_classes
        self.alpha = _logistic_alpha(expert)
        self.max_iter = max(expert.max_iter, 100)

    def design(self, Xe):
        if self.fit_intercept:
            return np.hstack([np.ones((len(Xe), 1)), Xe])
        return Xe

    def start(self, n_features):
        q = n_features + self.fit_intercept
        return np.zeros(q) if self.binary else np.zeros((q, self.n_classes))

    def penalised(self, W):
        mask = np.ones(W.shape, dtype=bool)
        if self.fit_intercept:
            mask[0] = False
        return mask

    def block_stats(self, W, Xe, y_index, v):
        Z = self.design(Xe)
        if self.binary:
            eta = Z @ W
            target = (y_index == 1).astype(np.float64)
            # log(1 + exp(eta)) - y * eta, stable for large |eta|.
            loss = v @ (np.logaddexp(0.0, eta) - target * eta)
            p = np.exp(-np.logaddexp(0.0, -eta))
            grad = Z.T @ (v * (p - target))
            hess = Z.T @ (Z * (v * p * (1 - p))[:, np.newaxis])
            return loss, grad, hess
        targets = np.eye(self.n_classes)[y_index]
        return _softmax_stats(W, Z, targets, v)

    def set_fitted(self, expert, W, n_iter, classes, n_features):
        if not self.binary and self.fit_intercept:
            # Softmax ignores a constant added to all intercepts; scikit-learn
            # reports the symmetric (zero-sum) representative.
            W = W.copy()
            W[0] -= W[0].mean()
        coef = W[int(self.fit_intercept) :]
        if self.binary:
            expert.coef_ = coef[np.newaxis, :]
            expert.intercept_ = np.array([W[0] if self.fit_intercept else 0.0])
        else:
            expert.coef_ = np.ascontiguousarray(coef.T)
            expert.intercept_ = (
                W[0].copy() if self.fit_intercept else np.zeros(self.n_classes)
            )
        expert.classes_ = classes
        expert.n_iter_ = np.array([n_iter], dtype=np.int32)
        expert.n_features_in_ = n_features


def _solve_linear(expert, sums, i, shift_X, shift_y):
    """Weighted least squares (Ridge: plus ``alpha * ||coef||^2``) from the
    block sums, in the coordinates scikit-learn uses: centred on the expert's
    weighted means when it fits an intercept, raw otherwise."""
    A, b = sums[f"lin{i}:A"], sums[f"lin{i}:b"]
    alpha = float(expert.get_params().get("alpha", 0.0))
    d = len(A) - 1
    if expert.fit_intercept:
        mass = A[0, 0]
        mean_x, mean_y = A[0, 1:] / mass, b[0] / mass
        Sxx = A[1:, 1:] - mass * np.outer(mean_x, mean_x)
        Sxy = b[1:] - mass * mean_x * mean_y
    else:
        # From sums about the shift back to raw sums: [1, x] = [1, x - s] T.
        T = np.eye(d + 1)
        T[0, 1:] = shift_X
        raw_A = T.T @ A @ T
        raw_b = T.T @ (b + shift_y * A[:, 0])
        Sxx, Sxy = raw_A[1:, 1:], raw_b[1:]
    system = Sxx + alpha * np.eye(d)
    try:
        coef = linalg.solve(system, Sxy, assume_a="pos")
    except (linalg.LinAlgError, ValueError):
        coef = linalg.lstsq(system, Sxy)[0]
    if expert.fit_intercept:
        intercept = shift_y + mean_y - mean_x @ coef - shift_X @ coef
    else:
        intercept = 0.0
    expert.coef_ = coef
    expert.intercept_ = float(intercept)
    expert.n_features_in_ = d
    if isinstance(expert, LinearRegression):
        eig = np.clip(linalg.eigvalsh(Sxx), 0, None)[::-1]
        expert.singular_ = np.sqrt(eig)
        expert.rank_ = int(np.sum(eig > eig[0] * d * np.finfo(float).eps))
    else:
        expert.n_iter_ = None
        expert.solver_ = "cholesky"
    # Coefficients in the coordinates of the noise sums: y - shift_y is
    # predicted by beta @ [1, x - shift_X].
    return np.concatenate([[intercept + shift_X @ coef - shift_y], coef])


def _noise_var(sums, i, beta, floor):
    """The noise M-step from sums: ``sum_t u_t (y_t - z_t beta)^2 / sum_t u_t``,
    expanded, at least ``floor`` (as ``skmoe._math.noise_variances``)."""
    AU, bU = sums[f"lin{i}:AU"], sums[f"lin{i}:bU"]
    yy, mass = float(sums[f"lin{i}:yyU"]), float(sums[f"lin{i}:massU"])
    rss = max(yy - 2 * beta @ bU + beta @ AU @ beta, 0.0)
    return max(rss / mass if mass > 0 else floor, floor)


# ---- EM -------------------------------------------------------------------------


class _EM:
    """Out-of-core EM for one mixture on one data set."""

    def __init__(self, model, data, ctx, names, templates, total, n_features):
        self.model, self.data, self.ctx = model, data, ctx
        self.names, self.templates = names, templates
        self.total, self.n_features = total, n_features
        self.kind = model._kind
        self.n_expert_features = len(ctx.expert_columns)

    # -- the start --

    def initial_source(self, rng):
        ctx = self.ctx
        n_experts = len(self.templates)
        init = self.init
        if not isinstance(init, str):
            return ("array",)
        if n_experts == 1:
            return ("ones",)
        if init == "random":
            W = rng.standard_normal((len(ctx.gate_columns) + 1, n_experts))
            return ("random", W)
        # k-means on the sampled rows (all of them when there are few), then
        # every row to its nearest centre.
        sample = self.sample
        Z = (sample["X"] - ctx.gate_mean) / ctx.gate_scale
        y_mean = y_scale = y_factor = None
        if init == "kmeans_xy":
            target = ctx.target_features(ctx.encode(sample["y"]))
            y_mean, y_scale = ctx.target_mean, ctx.target_scale
            y_factor = np.sqrt(Z.shape[1] / target.shape[1])
            Z = np.hstack([Z, (target - y_mean) / y_scale * y_factor])
        labels = weighted_kmeans(Z, sample["w"], n_experts, rng)
        centres = np.zeros((n_experts, Z.shape[1]))
        for k in range(n_experts):
            mine = labels == k
            mass = sample["w"][mine].sum()
            if mass > 0:
                centres[k] = sample["w"][mine] @ Z[mine] / mass
            else:
                centres[k] = np.inf  # no row is nearest to it
        return ("kmeans", centres, y_mean, y_scale, y_factor)

    # -- one start --

    def run(self, rng, index=0):
        from .._estimators import seeded_clone

        model = self.model
        n_experts = len(self.templates)
        _progress(model, "_print_start", index)
        started = time.perf_counter()
        source = self.initial_source(rng)
        experts = [seeded_clone(t, rng) for t in self.templates]
        if n_experts == 1:
            gate = None
        else:
            gate = SoftmaxGate() if model.gate is None else clone(model.gate)
            gate.set_params(warm_start=True)
        self.experts, self.gate, self.expert_names = experts, gate, list(self.names)
        self.gate_W = None
        self.reseeds = {}
        self.logistic_W = {}
        curve, ll, converged = [], -np.inf, False
        stats = self.pass_for_m_step(source)
        for n_iter in range(1, model.max_iter + 1):
            previous = ll
            self.m_step(source, stats)
            params = self.params()
            source = ("estep", params, None)
            stats = self.pass_for_m_step(source)
            ll = float(stats["ll"] / self.total)
            if not np.isfinite(ll):
                raise ValueError(
                    f"The log-likelihood became {ll} at iteration {n_iter}: an "
                    "expert's likelihood is not finite."
                )
            curve.append(ll)
            seconds = time.perf_counter() - started
            _progress(model, "_print_iter", n_iter, ll, ll - previous, seconds)
            self.n_iter = n_iter
            self.expert_weights = stats["expert_weight"] / self.total
            if len(self.experts) == 1:
                converged = True
                break
            revived, source = self.revive(params, n_iter)
            if revived:
                stats = self.pass_for_m_step(source)
            elif abs(ll - previous) < model.tol:
                converged = True
                break
        _progress(model, "_print_end", converged, ll)
        return ll, self.result(), curve, converged

    def params(self):
        if self.gate is None:
            coef = intercept = None
        else:
            coef, intercept = self.gate.coef_, self.gate.intercept_
        noise = getattr(self, "noise_var", None)
        # A snapshot: the next M-step refits the experts in place, while its
        # Newton passes still need the E-step of these parameters.
        experts = copy.deepcopy(self.experts)
        return _Params(self.kind, experts, coef, intercept, noise, self.ctx.classes)

    def pass_for_m_step(self, source, sample=False):
        """The pass at the start of an M-step: responsibilities from
        ``source``, the linear experts' sums, and the first Newton point of
        the gate and of each logistic expert (their warm starts)."""
        points = {}
        if self.gate is not None:
            q = len(self.ctx.gate_columns) + 1
            W = self.gate_W
            if W is None or W.shape != (q, len(self.experts)):
                W = np.zeros((q, len(self.experts)))
            points["gate"] = W
        linear = []
        for i, expert in enumerate(self.experts):
            if _expert_kind(expert, self.kind) == "linear":
                linear.append(i)
            else:
                W = self.logistic_W.get(self.expert_names[i])
                if W is None:
                    W = self.ctx.logistic[i].start(self.n_expert_features)
                points[f"expert{i}"] = W
        self._m_source, self._m_points = source, points
        return self.data.run(_Plan(self.ctx, source, points, linear, sample))

    def m_step(self, source, stats):
        """Refit experts, noise and gate to the responsibilities of ``source``;
        ``stats`` is the pass that began with their first Newton points."""
        ctx = self.ctx
        mass = stats["mass"]
        # Linear experts: one solve each; then their noise variance.
        noise = []
        for i, expert in enumerate(self.experts):
            if _expert_kind(expert, self.kind) == "linear":
                beta = _solve_linear(expert, stats, i, ctx.shift_X, ctx.shift_y)
                noise.append(_noise_var(stats, i, beta, ctx.var_floor))
        if self.kind == "regressor":
            self.noise_var = np.array(noise)
        # Newton solvers, advanced in lockstep: one pass serves them all.
        solvers, points = {}, {}
        if self.gate is not None:
            gate = self.gate
            q = len(ctx.gate_columns) + 1
            penalised = np.ones((q, len(self.experts)), dtype=bool)
            penalised[0] = False
            solvers["gate"] = (
                _newton(
                    self._m_points["gate"],
                    gate.alpha / self.total,
                    penalised,
                    gate.max_iter,
                    gate.tol,
                ),
                self.total,
            )
        for i, _ in enumerate(self.experts):
            key = f"expert{i}"
            if key in self._m_points:
                logistic = ctx.logistic[i]
                W0 = self._m_points[key]
                solvers[key] = (
                    _newton(
                        W0,
                        logistic.alpha / mass[i],
                        logistic.penalised(W0),
                        logistic.max_iter,
                        _LOGISTIC_TOL,
                        decrement=_LOGISTIC_DECREMENT,
                    ),
                    mass[i],
                )
        results = {}
        for solver, _ in solvers.values():
            next(solver)
        current = stats
        while solvers:
            for key in list(solvers):
                solver, scale = solvers[key]
                sums = (
                    float(current[f"{key}:loss"]) / scale,
                    current[f"{key}:grad"] / scale,
                    current[f"{key}:hess"] / scale,
                )
                try:
                    points[key] = solver.send(sums)
                except StopIteration as done:
                    results[key] = done.value
                    del solvers[key]
                    points.pop(key, None)
            if solvers:
                current = self.data.run(_Plan(ctx, source, dict(points), [], False))
        for key, (W, n_iter) in results.items():
            if key == "gate":
                self._set_gate(W, n_iter)
            else:
                i = int(key[len("expert") :])
                self.logistic_W[self.expert_names[i]] = W
                ctx.logistic[i].set_fitted(
                    self.experts[i], W, n_iter, ctx.classes, self.n_expert_features
                )

    def _set_gate(self, W, n_iter):
        ctx, gate = self.ctx, self.gate
        W = W.copy()
        W[0] -= W[0].mean()
        self.gate_W = W
        gate._W = W
        gate.classes_ = np.arange(W.shape[1])
        gate.coef_ = (W[1:] / ctx.gate_scale[:, np.newaxis]).T
        gate.intercept_ = W[0] - gate.coef_ @ ctx.gate_mean
        gate.n_iter_ = n_iter
        gate.n_features_in_ = len(ctx.gate_columns)

    # -- dead experts --

    def revive(self, params, n_iter):
        """Prune or re-seed dead experts as the in-memory fit does; re-seeding
        cuts the rows at quantiles of a sample of their log-likelihoods."""
        from ..exceptions import DeadExpertWarning

        model = self.model
        dead = np.flatnonzero(self.expert_weights < model.min_expert_weight)
        if model.dead_expert == "reseed":
            dead = [i for i in dead if self.reseeds.get(self.expert_names[i], 0) < 2]
        if len(dead) == 0 or model.dead_expert == "keep":
            return False, ("estep", params, None)
        names = [self.expert_names[i] for i in dead]
        shares = ", ".join(f"{self.expert_weights[i]:.2g}" for i in dead)
        if model.dead_expert == "prune":
            keep = np.ones(len(self.experts), dtype=bool)
            keep[dead] = False
            self._prune(keep)
            action = f"pruned; {len(self.experts)} experts remain"
            source = ("estep", self.params(), None)
        else:
            for name in names:
                self.reseeds[name] = self.reseeds.get(name, 0) + 1
            sample = self.data.run(
                _Plan(self.ctx, ("estep", params, None), {}, [], sample=True)
            )
            cuts = _weighted_cuts(
                sample["sample_log_norm"],
                sample["sample_w"],
                len(dead),
                len(params.experts),
            )
            source = ("estep", params, (list(dead), cuts))
            action = "re-seeded on the rows the mixture explains worst"
        warnings.warn(
            f"Experts {names} received less than min_expert_weight="
            f"{model.min_expert_weight} of the responsibility ({shares}) at "
            f"iteration {n_iter} and were {action}.",
            DeadExpertWarning,
            stacklevel=6,
        )
        return True, source

    def _prune(self, keep):
        index = np.flatnonzero(keep)
        self.experts = [self.experts[i] for i in index]
        self.expert_names = [self.expert_names[i] for i in index]
        self.expert_weights = self.expert_weights[index]
        self.ctx.logistic = {
            new: self.ctx.logistic[old]
            for new, old in enumerate(index)
            if old in self.ctx.logistic
        }
        if self.kind == "regressor":
            self.noise_var = self.noise_var[index]
        if len(self.experts) == 1:
            self.gate = None
        else:
            self.gate_W = self.gate_W[:, index]
            self.gate.take_classes(index)

    def result(self):
        return {
            "experts": self.experts,
            "names": self.expert_names,
            "gate": self.gate,
            "noise_var": getattr(self, "noise_var", None),
            "n_iter": self.n_iter,
            "expert_weights": self.expert_weights,
            "reseeds": self.reseeds,
        }


def _progress(model, printer, *args):
    """The mixture's own progress line (``verbose``), if it prints one."""
    method = getattr(model, printer, None)
    if method is not None:
        method(*args)


def _weighted_cuts(log_norm, weight, n_dead, n_experts):
    """Cut values of :func:`skmoe._init.reseed`, on a sample of rows."""
    order = np.argsort(log_norm, kind="stable")
    position = np.cumsum(weight[order]) / weight.sum()
    cuts = [-np.inf]
    for k in range(1, n_dead + 1):
        at = min(np.searchsorted(position, k / n_experts), len(order) - 1)
        cuts.append(log_norm[order[at]])
    return cuts


# ---- fit ---------------------------------------------------------------------------


def fit_dask(model, X, y, sample_weight=None, init_resp=None, **fit_params):
    """Fit a mixture of experts by data-parallel EM on Dask collections.

    Every pass sends the current parameters to the workers once; each worker
    computes its blocks' responsibilities and returns small sums (normal
    equations of the linear experts, gradients and Hessians of the gate and
    the logistic experts, the log-likelihood), which the driver adds and
    solves. The fitted mixture is an ordinary one, equal to the in-memory fit
    on the same data and start.

    Parameters
    ----------
    model : MixtureOfExpertsRegressor or MixtureOfExpertsClassifier
        Unfitted or fitted (it is refitted); its parameters are used as they
        are. Experts must be LinearRegression / Ridge (regressor) or L2
        LogisticRegression (classifier), the gate the default SoftmaxGate and
        ``assignment="soft"``; anything else raises a TypeError or ValueError
        that says what to do instead.
    X : dask.array.Array or dask.dataframe.DataFrame of shape (n_samples, n_features)
        Training inputs, partitioned by rows.
    y : dask.array.Array, dask.dataframe.Series or ndarray of shape (n_samples,)
        Targets, aligned with the rows of ``X``.
    sample_weight : Dask or NumPy array of shape (n_samples,), default=None
        Row weights.
    init_resp : Dask or NumPy array of shape (n_samples, n_experts), default=None
        Responsibilities to start EM from, instead of ``init_params``; rows
        are normalised to sum to 1.
    **fit_params : dict
        Metadata for the experts; not supported out of core (a ValueError).

    Returns
    -------
    model : the fitted mixture

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from skmoe import MixtureOfExpertsRegressor
    >>> from skmoe._dask import fit_dask
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-3, 3, size=(400, 1))
    >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
    >>> y += 0.1 * rng.standard_normal(400)
    >>> moe = MixtureOfExpertsRegressor(random_state=0)
    >>> moe = fit_dask(moe, da.from_array(X, chunks=100), da.from_array(y, chunks=100))
    >>> sorted(round(float(e.coef_[0]), 1) for e in moe.experts_)
    [-1.0, 2.0]
    """
    if fit_params:
        raise ValueError(
            f"Fit parameters {sorted(fit_params)} cannot be routed to the experts "
            "on Dask collections: out-of-core EM fits them from sums over rows. "
            "Fit on an in-memory sample to use them."
        )
    before = dict(model.__dict__)
    try:
        return _fit(model, X, y, sample_weight, init_resp)
    except BaseException:
        model.__dict__.clear()
        model.__dict__.update(before)
        raise


def _fit(model, X, y, sample_weight, init_resp):
    from .._validation import feature_columns

    kind = model._kind
    model._validate_params()  # types and ranges, as fit checks them
    names, templates, from_template = model._expert_specs()
    _refuse_experts(names, templates, kind)
    n_experts = len(templates)
    _check_options(model, n_experts)

    meta = X._meta if _is_frame(X) else None
    X, feature_names = _rows(X, lengths=True)
    row_chunks = X.chunks[0]
    y = _column(y, row_chunks, "y")
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (n_samples,); got shape {y.shape}.")
    w = (
        None
        if sample_weight is None
        else _column(sample_weight, row_chunks, "sample_weight")
    )
    init = model.init_params if init_resp is None else init_resp
    init_blocks = None
    if init_resp is not None and not isinstance(model.init_params, str):
        raise ValueError(
            "Pass the starting responsibilities once: as 'init_resp', not also "
            "as 'init_params'."
        )
    if not isinstance(init, str):
        if not (hasattr(init, "shape") and len(init.shape) == 2):
            init = np.asarray(init, dtype=np.float64)
        if init.shape != (X.shape[0], n_experts):
            raise ValueError(
                "'init_params' as an array must have shape (n_samples, n_experts) "
                f"= ({X.shape[0]}, {n_experts}); got {tuple(init.shape)}."
            )
        init_blocks = _column(init, row_chunks, "init_params")
    data = _Data(X, y, w, init_blocks)
    n_samples, n_features = X.shape

    # Pass 1: sizes, weights, means, non-finite values, labels.
    summary = data.run(_Summary(kind))
    if summary["nonfinite_X"]:
        raise ValueError(
            f"X contains NaN or infinity ({summary['nonfinite_X']} values); "
            "impute or drop them first."
        )
    if kind == "regressor" and summary["nonfinite_y"]:
        raise ValueError("y contains NaN or infinity.")
    if summary["nonfinite_w"] or summary["negative_weight"]:
        raise ValueError("sample_weight must be finite and non-negative.")
    total = float(summary["weight"])
    if not total > 0:
        raise ValueError("sample_weight must not be all zero.")
    if n_samples < 2:
        raise ValueError(f"X has {n_samples} sample; at least 2 are required.")

    model.n_features_in_ = n_features
    if feature_names is not None:
        model.feature_names_in_ = feature_names
    elif hasattr(model, "feature_names_in_"):
        del model.feature_names_in_
    for attr, name in (
        ("gate_features_", "gate_features"),
        ("expert_features_", "expert_features"),
    ):
        selector = getattr(model, name)
        setattr(
            model,
            attr,
            feature_columns(
                selector,
                meta if meta is not None else X,
                n_features,
                getattr(model, "feature_names_in_", None),
                name,
            ),
        )
    if n_experts > n_samples:
        raise ValueError(
            f"'n_experts' must be at most the number of samples ({n_samples}); "
            f"got {n_experts} experts."
        )

    classes = None if kind == "regressor" else summary["classes"]
    ctx = _Context(kind, model.expert_features_, model.gate_features_, classes)
    mean_X = summary["sum_X"] / total
    mean_y = summary["sum_y"] / total if kind == "regressor" else None
    if kind == "classifier" and len(classes) < 2:
        raise ValueError(
            "MixtureOfExpertsClassifier needs samples of at least 2 classes in y, "
            f"but y contains only one class: {classes[0]!r}."
        )

    # Pass 2: spreads, class masses and the sample for the k-means start.
    k_means = (
        isinstance(init, str) and init in ("kmeans", "kmeans_xy") and n_experts > 1
    )
    ctx.sample_fraction = min(1.0, SAMPLE_ROWS / n_samples)
    spread = data.run(
        _Spread(
            kind,
            mean_X,
            mean_y,
            classes,
            model.gate_features_ if k_means else None,
            ctx.sample_fraction,
        )
    )
    var_X = spread["sq_X"] / total
    ctx.gate_mean = mean_X[model.gate_features_]
    ctx.gate_scale = standard_scale(
        ctx.gate_mean, var_X[model.gate_features_], n_samples
    )
    ctx.shift_X = mean_X[model.expert_features_]
    if kind == "regressor":
        reg_var = model.reg_var
        if not isinstance(reg_var, numbers.Real) or not 0 <= reg_var < np.inf:
            raise ValueError(
                f"'reg_var' must be a non-negative float, got {reg_var!r}."
            )
        ctx.shift_y = mean_y
        var_y = spread["sq_y"] / total
        eps = np.finfo(np.float64).eps
        rounding = (n_samples * eps * mean_y) ** 2
        model._constant_target = var_y <= n_samples * eps * var_y + rounding
        model._var_floor = ctx.var_floor = max(
            model.reg_var * var_y, rounding, np.finfo(np.float64).tiny
        )
        ctx.target_mean, ctx.target_scale = (
            np.array([mean_y]),
            standard_scale(np.array([mean_y]), np.array([var_y]), n_samples),
        )
    else:
        ctx.shift_y = 0.0
        mass = spread["class_mass"]
        if np.count_nonzero(mass) < 2:
            raise ValueError(
                "MixtureOfExpertsClassifier needs samples of at least 2 classes "
                "with positive weight in y, but the data contain only one class: "
                f"{classes[np.argmax(mass)]!r}."
            )
        share = mass / total
        ctx.target_mean = share
        ctx.target_scale = standard_scale(share, share * (1 - share), n_samples)
        model.classes_ = classes
        for i, template in enumerate(templates):
            ctx.logistic[i] = _Logistic(template, len(classes))
    em = _EM(model, data, ctx, names, templates, total, n_features)
    em.init = init
    if k_means:
        # Kept by the driver, not the context: it would travel with every pass.
        em.sample = {key: spread[f"sample_{key}"] for key in ("X", "w", "y")}
    rng = check_random_state(model.random_state)
    seeds = (
        [None]
        if model.n_init == 1
        else list(rng.randint(np.iinfo(np.int32).max, size=model.n_init))
    )
    logistic = dict(ctx.logistic)
    results = []
    for index, seed in enumerate(seeds):
        ctx.logistic = dict(logistic)  # pruning re-indexes it within a start
        start_rng = rng if seed is None else check_random_state(seed)
        results.append(em.run(start_rng, index))
    best = max(range(len(results)), key=lambda i: results[i][0])
    ll, fitted, curve, converged = results[best]
    _finish(
        model, fitted, curve, converged, best, results, names, templates, from_template
    )
    return model


def _finish(
    model, fitted, curve, converged, best, results, names, templates, from_template
):
    """Set the fitted attributes as the in-memory fit does."""
    from .._estimators import set_warm_start

    model.experts_ = fitted["experts"]
    model._expert_names = fitted["names"]
    model.gate_ = fitted["gate"]
    model.n_iter_ = fitted["n_iter"]
    model.expert_weights_ = fitted["expert_weights"]
    model._reseeds = fitted["reseeds"]
    if model._kind == "regressor":
        model.noise_var_ = fitted["noise_var"]
    else:
        model.label_noise_ = np.full(len(model.experts_), np.nan)
    model.log_likelihoods_ = np.asarray(curve)
    model.start_log_likelihoods_ = [np.asarray(run[2]) for run in results]
    model.best_start_ = best
    model.log_likelihood_ = curve[-1]
    model.converged_ = converged
    template_of = dict(zip(names, templates, strict=True))
    set_warm_start(
        model.experts_,
        [template_of[n].get_params().get("warm_start") for n in model._expert_names],
    )
    if not converged:
        warnings.warn(
            "Best performing initialization did not converge: the "
            f"log-likelihood still changed by more than tol={model.tol} after "
            f"max_iter={model.max_iter} iterations. Try increasing max_iter, "
            "raising tol, or a different init_params.",
            ConvergenceWarning,
            stacklevel=4,
        )
    if from_template:
        # Cloned experts are interchangeable: order them by decreasing share.
        if isinstance(model.gate_, SoftmaxGate):
            order = np.argsort(-model.expert_weights_, kind="stable")
            model._take_experts(order)
        model._expert_names = [f"expert{i}" for i in range(len(model.experts_))]
    if hasattr(model, "_signature"):  # what a later warm start checks
        model._fit_signature = model._signature(names, templates)
    if hasattr(model, "_warn_if_suspect"):
        # Dead or starved experts, starts that ended in different optima.
        model._warn_if_suspect(
            [SimpleNamespace(log_likelihood=run[0]) for run in results]
        )
    elif hasattr(model, "_warn_about_dead_experts"):
        model._warn_about_dead_experts()
    if model._kind == "regressor":
        _warn_if_degenerate(model, fitted)


def _warn_if_degenerate(model, fitted):
    from ..exceptions import DegenerateFitWarning

    if model._constant_target:
        warnings.warn(
            "y is constant: every expert fits it exactly, so the gate has "
            "nothing to learn. A regression on a constant target is better "
            "served by sklearn.dummy.DummyRegressor.",
            DegenerateFitWarning,
            stacklevel=4,
        )
