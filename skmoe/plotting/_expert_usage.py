"""ExpertUsageDisplay: each expert's share of the rows, and the gate's confidence."""

import numpy as np

from ._common import (
    _computed,
    _expert_colors,
    _expert_names,
    _MixtureDisplayMixin,
    _new_axes,
    _style,
)


class ExpertUsageDisplay(_MixtureDisplayMixin):
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
    GateRegionsDisplay : Where in the input space each expert is trusted.

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
            A qualitative map (``"tab10"``) gives its colours in turn and
            must hold one per expert; a continuous one (``"viridis"``) is
            spread over its range. None: ``tab10``, ``tab20``, then ``turbo``.
        title : str or None, default=None
            Axes title; None: "Expert usage".
        **kwargs
            Passed to :meth:`~matplotlib.axes.Axes.bar` for both bar groups,
            over the display's own style (``color``, ``edgecolor``,
            ``linewidth``, ``label``, and ``alpha`` and ``hatch`` for the
            confidences): a value given here wins, for every bar, and aliases
            such as ``ec`` or ``lw`` replace their full names. A ``color``
            paints every expert's bars in one colour (``colors`` gives each
            expert its own; ``colors_`` keeps the experts' colours). The
            legend's keys take the bars' edge colour, line width, hatch and
            opacity.

        Returns
        -------
        display : ExpertUsageDisplay
            ``self``, with the artists as attributes.

        Examples
        --------
        >>> from skmoe.plotting import ExpertUsageDisplay
        >>> disp = ExpertUsageDisplay(
        ...     shares=[0.7, 0.3], confidences=[0.9, 0.8], expert_names=["a", "b"]
        ... ).plot(title="Usage")
        >>> [len(bars) for bars in disp.bars_], disp.ax_.get_title()
        ([2, 2], 'Usage')
        """
        self._validate_plot_params()
        ax = _new_axes(ax)
        n_experts = len(self.expert_names)
        self.colors_ = _expert_colors(n_experts, colors)
        self._draw_bars(ax, kwargs)
        self.equal_share_line_ = ax.axhline(
            1 / n_experts, color="0.3", linestyle="--", linewidth=0.8, zorder=0
        )
        self.equal_share_line_.set_label(f"equal share (1/{n_experts})")
        handles = [
            _legend_key(self.bars_[0], "share of rows routed"),
            _legend_key(self.bars_[1], "mean top gate probability on those rows"),
            self.equal_share_line_,
        ]
        ax.legend(handles=handles, loc="upper center", fontsize="small")
        positions = np.arange(n_experts)
        ax.set_xticks(positions, [str(name) for name in self.expert_names])
        ax.set_ylim(0, 1.45)
        ax.set_yticks(np.linspace(0, 1, 6))
        ax.set_xlabel("expert")
        ax.set_ylabel("fraction")
        ax.set_title(title or "Expert usage")
        self._set_axes(ax)
        return self

    def _draw_bars(self, ax, kwargs):
        """Both bar groups, labelled with their values; the user's ``kwargs``
        win over the display's style."""
        from matplotlib.patches import Rectangle

        shares = np.asarray(self.shares, dtype=np.float64)
        confidences = np.asarray(self.confidences, dtype=np.float64)
        missing = np.isnan(confidences)
        positions = np.arange(len(self.expert_names))
        width = 0.38
        common = {"color": self.colors_, "edgecolor": "black", "linewidth": 0.6}
        share_style = {**common, "label": "share of rows routed"}
        confidence_style = {
            **common,
            "alpha": 0.45,
            "hatch": "//",
            "label": "mean top gate probability on those rows",
        }
        share_bars = ax.bar(
            positions - width / 2,
            shares,
            width,
            **_style(share_style, kwargs, Rectangle),
        )
        confidence_bars = ax.bar(
            positions + width / 2,
            np.where(missing, 0.0, confidences),
            width,
            **_style(confidence_style, kwargs, Rectangle),
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

    @classmethod
    def from_estimator(
        cls, estimator, X, *, ax=None, colors=None, title=None, **kwargs
    ):
        """Route ``X`` through a fitted mixture and draw each expert's usage.

        Parameters
        ----------
        estimator : MixtureOfExpertsRegressor, MixtureOfExpertsClassifier or \
                Pipeline
            A fitted mixture or CV variant, or a fitted Pipeline whose last step
            is one; the Pipeline's other steps transform ``X`` first.
        X : array-like of shape (n_samples, n_features)
            Rows to route, as the estimator takes them. A Dask array is
            routed lazily and computed once: ``shares`` and ``confidences``
            are ndarrays.
        ax : matplotlib Axes or None, default=None
            Axes to draw on; None makes a new figure. As in :meth:`plot`.
        colors : str, list of colours or None, default=None
            The experts' colours. As in :meth:`plot`.
        title : str or None, default=None
            Axes title. As in :meth:`plot`.
        **kwargs
            Passed to :meth:`~matplotlib.axes.Axes.bar`, as in :meth:`plot`.

        Returns
        -------
        display : ExpertUsageDisplay
            The display, with the artists as attributes.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> from skmoe.plotting import ExpertUsageDisplay
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(100, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(100)
        >>> moe = MixtureOfExpertsRegressor(n_init=1, random_state=0).fit(X, y)
        >>> disp = ExpertUsageDisplay.from_estimator(moe, [[-2.0], [-1.0], [2.0]])
        >>> disp.expert_names, sorted(disp.shares.round(2).tolist())
        (['expert0', 'expert1'], [0.33, 0.67])
        """
        mixture, X_mixture = cls._validate_from_estimator_params(estimator, X)
        summary = mixture.routing_summary(X_mixture)
        shares, confidences = _computed(summary.share, summary.confidence)
        display = cls(
            shares=shares,
            confidences=confidences,
            expert_names=_expert_names(mixture),
        )
        return display.plot(ax=ax, colors=colors, title=title, **kwargs)


def _legend_key(bars, label):
    """A grey legend key drawn as the first bar of ``bars`` is: its edge
    colour, line width, hatch and opacity."""
    from matplotlib.patches import Patch

    bar = bars.patches[0]
    return Patch(
        facecolor="0.6",
        edgecolor=bar.get_edgecolor(),
        linewidth=bar.get_linewidth(),
        hatch=bar.get_hatch(),
        alpha=bar.get_alpha(),
        label=label,
    )
