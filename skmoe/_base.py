"""The estimator shared by the regressor and the classifier: parameters, EM loop,
restarts, warm start, verbose output and the nested parameters of experts."""

import copy
import numbers
import warnings
from abc import ABCMeta, abstractmethod
from time import time

import numpy as np
import scipy.sparse as sp
from joblib import cpu_count, effective_n_jobs
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import Bunch, check_random_state, get_tags
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted, validate_data

from ._compat import _check_sample_weight
from ._experts import (
    UNWEIGHTED_FIT,
    check_expert,
    fit_expert_in_worker,
    fit_expert_named,
    fit_mode,
    same_type_error,
    seeded_clone,
    set_warm_start,
)
from ._gating import SoftmaxGate, check_gate, fit_gate, gate_log_proba
from ._init import reseed, soften, standardize, weighted_kmeans
from ._math import log_responsibilities, log_softmax, mean_log_likelihood
from ._persistence import VersionedStateMixin
from ._routing import (
    ASSIGNMENTS,
    assign,
    check_temperatures,
    check_top_k,
    schedule_length,
    top_k_weights,
)

INIT_PARAMS = ("kmeans", "kmeans_xy", "random")
DEAD_EXPERT = ("reseed", "prune", "keep")

# How often one expert may be re-seeded in one EM run before it is kept as it
# is: an expert that starves again and again has no region of its own.
_MAX_RESEEDS = 2


class DeadExpertWarning(UserWarning):
    """An expert received almost none of the responsibility during EM.

    Raised with what skmoe did about it (re-seeded, pruned or kept, as
    ``dead_expert`` says). Remedies: fewer experts, another ``init_params``,
    more ``n_init``, or a load-balancing penalty (``balance``).

    See Also
    --------
    DegenerateFitWarning : a fit that ended on a degenerate solution.

    Examples
    --------
    A start that leaves the second expert almost no responsibility: with
    ``dead_expert="prune"`` it is dropped, and the warning says so.

    >>> import warnings
    >>> import numpy as np
    >>> from skmoe import DeadExpertWarning, MixtureOfExpertsRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-3, 3, size=(200, 1))
    >>> y = 2 * X[:, 0] + 0.1 * rng.standard_normal(200)
    >>> start = np.tile([0.9999, 0.0001], (200, 1))
    >>> moe = MixtureOfExpertsRegressor(
    ...     n_experts=2, init_params=start, dead_expert="prune", random_state=0
    ... )
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     moe = moe.fit(X, y)
    >>> [w.category.__name__ for w in caught]
    ['DeadExpertWarning']
    >>> len(moe.experts_)
    1
    """


class DegenerateFitWarning(UserWarning):
    """The fit finished, but on a degenerate solution.

    Raised at the end of ``fit`` when the data leave the mixture nothing to
    estimate in some part: a constant regression target, or regression experts
    that fit their rows exactly, so that their noise variance sits at its
    floor (``reg_var`` times the variance of ``y``) and the gate's trust in
    them is set by that floor rather than by the data. The model is usable
    (its predictions and log-likelihood are finite); the message says what is
    degenerate and what to change.

    See Also
    --------
    DeadExpertWarning : an expert that receives almost no responsibility.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from skmoe import DegenerateFitWarning, MixtureOfExpertsRegressor
    >>> X = np.arange(10.0).reshape(-1, 1)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     moe = MixtureOfExpertsRegressor(random_state=0).fit(X, np.ones(10))
    >>> [w.category.__name__ for w in caught]
    ['DegenerateFitWarning']
    >>> moe.predict([[3.0]])
    array([1.])
    """


def _check_numeric_input(X):
    """Raise a clear error if ``X`` holds anything but numbers.

    scikit-learn's conversion otherwise fails with numpy's bare "could not
    convert string to float", which names neither ``X`` nor the column.
    Errors keep numpy's type (ValueError for text, TypeError for other
    objects) and its message, after one that says what to do.
    """
    remedy = (
        "Encode such columns first, for example with OneHotEncoder in a "
        "ColumnTransformer placed before the mixture in a Pipeline."
    )
    dtypes = getattr(X, "dtypes", None)
    if dtypes is not None and hasattr(X, "columns"):
        bad = [
            f"{column!r} ({dtype})"
            for column, dtype in zip(X.columns, dtypes, strict=True)
            if not _is_numeric_column(X[column], dtype)
        ]
        if bad:
            raise ValueError(
                f"X must hold numbers, but its columns {', '.join(bad)} do not. "
                + remedy
            )
        return
    if isinstance(X, np.ndarray) and X.dtype.kind in "OUSMm":
        try:
            X.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise same_type_error(
                exc,
                f"X must hold numbers, but its dtype is {X.dtype} and it holds "
                f"values that are not ({exc}). {remedy}",
            ) from exc


