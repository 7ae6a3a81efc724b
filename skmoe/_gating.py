"""The gate: a multinomial logit that learns from soft targets."""

import warnings
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
from scipy import linalg, optimize
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.utils import get_tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._compat import (
    Interval,
    StrOptions,
    _check_method_params,
    _fit_context,
    _safe_indexing,
)
from ._estimators import (
    check_proba,
    column_names_selected,
    fit_mode,
    fit_weighted,
    warm_start_params,
)
from ._fast_mstep import _newton, supports_pipeline_mstep
from ._likelihood import PROBA_FLOOR
from ._math import (
    log_softmax,
    standard_scale,
    varying_columns,
    weighted_mean_and_var,
)
from ._persistence import VersionedStateMixin
from ._validation import check_magnitude, check_sample_weight
from .exceptions import ExpertOutputError

# Newton builds an (n_params x n_params) Hessian from n rows; past this many
# parameters L-BFGS is cheaper per iteration and needs no such matrix...
_NEWTON_MAX_PARAMS = 200
# ...unless the parameters are many because the experts are: a gate of at
# most this many inputs (its intercept included) stays with Newton up to
# _NEWTON_NARROW_MAX_PARAMS. The L-BFGS M-step's capped iterations make
# little progress over many classes, and EM crawls: at 10,000 x 5, 34
# experts took 19 CPU s by L-BFGS and 7 s by Newton, 25 experts on
# 50,000 x 10 took 181 s and 29 s (benchmarks/FASTEM.md, section 13). Wider
# gates over few experts fit as fast by L-BFGS or faster (61 columns and
# more: 0.72-0.97x).
_NEWTON_NARROW_INPUTS = 60
# The Hessian then holds at most 8 MB, and one block of its rows 65 MB.
_NEWTON_NARROW_MAX_PARAMS = 1000

# Rows per block when the Hessian is summed over rows.
_HESSIAN_CHUNK = 8192

# Newton steps the gate takes per EM iteration once fitted (generalised EM,
# as Jordan & Jacobs fitted the gate by IRLS): warm-started from the last
# M-step, each damped step lowers the gate's objective, which is all EM's
# monotone ascent needs, and as EM settles one step lands on the optimum.
EM_GATE_STEPS = 1

# L-BFGS iterations per EM iteration for a gate fitted by L-BFGS, once
# fitted: each iteration lowers the objective (its line search asks for a
# decrease), so this is generalised EM too. Measured (benchmarks/FASTEM.md,
# section 10) against refits to tol: 20 leaves the EM iterations as they were
# and halves the time where the gate dominates; 5 takes more iterations.
EM_GATE_LBFGS_STEPS = 20


def _by_newton(solver, n_inputs, n_classes):
    """Whether a gate of ``n_inputs`` columns (its intercept included) over
    ``n_classes`` classes is solved by Newton's method, else by L-BFGS.

    ``solver="auto"`` takes Newton up to ``_NEWTON_MAX_PARAMS`` parameters in
    Newton's problem, and up to ``_NEWTON_NARROW_MAX_PARAMS`` for a gate of
    at most ``_NEWTON_NARROW_INPUTS`` columns. Two classes take one logit
    (see :func:`_fit_two`): ``n_inputs`` parameters, not twice as many.
    """
    if solver != "auto":
        return solver == "newton"
    n_params = n_inputs * (1 if n_classes == 2 else n_classes)
    if n_inputs <= _NEWTON_NARROW_INPUTS:
        return n_params <= _NEWTON_NARROW_MAX_PARAMS
    return n_params <= _NEWTON_MAX_PARAMS


def _with_intercept(Z):
    """Prepend a column of ones: (n, d) -> (n, d + 1)."""
    return np.hstack([np.ones((Z.shape[0], 1)), Z])


def _objective(W, Z, targets, weight, alpha, balance=0.0):
    """Penalised soft-target cross-entropy per unit weight, and its gradient.

    Parameters
    ----------
    W : ndarray of shape (d + 1, M)
        Intercepts (row 0) and coefficients on standardised inputs.
    Z : ndarray of shape (n, d + 1)
        Standardised inputs with a leading column of ones.
    targets : ndarray of shape (n, M)
        Soft targets; rows sum to 1.
    weight : ndarray of shape (n,)
        Sample weights divided by their sum.
    alpha : float
        L2 penalty on the coefficients (not the intercepts), already divided by
        the total sample weight.
    balance : float
        Weight of the load-balancing term ``M * sum_i p_i f_i``, with ``p_i``
        the weighted mean probability of class ``i`` and ``f_i`` its share of
        the rows, taken as ``p_i`` itself (the soft share; the hard top-1 share
        has no gradient): ``M * sum_i p_i ** 2``, smallest when use is even.

    Returns
    -------
    loss : float
    grad : ndarray of shape (d + 1, M)
    proba : ndarray of shape (n, M)
        The gate's probabilities at ``W``.
    """
    log_proba = log_softmax(Z @ W)
    proba = np.exp(log_proba)
    coef = W[1:]
    loss = -np.einsum("n,nm,nm->", weight, targets, log_proba)
    loss += 0.5 * alpha * np.einsum("dm,dm->", coef, coef)
    residual = proba - targets
    if balance:
        n_classes = proba.shape[1]
        share = weight @ proba
        loss += balance * n_classes * share @ share
        # d loss / d share_i = 2 balance M share_i, and
        # d share_i / d logit_tj = w_t p_ti (delta_ij - p_tj).
        price = 2 * balance * n_classes * share
        residual += proba * (price - (proba @ price)[:, np.newaxis])
    grad = Z.T @ (weight[:, np.newaxis] * residual)
    grad[1:] += alpha * coef
    return loss, grad, proba


