"""Speed of skmoe's EM and predict against a plain numpy EM, on linear experts.

What is measured
----------------
Data come from a known mixture of 3 linear experts: 2-D inputs drawn uniformly
on [-2, 2]^2, a softmax gate whose logits are linear in x, each expert
``y = b0 + b . x`` and Gaussian noise of standard deviation 0.5 (fixed seeds).

1. EM fit. ``MixtureOfExpertsRegressor(n_experts=3)`` (linear experts, the
   yardstick's settings: ``SoftmaxGate(alpha=1e-3)``, ``tol=1e-6``, plain EM
   with ``acceleration=None``) is fitted at n = 3,000 and n = 150,000 rows
   and compared with a *yardstick*: the same model and the same algorithm
   written inline as a plain vectorised numpy EM (see ``yardstick_em``):

   - gate: softmax with intercept on standardised inputs, L2 penalty
     ``alpha = 1e-3`` on the coefficients on the summed-loss scale (as
     ``SoftmaxGate``), refitted every EM iteration by damped Newton with a
     backtracking line search, warm-started from the previous iteration,
     stopping when no gradient entry of the per-unit-weight objective
     exceeds 1e-8 (skmoe takes one Newton step per M-step instead);
   - experts: weighted least squares through the normal equations;
   - noise: each expert's responsibility-weighted mean squared residual,
     floored at ``1e-3 * var(y)``;
   - E-step in log space with ``scipy.special.logsumexp``;
   - EM stops when the mean log-likelihood gains less than ``tol = 1e-6``.

   Both start from the same responsibilities (k-means labels on the
   standardised inputs, softened as skmoe softens its own k-means start, passed
   to skmoe as ``fit(..., init_resp=<array>)``) and end at the same optimum:
   the script prints both final log-likelihoods (within 1e-6 per row) and
   iteration counts to show that the comparison is like for like. Both do the
   same work per iteration (the yardstick, like skmoe, recomputes the gate's
   log-probabilities for the E-step), so the ratio of seconds per iteration
   measures implementation overhead, not a different algorithm. Timings are the
   best of a few runs; the k-means start is computed once, outside the timings.
   A second, smaller table times skmoe with its own default start
   (``init_params="kmeans"``), which is what a user pays, initialisation
   included.

2. predict. The skmoe model fitted on 3,000 rows predicts 2,500 to 40,000 new
   rows (best of several runs of ``time.perf_counter``).

How to read the output
----------------------
- ``ratio s/iter`` = skmoe seconds per EM iteration / yardstick seconds per
  iteration. 1.0 means skmoe costs no more than hand-written numpy; the target
  is at most 1.5 at 150,000 rows.
- ``per-row cost growth`` = (s/iter / n) at 150,000 rows divided by (s/iter /
  n) at 3,000 rows. At most about 1 means the cost grows no worse than
  linearly in n (below 1: fixed per-iteration overhead is amortised). A value
  a little above 1 can come from the arrays outgrowing the CPU caches, a
  constant factor rather than super-linear growth.
- ``(CPU)`` is the same ratio in CPU seconds of the process. Other programs
  running on the machine change it much less than wall time, so when the two
  ratios disagree, trust the CPU one.
- predict ``ms per 1k rows`` should stay roughly flat as the rows grow
  (linear cost), and the times should be milliseconds. For scale: R's flexmix
  was reported to need 17.7 s to predict 40,000 rows.

Run ``python benchmarks/bench_core.py`` (under two minutes on two cores), or
``--quick`` for n = 3,000 and the smaller predict sizes only. ``--profile``
adds a cProfile listing of skmoe's largest fit.

BLAS and OpenMP are limited to one thread by default (``--threads 0`` leaves them as
configured). The matrix products here have 3 to 9 columns and gain little from
threads, while on a busy machine OpenBLAS threads waiting for a core made
both implementations 2-3 times slower, by varying amounts from run to run.
"""

import argparse
import cProfile
import io
import pstats
import time

import numpy as np
from _common import add_threads_argument, environment, limit_threads
from scipy.special import logsumexp
from sklearn.cluster import KMeans

from skmoe import MixtureOfExpertsRegressor, SoftmaxGate

N_EXPERTS = 3
NOISE_SD = 0.5
# The shared-start comparison runs skmoe with these settings too, so that both
# fit the same model to the same stopping rule (skmoe's own defaults differ:
# alpha="auto", tol=1e-5, SQUAREM after 20 iterations). At tol=1e-6 both end
# at the optimum, where skmoe's one Newton step of the gate per M-step and the
# yardstick's converged gate agree (FASTEM.md, section 2).
GATE_ALPHA = 1e-3  # the gate's penalty on the summed loss
REG_VAR = 1e-3  # noise floor relative to var(y); it does not bind here
TOL = 1e-6
MAX_ITER = 1000
GATE_TOL = 1e-8  # SoftmaxGate's default
GATE_MAX_ITER = 100
RESP_FLOOR = np.finfo(np.float64).eps  # smallest weight an expert is fitted with
INIT_SOFTENING = 0.2  # share of a hard start spread over all experts

