"""The defaults grid (benchmarks/defaults_grid.py) in its tiny mode, and its parts.

The grid itself is a benchmark: nothing about timings or about which setting
wins is asserted here. What is asserted: every table has every cell, the
numbers are finite, and the pieces the grid's conclusions rest on (the
generators' truth, the oracle start, the relative stopping rule, the noise
floors) do what they say on data with a known answer.
"""

import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import defaults_grid as grid  # noqa: E402


def table_after(text, heading):
    """The Markdown table after the line ``heading``: (header, rows)."""
    lines = text.splitlines()
    start = lines.index(heading)
    block = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            block.append(line)
        elif block:
            break
    assert block, f"no table after {heading!r}"
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in block]
    header, rows = cells[0], cells[2:]
    assert rows, heading
    assert all(len(row) == len(header) for row in rows), heading
    return header, rows


def as_number(cell):
    return float(cell.replace("**", "").replace(",", "").replace("%", ""))


@pytest.fixture(scope="module")
def tiny():
    results = grid.run("tiny", log=lambda message: None)
    return results, grid.markdown(results)


def test_every_record_is_finite(tiny):
    results, _ = tiny
    profile = grid.PROFILES["tiny"]
    fitted = [r for r in results.generated if r["setting"] != "truth"]
    assert fitted and results.real
    for record in fitted + results.real:
        for key in ("ll", "score", "seconds", "min_weight"):
            assert math.isfinite(record[key]), record
        assert record["n_iter"] >= 1
        assert 0 <= record["min_weight"] <= 1
        if record["kind"] == "classification":
            assert 0 <= record["score"] <= 1
    # Every generated cell has the truth, the oracle and each setting of its kind.
    for name, sizes in profile["sizes"].items():
        kind = grid.CASES[name].kind
        wanted = {"truth", "oracle"} | {
            s.name for s in grid._settings_for(profile, kind, heavy=False)
        }
        for n in sizes:
            got = {
                r["setting"]
                for r in results.generated
                if r["case"] == name and r["n"] == n
            }
            assert got == wanted, (name, n)


def test_tables_are_complete(tiny):
    results, text = tiny
    settings = grid.PROFILES["tiny"]["settings"]
    header, rows = table_after(
        text, "## Generated cases: Δll against the oracle-start EM optimum"
    )
    assert header[5:] == settings
    assert {(r[0], int(r[1].replace(",", ""))) for r in rows} == {
        (name, n)
        for name, sizes in grid.PROFILES["tiny"]["sizes"].items()
        for n in sizes
    }
    for row in rows:
        case = grid.CASES[row[0]]
        for setting, cell in zip(header[5:], row[5:], strict=True):
            floor_column = grid.SETTING[setting].group == "noise floor"
            if case.kind == "classification" and floor_column:
                assert cell == ""  # a classifier has no noise floor
            else:
                assert math.isfinite(as_number(cell)), (row, setting)
    header, rows = table_after(text, "## Summary over the generated cells")
    assert [r[0] for r in rows] == settings
    for row in rows:
        within, cells = map(int, row[2].split("/"))
        assert 0 <= within <= cells
        assert all(math.isfinite(as_number(c)) for c in row[3:])
    header, rows = table_after(
        text, "## Real data: held-out ll per row minus the single expert's"
    )
    assert [r[0] for r in rows] == list(grid.PROFILES["tiny"]["real"])
    assert all(math.isfinite(as_number(c)) for c in rows[0][2:])
    _, rows = table_after(text, "## The reg_var each floor rule implies")
    assert all(as_number(c) >= 0 for row in rows for c in row[3:])


def test_deltas_are_against_the_oracle_of_the_same_cell(tiny):
    results, _ = tiny
    deltas = grid.generated_deltas(results)
    for (case, n), by_setting in deltas.items():
        records = [r for r in results.generated if r["case"] == case and r["n"] == n]
        oracle = np.mean([r["ll"] for r in records if r["setting"] == "oracle"])
        today = np.mean([r["ll"] for r in records if r["setting"] == "today"])
        assert by_setting["today"] == pytest.approx(today - oracle)


@pytest.mark.parametrize("name", list(grid.CASES))
def test_generators_truth(name):
    """Every regime occurs, the truth's log-likelihood is finite, and each
    regression regime scatters around its own plane with the stated noise."""
    case = grid.CASES[name]
    rng = np.random.default_rng(0)
    X, y, labels, true_ll = case.sample(4000, rng)
    assert X.shape[0] == y.shape[0] == labels.shape[0] == true_ll.shape[0] == 4000
    assert np.all(np.isfinite(true_ll))
    assert set(np.unique(labels)) == set(range(case.n_experts))
    if case.kind == "regression":
        # Rows of each regime scatter around that regime's line with the
        # stated noise: the pooled within-regime residual sd is the truth's sd.
        residuals = []
        for k in range(case.n_experts):
            rows = labels == k
            fit = grid.LinearRegression().fit(X[rows], y[rows])
            residuals.append(y[rows] - fit.predict(X[rows]))
        sd = np.std(np.concatenate(residuals))
        assert sd == pytest.approx(np.sqrt(grid._true_noise_var(name)), rel=0.05)


