"""GateRegionsDisplay: regions, contours, colours and the grid behind them."""

import re
import warnings

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from _data import make_concomitant, make_linear_mixture, make_xor
from matplotlib.colors import to_rgba, to_rgba_array
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor
from skmoe.inspection import gate_proba
from skmoe.plotting import GateRegionsDisplay

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
    # The held column is not the gate's: the title does not mention it.
    assert disp.ax_.get_title() == "Gate regions: expert trusted most"
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
def test_gate_regions_asks_for_features_when_it_cannot_tell(columns, n_seen):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((40, 3))
    y = X[:, 0] + 0.1 * rng.standard_normal(40)
    moe = MixtureOfExpertsRegressor(
        n_experts=2, gate_features=columns, random_state=0, max_iter=5
    )
    moe.fit(X, y)
    message = f"needs 'features'.*X has 3 columns and the gate sees {n_seen}"
    with pytest.raises(ValueError, match=message):
        GateRegionsDisplay.from_estimator(moe, X)
    # Any two columns can be chosen, also one the gate does not see.
    disp = GateRegionsDisplay.from_estimator(moe, X, features=[0, 1])
    assert disp.regions.shape == (200, 200)


def test_gate_regions_x_must_match_the_fit(moe_2d, data_2d):
    X, _ = data_2d
    message = "X has 3 features, but MixtureOfExpertsRegressor is expecting 2"
    with pytest.raises(ValueError, match=message):
        GateRegionsDisplay.from_estimator(moe_2d, np.hstack([X, X[:, :1]]))


# ---- gates on more than two features -----------------------------------------------


@pytest.fixture(scope="module")
def gate_on_three():
    """A gate on three features of which one, ``z``, decides the regime:
    y = 1 + 2x for z > 0 and -1 - 1.5x otherwise; ``n`` is noise."""
    X, y = make_concomitant(400, random_state=0, n_noise=1)
    frame = pd.DataFrame(X, columns=["x", "z", "n"], index=np.arange(400) * 3 + 7)
    moe = MixtureOfExpertsRegressor(random_state=0).fit(frame, y)
    return moe, frame


def _grid_like(disp, frame, columns, held):
    """The rows behind a display's grid: ``held`` but for ``columns``."""
    rows = pd.DataFrame(
        np.tile(held, (disp.xx0.size, 1)), columns=frame.columns, dtype=float
    )
    rows[columns[0]], rows[columns[1]] = disp.xx0.ravel(), disp.xx1.ravel()
    return rows


def test_gate_regions_features_by_name_others_at_medians(gate_on_three):
    moe, frame = gate_on_three
    disp = GateRegionsDisplay.from_estimator(
        moe, frame, features=("z", "x"), grid_resolution=25
    )
    assert (disp.ax_.get_xlabel(), disp.ax_.get_ylabel()) == ("z", "x")
    assert "other features at their medians" in disp.ax_.get_title()
    rows = _grid_like(disp, frame, ["z", "x"], frame.median().to_numpy())
    assert_allclose(disp.gate_proba.reshape(-1, 2), moe.gate_proba(rows))
    assert_allclose(disp.data, frame[["z", "x"]].to_numpy())
    assert_array_equal(disp.data_experts, moe.predict_expert(frame))
    # Known truth: the regions split along z near 0, not along x.
    z_axis = disp.xx0[0]
    changes = np.flatnonzero(np.diff(disp.regions[12]))
    assert len(changes) == 1 and abs(z_axis[changes[0]]) < 0.3
    assert (disp.regions[:, 0] == disp.regions[0, 0]).all()


