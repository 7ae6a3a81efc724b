"""skmoe.plotting as a whole: errors every display shares, the optional
matplotlib dependency, and the package layout."""

import subprocess
import sys

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from _data import make_two_regimes
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmoe import MixtureOfExpertsRegressor, MixtureOfExpertsRegressorCV
from skmoe.plotting import (
    ConvergenceDisplay,
    ExpertCurvesDisplay,
    ExpertUsageDisplay,
    GateProfileDisplay,
    GateRegionsDisplay,
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


ALL_DISPLAYS = [
    (GateRegionsDisplay, "X"),
    (GateProfileDisplay, "Xf"),
    (ExpertCurvesDisplay, "Xy"),
    (ConvergenceDisplay, ""),
    (ExpertUsageDisplay, "X"),
]


def _call(display, needs, estimator, X, y, **kwargs):
    args = {"": (), "X": (X,), "Xf": (X, 0), "Xy": (X, y)}[needs]
    return display.from_estimator(estimator, *args, **kwargs)


@pytest.mark.parametrize("display, needs", ALL_DISPLAYS)
def test_not_a_mixture(display, needs, data_1d):
    X, y = data_1d
    message = f"{display.__name__}.from_estimator needs a fitted skmoe MixtureOf"
    with pytest.raises(TypeError, match=message):
        _call(display, needs, LinearRegression().fit(X, y), X, y)
    pipe = make_pipeline(StandardScaler(), LinearRegression()).fit(X, y)
    with pytest.raises(TypeError, match="Pipeline whose last step is LinearRegr"):
        _call(display, needs, pipe, X, y)


@pytest.mark.parametrize("display, needs", ALL_DISPLAYS)
def test_not_fitted(display, needs, data_1d):
    X, y = data_1d
    with pytest.raises(NotFittedError):
        _call(display, needs, MixtureOfExpertsRegressor(), X, y)
    with pytest.raises(NotFittedError):
        pipe = make_pipeline(StandardScaler(), MixtureOfExpertsRegressor())
        _call(display, needs, pipe, X, y)


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
        GateProfileDisplay(grid=grid, gate_proba=gate, expert_names=["a"]),
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


# ---- a Pipeline ending in a mixture ----------------------------------------------


@pytest.fixture(scope="module")
def scaled():
    """The same mixture fitted twice: in a Pipeline after a StandardScaler on
    raw X, and alone on the scaled X."""
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.uniform(0, 500, 150), rng.uniform(-0.01, 0.01, 150)])
    y = np.where(X[:, 0] < 250, X[:, 0] / 50, 10 - X[:, 0] / 100)
    y = y + 100 * X[:, 1] + 0.2 * rng.standard_normal(150)
    pipe = make_pipeline(
        StandardScaler(), MixtureOfExpertsRegressor(random_state=0)
    ).fit(X, y)
    X_scaled = pipe[0].transform(X)
    moe = MixtureOfExpertsRegressor(random_state=0).fit(X_scaled, y)
    return pipe, moe, X, X_scaled, y


@pytest.mark.parametrize(
    "display, args, kwargs, compared",
    [
        (GateRegionsDisplay, "X", {"eps": 0, "grid_resolution": 20}, "gate_proba"),
        (GateProfileDisplay, "X0", {"n_points": 30}, "gate_proba"),
        (ExpertCurvesDisplay, "Xy0", {"n_points": 30}, "expert_curves"),
        (ExpertUsageDisplay, "X", {}, "shares"),
        (ConvergenceDisplay, "", {}, "curves"),
    ],
)
def test_pipeline_draws_what_its_mixture_draws(scaled, display, args, kwargs, compared):
    # A Pipeline is drawn in the units it takes, through its scaler: the
    # numbers are those of the same mixture drawn on the scaled data, the grid
    # is in raw units.
    pipe, moe, X, X_scaled, y = scaled
    with_args = {
        "": lambda X: (),
        "X": lambda X: (X,),
        "X0": lambda X: (X, 0),
        "Xy0": lambda X: (X, y),
    }[args]
    if args == "Xy0":
        kwargs = {**kwargs, "feature": 0}
    through_pipe = display.from_estimator(pipe, *with_args(X), **kwargs)
    alone = display.from_estimator(moe, *with_args(X_scaled), **kwargs)
    expected, got = getattr(alone, compared), getattr(through_pipe, compared)
    if compared == "curves":
        expected, got = np.concatenate(expected), np.concatenate(got)
    assert_allclose(got, expected, rtol=1e-6, atol=1e-8)
    if hasattr(alone, "grid"):
        raw = pipe[0].mean_[0] + pipe[0].scale_[0] * np.asarray(alone.grid)
        assert_allclose(through_pipe.grid, raw)
        assert through_pipe.ax_.get_xlim()[1] > 400  # raw units on the axis
    if display is GateRegionsDisplay:
        assert_array_equal(through_pipe.data_experts, moe.predict_expert(X_scaled))
        assert_allclose(through_pipe.data, X)


