"""A model-free estimate of the regression noise, for the regressor's floor.

The floor keeps an expert's noise variance from collapsing onto a few rows it
fits exactly. Relative to ``Var(y)`` it binds whenever regimes differ by much
more than the noise (two lines of slopes -50 and +50 with noise sd 0.1: a
fitted sd of 0.46 and intervals five times too wide), so the floor is set
relative to an estimate of the noise itself: half the mean squared difference
of ``y`` between nearest neighbours in ``x`` (Rice 1984, in several
dimensions). It measures noise, not misfit: a mean that bends or jumps does
not inflate it as a single linear fit's residuals would. Where neighbours lie
far apart (several dimensions), a sloped mean does inflate it, so the
differences of the residuals of one linear fit are taken too, and the smaller
estimate kept.
"""

import numpy as np
import scipy.sparse as sp
from joblib import parallel_backend
from sklearn.neighbors import NearestNeighbors

from ._math import standard_scale, weighted_nan_mean_and_var

# Above this many distinct rows the estimate uses evenly spaced rows of the
# sorted data: neighbours then lie farther apart, which can only raise it
# (safe for a floor) and keeps its cost bounded.
MAX_ROWS = 10_000

# Sparse inputs of at most this many cells are made dense (the estimate is then
# the dense one). Larger ones are projected onto a few random directions first
# (nearest neighbours are approximately kept, Johnson-Lindenstrauss), so that
# duplicate rows can be merged and no wide matrix is densified.
DENSE_CELLS = 10_000_000
SPARSE_DIMENSIONS = 32


def nn_noise_variance(X, y, sample_weight):
    """Half the weighted mean squared difference of ``y`` between each row and
    its nearest neighbour in the standardised inputs.

    Identical ``(x, y)`` rows are merged first, so that a weight of k acts as
    k repeated rows. Missing values sit at the column's mean.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,)

    Returns
    -------
    noise_var : float
        The estimate; 0.0 with fewer than two distinct rows of positive weight.
    """
    keep = sample_weight > 0
    if not keep.all():  # a copy of X only when rows are left out
        X, y, sample_weight = X[keep], y[keep], sample_weight[keep]
    if sp.issparse(X) and X.shape[0] * X.shape[1] <= DENSE_CELLS:
        X = X.toarray()
    rows, inverse = _distinct_rows(_standardised_with_target(X, y, sample_weight))
    weight = np.bincount(inverse, weights=sample_weight)
    if len(rows) < 2:
        return 0.0
    if len(rows) > MAX_ROWS:
        take = np.linspace(0, len(rows) - 1, MAX_ROWS).astype(np.intp)
        rows, weight = rows[take], weight[take]
    Z, y = rows[:, :-1], rows[:, -1]
    # One small query, kept off any joblib backend the user has active: a
    # Dask cluster would receive the tree (or fail, if it went away).
    with parallel_backend("sequential"):
        _, index = NearestNeighbors(n_neighbors=2).fit(Z).kneighbors(Z)
    # With another y at the same x, either row may come first.
    other = np.where(index[:, 0] == np.arange(len(y)), index[:, 1], index[:, 0])
    estimate = _half_mean_squared_difference(y, other, weight)
    # Neighbours in several dimensions lie far apart, and the slope of the
    # mean times their distance then adds to the difference: on one line
    # y = 3 (x1 + ... + x5) + noise at 200 rows the raw estimate is 5,000
    # times the noise variance. Differences of the residuals of a linear fit
    # carry no linear trend; either estimate exceeds the noise by what the
    # mean does between neighbours, so the smaller one is the closer.
    residual, dof = _linear_residual(Z, y, weight)
    if residual is not None:
        detrended = _half_mean_squared_difference(residual, other, weight) / dof
        estimate = min(estimate, detrended)
    return estimate


def _half_mean_squared_difference(values, other, weight):
    """Half the weighted mean of ``(values - values[other]) ** 2``."""
    return 0.5 * float(np.average((values - values[other]) ** 2, weights=weight))


