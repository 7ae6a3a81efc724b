"""Helpers for any sub-estimator of a mixture, expert or gate alike.

How a sub-estimator is fitted with row weights (its fit mode), seeded
clones, warm starts, and the checks that its output is usable. The gate and
the experts both rely on them; nothing here knows about EM.
"""

import copy
import functools
import inspect
from contextlib import contextmanager

import numpy as np
from sklearn import config_context
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils import get_tags
from sklearn.utils.validation import has_fit_parameter

from ._compat import _routing_enabled
from ._validation import same_type_error
from .exceptions import ExpertOutputError
from .rules import RuleExpert

__all__ = [
    "ExpertOutputError",
    "can_warm_start",
    "cold_where_it_freezes",
    "check_output",
    "check_proba",
    "fit_mode",
    "fit_weighted",
    "give_back_warm_start",
    "has_own_likelihood",
    "is_fixed",
    "naming",
    "reports_std",
    "same_type_error",
    "seeded_clone",
    "warm_start_for_em",
    "warm_start_params",
    "with_frozen_shared",
]


def shallow_copy(estimator):
    """A copy of ``estimator`` sharing its parameters and fitted objects.

    ``fit`` runs on it and swaps its state in at the end, so that a fit that
    raises leaves the estimator as it was.
    """
    twin = object.__new__(type(estimator))
    twin.__dict__.update(estimator.__dict__)
    return twin


def copy_sharing_frozen(obj, experts):
    """``copy.deepcopy(obj)``, but with the FrozenEstimator experts among
    ``experts`` (and among the experts of nested mixtures) kept as the very
    objects.

    EM copies its experts to continue from them or to undo a jump. A prefit
    model never changes, and the mixture shares it rather than cloning it
    (the user's object, not a second copy of a possibly large model).
    """
    memo = {id(expert): expert for expert in _frozen_experts(experts)}
    return copy.deepcopy(obj, memo)


def with_frozen_shared(experts, templates):
    """``experts`` with each FrozenEstimator's copy replaced by its template,
    the user's object: a start run in a process worker comes back pickled,
    its frozen experts copies of the user's models."""
    return [
        template if isinstance(template, FrozenEstimator) else expert
        for expert, template in zip(experts, templates, strict=True)
    ]


def _frozen_experts(experts):
    for expert in experts:
        if isinstance(expert, FrozenEstimator):
            yield expert
        else:
            yield from _frozen_experts(getattr(expert, "experts_", ()))


def has_own_likelihood(expert):
    """Whether ``expert`` reports its own per-row ``log_likelihood(X, y)``."""
    return callable(getattr(expert, "log_likelihood", None))


def is_fixed(expert):
    """Whether EM must never refit ``expert`` (a prefit model or a rule)."""
    return isinstance(expert, (FrozenEstimator, RuleExpert))


def as_trained(expert, X):
    """``X`` under the column names a prefit ``expert`` was trained on.

    A mixture gives its experts their columns as an array without names. A
    model trained earlier on a DataFrame warns at every call that X has no
    names: some ninety times in one fit. The mixture has checked at fit that
    its expert columns are that model's, in its order
    (:func:`~skmoe._experts.check_prefit_columns`), or has said once that it
    could not; so the names are given back to it here. An array of another
    width, or any other ``X``, is returned as it is.
    """
    names = getattr(expert, "feature_names_in_", None) if is_fixed(expert) else None
    if (
        names is None
        or not isinstance(X, np.ndarray)
        or X.ndim != 2
        or X.shape[1] != len(names)
    ):
        return X
    try:
        import pandas as pd
    except ImportError:  # the model's own warning then stands
        return X
    return pd.DataFrame(X, columns=names, copy=False)


def transform_through(steps, X):
    """``X`` through the fitted steps of a Pipeline slice (its steps before
    the last), as the whole Pipeline's ``predict`` would take it.

    Not ``slice.transform``: a Pipeline judges itself fitted by its last
    step, and a stateless transformer (a ``fit`` that only returns
    ``self``) there has no fitted attribute to show.
    """
    for _, step in steps.steps:
        if step is not None and step != "passthrough":
            X = step.transform(X)
    return X


def fit_mode(estimator):
    """How EM fits ``estimator`` with per-row weights.

    Under metadata routing, an estimator that asked not to receive
    ``sample_weight`` (``set_fit_request(sample_weight=False)``) is fitted
    without it, through the fallback for experts that take no weights.

    Returns
    -------
    mode : {"fixed", "weighted", "pipeline", "unweighted"}
        ``"fixed"``: never fitted; ``"weighted"``: ``fit(sample_weight=...)``;
        ``"pipeline"``: a Pipeline whose last step takes the weights as
        ``<last step>__sample_weight``; ``"unweighted"``: needs a fallback.
    """
    if is_fixed(estimator):
        return "fixed"
    if refuses_sample_weight(estimator):
        return "unweighted"
    if _fit_takes_sample_weight(estimator):
        return "weighted"
    if isinstance(estimator, Pipeline):
        last = estimator.steps[-1][1]
        if last != "passthrough" and has_fit_parameter(last, "sample_weight"):
            return "pipeline"
    return "unweighted"


