"""The arithmetic of the mixture, as small pure functions.

Everything here works on plain arrays, in log space where probabilities are
multiplied, and is weighted by ``sample_weight`` so that a weight of 2 means the
same as a repeated row. Shapes use ``n`` for samples, ``M`` for experts and
``C`` for classes.
"""

import numpy as np

# Below this many columns, row-wise reductions run column by column: numpy's
# pairwise sum adds eight or more in another order.
_FEW_COLUMNS = 8


def logsumexp_rows(values):
    """``log(sum(exp(values), axis=1))`` without overflow or underflow.

    A plain max-shift formula: on the (n, M) arrays of EM it costs half of
    :func:`scipy.special.logsumexp`, which matters because EM calls it several
    times per iteration. With few columns it runs column by column: numpy
    reduces a short row slowly (a quarter of the speed at M = 2), and for
    fewer than eight columns adding them in turn is the order of numpy's own
    sum, so the result is the same to the bit.

    Parameters
    ----------
    values : ndarray of shape (n, M)

    Returns
    -------
    lse : ndarray of shape (n,)
        ``-inf`` for a row of ``-inf``.
    """
    if values.shape[1] >= _FEW_COLUMNS:
        shift = values.max(axis=1)
        shift[~np.isfinite(shift)] = 0.0
        total = np.exp(values - shift[:, np.newaxis]).sum(axis=1)
    else:
        columns = values.T
        shift = columns[0].copy()
        for column in columns[1:]:
            np.maximum(shift, column, out=shift)
        shift[~np.isfinite(shift)] = 0.0
        total = np.exp(columns[0] - shift)
        for column in columns[1:]:
            total += np.exp(column - shift)
    with np.errstate(divide="ignore"):
        return np.log(total) + shift


def log_softmax(logits):
    """Row-wise log-softmax, stable for any finite logits.

    Parameters
    ----------
    logits : ndarray of shape (n, M)

    Returns
    -------
    log_proba : ndarray of shape (n, M)
        ``logits`` minus the row's log-sum-exp; ``exp`` of each row sums to 1.
    """
    return logits - logsumexp_rows(logits)[:, np.newaxis]


def log_responsibilities(log_gate, log_prob):
    """E-step: posterior of each expert for each row, in log space.

    Parameters
    ----------
    log_gate : ndarray of shape (n, M)
        ``log g_i(x)``, the gate's log-probabilities (the priors).
    log_prob : ndarray of shape (n, M)
        ``log p_i(y | x)``, each expert's log-likelihood of the observed target.

    Returns
    -------
    log_resp : ndarray of shape (n, M)
        ``log h_i = log g_i + log p_i - log p(y | x)``; ``exp`` of each row sums to 1.
    log_norm : ndarray of shape (n,)
        ``log p(y | x) = logsumexp_i(log g_i + log p_i)``, the mixture's
        log-likelihood of each row.
    """
    joint = log_gate + log_prob
    log_norm = logsumexp_rows(joint)
    with np.errstate(invalid="ignore"):
        log_resp = joint - log_norm[:, np.newaxis]
    return log_resp, log_norm


def mean_log_likelihood(log_norm, sample_weight):
    """Log-likelihood per unit of sample weight.

    Parameters
    ----------
    log_norm : ndarray of shape (n,)
        Per-row log-likelihood.
    sample_weight : ndarray of shape (n,)
        Non-negative weights, not all zero.

    Returns
    -------
    mean : float
        ``sum(w * log_norm) / sum(w)``. Normalising by the total weight, not by
        ``n``, keeps ``tol`` meaningful when weights stand for repeated rows.
    """
    return float(np.dot(sample_weight, log_norm) / sample_weight.sum())


def weighted_mean_and_var(values, sample_weight):
    """Weighted mean and (biased) variance of each column.

    Parameters
    ----------
    values : ndarray of shape (n,) or (n, d)
    sample_weight : ndarray of shape (n,)

    Returns
    -------
    mean, var : float or ndarray of shape (d,)
    """
    total = sample_weight.sum()
    mean = np.tensordot(sample_weight, values, axes=1) / total
    var = np.tensordot(sample_weight, (values - mean) ** 2, axes=1) / total
    return mean, var


