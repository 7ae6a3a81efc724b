"""skmoe.plotting: the artists each display draws, and its errors."""

import subprocess
import sys
import warnings

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from _data import make_linear_mixture, make_two_regimes, make_xor
from matplotlib.colors import to_rgba, to_rgba_array
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor
from skmoe.plotting import (
    ConvergenceDisplay,
    ExpertCurvesDisplay,
    ExpertUsageDisplay,
    GateRegionsDisplay,
)

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# ---- fitted mixtures, small and shared -------------------------------------------


@pytest.fixture(scope="module")
def data_2d():
    return make_linear_mixture(150, random_state=0)


@pytest.fixture(scope="module")
def moe_2d(data_2d):
    X, y = data_2d
    return MixtureOfExpertsRegressor(n_experts=3, random_state=0, max_iter=30).fit(X, y)


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
    return MixtureOfExpertsRegressor(
        n_experts=2, n_init=3, init_params="random", random_state=1, max_iter=20
    ).fit(X, y)


@pytest.fixture(scope="module")
def classifier():
    X, y = make_xor(120, random_state=0)
    experts = [("left", LogisticRegression()), ("right", LogisticRegression())]
    return MixtureOfExpertsClassifier(experts, random_state=0).fit(X, y), X


ALL_DISPLAYS = [
    (GateRegionsDisplay, "X"),
    (ExpertCurvesDisplay, "Xy"),
    (ConvergenceDisplay, ""),
    (ExpertUsageDisplay, "X"),
]


def _call(display, needs, estimator, X, y, **kwargs):
    args = {"": (), "X": (X,), "Xy": (X, y)}[needs]
    return display.from_estimator(estimator, *args, **kwargs)


def _legend_texts(legend):
    return [text.get_text() for text in legend.get_texts()]


# ---- GateRegionsDisplay ----------------------------------------------------------


def test_gate_regions_one_region_per_expert(moe_2d, data_2d):
    X, _ = data_2d
    disp = GateRegionsDisplay.from_estimator(moe_2d, X, grid_resolution=40)
    disp.figure_.canvas.draw()
    names = list(moe_2d.named_experts_)
    # One filled level (region) per expert.
    assert_allclose(disp.surface_.levels, np.arange(4) - 0.5)
    assert len(disp.surface_.get_paths()) == 3
    assert all(len(path.vertices) for path in disp.surface_.get_paths())
    assert _legend_texts(disp.legend_) == names
    assert disp.ax_.get_title() == "Gate regions: expert trusted most"
    assert (disp.ax_.get_xlabel(), disp.ax_.get_ylabel()) == ("feature 0", "feature 1")


def test_gate_regions_grid_and_regions_match_the_gate(moe_2d, data_2d):
    X, _ = data_2d
    disp = GateRegionsDisplay.from_estimator(moe_2d, X, grid_resolution=25, eps=0.5)
    assert disp.xx0.shape == disp.xx1.shape == disp.regions.shape == (25, 25)
    assert disp.xx0.min() == pytest.approx(X[:, 0].min() - 0.5)
    assert disp.xx1.max() == pytest.approx(X[:, 1].max() + 0.5)
    grid = np.column_stack([disp.xx0.ravel(), disp.xx1.ravel()])
    gate = moe_2d.gate_proba(grid)
    assert_array_equal(disp.regions.ravel(), gate.argmax(axis=1))
    assert_allclose(disp.confidence.ravel(), gate.max(axis=1))
    assert_allclose(disp.gate_proba.reshape(-1, 3), gate)


def test_gate_regions_colours_agree(moe_2d, data_2d):
    X, _ = data_2d
    disp = GateRegionsDisplay.from_estimator(moe_2d, X, grid_resolution=20)
    colors = disp.colors_
    # Regions, points and legend use one colour per expert.
    assert_allclose(to_rgba_array(disp.surface_.get_facecolor())[:, :3], colors[:, :3])
    point_colors = disp.scatter_.get_facecolors()
    assert_allclose(point_colors, colors[moe_2d.predict_expert(X)])
    assert len(point_colors) == len(X)
    handles = disp.legend_.legend_handles
    assert_allclose([h.get_facecolor() for h in handles], colors)
    assert_allclose(disp.scatter_.get_offsets(), X)


def test_gate_regions_on_given_ax_without_data(moe_2d, data_2d):
    X, _ = data_2d
    fig, (ax_left, ax_right) = plt.subplots(1, 2)
    disp = GateRegionsDisplay.from_estimator(
        moe_2d, X, ax=ax_right, plot_data=False, grid_resolution=20
    )
    assert disp.ax_ is ax_right
    assert disp.figure_ is fig
    assert disp.scatter_ is None
    assert len(ax_right.collections) >= 1 and not ax_left.collections


