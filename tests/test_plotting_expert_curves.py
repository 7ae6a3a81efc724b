"""ExpertCurvesDisplay: expert lines, band, gate panel and axes."""

import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from _data import make_linear_mixture, make_two_regimes, make_xor
from matplotlib.colors import to_rgba
from numpy.testing import assert_allclose
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor
from skmoe.plotting import ExpertCurvesDisplay

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
        # Drawn where trusted; NaN (a gap in the line) elsewhere.
        drawn = disp.trusted_[:, i]
        assert_allclose(line.get_ydata()[drawn], curves[drawn, i])
        assert np.isnan(line.get_ydata()[~drawn]).all()
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
    with pytest.raises(TypeError, match="needs a regression mixture.*Classifier"):
        ExpertCurvesDisplay.from_estimator(clf, Xc[:, :1], y[:1])
    X2, y2 = data_2d
    with pytest.raises(ValueError, match="needs 'feature'.*X has 2 columns"):
        ExpertCurvesDisplay.from_estimator(moe_2d, X2, y2)
    for min_gate in (-0.1, 1.5, "half", True):
        with pytest.raises(ValueError, match="'min_gate' must be 'auto' or a float"):
            ExpertCurvesDisplay.from_estimator(moe_1d, X, y, min_gate=min_gate)
    with pytest.raises(ValueError, match="'n_points' must be an int >= 2"):
        ExpertCurvesDisplay.from_estimator(moe_1d, X, y, n_points=1)
    for n_points in (2.7, "abc", None):
        message = f"'n_points' must be an int >= 2; got {n_points!r}"
        with pytest.raises(TypeError, match=re.escape(message)):
            ExpertCurvesDisplay.from_estimator(moe_1d, X, y, n_points=n_points)
    with pytest.raises(ValueError, match="y has 3 samples but X has 80"):
        ExpertCurvesDisplay.from_estimator(moe_1d, X, y[:3])
    with pytest.raises(ValueError, match="'gate_ax' needs 'ax'"):
        _, gate_ax = plt.subplots()
        ExpertCurvesDisplay.from_estimator(moe_1d, X, y, gate_ax=gate_ax)


# ---- experts where the gate trusts them; labels; the legend -----------------------


def test_experts_drawn_only_on_their_side_of_the_handover(moe_1d, data_1d):
    # Known truth: the regimes switch at x = 0. With the default threshold
    # (the equal share, 1/2 here) each expert's line stays on its side, up to
    # one grid step past the handover, and some expert is drawn everywhere.
    X, y = data_1d
    disp = ExpertCurvesDisplay.from_estimator(moe_1d, X, y, n_points=121)
    step = disp.grid[1] - disp.grid[0]
    gate = moe_1d.gate_proba(disp.grid[:, None])
    assert disp.trusted_.any(axis=1).all()
    for i in range(2):
        drawn = disp.grid[disp.trusted_[:, i]]
        left_side = np.median(drawn) < 0
        if left_side:
            assert drawn.max() < 0.3 + step
        else:
            assert drawn.min() > -0.3 - step
        # Exactly: the gate's >= 1/2 set, widened by one grid point.
        expected = gate[:, i] >= 0.5
        expected[1:] |= expected[:-1].copy()
        expected[:-1] |= gate[1:, i] >= 0.5
        assert (disp.trusted_[:, i] == expected).all()
    # min_gate=0 draws every expert everywhere; the y range still follows the
    # data and the band, not the extrapolating experts.
    everywhere = ExpertCurvesDisplay.from_estimator(
        moe_1d, X, y, n_points=121, min_gate=0
    )
    assert everywhere.trusted_.all()
    assert_allclose(everywhere.ax_.get_ylim(), disp.ax_.get_ylim())


def test_threshold_with_three_experts():
    # Three regimes; with 1/3 as the threshold every point has an expert.
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(300, 1))
    y = np.select([X[:, 0] < -1, X[:, 0] < 1], [X[:, 0] + 4, -2 * X[:, 0]], 3 - X[:, 0])
    moe = MixtureOfExpertsRegressor(n_experts=3, random_state=0).fit(
        X, y + 0.1 * rng.standard_normal(300)
    )
    disp = ExpertCurvesDisplay.from_estimator(moe, X, n_points=90)
    assert disp.trusted_.any(axis=1).all()
    assert disp.trusted_.sum(axis=0).max() < 0.6 * 90
    strict = ExpertCurvesDisplay.from_estimator(moe, X, n_points=90, min_gate=0.9)
    assert strict.trusted_.sum() < disp.trusted_.sum()


