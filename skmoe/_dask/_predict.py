"""Lazy prediction: a fitted mixture's method applied to each block of rows.

As dask-ml's ``ParallelPostFit`` does, the fitted model becomes one key of the
task graph (shipped to each worker once) and every block of rows is scored by
the estimator's own method, so a lazy result equals the in-memory one block
for block.
"""

import numpy as np

from ._collections import _is_frame, _rows

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


def _predict_block(block, model, method, names, kwargs, empty=None):
    if len(block) == 0 and empty is not None:
        # Estimators refuse zero rows; an empty block (a filtered-out
        # partition) has an empty result of the probe's width and dtype.
        tail, dtype = empty
        return np.empty((0,) + tail, dtype=dtype)
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
    X, names = _rows(X)
    if not frame:
        names = None
    # The probe tells the output's width and dtype without touching the data.
    probe = _predict_block(
        np.zeros((1, X.shape[1]), dtype=X.dtype), model, method, names, kwargs
    )
    shared = dask.delayed(model, traverse=False)
    empty = (probe.shape[1:], probe.dtype)
    args = (_predict_block, shared, method, names, kwargs, empty)
    common = {"dtype": probe.dtype, "meta": np.empty((0,) * probe.ndim, probe.dtype)}
    if probe.ndim == 1:
        result = X.map_blocks(*args, drop_axis=1, **common)
    else:
        chunks = (X.chunks[0], (probe.shape[1],))
        result = X.map_blocks(*args, chunks=chunks, **common)
    if method == "predict" and kwargs.get("return_std"):
        return result[:, 0], result[:, 1]
    return result