def test_gate_regions_held_at_a_row(gate_on_three):
    moe, frame = gate_on_three
    row = frame.loc[frame.index[5]]
    disp = GateRegionsDisplay.from_estimator(
        moe, frame, features=[0, 1], held_at=row, grid_resolution=15
    )
    assert "the given row" in disp.ax_.get_title()
    rows = _grid_like(disp, frame, ["x", "z"], row.to_numpy())
    assert_allclose(disp.gate_proba.reshape(-1, 2), moe.gate_proba(rows))
    # A one-row DataFrame and a plain array hold at the same row.
    for same_row in (frame.iloc[[5]], row.to_numpy()):
        again = GateRegionsDisplay.from_estimator(
            moe, frame, features=[0, 1], held_at=same_row, grid_resolution=15
        )
        assert_allclose(again.gate_proba, disp.gate_proba)


def test_gate_regions_through_column_transformer_with_categories(gate_on_three):
    _, frame = gate_on_three
    rng = np.random.RandomState(0)
    data = frame.assign(city=rng.choice(["Oslo", "Lima", "Lima"], len(frame)))
    _, y = make_concomitant(400, random_state=0, n_noise=1)
    columns = ColumnTransformer(
        [("num", StandardScaler(), ["x", "z", "n"]), ("cat", OneHotEncoder(), ["city"])]
    )
    pipe = make_pipeline(columns, MixtureOfExpertsRegressor(random_state=0))
    pipe.fit(data, y)
    disp = GateRegionsDisplay.from_estimator(
        pipe, data, features=["x", "z"], grid_resolution=15
    )
    # The grid holds n at its median and the city at its most frequent value.
    rows = pd.DataFrame(
        {
            "x": disp.xx0.ravel(),
            "z": disp.xx1.ravel(),
            "n": data["n"].median(),
            "city": "Lima",
        }
    )
    assert_allclose(disp.gate_proba.reshape(-1, 2), gate_proba(pipe, rows))
    assert (disp.ax_.get_xlabel(), disp.ax_.get_ylabel()) == ("x", "z")
    with pytest.raises(ValueError, match="'features' must select a numeric column"):
        GateRegionsDisplay.from_estimator(pipe, data, features=["x", "city"])


@pytest.mark.parametrize(
    "features, error, message",
    [
        ([0, 0], ValueError, "two different columns"),
        ([0], ValueError, "must be two columns of X"),
        ("x", ValueError, "must be two columns of X"),
        (["x", "nope"], ValueError, r"must be a column of X; got 'nope'"),
        ([0, 3], ValueError, "column index from 0 to 2.*got 3"),
        ([0, 1.5], TypeError, "column index \\(int\\) or a column name"),
    ],
)
def test_gate_regions_bad_features(gate_on_three, features, error, message):
    moe, frame = gate_on_three
    with pytest.raises(error, match=message):
        GateRegionsDisplay.from_estimator(moe, frame, features=features)


def test_gate_regions_bad_held_at_and_names_on_arrays(gate_on_three):
    moe, frame = gate_on_three
    with pytest.raises(ValueError, match="'held_at' must be 'median' or a row"):
        GateRegionsDisplay.from_estimator(moe, frame, features=[0, 1], held_at="mean")
    with pytest.raises(ValueError, match="'held_at' must be 'median' or a row.*3"):
        GateRegionsDisplay.from_estimator(moe, frame, features=[0, 1], held_at=[0, 1])
    with pytest.raises(ValueError, match="missing columns \\['n'\\]"):
        GateRegionsDisplay.from_estimator(
            moe, frame, features=[0, 1], held_at=frame.iloc[0][["x", "z"]]
        )
    moe_np = MixtureOfExpertsRegressor(n_experts=2, random_state=0, max_iter=5)
    moe_np.fit(frame.to_numpy(), np.arange(len(frame)) % 3)
    with pytest.raises(ValueError, match="is a column name \\('x'\\) but X has"):
        GateRegionsDisplay.from_estimator(moe_np, frame.to_numpy(), features=["x", 1])


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


# ---- the user's keyword arguments win over the display's style -----------------------