def _hessian(Z, proba, weight, alpha):
    """Hessian of :func:`_objective`, flattened to ((d + 1) * M, (d + 1) * M).

    ``H[(a, j), (b, k)] = sum_t w_t z_ta z_tb p_tj (delta_jk - p_tk)`` plus the
    penalty on the diagonal of the coefficient rows; entry ``(a, j)`` sits at
    position ``a * M + j``, matching ``W.ravel()``.
    """
    n, q = Z.shape
    M = proba.shape[1]
    H = np.zeros((q * M, q * M))
    # Rows in chunks: the (rows, q * M) intermediate stays small whatever n is.
    for start in range(0, n, _HESSIAN_CHUNK):
        rows = slice(start, start + _HESSIAN_CHUNK)
        Zc, pc, wc = Z[rows], proba[rows], weight[rows]
        zp = np.sqrt(wc)[:, np.newaxis, np.newaxis] * Zc[:, :, np.newaxis]
        zp = (zp * pc[:, np.newaxis, :]).reshape(len(Zc), -1)
        H -= zp.T @ zp
        weighted_proba = pc * wc[:, np.newaxis]
        for j in range(M):
            H[j::M, j::M] += Zc.T @ (Zc * weighted_proba[:, j : j + 1])
    coef = np.arange(M, q * M)
    H[coef, coef] += alpha
    return H


def _fit_newton(W, Z, targets, weight, alpha, max_iter, tol):
    """Damped Newton's method with a backtracking line search.

    The objective is convex, so the line search only guards against overshooting
    while the softmax saturates. The intercepts are unpenalised and softmax is
    invariant to adding one constant to all of them; a tiny ridge on the Newton
    system keeps that direction from blowing up without moving the optimum.
    """
    loss, grad, proba = _objective(W, Z, targets, weight, alpha)
    for n_iter in range(1, max_iter + 1):
        if np.max(np.abs(grad)) <= tol:
            return W, n_iter - 1
        H = _hessian(Z, proba, weight, alpha)
        H[np.diag_indices_from(H)] += 1e-12 * max(np.trace(H) / len(H), 1.0)
        try:
            step = linalg.solve(H, grad.ravel(), assume_a="pos").reshape(W.shape)
        except (linalg.LinAlgError, ValueError):
            step = np.linalg.lstsq(H, grad.ravel(), rcond=None)[0].reshape(W.shape)
        slope = np.vdot(grad, step)
        t = 1.0
        while True:
            W_new = W - t * step
            new = _objective(W_new, Z, targets, weight, alpha)
            if new[0] <= loss - 1e-4 * t * slope or t < 1e-10:
                break
            t *= 0.5
        if t < 1e-10 and new[0] >= loss:
            # No descent left at machine precision: W is the optimum.
            return W, n_iter
        W, (loss, grad, proba) = W_new, new
    return W, max_iter


def _fit_two(W, Z, targets, weight, alpha, max_iter, tol, memo=None):
    """:func:`_fit_newton` for two classes, on one logit.

    Two classes need one logit, the difference of the two columns: the
    optimum has opposite coefficients (the loss depends on their difference
    only, the penalty is smallest at opposite ones), so Newton on that
    difference, with the penalty it implies (``|w_0|^2 + |w_1|^2 =
    |beta|^2 / 2`` at ``w_1 = -w_0 = beta / 2``), reaches the same optimum at
    a quarter of the Hessian. Returns ``(W, n_iter)`` with ``W`` (d + 1, 2);
    ``memo`` is :func:`~skmoe._fast_mstep._newton`'s.
    """
    beta = W[:, 1:] - W[:, :1]
    penalised = np.ones_like(beta, dtype=bool)
    penalised[0] = False  # the intercept
    beta, n_iter = _newton(
        beta,
        Z,
        targets[:, 1:],
        weight,
        alpha / 2,
        penalised,
        True,
        max_iter,
        tol,
        memo,
    )
    return np.hstack([-beta / 2, beta / 2]), n_iter


