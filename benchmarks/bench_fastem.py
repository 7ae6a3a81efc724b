"""Fast EM: what partial M-steps and unvalidated outputs buy, before vs after.

What is measured
----------------
"Before" is the code path EM took before this change, switched back on in the
same process: the gate refitted by ``SoftmaxGate.fit`` at every iteration
(validation, standardisation, Newton to a gradient of 1e-8), warm logistic
experts solved by Newton to a gradient of 1e-10, every expert's and the
gate's output computed through their own ``predict`` / ``predict_proba``
(which validate ``X``), each expert's ``fit`` signature read at every
iteration, each expert's first fit by its own ``fit`` and a gate of two
experts fitted on two logits. "After" is the default: one warm-started
Newton step per M-step for the gate and the logistic experts (generalised
EM), the gate's inputs standardised once per run, outputs of
LinearRegression, Ridge, LogisticRegression and the SoftmaxGate computed
from their coefficients, and in a mixture of several experts their first
fit solved the same way (from zero, to convergence) once its parameters are
checked.

1. ``breast_cancer``: ``MixtureOfExpertsClassifier(n_experts=2,
   random_state=0)`` with every other parameter at its default (2 logistic
   experts, ``n_init=3``, ``tol=1e-5``) on StandardScaler-ed data, over one
   ``LogisticRegression().fit`` on the same data (best of 20). The default
   runs the three starts 20 iterations each and continues the best
   (``init_max_iter=20``), extrapolated by SQUAREM after its 20th iteration
   (``acceleration="auto"``); also plain EM (``acceleration=None``) with
   short runs and with every start run to ``tol`` (``init_max_iter=None``),
   SQUAREM from the first iteration (``acceleration="squarem"``) and the
   former defaults (``n_init=1``, ``tol=1e-4``, ``max_iter=100``). Best of
   three alternating runs (two with ``--quick``).
2. The 150,000-row, 3-expert linear case of ``bench_core.py`` (``--quick``:
   30,000 rows): seconds per EM iteration of skmoe and of the hand-written
   numpy EM ``bench_core.yardstick_em`` (which refits its gate by Newton to a
   gradient of 1e-8 at every iteration), from the same start, as the
   difference between runs of 30 and 10 iterations over 20 (so one-off costs,
   the k-means start or the noise estimate, drop out). skmoe's gate gets the
   yardstick's penalty (``alpha=1e-3``). Then both to ``tol=1e-6`` from the
   same start: iterations and whole-fit seconds. R's flexmix, the issue's
   outer yardstick (12.5x the numpy EM's time there), is not installed here.
3. neural-trees' protocol: iris, wine and breast_cancer, 5x5 repeated
   stratified CV (``--quick``: 5x1), a StandardScaler then the default
   ``MixtureOfExpertsClassifier(n_experts=2, random_state=0)`` (logistic
   experts), and the same with plain EM (``acceleration=None``), with short
   runs and with every start run to ``tol`` (``init_max_iter=None``):
   seconds per fit (scaler included) and test accuracy. When neural-trees
   (and PyTorch) can be imported, its ``HierarchicalMixtureOfExperts`` at its
   defaults is fitted on the same folds in turn (``--threads`` also sets
   PyTorch's threads), and the ratio of its time to skmoe's defaults is
   printed.
4. ``steps``: default fits with the gate's and the warm logistic experts'
   Newton steps per M-step capped at 1 (the default) to 100, on four cases.
5. ``hme``: the user guide's two-level hierarchy (two mixtures of two linear
   experts under a gate, four bent regimes, 1,200 and 12,000 rows), with the
   children's noise floors from the parent's noise estimate (the default)
   and estimated by each child at every refit (the former code path,
   switched back on by making ``share_noise_estimate`` a no-op): seconds per
   fit (best of 5, or 2 with ``--quick``, taken in turn), iterations and the
   final log-likelihood.
6. ``lbfgs_gate``: a gate of more than 200 parameters is fitted by L-BFGS;
   in EM it takes at most ``EM_GATE_LBFGS_STEPS`` L-BFGS iterations per
   M-step, warm-started. Default fits with that cap at 5, 10, 20 (the
   default) and 40, and with the gate run to its ``tol`` at every M-step
   (the code path before the cap, as ``SoftmaxGate.fit`` ran it), on 2,400
   of 3,000 rows of 400 features and one linear law (no regimes; 802 gate
   parameters), on 4,000 of 5,000 rows of 150 features and two regimes
   (302), the rest held out, and on digits with four logistic experts (260;
   5-fold stratified CV after a StandardScaler, its folds' times and
   iterations summed; ``--quick``: the first case only). CPU seconds,
   EM iterations over the starts, training and held-out log-likelihood per
   row (digits: held-out and rows right).
7. ``narrow_gate``: which solver a gate of many parameters should get.
   Default fits with ``SoftmaxGate(solver="newton")`` and
   ``SoftmaxGate(solver="lbfgs")`` as the gate, on 80 % of generated data
   with K Voronoi regimes (K random centres, a linear law each, noise sd
   0.3) over d standard normal features, the rest held out, and digits with
   four logistic experts (one 80/20 split after a StandardScaler): CPU
   seconds, EM iterations over the starts, training and held-out
   log-likelihood per row, and the L-BFGS / Newton time ratio (``ratio``). ``solver=
   "auto"`` takes Newton past 200 parameters only where this grid found it
   the faster (at most 60 gate inputs; ``--quick``: two cases).

Everything runs with one BLAS and one OpenMP thread (``--threads``). The load
average is printed before and after: above 2 (the cores here), other programs
shared the cores and wall times are inflated, the ratios less so.

Run ``python benchmarks/bench_fastem.py`` (a few minutes) or ``--quick``.
"""

