"""Displays that draw what a fitted mixture of experts has learned.

Four displays, in the style of scikit-learn's (``RocCurveDisplay``,
``DecisionBoundaryDisplay``): each holds the computed arrays, ``plot`` draws
them and ``from_estimator`` computes them from a fitted
:class:`~skmoe.MixtureOfExpertsRegressor` or
:class:`~skmoe.MixtureOfExpertsClassifier` and draws.

- :class:`GateRegionsDisplay`: the region of the plane each expert is trusted
  with by the gate (two gate features), and the data coloured by expert.
- :class:`ExpertCurvesDisplay`: 1-D regression: every expert's curve, the
  mixture mean with a band of two predictive standard deviations, and the
  gate's probabilities in a panel below.
- :class:`ConvergenceDisplay`: the EM log-likelihood per iteration of every
  start, the kept start highlighted.
- :class:`ExpertUsageDisplay`: the share of rows routed to each expert and the
  gate's mean confidence on them.

Expert ``i`` has the same colour in every display. matplotlib is needed to
draw (``pip install "skmoe[plot]"``); importing this module does not import it.
"""

import numpy as np
from sklearn.utils.validation import check_array, check_is_fitted

__all__ = [
    "ConvergenceDisplay",
    "ExpertCurvesDisplay",
    "ExpertUsageDisplay",
    "GateRegionsDisplay",
]

_INSTALL = 'pip install "skmoe[plot]"'


# ---- helpers ------------------------------------------------------------------


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
    from ._base import _BaseMixtureOfExperts

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


# ---- gate regions -------------------------------------------------------------


