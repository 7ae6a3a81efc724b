"""Mixtures of experts on Dask collections: lazy prediction and data-parallel EM.

Two things a mixture can do with data larger than one machine:

* **Predict** block by block (:mod:`._predict`). As dask-ml's
  ``ParallelPostFit`` does, the fitted model becomes one key of the task graph
  (shipped to each worker once) and every block of rows is scored by the
  estimator's own method, so a lazy result equals the in-memory one block for
  block.
* **Fit** by EM when every M-step is a sum over rows (:mod:`._fit`). The
  responsibilities of a block are recomputed on the worker that holds it, from
  the previous parameters (E-step, :mod:`._sums`); the worker returns only
  small sums: the weighted normal equations of linear-Gaussian experts
  (``X^T W X``, ``X^T W y``, ``y^T W y`` per expert), and the objective,
  gradient and Hessian of the gate and of logistic experts at the points their
  Newton solvers ask for. The driver adds the sums of all blocks and solves
  (:mod:`._solvers`); the data never travel. Each EM iteration (:mod:`._em`)
  costs one pass for the E-step, the log-likelihood and the first Newton point
  of every solver, plus one pass per further Newton step.

Supported out of core (:mod:`._checks`): ``LinearRegression`` and ``Ridge``
experts (regressor), ``LogisticRegression`` experts with an L2 penalty
(classifier), the default ``SoftmaxGate`` (Newton), soft EM. The result is an
ordinary fitted mixture: its experts are real fitted scikit-learn estimators
with ``coef_`` and ``intercept_``.

The layers, lowest first: ``_collections`` (Dask inputs), ``_predict``;
``_checks``, ``_blocks`` (row blocks and passes), ``_sums``, ``_solvers``,
``_em``, ``_fit``. Each imports only from the layers before it.

dask itself is imported only when an estimator is handed a Dask collection, so
``import skmoe`` does not import it.
"""

from ._blocks import _Data as _Data
from ._collections import is_dask_collection
from ._fit import SAMPLE_ROWS, fit_dask
from ._predict import PREDICT_METHODS, predict_blocks
from ._sums import _Plan as _Plan

__all__ = [
    "PREDICT_METHODS",
    "SAMPLE_ROWS",
    "fit_dask",
    "is_dask_collection",
    "predict_blocks",
]