def _is_numeric_column(column, dtype):
    categories = getattr(dtype, "categories", None)
    if categories is not None:  # pandas Categorical: its categories count
        return categories.dtype.kind in "biuf"
    kind = getattr(dtype, "kind", "O")
    if kind in "biufc":
        return True
    if kind != "O":
        return False  # dates, durations, intervals
    try:
        np.asarray(column, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


def _take_columns(X, columns):
    """``X[:, columns]``, without a copy when ``columns`` is every column."""
    if len(columns) == X.shape[1] and np.all(columns == np.arange(X.shape[1])):
        return X
    return X[:, columns]


def _is_drop(expert):
    return isinstance(expert, str) and expert == "drop"


def _is_named_list(experts):
    """Whether ``experts`` looks like a list of (name, estimator) pairs."""
    return (
        isinstance(experts, (list, tuple))
        and len(experts) > 0
        and all(isinstance(item, tuple) and len(item) == 2 for item in experts)
    )


def _check_int(value, name, minimum):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"'{name}' must be an int, got {value!r}.")
    if value < minimum:
        raise ValueError(f"'{name}' must be an int >= {minimum}, got {value!r}.")


def _check_non_negative(value, name):
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"'{name}' must be a float, got {value!r}.")
    if not value >= 0:
        raise ValueError(f"'{name}' must be a non-negative float, got {value!r}.")


