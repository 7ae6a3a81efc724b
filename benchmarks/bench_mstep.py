"""The fast M-step for linear and logistic experts against the experts' own fit.

What is measured
----------------
skmoe solves the M-step of LinearRegression, Ridge and LogisticRegression
experts itself (``skmoe._fast_mstep``: weighted normal equations, warm-started
Newton steps on the estimators' own objectives). The *generic* path is what
every other expert gets, ``expert.fit(X, y, sample_weight=w)`` (warm-started
L-BFGS for LogisticRegression); this script gets it by switching the fast
M-step off (``supports_fast_mstep`` patched to say no) in the same process.

1. Whole fits, fast vs generic, best of ``--repeats`` alternating runs:

   - ``linear 150k``: ``MixtureOfExpertsRegressor(n_experts=3,
     random_state=0)`` on the 150,000-row, 3-linear-expert data of
     ``bench_core.py`` (``--quick``: 30,000 rows);
   - ``breast_cancer``: ``MixtureOfExpertsClassifier(n_experts=2,
     random_state=0)`` on scikit-learn's breast-cancer data after a
     StandardScaler (569 rows, 30 features, 2 classes);
   - ``breast_cancer Pipeline``: the same with the scaling inside each
     expert, ``make_pipeline(StandardScaler(), LogisticRegression())`` on the
     raw data. The fast path fits the scaler once per EM run and solves the
     last step on its output (``fit_pipeline``); it should cost about what
     the bare experts cost, and give the same fit;
   - ``breast_cancer PCA Pipeline``: ``make_pipeline(StandardScaler(),
     PCA(10), LogisticRegression())`` experts on the raw data, with
     ``crossfit=False`` (which ``"auto"`` now is too: a linear model after a
     projection is not flexible; before, ``"auto"`` cross-fitted it, and the
     copies' fits dominated). The fast path fits the scaler and PCA once per EM run too;
   - ``3 classes 20k``: ``MixtureOfExpertsClassifier(n_experts=3,
     random_state=0)`` on 20,000 rows (``--quick``: 5,000) of 5 features
     whose labels follow one multinomial logit left of 0 and another right
     of it;
   - ``wide 100x1000``: ``MixtureOfExpertsRegressor(n_experts=2,
     random_state=0)`` on 100 rows of 1,000 features (y linear in the first
     three). More features than rows: the normal equations are singular (or,
     for Ridge, larger than the estimator's own system), so the fast path
     hands these fits to the experts' own ``fit`` on the shapes alone and
     should cost what the generic path costs (it took 14x as long, 13.2 s
     against 0.95 s, while it built and decomposed the 1,000-square system
     first).

   ``s/iter`` is the fit's wall time over its EM iterations (k-means start
   included, so a little above the true per-iteration cost); ``iters`` and
   ``loglik`` (per unit weight) show whether both paths fit the same model:
   the fast M-step solves each expert's problem exactly, the generic path to
   the estimator's ``tol``, so the logistic paths can part by a little.

2. ``breast_cancer`` against one LogisticRegression: the whole 2-expert fit
   (fast path) over one ``LogisticRegression().fit`` on the same data. The
   issue measured 242x before the fast M-step and asks for at most 50x.

3. Cross-fitted copies of Pipeline experts: a Pipeline expert beside a
   DecisionTreeRegressor(max_depth=4) (so ``crossfit="auto"`` cross-fits
   both), default settings, on 5,000 rows of 3 uniform features (two
   regimes, sin and square; ``--quick``: 2,000), with the copies' first
   steps kept once per fold and run (the default) and refitted at every
   M-step (the path before, by patching the memory budget to 0), best of
   ``--repeats``. Both give the same model to the bit: ``loglik`` must agree.

Everything runs with one BLAS and one OpenMP thread (``--threads``, as the
other benchmarks), so that the machine's load moves the timings less. The
load average is printed before and after.

Run ``python benchmarks/bench_mstep.py`` (about a minute) or ``--quick``.
"""