class GateRegionsDisplay:
    """The region of the plane the gate hands to each expert.

    Over a grid of the two features the gate sees, each point is coloured by
    the expert the gate trusts most there (the argmax of ``gate_proba``); thin
    contour lines of the top gate probability show where the gate is sure and
    where it hands over. The data points are coloured by the expert they are
    routed to (``predict_expert``), with the same colours as the regions.

    Use :meth:`from_estimator` to build one from a fitted mixture. All
    parameters are stored as attributes.

    Parameters
    ----------
    xx0, xx1 : ndarray of shape (n_rows, n_cols)
        The grid, as returned by :func:`numpy.meshgrid`: first and second gate
        feature.
    gate_proba : ndarray of shape (n_rows, n_cols, n_experts)
        The gate's probability of each expert at each grid point.
    expert_names : list of str
        Expert names, in the order of the last axis of ``gate_proba``.
    data : ndarray of shape (n_samples, 2) or None, default=None
        Data points to draw (the two gate features).
    data_experts : ndarray of shape (n_samples,) or None, default=None
        Index of the expert each data point is routed to; colours the points.
    xlabel, ylabel : str or None, default=None
        Axis labels; None uses "first gate feature" and "second gate feature".

    Attributes
    ----------
    regions : ndarray of int of shape (n_rows, n_cols)
        Index of the most trusted expert at each grid point.
    confidence : ndarray of shape (n_rows, n_cols)
        The top gate probability at each grid point.
    surface_ : matplotlib QuadContourSet
        The filled regions: one level per expert, level ``i`` for expert ``i``.
    confidence_ : matplotlib QuadContourSet or None
        Contour lines of ``confidence``; None if not drawn (one expert, or
        ``confidence_levels`` outside the range of the confidence).
    scatter_ : matplotlib PathCollection or None
        The data points; None without data.
    legend_ : matplotlib Legend
        One entry per expert, labelled with its name.
    colors_ : ndarray of shape (n_experts, 4)
        The RGBA colour of each expert.
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure of ``ax_``.

    See Also
    --------
    sklearn.inspection.DecisionBoundaryDisplay : the same idea for classifiers.
    ExpertUsageDisplay : how many rows each expert receives.

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
            None: ``tab10`` (``tab20``, then ``turbo``, for more experts).
        alpha : float, default=0.35
            Opacity of the filled regions.
        confidence_levels : sequence of float or None, default=(0.6, 0.8, 0.95)
            Top gate probabilities at which to draw labelled contour lines.
            None or empty draws none.
        title : str or None, default=None
            Axes title; None: "Gate regions: expert trusted most".
        **kwargs
            Passed to :meth:`~matplotlib.axes.Axes.contourf`.

        Returns
        -------
        display : GateRegionsDisplay
            ``self``, with the artists as attributes.
        """
        _check_matplotlib(f"{type(self).__name__}.plot")
        from matplotlib.patches import Patch

        ax = _new_axes(ax)
        n_experts = len(self.expert_names)
        self.colors_ = _expert_colors(n_experts, colors)
        kwargs.setdefault("zorder", -1)
        self.surface_ = ax.contourf(
            self.xx0,
            self.xx1,
            self.regions,
            levels=np.arange(n_experts + 1) - 0.5,
            colors=self.colors_,
            alpha=alpha,
            **kwargs,
        )
        self.confidence_ = None
        levels = [
            level
            for level in (confidence_levels or ())
            if self.confidence.min() < level < self.confidence.max()
        ]
        if levels and n_experts > 1:
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
        self.scatter_ = None
        if self.data is not None:
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
        handles = [
            Patch(facecolor=color, edgecolor="black", linewidth=0.4, label=name)
            for color, name in zip(self.colors_, self.expert_names, strict=True)
        ]
        self.legend_ = ax.legend(
            handles=handles, title="expert", loc="best", fontsize="small"
        )
        ax.set_xlabel(self.xlabel or "first gate feature")
        ax.set_ylabel(self.ylabel or "second gate feature")
        ax.set_title(title or "Gate regions: expert trusted most")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
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

        The gate must see exactly two features (``gate_features_``); they span
        the grid. ``X`` has every column the mixture was fitted on; the columns
        the gate does not see are held at their medians on the grid (they do
        not change the gate, only the experts).

        Parameters
        ----------
        estimator : MixtureOfExpertsRegressor or MixtureOfExpertsClassifier
            A fitted mixture whose gate sees two features. A mixture of one
            expert has no gate: it is drawn as one region. For a hierarchical
            mixture, the regions are those of the top-level gate.
        X : array-like of shape (n_samples, n_features)
            Data: sets the extent of the grid and, with ``plot_data``, is drawn.
        grid_resolution : int, default=200
            Grid points along each axis.
        eps : float, default=0.5
            Margin added to each side of the data's range, in the units of
            each feature.
        plot_data : bool, default=True
            Draw the rows of ``X``, coloured by ``predict_expert(X)``.
        ax : matplotlib Axes or None, default=None
            Axes to draw on; None makes a new figure.
        colors, alpha, confidence_levels, title, **kwargs
            As in :meth:`plot`.

        Returns
        -------
        display : GateRegionsDisplay
        """
        caller = f"{cls.__name__}.from_estimator"
        _check_matplotlib(caller)
        _check_mixture(estimator, caller)
        gate_columns = np.asarray(estimator.gate_features_)
        if len(gate_columns) != 2:
            raise ValueError(
                f"{caller} draws a gate that sees exactly 2 features; this "
                f"mixture's gate sees {len(gate_columns)} (gate_features_="
                f"{gate_columns.tolist()}). Fit it with gate_features selecting "
                "two columns."
            )
        if int(grid_resolution) < 2:
            raise ValueError(
                f"'grid_resolution' must be an int >= 2; got {grid_resolution!r}."
            )
        values = check_array(X, dtype=np.float64)
        if values.shape[1] != estimator.n_features_in_:
            raise ValueError(
                f"X has {values.shape[1]} features, but the mixture was fitted "
                f"on {estimator.n_features_in_}."
            )
        data = values[:, gate_columns]
        axes = [
            np.linspace(column.min() - eps, column.max() + eps, int(grid_resolution))
            for column in data.T
        ]
        xx0, xx1 = np.meshgrid(*axes)
        grid = np.tile(np.median(values, axis=0), (xx0.size, 1))
        grid[:, gate_columns[0]] = xx0.ravel()
        grid[:, gate_columns[1]] = xx1.ravel()
        gate = estimator.gate_proba(_like_input(X, grid))
        display = cls(
            xx0=xx0,
            xx1=xx1,
            gate_proba=gate.reshape(*xx0.shape, gate.shape[1]),
            expert_names=_expert_names(estimator),
            data=data if plot_data else None,
            data_experts=estimator.predict_expert(X) if plot_data else None,
            xlabel=_feature_label(estimator, gate_columns[0]),
            ylabel=_feature_label(estimator, gate_columns[1]),
        )
        return display.plot(
            ax=ax,
            colors=colors,
            alpha=alpha,
            confidence_levels=confidence_levels,
            title=title,
            **kwargs,
        )


# ---- expert curves ------------------------------------------------------------


class ExpertCurvesDisplay:
    """Experts, mixture mean and predictive band of a 1-D regression mixture.

    The top panel shows the data, every expert's prediction over a grid of
    the input (dashed, one colour per expert), the mixture's mean (black) and a
    band of two predictive standard deviations around it (grey). The panel
    below shares the x axis and shows the gate's probability of each expert,
    in the same colours: where a curve is high, its expert is trusted.

    Use :meth:`from_estimator` to build one from a fitted
    :class:`~skmoe.MixtureOfExpertsRegressor`. All parameters are stored as
    attributes.

    Parameters
    ----------
    grid : ndarray of shape (n_points,)
        Input values at which everything is evaluated.
    expert_curves : ndarray of shape (n_points, n_experts)
        Each expert's prediction on the grid.
    mean, std : ndarray of shape (n_points,)
        The mixture's predictive mean and standard deviation on the grid.
    gate_proba : ndarray of shape (n_points, n_experts)
        The gate's probability of each expert on the grid.
    expert_names : list of str
        Expert names, in the order of the columns.
    x_data, y_data : ndarray of shape (n_samples,) or None, default=None
        Data points to draw.
    xlabel : str or None, default=None
        Label of the input axis; None: "x".

    Attributes
    ----------
    expert_lines_ : list of matplotlib Line2D
        One per expert, labelled with its name.
    mean_line_ : matplotlib Line2D
        The mixture mean.
    band_ : matplotlib PolyCollection
        The band ``mean - 2 std`` to ``mean + 2 std``.
    scatter_ : matplotlib PathCollection or None
        The data; None without data.
    gate_lines_ : list of matplotlib Line2D
        The gate's probability of each expert; empty without the gate panel.
    colors_ : ndarray of shape (n_experts, 4)
        The RGBA colour of each expert.
    ax_ : matplotlib Axes
        The top panel.
    gate_ax_ : matplotlib Axes or None
        The gate panel; None if not drawn.
    figure_ : matplotlib Figure
        The figure of ``ax_``.

    See Also
    --------
    GateRegionsDisplay : the gate of a mixture on two features.

    Examples
    --------
    >>> import numpy as np
    >>> from skmoe import MixtureOfExpertsRegressor
    >>> from skmoe.plotting import ExpertCurvesDisplay
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-3, 3, size=(100, 1))
    >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
    >>> y += 0.1 * rng.standard_normal(100)
    >>> moe = MixtureOfExpertsRegressor(n_experts=2, random_state=0).fit(X, y)
    >>> disp = ExpertCurvesDisplay.from_estimator(moe, X, y, n_points=50)
    >>> len(disp.expert_lines_), len(disp.gate_lines_)
    (2, 2)
    >>> disp.gate_ax_.get_ylabel()
    'gate probability'
    """

    def __init__(
        self,
        *,
        grid,
        expert_curves,
        mean,
        std,
        gate_proba,
        expert_names,
        x_data=None,
        y_data=None,
        xlabel=None,
    ):
        self.grid = grid
        self.expert_curves = expert_curves
        self.mean = mean
        self.std = std
        self.gate_proba = gate_proba
        self.expert_names = expert_names
        self.x_data = x_data
        self.y_data = y_data
        self.xlabel = xlabel

    def plot(
        self,
        ax=None,
        *,
        gate_ax=None,
        plot_gate=True,
        colors=None,
        title=None,
        **kwargs,
    ):
        """Draw the curves, the band, the data and the gate panel.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            Axes for the curves. None makes a new figure with both panels.
            Given without ``gate_ax``, the gate panel is split off its bottom.
        gate_ax : matplotlib Axes or None, default=None
            Axes for the gate panel; needs ``ax``. Its x axis is shared with
            ``ax``.
        plot_gate : bool, default=True
            Draw the gate panel; False draws the top panel only.
        colors : str, list of colours or None, default=None
            The experts' colours: a colormap name or one colour per expert.
        title : str or None, default=None
            Title of the top panel; None: "Experts and mixture".
        **kwargs
            Passed to :meth:`~matplotlib.axes.Axes.plot` for the expert curves.

        Returns
        -------
        display : ExpertCurvesDisplay
            ``self``, with the artists as attributes.
        """
        _check_matplotlib(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        if gate_ax is not None and ax is None:
            raise ValueError("'gate_ax' needs 'ax': pass both axes, or neither.")
        if ax is None:
            if plot_gate:
                _, (ax, gate_ax) = plt.subplots(
                    2,
                    1,
                    sharex=True,
                    figsize=(6.4, 5.6),
                    height_ratios=(3, 1.3),
                    layout="constrained",
                )
            else:
                _, ax = plt.subplots()
        elif plot_gate and gate_ax is None:
            from mpl_toolkits.axes_grid1 import make_axes_locatable

            gate_ax = make_axes_locatable(ax).append_axes(
                "bottom", size="35%", pad=0.15, sharex=ax
            )
        if not plot_gate:
            gate_ax = None

        grid = np.asarray(self.grid)
        curves = np.asarray(self.expert_curves)
        mean, std = np.asarray(self.mean), np.asarray(self.std)
        self.colors_ = _expert_colors(len(self.expert_names), colors)

        self.scatter_ = None
        if self.x_data is not None and self.y_data is not None:
            self.scatter_ = ax.scatter(
                self.x_data,
                self.y_data,
                s=10,
                color="0.45",
                alpha=0.6,
                linewidths=0,
                label="data",
                zorder=1,
            )
        self.band_ = ax.fill_between(
            grid,
            mean - 2 * std,
            mean + 2 * std,
            color="0.5",
            alpha=0.25,
            linewidth=0,
            label="mean ± 2 std",
            zorder=0,
        )
        line_kwargs = {"linestyle": "--", "linewidth": 1.5, **kwargs}
        self.expert_lines_ = [
            ax.plot(grid, curves[:, i], color=color, label=name, **line_kwargs)[0]
            for i, (color, name) in enumerate(
                zip(self.colors_, self.expert_names, strict=True)
            )
        ]
        (self.mean_line_,) = ax.plot(
            grid, mean, color="black", linewidth=2, label="mixture mean", zorder=3
        )
        # The y range follows the data and the band, not experts extrapolating
        # far outside the rows they are trusted with.
        low = np.min(mean - 2 * std)
        high = np.max(mean + 2 * std)
        if self.scatter_ is not None:
            low = min(low, np.min(self.y_data))
            high = max(high, np.max(self.y_data))
        pad = 0.08 * (high - low) if high > low else 1.0
        ax.set_ylim(low - pad, high + pad)
        ax.set_ylabel("y")
        ax.set_title(title or "Experts and mixture")
        ax.legend(loc="best", fontsize="small")

        self.gate_lines_ = []
        xlabel = self.xlabel or "x"
        if gate_ax is not None:
            shared = gate_ax.get_shared_x_axes().joined(gate_ax, ax)
            if not shared:
                try:
                    gate_ax.sharex(ax)
                except ValueError:  # already shared with other axes
                    gate_ax.set_xlim(ax.get_xlim())
            gate = np.asarray(self.gate_proba)
            self.gate_lines_ = [
                gate_ax.plot(grid, gate[:, i], color=color, lw=1.5, label=name)[0]
                for i, (color, name) in enumerate(
                    zip(self.colors_, self.expert_names, strict=True)
                )
            ]
            gate_ax.set_ylim(-0.05, 1.05)
            gate_ax.set_ylabel("gate probability")
            gate_ax.set_xlabel(xlabel)
            ax.tick_params(labelbottom=False)
            ax.set_xlabel("")
        else:
            ax.set_xlabel(xlabel)
        ax.set_xlim(grid.min(), grid.max())
        self.ax_ = ax
        self.gate_ax_ = gate_ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y=None,
        *,
        n_points=200,
        ax=None,
        gate_ax=None,
        plot_gate=True,
        colors=None,
        title=None,
        **kwargs,
    ):
        """Evaluate a fitted 1-D regression mixture on a grid and draw it.

        Parameters
        ----------
        estimator : MixtureOfExpertsRegressor
            A fitted mixture with one input feature.
        X : array-like of shape (n_samples, 1)
            The input; its range sets the grid.
        y : array-like of shape (n_samples,) or None, default=None
            Targets, drawn with ``X``; None draws no data.
        n_points : int, default=200
            Number of grid points.
        ax, gate_ax, plot_gate, colors, title, **kwargs
            As in :meth:`plot`.

        Returns
        -------
        display : ExpertCurvesDisplay
        """
        from ._regressor import MixtureOfExpertsRegressor

        caller = f"{cls.__name__}.from_estimator"
        _check_matplotlib(caller)
        _check_mixture(estimator, caller)
        if not isinstance(estimator, MixtureOfExpertsRegressor):
            raise TypeError(
                f"{caller} needs a 1-D regression mixture "
                f"(MixtureOfExpertsRegressor with one input feature); got a "
                f"{type(estimator).__name__}. GateRegionsDisplay and "
                "ExpertUsageDisplay also draw classifiers."
            )
        values = check_array(X, dtype=np.float64)
        if values.shape[1] != 1 or estimator.n_features_in_ != 1:
            raise ValueError(
                f"{caller} needs a 1-D regression mixture: X with one column and "
                f"a mixture fitted on one feature; got X with {values.shape[1]} "
                f"columns and a mixture fitted on {estimator.n_features_in_}."
            )
        if int(n_points) < 2:
            raise ValueError(f"'n_points' must be an int >= 2; got {n_points!r}.")
        y_data = None
        if y is not None:
            y_data = np.asarray(y, dtype=np.float64).ravel()
            if len(y_data) != len(values):
                raise ValueError(
                    f"y has {len(y_data)} samples but X has {len(values)}; they "
                    "must match."
                )
        grid = np.linspace(values.min(), values.max(), int(n_points))
        grid_X = _like_input(X, grid[:, np.newaxis])
        mean, std = estimator.predict(grid_X, return_std=True)
        display = cls(
            grid=grid,
            expert_curves=estimator.expert_predictions(grid_X),
            mean=mean,
            std=std,
            gate_proba=estimator.gate_proba(grid_X),
            expert_names=_expert_names(estimator),
            x_data=values[:, 0] if y_data is not None else None,
            y_data=y_data,
            xlabel=_feature_label(estimator, 0),
        )
        return display.plot(
            ax=ax,
            gate_ax=gate_ax,
            plot_gate=plot_gate,
            colors=colors,
            title=title,
            **kwargs,
        )


# ---- convergence --------------------------------------------------------------


class ConvergenceDisplay:
    """The EM log-likelihood per iteration, one curve per start.

    Each of the ``n_init`` starts is a grey line; the start the mixture kept
    (``best_start_``) is drawn thick and coloured, with a dot at its last
    iteration. The y axis is the mean log-likelihood per unit sample weight
    (``log_likelihoods_``), the x axis the EM iteration, from 1.

    Use :meth:`from_estimator` to build one from a fitted mixture. All
    parameters are stored as attributes.

    Parameters
    ----------
    curves : list of ndarray of shape (n_iterations,)
        The log-likelihood after each iteration of every start.
    best_start : int or None, default=None
        Index of the kept start, highlighted; None highlights none.

    Attributes
    ----------
    lines_ : list of matplotlib Line2D
        One per start, in the order of ``curves``.
    best_line_ : matplotlib Line2D or None
        ``lines_[best_start]``, labelled "start i (kept)".
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure of ``ax_``.

    See Also
    --------
    sklearn.mixture.GaussianMixture : whose ``n_init`` starts work alike.

    Examples
    --------
    >>> import numpy as np
    >>> from skmoe import MixtureOfExpertsRegressor
    >>> from skmoe.plotting import ConvergenceDisplay
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-3, 3, size=(100, 1))
    >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
    >>> y += 0.1 * rng.standard_normal(100)
    >>> moe = MixtureOfExpertsRegressor(n_experts=2, random_state=0).fit(X, y)
    >>> disp = ConvergenceDisplay.from_estimator(moe)
    >>> len(disp.lines_)
    1
    >>> disp.best_line_.get_label()
    'start 0 (kept)'
    """

    def __init__(self, *, curves, best_start=None):
        self.curves = curves
        self.best_start = best_start

    def plot(self, ax=None, *, color=None, title=None, **kwargs):
        """Draw every start's curve, the kept one highlighted.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            Axes to draw on; None makes a new figure.
        color : colour or None, default=None
            Colour of the kept start; None: the first expert colour (``C0``).
        title : str or None, default=None
            Axes title; None: "EM convergence (n starts)".
        **kwargs
            Passed to :meth:`~matplotlib.axes.Axes.plot` for every line.

        Returns
        -------
        display : ConvergenceDisplay
            ``self``, with the artists as attributes.
        """
        _check_matplotlib(f"{type(self).__name__}.plot")
        from matplotlib.ticker import MaxNLocator

        ax = _new_axes(ax)
        color = "C0" if color is None else color
        self.lines_ = []
        self.best_line_ = None
        labelled_other = False
        for i, curve in enumerate(self.curves):
            curve = np.asarray(curve, dtype=np.float64)
            iterations = np.arange(1, len(curve) + 1)
            if i == self.best_start:
                style = dict(
                    color=color,
                    linewidth=2.2,
                    marker="o",
                    markevery=[len(curve) - 1] if len(curve) else None,
                    label=f"start {i} (kept)",
                    zorder=3,
                )
            else:
                # One legend entry for all other starts.
                label = "other starts" if not labelled_other else f"_start {i}"
                labelled_other = True
                style = dict(color="0.55", linewidth=1.0, alpha=0.8, label=label)
            (line,) = ax.plot(iterations, curve, **{**style, **kwargs})
            self.lines_.append(line)
            if i == self.best_start:
                self.best_line_ = line
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        longest = max((len(curve) for curve in self.curves), default=1)
        ax.set_xlim(0.5, longest + 0.5)
        ax.set_xlabel("EM iteration")
        ax.set_ylabel("mean log-likelihood per unit weight")
        n = len(self.curves)
        ax.set_title(title or f"EM convergence ({n} start{'s' if n != 1 else ''})")
        ax.legend(loc="lower right", fontsize="small")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, color=None, title=None, **kwargs):
        """Draw the EM curves of a fitted mixture.

        Parameters
        ----------
        estimator : MixtureOfExpertsRegressor or MixtureOfExpertsClassifier
            A fitted mixture; its ``start_log_likelihoods_`` and
            ``best_start_`` are drawn.
        ax, color, title, **kwargs
            As in :meth:`plot`.

        Returns
        -------
        display : ConvergenceDisplay
        """
        caller = f"{cls.__name__}.from_estimator"
        _check_matplotlib(caller)
        _check_mixture(estimator, caller)
        curves = getattr(estimator, "start_log_likelihoods_", None)
        if curves is None:
            curves, best = [estimator.log_likelihoods_], 0
        else:
            best = estimator.best_start_
        display = cls(curves=[np.asarray(c) for c in curves], best_start=best)
        return display.plot(ax=ax, color=color, title=title, **kwargs)


# ---- expert usage -------------------------------------------------------------


class ExpertUsageDisplay:
    """How much each expert is used, and how sure the gate is when it is.

    Two bars per expert, in the expert's colour:

    - solid: its share of the rows, the fraction of rows whose most trusted
      expert it is (``predict_expert``);
    - hatched: the gate's mean confidence on those rows, the mean over the rows
      routed to the expert of their top gate probability ``max_i g_i(x)``
      (the ``confidence`` of ``routing_summary``). An expert no row is routed
      to has no such bar, and "n/a" above it.

    A dashed line marks the equal share ``1 / n_experts``. Both bars are
    fractions, on one axis from 0 to 1.

    Use :meth:`from_estimator` to build one from a fitted mixture. All
    parameters are stored as attributes.

    Parameters
    ----------
    shares : ndarray of shape (n_experts,)
        Fraction of the rows routed to each expert; sums to 1.
    confidences : ndarray of shape (n_experts,)
        Mean top gate probability over the rows routed to each expert; NaN for
        an expert without rows.
    expert_names : list of str
        Expert names, in the order of ``shares``.

    Attributes
    ----------
    bars_ : list of two matplotlib BarContainer
        ``bars_[0]`` the shares, ``bars_[1]`` the confidences; one bar per
        expert in each.
    equal_share_line_ : matplotlib Line2D
        The dashed line at ``1 / n_experts``.
    colors_ : ndarray of shape (n_experts, 4)
        The RGBA colour of each expert.
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure of ``ax_``.

    See Also
    --------
    GateRegionsDisplay : where in the input space each expert is trusted.

    Examples
    --------
    >>> import numpy as np
    >>> from skmoe import MixtureOfExpertsRegressor
    >>> from skmoe.plotting import ExpertUsageDisplay
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-3, 3, size=(100, 1))
    >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
    >>> y += 0.1 * rng.standard_normal(100)
    >>> moe = MixtureOfExpertsRegressor(n_experts=2, random_state=0).fit(X, y)
    >>> disp = ExpertUsageDisplay.from_estimator(moe, X)
    >>> bool(np.isclose(disp.shares.sum(), 1.0))
    True
    >>> [len(bars) for bars in disp.bars_]
    [2, 2]
    """

    def __init__(self, *, shares, confidences, expert_names):
        self.shares = shares
        self.confidences = confidences
        self.expert_names = expert_names

    def plot(self, ax=None, *, colors=None, title=None, **kwargs):
        """Draw the bars of shares and confidences.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            Axes to draw on; None makes a new figure.
        colors : str, list of colours or None, default=None
            The experts' colours: a colormap name or one colour per expert.
        title : str or None, default=None
            Axes title; None: "Expert usage".
        **kwargs
            Passed to :meth:`~matplotlib.axes.Axes.bar` for both bar groups.

        Returns
        -------
        display : ExpertUsageDisplay
            ``self``, with the artists as attributes.
        """
        _check_matplotlib(f"{type(self).__name__}.plot")
        from matplotlib.patches import Patch

        ax = _new_axes(ax)
        shares = np.asarray(self.shares, dtype=np.float64)
        confidences = np.asarray(self.confidences, dtype=np.float64)
        n_experts = len(self.expert_names)
        self.colors_ = _expert_colors(n_experts, colors)
        positions = np.arange(n_experts)
        width = 0.38
        share_bars = ax.bar(
            positions - width / 2,
            shares,
            width,
            color=self.colors_,
            edgecolor="black",
            linewidth=0.6,
            label="share of rows routed",
            **kwargs,
        )
        missing = np.isnan(confidences)
        confidence_bars = ax.bar(
            positions + width / 2,
            np.where(missing, 0.0, confidences),
            width,
            color=self.colors_,
            alpha=0.45,
            hatch="//",
            edgecolor="black",
            linewidth=0.6,
            label="mean top gate probability on those rows",
            **kwargs,
        )
        self.bars_ = [share_bars, confidence_bars]
        ax.bar_label(share_bars, fmt="%.2f", fontsize=8, padding=2)
        ax.bar_label(
            confidence_bars,
            labels=[
                "n/a" if m else f"{c:.2f}"
                for m, c in zip(missing, confidences, strict=True)
            ],
            fontsize=8,
            padding=2,
        )
        self.equal_share_line_ = ax.axhline(
            1 / n_experts, color="0.3", linestyle="--", linewidth=0.8, zorder=0
        )
        handles = [
            Patch(facecolor="0.6", edgecolor="black", label="share of rows routed"),
            Patch(
                facecolor="0.6",
                alpha=0.45,
                hatch="//",
                edgecolor="black",
                label="mean top gate probability on those rows",
            ),
            self.equal_share_line_,
        ]
        self.equal_share_line_.set_label(f"equal share (1/{n_experts})")
        ax.legend(handles=handles, loc="upper center", fontsize="small")
        ax.set_xticks(positions, [str(name) for name in self.expert_names])
        ax.set_ylim(0, 1.45)
        ax.set_yticks(np.linspace(0, 1, 6))
        ax.set_xlabel("expert")
        ax.set_ylabel("fraction")
        ax.set_title(title or "Expert usage")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(
        cls, estimator, X, *, ax=None, colors=None, title=None, **kwargs
    ):
        """Route ``X`` through a fitted mixture and draw each expert's usage.

        Parameters
        ----------
        estimator : MixtureOfExpertsRegressor or MixtureOfExpertsClassifier
            A fitted mixture.
        X : array-like of shape (n_samples, n_features)
            Rows to route.
        ax, colors, title, **kwargs
            As in :meth:`plot`.

        Returns
        -------
        display : ExpertUsageDisplay
        """
        caller = f"{cls.__name__}.from_estimator"
        _check_matplotlib(caller)
        _check_mixture(estimator, caller)
        summary = estimator.routing_summary(X)
        display = cls(
            shares=summary.share,
            confidences=summary.confidence,
            expert_names=_expert_names(estimator),
        )
        return display.plot(ax=ax, colors=colors, title=title, **kwargs)
