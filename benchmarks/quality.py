"""Cross-validated quality of skmoe next to the usual alternatives.

Every model sees the same folds (``RepeatedKFold`` / ``RepeatedStratifiedKFold``,
5 folds x 3 seeds in the full run), so the differences are paired. Every model
is a Pipeline that starts with ``StandardScaler`` (trees do not care; linear
models, the gate and the LightGBM linear leaves see standardised inputs).

The experts are a linear model (LinearRegression / LogisticRegression(C=1)) and
a decision tree (max_depth=4). Next to them: Voting and Stacking of the same
two, HistGradientBoosting, LightGBM with linear trees (optional: skipped when
lightgbm is missing), and three skmoe configurations (see ``CONFIGURATIONS``).
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import clone
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_wine,
    make_friedman1,
)
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    StackingClassifier,
    StackingRegressor,
    VotingClassifier,
    VotingRegressor,
)
from sklearn.linear_model import (
    LinearRegression,
    LogisticRegression,
    LogisticRegressionCV,
    RidgeCV,
)
from sklearn.metrics import accuracy_score, log_loss, mean_squared_error, r2_score
from sklearn.model_selection import (
    RepeatedKFold,
    RepeatedStratifiedKFold,
    train_test_split,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from benchmarks.report import Part, md_table, mean_std, pyplot, seconds_text
from skmoe import (
    MixtureOfExpertsClassifier,
    MixtureOfExpertsClassifierCV,
    MixtureOfExpertsRegressor,
    MixtureOfExpertsRegressorCV,
)

try:  # optional extra
    import lightgbm
except ImportError:  # pragma: no cover - depends on the environment
    lightgbm = None

# ---- sizes ------------------------------------------------------------------

PROFILES = {
    # 5-fold CV repeated with 3 seeds; the CV variant chooses by its own
    # inner 3-fold CV of each training fold.
    "full": dict(
        n_splits=5,
        n_repeats=3,
        n_generated=2000,
        n_xor=1000,
        max_rows=None,
        digits_rows=None,
        grid_experts=(1, 2, 3, 4),
        grid_alpha=(1.0, 1e-2, 1e-4, 1e-6),
        inner_cv=3,
        only=None,
    ),
    # 3-fold CV, one seed, smaller generated sets, digits subsampled, no
    # a smaller grid for the CV variant.
    "quick": dict(
        n_splits=3,
        n_repeats=1,
        n_generated=500,
        n_xor=400,
        max_rows=None,
        digits_rows=200,
        grid_experts=(1, 2),
        grid_alpha=(1.0, 1e-2),
        inner_cv=3,
        only=None,
    ),
    # For the smoke test only: two data sets, 120 rows, a tiny grid.
    "tiny": dict(
        n_splits=2,
        n_repeats=1,
        n_generated=120,
        n_xor=120,
        max_rows=120,
        digits_rows=120,
        grid_experts=(1, 2),
        grid_alpha=(1.0,),
        inner_cv=2,
        only=("piecewise-linear, 4 regimes", "iris"),
    ),
}

# ---- data -------------------------------------------------------------------


@dataclass
class Dataset:
    name: str
    task: str  # "regression" | "classification"
    X: np.ndarray
    y: np.ndarray
    description: str
    regimes: bool  # regime-structured: generated with regimes a gate can find
    notes: list = field(default_factory=list)


def piecewise_linear(n, seed=0):
    """Four linear regimes, one per quadrant of x in [-3, 3]^2 (soft borders)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3, 3, size=(n, 2))
    signs = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], dtype=float)
    gate = softmax(4.0 * X @ signs.T, axis=1)
    regime = (gate.cumsum(axis=1) > rng.uniform(size=(n, 1))).argmax(axis=1)
    coef = np.array(
        [[2.0, 1.5, -1.0], [-1.0, -2.0, 0.5], [0.5, 0.5, 2.5], [-2.0, 1.0, 1.0]]
    )[regime]
    y = coef[:, 0] + np.einsum("nd,nd->n", X, coef[:, 1:])
    return X, y + 0.3 * rng.standard_normal(n)


