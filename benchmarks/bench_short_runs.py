"""Short runs then a long run: does the start that leads early lead at the end?

``init_max_iter=k`` runs each of the ``n_init`` starts ``k`` EM iterations and
continues only the one with the highest log-likelihood (Biernacki, Celeux &
Govaert 2003). This script measures what that costs in quality and what it
saves in iterations, without fitting the short variant at all: every start is
run to convergence (``init_max_iter=None``), and since EM from a seeded start
is deterministic, the short-run fit would have kept the start whose curve is
highest at iteration ``k`` (or at its last iteration, if it converged before)
and ended exactly where that start's full curve ends.

Cases: the generated cases of ``defaults_grid.py`` (known regimes: hard, soft
and overlapping borders, no gating signal, high and low signal-to-noise,
4-regime planes, 2 logistic regimes) at n = 300 and 2,000 with three data
seeds, and at 20,000 with one (``--quick``: 300 and 2,000, one seed); the
real sets of the grid (diabetes, mcycle, engel, Boston, fair, breast_cancer,
wine, digits) and iris, standardised, with two experts and three seeds of
the mixture. Every fit is the default mixture (linear or logistic experts)
with five starts. Reported for ``k`` in 5, 10, 20, 30 and for the first three
starts (the default ``n_init``) and all five:

- *loss*: the training log-likelihood per row of the best full run minus
  that of the start chosen after ``k`` iterations (0: the same optimum);
- *cost*: EM iterations of the short-run fit over those of running every
  start to convergence.

    python benchmarks/bench_short_runs.py [--quick] [--out FILE]

Writes SHORT_RUNS.md next to this file (or ``--out``) and prints it.
"""

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (  # noqa: E402
    add_threads_argument,
    environment,
    limit_threads,
)
from benchmarks.defaults_grid import CASES, REAL, REAL_HEAVY, load_real  # noqa: E402
from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor  # noqa: E402

BUDGETS = (5, 10, 20, 30)
N_STARTS = 5


def start_curves(X, y, kind, n_experts, seed):
    """Every start's log-likelihood curve, each run to convergence."""
    Estimator = (
        MixtureOfExpertsRegressor
        if kind == "regression"
        else MixtureOfExpertsClassifier
    )
    model = Estimator(
        n_experts=n_experts, n_init=N_STARTS, init_max_iter=None, random_state=seed
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    return [np.asarray(curve) for curve in model.start_log_likelihoods_]


def short_run(curves, k):
    """``(loss, cost)`` of keeping the start that leads after ``k`` iterations.

    A start's log-likelihood at ``k`` is its curve there, or its last value if
    it converged sooner; max keeps the first of equal leaders, as skmoe does.
    """
    finals = np.array([curve[-1] for curve in curves])
    at_k = np.array([curve[min(k, len(curve)) - 1] for curve in curves])
    chosen = int(np.argmax(at_k))
    iterations = sum(min(k, len(curve)) for curve in curves)
    iterations += max(len(curves[chosen]) - k, 0)
    full = sum(len(curve) for curve in curves)
    return finals.max() - finals[chosen], iterations / full


def load(name):
    if name == "iris":
        return (*load_iris(return_X_y=True), "classification")
    return load_real(name)


def cases(quick):
    """``(name, X, y, kind, n_experts, seed)`` of every fit."""
    sizes = (300, 2000) if quick else (300, 2000, 20_000)
    for name, case in CASES.items():
        for n in sizes:
            for data_seed in range(1 if quick or n > 2000 else 3):
                rng = np.random.RandomState(1000 * data_seed + n)
                X, y, _, _ = case.sample(n, rng)
                yield f"{name} n={n}", X, y, case.kind, case.n_experts, data_seed
    real = [*REAL, *REAL_HEAVY, "iris"]
    for name in real[:3] if quick else real:
        try:
            X, y, kind = load(name)
        except ImportError:  # pydataset's sets: the `bench` extra
            continue
        X = StandardScaler().fit_transform(X)
        for seed in range(1 if quick else 3):
            yield name, X, y, kind, 2, seed


def measure(quick, log=print):
    records = []
    for name, X, y, kind, n_experts, seed in cases(quick):
        curves = start_curves(X, y, kind, n_experts, seed)
        row = {"case": name, "seed": seed, "iterations": [len(c) for c in curves]}
        for n_init in (3, N_STARTS):
            for k in BUDGETS:
                row[n_init, k] = short_run(curves[:n_init], k)
        records.append(row)
        log(
            f"{name} seed {seed}: iterations {row['iterations']}, "
            f"loss at k=20 (3 starts) {row[3, 20][0]:.5f}"
        )
    return records


def render(records, header):
    lines = [
        "# Short runs then a long run (`init_max_iter`)",
        "",
        header,
        "",
        f"{len(records)} fits, each with {N_STARTS} starts run to convergence. "
        "*loss*: training log-likelihood per row of the best full run minus "
        "that of the start leading after k iterations; *cost*: iterations of "
        "the short-run fit over those of running every start to convergence.",
        "",
        "| starts | k | max loss | fits with loss > 0.001 | fits with loss > 0 "
        "| mean cost | max cost |",
        "|---|---|---|---|---|---|---|",
    ]
    for n_init in (3, N_STARTS):
        for k in BUDGETS:
            loss = np.array([r[n_init, k][0] for r in records])
            cost = np.array([r[n_init, k][1] for r in records])
            lines.append(
                f"| {n_init} | {k} | {loss.max():.5f} | {(loss > 1e-3).sum()} | "
                f"{(loss > 1e-9).sum()} | {cost.mean():.2f} | {cost.max():.2f} |"
            )
    lines += [
        "",
        "Per fit, 3 starts (the default `n_init`): loss at k = 5 / 10 / 20 / 30, "
        "and each start's iterations to convergence.",
        "",
        "| case | seed | " + " | ".join(f"k={k}" for k in BUDGETS) + " | iterations |",
        "|---|---|" + "---|" * len(BUDGETS) + "---|",
    ]
    for r in records:
        cells = " | ".join(f"{r[3, k][0]:.5f}" for k in BUDGETS)
        its = " / ".join(map(str, r["iterations"][:3]))
        lines.append(f"| {r['case']} | {r['seed']} | {cells} | {its} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer cases")
    parser.add_argument("--out", type=Path, help="where to write the Markdown")
    add_threads_argument(parser)
    args = parser.parse_args()
    with limit_threads(args.threads):
        header = environment()
        records = measure(args.quick, log=lambda line: print(line, flush=True))
    text = render(records, header)
    out = args.out or Path(__file__).with_name("SHORT_RUNS.md")
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
