"""What every display of :mod:`skmoe.plotting` shares.

The checks every ``from_estimator`` and ``plot`` starts with live in
:class:`_MixtureDisplayMixin`, as scikit-learn keeps its curve displays'
checks in a mixin of ``sklearn/utils/_plotting.py``; the colour, style,
label, parameter and axes helpers are plain functions. Nothing here imports
matplotlib at import time.
"""

import numbers
import sys

import numpy as np

from ..inspection import _is_dataframe, _unwrap_mixture

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


def _expert_names(estimator):
    return [str(name) for name in estimator.named_experts_]


# Listed colormaps of at most this many colours are qualitative (tab20 has
# the most); larger ones (viridis: 256) are continuous ranges of shades.
_QUALITATIVE = 32


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
        if isinstance(cmap, mpl.colors.ListedColormap) and cmap.N <= _QUALITATIVE:
            # A qualitative map (tab10, Set1): its colours in turn, each
            # distinct. As an (n, 3 or 4) array: matplotlib 3.8 keeps them as
            # a tuple, which to_rgba_array may read as one colour.
            if cmap.N < n_experts:
                raise ValueError(
                    f"'colors'={colors!r} holds {cmap.N} colours, fewer than the "
                    f"{n_experts} experts; pass a larger map (tab20, turbo) or "
                    "one colour per expert."
                )
            return mpl.colors.to_rgba_array(np.asarray(cmap.colors)[:n_experts])
        # A continuous map (viridis, turbo; listed ones hold 256 shades): spread
        # over its whole range. Its first n shades were nearly one colour.
        return cmap(np.linspace(0, 1, n_experts))
    rgba = mpl.colors.to_rgba_array(colors)
    if len(rgba) != n_experts:
        raise ValueError(
            f"'colors' must give one colour per expert ({n_experts}); got {len(rgba)}."
        )
    return rgba


def _style(defaults, kwargs, artist=None):
    """The keyword arguments of one matplotlib call: ``defaults`` updated with
    the user's ``kwargs``, whose values win.

    With ``artist``, the matplotlib Artist class the call draws (``Line2D``,
    ``Rectangle``), aliases are first resolved to their full names on both
    sides, as scikit-learn's displays do: a user's ``lw`` replaces a default
    ``linewidth``. Passing both an alias and its full name raises matplotlib's
    TypeError.
    """
    if artist is not None:
        from matplotlib.cbook import normalize_kwargs

        defaults = normalize_kwargs(defaults, artist)
        kwargs = normalize_kwargs(kwargs, artist)
    return {**defaults, **kwargs}


def _check_int(value, name, minimum):
    """``value`` as an int >= ``minimum``: a TypeError for a value that is not
    an integer (a float, a string, None, a bool), a ValueError below it."""
    message = f"'{name}' must be an int >= {minimum}; got {value!r}."
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(message)
    if value < minimum:
        raise ValueError(message)
    return int(value)


def _computed(*arrays):
    """The arrays as float ndarrays; lazy Dask arrays are computed together."""
    from .._dask import is_dask_collection

    if any(is_dask_collection(array) for array in arrays):
        import dask

        arrays = dask.compute(*arrays)
    return [np.asarray(array, dtype=np.float64) for array in arrays]


