"""BLAS/OpenMP threads during EM: the configured threads against one thread.

What is measured
----------------
Each case is fitted in one process, alternating between three settings of the
thread pools, best of ``--repeats`` runs each:

- ``configured``: the pools as the machine configures them (OpenBLAS: one
  thread per core) and skmoe told to leave them so (``blas_threads=None``;
  before that parameter existed, a plain fit);
- ``skmoe``: a plain fit, with skmoe's default thread control
  (``blas_threads="auto"``: one thread for problems below
  ``skmoe._threads.MIN_WORK_FOR_THREADS`` in ``n_samples * n_features**2``);
- ``one``: the whole fit inside ``threadpoolctl.threadpool_limits(1)``.

The cases:

1. ``breast_cancer``: ``MixtureOfExpertsClassifier(n_experts=2,
   random_state=0)`` (two LogisticRegression experts, the default gate) on
   scikit-learn's breast-cancer data (569 rows, 30 features) after a
   StandardScaler.
2. ``linear 150k``: ``MixtureOfExpertsRegressor(n_experts=3, random_state=0)``
   on the 150,000-row (``--quick``: 30,000), 2-feature, 3-linear-expert data
   of ``bench_core.py``.
3. ``ridge d=...``: where threads could pay. ``MixtureOfExpertsRegressor(
   Ridge(), n_experts=2, max_iter=5, tol=0, random_state=0)`` (5 EM
   iterations, so the same work at every setting) on 20,000 rows
   (``--quick``: 5,000) of d standard-normal features, d = 10 to 300
   (``--quick``: to 100), whose
   target switches sign with the first feature; the gate sees all features
   (L-BFGS beyond 200 gate parameters).

Each case runs twice: ``idle`` (nothing started by the benchmark; other
programs may run, see the load) and ``busy`` (the benchmark starts one process
spinning on a core, as another program would, and stops it afterwards). The
1-minute load average is printed before and after each condition: on a shared
machine, the ``idle`` rows are only as idle as the load says.

How to read it
--------------
``configured/one`` is how much the configured threads cost against one
thread; ``skmoe/one`` the same with skmoe's control, which should be at most
about 1.2 in every row where the control limits threads (the ``limit``
column) and the same as ``configured/one`` where it does not. Rows where
``configured/one`` is below 1 are problems on which threads pay; the
threshold ``MIN_WORK_FOR_THREADS`` should sit below them and above the rows
where threads cost. ``work`` is ``n_samples * n_features**2``.

Run ``python benchmarks/bench_threads.py`` (a few minutes; the busy rows with
configured threads are the slow ones) or ``--quick``.
"""

import argparse
import multiprocessing
import os
import time
import warnings

import numpy as np
from _common import environment
from bench_core import make_data
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor
from skmoe._threads import MIN_WORK_FOR_THREADS, thread_limit

SETTINGS = ("configured", "skmoe", "one")


def _spin():
    """Keep one core busy until terminated."""
    x = 0
    while True:
        x += 1


class Busy:
    """A context in which one spinning process competes for a core."""

    def __enter__(self):
        self.process = multiprocessing.get_context("fork").Process(
            target=_spin, daemon=True
        )
        self.process.start()
        time.sleep(0.5)  # let it reach the CPU
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.join()


def has_thread_parameter(estimator):
    return "blas_threads" in estimator.get_params(deep=False)


def fit_seconds(make, X, y, setting):
    """Wall seconds of one fit of ``make()`` under ``setting``."""
    estimator = make()
    if setting == "configured" and has_thread_parameter(estimator):
        estimator.set_params(blas_threads=None)
    limits = threadpool_limits(1) if setting == "one" else None
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X, y)
    finally:
        if limits is not None:
            limits.restore_original_limits()
    return time.perf_counter() - start


def cases(quick):
    X, y = load_breast_cancer(return_X_y=True)
    yield (
        "breast_cancer",
        lambda: MixtureOfExpertsClassifier(n_experts=2, random_state=0),
        StandardScaler().fit_transform(X),
        y,
    )
    n = 30_000 if quick else 150_000
    X, y = make_data(n, 0)
    yield (
        f"linear {n // 1000}k",
        lambda: MixtureOfExpertsRegressor(n_experts=3, random_state=0),
        X,
        y,
    )
    rng = np.random.default_rng(0)
    n = 5_000 if quick else 20_000
    for d in (10, 30, 100) if quick else (10, 30, 100, 300):
        X = rng.standard_normal((n, d))
        y = np.sign(X[:, 0]) * X[:, 1:4].sum(axis=1) + rng.standard_normal(n)
        yield (
            f"ridge d={d}",
            lambda: MixtureOfExpertsRegressor(
                Ridge(), n_experts=2, max_iter=5, tol=0, random_state=0
            ),
            X,
            y,
        )


def bench(condition, quick, repeats):
    rows = []
    print(f"\n{condition}: load before {os.getloadavg()[0]:.2f}", flush=True)
    for name, make, X, y in cases(quick):
        best = dict.fromkeys(SETTINGS, np.inf)
        for _ in range(repeats):
            for setting in SETTINGS:
                best[setting] = min(best[setting], fit_seconds(make, X, y, setting))
        n, d = X.shape
        limit = thread_limit("auto", n, d)
        row = (
            condition,
            name,
            f"{n * d**2:.1e}",
            "1" if limit == 1 else "-",
            *(f"{best[s]:.3f}" for s in SETTINGS),
            f"{best['configured'] / best['one']:.2f}",
            f"{best['skmoe'] / best['one']:.2f}",
        )
        rows.append(row)
        print("  " + "  ".join(row), flush=True)
    print(f"{condition}: load after {os.getloadavg()[0]:.2f}", flush=True)
    return rows


def markdown(rows):
    header = (
        "condition",
        "case",
        "work",
        "limit",
        *(f"{s} s" for s in SETTINGS),
        "configured/one",
        "skmoe/one",
    )
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data")
    parser.add_argument(
        "--repeats", type=int, default=None, help="runs per setting (best of)"
    )
    parser.add_argument(
        "--conditions",
        default="idle,busy",
        help="comma-separated: idle, busy (default: both)",
    )
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    print(environment())
    pools = {p["user_api"]: p["num_threads"] for p in threadpool_info()}
    print(
        f"{os.cpu_count()} cores; configured threads {pools}; "
        f"MIN_WORK_FOR_THREADS = {MIN_WORK_FOR_THREADS:.0e}; best of {repeats}"
    )
    rows = []
    for condition in args.conditions.split(","):
        if condition == "busy":
            with Busy():
                rows += bench(condition, args.quick, repeats)
        else:
            rows += bench(condition, args.quick, repeats)
    print()
    print(markdown(rows))


if __name__ == "__main__":
    main()
