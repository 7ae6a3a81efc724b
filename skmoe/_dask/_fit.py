"""Fitting a mixture on Dask collections: prepare the data in two passes, run
the starts, adopt the best, finish as the in-memory fit does."""

import numbers
from typing import NamedTuple

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets

from .._gating import SoftmaxGate
from .._init import best_run
from .._math import standard_scale, varying_columns
from .._noise import nn_noise_variance, target_rounding
from .._routing import check_temperatures, check_top_k
from .._validation import check_magnitude, check_weight_total
from .._warn import warn
from ._blocks import _Data, _Spread, _Summary
from ._checks import _check_options, _refuse_experts
from ._collections import _align_rows, _is_frame, _rows, is_dask_collection
from ._em import _EM
from ._solvers import _Logistic
from ._sums import _Context

# Rows drawn (in expectation) for what is decided on a sample: the k-means
# start and the cuts of re-seeded experts. With fewer rows than this every row
# is used, and the start equals the in-memory one.
SAMPLE_ROWS = 20_000


def fit_dask(model, X, y, sample_weight=None, init_resp=None, **fit_params):
    """Fit a mixture of experts by data-parallel EM on Dask collections.

    Every pass sends the current parameters to the workers once; each worker
    computes its blocks' responsibilities and returns small sums (normal
    equations of the linear experts, gradients and Hessians of the gate and
    the logistic experts, the log-likelihood), which the driver adds and
    solves. The fitted mixture is an ordinary one, equal to the in-memory fit
    on the same data and start.

    Parameters
    ----------
    model : MixtureOfExpertsRegressor or MixtureOfExpertsClassifier
        Unfitted or fitted (it is refitted); its parameters are used as they
        are. Experts must be LinearRegression / Ridge (regressor) or L2
        LogisticRegression (classifier), the gate the default SoftmaxGate and
        ``assignment="soft"``; anything else raises a TypeError or ValueError
        that says what to do instead.
    X : dask.array.Array or dask.dataframe.DataFrame of shape (n_samples, n_features)
        Training inputs, partitioned by rows. Row counts Dask does not know
        (a DataFrame's partitions, an array after boolean masking) are
        computed in one pass, with those of ``y`` and the weights; empty
        blocks are skipped.
    y : dask.array.Array, dask.dataframe.Series or ndarray of shape (n_samples,)
        Targets, aligned with the rows of ``X``.
    sample_weight : Dask or NumPy array of shape (n_samples,) or float, default=None
        Row weights; a number is the weight of every row.
    init_resp : Dask or NumPy array of shape (n_samples, n_experts), default=None
        Responsibilities to start EM from, instead of ``init_params``; rows
        are normalised to sum to 1.
    **fit_params : dict
        Metadata for the experts; not supported out of core (a ValueError).

    Returns
    -------
    model : the fitted mixture

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from skmoe import MixtureOfExpertsRegressor
    >>> from skmoe._dask import fit_dask
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-3, 3, size=(400, 1))
    >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
    >>> y += 0.1 * rng.standard_normal(400)
    >>> moe = MixtureOfExpertsRegressor(random_state=0)
    >>> moe = fit_dask(moe, da.from_array(X, chunks=100), da.from_array(y, chunks=100))
    >>> sorted(round(float(e.coef_[0]), 1) for e in moe.experts_)
    [-1.0, 2.0]
    """
    if fit_params:
        raise ValueError(
            f"Fit parameters {sorted(fit_params)} cannot be routed to the experts "
            "on Dask collections: out-of-core EM fits them from sums over rows. "
            "Fit on an in-memory sample to use them."
        )
    before = dict(model.__dict__)
    try:
        return _fit(model, X, y, sample_weight, init_resp)
    except BaseException:
        model.__dict__.clear()
        model.__dict__.update(before)
        raise


class _Spec(NamedTuple):
    """The experts as the mixture's parameters give them."""

    names: list
    templates: list
    from_template: bool  # clones of one template, hence interchangeable


def _fit(model, X, y, sample_weight, init_resp):
    """Prepare the data, run the starts, adopt the best, finish."""
    spec = _check_model(model)
    em = _prepare(model, X, y, sample_weight, init_resp, spec)
    runs = _run_starts(model, em)
    best = _adopt(model, runs)
    _finish(model, runs[best].fitted, runs, spec)
    return model


# ---- prepare: check the model, then the data in two passes ---------------------


def _check_model(model):
    """The parameters, the experts and the options, before any pass."""
    model._validate_params()  # types and ranges, as fit checks them
    spec = _Spec(*model._expert_specs())
    _refuse_experts(spec.names, spec.templates, model._kind)
    _check_options(model, len(spec.templates))
    # As fit checks them in memory (they do not need the data's size).
    check_top_k(model.top_k, len(spec.templates))
    check_temperatures(model.temperatures)
    return spec


