"""Cost of MixtureOfExpertsRegressorCV against a GridSearchCV over the same grid.

What is measured
----------------
Both choose ``n_experts`` in (1, 2, 3, 4) and ``gate__alpha`` in (1, 1e-2,
1e-4, 1e-6) (``--quick``: (1, 2, 3) x (1, 1e-4)) by the mean held-out
log-likelihood per row over the same 5 folds (``KFold``, not shuffled), and
refit the best candidate on all the rows:

- ``GridSearchCV(MixtureOfExpertsRegressor(random_state=0), grid, cv=folds,
  scoring=held-out mean log_likelihood)``: every candidate fitted from the
  mixture's own start, in every fold (the baseline, ratio 1);
- ``MixtureOfExpertsRegressorCV(cv=folds, random_state=0)`` with the same
  grid: within a fold the ``K``-expert candidate starts from the fitted
  ``K - 1`` one with its largest expert split in two, smaller penalties start
  from the larger one's solution, and one expert is fitted once.

Data (fixed seeds), each with a known number of regimes:

- ``3 regimes, 1-D``: ``y`` piecewise linear in ``x ~ U[-3, 3]`` with pieces
  at -1 and 1 (slopes -2, 0, 1), noise sd 0.1, n = 2,000 (``--quick``: 600);
- ``flexmix K=3``: the 3-regime case of ``benchmarks/flexmix.py`` (soft
  softmax gate on two inputs, three linear experts, noise sd 0.5), n = 2,000
  (``--quick``: 600).

Reported per case and method: wall and CPU seconds of the whole search with
its refit (CPU seconds of this process move less with other load on the
machine; when the two ratios disagree, trust the CPU one), the EM
iterations summed over the folds' fits (the refit not included; a reused fit
counts none), the chosen
``n_experts`` and ``gate__alpha``, and the chosen model's mean log-likelihood
per row on 20,000 fresh rows from the same distribution. Both run in this
process, one after the other, so the ratio compares like with like.

With ``--classification R``, also: the accuracy of
``make_pipeline(StandardScaler(), MixtureOfExpertsClassifierCV(n_experts_grid=
(1, 2, 3), alphas=(1, 1e-2, 1e-4)))`` against ``make_pipeline(StandardScaler(),
LogisticRegression())`` on scikit-learn's iris, wine and breast_cancer over R
repeats of stratified 5-fold CV (the issue's target uses R = 5), with how often
each number of experts was chosen and the CPU seconds of the whole loop.

How to read it
--------------
``x grid`` is the CV estimator's seconds divided by GridSearchCV's: below 1
is cheaper. The held-out columns say whether the cheaper search found as good
a model; the searches may choose different candidates that score alike.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from _common import add_threads_argument, environment, limit_threads
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, RepeatedStratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmoe import (
    MixtureOfExpertsClassifierCV,
    MixtureOfExpertsRegressor,
    MixtureOfExpertsRegressorCV,
)

try:  # as a module of the benchmark suite
    from benchmarks.flexmix import make_data as flexmix_data
except ImportError:  # as a script: benchmarks/ is on the path, its parent not
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.flexmix import make_data as flexmix_data

GRIDS = {
    "full": dict(n_experts=(1, 2, 3, 4), alphas=(1.0, 1e-2, 1e-4, 1e-6), n=2_000),
    "quick": dict(n_experts=(1, 2, 3), alphas=(1.0, 1e-4), n=600),
}
N_TEST = 20_000
N_FOLDS = 5
CLASSIFICATION_SETS = {
    "iris": load_iris,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
}


def three_regimes(n, seed):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-3, 3, size=(n, 1))
    y = np.select([X[:, 0] < -1, X[:, 0] < 1], [-2 * X[:, 0], 2.0], X[:, 0])
    return X, y + 0.1 * rng.standard_normal(n)


CASES = {
    "3 regimes, 1-D": three_regimes,
    "flexmix K=3": lambda n, seed: flexmix_data(n, 3, seed),
}


class HeldOutLogLikelihood:
    """GridSearchCV's scorer: the mean held-out log-likelihood per row. It
    also notes the EM iterations of each fitted candidate (GridSearchCV
    scores every fold's fit once, in this process with ``n_jobs=None``)."""

    def __init__(self):
        self.n_iter = []

    def __call__(self, estimator, X, y):
        self.n_iter.append(estimator.n_iter_)
        return float(estimator.log_likelihood(X, y).mean())


def timed(fit):
    wall, cpu = time.perf_counter(), time.process_time()
    model = fit()
    return model, time.perf_counter() - wall, time.process_time() - cpu


def run_case(name, make, grid, log=print):
    X, y = make(grid["n"], 0)
    X_test, y_test = make(N_TEST, 1)
    folds = KFold(N_FOLDS)
    scorer = HeldOutLogLikelihood()
    search = GridSearchCV(
        MixtureOfExpertsRegressor(random_state=0),
        {"n_experts": list(grid["n_experts"]), "gate__alpha": list(grid["alphas"])},
        cv=folds,
        scoring=scorer,
    )
    cv_estimator = MixtureOfExpertsRegressorCV(
        n_experts_grid=grid["n_experts"],
        alphas=grid["alphas"],
        cv=folds,
        random_state=0,
    )
    rows = []
    for method, estimator in (("GridSearchCV", search), ("RegressorCV", cv_estimator)):
        fitted, wall, cpu = timed(lambda e=estimator: e.fit(X, y))
        if method == "GridSearchCV":
            chosen = fitted.best_params_
            k, alpha = chosen["n_experts"], chosen["gate__alpha"]
            best = fitted.best_estimator_
            n_iter = sum(scorer.n_iter)
        else:
            k, alpha, best = fitted.n_experts_, fitted.alpha_, fitted.best_estimator_
            n_iter = round(N_FOLDS * fitted.cv_results_["mean_n_iter"].sum())
        test = float(best.log_likelihood(X_test, y_test).mean())
        rows.append(
            dict(
                method=method,
                wall=wall,
                cpu=cpu,
                n_iter=n_iter,
                k=k,
                alpha=alpha,
                test=test,
            )
        )
    base = rows[0]
    log(
        f"\n{name}: n = {grid['n']:,}, {N_FOLDS} folds, grid "
        f"{len(grid['n_experts'])} x {len(grid['alphas'])}"
    )
    log(
        f"  {'method':<13} {'wall s':>7} {'cpu s':>7} {'x grid (wall/cpu)':>18} "
        f"{'EM iter':>8} {'K':>2} {'alpha':>7} {'held-out':>9}"
    )
    for row in rows:
        ratio = f"{row['wall'] / base['wall']:.2f} / {row['cpu'] / base['cpu']:.2f}"
        log(
            f"  {row['method']:<13} {row['wall']:7.2f} {row['cpu']:7.2f} "
            f"{ratio:>18} {row['n_iter']:8d} {row['k']:>2} {row['alpha']:7.0e} "
            f"{row['test']:9.4f}"
        )
    return rows


def run_classification(n_repeats, log=print):
    """Accuracy of a single LogisticRegression and of the classifier CV
    variant, StandardScaler first, over repeated stratified 5-fold CV."""
    log(
        f"\nClassification: accuracy over {n_repeats}x5 stratified folds, "
        "StandardScaler first; ClassifierCV with n_experts_grid=(1, 2, 3), "
        "alphas=(1, 1e-2, 1e-4), 5 inner folds"
    )
    log(
        f"  {'data':<14} {'LogisticRegression':>19} {'ClassifierCV':>14} "
        f"{'K chosen (count)':>18} {'cpu s':>7}"
    )
    out = {}
    for name, load in CLASSIFICATION_SETS.items():
        X, y = load(return_X_y=True)
        folds = RepeatedStratifiedKFold(n_splits=5, n_repeats=n_repeats, random_state=0)
        single, mixture, chosen = [], [], []
        cpu = time.process_time()
        for train, test in folds.split(X, y):
            lr = make_pipeline(StandardScaler(), LogisticRegression())
            single.append(lr.fit(X[train], y[train]).score(X[test], y[test]))
            cv_moe = make_pipeline(
                StandardScaler(),
                MixtureOfExpertsClassifierCV(
                    n_experts_grid=(1, 2, 3), alphas=(1.0, 1e-2, 1e-4), random_state=0
                ),
            ).fit(X[train], y[train])
            mixture.append(cv_moe.score(X[test], y[test]))
            chosen.append(cv_moe[-1].n_experts_)
        cpu = time.process_time() - cpu
        counts = ", ".join(
            f"{k}: {n}"
            for k, n in zip(*np.unique(chosen, return_counts=True), strict=True)
        )
        log(
            f"  {name:<14} {np.mean(single):11.3f} ± {np.std(single):.3f} "
            f"{np.mean(mixture):7.3f} ± {np.std(mixture):.3f} {counts:>18} "
            f"{cpu:7.1f}"
        )
        out[name] = dict(single=single, mixture=mixture, chosen=chosen)
    return out


def run(args, log=print):
    grid = GRIDS["quick" if args.quick else "full"]
    log(f"load average at start: {os.getloadavg()[0]:.2f}")
    results = {name: run_case(name, make, grid, log) for name, make in CASES.items()}
    if args.classification:
        results["classification"] = run_classification(args.classification, log)
    log(f"\nload average at end: {os.getloadavg()[0]:.2f}")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="n=600 rows and a 3 x 2 grid instead of 2,000 rows and 4 x 4",
    )
    parser.add_argument(
        "--classification",
        type=int,
        default=0,
        metavar="R",
        help="also compare the classifier CV variant with LogisticRegression "
        "on iris, wine and breast_cancer over R x 5 stratified folds (slow; "
        "default 0: skipped)",
    )
    add_threads_argument(parser)
    args = parser.parse_args(argv)
    limits = limit_threads(args.threads)
    print(environment() + "\n")
    with limits:
        run(args)


if __name__ == "__main__":
    main()
