"""ExpertCurvesDisplay: expert lines, band, gate panel and axes."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from _data import make_linear_mixture, make_two_regimes, make_xor
from matplotlib.colors import to_rgba
from numpy.testing import assert_allclose
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor
from skmoe.plotting import (
    ExpertCurvesDisplay,
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
def data_2d():
    return make_linear_mixture(150, random_state=0)


@pytest.fixture(scope="module")
def moe_2d(data_2d):
    X, y = data_2d
    return MixtureOfExpertsRegressor(n_experts=3, random_state=0, max_iter=30).fit(X, y)


@pytest.fixture(scope="module")
def classifier():
    X, y = make_xor(120, random_state=0)
    experts = [("left", LogisticRegression()), ("right", LogisticRegression())]
    return MixtureOfExpertsClassifier(experts, random_state=0).fit(X, y), X


def _legend_texts(legend):
    return [text.get_text() for text in legend.get_texts()]


def test_expert_curves_lines(moe_1d, data_1d):
    X, y = data_1d
    disp = ExpertCurvesDisplay.from_estimator(moe_1d, X, y, n_points=30)
    disp.figure_.canvas.draw()
    names = ["lin", "ridge"]
    assert len(disp.expert_lines_) == 2
    assert [line.get_label() for line in disp.expert_lines_] == names
    # The curves panel: one line per expert plus the mean.
    assert len(disp.ax_.get_lines()) == 3
    grid = np.linspace(X.min(), X.max(), 30)
    assert_allclose(disp.grid, grid)
    curves = moe_1d.expert_predictions(grid[:, None])
    for i, line in enumerate(disp.expert_lines_):
        assert_allclose(line.get_xdata(), grid)
        assert_allclose(line.get_ydata(), curves[:, i])
    mean = moe_1d.predict(grid[:, None])
    assert_allclose(disp.mean_line_.get_ydata(), mean)
    assert_allclose(disp.scatter_.get_offsets(), np.column_stack([X[:, 0], y]))
    legend = _legend_texts(disp.ax_.get_legend())
    assert set(names) <= set(legend) and "mixture mean" in legend


def test_expert_curves_band_is_two_std(moe_1d, data_1d):
    X, y = data_1d
    disp = ExpertCurvesDisplay.from_estimator(moe_1d, X, y, n_points=25)
    mean, std = moe_1d.predict(disp.grid[:, None], return_std=True)
    assert_allclose(disp.mean, mean)
    assert_allclose(disp.std, std)
    vertices = disp.band_.get_paths()[0].vertices
    position = np.searchsorted(disp.grid, vertices[:, 0])
    assert_allclose(disp.grid[position], vertices[:, 0])
    upper, lower = mean + 2 * std, mean - 2 * std
    on_upper = np.isclose(vertices[:, 1], upper[position])
    on_lower = np.isclose(vertices[:, 1], lower[position])
    assert (on_upper | on_lower).all()
    # Both edges are traced at every grid point.
    assert set(position[on_upper]) == set(range(25))
    assert set(position[on_lower]) == set(range(25))


def test_expert_curves_gate_panel(moe_1d, data_1d):
    X, y = data_1d
    disp = ExpertCurvesDisplay.from_estimator(moe_1d, X, y, n_points=30)
    gate = moe_1d.gate_proba(disp.grid[:, None])
    assert len(disp.gate_lines_) == 2
    assert disp.gate_ax_ is not disp.ax_
    assert disp.gate_ax_.figure is disp.figure_
    assert disp.gate_ax_.get_shared_x_axes().joined(disp.gate_ax_, disp.ax_)
    assert disp.gate_ax_.get_ylabel() == "gate probability"
    # The gate panel is below the curves.
    assert disp.gate_ax_.get_position().y1 <= disp.ax_.get_position().y0
    for i, line in enumerate(disp.gate_lines_):
        assert_allclose(line.get_ydata(), gate[:, i])
        assert to_rgba(line.get_color()) == to_rgba(disp.expert_lines_[i].get_color())


def test_expert_curves_on_given_axes(moe_1d, data_1d):
    X, y = data_1d
    fig, ax = plt.subplots()
    disp = ExpertCurvesDisplay.from_estimator(moe_1d, X, y, ax=ax, n_points=20)
    assert disp.ax_ is ax and disp.figure_ is fig
    # The gate panel is split off the bottom of the given axes.
    assert disp.gate_ax_ in fig.axes and len(fig.axes) == 2
    fig.canvas.draw()
    assert disp.gate_ax_.get_position().y1 <= ax.get_position().y0 + 1e-9

    fig2, (top, bottom) = plt.subplots(2, 1)
    disp2 = ExpertCurvesDisplay.from_estimator(
        moe_1d, X, y, ax=top, gate_ax=bottom, n_points=20
    )
    assert disp2.ax_ is top and disp2.gate_ax_ is bottom
    assert len(bottom.get_lines()) == 2
    assert bottom.get_shared_x_axes().joined(bottom, top)


def test_expert_curves_without_gate_panel_or_data(moe_1d, data_1d):
    X, _ = data_1d
    disp = ExpertCurvesDisplay.from_estimator(moe_1d, X, plot_gate=False, n_points=20)
    assert disp.gate_ax_ is None and disp.gate_lines_ == []
    assert disp.scatter_ is None
    assert len(disp.figure_.axes) == 1


def test_expert_curves_bad_input(moe_1d, data_1d, moe_2d, data_2d, classifier):
    X, y = data_1d
    clf, Xc = classifier
    with pytest.raises(TypeError, match="1-D regression mixture"):
        ExpertCurvesDisplay.from_estimator(clf, Xc[:, :1], y[:1])
    X2, y2 = data_2d
    with pytest.raises(ValueError, match="1-D regression mixture.*2 columns"):
        ExpertCurvesDisplay.from_estimator(moe_2d, X2, y2)
    with pytest.raises(ValueError, match="y has 3 samples but X has 80"):
        ExpertCurvesDisplay.from_estimator(moe_1d, X, y[:3])
    with pytest.raises(ValueError, match="'gate_ax' needs 'ax'"):
        _, gate_ax = plt.subplots()
        ExpertCurvesDisplay.from_estimator(moe_1d, X, y, gate_ax=gate_ax)
