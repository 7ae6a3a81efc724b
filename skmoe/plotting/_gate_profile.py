"""GateProfileDisplay: the gate's probability of each expert along one feature."""

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
    _new_axes,
    _numeric_column,
    _reference_row,
    _style,
)


class GateProfileDisplay(_MixtureDisplayMixin):
    """The gate's probability of each expert along one feature.

    One line per expert, in the expert's colour: ``g_i(x)`` as one feature
    runs over its range while the other columns are held at one value (their
    medians, or those of a given row), as in a partial dependence plot. It
    works for any feature of any mixture, regressor or classifier, with a
    gate on any number of features. Below the lines, a rug marks the data's
    values of the feature, each tick in the colour of the expert its row is
    routed to; a dotted line marks the equal share ``1 / n_experts``.

    Use :meth:`from_estimator` to build one from a fitted mixture. All
    parameters are stored as attributes.

    Parameters
    ----------
    grid : ndarray of shape (n_points,)
        Values of the feature at which the gate is evaluated.
    gate_proba : ndarray of shape (n_points, n_experts)
        The gate's probability of each expert at each grid value.
    expert_names : list of str
        Expert names, in the order of the columns of ``gate_proba``.
    data : ndarray of shape (n_samples,) or None, default=None
        The data's values of the feature, drawn as a rug.
    data_experts : ndarray of shape (n_samples,) or None, default=None
        Index of the expert each data row is routed to; colours the rug.
    xlabel : str or None, default=None
        Label of the feature axis; None: "feature".

    Attributes
    ----------
    lines_ : list of matplotlib Line2D
        The gate's probability of each expert, labelled with its name.
    rug_ : matplotlib PathCollection or None
        The data's values of the feature; None without data.
    equal_share_line_ : matplotlib Line2D
        The dotted line at ``1 / n_experts``.
    legend_ : matplotlib Legend
        One entry per expert, to the right of the axes.
    colors_ : ndarray of shape (n_experts, 4)
        The RGBA colour of each expert.
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure of ``ax_``.

    See Also
    --------
    GateRegionsDisplay : The gate over two features.
    sklearn.inspection.PartialDependenceDisplay : The same idea for predictions.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skmoe import MixtureOfExpertsRegressor
    >>> from skmoe.plotting import GateProfileDisplay
    >>> rng = np.random.RandomState(0)
    >>> X = pd.DataFrame(rng.standard_normal((300, 3)), columns=["a", "b", "c"])
    >>> y = np.where(X["c"] > 0, 2 * X["a"], -X["a"])
    >>> y += 0.1 * rng.standard_normal(300)
    >>> moe = MixtureOfExpertsRegressor(n_experts=2, random_state=0).fit(X, y)
    >>> disp = GateProfileDisplay.from_estimator(moe, X, "c", n_points=50)
    >>> disp.ax_.get_xlabel(), len(disp.lines_)
    ('c', 2)
    >>> first, last = disp.gate_proba[0], disp.gate_proba[-1]
    >>> bool(first.argmax() != last.argmax())  # the gate hands over along c
    True
    """

    def __init__(
        self,
        *,
        grid,
        gate_proba,
        expert_names,
        data=None,
        data_experts=None,
        xlabel=None,
    ):
        self.grid = grid
        self.gate_proba = gate_proba
        self.expert_names = expert_names
        self.data = data
        self.data_experts = data_experts
        self.xlabel = xlabel

    def plot(self, ax=None, *, colors=None, title=None, **kwargs):
        """Draw the gate's lines, the rug of the data and the legend.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            Axes to draw on; None makes a new figure.
        colors : str, list of colours or None, default=None
            The experts' colours: a colormap name or one colour per expert.
            A qualitative map (``"tab10"``) gives its colours in turn and
            must hold one per expert; a continuous one (``"viridis"``) is
            spread over its range. None: ``tab10``, ``tab20``, then ``turbo``.
        title : str or None, default=None
            Axes title; None: "Gate along <xlabel>".
        **kwargs
            Passed to :meth:`~matplotlib.axes.Axes.plot` for the gate's lines,
            over the display's own style (each expert's ``color`` and
            ``label``, ``linewidth=1.8``): a value given here wins, for every
            line, and aliases such as ``lw`` or ``c`` replace their full names.
            A ``color`` draws every expert's line in one colour and a
            ``label`` names them all alike (``colors`` gives each expert its
            own colour; the rug and ``colors_`` keep the experts' colours).

        Returns
        -------
        display : GateProfileDisplay
            ``self``, with the artists as attributes.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe.plotting import GateProfileDisplay
        >>> grid = np.linspace(-1, 1, 5)
        >>> gate = np.column_stack([1 - (grid + 1) / 2, (grid + 1) / 2])
        >>> disp = GateProfileDisplay(
        ...     grid=grid, gate_proba=gate, expert_names=["a", "b"], xlabel="x"
        ... ).plot()
        >>> [line.get_label() for line in disp.lines_], disp.ax_.get_title()
        (['a', 'b'], 'Gate along x')
        """
        self._validate_plot_params()
        from matplotlib.lines import Line2D

        ax = _new_axes(ax, figsize=(7.2, 4.0))
        grid, gate = np.asarray(self.grid), np.asarray(self.gate_proba)
        n_experts = len(self.expert_names)
        self.colors_ = _expert_colors(n_experts, colors)
        self.lines_ = [
            ax.plot(
                grid,
                gate[:, i],
                **_style(
                    {"color": color, "label": name, "linewidth": 1.8},
                    kwargs,
                    Line2D,
                ),
            )[0]
            for i, (color, name) in enumerate(
                zip(self.colors_, self.expert_names, strict=True)
            )
        ]
        self.equal_share_line_ = ax.axhline(
            1 / n_experts, color="0.4", linestyle=":", linewidth=0.9, zorder=0
        )
        self._draw_rug(ax)
        ax.set_xlim(grid.min(), grid.max())
        ax.set_ylim(-0.1, 1.05)
        ax.set_yticks(np.linspace(0, 1, 6))
        xlabel = self.xlabel or "feature"
        ax.set_xlabel(xlabel)
        ax.set_ylabel("gate probability")
        ax.set_title(title or f"Gate along {xlabel}")
        self.legend_ = _legend_outside(ax, title="expert")
        self._set_axes(ax)
        return self

    def _draw_rug(self, ax):
        """The data's values of the feature, as ticks below the lines."""
        self.rug_ = None
        if self.data is None:
            return
        data = np.asarray(self.data, dtype=np.float64)
        if self.data_experts is None:
            tick_colors = "0.3"
        else:
            tick_colors = self.colors_[np.asarray(self.data_experts)]
        self.rug_ = ax.scatter(
            data,
            np.full(len(data), -0.055),
            c=tick_colors,
            marker="|",
            s=60,
            linewidths=0.8,
            alpha=0.7,
            label="_data",
        )

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        feature,
        *,
        held_at="median",
        n_points=200,
        plot_data=True,
        ax=None,
        colors=None,
        title=None,
        **kwargs,
    ):
        """Evaluate the gate of a fitted mixture along one feature and draw it.

        Parameters
        ----------
        estimator : MixtureOfExpertsRegressor, MixtureOfExpertsClassifier or \
                Pipeline
            A fitted mixture or CV variant, or a fitted Pipeline whose last step
            is one (the grid is laid in the Pipeline's input columns and sent
            through its other steps). For a hierarchical mixture, the top-level
            gate.
        X : array-like or DataFrame of shape (n_samples, n_features)
            Data as the estimator takes it: sets the range of the grid and the
            held values, and, with ``plot_data``, is drawn as a rug.
        feature : int or str
            The numeric column of ``X`` along which to draw: an index or a
            DataFrame column name.
        held_at : "median" or a row of X, default="median"
            Where the other columns are held: each column's median (the most
            frequent value of a column of text, categories or booleans), or
            the values of one row
            (a Series with X's columns, a one-row DataFrame or an array).
        n_points : int >= 2, default=200
            Number of grid points, from the feature's minimum to its maximum.
        plot_data : bool, default=True
            Draw the rug of the data, coloured by the expert the gate trusts
            most for each row (at the row's own values of every column).
        ax : matplotlib Axes or None, default=None
            Axes to draw on; None makes a new figure.
        colors : str, list of colours or None, default=None
            The experts' colours. As in :meth:`plot`.
        title : str or None, default=None
            Axes title, as in :meth:`plot`. When the gate sees other columns,
            the default title says where they are held.
        **kwargs
            Passed to :meth:`~matplotlib.axes.Axes.plot` for the gate's
            lines, as in :meth:`plot`.

        Returns
        -------
        display : GateProfileDisplay
            The display, with the artists as attributes.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> from skmoe.plotting import GateProfileDisplay
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(100, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(100)
        >>> moe = MixtureOfExpertsRegressor(n_init=1, random_state=0).fit(X, y)
        >>> disp = GateProfileDisplay.from_estimator(moe, X, 0, n_points=50)
        >>> disp.gate_proba.shape, len(disp.lines_)
        ((50, 2), 2)
        >>> bool(disp.gate_proba[0].argmax() != disp.gate_proba[-1].argmax())
        True
        """
        mixture, _ = cls._validate_from_estimator_params(estimator)
        X = _as_table(X, cls._caller())
        position = _feature_position(X, feature, "feature")
        n_points = _check_int(n_points, "n_points", 2)
        values = _numeric_column(X, position, "feature")
        grid = np.linspace(values.min(), values.max(), n_points)
        rows = _grid_rows(_reference_row(X, held_at), [position], [grid])
        gate = mixture.gate_proba(cls._mixture_input(estimator, rows))
        data = data_experts = None
        if plot_data:
            data = _column(X, position).astype(np.float64)
            data_experts = mixture.predict_expert(cls._mixture_input(estimator, X))
        display = cls(
            grid=grid,
            gate_proba=gate,
            expert_names=_expert_names(mixture),
            data=data,
            data_experts=data_experts,
            xlabel=_feature_label(X, estimator, position),
        )
        if title is None:
            title = _held_title(
                f"Gate along {display.xlabel}",
                estimator,
                mixture,
                X,
                [position],
                held_at,
            )
        return display.plot(ax=ax, colors=colors, title=title, **kwargs)