def test_gate_regions_user_contourf_kwargs_win(moe_2d, data_2d):
    X, _ = data_2d
    disp = GateRegionsDisplay.from_estimator(
        moe_2d, X, grid_resolution=20, levels=[-0.5, 0.5, 2.5], zorder=-3
    )
    assert_allclose(disp.surface_.levels, [-0.5, 0.5, 2.5])
    assert disp.surface_.get_zorder() == -3


def test_gate_regions_cmap_replaces_the_experts_colours(moe_2d, data_2d):
    X, _ = data_2d
    disp = GateRegionsDisplay.from_estimator(
        moe_2d, X, grid_resolution=20, cmap="viridis"
    )
    expected = disp.surface_.to_rgba(np.arange(3))
    assert_allclose(disp.colors_, expected)
    viridis = matplotlib.colormaps["viridis"]
    assert_allclose(disp.colors_, viridis((np.arange(3) + 0.5) / 3), atol=0.01)
    # Regions, points and legend agree on the colormap's colours.
    assert_allclose(disp.surface_.get_facecolor()[:, :3], expected[:, :3])
    assert_allclose(disp.scatter_.get_facecolors(), expected[disp.data_experts])
    keys = [handle.get_facecolor() for handle in disp.legend_.legend_handles]
    assert_allclose(keys, expected)
    with pytest.raises(ValueError, match="either as 'colors' or as a 'cmap'"):
        disp.plot(colors=["red", "green", "blue"], cmap="viridis")


# ---- parameters are checked, naming the parameter and the value given ----------------


@pytest.mark.parametrize(
    "name, value, error, allowed",
    [
        ("grid_resolution", "abc", TypeError, "an int >= 2"),
        ("grid_resolution", None, TypeError, "an int >= 2"),
        ("grid_resolution", 20.5, TypeError, "an int >= 2"),
        ("grid_resolution", 1, ValueError, "an int >= 2"),
        ("eps", "abc", TypeError, "a finite float >= 0"),
        ("eps", -1.0, ValueError, "a finite float >= 0"),
        ("confidence_levels", 0.7, TypeError, "None or a sequence of numbers"),
    ],
)
def test_gate_regions_bad_parameters(moe_2d, data_2d, name, value, error, allowed):
    X, _ = data_2d
    message = (
        re.escape(f"'{name}' must be {allowed}") + ".*" + re.escape(f"got {value!r}.")
    )
    with pytest.raises(error, match=message):
        GateRegionsDisplay.from_estimator(moe_2d, X, **{name: value})
    if name == "confidence_levels":
        with pytest.raises(TypeError, match=r"such as \(0.7,\) for one level"):
            GateRegionsDisplay.from_estimator(moe_2d, X, **{name: value})
        with pytest.raises(TypeError, match="holds 'high'"):
            GateRegionsDisplay.from_estimator(moe_2d, X, **{name: ["high"]})


def test_gate_regions_bad_confidence_levels_in_plot():
    xx0, xx1 = np.meshgrid(np.linspace(0, 1, 5), np.linspace(0, 1, 4))
    disp = GateRegionsDisplay(
        xx0=xx0,
        xx1=xx1,
        gate_proba=np.stack([xx0, 1 - xx0], axis=-1),
        expert_names=["a", "b"],
    )
    with pytest.raises(TypeError, match="'confidence_levels' must be .*got 0.7"):
        disp.plot(confidence_levels=0.7)
    assert disp.plot(confidence_levels=np.array([0.7])).confidence_ is not None


# ---- a CV estimator draws as the mixture it chose ------------------------------------