def _prepare(model, X, y, sample_weight, init_resp, spec):
    """The data as row blocks, checked and described in two passes, and the
    EM driver that runs the starts on them."""
    n_experts = len(spec.templates)
    meta = X._meta if _is_frame(X) else None
    X, feature_names = _rows(X)
    _refuse_complex(X, y)
    init = _start_params(model, init_resp)
    # Errors name the parameter the responsibilities came in.
    init_name = "init_params" if init_resp is None else "init_resp"
    weight = _scalar_weight(sample_weight)
    X, (y, w, init_blocks) = _align_rows(
        X,
        [
            ("y", y, 1),
            ("sample_weight", sample_weight if weight is None else None, 1),
            (init_name, None if isinstance(init, str) else init, 2),
        ],
    )
    if weight is not None:  # as in memory: every row weighs the number given
        w = _full_weight(X, weight)
    _check_init_width(init_blocks, n_experts, init_name)
    data = _Data(X, y, w, init_blocks)
    _check_n_samples(data.n_samples, n_experts)
    summary, total = _summarise(data, model._kind)
    _select_features(model, meta if meta is not None else X, feature_names)
    _refuse_nan_read(model, summary)
    ctx, sample = _describe(model, data, summary, total, init, spec)
    em = _EM(model, data, ctx, spec.names, spec.templates, total, X.shape[1])
    em.init, em.init_name = init, init_name
    if sample is not None:
        # Kept by the driver, not the context: it would travel with every pass.
        em.sample = sample
    return em


def _scalar_weight(sample_weight):
    """A number given as ``sample_weight`` (the weight of every row, as
    scikit-learn reads it), else None."""
    if isinstance(sample_weight, numbers.Real):
        return float(sample_weight)
    if sample_weight is not None and np.ndim(sample_weight) == 0:
        raise ValueError(
            "sample_weight must be a number, an array of shape (n_samples,) or "
            f"None; got {sample_weight!r}."
        )
    return None


def _full_weight(X, value):
    """A weight of ``value`` for every row, chunked as ``X``."""
    import dask.array as da

    return da.full(X.shape[0], value, chunks=(X.chunks[0],), dtype=np.float64)


def _start_params(model, init_resp):
    """``init_params`` (or ``init_resp``): a rule's name or an array."""
    init = model.init_params if init_resp is None else init_resp
    if init_resp is not None and not isinstance(model.init_params, str):
        raise ValueError(
            "Pass the starting responsibilities once: as 'init_resp', not also "
            "as 'init_params'."
        )
    if isinstance(init, str) or is_dask_collection(init):
        return init
    return np.asarray(init, dtype=np.float64)


def _check_init_width(init_blocks, n_experts, name):
    if init_blocks is not None and init_blocks.shape[1] != n_experts:
        raise ValueError(
            f"'{name}' as an array must have shape (n_samples, n_experts) "
            f"= ({init_blocks.shape[0]}, {n_experts}); got {init_blocks.shape}."
        )


def _check_n_samples(n_samples, n_experts):
    """Enough rows, known before any pass (empty blocks count for nothing)."""
    if n_samples < 2:
        raise ValueError(f"X has {n_samples} sample(s); at least 2 are required.")
    if n_experts > n_samples:
        raise ValueError(
            f"'n_experts' must be at most the number of samples ({n_samples}); "
            f"got {n_experts} experts."
        )


def _refuse_complex(X, y):
    """As scikit-learn refuses complex data in memory: the blocks' float
    conversion would drop the imaginary parts, with a ComplexWarning only."""
    for name, values in (("X", X), ("y", y)):
        # numpy's dtypes and pandas' (nullable ones included) have a kind.
        dtype = getattr(values, "dtype", None)
        if getattr(dtype, "kind", None) == "c":
            raise ValueError(f"Complex data not supported: {name} has dtype {dtype}.")


def _summarise(data, kind):
    """Pass 1: sizes, weights, means, non-finite values, labels."""
    summary = data.run(_Summary(kind))
    if summary["inf_X"]:
        raise ValueError(
            f"X contains infinity ({summary['inf_X']} values); impute or drop "
            "them first."
        )
    if kind == "regressor" and summary["nonfinite_y"]:
        raise ValueError("y contains NaN or infinity.")
    # As in memory, where EM's arithmetic stays exact.
    check_magnitude(summary["largest_X"], "X")
    if kind == "regressor":
        check_magnitude(summary["largest_y"], "y")
    if summary["nonfinite_w"] or summary["negative_weight"]:
        raise ValueError(
            "sample_weight must be finite and non-negative; got "
            f"{summary['negative_weight']} negative and {summary['nonfinite_w']} "
            "NaN or infinite weights."
        )
    total = float(summary["weight"])
    check_weight_total(total)
    return summary, total