def _fit_lbfgs(W, Z, targets, weight, alpha, max_iter, tol, balance=0.0):
    """L-BFGS on the same objective, for gates with many parameters or a
    load-balancing term (which is not convex)."""
    shape = W.shape

    def fun(w_flat):
        loss, grad, _ = _objective(
            w_flat.reshape(shape), Z, targets, weight, alpha, balance
        )
        return loss, grad.ravel()

    result = optimize.minimize(
        fun,
        W.ravel(),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-15},
    )
    return result.x.reshape(shape), int(result.nit)


def _class_positions(index, n_classes):
    """``index`` as distinct positions in ``range(n_classes)``, at least one:
    what :meth:`SoftmaxGate.take_classes` keeps."""
    positions = np.asarray(index)
    if (
        positions.ndim != 1
        or positions.size == 0
        or not np.issubdtype(positions.dtype, np.integer)
        or positions.min() < 0
        or positions.max() >= n_classes
        or len(np.unique(positions)) < positions.size
    ):
        raise ValueError(
            "take_classes needs distinct positions in classes_, from 0 to "
            f"{n_classes - 1}, at least one; got {np.ravel(index).tolist()!r}."
        )
    return positions.astype(np.intp)


class SoftmaxGate(ClassifierMixin, VersionedStateMixin, BaseEstimator):
    """Multinomial logistic regression that learns from soft targets.

    The gate of a mixture of experts must learn to reproduce the E-step's
    posteriors, which are probabilities, not labels. ``SoftmaxGate`` minimises
    the cross-entropy between its softmax output and such soft targets directly
    (Newton's method, or L-BFGS for many parameters), without replicating rows,
    and warm-starts from its previous solution when EM refits it.

    It is also an ordinary classifier: given 1-D labels it is a multinomial
    logistic regression.

    Parameters
    ----------
    alpha : float or "auto", default="auto"
        Strength of the L2 penalty on the coefficients, on the scale of the
        summed (not averaged) weighted loss, as in :class:`~sklearn.linear_model.Ridge`
        (``alpha = 1 / C`` of :class:`~sklearn.linear_model.LogisticRegression`).
        Inputs are standardised first, so one value suits features of any scale.
        ``"auto"`` is ``d / n``, with ``d`` the number of input features
        that vary (a constant column is not counted) and ``n`` the sum of
        the sample weights (the number of rows when unweighted): strong
        where the gate has many inputs for few rows, fading as data grow
        (1e-4 at 20,000 rows of two features), so sharp regimes stay
        sharp. Chosen on a grid of cases with a known truth and on real
        data (``benchmarks/DEFAULTS.md``):
        a fixed small penalty makes the gate confidently wrong near borders
        at small n, and none at all overfits. The penalty also keeps the
        weights finite when regimes are perfectly separable.
    balance : float, default=0.0
        Weight of the load-balancing term ``M * sum_i p_i f_i`` added to the
        objective, where ``p_i`` is the mean probability of class ``i`` and
        ``f_i`` its share of the rows. The hard share (rows whose most probable
        class is ``i``) is a step function without gradient, so the soft share
        ``f_i = p_i`` is used: the term is ``M * sum_i p_i ** 2``, which is
        smallest when every class gets ``1 / M``. In a mixture it spreads rows
        over experts. Fitted by L-BFGS (the term is not convex).
    solver : {"auto", "newton", "lbfgs"}, default="auto"
        ``"newton"`` uses the exact Hessian and converges in a few steps;
        ``"lbfgs"`` needs no Hessian. ``"auto"`` picks Newton when the gate has
        at most 200 parameters (``(n_features + 1) * n_classes``; for two
        classes, solved on one logit, ``n_features + 1``), or at most 1,000
        on at most 59 features, where the parameters are many because the
        classes are and Newton's few steps beat L-BFGS's many.
    max_iter : int, default=100
        Maximum number of solver iterations per call to :meth:`fit`.
    tol : float, default=1e-8
        The solver stops when no gradient entry exceeds ``tol``.
    warm_start : bool, default=False
        Start from the previous solution when refitting with the same number of
        features and classes. A mixture of experts turns this on for its own
        gate, so that each EM iteration costs a few Newton steps.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Labels seen in ``fit``; ``arange(M)`` when fitted on ``(n, M)`` soft
        targets (in a mixture: the experts' indices).
    coef_ : ndarray of shape (n_classes, n_features)
        Coefficients on the original (unstandardised) inputs.
    intercept_ : ndarray of shape (n_classes,)
        Intercepts on the original inputs.
    n_iter_ : int
        Solver iterations of the last fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    MixtureOfExpertsRegressor, MixtureOfExpertsClassifier : Mixtures whose
        default gate is a ``SoftmaxGate``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmoe import SoftmaxGate
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> soft_targets = np.array([[0.9, 0.1], [0.7, 0.3], [0.3, 0.7], [0.1, 0.9]])
    >>> gate = SoftmaxGate().fit(X, soft_targets)
    >>> gate.classes_
    array([0, 1])
    >>> gate.predict_proba([[0.0]]).round(2)
    array([[0.5, 0.5]])
    >>> gate.predict([[-3.0], [3.0]])
    array([0, 1])
    """

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "balance": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions({"auto", "newton", "lbfgs"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        alpha="auto",
        *,
        balance=0.0,
        solver="auto",
        max_iter=100,
        tol=1e-8,
        warm_start=False,
    ):
        self.alpha = alpha
        self.balance = balance
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start

    def _targets(self, y):
        """Turn labels or soft targets into an (n, M) matrix with rows summing to 1."""
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. Please "
                "change the shape of y to (n_samples,), for example using ravel().",
                DataConversionWarning,
                stacklevel=3,
            )
            y = y.ravel()
        if y.ndim == 1:
            check_classification_targets(y)
            classes, encoded = np.unique(y, return_inverse=True)
            if len(classes) < 2:
                raise ValueError(
                    "SoftmaxGate needs samples of at least 2 classes in y, but y "
                    f"contains only one class: {classes[0]!r}."
                )
            return classes, np.eye(len(classes))[encoded]
        try:
            targets = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                "SoftmaxGate's soft targets y must be numeric, with shape "
                f"(n_samples, n_classes); got dtype {y.dtype}."
            ) from exc
        row_sums = targets.sum(axis=1)
        if np.any(targets < 0) or np.any(row_sums <= 0):
            raise ValueError(
                "SoftmaxGate's soft targets y must be non-negative with a positive "
                "sum in every row."
            )
        return np.arange(targets.shape[1]), targets / row_sums[:, np.newaxis]

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the gate to labels or to soft targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs of the gate.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels, or soft targets: non-negative rows, normalised to sum
            to 1 (for a mixture: the E-step's responsibilities).
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights; ``None`` means equal weights.

        Returns
        -------
        self : SoftmaxGate
            The fitted gate.

        Examples
        --------
        Soft targets: one column per class (per expert, in a mixture).

        >>> import numpy as np
        >>> from skmoe import SoftmaxGate
        >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
        >>> soft_targets = np.array([[0.9, 0.1], [0.7, 0.3], [0.3, 0.7], [0.1, 0.9]])
        >>> SoftmaxGate().fit(X, soft_targets).classes_
        array([0, 1])

        Labels: an ordinary multinomial logistic regression.

        >>> SoftmaxGate().fit(X, ["a", "a", "b", "b"]).classes_.tolist()
        ['a', 'b']
        """
        if self.alpha != "auto" and not np.isfinite(self.alpha):
            raise ValueError(
                "The 'alpha' parameter of SoftmaxGate must be finite; got "
                f"{self.alpha!r}."
            )
        X, y = validate_data(
            self,
            X,
            y,
            dtype=[np.float64, np.float32],
            multi_output=True,
            y_numeric=False,
        )
        # As the mixture checks them: beyond these magnitudes the
        # standardisation and the penalty over the total weight overflow.
        check_magnitude(X, "X")
        sample_weight = check_sample_weight(sample_weight, X)
        classes, targets = self._targets(y)
        X = X.astype(np.float64, copy=False)
        mean, var = weighted_mean_and_var(X, sample_weight)
        scale = standard_scale(mean, var, X.shape[0])
        Z = _with_intercept((X - mean) / scale)
        self._n_varying = int(varying_columns(mean, var, X.shape[0]).sum())

        W = np.zeros((Z.shape[1], targets.shape[1]))
        if self.warm_start and hasattr(self, "_W") and self._W.shape == W.shape:
            W = self._W.copy()
        total = sample_weight.sum()
        weight = sample_weight / total
        alpha = self.penalty(self._n_varying, total)
        args = (Z, targets, weight, alpha / total, self.max_iter, self.tol)
        solver = "newton" if _by_newton(self.solver, *W.shape) else "lbfgs"
        if self.balance > 0:
            W, self.n_iter_ = _fit_lbfgs(W, *args, balance=self.balance)
        elif solver == "newton" and targets.shape[1] == 2:
            W, self.n_iter_ = _fit_two(W, *args)
        elif solver == "newton":
            W, self.n_iter_ = _fit_newton(W, *args)
        else:
            W, self.n_iter_ = _fit_lbfgs(W, *args)
        self.classes_ = classes
        return self._set_weights(W, mean, scale)

    def _set_weights(self, W, mean, scale):
        """Keep ``W`` (on standardised inputs) and the coefficients it means
        on the original inputs."""
        # Softmax ignores a constant added to every intercept; centring picks
        # one representative, so equal models have equal decision functions.
        W[0] -= W[0].mean()
        self._W = W
        self.coef_ = (W[1:] / scale[:, np.newaxis]).T
        self.intercept_ = W[0] - self.coef_ @ mean
        return self

    def _em_refit(self, design, resp, max_steps=EM_GATE_STEPS):
        """EM's M-step of a fitted gate: at most ``max_steps`` Newton steps
        (:data:`EM_GATE_LBFGS_STEPS` L-BFGS iterations for a gate that
        :meth:`fit` would solve by L-BFGS) from the current weights towards
        the fit on soft targets ``resp``.

        The inputs were validated and standardised once, in ``design``
        (:func:`gate_design`); they do not change between EM iterations.
        Every step lowers the objective that :meth:`fit` minimises, so EM
        stays an ascent of its log-likelihood less the penalties, and from a
        converged start no step is taken.
        """
        self._n_varying = design.n_varying
        alpha = self.penalty(design.n_varying, design.total) / design.total
        newton = _by_newton(self.solver, *self._W.shape)
        steps = max_steps if newton else EM_GATE_LBFGS_STEPS
        args = (design.Z, resp, design.weight, alpha, steps, self.tol)
        if not newton:
            W, self.n_iter_ = _fit_lbfgs(self._W.copy(), *args)
        elif resp.shape[1] == 2:
            # The next M-step starts where this one ends: it reuses the
            # linear predictor there (see _newton's memo).
            W, self.n_iter_ = _fit_two(self._W.copy(), *args, memo=design.memo)
        else:
            W, self.n_iter_ = _fit_newton(self._W.copy(), *args)
        return self._set_weights(W, design.mean, design.scale)

    def penalty(self, n_features, total_weight):
        """The L2 penalty ``alpha`` resolves to for this data.

        Parameters
        ----------
        n_features : int
            Number of the gate's input features that vary (:meth:`fit`
            counts a constant column out: its coefficient is 0 whatever the
            penalty, so it should not strengthen the penalty on the others).
        total_weight : float
            Sum of the sample weights (the number of rows when unweighted).

        Returns
        -------
        alpha : float
            ``alpha`` itself, or ``n_features / total_weight`` for ``"auto"``.

        Examples
        --------
        >>> from skmoe import SoftmaxGate
        >>> SoftmaxGate().penalty(n_features=2, total_weight=1000)
        0.002
        >>> SoftmaxGate(alpha=0.5).penalty(n_features=2, total_weight=1000)
        0.5
        """
        if not isinstance(n_features, Integral) or n_features < 0:
            raise ValueError(f"n_features must be an int >= 0; got {n_features!r}.")
        if not isinstance(total_weight, Real) or not total_weight > 0:
            raise ValueError(f"total_weight must be positive; got {total_weight!r}.")
        if isinstance(self.alpha, str):
            return n_features / total_weight
        return float(self.alpha)

    def take_classes(self, index, *, renumber=False):
        """Keep the classes at ``index``, in that order, with their parameters.

        A mixture calls it when it reorders its experts (canonical sorting) or
        drops some (pruning): the gate's columns follow the experts. Dropped
        classes lose their probability and the softmax renormalises over the
        rest, which is the gate conditioned on the kept classes.

        Parameters
        ----------
        index : array-like of int
            Positions in ``classes_``, each at most once.
        renumber : bool, default=False
            Number the kept classes ``0 .. len(index) - 1`` instead of keeping
            their labels, as for a gate whose classes are the positions of a
            mixture's experts.

        Returns
        -------
        self : SoftmaxGate
            The gate, with only the kept classes.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import SoftmaxGate
        >>> X = np.array([[-2.0], [-1.0], [0.0], [1.0], [2.0], [3.0]])
        >>> gate = SoftmaxGate().fit(X, ["a", "a", "b", "b", "c", "c"])
        >>> gate.take_classes([2, 0]).classes_.tolist()
        ['c', 'a']
        >>> gate.predict_proba(X).shape
        (6, 2)
        """
        check_is_fitted(self)
        index = _class_positions(index, len(self.classes_))
        W = self._W[:, index]
        # Centre the kept intercepts again (a permutation keeps them centred).
        shift = W[0].mean() if len(index) < self._W.shape[1] else 0.0
        W[0] -= shift
        self._W = W
        self.coef_ = self.coef_[index]
        self.intercept_ = self.intercept_[index] - shift
        self.classes_ = np.arange(len(index)) if renumber else self.classes_[index]
        return self

    def decision_function(self, X):
        """Compute the logits of each class; for two classes, of the second.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes) or (n_samples,)
            ``X @ coef_.T + intercept_``; with two classes, the difference of
            the two columns, positive where ``classes_[1]`` is more likely.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import SoftmaxGate
        >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
        >>> gate = SoftmaxGate().fit(X, [0, 0, 1, 1])
        >>> np.sign(gate.decision_function([[-1.5], [1.5]]))
        array([-1.,  1.])
        >>> gate = SoftmaxGate().fit(X, ["a", "b", "b", "c"])
        >>> gate.decision_function(X).shape
        (4, 3)
        """
        logits = self._logits(X)
        if logits.shape[1] == 2:
            return logits[:, 1] - logits[:, 0]
        return logits

    def _logits(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return X.astype(np.float64, copy=False) @ self.coef_.T + self.intercept_

    def _log_proba(self, X):
        """Log-probabilities from a stable log-softmax (no underflow to -inf)."""
        return log_softmax(self._logits(X))

    def predict_proba(self, X):
        """Predict the probability of each class (in a mixture: of each expert).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to predict.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to 1.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import SoftmaxGate
        >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
        >>> soft_targets = np.array([[0.9, 0.1], [0.7, 0.3], [0.3, 0.7], [0.1, 0.9]])
        >>> gate = SoftmaxGate().fit(X, soft_targets)
        >>> gate.predict_proba([[0.0]]).round(2)
        array([[0.5, 0.5]])
        """
        return np.exp(self._log_proba(X))

    def predict_log_proba(self, X):
        """Predict the logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to predict.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The natural logarithm of :meth:`predict_proba`.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import SoftmaxGate
        >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
        >>> gate = SoftmaxGate().fit(X, [0, 0, 1, 1])
        >>> log_proba = gate.predict_log_proba(X)
        >>> bool(np.allclose(np.exp(log_proba), gate.predict_proba(X)))
        True
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predict the most probable class of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to predict.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            The class of highest probability, from ``classes_``.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import SoftmaxGate
        >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
        >>> gate = SoftmaxGate().fit(X, ["a", "a", "b", "b"])
        >>> gate.predict([[-3.0], [3.0]]).tolist()
        ['a', 'b']
        """
        logits = self._logits(X)
        return self.classes_[np.argmax(logits, axis=1)]


def gate_penalty(gate, n_features, total_weight):
    """A fitted SoftmaxGate's L2 penalty in units of the log-likelihood
    summed over rows, ``alpha / 2 * ||W||^2`` on the standardised
    coefficients (the intercepts are not penalised); 0 for any other gate
    (:func:`~skmoe._objective.penalty_per_weight` counts a LogisticRegression
    gate as it counts an expert).

    Parameters
    ----------
    gate : object
    n_features : int
        Number of the gate's input features.
    total_weight : float
        Sum of the sample weights.

    Returns
    -------
    penalty : float
    """
    if not isinstance(gate, SoftmaxGate) or not hasattr(gate, "_W"):
        return 0.0
    W = gate._W[1:]
    # alpha="auto" counts the columns that varied in the gate's fit.
    n_features = getattr(gate, "_n_varying", n_features)
    return 0.5 * gate.penalty(n_features, total_weight) * float(np.vdot(W, W))


def check_gate(gate):
    """Raise a clear error if ``gate`` cannot be a mixture's gate."""
    if gate is None or isinstance(gate, SoftmaxGate):
        return
    if isinstance(gate, type) or not callable(getattr(gate, "fit", None)):
        raise TypeError(
            f"'gate' must be None, a SoftmaxGate or a classifier instance with "
            f"predict_proba; got {gate!r}."
        )
    if not hasattr(gate, "predict_proba"):
        raise TypeError(
            f"'gate' must have predict_proba: the mixture needs the probability "
            f"of each expert; {type(gate).__name__} has none."
        )
    mode = fit_mode(gate)
    if mode == "fixed":
        raise TypeError(
            f"'gate' ({type(gate).__name__}) is fixed (a prefit model or a "
            "rule), but EM learns the gate, refitting it to the "
            "responsibilities at every iteration: experts may be fixed, the "
            "gate may not."
        )
    if mode not in ("weighted", "pipeline"):
        raise TypeError(
            f"'gate' ({type(gate).__name__}) must accept sample_weight in fit "
            "(directly, or in the last step of a Pipeline): the gate learns "
            "from responsibilities as row weights."
        )
    weighted = {
        key: value
        for key, value in gate.get_params(deep=True).items()
        if (key == "class_weight" or key.endswith("__class_weight"))
        and value is not None
    }
    if weighted:
        key, value = next(iter(weighted.items()))
        raise ValueError(
            f"The gate ({type(gate).__name__}) has {key}={value!r}, but its "
            "classes are the experts, weighted by their responsibilities: a "
            "class weight rescales an expert's responsibilities, so the gate's "
            "fit is no longer EM's M-step (the likelihood wanders and EM may "
            "not converge). Leave class_weight=None; to keep experts from "
            "being starved, use the mixture's balance."
        )
    columns = column_names_selected(gate)
    if columns is not None:
        raise ValueError(
            f"The gate ({type(gate).__name__}) selects columns by name "
            f"({columns!r}) in a ColumnTransformer, but a mixture gives its "
            "experts and its gate their columns as a float array without names. "
            "Select them by position there, or by name with gate_features "
            "(which reads a DataFrame's names)."
        )


