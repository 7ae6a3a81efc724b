"""Cost of a classifier as a mixture's gate (row replication) vs SoftmaxGate.

What is measured
----------------
A mixture's gate is refitted in every EM iteration to the E-step's
responsibilities, an (n, M) matrix of soft targets. ``SoftmaxGate`` fits them
directly. Any other classifier with ``predict_proba`` and ``sample_weight``
serves through ``skmoe._gating.fit_gate``, which shows it every row M times,
copy ``i`` labelled ``i`` and weighted by the responsibility of expert ``i``:
M * n rows in memory and in the fit. This script puts numbers on that price.

Data (fixed seeds): X of shape (n, 5), standard normal, n = 50,000 (``--quick``:
5,000); soft targets R for M = 8 experts drawn around a random linear softmax,
``R ~ Dirichlet(10 * softmax(X @ W) + 0.1)`` row by row; sample weights ones.

1. Gate fit and predict. ``fit_gate(gate, X, R, sample_weight)`` and
   ``gate_log_proba(gate, X, 8)`` for a fresh clone (cold start) of

   - ``SoftmaxGate()``, the default gate and the yardstick (ratio 1);
   - ``LogisticRegression()``, the same model class through replication
     (400,000 rows at n = 50,000), so its extra cost is the adapter's;
   - ``HistGradientBoostingClassifier(max_iter=50)`` and
     ``DecisionTreeClassifier(max_depth=6)``, nonlinear gates, for scale.

   Times are the best of a few runs, each in wall and in CPU seconds of this
   process (the CPU figure moves much less with other load on the machine;
   when the two ratios disagree, trust the CPU one). ``soft CE`` is the
   soft-target cross-entropy ``mean(-sum(R * log g))`` of the fitted gate on
   its training rows: ``SoftmaxGate`` and ``LogisticRegression`` fit the same
   model and should agree to about 1e-5 (they differ only in their L2
   penalties, ``alpha="auto"`` and ``C=1``); lower values mean a more
   flexible gate, not a better one.

2. Peak memory of one gate fit: ``tracemalloc`` started just before the fit
   and read just after (it sees numpy's allocations, and Python's, not a C
   library's own ``malloc``), run apart from the timings because tracing slows
   allocation. The row "replication only" is a classifier whose ``fit`` does
   nothing: the adapter's own copies of X (``np.tile`` and the mask of
   zero-weight rows). For reference the size of X and M times it are printed;
   the replicated X alone is M times X, and a classifier that copies it again
   or keeps per-row state for M classes needs several times more.

3. A whole EM fit. ``MixtureOfExpertsRegressor(n_experts=8, gate=...,
   max_iter=5, tol=0, random_state=0)`` with its default linear experts, on
   regression data of the same size (8 linear regimes chosen by a linear
   softmax gate, noise sd 0.5), for the default ``SoftmaxGate`` (which EM
   warm-starts from the previous iteration) and for ``LogisticRegression``
   (refitted from scratch each iteration). ``fit_gate`` and ``gate_log_proba``
   are wrapped with timers during these fits, so ``gate fit`` and ``gate pred``
   are the seconds EM spent inside them (k-means start, 5 M-steps and E-steps)
   and ``gate %`` is their share of the whole fit's wall time. The two fits
   do not start alike: the mixture draws a seed for the ``random_state`` of a
   gate that has one (``LogisticRegression``) from the same stream as the
   k-means start, so ``log-lik`` after 5 iterations compares two EM runs from
   different starts, not the two gates' quality.

How to read it
--------------
- ``x Softmax`` columns: how many times slower (or bigger) than
  ``SoftmaxGate``. ``LogisticRegression`` answers "what does replication
  cost for the same model"; the other two show what a nonlinear gate costs.
- In the EM table, compare ``s/iter``: the gate's share tells whether a
  replicated gate dominates an EM iteration with linear experts.

Run ``python benchmarks/bench_gate.py`` (about two minutes on two cores), or
``--quick`` for n = 5,000. BLAS and OpenMP are limited to one thread by
default (``--threads 0`` leaves them as configured), so that the gradient
boosting gate does not compete with other programs for the cores; with more
threads its wall time drops and its CPU time does not.
"""

