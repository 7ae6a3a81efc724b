"""The candidate path of the CV estimators: every ``(n_experts, gate__alpha)``
of the grid fitted on one training split, each started from its neighbour.

- more experts from fewer: the ``K``-expert mixture starts from the fitted
  ``K - 1``-expert one, whose expert with the largest share is split in two
  (:func:`split_responsibilities`);
- a path over the gate penalty, from the largest ``gate__alpha`` to the
  smallest, each fit starting from the responsibilities of the previous one
  at the same number of experts;
- one expert has no gate, so it is fitted once for every penalty.

The functions here know nothing of the estimators' parameters: a candidate's
unfitted mixture comes from ``make(n_experts, alpha, restarts=...)``, a
callable the estimator provides (its parameters, the grid's values and the
seed bound in).
"""

import numbers
import time
from contextlib import nullcontext
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.stats import rankdata

from ._init import standardize, weighted_kmeans, y_factor
from ._warn import quietly

# Share of a split expert's responsibility left with the other half of its
# rows: a hard split would let the two new experts' gate weights run off in
# the first M-step, as a hard start does.
_SPLIT_SOFTENING = 0.2


class TrainingData(NamedTuple):
    """The rows the candidates are fitted on.

    ``X_raw`` is what the mixtures see (a DataFrame kept as it is, so that
    column selectors may name its columns); ``X`` the validated array of
    shape (n, p); ``y`` of shape (n,); ``sample_weight`` of shape (n,);
    ``target`` the target as columns, of shape (n, c) (one column for
    regression, one-hot labels for classification), where experts are split;
    ``fit_params`` the metadata routed to the mixtures' ``fit`` (for their
    experts), row-aligned values cut to these rows.
    """

    X_raw: Any
    X: Any
    y: np.ndarray
    sample_weight: np.ndarray
    target: np.ndarray
    fit_params: dict


class HeldOut(NamedTuple):
    """The validation rows: ``X_raw`` as the mixtures take it, ``y`` and
    ``sample_weight`` of shape (n,)."""

    X_raw: Any
    y: np.ndarray
    sample_weight: np.ndarray


class PathScores(NamedTuple):
    """One split's candidates, each of shape (n_candidates,) in
    :func:`candidate_grid` order: mean held-out log-likelihood per row, fit
    seconds and EM iterations (0 where a fit was reused)."""

    scores: np.ndarray
    seconds: np.ndarray
    n_iter: np.ndarray


# ---- the grid ----------------------------------------------------------------


def _refuse_iterator(grid, name, allowed):
    """Refuse a one-pass iterator (a generator): a parameter is read at
    every fit, by ``get_tags`` and by ``clone``, and it would be empty after
    the first."""
    if iter_is_self(grid):
        raise TypeError(
            f"{name!r} must be {allowed}, not an iterator that can be read only "
            f"once; got {grid!r}. Pass a list or a tuple (list({name}))."
        )


def iter_is_self(value):
    """Whether ``value`` is its own iterator (a generator, ``iter(list)``)."""
    try:
        return iter(value) is value
    except TypeError:
        return False


def check_grid(n_experts_grid, alphas):
    """Validate the grids; return them in path order.

    Parameters
    ----------
    n_experts_grid : sequence of int
        Each at least 1, none repeated.
    alphas : sequence of float or None
        Each finite and non-negative, none repeated.

    Returns
    -------
    ks : list of int
        Increasing.
    alphas : list of float or None
        Decreasing.
    """
    _refuse_iterator(
        n_experts_grid, "n_experts_grid", "a non-empty sequence of ints >= 1"
    )
    try:
        ks = list(n_experts_grid)
    except TypeError:
        raise TypeError(
            "'n_experts_grid' must be a non-empty sequence of ints >= 1, got "
            f"{n_experts_grid!r}."
        ) from None
    bad = [
        k
        for k in ks
        if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1
    ]
    if not ks or bad:
        raise ValueError(
            "'n_experts_grid' must be a non-empty sequence of ints >= 1, got "
            f"{n_experts_grid!r}."
        )
    if len(set(ks)) != len(ks):
        raise ValueError(
            f"'n_experts_grid' must not repeat a value, got {n_experts_grid!r}."
        )
    if alphas is None:
        return sorted(int(k) for k in ks), None
    _refuse_iterator(
        alphas, "alphas", "None or a non-empty sequence of non-negative floats"
    )
    try:
        values = list(alphas)
    except TypeError:
        raise TypeError(
            "'alphas' must be None or a non-empty sequence of non-negative "
            f"floats, got {alphas!r}."
        ) from None
    bad = [
        a
        for a in values
        if not isinstance(a, numbers.Real) or isinstance(a, bool) or not 0 <= a < np.inf
    ]
    if not values or bad:
        raise ValueError(
            "'alphas' must be None or a non-empty sequence of finite, "
            f"non-negative floats, got {alphas!r}."
        )
    if len(set(values)) != len(values):
        raise ValueError(f"'alphas' must not repeat a value, got {alphas!r}.")
    return sorted(int(k) for k in ks), sorted((float(a) for a in values), reverse=True)


