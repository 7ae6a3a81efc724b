"""The regressor's predictive distribution: a Gaussian mixture per row.

A fitted mixture of regression experts says, for every input ``x``,

    p(y | x) = sum_k w_k(x) N(y; mu_k(x), sigma_k^2(x))

with ``w`` the gate (the product of the gates along the path, below nested
mixtures), ``mu_k`` the leaf experts' predictions and ``sigma_k^2`` their noise
variances. ``predict(return_std=True)`` reports only the first two moments of
this mixture; the functions here give the rest of it: its CDF and density,
quantiles found by inverting the CDF, and samples.

Shapes use ``n`` for rows, ``K`` for mixture components (leaf experts) and
``q`` for quantiles. Everything is vectorised over rows: the quantile solver
runs all rows and quantiles through the same safeguarded Newton iterations.
"""

import numbers

import numpy as np
from scipy.special import logsumexp, ndtr, ndtri
from sklearn.utils import check_random_state

# Quantiles are solved to this many standard deviations of the narrowest
# component of their row: 1e-10 in y on data of unit scale.
QUANTILE_XTOL = 1e-10
# Bisection alone halves the bracket to QUANTILE_XTOL in about 40 steps;
# Newton needs fewer than 10 where it is safe to take. This bound is only
# reached by rows whose bracket cannot shrink below the float spacing.
QUANTILE_MAX_ITER = 200
# Problems (rows x quantiles) solved together; bounds the (chunk, K) arrays.
_CHUNK_ELEMENTS = 1 << 20

_SQRT_2PI = np.sqrt(2 * np.pi)


# ---- validation --------------------------------------------------------------


def check_quantiles(quantiles):
    """Validate ``quantiles``: probabilities strictly between 0 and 1.

    Parameters
    ----------
    quantiles : float or array-like of shape (q,)

    Returns
    -------
    quantiles : ndarray of shape (q,)
        As float64; a single float becomes one quantile.
    """
    # Numbers only: not text that parses as one ("0.5"), None or booleans,
    # as predict_interval's coverage.
    try:
        raw = np.asarray(quantiles)
    except (TypeError, ValueError):  # ragged sequences
        raw = np.asarray([None])
    if raw.dtype.kind not in "iuf":
        raise TypeError(
            "'quantiles' must be a float or a 1-D array of floats strictly "
            f"between 0 and 1, got {quantiles!r}."
        )
    values = np.atleast_1d(raw.astype(np.float64))
    if values.ndim != 1 or values.size == 0:
        raise ValueError(
            "'quantiles' must be a float or a non-empty 1-D array of floats, "
            f"got {quantiles!r} of shape {np.shape(quantiles)}."
        )
    if not np.all((values > 0) & (values < 1)):  # also rejects NaN
        raise ValueError(
            "'quantiles' must lie strictly between 0 and 1 (0 and 1 are "
            f"-inf and +inf), got {quantiles!r}."
        )
    return values


def check_coverage(coverage):
    """Validate ``coverage``: a probability strictly between 0 and 1."""
    if not isinstance(coverage, numbers.Real) or isinstance(coverage, bool):
        raise TypeError(
            f"'coverage' must be a float strictly between 0 and 1, got {coverage!r}."
        )
    if not 0 < coverage < 1:
        raise ValueError(
            f"'coverage' must be a float strictly between 0 and 1, got {coverage!r}."
        )
    return float(coverage)


def check_n_samples(n_samples):
    """Validate ``n_samples`` of ``sample_y``: an int >= 1."""
    if not isinstance(n_samples, numbers.Integral) or isinstance(n_samples, bool):
        raise TypeError(f"'n_samples' must be an int >= 1, got {n_samples!r}.")
    if n_samples < 1:
        raise ValueError(f"'n_samples' must be an int >= 1, got {n_samples!r}.")
    return int(n_samples)


# ---- the mixture's CDF and density ---------------------------------------------


def _components(weights, means, variances):
    """``weights``, ``means`` and standard deviations as float64 (n, K)."""
    means = np.asarray(means, dtype=np.float64)
    weights = np.broadcast_to(np.asarray(weights, dtype=np.float64), means.shape)
    sd = np.sqrt(np.broadcast_to(np.asarray(variances, dtype=np.float64), means.shape))
    return weights, means, sd