import argparse
import gc
import time
import tracemalloc
import warnings
from unittest import mock

import numpy as np
from _common import add_threads_argument, environment, limit_threads
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

import skmoe
import skmoe._base
from skmoe import MixtureOfExpertsRegressor, SoftmaxGate
from skmoe._gating import fit_gate, gate_log_proba

N_ROWS = 50_000
QUICK_ROWS = 5_000
N_FEATURES = 5
N_EXPERTS = 8
CONCENTRATION = 10.0  # Dirichlet concentration around the softmax
DIRICHLET_FLOOR = 0.1  # added to every Dirichlet parameter: noise in all rows
NOISE_SD = 0.5  # regression noise of the EM data
EM_ITER = 5
MIB = 2.0**20


# ---- data ----------------------------------------------------------------


def make_soft_targets(n, seed=0):
    """X (n, d) standard normal, R (n, M) rows on the simplex, weights ones."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, N_FEATURES))
    logits = X @ rng.standard_normal((N_FEATURES, N_EXPERTS))
    logits += rng.standard_normal(N_EXPERTS)
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    # One Dirichlet draw per row: normalised Gamma variables.
    draws = rng.gamma(CONCENTRATION * proba + DIRICHLET_FLOOR)
    R = draws / draws.sum(axis=1, keepdims=True)
    return X, R, np.ones(n)


def make_regression(n, seed=1):
    """X (n, d), y (n,) from 8 linear experts chosen by a linear softmax gate."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, N_FEATURES))
    logits = 2.0 * X @ rng.standard_normal((N_FEATURES, N_EXPERTS))
    gate = np.exp(logits - logits.max(axis=1, keepdims=True))
    gate /= gate.sum(axis=1, keepdims=True)
    u = rng.uniform(size=(n, 1))
    expert = np.minimum((u > np.cumsum(gate, axis=1)).sum(axis=1), N_EXPERTS - 1)
    coef = 2.0 * rng.standard_normal((N_EXPERTS, N_FEATURES))
    intercept = 3.0 * rng.standard_normal(N_EXPERTS)
    means = intercept + X @ coef.T
    y = means[np.arange(n), expert] + NOISE_SD * rng.standard_normal(n)
    return X, y


# ---- gates -----------------------------------------------------------------


class NullGate(ClassifierMixin, BaseEstimator):
    """A classifier whose fit does nothing: measures the replication alone."""

    def fit(self, X, y, sample_weight=None):
        self.classes_ = np.unique(y)
        self.n_rows_ = X.shape[0]
        return self

    def predict_proba(self, X):
        return np.full((X.shape[0], len(self.classes_)), 1.0 / len(self.classes_))


def gate_specs():
    """(label, unfitted gate, timing repeats); the first is the yardstick."""
    return [
        ("SoftmaxGate", SoftmaxGate(), 5),
        ("LogisticRegression", LogisticRegression(), 3),
        ("HistGradientBoosting(50)", HistGradientBoostingClassifier(max_iter=50), 2),
        ("DecisionTree(depth=6)", DecisionTreeClassifier(max_depth=6), 3),
    ]


# ---- measurements ------------------------------------------------------------


