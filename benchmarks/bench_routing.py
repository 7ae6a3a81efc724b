"""Predict time of top-k routing with costly experts: dense, top-1, top-2, floor.

What is measured
----------------
A mixture whose experts are expensive to evaluate should, with ``top_k=1``,
cost about one expert's prediction over the rows, not ``M`` of them. This
script puts numbers on ``MixtureOfExpertsRegressor.predict(X, top_k=...)``.

Data (fixed seeds): x uniform on [-2, 2]^2; 16 regimes centred on a 4 x 4
grid, chosen by a softmax gate whose logits ``8 * (c_k . x - |c_k|^2 / 2)``
are linear in x (nearest centre, with soft borders); in regime ``k``
``y = sin(f_k x1 + phi_k) + s_k x2`` with frequency ``f_k`` in 1..4, phase
``phi_k = 0.7 k``, slope ``s_k = k / 8``, plus Gaussian noise of standard
deviation 0.1.

1. Fit. ``MixtureOfExpertsRegressor(expert, n_experts=16, max_iter=10,
   random_state=0)`` on 20,000 rows, for two kinds of expert:

   - ``KNeighborsRegressor(n_neighbors=10)``, the costly expert of the
     routing issue. It takes no ``sample_weight``, so skmoe fits each expert
     on the rows it is most responsible for (``unweighted_fit="hard"``);
   - ``DecisionTreeRegressor()``, fully grown, an expert that predicts
     cheaply, for contrast (``--experts knn`` leaves it out).

   EM usually stops at ``max_iter``; its ConvergenceWarning is silenced.

2. predict on 100,000 new rows: dense (``top_k=None``, every expert on every
   row), ``top_k=1`` and ``top_k=2``. Before any timing the script asserts
   that the calls compute the right thing, so that it never reports the speed
   of a wrong computation: ``top_k=16`` equals dense to 1e-12; ``top_k=1``
   equals the prediction of each row's most trusted expert; ``top_k=2`` equals
   the top two experts' predictions weighted by the gate renormalised over
   them; dense equals the gate-weighted mean of every expert's prediction.
   These references come from ``gate_proba`` and from each expert's own
   ``predict`` on all rows (which also gives the per-expert times printed
   below the table).

3. The floor: the gate alone (``moe.gate_proba(X_new)``) plus ONE expert
   predicting every row (``moe.experts_[0].predict`` on the experts' columns
   of ``X_new``). Top-1 routing cannot do much better: it must evaluate the
   gate, and every row still needs one expert's prediction. The floor is the
   sum of the two best times. Expert 0 is the expert with the largest weight
   (skmoe sorts experts by weight), so it holds the most training rows; the
   line below the table shows how the other experts compare on all rows.

4. A per-row Python loop, for scale: for each of 5,000 rows, the gate for
   that row, its top-1 expert, and that expert's ``predict`` on the single
   row; its result is checked against ``top_k=1``. The time is extrapolated
   linearly to 100,000 rows.

All timings are the best of a few rounds; each round runs every call once,
in turn, so that a change in the machine's load affects all of them alike.
Wall time (``time.perf_counter``) and CPU time of this process
(``time.process_time``) are kept separately, each its best.

How to read the output
----------------------
- ``x floor``: seconds / floor seconds. Targets from the routing issue, for
  costly experts: top-1 at least 5 times faster than dense, and top-1 within
  1.5 times the floor. The script prints both ratios in wall and CPU time and
  whether each target is met; when the two disagree, trust the CPU one (other
  programs on the machine move it much less). When a target is not met, a
  cProfile listing of ``predict(X_new, top_k=1)`` follows (``--profile``
  prints it always). The tree rows show the same ratios for an expert whose
  predictions cost about as much as the routing itself.
- ``experts used``: how many experts top-1 routing sends rows to, and the
  largest share of rows one of them gets. An expert no row is routed to is
  never called.

Run ``python benchmarks/bench_routing.py`` (about one to two minutes on two
cores), or ``--quick`` for 10,000 new rows, a 5,000-row fit with
``max_iter=5`` and a 1,000-row loop. BLAS and OpenMP are limited to one thread
by default (``--threads 0`` leaves them as configured); the kd-tree queries of
the kNN experts and the tree predictions run on one thread either way.
"""

