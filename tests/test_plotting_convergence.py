"""ConvergenceDisplay: one curve per EM start, the kept one highlighted."""

import warnings

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from _data import make_two_regimes
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, Ridge

from skmoe import MixtureOfExpertsRegressor
from skmoe.exceptions import LocalOptimumWarning
from skmoe.plotting import (
    ConvergenceDisplay,
)

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# ---- fitted mixtures, small and shared -------------------------------------------


@pytest.fixture(scope="module")
def data_1d():
    return make_two_regimes(80, random_state=0, noise_sd=0.3)


@pytest.fixture(scope="module")
def moe_1d(data_1d):
    # Named experts, so that labels are the names and not positions.
    X, y = data_1d
    experts = [("lin", LinearRegression()), ("ridge", Ridge(alpha=1e-3))]
    return MixtureOfExpertsRegressor(experts, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def moe_restarts(data_1d):
    X, y = data_1d
    # Stopped after three iterations, where the starts still differ clearly:
    # run to tol=1e-5 they all reach one optimum, and which start is kept
    # would be decided by rounding.
    moe = MixtureOfExpertsRegressor(
        n_experts=2, n_init=3, init_params="random", random_state=1, max_iter=3
    )
    with warnings.catch_warnings():
        # Unconverged, in different optima: on purpose.
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", LocalOptimumWarning)
        return moe.fit(X, y)


def _legend_texts(legend):
    return [text.get_text() for text in legend.get_texts()]


def test_convergence_one_line_per_start(moe_restarts):
    moe = moe_restarts
    disp = ConvergenceDisplay.from_estimator(moe)
    assert len(disp.lines_) == 3 == len(moe.start_log_likelihoods_)
    assert disp.best_line_ is disp.lines_[moe.best_start_]
    for line, curve in zip(disp.lines_, moe.start_log_likelihoods_, strict=True):
        assert_allclose(line.get_ydata(), curve)
        assert_array_equal(line.get_xdata(), np.arange(1, len(curve) + 1))
    assert_allclose(disp.best_line_.get_ydata(), moe.log_likelihoods_)
    assert disp.best_line_.get_label() == f"start {moe.best_start_} (kept)"
    others = [line for line in disp.lines_ if line is not disp.best_line_]
    assert all(
        line.get_linewidth() < disp.best_line_.get_linewidth() for line in others
    )
    # One legend entry for the kept start and one for all the others, in the
    # order they are drawn.
    kept = f"start {moe.best_start_} (kept)"
    assert moe.best_start_ != 0  # so that the kept start is not simply the first
    expected = ["other starts", kept]
    assert _legend_texts(disp.ax_.get_legend()) == expected
    assert disp.ax_.get_xlabel() == "EM iteration"
    assert "log-likelihood" in disp.ax_.get_ylabel()


def test_convergence_from_arrays_on_given_ax():
    fig, ax = plt.subplots()
    curves = [np.array([-3.0, -2.0, -1.5]), np.array([-4.0, -1.0])]
    disp = ConvergenceDisplay(curves=curves, best_start=1).plot(ax=ax)
    assert disp.ax_ is ax and disp.figure_ is fig
    assert len(ax.get_lines()) == 2
    assert disp.best_line_ is disp.lines_[1]
    assert disp.ax_.get_title() == "EM convergence (2 starts)"


def test_convergence_user_kwargs_win_for_every_line(moe_restarts):
    disp = ConvergenceDisplay.from_estimator(moe_restarts, lw=3, ls=":", alpha=0.5)
    for line in disp.lines_:
        assert line.get_linewidth() == 3
        assert line.get_linestyle() == ":"
        assert line.get_alpha() == 0.5
    # The display's own style where not given: the kept start's marker.
    assert disp.best_line_.get_marker() == "o"
    with pytest.raises(TypeError, match="aliases of one another"):
        ConvergenceDisplay.from_estimator(moe_restarts, lw=3, linewidth=2)
