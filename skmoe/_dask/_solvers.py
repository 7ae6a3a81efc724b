"""M-steps from the block sums: least squares and noise variances of linear
experts, and damped Newton for the gate and logistic experts."""

import numpy as np
from scipy import linalg
from sklearn.linear_model import LinearRegression

from ._checks import _logistic_alpha
from ._sums import _softmax_stats

# Logistic experts are solved by Newton until no gradient entry of the mean
# loss exceeds this: tighter than any scikit-learn default, so that the fit is
# the optimum the in-memory solver approaches to within its own ``tol``.
_LOGISTIC_TOL = 1e-10
_LOGISTIC_DECREMENT = 1e-13


def _newton(W, alpha, penalised, max_iter, tol, decrement=None):
    """Damped Newton on a loss given by sums, as a generator.

    It yields the points where it needs the loss, gradient and Hessian (of the
    mean loss, unpenalised) and receives them; it returns ``(W, n_iter)``. The
    steps, line search and stopping rule are those of the gate's in-memory
    Newton (``skmoe._gating._fit_newton``), so the same sums give the same
    iterates. ``penalised`` marks the entries of ``W`` under the L2 penalty
    ``alpha / 2 * ||W[penalised]||^2``.

    With ``decrement``, it also stops once the Newton decrement ``g^T H^-1 g``
    falls below ``decrement * |loss|``, after taking that last full step: in
    the quadratic regime the step is exact to far below any tolerance, while
    a line search could no longer see the loss fall through its rounding and
    would spend a pass on each of ~35 halvings.
    """
    mask = penalised.ravel()

    def penalise(stats, W):
        loss, grad, hess = stats
        w = W.ravel() * mask
        loss = loss + 0.5 * alpha * (w @ w)
        grad = grad + alpha * w.reshape(W.shape)
        hess = hess.copy()
        hess[np.diag_indices_from(hess)] += alpha * mask
        return loss, grad, hess

    loss, grad, hess = penalise((yield W), W)
    for n_iter in range(1, max_iter + 1):
        if np.max(np.abs(grad)) <= tol:
            return W, n_iter - 1
        hess[np.diag_indices_from(hess)] += 1e-12 * max(np.trace(hess) / len(hess), 1.0)
        try:
            step = linalg.solve(hess, grad.ravel(), assume_a="pos").reshape(W.shape)
        except (linalg.LinAlgError, ValueError):
            step = np.linalg.lstsq(hess, grad.ravel(), rcond=None)[0].reshape(W.shape)
        slope = np.vdot(grad, step)
        if decrement is not None and slope <= decrement * max(abs(loss), 1.0):
            return W - step, n_iter
        t = 1.0
        while True:
            W_new = W - t * step
            new = penalise((yield W_new), W_new)
            if new[0] <= loss - 1e-4 * t * slope or t < 1e-10:
                break
            t *= 0.5
        if t < 1e-10 and new[0] >= loss:
            return W, n_iter
        W, (loss, grad, hess) = W_new, new
    return W, max_iter


def _newton_in_lockstep(solvers, stats, evaluate):
    """Advance several :func:`_newton` solvers together, so that one pass over
    the blocks evaluates the next point of every solver still running.

    ``solvers`` maps a key (``"gate"``, ``"expert<i>"``) to ``(solver,
    scale)``: its sums divided by ``scale`` give the mean loss. ``stats`` holds
    the sums at the first points; ``evaluate(points)`` runs the pass for the
    next ones. Returns each key's ``(W, n_iter)``.
    """
    results, points = {}, {}
    for solver, _ in solvers.values():
        next(solver)
    current = stats
    while solvers:
        for key in list(solvers):
            solver, scale = solvers[key]
            sums = (
                float(current[f"{key}:loss"]) / scale,
                current[f"{key}:grad"] / scale,
                current[f"{key}:hess"] / scale,
            )
            try:
                points[key] = solver.send(sums)
            except StopIteration as done:
                results[key] = done.value
                del solvers[key]
                points.pop(key, None)
        if solvers:
            current = evaluate(dict(points))
    return results


