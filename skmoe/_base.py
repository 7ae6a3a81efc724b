"""EM for mixtures of experts, shared by the regressor and the classifier.

The model is ``p(y | x) = sum_i g_i(x) p_i(y | x)``. ``fit`` reads as the
algorithm: prepare the data, run EM from each start, adopt the best run,
finish (canonical order, warnings). One EM iteration is an M-step (experts,
their likelihood parameters, the gate), an E-step (the experts' half
``log p_i(y | x)``, then the gate's half and the normalisation), the
log-likelihood and the stop test. The regressor and the classifier provide
the likelihood through a handful of hooks; named experts and nested
parameters live in :mod:`._composition`, input checks in :mod:`._validation`.
"""

import copy
import functools
from abc import ABCMeta, abstractmethod
from dataclasses import dataclass
from numbers import Integral, Real
from time import time
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import validate_data

from ._acceleration import AUTO_DELAY, Squarem
from ._compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
)
from ._complexity import InformationCriteriaMixin
from ._composition import _is_named_list, _NamedExpertsMixin
from ._crossfit import (
    crossfit_folds,
    crossfit_outputs,
    may_wander,
    refuse_out_of_core,
    stalled,
)
from ._dask import fit_dask, is_dask_collection
from ._diagnostics import (
    dead_experts,
    experts_remaining,
    restart_spread,
    small_experts,
)
from ._estimators import (
    cold_where_it_freezes,
    copy_sharing_frozen,
    give_back_warm_start,
    same_type_error,
    seeded_clone,
    shallow_copy,
    warm_start_for_em,
    with_frozen_shared,
)
from ._experts import (
    UNWEIGHTED_FIT,
    check_expert,
    check_prefit_columns,
    fit_experts,
    realigned,
)
from ._fast_mstep import RunMemo, logistic_design, solves_logistic
from ._gating import (
    SoftmaxGate,
    check_gate,
    fit_gate,
    gate_design,
    gate_log_proba,
)
from ._inference import _InferenceMixin
from ._init import best_run, initial_resp, reseed, start_rule
from ._math import log_responsibilities, log_softmax, mean_log_likelihood
from ._objective import penalty_per_weight
from ._persistence import VersionedStateMixin
from ._progress import _ProgressMixin, kept_lines
from ._routing import (
    ASSIGNMENTS,
    assign,
    check_temperatures,
    check_top_k,
    schedule_length,
)
from ._threads import blas_as_in_parent, em_thread_limits, parent_blas
from ._validation import (
    check_magnitude,
    check_missing,
    check_n_experts,
    check_numeric_input,
    check_sample_weight,
    check_sparse,
    check_weighted_rows,
    feature_columns,
    read_only,
    resolve_init_resp,
    take_columns,
)
from ._warm_start import fit_signature, warm_start_plan
from ._warn import warn
from .exceptions import (
    DeadExpertWarning,
    DegenerateFitWarning,
    LocalOptimumWarning,
    WarmStartWarning,
)

__all__ = ["DeadExpertWarning", "DegenerateFitWarning", "_BaseMixtureOfExperts"]

INIT_PARAMS = ("auto", "kmeans", "kmeans_xy", "random")
DEAD_EXPERT = ("reseed", "prune", "keep")

# How often one expert may be re-seeded in one EM run before it is kept as it
# is: an expert that starves again and again has no region of its own.
_MAX_RESEEDS = 2

_SELECTOR = [None, "array-like", Integral, str, callable]


class _TrainingData(NamedTuple):
    """The training data as EM sees them."""

    Xe: object  # the experts' columns, (n, d_e), dense or CSR
    Xg: np.ndarray  # the gate's columns, (n, d_g), dense
    y_fit: np.ndarray  # what the experts are fitted on, (n,)
    y_lik: np.ndarray  # what the likelihood reads (class positions), (n,)
    sample_weight: np.ndarray  # (n,)
    params: dict  # metadata routed to each expert's and the gate's fit
    folds: object = None  # cross-fitting folds, (n,) int, or None (plain EM)
    wanders: bool = False  # flexible experts: the curve may never settle


@dataclass
class _Run:
    """One EM run: the fitted state it ended in and its log-likelihood curve.

    A short run (``init_max_iter``) that stopped before converging keeps
    ``resume``: a call continues it, to convergence, and returns the run.
    """

    log_likelihood: float
    state: dict
    curve: list
    converged: bool
    resume: object = None

    @property
    def paused(self):
        return self.resume is not None


def _caught(func, *args):
    """``func(*args)``, or the exception it raised."""
    try:
        return func(*args)
    except Exception as exc:
        return exc


def _caught_in_worker(parent, func, *args):
    """:func:`_caught`, with BLAS in a worker process as in the ``parent``
    (see :func:`~skmoe._threads.blas_as_in_parent`), and the progress lines
    it printed, for the caller to print: ``(result, lines)``."""
    with blas_as_in_parent(parent), kept_lines() as lines:
        return _caught(func, *args), lines


def mark_nested(experts, inside):
    """Tell the nested mixtures among ``experts`` that their fits are
    M-steps of a parent's EM (``inside=True``), or no longer; every level
    below follows."""
    for expert in experts:
        if not isinstance(expert, _BaseMixtureOfExperts):
            continue
        if inside:
            expert._in_parent_em = True
        else:
            expert.__dict__.pop("_in_parent_em", None)
        mark_nested(getattr(expert, "experts_", ()), inside)