class _BaseMixtureOfExperts(VersionedStateMixin, BaseEstimator, metaclass=ABCMeta):
    """EM for p(y | x) = sum_i g_i(x) p_i(y | x); see the public subclasses."""

    # ---- hooks the regressor and the classifier fill in -------------------

    _kind = None  # "regressor" or "classifier"

    @abstractmethod
    def _default_expert(self):
        """The expert used when ``experts=None``."""

    @abstractmethod
    def _check_target(self, y, sample_weight):
        """Validate ``y`` and set target attributes; return ``(y_fit, y_lik)``:
        the target the experts are fitted on and the one the likelihood reads."""

    @abstractmethod
    def _target_features(self, y_lik):
        """Numeric columns describing ``y`` for the ``'kmeans_xy'`` start."""

    @abstractmethod
    def _update_likelihood(self, X, y, y_lik, weights, n_iter=None):
        """After the experts' M-step: refit the noise model and return the
        experts' log-likelihoods of the training targets, (n, M); errors
        name the expert and the EM iteration ``n_iter``."""

    @abstractmethod
    def _expert_log_prob(self, X, y_lik):
        """Experts' log-likelihoods ``log p_i(y | x)`` of given targets, (n, M)."""

    @abstractmethod
    def _likelihood_parameters(self):
        """The fitted likelihood parameters (e.g. noise variances), or None."""

    @abstractmethod
    def _set_likelihood_parameters(self, parameters):
        """Restore what :meth:`_likelihood_parameters` returned."""

    def _warn_if_degenerate(self, Xe, Xg, y_lik, sample_weight):
        """Warn (DegenerateFitWarning) if the fitted model is degenerate;
        the arguments are the training data, as EM saw them."""

    @abstractmethod
    def _take_likelihood(self, index):
        """Keep the per-expert likelihood parameters at ``index``, in that order
        (after sorting or pruning the experts)."""

    # ---- nested parameters, as in VotingClassifier ------------------------

    def get_params(self, deep=True):
        """Parameters of the mixture and, with ``deep=True``, of its parts.

        Named experts appear under their names (``"lin"``) and their parameters
        as ``"lin__alpha"``; a single template expert as ``"experts__alpha"``;
        the gate as ``"gate__alpha"``.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of the experts and of the gate.

        Returns
        -------
        params : dict
        """
        out = super().get_params(deep=deep)
        if deep and _is_named_list(self.experts):
            for name, expert in self.experts:
                out[name] = expert
                if hasattr(expert, "get_params") and not isinstance(expert, type):
                    for key, value in expert.get_params(deep=True).items():
                        out[f"{name}__{key}"] = value
        return out

    def set_params(self, **params):
        """Set parameters of the mixture, of named experts or of the gate.

        ``set_params(lin=Ridge())`` replaces the expert named ``"lin"``;
        ``set_params(lin__alpha=2.0)`` changes one of its parameters;
        ``set_params(gate__alpha=0.1)`` reaches the default gate even while
        ``gate=None`` (the default gate is then built with that value), and
        likewise ``experts__...`` for the default experts.

        Parameters
        ----------
        **params : dict
            Parameter names and values.

        Returns
        -------
        self : estimator instance
        """
        if "experts" in params:
            self.experts = params.pop("experts")
        if _is_named_list(self.experts):
            template_keys = sorted(k for k in params if k.startswith("experts__"))
            if template_keys:
                raise ValueError(
                    f"Invalid parameters {template_keys}: 'experts__...' addresses "
                    "a single template expert, but 'experts' is a list of named "
                    "experts; use '<name>__<parameter>' instead."
                )
            names = [item[0] for item in self.experts]
            for key in [k for k in params if "__" not in k and k in names]:
                value = params.pop(key)
                self.experts = [
                    (name, value if name == key else expert)
                    for name, expert in self.experts
                ]
        defaults = {"gate": SoftmaxGate, "experts": self._default_expert}
        for attr, make_default in defaults.items():
            nested = any(key.startswith(attr + "__") for key in params)
            if nested and attr not in params and getattr(self, attr) is None:
                setattr(self, attr, make_default())
        return super().set_params(**params)

    # ---- parameter and expert validation -----------------------------------

    def _expert_specs(self):
        """The experts as ``(names, unfitted estimators, cloned_from_template)``."""
        experts = self.experts
        if _is_named_list(experts):
            names = [name for name, _ in experts]
            self._check_names(names)
            kept = [(n, e) for n, e in experts if not _is_drop(e)]
            if not kept:
                raise ValueError(
                    "All experts are dropped. At least one is required to be an "
                    "estimator."
                )
            return [n for n, _ in kept], [e for _, e in kept], False
        if experts is None:
            template = self._default_expert()
        elif hasattr(experts, "fit") or isinstance(experts, type):
            template = experts
        else:
            raise TypeError(
                "'experts' must be None, an estimator (cloned n_experts times) or a "
                f"non-empty list of (name, estimator) tuples; got {experts!r}."
            )
        _check_int(self.n_experts, "n_experts", 1)
        names = [f"expert{i}" for i in range(self.n_experts)]
        return names, [template] * self.n_experts, True

    def _check_names(self, names):
        if not all(isinstance(name, str) for name in names):
            raise TypeError(f"Expert names must be strings, got {names!r}.")
        if len(set(names)) != len(names):
            raise ValueError(f"Expert names are not unique: {names!r}.")
        clash = sorted(set(names).intersection(self.get_params(deep=False)))
        if clash:
            raise ValueError(
                f"Expert names conflict with constructor arguments: {clash!r}."
            )
        nested = [name for name in names if "__" in name]
        if nested:
            raise ValueError(f"Expert names must not contain __: got {nested!r}.")

    def _check_params(self, n_samples, n_experts):
        if n_experts > n_samples:
            raise ValueError(
                f"'n_experts' must be at most the number of samples ({n_samples}); "
                f"got {n_experts} experts."
            )
        _check_int(self.max_iter, "max_iter", 1)
        _check_int(self.n_init, "n_init", 1)
        _check_non_negative(self.tol, "tol")
        _check_int(self.verbose, "verbose", 0)
        _check_int(self.verbose_interval, "verbose_interval", 1)
        check_gate(self.gate)
        check_top_k(self.top_k, n_experts)
        if self.assignment not in ASSIGNMENTS:
            raise ValueError(
                f"'assignment' must be one of {ASSIGNMENTS}, got {self.assignment!r}."
            )
        check_temperatures(self.temperatures)
        _check_non_negative(self.balance, "balance")
        if self.balance > 0 and not (
            self.gate is None or isinstance(self.gate, SoftmaxGate)
        ):
            raise ValueError(
                f"'balance' > 0 needs the default SoftmaxGate as gate, whose "
                f"objective carries the penalty; got gate={self.gate!r}."
            )
        _check_non_negative(self.min_expert_weight, "min_expert_weight")
        if not self.min_expert_weight < 1:
            raise ValueError(
                "'min_expert_weight' must be below 1 (a share of the "
                f"responsibility), got {self.min_expert_weight!r}."
            )
        if self.dead_expert not in DEAD_EXPERT:
            raise ValueError(
                f"'dead_expert' must be one of {DEAD_EXPERT}, got {self.dead_expert!r}."
            )
        if self.unweighted_fit not in UNWEIGHTED_FIT:
            raise ValueError(
                f"'unweighted_fit' must be one of {UNWEIGHTED_FIT}, got "
                f"{self.unweighted_fit!r}."
            )
        init = self.init_params
        if isinstance(init, str):
            if init not in INIT_PARAMS:
                raise ValueError(
                    f"'init_params' must be one of {INIT_PARAMS} or an array of "
                    f"shape (n_samples, n_experts); got {init!r}."
                )
        elif not hasattr(init, "__len__"):
            raise TypeError(
                f"'init_params' must be one of {INIT_PARAMS} or an array of shape "
                f"(n_samples, n_experts); got {init!r}."
            )

    def _feature_columns(self, selector, X_raw, name):
        """Resolve a column selector to sorted-as-given int indices."""
        n_features = self.n_features_in_
        if selector is None:
            return np.arange(n_features)
        if callable(selector):
            selector = selector(X_raw)
        columns = np.asarray(selector)
        if columns.ndim == 0:
            columns = columns.reshape(1)
        allowed = (
            "int indices, a boolean mask, column names (with a DataFrame) or a "
            "callable returning one of these"
        )
        if columns.dtype == bool:
            if len(columns) != n_features:
                raise ValueError(
                    f"'{name}' as a boolean mask must have one entry per feature "
                    f"({n_features}); got {len(columns)}."
                )
            columns = np.flatnonzero(columns)
        elif columns.dtype.kind in "iu":
            bad = columns[(columns < -n_features) | (columns >= n_features)]
            if len(bad):
                raise ValueError(
                    f"'{name}' selects columns {bad.tolist()} out of range for "
                    f"{n_features} features."
                )
            columns = columns % n_features
        elif columns.dtype.kind in "OUS" and len(columns):
            names = getattr(self, "feature_names_in_", None)
            if names is None:
                raise ValueError(
                    f"'{name}' selects columns by name ({columns.tolist()}), which "
                    "needs X to be a DataFrame with string column names."
                )
            unknown = sorted(set(columns.tolist()) - set(names.tolist()))
            if unknown:
                raise ValueError(f"'{name}' names unknown columns {unknown}.")
            position = {column: i for i, column in enumerate(names)}
            columns = np.array([position[c] for c in columns])
        elif len(columns):
            raise TypeError(f"'{name}' must be {allowed}; got {selector!r}.")
        if len(columns) == 0:
            raise ValueError(f"'{name}' selects no columns; it must select some.")
        return columns.astype(np.intp)

    def _named_experts(self):
        """``(name, expert)`` pairs of the fitted experts."""
        return zip(self._expert_names, self.experts_, strict=True)

    def _split(self, X):
        """The experts' and the gate's views of ``X``.

        With sparse ``X`` the experts get sparse columns and the gate a dense
        copy of its own: the softmax gate and the k-means start work on dense
        arrays, and the gate usually sees few columns.
        """
        Xg = _take_columns(X, self.gate_features_)
        if sp.issparse(Xg):
            Xg = Xg.toarray()
        return _take_columns(X, self.expert_features_), Xg

    def _experts_refusing_sparse(self):
        """Names of the experts that do not accept sparse ``X``."""
        try:
            names, templates, _ = self._expert_specs()
            return [
                name
                for name, expert in zip(names, templates, strict=True)
                if not get_tags(expert).input_tags.sparse
            ]
        except Exception:
            # Invalid experts are reported by fit, with their own message.
            return ["experts"]

    @staticmethod
    def _check_sparse(X, experts_refusing_sparse):
        """Refuse sparse ``X`` if an expert does; the experts are asked only
        when ``X`` is sparse, so dense inputs pay nothing."""
        if not sp.issparse(X):
            return
        refusing = experts_refusing_sparse()
        if refusing:
            raise TypeError(
                "Sparse X is accepted only when every expert accepts sparse "
                f"input, and {refusing} do not. Pass X.toarray(), or use "
                "experts that take sparse data."
            )

    # ---- initialisation ----------------------------------------------------

    def _initial_resp(self, X, y_lik, sample_weight, n_experts, rng):
        """Starting responsibilities, (n, M); rows sum to 1."""
        init = self.init_params
        n_samples = X.shape[0]
        if not isinstance(init, str):
            return self._user_resp(init, n_samples, n_experts)
        if n_experts == 1:
            return np.ones((n_samples, 1))
        Z = standardize(X.astype(np.float64, copy=False), sample_weight)
        if init == "random":
            # Random gate weights (parameter space): the draws do not depend on
            # the rows, so weights and repeated rows give the same start.
            W = rng.standard_normal((Z.shape[1] + 1, n_experts))
            return np.exp(log_softmax(Z @ W[1:] + W[0]))
        if init == "kmeans_xy":
            target = standardize(self._target_features(y_lik), sample_weight)
            # Give y as much say as all the columns of X together.
            target *= np.sqrt(Z.shape[1] / target.shape[1])
            Z = np.hstack([Z, target])
        labels = weighted_kmeans(Z, sample_weight, n_experts, rng)
        return soften(labels, n_experts)

    @staticmethod
    def _user_resp(init, n_samples, n_experts):
        try:
            resp = np.array(init, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                "'init_params' as an array must hold numbers; got "
                f"{type(init).__name__}."
            ) from exc
        if resp.shape != (n_samples, n_experts):
            raise ValueError(
                "'init_params' as an array must have shape (n_samples, n_experts) = "
                f"({n_samples}, {n_experts}); got {resp.shape}."
            )
        row_sums = resp.sum(axis=1, keepdims=True)
        if not np.all(np.isfinite(resp)) or np.any(resp < 0) or np.any(row_sums <= 0):
            raise ValueError(
                "'init_params' as an array must hold finite, non-negative "
                "responsibilities with a positive sum in every row."
            )
        return resp / row_sums

    # ---- the EM steps ------------------------------------------------------

    def _fit_experts(self, X, y, sample_weight, resp, rng, n_iter):
        """M-step of the experts: expert i is refitted to resp[:, i]."""
        modes = [fit_mode(expert) for expert in self.experts_]
        # Drawn here, not in the workers, so that n_jobs does not change results.
        seeds = [
            rng.randint(np.iinfo(np.int32).max) if mode == "unweighted" else None
            for mode in modes
        ]
        jobs = [
            (
                name,
                n_iter,
                expert,
                X,
                y,
                sample_weight,
                resp,
                i,
                mode,
                self.unweighted_fit,
                seed,
            )
            for i, (name, expert, mode, seed) in enumerate(
                zip(self._expert_names, self.experts_, modes, seeds, strict=True)
            )
        ]
        if self.n_jobs in (None, 1):
            return [fit_expert_named(*job) for job in jobs]
        try:
            openmp_threads = max(1, cpu_count() // effective_n_jobs(self.n_jobs))
            return Parallel(n_jobs=self.n_jobs, prefer="threads")(
                delayed(fit_expert_in_worker)(openmp_threads, *job) for job in jobs
            )
        except Exception as exc:
            # An expert's own failure arrives named (as its message says; a
            # process backend keeps only the message); anything else broke in
            # the parallel machinery.
            if str(exc).startswith("Expert "):
                raise
            raise RuntimeError(
                f"Fitting the experts in parallel (n_jobs={self.n_jobs}) failed "
                f"in the parallel backend at EM iteration {n_iter}: "
                f"{type(exc).__name__}: {exc}. If a dask Client or another "
                "joblib backend is in use, check that it is still running."
            ) from exc

    def _m_step(self, Xe, Xg, y, y_lik, sample_weight, resp, rng, n_iter):
        """Refit experts, their noise and the gate to the responsibilities.

        Returns the refitted experts' log-likelihoods of the targets, (n, M),
        which the following E-step needs.
        """
        self.experts_ = self._fit_experts(Xe, y, sample_weight, resp, rng, n_iter)
        log_prob = self._update_likelihood(
            Xe, y, y_lik, sample_weight[:, np.newaxis] * resp, n_iter=n_iter
        )
        if self.gate_ is not None:
            try:
                fit_gate(self.gate_, Xg, resp, sample_weight)
            except Exception as exc:
                raise same_type_error(
                    exc,
                    f"The gate ({type(self.gate_).__name__}) failed to fit at EM "
                    f"iteration {n_iter}: {exc}",
                ) from exc
        return log_prob

    def _log_gate(self, Xg):
        """The gate's log-probabilities ``log g_i(x)``, (n, M)."""
        if self.gate_ is None:
            return np.zeros((Xg.shape[0], 1))
        return gate_log_proba(self.gate_, Xg, len(self.experts_))

    def _e_step(self, Xg, log_prob):
        return log_responsibilities(self._log_gate(Xg), log_prob)

    # ---- fit ---------------------------------------------------------------

    def _validate_fit_data(self, X, y):
        _check_numeric_input(X)
        self._check_sparse(X, self._experts_refusing_sparse)
        return validate_data(
            self,
            X,
            y,
            dtype=[np.float64, np.float32],
            ensure_min_samples=2,
            y_numeric=self._kind == "regressor",
            accept_sparse="csr",
        )

    def fit(self, X, y, sample_weight=None):
        """Fit the mixture by EM.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights; a weight of ``k`` counts as ``k`` repeated rows. They
            multiply the responsibilities in every expert's and the gate's fit.

        Returns
        -------
        self : object
            The fitted mixture.

        Notes
        -----
        The fit is all or nothing: if it raises (an expert fails, a parallel
        worker is lost, ``KeyboardInterrupt``), the mixture is left exactly as
        it was before ``fit``, fitted or not, never half-fitted.
        """
        before = dict(self.__dict__)
        try:
            return self._fit(X, y, sample_weight)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _fit(self, X, y, sample_weight):
        X_raw = X
        X, y = self._validate_fit_data(X, y)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        y_fit, y_lik = self._check_target(y, sample_weight)
        names, templates, from_template = self._expert_specs()
        for name, expert in zip(names, templates, strict=True):
            check_expert(name, expert, self._kind)
        n_experts = len(templates)
        self._check_params(X.shape[0], n_experts)
        self.gate_features_ = self._feature_columns(
            self.gate_features, X_raw, "gate_features"
        )
        self.expert_features_ = self._feature_columns(
            self.expert_features, X_raw, "expert_features"
        )
        Xe, Xg = self._split(X)

        rng = check_random_state(self.random_state)
        do_init = not (
            self.warm_start
            and hasattr(self, "converged_")
            # Pruned experts stay pruned: continue with the survivors.
            and set(self._expert_names) <= set(names)
        )
        data = (Xe, Xg, y_fit, y_lik, sample_weight)
        if do_init:
            # One start uses the mixture's own random stream. Several starts
            # each get a seed drawn up front, so they can run in parallel and
            # n_jobs never changes which model wins.
            seeds = (
                [None]
                if self.n_init == 1
                else list(rng.randint(np.iinfo(np.int32).max, size=self.n_init))
            )
            starts = [
                (init, data, names, templates, rng if seed is None else seed)
                for init, seed in enumerate(seeds)
            ]
            if self.n_jobs in (None, 1) or len(starts) == 1:
                results = [self._run_start(*start) for start in starts]
            else:
                results = Parallel(n_jobs=self.n_jobs, prefer="threads")(
                    delayed(self._run_start)(*start) for start in starts
                )
        else:
            results = [self._continue(data, rng)]
        # max keeps the first of equal bests, as a loop of strict improvements.
        best = max(range(len(results)), key=lambda i: results[i][0])
        _, parameters, curve, converged = results[best]
        self._set_parameters(parameters)
        self.log_likelihoods_ = np.asarray(curve)
        self.start_log_likelihoods_ = [np.asarray(run[2]) for run in results]
        self.best_start_ = best
        self.log_likelihood_ = (
            max(curve) if self.assignment == "stochastic" else (curve[-1])
        )
        self.converged_ = converged
        # EM refitted the experts from their previous solutions; hand them
        # back with the warm_start their templates had.
        template_of = dict(zip(names, templates, strict=True))
        set_warm_start(
            self.experts_,
            [template_of[n].get_params().get("warm_start") for n in self._expert_names],
        )
        if not converged:
            warnings.warn(
                "Best performing initialization did not converge: the "
                f"log-likelihood still changed by more than tol={self.tol} after "
                f"max_iter={self.max_iter} iterations. Try increasing max_iter, "
                "raising tol, or a different init_params; check for degenerate "
                "data.",
                ConvergenceWarning,
                stacklevel=3,
            )
        if from_template:
            # Cloned experts are interchangeable: name them by position.
            self._expert_names = [f"expert{i}" for i in range(len(self.experts_))]
            if isinstance(self.gate_, SoftmaxGate):
                self._sort_experts()
        self._warn_about_dead_experts()
        self._warn_if_degenerate(Xe, Xg, y_lik, sample_weight)
        return self

    def _run_start(self, init, data, names, templates, rng):
        """One EM run from a fresh start, on a shallow copy of the mixture.

        Returns ``(log-likelihood, parameters, curve, converged)``.
        """
        run = copy.copy(self)
        rng = check_random_state(rng)
        Xe, Xg, y_fit, y_lik, sample_weight = data
        run._print_init_start(init)
        # The start first, so that it does not depend on how many experts or
        # gates draw seeds.
        resp = run._initial_resp(Xg, y_lik, sample_weight, len(templates), rng)
        run._expert_names = list(names)
        run._reseeds = {}
        run.experts_ = [seeded_clone(t, rng) for t in templates]
        run.gate_ = run._new_gate(len(templates), rng)
        curve = []
        ll, converged = run._em_loop(*data, resp, curve, rng)
        run._print_init_end(converged, ll)
        return ll, run._get_parameters(), curve, converged

    def _continue(self, data, rng):
        """Continue EM from the fitted state (``warm_start``), on copies, so the
        fitted state stays intact until the new fit has succeeded."""
        run = copy.copy(self)
        Xe, Xg, y_fit, y_lik, sample_weight = data
        run._print_init_start(0)
        run.experts_ = copy.deepcopy(self.experts_)
        run.gate_ = copy.deepcopy(self.gate_)
        # Re-seeds count over the whole run, across warm-started calls.
        run._reseeds = dict(self._reseeds)
        log_resp, _ = run._e_step(Xg, run._expert_log_prob(Xe, y_lik))
        curve = list(self.log_likelihoods_)
        ll, converged = run._em_loop(*data, np.exp(log_resp), curve, rng)
        run._print_init_end(converged, ll)
        return ll, run._get_parameters(), curve, converged

    def _em_loop(self, Xe, Xg, y_fit, y_lik, sample_weight, resp, curve, rng):
        """Alternate M- and E-steps from ``resp``; append to ``curve``.

        Sets ``n_iter_`` and ``expert_weights_`` for the parameters it ends on,
        and returns their mean log-likelihood and whether EM converged.
        Stochastic EM never settles, so it runs ``max_iter`` iterations and
        ends on the best of them, as flexmix's SEM does.
        """
        ll = curve[-1] if curve else -np.inf
        schedule = check_temperatures(self.temperatures)
        # Annealed EM must not stop while its temperature is still falling.
        settle = schedule_length(schedule) if self.assignment == "annealed" else 0
        stochastic = self.assignment == "stochastic"
        best = None
        set_warm_start(self.experts_, [True] * len(self.experts_))
        start = time()
        converged = False
        for n_iter in range(1, self.max_iter + 1):
            previous = ll
            log_prob = self._m_step(
                Xe, Xg, y_fit, y_lik, sample_weight, resp, rng, n_iter
            )
            log_resp, log_norm = self._e_step(Xg, log_prob)
            ll = mean_log_likelihood(log_norm, sample_weight)
            if not np.isfinite(ll):
                raise ValueError(
                    f"The log-likelihood became {ll} at iteration {n_iter}: an "
                    "expert's likelihood is not finite. Check the experts' "
                    "predictions for NaN or inf."
                )
            curve.append(ll)
            self._print_iter(n_iter, ll, ll - previous, time() - start)
            self.n_iter_ = n_iter
            self.expert_weights_ = (
                sample_weight @ np.exp(log_resp) / sample_weight.sum()
            )
            if stochastic and (best is None or ll > best[0]):
                best = (ll, copy.deepcopy(self._get_parameters()))
            # A single expert owns every row: its first M-step is already the
            # maximum-likelihood fit, and refitting could only add solver noise.
            if log_resp.shape[1] == 1:
                converged = True
                break
            log_resp, revived = self._revive_dead_experts(
                log_resp, log_norm, sample_weight, n_iter
            )
            if (
                not stochastic
                and not revived
                and n_iter > settle
                and abs(ll - previous) < self.tol
            ):
                converged = True
                break
            resp = assign(log_resp, self.assignment, n_iter, schedule, rng)
        if stochastic:
            ll, parameters = best
            self._set_parameters(parameters)
            converged = True
        return ll, converged

    # ---- dead experts ------------------------------------------------------

    def _revive_dead_experts(self, log_resp, log_norm, sample_weight, n_iter):
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
        names = [self._expert_names[i] for i in dead]
        shares = ", ".join(f"{self.expert_weights_[i]:.2g}" for i in dead)
        if self.dead_expert == "prune":
            keep = np.ones(len(self.experts_), dtype=bool)
            keep[dead] = False
            self._prune_experts(keep)
            action = f"pruned; {len(self.experts_)} experts remain"
            log_resp = log_softmax(log_resp[:, keep])
        else:
            for name in names:
                self._reseeds[name] = self._reseeds.get(name, 0) + 1
            with np.errstate(divide="ignore"):
                log_resp = np.log(
                    reseed(np.exp(log_resp), dead, log_norm, sample_weight)
                )
            action = "re-seeded on the rows the mixture explains worst"
        warnings.warn(
            f"Experts {names} received less than min_expert_weight="
            f"{self.min_expert_weight} of the responsibility ({shares}) at "
            f"iteration {n_iter} and were {action}.",
            DeadExpertWarning,
            # revive <- EM loop <- start <- _fit <- fit <- the caller
            stacklevel=6,
        )
        return log_resp, True

    def _prune_experts(self, keep):
        """Drop the experts where ``keep`` is False, with their parameters."""
        self.experts_ = [e for e, k in zip(self.experts_, keep, strict=True) if k]
        self._expert_names = [
            n for n, k in zip(self._expert_names, keep, strict=True) if k
        ]
        self.expert_weights_ = self.expert_weights_[keep]
        self._take_likelihood(np.flatnonzero(keep))
        if len(self.experts_) == 1:
            self.gate_ = None
        elif isinstance(self.gate_, SoftmaxGate):
            self.gate_._W = self.gate_._W[:, keep]

    def _warn_about_dead_experts(self):
        """Say so when the fitted mixture still has dead experts: kept ones,
        or re-seeded ones that starved again."""
        dead = np.flatnonzero(self.expert_weights_ < self.min_expert_weight)
        if len(dead) == 0:
            return
        names = [self._expert_names[i] for i in dead]
        how = (
            "were kept (dead_expert='keep')"
            if self.dead_expert == "keep"
            else "are still dead after re-seeding"
        )
        warnings.warn(
            f"Experts {names} hold less than min_expert_weight="
            f"{self.min_expert_weight} of the responsibility "
            f"({', '.join(f'{self.expert_weights_[i]:.2g}' for i in dead)}) and "
            f"{how}. Consider fewer experts.",
            DeadExpertWarning,
            stacklevel=4,
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
        return seeded_clone(self.gate, rng)

    def _get_parameters(self):
        return (
            self._reseeds,
            self._expert_names,
            self.experts_,
            self.gate_,
            self._likelihood_parameters(),
            self.n_iter_,
            self.expert_weights_,
        )

    def _set_parameters(self, parameters):
        (
            self._reseeds,
            self._expert_names,
            self.experts_,
            self.gate_,
            likelihood,
            self.n_iter_,
            self.expert_weights_,
        ) = parameters
        self._set_likelihood_parameters(likelihood)

    def _sort_experts(self):
        """Canonical order for cloned experts: by descending ``expert_weights_``.

        Experts cloned from one template are interchangeable, so without this
        their order would depend on the start (label switching).
        """
        perm = np.argsort(-self.expert_weights_, kind="stable")
        self.experts_ = [self.experts_[i] for i in perm]
        self.expert_weights_ = self.expert_weights_[perm]
        self._take_likelihood(perm)
        if self.gate_ is not None:
            self.gate_._permute_classes(perm)

    # ---- verbose output, as in GaussianMixture -----------------------------

    def _print_init_start(self, init):
        if self.verbose:
            print(f"Initialization {init}")

    def _print_iter(self, n_iter, ll, change, seconds):
        if self.verbose and n_iter % self.verbose_interval == 0:
            print(
                f"  Iteration {n_iter}\t log-likelihood {ll:.6f}\t "
                f"change {change:.3e}\t time {seconds:.3f}s"
            )

    def _print_init_end(self, converged, ll):
        if self.verbose:
            state = "converged" if converged else "did not converge"
            print(f"Initialization {state}. log-likelihood: {ll:.6f}")

    # ---- inference ---------------------------------------------------------

    def _validate_predict_data(self, X):
        check_is_fitted(self)
        _check_numeric_input(X)
        self._check_sparse(X, self._fitted_experts_refusing_sparse)
        return validate_data(
            self,
            X,
            dtype=[np.float64, np.float32],
            reset=False,
            accept_sparse="csr",
        )

    def _fitted_experts_refusing_sparse(self):
        return [
            name
            for name, expert in self._named_experts()
            if not get_tags(expert).input_tags.sparse
        ]

    @property
    def named_experts_(self):
        """Bunch of the fitted experts by name (``expert0``... for a template)."""
        check_is_fitted(self)
        return Bunch(**dict(zip(self._expert_names, self.experts_, strict=True)))

    def gate_proba(self, X):
        """The gate's probability of each expert for each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        gate : ndarray of shape (n_samples, n_experts)
            ``g_i(x)``; rows sum to 1.
        """
        _, Xg = self._split(self._validate_predict_data(X))
        return np.exp(self._log_gate(Xg))

    def _routing_weights(self, Xg, top_k):
        """Gate probabilities kept for each row's ``top_k`` experts, (n, M)."""
        top_k = self.top_k if top_k is None else top_k
        check_top_k(top_k, len(self.experts_))
        return top_k_weights(np.exp(self._log_gate(Xg)), top_k)

    def routing_summary(self, X):
        """Which expert handles what: the gate's view of ``X``, per expert.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        summary : :class:`~sklearn.utils.Bunch`
            ``expert`` (names), ``share`` (fraction of rows whose most trusted
            expert it is), ``mean_gate`` (mean gate probability over all rows)
            and ``confidence`` (mean gate probability on the rows it is most
            trusted for; NaN if none), each of shape (n_experts,).
        """
        gate = self.gate_proba(X)
        top = np.argmax(gate, axis=1)
        n_experts = gate.shape[1]
        counts = np.bincount(top, minlength=n_experts)
        top_gate = np.bincount(top, weights=gate.max(axis=1), minlength=n_experts)
        with np.errstate(invalid="ignore", divide="ignore"):
            confidence = top_gate / counts
        return Bunch(
            expert=np.array(self._expert_names, dtype=object),
            share=counts / len(top),
            mean_gate=gate.mean(axis=0),
            confidence=np.where(counts > 0, confidence, np.nan),
        )

    def leaf_proba(self, X):
        """Path probability of every leaf expert of a hierarchical mixture.

        A leaf's probability is the product of the gate probabilities along
        its path: ``g_i(x) * g_j|i(x) * ...``. For a flat mixture this is
        :meth:`gate_proba`. Columns follow :attr:`leaf_names_`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_leaves)
            Rows sum to 1.
        """
        Xe, Xg = self._split(self._validate_predict_data(X))
        gate = np.exp(self._log_gate(Xg))
        columns = [
            gate[:, [i]] * expert.leaf_proba(Xe)
            if isinstance(expert, _BaseMixtureOfExperts)
            else gate[:, [i]]
            for i, expert in enumerate(self.experts_)
        ]
        return np.hstack(columns)

    @property
    def leaf_names_(self):
        """Names of the leaf experts, ``"parent/child"`` below nested mixtures."""
        check_is_fitted(self)
        names = []
        for name, expert in zip(self._expert_names, self.experts_, strict=True):
            if isinstance(expert, _BaseMixtureOfExperts):
                names.extend(f"{name}/{leaf}" for leaf in expert.leaf_names_)
            else:
                names.append(name)
        return np.array(names, dtype=object)

    def predict_expert(self, X):
        """Index of the expert the gate trusts most for each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        expert : ndarray of shape (n_samples,)
            Positions in ``experts_``.
        """
        return np.argmax(self.gate_proba(X), axis=1)

    def log_likelihood(self, X, y):
        """Log-likelihood of each labelled row under the mixture.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        log_likelihood : ndarray of shape (n_samples,)
            ``log sum_i g_i(x) p_i(y | x)``. Its weighted mean over the training
            data is ``log_likelihood_``.
        """
        _, log_norm = self._posterior(X, y)
        return log_norm

    def responsibilities(self, X, y):
        """Posterior probability of each expert for each labelled row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        resp : ndarray of shape (n_samples, n_experts)
            ``g_i(x) p_i(y | x) / sum_k g_k(x) p_k(y | x)``; rows sum to 1.
        """
        log_resp, _ = self._posterior(X, y)
        return np.exp(log_resp)

    def _posterior(self, X, y):
        Xe, Xg = self._split(self._validate_predict_data(X))
        y_lik = self._check_new_target(y, Xe.shape[0])
        return self._e_step(Xg, self._expert_log_prob(Xe, y_lik))

    @abstractmethod
    def _check_new_target(self, y, n_samples):
        """Validate a target passed after fitting; return it as ``y_lik``."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = not self._experts_refusing_sparse()
        return tags
