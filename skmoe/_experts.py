"""Experts: validation, seeding, weighted fitting and its fallbacks, likelihoods."""

import inspect
from contextlib import contextmanager

import numpy as np
from sklearn import config_context
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import has_fit_parameter
from threadpoolctl import threadpool_limits

from .rules import RuleExpert

# Smallest responsibility an expert is fitted with. Soft EM never assigns a row
# exactly zero in exact arithmetic, but exp() underflows; an expert whose
# weights all underflow would otherwise receive all-zero sample weights, which
# scikit-learn estimators reject.
RESP_FLOOR = np.finfo(np.float64).eps

# Smallest probability a classifier expert may give the observed class, so a
# confident mistake costs a large but finite log-likelihood.
PROBA_FLOOR = 1e-12

# Smallest error rate of an expert that predicts labels only: even a rule that
# is right on every row it owns keeps a little doubt, so one miss elsewhere
# costs a finite log-likelihood.
LABEL_NOISE_FLOOR = 1e-4

# Fewest rows an expert without sample_weight is fitted on under the "hard"
# fallback, so that e.g. KNeighbors(n_neighbors=5) never gets too few.
MIN_HARD_ROWS = 10

UNWEIGHTED_FIT = ("hard", "resample")


def has_own_likelihood(expert):
    """Whether ``expert`` reports its own per-row ``log_likelihood(X, y)``."""
    return callable(getattr(expert, "log_likelihood", None))


def is_fixed(expert):
    """Whether EM must never refit ``expert`` (a prefit model or a rule)."""
    return isinstance(expert, (FrozenEstimator, RuleExpert))


def fit_mode(estimator):
    """How EM fits ``estimator`` with per-row weights.

    Returns
    -------
    mode : {"fixed", "weighted", "pipeline", "unweighted"}
        ``"fixed"``: never fitted; ``"weighted"``: ``fit(sample_weight=...)``;
        ``"pipeline"``: a Pipeline whose last step takes the weights as
        ``<last step>__sample_weight``; ``"unweighted"``: needs a fallback.
    """
    if is_fixed(estimator):
        return "fixed"
    if has_fit_parameter(estimator, "sample_weight"):
        return "weighted"
    if isinstance(estimator, Pipeline):
        last = estimator.steps[-1][1]
        if last != "passthrough" and has_fit_parameter(last, "sample_weight"):
            return "pipeline"
    return "unweighted"


def check_expert(name, expert, kind):
    """Raise a clear error if ``expert`` cannot serve in a mixture of ``kind``.

    Parameters
    ----------
    name : str
        The expert's name, quoted in errors.
    expert : object
        The unfitted expert as the user gave it.
    kind : {"regressor", "classifier"}
        What the mixture is.
    """
    if isinstance(expert, type):
        raise TypeError(
            f"Expert {name!r} must be an estimator instance, got the class "
            f"{expert.__name__}; use {expert.__name__}() instead."
        )
    for method in ("fit", "predict"):
        if not callable(getattr(expert, method, None)):
            raise TypeError(
                f"Expert {name!r} must implement fit and predict; "
                f"{type(expert).__name__} has no {method!r} method."
            )
    if isinstance(expert, RuleExpert):
        if kind == "regressor" and expert.classes is not None:
            raise ValueError(
                f"Expert {name!r} is a RuleExpert with classes, which returns "
                "probabilities; a regressor needs a rule that returns values."
            )
        return
    is_kind = is_classifier if kind == "classifier" else is_regressor
    if not is_kind(expert):
        raise ValueError(
            f"Expert {name!r} ({type(expert).__name__}) should be a {kind}."
        )


def seeded_clone(expert, rng):
    """Clone ``expert`` and fix every ``random_state`` it holds, nested ones too.

    Seeds are drawn from the mixture's ``rng`` so that a mixture with an integer
    ``random_state`` is reproducible, whatever its experts were given. Fixed
    experts are shared, not cloned: they are never fitted.
    """
    if is_fixed(expert):
        return expert
    expert = clone(expert)
    params = expert.get_params(deep=True)
    seeds = {
        key: int(rng.randint(np.iinfo(np.int32).max))
        for key in sorted(params)
        if key == "random_state" or key.endswith("__random_state")
    }
    if seeds:
        expert.set_params(**seeds)
    return expert


