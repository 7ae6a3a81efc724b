"""Dask inputs: telling them apart without importing dask, and chunking them
by rows so that every block holds whole rows of ``X`` and the matching ``y``,
weights and starting responsibilities."""

import sys

import numpy as np
from sklearn.exceptions import DataConversionWarning

from .._warn import warn


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


def _rows(X):
    """``X`` as a Dask array chunked by rows only, and its column names.

    A DataFrame's partition lengths stay unknown here: prediction does not
    need them, and fitting computes them with those of ``y``
    (:func:`_align_rows`).
    """
    import dask.array as da

    names = None
    if _is_frame(X):
        _check_frame_numeric(X)
        columns = list(X.columns)
        if all(isinstance(c, str) for c in columns):
            names = np.asarray(columns, dtype=object)
    X = _as_array(X, "X")
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
    if np.isnan(X.shape[1]):
        raise ValueError(
            f"X must have a known number of columns; got a Dask array with "
            f"column chunks {X.chunks[1]}. Call X.compute_chunk_sizes() first."
        )
    if len(X.chunks[1]) > 1:
        # A block must hold whole rows: every expert sees all its columns.
        X = X.rechunk({1: -1})
    return X, names


def _as_array(values, what):
    """A Dask collection as a Dask array (its row chunks possibly unknown);
    anything else as it was given."""
    import dask.array as da

    if not is_dask_collection(values):
        return values
    if hasattr(values, "to_dask_array"):  # a DataFrame or Series
        values = values.to_dask_array()
    if not isinstance(values, da.Array):
        raise TypeError(
            f"{what} must be a Dask array, DataFrame, Series or NumPy array; got "
            f"{type(values).__module__}.{type(values).__name__}."
        )
    return values


def _align_rows(X, columns):
    """``X`` and the arrays that go with its rows, all chunked as ``X``.

    ``columns`` lists ``(what, values, ndim)``: ``y``, ``sample_weight`` or
    ``init_params``, ``values`` a Dask or NumPy array or None. Row counts
    unknown to Dask (a DataFrame's partitions, a boolean mask) are computed
    first, all in one pass over the data.
    """
    named = [("X", X)]
    named += [(what, _as_array(values, what)) for what, values, _ in columns]
    X, *arrays = _with_row_lengths(named)
    aligned = [
        None if values is None else _column(values, X.chunks[0], what, ndim)
        for (what, _, ndim), values in zip(columns, arrays, strict=True)
    ]
    return X, aligned


def _unknown(array):
    """Which axes of a Dask array have chunks of unknown size."""
    return [axis for axis, c in enumerate(array.chunks) if np.isnan(sum(c))]


def _with_row_lengths(named):
    """The arrays of ``named`` (``(what, array)`` pairs), those of Dask with
    their row chunks known.

    Those unknown are counted block by block, in one pass for all of them,
    and replaced by a new array on the same graph: as ``compute_chunk_sizes``
    would do, without changing the caller's array.
    """
    import dask
    import dask.array as da

    arrays = [array for _, array in named]
    todo = [k for k, a in enumerate(arrays) if isinstance(a, da.Array) and _unknown(a)]
    if not todo:
        return arrays
    for k in todo:
        if _unknown(arrays[k]) != [0]:
            raise ValueError(
                f"{named[k][0]} may have an unknown number of rows, but not of "
                f"columns; got a Dask array with chunks {arrays[k].chunks}. "
                f"Call compute_chunk_sizes() on it first."
            )
    counts = [[dask.delayed(len)(b) for b in _row_blocks(arrays[k])] for k in todo]
    (counts,) = dask.compute(counts)
    for k, rows in zip(todo, counts, strict=True):
        a = arrays[k]
        chunks = (tuple(int(n) for n in rows),) + a.chunks[1:]
        arrays[k] = da.Array(a.dask, a.name, chunks, meta=a._meta)
    return arrays


def _row_blocks(array):
    """The delayed first block of each row of blocks."""
    blocks = array.to_delayed()
    return blocks[(slice(None),) + (0,) * (array.ndim - 1)]


def _column(values, row_chunks, what, ndim):
    """``y``, ``sample_weight`` or an ``init_params`` array (``ndim``-D, one
    row per row of ``X``) as a Dask array with the row chunks of ``X``."""
    import dask.array as da

    n_rows = sum(row_chunks)
    allowed = (
        f"(n_samples,) = ({n_rows},)"
        if ndim == 1
        else f"(n_samples, n_experts) with n_samples = {n_rows}"
    )
    if what == "sample_weight":
        allowed += " (or be a number, the weight of every row)"
    if not isinstance(values, da.Array):
        values = np.asarray(values)
    if what == "y" and values.ndim == 2 and values.shape[1] == 1:
        # As scikit-learn's column_or_1d(warn=True) in memory.
        warn(
            "A column-vector y was passed when a 1d array was expected. Please "
            "change the shape of y to (n_samples, ), for example using ravel().",
            DataConversionWarning,
        )
        values = values[:, 0]
    if values.ndim != ndim:
        raise ValueError(
            f"{what} must be {ndim}-D, of shape {allowed}; got shape "
            f"{tuple(values.shape)}."
        )
    if values.shape[0] != n_rows:
        raise ValueError(
            f"{what} has {values.shape[0]} rows but X has {n_rows}; they must "
            f"match: {what} must have shape {allowed}, got {tuple(values.shape)}."
        )
    if not isinstance(values, da.Array):
        return da.from_array(values, chunks=(row_chunks,) + values.shape[1:])
    chunks = (row_chunks,) + tuple((s,) for s in values.shape[1:])
    return values.rechunk(chunks)
