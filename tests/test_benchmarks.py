"""Smoke test of the benchmark suite (benchmarks/run.py) on tiny sizes.

It keeps the code alive: the tables have their rows and columns, the numbers
are finite, the plots are valid PNGs, and the flexmix part either explains how
to install R's flexmix or, when it is installed, returns finite
log-likelihoods. Nothing about timings is asserted.
"""

import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

pytest.importorskip("matplotlib")

from benchmarks import flexmix, quality, run, scale  # noqa: E402

NUMBER = re.compile(r"[-+]?(?:\d[\d,]*\.?\d*(?:e[-+]?\d+)?|nan|inf)", re.I)


def tables_after(text, heading):
    """The first Markdown table after the line ``heading``: (header, rows)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == heading)
    block = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            block.append(line)
        elif block:
            break
    assert block, f"no table after {heading!r}"
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in block]
    header, rows = cells[0], cells[2:]
    assert all(len(row) == len(header) for row in rows), heading
    return header, rows


def numbers(cell):
    """Every number in a cell, as floats."""
    return [float(m.replace(",", "")) for m in NUMBER.findall(cell.replace("**", ""))]


def assert_finite_cells(rows, columns):
    for row in rows:
        for j in columns:
            values = numbers(row[j])
            assert values, f"no number in {row[j]!r} of {row}"
            assert all(math.isfinite(v) for v in values), row


def assert_png(path):
    path = Path(path)
    assert path.exists(), path
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    import matplotlib.image

    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """The whole suite on tiny sizes, with flexmix pointed at a missing Rscript."""
    out = tmp_path_factory.mktemp("bench")
    missing = out / "no-such-dir" / "Rscript"
    code = run.main(["--tiny", "--out", str(out), "--rscript", str(missing)])
    assert code == 0
    return out, (out / "RESULTS.md").read_text()


def test_quality_tables(tiny_run):
    _, text = tiny_run
    names = [d.name for d in quality.datasets("tiny")]
    assert names, "the tiny profile has data sets"
    for d in quality.datasets("tiny"):
        header, rows = tables_after(text, f"### {d.name} ({d.task})")
        metrics = [m for m, _ in quality.METRICS[d.task]]
        assert header[0] == "model"
        assert [h.split(" (")[0] for h in header[1:-1]] == metrics
        assert header[-1] == "fit s / fold"
        expected = list(quality.models(d.task, "tiny"))
        assert [row[0] for row in rows] == expected
        for name in quality.MOE_ROWS:
            assert name in expected
        assert_finite_cells(rows, range(1, len(header)))
        # Exactly one best (bold) entry per metric column.
        for j in range(1, len(header) - 1):
            assert sum("**" in row[j] for row in rows) == 1


def test_quality_targets_and_summary(tiny_run):
    _, text = tiny_run
    header, rows = tables_after(text, "## Targets")
    assert header == ["target", "result", "numbers"]
    assert any(row[0].startswith(quality.MOE_LINEAR) for row in rows)
    assert any("flexmix" in row[0] for row in rows)
    header, rows = tables_after(
        text, "### skmoe against its best single expert and against Voting"
    )
    assert rows and all(row[-1] in ("met", "NOT met") for row in rows)
    assert_finite_cells(rows, [4, 5])


def test_scale_tables(tiny_run):
    _, text = tiny_run
    p = scale.PROFILES["tiny"]
    _, rows = tables_after(text, "### Fit time against n (3 experts, 2 features)")
    assert [int(row[0].replace(",", "")) for row in rows] == list(p["n_grid"])
    assert_finite_cells(rows, range(1, 8))
    heading = next(
        line for line in text.splitlines() if line.startswith("### Fit time against M")
    )
    _, rows = tables_after(text, heading)
    assert [int(row[0]) for row in rows] == list(p["m_grid"])
    assert_finite_cells(rows, range(1, 7))
    _, rows = tables_after(text, "### predict: dense against top-k")
    assert [int(row[0].replace(",", "")) for row in rows] == list(p["predict_rows"])
    assert_finite_cells(rows, range(1, 7))


def test_plots_are_pngs(tiny_run):
    out, text = tiny_run
    for name in ("quality", "time_vs_n", "time_vs_m", "predict_topk"):
        assert_png(out / "results" / f"{name}.png")
        assert f"(results/{name}.png)" in text


def test_flexmix_missing_says_how_to_install(tiny_run, tmp_path, monkeypatch):
    _, text = tiny_run
    assert "apt-get install r-cran-flexmix" in text
    # The environment variable is honoured too.
    monkeypatch.setenv(flexmix.RSCRIPT_ENV, str(tmp_path / "missing" / "Rscript"))
    part = flexmix.run("tiny", None, log=lambda _: None)
    assert not part.data["available"]
    assert "apt-get install r-cran-flexmix" in part.markdown
    assert part.targets[0][1] == "skipped"


def test_flexmix_reading_of_parameters():
    """The held-out log-likelihood from flexmix-style parameters is right:
    the first gate column is the reference (zeros)."""
    gate, experts, sd = flexmix.truth(3)
    X, y = flexmix.make_data(2000, 3, seed=0)
    reference = gate - gate[:, :1]  # flexmix's parametrisation
    ll = flexmix.mixture_loglik(X, y, reference, experts, sd)
    np.testing.assert_allclose(ll, flexmix.mixture_loglik(X, y, gate, experts, sd))
    assert np.all(np.isfinite(ll))


def test_flexmix_tiny_comparison(tmp_path):
    rscript = flexmix.find_rscript()
    version, reason = flexmix.check_flexmix(rscript)
    if version is None:
        pytest.skip(flexmix.unavailable_message(reason))
    result = flexmix.compare(rscript, 2, 400, 400, tmp_path, log=lambda _: None)
    fx, sk = result["flexmix"], result["skmoe"]
    assert not fx["error"], fx["error"]
    for value in (fx["train"], fx["test"], sk["train"], sk["test"]):
        assert math.isfinite(value)
    # Our reading of flexmix's parameters reproduces its own logLik.
    assert abs(fx["train"] - fx["train_reported"]) < 1e-4


def test_scripts_still_run():
    """The bench_*.py scripts still run as scripts; the suite as a module."""
    for command in (
        [sys.executable, "benchmarks/bench_core.py", "--help"],
        [sys.executable, "-m", "benchmarks", "--help"],
    ):
        done = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert "usage" in done.stdout
