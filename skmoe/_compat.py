"""Every import of a private scikit-learn name, and nothing else.

scikit-learn may change its private helpers without deprecation; keeping them
here makes such a change a one-file fix.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    Interval,
    InvalidParameterError,
    StrOptions,
)
from sklearn.utils.metadata_routing import _raise_for_params, _routing_enabled
from sklearn.utils.validation import _check_method_params, _check_sample_weight

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
    "_check_method_params",
    "_raise_for_params",
    "_routing_enabled",
    "_check_sample_weight",
    "_fit_context",
]