def candidate_grid(n_experts_grid, alphas):
    """The candidates in the order they are reported and tie-broken:
    fewer experts first, then the larger gate penalty.

    Parameters
    ----------
    n_experts_grid : sequence of int, increasing
    alphas : sequence of float, decreasing, or None

    Returns
    -------
    params : list of dict
        ``{"n_experts": K, "gate__alpha": alpha}`` (no ``gate__alpha`` when
        ``alphas`` is None).

    Examples
    --------
    >>> from skmoe._cv_path import candidate_grid
    >>> candidate_grid((1, 2), (1.0, 0.1))
    [{'n_experts': 1, 'gate__alpha': 1.0}, {'n_experts': 1, 'gate__alpha': 0.1}, \
{'n_experts': 2, 'gate__alpha': 1.0}, {'n_experts': 2, 'gate__alpha': 0.1}]
    """
    if alphas is None:
        return [{"n_experts": k} for k in n_experts_grid]
    return [{"n_experts": k, "gate__alpha": a} for k in n_experts_grid for a in alphas]


# ---- splitting an expert -----------------------------------------------------


def split_features(X_gate, target, sample_weight):
    """The space in which an expert's rows are split: the gate's inputs and
    the target, each standardised, the target given as much say as all the
    gate's columns together (as the ``"kmeans_xy"`` start does).

    Parameters
    ----------
    X_gate : ndarray of shape (n, d)
    target : ndarray of shape (n, c)
        The regression target as one column, or one-hot class labels.
    sample_weight : ndarray of shape (n,)

    Returns
    -------
    Z : ndarray of shape (n, d + c)
    """
    X_gate = np.asarray(X_gate, dtype=np.float64)
    Z = standardize(X_gate, sample_weight)
    target = standardize(np.asarray(target, dtype=np.float64), sample_weight)
    target *= y_factor(X_gate, sample_weight, target.shape[1])
    return np.hstack([Z, target])


def split_responsibilities(resp, Z, sample_weight, n_experts, rng):
    """Responsibilities for ``n_experts`` experts, grown from those of fewer.

    While there are too few columns, the expert with the largest share of
    the weighted responsibility is split in two: weighted 2-means of the rows
    in ``Z``, each row weighted by its responsibility, decides which half of
    the expert's share a row keeps; the other half gets a softened part, so
    that EM can move the border.

    Parameters
    ----------
    resp : ndarray of shape (n, M)
        Rows sum to 1.
    Z : ndarray of shape (n, d)
        Where rows are compared (see :func:`split_features`).
    sample_weight : ndarray of shape (n,)
    n_experts : int
        At least ``M``.
    rng : numpy.random.RandomState

    Returns
    -------
    resp : ndarray of shape (n, n_experts)
        Rows sum to 1; the experts not split keep their columns.

    Examples
    --------
    >>> import numpy as np
    >>> from skmoe._cv_path import split_responsibilities
    >>> Z = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> resp = split_responsibilities(
    ...     np.ones((4, 1)), Z, np.ones(4), 2, np.random.RandomState(0)
    ... )
    >>> resp.round(1)
    array([[0.8, 0.2],
           [0.8, 0.2],
           [0.2, 0.8],
           [0.2, 0.8]])
    """
    resp = np.asarray(resp, dtype=np.float64)
    while resp.shape[1] < n_experts:
        largest = int(np.argmax(sample_weight @ resp))
        owned = resp[:, largest]
        labels = weighted_kmeans(Z, sample_weight * owned, 2, rng)
        # The half that holds the first row of the split keeps the column, so
        # the result does not depend on k-means' cluster numbering.
        first = labels[np.argmax(owned > 0)]
        keep = np.where(labels == first, 1 - _SPLIT_SOFTENING, _SPLIT_SOFTENING)
        resp = np.column_stack([resp, owned * (1 - keep)])
        resp[:, largest] = owned * keep
    return resp