def mixture_cdf(y, weights, means, variances):
    """CDF of a Gaussian mixture per row, ``sum_k w_k Phi((y - mu_k) / s_k)``.

    Parameters
    ----------
    y : ndarray of shape (n,) or (n, q)
        Where to evaluate each row's CDF (``q`` points per row).
    weights : ndarray of shape (n, K)
        Mixing weights; rows sum to 1.
    means : ndarray of shape (n, K)
    variances : ndarray of shape (K,) or (n, K)

    Returns
    -------
    cdf : ndarray of the shape of ``y``

    Examples
    --------
    >>> import numpy as np
    >>> from skmoe._predictive import mixture_cdf
    >>> # Two unit Gaussians at -3 and 3: half of the mass lies below 0.
    >>> mixture_cdf(np.array([0.0]), [[0.5, 0.5]], [[-3.0, 3.0]], [1.0, 1.0])
    array([0.5])
    """
    weights, means, sd = _components(weights, means, variances)
    y = np.asarray(y, dtype=np.float64)
    points = y[..., np.newaxis] if y.ndim == 2 else y[:, np.newaxis, np.newaxis]
    z = (points - means[:, np.newaxis, :]) / sd[:, np.newaxis, :]
    cdf = np.einsum("nqk,nk->nq", ndtr(z), weights)
    return cdf if y.ndim == 2 else cdf[:, 0]


def mixture_log_pdf(y, weights, means, variances):
    """Log-density of a Gaussian mixture per row, ``log sum_k w_k N(y; mu_k, s_k^2)``.

    Parameters
    ----------
    y : ndarray of shape (n,)
    weights : ndarray of shape (n, K)
        Mixing weights; rows sum to 1. Zero weights are allowed.
    means : ndarray of shape (n, K)
    variances : ndarray of shape (K,) or (n, K)

    Returns
    -------
    log_pdf : ndarray of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from skmoe._predictive import mixture_log_pdf
    >>> # One standard Gaussian: log N(0; 0, 1) = -log(2 pi) / 2.
    >>> mixture_log_pdf(np.array([0.0]), [[1.0]], [[0.0]], [1.0]).round(4)
    array([-0.9189])
    """
    weights, means, sd = _components(weights, means, variances)
    y = np.asarray(y, dtype=np.float64)
    z = (y[:, np.newaxis] - means) / sd
    log_prob = -0.5 * z**2 - np.log(sd * _SQRT_2PI)
    with np.errstate(divide="ignore"):  # log of a zero weight is -inf, as meant
        return logsumexp(log_prob + np.log(weights), axis=1)


def stack_components(gate, parts):
    """One row-wise Gaussian mixture from the experts' own mixtures.

    Parameters
    ----------
    gate : ndarray of shape (n, M)
        The gate's weights of the ``M`` experts; rows sum to 1.
    parts : list of (int, rows, ndarray, ndarray, ndarray)
        For each expert evaluated: its index ``i``, the rows it was evaluated
        on (an ndarray of int, or None or ``slice(None)`` for all ``n``), and
        its own mixture on those rows as
        ``weights``, ``means`` and ``variances`` of shape (rows, K_i). A plain
        expert is one Gaussian (``K_i = 1``); a nested mixture brings its
        components. Experts not listed have no rows (zero gate everywhere).

    Returns
    -------
    weights, means, variances : ndarray of shape (n, K)
        ``K = sum_i K_i`` components; expert ``i``'s carry ``g_i(x)`` times
        its own weights, and zero weight on rows it was not evaluated on
        (where their mean is 0 and their variance 1, placeholders).

    Examples
    --------
    >>> import numpy as np
    >>> from skmoe._predictive import stack_components
    >>> gate = np.array([[0.5, 0.5]])
    >>> plain = (0, None, np.ones((1, 1)), np.array([[1.0]]), np.array([[0.1]]))
    >>> nested = (1, None, np.array([[0.2, 0.8]]), np.array([[2.0, 3.0]]),
    ...           np.array([[0.2, 0.3]]))
    >>> weights, means, variances = stack_components(gate, [plain, nested])
    >>> weights
    array([[0.5, 0.1, 0.4]])
    >>> means
    array([[1., 2., 3.]])
    """
    n_rows = gate.shape[0]
    width = sum(part[2].shape[1] for part in parts)
    weights = np.zeros((n_rows, width))
    means = np.zeros((n_rows, width))
    variances = np.ones((n_rows, width))
    start = 0
    for i, rows, own_weights, own_means, own_variances in parts:
        columns = slice(start, start + own_weights.shape[1])
        where = slice(None) if rows is None else rows
        weights[where, columns] = gate[where, i][:, np.newaxis] * own_weights
        means[where, columns] = own_means
        variances[where, columns] = own_variances
        start = columns.stop
    return weights, means, variances


# ---- quantiles -----------------------------------------------------------------


