"""GateRegionsDisplay: regions, contours, colours and the grid behind them."""

import warnings

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from _data import make_linear_mixture, make_xor
from matplotlib.colors import to_rgba, to_rgba_array
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LogisticRegression

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor
from skmoe.plotting import (
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
def classifier():
    X, y = make_xor(120, random_state=0)
    experts = [("left", LogisticRegression()), ("right", LogisticRegression())]
    return MixtureOfExpertsClassifier(experts, random_state=0).fit(X, y), X


def _legend_texts(legend):
    return [text.get_text() for text in legend.get_texts()]


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