def share_noise_estimate(experts, noise):
    """Give the nested mixtures among ``experts`` the parent's noise
    estimate (``noise``, a float) for their floors, or, with None, let them
    estimate their own again; a release reaches every level below.

    A parent's EM refits its children on the same rows at every iteration,
    with new weights only. Each refit estimated the child's noise again
    (nearest neighbours over all its rows, weighted by its share): a quarter
    of a two-level fit, and a floor that moved with the responsibilities.
    A flat mixture's experts share one floor, from the noise of all rows;
    the children of a hierarchy share it too, each with its own
    ``reg_var``.
    """
    for expert in experts:
        if not isinstance(expert, _BaseMixtureOfExperts):
            continue
        if noise is not None:
            expert._parent_noise = noise
        else:
            expert.__dict__.pop("_parent_noise", None)
            share_noise_estimate(getattr(expert, "experts_", ()), None)


class _BaseMixtureOfExperts(
    _ProgressMixin,
    InformationCriteriaMixin,
    _InferenceMixin,
    _NamedExpertsMixin,
    VersionedStateMixin,
    BaseEstimator,
    metaclass=ABCMeta,
):
    """EM for p(y | x) = sum_i g_i(x) p_i(y | x); see the public subclasses."""

    _parameter_constraints = {
        "experts": [None, HasMethods(["fit", "predict"]), list, tuple],
        "n_experts": [Interval(Integral, 1, None, closed="left")],
        "gate": [None, HasMethods(["fit", "predict_proba"])],
        "gate_features": list(_SELECTOR),
        "expert_features": list(_SELECTOR),
        "unweighted_fit": [StrOptions(set(UNWEIGHTED_FIT))],
        "assignment": [StrOptions(set(ASSIGNMENTS))],
        "temperatures": [None, "array-like"],
        "top_k": [None, Interval(Integral, 1, None, closed="left")],
        "balance": [Interval(Real, 0, None, closed="left")],
        "min_expert_weight": [Interval(Real, 0, 1, closed="left")],
        "dead_expert": [StrOptions(set(DEAD_EXPERT))],
        "init_params": [StrOptions(set(INIT_PARAMS)), "array-like"],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "init_max_iter": [None, Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "acceleration": [StrOptions({"auto", "squarem"}), None],
        "crossfit": [
            None,
            "boolean",
            StrOptions({"auto"}),
            Interval(Integral, 2, None, closed="left"),
        ],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "verbose_interval": [Interval(Integral, 1, None, closed="left")],
        "blas_threads": [
            None,
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "n_jobs": [
            None,
            Interval(Integral, None, -1, closed="right"),
            Interval(Integral, 1, None, closed="left"),
        ],
    }

    _kind = None  # "regressor" or "classifier"
    # Fitted per-expert likelihood parameters, one entry per expert.
    _likelihood_attributes = ()

    # ---- hooks the regressor and the classifier fill in -------------------

    @abstractmethod
    def _default_expert(self):
        """The expert used when ``experts=None``."""

    @abstractmethod
    def _check_target(self, X, y, sample_weight):
        """Validate ``y`` and set target attributes (``X`` is validated); return
        ``(y_fit, y_lik)``: the target the experts are fitted on and the one
        the likelihood reads."""

    @abstractmethod
    def _check_new_target(self, y, n_samples):
        """Validate a target passed after fitting; return it as ``y_lik``."""

    @abstractmethod
    def _target_features(self, y_lik):
        """Numeric columns describing ``y`` for the ``'kmeans_xy'`` start."""

    @abstractmethod
    def _expert_outputs(self, X, y_lik, n_iter=None):
        """What the freshly fitted experts predict on the training rows, once
        per M-step, for the likelihood's M-step and the E-step to share
        (what they need of it for the target ``y_lik``)."""

    @abstractmethod
    def _fit_likelihood(self, outputs, y_lik, weights):
        """M-step of the likelihood parameters (noise variances, label noise)
        from the experts' ``outputs`` and ``weights = sample_weight * resp``."""

    @abstractmethod
    def _expert_log_prob(self, X, y_lik, outputs=None, n_iter=None):
        """The experts' half of the E-step: ``log p_i(y | x)``, (n, M).

        ``outputs`` reuses the M-step's predictions on the training rows;
        errors name the expert and the EM iteration ``n_iter``."""

    def _warn_if_degenerate(self, data):
        """Warn (DegenerateFitWarning) if the fitted model is degenerate."""

    # ---- fit: prepare the data, run the starts, adopt the best, finish -----

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, *, init_resp=None, **fit_params):
        """Fit the mixture by EM.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs. A Dask array or DataFrame (with ``y`` a Dask
            array or Series) is fitted out of core, by data-parallel EM: see
            the user guide's "Parallel and distributed fitting".
        y : array-like of shape (n_samples,)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights; a weight of ``k`` counts as ``k`` repeated rows. They
            multiply the responsibilities in every expert's and the gate's fit.
        init_resp : array-like of shape (n_samples, n_experts), default=None
            Responsibilities to start EM from, instead of ``init_params``
            (every start then begins there). Non-negative; rows are
            normalised to sum to 1. Ignored, with a ``WarmStartWarning``, when
            ``warm_start=True`` continues from a fitted model.
        **fit_params : dict
            Other metadata (``groups``, say), routed to the experts and the
            gate that request it. Only available with
            ``sklearn.set_config(enable_metadata_routing=True)``; see
            :meth:`get_metadata_routing`. Every M-step passes each expert its
            share of the rows as ``sample_weight``, whatever its request,
            unless it asked not to receive it
            (``set_fit_request(sample_weight=False)``): it is then fitted as
            ``unweighted_fit`` says.

        Returns
        -------
        self : object
            The fitted mixture.

        Notes
        -----
        The fit is all or nothing: it runs on a copy and swaps the fitted
        state in at the end, in one step. If it raises (an expert fails, a
        parallel worker is lost, ``KeyboardInterrupt``), the mixture is left
        exactly as it was before ``fit``, fitted or not; a thread predicting
        meanwhile sees the old model or the new one.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(200)
        >>> moe = MixtureOfExpertsRegressor(n_init=1, random_state=0)
        >>> moe.fit(X, y) is moe
        True
        >>> len(moe.experts_), bool(moe.converged_)
        (2, True)
        """
        work = self._snapshot()
        if is_dask_collection(X):  # out of core: the blocks stay on the workers
            refuse_out_of_core(self.crossfit)
            fit_dask(work, X, y, sample_weight, init_resp, **fit_params)
        else:
            work._fit(X, y, sample_weight, init_resp, fit_params)
        self.__dict__ = work.__dict__
        return self

    def _snapshot(self):
        """A shallow copy sharing the parameters and the fitted objects."""
        return shallow_copy(self)

    def _fit(self, X, y, sample_weight, init_resp, fit_params):
        previous = self._fit_signature if self._can_warm_start() else None
        resp_given = init_resp is not None
        data, names, templates, init_resp = self._prepare(
            X, y, sample_weight, init_resp, fit_params
        )
        rng = check_random_state(self.random_state)
        strata = data.y_lik if self._kind == "classifier" else None
        data = data._replace(
            folds=crossfit_folds(self, templates, data.sample_weight, strata, rng),
            wanders=may_wander(templates),
        )
        plan = self._warm_start_plan(previous, names, templates)
        if plan is not None and resp_given:
            warn(
                "init_resp is ignored: warm_start=True continues from the fitted "
                "model. Set warm_start=False to start EM from init_resp.",
                WarmStartWarning,
            )
        # EM makes many small BLAS calls, on which threads cost more than
        # they give unless the problem is large (see _threads.py).
        with em_thread_limits(self, len(data.sample_weight), self.n_features_in_):
            if plan == "continue":
                runs = [self._continue(data, rng)]
            elif plan == "refresh":
                runs = [self._refresh(data, names, templates, rng)]
            else:
                runs = self._run_starts(data, names, templates, init_resp, rng)
            self._adopt(runs)
            self._finish(
                data, names, templates, runs, from_resp=plan is None and resp_given
            )

    def _prepare(self, X, y, sample_weight, init_resp, fit_params):
        """Validate everything, set the input attributes; return the training
        data, the experts' names and templates and the starting responsibilities."""
        X_raw = X
        X, y = self._validate_fit_data(X, y)
        params = self._route(fit_params)
        sample_weight = check_sample_weight(sample_weight, X)
        feature_names = getattr(self, "feature_names_in_", None)
        self.gate_features_, self.expert_features_ = (
            feature_columns(
                getattr(self, name), X_raw, self.n_features_in_, feature_names, name
            )
            for name in ("gate_features", "expert_features")
        )
        # The target is judged on the columns the mixture sees: the noise
        # left around its mean is that of y given them, not given all of X.
        seen = np.union1d(self.gate_features_, self.expert_features_)
        y_fit, y_lik = self._check_target(take_columns(X, seen), y, sample_weight)
        # As X (see _split): an expert that changed y in place would change
        # the caller's y and what the likelihood reads.
        y_fit, y_lik = read_only(y_fit), read_only(y_lik)
        names, templates, _ = self._expert_specs()
        columns = (
            None if feature_names is None else feature_names[self.expert_features_]
        )
        for name, expert in zip(names, templates, strict=True):
            check_expert(name, expert, self._kind)
            check_prefit_columns(name, expert, columns)
        init_resp = self._check_data_params(
            X.shape[0], len(templates), init_resp, np.count_nonzero(sample_weight)
        )
        Xe, Xg = self._split(X)
        return (
            _TrainingData(Xe, Xg, y_fit, y_lik, sample_weight, params),
            names,
            templates,
            init_resp,
        )

    def _validate_fit_data(self, X, y):
        check_numeric_input(X)
        X, y = validate_data(
            self,
            X,
            y,
            # float32 too: the gate's and the linear experts' direct M-steps
            # are float64 arithmetic, and a float32 X sent EM down the
            # estimators' own fits, to another optimum (predictions 0.55
            # apart from the same numbers in float64).
            dtype=np.float64,
            ensure_min_samples=2,
            y_numeric=self._kind == "regressor",
            accept_sparse="csr",
            # Where NaN may go is decided once the columns are known (_split).
            ensure_all_finite="allow-nan",
        )
        # Before anything is built per expert (names, templates, routing): a
        # huge n_experts is refused at once, as GaussianMixture does.
        if not _is_named_list(self.experts):
            check_n_experts(self.n_experts, X.shape[0])
        check_sparse(X, self._experts_refusing_sparse)
        check_magnitude(X, "X")
        return X, y

    def _check_data_params(self, n_samples, n_experts, init_resp, n_weighted):
        """The checks that need the data; the parameters' own types and ranges
        are declared in ``_parameter_constraints``. ``n_weighted`` rows have
        a positive weight: a row of weight 0 is absent. Returns the starting
        responsibilities given as ``init_resp`` (or, deprecated, as
        ``init_params``), or None."""
        check_weighted_rows(n_weighted, n_samples)
        check_n_experts(n_experts, n_weighted, weighted=n_weighted < n_samples)
        check_gate(self.gate)
        check_top_k(self.top_k, n_experts)
        check_temperatures(self.temperatures)
        if self.balance > 0 and not (
            self.gate is None or isinstance(self.gate, SoftmaxGate)
        ):
            raise ValueError(
                f"'balance' > 0 needs the default SoftmaxGate as gate, whose "
                f"objective carries the penalty; got gate={self.gate!r}."
            )
        return resolve_init_resp(self.init_params, init_resp, n_samples, n_experts)

    def _split(self, X):
        """The experts' and the gate's views of ``X``.

        With sparse ``X`` the experts get sparse columns and the gate a dense
        copy of its own: the softmax gate and the k-means start work on dense
        arrays, and the gate usually sees few columns. Dense views are read
        only: every expert and the gate get the same array, so one that
        would change its input in place (``StandardScaler(copy=False)`` in
        a Pipeline) must copy it instead, as scikit-learn's estimators do
        with read-only arrays, and cannot alter what the next one sees or
        the caller's ``X``.
        """
        Xg = take_columns(X, self.gate_features_)
        if sp.issparse(Xg):
            Xg = Xg.toarray()
        Xe = take_columns(X, self.expert_features_)
        check_missing(Xe, Xg, self._experts_refusing_nan, self._gate_refusing_nan)
        return read_only(Xe), read_only(Xg)

    # ---- starts ------------------------------------------------------------

    def _run_starts(self, data, names, templates, init_resp, rng):
        """EM from ``n_init`` fresh starts: short runs of ``init_max_iter``
        iterations, then the best of them continued to convergence."""
        # One start uses the mixture's own random stream. Several starts each
        # get a seed drawn up front, so that they can run in parallel and
        # n_jobs never changes which model wins. Given responsibilities are
        # one start: every restart would begin where the first did.
        # A lone expert has nothing to start from: it is fitted once.
        n_starts = 1 if init_resp is not None or len(templates) == 1 else self.n_init
        seeds = (
            [rng]
            if n_starts == 1
            else list(rng.randint(np.iinfo(np.int32).max, size=n_starts))
        )
        budget = self._short_run_budget(n_starts)
        starts = [
            (i, data, names, templates, seed, init_resp, (), budget)
            for i, seed in enumerate(seeds)
        ]
        runs = self._in_parallel(starts)
        # Short runs then a long one (Biernacki, Celeux & Govaert 2003): the
        # start that leads after a few iterations is, on the defaults grid,
        # the one that leads at convergence, at a fraction of the cost.
        best = best_run(runs)
        while runs[best].paused:
            runs[best] = runs[best].resume()
            # A continued leader only climbs where EM is an ascent; after a
            # re-seed or with cross-fitting it may end below where another
            # start paused, which then continues in its turn.
            best = best_run(runs)
        return runs

    def _short_run_budget(self, n_starts):
        """Iterations of each start before the best continues; None: all run
        to convergence. Stochastic and annealed EM run their whole schedule."""
        if n_starts == 1 or self.assignment not in ("soft", "hard"):
            return None
        return self.init_max_iter

    def _in_parallel(self, starts):
        """Run the starts, in threads with ``n_jobs``."""
        if self.n_jobs in (None, 1) or len(starts) == 1:
            return [self._run_start(*start) for start in starts]
        # A start's own error comes back as its result (raised below, the
        # first start's first); what Parallel raises broke in the backend.
        try:
            parent = parent_blas()
            results = realigned(
                Parallel(n_jobs=self.n_jobs, prefer="threads")(
                    delayed(_caught_in_worker)(parent, self._run_start, *start)
                    for start in starts
                )
            )
        except Exception as exc:
            raise RuntimeError(
                f"Running the {len(starts)} starts in parallel (n_jobs="
                f"{self.n_jobs}) failed in the parallel backend: "
                f"{type(exc).__name__}: {exc}. If a dask Client or another "
                "joblib backend is in use, check that it is still running."
            ) from exc
        runs = [run for run, _ in results]
        for _, lines in results:  # start by start, as without n_jobs
            for line in lines:
                print(line)
        for run in runs:
            if isinstance(run, Exception):
                raise run
        return runs

    def _run_start(
        self,
        index,
        data,
        names,
        templates,
        rng,
        resp=None,
        curve=(),
        budget=None,
        reseeds=None,
    ):
        """One EM run from a fresh start, on a copy of the mixture; with a
        ``budget``, a short run of at most that many iterations. A refresh
        extends the fitted model's ``curve`` and counts on from its
        ``reseeds``."""
        run = self._snapshot()
        rng = check_random_state(rng)
        run._print_start(index)
        # The start first, so that it does not depend on how many experts or
        # gates draw seeds.
        if resp is None:
            resp = initial_resp(
                start_rule(self.init_params, index),
                data.Xg,
                lambda: self._target_features(data.y_lik),
                data.sample_weight,
                len(templates),
                rng,
            )
        run._expert_names = list(names)
        run._reseeds = dict(reseeds or {})
        run._dead_events = ()
        lone = len(templates) == 1
        run.experts_ = [seeded_clone(t, rng, keep_given=lone) for t in templates]
        run.gate_ = run._new_gate(len(templates), rng)
        # The run's path begins here, after any curve it extends (a refresh).
        return run._em(
            data, resp, list(curve), rng, budget=budget, index=index, path=len(curve)
        )

    def _new_gate(self, n_experts, rng):
        if n_experts == 1:
            return None  # one expert: the gate has nothing to decide
        if self.gate is None or isinstance(self.gate, SoftmaxGate):
            gate = SoftmaxGate() if self.gate is None else clone(self.gate)
            if self.balance > 0:
                gate.set_params(balance=self.balance)
            # EM refits the gate every iteration; start from the last solution.
            return gate.set_params(warm_start=True)
        # An ensemble's warm start keeps its members: the gate would freeze.
        gate = seeded_clone(self.gate, rng)
        cold_where_it_freezes(gate)
        return gate

    # ---- warm starts -------------------------------------------------------

    def _can_warm_start(self):
        return self.warm_start and hasattr(self, "_fit_signature")

    def _signature(self, names, templates):
        return fit_signature(self, names, templates)

    def _warm_start_plan(self, previous, names, templates):
        """``"continue"`` from the fitted model, ``"refresh"`` (changed
        hyper-parameters: new experts and gate, started from the fitted
        model's responsibilities), or None: start afresh, saying why."""
        if previous is None:
            return None
        plan, why = warm_start_plan(previous, self._signature(names, templates))
        if why:
            warn(
                f"warm_start=True cannot continue from the fitted model: {why}. "
                "Fitting afresh.",
                WarmStartWarning,
            )
        return plan

    def _continue(self, data, rng):
        """Continue EM from the fitted state, on copies, so the fitted state
        stays intact until the new fit has succeeded."""
        run = self._snapshot()
        run._print_start(0)
        run.experts_ = copy_sharing_frozen(self.experts_, self.experts_)
        run.gate_ = copy.deepcopy(self.gate_)
        # Re-seeds count over the whole run, across warm-started calls.
        run._reseeds = dict(self._reseeds)
        run._dead_events = ()
        # The stall rule looks at this call's path only, not at a curve
        # fitted to other data.
        curve = list(self.log_likelihoods_)
        return run._em(data, run._fitted_resp(data, rng), curve, rng, path=len(curve))

    def _fitted_resp(self, data, rng):
        """The fitted model's responsibilities on ``data``, as a warm-started
        refit's first M-step takes them: as every later one does (hard EM's,
        each row to its most probable expert)."""
        log_resp, _ = self._e_step(data.Xg, self._expert_log_prob(data.Xe, data.y_lik))
        schedule = check_temperatures(self.temperatures)
        return assign(log_resp, self.assignment, 1, schedule, rng)

    def _refresh(self, data, names, templates, rng):
        """Experts and gate rebuilt from their changed parameters, started from
        the responsibilities of the fitted model (pruned experts stay pruned)."""
        template_of = dict(zip(names, templates, strict=True))
        kept = list(self._expert_names)
        return self._run_start(
            0,
            data,
            kept,
            [template_of[name] for name in kept],
            rng,
            resp=self._fitted_resp(data, rng),
            curve=self.log_likelihoods_,
            reseeds=self._reseeds,
        )

    # ---- the EM loop -------------------------------------------------------

    def _em(
        self,
        data,
        resp,
        curve,
        rng,
        budget=None,
        index=0,
        first=1,
        path=0,
        elapsed=0.0,
    ):
        """Alternate M- and E-steps from ``resp``; append to ``curve``.

        Soft EM is accelerated by SQUAREM unless ``acceleration=None``
        (``"auto"``: after the run's first 20 iterations): a
        jump that loses likelihood against the plain step it left is not
        recorded, and plain EM goes on from that step. Stochastic EM never
        settles, so it runs ``max_iter`` iterations and ends on the best of
        them, as flexmix's SEM does. A short run stops after ``budget``
        iterations; the run it returns can resume from there. ``path`` is
        where in ``curve`` the current path began: a re-seed starts a new
        one, and the stall rule looks at the current path only. ``elapsed``
        is the seconds a resumed run had already taken, which its progress
        lines count on from.
        """
        stochastic = self.assignment == "stochastic"
        schedule = check_temperatures(self.temperatures)
        # Annealed EM must not stop while its temperature is still falling.
        settle = schedule_length(schedule) if self.assignment == "annealed" else 0
        last = self.max_iter if budget is None else min(budget, self.max_iter)
        squarem = self._accelerator(data)
        warm_start_for_em(self.experts_)
        share_noise_estimate(self.experts_, getattr(self, "_noise", None))
        mark_nested(self.experts_, True)
        ll, best, converged, start = (
            (curve[-1] if curve else -np.inf),
            None,
            False,
            time() - elapsed,
        )
        # What EM climbs, and what its steps are judged on: the
        # log-likelihood less the penalties of the gate's and the experts' fits.
        objective = ll - self._penalty(data) if curve else -np.inf
        for n_iter in range(first, last + 1):
            previous, previous_objective = ll, objective
            log_resp, log_norm, ll = self._em_iteration(data, resp, rng, n_iter)
            objective = ll - self._penalty(data)
            if squarem is not None and squarem.judge(objective) is False:
                resp, ll, objective = squarem.fallback(), previous, previous_objective
                continue
            self._record(n_iter, ll, previous, log_resp, data, curve, start)
            if stochastic and (best is None or ll > best[0]):
                best = (ll, copy_sharing_frozen(self._state(), self.experts_))
            # A single expert owns every row: its first M-step is already the
            # maximum-likelihood fit, and refitting could only add solver noise.
            if log_resp.shape[1] == 1:
                converged = True
                break
            # Not after the last iteration: no E-step would follow, and the
            # model would end on responsibilities it has not fitted.
            n_experts = log_resp.shape[1]
            log_resp, revived = (
                self._handle_dead_experts(log_resp, log_norm, data, n_iter)
                if n_iter < last
                else (log_resp, False)
            )
            if log_resp.shape[1] < n_experts:
                # Pruned for good: stochastic EM keeps its best iteration
                # from here on, not one that still held the pruned experts.
                best = None
            if (
                not (stochastic or revived)
                and n_iter > settle
                and (
                    abs(objective - previous_objective) < self.tol
                    # Cross-fitted EM, and EM with flexible experts whether
                    # cross-fitted or not, need not settle: stop when it
                    # stalls.
                    or (
                        (data.folds is not None or data.wanders)
                        and stalled(curve[path:])
                    )
                )
            ):
                converged = True
                break
            resp = assign(log_resp, self.assignment, n_iter, schedule, rng)
            if revived:  # re-seeded or pruned: a new path
                path = len(curve)
                if squarem is not None:
                    squarem.restart(resp, n_iter)
            elif squarem is not None:
                resp = squarem.next_resp(resp, objective, n_iter + 2 <= last, n_iter)
        if stochastic:
            ll, state = best
            self._set_state(state)
            converged = True
        if not converged and last < self.max_iter:
            self._print_pause(last, ll)
            return _Run(
                ll,
                self._state(),
                curve,
                False,
                # A partial, not a lambda: a run paused in a process worker
                # goes back pickled, and pickle takes no lambdas.
                resume=functools.partial(
                    self._resume,
                    data,
                    resp,
                    curve,
                    rng,
                    index,
                    last + 1,
                    path,
                    time() - start,
                ),
            )
        self._print_end(converged, ll)
        return _Run(ll, self._state(), curve, converged)

    def _resume(self, data, resp, curve, rng, index, first, path, elapsed):
        """Continue a short run from iteration ``first`` to convergence; it
        had taken ``elapsed`` seconds."""
        self._print_resume(index, first)
        return self._em(
            data,
            resp,
            curve,
            rng,
            index=index,
            first=first,
            path=path,
            elapsed=elapsed,
        )

    def _accelerator(self, data):
        """SQUAREM for soft EM, else None. ``"auto"`` jumps only after the
        first ``AUTO_DELAY`` iterations of a run, and only where plain EM is
        an ascent: with flexible experts or cross-fitting it is not, and a
        jump could not be judged against the plain step."""
        if self.acceleration is None or self.assignment != "soft":
            return None
        if self.acceleration == "auto":
            if data.wanders or data.folds is not None:
                return None
            return Squarem(self, AUTO_DELAY, data.sample_weight)
        return Squarem(self, 0, data.sample_weight)

    def _penalty(self, data):
        """The gate's and the experts' penalties per unit weight: EM climbs
        the log-likelihood less them (see ``_objective.py``)."""
        return penalty_per_weight(
            self.experts_, self.gate_, data.Xg.shape[1], data.sample_weight.sum()
        )

    def _em_iteration(self, data, resp, rng, n_iter):
        """One application of the EM map: the M-step from ``resp``, then the
        E-step; returns ``(log_resp, log_norm, log-likelihood)``."""
        outputs = self._m_step(data, resp, rng, n_iter)
        log_prob = self._expert_log_prob(data.Xe, data.y_lik, outputs, n_iter)
        if data.folds is not None and self._crossfit_penalty is not None:
            log_prob = log_prob - self._crossfit_penalty
        log_resp, log_norm = self._e_step(data.Xg, log_prob)
        return (
            log_resp,
            log_norm,
            self._log_likelihood_of(log_norm, data.sample_weight, n_iter),
        )

    def _m_step(self, data, resp, rng, n_iter):
        """Refit the experts, their likelihood parameters and the gate to the
        responsibilities; return the experts' outputs on the training rows."""
        self.experts_ = fit_experts(
            self.experts_,
            self._expert_names,
            data.Xe,
            data.y_fit,
            data.sample_weight,
            resp,
            rng,
            n_iter,
            self.unweighted_fit,
            self.n_jobs,
            data.params,
            self._logistic_design(data),
            self._pipelines(),
        )
        outputs = self._expert_outputs(data.Xe, data.y_lik, n_iter)
        if data.folds is not None:  # score the experts out of fold
            outputs, self._crossfit_penalty = crossfit_outputs(
                self, data, resp, rng, n_iter, outputs
            )
        self._fit_likelihood(
            outputs, data.y_lik, data.sample_weight[:, np.newaxis] * resp
        )
        if self.gate_ is not None:
            self._fit_gate(data, resp, n_iter)
        return outputs

    def _fit_gate(self, data, resp, n_iter):
        try:
            fit_gate(
                self.gate_,
                data.Xg,
                resp,
                data.sample_weight,
                data.params.get("gate"),
                self._gate_design(data),
            )
        except Exception as exc:
            raise same_type_error(
                exc,
                f"The gate ({type(self.gate_).__name__}) failed to fit at EM "
                f"iteration {n_iter}: {exc}",
            ) from exc

    def _pipelines(self):
        """What :func:`~skmoe._fast_mstep.fit_pipeline` keeps for this EM
        run (the copy of the mixture that runs it, and ends with it)."""
        return self.__dict__.setdefault("_pipelines_of_run", RunMemo())

    def _through_pipeline(self, expert, X):
        """``(estimator, X)`` to take ``expert``'s outputs on ``X`` from.

        A Pipeline whose first steps :func:`~skmoe._fast_mstep.fit_pipeline`
        fitted on these very rows predicts by its last step from their
        transform of the rows, kept since: transforming the same rows again
        would give the same numbers, at the cost of the transform (and its
        validation of ``X``) at every iteration.
        """
        if type(expert) is Pipeline:
            kept = self.__dict__.get("_pipelines_of_run", {}).get(expert)
            if kept is not None and kept.X is X:
                return expert.steps[-1][1], kept.Xp
        return expert, X

    def _logistic_design(self, data):
        """The logistic experts' inputs (classes, targets, ``X`` with an
        intercept column), made once per EM run like the gate's design; None
        when no expert is a logistic regression solved directly."""
        design = self.__dict__.get("_logistic_design_of_run")
        if design is None or not design.matches(data.Xe, data.y_fit):
            design = None
            if solves_logistic(self.experts_, data.Xe, data.y_fit):
                design = logistic_design(data.Xe, data.y_fit)
                self._logistic_design_of_run = design
        return design

    def _gate_design(self, data):
        """The default gate's standardised inputs, made once per EM run (the
        copy of the mixture that runs it, and ends with it) for every M-step
        to reuse: the gate's inputs do not change between iterations."""
        design = self.__dict__.get("_gate_design_of_run")
        if design is None or not design.matches(data.Xg, data.sample_weight):
            design = gate_design(self.gate_, data.Xg, data.sample_weight)
            if design is not None:
                self._gate_design_of_run = design
        return design

    def _e_step(self, Xg, log_prob):
        """The gate's half of the E-step: ``log g_i(x) + log p_i(y | x)``,
        normalised by row; returns ``(log_resp, log_norm)``."""
        return log_responsibilities(self._log_gate(Xg), log_prob)

    def _log_gate(self, Xg):
        """The gate's log-probabilities ``log g_i(x)``, (n, M)."""
        if self.gate_ is None:
            return np.zeros((Xg.shape[0], 1))
        return gate_log_proba(self.gate_, Xg, len(self.experts_))

    @staticmethod
    def _log_likelihood_of(log_norm, sample_weight, n_iter):
        ll = mean_log_likelihood(log_norm, sample_weight)
        if not np.isfinite(ll):
            raise ValueError(
                f"The log-likelihood became {ll} at iteration {n_iter}: an "
                "expert's likelihood is not finite. Check the experts' "
                "predictions for NaN or inf."
            )
        return ll

    def _record(self, n_iter, ll, previous, log_resp, data, curve, start):
        """Keep what one iteration ended on: the curve, ``n_iter_`` and each
        expert's share of the responsibility."""
        curve.append(ll)
        self._print_iter(n_iter, ll, ll - previous, time() - start)
        self.n_iter_ = n_iter
        weight = data.sample_weight
        self.expert_weights_ = weight @ np.exp(log_resp) / weight.sum()

    def _state(self):
        """The fitted state an EM run ends in, by attribute name."""
        names = (
            "_reseeds",
            "_dead_events",
            "_expert_names",
            "experts_",
            "gate_",
            "n_iter_",
            "expert_weights_",
            *self._likelihood_attributes,
        )
        return {name: getattr(self, name) for name in names}

    def _set_state(self, state):
        self.__dict__.update(state)

    # ---- the expert set: one owner for "which experts, in which order" ----

    def _name_by_position(self):
        """Name the experts ``expert0, expert1, ...`` in their order; their
        re-seed counts, kept by name across warm-started refits, follow them."""
        names = [f"expert{i}" for i in range(len(self.experts_))]
        renamed = dict(zip(self._expert_names, names, strict=True))
        self._reseeds = {
            renamed[name]: count
            for name, count in getattr(self, "_reseeds", {}).items()
            if name in renamed
        }
        self._expert_names = names
        return renamed

    def _take_experts(self, index, data=None, resp=None):
        """Keep the experts at ``index``, in that order, with everything that
        belongs to them: names, shares, likelihood parameters, gate columns.

        The default gate takes its own columns; any other gate is refitted on
        the kept responsibilities ``resp`` (so needs ``data``).
        """
        index = np.asarray(index, dtype=np.intp)
        self.experts_ = [self.experts_[i] for i in index]
        self._expert_names = [self._expert_names[i] for i in index]
        self.expert_weights_ = self.expert_weights_[index]
        for name in self._likelihood_attributes:
            setattr(self, name, getattr(self, name)[index])
        if len(index) == 1:
            self.gate_ = None
        elif isinstance(self.gate_, SoftmaxGate):
            self.gate_.take_classes(index, renumber=True)
        elif self.gate_ is not None:
            # Afresh on the kept classes: a gate that warm-starts would
            # refuse, or start from, its solution for the classes before.
            self.gate_ = clone(self.gate_)
            kept = resp[:, index]
            self._fit_gate(data, kept / kept.sum(axis=1, keepdims=True), self.n_iter_)

    def _handle_dead_experts(self, log_resp, log_norm, data, n_iter):
        """Re-seed or prune experts whose share fell below ``min_expert_weight``.

        Returns the (possibly changed) log-responsibilities for the next
        M-step and whether anything changed.
        """
        dead = np.flatnonzero(self.expert_weights_ < self.min_expert_weight)
        if self.dead_expert == "reseed":
            dead = [
                i
                for i in dead
                if self._reseeds.get(self._expert_names[i], 0) < _MAX_RESEEDS
            ]
        if len(dead) == 0 or self.dead_expert == "keep":
            return log_resp, False
        spared = None
        if self.dead_expert == "prune" and len(dead) == len(self.experts_):
            # Every expert fell below a threshold above 1 / n_experts; a
            # mixture needs one expert, so the heaviest stays.
            heaviest = int(np.argmax(self.expert_weights_))
            spared = self._expert_names[heaviest]
            dead = np.delete(dead, heaviest)
        names = [self._expert_names[i] for i in dead]
        shares = ", ".join(f"{self.expert_weights_[i]:.2g}" for i in dead)
        remaining = None
        if self.dead_expert == "prune":
            keep = np.setdiff1d(np.arange(len(self.experts_)), dead)
            self._take_experts(keep, data, np.exp(log_resp))
            log_resp = log_softmax(log_resp[:, keep])
            remaining = len(self.experts_)
        else:
            for name in names:
                self._reseeds[name] = self._reseeds.get(name, 0) + 1
            resp = reseed(np.exp(log_resp), dead, log_norm, data.sample_weight)
            with np.errstate(divide="ignore"):
                log_resp = np.log(resp)
        # Said when the fit ends, of the start it keeps, under the names the
        # experts then have (_warn_of_dead_events): a start the fit discards
        # says nothing, and names change when the experts are sorted.
        self._dead_events += ((names, shares, n_iter, spared, remaining),)
        return log_resp, True

    def _warn_of_dead_events(self, renamed):
        """The kept start's re-seeds and prunes, as warnings; ``renamed``
        maps the names the start gave its experts to their names now (a
        pruned expert keeps the name it had)."""
        events = self.__dict__.get("_dead_events", ())
        final = set(renamed.values())
        for names, shares, n_iter, spared, remaining in events:
            # A pruned expert has no name now; the name it had may since
            # have gone to another expert, renamed by position.
            gone = [n for n in names if n not in renamed and n in final]
            experts = f"Experts {[renamed.get(name, name) for name in names]}"
            if gone:
                experts += (
                    f" (named as when pruned: {', '.join(gone)} now name other "
                    "experts, the remaining ones renamed by position)"
                )
            if remaining is None:
                action = "re-seeded on the rows the mixture explains worst"
            else:
                now = renamed.get(spared, spared)
                kept = (
                    ""
                    if spared is None
                    else f" ({now}, the heaviest, was kept)"
                    if now == spared
                    else f" (the heaviest, {spared} then, now {now}, was kept)"
                )
                action = f"pruned{kept}; {experts_remaining(remaining)}"
            warn(
                f"{experts} received less than min_expert_weight="
                f"{self.min_expert_weight} of the responsibility ({shares}) at "
                f"iteration {n_iter} and were {action}.",
                DeadExpertWarning,
            )

    # ---- adopt the best run, finish ----------------------------------------

    def _adopt(self, runs):
        """Take the fitted state of the best run; keep every run's curve."""
        best = best_run(runs, finished=True)
        run = runs[best]
        self._set_state(run.state)
        self.log_likelihoods_ = np.asarray(run.curve)
        self.start_log_likelihoods_ = [np.asarray(r.curve) for r in runs]
        self.best_start_ = best
        # Stochastic EM ends on its best iteration; a warm-started run's curve
        # also holds the earlier fits', so that best is the run's own.
        self.log_likelihood_ = (
            run.log_likelihood if self.assignment == "stochastic" else run.curve[-1]
        )
        self.converged_ = run.converged

    def _finish(self, data, names, templates, runs, from_resp=False):
        """Hand the experts back as their templates were, fix the order of
        interchangeable experts, and say what went wrong, if anything."""
        # EM refitted the experts from their previous solutions; hand them
        # back with the warm_start their templates had.
        template_of = dict(zip(names, templates, strict=True))
        given = [template_of[n] for n in self._expert_names]
        give_back_warm_start(self.experts_, given)
        if self.gate_ is not None and not isinstance(self.gate_, SoftmaxGate):
            give_back_warm_start([self.gate_], [self.gate])
        self.experts_ = with_frozen_shared(self.experts_, given)
        if "_parent_noise" not in self.__dict__:  # else the parent's EM goes on
            share_noise_estimate(self.experts_, None)
        nested = self.__dict__.get("_in_parent_em", False)
        if not nested:
            mark_nested(self.experts_, False)
        if not self.converged_ and not nested:
            warn(
                "Best performing initialization did not converge: the "
                "log-likelihood less the fits' penalties (what EM climbs) still "
                f"changed by more than tol={self.tol} after "
                f"max_iter={self.max_iter} iterations. Try increasing max_iter, "
                "raising tol, or a different init_params; check for degenerate "
                "data.",
                ConvergenceWarning,
            )
        renamed = {}
        if not _is_named_list(self.experts):
            # Cloned experts are interchangeable: order them by decreasing
            # share (no label switching) and name them by position.
            if isinstance(self.gate_, SoftmaxGate):
                self._take_experts(np.argsort(-self.expert_weights_, kind="stable"))
            renamed = self._name_by_position()
        self._fit_signature = self._signature(names, templates)
        if nested:
            # A child's fit is one M-step of its parent's EM, from which
            # warnings would repeat at every parent iteration with new
            # figures; its final state is judged when the parent ends.
            return
        self._warn_of_dead_events(renamed)
        self._warn_if_suspect(runs, from_resp=from_resp)
        self._warn_if_degenerate(data)

    def _warn_if_suspect(self, runs, path=None, from_resp=False):
        """Say when EM probably went wrong: dead experts left at the end,
        live ones far below their fair share, or starts in different optima;
        and the same of the nested mixtures, whose experts are named by their
        path (``path/name``)."""
        names = self._expert_names
        if path is not None:
            names = [f"{path}/{name}" for name in names]
        shares = self.expert_weights_
        reseeds = getattr(self, "_reseeds", {})
        reseeded = [name in reseeds for name in self._expert_names]
        dead = dead_experts(
            names, shares, self.min_expert_weight, self.dead_expert, reseeded
        )
        if dead:
            warn(dead, DeadExpertWarning)
        built = len(self._expert_specs()[0])
        if path is not None and len(self.experts_) < built:
            # A child's prunes are not said mid-fit (its iterations are one
            # M-step of the parent's), nor remembered across its refits.
            pruned = built - len(self.experts_)
            warn(
                f"{pruned} of the {built} experts of {path!r} "
                f"{'was' if pruned == 1 else 'were'} pruned during the fit "
                f"({experts_remaining(len(self.experts_))}).",
                DeadExpertWarning,
            )
        for message in (
            small_experts(names, shares, self.min_expert_weight, from_resp),
            # A start left after its short run has not reached its optimum.
            restart_spread([run.log_likelihood for run in runs if not run.paused]),
        ):
            if message:
                warn(message, LocalOptimumWarning)
        for name, child in zip(names, self.experts_, strict=True):
            if isinstance(child, _BaseMixtureOfExperts):
                child._warn_if_suspect([], path=name)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self._experts_accept("allow_nan") and not (
            self._gate_refusing_nan()
        )
        tags.input_tags.sparse = self._experts_accept("sparse")
        return tags
