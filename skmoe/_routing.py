"""Routing: top-k selection at predict time, and how EM assigns rows to experts.

Shapes use ``n`` for samples and ``M`` for experts.
"""

import numbers

import numpy as np

from ._math import log_softmax

ASSIGNMENTS = ("soft", "hard", "stochastic", "annealed")

# Default annealing schedule: soft EM first (temperature 1), then every
# iteration 20% colder, down to 0.05, where posteriors are all but one-hot.
_ANNEAL_START, _ANNEAL_RATE, _ANNEAL_END = 1.0, 0.8, 0.05


def check_top_k(top_k, n_experts):
    """Validate ``top_k``: None (all experts) or an int in [1, n_experts]."""
    if top_k is None:
        return
    if not isinstance(top_k, numbers.Integral) or isinstance(top_k, bool):
        raise TypeError(f"'top_k' must be None or an int, got {top_k!r}.")
    if not 1 <= top_k <= n_experts:
        raise ValueError(
            f"'top_k' must be between 1 and the number of experts ({n_experts}), "
            f"got {top_k}."
        )


def top_k_weights(gate, top_k):
    """Keep each row's ``top_k`` largest gate probabilities, renormalised.

    Parameters
    ----------
    gate : ndarray of shape (n, M)
    top_k : int or None
        None keeps every expert.

    Returns
    -------
    weights : ndarray of shape (n, M)
        Zero outside each row's top ``top_k``; rows sum to 1.
    """
    n_samples, n_experts = gate.shape
    if top_k is None or top_k >= n_experts:
        return gate
    weights = np.zeros_like(gate)
    if top_k == 1:  # the common case, without a partial sort
        weights[np.arange(n_samples), np.argmax(gate, axis=1)] = 1.0
        return weights
    # A stable sort breaks ties by position, as argmax does: each row's top
    # k then holds its top k - 1, and the expert predict_expert names.
    chosen = np.argsort(-gate, axis=1, kind="stable")[:, :top_k]
    kept = np.take_along_axis(gate, chosen, axis=1)
    kept /= kept.sum(axis=1, keepdims=True)
    np.put_along_axis(weights, chosen, kept, axis=1)
    return weights


def routed_rows(weights):
    """For each expert, the rows routed to it: ``None`` for all rows.

    Yields
    ------
    index : int
        The expert.
    rows : ndarray of int, or None
        Rows with a positive weight; None when that is every row, so callers
        can pass ``X`` itself instead of a copy. Experts without rows are
        skipped: they are never evaluated.
    """
    n_samples = weights.shape[0]
    # One contiguous row of flags per expert: scanning columns would stride.
    routed = np.ascontiguousarray((weights > 0).T)
    for index, flags in enumerate(routed):
        rows = np.flatnonzero(flags)
        if len(rows) == n_samples:
            yield index, None
        elif len(rows):
            yield index, rows


def take_rows(X, rows):
    """``X[rows]``, or ``X`` itself when ``rows`` is None."""
    return X if rows is None else X[rows]


def routed_blocks(weights, X):
    """Each expert with the rows of ``X`` routed to it, for one call each.

    Yields
    ------
    index : int
        The expert.
    where : slice or ndarray of int
        Where its results go in an (n, ...) array.
    X_rows : ndarray or sparse matrix
        Those rows of ``X`` (``X`` itself when every row is routed to it).
    """
    for index, rows in routed_rows(weights):
        yield index, (slice(None) if rows is None else rows), take_rows(X, rows)


def check_temperatures(temperatures):
    """Validate an annealing schedule; None gives the default schedule."""
    if temperatures is None:
        return None
    try:
        schedule = np.asarray(temperatures, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"'temperatures' must be None or a sequence of numbers, got "
            f"{temperatures!r}."
        ) from exc
    if schedule.ndim > 1:
        raise ValueError(
            f"'temperatures' must be a 1-D sequence (one temperature per EM "
            f"iteration), got an array of shape {schedule.shape}."
        )
    schedule = schedule.reshape(-1)
    if len(schedule) == 0 or not np.all(np.isfinite(schedule)):
        raise ValueError(
            f"'temperatures' must be a non-empty sequence of finite numbers, got "
            f"{temperatures!r}."
        )
    if np.any(schedule <= 0):
        raise ValueError(f"'temperatures' must all be positive, got {temperatures!r}.")
    if np.any(np.diff(schedule) > 0):
        raise ValueError(
            f"'temperatures' must not rise: annealing goes from soft to hard; got "
            f"{temperatures!r}."
        )
    return schedule


def temperature(schedule, n_iter):
    """Temperature of EM iteration ``n_iter`` (1-based); the last one repeats."""
    if schedule is None:
        return max(_ANNEAL_START * _ANNEAL_RATE ** (n_iter - 1), _ANNEAL_END)
    return schedule[min(n_iter, len(schedule)) - 1]


def schedule_length(schedule):
    """Iterations before the temperature stops falling."""
    if schedule is None:
        steps = np.log(_ANNEAL_END / _ANNEAL_START) / np.log(_ANNEAL_RATE)
        return int(np.ceil(steps)) + 1
    return len(schedule)


def assign(log_resp, assignment, n_iter, schedule, rng):
    """Responsibilities for the next M-step, from the posteriors.

    Parameters
    ----------
    log_resp : ndarray of shape (n, M)
        Log posteriors from the E-step.
    assignment : {"soft", "hard", "stochastic", "annealed"}
        ``"soft"``: the posteriors (EM). ``"hard"``: each row to its most
        probable expert (classification EM, hard routing). ``"stochastic"``:
        each row to an expert drawn from its posterior (stochastic EM, the EM
        counterpart of noisy gating). ``"annealed"``: posteriors raised to the
        power ``1 / T`` and renormalised, with ``T`` falling over the
        iterations (soft routing that ends hard).
    n_iter : int
        Current EM iteration, for the annealing schedule.
    schedule : ndarray or None
        Validated temperatures.
    rng : numpy.random.RandomState
        Used by ``"stochastic"``.

    Returns
    -------
    resp : ndarray of shape (n, M)
    """
    if assignment == "soft":
        return np.exp(log_resp)
    if assignment == "annealed":
        # Each row's largest entry is 0 before dividing: a temperature near
        # the smallest float would otherwise turn a whole row into -inf.
        shifted = log_resp - log_resp.max(axis=1, keepdims=True)
        return np.exp(log_softmax(shifted / temperature(schedule, n_iter)))
    if assignment == "hard":
        chosen = np.argmax(log_resp, axis=1)
    else:
        cumulative = np.cumsum(np.exp(log_resp), axis=1)
        draws = rng.uniform(size=(len(log_resp), 1)) * cumulative[:, -1:]
        chosen = np.minimum((cumulative < draws).sum(axis=1), log_resp.shape[1] - 1)
    return np.eye(log_resp.shape[1])[chosen]