def test_axes_labelled_from_pandas_names(data_1d):
    X, y = data_1d
    frame = pd.DataFrame({"wind speed": X[:, 0]}, index=np.arange(80) + 100)
    target = pd.Series(y, index=frame.index, name="power")
    moe = MixtureOfExpertsRegressor(random_state=0).fit(frame, target)
    disp = ExpertCurvesDisplay.from_estimator(moe, frame, target, n_points=20)
    assert disp.gate_ax_.get_xlabel() == "wind speed"
    assert disp.ax_.get_ylabel() == "power"
    no_gate = ExpertCurvesDisplay.from_estimator(
        moe, frame, target, plot_gate=False, n_points=20
    )
    assert no_gate.ax_.get_xlabel() == "wind speed"
    # Without names: "x" and "y".
    plain = ExpertCurvesDisplay.from_estimator(
        MixtureOfExpertsRegressor(random_state=0).fit(X, y), X, y, n_points=20
    )
    assert (plain.gate_ax_.get_xlabel(), plain.ax_.get_ylabel()) == ("feature 0", "y")


def test_legend_is_off_the_data(moe_1d, data_1d):
    X, y = data_1d
    disp = ExpertCurvesDisplay.from_estimator(moe_1d, X, y, n_points=20)
    disp.figure_.canvas.draw()
    renderer = disp.figure_.canvas.get_renderer()
    legend_box = disp.legend_.get_window_extent(renderer)
    axes_box = disp.ax_.get_window_extent(renderer)
    # Right of the axes, and inside the figure (the layout made room for it).
    assert legend_box.x0 >= axes_box.x1
    assert legend_box.x1 <= disp.figure_.bbox.x1 + 1
    assert {"lin", "ridge", "mixture mean"} <= set(_legend_texts(disp.legend_))


def test_one_feature_of_many_others_held(moe_2d, data_2d):
    X, y = data_2d
    disp = ExpertCurvesDisplay.from_estimator(moe_2d, X, y, feature=1, n_points=25)
    rows = np.column_stack([np.full(25, np.median(X[:, 0])), disp.grid])
    assert_allclose(disp.grid, np.linspace(X[:, 1].min(), X[:, 1].max(), 25))
    assert_allclose(disp.expert_curves, moe_2d.expert_predictions(rows))
    assert_allclose(disp.mean, moe_2d.predict(rows))
    assert_allclose(disp.gate_proba, moe_2d.gate_proba(rows))
    assert_allclose(disp.scatter_.get_offsets(), np.column_stack([X[:, 1], y]))
    at_row = ExpertCurvesDisplay.from_estimator(
        moe_2d, X, feature=1, held_at=X[3], n_points=25
    )
    rows[:, 0] = X[3, 0]
    assert_allclose(at_row.mean, moe_2d.predict(rows))
    # The title says where the other column is held, as the gate's plots do.
    assert disp.ax_.get_title().endswith("(other features at their medians)")
    assert at_row.ax_.get_title().endswith("(other features at the given row)")


def test_a_column_neither_gate_nor_experts_see_is_not_said_to_be_held(data_2d):
    X, y = data_2d
    moe = MixtureOfExpertsRegressor(
        gate_features=[1], expert_features=[1], n_init=1, random_state=0
    ).fit(X, y)
    disp = ExpertCurvesDisplay.from_estimator(moe, X, feature=1, n_points=5)
    assert disp.ax_.get_title() == "Experts and mixture"


# ---- the user's keyword arguments win over the display's style -----------------------


def test_user_kwargs_win_for_every_expert_curve(moe_1d, data_1d):
    X, y = data_1d
    disp = ExpertCurvesDisplay.from_estimator(
        moe_1d, X, y, n_points=20, color="r", ls=":", lw=3
    )
    for line in disp.expert_lines_:
        assert_allclose(to_rgba(line.get_color()), to_rgba("r"))
        assert line.get_linestyle() == ":"
        assert line.get_linewidth() == 3
        assert line.get_zorder() == 4  # the display's own style where not given
    # The gate panel keeps the experts' colours.
    gate_colors = [to_rgba(line.get_color()) for line in disp.gate_lines_]
    assert_allclose(gate_colors, disp.colors_)


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_cv_on_a_frame_labels_an_array_as_its_best_estimator(data_1d):
    from skmoe import MixtureOfExpertsRegressorCV

    X, y = data_1d
    frame = pd.DataFrame(X, columns=["dose"])
    cv = MixtureOfExpertsRegressorCV(
        n_experts_grid=(2,), alphas=(1.0,), cv=3, n_init=1
    ).fit(frame, y)
    drawn = ExpertCurvesDisplay.from_estimator(cv, X, y, n_points=20)
    chosen = ExpertCurvesDisplay.from_estimator(cv.best_estimator_, X, y, n_points=20)
    assert_allclose(drawn.expert_curves, chosen.expert_curves)
    assert drawn.gate_ax_.get_xlabel() == chosen.gate_ax_.get_xlabel() == "dose"