def _fit_takes_sample_weight(estimator):
    """``has_fit_parameter(estimator, "sample_weight")``, looked up once per
    class: EM asks at every iteration, and reading a signature costs more
    than a small expert's M-step."""
    if "fit" in getattr(estimator, "__dict__", {}):  # fit set on the instance
        return has_fit_parameter(estimator, "sample_weight")
    return _class_fit_takes_sample_weight(type(estimator))


@functools.lru_cache(maxsize=256)
def _class_fit_takes_sample_weight(cls):
    return "sample_weight" in inspect.signature(cls.fit).parameters


def refuses_sample_weight(estimator):
    """Whether, under metadata routing, ``estimator`` asked not to receive
    ``sample_weight`` in ``fit``."""
    if not _routing_enabled() or not hasattr(estimator, "_get_metadata_request"):
        return False
    requests = estimator._get_metadata_request().fit.requests
    return requests.get("sample_weight") is False


def accepts(estimator, input_tag):
    """Whether ``estimator`` takes input with ``input_tag`` (``"sparse"``,
    ``"allow_nan"``), as its tags say.

    scikit-learn leaves a Pipeline's ``allow_nan`` tag False. A Pipeline
    takes NaN when its steps do up to one of scikit-learn's imputers, which
    removes it for the steps after: ``Pipeline(SimpleImputer(), Ridge())``
    does, ``Pipeline(StandardScaler(), Ridge())`` does not.
    """
    if input_tag != "allow_nan" or not isinstance(estimator, Pipeline):
        return getattr(get_tags(estimator).input_tags, input_tag)
    for _, step in estimator.steps:
        if step is None or step == "passthrough":
            continue
        if not accepts(step, input_tag):
            return False
        if type(step).__module__.startswith("sklearn.impute"):
            return True
    return True


def column_names_selected(estimator):
    """The first columns ``estimator`` selects by name in a
    ``ColumnTransformer`` (inside Pipelines, FeatureUnions and
    FrozenEstimators too), or None.

    A mixture gives its experts and its gate their columns as a float array,
    without names: a selection by name (a string, a list of strings, a
    ``make_column_selector``) can only fail there.
    """
    if isinstance(estimator, FrozenEstimator):
        return column_names_selected(estimator.estimator)
    if isinstance(estimator, (Pipeline, FeatureUnion)):
        parts = [step for _, step in getattr(estimator, "steps", None) or []]
        parts += [part for _, part in getattr(estimator, "transformer_list", [])]
    elif isinstance(estimator, ColumnTransformer):
        for _, _, columns in estimator.transformers:
            if _by_name(columns):
                return columns
        parts = [transformer for _, transformer, _ in estimator.transformers]
    else:
        return None
    for part in parts:
        if not isinstance(part, str):
            found = column_names_selected(part)
            if found is not None:
                return found
    return None


def _by_name(columns):
    if isinstance(columns, str) or isinstance(columns, make_column_selector):
        return True
    if isinstance(columns, slice):
        return isinstance(columns.start, str) or isinstance(columns.stop, str)
    return (
        isinstance(columns, (list, tuple, np.ndarray))
        and len(columns) > 0
        and all(isinstance(column, str) for column in columns)
    )


