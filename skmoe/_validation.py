"""Input checks and column selectors: pure functions of the data.

Everything here looks at what the user passes to ``fit`` or ``predict`` and
either returns it in the form EM needs or raises an error that names the
input, the value and what is allowed. Nothing here knows about EM.
"""

import copy

import numpy as np
import scipy.sparse as sp

from ._compat import check_sample_weight as _check_finite_non_negative
from ._warn import warn

# EM squares and multiplies the data (variances, normal equations, weighted
# sums). Values beyond this magnitude overflow float64 when squared and
# multiplied by a few hundred thousand rows; values below its inverse lose
# every digit when squared. Inside the range the mixture is equivariant to
# scaling X and y; outside it is refused rather than fitted wrongly.
SAFE_MAGNITUDE = 1e150

_NUMERIC_REMEDY = (
    "Encode such columns first, for example with OneHotEncoder in a "
    "ColumnTransformer placed before the mixture in a Pipeline."
)


def same_type_error(exc, message):
    """An exception of ``exc``'s type with ``message``, or of the nearest
    base class built from a message alone (scikit-learn's
    ``UnsetMetadataPassedError`` needs more: it becomes a ``ValueError``);
    a RuntimeError if none is.

    Callers catching, say, ``ValueError`` then still catch the renamed error.
    """
    for kind in type(exc).__mro__:
        if not issubclass(kind, Exception):
            break
        try:
            return kind(message)
        except Exception:
            continue
    return RuntimeError(message)


def check_numeric_input(X):
    """Raise a clear error if ``X`` holds anything but numbers.

    scikit-learn's conversion otherwise fails with numpy's bare "could not
    convert string to float", which names neither ``X`` nor the column.
    Errors keep numpy's type (ValueError for text, TypeError for other
    objects) and its message, after one that says what to do.
    """
    dtypes = getattr(X, "dtypes", None)
    if dtypes is not None and hasattr(X, "columns"):
        bad = [
            f"{column!r} ({dtype})"
            for column, dtype in zip(X.columns, dtypes, strict=True)
            if not _is_numeric_column(X[column], dtype)
        ]
        if bad:
            raise ValueError(
                f"X must hold numbers, but its columns {', '.join(bad)} do not. "
                + _NUMERIC_REMEDY
            )
        return
    if isinstance(X, np.ndarray) and X.dtype.kind in "OUSMm":
        try:
            X.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise same_type_error(
                exc,
                f"X must hold numbers, but its dtype is {X.dtype} and it holds "
                f"values that are not ({exc}). {_NUMERIC_REMEDY}",
            ) from exc


