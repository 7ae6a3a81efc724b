"""ExpertUsageDisplay: each expert's share of the rows and the gate's confidence."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from _data import make_linear_mixture, make_xor
from matplotlib.colors import to_rgba
from numpy.testing import assert_allclose
from sklearn.linear_model import LogisticRegression

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor
from skmoe.plotting import (
    ExpertUsageDisplay,
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


# ---- the user's keyword arguments win over the display's style -----------------------


def test_usage_user_kwargs_win_for_every_bar(moe_2d, data_2d):
    X, _ = data_2d
    disp = ExpertUsageDisplay.from_estimator(
        moe_2d, X, alpha=0.5, color="red", ec="blue", lw=2
    )
    for bars in disp.bars_:
        for bar in bars:
            assert bar.get_alpha() == 0.5
            assert_allclose(bar.get_facecolor(), to_rgba("red", 0.5))
            assert_allclose(bar.get_edgecolor(), to_rgba("blue", 0.5))
            assert bar.get_linewidth() == 2
    # The legend's keys are drawn as the bars are.
    keys = disp.ax_.get_legend().legend_handles[:2]
    assert [key.get_alpha() for key in keys] == [0.5, 0.5]
    assert [key.get_linewidth() for key in keys] == [2, 2]
    # The display's own style where not given: the confidences are hatched.
    assert [bar.get_hatch() for bar in disp.bars_[1]] == ["//"] * 3
    with pytest.raises(TypeError, match="aliases of one another"):
        ExpertUsageDisplay.from_estimator(moe_2d, X, lw=2, linewidth=1)


def test_usage_of_a_dask_array_is_computed(moe_2d, data_2d):
    da = pytest.importorskip("dask.array")
    X, _ = data_2d
    disp = ExpertUsageDisplay.from_estimator(moe_2d, da.from_array(X, chunks=50))
    expected = ExpertUsageDisplay.from_estimator(moe_2d, X)
    assert type(disp.shares) is np.ndarray
    assert type(disp.confidences) is np.ndarray
    assert_allclose(disp.shares, expected.shares)
    assert_allclose(disp.confidences, expected.confidences)