def seeded_clone(expert, rng, keep_given=False):
    """Clone ``expert`` and fix every ``random_state`` it holds, nested ones too.

    Seeds are drawn from the mixture's ``rng`` so that a mixture with an integer
    ``random_state`` is reproducible, whatever its experts were given; with
    ``keep_given``, only the ``random_state`` left at None are drawn (a lone
    expert is the estimator it was given). Fixed experts are shared, not
    cloned: they are never fitted.
    """
    if is_fixed(expert):
        return expert
    expert = clone(expert)
    params = expert.get_params(deep=True)
    seeds = {
        key: int(rng.randint(np.iinfo(np.int32).max))
        for key in sorted(params)
        if (key == "random_state" or key.endswith("__random_state"))
        and not (keep_given and params[key] is not None)
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


def warm_start_params(estimator):
    """``estimator``'s ``warm_start`` and those of its steps, with values."""
    return {
        key: value
        for key, value in estimator.get_params(deep=True).items()
        if key == "warm_start" or key.endswith("__warm_start")
    }


def warm_start_for_em(experts):
    """Set ``warm_start`` for EM's refits: on where the expert continues from
    its previous solution (:func:`can_warm_start`), off wherever else it is
    on, in a Pipeline's steps too. An ensemble's warm start keeps its fitted
    members and only adds new ones (or none): an expert given
    ``warm_start=True`` stopped learning after its first M-step."""
    for expert in experts:
        if is_fixed(expert):
            continue  # never refitted, and a frozen model refuses set_params
        if can_warm_start(expert):
            expert.set_params(warm_start=True)
        else:
            cold_where_it_freezes(expert)


def cold_where_it_freezes(estimator):
    """Turn off the warm starts of ``estimator`` (and its steps) that would
    freeze it: all but those of :func:`can_warm_start` estimators."""
    params = estimator.get_params(deep=True)
    off = [
        key
        for key, value in warm_start_params(estimator).items()
        if value is True and not can_warm_start(_owner(estimator, params, key))
    ]
    if off:
        estimator.set_params(**dict.fromkeys(off, False))


def _owner(expert, params, key):
    """The estimator whose parameter ``key`` is (``expert`` or a step)."""
    prefix = key.rpartition("__")[0]
    return params[prefix] if prefix else expert


def give_back_warm_start(experts, templates):
    """Hand each expert's ``warm_start`` (and its steps') back as its template
    had it."""
    for expert, template in zip(experts, templates, strict=True):
        given = {} if is_fixed(expert) else warm_start_params(template)
        if given:
            expert.set_params(**given)


def fit_weighted(estimator, X, y, weight, mode, params=None):
    """Fit ``estimator`` with ``sample_weight=weight`` as its ``mode`` allows.

    ``params`` is other metadata routed to it (``groups``, say). A Pipeline
    without routed metadata gets the weights as ``<last step>__sample_weight``
    with routing switched off for that call, so that its steps need no
    requests; with routed metadata, routing is on and the Pipeline routes
    ``sample_weight`` to the steps that request it.
    """
    params = params or {}
    if np.all(weight == 1.0):
        # A lone expert on unweighted rows: the estimator's own unweighted
        # fit, which some draw differently from a fit with unit weights
        # (RandomForest's bootstrap), so the mixture is the estimator alone.
        return estimator.fit(X, y, **params)
    if mode == "weighted" or params:
        return estimator.fit(X, y, sample_weight=weight, **params)
    last = estimator.steps[-1][0]
    with config_context(enable_metadata_routing=False):
        return estimator.fit(X, y, **{f"{last}__sample_weight": weight})


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


def check_output(values, shape, what, allow=None, largest=None):
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
    largest : float, default=None
        The largest magnitude accepted: beyond ``SAFE_MAGNITUDE`` a
        prediction's squared residual overflows, and the likelihood would be
        NaN with no expert to blame.

    Returns
    -------
    values : ndarray of shape ``shape``
    """
    values = _as_float64(values, what)
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
    if largest is not None and np.any(np.abs(values) > largest):
        n_big = np.count_nonzero(np.abs(values) > largest)
        raise ExpertOutputError(
            f"{n_big} of {shape[0]} rows have {what} beyond {largest:.0e} in "
            f"magnitude (up to {np.abs(values).max():.3g}), where the "
            "likelihood's squared residuals overflow; an expert's predictions, "
            "as y, must lie within it."
        )
    return values


def _as_float64(values, what):
    """``values`` as float64, refusing what would lose information: complex
    numbers (numpy would drop the imaginary part) and non-numbers."""
    raw = np.asarray(values)
    if raw.dtype.kind == "c":
        raise ExpertOutputError(
            f"its {what} are complex ({raw.dtype}); an expert must return real numbers."
        )
    try:
        return raw.astype(np.float64, copy=False)
    except (TypeError, ValueError) as exc:
        raise ExpertOutputError(f"its {what} are not numbers ({exc}).") from exc


def reports_std(expert):
    """Whether a regression expert predicts its own spread, row by row
    (``predict(X, return_std=True)``, as BayesianRidge or a Gaussian process),
    alone or as the last step of a Pipeline (which passes ``return_std`` on)."""
    while isinstance(expert, Pipeline):
        expert = expert.steps[-1][1]
    try:
        return "return_std" in inspect.signature(expert.predict).parameters
    except (TypeError, ValueError):  # a callable without a signature
        return False


def check_proba(proba, shape):
    """Class probabilities of ``shape``: finite, non-negative rows summing to 1
    (to within ``1e-4``, or the rounding of the expert's own float type if
    coarser), else ExpertOutputError.

    Rows off by more than rounding are renormalised in float64: an expert
    working in float32 sums to 1 only to about 1e-7 (float16: 1e-3), and the
    mixture's probabilities would inherit that. Rows already exact are left
    bit for bit as they are.
    """
    dtype = np.asarray(proba).dtype
    resolution = np.finfo(dtype).eps if dtype.kind == "f" else 0.0
    tolerance = max(1e-4, 8 * resolution * shape[1])
    proba = check_output(proba, shape, "probabilities")
    total = proba.sum(axis=1, keepdims=True)
    if np.any(proba < 0) or np.any(np.abs(total - 1) > tolerance):
        raise ExpertOutputError(
            "its probabilities must be non-negative with rows summing to 1; "
            f"got values down to {proba.min():.6g} and row sums from "
            f"{total.min():.6g} to {total.max():.6g}."
        )
    if np.any(np.abs(total - 1) > 1e-12):
        proba = proba / total
    return proba
