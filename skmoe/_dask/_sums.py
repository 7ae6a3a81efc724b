"""One EM pass on a block: its responsibilities (the E-step, or a start) and
the small sums the M-step needs, the weighted normal equations of linear
experts and the loss, gradient and Hessian of the Newton solvers."""

import numpy as np

from .._gating import _hessian
from .._init import _INIT_SOFTENING, _sq_distances, tied
from .._math import gaussian_log_prob, log_responsibilities, log_softmax
from ._blocks import _sample_mask, _weights, as_floats


class _Params:
    """What the E-step of a block needs: gate, experts, noise, columns."""

    def __init__(self, kind, experts, gate_coef, gate_intercept, noise_var, classes):
        self.kind, self.experts = kind, experts
        self.gate_coef, self.gate_intercept = gate_coef, gate_intercept
        self.noise_var, self.classes = noise_var, classes

    def e_step(self, Xe, Xg, y):
        """``(log_resp, log_norm)`` of a block, as the in-memory E-step."""
        n = len(Xe)
        if self.gate_coef is None:
            log_gate = np.zeros((n, 1))
        else:
            log_gate = log_softmax(Xg @ self.gate_coef.T + self.gate_intercept)
        if self.kind == "regressor":
            means = np.column_stack([e.predict(Xe) for e in self.experts])
            log_prob = gaussian_log_prob(y, means, self.noise_var)
        else:
            rows = np.arange(n)
            proba = np.column_stack(
                [e.predict_proba(Xe)[rows, y] for e in self.experts]
            )
            log_prob = np.log(np.maximum(proba, _proba_floor()))
        return log_responsibilities(log_gate, log_prob)


def _proba_floor():
    try:
        from .._likelihood import PROBA_FLOOR
    except ImportError:  # before the likelihood module existed
        from .._experts import PROBA_FLOOR
    return PROBA_FLOOR


def _resp_floor():
    from .._experts import RESP_FLOOR

    return RESP_FLOOR


class _Plan:
    """What one EM pass computes on a block.

    ``source`` says where the block's responsibilities come from:
    ``("array", name)`` the block of the responsibilities passed as
    ``name`` (``init_params`` or ``init_resp``), ``("random", W)`` a random gate,
    ``("kmeans", centres, y_mean, y_scale, y_factor)`` the nearest k-means
    centre, ``("estep", params, reseed)`` the E-step of ``params``, with
    ``reseed = (dead, cuts)`` handing dead experts the rows between cuts.
    ``points`` holds the Newton points to evaluate: ``"gate"`` and
    ``"expert<i>"`` for logistic experts; ``linear`` lists the experts whose
    normal equations to sum; ``sample`` asks for a sample of log-likelihoods.
    """

    def __init__(self, ctx, source, points, linear, sample=False):
        self.ctx, self.source, self.points = ctx, source, points
        self.linear, self.sample = linear, sample

    def resp(self, Xe, Xg, y, init):
        """Responsibilities of a block, and the E-step's sums if any."""
        ctx, source = self.ctx, self.source
        sums = {}
        if source[0] == "ones":
            return np.ones((len(Xe), 1)), sums, None
        if source[0] == "array":
            return _normalised(init, source[1]), sums, None
        if source[0] == "random":
            W = source[1]
            Z = (Xg - ctx.gate_mean) / ctx.gate_scale
            return np.exp(log_softmax(Z @ W[1:] + W[0])), sums, None
        if source[0] == "kmeans":
            return _nearest_centre(ctx, Xg, y, *source[1:]), sums, None
        _, params, reseed = source
        log_resp, log_norm = params.e_step(Xe, Xg, y)
        resp = np.exp(log_resp)
        if reseed is not None:
            _reseed(resp, log_norm, *reseed)
        return resp, sums, log_norm

    def __call__(self, index, X, y, w, init):
        ctx = self.ctx
        X = as_floats(X)
        w = _weights(w, len(X))
        Xe, Xg = X[:, ctx.expert_columns], X[:, ctx.gate_columns]
        y = ctx.encode(y)
        resp, out, log_norm = self.resp(Xe, Xg, y, init)
        if self.source[0] == "estep" and self.source[2] is None:
            # The E-step of the last M-step's parameters: its log-likelihood
            # and the experts' shares (before any re-seeding changes them).
            out["ll"] = w @ log_norm
            out["expert_weight"] = w @ resp
        if self.sample:
            rows = _sample_mask(index, len(X), ctx.sample_fraction)
            out["sample_log_norm"] = log_norm[rows]
            out["sample_w"] = w[rows]
        if self.points or self.linear:
            out["mass"] = w @ np.maximum(resp, _resp_floor())
        if self.linear:
            out.update(self._normal_equations(Xe, y, w, resp))
        for key, point in self.points.items():
            if key == "gate":
                Z = np.hstack(
                    [np.ones((len(Xg), 1)), (Xg - ctx.gate_mean) / ctx.gate_scale]
                )
                loss, grad, hess = _softmax_stats(point, Z, resp, w)
            else:
                i = int(key[len("expert") :])
                v = w * np.maximum(resp[:, i], _resp_floor())
                loss, grad, hess = ctx.logistic[i].block_stats(point, Xe, y, v)
            out[f"{key}:loss"] = np.asarray(loss)
            out[f"{key}:grad"] = grad
            out[f"{key}:hess"] = hess
        return out

    def _normal_equations(self, Xe, y, w, resp):
        """Per linear expert ``i``: ``Z^T V_i Z`` and ``Z^T V_i y`` with the
        experts' weights ``V = w * max(resp, floor)``, and the same sums with
        the noise weights ``U = w * resp``, plus ``y^T U_i y``.

        ``Z = [1, Xe - shift]`` and ``y - shift_y``: centring on the global
        means keeps the sums from cancelling when the data sit far from 0.
        """
        ctx = self.ctx
        Z = np.hstack([np.ones((len(Xe), 1)), Xe - ctx.shift_X])
        yc = y - ctx.shift_y
        floor = _resp_floor()
        out = {}
        for i in self.linear:
            u = w * resp[:, i]
            v = w * np.maximum(resp[:, i], floor)
            A = Z.T @ (Z * v[:, np.newaxis])
            b = Z.T @ (v * yc)
            # U differs from V only on rows whose responsibility underflowed.
            low = np.flatnonzero(resp[:, i] < floor)
            Zl, dl = Z[low], (v - u)[low]
            out[f"lin{i}:A"] = A
            out[f"lin{i}:b"] = b
            out[f"lin{i}:AU"] = A - Zl.T @ (Zl * dl[:, np.newaxis])
            out[f"lin{i}:bU"] = b - Zl.T @ (dl * yc[low])
            out[f"lin{i}:yyU"] = np.asarray(u @ yc**2)
            out[f"lin{i}:massU"] = np.asarray(u.sum())
        return out