def mixture_quantiles(weights, means, variances, quantiles, xtol=QUANTILE_XTOL):
    """Quantiles of a Gaussian mixture per row, by inverting its exact CDF.

    Each quantile ``y_p`` solves ``F(y_p) = p`` with ``F`` the row's mixture
    CDF. The solution lies between the smallest and the largest of the
    components' own ``p``-quantiles ``mu_k + s_k Phi^-1(p)`` (every component
    puts at most ``p`` of its mass below the first and at least ``p`` below
    the last), which brackets it; a safeguarded Newton iteration (Newton where
    it stays inside the shrinking bracket and converges fast, bisection
    otherwise) then solves all rows and quantiles together. Upper quantiles
    are found as lower quantiles of ``-y``, so both tails are computed from
    the accurate lower tail of the normal CDF.

    Parameters
    ----------
    weights : ndarray of shape (n, K)
        Mixing weights; rows sum to 1. Components of zero weight are ignored.
    means : ndarray of shape (n, K)
    variances : ndarray of shape (K,) or (n, K)
        Positive.
    quantiles : ndarray of shape (q,)
        Probabilities strictly between 0 and 1.
    xtol : float, default=1e-10
        Accuracy in ``y``, in standard deviations of the row's narrowest
        component (never below the float spacing of the quantile).

    Returns
    -------
    y_quantiles : ndarray of shape (n, q)

    Examples
    --------
    >>> import numpy as np
    >>> from skmoe._predictive import mixture_quantiles
    >>> # Equal Gaussians at -3 and 3 (sd 1): the median is 0 and the upper
    >>> # quartile lies in the right mode.
    >>> mixture_quantiles([[0.5, 0.5]], [[-3.0, 3.0]], [1.0, 1.0], [0.5, 0.75])
    array([[0., 3.]])
    >>> # Two thirds of the mass at 0 with sd 1, a third at 10 with sd 3:
    >>> # the central 90 % interval is lopsided, unlike mean -/+ 1.645 sd.
    >>> q = mixture_quantiles([[2 / 3, 1 / 3]], [[0.0, 10.0]], [1.0, 9.0], [0.05, 0.95])
    >>> q.round(2)
    array([[-1.44, 13.11]])
    """
    weights, means, sd = _components(weights, means, variances)
    quantiles = np.asarray(quantiles, dtype=np.float64)
    n_rows, n_components = means.shape
    result = np.empty((n_rows, len(quantiles)))
    chunk = max(1, _CHUNK_ELEMENTS // max(1, len(quantiles) * n_components))
    for start in range(0, n_rows, chunk):
        rows = slice(start, start + chunk)
        result[rows] = _solve_quantiles(
            weights[rows], means[rows], sd[rows], quantiles, xtol
        )
    return result


def _solve_quantiles(weights, means, sd, quantiles, xtol):
    """:func:`mixture_quantiles` on one chunk of rows, sd given."""
    n_rows, n_components = means.shape
    n_quantiles = len(quantiles)
    # Upper quantiles of y are minus the lower quantiles of -y.
    upper = quantiles > 0.5
    target = np.where(upper, 1 - quantiles, quantiles)
    sign = np.where(upper, -1.0, 1.0)

    # One problem per (row, quantile), rows major: (P, K) with P = n * q.
    w = np.repeat(weights, n_quantiles, axis=0)
    s = np.repeat(sd, n_quantiles, axis=0)
    mu = np.repeat(means, n_quantiles, axis=0) * np.tile(sign, n_rows)[:, np.newaxis]
    p = np.tile(target, n_rows)

    # The components' own quantiles bracket the mixture's.
    own = mu + s * ndtri(p)[:, np.newaxis]
    live = w > 0
    lo = np.where(live, own, np.inf).min(axis=1)
    hi = np.where(live, own, -np.inf).max(axis=1)
    narrowest = np.where(live, s, np.inf).min(axis=1)

    # Start from the moment-matched Gaussian's quantile, kept in the bracket.
    mean = np.einsum("pk,pk->p", w, mu)
    var = np.einsum("pk,pk->p", w, s**2 + (mu - mean[:, np.newaxis]) ** 2)
    x = np.clip(mean + np.sqrt(var) * ndtri(p), lo, hi)
    step_before = hi - lo  # rtsafe's "step before last"; the bracket at first

    def tolerance(index):
        return np.maximum(xtol * narrowest[index], 4 * np.spacing(np.abs(x[index])))

    # A bracket already within tolerance (one live component, or components
    # with the same quantile) is the answer.
    solved = hi - lo <= tolerance(slice(None))
    x[solved] = lo[solved]
    active = np.flatnonzero(~solved)
    for _ in range(QUANTILE_MAX_ITER):
        if active.size == 0:
            break
        a = active
        z = (x[a, np.newaxis] - mu[a]) / s[a]
        cdf = np.einsum("pk,pk->p", w[a], ndtr(z))
        pdf = np.einsum("pk,pk->p", w[a], np.exp(-0.5 * z**2) / (s[a] * _SQRT_2PI))
        below = cdf < p[a]
        lo[a] = np.where(below, x[a], lo[a])
        hi[a] = np.where(below, hi[a], x[a])
        # Between far-apart modes the density can underflow to 0: the Newton
        # step is then infinite and bisection takes over.
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            step = (cdf - p[a]) / pdf
            newton = x[a] - step
            # Newton where it lands inside the bracket and at least halves the
            # step before last (it converges); bisection otherwise, as in
            # Numerical Recipes' rtsafe. A zero step (F(x) = p) is taken: x
            # is then the quantile, at the end of the bracket it just closed.
            take_newton = (
                np.isfinite(newton)
                & (newton >= lo[a])
                & (newton <= hi[a])
                & (np.abs(2 * step) <= np.abs(step_before[a]))
            )
        midpoint = 0.5 * (lo[a] + hi[a])
        new_x = np.where(take_newton, newton, midpoint)
        step_before[a] = np.abs(new_x - x[a])
        x[a] = new_x
        tol = tolerance(a)
        done = (step_before[a] <= tol) | (hi[a] - lo[a] <= tol)
        active = a[~done]
    return (x * np.tile(sign, n_rows)).reshape(n_rows, n_quantiles)


def central_interval(weights, means, variances, coverage):
    """Equal-tailed interval holding ``coverage`` of each row's mixture.

    Parameters
    ----------
    weights : ndarray of shape (n, K)
    means : ndarray of shape (n, K)
    variances : ndarray of shape (K,) or (n, K)
    coverage : float
        Strictly between 0 and 1.

    Returns
    -------
    interval : ndarray of shape (n, 2)
        The ``(1 - coverage) / 2`` and ``(1 + coverage) / 2`` quantiles.

    Examples
    --------
    >>> from skmoe._predictive import central_interval
    >>> central_interval([[1.0]], [[0.0]], [1.0], 0.95).round(3)
    array([[-1.96,  1.96]])
    """
    tail = (1 - coverage) / 2
    # The upper end is minus the lower ``tail`` quantile of -y: asked for as
    # ``1 - tail``, it would round to the quantile 1 (+inf) for a coverage
    # within 1e-16 of 1.
    lower = mixture_quantiles(weights, means, variances, [tail])
    upper = -mixture_quantiles(weights, -np.asarray(means), variances, [tail])
    return np.hstack([lower, upper])


# ---- sampling --------------------------------------------------------------------


def sample_mixture(weights, means, variances, n_samples, random_state=None):
    """Draw from each row's Gaussian mixture: a component, then its Gaussian.

    Parameters
    ----------
    weights : ndarray of shape (n, K)
        Mixing weights; rows sum to 1. Components of zero weight are never
        drawn.
    means : ndarray of shape (n, K)
    variances : ndarray of shape (K,) or (n, K)
    n_samples : int
        Draws per row.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws: first the components (uniforms, shape
        ``(n, n_samples)``), then the Gaussian noise (same shape).

    Returns
    -------
    samples : ndarray of shape (n, n_samples)

    Examples
    --------
    >>> from skmoe._predictive import sample_mixture
    >>> draws = sample_mixture([[0.5, 0.5]], [[-3.0, 3.0]], [0.01, 0.01], 1000, 0)
    >>> draws.shape
    (1, 1000)
    >>> # Every draw lies near one of the two modes, about half near each.
    >>> bool((abs(abs(draws) - 3) < 0.5).all()), round(float((draws > 0).mean()), 1)
    (True, 0.5)
    """
    weights, means, sd = _components(weights, means, variances)
    rng = check_random_state(random_state)
    n_rows, n_components = means.shape
    u = rng.random_sample((n_rows, n_samples))
    noise = rng.standard_normal((n_rows, n_samples))
    # Component j is drawn when cum_{j-1} <= u < cum_j: count the boundaries
    # at or below u, one component at a time, never an (n, n_samples, K) array.
    cumulative = np.cumsum(weights, axis=1)
    cumulative /= cumulative[:, [-1]]
    component = np.zeros((n_rows, n_samples), dtype=np.intp)
    for k in range(n_components - 1):
        component += u >= cumulative[:, [k]]
    del u
    # Rounding can leave u above the last boundary with weight; such a draw
    # belongs to the last component that has any weight.
    last_live = n_components - 1 - np.argmax(weights[:, ::-1] > 0, axis=1)
    np.minimum(component, last_live[:, np.newaxis], out=component)
    # In place, each array freed once used: at most three of the output's
    # size at a time.
    rows = np.arange(n_rows)[:, np.newaxis]
    samples = sd[rows, component]
    samples *= noise
    del noise
    samples += means[rows, component]
    return samples