def _new_axes(ax, figsize=None):
    """``ax``, or the axes of a new figure whose layout makes room for a
    legend outside the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _legend_outside(ax, **kwargs):
    """A legend to the right of ``ax``, off the data it would otherwise hide.

    Figures made by the displays have a constrained layout, which makes room
    for it; on axes of your own, use one too or save with
    ``bbox_inches="tight"``.
    """
    kwargs = {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), **kwargs}
    return ax.legend(borderaxespad=0.0, fontsize="small", **kwargs)


# ---- the rows a display evaluates: a grid in the input's own columns ---------------
#
# With a Pipeline the mixture sees transformed columns, which need not be the
# input's (one-hot codes, splines). The grids are therefore built in the
# columns of X as the estimator takes it, and sent through the Pipeline, as
# scikit-learn's partial dependence does.


def _is_series(obj):
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(obj, pd.Series)


def _as_table(X, caller):
    """X as a DataFrame or as a 2-D ndarray."""
    if _is_dataframe(X):
        return X
    if hasattr(X, "toarray"):  # a scipy.sparse matrix or array
        raise TypeError(
            f"{caller} needs X dense: it lays a grid of dense rows along X's "
            f"columns; got a sparse {type(X).__name__} of shape {X.shape}. Pass "
            "X.toarray(), or that of a sample of its rows."
        )
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(
            f"{caller} needs X of shape (n_samples, n_features); got an array "
            f"of shape {X.shape}."
        )
    return X


def _column_as_given(X, position):
    """A column with its own dtype (a DataFrame's, before numpy reads it)."""
    return X.iloc[:, position] if _is_dataframe(X) else X[:, position]


def _column(X, position):
    column = _column_as_given(X, position)
    return column.to_numpy() if _is_dataframe(X) else column


def _feature_position(X, feature, name):
    """Position in X of ``feature``, a column index or a DataFrame column name."""
    n_features = X.shape[1]
    if isinstance(feature, str):
        if not _is_dataframe(X):
            raise ValueError(
                f"'{name}' is a column name ({feature!r}) but X has no column "
                f"names; pass a column index from 0 to {n_features - 1}, or X as "
                "a DataFrame."
            )
        columns = [str(column) for column in X.columns]
        if feature not in columns:
            raise ValueError(
                f"'{name}' must be a column of X; got {feature!r}, X's columns "
                f"are {columns}."
            )
        return columns.index(feature)
    if isinstance(feature, numbers.Integral) and not isinstance(feature, bool):
        if not 0 <= feature < n_features:
            raise ValueError(
                f"'{name}' must be a column index from 0 to {n_features - 1} (X "
                f"has {n_features} columns); got {feature!r}."
            )
        return int(feature)
    raise TypeError(
        f"'{name}' must be a column index (int) or a column name (str); got "
        f"{feature!r} of type {type(feature).__name__}."
    )


def _numeric_column(X, position, name):
    """The finite values of a numeric column, or a ValueError naming it.

    Categories and booleans are refused even when they are numbers: a grid
    along them passes through values they never take (0.25 of a boolean),
    which an encoder refuses and the model never saw.
    """
    if _is_categorical(_column_as_given(X, position)):
        raise ValueError(
            f"'{name}' must select a numeric column, along which a grid can be "
            f"laid; column {_feature_label(X, None, position)!r} holds booleans "
            "or categories, and a grid along it would pass through values it "
            "never takes."
        )
    try:
        values = np.asarray(_column(X, position), dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"'{name}' must select a numeric column, along which a grid can be "
            f"laid; column {_feature_label(X, None, position)!r} is not numeric."
        ) from None
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError(
            f"'{name}' selects column {_feature_label(X, None, position)!r}, "
            "which has no finite values."
        )
    return values


def _typical_value(column):
    """The median of a numeric column, else its most frequent value.

    Categories and booleans take their most frequent value even when they
    are numbers: a median between two of them (2.5 of the categories 1 and
    4, 0.5 of a boolean) is no value of the column, and an encoder refuses
    it.
    """
    if _is_categorical(column):
        if hasattr(column, "mode"):  # pandas: NaN left out, ties by order
            return column.mode().iloc[0]
        values, counts = np.unique(np.asarray(column), return_counts=True)
        return values[np.argmax(counts)]
    try:
        values = np.asarray(column, dtype=np.float64)
    except (TypeError, ValueError):
        values, counts = np.unique(np.asarray(column, dtype=object), return_counts=True)
        return values[np.argmax(counts)]
    return np.nanmedian(values)


def _is_categorical(column):
    """Whether ``column`` holds categories or booleans (numpy's or pandas')."""
    dtype = getattr(column, "dtype", None)
    return getattr(dtype, "kind", None) == "b" or str(dtype) in ("category", "boolean")


def _reference_row(X, held_at):
    """The row every grid point starts from: one-row DataFrame or 1-D array.

    ``held_at="median"`` takes each column's median (the most frequent value
    of a non-numeric column); otherwise ``held_at`` is a row of X (a Series
    with X's columns, a one-row DataFrame or an array of n_features values).
    """
    n_features = X.shape[1]
    if isinstance(held_at, str):
        if held_at != "median":
            raise ValueError(
                "'held_at' must be 'median' or a row of X (a Series, a one-row "
                f"DataFrame or {n_features} values); got {held_at!r}."
            )
        # A DataFrame's columns as they are: their dtypes tell categories.
        columns = (
            (X.iloc[:, i] for i in range(n_features))
            if _is_dataframe(X)
            else (X[:, i] for i in range(n_features))
        )
        values = [_typical_value(column) for column in columns]
    elif _is_dataframe(X) and (_is_dataframe(held_at) or _is_series(held_at)):
        row = held_at.iloc[0] if _is_dataframe(held_at) else held_at
        missing = [column for column in X.columns if column not in row.index]
        if (_is_dataframe(held_at) and len(held_at) != 1) or missing:
            raise ValueError(
                "'held_at' must be a row of X: a Series or one-row DataFrame with "
                f"X's columns; missing columns {missing}, "
                f"{len(held_at) if _is_dataframe(held_at) else 1} row(s)."
            )
        values = list(row[X.columns])
    else:
        values = list(np.asarray(held_at, dtype=object).reshape(-1))
        if len(values) != n_features:
            raise ValueError(
                f"'held_at' must be 'median' or a row of X with {n_features} "
                f"values; got {len(values)} values."
            )
    if not _is_dataframe(X):
        numeric = np.issubdtype(np.asarray(X).dtype, np.number)
        return np.array(values, dtype=np.float64 if numeric else object)
    import pandas as pd

    return pd.DataFrame([values], columns=X.columns)


def _grid_rows(reference, positions, values):
    """Rows that are ``reference`` but for columns ``positions``, set to ``values``.

    ``values`` holds one 1-D array per position, all of the same length: the
    number of rows.
    """
    n_rows = len(values[0])
    if _is_dataframe(reference):
        rows = reference.iloc[np.zeros(n_rows, dtype=np.intp)].reset_index(drop=True)
        for position, column in zip(positions, values, strict=True):
            rows.isetitem(position, np.asarray(column))
        return rows
    rows = np.tile(reference, (n_rows, 1))
    for position, column in zip(positions, values, strict=True):
        rows[:, position] = column
    return rows


def _sees_input(estimator):
    """Whether the mixture at the end of ``estimator`` takes X unchanged.

    True for a mixture, a CV variant (whose ``best_estimator_`` takes what it
    takes), and Pipelines whose steps before the last are all
    ``"passthrough"``; False when any step transforms X first.
    """
    from sklearn.pipeline import Pipeline

    while isinstance(estimator, Pipeline):
        if any(step not in (None, "passthrough") for _, step in estimator.steps[:-1]):
            return False
        estimator = estimator.steps[-1][1]
    return True


def _held_title(title, estimator, mixture, X, positions, held_at, experts=False):
    """``title``, saying where the other features are held if the gate (or,
    with ``experts``, the gate or the experts) sees any.

    Behind a Pipeline that transforms X, which columns reach the gate is not
    known, so any other column of X counts.
    """
    if _sees_input(estimator):
        seen = np.asarray(mixture.gate_features_).tolist()
        if experts:
            seen += np.asarray(mixture.expert_features_).tolist()
        held = set(seen) - set(positions)
    else:
        held = set(range(X.shape[1])) - set(positions)
    if not held:
        return title
    where = "their medians" if isinstance(held_at, str) else "the given row"
    return f"{title}\n(other features at {where})"


def _feature_label(X, estimator, position):
    """The name of column ``position`` of X as ``estimator`` takes it.

    A DataFrame's column name; else the name of that column when
    ``estimator`` (a mixture, a CV variant or a Pipeline) was fitted on a
    DataFrame (its ``feature_names_in_``); else "feature <position>".
    """
    if _is_dataframe(X):
        return str(X.columns[position])
    # None too for a Pipeline whose first step has no names.
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and len(names) == X.shape[1]:
        return str(names[position])
    return f"feature {position}"


class _MixtureDisplayMixin:
    """The checks every display starts with, and where it keeps its axes.

    ``from_estimator`` takes a fitted mixture or a fitted Pipeline whose last
    step is one, as the functions of :mod:`skmoe.inspection` do, with the same
    unwrapping helper.
    """

    @classmethod
    def _caller(cls):
        return f"{cls.__name__}.from_estimator"

    @classmethod
    def _validate_from_estimator_params(cls, estimator, X=None):
        """Check matplotlib and the estimator.

        Returns the mixture and, if given, ``X`` as the mixture sees it (after
        the Pipeline's other steps).
        """
        _check_matplotlib(cls._caller())
        return _unwrap_mixture(estimator, X, caller=cls._caller())

    @classmethod
    def _mixture_input(cls, estimator, X):
        """``X`` as the mixture at the end of ``estimator`` sees it."""
        return _unwrap_mixture(estimator, X, caller=cls._caller())[1]

    def _validate_plot_params(self):
        """Check that matplotlib can be imported, naming this ``plot``."""
        _check_matplotlib(f"{type(self).__name__}.plot")

    def _set_axes(self, ax):
        """Keep the axes drawn on and their figure as ``ax_`` and ``figure_``."""
        self.ax_ = ax
        self.figure_ = ax.figure
