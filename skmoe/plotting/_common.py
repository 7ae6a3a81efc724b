"""What every display of :mod:`skmoe.plotting` shares.

The checks every ``from_estimator`` and ``plot`` starts with live in
:class:`_MixtureDisplayMixin`, as scikit-learn keeps its curve displays'
checks in a mixin of ``sklearn/utils/_plotting.py``; the colour, label and
axes helpers are plain functions. Nothing here imports matplotlib at import
time.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

_INSTALL = 'pip install "skmoe[plot]"'


def _check_matplotlib(caller):
    """Import matplotlib or raise an ImportError that says how to install it."""
    try:
        import matplotlib  # noqa: F401
        import matplotlib.pyplot  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib, which is not installed. Install it "
            f"with: {_INSTALL}"
        ) from exc


def _check_mixture(estimator, caller):
    """A fitted skmoe mixture, or a TypeError / NotFittedError."""
    from .._base import _BaseMixtureOfExperts

    if not isinstance(estimator, _BaseMixtureOfExperts):
        raise TypeError(
            f"{caller} needs a skmoe MixtureOfExpertsRegressor or "
            "MixtureOfExpertsClassifier (fitted); got "
            f"{type(estimator).__name__}. For a Pipeline, pass its last step "
            "and the transformed X."
        )
    check_is_fitted(estimator)


def _expert_names(estimator):
    return [str(name) for name in estimator.named_experts_]


def _expert_colors(n_experts, colors=None):
    """One RGBA colour per expert, (n_experts, 4).

    ``colors`` is None (matplotlib's ``tab10``, or ``tab20`` and then ``turbo``
    for more experts), the name of a colormap, or a list of colours.
    """
    import matplotlib as mpl

    if colors is None:
        if n_experts <= 10:
            colors = "tab10"
        elif n_experts <= 20:
            colors = "tab20"
        else:
            colors = "turbo"
    if isinstance(colors, str):
        cmap = mpl.colormaps[colors]
        if isinstance(cmap, mpl.colors.ListedColormap) and cmap.N >= n_experts:
            return mpl.colors.to_rgba_array(cmap.colors[:n_experts])
        return cmap(np.linspace(0, 1, n_experts))
    rgba = mpl.colors.to_rgba_array(colors)
    if len(rgba) != n_experts:
        raise ValueError(
            f"'colors' must give one colour per expert ({n_experts}); got {len(rgba)}."
        )
    return rgba


def _feature_label(estimator, column):
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        return str(names[column])
    return f"feature {column}"


def _like_input(X, array):
    """``array`` as a DataFrame with X's columns when X is a pandas DataFrame, so
    that a mixture fitted on named columns gets the names it expects."""
    if hasattr(X, "iloc") and hasattr(X, "columns"):
        import pandas as pd

        return pd.DataFrame(array, columns=X.columns)
    return array


def _new_axes(ax):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    return ax


class _MixtureDisplayMixin:
    """The checks every display starts with, and where it keeps its axes."""

    @classmethod
    def _validate_from_estimator_params(cls, estimator):
        """Check matplotlib and the estimator; return the caller's name."""
        caller = f"{cls.__name__}.from_estimator"
        _check_matplotlib(caller)
        _check_mixture(estimator, caller)
        return caller

    def _validate_plot_params(self):
        """Check that matplotlib can be imported, naming this ``plot``."""
        _check_matplotlib(f"{type(self).__name__}.plot")

    def _set_axes(self, ax):
        """Keep the axes drawn on and their figure as ``ax_`` and ``figure_``."""
        self.ax_ = ax
        self.figure_ = ax.figure
