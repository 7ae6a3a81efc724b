"""What an expert's output means as a likelihood.

A regression expert gives a mean (and perhaps its own spread), a classifier
expert class probabilities or bare labels. These functions turn that output,
checked, into the arrays the regressor's and the classifier's likelihoods
read.
"""

import numpy as np
from scipy.special import expit
from sklearn import config_context
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.utils.extmath import softmax

from ._estimators import as_trained, check_output, check_proba
from ._validation import SAFE_MAGNITUDE
from .exceptions import ExpertOutputError

# Smallest probability a classifier expert may give the observed class, so a
# confident mistake costs a large but finite log-likelihood.
PROBA_FLOOR = 1e-12

# Smallest error rate of an expert that predicts labels only: even a rule that
# is right on every row it owns keeps a little doubt, so one miss elsewhere
# costs a finite log-likelihood.
LABEL_NOISE_FLOOR = 1e-4


def predict_mean(expert, X):
    """A regression expert's prediction as float64 of shape (n,), checked."""
    if _is_own_linear(expert, X, (LinearRegression, Ridge)) and expert.coef_.ndim == 1:
        # LinearRegression's and Ridge's predict, without re-validating X.
        mean = X @ expert.coef_ + expert.intercept_
        if np.all(np.isfinite(mean)):
            return mean
    return check_output(
        expert.predict(as_trained(expert, X)),
        (X.shape[0],),
        "predictions",
        largest=SAFE_MAGNITUDE,
    )


def _is_own_linear(expert, X, kinds):
    """Whether ``expert`` is exactly one of ``kinds`` (a subclass may predict
    otherwise), fitted on unnamed columns like ``X``, a dense float64 array
    that the mixture has validated (finite where these experts need it).

    For such an expert the mixture computes ``predict`` (``predict_proba``)
    as scikit-learn does, from ``coef_`` and ``intercept_``, skipping the
    re-validation of ``X`` that would otherwise cost more than the
    prediction at every EM iteration.
    """
    coef = getattr(expert, "coef_", None)
    return (
        type(expert) in kinds
        and isinstance(X, np.ndarray)
        and X.ndim == 2
        and X.dtype == np.float64
        and isinstance(coef, np.ndarray)
        and coef.shape[-1] == X.shape[1]
        and not hasattr(expert, "feature_names_in_")
    )


def _own_logistic_proba(expert, X):
    """LogisticRegression's ``predict_proba`` as it computes it, or None if
    the result is not finite (left to the checked path to report) or the
    expert is one-vs-rest or a binary multinomial, whose probabilities
    scikit-learn before 1.8 computes otherwise."""
    binary = len(expert.classes_) <= 2
    multi_class = getattr(expert, "multi_class", "deprecated")
    multinomial = multi_class == "multinomial" or (
        multi_class in ("auto", "deprecated") and expert.solver != "liblinear"
    )
    formula_known = multi_class != "multinomial" if binary else multinomial
    if not formula_known:
        return None
    scores = X @ expert.coef_.T + expert.intercept_
    if binary:
        proba = np.empty((len(scores), 2))
        positive = expit(scores.reshape(-1), out=proba[:, 1])
        np.subtract(1.0, positive, out=proba[:, 0])
    else:
        proba = softmax(scores, copy=False)
    return proba if np.all(np.isfinite(proba)) else None


def predict_mean_and_var(expert, X):
    """A probabilistic regression expert's mean and variance, float64 (n,).

    The variance is 0 on the rows where the expert states no spread (a zero
    std; :class:`~sklearn.dummy.DummyRegressor` gives it everywhere): the
    mixture puts the fitted noise variance in its place
    (:func:`own_variance`).
    """
    # A Pipeline passes return_std to its last step only without routing
    # (with it, it would ask for a request, as for metadata).
    with config_context(enable_metadata_routing=False):
        mean, std = expert.predict(as_trained(expert, X), return_std=True)
    mean = check_output(mean, (X.shape[0],), "predictions", largest=SAFE_MAGNITUDE)
    std = check_output(std, (X.shape[0],), "standard deviations")
    if np.any(std < 0):
        raise ExpertOutputError("it returned negative standard deviations.")
    return mean, std**2


def own_variance(var, noise_var, floor):
    """An expert's own variances (n,), as the mixture uses them: floored like
    the noise, and its fitted ``noise_var`` on the rows where it stated no
    spread (a zero variance would make its likelihood there infinite).

    Decided row by row, so a row's variance does not depend on the other
    rows predicted with it (or routed to the expert by ``top_k``).
    """
    return np.where(var > 0, np.maximum(var, floor), noise_var)


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
    if len(set(expert_classes.tolist())) != len(expert_classes):
        raise ExpertOutputError(
            f"its classes_ {expert_classes.tolist()!r} hold duplicates, so its "
            "probability columns cannot be matched to classes."
        )
    proba = None
    if _is_own_linear(expert, X, (LogisticRegression,)):
        proba = _own_logistic_proba(expert, X)
    if proba is None:
        shape = (X.shape[0], len(expert_classes))
        proba = check_proba(expert.predict_proba(as_trained(expert, X)), shape)
    if len(expert_classes) == len(classes) and np.all(expert_classes == classes):
        return proba
    columns, known = class_index(expert_classes, classes)
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
    columns, known = class_index(np.asarray(labels), classes)
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
    columns, known = class_index(np.asarray(labels), classes)
    opinion = weight * known
    wrong = np.dot(opinion, columns != y_index)
    rate = wrong / max(opinion.sum(), np.finfo(np.float64).tiny)
    n_classes = len(classes)
    return float(np.clip(rate, LABEL_NOISE_FLOOR, (n_classes - 1) / n_classes))


def class_index(labels, classes):
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