import argparse
import os
import sys
import time
import warnings
from contextlib import contextmanager
from unittest import mock

import numpy as np
from _common import add_threads_argument, environment, limit_threads
from bench_core import make_data
from sklearn.datasets import load_breast_cancer
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    PolynomialFeatures,
    SplineTransformer,
    StandardScaler,
)
from sklearn.tree import DecisionTreeRegressor

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor, _crossfit


@contextmanager
def generic_path():
    """Switch the fast M-step off wherever skmoe looks it up."""
    with mock.patch("skmoe._fast_mstep.supports_fast_mstep", lambda expert: False):
        patches = [
            mock.patch.object(module, predicate, lambda expert: False)
            for name, module in list(sys.modules.items())
            if name.startswith("skmoe.") and name != "skmoe._fast_mstep"
            for predicate in ("supports_fast_mstep", "supports_pipeline_mstep")
            if hasattr(module, predicate)
        ]
        for patch in patches:
            patch.start()
        try:
            yield
        finally:
            for patch in patches:
                patch.stop()


def make_three_classes(n, seed=0):
    """Labels from one multinomial logit where x0 < 0, another where x0 > 0."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 5))
    left = rng.standard_normal((5, 3)) * 2
    right = rng.standard_normal((5, 3)) * 2
    logits = np.where(X[:, :1] < 0, X @ left, X @ right)
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    y = (proba.cumsum(axis=1) < rng.uniform(size=(n, 1))).sum(axis=1)
    return X, np.minimum(y, 2)


def cases(quick):
    n = 30_000 if quick else 150_000
    X, y = make_data(n, 0)
    yield (
        f"linear {n // 1000}k",
        lambda: MixtureOfExpertsRegressor(n_experts=3, random_state=0),
        X,
        y,
    )
    X, y = load_breast_cancer(return_X_y=True)
    yield (
        "breast_cancer",
        lambda: MixtureOfExpertsClassifier(n_experts=2, random_state=0),
        StandardScaler().fit_transform(X),
        y,
    )
    yield (
        "breast_cancer Pipeline",
        lambda: MixtureOfExpertsClassifier(
            make_pipeline(StandardScaler(), LogisticRegression()),
            n_experts=2,
            random_state=0,
        ),
        X,
        y,
    )
    yield (
        "breast_cancer PCA Pipeline",
        lambda: MixtureOfExpertsClassifier(
            make_pipeline(StandardScaler(), PCA(10), LogisticRegression()),
            n_experts=2,
            crossfit=False,
            random_state=0,
        ),
        X,
        y,
    )
    n = 5_000 if quick else 20_000
    X, y = make_three_classes(n)
    yield (
        f"3 classes {n // 1000}k",
        lambda: MixtureOfExpertsClassifier(n_experts=3, random_state=0),
        X,
        y,
    )
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 1000))
    y = X[:, :3] @ [1.0, 2.0, 3.0] + rng.standard_normal(100)
    yield (
        "wide 100x1000",
        lambda: MixtureOfExpertsRegressor(n_experts=2, random_state=0),
        X,
        y,
    )


def timed_fit(make, X, y):
    model = make()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return time.perf_counter() - start, model


def bench_paths(quick, repeats):
    rows = []
    for name, make, X, y in cases(quick):
        best = {"fast": (np.inf, None), "generic": (np.inf, None)}
        for _ in range(repeats):
            for path in ("fast", "generic"):
                with generic_path() if path == "generic" else _nothing():
                    seconds, model = timed_fit(make, X, y)
                if seconds < best[path][0]:
                    best[path] = (seconds, model)
        (fast_s, fast), (generic_s, generic) = best["fast"], best["generic"]
        row = (
            name,
            f"{fast_s:.3f}",
            f"{generic_s:.3f}",
            f"{generic_s / fast_s:.1f}",
            f"{1e3 * fast_s / fast.n_iter_:.1f}",
            f"{1e3 * generic_s / generic.n_iter_:.1f}",
            f"{(generic_s / generic.n_iter_) / (fast_s / fast.n_iter_):.1f}",
            f"{fast.n_iter_} / {generic.n_iter_}",
            f"{fast.log_likelihood_:.6f} / {generic.log_likelihood_:.6f}",
        )
        rows.append(row)
        print("  " + "  ".join(row), flush=True)
    return rows


@contextmanager
def _nothing():
    yield


def bench_against_one_model(repeats):
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    mixture, single = np.inf, np.inf
    for _ in range(max(repeats, 3)):
        seconds, model = timed_fit(
            lambda: MixtureOfExpertsClassifier(n_experts=2, random_state=0), X, y
        )
        mixture = min(mixture, seconds)
        start = time.perf_counter()
        LogisticRegression().fit(X, y)
        single = min(single, time.perf_counter() - start)
    return mixture, single, model.n_iter_


def bench_fold_pipelines(quick, repeats):
    rng = np.random.RandomState(0)
    n = 2_000 if quick else 5_000
    X = rng.uniform(-3, 3, size=(n, 3))
    y = np.where(X[:, 0] > 0, np.sin(2 * X[:, 1]), X[:, 2] ** 2)
    y += 0.2 * rng.standard_normal(n)
    heads = {
        "spline Pipeline + tree": make_pipeline(SplineTransformer(), Ridge()),
        "polynomial Pipeline + tree": make_pipeline(
            PolynomialFeatures(3), StandardScaler(), Ridge()
        ),
    }
    rows = []
    for name, head in heads.items():
        experts = [("head", head), ("tree", DecisionTreeRegressor(max_depth=4))]
        best = {}
        for _ in range(repeats):
            for path in ("kept", "refitted"):
                budget = (lambda: 0) if path == "refitted" else _crossfit._budget
                with mock.patch.object(_crossfit, "_budget", budget):
                    seconds, model = timed_fit(
                        lambda e=experts: MixtureOfExpertsRegressor(e, random_state=0),
                        X,
                        y,
                    )
                if seconds < best.get(path, (np.inf,))[0]:
                    best[path] = (seconds, model)
        (kept_s, kept), (refit_s, refit) = best["kept"], best["refitted"]
        rows.append(
            f"| {name} | {kept_s:.2f} | {refit_s:.2f} | {refit_s / kept_s:.1f} | "
            f"{kept.n_iter_} / {refit.n_iter_} | "
            f"{kept.log_likelihood_:.6f} / {refit.log_likelihood_:.6f} |"
        )
        print("  " + rows[-1], flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data")
    parser.add_argument(
        "--repeats", type=int, default=None, help="runs per path (best of)"
    )
    add_threads_argument(parser)
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    header = (
        "case",
        "fast s",
        "generic s",
        "generic/fast",
        "fast ms/iter",
        "generic ms/iter",
        "per-iter ratio",
        "iters fast / generic",
        "loglik fast / generic",
    )
    with limit_threads(args.threads):
        print(environment())  # the threads the runs get
        print(f"best of {repeats}; load before {os.getloadavg()[0]:.2f}\n")
        rows = bench_paths(args.quick, repeats)
        mixture, single, n_iter = bench_against_one_model(repeats)
        fold_rows = bench_fold_pipelines(args.quick, repeats)
    print(f"\nload after {os.getloadavg()[0]:.2f}\n")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    print("\n".join(lines))
    print(
        f"\nbreast_cancer, 2 logistic experts ({n_iter} EM iterations): "
        f"{mixture:.3f} s; one LogisticRegression: {single * 1e3:.1f} ms; "
        f"ratio {mixture / single:.0f}x (target <= 50x)"
    )
    print(
        "\n| cross-fitted copies | first steps kept s | refitted s | ratio "
        "| iters kept / refitted | loglik kept / refitted |\n|---|---|---|---|---|---|"
    )
    print("\n".join(fold_rows))


if __name__ == "__main__":
    main()
