"""GateRegionsDisplay: the region of the input each expert is trusted with."""

import numpy as np
from sklearn.utils.validation import check_array

from ._common import (
    _expert_colors,
    _expert_names,
    _feature_label,
    _like_input,
    _MixtureDisplayMixin,
    _new_axes,
)


class GateRegionsDisplay(_MixtureDisplayMixin):
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
        self._validate_plot_params()
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
        self._set_axes(ax)
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
        caller = cls._validate_from_estimator_params(estimator)
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