def heteroscedastic(n, seed=0):
    """One straight line, noise sd 0.2 where x1 < 0 and 1.5 where x1 >= 0."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3, 3, size=(n, 2))
    sd = np.where(X[:, 0] < 0, 0.2, 1.5)
    return X, 1.0 + X[:, 0] - 0.5 * X[:, 1] + sd * rng.standard_normal(n)


def xor_quadrants(n, seed=0):
    """x uniform on [-1, 1]^2; the label is 1 where x1 * x2 > 0."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def gated_logistic(n, seed=0):
    """Two logistic regressions; a logistic gate on x3 picks one per row."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    first = rng.uniform(size=n) < expit(4.0 * X[:, 2])
    logit = np.where(
        first, 3.0 * X[:, 0] - 2.0 * X[:, 1], -2.0 * X[:, 0] + 3.0 * X[:, 1] + 0.5
    )
    return X, (rng.uniform(size=n) < expit(logit)).astype(int)


def _subsample(X, y, rows, classification, seed=0):
    if rows is None or rows >= len(y):
        return X, y
    stratify = y if classification else None
    X, _, y, _ = train_test_split(
        X, y, train_size=rows, stratify=stratify, random_state=seed
    )
    return X, y


def datasets(profile):
    """The ten data sets, sized by ``profile``."""
    p = PROFILES[profile]
    n, cap = p["n_generated"], p["max_rows"]
    out = []

    def add(name, task, X, y, description, regimes, rows=cap):
        classification = task == "classification"
        X, y = _subsample(X, y, rows, classification)
        out.append(Dataset(name, task, X, y, description, regimes))

    add(
        "diabetes",
        "regression",
        *load_diabetes(return_X_y=True),
        "scikit-learn bundled, 10 features",
        False,
    )
    add(
        "piecewise-linear, 4 regimes",
        "regression",
        *piecewise_linear(n),
        "x ~ U[-3,3]^2; 4 linear regimes, one per quadrant (softmax gate "
        "4 x . sign pattern); noise sd 0.3",
        True,
    )
    add(
        "heteroscedastic",
        "regression",
        *heteroscedastic(n),
        "x ~ U[-3,3]^2; y = 1 + x1 - x2/2 + noise, sd 0.2 (x1 < 0) or 1.5 "
        "(x1 >= 0): one mean, two noise regimes",
        True,
    )
    add(
        "friedman1",
        "regression",
        *make_friedman1(n_samples=n, noise=1.0, random_state=0),
        "make_friedman1, 10 features (5 informative), noise sd 1",
        False,
    )
    add(
        "iris",
        "classification",
        *load_iris(return_X_y=True),
        "scikit-learn bundled, 4 features, 3 classes",
        False,
    )
    add(
        "wine",
        "classification",
        *load_wine(return_X_y=True),
        "scikit-learn bundled, 13 features, 3 classes",
        False,
    )
    add(
        "breast_cancer",
        "classification",
        *load_breast_cancer(return_X_y=True),
        "scikit-learn bundled, 30 features, 2 classes",
        False,
    )
    digits_rows = p["digits_rows"] if cap is None else min(cap, p["digits_rows"])
    add(
        "digits",
        "classification",
        *load_digits(return_X_y=True),
        "scikit-learn bundled, 64 features, 10 classes",
        False,
        rows=digits_rows,
    )
    add(
        "XOR quadrants",
        "classification",
        *xor_quadrants(p["n_xor"]),
        "x ~ U[-1,1]^2, label = [x1 x2 > 0]: four quadrants",
        True,
    )
    add(
        "gated logistic mixture",
        "classification",
        *gated_logistic(n),
        "x ~ N(0, I_3); gate P(expert 1) = sigmoid(4 x3); experts logit "
        "3x1 - 2x2 and -2x1 + 3x2 + 0.5",
        True,
    )
    if p["only"] is not None:
        out = [d for d in out if d.name in p["only"]]
    for d in out:
        d.description += f"; n = {len(d.y):,}"
    return out


# ---- models -----------------------------------------------------------------

# Row names are shared by both tasks so that the chart lines them up.
LINEAR, TREE = "linear expert", "tree expert"
VOTING, STACKING = "Voting(linear, tree)", "Stacking(linear, tree)"
HGB = "HistGradientBoosting"
LGBM_TREE, LGBM_BOOST = "LightGBM model tree", "LightGBM linear_tree, boosted"
MOE_DEFAULT = "skmoe 2 linear, defaults"
MOE_LINEAR = "skmoe CV, linear"
MOE_MIXED = "skmoe linear + tree, defaults"
MOE_ROWS = (MOE_DEFAULT, MOE_LINEAR, MOE_MIXED)

CONFIGURATIONS = f"""\
All models are `Pipeline([StandardScaler(), model])`; random_state=0 wherever
a model takes one; `n_jobs` is never set (one core each).