def timed(func):
    """``(wall seconds, CPU seconds of this process, result)`` of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = func()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def bench_gate(estimator, X, R, sw, repeats):
    """Best wall and CPU times of fit_gate and gate_log_proba over fresh clones."""
    best = dict(fit_s=np.inf, fit_cpu=np.inf, pred_s=np.inf, pred_cpu=np.inf)
    n_warnings = 0
    for _ in range(repeats):
        gate = clone(estimator)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            wall, cpu, _ = timed(lambda gate=gate: fit_gate(gate, X, R, sw))
        n_warnings += sum(issubclass(w.category, ConvergenceWarning) for w in caught)
        best["fit_s"] = min(best["fit_s"], wall)
        best["fit_cpu"] = min(best["fit_cpu"], cpu)
        wall, cpu, log_proba = timed(
            lambda gate=gate: gate_log_proba(gate, X, N_EXPERTS)
        )
        best["pred_s"] = min(best["pred_s"], wall)
        best["pred_cpu"] = min(best["pred_cpu"], cpu)
    best["soft_ce"] = float(-np.mean(np.sum(R * log_proba, axis=1)))
    best["n_iter"] = np.max(getattr(gate, "n_iter_", [np.nan]))
    best["convergence_warnings"] = n_warnings
    return best


def peak_fit_memory(estimator, X, R, sw):
    """Peak bytes traced by tracemalloc during one fit_gate of a fresh clone."""
    gate = clone(estimator)
    gc.collect()
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit_gate(gate, X, R, sw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


class GateTimer:
    """Wraps skmoe's fit_gate and gate_log_proba as EM calls them, with timers."""

    def __init__(self):
        self.fit_s = self.pred_s = 0.0
        self.fit_calls = self.pred_calls = 0

    def fit_gate(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return fit_gate(*args, **kwargs)
        finally:
            self.fit_s += time.perf_counter() - start
            self.fit_calls += 1

    def gate_log_proba(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return gate_log_proba(*args, **kwargs)
        finally:
            self.pred_s += time.perf_counter() - start
            self.pred_calls += 1


def fit_mixture(gate, X, y):
    """One EM fit of 5 iterations; returns (wall, CPU, GateTimer, model)."""
    model = MixtureOfExpertsRegressor(
        n_experts=N_EXPERTS, gate=gate, max_iter=EM_ITER, tol=0, random_state=0
    )
    timer = GateTimer()
    with (
        warnings.catch_warnings(),
        mock.patch.object(skmoe._base, "fit_gate", timer.fit_gate),
        mock.patch.object(skmoe._base, "gate_log_proba", timer.gate_log_proba),
    ):
        warnings.simplefilter("ignore", ConvergenceWarning)
        wall, cpu, _ = timed(lambda: model.fit(X, y))
    return wall, cpu, timer, model


def bench_mixture(gate, X, y, repeats):
    """The fastest (by wall time) of ``repeats`` EM fits, with its gate timers."""
    best = None
    for _ in range(repeats):
        run = fit_mixture(gate, X, y)
        if best is None or run[0] < best[0]:
            best = run
    wall, cpu, timer, model = best
    return dict(
        wall=wall,
        cpu=cpu,
        n_iter=model.n_iter_,
        ll=model.log_likelihood_,
        gate_fit_s=timer.fit_s,
        gate_fit_calls=timer.fit_calls,
        gate_pred_s=timer.pred_s,
        gate_pred_calls=timer.pred_calls,
    )


# ---- report ----------------------------------------------------------------


def print_time_table(results, n):
    base = results[0][1]
    print(
        f"1. Gate fit and predict on {n:,} rows x {N_FEATURES} features, "
        f"{N_EXPERTS} experts (replicated gates see {N_EXPERTS * n:,} rows); "
        "cold start, best of the runs shown:"
    )
    header = (
        f"{'gate':<24} {'runs':>4} | {'fit s':>7} {'CPU s':>7} {'x Softmax':>9} "
        f"{'(CPU)':>6} | {'pred ms':>8} {'CPU ms':>8} {'x Softmax':>9} "
        f"{'(CPU)':>6} | {'soft CE':>9}"
    )
    print(header)
    print("-" * len(header))
    for label, r, repeats in results:
        print(
            f"{label:<24} {repeats:>4} | {r['fit_s']:>7.3f} {r['fit_cpu']:>7.3f} "
            f"{r['fit_s'] / base['fit_s']:>9.1f} "
            f"{r['fit_cpu'] / base['fit_cpu']:>6.1f} | "
            f"{1e3 * r['pred_s']:>8.2f} {1e3 * r['pred_cpu']:>8.2f} "
            f"{r['pred_s'] / base['pred_s']:>9.1f} "
            f"{r['pred_cpu'] / base['pred_cpu']:>6.1f} | {r['soft_ce']:>9.6f}"
        )
    gap = abs(results[1][1]["soft_ce"] - base["soft_ce"])
    print(
        f"Same optimum? |soft CE(LogisticRegression) - soft CE(SoftmaxGate)| = "
        f"{gap:.1e}; SoftmaxGate took {base['n_iter']} Newton steps, "
        f"LogisticRegression {results[1][1]['n_iter']} L-BFGS iterations."
    )
    for label, r, _ in results:
        if r["convergence_warnings"]:
            print(f"  {label}: {r['convergence_warnings']} ConvergenceWarning(s).")


def print_memory_table(peaks, x_bytes):
    base = peaks[0][1]
    print(
        f"\n2. Peak memory of one gate fit (tracemalloc). X is "
        f"{x_bytes / MIB:.2f} MiB; {N_EXPERTS} x X = "
        f"{N_EXPERTS * x_bytes / MIB:.2f} MiB."
    )
    header = f"{'gate':<24} | {'peak MiB':>9} {'x Softmax':>9} {'x X':>6}"
    print(header)
    print("-" * len(header))
    for label, peak in peaks:
        print(
            f"{label:<24} | {peak / MIB:>9.2f} {peak / base:>9.2f} "
            f"{peak / x_bytes:>6.1f}"
        )


def print_mixture_table(results, n):
    base = results[0][1]
    print(
        f"\n3. MixtureOfExpertsRegressor(n_experts={N_EXPERTS}, max_iter={EM_ITER}, "
        f"tol=0) on {n:,} rows, linear experts, k-means start included; "
        "fastest of the runs shown:"
    )
    header = (
        f"{'gate':<20} | {'fit s':>7} {'CPU s':>7} {'s/iter':>7} "
        f"{'x Softmax':>9} | {'gate fit s':>10} {'gate pred s':>11} "
        f"{'gate %':>6} | {'log-lik':>9}"
    )
    print(header)
    print("-" * len(header))
    for label, r in results:
        per_iter = r["wall"] / r["n_iter"]
        share = 100 * (r["gate_fit_s"] + r["gate_pred_s"]) / r["wall"]
        print(
            f"{label:<20} | {r['wall']:>7.2f} {r['cpu']:>7.2f} {per_iter:>7.3f} "
            f"{r['wall'] / base['wall']:>9.1f} | {r['gate_fit_s']:>10.3f} "
            f"{r['gate_pred_s']:>11.3f} {share:>6.1f} | {r['ll']:>9.4f}"
        )
    calls = ", ".join(
        f"{label}: {r['gate_fit_calls']} fits, {r['gate_pred_calls']} predicts"
        for label, r in results
    )
    print(f"Gate calls during the fit: {calls}.")


def run(args):
    n = QUICK_ROWS if args.quick else N_ROWS
    X, R, sw = make_soft_targets(n)

    results = []
    for label, estimator, repeats in gate_specs():
        results.append((label, bench_gate(estimator, X, R, sw, repeats), repeats))
    print_time_table(results, n)

    peaks = [
        (label, peak_fit_memory(estimator, X, R, sw))
        for label, estimator, _ in gate_specs()
    ]
    peaks.append(("replication only", peak_fit_memory(NullGate(), X, R, sw)))
    print_memory_table(peaks, X.nbytes)

    X_reg, y_reg = make_regression(n)
    mixtures = [
        ("SoftmaxGate", bench_mixture(None, X_reg, y_reg, repeats=3)),
        ("LogisticRegression", bench_mixture(LogisticRegression(), X_reg, y_reg, 2)),
    ]
    print_mixture_table(mixtures, n)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"n={QUICK_ROWS:,} rows instead of {N_ROWS:,}",
    )
    add_threads_argument(parser)
    args = parser.parse_args(argv)

    limits = limit_threads(args.threads)
    print(environment() + "\n")
    with limits:
        run(args)


if __name__ == "__main__":
    main()