def weighted_nan_mean_and_var(values, sample_weight):
    """Weighted mean and (biased) variance of each column, over the rows
    where it is not NaN; 0 and 0 for a column missing everywhere.

    Parameters
    ----------
    values : ndarray of shape (n, d)
    sample_weight : ndarray of shape (n,)

    Returns
    -------
    mean, var : ndarray of shape (d,)
    """
    present = ~np.isnan(values)
    w = sample_weight[:, np.newaxis] * present
    mass = np.maximum(w.sum(axis=0), np.finfo(np.float64).tiny)
    filled = values if present.all() else np.where(present, values, 0.0)
    del present
    # One (n, d) scratch array, written in place: the same arithmetic as
    # w * (filled - mean) ** 2 in two arrays fewer.
    scratch = np.multiply(w, filled)
    mean = scratch.sum(axis=0) / mass
    np.subtract(filled, mean, out=scratch)
    del filled
    np.square(scratch, out=scratch)
    scratch *= w
    var = scratch.sum(axis=0) / mass
    return mean, var


def standard_scale(mean, var, n_samples):
    """Standard deviations to divide by, with 1 for constant columns.

    Parameters
    ----------
    mean, var : ndarray of shape (d,)
        Weighted column means and variances.
    n_samples : int

    Returns
    -------
    scale : ndarray of shape (d,)
        ``sqrt(var)``, or 1 where the variance is within rounding error of 0
        for a column of that mean (as :class:`~sklearn.preprocessing.StandardScaler`
        decides). The test is relative, so a column of values around 1e-13
        still counts as varying.
    """
    return np.where(varying_columns(mean, var, n_samples), np.sqrt(var), 1.0)


def varying_columns(mean, var, n_samples):
    """Which columns vary beyond the rounding error of their mean, (d,) bool:
    the test of :func:`standard_scale`."""
    eps = np.finfo(np.float64).eps
    return var > n_samples * eps * var + (n_samples * mean * eps) ** 2


def noise_variances(residuals, weights, floor):
    """M-step for the noise of Gaussian experts.

    Parameters
    ----------
    residuals : ndarray of shape (n, M)
        ``y - mu_i(x)`` for each expert.
    weights : ndarray of shape (n, M)
        ``sample_weight * resp``: how much of each row each expert explains.
    floor : float
        Smallest variance allowed. Without it an expert that interpolates a few
        rows drives its variance, and the likelihood, to infinity.

    Returns
    -------
    var : ndarray of shape (M,)
        Responsibility-weighted mean squared residual, at least ``floor``.
    """
    mass = weights.sum(axis=0)
    sq = np.einsum("nm,nm->m", weights, residuals**2)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.where(mass > 0, sq / np.where(mass > 0, mass, 1.0), floor)
    return np.maximum(var, floor)


def gaussian_log_prob(y, mean, var):
    """Log-density of ``y`` under each expert's Gaussian.

    Parameters
    ----------
    y : ndarray of shape (n,)
    mean : ndarray of shape (n, M)
    var : ndarray of shape (M,) or (n, M)

    Returns
    -------
    log_prob : ndarray of shape (n, M)
    """
    return -0.5 * (np.log(2 * np.pi * var) + (y[:, np.newaxis] - mean) ** 2 / var)


def mixture_mean_and_var(gate, mean, var):
    """Mean and variance of a mixture of Gaussians, row by row.

    Parameters
    ----------
    gate : ndarray of shape (n, M)
        Mixing weights; rows sum to 1.
    mean : ndarray of shape (n, M)
        Each expert's mean.
    var : ndarray of shape (M,) or (n, M)
        Each expert's variance.

    Returns
    -------
    mixture_mean : ndarray of shape (n,)
        ``sum_i g_i mu_i``.
    mixture_var : ndarray of shape (n,)
        ``sum_i g_i (var_i + mu_i**2) - mixture_mean**2``, the law of total
        variance (between-expert spread plus within-expert noise).
    """
    mixture_mean = np.einsum("nm,nm->n", gate, mean)
    within = np.einsum("nm,nm->n", gate, np.broadcast_to(var, mean.shape))
    between = np.einsum("nm,nm->n", gate, (mean - mixture_mean[:, np.newaxis]) ** 2)
    return mixture_mean, within + between