def grown_start(model, data, n_experts, rng):
    """Responsibilities for ``n_experts`` experts from a fitted mixture:
    its own on ``data``, with its largest experts split until there are
    enough.

    Parameters
    ----------
    model : fitted mixture with M <= n_experts experts
    data : TrainingData with n rows
    n_experts : int
    rng : numpy.random.RandomState

    Returns
    -------
    resp : ndarray of shape (n, n_experts)
    """
    resp = model.responsibilities(data.X_raw, data.y)
    if resp.shape[1] >= n_experts:
        return resp
    X_gate = data.X[:, model.gate_features_]
    if sp.issparse(X_gate):
        X_gate = X_gate.toarray()
    Z = split_features(X_gate, data.target, data.sample_weight)
    return split_responsibilities(resp, Z, data.sample_weight, n_experts, rng)


# ---- the path ----------------------------------------------------------------


def fit_candidate(make, n_experts, alpha, start, data, quiet):
    """Fit one candidate from the responsibilities ``start``.

    Parameters
    ----------
    make : callable
        ``make(n_experts, alpha, restarts=bool)`` -> unfitted mixture.
    n_experts : int
    alpha : float or None
    start : ndarray of shape (n, n_experts) or None
        None: the mixture's own ``init_params`` and ``n_init`` restarts;
        otherwise one start, from these responsibilities.
    data : TrainingData with n rows
    quiet : bool
        Silence the fit's UserWarnings.

    Returns
    -------
    model : fitted mixture
    seconds : float
        Its fit time.
    """
    model = make(n_experts, alpha, restarts=start is None)
    begin = time.perf_counter()
    # Candidates with too many experts starve some of them: that is what the
    # held-out score is there to judge.
    with quietly() if quiet else nullcontext():
        model.fit(
            data.X_raw,
            data.y,
            sample_weight=data.sample_weight,
            init_resp=start,
            **data.fit_params,
        )
    return model, time.perf_counter() - begin


def grow(make, smaller, n_experts, alpha, data, rng, quiet):
    """The ``n_experts`` candidate, started from the fitted ``smaller`` one
    with its largest expert split (None: from the mixture's own start).

    Returns (model, seconds) as :func:`fit_candidate`.
    """
    if smaller is None:
        return fit_candidate(make, n_experts, alpha, None, data, quiet)
    start = grown_start(smaller, data, n_experts, rng)
    return fit_candidate(make, n_experts, alpha, start, data, quiet)


def next_penalty(make, previous, n_experts, alpha, data, rng, quiet):
    """The candidate at penalty ``alpha``, started from the fitted one at the
    previous (larger) penalty; with one expert, ``previous`` itself.

    Returns (model, seconds) as :func:`fit_candidate`; 0 seconds for a reused
    fit.
    """
    if n_experts == 1:
        return previous, 0.0  # no gate: the penalty changes nothing
    # grown_start splits again only if the previous fit pruned a dead expert.
    start = grown_start(previous, data, n_experts, rng)
    return fit_candidate(make, n_experts, alpha, start, data, quiet)


def weighted_mean(values, weight):
    """Weighted mean of ``values`` (n,) with ``weight`` (n,), as a float."""
    return float(np.average(values, weights=weight))


def score_path(make, data, held_out, ks, alphas, rng):
    """Every candidate on one training split, scored on ``held_out``.

    Parameters
    ----------
    make : callable
        ``make(n_experts, alpha, restarts=bool)`` -> unfitted mixture.
    data : TrainingData
    held_out : HeldOut
    ks : list of int, increasing
    alphas : list of float, decreasing, or None
    rng : numpy.random.RandomState
        Draws the splits of experts.

    Returns
    -------
    PathScores
        Each of shape (len(ks) * len(alphas),) in :func:`candidate_grid` order.
    """
    penalties = [None] if alphas is None else alphas
    shape = (len(ks), len(penalties))
    scores, seconds, n_iter = np.empty(shape), np.empty(shape), np.empty(shape)
    previous_row = [None] * len(ks)
    for j, alpha in enumerate(penalties):
        smaller = None
        row = []
        for i, k in enumerate(ks):
            if j == 0:
                model, took = grow(make, smaller, k, alpha, data, rng, True)
            else:
                model, took = next_penalty(
                    make, previous_row[i], k, alpha, data, rng, True
                )
            smaller = model
            row.append(model)
            log_lik = model.log_likelihood(held_out.X_raw, held_out.y)
            scores[i, j] = weighted_mean(log_lik, held_out.sample_weight)
            seconds[i, j] = took
            n_iter[i, j] = model.n_iter_ if took else 0
        previous_row = row
    return PathScores(scores.ravel(), seconds.ravel(), n_iter.ravel())