- **{LINEAR}**: `LinearRegression()`; `LogisticRegression(C=1.0, max_iter=1000)`.
- **{TREE}**: `DecisionTreeRegressor/Classifier(max_depth=4, min_samples_leaf=10)`.
- **{VOTING}**: `VotingRegressor` / `VotingClassifier(voting="soft")` of the two.
- **{STACKING}**: `StackingRegressor(final_estimator=RidgeCV())` /
  `StackingClassifier(final_estimator=LogisticRegressionCV())`, internal 5-fold.
- **{HGB}**: `HistGradientBoostingRegressor/Classifier()` with its defaults.
- **{LGBM_TREE}**: LightGBM `linear_tree=True`, one tree (`n_estimators=1,
  learning_rate=1.0, num_leaves=8, min_child_samples=20`): a single tree with a
  linear model in each leaf (for classification: one tree per class, one Newton
  step). Optional extra.
- **{LGBM_BOOST}**: LightGBM `linear_tree=True, n_estimators=100,
  learning_rate=0.1, num_leaves=8`. Optional extra.
- **{MOE_DEFAULT}**: `MixtureOfExpertsRegressor/Classifier(<linear expert>,
  n_experts=2)` with every other parameter at its default (see
  `benchmarks/DEFAULTS.md`: `SoftmaxGate(alpha="auto")`, three starts,
  tol=1e-5).
- **{MOE_LINEAR}**: `MixtureOfExpertsRegressorCV/ClassifierCV(<linear
  expert>)`: `n_experts` in {{grid_experts}} (one expert is the expert alone)
  and `gate__alpha` in {{grid_alpha}} chosen by the estimator's internal
  {{inner_cv}}-fold cross-validated held-out log-likelihood on the training
  fold, never on the test fold; its fit time includes that search.
- **{MOE_MIXED}**: `experts=[("linear", <linear expert>), ("tree", <tree
  expert>)]` (the experts of Voting and Stacking), every other parameter at
  its default (the tree is a flexible expert, so `crossfit="auto"` scores
  it on rows it was not fitted on).