import argparse
import os
import time
import warnings
from contextlib import contextmanager, nullcontext
from functools import partial
from unittest import mock

import bench_core
import numpy as np
from _common import add_threads_argument, environment, limit_threads
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import has_fit_parameter

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor, SoftmaxGate
from skmoe._fast_mstep import NEWTON_MAX_ITER, fast_mstep
from skmoe._gating import _fit_newton


def _own_first_fits(experts, X, y, weights, **kwargs):
    return fast_mstep(experts, X, y, weights, **{**kwargs, "own_first_fit": True})


@contextmanager
def before():
    """EM's code path before partial M-steps and unvalidated outputs."""
    patches = [
        mock.patch("skmoe._experts.fast_mstep", _own_first_fits),
        mock.patch("skmoe._gating._fit_two", _fit_newton),
        mock.patch("skmoe._gating._can_em_refit", lambda *args: False),
        mock.patch("skmoe._fast_mstep.EM_NEWTON_STEPS", NEWTON_MAX_ITER),
        mock.patch("skmoe._likelihood._is_own_linear", lambda *args: False),
        mock.patch("skmoe._gating._is_own_gate", lambda *args: False),
        mock.patch(
            "skmoe._estimators._fit_takes_sample_weight",
            lambda estimator: has_fit_parameter(estimator, "sample_weight"),
        ),
    ]
    for patch in patches:
        patch.start()
    try:
        yield
    finally:
        for patch in patches:
            patch.stop()


def path(name):
    return before() if name == "before" else nullcontext()


def quiet_fit(model, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y, **params)


def timed(func):
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


# ---- 1. breast_cancer against one LogisticRegression -----------------------

OLD_DEFAULTS = dict(n_init=1, tol=1e-4, max_iter=100)
PLAIN = {"acceleration": None}
FULL_STARTS = {"init_max_iter": None, **PLAIN}
BREAST_CANCER_CONFIGS = [
    ("every start to tol, plain EM", "before", FULL_STARTS),
    ("every start to tol, plain EM", "after", FULL_STARTS),
    ("short runs, plain EM", "after", PLAIN),
    ("defaults (short runs, SQUAREM after 20)", "after", {}),
    ("short runs, SQUAREM from the start", "after", {"acceleration": "squarem"}),
    ("former defaults", "before", {**OLD_DEFAULTS, **PLAIN}),
    ("former defaults", "after", {**OLD_DEFAULTS, **PLAIN}),
]


