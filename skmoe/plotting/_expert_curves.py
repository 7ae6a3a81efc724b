"""ExpertCurvesDisplay: experts, mixture and gate of a 1-D regression mixture."""

import numpy as np
from sklearn.utils.validation import check_array

from ._common import (
    _expert_colors,
    _expert_names,
    _feature_label,
    _like_input,
    _MixtureDisplayMixin,
)


class ExpertCurvesDisplay(_MixtureDisplayMixin):
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
        self._validate_plot_params()
        ax, gate_ax = self._panels(ax, gate_ax, plot_gate)
        self.colors_ = _expert_colors(len(self.expert_names), colors)
        self._draw_data(ax)
        self._draw_band(ax)
        self._draw_experts(ax, **kwargs)
        self._draw_mean(ax)
        self._limit_y_to_data(ax)
        ax.set_ylabel("y")
        ax.set_title(title or "Experts and mixture")
        ax.legend(loc="best", fontsize="small")
        self._draw_gate(gate_ax, ax)
        ax.set_xlim(np.min(self.grid), np.max(self.grid))
        self._set_axes(ax)
        self.gate_ax_ = gate_ax
        return self

    # ---- drawing steps of plot ---------------------------------------------

    @staticmethod
    def _panels(ax, gate_ax, plot_gate):
        """The curves' axes and the gate's (None without the gate panel).

        Without ``ax``, a new figure with both panels; with ``ax`` alone, the
        gate panel is split off its bottom.
        """
        import matplotlib.pyplot as plt

        if gate_ax is not None and ax is None:
            raise ValueError("'gate_ax' needs 'ax': pass both axes, or neither.")
        if not plot_gate:
            return (plt.subplots()[1] if ax is None else ax), None
        if ax is None:
            _, (ax, gate_ax) = plt.subplots(
                2,
                1,
                sharex=True,
                figsize=(6.4, 5.6),
                height_ratios=(3, 1.3),
                layout="constrained",
            )
        elif gate_ax is None:
            from mpl_toolkits.axes_grid1 import make_axes_locatable

            gate_ax = make_axes_locatable(ax).append_axes(
                "bottom", size="35%", pad=0.15, sharex=ax
            )
        return ax, gate_ax

    def _draw_data(self, ax):
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

    def _draw_band(self, ax):
        """The predictive band, mean +- 2 std."""
        mean, std = np.asarray(self.mean), np.asarray(self.std)
        self.band_ = ax.fill_between(
            np.asarray(self.grid),
            mean - 2 * std,
            mean + 2 * std,
            color="0.5",
            alpha=0.25,
            linewidth=0,
            label="mean ± 2 std",
            zorder=0,
        )

    def _draw_experts(self, ax, **kwargs):
        grid, curves = np.asarray(self.grid), np.asarray(self.expert_curves)
        line_kwargs = {"linestyle": "--", "linewidth": 1.5, **kwargs}
        self.expert_lines_ = [
            ax.plot(grid, curves[:, i], color=color, label=name, **line_kwargs)[0]
            for i, (color, name) in enumerate(
                zip(self.colors_, self.expert_names, strict=True)
            )
        ]

    def _draw_mean(self, ax):
        (self.mean_line_,) = ax.plot(
            np.asarray(self.grid),
            np.asarray(self.mean),
            color="black",
            linewidth=2,
            label="mixture mean",
            zorder=3,
        )

    def _limit_y_to_data(self, ax):
        """The y range follows the data and the band, not experts extrapolating
        far outside the rows they are trusted with."""
        mean, std = np.asarray(self.mean), np.asarray(self.std)
        low = np.min(mean - 2 * std)
        high = np.max(mean + 2 * std)
        if self.scatter_ is not None:
            low = min(low, np.min(self.y_data))
            high = max(high, np.max(self.y_data))
        pad = 0.08 * (high - low) if high > low else 1.0
        ax.set_ylim(low - pad, high + pad)

    def _draw_gate(self, gate_ax, ax):
        """The gate's probability of each expert in the panel below ``ax``."""
        self.gate_lines_ = []
        xlabel = self.xlabel or "x"
        if gate_ax is None:
            ax.set_xlabel(xlabel)
            return
        if not gate_ax.get_shared_x_axes().joined(gate_ax, ax):
            try:
                gate_ax.sharex(ax)
            except ValueError:  # already shared with other axes
                gate_ax.set_xlim(ax.get_xlim())
        grid, gate = np.asarray(self.grid), np.asarray(self.gate_proba)
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
        from .._regressor import MixtureOfExpertsRegressor

        caller = cls._validate_from_estimator_params(estimator)
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