In the mixtures the logistic experts have `warm_start=True` (EM refits them
from their previous solution: faster, same optimum); everywhere else they do
not. Warnings (ConvergenceWarning, DeadExpertWarning) are counted, not hidden:
see the line under each table.
"""


def _lgbm(classification, **params):
    base = dict(
        linear_tree=True,
        num_leaves=8,
        min_child_samples=20,
        random_state=0,
        n_jobs=1,
        verbose=-1,
    )
    cls = lightgbm.LGBMClassifier if classification else lightgbm.LGBMRegressor
    return cls(**base, **params)


def models(task, profile):
    """Name -> unfitted estimator, for ``task``."""
    p = PROFILES[profile]
    classification = task == "classification"
    if classification:
        linear = LogisticRegression(C=1.0, max_iter=1000)
        moe_linear = LogisticRegression(C=1.0, max_iter=1000, warm_start=True)
        tree = DecisionTreeClassifier(max_depth=4, min_samples_leaf=10, random_state=0)
        voting = VotingClassifier([("linear", linear), ("tree", tree)], voting="soft")
        stacking = StackingClassifier(
            [("linear", linear), ("tree", tree)],
            final_estimator=LogisticRegressionCV(max_iter=1000),
            cv=5,
        )
        hgb = HistGradientBoostingClassifier(random_state=0)
        moe = MixtureOfExpertsClassifier
        moe_cv = MixtureOfExpertsClassifierCV
    else:
        linear = moe_linear = LinearRegression()
        tree = DecisionTreeRegressor(max_depth=4, min_samples_leaf=10, random_state=0)
        voting = VotingRegressor([("linear", linear), ("tree", tree)])
        stacking = StackingRegressor(
            [("linear", linear), ("tree", tree)], final_estimator=RidgeCV(), cv=5
        )
        hgb = HistGradientBoostingRegressor(random_state=0)
        moe = MixtureOfExpertsRegressor
        moe_cv = MixtureOfExpertsRegressorCV

    def pipe(model):
        return Pipeline([("scale", StandardScaler()), ("model", model)])

    out = {
        LINEAR: pipe(linear),
        TREE: pipe(tree),
        VOTING: pipe(voting),
        STACKING: pipe(stacking),
        HGB: pipe(hgb),
    }
    if lightgbm is not None:
        out[LGBM_TREE] = pipe(_lgbm(classification, n_estimators=1, learning_rate=1.0))
        out[LGBM_BOOST] = pipe(
            _lgbm(classification, n_estimators=100, learning_rate=0.1)
        )
    out[MOE_DEFAULT] = pipe(moe(moe_linear, n_experts=2, random_state=0))
    out[MOE_LINEAR] = pipe(
        moe_cv(
            moe_linear,
            n_experts_grid=p["grid_experts"],
            alphas=p["grid_alpha"],
            cv=p["inner_cv"],
            random_state=0,
        )
    )
    out[MOE_MIXED] = pipe(moe([("linear", moe_linear), ("tree", tree)], random_state=0))
    return out


# ---- evaluation ---------------------------------------------------------------


def _final_step(model):
    """The last step of a (possibly tuned) Pipeline, and the steps before it."""
    last = model[-1]
    if hasattr(last, "best_estimator_"):  # a CV estimator: its chosen mixture
        last = last.best_estimator_
    return model[:-1], last


def held_out_loglik(model, X_train, y_train, X_test, y_test):
    """Mean log-likelihood per held-out row (regression).

    A mixture gives its own (``log_likelihood``); any other regressor is read
    as a Gaussian around its prediction with the variance of its training
    residuals (a plug-in predictive density).
    """
    head, last = _final_step(model)
    if isinstance(last, MixtureOfExpertsRegressor):
        return float(last.log_likelihood(head.transform(X_test), y_test).mean())
    var = max(mean_squared_error(y_train, model.predict(X_train)), 1e-12)
    resid = y_test - model.predict(X_test)
    return float(np.mean(-0.5 * (np.log(2 * np.pi * var) + resid**2 / var)))


def clip_proba(proba):
    """Probabilities clipped to [0, 1], rows renormalised.

    ``sklearn.metrics.log_loss`` rejects a probability of 1 + 2e-16, which a
    sum of products of probabilities can produce; the clipping changes the
    log-loss by about 1e-16.
    """
    proba = np.clip(proba, 0.0, 1.0)
    return proba / proba.sum(axis=1, keepdims=True)


def neg_log_loss(estimator, X, y):
    """The ``neg_log_loss`` scorer, on clipped probabilities."""
    proba = clip_proba(estimator.predict_proba(X))
    return -log_loss(y, proba, labels=estimator.classes_)


def _describe_warnings(caught):
    kinds = sorted({type(w.message).__name__ for w in caught})
    return kinds


@dataclass
class Scores:
    metrics: dict  # metric -> list over folds
    seconds: list
    warned_fits: int = 0
    clipped: int = 0  # folds whose predict_proba left [0, 1]
    warning_kinds: set = field(default_factory=set)
    chosen: list = field(default_factory=list)  # the CV variant's choices


METRICS = {
    "regression": [("R²", "max"), ("RMSE", "min"), ("held-out loglik", "max")],
    "classification": [("accuracy", "max"), ("log-loss", "min")],
}
PRIMARY = {"regression": "R²", "classification": "accuracy"}
CHART_SPAN = 0.2  # of R² or accuracy shown per panel of the chart


def evaluate(dataset, profile, log=print):
    """Scores of every model on every fold of ``dataset``."""
    p = PROFILES[profile]
    X, y = dataset.X, dataset.y
    classification = dataset.task == "classification"
    splitter = RepeatedStratifiedKFold if classification else RepeatedKFold
    cv = splitter(n_splits=p["n_splits"], n_repeats=p["n_repeats"], random_state=0)
    candidates = models(dataset.task, profile)
    scores = {
        name: Scores({m: [] for m, _ in METRICS[dataset.task]}, [])
        for name in candidates
    }
    labels = np.unique(y)
    for train, test in cv.split(X, y):
        for name, template in candidates.items():
            model = clone(template)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                start = _now()
                model.fit(X[train], y[train])
                seconds = _now() - start
            s = scores[name]
            s.seconds.append(seconds)
            relevant = [w for w in caught if _counts(w)]
            if relevant:
                s.warned_fits += 1
                s.warning_kinds.update(_describe_warnings(relevant))
            last = model[-1]
            if hasattr(last, "n_experts_"):
                s.chosen.append(f"n_experts={last.n_experts_}, alpha={last.alpha_:g}")
            if classification:
                proba = model.predict_proba(X[test])
                if proba.min() < 0 or proba.max() > 1:
                    s.clipped += 1
                proba = clip_proba(proba)
                pred = model.classes_[proba.argmax(axis=1)]
                s.metrics["accuracy"].append(accuracy_score(y[test], pred))
                s.metrics["log-loss"].append(log_loss(y[test], proba, labels=labels))
            else:
                pred = model.predict(X[test])
                s.metrics["R²"].append(r2_score(y[test], pred))
                s.metrics["RMSE"].append(np.sqrt(mean_squared_error(y[test], pred)))
                s.metrics["held-out loglik"].append(
                    held_out_loglik(model, X[train], y[train], X[test], y[test])
                )
    return scores


def _counts(w):
    """Warnings worth reporting: convergence and dead experts."""
    name = type(w.message).__name__
    return name in ("ConvergenceWarning", "DeadExpertWarning")


def _short_params(params):
    short = {key.split("__", 1)[1]: value for key, value in params.items()}
    return ", ".join(f"{k}={v:g}" for k, v in sorted(short.items()))


def _now():
    import time

    return time.perf_counter()


# ---- report -----------------------------------------------------------------


def _best(scores, metric, sense):
    means = {name: np.mean(s.metrics[metric]) for name, s in scores.items()}
    pick = max if sense == "max" else min
    return pick(means, key=means.get)


def dataset_table(dataset, scores):
    metrics = METRICS[dataset.task]
    best = {m: _best(scores, m, sense) for m, sense in metrics}
    header = [
        "model",
        *(f"{m} ({'↑' if s == 'max' else '↓'})" for m, s in metrics),
        "fit s / fold",
    ]
    rows = []
    for name, s in scores.items():
        cells = [name]
        for m, _ in metrics:
            text = mean_std(s.metrics[m])
            cells.append(f"**{text}**" if best[m] == name else text)
        cells.append(seconds_text(np.mean(s.seconds)))
        rows.append(cells)
    lines = [md_table(header, rows)]
    n_folds = len(next(iter(scores.values())).seconds)
    warned = [
        f"{name}: {s.warned_fits}/{n_folds} ({', '.join(sorted(s.warning_kinds))})"
        for name, s in scores.items()
        if s.warned_fits
    ]
    lines.append(
        "\nFits that raised a warning: "
        + ("; ".join(warned) if warned else "none")
        + "."
    )
    clipped = [
        f"{name}: {s.clipped}/{n_folds}" for name, s in scores.items() if s.clipped
    ]
    if clipped:
        lines.append(
            "Folds where predict_proba left [0, 1] (by rounding; clipped before "
            "the log-loss): " + "; ".join(clipped) + "."
        )
    for name in (MOE_LINEAR,):
        chosen = scores[name].chosen
        if chosen:
            values, counts = np.unique(chosen, return_counts=True)
            picks = ", ".join(
                f"{v} ({c}x)"
                for v, c in sorted(
                    zip(values, counts, strict=True), key=lambda t: -t[1]
                )
            )
            lines.append(f"{name} chose: {picks}.")
    return "\n".join(lines)


def _paired(scores, a, b, metric):
    """Mean and std over folds of ``a - b``."""
    diff = np.asarray(scores[a].metrics[metric]) - np.asarray(scores[b].metrics[metric])
    return diff.mean(), diff.std()


def targets(results):
    """Summary rows: skmoe vs its best single expert; vs Voting on regime sets."""
    rows, verdicts = [], []
    for dataset, scores in results:
        metric = PRIMARY[dataset.task]
        means = {n: np.mean(s.metrics[metric]) for n, s in scores.items()}
        best_single = max((LINEAR, TREE), key=means.get)
        for moe_row in MOE_ROWS:
            own = LINEAR if moe_row != MOE_MIXED else best_single
            spread = np.std(scores[own].metrics[metric])
            gap = means[moe_row] - means[own]
            ok = gap >= -spread
            verdicts.append(("single", moe_row, dataset.name, ok))
            rows.append((dataset.name, moe_row, f"vs {own}", metric, gap, spread, ok))
        if dataset.regimes:
            for moe_row in MOE_ROWS:
                diff, sd = _paired(scores, moe_row, VOTING, metric)
                ok = diff > 0
                verdicts.append(("voting", moe_row, dataset.name, ok))
                rows.append(
                    (dataset.name, moe_row, f"vs {VOTING}", metric, diff, sd, ok)
                )
                if dataset.task == "regression":
                    diff, sd = _paired(scores, moe_row, VOTING, "held-out loglik")
                    rows.append(
                        (
                            dataset.name,
                            moe_row,
                            f"vs {VOTING}",
                            "held-out loglik",
                            diff,
                            sd,
                            diff > 0,
                        )
                    )
    return rows, verdicts


def targets_table(rows):
    header = [
        "data set",
        "skmoe row",
        "compared with",
        "metric",
        "difference (skmoe − other)",
        "spread",
        "target",
    ]
    body = [
        (d, m, other, metric, f"{diff:+.4f}", f"{sd:.4f}", "met" if ok else "NOT met")
        for d, m, other, metric, diff, sd, ok in rows
    ]
    return md_table(header, body)


def quality_chart(results, path):
    """Primary metric per model and data set: mean with the CV spread."""
    plt = pyplot()
    n = len(results)
    ncols = 5 if n > 4 else n
    nrows = int(np.ceil(n / ncols))
    names = list(results[0][1])
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(3.1 * ncols + 2.2, (0.32 * len(names) + 1.2) * nrows),
        sharey=True,
        squeeze=False,
    )
    colours = ["#4c72b0" if name not in MOE_ROWS else "#dd8452" for name in names]
    ypos = np.arange(len(names))[::-1]
    for ax, (dataset, scores) in zip(axes.flat, results, strict=False):
        metric = PRIMARY[dataset.task]
        means = np.array([np.mean(scores[name].metrics[metric]) for name in names])
        sds = np.array([np.std(scores[name].metrics[metric]) for name in names])
        # Show the best CHART_SPAN of the scale; a mean further left is
        # drawn as an arrow at the edge with its value.
        top = np.max(means + sds)
        left = max(np.min(means - sds), top - CHART_SPAN)
        pad = 0.03 * (top - left)
        ax.set_xlim(left - pad, top + pad)
        for yv, mean, sd, colour in zip(ypos, means, sds, colours, strict=True):
            if mean >= left:
                ax.errorbar(
                    mean,
                    yv,
                    xerr=sd,
                    fmt="o",
                    color=colour,
                    ms=5,
                    elinewidth=1.2,
                    capsize=2,
                )
            else:
                ax.plot(left - pad, yv, marker="<", color=colour, ms=7, clip_on=False)
                ax.annotate(
                    f"{mean:.2f}",
                    (left - pad, yv),
                    xytext=(6, -3),
                    textcoords="offset points",
                    fontsize=7,
                    color=colour,
                )
        best_single = max(means[names.index(LINEAR)], means[names.index(TREE)])
        ax.axvline(best_single, color="grey", lw=0.8, ls="--")
        ax.set_title(f"{dataset.name}\n({metric})", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.xaxis.set_major_locator(plt.MaxNLocator(5))
        ax.grid(True, axis="x", alpha=0.3)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_yticks(ypos)
        ax.set_yticklabels(names, fontsize=8)
    fig.suptitle(
        "Cross-validated quality: mean ± std over folds; orange = skmoe; dashed = "
        f"best single expert\neach axis spans at most {CHART_SPAN}; ◀ = a mean "
        "further left, with its value",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(profile="full", out_dir=None, log=print):
    """Evaluate every data set; return a :class:`Part`."""
    p = PROFILES[profile]
    part = Part("quality")
    results = []
    sections = []
    for dataset in datasets(profile):
        start = _now()
        scores = evaluate(dataset, profile)
        elapsed = _now() - start
        results.append((dataset, scores))
        table = dataset_table(dataset, scores)
        text = (
            f"### {dataset.name} ({dataset.task})\n\n{dataset.description}. "
            f"Evaluated in {elapsed:.0f} s.\n\n{table}\n"
        )
        sections.append(text)
        log(f"  {dataset.name}: {elapsed:.1f} s")
    rows, verdicts = targets(results)
    n_folds = p["n_splits"] * p["n_repeats"]
    cv_text = (
        f"{p['n_splits']}-fold CV repeated with {p['n_repeats']} seed(s) "
        f"({n_folds} folds; stratified for classification)"
    )
    configurations = CONFIGURATIONS.format(
        grid_experts="{" + ", ".join(map(str, p["grid_experts"])) + "}",
        grid_alpha="{" + ", ".join(f"{a:g}" for a in p["grid_alpha"]) + "}",
        inner_cv=p["inner_cv"],
    )
    if lightgbm is None:
        configurations += "\nlightgbm is not installed: its rows are left out.\n"
    figures = []
    if out_dir is not None:
        path = out_dir / "results" / "quality.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        quality_chart(results, path)
        figures.append(path)
    summary = targets_table(rows)
    part.markdown = "\n".join(
        [
            "## Quality\n",
            f"Metrics are means ± standard deviations over {cv_text}; the best mean "
            "of each column is in bold. Regression held-out loglik: mean log-density "
            "per held-out row; the mixtures give their own, every other model is read "
            "as a Gaussian around its prediction with the variance of its training "
            "residuals. For classification the held-out log-likelihood per row is "
            "minus the log-loss. Fit seconds are per fold (one core) and include the "
            "inner search of the CV variant.\n",
            configurations,
            "![quality](results/quality.png)\n" if figures else "",
            *sections,
            "### skmoe against its best single expert and against Voting\n",
            "Primary metric (R² or accuracy). Against the single expert, the target "
            "is met when skmoe's mean is at most one CV spread (std of the expert's "
            "fold scores) below the expert's: the linear mixtures are compared with "
            "the linear expert, the linear + tree mixture with the better of the two. "
            "Against Voting (regime-structured sets only), met when the paired "
            "difference is positive; its spread is the std over folds of the paired "
            "difference. On the heteroscedastic set the mean is one straight line, so "
            "R² can at best tie; its regimes are in the noise, which only the held-out "
            "log-likelihood sees (shown below R² for every regression set).\n",
            summary,
            "",
        ]
    )
    for kind, label in (
        (
            "single",
            "never worse than its best single expert by more than the CV spread",
        ),
        ("voting", "beats Voting of the same experts on every regime-structured set"),
    ):
        for moe_row in MOE_ROWS:
            hits = [v for v in verdicts if v[0] == kind and v[1] == moe_row]
            missed = [v[2] for v in hits if not v[3]]
            verdict = "met" if not missed else "NOT met"
            numbers = f"{len(hits) - len(missed)}/{len(hits)} data sets" + (
                f"; missed on {', '.join(missed)}" if missed else ""
            )
            part.targets.append((f"{moe_row}: {label}", verdict, numbers))
    part.figures = figures
    part.data = results
    return part