import argparse
import cProfile
import io
import pstats
import time
import warnings

import numpy as np
from _common import add_threads_argument, environment, limit_threads
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import KNeighborsRegressor
from sklearn.tree import DecisionTreeRegressor

from skmoe import MixtureOfExpertsRegressor

N_EXPERTS = 16
GRID = 4  # regimes on a GRID x GRID grid of centres
SHARPNESS = 8.0  # scale of the true gate's logits
NOISE_SD = 0.1
N_NEIGHBORS = 10

FULL = dict(n_train=20_000, max_iter=10, n_new=100_000, loop_rows=5_000, rounds=5)
QUICK = dict(n_train=5_000, max_iter=5, n_new=10_000, loop_rows=1_000, rounds=5)

TOL = 1e-12  # agreement required of the checks
SPEEDUP_TARGET = 5.0  # dense / top-1
FLOOR_TARGET = 1.5  # top-1 / floor

EXPERTS = {
    "knn": (f"KNeighborsRegressor(n_neighbors={N_NEIGHBORS})", "costly"),
    "tree": ("DecisionTreeRegressor() (fully grown)", "cheap"),
}


# ---- data ----------------------------------------------------------------

_TICKS = -2.0 + 4.0 * (np.arange(GRID) + 0.5) / GRID
CENTRES = np.array([(a, b) for a in _TICKS for b in _TICKS])  # (16, 2)
FREQUENCY = 1.0 + np.arange(N_EXPERTS) % 4
PHASE = 0.7 * np.arange(N_EXPERTS)
SLOPE = np.arange(N_EXPERTS) / 8.0


def make_data(n, seed):
    """Rows from the 16-regime model: X (n, 2), y (n,)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.0, 2.0, size=(n, 2))
    logits = SHARPNESS * (X @ CENTRES.T - 0.5 * np.sum(CENTRES**2, axis=1))
    gate = np.exp(logits - logits.max(axis=1, keepdims=True))
    gate /= gate.sum(axis=1, keepdims=True)
    u = rng.uniform(size=(n, 1))
    regime = np.minimum((u > np.cumsum(gate, axis=1)).sum(axis=1), N_EXPERTS - 1)
    y = np.sin(FREQUENCY[regime] * X[:, 0] + PHASE[regime])
    y += SLOPE[regime] * X[:, 1] + NOISE_SD * rng.standard_normal(n)
    return X, y


def make_expert(kind):
    if kind == "knn":
        return KNeighborsRegressor(n_neighbors=N_NEIGHBORS)
    return DecisionTreeRegressor()


def fit_mixture(kind, X, y, max_iter):
    moe = MixtureOfExpertsRegressor(
        make_expert(kind), n_experts=N_EXPERTS, max_iter=max_iter, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return moe.fit(X, y)


# ---- timing ----------------------------------------------------------------


def timed(func):
    """``(wall seconds, CPU seconds of this process, result)`` of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = func()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def best_of_rounds(calls, rounds):
    """Best wall and best CPU seconds of each call, the calls taking turns."""
    best = {name: [np.inf, np.inf] for name in calls}
    for _ in range(rounds):
        for name, func in calls.items():
            wall, cpu, _ = timed(func)
            best[name][0] = min(best[name][0], wall)
            best[name][1] = min(best[name][1], cpu)
    return {name: np.array(times) for name, times in best.items()}


def row_loop(moe, X, Xe, rows):
    """Per row: its gate, its top-1 expert, that expert on that single row."""
    out = np.empty(rows)
    for i in range(rows):
        expert = int(np.argmax(moe.gate_proba(X[i : i + 1])))
        out[i] = moe.experts_[expert].predict(Xe[i : i + 1])[0]
    return out


def profile_predict(moe, X, top_k, top=15):
    profiler = cProfile.Profile()
    profiler.enable()
    moe.predict(X, top_k=top_k)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime")
    stats.print_stats(top)
    return out.getvalue().rstrip()