class GateDesign(NamedTuple):
    """A SoftmaxGate's training inputs as EM refits it: validated and
    standardised once, since they do not change between EM iterations."""

    X: np.ndarray  # the gate's columns as EM passes them, (n, d)
    sample_weight: np.ndarray  # (n,)
    Z: np.ndarray  # standardised X with a leading column of ones, (n, d + 1)
    mean: np.ndarray  # (d,)
    scale: np.ndarray  # (d,)
    weight: np.ndarray  # sample_weight / total, (n,)
    total: float
    memo: dict  # the last two-expert Newton run's (see _fast_mstep._newton)
    n_varying: int  # the columns that vary, which alpha="auto" counts

    def matches(self, X, sample_weight):
        """Whether this design was made from these very arrays."""
        return self.X is X and self.sample_weight is sample_weight


def gate_design(gate, X, sample_weight):
    """The standardised inputs :meth:`SoftmaxGate._em_refit` reuses at every
    M-step, as :meth:`SoftmaxGate.fit` computes them; None for gates that
    refit otherwise (another classifier, a load-balancing gate, or a
    subclass, whose ``fit`` may differ) and inputs ``fit`` would convert."""
    if (
        type(gate) is not SoftmaxGate
        or not gate.warm_start
        or gate.balance > 0
        or not isinstance(X, np.ndarray)
        or X.ndim != 2
        or X.dtype != np.float64
        or not isinstance(sample_weight, np.ndarray)
        or sample_weight.dtype != np.float64
    ):
        return None
    mean, var = weighted_mean_and_var(X, sample_weight)
    scale = standard_scale(mean, var, X.shape[0])
    total = sample_weight.sum()
    Z = _with_intercept((X - mean) / scale)
    n_varying = int(varying_columns(mean, var, X.shape[0]).sum())
    return GateDesign(
        X, sample_weight, Z, mean, scale, sample_weight / total, total, {}, n_varying
    )


