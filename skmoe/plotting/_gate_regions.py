"""GateRegionsDisplay: the region of the input each expert is trusted with."""

import numbers

import numpy as np

from ._common import (
    _as_table,
    _check_int,
    _column,
    _expert_colors,
    _expert_names,
    _feature_label,
    _feature_position,
    _grid_rows,
    _held_title,
    _MixtureDisplayMixin,
    _new_axes,
    _numeric_column,
    _reference_row,
    _sees_input,
    _style,
)


class GateRegionsDisplay(_MixtureDisplayMixin):
    """The region of the plane the gate hands to each expert.

    Over a grid of two features (those the gate sees, or any two you choose,
    the others held at their medians or a given row), each point is coloured
    by the expert the gate trusts most there (the argmax of ``gate_proba``);
    thin contour lines of the top gate probability show where the gate is sure
    and where it hands over. The data points are coloured by the expert they
    are routed to (``predict_expert``), with the same colours as the regions.

    Use :meth:`from_estimator` to build one from a fitted mixture. All
    parameters are stored as attributes.

    Parameters
    ----------
    xx0, xx1 : ndarray of shape (n_rows, n_cols)
        The grid, as returned by :func:`numpy.meshgrid`: first and second
        feature.
    gate_proba : ndarray of shape (n_rows, n_cols, n_experts)
        The gate's probability of each expert at each grid point.
    expert_names : list of str
        Expert names, in the order of the last axis of ``gate_proba``.
    data : ndarray of shape (n_samples, 2) or None, default=None
        Data points to draw (their two features).
    data_experts : ndarray of shape (n_samples,) or None, default=None
        Index of the expert each data point is routed to; colours the points.
    xlabel, ylabel : str or None, default=None
        Axis labels; None uses "first feature" and "second feature".

    Attributes
    ----------
    regions : ndarray of int of shape (n_rows, n_cols)
        Index of the most trusted expert at each grid point.
    confidence : ndarray of shape (n_rows, n_cols)
        The top gate probability at each grid point.
    surface_ : matplotlib QuadContourSet
        The filled regions: one level per expert, level ``i`` for expert ``i``
        (unless ``levels`` are passed to :meth:`plot`).
    confidence_ : matplotlib QuadContourSet or None
        Contour lines of ``confidence``; None if not drawn (one expert, or
        ``confidence_levels`` outside the range of the confidence).
    scatter_ : matplotlib PathCollection or None
        The data points; None without data.
    legend_ : matplotlib Legend
        One entry per expert, labelled with its name.
    colors_ : ndarray of shape (n_experts, 4)
        The RGBA colour of each expert: from ``colors``, or from a ``cmap``
        passed to :meth:`plot`.
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure of ``ax_``.

    See Also
    --------
    sklearn.inspection.DecisionBoundaryDisplay : The same idea for classifiers.
    ExpertUsageDisplay : How many rows each expert receives.

    Examples
    --------
    >>> import numpy as np
    >>> from skmoe import MixtureOfExpertsRegressor
    >>> from skmoe.plotting import GateRegionsDisplay
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, size=(200, 2))
    >>> y = np.where(X[:, 0] > 0, 3 * X[:, 1], -2 * X[:, 1])
    >>> y += 0.1 * rng.standard_normal(200)
    >>> moe = MixtureOfExpertsRegressor(n_experts=2, random_state=0).fit(X, y)
    >>> disp = GateRegionsDisplay.from_estimator(moe, X, grid_resolution=50)
    >>> disp.regions.shape
    (50, 50)
    >>> [t.get_text() for t in disp.legend_.get_texts()]
    ['expert0', 'expert1']

    A gate on more columns, drawn over two of them by name:

    >>> import pandas as pd
    >>> frame = pd.DataFrame(X, columns=["a", "b"]).assign(c=rng.randn(200))
    >>> moe = MixtureOfExpertsRegressor(n_experts=2, random_state=0).fit(frame, y)
    >>> disp = GateRegionsDisplay.from_estimator(
    ...     moe, frame, features=["a", "b"], grid_resolution=50)
    >>> disp.ax_.get_xlabel(), disp.ax_.get_ylabel()
    ('a', 'b')
    """

    def __init__(
        self,
        *,
        xx0,
        xx1,
        gate_proba,
        expert_names,
        data=None,
        data_experts=None,
        xlabel=None,
        ylabel=None,
    ):
        self.xx0 = xx0
        self.xx1 = xx1
        self.gate_proba = gate_proba
        self.expert_names = expert_names
        self.data = data
        self.data_experts = data_experts
        self.xlabel = xlabel
        self.ylabel = ylabel
        gate = np.asarray(gate_proba)
        self.regions = np.argmax(gate, axis=-1)
        self.confidence = np.max(gate, axis=-1)

    def plot(
        self,
        ax=None,
        *,
        colors=None,
        alpha=0.35,
        confidence_levels=(0.6, 0.8, 0.95),
        title=None,
        **kwargs,
    ):
        """Draw the regions, the confidence contours and the data.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            Axes to draw on; None makes a new figure.
        colors : str, list of colours or None, default=None
            The experts' colours: a colormap name or one colour per expert.
            A qualitative map (``"tab10"``) gives its colours in turn and
            must hold one per expert; a continuous one (``"viridis"``) is
            spread over its range. None: ``tab10``, ``tab20``, then ``turbo``.
            None: ``tab10`` (``tab20``, then ``turbo``, for more experts).
        alpha : float, default=0.35
            Opacity of the filled regions.
        confidence_levels : sequence of float or None, default=(0.6, 0.8, 0.95)
            Top gate probabilities at which to draw labelled contour lines
            (a sequence even for one level: ``(0.7,)``); levels the top gate
            probability does not cross are left out. None or empty draws
            none.
        title : str or None, default=None
            Axes title; None: "Gate regions: expert trusted most".
        **kwargs
            Passed to :meth:`~matplotlib.axes.Axes.contourf` for the filled
            regions, over the display's own ``levels`` (one per expert),
            ``colors`` (the experts') and ``zorder=-1``: a value given here
            wins. A ``cmap`` replaces the experts' colours: the regions, the
            data points, the legend and ``colors_`` then take the colour the
            colormap gives each expert's index (a ``cmap`` together with
            ``colors`` raises a ValueError). Other ``levels`` no longer give
            each expert a level of its own.

        Returns
        -------
        display : GateRegionsDisplay
            ``self``, with the artists as attributes.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe.plotting import GateRegionsDisplay
        >>> xx0, xx1 = np.meshgrid(np.linspace(-1, 1, 4), np.linspace(-1, 1, 3))
        >>> left = np.where(xx0 < 0, 0.9, 0.1)
        >>> gate = np.stack([left, 1 - left], axis=-1)
        >>> disp = GateRegionsDisplay(
        ...     xx0=xx0, xx1=xx1, gate_proba=gate, expert_names=["left", "right"]
        ... ).plot(confidence_levels=None)
        >>> disp.regions.tolist()
        [[0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 1, 1]]
        >>> disp.confidence_ is None
        True
        """
        self._validate_plot_params()
        confidence_levels = _check_confidence_levels(confidence_levels)
        if colors is not None and kwargs.get("cmap") is not None:
            raise ValueError(
                "Pass the experts' colours either as 'colors' or as a 'cmap' "
                f"keyword argument, not both; got colors={colors!r} and "
                f"cmap={kwargs['cmap']!r}."
            )
        ax = _new_axes(ax)
        self.colors_ = _expert_colors(len(self.expert_names), colors)
        self._draw_regions(ax, alpha, kwargs)
        self._draw_confidence(ax, confidence_levels)
        self._draw_data(ax)
        self._draw_legend(ax)
        ax.set_xlabel(self.xlabel or "first feature")
        ax.set_ylabel(self.ylabel or "second feature")
        ax.set_title(title or "Gate regions: expert trusted most")
        self._set_axes(ax)
        return self

    # ---- drawing steps of plot ---------------------------------------------

    def _draw_regions(self, ax, alpha, kwargs):
        """One filled level per expert: level ``i`` where expert ``i`` leads.

        The user's ``kwargs`` win over these defaults; a ``cmap`` among them
        replaces the experts' colours, here and in ``colors_``.
        """
        n_experts = len(self.expert_names)
        defaults = {
            "levels": np.arange(n_experts + 1) - 0.5,
            "colors": self.colors_,
            "alpha": alpha,
            "zorder": -1,
        }
        with_cmap = kwargs.get("cmap") is not None
        if with_cmap:
            del defaults["colors"]
        self.surface_ = ax.contourf(
            *_nearest_cells(self.xx0, self.xx1, self.regions),
            **_style(defaults, kwargs),
        )
        if with_cmap:
            self.colors_ = self.surface_.to_rgba(np.arange(n_experts))

    def _draw_confidence(self, ax, confidence_levels):
        """Labelled contours of the top gate probability, at the levels it
        crosses (a single expert has no hand-over to show)."""
        self.confidence_ = None
        levels = [
            level
            for level in confidence_levels
            if self.confidence.min() < level < self.confidence.max()
        ]
        if levels and len(self.expert_names) > 1:
            self.confidence_ = ax.contour(
                self.xx0,
                self.xx1,
                self.confidence,
                levels=sorted(levels),
                colors="0.25",
                linewidths=0.7,
                linestyles="dotted",
                zorder=0,
            )
            ax.clabel(self.confidence_, fontsize=7, fmt="%.2g")

    def _draw_data(self, ax):
        """The data points, in the colour of the expert each is routed to."""
        self.scatter_ = None
        if self.data is None:
            return
        data = np.asarray(self.data)
        if self.data_experts is None:
            point_colors = "0.3"
        else:
            point_colors = self.colors_[np.asarray(self.data_experts)]
        self.scatter_ = ax.scatter(
            data[:, 0],
            data[:, 1],
            c=point_colors,
            s=14,
            edgecolors="black",
            linewidths=0.4,
            zorder=2,
        )

    def _draw_legend(self, ax):
        from matplotlib.patches import Patch

        handles = [
            Patch(facecolor=color, edgecolor="black", linewidth=0.4, label=name)
            for color, name in zip(self.colors_, self.expert_names, strict=True)
        ]
        self.legend_ = ax.legend(
            handles=handles, title="expert", loc="best", fontsize="small"
        )

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        features=None,
        held_at="median",
        grid_resolution=200,
        eps=0.5,
        plot_data=True,
        ax=None,
        colors=None,
        alpha=0.35,
        confidence_levels=(0.6, 0.8, 0.95),
        title=None,
        **kwargs,
    ):
        """Compute the gate's regions of a fitted mixture and draw them.

        Two features of ``X`` span the grid; every other column is held at one
        value on the whole grid (its median, or that of a given row), as in a
        partial dependence plot. When the gate sees exactly these two
        features, the regions are the gate's in full; when it sees more, they
        are a slice through its regions at the held values.

        Parameters
        ----------
        estimator : MixtureOfExpertsRegressor, MixtureOfExpertsClassifier or \
                Pipeline
            A fitted mixture or CV variant, or a fitted Pipeline whose last step
            is one (the grid is laid in the Pipeline's input columns and sent
            through its other steps). A mixture of one expert has no gate: it is
            drawn as one region. For a hierarchical mixture, the regions are
            those of the top-level gate.
        X : array-like or DataFrame of shape (n_samples, n_features)
            Data as the estimator takes it: sets the extent of the grid and
            the held values, and, with ``plot_data``, is drawn.
        features : pair of int or str, or None, default=None
            The two columns of ``X`` spanning the grid: indices, or column
            names of a DataFrame. None: X's two columns if it has two, else the
            two features the gate sees (``gate_features_``), if it sees two
            and takes X unchanged (a mixture, or a CV variant through its
            ``best_estimator_``, not behind a Pipeline's transformers).
        held_at : "median" or a row of X, default="median"
            Where the other columns are held: each column's median (the most
            frequent value of a column of text, categories or booleans), or
            the values of one row
            (a Series with X's columns, a one-row DataFrame or an array).
        grid_resolution : int >= 2, default=200
            Grid points along each axis.
        eps : float >= 0, default=0.5
            Margin added to each side of the data's range, in the units of
            each feature.
        plot_data : bool, default=True
            Draw the rows of ``X``, coloured by the expert the gate trusts most
            for each. When the gate sees other columns too, a row's expert
            depends on its own values of them, so a point may sit in another
            expert's region: a sign that those columns matter.
        ax : matplotlib Axes or None, default=None
            Axes to draw on; None makes a new figure.
        colors : str, list of colours or None, default=None
            The experts' colours. As in :meth:`plot`.
        alpha : float, default=0.35
            Opacity of the filled regions. As in :meth:`plot`.
        confidence_levels : sequence of float or None, default=(0.6, 0.8, 0.95)
            Top gate probabilities at which to draw contour lines. As in
            :meth:`plot`.
        title : str or None, default=None
            Axes title, as in :meth:`plot`. When the gate sees other columns,
            the default title says where they are held.
        **kwargs
            Passed to :meth:`~matplotlib.axes.Axes.contourf` for the filled
            regions, as in :meth:`plot`.

        Returns
        -------
        display : GateRegionsDisplay
            The display, with the artists as attributes.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> from skmoe.plotting import GateRegionsDisplay
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(100, 2))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 1], 4 - X[:, 1])
        >>> y += 0.1 * rng.standard_normal(100)
        >>> moe = MixtureOfExpertsRegressor(n_init=1, random_state=0).fit(X, y)
        >>> disp = GateRegionsDisplay.from_estimator(moe, X, grid_resolution=20)
        >>> disp.gate_proba.shape, sorted(np.unique(disp.regions).tolist())
        ((20, 20, 2), [0, 1])
        """
        mixture, _ = cls._validate_from_estimator_params(estimator)
        X = _as_table(X, cls._caller())
        grid_resolution = _check_int(grid_resolution, "grid_resolution", 2)
        eps = _check_eps(eps)
        _check_confidence_levels(confidence_levels)
        positions = _two_features(X, features, estimator, mixture, cls._caller())
        axes = [
            np.linspace(column.min() - eps, column.max() + eps, grid_resolution)
            for column in (_numeric_column(X, p, "features") for p in positions)
        ]
        xx0, xx1 = np.meshgrid(*axes)
        rows = _grid_rows(
            _reference_row(X, held_at), positions, [xx0.ravel(), xx1.ravel()]
        )
        gate = mixture.gate_proba(cls._mixture_input(estimator, rows))
        data = data_experts = None
        if plot_data:
            data = np.column_stack([_column(X, p) for p in positions])
            data = data.astype(np.float64)
            data_experts = mixture.predict_expert(cls._mixture_input(estimator, X))
        labels = [_feature_label(X, estimator, p) for p in positions]
        display = cls(
            xx0=xx0,
            xx1=xx1,
            gate_proba=gate.reshape(*xx0.shape, gate.shape[1]),
            expert_names=_expert_names(mixture),
            data=data,
            data_experts=data_experts,
            xlabel=labels[0],
            ylabel=labels[1],
        )
        if title is None:
            title = _held_title(
                "Gate regions: expert trusted most",
                estimator,
                mixture,
                X,
                positions,
                held_at,
            )
        return display.plot(
            ax=ax,
            colors=colors,
            alpha=alpha,
            confidence_levels=confidence_levels,
            title=title,
            **kwargs,
        )


