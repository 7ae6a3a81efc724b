"""SQUAREM against plain EM: iterations, time and the optimum reached.

For each case, in one process: plain EM (``acceleration=None``), the default
``"auto"`` (SQUAREM after a run's first 20 iterations) and ``"squarem"`` (from
the first) at ``tol=1e-6`` and at the default ``tol=1e-5``, and plain EM at
``tol=1e-10`` as the reference optimum; every other parameter at its default
(``n_init=3``). Reported: iterations (M-steps) of the best start, the time
ratios of the whole fit (plain over the accelerated one: above 1, faster than
plain EM), and how far each fit ends from the reference (positive: above it)
in what EM climbs: the log-likelihood per row less the penalties of the gate's
and the logistic experts' fits, on which EM stops and SQUAREM's jumps are
judged.

With ``--grid``: the default ``acceleration="auto"`` (SQUAREM after a run's
first 20 iterations) against plain EM (``acceleration=None``) on the grid of
``bench_short_runs.py`` (the generated cases of ``defaults_grid.py`` with known
regimes, and the real sets), every other parameter at its default. Each fit is
timed twice in alternation and the faster kept; reported per case: seconds and
EM iterations (all starts) of each, the time ratio (plain over auto: above 1,
auto is faster), and where auto ends minus where plain EM ends, in what EM
climbs (as above).
A fit whose runs all settle within 20 iterations is plain EM step for step
(same iterations, same end), so its ratio measures timing noise.

    python benchmarks/bench_squarem.py [--quick] [--grid] [--threads N]
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import add_threads_argument, environment, limit_threads  # noqa: E402
from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor  # noqa: E402
from skmoe._objective import penalty_per_weight  # noqa: E402
from skmoe.exceptions import LocalOptimumWarning  # noqa: E402


def linear_regimes(n, n_regimes, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-3, 3, size=(n, 2))
    regime = np.minimum((X[:, 0] + 3) / 6 * n_regimes, n_regimes - 1).astype(int)
    coef = rng.normal(scale=2, size=(n_regimes, 3))
    y = coef[regime, 0] + (coef[regime, 1:] * X).sum(axis=1)
    return X, y + 0.3 * rng.standard_normal(n)


def no_gating_signal(n, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-3, 3, size=(n, 1))
    sign = np.where(rng.rand(n) < 0.5, 1.0, -1.0)
    return X, sign * X[:, 0] + 0.5 * rng.standard_normal(n)


def breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def xor(n, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def cases(quick):
    n = 1000 if quick else 5000
    reg, clf = MixtureOfExpertsRegressor, MixtureOfExpertsClassifier
    return [
        ("3 linear regimes, K=3", reg, dict(n_experts=3), linear_regimes(n, 3)),
        (
            "3 linear regimes, K=5 (too many)",
            reg,
            dict(n_experts=5),
            linear_regimes(n, 3),
        ),
        ("no gating signal, K=2", reg, dict(n_experts=2), no_gating_signal(n)),
        ("breast_cancer, 2 logistic", clf, dict(n_experts=2), breast_cancer()),
        ("XOR, 4 logistic", clf, dict(n_experts=4), xor(n // 2)),
    ]


def fit(Estimator, params, X, y, tol, acceleration):
    model = Estimator(
        tol=tol, max_iter=5000, acceleration=acceleration, random_state=0, **params
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", LocalOptimumWarning)
        model.fit(X, y)
    return model, time.perf_counter() - start


def objective(model, X):
    """What EM climbed to: the log-likelihood per row less the fits' penalties."""
    penalty = penalty_per_weight(model.experts_, model.gate_, X.shape[1], len(X))
    return model.log_likelihood_ - penalty


def timed_default(Estimator, X, y, n_experts, seed, acceleration):
    model = Estimator(n_experts=n_experts, random_state=seed, acceleration=acceleration)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    return model, time.perf_counter() - start


def grid(quick):
    """Plain EM against ``acceleration="auto"`` on the short-runs grid."""
    from benchmarks.bench_short_runs import cases as grid_cases

    print(
        f"{'case':28s} {'seed':>4s} {'plain s':>8s} {'auto s':>8s} "
        f"{'plain it':>8s} {'auto it':>7s} {'time ratio':>10s} {'auto-plain':>11s}"
    )
    ratios = {True: [], False: []}
    for name, X, y, kind, n_experts, seed in grid_cases(quick):
        Estimator = (
            MixtureOfExpertsRegressor
            if kind == "regression"
            else MixtureOfExpertsClassifier
        )
        best = {}
        for _ in range(2):
            for acceleration in (None, "auto"):
                model, seconds = timed_default(
                    Estimator, X, y, n_experts, seed, acceleration
                )
                if seconds < best.get(acceleration, (None, np.inf))[1]:
                    best[acceleration] = (model, seconds)
        (plain, plain_s), (auto, auto_s) = best[None], best["auto"]
        iterations = [sum(map(len, m.start_log_likelihoods_)) for m in (plain, auto)]
        gain = objective(auto, X) - objective(plain, X)
        jumped = iterations[0] != iterations[1] or gain != 0
        ratios[jumped].append(plain_s / auto_s)
        print(
            f"{name:28s} {seed:4d} {plain_s:8.3f} {auto_s:8.3f} {iterations[0]:8d} "
            f"{iterations[1]:7d} {plain_s / auto_s:10.2f} {gain:+11.1e}",
            flush=True,
        )
    for jumped, label in ((False, "plain EM step for step"), (True, "extrapolated")):
        r = np.array(ratios[jumped])
        if len(r):
            print(
                f"{label}: {len(r)} fits, time ratio min {r.min():.2f}, "
                f"median {np.median(r):.2f}, max {r.max():.2f}"
            )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--grid", action="store_true")
    add_threads_argument(parser)
    args = parser.parse_args(argv)
    limit_threads(args.threads)
    print(environment())
    if args.grid:
        grid(args.quick)
        return
    header = (
        f"{'case':34s} {'tol':>6s} {'plain it':>8s} {'auto it':>7s} {'sq it':>6s} "
        f"{'auto time':>9s} {'sq time':>7s} {'plain-ref':>10s} {'auto-ref':>10s} "
        f"{'sq-ref':>10s}"
    )
    print(header)
    for name, Estimator, params, (X, y) in cases(args.quick):
        reference, _ = fit(Estimator, params, X, y, 1e-10, None)
        ref = objective(reference, X)
        for tol in (1e-6, 1e-5):
            plain, plain_s = fit(Estimator, params, X, y, tol, None)
            auto, auto_s = fit(Estimator, params, X, y, tol, "auto")
            fast, fast_s = fit(Estimator, params, X, y, tol, "squarem")
            print(
                f"{name:34s} {tol:6.0e} {plain.n_iter_:8d} {auto.n_iter_:7d} "
                f"{fast.n_iter_:6d} {plain_s / auto_s:9.2f} {plain_s / fast_s:7.2f} "
                f"{objective(plain, X) - ref:+10.1e} "
                f"{objective(auto, X) - ref:+10.1e} "
                f"{objective(fast, X) - ref:+10.1e}",
                flush=True,
            )


if __name__ == "__main__":
    main()
