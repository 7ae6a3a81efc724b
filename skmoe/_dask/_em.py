"""Out-of-core EM for one mixture on one data set: the starts, the loop of
M-step, E-step and log-likelihood, and dead experts."""

import copy
import time
from typing import NamedTuple

import numpy as np
from sklearn.base import clone

from .._fast_mstep import EM_NEWTON_STEPS, supports_fast_mstep
from .._gating import EM_GATE_STEPS, SoftmaxGate
from .._init import start_rule, tied, weighted_kmeans, y_factor_of
from .._objective import penalty_per_weight
from ._checks import _expert_kind
from ._solvers import (
    _LOGISTIC_DECREMENT,
    _LOGISTIC_TOL,
    _newton,
    _newton_in_lockstep,
    _noise_var,
    _solve_linear,
)
from ._sums import _Params, _Plan


class _Run(NamedTuple):
    """What one start of EM ends with."""

    log_likelihood: float
    fitted: dict  # experts, names, gate, noise, n_iter, shares, re-seeds
    curve: list  # the log-likelihood after each iteration
    converged: bool
    paused: bool = False  # a short run (init_max_iter) left before converging


class _EM:
    """Out-of-core EM for one mixture on one data set."""

    def __init__(self, model, data, ctx, names, templates, total, n_features):
        self.model, self.data, self.ctx = model, data, ctx
        self.names, self.templates = names, templates
        self.total, self.n_features = total, n_features
        self.kind = model._kind
        self.n_expert_features = len(ctx.expert_columns)

    # -- the start --

    def initial_source(self, rng, index=0):
        """How start number ``index`` begins: its rule of ``init_params``
        (``"auto"`` takes them in turn, as in memory), drawn from ``rng``."""
        ctx = self.ctx
        n_experts = len(self.templates)
        init = self.init
        if not isinstance(init, str):
            return ("array", self.init_name)
        init = start_rule(init, index)
        if n_experts == 1:
            return ("ones",)
        if init == "random":
            W = rng.standard_normal((len(ctx.gate_columns) + 1, n_experts))
            return ("random", W)
        # k-means on the sampled rows (all of them when there are few), then
        # every row to its nearest centre.
        sample = self.sample
        Z = (sample["X"] - ctx.gate_mean) / ctx.gate_scale
        y_mean = y_scale = y_factor = None
        if init == "kmeans_xy":
            target = ctx.target_features(ctx.encode(sample["y"]))
            y_mean, y_scale = ctx.target_mean, ctx.target_scale
            y_factor = y_factor_of(ctx.gate_varying, target.shape[1])
            Z = np.hstack([Z, (target - y_mean) / y_scale * y_factor])
        labels = weighted_kmeans(Z, sample["w"], n_experts, rng)
        centres = np.zeros((n_experts, Z.shape[1]))
        for k in range(n_experts):
            mine = labels == k
            mass = sample["w"][mine].sum()
            if mass > 0:
                centres[k] = sample["w"][mine] @ Z[mine] / mass
            else:
                centres[k] = np.inf  # no row is nearest to it
        return ("kmeans", centres, y_mean, y_scale, y_factor)

    # -- one start --

    def run(self, rng, index=0, budget=None, replay=0):
        """Start number ``index``, to convergence or for ``budget``
        iterations; ``replay`` iterations of it were run before (a short run
        replayed from its seed to continue it) and are not printed again."""
        from .._estimators import seeded_clone

        model = self.model
        n_experts = len(self.templates)
        if replay:
            _progress(model, "_print_resume", index, replay + 1)
        else:
            _progress(model, "_print_start", index)
        started = time.perf_counter()
        source = self.initial_source(rng, index)
        experts = [seeded_clone(t, rng) for t in self.templates]
        if n_experts == 1:
            gate = None
        else:
            gate = SoftmaxGate() if model.gate is None else clone(model.gate)
            gate.set_params(warm_start=True)
        self.experts, self.gate, self.expert_names = experts, gate, list(self.names)
        self.gate_W = None
        self.reseeds = {}
        self.dead_events = ()
        self.logistic_W = {}
        curve, ll, objective, converged = [], -np.inf, -np.inf, False
        stats = self.pass_for_m_step(source)
        last = model.max_iter if budget is None else min(budget, model.max_iter)
        for n_iter in range(1, last + 1):
            previous, previous_objective = ll, objective
            self.m_step(source, stats)
            params = self.params()
            source = ("estep", params, None)
            stats = self.pass_for_m_step(source)
            ll = float(stats["ll"] / self.total)
            if not np.isfinite(ll):
                raise ValueError(
                    f"The log-likelihood became {ll} at iteration {n_iter}: an "
                    "expert's likelihood is not finite."
                )
            # EM climbs the log-likelihood less the fits' penalties, and
            # stops on it, as in memory (see _objective.py).
            objective = ll - penalty_per_weight(
                self.experts, self.gate, len(self.ctx.gate_columns), self.total
            )
            curve.append(ll)
            seconds = time.perf_counter() - started
            if n_iter > replay:
                _progress(model, "_print_iter", n_iter, ll, ll - previous, seconds)
            self.n_iter = n_iter
            self.expert_weights = stats["expert_weight"] / self.total
            if len(self.experts) == 1:
                converged = True
                break
            revived, source = self.revive(params, n_iter)
            if revived:
                stats = self.pass_for_m_step(source)
            elif abs(objective - previous_objective) < model.tol:
                converged = True
                break
        if not converged and last < model.max_iter:
            _progress(model, "_print_pause", last, ll)
            return _Run(ll, self.result(), curve, False, paused=True)
        _progress(model, "_print_end", converged, ll)
        return _Run(ll, self.result(), curve, converged)

    def params(self):
        if self.gate is None:
            coef = intercept = None
        else:
            coef, intercept = self.gate.coef_, self.gate.intercept_
        noise = getattr(self, "noise_var", None)
        # A snapshot: the next M-step refits the experts in place, while its
        # Newton passes still need the E-step of these parameters.
        experts = copy.deepcopy(self.experts)
        return _Params(self.kind, experts, coef, intercept, noise, self.ctx.classes)

    def pass_for_m_step(self, source, sample=False):
        """The pass at the start of an M-step: responsibilities from
        ``source``, the linear experts' sums, and the first Newton point of
        the gate and of each logistic expert (their warm starts)."""
        points = {}
        if self.gate is not None:
            q = len(self.ctx.gate_columns) + 1
            W = self.gate_W
            if W is None or W.shape != (q, len(self.experts)):
                W = np.zeros((q, len(self.experts)))
            elif W.shape[1] == 2:
                # In memory, a fitted gate of two experts steps on the
                # difference of its columns, from W = [-beta / 2, beta / 2]:
                # the same point here, hence the same Newton step.
                W = W - W.mean(axis=1, keepdims=True)
            points["gate"] = W
        linear = []
        for i, expert in enumerate(self.experts):
            if _expert_kind(expert, self.kind) == "linear":
                linear.append(i)
            else:
                W = self.logistic_W.get(self.expert_names[i])
                if W is None:
                    W = self.ctx.logistic[i].start(self.n_expert_features)
                points[f"expert{i}"] = W
        self._m_source, self._m_points = source, points
        return self.data.run(_Plan(self.ctx, source, points, linear, sample))

    def m_step(self, source, stats):
        """Refit experts, noise and gate to the responsibilities of ``source``;
        ``stats`` is the pass that began with their first Newton points."""
        self._fit_linear_experts(stats)
        # Newton solvers, advanced in lockstep: one pass serves them all.
        solvers = self._newton_solvers(stats["mass"])

        def evaluate(points):
            return self.data.run(_Plan(self.ctx, source, points, [], False))

        for key, (W, n_iter) in _newton_in_lockstep(solvers, stats, evaluate).items():
            if key == "gate":
                self._set_gate(W, n_iter)
            else:
                self._set_logistic(int(key[len("expert") :]), W, n_iter)

    def _fit_linear_experts(self, stats):
        """Linear experts: one solve each from their normal equations; then
        their noise variances."""
        ctx = self.ctx
        noise = []
        for i, expert in enumerate(self.experts):
            if _expert_kind(expert, self.kind) == "linear":
                beta = _solve_linear(expert, stats, i, ctx.shift_X, ctx.shift_y)
                noise.append(_noise_var(stats, i, beta, ctx.var_floor))
        if self.kind == "regressor":
            self.noise_var = np.array(noise)

    def _newton_solvers(self, mass):
        """A Newton solver for the gate and for each logistic expert, from the
        first points of this M-step, with the mass its mean loss divides by."""
        ctx, solvers = self.ctx, {}
        if self.gate is not None:
            gate = self.gate
            q = len(ctx.gate_columns) + 1
            penalised = np.ones((q, len(self.experts)), dtype=bool)
            penalised[0] = False  # the intercepts
            # Generalised EM, as in memory: a fitted gate takes a few Newton
            # steps from its last weights; a new one is fitted to the optimum.
            fitted = self.gate_W is not None and self.gate_W.shape == (
                q,
                len(self.experts),
            )
            solver = _newton(
                self._m_points["gate"],
                gate.penalty(ctx.gate_varying, self.total) / self.total,
                penalised,
                EM_GATE_STEPS if fitted else gate.max_iter,
                gate.tol,
            )
            solvers["gate"] = (solver, self.total)
        for i in range(len(self.experts)):
            key = f"expert{i}"
            if key in self._m_points:
                logistic = ctx.logistic[i]
                W0 = self._m_points[key]
                # Warm (fitted in an earlier M-step of this start): a few
                # Newton steps, as the in-memory M-step takes where it solves
                # the expert itself (else it refits it to the optimum).
                warm = self.expert_names[i] in self.logistic_W and (
                    supports_fast_mstep(self.experts[i])
                )
                solver = _newton(
                    W0,
                    logistic.alpha / mass[i],
                    logistic.penalised(W0),
                    EM_NEWTON_STEPS if warm else logistic.max_iter,
                    _LOGISTIC_TOL,
                    decrement=_LOGISTIC_DECREMENT,
                )
                solvers[key] = (solver, mass[i])
        return solvers

    def _set_logistic(self, i, W, n_iter):
        ctx = self.ctx
        self.logistic_W[self.expert_names[i]] = W
        ctx.logistic[i].set_fitted(
            self.experts[i], W, n_iter, ctx.classes, self.n_expert_features
        )

    def _set_gate(self, W, n_iter):
        ctx, gate = self.ctx, self.gate
        W = W.copy()
        W[0] -= W[0].mean()
        self.gate_W = W
        gate._W = W
        gate._n_varying = ctx.gate_varying
        gate.classes_ = np.arange(W.shape[1])
        gate.coef_ = (W[1:] / ctx.gate_scale[:, np.newaxis]).T
        gate.intercept_ = W[0] - gate.coef_ @ ctx.gate_mean
        gate.n_iter_ = n_iter
        gate.n_features_in_ = len(ctx.gate_columns)

    # -- dead experts --

    def revive(self, params, n_iter):
        """Prune or re-seed dead experts as the in-memory fit does; re-seeding
        cuts the rows at quantiles of a sample of their log-likelihoods."""

        model = self.model
        dead = np.flatnonzero(self.expert_weights < model.min_expert_weight)
        if model.dead_expert == "reseed":
            dead = [i for i in dead if self.reseeds.get(self.expert_names[i], 0) < 2]
        if len(dead) == 0 or model.dead_expert == "keep":
            return False, ("estep", params, None)
        names = [self.expert_names[i] for i in dead]
        shares = ", ".join(f"{self.expert_weights[i]:.2g}" for i in dead)
        remaining = None
        if model.dead_expert == "prune":
            keep = np.ones(len(self.experts), dtype=bool)
            keep[dead] = False
            self._prune(keep)
            remaining = len(self.experts)
            source = ("estep", self.params(), None)
        else:
            for name in names:
                self.reseeds[name] = self.reseeds.get(name, 0) + 1
            sample = self.data.run(
                _Plan(self.ctx, ("estep", params, None), {}, [], sample=True)
            )
            cuts = _weighted_cuts(
                sample["sample_log_norm"],
                sample["sample_w"],
                len(dead),
                len(params.experts),
            )
            source = ("estep", params, (list(dead), cuts))
        # Said of the kept start when the fit ends, as in memory.
        self.dead_events += ((names, shares, n_iter, None, remaining),)
        return True, source

    def _prune(self, keep):
        index = np.flatnonzero(keep)
        self.experts = [self.experts[i] for i in index]
        self.expert_names = [self.expert_names[i] for i in index]
        self.expert_weights = self.expert_weights[index]
        self.ctx.logistic = {
            new: self.ctx.logistic[old]
            for new, old in enumerate(index)
            if old in self.ctx.logistic
        }
        if self.kind == "regressor":
            self.noise_var = self.noise_var[index]
        if len(self.experts) == 1:
            self.gate = None
        else:
            self.gate_W = self.gate_W[:, index]
            self.gate.take_classes(index)

    def result(self):
        return {
            "experts": self.experts,
            "names": self.expert_names,
            "gate": self.gate,
            "noise_var": getattr(self, "noise_var", None),
            "n_iter": self.n_iter,
            "expert_weights": self.expert_weights,
            "reseeds": self.reseeds,
            "dead_events": self.dead_events,
        }


def _progress(model, printer, *args):
    """The mixture's own progress line (``verbose``), if it prints one."""
    method = getattr(model, printer, None)
    if method is not None:
        method(*args)


def _weighted_cuts(log_norm, weight, n_dead, n_experts):
    """Cut values of :func:`skmoe._init.reseed`, on a sample of rows."""
    log_norm = tied(log_norm)
    order = np.argsort(log_norm, kind="stable")
    position = np.cumsum(weight[order]) / weight.sum()
    cuts = [-np.inf]
    for k in range(1, n_dead + 1):
        at = min(np.searchsorted(position, k / n_experts), len(order) - 1)
        cuts.append(log_norm[order[at]])
    return cuts