class _Logistic:
    """A LogisticRegression expert's loss from block sums: binomial with one
    logit for two classes, multinomial (the gate's softmax loss on one-hot
    targets) for more, as scikit-learn parameterises them."""

    def __init__(self, expert, n_classes):
        self.fit_intercept = expert.fit_intercept
        self.binary = n_classes == 2
        self.n_classes = n_classes
        self.alpha = _logistic_alpha(expert)
        self.max_iter = max(expert.max_iter, 100)

    def design(self, Xe):
        if self.fit_intercept:
            return np.hstack([np.ones((len(Xe), 1)), Xe])
        return Xe

    def start(self, n_features):
        q = n_features + self.fit_intercept
        return np.zeros(q) if self.binary else np.zeros((q, self.n_classes))

    def penalised(self, W):
        mask = np.ones(W.shape, dtype=bool)
        if self.fit_intercept:
            mask[0] = False
        return mask

    def block_stats(self, W, Xe, y_index, v):
        Z = self.design(Xe)
        if self.binary:
            eta = Z @ W
            target = (y_index == 1).astype(np.float64)
            # log(1 + exp(eta)) - y * eta, stable for large |eta|.
            loss = v @ (np.logaddexp(0.0, eta) - target * eta)
            p = np.exp(-np.logaddexp(0.0, -eta))
            grad = Z.T @ (v * (p - target))
            hess = Z.T @ (Z * (v * p * (1 - p))[:, np.newaxis])
            return loss, grad, hess
        targets = np.eye(self.n_classes)[y_index]
        return _softmax_stats(W, Z, targets, v)

    def set_fitted(self, expert, W, n_iter, classes, n_features):
        if not self.binary and self.fit_intercept:
            # Softmax ignores a constant added to all intercepts; scikit-learn
            # reports the symmetric (zero-sum) representative.
            W = W.copy()
            W[0] -= W[0].mean()
        coef = W[int(self.fit_intercept) :]
        if self.binary:
            expert.coef_ = coef[np.newaxis, :]
            expert.intercept_ = np.array([W[0] if self.fit_intercept else 0.0])
        else:
            expert.coef_ = np.ascontiguousarray(coef.T)
            expert.intercept_ = (
                W[0].copy() if self.fit_intercept else np.zeros(self.n_classes)
            )
        expert.classes_ = classes
        expert.n_iter_ = np.array([n_iter], dtype=np.int32)
        expert.n_features_in_ = n_features


def _solve_linear(expert, sums, i, shift_X, shift_y):
    """Weighted least squares (Ridge: plus ``alpha * ||coef||^2``) from the
    block sums, in the coordinates scikit-learn uses: centred on the expert's
    weighted means when it fits an intercept, raw otherwise."""
    A, b = sums[f"lin{i}:A"], sums[f"lin{i}:b"]
    alpha = float(expert.get_params().get("alpha", 0.0))
    d = len(A) - 1
    if expert.fit_intercept:
        mass = A[0, 0]
        mean_x, mean_y = A[0, 1:] / mass, b[0] / mass
        Sxx = A[1:, 1:] - mass * np.outer(mean_x, mean_x)
        Sxy = b[1:] - mass * mean_x * mean_y
    else:
        # From sums about the shift back to raw sums: [1, x] = [1, x - s] T.
        T = np.eye(d + 1)
        T[0, 1:] = shift_X
        raw_A = T.T @ A @ T
        raw_b = T.T @ (b + shift_y * A[:, 0])
        Sxx, Sxy = raw_A[1:, 1:], raw_b[1:]
    system = Sxx + alpha * np.eye(d)
    try:
        coef = linalg.solve(system, Sxy, assume_a="pos")
    except (linalg.LinAlgError, ValueError):
        coef = linalg.lstsq(system, Sxy)[0]
    if expert.fit_intercept:
        intercept = shift_y + mean_y - mean_x @ coef - shift_X @ coef
    else:
        intercept = 0.0
    expert.coef_ = coef
    expert.intercept_ = float(intercept)
    expert.n_features_in_ = d
    if isinstance(expert, LinearRegression):
        eig = np.clip(linalg.eigvalsh(Sxx), 0, None)[::-1]
        expert.singular_ = np.sqrt(eig)
        expert.rank_ = int(np.sum(eig > eig[0] * d * np.finfo(float).eps))
    else:
        expert.n_iter_ = None
        expert.solver_ = "cholesky"
    # Coefficients in the coordinates of the noise sums: y - shift_y is
    # predicted by beta @ [1, x - shift_X].
    return np.concatenate([[intercept + shift_X @ coef - shift_y], coef])


def _noise_var(sums, i, beta, floor):
    """The noise M-step from sums: ``sum_t u_t (y_t - z_t beta)^2 / sum_t u_t``,
    expanded, at least ``floor`` (as ``skmoe._math.noise_variances``)."""
    AU, bU = sums[f"lin{i}:AU"], sums[f"lin{i}:bU"]
    yy, mass = float(sums[f"lin{i}:yyU"]), float(sums[f"lin{i}:massU"])
    rss = max(yy - 2 * beta @ bU + beta @ AU @ beta, 0.0)
    return max(rss / mass if mass > 0 else floor, floor)