def _refuse_nan_read(model, summary):
    """NaN in a column the gate or the experts read (out of core, none of
    them takes NaN); elsewhere it is left alone, as in memory."""
    read = np.union1d(model.gate_features_, model.expert_features_)
    n_nan = int(summary["nan_X"][read].sum())
    if n_nan:
        raise ValueError(
            f"X contains NaN ({n_nan} values) in the columns the gate and the "
            "experts read; impute or drop them first."
        )


def _select_features(model, X, feature_names):
    """``n_features_in_``, ``feature_names_in_`` and the columns the gate and
    the experts read, as the in-memory fit sets them."""
    from .._validation import feature_columns

    n_features = X.shape[1]
    model.n_features_in_ = n_features
    if feature_names is not None:
        model.feature_names_in_ = feature_names
    elif hasattr(model, "feature_names_in_"):
        del model.feature_names_in_
    for attr, name in (
        ("gate_features_", "gate_features"),
        ("expert_features_", "expert_features"),
    ):
        selector = getattr(model, name)
        setattr(
            model,
            attr,
            feature_columns(
                selector,
                X,
                n_features,
                getattr(model, "feature_names_in_", None),
                name,
            ),
        )


def _describe(model, data, summary, total, init, spec):
    """Pass 2: the context every EM pass shares (standardisation, shifts,
    target scales) and, for a k-means start, a sample of rows."""
    kind, n_experts, n_samples = model._kind, len(spec.templates), data.n_samples
    classes = None if kind == "regressor" else summary["classes"]
    if kind == "classifier":
        # As in memory: NaN labels, or continuous y, are not classes.
        check_classification_targets(classes)
    if kind == "classifier" and len(classes) < 2:
        raise ValueError(
            "MixtureOfExpertsClassifier needs samples of at least 2 classes in y, "
            f"but y contains only one class: {classes[0]!r}."
        )
    ctx = _Context(kind, model.expert_features_, model.gate_features_, classes)
    mean_X = summary["sum_X"] / total
    mean_y = summary["sum_y"] / total if kind == "regressor" else None
    k_means = (
        isinstance(init, str)
        and init in ("auto", "kmeans", "kmeans_xy")
        and n_experts > 1
    )
    ctx.sample_fraction = min(1.0, SAMPLE_ROWS / n_samples)
    # A sample of rows serves the k-means start and the regressor's noise floor.
    sampled = k_means or kind == "regressor"
    spread = data.run(
        _Spread(kind, mean_X, mean_y, classes, sampled, ctx.sample_fraction)
    )
    var_X = spread["sq_X"] / total
    ctx.gate_mean = mean_X[model.gate_features_]
    ctx.gate_scale = standard_scale(
        ctx.gate_mean, var_X[model.gate_features_], n_samples
    )
    # alpha="auto" counts these, as SoftmaxGate.fit does.
    ctx.gate_varying = int(
        varying_columns(ctx.gate_mean, var_X[model.gate_features_], n_samples).sum()
    )
    ctx.shift_X = mean_X[model.expert_features_]
    if kind == "regressor":
        sample = {key: spread[f"sample_{key}"] for key in ("X", "w", "y")}
        _scale_target(model, ctx, mean_y, spread["sq_y"] / total, n_samples, sample)
    else:
        _scale_classes(
            model, ctx, spread["class_mass"], total, n_samples, spec.templates
        )
    if not k_means:
        return ctx, None
    sample = {key: spread[f"sample_{key}"] for key in ("X", "w", "y")}
    sample["X"] = sample["X"][:, model.gate_features_]
    return ctx, sample


def _scale_target(model, ctx, mean_y, var_y, n_samples, sample):
    """The regression target's shift and scale, the noise floor (from the
    noise estimated on a sample of rows), and whether ``y`` is constant (to
    the rounding of its mean)."""
    reg_var = model.reg_var
    if not isinstance(reg_var, numbers.Real) or not 0 <= reg_var < np.inf:
        raise ValueError(f"'reg_var' must be a non-negative float, got {reg_var!r}.")
    ctx.shift_y = mean_y
    # As in memory (_regressor._check_target).
    rounding = target_rounding(mean_y, var_y)
    model._constant_target = var_y <= rounding
    noise = 0.0
    if not model._constant_target and sample["w"].sum() > 0:
        # On the columns the mixture sees, as in memory (_base._prepare).
        seen = np.union1d(model.gate_features_, model.expert_features_)
        noise = nn_noise_variance(sample["X"][:, seen], sample["y"], sample["w"])
    model._noise = noise
    model._var_floor = ctx.var_floor = max(
        model.reg_var * noise, rounding, np.finfo(np.float64).tiny
    )
    ctx.target_mean, ctx.target_scale = (
        np.array([mean_y]),
        standard_scale(np.array([mean_y]), np.array([var_y]), n_samples),
    )