def test_oracle_start_is_softened_labels():
    resp = grid.oracle_start(np.array([0, 2, 1]), 3)
    np.testing.assert_allclose(resp.sum(axis=1), 1)
    np.testing.assert_array_equal(resp.argmax(axis=1), [0, 2, 1])
    assert resp.max() == pytest.approx(
        1 - grid.INIT_SOFTENING + grid.INIT_SOFTENING / 3
    )


def test_relative_stop():
    # Changes 1, 0.1, 0.01, ...: with |ll| near 11.1, tol 1e-3 stops at the
    # first change below 1e-3 * (11.1 + 1e-3), the change 0.01 (iteration 4).
    curve = 10 + np.concatenate([[0.0], np.cumsum(10.0 ** -np.arange(7))])
    stop = grid.relative_stop(curve, 1e-3)
    assert stop == 4
    assert abs(curve[stop - 1] - curve[stop - 2]) < 1e-3 * (abs(curve[stop - 1]) + 1e-3)
    assert abs(curve[stop - 2] - curve[stop - 3]) >= 1e-3 * (
        abs(curve[stop - 2]) + 1e-3
    )
    # A curve that never settles runs to its end.
    assert grid.relative_stop(np.arange(5.0) * 100, 1e-6) == 5


def test_resolution():
    assert grid.resolution(np.array([1.5, 2.0, 3.7, -0.1])) == pytest.approx(0.1)
    assert grid.resolution(np.array([0.0, 3.0, 12.0])) == pytest.approx(1.0)
    y = np.array([0.0, 0.123456789, 0.5, 0.60000001234])
    assert grid.resolution(y) == pytest.approx(np.diff(np.unique(y)).min())


def test_nn_noise_variance_recovers_known_noise():
    """On a smooth curve in one and two dimensions, the nearest-neighbour
    difference estimate is close to the noise variance, whatever Var(y)."""
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, size=(20_000, 1))
    y = 50 * np.abs(X[:, 0]) + 0.1 * rng.standard_normal(20_000)
    assert grid.nn_noise_var(X, y) == pytest.approx(0.01, rel=0.1)
    X = rng.uniform(-1, 1, size=(20_000, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1] + 0.5 * rng.standard_normal(20_000)
    assert grid.nn_noise_var(X, y) == pytest.approx(0.25, rel=0.1)


def test_floors_on_the_high_signal_case():
    """Today's floor binds far above the true noise on slopes of +-50 and
    noise sd 0.1; the nearest-neighbour rule stays below it."""
    X, y, _, _ = grid.highsnr2(2000, np.random.default_rng(2))
    true_var = 0.01
    assert grid.noise_floor("var_y", X, y) > 10 * true_var
    assert grid.noise_floor("nn", X, y) < 0.1 * true_var
    assert grid.implied_reg_var("nn", X, y) * np.var(y) == pytest.approx(
        grid.noise_floor("nn", X, y)
    )


def test_saved_parts_render_into_one_report(tiny, tmp_path):
    """Results saved by separate runs of different parts merge into one
    DEFAULTS.md with the tables of both."""
    import pickle

    results, _ = tiny
    generated = dict(vars(results), real=[], floors=[], header=["run one"])
    real = dict(vars(results), generated=[], floors=[], header=["run two"])
    paths = []
    for i, part in enumerate((generated, real)):
        paths.append(tmp_path / f"part{i}.pkl")
        with open(paths[-1], "wb") as f:
            pickle.dump(part, f)
    grid.main(["--render", *map(str, paths), "--out", str(tmp_path)])
    text = (tmp_path / "DEFAULTS.md").read_text()
    assert "run one" in text and "run two" in text
    _, rows = table_after(
        text, "## Generated cases: Δll against the oracle-start EM optimum"
    )
    assert len(rows) == sum(len(s) for s in grid.PROFILES["tiny"]["sizes"].values())
    _, rows = table_after(text, "## Real data: R² / accuracy")
    assert [r[0] for r in rows] == list(grid.PROFILES["tiny"]["real"])


def test_penalty_and_start_rules():
    # d / n and d / sqrt(n) on the summed loss; numbers pass through.
    assert grid.gate_alpha("d/n", 200, 2) == pytest.approx(0.01)
    assert grid.gate_alpha("d/sqrt(n)", 400, 2) == pytest.approx(0.1)
    assert grid.gate_alpha(1e-3, 200, 2) == 1e-3
    # A y-aware start for regression; classes start from x alone.
    assert grid.start_for("auto", "regression") == "kmeans_xy"
    assert grid.start_for("auto", "classification") == "kmeans"
    assert grid.start_for("kmeans_xy", "classification") == "kmeans_xy"
