"""Dask inputs: telling them apart without importing dask, and chunking them
by rows so that every block holds whole rows of ``X`` and the matching ``y``,
weights and starting responsibilities."""

import sys

import numpy as np


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