def bench_breast_cancer(repeats):
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    one = min(timed(lambda: LogisticRegression().fit(X, y))[0] for _ in range(20))
    best = {}
    for _ in range(repeats):
        for label, which, params in BREAST_CANCER_CONFIGS:
            model = MixtureOfExpertsClassifier(n_experts=2, random_state=0, **params)
            with path(which):
                seconds, model = timed(lambda model=model: quiet_fit(model, X, y))
            key = (label, which)
            if key not in best or seconds < best[key][0]:
                best[key] = (seconds, model)
    print(f"\none LogisticRegression: {one * 1e3:.2f} ms (best of 20)\n")
    print(
        "| settings | path | fit s | / one LogisticRegression | "
        "iterations per start | ms per iteration | loglik per row |"
    )
    print("|---|---|---|---|---|---|---|")
    for (label, which), (seconds, model) in best.items():
        iters = [len(curve) for curve in model.start_log_likelihoods_]
        print(
            f"| {label} | {which} | {seconds:.3f} | {seconds / one:.0f}x | "
            f"{' / '.join(map(str, iters))} | {1e3 * seconds / sum(iters):.2f} | "
            f"{model.log_likelihood_:.5f} |"
        )


# ---- 2. the 150,000-row linear case against the numpy yardstick -----------


def yardstick(X, y, resp, n_iter, tol):
    bench_core.MAX_ITER, bench_core.TOL = n_iter, tol
    return bench_core.yardstick_em(X, y, resp)


def skmoe_linear(X, y, resp, n_iter, tol, acceleration=None):
    """Plain EM unless told (the cost of an iteration is measured on it)."""
    model = MixtureOfExpertsRegressor(
        acceleration=acceleration,
        n_experts=3,
        gate=SoftmaxGate(alpha=bench_core.GATE_ALPHA),
        n_init=1,
        tol=tol,
        max_iter=n_iter,
        random_state=0,
    )
    return quiet_fit(model, X, y, init_resp=resp)


def clocks(func):
    """``[wall seconds, CPU seconds of this process]`` of one call, and what
    it returned."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = func()
    return np.array([time.perf_counter() - wall, time.process_time() - cpu]), result


def per_iteration(funcs, X, y, resp, repeats):
    """Wall and CPU seconds per iteration of each of ``funcs``: (30 iterations
    - 10 iterations) / 20, best of ``repeats`` runs taken in turn, so that a
    change of load touches all alike; ``tol=0`` never stops early."""
    best = {}
    for _ in range(repeats):
        for name, (func, context) in funcs.items():
            for n_iter in (10, 30):
                with context():
                    t, _ = clocks(
                        lambda func=func, n_iter=n_iter: func(X, y, resp, n_iter, 0.0)
                    )
                key = (name, n_iter)
                best[key] = np.minimum(best.get(key, t), t)
    return {name: (best[name, 30] - best[name, 10]) / 20 for name in funcs}


def bench_linear(n, repeats):
    X, y = bench_core.make_data(n, seed=n)
    resp = bench_core.initial_resp(X)
    costs = per_iteration(
        {
            "numpy EM": (yardstick, nullcontext),
            "before": (skmoe_linear, before),
            "after": (skmoe_linear, nullcontext),
        },
        X,
        y,
        resp,
        repeats,
    )
    ys = costs.pop("numpy EM")
    print(f"\n{n:,} rows, 3 linear experts: seconds per EM iteration\n")
    print(
        "| path | skmoe ms/iter wall (CPU) | numpy EM ms/iter wall (CPU) | "
        "ratio wall (CPU) |"
    )
    print("|---|---|---|---|")
    for which, (wall, cpu) in costs.items():
        print(
            f"| {which} | {1e3 * wall:.1f} ({1e3 * cpu:.1f}) | {1e3 * ys[0]:.1f} "
            f"({1e3 * ys[1]:.1f}) | {wall / ys[0]:.2f} ({cpu / ys[1]:.2f}) |"
        )
    ys_t, (ys_ll, ys_iter) = clocks(lambda: yardstick(X, y, resp, 1000, 1e-6))
    sk_t, model = clocks(lambda: skmoe_linear(X, y, resp, 1000, 1e-6, "auto"))
    print(
        f"\nTo tol=1e-6 from the same start (skmoe's default acceleration): "
        f"numpy EM {ys_iter} iterations, "
        f"{ys_t[0]:.2f} s ({ys_t[1]:.2f} s CPU), loglik {ys_ll:.6f}; skmoe "
        f"{model.n_iter_} iterations, {sk_t[0]:.2f} s ({sk_t[1]:.2f} s CPU), "
        f"loglik {model.log_likelihood_:.6f}; whole fit {sk_t[0] / ys_t[0]:.2f}x "
        f"({sk_t[1] / ys_t[1]:.2f}x CPU) the numpy EM's."
    )


# ---- how many Newton steps per M-step --------------------------------------

STEP_CAPS = [(1, 1), (2, 1), (3, 3), (100, 1), (100, 100)]


def quadrants(n=500, seed=0):
    """The user guide's four linear regimes, one per quadrant."""
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    regime = 2 * (X[:, 0] > 0) + (X[:, 1] > 0)
    coef = rng.normal(scale=3, size=(4, 3))
    y = coef[regime, 0] + (coef[regime, 1:] * X).sum(axis=1)
    return X, y + 0.3 * rng.standard_normal(n)


