"""Mixtures of experts on Dask collections: lazy prediction and data-parallel EM."""

from ._em import (
    PREDICT_METHODS,
    SAMPLE_ROWS,
    fit_dask,
    is_dask_collection,
    predict_blocks,
)
from ._em import _Data as _Data
from ._em import _Plan as _Plan

__all__ = [
    "PREDICT_METHODS",
    "SAMPLE_ROWS",
    "fit_dask",
    "is_dask_collection",
    "predict_blocks",
]
