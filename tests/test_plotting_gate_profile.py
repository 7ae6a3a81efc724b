"""GateProfileDisplay: the gate's probability of each expert along one feature."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from _data import make_concomitant, make_xor
from matplotlib.colors import to_rgba
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor
from skmoe.inspection import gate_proba, predict_expert
from skmoe.plotting import GateProfileDisplay

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def gate_on_three():
    """A gate on three features of which one, ``z``, decides the regime
    (z > 0); ``x`` drives y within a regime, ``n`` is noise."""
    X, y = make_concomitant(400, random_state=0, n_noise=1)
    frame = pd.DataFrame(X, columns=["x", "z", "n"])
    return MixtureOfExpertsRegressor(random_state=0).fit(frame, y), frame, y


def _rows(frame, column, grid, held):
    rows = pd.DataFrame(np.tile(held, (len(grid), 1)), columns=frame.columns)
    rows[column] = grid
    return rows


def test_lines_are_the_gate_along_the_feature(gate_on_three):
    moe, frame, _ = gate_on_three
    disp = GateProfileDisplay.from_estimator(moe, frame, "z", n_points=40)
    grid = np.linspace(frame["z"].min(), frame["z"].max(), 40)
    assert_allclose(disp.grid, grid)
    expected = moe.gate_proba(_rows(frame, "z", grid, frame.median().to_numpy()))
    assert_allclose(disp.gate_proba, expected)
    for i, line in enumerate(disp.lines_):
        assert_allclose(line.get_xdata(), grid)
        assert_allclose(line.get_ydata(), expected[:, i])
        assert line.get_label() == list(moe.named_experts_)[i]
    assert disp.ax_.get_xlabel() == "z"
    assert disp.ax_.get_ylabel() == "gate probability"
    assert "other features at their medians" in disp.ax_.get_title()
    assert_allclose(disp.equal_share_line_.get_ydata(), [0.5, 0.5])


def test_known_truth_the_gate_hands_over_at_z_zero(gate_on_three):
    # The regime is z > 0: along z the gate hands over near 0 and is sure on
    # both sides; along the noise column it does not hand over.
    moe, frame, _ = gate_on_three
    along_z = GateProfileDisplay.from_estimator(moe, frame, "z", n_points=101)
    top = along_z.gate_proba.argmax(axis=1)
    changes = np.flatnonzero(np.diff(top))
    assert len(changes) == 1 and abs(along_z.grid[changes[0]]) < 0.3
    assert along_z.gate_proba[[0, -1]].max(axis=1).min() > 0.9
    along_n = GateProfileDisplay.from_estimator(moe, frame, "n", n_points=101)
    assert len(np.unique(along_n.gate_proba.argmax(axis=1))) == 1


def test_rug_is_the_data_coloured_by_expert(gate_on_three):
    moe, frame, _ = gate_on_three
    disp = GateProfileDisplay.from_estimator(moe, frame, 1, n_points=20)
    assert_allclose(disp.rug_.get_offsets()[:, 0], frame["z"])
    experts = moe.predict_expert(frame)
    assert_array_equal(disp.data_experts, experts)
    assert_allclose(disp.rug_.get_facecolors()[:, :3], disp.colors_[experts, :3])
    # Below the lines, inside the axes.
    assert (disp.rug_.get_offsets()[:, 1] < 0).all()
    assert disp.ax_.get_ylim()[0] < disp.rug_.get_offsets()[0, 1]
    bare = GateProfileDisplay.from_estimator(moe, frame, 1, plot_data=False)
    assert bare.rug_ is None and bare.data is None


@pytest.mark.parametrize(
    "site",
    [pd.Categorical(np.repeat([1, 4], 150)), np.repeat([False, True], 150)],
    ids=["categories", "booleans"],
)
def test_categories_and_booleans_are_held_at_their_most_frequent_value(site):
    # Numbers as categories or booleans were held at their median, 2.5 of
    # the categories 1 and 4 (0.5 of a boolean), which no encoder knows.
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"load": rng.uniform(0, 10, 300), "site": site})
    y = np.where(np.asarray(X["site"]) == site[-1], 5 + 0.5 * X["load"], 2 * X["load"])
    encode = ColumnTransformer(
        [("site", OneHotEncoder(sparse_output=False), ["site"])],
        remainder="passthrough",
    )
    model = make_pipeline(
        encode, MixtureOfExpertsRegressor(n_init=1, random_state=0)
    ).fit(X, y + 0.3 * rng.standard_normal(300))
    display = GateProfileDisplay.from_estimator(model, X, "load")
    held = X.iloc[:1].copy()
    held["site"] = site[0]  # the most frequent, the first of equals
    expected = GateProfileDisplay.from_estimator(model, X, "load", held_at=held)
    assert_allclose(display.gate_proba, expected.gate_proba)


def test_held_at_a_row(gate_on_three):
    moe, frame, _ = gate_on_three
    row = frame.iloc[17]
    disp = GateProfileDisplay.from_estimator(moe, frame, "x", held_at=row, n_points=30)
    expected = moe.gate_proba(_rows(frame, "x", disp.grid, row.to_numpy()))
    assert_allclose(disp.gate_proba, expected)
    assert "the given row" in disp.ax_.get_title()


def test_legend_is_right_of_the_axes(gate_on_three):
    moe, frame, _ = gate_on_three
    disp = GateProfileDisplay.from_estimator(moe, frame, "z", n_points=20)
    disp.figure_.canvas.draw()
    renderer = disp.figure_.canvas.get_renderer()
    assert (
        disp.legend_.get_window_extent(renderer).x0
        >= disp.ax_.get_window_extent(renderer).x1
    )
    assert [t.get_text() for t in disp.legend_.get_texts()] == list(moe.named_experts_)


def test_through_a_column_transformer_pipeline(gate_on_three):
    _, frame, y = gate_on_three
    data = frame.assign(
        city=np.random.RandomState(0).choice(["Oslo", "Lima", "Lima"], len(frame))
    )
    columns = ColumnTransformer(
        [("num", StandardScaler(), ["x", "z", "n"]), ("cat", OneHotEncoder(), ["city"])]
    )
    pipe = make_pipeline(columns, MixtureOfExpertsRegressor(random_state=0))
    pipe.fit(data, y)
    disp = GateProfileDisplay.from_estimator(pipe, data, "z", n_points=30)
    rows = pd.DataFrame(
        {
            "x": data["x"].median(),
            "z": disp.grid,
            "n": data["n"].median(),
            "city": "Lima",
        }
    )
    assert_allclose(disp.gate_proba, gate_proba(pipe, rows).to_numpy())
    assert_array_equal(disp.data_experts, predict_expert(pipe, data).cat.codes)
    with pytest.raises(ValueError, match="'feature' must select a numeric column"):
        GateProfileDisplay.from_estimator(pipe, data, "city")


def test_classifier_and_numpy_input():
    X, y = make_xor(150, random_state=0)
    experts = [("left", LogisticRegression()), ("right", LogisticRegression())]
    clf = MixtureOfExpertsClassifier(experts, random_state=0).fit(X, y)
    disp = GateProfileDisplay.from_estimator(clf, X, 0, n_points=25)
    assert disp.ax_.get_xlabel() == "feature 0"
    assert [line.get_label() for line in disp.lines_] == ["left", "right"]
    rows = np.column_stack([disp.grid, np.full(25, np.median(X[:, 1]))])
    assert_allclose(disp.gate_proba, clf.gate_proba(rows))


@pytest.mark.parametrize(
    "feature, kwargs, error, message",
    [
        ("w", {}, ValueError, r"'feature' must be a column of X; got 'w'"),
        (3, {}, ValueError, "column index from 0 to 2"),
        (None, {}, TypeError, "'feature' must be a column index"),
        ("x", {"n_points": 1}, ValueError, "'n_points' must be an int >= 2"),
        ("x", {"n_points": 2.7}, TypeError, "'n_points' must be an int >= 2; got 2.7"),
        ("x", {"n_points": "abc"}, TypeError, "'n_points' must be .*got 'abc'"),
        ("x", {"n_points": None}, TypeError, "'n_points' must be .*got None"),
        ("x", {"held_at": "mode"}, ValueError, "'held_at' must be 'median'"),
    ],
)
def test_bad_input(gate_on_three, feature, kwargs, error, message):
    moe, frame, _ = gate_on_three
    with pytest.raises(error, match=message):
        GateProfileDisplay.from_estimator(moe, frame, feature, **kwargs)


def test_from_arrays_on_given_ax():
    fig, ax = plt.subplots()
    grid = np.linspace(0, 1, 5)
    gate = np.column_stack([grid, 1 - grid])
    disp = GateProfileDisplay(
        grid=grid,
        gate_proba=gate,
        expert_names=["a", "b"],
        data=np.array([0.1, 0.9]),
        data_experts=np.array([1, 0]),
    ).plot(ax=ax, colors=["red", "blue"])
    assert disp.ax_ is ax and disp.figure_ is fig
    assert disp.ax_.get_xlabel() == "feature"
    assert disp.ax_.get_title() == "Gate along feature"
    assert_allclose(disp.rug_.get_facecolors()[:, :3], [[0, 0, 1], [1, 0, 0]])


# ---- the user's keyword arguments win over the display's style -----------------------


def test_user_line_kwargs_win_for_every_line(gate_on_three):
    moe, frame, _ = gate_on_three
    disp = GateProfileDisplay.from_estimator(
        moe, frame, "z", n_points=20, color="red", label="gate", lw=3, ls=":"
    )
    for line in disp.lines_:
        assert_allclose(to_rgba(line.get_color()), to_rgba("red"))
        assert line.get_label() == "gate"
        assert line.get_linewidth() == 3
        assert line.get_linestyle() == ":"
    # The rug keeps the experts' colours.
    rug = disp.rug_.get_facecolors()[:, :3]
    assert_allclose(rug, disp.colors_[disp.data_experts][:, :3])
    with pytest.raises(TypeError, match="aliases of one another"):
        GateProfileDisplay.from_estimator(
            moe, frame, "z", n_points=20, lw=3, linewidth=2
        )


# ---- a CV estimator draws as the mixture it chose ------------------------------------


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_cv_titles_and_labels_as_its_best_estimator():
    from skmoe import MixtureOfExpertsRegressorCV

    X, y = make_concomitant(150, random_state=0, n_noise=1)
    frame = pd.DataFrame(X, columns=["x", "z", "n"])
    cv = MixtureOfExpertsRegressorCV(
        gate_features=[1], n_experts_grid=(2,), alphas=(1.0,), cv=3, n_init=1
    ).fit(frame, y)
    for estimator in (cv, make_pipeline(cv)):
        drawn = GateProfileDisplay.from_estimator(estimator, X, 1, n_points=20)
        chosen = GateProfileDisplay.from_estimator(
            cv.best_estimator_, X, 1, n_points=20
        )
        assert_allclose(drawn.gate_proba, chosen.gate_proba)
        # The gate sees z alone: no other feature is held, and none said so;
        # fitted on a DataFrame, the axis has its column's name for an array X.
        assert drawn.ax_.get_title() == chosen.ax_.get_title() == "Gate along z"
        assert drawn.ax_.get_xlabel() == chosen.ax_.get_xlabel() == "z"


def test_a_grid_along_a_boolean_column_is_refused_by_name():
    # The grid was [0, 0.25, 0.5, 0.75, 1]: values a flag never takes, which
    # an encoder refuses and the gate never saw.
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"x": rng.normal(size=200), "flag": rng.rand(200) < 0.5})
    y = np.where(X.flag, 2 * X.x, -X.x) + 0.1 * rng.normal(size=200)
    moe = MixtureOfExpertsRegressor(n_init=1, random_state=0).fit(X, y)
    with pytest.raises(
        ValueError,
        match="'feature' must select a numeric column.*'flag' holds booleans",
    ):
        GateProfileDisplay.from_estimator(moe, X, "flag")
    GateProfileDisplay.from_estimator(moe, X, "x")  # the numeric one still is