def _can_em_refit(gate, design, X, resp, sample_weight, params):
    """Whether :meth:`SoftmaxGate._em_refit` may replace ``fit``: a gate
    already fitted (its first fit checked everything) with the weights of
    this problem, on the inputs ``design`` was made from."""
    W = getattr(gate, "_W", None)
    return (
        design is not None
        and not params
        and design.matches(X, sample_weight)
        and W is not None
        and W.shape == (design.Z.shape[1], resp.shape[1])
    )


def fit_gate(gate, X, resp, sample_weight, params=None, design=None):
    """M-step of the gate: learn to predict the responsibilities from ``X``.

    ``SoftmaxGate`` fits the (n, M) soft targets directly; given the
    ``design`` of :func:`gate_design` for these ``X`` and ``sample_weight``,
    a fitted one takes a few warm-started Newton steps instead of a full fit
    (generalised EM). Any other classifier sees each row M times, copy ``i``
    labelled ``i`` and weighted ``sample_weight * resp[:, i]``: its weighted
    log-loss is then exactly the soft-target cross-entropy, at the price of M
    times the rows in memory. ``params`` is other metadata routed to the
    gate's ``fit``; sample-aligned values are replicated with the rows.
    """
    if _can_em_refit(gate, design, X, resp, sample_weight, params):
        return gate._em_refit(design, resp)
    if isinstance(gate, SoftmaxGate):
        return gate.fit(X, resp, sample_weight=sample_weight, **(params or {}))
    mode = fit_mode(gate)
    if mode == "pipeline" and not params and _first_steps_ignore_y(gate):
        # The first steps (a scaler, polynomial features) learn from the
        # rows, not from the labels: fitted to the rows as given, each once,
        # as the Pipeline alone would fit them; the last step to the copies.
        *_, (_, last) = gate.steps
        Xt = gate[:-1].fit_transform(X)
        X_rep, y_rep, weight, _ = _replicate(
            Xt, resp, sample_weight, {}, every_label=_warm_starts(gate)
        )
        fit_weighted(last, X_rep, y_rep, weight, fit_mode(last))
        return gate
    X_rep, y_rep, weight, params = _replicate(
        X, resp, sample_weight, params or {}, every_label=_warm_starts(gate)
    )
    return fit_weighted(gate, X_rep, y_rep, weight, mode, params)