# Estimators whose ``warm_start=True`` means "start the solver from the last
# solution". EM refits every expert each iteration on slightly changed weights,
# so starting from the previous solution saves most of the solver's work.
# A skmoe mixture as an expert (a hierarchical mixture) continues its own EM
# from where it stopped, so each M-step of the parent raises the child's
# weighted likelihood: generalised EM. Ensembles are left out on purpose: their
# warm_start means "keep the fitted members and only add new ones", which would
# freeze an expert after its first M-step.
_WARM_START_MODULES = ("sklearn.linear_model", "sklearn.neural_network", "skmoe.")


def can_warm_start(expert):
    """Whether EM may refit ``expert`` starting from its previous solution."""
    return type(expert).__module__.startswith(
        _WARM_START_MODULES
    ) and "warm_start" in expert.get_params(deep=False)


def set_warm_start(experts, values):
    """Set ``warm_start`` on the experts that :func:`can_warm_start`."""
    for expert, value in zip(experts, values, strict=True):
        if can_warm_start(expert):
            expert.set_params(warm_start=value)


def fit_weighted(estimator, X, y, weight, mode):
    """Fit ``estimator`` with ``sample_weight=weight`` as its ``mode`` allows.

    A Pipeline gets the weights as ``<last step>__sample_weight``; metadata
    routing is switched off for that call, because with routing on a Pipeline
    refuses that form (it wants ``sample_weight`` and requests set on steps).
    """
    if mode == "weighted":
        return estimator.fit(X, y, sample_weight=weight)
    last = estimator.steps[-1][0]
    with config_context(enable_metadata_routing=False):
        return estimator.fit(X, y, **{f"{last}__sample_weight": weight})


def fallback_rows(resp, index, sample_weight, how, rng, minimum=MIN_HARD_ROWS):
    """Rows an expert without sample_weight is fitted on.

    Parameters
    ----------
    resp : ndarray of shape (n, M)
    index : int
        The expert.
    sample_weight : ndarray of shape (n,)
    how : {"hard", "resample"}
        ``"hard"``: the rows the expert explains best (its responsibility is
        the largest), topped up with its most responsible rows up to
        ``MIN_HARD_ROWS`` (or the expert's ``n_neighbors``, which a
        neighbours model needs at least), as flexmix's hard EM;
        ``"resample"``: ``n`` rows drawn with replacement, with probability
        ``sample_weight * resp``.
    rng : numpy.random.RandomState
        Used by ``"resample"`` only.
    minimum : int, default=MIN_HARD_ROWS
        Fewest rows for ``"hard"``.

    Returns
    -------
    rows : ndarray of int
    """
    weight = sample_weight * resp[:, index]
    if how == "resample":
        return rng.choice(len(weight), size=len(weight), p=weight / weight.sum())
    present = sample_weight > 0  # a zero weight means the row is absent
    owned = np.flatnonzero((resp.argmax(axis=1) == index) & present)
    minimum = min(minimum, np.count_nonzero(present))
    if len(owned) >= minimum:
        return owned
    candidates = np.flatnonzero(present)
    return candidates[np.argsort(-weight[candidates], kind="stable")[:minimum]]


def fit_expert(expert, X, y, sample_weight, resp, index, mode, how, seed):
    """M-step for one expert: fit it to its share of each row.

    ``seed`` feeds the ``"resample"`` fallback; it is drawn before any parallel
    dispatch so that results do not depend on ``n_jobs``.
    """
    if mode == "fixed":
        return expert
    if mode == "unweighted":
        minimum = max(MIN_HARD_ROWS, getattr(expert, "n_neighbors", 0) or 0)
        rows = fallback_rows(
            resp, index, sample_weight, how, np.random.RandomState(seed), minimum
        )
        return expert.fit(X[rows], y[rows])
    weight = sample_weight * np.maximum(resp[:, index], RESP_FLOOR)
    return fit_weighted(expert, X, y, weight, mode)


def same_type_error(exc, message):
    """An exception of ``exc``'s type with ``message``, or a RuntimeError when
    that type cannot be built from a message alone.

    Callers catching, say, ``ValueError`` then still catch the renamed error.
    """
    try:
        return type(exc)(message)
    except Exception:
        return RuntimeError(message)


def fit_expert_named(name, n_iter, expert, *args):
    """:func:`fit_expert`, with any failure naming the expert and the iteration.

    The error keeps its type where it can be built from a message, so callers
    catching, say, ``ValueError`` still do.
    """
    try:
        return fit_expert(expert, *args)
    except Exception as exc:
        message = (
            f"Expert {name!r} ({type(expert).__name__}) failed to fit at EM "
            f"iteration {n_iter}: {exc}"
        )
        raise same_type_error(exc, message) from exc