def _is_numeric_column(column, dtype):
    categories = getattr(dtype, "categories", None)
    if categories is not None:  # pandas Categorical: its categories count
        return categories.dtype.kind in "biuf"
    kind = getattr(dtype, "kind", "O")
    if kind in "biufc":
        return True
    if kind != "O":
        return False  # dates, durations, intervals
    try:
        np.asarray(column, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


def check_magnitude(values, name, *, new=False):
    """Refuse finite values too large, or all too small, for EM's arithmetic.

    Parameters
    ----------
    values : ndarray or sparse matrix
        Numbers already checked to be finite.
    name : str
        What they are, for the message ("X", "y").
    new : bool, default=False
        Rows given to a fitted mixture: only values too large are refused
        (where the gate's logits or the spread overflow to NaN); a row of
        tiny values is an ordinary input near zero.
    """
    data = values.data if sp.issparse(values) else np.asarray(values)
    if data.size == 0:
        return
    # fmax skips NaN in one pass (predict runs this on every call); all NaN
    # leaves NaN, which counts as nothing large.
    largest = float(np.fmax.reduce(np.abs(data), axis=None))
    if np.isnan(largest):
        largest = 0.0
    too_small = not new and 0 < largest < 1 / SAFE_MAGNITUDE
    if largest <= SAFE_MAGNITUDE and not too_small:
        return
    if new:
        raise ValueError(
            f"{name} holds values of magnitude up to {largest:.3g}, above "
            f"{SAFE_MAGNITUDE:.0e}: the mixture's gate and spread overflow there "
            "and would give NaN. Rescale such rows as the training data were."
        )
    raise ValueError(
        f"{name} holds values of magnitude up to {largest:.3g}, outside the "
        f"range [{1 / SAFE_MAGNITUDE:.0e}, {SAFE_MAGNITUDE:.0e}] in which "
        f"skmoe's arithmetic is exact; rescale {name} (the mixture and its "
        "gate are equivariant to scaling, so multiplying by a power of ten "
        "changes nothing but the units)."
    )


def check_sample_weight(sample_weight, X):
    """Sample weights as float64 (n,): finite, non-negative, usable by EM.

    skmoe decides on its own what it accepts, whatever the version of
    scikit-learn's helper: a zero total weight leaves nothing to fit, and a
    total beyond :data:`SAFE_MAGNITUDE` (or below its inverse) overflows or
    underflows once multiplied by the responsibilities.
    """
    # Shape, NaN/inf, negative and all-zero weights: decided in _compat, the
    # same on every supported scikit-learn.
    sample_weight = _check_finite_non_negative(sample_weight, X)
    check_weight_total(float(np.sum(sample_weight)))
    return sample_weight


def check_weight_total(total):
    """Refuse a total weight of 0, or one beyond :data:`SAFE_MAGNITUDE` (or
    below its inverse), in memory and out of core alike."""
    if not total > 0:
        raise ValueError(
            "sample_weight must have a positive sum, but every weight is 0: "
            "there is nothing to fit."
        )
    if not 1 / SAFE_MAGNITUDE <= total <= SAFE_MAGNITUDE:
        raise ValueError(
            f"sample_weight sums to {total:.3g}, outside the range "
            f"[{1 / SAFE_MAGNITUDE:.0e}, {SAFE_MAGNITUDE:.0e}] in which "
            "skmoe's arithmetic is exact. Multiply the weights by a constant to bring "
            "their sum into it; note that they count as frequencies, so the "
            "gate's penalty is weighed against their sum."
        )


def check_n_experts(n_experts, n_samples, weighted=False):
    """Refuse more experts than rows: each needs rows of its own.

    Parameters
    ----------
    n_experts : int
        The experts asked for.
    n_samples : int
        The training rows (``weighted``: those of positive weight).
    weighted : bool, default=False
        Whether rows of weight 0 were left out of ``n_samples``.
    """
    if n_experts > n_samples:
        rows = "samples of positive weight" if weighted else "samples"
        raise ValueError(
            f"'n_experts' must be at most the number of {rows} ({n_samples}); "
            f"got {n_experts} experts."
        )


def check_weighted_rows(n_weighted, n_samples):
    """Refuse fewer than 2 rows of positive weight, as fewer than 2 rows are
    refused: a row of weight 0 is absent."""
    if n_weighted < 2 <= n_samples:
        raise ValueError(
            f"sample_weight gives {n_weighted} of the {n_samples} rows a positive "
            "weight; at least 2 are needed, as 2 rows are needed without "
            "weights (a row of weight 0 counts as absent)."
        )


def take_columns(X, columns):
    """``X[:, columns]``, without a copy when ``columns`` is every column."""
    if len(columns) == X.shape[1] and np.all(columns == np.arange(X.shape[1])):
        return X
    return X[:, columns]


def read_only(X):
    """A view of a numpy array or a scipy sparse matrix that cannot be
    written to (anything else as it is); the caller's arrays keep their own
    flags.

    Sparse ``X`` shares its ``data`` and index arrays: an expert that scales
    them in place (``StandardScaler(copy=False, with_mean=False)``) would
    change the caller's matrix, as a dense one would its array.
    """
    if sp.issparse(X):
        return _read_only_sparse(X)
    if not isinstance(X, np.ndarray) or not X.flags.writeable:
        return X
    view = X.view()
    view.flags.writeable = False
    return view


def _read_only_sparse(X):
    """A shallow copy of a sparse matrix whose arrays are read-only views."""
    view = copy.copy(X)
    state = vars(view)
    for name, value in state.items():
        if isinstance(value, np.ndarray):
            state[name] = read_only(value)
        elif isinstance(value, tuple) and all(
            isinstance(v, np.ndarray) for v in value
        ):  # a COO matrix's coords
            state[name] = tuple(read_only(v) for v in value)
    return view


def feature_columns(selector, X_raw, n_features, feature_names, name):
    """Resolve a column selector to int indices, in the order given.

    Parameters
    ----------
    selector : None, int, sequence of int or str, bool mask or callable
        What the user passed as ``name``; a callable is applied to ``X_raw``.
    X_raw : array-like or DataFrame
        ``X`` as passed to ``fit``, before validation.
    n_features : int
    feature_names : ndarray of str or None
        ``feature_names_in_``, if ``X`` had string column names.
    name : str
        The parameter, for messages ("gate_features").

    Returns
    -------
    columns : ndarray of intp of shape (n_selected,)
    """
    if callable(selector):
        selector = selector(X_raw)
    if selector is None:  # from a callable too: None means every column
        return np.arange(n_features)
    allowed = (
        "None, an int, a 1-D list or array of int indices, a boolean mask, "
        "column names (with a DataFrame) or a callable returning one of these"
    )
    try:
        columns = np.asarray(selector)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise TypeError(f"'{name}' must be {allowed}; got {selector!r}.") from exc
    if columns.ndim == 0:
        columns = columns.reshape(1)
    if columns.ndim != 1:
        raise ValueError(
            f"'{name}' must be one-dimensional ({allowed}); got {selector!r} "
            f"with shape {columns.shape}."
        )
    if not len(columns):  # an empty list, or an empty array of any dtype
        raise ValueError(f"'{name}' selects no columns; it must select some.")
    if columns.dtype == bool:
        return _mask_columns(columns, n_features, name)
    if columns.dtype.kind in "iu":
        return _index_columns(columns, n_features, name)
    if columns.dtype.kind in "OUS":
        return _named_columns(columns, feature_names, name)
    raise TypeError(f"'{name}' must be {allowed}; got {selector!r}.")


def _mask_columns(mask, n_features, name):
    if len(mask) != n_features:
        raise ValueError(
            f"'{name}' as a boolean mask must have one entry per feature "
            f"({n_features}); got {len(mask)}."
        )
    if not mask.any():
        raise ValueError(f"'{name}' selects no columns; it must select some.")
    return np.flatnonzero(mask).astype(np.intp)


def _index_columns(columns, n_features, name):
    bad = columns[(columns < -n_features) | (columns >= n_features)]
    if len(bad):
        raise ValueError(
            f"'{name}' selects columns {bad.tolist()} out of range for "
            f"{n_features} features."
        )
    return (columns % n_features).astype(np.intp)


def _named_columns(columns, feature_names, name):
    if feature_names is None:
        raise ValueError(
            f"'{name}' selects columns by name ({columns.tolist()}), which "
            "needs X to be a DataFrame with string column names."
        )
    unknown = sorted(set(columns.tolist()) - set(feature_names.tolist()))
    if unknown:
        raise ValueError(f"'{name}' names unknown columns {unknown}.")
    position = {column: i for i, column in enumerate(feature_names)}
    return np.array([position[c] for c in columns], dtype=np.intp)


def check_sparse(X, refusing_experts):
    """Refuse sparse ``X`` if an expert does.

    ``refusing_experts`` is a callable returning the names of the experts
    that do not accept sparse input; it is called only when ``X`` is
    sparse, so dense inputs pay nothing.
    """
    if not sp.issparse(X):
        return
    refusing = refusing_experts()
    if refusing:
        raise TypeError(
            "Sparse X is accepted only when every expert accepts sparse "
            f"input, and {refusing} do not. Pass X.toarray(), or use "
            "experts that take sparse data."
        )


def has_missing(X):
    """Whether ``X`` (dense or sparse) holds NaN."""
    data = X.data if sp.issparse(X) else X
    return bool(np.isnan(np.sum(data)))


def check_missing(X, Xg, refusing_experts, gate_refuses):
    """Refuse NaN where a part of the mixture cannot take it.

    The experts see ``X``'s expert columns and the gate ``Xg``; NaN is fine
    where every one of them accepts it (their ``allow_nan`` input tag), as
    HistGradientBoosting experts with a gate on complete columns do.

    Parameters
    ----------
    X : ndarray or sparse matrix
        The experts' columns.
    Xg : ndarray
        The gate's columns.
    refusing_experts : callable
        Returns the names of the experts that do not accept NaN; called only
        when there is NaN.
    gate_refuses : callable
        Returns the gate's name if it does not accept NaN, else None.
    """
    if has_missing(X):
        refusing = refusing_experts()
        if refusing:
            raise ValueError(
                f"X contains NaN in the experts' columns, and experts {refusing} "
                "do not accept missing values. Impute them first (SimpleImputer "
                "in a Pipeline before the mixture, or first in each expert's "
                "Pipeline), or use experts "
                "that accept NaN, such as HistGradientBoostingRegressor or "
                "HistGradientBoostingClassifier."
            )
    if has_missing(Xg) and gate_refuses():
        raise ValueError(
            f"X contains NaN in the gate's columns (gate_features), and the gate "
            f"({gate_refuses()}) does not accept missing values. Impute them, let "
            "the gate see only complete columns with gate_features, or use a "
            "gate that accepts NaN."
        )


def check_init_resp(init_resp, n_samples, n_experts, name="init_resp"):
    """Initial responsibilities given by the user, normalised by row.

    Parameters
    ----------
    init_resp : array-like of shape (n_samples, n_experts)
    n_samples, n_experts : int
    name : str
        The parameter, for messages.

    Returns
    -------
    resp : ndarray of shape (n_samples, n_experts)
        Rows sum to 1.
    """
    try:
        resp = np.array(init_resp, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"'{name}' as an array must hold numbers; got {type(init_resp).__name__}."
        ) from exc
    if resp.shape != (n_samples, n_experts):
        raise ValueError(
            f"'{name}' as an array must have shape (n_samples, n_experts) = "
            f"({n_samples}, {n_experts}); got {resp.shape}."
        )
    if not np.all(np.isfinite(resp)) or np.any(resp < 0):
        row_sums = None
    else:
        row_sums = resp.sum(axis=1, keepdims=True)
        if not np.all(np.isfinite(row_sums)):
            # Rows of huge (finite) entries overflow their sum: put each row
            # on the scale of its largest entry first.
            largest = resp.max(axis=1, keepdims=True)
            resp = np.divide(resp, largest, out=np.zeros_like(resp), where=largest > 0)
            row_sums = resp.sum(axis=1, keepdims=True)
    if row_sums is None or np.any(row_sums <= 0):
        raise ValueError(
            f"'{name}' as an array must hold finite, non-negative "
            "responsibilities with a positive sum in every row."
        )
    return resp / row_sums


def resolve_init_resp(init_params, init_resp, n_samples, n_experts):
    """The starting responsibilities a fit was given, or None.

    ``init_resp`` is fit metadata; the same array as ``init_params`` is the
    deprecated form (a FutureWarning), and giving both is an error.
    """
    if not isinstance(init_params, str):
        warn(
            "Passing starting responsibilities as 'init_params' is "
            "deprecated and will be removed in a future version: they are "
            "sample-aligned data, so pass them to fit as "
            "fit(X, y, init_resp=...), which cross-validation splits "
            "with the rows.",
            FutureWarning,
        )
        if init_resp is not None:
            raise ValueError(
                "Pass the starting responsibilities once: as fit's "
                "'init_resp', not also as 'init_params'."
            )
        return check_init_resp(init_params, n_samples, n_experts, "init_params")
    if init_resp is not None:
        return check_init_resp(init_resp, n_samples, n_experts)
    return None