def _warm_starts(gate):
    """Whether ``gate`` (or a step of it) continues from its last fit, which
    needs the same classes at every fit."""
    return any(value is True for value in warm_start_params(gate).values())


def _replicate(X, resp, sample_weight, params, every_label=False):
    """Each row of ``X`` once per expert, copy ``i`` labelled ``i`` and
    weighted ``sample_weight * resp[:, i]``; copies of weight 0 left out,
    but with ``every_label`` one of each expert that has no other, so that
    a warm-started gate sees the same classes at every fit (hard EM can
    leave an expert without rows for an iteration). So too when one expert
    holds every row (given responsibilities, hard EM): a logistic gate
    cannot be fitted on one class. Returns ``(X_rep, y_rep, weight,
    params)``, sample-aligned ``params`` replicated with the rows."""
    n_samples = resp.shape[0]
    weight = (resp * sample_weight[:, np.newaxis]).T.ravel()
    # Copy k of row t sits at k * n + t; index once, so X is copied only once.
    positive = weight > 0
    present = positive.reshape(resp.shape[1], n_samples).any(axis=1)
    if every_label or np.count_nonzero(present) < 2:
        positive[np.flatnonzero(~present) * n_samples] = True
    kept = np.flatnonzero(positive)
    rows = kept % n_samples
    return (
        # By position in any container: a Pipeline gate's first steps may
        # hand over a DataFrame (pandas output).
        _safe_indexing(X, rows),
        kept // n_samples,
        weight[kept],
        _check_method_params(X, params, rows),
    )