class ExpertOutputError(ValueError):
    """An expert's output cannot enter the mixture: a wrong shape, NaN or inf.

    The checks below raise it with the problem alone; :func:`naming` adds
    which expert gave it and, during EM, at which iteration.
    """


@contextmanager
def naming(name, expert, n_iter=None):
    """Name the expert, and the EM iteration if given, in any error raised
    while the mixture uses the expert's predictions.

    Without it a NaN or a wrongly shaped prediction surfaces as a bare numpy
    error (or a NaN log-likelihood) far from the expert that caused it.
    """
    try:
        yield
    except Exception as exc:
        what = (
            "gave unusable output"
            if isinstance(exc, ExpertOutputError)
            else "failed to predict"
        )
        when = "" if n_iter is None else f" at EM iteration {n_iter}"
        message = f"Expert {name!r} ({type(expert).__name__}) {what}{when}: {exc}"
        raise same_type_error(exc, message) from exc


def check_output(values, shape, what, allow=None):
    """``values`` as a float64 array of ``shape``, finite; else ExpertOutputError.

    Parameters
    ----------
    values : array-like
        What the expert returned.
    shape : tuple of int
        The shape the mixture needs; a trailing column of width 1 is dropped
        for a 1-D ``shape`` (regressors fitted on column vectors return it).
    what : str
        What the values are, for the message ("predictions").
    allow : {None, "-inf"}, default=None
        ``"-inf"`` accepts minus infinity (a log-likelihood of an impossible
        row), never NaN or plus infinity.

    Returns
    -------
    values : ndarray of shape ``shape``
    """
    try:
        values = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ExpertOutputError(f"its {what} are not numbers ({exc}).") from exc
    if len(shape) == 1 and values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.shape != shape:
        raise ExpertOutputError(
            f"its {what} have shape {values.shape} for {shape[0]} rows; expected "
            f"{shape}."
        )
    bad = np.isnan(values) | (values == np.inf)
    if allow != "-inf":
        bad |= values == -np.inf
    if np.any(bad):
        n_bad = np.count_nonzero(np.any(bad.reshape(len(values), -1), axis=1))
        raise ExpertOutputError(
            f"{n_bad} of {shape[0]} rows have NaN or infinite {what}; an expert "
            "must return finite values."
        )
    return values


def fit_expert_in_worker(openmp_threads, *args):
    """:func:`fit_expert_named` with OpenMP limited to this worker's share.

    Thread workers do not inherit OpenMP limits, so without this each of
    ``n_jobs`` experts that parallelise inside (HistGradientBoosting) would
    start one OpenMP thread per core, and they would fight for the cores.
    """
    with threadpool_limits(limits=openmp_threads, user_api="openmp"):
        return fit_expert_named(*args)


def predict_mean(expert, X):
    """A regression expert's prediction as float64 of shape (n,), checked."""
    return check_output(expert.predict(X), (X.shape[0],), "predictions")


def reports_std(expert):
    """Whether a regression expert predicts its own spread, row by row
    (``predict(X, return_std=True)``, as BayesianRidge or a Gaussian process)."""
    try:
        return "return_std" in inspect.signature(expert.predict).parameters
    except (TypeError, ValueError):  # a callable without a signature
        return False


def predict_mean_and_var(expert, X):
    """A probabilistic regression expert's mean and variance, float64 (n,).

    The variance is None when the expert reports no spread at all (a zero
    std everywhere, as :class:`~sklearn.dummy.DummyRegressor` does): the
    fitted noise variance then stands in for it.
    """
    mean, std = expert.predict(X, return_std=True)
    mean = check_output(mean, (X.shape[0],), "predictions")
    std = check_output(std, (X.shape[0],), "standard deviations")
    if np.any(std < 0):
        raise ExpertOutputError("it returned negative standard deviations.")
    return mean, (std**2 if np.any(std > 0) else None)


def has_proba(expert):
    """Whether a classifier expert gives class probabilities."""
    return hasattr(expert, "predict_proba")


