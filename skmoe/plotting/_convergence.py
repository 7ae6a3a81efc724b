"""ConvergenceDisplay: the EM log-likelihood of every start."""

import numpy as np

from ._common import (
    _MixtureDisplayMixin,
    _new_axes,
    _style,
)


class ConvergenceDisplay(_MixtureDisplayMixin):
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
    sklearn.mixture.GaussianMixture : A model whose ``n_init`` starts work alike.

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
    >>> len(disp.lines_)  # one per start: n_init=3
    3
    >>> disp.best_line_.get_label()
    'start 1 (kept)'
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
            Passed to :meth:`~matplotlib.axes.Axes.plot` for every line, over
            the display's own style (``color``, ``linewidth``, ``alpha``,
            ``label``, and ``marker``, ``markevery`` and ``zorder`` for the
            kept start): a value given here wins, for every line, and aliases
            such as ``lw`` or ``ls`` replace their full names.

        Returns
        -------
        display : ConvergenceDisplay
            ``self``, with the artists as attributes.

        Examples
        --------
        >>> from skmoe.plotting import ConvergenceDisplay
        >>> curves = [[-1.0, -0.5, -0.4], [-1.2, -0.9]]
        >>> disp = ConvergenceDisplay(curves=curves, best_start=0).plot()
        >>> disp.best_line_.get_label(), len(disp.lines_)
        ('start 0 (kept)', 2)
        >>> disp.ax_.get_title()
        'EM convergence (2 starts)'
        """
        self._validate_plot_params()
        from matplotlib.lines import Line2D
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
            (line,) = ax.plot(iterations, curve, **_style(style, kwargs, Line2D))
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
        self._set_axes(ax)
        return self

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, color=None, title=None, **kwargs):
        """Draw the EM curves of a fitted mixture.

        Parameters
        ----------
        estimator : MixtureOfExpertsRegressor, MixtureOfExpertsClassifier or \
                Pipeline
            A fitted mixture or CV variant, or a fitted Pipeline whose last step
            is one; the mixture's ``start_log_likelihoods_`` and ``best_start_``
            are drawn.
        ax : matplotlib Axes or None, default=None
            Axes to draw on; None makes a new figure. As in :meth:`plot`.
        color : colour or None, default=None
            Colour of the kept start. As in :meth:`plot`.
        title : str or None, default=None
            Axes title. As in :meth:`plot`.
        **kwargs
            Passed to :meth:`~matplotlib.axes.Axes.plot`, as in :meth:`plot`.

        Returns
        -------
        display : ConvergenceDisplay
            The display, with the artists as attributes.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> from skmoe.plotting import ConvergenceDisplay
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(100, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(100)
        >>> moe = MixtureOfExpertsRegressor(n_init=2, random_state=0).fit(X, y)
        >>> disp = ConvergenceDisplay.from_estimator(moe, title="Two starts")
        >>> len(disp.lines_), disp.ax_.get_title()
        (2, 'Two starts')
        """
        mixture, _ = cls._validate_from_estimator_params(estimator)
        curves = getattr(mixture, "start_log_likelihoods_", None)
        if curves is None:
            curves, best = [mixture.log_likelihoods_], 0
        else:
            best = mixture.best_start_
        display = cls(curves=[np.asarray(c) for c in curves], best_start=best)
        return display.plot(ax=ax, color=color, title=title, **kwargs)