# Where scikit-learn keeps transformers that learn from X alone (scalers,
# imputers, polynomial and spline features, PCA, kernel approximations), less
# those whose tags say they need y (TargetEncoder). Feature selection
# (SelectKBest) needs y though its tags do not say so.
_UNSUPERVISED_MODULES = (
    "sklearn.preprocessing",
    "sklearn.impute",
    "sklearn.decomposition",
    "sklearn.kernel_approximation",
)


def _first_steps_ignore_y(gate):
    """Whether ``gate`` is a Pipeline, fitted as Pipeline.fit fits it (see
    :func:`~skmoe._fast_mstep.supports_pipeline_mstep`), whose steps before
    the last are scikit-learn transformers that learn from X alone."""
    return (
        supports_pipeline_mstep(gate)
        and len(gate.steps) > 1
        and all(
            step is None
            or isinstance(step, str)
            or (
                type(step).__module__.startswith(_UNSUPERVISED_MODULES)
                and not get_tags(step).target_tags.required
            )
            for _, step in gate.steps[:-1]
        )
    )


def gate_log_proba(gate, X, n_experts):
    """The gate's log-probability of each expert, (n, M).

    A replicated-row gate that never saw some expert (all its rows had zero
    weight) gives it a tiny probability rather than none, and the rows are
    renormalised.
    """
    if _is_own_gate(gate, X):
        # The mixture validated X (finite, these columns): the gate's own
        # checks would repeat that at every E-step.
        return log_softmax(X @ gate.coef_.T + gate.intercept_)
    if isinstance(gate, SoftmaxGate):
        return gate._log_proba(X)
    classes = _gate_classes(gate, n_experts)
    try:
        proba = check_proba(gate.predict_proba(X), (X.shape[0], len(classes)))
    except ExpertOutputError as exc:
        raise ValueError(
            f"The gate ({type(gate).__name__}) gave unusable output: {exc}"
        ) from exc
    aligned = np.zeros((proba.shape[0], n_experts))
    aligned[:, classes] = proba
    aligned = np.maximum(aligned, PROBA_FLOOR)
    return np.log(aligned / aligned.sum(axis=1, keepdims=True))


