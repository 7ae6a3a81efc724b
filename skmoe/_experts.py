"""Experts: validation, seeding, weighted fitting and their likelihoods."""

import numpy as np
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.utils.validation import has_fit_parameter

# Smallest responsibility an expert is fitted with. Soft EM never assigns a row
# exactly zero in exact arithmetic, but exp() underflows; an expert whose
# weights all underflow would otherwise receive all-zero sample weights, which
# scikit-learn estimators reject.
RESP_FLOOR = np.finfo(np.float64).eps

# Smallest probability a classifier expert may give the observed class, so a
# confident mistake costs a large but finite log-likelihood.
PROBA_FLOOR = 1e-12


def has_own_likelihood(expert):
    """Whether ``expert`` reports its own per-row ``log_likelihood(X, y)``."""
    return callable(getattr(expert, "log_likelihood", None))


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
    is_kind = is_classifier if kind == "classifier" else is_regressor
    if not is_kind(expert):
        raise ValueError(
            f"Expert {name!r} ({type(expert).__name__}) should be a {kind}."
        )
    if kind == "classifier" and not hasattr(expert, "predict_proba"):
        raise TypeError(
            f"Expert {name!r} ({type(expert).__name__}) has no predict_proba; a "
            "classifier expert needs class probabilities for its likelihood. "
            "Wrap it, e.g. in sklearn.calibration.CalibratedClassifierCV."
        )
    if not has_fit_parameter(expert, "sample_weight"):
        raise TypeError(
            f"Expert {name!r} ({type(expert).__name__}) does not accept "
            "sample_weight in fit, which EM needs to give it its share of each row."
        )


def seeded_clone(expert, rng):
    """Clone ``expert`` and fix every ``random_state`` it holds, nested ones too.

    Seeds are drawn from the mixture's ``rng`` so that a mixture with an integer
    ``random_state`` is reproducible, whatever its experts were given.
    """
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
# Ensembles are left out on purpose: their warm_start means "keep the fitted
# members and only add new ones", which would freeze an expert after its first
# M-step.
_WARM_START_MODULES = ("sklearn.linear_model", "sklearn.neural_network")


def can_warm_start(expert):
    """Whether EM may refit ``expert`` starting from its previous solution."""
    return (
        type(expert).__module__.startswith(_WARM_START_MODULES)
        and "warm_start" in expert.get_params(deep=False)
    )


def set_warm_start(experts, values):
    """Set ``warm_start`` on the experts that :func:`can_warm_start`."""
    for expert, value in zip(experts, values, strict=True):
        if can_warm_start(expert):
            expert.set_params(warm_start=value)


def fit_expert(expert, X, y, weight):
    """M-step for one expert: fit it with its responsibility-weighted rows."""
    return expert.fit(X, y, sample_weight=weight)


def predict_mean(expert, X):
    """A regression expert's prediction as float64 of shape (n,)."""
    return np.asarray(expert.predict(X), dtype=np.float64).reshape(-1)


def aligned_proba(expert, X, classes):
    """A classifier expert's probabilities with columns in the mixture's order.

    An expert that saw only some classes has fewer columns; the missing
    classes get probability 0.

    Parameters
    ----------
    expert : fitted classifier
    X : ndarray of shape (n, d)
    classes : ndarray of shape (C,)
        The mixture's sorted ``classes_``.

    Returns
    -------
    proba : ndarray of shape (n, C)
    """
    proba = np.asarray(expert.predict_proba(X), dtype=np.float64)
    expert_classes = np.asarray(expert.classes_)
    if len(expert_classes) == len(classes) and np.all(expert_classes == classes):
        return proba
    columns = np.searchsorted(classes, expert_classes)
    aligned = np.zeros((proba.shape[0], len(classes)))
    aligned[:, columns] = proba
    return aligned
