"""Speed and scale of skmoe's EM with linear experts, and of its predict.

1. Fit time against n. Data from ``bench_core.make_data`` (3 linear experts,
   2 features, a softmax gate). Two measurements per n:

   - EM cost per iteration: skmoe and ``bench_core.yardstick_em`` (the plain
     numpy EM of the core issue) from the same softened k-means start, both
     run for a fixed number of iterations (``tol=0``), so that every n costs
     the same number of iterations; best of a few alternating runs;
   - what a user pays: ``MixtureOfExpertsRegressor(n_experts=3,
     random_state=0)`` with its defaults (starts included), one run: seconds
     and EM iterations over all its starts.

2. Fit time against M, the number of experts, at a fixed n on data with 32
   linear regimes (nearest of 32 random centres, soft borders): the same two
   measurements.

3. predict: the M-expert model of part 2 on new rows, dense (every expert on
   every row) against ``top_k=1`` and ``top_k=2``; and the per-row loop of the
   seed document (gate logits for all rows, then for each row and each of its
   top-k experts, that expert's ``predict`` on the single row), timed on a few
   rows and extrapolated linearly.
"""

import contextlib
import time
import warnings

import numpy as np
from scipy.special import softmax
from sklearn.linear_model import LinearRegression

from benchmarks import bench_core
from benchmarks._common import total_iterations
from benchmarks.report import (
    Part,
    loglog_slope,
    md_table,
    pyplot,
    seconds_text,
)
from skmoe import MixtureOfExpertsRegressor

PROFILES = {
    "full": dict(
        n_grid=(1_000, 10_000, 100_000, 1_000_000),
        fixed_iter=20,
        m_grid=(2, 4, 8, 16, 32),
        m_rows=20_000,
        m_fixed_iter=10,
        predict_m=16,
        predict_rows=(10_000, 100_000, 1_000_000),
        loop_rows=2_000,
        max_repeats=5,
    ),
    "quick": dict(
        n_grid=(1_000, 10_000, 100_000),
        fixed_iter=5,
        m_grid=(2, 8, 32),
        m_rows=3_000,
        m_fixed_iter=5,
        predict_m=8,
        predict_rows=(10_000, 100_000),
        loop_rows=500,
        max_repeats=2,
    ),
    "tiny": dict(
        n_grid=(300, 1_000),
        fixed_iter=3,
        m_grid=(2, 4),
        m_rows=600,
        m_fixed_iter=3,
        predict_m=4,
        predict_rows=(1_000, 4_000),
        loop_rows=40,
        max_repeats=1,
    ),
}


def _repeats(n):
    return 5 if n <= 10_000 else 3 if n <= 100_000 else 1


@contextlib.contextmanager
def yardstick_settings(n_experts=None, max_iter=None, tol=None):
    """Temporarily change bench_core's module constants used by its EM."""
    names = {"N_EXPERTS": n_experts, "MAX_ITER": max_iter, "TOL": tol}
    saved = {name: getattr(bench_core, name) for name in names}
    try:
        for name, value in names.items():
            if value is not None:
                setattr(bench_core, name, value)
        yield
    finally:
        for name, value in saved.items():
            setattr(bench_core, name, value)