def _normalised(init, name):
    """A block of the starting responsibilities passed as ``name``, checked,
    its rows normalised to sum to 1."""
    resp = as_floats(init)
    row_sums = resp.sum(axis=1, keepdims=True)
    if not np.all(np.isfinite(resp)) or np.any(resp < 0) or np.any(row_sums <= 0):
        raise ValueError(
            f"{name!r} as an array must hold finite, non-negative "
            "responsibilities with a positive sum in every row."
        )
    return resp / row_sums


def _nearest_centre(ctx, Xg, y, centres, y_mean, y_scale, y_factor):
    """The k-means start: each row mostly to its nearest centre (standardised
    gate features, and the scaled target for ``kmeans_xy``), softened as
    ``skmoe._init`` softens its start. A centre no sampled row chose is
    infinite and takes no row."""
    Z = (Xg - ctx.gate_mean) / ctx.gate_scale
    if y_mean is not None:
        target = (ctx.target_features(y) - y_mean) / y_scale * y_factor
        Z = np.hstack([Z, target])
    d2 = _sq_distances(Z, np.where(np.isfinite(centres), centres, 0.0))
    d2[:, ~np.all(np.isfinite(centres), axis=1)] = np.inf
    labels = np.argmin(d2, axis=1)
    n_experts = len(centres)
    resp = np.full((len(Z), n_experts), _INIT_SOFTENING / n_experts)
    resp[np.arange(len(Z)), labels] += 1 - _INIT_SOFTENING
    return resp


def _reseed(resp, log_norm, dead, cuts):
    """Hand dead expert ``dead[k]`` the rows whose log-likelihood lies between
    ``cuts[k]`` and ``cuts[k + 1]`` (the worst explained first), in place."""
    n_experts = resp.shape[1]
    log_norm = tied(log_norm)
    for k, i in enumerate(dead):
        rows = (log_norm > cuts[k]) & (log_norm <= cuts[k + 1])
        resp[rows] = _INIT_SOFTENING / n_experts
        resp[rows, i] += 1 - _INIT_SOFTENING


def _softmax_stats(W, Z, targets, weight):
    """A block's share of the soft-target cross-entropy (unpenalised), its
    gradient and Hessian: the sums of ``skmoe._gating._objective`` and
    ``_hessian`` over the block's rows, with plain products in place of
    their three-operand einsum, the bulk of a pass's time otherwise."""
    log_proba = log_softmax(Z @ W)
    proba = np.exp(log_proba)
    loss = -(weight @ (targets * log_proba).sum(axis=1))
    grad = Z.T @ (weight[:, np.newaxis] * (proba - targets))
    return loss, grad, _hessian(Z, proba, weight, 0.0)


class _Context:
    """What every pass shares: columns, standardisation, shifts, targets."""

    def __init__(self, kind, expert_columns, gate_columns, classes):
        self.kind = kind
        self.expert_columns, self.gate_columns = expert_columns, gate_columns
        self.classes = classes
        self.logistic = {}
        self.sample_fraction = 1.0

    def encode(self, y):
        """The target as the likelihood reads it: floats, or class indices."""
        if self.kind == "regressor":
            return as_floats(y)
        return np.searchsorted(self.classes, np.asarray(y))

    def target_features(self, y):
        if self.kind == "regressor":
            return y[:, np.newaxis]
        return np.eye(len(self.classes))[y]