# The true model: gate logits x @ GATE_COEF + GATE_INTERCEPT, expert i
# y = EXPERT_INTERCEPT[i] + x @ EXPERT_COEF[i].
GATE_COEF = np.array([[3.0, -3.0, 0.0], [0.0, 2.0, -2.0]])
GATE_INTERCEPT = np.array([0.0, 0.5, -0.5])
EXPERT_INTERCEPT = np.array([2.0, -1.0, 0.5])
EXPERT_COEF = np.array([[1.0, -2.0], [-1.0, 1.5], [2.0, 0.5]])

FIT_SIZES = (3_000, 150_000)
PREDICT_SIZES = (2_500, 5_000, 10_000, 20_000, 40_000)
QUICK_PREDICT_SIZES = (2_500, 5_000, 10_000)


# ---- data ----------------------------------------------------------------


def make_data(n, seed):
    """Rows from the known 3-expert mixture: X (n, 2), y (n,)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.0, 2.0, size=(n, 2))
    logits = X @ GATE_COEF + GATE_INTERCEPT
    gate = np.exp(logits - logsumexp(logits, axis=1, keepdims=True))
    u = rng.uniform(size=(n, 1))
    expert = np.minimum((u > np.cumsum(gate, axis=1)).sum(axis=1), N_EXPERTS - 1)
    means = EXPERT_INTERCEPT + X @ EXPERT_COEF.T
    y = means[np.arange(n), expert] + NOISE_SD * rng.standard_normal(n)
    return X, y


def initial_resp(X, seed=0):
    """Softened k-means labels on standardised X: the shared start."""
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    labels = KMeans(N_EXPERTS, n_init=1, random_state=seed).fit_predict(Z)
    resp = np.full((len(X), N_EXPERTS), INIT_SOFTENING / N_EXPERTS)
    resp[np.arange(len(X)), labels] += 1 - INIT_SOFTENING
    return resp


# ---- the yardstick: plain numpy EM for linear experts ---------------------


def _log_softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _gate_objective(W, Z1, targets, weight, alpha):
    """Penalised soft-target cross-entropy per unit weight, gradient, proba."""
    log_p = _log_softmax(Z1 @ W)
    p = np.exp(log_p)
    coef = W[1:]
    loss = -np.sum(weight @ (targets * log_p)) + 0.5 * alpha * np.sum(coef**2)
    grad = Z1.T @ (weight[:, np.newaxis] * (p - targets))
    grad[1:] += alpha * coef
    return loss, grad, p


def _gate_hessian(Z1, p, weight, alpha):
    """Hessian over W flattened row-major: entry (a, j) is index a * M + j."""
    n, q = Z1.shape
    M = p.shape[1]
    zp = (Z1[:, :, np.newaxis] * p[:, np.newaxis, :]).reshape(n, q * M)
    H = -(zp.T @ (zp * weight[:, np.newaxis]))
    wp = weight[:, np.newaxis] * p
    for j in range(M):
        H[j::M, j::M] += Z1.T @ (Z1 * wp[:, j : j + 1])
    H[np.diag_indices_from(H)] += alpha * np.repeat(np.arange(q) > 0, M)
    return H


def _fit_gate(W, Z1, targets, weight, alpha):
    """Damped Newton from W; the same steps and stopping rule as SoftmaxGate."""
    loss, grad, p = _gate_objective(W, Z1, targets, weight, alpha)
    for _ in range(GATE_MAX_ITER):
        if np.max(np.abs(grad)) <= GATE_TOL:
            break
        H = _gate_hessian(Z1, p, weight, alpha)
        H[np.diag_indices_from(H)] += 1e-12 * max(np.trace(H) / len(H), 1.0)
        try:
            step = np.linalg.solve(H, grad.ravel())
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, grad.ravel(), rcond=None)[0]
        step = step.reshape(W.shape)
        slope = np.vdot(grad, step)
        t = 1.0
        while True:
            W_new = W - t * step
            new = _gate_objective(W_new, Z1, targets, weight, alpha)
            if new[0] <= loss - 1e-4 * t * slope or t < 1e-10:
                break
            t *= 0.5
        if t < 1e-10 and new[0] >= loss:
            break
        W, (loss, grad, p) = W_new, new
    # Softmax ignores a constant added to all intercepts: centre them.
    W = W.copy()
    W[0] -= W[0].mean()
    return W


def yardstick_em(X, y, resp):
    """EM for a mixture of linear experts with a softmax gate, from ``resp``.

    Returns ``(mean log-likelihood, EM iterations)``.
    """
    n = len(y)
    Xd = np.column_stack([np.ones(n), X])  # experts' design matrix
    Z1 = np.column_stack([np.ones(n), (X - X.mean(axis=0)) / X.std(axis=0)])
    weight = np.full(n, 1.0 / n)  # gate's per-unit-weight row weights
    alpha = GATE_ALPHA / n  # summed-loss penalty on the per-unit-weight scale
    floor = REG_VAR * y.var()
    W = np.zeros((Z1.shape[1], N_EXPERTS))
    beta = np.empty((Xd.shape[1], N_EXPERTS))
    ll = -np.inf
    for n_iter in range(1, MAX_ITER + 1):
        previous = ll
        # M-step: experts by weighted least squares, then noise, then gate.
        w = np.maximum(resp, RESP_FLOOR)
        for k in range(N_EXPERTS):
            A = Xd.T @ (Xd * w[:, k : k + 1])
            beta[:, k] = np.linalg.solve(A, Xd.T @ (w[:, k] * y))
        residuals = y[:, np.newaxis] - Xd @ beta
        var = np.maximum((w * residuals**2).sum(axis=0) / w.sum(axis=0), floor)
        log_prob = -0.5 * (np.log(2 * np.pi * var) + residuals**2 / var)
        W = _fit_gate(W, Z1, resp, weight, alpha)
        # E-step.
        joint = _log_softmax(Z1 @ W) + log_prob
        log_norm = logsumexp(joint, axis=1)
        resp = np.exp(joint - log_norm[:, np.newaxis])
        ll = float(log_norm.mean())
        if abs(ll - previous) < TOL:
            return ll, n_iter
    return ll, MAX_ITER


# ---- timing ----------------------------------------------------------------


def best_time(func, repeats):
    """Smallest wall time of ``repeats`` calls, and the last call's result."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def timed(func):
    """``(wall seconds, CPU seconds of this process, result)`` of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = func()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def fit_skmoe(X, y, init_resp=None):
    """skmoe at its defaults, or, from a shared start, at the yardstick's
    settings (plain EM to TOL with the gate penalty GATE_ALPHA)."""
    if init_resp is None:
        return MixtureOfExpertsRegressor(n_experts=N_EXPERTS, random_state=0).fit(X, y)
    moe = MixtureOfExpertsRegressor(
        n_experts=N_EXPERTS,
        gate=SoftmaxGate(alpha=GATE_ALPHA),
        tol=TOL,
        max_iter=MAX_ITER,
        acceleration=None,
        random_state=0,
    )
    return moe.fit(X, y, init_resp=init_resp)


def bench_fit(n, repeats):
    """Time skmoe and the yardstick from the same start, then skmoe's default.

    The two shared-start fits alternate, so that a change in the machine's load
    during the run affects both alike; each keeps its best wall and CPU time.
    """
    X, y = make_data(n, seed=n)
    resp0 = initial_resp(X)
    sk_s = sk_cpu = ys_s = ys_cpu = np.inf
    for _ in range(repeats):
        wall, cpu, model = timed(lambda: fit_skmoe(X, y, resp0))
        sk_s, sk_cpu = min(sk_s, wall), min(sk_cpu, cpu)
        wall, cpu, (ys_ll, ys_iter) = timed(lambda: yardstick_em(X, y, resp0))
        ys_s, ys_cpu = min(ys_s, wall), min(ys_cpu, cpu)
    default_s, _, default_model = timed(lambda: fit_skmoe(X, y))
    return {
        "n": n,
        "model": model,
        "sk_s": sk_s,
        "sk_cpu": sk_cpu,
        "sk_iter": model.n_iter_,
        "sk_ll": model.log_likelihood_,
        "ys_s": ys_s,
        "ys_cpu": ys_cpu,
        "ys_iter": ys_iter,
        "ys_ll": ys_ll,
        "default_s": default_s,
        "default_iter": default_model.n_iter_,
        "default_ll": default_model.log_likelihood_,
    }


def bench_predict(model, sizes, repeats):
    rows = []
    for m in sizes:
        X_new, _ = make_data(m, seed=10_000 + m)
        model.predict(X_new)  # warm-up
        seconds, _ = best_time(lambda X_new=X_new: model.predict(X_new), repeats)
        rows.append((m, 1e3 * seconds, 1e6 * seconds / m))
    return rows


def profile_fit(n, top):
    X, y = make_data(n, seed=n)
    resp0 = initial_resp(X)
    profiler = cProfile.Profile()
    profiler.enable()
    fit_skmoe(X, y, resp0)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


# ---- report ----------------------------------------------------------------


def print_fit_table(results):
    header = (
        f"{'n':>8} | {'skmoe s':>8} {'iter':>4} {'s/iter':>8} | "
        f"{'yardstick s':>11} {'iter':>4} {'s/iter':>8} | {'ratio s/iter':>12} "
        f"{'(CPU)':>6}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        sk_per = r["sk_s"] / r["sk_iter"]
        ys_per = r["ys_s"] / r["ys_iter"]
        print(
            f"{r['n']:>8,} | {r['sk_s']:>8.3f} {r['sk_iter']:>4d} {sk_per:>8.4f} | "
            f"{r['ys_s']:>11.3f} {r['ys_iter']:>4d} {ys_per:>8.4f} | "
            f"{sk_per / ys_per:>12.2f} {_cpu_ratio(r):>6.2f}"
        )


def _cpu_ratio(r):
    """skmoe / yardstick CPU seconds per iteration."""
    return (r["sk_cpu"] / r["sk_iter"]) / (r["ys_cpu"] / r["ys_iter"])


def print_likelihood_check(results):
    print("\nSame fit? final mean log-likelihood (shared start):")
    for r in results:
        diff = abs(r["sk_ll"] - r["ys_ll"])
        verdict = "OK" if diff <= 1e-6 else "MISMATCH"
        print(
            f"  n={r['n']:>7,}: skmoe {r['sk_ll']:.10f} ({r['sk_iter']} iter), "
            f"yardstick {r['ys_ll']:.10f} ({r['ys_iter']} iter), "
            f"|diff| {diff:.1e}  {verdict}"
        )


def print_default_start(results):
    print("\nskmoe with its default start (init_params='kmeans', init included):")
    for r in results:
        print(
            f"  n={r['n']:>7,}: {r['default_s']:.3f} s, {r['default_iter']} iter, "
            f"log-likelihood {r['default_ll']:.6f}"
        )


def print_growth(results):
    small, large = results[0], results[-1]
    print(
        f"\nPer-row cost growth, (s/iter / n) at {large['n']:,} rows over "
        f"{small['n']:,} rows (<= ~1: no worse than linear):"
    )
    for name, s_key, i_key in (
        ("skmoe", "sk_s", "sk_iter"),
        ("yardstick", "ys_s", "ys_iter"),
    ):
        per_row = [r[s_key] / r[i_key] / r["n"] for r in (small, large)]
        print(
            f"  {name:<9}: {1e6 * per_row[0]:.3f} -> {1e6 * per_row[1]:.3f} "
            f"us per row per iteration, growth {per_row[1] / per_row[0]:.2f}"
        )
    ratio = (large["sk_s"] / large["sk_iter"]) / (large["ys_s"] / large["ys_iter"])
    verdict = "met" if ratio <= 1.5 else "NOT met"
    print(
        f"\nTarget: skmoe s/iter within 1.5x of the yardstick at {large['n']:,} "
        f"rows -> ratio {ratio:.3f} (CPU time: {_cpu_ratio(large):.3f}), {verdict}."
    )


def print_predict_table(rows, n_train):
    print(f"\npredict of the {n_train:,}-row model (best of several runs):")
    header = f"{'rows':>8} | {'ms':>8} | {'ms per 1k rows':>14}"
    print(header)
    print("-" * len(header))
    for m, ms, ms_per_k in rows:
        print(f"{m:>8,} | {ms:>8.2f} | {ms_per_k:>14.3f}")


def run(args):
    sizes = FIT_SIZES[:1] if args.quick else FIT_SIZES
    results = [bench_fit(n, repeats=5 if n <= 10_000 else 2) for n in sizes]
    print_fit_table(results)
    print_likelihood_check(results)
    print_default_start(results)
    if len(results) > 1:
        print_growth(results)

    predict_sizes = QUICK_PREDICT_SIZES if args.quick else PREDICT_SIZES
    rows = bench_predict(results[0]["model"], predict_sizes, repeats=20)
    print_predict_table(rows, results[0]["n"])

    if args.profile:
        print(f"\ncProfile of skmoe's fit at n={sizes[-1]:,} (by own time):")
        print(profile_fit(sizes[-1], top=15))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="only n=3,000 and predict on 2,500-10,000 rows",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print a cProfile listing of skmoe's largest fit",
    )
    add_threads_argument(parser)
    args = parser.parse_args(argv)

    limits = limit_threads(args.threads)
    print(environment())
    print(
        f"{N_EXPERTS} linear experts, 2 features, noise sd {NOISE_SD}; "
        f"tol={TOL}, gate alpha={GATE_ALPHA}. Shared-start fit times: best of 5 "
        "alternating runs (2 at 150,000 rows); default-start fits: one run.\n"
    )
    with limits:
        run(args)


if __name__ == "__main__":
    main()