@pytest.fixture(scope="module")
def cv_on_frame():
    """A CV estimator fitted on a three-column DataFrame, its gate on two."""
    from skmoe import MixtureOfExpertsRegressorCV

    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, (150, 3))
    y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
    y = y + 0.3 * rng.standard_normal(150)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    cv = MixtureOfExpertsRegressorCV(
        gate_features=[0, 1], n_experts_grid=(2,), alphas=(1.0,), cv=3, n_init=1
    ).fit(frame, y)
    return cv, frame, y


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
@pytest.mark.parametrize("in_pipeline", [False, True])
def test_gate_regions_cv_draws_as_its_best_estimator(cv_on_frame, in_pipeline):
    from sklearn.pipeline import Pipeline

    cv, frame, _ = cv_on_frame
    X = frame.to_numpy()
    wrap = (lambda est: Pipeline([("moe", est)])) if in_pipeline else (lambda est: est)
    chosen = GateRegionsDisplay.from_estimator(
        wrap(cv.best_estimator_), X, grid_resolution=15
    )
    # features=None: the two features the gate sees, as for best_estimator_.
    drawn = GateRegionsDisplay.from_estimator(wrap(cv), X, grid_resolution=15)
    assert_allclose(drawn.gate_proba, chosen.gate_proba)
    # The gate sees only the grid's features: nothing held, none said so.
    title = "Gate regions: expert trusted most"
    assert drawn.ax_.get_title() == chosen.ax_.get_title() == title
    with_features = GateRegionsDisplay.from_estimator(
        wrap(cv), X, features=[0, 1], grid_resolution=15
    )
    assert with_features.ax_.get_title() == title
    # Fitted on a DataFrame, the axes carry its column names for an array X.
    assert (drawn.ax_.get_xlabel(), drawn.ax_.get_ylabel()) == ("a", "b")
    assert (chosen.ax_.get_xlabel(), chosen.ax_.get_ylabel()) == ("a", "b")


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_gate_regions_pipeline_with_a_transformer_still_asks_for_features(cv_on_frame):
    # Behind a transformer, which columns reach the gate is not known.
    _, frame, y = cv_on_frame
    moe = MixtureOfExpertsRegressor(gate_features=[0, 1], n_init=1, random_state=0)
    pipe = make_pipeline(StandardScaler(), moe).fit(frame, y)
    with pytest.raises(ValueError, match="needs 'features'"):
        GateRegionsDisplay.from_estimator(pipe, frame.to_numpy())


def _filled_width(disp, level):
    """The x-extent of what contourf filled for one expert's level."""
    vertices = disp.surface_.get_paths()[level].vertices
    return np.ptp(vertices[:, 0]) if len(vertices) else 0.0


def test_an_expert_between_two_others_is_not_painted_where_they_meet():
    """contourf interpolated the expert index between grid points: where
    experts 0 and 2 meet, it passed 1, and expert 1 (leading nowhere) was
    painted in a band a grid step wide between them."""
    xx0, xx1 = np.meshgrid(np.linspace(-1, 1, 21), np.linspace(-1, 1, 21))
    left = xx0 < 0
    gate = np.stack(
        [
            np.where(left, 0.8, 0.1),
            np.full(xx0.shape, 0.1),
            np.where(left, 0.1, 0.8),
        ],
        axis=-1,
    )
    disp = GateRegionsDisplay(
        xx0=xx0, xx1=xx1, gate_proba=gate, expert_names=["a", "b", "c"]
    ).plot(confidence_levels=None)
    assert _filled_width(disp, 1) < 1e-5
    # The two others meet half-way between the grid points either side of 0.
    for level, end in ((0, "max"), (2, "min")):
        vertices = disp.surface_.get_paths()[level].vertices[:, 0]
        assert getattr(vertices, end)() == pytest.approx(-0.05, abs=1e-5)


def test_confidence_levels_given_twice_are_drawn_once(moe_2d, data_2d):
    # contour refused them with "Contour levels must be increasing", an
    # error that did not name the parameter.
    X, _ = data_2d
    disp = GateRegionsDisplay.from_estimator(
        moe_2d, X, confidence_levels=(0.9, 0.7, 0.7)
    )
    assert_allclose(disp.confidence_.levels, [0.7, 0.9])
