"""Every import of a private scikit-learn name, and nothing else.

scikit-learn may change its private helpers without deprecation; keeping them
here makes such a change a one-file fix. Where a helper's behaviour differs
between supported scikit-learn versions, a wrapper here decides it once
(:func:`check_sample_weight`).
"""

import inspect

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    Interval,
    InvalidParameterError,
    StrOptions,
)
from sklearn.utils.metadata_routing import _raise_for_params, _routing_enabled
from sklearn.utils.validation import (
    _check_feature_names_in,
    _check_method_params,
    _check_sample_weight,
    _get_feature_names,
)

try:  # scikit-learn >= 1.7
    from sklearn.utils._repr_html.estimator import _VisualBlock
except ImportError:  # pragma: no cover - scikit-learn 1.6
    from sklearn.utils._estimator_html_repr import _VisualBlock

__all__ = [
    "HasMethods",
    "Hidden",
    "Interval",
    "InvalidParameterError",
    "StrOptions",
    "_VisualBlock",
    "_check_feature_names_in",
    "_check_method_params",
    "_get_feature_names",
    "_raise_for_params",
    "_routing_enabled",
    "_safe_indexing",
    "_check_sample_weight",
    "_fit_context",
    "check_sample_weight",
    "output_config",
    "validate_params",
]


# scikit-learn 1.9 made its helper refuse all-zero weights itself; 1.6 to 1.8
# accept them; skmoe decides that case (and negative and non-finite weights)
# on its own, so the helper is told not to, where it can be told.
_HELPER_REFUSES_ALL_ZERO = (
    "allow_all_zero_weights" in inspect.signature(_check_sample_weight).parameters
)


def _first_offender(weights, bad, what):
    rows = np.flatnonzero(bad)
    plural = "s" if rows.size > 1 else ""
    return (
        f"sample_weight must be {what}; got {weights[rows[0]].item()!r} at row "
        f"{rows[0]} ({rows.size} such weight{plural} of {weights.size})."
    )


def _as_real_numbers(sample_weight):
    """sample_weight as a flat float array, or a ValueError naming it."""
    values = np.asarray(sample_weight)
    if values.dtype.kind == "c":
        raise ValueError(
            "sample_weight must hold real numbers, got complex values "
            f"(dtype {values.dtype})."
        )
    try:
        return np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"sample_weight must hold real numbers, got values of dtype {values.dtype}."
        ) from error


def _check_finite(weights):
    for bad, kind in ((np.isnan(weights), "NaN"), (np.isinf(weights), "infinity")):
        if bad.any():
            raise ValueError(
                f"Input sample_weight contains {kind}: "
                + _first_offender(weights, bad, "finite")
            )


def check_sample_weight(sample_weight, X, *, dtype=np.float64, copy=False):
    """Validate ``sample_weight``: finite, non-negative, not all zero.

    Wraps scikit-learn's private ``_check_sample_weight`` (shape, dtype, a
    scalar broadcast to every row, ``None`` meaning ones) and adds skmoe's own
    rules, so that they hold on every supported scikit-learn: before 1.9,
    scikit-learn accepts all-zero weights, which leave EM nothing to fit. Each message
    names ``sample_weight``, the offending value and its row, and begins with
    the wording scikit-learn uses for the same error.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,), float or None
        The weights passed to ``fit``. ``None`` means a weight of 1 per row, a
        number the same weight for every row.
    X : array-like or sparse matrix of shape (n_samples, n_features)
        The data the weights belong to; only its number of rows is used.
    dtype : dtype, default=np.float64
        The dtype of the returned weights.
    copy : bool, default=False
        Return a copy even when ``sample_weight`` already has the right dtype.

    Returns
    -------
    sample_weight : ndarray of shape (n_samples,)
        The validated weights.

    Raises
    ------
    ValueError
        If a weight is NaN or infinite or negative, if every weight is 0, or
        if the shape does not match ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmoe._compat import check_sample_weight
    >>> X = np.zeros((3, 2))
    >>> check_sample_weight(None, X)
    array([1., 1., 1.])
    >>> check_sample_weight([0.5, 0.0, 2.0], X)
    array([0.5, 0. , 2. ])
    >>> check_sample_weight(np.zeros(3), X)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: Sample weights must contain at least one non-zero number: all 3 ...
    """
    if sample_weight is not None:
        _check_finite(_as_real_numbers(sample_weight))
    options = {"allow_all_zero_weights": True} if _HELPER_REFUSES_ALL_ZERO else {}
    weights = _check_sample_weight(sample_weight, X, dtype=dtype, copy=copy, **options)
    _check_finite(weights)
    negative = weights < 0
    if negative.any():
        raise ValueError(
            "Negative values in data passed to `sample_weight`: "
            + _first_offender(weights, negative, "non-negative")
        )
    if weights.size and not (weights > 0).any():
        raise ValueError(
            "Sample weights must contain at least one non-zero number: all "
            f"{weights.size} values of sample_weight are 0, which leaves nothing "
            "to fit."
        )
    return weights


def validate_params(estimator):
    """Check ``estimator``'s parameters against its declared constraints, as
    its ``fit`` does first, raising scikit-learn's InvalidParameterError."""
    estimator._validate_params()


def output_config(estimator):
    """What ``set_output`` set on ``estimator`` (scikit-learn keeps it in a
    private attribute), or None."""
    return getattr(estimator, "_sklearn_output_config", None)