def timed(func):
    """``(wall seconds, CPU seconds of this process, result)`` of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = func()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def _quiet(func):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func()


def _fixed_iterations(X, y, n_experts, n_iter, repeats):
    """skmoe and the yardstick from one start, ``n_iter`` EM iterations each."""
    with yardstick_settings(n_experts=n_experts, max_iter=n_iter, tol=0.0):
        resp0 = bench_core.initial_resp(X)
        best = dict(sk=np.inf, sk_cpu=np.inf, ys=np.inf, ys_cpu=np.inf)
        for _ in range(repeats):
            wall, cpu, model = timed(
                lambda: _quiet(
                    lambda: MixtureOfExpertsRegressor(
                        n_experts=n_experts,
                        tol=0.0,
                        max_iter=n_iter,
                        random_state=0,
                    ).fit(X, y, init_resp=resp0)
                )
            )
            best["sk"], best["sk_cpu"] = min(best["sk"], wall), min(best["sk_cpu"], cpu)
            wall, cpu, (ll, ys_iter) = timed(
                lambda: bench_core.yardstick_em(X, y, resp0)
            )
            best["ys"], best["ys_cpu"] = min(best["ys"], wall), min(best["ys_cpu"], cpu)
    assert model.n_iter_ == n_iter and ys_iter == n_iter, (model.n_iter_, ys_iter)
    best["sk_ll"], best["ys_ll"] = model.log_likelihood_, ll
    best["n_iter"] = n_iter
    return best


def _default_fit(X, y, n_experts):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wall, cpu, model = timed(
            lambda: MixtureOfExpertsRegressor(
                LinearRegression(), n_experts=n_experts, random_state=0
            ).fit(X, y)
        )
    kinds = sorted(
        {
            type(w.message).__name__
            for w in caught
            if type(w.message).__name__ in ("ConvergenceWarning", "DeadExpertWarning")
        }
    )
    return dict(
        seconds=wall,
        cpu=cpu,
        n_iter=total_iterations(model),
        converged=bool(model.converged_),
        ll=model.log_likelihood_,
        warnings=kinds,
        model=model,
    )


# ---- data with many regimes -------------------------------------------------

N_REGIMES = 32


def many_regimes(n, seed=0):
    """x ~ U[-2, 2]^2; the nearest of 32 random centres (soft) picks one of 32
    linear experts; noise sd 0.3."""
    truth = np.random.default_rng(12345)
    centres = truth.uniform(-2, 2, size=(N_REGIMES, 2))
    coef = truth.uniform(-2, 2, size=(N_REGIMES, 3))
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 2))
    gate = softmax(8.0 * (X @ centres.T - 0.5 * (centres**2).sum(axis=1)), axis=1)
    regime = (gate.cumsum(axis=1) > rng.uniform(size=(n, 1))).argmax(axis=1)
    c = coef[regime]
    y = c[:, 0] + np.einsum("nd,nd->n", X, c[:, 1:])
    return X, y + 0.3 * rng.standard_normal(n)


# ---- predict ----------------------------------------------------------------


def seed_style_predict(model, X, k):
    """The seed document's loop: gate logits for all rows, then per row and
    per chosen expert, that expert on the single row."""
    logits = model.gate_.decision_function(X)
    top = np.argsort(-logits, axis=1, kind="stable")[:, :k]
    weights = softmax(np.take_along_axis(logits, top, axis=1), axis=1)
    out = np.zeros(len(X))
    for i in range(k):
        for b in range(len(X)):
            expert = model.experts_[top[b, i]]
            out[b] += weights[b, i] * expert.predict(X[b : b + 1])[0]
    return out


def _best_time(func, repeats):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def bench_predict(model, sizes, loop_rows):
    rows = []
    for m in sizes:
        X_new, _ = many_regimes(m, seed=10_000 + m)
        model.predict(X_new[:100])  # warm-up
        repeats = 5 if m <= 100_000 else 2
        times = {
            "dense": _best_time(lambda X_new=X_new: model.predict(X_new), repeats),
            "top_k=1": _best_time(
                lambda X_new=X_new: model.predict(X_new, top_k=1), repeats
            ),
            "top_k=2": _best_time(
                lambda X_new=X_new: model.predict(X_new, top_k=2), repeats
            ),
        }
        rows.append((m, times))
    X_loop, _ = many_regimes(loop_rows, seed=99)
    loop = {}
    for k in (1, 2):
        start = time.perf_counter()
        looped = seed_style_predict(model, X_loop, k)
        loop[k] = (time.perf_counter() - start) / loop_rows
        np.testing.assert_allclose(
            looped, model.predict(X_loop, top_k=k), rtol=1e-9, atol=1e-9
        )
    return rows, loop


# ---- the part ----------------------------------------------------------------


def run(profile="full", out_dir=None, log=print):
    p = PROFILES[profile]
    part = Part("scale")
    data = {"n": [], "m": [], "predict": None}

    # 1. against n
    for n in p["n_grid"]:
        X, y = bench_core.make_data(n, seed=n)
        fixed = _fixed_iterations(
            X,
            y,
            bench_core.N_EXPERTS,
            p["fixed_iter"],
            min(_repeats(n), p["max_repeats"]),
        )
        default = _default_fit(X, y, bench_core.N_EXPERTS)
        default.pop("model")
        data["n"].append(dict(n=n, **fixed, default=default))
        log(
            f"  scale n={n:,}: skmoe {fixed['sk']:.3f} s, yardstick "
            f"{fixed['ys']:.3f} s for {p['fixed_iter']} iterations; default fit "
            f"{default['seconds']:.2f} s, {default['n_iter']} iterations"
        )

    # 2. against M
    X, y = many_regimes(p["m_rows"], seed=1)
    predict_model = None
    for m in p["m_grid"]:
        fixed = _fixed_iterations(X, y, m, p["m_fixed_iter"], min(3, p["max_repeats"]))
        default = _default_fit(X, y, m)
        if m == p["predict_m"]:
            predict_model = default["model"]
        default.pop("model")
        data["m"].append(dict(m=m, **fixed, default=default))
        log(
            f"  scale M={m}: skmoe {fixed['sk']:.3f} s, yardstick {fixed['ys']:.3f}"
            f" s for {p['m_fixed_iter']} iterations; default fit "
            f"{default['seconds']:.2f} s, {default['n_iter']} iterations"
        )

    # 3. predict
    if predict_model is None:
        predict_model = _quiet(
            lambda: MixtureOfExpertsRegressor(
                n_experts=p["predict_m"], random_state=0
            ).fit(X, y)
        )
    rows, loop = bench_predict(predict_model, p["predict_rows"], p["loop_rows"])
    data["predict"] = dict(
        rows=rows,
        loop=loop,
        m=p["predict_m"],
        n_train=p["m_rows"],
        loop_rows=p["loop_rows"],
    )
    part.data = data

    part.markdown = markdown(data, p)
    part.targets = targets(data)
    if out_dir is not None:
        folder = out_dir / "results"
        folder.mkdir(parents=True, exist_ok=True)
        part.figures = [
            plot_time_vs_m(data, folder / "time_vs_m.png"),
            plot_predict(data, folder / "predict_topk.png"),
        ]
    return part


def _ratio(r):
    return (r["sk"] / r["ys"], r["sk_cpu"] / r["ys_cpu"])


def markdown(data, p):
    out = ["## Speed and scale (linear experts)\n", __doc__.split("\n\n", 1)[1], ""]
    out.append(
        f"### Fit time against n (3 experts, 2 features)\n\nEM seconds per "
        f"iteration from {p['fixed_iter']} fixed iterations (tol=0; best of "
        f"{min(5, p['max_repeats'])} alternating runs up to 10,000 rows, "
        f"{min(3, p['max_repeats'])} up to 100,000, 1 above); ratio = skmoe / "
        "yardstick per iteration, in wall and in CPU time (other programs on the "
        "machine move CPU time less). Default fit: one run with every default, "
        "its starts included; its iterations are those of all the starts.\n"
    )
    rows = []
    for r in data["n"]:
        wall, cpu = _ratio(r)
        d = r["default"]
        rows.append(
            (
                f"{r['n']:,}",
                seconds_text(r["sk"] / r["n_iter"]),
                seconds_text(r["ys"] / r["n_iter"]),
                f"{wall:.2f} ({cpu:.2f})",
                f"{1e9 * r['sk'] / r['n_iter'] / r['n']:.0f}",
                seconds_text(d["seconds"]),
                f"{d['n_iter']}{'' if d['converged'] else ' (max)'}",
                f"{d['ll']:.4f}",
            )
        )
    out.append(
        md_table(
            [
                "n",
                "skmoe s/iter",
                "yardstick s/iter",
                "ratio wall (CPU)",
                "skmoe ns/row/iter",
                "default fit s",
                "iterations",
                "train loglik/row",
            ],
            rows,
        )
    )
    ns = [r["n"] for r in data["n"]]
    if len(ns) > 1:
        slope_iter = loglog_slope(ns, [r["sk"] / r["n_iter"] for r in data["n"]])
        slope_ys = loglog_slope(ns, [r["ys"] / r["n_iter"] for r in data["n"]])
        slope_fit = loglog_slope(ns, [r["default"]["seconds"] for r in data["n"]])
        big = [r for r in data["n"] if r["n"] >= 10_000] or data["n"]
        slope_big = (
            loglog_slope([r["n"] for r in big], [r["sk"] / r["n_iter"] for r in big])
            if len(big) > 1
            else slope_iter
        )
        out.append(
            f"\nLog-log slope of time against n: skmoe per iteration "
            f"{slope_iter:.2f} ({slope_big:.2f} from 10,000 rows on; 1 = "
            f"linear), yardstick per iteration {slope_ys:.2f}, skmoe default fit "
            f"{slope_fit:.2f} (iterations vary with n). Below 10,000 rows a "
            "fixed cost per iteration dominates (slope below 1).\n"
        )
    out.append(
        f"### Fit time against M ({p['m_rows']:,} rows, 32 true regimes)\n\n"
        f"{p['m_fixed_iter']} fixed iterations from a shared k-means start (best "
        f"of {min(3, p['max_repeats'])}), and a default fit (one run; "
        "DeadExpertWarning and ConvergenceWarning are listed when raised).\n"
    )
    rows = []
    for r in data["m"]:
        wall, cpu = _ratio(r)
        d = r["default"]
        rows.append(
            (
                str(r["m"]),
                seconds_text(r["sk"] / r["n_iter"]),
                seconds_text(r["ys"] / r["n_iter"]),
                f"{wall:.2f} ({cpu:.2f})",
                seconds_text(d["seconds"]),
                f"{d['n_iter']}{'' if d['converged'] else ' (max)'}",
                f"{d['ll']:.4f}",
                ", ".join(d["warnings"]) or "—",
            )
        )
    out.append(
        md_table(
            [
                "M",
                "skmoe s/iter",
                "yardstick s/iter",
                "ratio wall (CPU)",
                "default fit s",
                "iterations",
                "train loglik/row",
                "warnings",
            ],
            rows,
        )
    )
    ms = [r["m"] for r in data["m"]]
    if len(ms) > 1:
        sk = loglog_slope(ms, [r["sk"] / r["n_iter"] for r in data["m"]])
        ys = loglog_slope(ms, [r["ys"] / r["n_iter"] for r in data["m"]])
        fit = loglog_slope(ms, [r["default"]["seconds"] for r in data["m"]])
        out.append(
            f"\nLog-log slope against M: skmoe per iteration {sk:.2f}, yardstick "
            f"{ys:.2f}, default fit {fit:.2f} (iterations grow with M too).\n"
        )
    pr = data["predict"]
    out.append(
        f"### predict: dense against top-k\n\nThe {pr['m']}-expert model of the "
        f"table above (fitted on {pr['n_train']:,} rows) predicts new rows; best "
        "of 5 runs (2 at 1,000,000 rows). The seed-style loop (per row and chosen "
        f"expert, one `predict` call) was timed on {pr['loop_rows']:,} rows, "
        "checked equal to `predict(top_k=k)`, and is extrapolated linearly.\n"
    )
    rows = []
    for m, times in pr["rows"]:
        rows.append(
            (
                f"{m:,}",
                seconds_text(times["dense"]),
                seconds_text(times["top_k=1"]),
                seconds_text(times["top_k=2"]),
                f"{1e3 * times['dense'] / m * 1000:.3f}",
                seconds_text(pr["loop"][1] * m),
                seconds_text(pr["loop"][2] * m),
            )
        )
    out.append(
        md_table(
            [
                "rows",
                "dense s",
                "top_k=1 s",
                "top_k=2 s",
                "dense ms per 1k rows",
                "seed loop k=1 s (extrap.)",
                "seed loop k=2 s (extrap.)",
            ],
            rows,
        )
    )
    out.append(
        "\nWith linear experts an expert's prediction costs about as much as "
        "routing a row, so top-k saves little or nothing here; bench_routing.py "
        "measures top-k with costly experts.\n"
    )
    return "\n".join(out)


def targets(data):
    rows = []
    ns = [r["n"] for r in data["n"]]
    if len(ns) > 1:
        big = [r for r in data["n"] if r["n"] >= 10_000] or data["n"]
        slope = loglog_slope(
            [r["n"] for r in big], [r["sk"] / r["n_iter"] for r in big]
        )
        slope_fit = loglog_slope(ns, [r["default"]["seconds"] for r in data["n"]])
        rows.append(
            (
                "fit time grows at most linearly in n",
                "met" if slope <= 1.1 else "NOT met",
                f"log-log slope per EM iteration {slope:.2f} for n = "
                f"{big[0]['n']:,}..{big[-1]['n']:,}; default fit (iterations vary) "
                f"{slope_fit:.2f}",
            )
        )
    largest = data["n"][-1]
    wall, cpu = _ratio(largest)
    verdict = "met" if min(wall, cpu) <= 1.5 else "NOT met"
    if largest["n"] < 100_000:
        verdict = "not measured (needs n >= 100,000)"
    rows.append(
        (
            "(core issue) skmoe s/iter within 1.5x of the numpy yardstick",
            verdict,
            f"ratio {wall:.2f} wall, {cpu:.2f} CPU at n = {largest['n']:,}",
        )
    )
    return rows


# ---- plots -------------------------------------------------------------------


def plot_time_vs_n(data, flexmix_data, path):
    """Log-log seconds against n: skmoe, the yardstick and flexmix."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.3))
    ns = np.array([r["n"] for r in data["n"]])
    ax = axes[0]
    ax.loglog(
        ns, [r["sk"] / r["n_iter"] for r in data["n"]], "o-", label="skmoe, 3 experts"
    )
    ax.loglog(
        ns,
        [r["ys"] / r["n_iter"] for r in data["n"]],
        "s--",
        label="numpy yardstick, 3 experts",
    )
    if flexmix_data:
        _flexmix_points(ax, flexmix_data, per_iter=True)
    ref = ns / ns[-1] * data["n"][-1]["sk"] / data["n"][-1]["n_iter"]
    ax.loglog(ns, ref, ":", color="grey", label="slope 1 (linear)")
    ax.set_title("seconds per EM iteration")
    ax = axes[1]
    ax.loglog(
        ns,
        [r["default"]["seconds"] for r in data["n"]],
        "o-",
        label="skmoe default fit, 3 experts",
    )
    if flexmix_data:
        _flexmix_points(ax, flexmix_data, per_iter=False)
    ax.set_title("seconds per fit (to convergence)")
    for ax in axes:
        ax.set_xlabel("rows n")
        ax.set_ylabel("seconds")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("Fit time against n (log-log; linear experts, 2 features)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _flexmix_points(ax, flexmix_data, per_iter):
    """flexmix and skmoe on the flexmix data, one line per K."""
    by_k = {}
    for r in flexmix_data["runs"]:
        by_k.setdefault(r["K"], []).append(r)
    for i, (k, runs) in enumerate(sorted(by_k.items())):
        runs = sorted(runs, key=lambda r: r["n"])
        ns = [r["n"] for r in runs]
        if per_iter:
            fx = [r["flexmix"]["seconds"] / max(r["flexmix"]["iter"], 1) for r in runs]
            sk = [r["skmoe"]["seconds"] / max(r["skmoe"]["iter"], 1) for r in runs]
        else:
            fx = [r["flexmix"]["seconds"] for r in runs]
            sk = [r["skmoe"]["seconds"] for r in runs]
        colour = f"C{2 + i}"
        ax.loglog(ns, fx, "^-", color=colour, label=f"R flexmix, K={k}")
        ax.loglog(
            ns,
            sk,
            "v:",
            color=colour,
            alpha=0.7,
            label=f"skmoe on the same data, K={k}",
        )


def plot_time_vs_m(data, path):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.3))
    ms = [r["m"] for r in data["m"]]
    ax.loglog(
        ms,
        [r["sk"] / r["n_iter"] for r in data["m"]],
        "o-",
        label="skmoe, s per iteration",
    )
    ax.loglog(
        ms,
        [r["ys"] / r["n_iter"] for r in data["m"]],
        "s--",
        label="numpy yardstick, s per iteration",
    )
    ax.loglog(
        ms,
        [r["default"]["seconds"] for r in data["m"]],
        "D-",
        label="skmoe default fit, s",
    )
    ref = np.array(ms) / ms[-1] * data["m"][-1]["sk"] / data["m"][-1]["n_iter"]
    ax.loglog(ms, ref, ":", color="grey", label="slope 1 (linear in M)")
    ax.set_xticks(ms)
    ax.set_xticklabels([str(m) for m in ms])
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.set_xlabel("experts M")
    ax.set_ylabel("seconds")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"Fit time against M ({data['predict']['n_train']:,} rows; log-log)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_predict(data, path):
    plt = pyplot()
    pr = data["predict"]
    fig, ax = plt.subplots(figsize=(6, 4.3))
    sizes = np.array([m for m, _ in pr["rows"]])
    for key, style in (("dense", "o-"), ("top_k=1", "s-"), ("top_k=2", "^-")):
        ax.loglog(
            sizes, [t[key] for _, t in pr["rows"]], style, label=f"skmoe predict, {key}"
        )
    for k, style in ((1, "s:"), (2, "^:")):
        ax.loglog(
            sizes,
            pr["loop"][k] * sizes,
            style,
            color="grey",
            label=f"seed-style per-row loop, k={k} (extrapolated)",
        )
    ax.set_xlabel("rows predicted")
    ax.set_ylabel("seconds")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"predict with {pr['m']} linear experts (log-log)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