def _two_features(X, features, estimator, mixture, caller):
    """Positions in X of the two features spanning the grid."""
    if features is None:
        if X.shape[1] == 2:
            return [0, 1]
        gate_columns = np.asarray(mixture.gate_features_)
        if _sees_input(estimator) and len(gate_columns) == 2:
            return [int(column) for column in gate_columns]
        raise ValueError(
            f"{caller} needs 'features', the two columns of X spanning the "
            f"grid: X has {X.shape[1]} columns and the gate sees "
            f"{len(gate_columns)} features (gate_features_="
            f"{gate_columns.tolist()}); got features=None."
        )
    if isinstance(features, str) or np.ndim(features) != 1 or len(features) != 2:
        raise ValueError(
            f"'features' must be two columns of X (indices or names); got {features!r}."
        )
    positions = [_feature_position(X, feature, "features") for feature in features]
    if positions[0] == positions[1]:
        raise ValueError(
            f"'features' must be two different columns of X; got {features!r}."
        )
    return positions


def _check_eps(eps):
    """``eps`` as a finite float >= 0."""
    message = f"'eps' must be a finite float >= 0; got {eps!r}."
    if not isinstance(eps, numbers.Real) or isinstance(eps, bool):
        raise TypeError(message)
    if not (np.isfinite(eps) and eps >= 0):
        raise ValueError(message)
    return float(eps)