# ---- checks ----------------------------------------------------------------


def expert_table(moe, Xe):
    """Every expert's prediction on every row, (n, M), and each one's seconds."""
    preds = np.empty((Xe.shape[0], len(moe.experts_)))
    seconds = np.empty(len(moe.experts_))
    for i, expert in enumerate(moe.experts_):
        seconds[i], _, result = timed(lambda expert=expert: expert.predict(Xe))
        preds[:, i] = result
    return preds, seconds


def _max_diff(a, b):
    return float(np.max(np.abs(a - b)))


def check_predictions(moe, X, gate, preds):
    """Assert dense, top-16, top-1 and top-2 predict what they should."""
    rows = np.arange(len(X))
    dense = moe.predict(X)
    diffs = {"dense vs sum_i g_i mu_i": _max_diff(dense, np.sum(gate * preds, 1))}
    diffs["top_k=16 vs dense"] = _max_diff(moe.predict(X, top_k=N_EXPERTS), dense)
    order = np.argsort(-gate, axis=1, kind="stable")
    top1 = moe.predict(X, top_k=1)
    diffs["top_k=1 vs top expert"] = _max_diff(top1, preds[rows, order[:, 0]])
    first, second = order[:, 0], order[:, 1]
    g1, g2 = gate[rows, first], gate[rows, second]
    expected = (g1 * preds[rows, first] + g2 * preds[rows, second]) / (g1 + g2)
    diffs["top_k=2 vs top two, renormalised"] = _max_diff(
        moe.predict(X, top_k=2), expected
    )
    for name, diff in diffs.items():
        assert diff <= TOL, f"{name}: max |diff| {diff:.3e} > {TOL:.0e}"
    return diffs, top1


# ---- one kind of expert ----------------------------------------------------


def bench_kind(kind, config, X_train, y_train, X_new, profile):
    name, cost = EXPERTS[kind]
    n_new = len(X_new)
    fit_wall, fit_cpu, moe = timed(
        lambda: fit_mixture(kind, X_train, y_train, config["max_iter"])
    )
    print(
        f"== {name} experts ({cost} to predict) ==\n"
        f"fit on {len(X_train):,} rows: {fit_wall:.2f} s wall, {fit_cpu:.2f} s "
        f"CPU, {moe.n_iter_} EM iterations (max_iter={config['max_iter']}), "
        f"log-likelihood {moe.log_likelihood_:.4f}"
    )

    Xe = X_new[:, moe.expert_features_]
    gate = moe.gate_proba(X_new)
    preds, expert_seconds = expert_table(moe, Xe)
    diffs, top1 = check_predictions(moe, X_new, gate, preds)

    counts = np.bincount(np.argmax(gate, axis=1), minlength=N_EXPERTS)
    print(
        f"experts used by top-1 routing on the new rows: "
        f"{np.count_nonzero(counts)} of {N_EXPERTS}; largest share "
        f"{counts.max() / n_new:.1%} (expert {np.argmax(counts)})"
    )

    calls = {
        "dense": lambda: moe.predict(X_new),
        "top1": lambda: moe.predict(X_new, top_k=1),
        "top2": lambda: moe.predict(X_new, top_k=2),
        "gate": lambda: moe.gate_proba(X_new),
        "expert0": lambda: moe.experts_[0].predict(Xe),
    }
    best = best_of_rounds(calls, config["rounds"])
    best["floor"] = best["gate"] + best["expert0"]

    loop_rows = config["loop_rows"]
    loop_wall, loop_cpu, loop_pred = timed(lambda: row_loop(moe, X_new, Xe, loop_rows))
    loop_diff = _max_diff(loop_pred, top1[:loop_rows])
    assert loop_diff <= TOL, f"per-row loop vs top_k=1: max |diff| {loop_diff:.3e}"
    diffs["per-row loop vs top_k=1"] = loop_diff
    best["loop"] = np.array([loop_wall, loop_cpu])
    best["loop_full"] = best["loop"] * n_new / loop_rows

    print_table(best, n_new, loop_rows, config["rounds"])
    print(
        f"one expert's predict on all {n_new:,} rows (single runs): expert 0 "
        f"{expert_seconds[0]:.3f} s; over the {N_EXPERTS} experts min "
        f"{expert_seconds.min():.3f}, median {np.median(expert_seconds):.3f}, "
        f"max {expert_seconds.max():.3f}, sum {expert_seconds.sum():.3f} s"
    )
    print(
        "checks passed (max |diff|, must be <= 1e-12): "
        + "; ".join(f"{name} {diff:.1e}" for name, diff in diffs.items())
    )
    met = print_targets(best)
    if profile or not met:
        print(f"\ncProfile of predict(X_new, top_k=1) on {n_new:,} rows (by own time):")
        print(profile_predict(moe, X_new, top_k=1))
    print()