def test_gate_regions_confidence_contours(moe_2d, data_2d):
    X, _ = data_2d
    disp = GateRegionsDisplay.from_estimator(
        moe_2d, X, grid_resolution=30, confidence_levels=(0.9, 0.6, 2.0)
    )
    # Levels outside the confidence's range are left out; the rest sorted.
    assert_allclose(disp.confidence_.levels, [0.6, 0.9])
    none = GateRegionsDisplay.from_estimator(
        moe_2d, X, grid_resolution=30, confidence_levels=None
    )
    assert none.confidence_ is None


def test_gate_regions_other_columns_held_at_median():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((80, 3))
    y = np.where(X[:, 0] > 0, X[:, 1], -X[:, 1]) + 0.1 * rng.standard_normal(80)
    moe = MixtureOfExpertsRegressor(
        n_experts=2, gate_features=[0, 2], random_state=0, max_iter=20
    ).fit(X, y)
    disp = GateRegionsDisplay.from_estimator(moe, X, grid_resolution=15)
    assert (disp.ax_.get_xlabel(), disp.ax_.get_ylabel()) == ("feature 0", "feature 2")
    assert_allclose(disp.scatter_.get_offsets(), X[:, [0, 2]])
    grid = np.zeros((disp.xx0.size, 3))
    grid[:, 0], grid[:, 2] = disp.xx0.ravel(), disp.xx1.ravel()
    grid[:, 1] = 123.0  # a column the gate does not see
    assert_allclose(disp.gate_proba.reshape(-1, 2), moe.gate_proba(grid))