def aligned_proba(expert, X, classes):
    """A classifier expert's probabilities with columns in the mixture's order.

    An expert that saw only some classes has fewer columns; the missing
    classes get probability 0. Classes the mixture never saw (a prefit model
    trained on more labels) are dropped and the rest renormalised.

    Parameters
    ----------
    expert : fitted classifier with ``predict_proba``
    X : ndarray of shape (n, d)
    classes : ndarray of shape (C,)
        The mixture's sorted ``classes_``.

    Returns
    -------
    proba : ndarray of shape (n, C)
    """
    expert_classes = np.asarray(expert.classes_)
    proba = check_proba(expert.predict_proba(X), (X.shape[0], len(expert_classes)))
    if len(expert_classes) == len(classes) and np.all(expert_classes == classes):
        return proba
    columns, known = _class_index(expert_classes, classes)
    aligned = np.zeros((proba.shape[0], len(classes)))
    aligned[:, columns[known]] = proba[:, known]
    if not np.all(known):
        total = aligned.sum(axis=1, keepdims=True)
        aligned = np.divide(
            aligned,
            total,
            out=np.full_like(aligned, 1 / len(classes)),
            where=total > 0,
        )
    return aligned


def check_proba(proba, shape):
    """Class probabilities of ``shape``: finite, non-negative rows summing to 1
    (to within ``1e-4``), else ExpertOutputError.

    Rows off by more than rounding are renormalised in float64: an expert
    working in float32 sums to 1 only to about 1e-7, and the mixture's
    probabilities would inherit that. Rows already exact are left bit for bit
    as they are.
    """
    proba = check_output(proba, shape, "probabilities")
    total = proba.sum(axis=1, keepdims=True)
    if np.any(proba < 0) or np.any(np.abs(total - 1) > 1e-4):
        raise ExpertOutputError(
            "its probabilities must be non-negative with rows summing to 1; "
            f"got values down to {proba.min():.3g} and row sums from "
            f"{total.min():.3g} to {total.max():.3g}."
        )
    if np.any(np.abs(total - 1) > 1e-12):
        proba = proba / total
    return proba


def check_labels(labels, n_rows):
    """Labels predicted for ``n_rows`` rows, as an array of shape (n_rows,)."""
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.shape != (n_rows,):
        raise ExpertOutputError(
            f"its predictions have shape {labels.shape} for {n_rows} rows; "
            f"expected ({n_rows},)."
        )
    return labels


def smoothed_one_hot(labels, classes, label_noise):
    """Probabilities of an expert that predicts labels only.

    The predicted class gets ``1 - label_noise``, the others share
    ``label_noise``; a label the mixture never saw means "no opinion"
    (uniform probabilities).

    Parameters
    ----------
    labels : ndarray of shape (n,)
    classes : ndarray of shape (C,)
    label_noise : float

    Returns
    -------
    proba : ndarray of shape (n, C)
    """
    n_classes = len(classes)
    columns, known = _class_index(np.asarray(labels), classes)
    proba = np.full((len(labels), n_classes), label_noise / max(n_classes - 1, 1))
    proba[known, columns[known]] = 1 - label_noise
    proba[~known] = 1 / n_classes
    return proba


def label_noise(labels, y_index, classes, weight):
    """M-step for an expert that predicts labels: its weighted error rate.

    Parameters
    ----------
    labels : ndarray of shape (n,)
        The expert's predictions.
    y_index : ndarray of shape (n,)
        Observed classes as positions in ``classes``.
    classes : ndarray of shape (C,)
    weight : ndarray of shape (n,)
        ``sample_weight * resp`` of this expert.

    Returns
    -------
    label_noise : float
        In ``[LABEL_NOISE_FLOOR, (C - 1) / C]``: from nearly certain to no
        better than a uniform guess. Rows where the expert has no opinion (a
        label the mixture never saw) do not count: their likelihood does not
        depend on the error rate.
    """
    columns, known = _class_index(np.asarray(labels), classes)
    opinion = weight * known
    wrong = np.dot(opinion, columns != y_index)
    rate = wrong / max(opinion.sum(), np.finfo(np.float64).tiny)
    n_classes = len(classes)
    return float(np.clip(rate, LABEL_NOISE_FLOOR, (n_classes - 1) / n_classes))


def _class_index(labels, classes):
    """Positions of ``labels`` in sorted ``classes``, and which were found."""
    try:
        columns = np.minimum(np.searchsorted(classes, labels), len(classes) - 1)
        return columns, classes[columns] == labels
    except TypeError:
        # Labels that cannot be ordered against the classes (None among
        # strings, say): look each one up instead.
        position = {label: i for i, label in enumerate(classes.tolist())}
        columns = np.array([position.get(label, -1) for label in labels.tolist()])
        return np.maximum(columns, 0), columns >= 0