# ---- report ----------------------------------------------------------------


def print_table(best, n_new, loop_rows, rounds):
    floor = best["floor"]
    lines = [
        ("predict, dense (top_k=None)", "dense"),
        ("predict, top_k=1", "top1"),
        ("predict, top_k=2", "top2"),
        ("floor = gate + one expert", "floor"),
        ("  gate_proba alone", "gate"),
        ("  expert 0 alone, all rows", "expert0"),
        (f"per-row loop, {loop_rows:,} rows (1 run)", "loop"),
        (f"  extrapolated to {n_new:,} rows", "loop_full"),
    ]
    print(f"\npredict on {n_new:,} new rows, best of {rounds} rounds:")
    header = f"{'call':<38} | {'wall s':>9} {'CPU s':>9} | {'x floor':>8} {'(CPU)':>8}"
    print(header)
    print("-" * len(header))
    for label, key in lines:
        wall, cpu = best[key]
        print(
            f"{label:<38} | {wall:>9.4f} {cpu:>9.4f} | {wall / floor[0]:>8.2f} "
            f"{cpu / floor[1]:>8.2f}"
        )


def _verdict(ok):
    return "met" if ok else "NOT met"


def print_targets(best):
    """Print both targets in wall and CPU time; True when all are met."""
    speedup = best["dense"] / best["top1"]
    to_floor = best["top1"] / best["floor"]
    speed_ok = speedup >= SPEEDUP_TARGET
    floor_ok = to_floor <= FLOOR_TARGET
    print("\nTargets:")
    print(
        f"  dense / top-1 >= {SPEEDUP_TARGET:g}: wall {speedup[0]:.2f} "
        f"({_verdict(speed_ok[0])}), CPU {speedup[1]:.2f} ({_verdict(speed_ok[1])})"
    )
    print(
        f"  top-1 / floor <= {FLOOR_TARGET:g}: wall {to_floor[0]:.2f} "
        f"({_verdict(floor_ok[0])}), CPU {to_floor[1]:.2f} ({_verdict(floor_ok[1])})"
    )
    return bool(np.all(speed_ok) and np.all(floor_ok))


def run(args):
    config = QUICK if args.quick else FULL
    X_train, y_train = make_data(config["n_train"], seed=1)
    X_new, _ = make_data(config["n_new"], seed=2)
    kinds = ("knn", "tree") if args.experts == "both" else (args.experts,)
    for kind in kinds:
        bench_kind(kind, config, X_train, y_train, X_new, args.profile)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="10,000 new rows, a 5,000-row fit and a 1,000-row loop",
    )
    parser.add_argument(
        "--experts",
        choices=("both", "knn", "tree"),
        default="both",
        help="which experts to benchmark (default: both)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="always print a cProfile listing of predict(X_new, top_k=1)",
    )
    add_threads_argument(parser)
    args = parser.parse_args(argv)

    limits = limit_threads(args.threads)
    config = QUICK if args.quick else FULL
    print(environment())
    print(
        f"{N_EXPERTS} experts, 2 features, {GRID}x{GRID} regimes, noise sd "
        f"{NOISE_SD}; fit on {config['n_train']:,} rows, predict on "
        f"{config['n_new']:,} new rows.\n"
    )
    with limits:
        run(args)


if __name__ == "__main__":
    main()