def _linear_residual(Z, y, weight):
    """Residuals of the weighted least-squares line of ``y`` on ``Z`` (n, d),
    and the share of the data's effective size left to them (a residual's
    variance is ``(1 - leverage)`` times the noise's); ``(None, None)`` when
    the fit has too few rows per parameter to leave the noise in its
    residuals (fewer than two)."""
    design = np.column_stack([Z, np.ones(len(y))])
    # Kish's effective number of rows: unchanged when all weights are scaled.
    n_eff = weight.sum() ** 2 / (weight**2).sum()
    root = np.sqrt(weight)
    coef, _, rank, _ = np.linalg.lstsq(
        design * root[:, np.newaxis], y * root, rcond=None
    )
    if n_eff < 2 * rank:
        return None, None
    return y - design @ coef, 1.0 - rank / n_eff


def _distinct_rows(A):
    """The distinct rows of ``A`` (n, k) in lexicographic order, and the
    index of each row of ``A`` among them: ``np.unique(A, axis=0,
    return_inverse=True)``, the same arrays, by one sort of the columns' keys
    (half the time of np.unique's sort of whole rows)."""
    order = np.lexsort(A.T[::-1])
    ordered = A[order]
    first = np.ones(len(A), dtype=bool)
    np.any(ordered[1:] != ordered[:-1], axis=1, out=first[1:])
    inverse = np.empty(len(A), dtype=np.intp)
    inverse[order] = np.cumsum(first) - 1
    return (ordered if first.all() else ordered[first]), inverse


def _standardised_with_target(X, y, sample_weight):
    """``[Z, y]``, (n, k + 1), with ``Z`` the inputs (n, d) on unit weighted
    scale (k = d; constant columns, up to rounding, left as they are),
    sparse ones scaled, then projected onto k = SPARSE_DIMENSIONS fixed
    random directions."""
    if sp.issparse(X):
        # Canonical form, so that equal rows project to equal bits.
        X = sp.csr_matrix(X, dtype=np.float64)
        X.sum_duplicates()
        X.sort_indices()
    else:
        X = np.asarray(X, dtype=np.float64)
    mean, var = _column_moments(X, sample_weight)
    # Constant up to rounding is constant, as for the gate and the start:
    # rounding noise on unit scale would decide which rows are neighbours.
    scale = standard_scale(mean, var, X.shape[0])
    if sp.issparse(X):
        rng = np.random.default_rng(0)
        directions = rng.standard_normal((X.shape[1], SPARSE_DIMENSIONS))
        return np.column_stack([np.asarray(X @ (directions / scale[:, np.newaxis])), y])
    # Written into the one array the neighbours are sought in: X is often
    # the largest array of the fit.
    Zy = np.empty((X.shape[0], X.shape[1] + 1))
    Z = Zy[:, :-1]
    np.subtract(X, mean, out=Z)
    Z /= scale
    Z[np.isnan(Z)] = 0.0
    Zy[:, -1] = y
    return Zy


def _column_moments(X, sample_weight):
    """Weighted mean and variance of each column, ignoring missing values."""
    if sp.issparse(X):
        w = sample_weight / sample_weight.sum()
        mean = np.asarray(X.T @ w).ravel()
        var = np.asarray(X.multiply(X).T @ w).ravel() - mean**2
        return mean, np.maximum(var, 0.0)
    return weighted_nan_mean_and_var(X, sample_weight)


# How many units in the last place of y's size the target's rounding spans:
# the residuals of a least-squares fit of noise-free data reach about 4 (their
# variance up to 15 eps^2 times y's mean square, measured from 100 to 300,000
# rows and offsets up to 1e11), and an expert counts as fitting its rows
# exactly below 1e-3 of the floor.
_TARGET_ULPS = 1000


def target_rounding(mean, var):
    """The variance that rounding alone gives values of ``y``'s size: the
    floor of the noise variance, and the variance at or below which ``y``
    counts as constant.

    It depends on ``y``'s weighted mean and variance only, not on the number
    of rows, so that a weight of k stays k repeated rows and a row of weight 0
    stays absent. The size is ``y``'s root mean square, not its mean, so that
    a noise-free ``y`` of mean 0 gets the floor of the same ``y`` shifted.

    Parameters
    ----------
    mean, var : float
        Weighted mean and (biased) variance of ``y``.

    Returns
    -------
    rounding : float
    """
    eps = np.finfo(np.float64).eps
    return (_TARGET_ULPS * eps) ** 2 * (mean**2 + var)