def refit_path(make, data, ks, alphas, n_experts, alpha, rng):
    """The chosen candidate on ``data``, reached as in the folds: grown
    expert by expert at the first penalty, then along the path to ``alpha``.
    Only its own fit is not quiet.

    Returns
    -------
    model : fitted mixture
    """
    first = None if alphas is None else alphas[0]
    model = None
    for k in ks:
        if k > n_experts:
            break
        # Quiet unless this is the chosen fit itself: at the chosen number
        # of experts, the first penalty is a step along the way to another.
        quiet = k < n_experts or alpha != first
        model, _ = grow(make, model, k, first, data, rng, quiet)
    if alphas is not None:
        for a in alphas[1 : alphas.index(alpha) + 1]:
            model, _ = next_penalty(make, model, n_experts, a, data, rng, a != alpha)
    return model


# ---- cv_results_ -------------------------------------------------------------


def chosen_candidate(scores, n_experts, selection):
    """Index of the candidate that ``selection`` picks from the fold scores.

    ``"best"`` picks the highest mean held-out score. ``"one_se"`` picks the
    fewest experts whose best mean is within one standard error of the
    highest mean -- the standard error being that of the best candidate's
    fold scores, ``std(ddof=1) / sqrt(n_splits)`` -- and at that number of
    experts the best penalty: the one-standard-error rule of Hastie,
    Tibshirani and Friedman (*Elements of Statistical Learning*, 7.10),
    applied to the capacity. A difference within a standard error is one
    another draw of the folds could reverse, and an extra expert is then
    variance without a measured gain. The gate's penalty is left to the
    best mean: a larger one is simpler too, but trading it away costs
    held-out likelihood the folds do measure (``benchmarks/CV.md``).

    Parameters
    ----------
    scores : ndarray of shape (n_splits, n_candidates)
        Mean held-out log-likelihood per row of each candidate on each fold,
        candidates in :func:`candidate_grid` order.
    n_experts : ndarray of shape (n_candidates,)
        Each candidate's number of experts.
    selection : {"one_se", "best"}

    Returns
    -------
    index : int
        Among equal means, the first (fewer experts, then the larger
        penalty).

    Examples
    --------
    >>> import numpy as np
    >>> from skmoe._cv_path import chosen_candidate
    >>> scores = np.array([[-0.30, -0.26], [-0.31, -0.32], [-0.30, -0.29]])
    >>> chosen_candidate(scores, [1, 2], "best")
    1
    >>> chosen_candidate(scores, [1, 2], "one_se")
    0
    """
    mean = scores.mean(axis=0)
    mean = np.where(np.isnan(mean), -np.inf, mean)  # a failed score ranks last
    best = int(np.argmax(mean))
    n_splits = scores.shape[0]
    if selection == "best" or n_splits < 2 or not np.isfinite(mean[best]):
        return best
    se = np.std(scores[:, best], ddof=1) / np.sqrt(n_splits)
    n_experts = np.asarray(n_experts)
    fewest = n_experts[mean >= mean[best] - se].min()
    return int(np.argmax(np.where(n_experts == fewest, mean, -np.inf)))


def cv_results(params, scores, seconds, n_iter):
    """``cv_results_`` as :class:`~sklearn.model_selection.GridSearchCV`
    reports it.

    Parameters
    ----------
    params : list of dict, n_candidates of them
    scores, seconds, n_iter : ndarray of shape (n_splits, n_candidates)

    Returns
    -------
    results : dict of ndarray
    """
    results = {"params": params}
    for key in params[0]:
        results[f"param_{key}"] = np.array([p[key] for p in params])
    for split, split_scores in enumerate(scores):
        results[f"split{split}_test_score"] = split_scores
    mean = scores.mean(axis=0)
    results["mean_test_score"] = mean
    results["std_test_score"] = scores.std(axis=0)
    # As GridSearchCV: equal scores share the best rank; NaN ranks last.
    filled = np.where(np.isnan(mean), -np.inf, mean)
    results["rank_test_score"] = rankdata(-filled, method="min").astype(np.int32)
    results["mean_fit_time"] = seconds.mean(axis=0)
    results["std_fit_time"] = seconds.std(axis=0)
    results["mean_n_iter"] = n_iter.mean(axis=0)
    return results