def _scale_classes(model, ctx, mass, total, n_samples, templates):
    """The class shares (the k-means target), ``classes_``, and each logistic
    expert's loss from sums."""
    classes = ctx.classes
    ctx.shift_y = 0.0
    if np.count_nonzero(mass) < 2:
        raise ValueError(
            "MixtureOfExpertsClassifier needs samples of at least 2 classes "
            "with positive weight in y, but the data contain only one class: "
            f"{classes[np.argmax(mass)]!r}."
        )
    share = mass / total
    ctx.target_mean = share
    ctx.target_scale = standard_scale(share, share * (1 - share), n_samples)
    model.classes_ = classes
    for i, template in enumerate(templates):
        ctx.logistic[i] = _Logistic(template, len(classes))


# ---- the starts, the best of them ----------------------------------------------


def _run_starts(model, em):
    """EM from each of ``n_init`` starts, seeded as the in-memory fit seeds
    them: short runs of ``init_max_iter`` iterations, then the best again,
    to convergence."""
    rng = check_random_state(model.random_state)
    seeds = (
        [None]
        if model.n_init == 1
        else list(rng.randint(np.iinfo(np.int32).max, size=model.n_init))
    )
    budget = model._short_run_budget(len(seeds))
    logistic = dict(em.ctx.logistic)

    def run(index, budget, replay=0):
        em.ctx.logistic = dict(logistic)  # pruning re-indexes it within a start
        seed = seeds[index]
        start_rng = rng if seed is None else check_random_state(seed)
        return em.run(start_rng, index, budget, replay)

    runs = [run(index, budget) for index in range(len(seeds))]
    best = best_run(runs)
    while runs[best].paused:
        # The start's own seed replays its short run exactly, without
        # keeping every start's state on the client; the passes over the
        # data it repeats are budget out of the whole run. A leader that
        # ends below where another start paused (after a re-seed) hands
        # on, as in memory.
        runs[best] = run(best, None, replay=budget)
        best = best_run(runs)
    return runs


def _adopt(model, runs):
    """Take the fitted state of the best run; keep every run's curve."""
    best = best_run(runs, finished=True)
    run = runs[best]
    fitted = run.fitted
    model.experts_ = fitted["experts"]
    model._expert_names = fitted["names"]
    model.gate_ = fitted["gate"]
    model.n_iter_ = fitted["n_iter"]
    model.expert_weights_ = fitted["expert_weights"]
    model._reseeds = fitted["reseeds"]
    model._dead_events = fitted["dead_events"]
    if model._kind == "regressor":
        model.noise_var_ = fitted["noise_var"]
    else:
        model.label_noise_ = np.full(len(model.experts_), np.nan)
    model.log_likelihoods_ = np.asarray(run.curve)
    model.start_log_likelihoods_ = [np.asarray(r.curve) for r in runs]
    model.best_start_ = best
    model.log_likelihood_ = run.curve[-1]
    model.converged_ = run.converged
    return best


# ---- finish ----------------------------------------------------------------------


def _finish(model, fitted, runs, spec):
    """Hand the experts back as their templates were, fix the order of
    interchangeable experts, and say what went wrong, if anything."""
    from .._estimators import give_back_warm_start

    template_of = dict(zip(spec.names, spec.templates, strict=True))
    give_back_warm_start(model.experts_, [template_of[n] for n in model._expert_names])
    if not model.converged_:
        warn(
            "Best performing initialization did not converge: the "
            "log-likelihood less the fits' penalties (what EM climbs) still "
            f"changed by more than tol={model.tol} after "
            f"max_iter={model.max_iter} iterations. Try increasing max_iter, "
            "raising tol, or a different init_params; check for degenerate "
            "data.",
            ConvergenceWarning,
        )
    renamed = {}
    if spec.from_template:
        # Cloned experts are interchangeable: order them by decreasing share.
        if isinstance(model.gate_, SoftmaxGate):
            order = np.argsort(-model.expert_weights_, kind="stable")
            model._take_experts(order)
        renamed = model._name_by_position()
    model._fit_signature = model._signature(spec.names, spec.templates)
    # The kept start's re-seeds and prunes; dead or starved experts, starts
    # that ended in different optima.
    model._warn_of_dead_events(renamed)
    model._warn_if_suspect(runs)
    if model._kind == "regressor":
        _warn_if_degenerate(model, fitted)


def _warn_if_degenerate(model, fitted):
    from ..exceptions import DegenerateFitWarning

    if model._constant_target:
        warn(
            "y is constant: every expert fits it exactly, so the gate has "
            "nothing to learn. A regression on a constant target is better "
            "served by sklearn.dummy.DummyRegressor.",
            DegenerateFitWarning,
        )