def test_gate_regions_dataframe_names_axes():
    X, y = make_linear_mixture(100, random_state=1)
    frame = pd.DataFrame(X, columns=["age", "income"])
    moe = MixtureOfExpertsRegressor(n_experts=2, random_state=0, max_iter=20)
    moe.fit(frame, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        disp = GateRegionsDisplay.from_estimator(moe, frame, grid_resolution=15)
    assert (disp.ax_.get_xlabel(), disp.ax_.get_ylabel()) == ("age", "income")


def test_gate_regions_classifier(classifier):
    clf, X = classifier
    disp = GateRegionsDisplay.from_estimator(clf, X, grid_resolution=20)
    assert len(disp.surface_.get_paths()) == 2
    assert _legend_texts(disp.legend_) == ["left", "right"]


def test_gate_regions_single_expert_is_one_region(data_2d):
    X, y = data_2d
    moe = MixtureOfExpertsRegressor(n_experts=1).fit(X, y)
    assert moe.gate_ is None
    disp = GateRegionsDisplay.from_estimator(moe, X, grid_resolution=10)
    assert len(disp.surface_.get_paths()) == 1
    assert (disp.regions == 0).all()
    assert disp.confidence_ is None
    assert _legend_texts(disp.legend_) == ["expert0"]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("columns, n_seen", [([0], 1), ([0, 1, 2], 3)])
def test_gate_regions_needs_two_gate_features(columns, n_seen):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((40, 3))
    y = X[:, 0] + 0.1 * rng.standard_normal(40)
    moe = MixtureOfExpertsRegressor(
        n_experts=2, gate_features=columns, random_state=0, max_iter=5
    )
    moe.fit(X, y)
    with pytest.raises(ValueError, match=f"exactly 2 features.*sees {n_seen}"):
        GateRegionsDisplay.from_estimator(moe, X)


def test_gate_regions_x_must_match_the_fit(moe_2d, data_2d):
    X, _ = data_2d
    with pytest.raises(ValueError, match="X has 3 features.*fitted on 2"):
        GateRegionsDisplay.from_estimator(moe_2d, np.hstack([X, X[:, :1]]))


def test_gate_regions_from_arrays():
    xx0, xx1 = np.meshgrid(np.linspace(0, 1, 5), np.linspace(0, 1, 4))
    gate = np.stack([xx0, 1 - xx0], axis=-1)
    disp = GateRegionsDisplay(
        xx0=xx0, xx1=xx1, gate_proba=gate, expert_names=["a", "b"]
    ).plot(colors=["red", "blue"])
    assert_array_equal(disp.regions, (xx0 < 0.5).astype(int))
    assert _legend_texts(disp.legend_) == ["a", "b"]
    assert_allclose(disp.colors_, [to_rgba("red"), to_rgba("blue")])
    with pytest.raises(ValueError, match="one colour per expert"):
        disp.plot(colors=["red"])


# ---- ExpertCurvesDisplay ---------------------------------------------------------


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


# ---- ConvergenceDisplay ----------------------------------------------------------


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


# ---- ExpertUsageDisplay ----------------------------------------------------------


def test_usage_bars_and_values(moe_2d, data_2d):
    X, _ = data_2d
    disp = ExpertUsageDisplay.from_estimator(moe_2d, X)
    gate = moe_2d.gate_proba(X)
    top = gate.argmax(axis=1)
    shares = np.array([np.mean(top == i) for i in range(3)])
    confidences = np.array([gate[top == i].max(axis=1).mean() for i in range(3)])
    assert_allclose(disp.shares, shares)
    assert_allclose(disp.confidences, confidences)
    summary = moe_2d.routing_summary(X)
    assert_allclose(disp.confidences, summary.confidence)
    assert len(disp.bars_) == 2
    share_bars, confidence_bars = disp.bars_
    assert len(share_bars) == len(confidence_bars) == 3
    assert_allclose([bar.get_height() for bar in share_bars], shares)
    assert_allclose([bar.get_height() for bar in confidence_bars], confidences)
    ticks = [label.get_text() for label in disp.ax_.get_xticklabels()]
    assert ticks == list(moe_2d.named_experts_)
    # Each expert's bars are in its colour.
    assert_allclose([bar.get_facecolor() for bar in share_bars], disp.colors_)
    assert_allclose(disp.equal_share_line_.get_ydata(), [1 / 3, 1 / 3])


def test_usage_expert_without_rows_and_given_ax():
    fig, ax = plt.subplots()
    disp = ExpertUsageDisplay(
        shares=np.array([0.7, 0.3, 0.0]),
        confidences=np.array([0.9, 0.6, np.nan]),
        expert_names=["a", "b", "c"],
    ).plot(ax=ax)
    assert disp.ax_ is ax and disp.figure_ is fig
    heights = [bar.get_height() for bar in disp.bars_[1]]
    assert_allclose(heights, [0.9, 0.6, 0.0])
    labels = [text.get_text() for text in ax.texts]
    assert "n/a" in labels and labels.count("n/a") == 1


def test_usage_classifier(classifier):
    clf, X = classifier
    disp = ExpertUsageDisplay.from_estimator(clf, X)
    assert_allclose(disp.shares, np.bincount(clf.predict_expert(X), minlength=2) / 120)
    ticks = [label.get_text() for label in disp.ax_.get_xticklabels()]
    assert ticks == ["left", "right"]


# ---- shared errors and the optional dependency -----------------------------------


@pytest.mark.parametrize("display, needs", ALL_DISPLAYS)
def test_not_a_mixture(display, needs, data_1d):
    X, y = data_1d
    with pytest.raises(TypeError, match="needs a skmoe MixtureOfExperts"):
        _call(display, needs, LinearRegression().fit(X, y), X, y)


@pytest.mark.parametrize("display, needs", ALL_DISPLAYS)
def test_not_fitted(display, needs, data_1d):
    X, y = data_1d
    with pytest.raises(NotFittedError):
        _call(display, needs, MixtureOfExpertsRegressor(), X, y)


@pytest.mark.parametrize("display, needs", ALL_DISPLAYS)
def test_missing_matplotlib_from_estimator(
    display, needs, moe_1d, data_1d, monkeypatch
):
    X, y = data_1d
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "skmoe\[plot\]"'):
        _call(display, needs, moe_1d, X, y)


def test_missing_matplotlib_plot(monkeypatch):
    grid = np.linspace(0, 1, 3)
    gate = np.full((3, 1), 1.0)
    displays = [
        GateRegionsDisplay(
            xx0=np.zeros((2, 2)),
            xx1=np.zeros((2, 2)),
            gate_proba=np.ones((2, 2, 1)),
            expert_names=["a"],
        ),
        ExpertCurvesDisplay(
            grid=grid,
            expert_curves=grid[:, None],
            mean=grid,
            std=grid,
            gate_proba=gate,
            expert_names=["a"],
        ),
        ConvergenceDisplay(curves=[grid]),
        ExpertUsageDisplay(shares=[1.0], confidences=[1.0], expert_names=["a"]),
    ]
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    for disp in displays:
        name = type(disp).__name__
        message = rf'{name}.plot requires matplotlib.*"skmoe\[plot\]"'
        with pytest.raises(ImportError, match=message):
            disp.plot()


def test_import_skmoe_does_not_import_matplotlib():
    code = (
        "import sys, skmoe, skmoe.plotting; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
