"""ExpertCurvesDisplay: experts, mixture and gate of a regression mixture along
one feature."""

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
    _legend_outside,
    _MixtureDisplayMixin,
    _numeric_column,
    _reference_row,
    _style,
)


class ExpertCurvesDisplay(_MixtureDisplayMixin):
    """Experts, mixture mean and predictive band of a regression mixture.

    The top panel shows the data, every expert's prediction over a grid of
    one input feature (dashed, one colour per expert) where the gate trusts
    that expert, drawn over the mixture's mean (black), and a band of two
    predictive standard deviations around the mean (grey). The panel below
    shares the x axis and shows the gate's probability of each expert, in the
    same colours: where a curve is high, its expert is trusted. The legend
    sits to the right of the top panel, off the data.

    An expert is drawn only where the gate gives it at least ``min_gate``:
    elsewhere it extrapolates outside the rows it was fitted on, and its line
    would run off the data and say nothing about the mixture.

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
    ylabel : str or None, default=None
        Label of the target axis; None: "y".

    Attributes
    ----------
    expert_lines_ : list of matplotlib Line2D
        One per expert, labelled with its name; NaN (not drawn) where the gate
        gives the expert less than ``min_gate``.
    trusted_ : ndarray of bool of shape (n_points, n_experts)
        Where each expert is drawn.
    mean_line_ : matplotlib Line2D
        The mixture mean.
    band_ : matplotlib PolyCollection
        The band ``mean - 2 std`` to ``mean + 2 std``.
    scatter_ : matplotlib PathCollection or None
        The data; None without data.
    gate_lines_ : list of matplotlib Line2D
        The gate's probability of each expert; empty without the gate panel.
    legend_ : matplotlib Legend
        The legend of the top panel, to its right.
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
    GateProfileDisplay : The gate alone along any feature, also of classifiers.
    GateRegionsDisplay : The gate of a mixture on two features.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skmoe import MixtureOfExpertsRegressor
    >>> from skmoe.plotting import ExpertCurvesDisplay
    >>> rng = np.random.RandomState(0)
    >>> X = pd.DataFrame({"dose": rng.uniform(-3, 3, 100)})
    >>> y = pd.Series(np.where(X["dose"] < 0, 1 + 2 * X["dose"], 4 - X["dose"]),
    ...               name="response")
    >>> y += 0.1 * rng.standard_normal(100)
    >>> moe = MixtureOfExpertsRegressor(n_experts=2, random_state=0).fit(X, y)
    >>> disp = ExpertCurvesDisplay.from_estimator(moe, X, y, n_points=50)
    >>> len(disp.expert_lines_), len(disp.gate_lines_)
    (2, 2)
    >>> disp.gate_ax_.get_xlabel(), disp.ax_.get_ylabel()
    ('dose', 'response')
    >>> bool(disp.trusted_.any(axis=1).all())  # some expert drawn everywhere
    True
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
        ylabel=None,
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
        self.ylabel = ylabel

    def plot(
        self,
        ax=None,
        *,
        gate_ax=None,
        plot_gate=True,
        min_gate="auto",
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
        min_gate : "auto" or float in [0, 1], default="auto"
            Draw an expert where the gate gives it at least this probability
            (and one grid step further, so that the lines of neighbouring
            experts meet where the gate hands over). ``"auto"`` is the equal
            share ``1 / n_experts``: an expert is drawn where the gate trusts
            it at least as much as the average expert, and at every point
            some expert is drawn (the most trusted one always has at least
            the equal share; a larger threshold could leave gaps). 0 draws
            every expert everywhere.
        colors : str, list of colours or None, default=None
            The experts' colours: a colormap name or one colour per expert.
            A qualitative map (``"tab10"``) gives its colours in turn and
            must hold one per expert; a continuous one (``"viridis"``) is
            spread over its range. None: ``tab10``, ``tab20``, then ``turbo``.
        title : str or None, default=None
            Title of the top panel; None: "Experts and mixture".
        **kwargs
            Passed to :meth:`~matplotlib.axes.Axes.plot` for the expert curves,
            over the display's own style (each expert's ``color`` and
            ``label``, ``linestyle="--"``, ``linewidth=1.5``, ``zorder=4``): a
            value given here wins, for every expert curve, and aliases such as
            ``ls`` or ``c`` replace their full names. A ``color`` draws every
            expert's curve in one colour (``colors`` gives each expert its
            own; the gate panel and ``colors_`` keep the experts' colours).

        Returns
        -------
        display : ExpertCurvesDisplay
            ``self``, with the artists as attributes.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe.plotting import ExpertCurvesDisplay
        >>> grid = np.linspace(-1, 1, 5)
        >>> gate = np.column_stack([grid < 0, grid >= 0]).astype(float)
        >>> disp = ExpertCurvesDisplay(
        ...     grid=grid,
        ...     expert_curves=np.column_stack([-grid, grid]),
        ...     mean=np.abs(grid),
        ...     std=np.full(5, 0.1),
        ...     gate_proba=gate,
        ...     expert_names=["left", "right"],
        ... ).plot(plot_gate=False)
        >>> [line.get_label() for line in disp.expert_lines_], disp.gate_ax_
        (['left', 'right'], None)
        """
        self._validate_plot_params()
        threshold = _check_min_gate(min_gate, len(self.expert_names))
        ax, gate_ax = self._panels(ax, gate_ax, plot_gate)
        self.colors_ = _expert_colors(len(self.expert_names), colors)
        self._draw_data(ax)
        self._draw_band(ax)
        self._draw_experts(ax, threshold, **kwargs)
        self._draw_mean(ax)
        self._limit_y_to_data(ax)
        ax.set_ylabel(self.ylabel or "y")
        ax.set_title(title or "Experts and mixture")
        self.legend_ = _legend_outside(ax)
        self._draw_gate(gate_ax, ax)
        ax.set_xlim(np.min(self.grid), np.max(self.grid))
        self._set_axes(ax)
        self.gate_ax_ = gate_ax
        return self

    # ---- drawing steps of plot ---------------------------------------------

    @staticmethod
    def _panels(ax, gate_ax, plot_gate):
        """The curves' axes and the gate's (None without the gate panel).

        Without ``ax``, a new figure with both panels, wide enough for the
        legend at the right; with ``ax`` alone, the gate panel is split off
        its bottom.
        """
        import matplotlib.pyplot as plt

        if gate_ax is not None and ax is None:
            raise ValueError("'gate_ax' needs 'ax': pass both axes, or neither.")
        if not plot_gate:
            if ax is None:
                _, ax = plt.subplots(figsize=(7.6, 4.4), layout="constrained")
            return ax, None
        if ax is None:
            _, (ax, gate_ax) = plt.subplots(
                2,
                1,
                sharex=True,
                figsize=(7.6, 5.6),
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

    def _draw_experts(self, ax, threshold, **kwargs):
        """Each expert's curve where the gate gives it at least ``threshold``."""
        from matplotlib.lines import Line2D

        grid, curves = np.asarray(self.grid), np.asarray(self.expert_curves)
        self.trusted_ = _trusted(np.asarray(self.gate_proba), threshold)
        # Above the mean: where an expert is trusted the mean follows it, and
        # the dashes show through which expert makes the mean there.
        style = {"linestyle": "--", "linewidth": 1.5, "zorder": 4}
        self.expert_lines_ = [
            ax.plot(
                grid,
                np.where(self.trusted_[:, i], curves[:, i], np.nan),
                **_style({**style, "color": color, "label": name}, kwargs, Line2D),
            )[0]
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
        outside the rows they are trusted with."""
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
        feature=None,
        held_at="median",
        n_points=200,
        ax=None,
        gate_ax=None,
        plot_gate=True,
        min_gate="auto",
        colors=None,
        title=None,
        **kwargs,
    ):
        """Evaluate a fitted regression mixture along one feature and draw it.

        The grid runs over the range of one feature of ``X``; any other
        columns are held at one value (their medians, or those of a given
        row), as in a partial dependence plot. The axes are labelled with the
        feature's column name and ``y``'s name when they are pandas objects.

        Parameters
        ----------
        estimator : MixtureOfExpertsRegressor or Pipeline
            A fitted regression mixture or CV variant, or a fitted Pipeline
            whose last step is one (the grid is laid in the Pipeline's input
            columns and sent through its other steps).
        X : array-like or DataFrame of shape (n_samples, n_features)
            The input as the estimator takes it; the range of ``feature`` sets
            the grid.
        y : array-like or Series of shape (n_samples,) or None, default=None
            Targets, drawn against ``feature``; None draws no data. With other
            columns held, the points are the data, while the curves are those
            at the held values.
        feature : int, str or None, default=None
            The column of ``X`` along which to draw: an index or a DataFrame
            column name. None: X's only column.
        held_at : "median" or a row of X, default="median"
            Where the other columns are held: each column's median (the most
            frequent value of a column of text, categories or booleans), or
            the values of one row
            (a Series with X's columns, a one-row DataFrame or an array).
        n_points : int >= 2, default=200
            Number of grid points.
        ax : matplotlib Axes or None, default=None
            Axes for the curves. As in :meth:`plot`.
        gate_ax : matplotlib Axes or None, default=None
            Axes for the gate panel; needs ``ax``. As in :meth:`plot`.
        plot_gate : bool, default=True
            Draw the gate panel. As in :meth:`plot`.
        min_gate : "auto" or float in [0, 1], default="auto"
            Gate probability from which an expert is drawn. As in
            :meth:`plot`.
        colors : str, list of colours or None, default=None
            The experts' colours. As in :meth:`plot`.
        title : str or None, default=None
            Title of the top panel. As in :meth:`plot`.
        **kwargs
            Passed to :meth:`~matplotlib.axes.Axes.plot` for the expert
            curves, as in :meth:`plot`.

        Returns
        -------
        display : ExpertCurvesDisplay
            The display, with the artists as attributes.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> from skmoe.plotting import ExpertCurvesDisplay
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(100, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(100)
        >>> moe = MixtureOfExpertsRegressor(n_init=1, random_state=0).fit(X, y)
        >>> disp = ExpertCurvesDisplay.from_estimator(moe, X, y, n_points=50)
        >>> disp.grid.shape, disp.expert_curves.shape
        ((50,), (50, 2))
        >>> disp.ax_.get_title(), len(disp.gate_lines_)
        ('Experts and mixture', 2)
        """
        from .._regressor import MixtureOfExpertsRegressor

        mixture, _ = cls._validate_from_estimator_params(estimator)
        if not isinstance(mixture, MixtureOfExpertsRegressor):
            raise TypeError(
                f"{cls._caller()} needs a regression mixture "
                f"(MixtureOfExpertsRegressor); got a {type(mixture).__name__}. "
                "GateProfileDisplay, GateRegionsDisplay and ExpertUsageDisplay "
                "also draw classifiers."
            )
        X = _as_table(X, cls._caller())
        position = _one_feature(X, feature, cls._caller())
        n_points = _check_int(n_points, "n_points", 2)
        y_data = _check_y(y, len(X))
        values = _numeric_column(X, position, "feature")
        grid = np.linspace(values.min(), values.max(), n_points)
        rows = _grid_rows(_reference_row(X, held_at), [position], [grid])
        rows = cls._mixture_input(estimator, rows)
        mean, std = mixture.predict(rows, return_std=True)
        display = cls(
            grid=grid,
            expert_curves=mixture.expert_predictions(rows),
            mean=mean,
            std=std,
            gate_proba=mixture.gate_proba(rows),
            expert_names=_expert_names(mixture),
            x_data=_column(X, position) if y_data is not None else None,
            y_data=y_data,
            xlabel=_feature_label(X, estimator, position),
            ylabel=getattr(y, "name", None),
        )
        if title is None:
            # The experts' curves move with the held columns too.
            title = _held_title(
                "Experts and mixture",
                estimator,
                mixture,
                X,
                [position],
                held_at,
                experts=True,
            )
        return display.plot(
            ax=ax,
            gate_ax=gate_ax,
            plot_gate=plot_gate,
            min_gate=min_gate,
            colors=colors,
            title=title,
            **kwargs,
        )


def _check_min_gate(min_gate, n_experts):
    """The threshold ``min_gate`` stands for: a float in [0, 1]."""
    if isinstance(min_gate, str) and min_gate == "auto":
        return 1.0 / n_experts
    if (
        isinstance(min_gate, numbers.Real)
        and not isinstance(min_gate, bool)
        and 0.0 <= min_gate <= 1.0
    ):
        return float(min_gate)
    raise ValueError(
        f"'min_gate' must be 'auto' or a float in [0, 1]; got {min_gate!r}."
    )


def _trusted(gate, threshold):
    """Where each expert is drawn: gate >= threshold, widened by one grid point
    on each side so that neighbouring experts' lines meet at a handover."""
    # The equal share 1/M can fall a rounding error short of itself.
    trusted = gate >= threshold - 1e-12
    widened = trusted.copy()
    widened[1:] |= trusted[:-1]
    widened[:-1] |= trusted[1:]
    return widened


def _one_feature(X, feature, caller):
    """Position in X of the feature along which to draw."""
    if feature is None:
        if X.shape[1] != 1:
            raise ValueError(
                f"{caller} needs 'feature', the column of X to draw along: X has "
                f"{X.shape[1]} columns; got feature=None."
            )
        return 0
    return _feature_position(X, feature, "feature")


def _check_y(y, n_samples):
    """y as a 1-D float array of n_samples values, or None."""
    if y is None:
        return None
    y_data = np.asarray(y, dtype=np.float64).ravel()
    if len(y_data) != n_samples:
        raise ValueError(
            f"y has {len(y_data)} samples but X has {n_samples}; they must match."
        )
    return y_data