@pytest.mark.parametrize("display, needs", ALL_DISPLAYS)
def test_a_cv_estimator_draws_its_chosen_mixture(display, needs, scaled):
    _, _, _, X, y = scaled
    cv_moe = MixtureOfExpertsRegressorCV(
        n_experts_grid=(1, 2), alphas=(1e-3,), cv=3, random_state=0
    ).fit(X, y)
    assert cv_moe.n_experts_ == 2
    kwargs = {ExpertCurvesDisplay: {"feature": 0}}.get(display, {})
    drawn = _call(display, needs, cv_moe, X, y, **kwargs)
    chosen = _call(display, needs, cv_moe.best_estimator_, X, y, **kwargs)
    compared = {
        GateRegionsDisplay: "gate_proba",
        GateProfileDisplay: "gate_proba",
        ExpertCurvesDisplay: "expert_curves",
        ConvergenceDisplay: "curves",
        ExpertUsageDisplay: "shares",
    }[display]
    got, expected = getattr(drawn, compared), getattr(chosen, compared)
    if compared == "curves":
        got, expected = np.concatenate(got), np.concatenate(expected)
    assert_array_equal(got, expected)


# ---- the package's layout --------------------------------------------------------


def test_one_module_per_display_and_all_reexported():
    import skmoe.plotting

    assert sorted(skmoe.plotting.__all__) == skmoe.plotting.__all__
    for name in skmoe.plotting.__all__:
        display = getattr(skmoe.plotting, name)
        assert display.__name__ == name
        # Each display in a private module of its own, re-exported here.
        assert display.__module__.startswith("skmoe.plotting._")
    modules = [
        getattr(skmoe.plotting, name).__module__ for name in skmoe.plotting.__all__
    ]
    assert len(set(modules)) == len(modules)


def test_no_function_of_the_displays_is_long():
    # Long drawing functions are split into named steps; docstrings aside, no
    # function or method in skmoe.plotting is over 80 lines.
    import ast
    from pathlib import Path

    import skmoe.plotting

    package = Path(skmoe.plotting.__file__).parent
    lengths = {}
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                body = node.body
                if ast.get_docstring(node) is not None:
                    body = body[1:]
                if body:
                    n_lines = body[-1].end_lineno - body[0].lineno + 1
                    lengths[f"{path.name}:{node.name}"] = n_lines
    assert lengths, "no functions found"
    assert max(lengths.values()) <= 80, {k: v for k, v in lengths.items() if v > 80}


@pytest.mark.parametrize("display, needs", [d for d in ALL_DISPLAYS if "X" in d[1]])
def test_sparse_X_is_refused_by_name(display, needs, data_1d, moe_1d):
    # ExpertUsageDisplay takes it as the mixture does; the grid displays
    # failed with "got an array of shape ()".
    import scipy.sparse as sp

    X, y = data_1d
    if display is ExpertUsageDisplay:
        disp = _call(display, needs, moe_1d, sp.csr_matrix(X), y)
        assert_allclose(disp.shares, _call(display, needs, moe_1d, X, y).shares)
        return
    with pytest.raises(
        TypeError, match=r"needs X dense.*sparse csr_matrix of shape \(80, 1\)"
    ):
        _call(display, needs, moe_1d, sp.csr_matrix(X), y)


def test_colormap_names_give_distinct_colours():
    """A continuous map's first shades were taken (viridis: four dark
    purples within 0.02 of each other; the default "turbo" past 20
    experts, dark blues); a qualitative map too small repeated colours."""
    from skmoe.plotting._common import _expert_colors

    for name in ("viridis", "turbo"):
        colours = _expert_colors(4, name)
        assert_allclose(colours, matplotlib.colormaps[name]([0, 1 / 3, 2 / 3, 1]))
    spread = _expert_colors(24)  # the default past 20: turbo
    assert np.ptp(spread[:, :3], axis=0).max() > 0.8
    tab10 = np.asarray(matplotlib.colormaps["tab10"].colors)[:3]
    assert_allclose(_expert_colors(3, "tab10"), np.c_[tab10, np.ones(3)])
    with pytest.raises(ValueError, match=r"'colors'='tab10' holds 10 colours, fewer"):
        _expert_colors(12, "tab10")