def _nearest_cells(xx0, xx1, regions):
    """The grid and its expert indices made piecewise constant, for contourf.

    contourf interpolates between grid points: where experts 0 and 2 meet,
    the interpolated index passes 1, and expert 1 was painted in a band
    between them though it leads nowhere there. Each grid point here keeps
    its index up to the midpoints with its neighbours, where the index steps
    within a ``1e-6`` of a cell: the band is gone, to well under a pixel.

    Parameters
    ----------
    xx0, xx1 : ndarray of shape (n1, n0)
        A grid as :func:`numpy.meshgrid` returns it.
    regions : ndarray of shape (n1, n0)

    Returns
    -------
    xx0, xx1, regions : ndarray of shape (2 n1, 2 n0)
    """

    def stairs(values):
        # Each point, then both sides of the midpoint to its neighbour.
        gap = 1e-6 * np.diff(values)
        middle = (values[:-1] + values[1:]) / 2
        edges = np.column_stack([middle - gap, middle + gap]).ravel()
        return np.concatenate([values[:1], edges, values[-1:]])

    def repeat(index):
        # The point's own value on its side of each midpoint.
        return np.repeat(index, 2)

    x0, x1 = stairs(xx0[0]), stairs(xx1[:, 0])
    rows, columns = repeat(np.arange(xx0.shape[0])), repeat(np.arange(xx0.shape[1]))
    grid0, grid1 = np.meshgrid(x0, x1)
    return grid0, grid1, regions[np.ix_(rows, columns)]


def _check_confidence_levels(levels):
    """``confidence_levels`` as a list of floats; None is none. Levels the
    confidence does not cross are left out when drawing, not here."""
    if levels is None:
        return []
    allowed = "None or a sequence of numbers, such as (0.7,) for one level"
    if isinstance(levels, str) or not np.iterable(levels):
        raise TypeError(f"'confidence_levels' must be {allowed}; got {levels!r}.")
    levels = list(levels)
    for level in levels:
        if not isinstance(level, numbers.Real) or isinstance(level, bool):
            raise TypeError(
                f"'confidence_levels' must be {allowed}; got {levels!r}, which "
                f"holds {level!r}."
            )
    # Sorted and once each, as contour needs them.
    return sorted({float(level) for level in levels})