def scaled(load):
    X, y = load(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@contextmanager
def step_caps(gate_steps, expert_steps):
    with (
        mock.patch("skmoe._gating.SoftmaxGate._em_refit.__defaults__", (gate_steps,)),
        mock.patch("skmoe._fast_mstep.EM_NEWTON_STEPS", expert_steps),
    ):
        yield


def bench_steps(quick):
    """Default fits with the gate's (g) and warm logistic experts' (e) Newton
    steps per M-step capped: CPU seconds, iterations over the starts, loglik."""
    reg, clf = MixtureOfExpertsRegressor, MixtureOfExpertsClassifier
    cases = [
        ("4 quadrants, 4 linear", reg, 4, quadrants()),
        ("breast_cancer, 2 logistic", clf, 2, scaled(load_breast_cancer)),
        ("wine, 2 logistic", clf, 2, scaled(load_wine)),
        ("linear 30k, 3 experts", reg, 3, bench_core.make_data(30_000, 0)),
    ]
    if quick:
        cases = cases[:2]
    print("\nNewton steps per M-step: iterations over the starts, CPU s, loglik\n")
    print("| case | " + " | ".join(f"g{g}/e{e}" for g, e in STEP_CAPS) + " |")
    print("|---|" + "---|" * len(STEP_CAPS))
    for name, Estimator, K, (X, y) in cases:
        cells = []
        for caps in STEP_CAPS:
            model = Estimator(n_experts=K, random_state=0)
            with step_caps(*caps):
                t, model = clocks(lambda model=model, X=X, y=y: quiet_fit(model, X, y))
            n_iter = sum(len(curve) for curve in model.start_log_likelihoods_)
            cells.append(f"{n_iter} it, {t[1]:.2f} s, {model.log_likelihood_:.4f}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


# ---- 3. neural-trees' protocol ---------------------------------------------

# Published in neural-trees' README for its HierarchicalMixtureOfExperts
# (5x5 CV, StandardScaler): accuracy per dataset; 1.1-3.7 s per fit.
NEURAL_TREES_ACCURACY = {"iris": 0.904, "wine": 0.979, "breast_cancer": 0.977}


def neural_trees_hme(torch_threads):
    """A maker of neural-trees' depth-2 HME at its defaults and the PyTorch
    threads it will use, or ``(None, 0)`` if neural-trees is not installed.

    It needs PyTorch; ``torch_threads`` sets PyTorch's own thread pool,
    which threadpoolctl does not reach (0 leaves it as configured).
    """
    try:
        import torch
        from neural_trees import HierarchicalMixtureOfExperts
    except ImportError:
        return None, 0
    if torch_threads:
        torch.set_num_threads(torch_threads)
    return lambda: HierarchicalMixtureOfExperts(random_state=0), torch.get_num_threads()


def bench_protocol(n_repeats, torch_threads):
    """Per fit seconds and accuracy at the defaults (short runs) and with
    every start run to ``tol``, fold by fold in turn; neural-trees' HME on
    the same folds in the same process when it is installed."""
    cv = RepeatedStratifiedKFold(n_splits=5, n_repeats=n_repeats, random_state=0)
    settings = {
        "defaults": lambda: MixtureOfExpertsClassifier(n_experts=2, random_state=0),
        "short runs, plain EM": lambda: MixtureOfExpertsClassifier(
            n_experts=2, random_state=0, **PLAIN
        ),
        "every start to tol, plain EM": lambda: MixtureOfExpertsClassifier(
            n_experts=2, random_state=0, **FULL_STARTS
        ),
    }
    hme, threads = neural_trees_hme(torch_threads)
    if hme is not None:
        settings["neural-trees HME, its defaults"] = hme
        print(f"\nneural-trees' HME with {threads} PyTorch thread(s)")
    print(f"\nneural-trees' protocol: 5x{n_repeats} stratified CV\n")
    print(
        "| data | model | s per fit (max) | accuracy | "
        "neural-trees HME accuracy (published) |"
    )
    print("|---|---|---|---|---|")
    for name, load in [
        ("iris", load_iris),
        ("wine", load_wine),
        ("breast_cancer", load_breast_cancer),
    ]:
        X, y = load(return_X_y=True)
        seconds = {label: [] for label in settings}
        scores = {label: [] for label in settings}
        if hme is not None:  # PyTorch's one-off start-up is not a fit's cost
            quiet_fit(make_pipeline(StandardScaler(), hme()), X, y)
        for train, test in cv.split(X, y):
            for label, make in settings.items():
                model = make_pipeline(StandardScaler(), make())
                elapsed, model = timed(
                    lambda model=model, X=X[train], y=y[train]: quiet_fit(model, X, y)
                )
                seconds[label].append(elapsed)
                scores[label].append(model.score(X[test], y[test]))
        for label in settings:
            print(
                f"| {name} | {label} | {np.mean(seconds[label]):.3f} "
                f"(max {np.max(seconds[label]):.3f}) | "
                f"{np.mean(scores[label]):.3f} ± {np.std(scores[label]):.3f} | "
                f"{NEURAL_TREES_ACCURACY[name]:.3f} |",
                flush=True,
            )
        if hme is not None:
            ratio = np.mean(seconds["neural-trees HME, its defaults"]) / np.mean(
                seconds["defaults"]
            )
            print(f"| {name} | HME time / skmoe defaults' time | {ratio:.1f}x | | |")


# ---- 5. hierarchies: the children's noise floor --------------------------

HME_COEF = np.array([[1, 2, -1], [-2, 1, 1], [0.5, -1, 2], [3, 0, -2]])


def bent_regimes(n, seed=0):
    """The user guide's hierarchy data: four regimes, the border in x2
    moving with the sign of x1."""
    rng = np.random.RandomState(seed)
    X = rng.uniform(-2, 2, size=(n, 2))
    regime = np.where(X[:, 0] < 0, X[:, 1] > -1, 2 + (X[:, 1] > 1))
    mean = HME_COEF[regime, 0] + (HME_COEF[regime, 1:] * X).sum(axis=1)
    return X, mean + 0.3 * rng.standard_normal(n)


def bench_hme(sizes, repeats):
    """A two-level fit with the children's floors from the parent's noise
    estimate against estimated by each child at every refit, taken in turn
    in this process."""
    print("\nhierarchy: 2 children of 2 linear experts, the guide's settings\n")
    print("| rows | children's floor | s per fit (best) | iterations | log-lik |")
    print("|---|---|---|---|---|")
    for n in sizes:
        X, y = bent_regimes(n)
        best = {"parent's estimate": np.inf, "estimated at every refit": np.inf}
        fits = {}
        for _ in range(repeats):
            for label in best:
                hold = (
                    nullcontext()
                    if label == "parent's estimate"
                    else mock.patch("skmoe._base.share_noise_estimate", lambda *a: None)
                )
                child = MixtureOfExpertsRegressor(n_experts=2, n_init=1, tol=1e-3)
                model = MixtureOfExpertsRegressor(
                    child, n_experts=2, init_params="kmeans", random_state=0
                )
                with hold:
                    seconds, fits[label] = timed(
                        lambda m=model, X=X, y=y: quiet_fit(m, X, y)
                    )
                best[label] = min(best[label], seconds)
        for label, model in fits.items():
            print(
                f"| {n} | {label} | {best[label]:.3f} | {model.n_iter_} | "
                f"{model.log_likelihood_:.6f} |"
            )


# ---- 6. the L-BFGS gate's iterations per M-step ------------------------------

LBFGS_CAPS = (None, 40, 20, 10, 5)  # None: to the gate's tol at every M-step


def lbfgs_cases(quick):
    rng = np.random.RandomState(0)
    X = rng.randn(3000, 400)
    yield (
        "3,000 x 400, no regimes, 2 linear",
        MixtureOfExpertsRegressor,
        2,
        X,
        (X[:, :3] @ [1.0, 2.0, 3.0] + rng.randn(3000)),
    )
    if quick:
        return
    X = rng.randn(5000, 150)
    y = np.where(X[:, 0] > 0, 2 * X[:, 1], -X[:, 2]) + 0.3 * rng.randn(5000)
    yield "5,000 x 150, 2 regimes, 2 linear", MixtureOfExpertsRegressor, 2, X, y
    X, y = load_digits(return_X_y=True)
    yield "digits, 4 logistic (5-fold)", MixtureOfExpertsClassifier, 4, X, y


def lbfgs_fit(Estimator, K, X, y, cap):
    """CPU s, EM iterations over the starts, and the scores of one cell."""
    # To tol: as SoftmaxGate.fit ran it at every M-step before the cap, up to
    # the gate's max_iter.
    steps = SoftmaxGate().max_iter if cap is None else cap
    with mock.patch("skmoe._gating.EM_GATE_LBFGS_STEPS", steps):
        if Estimator is MixtureOfExpertsRegressor:
            split = len(X) * 4 // 5
            t, model = clocks(
                lambda: quiet_fit(
                    Estimator(n_experts=K, random_state=0), X[:split], y[:split]
                )
            )
            held_out = np.mean(model.log_likelihood(X[split:], y[split:]))
            n_iter = sum(len(c) for c in model.start_log_likelihoods_)
            return t[1], n_iter, f"{model.log_likelihood_:.4f}", f"{held_out:.4f}"
        cpu, n_iter, held_out, right = 0.0, 0, [], 0
        for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):
            scaler = StandardScaler().fit(X[train])
            X_train, X_test = scaler.transform(X[train]), scaler.transform(X[test])
            model = Estimator(n_experts=K, random_state=0)
            t, model = clocks(
                lambda m=model, X_fit=X_train, y_fit=y[train]: quiet_fit(
                    m, X_fit, y_fit
                )
            )
            cpu += t[1]
            n_iter += sum(len(c) for c in model.start_log_likelihoods_)
            held_out.append(np.mean(model.log_likelihood(X_test, y[test])))
            right += int((model.predict(X_test) == y[test]).sum())
        return cpu, n_iter, f"{right} right", f"{np.mean(held_out):.4f}"


def bench_lbfgs_gate(quick):
    print("\nL-BFGS gate: iterations per M-step capped (default 20) or to tol\n")
    print(
        "| case | cap | CPU s | iterations | train ll (digits: right) | held-out ll |"
    )
    print("|---|---|---|---|---|---|")
    for name, Estimator, K, X, y in lbfgs_cases(quick):
        for cap in LBFGS_CAPS:
            cpu, n_iter, train, held_out = lbfgs_fit(Estimator, K, X, y, cap)
            label = "to tol" if cap is None else str(cap)
            print(
                f"| {name} | {label} | {cpu:.2f} | {n_iter} | {train} | {held_out} |",
                flush=True,
            )


# ---- 7. the solver of a gate of many parameters ----------------------------


def voronoi_regimes(n, d, K, seed=0):
    """K regimes around random centres, a linear law each (noise sd 0.3)."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d)
    centres = rng.randn(K, d) * 1.5
    regime = np.argmin(((X[:, np.newaxis, :] - centres) ** 2).sum(axis=-1), axis=1)
    slopes = rng.randn(K, d)
    return X, np.einsum("nd,nd->n", X, slopes[regime]) + 0.3 * rng.randn(n)


def narrow_gate_cases(quick):
    shapes = [(10_000, 5, 34), (5_000, 100, 5)]
    if not quick:
        shapes[1:1] = [(2_000, 30, 8), (20_000, 20, 12), (5_000, 50, 6)]
        shapes += [(5_000, 60, 8), (3_000, 100, 3), (50_000, 10, 25)]
    for n, d, K in shapes:
        X, y = voronoi_regimes(n, d, K)
        name = f"{n:,} x {d}, {K} experts ({(d + 1) * K} gate parameters)"
        yield name, MixtureOfExpertsRegressor, K, X, y
    if not quick:
        X, y = load_digits(return_X_y=True)
        X = StandardScaler().fit(X[: len(X) * 4 // 5]).transform(X)
        yield (
            "digits, 4 logistic (260 gate parameters)",
            MixtureOfExpertsClassifier,
            4,
            X,
            y,
        )


def bench_narrow_gate(quick):
    print("\nGate solver past 200 parameters: Newton vs L-BFGS\n")
    print("| case | solver | CPU s | iterations | train ll | held-out ll | ratio |")
    print("|---|---|---|---|---|---|---|")
    for name, Estimator, K, X, y in narrow_gate_cases(quick):
        split = len(X) * 4 // 5
        (X_fit, X_test), (y_fit, y_test) = np.split(X, [split]), np.split(y, [split])
        seconds = {}
        for solver in ("newton", "lbfgs"):
            model = Estimator(
                n_experts=K, gate=SoftmaxGate(solver=solver), random_state=0
            )
            t, model = clocks(partial(quiet_fit, model, X_fit, y_fit))
            seconds[solver] = t[1]
            n_iter = sum(len(c) for c in model.start_log_likelihoods_)
            held_out = np.mean(model.log_likelihood(X_test, y_test))
            ratio = f"{t[1] / seconds['newton']:.2f}" if solver == "lbfgs" else ""
            print(
                f"| {name} | {solver} | {t[1]:.2f} | {n_iter} | "
                f"{model.log_likelihood_:.4f} | {held_out:.4f} | {ratio} |",
                flush=True,
            )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    parser.add_argument(
        "--only",
        choices=[
            "breast_cancer",
            "linear",
            "steps",
            "protocol",
            "hme",
            "lbfgs_gate",
            "narrow_gate",
        ],
    )
    add_threads_argument(parser)
    args = parser.parse_args(argv)
    with limit_threads(args.threads), warnings.catch_warnings():
        print(environment())  # the threads the runs get
        print(f"load before {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        warnings.simplefilter("ignore", ConvergenceWarning)
        if args.only in (None, "breast_cancer"):
            bench_breast_cancer(repeats=2 if args.quick else 3)
        if args.only in (None, "linear"):
            bench_linear(
                30_000 if args.quick else 150_000, repeats=1 if args.quick else 2
            )
        if args.only in (None, "steps"):
            bench_steps(args.quick)
        if args.only in (None, "protocol"):
            bench_protocol(n_repeats=1 if args.quick else 5, torch_threads=args.threads)
        if args.only in (None, "hme"):
            bench_hme((1200,) if args.quick else (1200, 12_000), 2 if args.quick else 5)
        if args.only in (None, "lbfgs_gate"):
            bench_lbfgs_gate(args.quick)
        if args.only in (None, "narrow_gate"):
            bench_narrow_gate(args.quick)
    print(f"\nload after {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