def _gate_classes(gate, n_experts):
    """A fitted gate's ``classes_`` as expert indices, (k,) int; a gate
    fitted on the experts' indices has distinct ones in ``0..M-1``."""
    classes = getattr(gate, "classes_", None)
    labels = np.asarray(classes) if classes is not None else np.array([])
    valid = (
        labels.ndim == 1
        and labels.size > 0
        and labels.dtype.kind in "iuf"
        and np.all(labels == np.round(labels))
        and np.all((labels >= 0) & (labels < n_experts))
        and len(np.unique(labels)) == labels.size
    )
    if not valid:
        raise ValueError(
            f"The gate ({type(gate).__name__}) has classes_ {classes!r}; a "
            f"gate's classes must be distinct expert indices in 0..{n_experts - 1}, "
            "the labels it was fitted on."
        )
    return labels.astype(int)


def _is_own_gate(gate, X):
    """Whether ``gate`` is a SoftmaxGate a mixture fitted on arrays like
    ``X``: dense float64 of its width, without feature names."""
    return (
        type(gate) is SoftmaxGate
        and isinstance(X, np.ndarray)
        and X.ndim == 2
        and X.dtype == np.float64
        and X.shape[1] == getattr(gate, "n_features_in_", -1)
        and not hasattr(gate, "feature_names_in_")
    )
