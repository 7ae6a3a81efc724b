"""Mixtures that choose their own capacity: the number of experts and the gate's
penalty, by cross-validated held-out log-likelihood.

As :class:`~sklearn.linear_model.LogisticRegressionCV` is to its estimator,
``MixtureOfExpertsRegressorCV`` and ``MixtureOfExpertsClassifierCV`` take the
mixture's parameters plus a grid, and reuse work between the candidates of
one fold instead of fitting each from scratch as a grid search does:

- more experts from fewer: the ``K``-expert mixture starts from the fitted
  ``K - 1``-expert one, whose expert with the largest share is split in two
  (weighted 2-means of its rows on the gate's inputs and the target), so EM
  starts next to a good solution (a greedy "split" search, as in the split
  and merge EM of Ueda et al., 2000);
- a path over the gate penalty: from the largest ``gate__alpha`` to the
  smallest, each fit starts from the responsibilities of the previous one at
  the same number of experts, as regularisation paths (glmnet,
  LogisticRegressionCV) warm-start from their neighbour;
- one expert has no gate, so it is fitted once for every penalty.

This module holds the estimators (parameters, fit, delegation); the path of
candidates lives in :mod:`skmoe._cv_path`.
"""

from functools import partial

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    RegressorMixin,
    TransformerMixin,
    clone,
    is_classifier,
)
from sklearn.model_selection import check_cv
from sklearn.utils import check_random_state, get_tags
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    process_routing,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ._classifier import (
    MixtureOfExpertsClassifier,
    ScoredAsFitted,
    _uniform_labels,
)
from ._compat import (
    _check_method_params,
    _fit_context,
    _raise_for_params,
    _routing_enabled,
    _safe_indexing,
)
from ._composition import build_nested_defaults
from ._cv_path import (
    HeldOut,
    TrainingData,
    candidate_grid,
    check_grid,
    chosen_candidate,
    cv_results,
    iter_is_self,
    refit_path,
    score_path,
    split_features,  # noqa: F401 (imported from here by tests)
    split_responsibilities,  # noqa: F401 (imported from here by tests)
)
from ._estimators import shallow_copy
from ._gating import SoftmaxGate
from ._persistence import VersionedStateMixin
from ._regressor import MixtureOfExpertsRegressor, check_regression_target
from ._validation import check_numeric_input, check_sample_weight, has_missing

__all__ = ["MixtureOfExpertsClassifierCV", "MixtureOfExpertsRegressorCV"]

# The mixture's parameters the CV estimator does not pass on: it chooses
# n_experts, runs folds (not experts) in parallel with n_jobs, and every
# candidate is a fresh fit.
_NOT_PASSED_ON = ("n_experts", "n_jobs", "warm_start")

_SELECTIONS = ("one_se", "best")


def _take(X, rows):
    """Rows of an array, a sparse matrix or a DataFrame (pandas, polars,
    pyarrow; kept as it is)."""
    return _safe_indexing(X, rows)


def _holds_estimators(value):
    """Whether a parameter's value is an estimator, or a list of them (or of
    ``(name, estimator)`` pairs)."""
    if isinstance(value, (list, tuple)):
        return any(_holds_estimators(v) for v in value)
    return hasattr(value, "get_params")


def _constraints(mixture_class):
    """The CV estimator's ``_parameter_constraints``: the mixture's, for the
    parameters passed on, and its own.

    Declared on the CV estimator so that a bad value is reported as one of
    its parameters, before any fold is fitted. The grids and ``selection``
    are checked by :meth:`_BaseMixtureOfExpertsCV._check_params`, whose
    messages say more than a type would. ``n_jobs`` is the mixture's
    constraint, though not passed on: 0 is refused by name at once, where
    joblib would refuse it after the data and the folds were checked.
    """
    constraints = {
        name: constraint
        for name, constraint in mixture_class._parameter_constraints.items()
        if name not in _NOT_PASSED_ON
    }
    constraints.update(
        n_experts_grid="no_validation",
        alphas="no_validation",
        cv=["cv_object"],
        selection="no_validation",
        n_jobs=mixture_class._parameter_constraints["n_jobs"],
    )
    return constraints


# ---- folds every candidate would fail on -------------------------------------
#
# Both checks look at the splits alone, before any fit: what they find does not
# depend on the candidate, so fitting first would spend the whole search to
# fail at its end (or, for a class, to score every candidate -inf).


def _check_fold_weights(splits, sample_weight):
    """Refuse a split whose training or validation rows weigh nothing.

    A validation fold of zero weight has no weighted mean to score the
    candidates with; leaving it out of the mean instead would let the other
    folds speak for it unnoticed, when the cause is how the weights fall
    into the folds, which the user can change.
    """
    for i, (train, test) in enumerate(splits):
        for rows, role, why in (
            (train, "training", "there is nothing to fit the candidates on"),
            (test, "validation", "there is nothing to score the candidates on"),
        ):
            if not sample_weight[rows].sum() > 0:
                raise ValueError(
                    f"sample_weight sums to 0 over the {rows.size} {role} rows "
                    f"of split {i} of cv, so {why}. Let every fold hold rows of "
                    "positive weight: shuffle the rows into the folds (for "
                    "example cv=KFold(n_splits, shuffle=True)), or drop the rows "
                    "of weight 0 before fitting."
                )


def _check_fold_size(splits, sample_weight, ks):
    """Refuse a grid with more experts than a split has training rows of
    positive weight: that candidate could not be fitted on the split."""
    fewest, split = min(
        (int(np.count_nonzero(sample_weight[train] > 0)), i)
        for i, (train, _) in enumerate(splits)
    )
    if fewest < 2:
        raise ValueError(
            f"split {split} of cv trains on {fewest} row of positive weight; "
            "every candidate needs at least 2. Use fewer folds (more training "
            "rows each)."
        )
    if max(ks) > fewest:
        raise ValueError(
            f"n_experts_grid asks for up to {max(ks)} experts, but split {split} "
            f"of cv trains on {fewest} rows of positive weight; keep the grid "
            "at most that, or use fewer folds (more training rows each)."
        )


def _class_rows(label, y):
    """``label`` and how many rows of ``y`` hold it, for a message."""
    count = int(np.sum(y == label))
    return f"{np.asarray(label).item()!r} ({count} row{'' if count == 1 else 's'} in y)"


def _check_fold_classes(splits, y, weights, classes):
    """Refuse a split whose training rows lack a class of ``y``; a row of
    weight 0 counts as absent, as in the mixtures.

    A mixture fitted without a class gives it probability 0, so the
    held-out log-likelihood of every candidate on that split is -inf and
    no candidate can be ranked against another. LogisticRegressionCV fits
    each fold with the classes of the whole ``y``, its penalty keeping an
    absent class's probability small but positive; a mixture's experts
    learn nothing of a class they never see. GridSearchCV scoring by
    log-loss (with its default ``error_score=np.nan``) would score the split
    NaN for every candidate, warn, and choose among NaN means. Refusing the
    split by name, before any fit, says what to change instead.
    """
    # A class whose rows all weigh 0 is absent from every split alike, and
    # scored at weight 0 where it is held out (as the mixtures fit it).
    classes = np.intersect1d(classes, y[weights > 0])
    for i, (train, _) in enumerate(splits):
        missing = np.setdiff1d(classes, y[train[weights[train] > 0]])
        if missing.size:
            named = ", ".join(_class_rows(c, y) for c in missing[:5])
            if missing.size > 5:
                named += f" and {missing.size - 5} more"
            raise ValueError(
                f"The training rows of split {i} of cv hold no row (of "
                f"positive weight) of class "
                f"{named}, so every candidate fitted on them gives it "
                "probability 0 and a held-out log-likelihood of -inf: no "
                "candidate can be ranked. Every class needs rows in the "
                "training rows of every split: use stratified folds (an int "
                "cv is StratifiedKFold) or shuffled ones, and give each class "
                "at least 2 rows."
            )


class _BaseMixtureOfExpertsCV(
    TransformerMixin, MetaEstimatorMixin, VersionedStateMixin, BaseEstimator
):
    """Cross-validated choice of ``n_experts`` and ``gate__alpha``.

    A transformer as the mixtures are: ``transform`` is the chosen mixture's
    (its gate's probabilities), and ``set_output`` applies to it.
    """

    _mixture_class = None

    # ---- the candidates' mixtures ----------------------------------------

    def _passed_on(self):
        """The mixture's parameters, as set on this estimator."""
        names = self._mixture_class().get_params(deep=False)
        own = self.get_params(deep=False)
        return {
            name: own[name]
            for name in names
            if name in own and name not in _NOT_PASSED_ON
        }

    def _mixture(self, n_experts, alpha, seed, restarts=True):
        """An unfitted mixture for one candidate; without ``restarts`` it
        runs one start (EM then begins at given responsibilities, where
        every start would begin)."""
        # Its own copies of the expert and gate templates, as GridSearchCV's
        # best_estimator_ has: shared, a set_params on one changed the other.
        params = {
            name: clone(value, safe=False) if _holds_estimators(value) else value
            for name, value in self._passed_on().items()
        }
        params.update(n_experts=n_experts, random_state=seed)
        if params.get("top_k") is not None:
            # The grid's smaller candidates (one expert) have fewer experts.
            params["top_k"] = min(params["top_k"], n_experts)
        if alpha is not None:
            gate = SoftmaxGate() if self.gate is None else clone(self.gate)
            params["gate"] = gate.set_params(alpha=alpha)
        if not restarts:
            params["n_init"] = 1
        return self._mixture_class(**params)

    def set_params(self, **params):
        """Set the parameters of this estimator, of its expert or of its gate.

        As on the mixtures, ``experts__C=5`` (``gate__alpha=0.1``) reaches
        the default expert (gate) while ``experts=None`` (``gate=None``): the
        default is built with that value, so a GridSearchCV can tune it. All
        or nothing: if one parameter is refused, none changes.

        Parameters
        ----------
        **params : dict
            Parameter names and values.

        Returns
        -------
        self : estimator instance
            This estimator, with the parameters set.

        Examples
        --------
        >>> from skmoe import MixtureOfExpertsClassifierCV
        >>> MixtureOfExpertsClassifierCV().set_params(experts__C=5.0).experts
        LogisticRegression(C=5.0)
        """
        clone(self)._set_params(dict(params))
        return self._set_params(params)

    def _set_params(self, params):
        default_expert = self._mixture_class()._default_expert
        build_nested_defaults(self, params, default_expert)
        return super().set_params(**params)

    # ---- fit -----------------------------------------------------------------

    def _check_params(self):
        ks, alphas = check_grid(self.n_experts_grid, self.alphas)
        if not (isinstance(self.selection, str) and self.selection in _SELECTIONS):
            raise ValueError(
                f"'selection' must be one of {_SELECTIONS!r}, got {self.selection!r}."
            )
        if alphas is not None and not (
            self.gate is None or isinstance(self.gate, SoftmaxGate)
        ):
            raise ValueError(
                "'alphas' tunes the penalty of the default SoftmaxGate, but "
                f"gate={self.gate!r}; pass alphas=None to keep that gate as it "
                "is."
            )
        if not (self.experts is None or hasattr(self.experts, "fit")):
            raise ValueError(
                f"{type(self).__name__} chooses n_experts, so 'experts' must be "
                "None or one estimator (cloned n_experts times); got "
                f"{self.experts!r}. For a fixed list of named experts, tune the "
                "gate with GridSearchCV instead."
            )
        if not isinstance(self.init_params, str):
            raise ValueError(
                "'init_params' must be one of 'auto', 'kmeans', 'kmeans_xy' or "
                "'random' in a CV estimator (an array of responsibilities fits "
                "one data set, not its folds, and the grid's candidates differ "
                f"in their number of experts); got {type(self.init_params).__name__}."
            )
        return ks, alphas

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, **params):
        """Choose ``n_experts`` and ``gate__alpha`` by CV, then refit on all rows.

        Every candidate of the grid is scored on the folds of ``cv``; the
        chosen one is refitted on all the data as ``best_estimator_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, used in every fit and to average the held-out
            log-likelihood of each validation fold. Every fold's training
            and validation rows must have a positive total weight.
        **params : dict
            Metadata for the ``split`` method of ``cv``, such as ``groups``
            for :class:`~sklearn.model_selection.GroupKFold`, and for the
            experts that request it (``set_fit_request``), which every
            candidate's fit receives cut to its training rows. Only available
            with ``sklearn.set_config(enable_metadata_routing=True)``, as in
            :class:`~sklearn.linear_model.LassoCV`; see
            :meth:`get_metadata_routing`.

        Returns
        -------
        self : object
            The fitted estimator.

        Notes
        -----
        The fit is all or nothing: if it raises, the estimator is left as it
        was before ``fit``, fitted or not.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressorCV
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(200)
        >>> moe = MixtureOfExpertsRegressorCV(
        ...     n_experts_grid=(1, 2), alphas=(1e-3,), cv=3, n_init=1, random_state=0
        ... )
        >>> moe.fit(X, y) is moe
        True
        >>> moe.best_params_, moe.n_splits_
        ({'n_experts': 2, 'gate__alpha': 0.001}, 3)
        """
        if "init_resp" in params:
            # The candidates' own fit takes it, but no array of
            # responsibilities fits every fold and every number of experts;
            # the errors routing would give point at candidates no one can
            # reach.
            raise ValueError(
                f"{type(self).__name__}.fit takes no init_resp: responsibilities "
                "fit one data set and one number of experts, not the folds and "
                "the grid. Fit a mixture with init_resp for the number of "
                "experts this estimator chooses."
            )
        _raise_for_params(params, self, "fit")
        work = shallow_copy(self)
        work._fit(X, y, sample_weight, params)
        self.__dict__ = work.__dict__
        return self

    def _fit(self, X, y, sample_weight, params):
        ks, alphas = self._check_params()
        X_raw, X, y, weights = self._validate_fit_data(X, y, sample_weight)
        if has_missing(X):
            self._check_candidates_take_nan(X_raw, y, weights, ks)
        split_params, mixture_params = self._route(params)
        splits = list(
            check_cv(self.cv, y, classifier=is_classifier(self)).split(
                X, y, **split_params
            )
        )
        if not splits:
            raise ValueError(
                f"cv={self.cv!r} gave no train/test splits; pass an int of at "
                "least 2, a splitter, or an iterable of (train, test) pairs."
            )
        _check_fold_weights(splits, weights)
        _check_fold_size(splits, weights, ks)
        self._check_folds(splits, y, weights)
        # One seed for every candidate, fold and the refit, so that candidates
        # differ only in what the grid says.
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        make = partial(self._mixture, seed=seed)
        data = TrainingData(
            X_raw, X, y, weights, self._target_columns(y), mixture_params
        )
        self._search(make, data, splits, ks, alphas, seed)
        rng = check_random_state(seed)
        best = refit_path(make, data, ks, alphas, self.n_experts_, self.alpha_, rng)
        # EM started it once, from grown responsibilities; fitted again
        # (without init_resp) it starts as the user asked.
        best.set_params(n_init=self.n_init)
        self.best_estimator_ = best
        self.n_iter_ = self.best_estimator_.n_iter_

    def _check_candidates_take_nan(self, X_raw, y, weights, ks):
        """Refuse NaN that a candidate refuses, in its own words, before any
        fold is fitted (as LogisticRegressionCV refuses it at validation).
        Which columns may hold NaN depends on each candidate's gate and
        experts: a single expert has no gate to refuse it."""
        for k in sorted(set(ks)):
            self._mixture(k, None, None)._prepare(X_raw, y, weights, None, {})

    def _validate_fit_data(self, X, y, sample_weight):
        """``X`` as the candidates take it, ``X`` and ``y`` validated, and
        the weights as float64 (n,); sets the input attributes."""
        # As the mixtures do: a column of text is named, not left to numpy.
        check_numeric_input(X)
        if not is_classifier(self) and y is not None:
            check_regression_target(y, type(self).__name__)
        X_raw = X
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            ensure_min_samples=2,
            y_numeric=not is_classifier(self),
            ensure_all_finite="allow-nan",
        )
        y = column_or_1d(y, warn=True)
        if is_classifier(self):
            y = _uniform_labels(y, at_fit=True)  # as the mixtures' fit reads labels
        weights = check_sample_weight(sample_weight, X)
        self._check_target(y)
        # A DataFrame reaches the candidates as it is (column selectors may
        # name its columns); anything else as the validated array.
        if not (hasattr(X_raw, "iloc") or hasattr(self, "feature_names_in_")):
            X_raw = X
        return X_raw, X, y, weights

    def _search(self, make, data, splits, ks, alphas, seed):
        """Score every candidate on every split; set ``cv_results_`` and the
        chosen candidate's attributes."""

        def fold(train, test):
            arrays = (data.X_raw, data.X, data.y, data.sample_weight, data.target)
            rows = TrainingData(
                *(_take(part, train) for part in arrays),
                _check_method_params(data.X, data.fit_params, train),
            )
            held_out = HeldOut(
                _take(data.X_raw, test), data.y[test], data.sample_weight[test]
            )
            rng = check_random_state(seed)
            return score_path(make, rows, held_out, ks, alphas, rng)

        paths = Parallel(n_jobs=self.n_jobs)(
            delayed(fold)(train, test) for train, test in splits
        )
        # Each of shape (n_splits, n_candidates).
        scores = np.array([path.scores for path in paths])
        seconds = np.array([path.seconds for path in paths])
        n_iter = np.array([path.n_iter for path in paths])
        params = candidate_grid(ks, alphas)
        self.cv_results_ = cv_results(params, scores, seconds, n_iter)
        self.best_index_ = chosen_candidate(
            scores, self.cv_results_["param_n_experts"], self.selection
        )
        self.best_score_ = float(self.cv_results_["mean_test_score"][self.best_index_])
        self.best_params_ = dict(params[self.best_index_])
        self.n_experts_ = self.best_params_["n_experts"]
        self.alpha_ = self.best_params_.get("gate__alpha")
        self.n_splits_ = len(splits)

    def _route(self, params):
        """The metadata for ``cv.split`` (``groups``) and for the candidates'
        ``fit`` (their experts' and gate's), when routing is enabled."""
        if not _routing_enabled():
            return {}, {}
        routed = process_routing(self, "fit", **params)
        return dict(routed.splitter.split), dict(routed.mixture.fit)

    def get_metadata_routing(self):
        """Get the metadata routing of ``fit``: to ``cv`` and the candidates.

        ``fit`` routes metadata to the ``split`` of ``cv``, and to the
        candidates' ``fit``, which routes it on to their experts and gate.
        The estimator consumes ``sample_weight`` itself; ``groups`` goes to a
        splitter that takes it, as in :class:`~sklearn.linear_model.LassoCV`,
        and metadata the experts request (``set_fit_request`` on ``experts``)
        to every candidate's fit, cut to its training rows, as
        :class:`~sklearn.model_selection.GridSearchCV` passes it on. Only used
        with ``sklearn.set_config(enable_metadata_routing=True)``.

        Returns
        -------
        routing : :class:`~sklearn.utils.metadata_routing.MetadataRouter`
            The routing of this estimator, its ``splitter`` (``cv``) and a
            ``mixture`` standing for every candidate.

        Examples
        --------
        >>> from sklearn.model_selection import GroupKFold
        >>> from skmoe import MixtureOfExpertsRegressorCV
        >>> moe = MixtureOfExpertsRegressorCV(cv=GroupKFold(3))
        >>> routing = moe.get_metadata_routing()
        >>> [name for name, _ in routing]
        ['$self_request', 'splitter', 'mixture']
        >>> routing.consumes("fit", ["groups"])
        {'groups'}
        """
        # self.cv as given (as LogisticRegressionCV does), not check_cv's
        # wrapper, which would use up an iterator of splits before fit. Any
        # candidate routes as every other: its experts are clones of one.
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(
                splitter=self.cv,
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
            .add(
                mixture=self._mixture(2, None, seed=None),
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
        )

    def _check_folds(self, splits, y, weights):
        """Hook: refuse splits on which no candidate can be scored."""

    def _check_target(self, y):
        """Hook: validate ``y`` for the kind of mixture."""

    # ---- delegation to the refitted mixture -------------------------------

    def log_likelihood(self, X, y):
        """Compute the log-likelihood of each labelled row under the chosen mixture.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows.
        y : array-like of shape (n_samples,)
            Their targets.

        Returns
        -------
        log_likelihood : ndarray of shape (n_samples,)
            ``log p(y | x)`` of each row under ``best_estimator_``, as its
            :meth:`~MixtureOfExpertsRegressor.log_likelihood` gives it.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressorCV
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(200)
        >>> moe = MixtureOfExpertsRegressorCV(
        ...     n_experts_grid=(1, 2), alphas=(1e-3,), cv=3, n_init=1, random_state=0
        ... ).fit(X, y)
        >>> log_lik = moe.log_likelihood(X, y)
        >>> log_lik.shape
        (200,)
        >>> bool(np.allclose(log_lik, moe.best_estimator_.log_likelihood(X, y)))
        True
        """
        check_is_fitted(self)
        return self.best_estimator_.log_likelihood(X, y)

    def gate_proba(self, X):
        """The chosen mixture's gate probability of each expert for each row.

        A single chosen expert has no gate: every row gives it probability 1.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to route.

        Returns
        -------
        gate : ndarray of shape (n_samples, n_kept)
            ``g_i(x)``; rows sum to 1. ``n_kept`` is the number of experts
            of ``best_estimator_``: ``n_experts_``, or fewer if its fit
            pruned some (``dead_expert="prune"``).

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressorCV
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(300, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(300)
        >>> moe = MixtureOfExpertsRegressorCV(
        ...     n_experts_grid=(1, 2), alphas=(1e-3,), cv=3, random_state=0
        ... ).fit(X, y)
        >>> gate = moe.gate_proba([[-2.0], [2.0]])
        >>> moe.n_experts_, gate.max(axis=1).round(2)
        (2, array([1., 1.]))
        """
        check_is_fitted(self)
        return self.best_estimator_.gate_proba(X)

    def transform(self, X):
        """The chosen mixture's gate probabilities as features.

        As :class:`~sklearn.model_selection.GridSearchCV` passes ``transform``
        on to its best estimator, so that the estimator can be a step of a
        Pipeline. See :meth:`MixtureOfExpertsRegressor.transform`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to transform.

        Returns
        -------
        gate : ndarray of shape (n_samples, n_kept)
            Equal to :meth:`gate_proba`.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressorCV
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(300, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> moe = MixtureOfExpertsRegressorCV(
        ...     n_experts_grid=(1, 2), alphas=(1e-3,), cv=3, random_state=0
        ... ).fit(X, y + 0.1 * rng.standard_normal(300))
        >>> moe.transform(X).shape
        (300, 2)
        >>> moe.get_feature_names_out().tolist()
        ['mixtureofexpertsregressor_expert0', 'mixtureofexpertsregressor_expert1']
        """
        check_is_fitted(self)
        return self.best_estimator_.transform(X)

    def get_feature_names_out(self, input_features=None):
        """Get the names of the columns of :meth:`transform`.

        They are the chosen mixture's
        (:meth:`MixtureOfExpertsRegressor.get_feature_names_out`).

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked, as by the mixtures.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``"<mixture class in lower case>_<expert name>"``, one per
            expert of ``best_estimator_``.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressorCV
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(200)
        >>> moe = MixtureOfExpertsRegressorCV(
        ...     n_experts_grid=(1, 2), alphas=(1e-3,), cv=3, n_init=1, random_state=0
        ... ).fit(X, y)
        >>> moe.get_feature_names_out().tolist()
        ['mixtureofexpertsregressor_expert0', 'mixtureofexpertsregressor_expert1']
        """
        check_is_fitted(self)
        return self.best_estimator_.get_feature_names_out(input_features)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            # The tags of the candidates: NaN only where every one takes it
            # (a single expert has no gate to refuse it).
            if iter_is_self(self.n_experts_grid):
                raise TypeError  # reading it would empty it: fit says why
            mixtures = [self._mixture(k, None, None) for k in set(self.n_experts_grid)]
            tags.input_tags.sparse = get_tags(mixtures[0]).input_tags.sparse
            tags.input_tags.allow_nan = all(
                get_tags(mixture).input_tags.allow_nan for mixture in mixtures
            )
        except Exception:  # invalid parameters: fit says why
            tags.input_tags.sparse = False
            tags.input_tags.allow_nan = False
        return tags


class MixtureOfExpertsRegressorCV(RegressorMixin, _BaseMixtureOfExpertsCV):
    """Mixture of experts for regression with ``n_experts`` chosen by CV.

    It chooses its number of experts and its gate penalty by
    cross-validation.

    Every candidate ``(n_experts, gate__alpha)`` of the grid is scored by the
    mean held-out log-likelihood per row (``log_likelihood`` on the
    validation fold); by default the fewest experts within one standard
    error of the best mean are refitted on all the data as
    ``best_estimator_``, which ``predict``, ``score``, ``gate_proba`` and the
    predictive distribution (``predict_quantiles``, ``predict_interval``,
    ``sample_y``) use. Within a fold, candidates start from each other (more
    experts by splitting the largest expert of the fitted smaller mixture;
    smaller penalties from the larger one's solution), so the search costs a
    fraction of a :class:`~sklearn.model_selection.GridSearchCV` over the
    same grid.

    Parameters
    ----------
    experts : estimator or None, default=None
        The expert, cloned for each of the ``n_experts``; None means
        :class:`~sklearn.linear_model.LinearRegression`.
    n_experts_grid : sequence of int, default=(1, 2, 3, 4)
        The numbers of experts to compare. One expert is the expert alone
        (no gate), so the mixture has to earn its extra experts.
    alphas : sequence of float or None, default=(1.0, 1e-2, 1e-4, 1e-6)
        The gate penalties (``gate__alpha`` of the default ``SoftmaxGate``)
        to compare; None keeps the gate as ``gate`` says, untuned.
    cv : int, cross-validation generator, iterable or None, default=None
        As in :func:`~sklearn.model_selection.check_cv`: None means 5 folds.
        A splitter that takes ``groups`` (such as
        :class:`~sklearn.model_selection.GroupKFold`) gets them from
        ``fit(X, y, groups=groups)``, with metadata routing enabled.
        Every split's training and validation rows need a positive total
        ``sample_weight``.
    selection : {"one_se", "best"}, default="one_se"
        Which candidate is refitted. ``"one_se"``: the fewest experts whose
        best mean held-out log-likelihood is within one standard error of
        the highest (the standard error of the best candidate's fold
        scores), with the best penalty at that number: the
        one-standard-error rule of Hastie, Tibshirani and Friedman, applied
        to the capacity. A difference smaller than that is one another draw
        of the folds could reverse, and the smaller mixture is then the
        better bet. ``"best"``: the highest mean, as
        :class:`~sklearn.model_selection.GridSearchCV` chooses.
    n_jobs : int or None, default=None
        Folds fitted in parallel; None means one at a time.
    gate : classifier or None, default=None
        As in :class:`MixtureOfExpertsRegressor`, for every candidate. Unless
        ``alphas=None`` it must be None or a :class:`SoftmaxGate`, whose
        ``alpha`` the grid sets.
    gate_features, expert_features : selector or None, default=None
        As in :class:`MixtureOfExpertsRegressor`, for every candidate.
    unweighted_fit : {"hard", "resample"}, default="hard"
        As in :class:`MixtureOfExpertsRegressor`, for every candidate.
    assignment : {"soft", "hard", "stochastic", "annealed"}, default="soft"
        As in :class:`MixtureOfExpertsRegressor`, for every candidate.
    temperatures : array-like of float or None, default=None
        As in :class:`MixtureOfExpertsRegressor`, for every candidate.
    top_k : int or None, default=None
        As in :class:`MixtureOfExpertsRegressor`, for every candidate, capped
        at its number of experts.
    balance : float, default=0.0
        As in :class:`MixtureOfExpertsRegressor`, for every candidate.
    min_expert_weight : float, default=1e-3
        As in :class:`MixtureOfExpertsRegressor`, for every candidate.
    dead_expert : {"reseed", "prune", "keep"}, default="reseed"
        As in :class:`MixtureOfExpertsRegressor`, for every candidate.
    reg_var : float, default=1e-2
        As in :class:`MixtureOfExpertsRegressor`, for every candidate.
    init_params : {"auto", "kmeans", "kmeans_xy", "random"}, default="auto"
        As in :class:`MixtureOfExpertsRegressor`, but it must name a rule,
        since an array of responsibilities fits one data set, not its folds.
        It starts the smallest mixture of the grid (larger ones grow from it).
    n_init : int, default=3
        As in :class:`MixtureOfExpertsRegressor`, for the smallest mixture
        of the grid (larger ones grow from it).
    init_max_iter : int or None, default=20
        As in :class:`MixtureOfExpertsRegressor`, for every candidate.
    max_iter : int, default=1000
        As in :class:`MixtureOfExpertsRegressor`, for every candidate.
    tol : float, default=1e-5
        As in :class:`MixtureOfExpertsRegressor`, for every candidate.
    acceleration : {"auto", "squarem"} or None, default="auto"
        As in :class:`MixtureOfExpertsRegressor`, for every candidate.
    crossfit : "auto", bool or int, default="auto"
        As in :class:`MixtureOfExpertsRegressor`, for every candidate.
    random_state : int, RandomState instance or None, default=None
        As in :class:`MixtureOfExpertsRegressor`; every candidate, fold and
        the refit get the same seed. The default folds are not shuffled
        (pass a splitter such as ``KFold(shuffle=True)`` for that).
    verbose : int, default=0
        As in :class:`MixtureOfExpertsRegressor`, for every candidate.
    verbose_interval : int, default=10
        As in :class:`MixtureOfExpertsRegressor`, for every candidate.
    blas_threads : "auto", int or None, default="auto"
        As in :class:`MixtureOfExpertsRegressor`, for every candidate.

    Attributes
    ----------
    best_estimator_ : MixtureOfExpertsRegressor
        The chosen mixture, refitted on all the data as in the folds: the
        grid's first candidate (fewest experts, first penalty) from the
        mixture's own starts, every later one as one start from
        responsibilities grown from the one before (``init_resp``), so its
        ``start_log_likelihoods_`` then holds one curve whatever its
        ``n_init`` (which stays this estimator's, for a later ``fit`` of its
        own). Its parameters are this estimator's, with the chosen
        ``n_experts`` and gate, and as ``random_state`` the seed drawn from
        this estimator's, which every candidate and fold shared.
    n_experts_ : int
        The chosen number of experts, the candidate's ``n_experts``; the
        refitted ``best_estimator_`` holds fewer if it pruned some.
    alpha_ : float or None
        The chosen gate penalty (None with ``alphas=None``). With one expert
        there is no gate and every penalty scores alike; the largest is
        reported.
    cv_results_ : dict of ndarray
        As :class:`~sklearn.model_selection.GridSearchCV`'s: ``params`` (one
        dict per candidate), ``param_n_experts``, ``param_gate__alpha``,
        ``split<i>_test_score`` (mean held-out log-likelihood per row on fold
        ``i``), ``mean_test_score``, ``std_test_score``, ``rank_test_score``,
        ``mean_fit_time``, ``std_fit_time`` and ``mean_n_iter`` (EM
        iterations; 0 where a fit was reused).
    best_index_ : int
        Index of the chosen candidate in ``cv_results_`` (by ``selection``;
        with ``"one_se"`` not always the highest ``mean_test_score``); among
        equal scores, the one with fewer experts, then the larger penalty.
    best_score_ : float
        Its mean held-out log-likelihood per row.
    best_params_ : dict
        Its parameters.
    n_splits_ : int
        Number of folds.
    n_iter_ : int
        EM iterations of the refit of the chosen mixture.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    MixtureOfExpertsRegressor : The mixture with a fixed number of experts.
    MixtureOfExpertsRegressor.bic : Choosing the number of linear experts
        by BIC, without refitting on folds.

    Notes
    -----
    Folds on which no candidate could be scored (training or validation
    rows of zero total weight) are refused before any fit, with an error
    naming the split. A candidate that fails to fit raises (GridSearchCV's
    ``error_score="raise"``). Warnings of the candidates' fits (experts that
    starve when there are more experts than regimes) are silenced; those of
    the final refit are not.

    Examples
    --------
    Three linear regimes; the expert alone and two experts are not enough,
    four are one too many:

    >>> import numpy as np
    >>> from skmoe import MixtureOfExpertsRegressorCV
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-3, 3, size=(600, 1))
    >>> y = np.select([X[:, 0] < -1, X[:, 0] < 1], [-2 * X[:, 0], 2.0], X[:, 0])
    >>> y = y + 0.1 * rng.standard_normal(600)
    >>> moe = MixtureOfExpertsRegressorCV(alphas=(1e-3,), cv=3, random_state=0)
    >>> moe = moe.fit(X, y)
    >>> moe.n_experts_
    3
    >>> moe.cv_results_["param_n_experts"]
    array([1, 2, 3, 4])
    >>> moe.score(X, y) > 0.99
    True
    """

    _mixture_class = MixtureOfExpertsRegressor
    _parameter_constraints = _constraints(MixtureOfExpertsRegressor)

    def __init__(
        self,
        experts=None,
        *,
        n_experts_grid=(1, 2, 3, 4),
        alphas=(1.0, 1e-2, 1e-4, 1e-6),
        cv=None,
        selection="one_se",
        n_jobs=None,
        gate=None,
        gate_features=None,
        expert_features=None,
        unweighted_fit="hard",
        assignment="soft",
        temperatures=None,
        top_k=None,
        balance=0.0,
        min_expert_weight=1e-3,
        dead_expert="reseed",
        reg_var=1e-2,
        init_params="auto",
        n_init=3,
        init_max_iter=20,
        max_iter=1000,
        tol=1e-5,
        acceleration="auto",
        crossfit="auto",
        random_state=None,
        verbose=0,
        verbose_interval=10,
        blas_threads="auto",
    ):
        self.experts = experts
        self.n_experts_grid = n_experts_grid
        self.alphas = alphas
        self.cv = cv
        self.selection = selection
        self.n_jobs = n_jobs
        self.gate = gate
        self.gate_features = gate_features
        self.expert_features = expert_features
        self.unweighted_fit = unweighted_fit
        self.assignment = assignment
        self.temperatures = temperatures
        self.top_k = top_k
        self.balance = balance
        self.min_expert_weight = min_expert_weight
        self.dead_expert = dead_expert
        self.reg_var = reg_var
        self.init_params = init_params
        self.n_init = n_init
        self.init_max_iter = init_max_iter
        self.max_iter = max_iter
        self.tol = tol
        self.acceleration = acceleration
        self.crossfit = crossfit
        self.random_state = random_state
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.blas_threads = blas_threads

    def _target_columns(self, y):
        return np.asarray(y, dtype=np.float64)[:, np.newaxis]

    def predict(self, X, return_std=False, top_k=None):
        """Predict with the chosen mixture.

        See :meth:`MixtureOfExpertsRegressor.predict`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The inputs.
        return_std : bool, default=False
            Also return the predictive standard deviation.
        top_k : int or None, default=None
            Evaluate only each row's ``top_k`` most trusted experts.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The gate-weighted mean of the experts' predictions.
        y_std : ndarray of shape (n_samples,)
            Only with ``return_std=True``.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressorCV
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(200)
        >>> moe = MixtureOfExpertsRegressorCV(
        ...     n_experts_grid=(1, 2), alphas=(1e-3,), cv=3, n_init=1, random_state=0
        ... ).fit(X, y)
        >>> moe.predict([[-2.0], [2.0]]).round(1)
        array([-3.,  2.])
        """
        check_is_fitted(self)
        return self.best_estimator_.predict(X, return_std=return_std, top_k=top_k)

    # The predictive distribution of the chosen mixture, as in
    # MixtureOfExpertsRegressor (a single chosen expert: its own Gaussian).

    def predict_quantiles(self, X, quantiles):
        """Compute quantiles of the chosen mixture's predictive distribution.

        See :meth:`MixtureOfExpertsRegressor.predict_quantiles`: from the
        exact mixture CDF, model-based.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to predict.
        quantiles : float or array-like of shape (n_quantiles,)
            Probabilities strictly between 0 and 1.

        Returns
        -------
        y_quantiles : ndarray of shape (n_samples, n_quantiles)
            ``y_quantiles[j, k]`` is the ``quantiles[k]`` quantile of
            ``p(y | X[j])``.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressorCV
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(300, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(300)
        >>> moe = MixtureOfExpertsRegressorCV(
        ...     n_experts_grid=(1, 2), alphas=(1e-3,), cv=3, random_state=0
        ... ).fit(X, y)
        >>> moe.predict_quantiles([[-2.0], [2.0]], [0.025, 0.5, 0.975]).round(1)
        array([[-3.2, -3. , -2.8],
               [ 1.8,  2. ,  2.2]])
        """
        check_is_fitted(self)
        return self.best_estimator_.predict_quantiles(X, quantiles)

    def predict_interval(self, X, coverage=0.9):
        """Central prediction interval of the chosen mixture.

        See :meth:`MixtureOfExpertsRegressor.predict_interval`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to predict.
        coverage : float, default=0.9
            Probability strictly between 0 and 1 that the interval holds.

        Returns
        -------
        y_interval : ndarray of shape (n_samples, 2)
            Lower and upper ends.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressorCV
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(300, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(300)
        >>> moe = MixtureOfExpertsRegressorCV(
        ...     n_experts_grid=(1, 2), alphas=(1e-3,), cv=3, random_state=0
        ... ).fit(X, y)
        >>> moe.predict_interval([[2.0]], coverage=0.95).round(1)
        array([[1.8, 2.2]])
        """
        check_is_fitted(self)
        return self.best_estimator_.predict_interval(X, coverage=coverage)

    def sample_y(self, X, n_samples=1, random_state=None):
        """Draw targets from the chosen mixture's predictive distribution.

        See :meth:`MixtureOfExpertsRegressor.sample_y`.

        Parameters
        ----------
        X : array-like of shape (n_samples_X, n_features)
            The rows to draw targets for.
        n_samples : int, default=1
            Draws per row.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws; pass an int for reproducible samples.

        Returns
        -------
        y_samples : ndarray of shape (n_samples_X, n_samples)
            ``y_samples[j]`` holds the draws for ``X[j]``.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressorCV
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(300, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(300)
        >>> moe = MixtureOfExpertsRegressorCV(
        ...     n_experts_grid=(1, 2), alphas=(1e-3,), cv=3, random_state=0
        ... ).fit(X, y)
        >>> moe.sample_y([[-2.0], [2.0]], n_samples=500, random_state=0).shape
        (2, 500)
        """
        check_is_fitted(self)
        return self.best_estimator_.sample_y(
            X, n_samples=n_samples, random_state=random_state
        )


class MixtureOfExpertsClassifierCV(
    ScoredAsFitted, ClassifierMixin, _BaseMixtureOfExpertsCV
):
    """Mixture of experts for classification with ``n_experts`` chosen by CV.

    It chooses its number of experts and its gate penalty by
    cross-validation.

    Every candidate ``(n_experts, gate__alpha)`` is scored by the mean
    held-out log-likelihood per row (the negative log-loss of
    ``predict_proba``, but with each expert's probabilities floored at 1e-12
    as ``log_likelihood`` floors them, so that a row an expert deems
    impossible costs 27.6 nats, not infinity) over stratified folds; by
    default the fewest experts within one standard error of the best mean
    are refitted on all the data
    as ``best_estimator_``, which ``predict``, ``predict_proba``,
    ``score`` and ``gate_proba`` use. Candidates start from each other within
    a fold, as in
    :class:`MixtureOfExpertsRegressorCV`.

    Parameters
    ----------
    experts : estimator or None, default=None
        The expert, cloned for each of the ``n_experts``; None means
        :class:`~sklearn.linear_model.LogisticRegression`.
    n_experts_grid : sequence of int, default=(1, 2, 3, 4)
        The numbers of experts to compare. One expert is the expert alone.
    alphas : sequence of float or None, default=(1.0, 1e-2, 1e-4, 1e-6)
        The gate penalties to compare; None keeps the gate untuned.
    cv : int, cross-validation generator, iterable or None, default=None
        As in :func:`~sklearn.model_selection.check_cv`: None means 5
        stratified folds, an int that many. Every split's training rows must
        hold every class (a mixture fitted without one gives it probability
        0, so no candidate could be scored): give each class at least 2
        rows. Split parameters (``groups``) and weights as in
        :class:`MixtureOfExpertsRegressorCV`.
    selection : {"one_se", "best"}, default="one_se"
        Which candidate is refitted: the fewest experts within one standard
        error of the highest mean held-out log-likelihood, or the highest;
        as in :class:`MixtureOfExpertsRegressorCV`.
    n_jobs : int or None, default=None
        Folds fitted in parallel; None means one at a time.
    gate : classifier or None, default=None
        As in :class:`MixtureOfExpertsClassifier`, for every candidate.
        Unless ``alphas=None`` it must be None or a :class:`SoftmaxGate`,
        whose ``alpha`` the grid sets.
    gate_features, expert_features : selector or None, default=None
        As in :class:`MixtureOfExpertsClassifier`, for every candidate.
    unweighted_fit : {"hard", "resample"}, default="hard"
        As in :class:`MixtureOfExpertsClassifier`, for every candidate.
    assignment : {"soft", "hard", "stochastic", "annealed"}, default="soft"
        As in :class:`MixtureOfExpertsClassifier`, for every candidate.
    temperatures : array-like of float or None, default=None
        As in :class:`MixtureOfExpertsClassifier`, for every candidate.
    top_k : int or None, default=None
        As in :class:`MixtureOfExpertsClassifier`, for every candidate, capped
        at its number of experts.
    balance : float, default=0.0
        As in :class:`MixtureOfExpertsClassifier`, for every candidate.
    min_expert_weight : float, default=1e-3
        As in :class:`MixtureOfExpertsClassifier`, for every candidate.
    dead_expert : {"reseed", "prune", "keep"}, default="reseed"
        As in :class:`MixtureOfExpertsClassifier`, for every candidate.
    init_params : {"kmeans", "kmeans_xy", "random", "auto"}, default="kmeans"
        As in :class:`MixtureOfExpertsClassifier`, but it must name a rule,
        as in :class:`MixtureOfExpertsRegressorCV`.
    n_init : int, default=3
        As in :class:`MixtureOfExpertsClassifier`, for the smallest mixture
        of the grid (larger ones grow from it).
    init_max_iter : int or None, default=20
        As in :class:`MixtureOfExpertsClassifier`, for every candidate.
    max_iter : int, default=1000
        As in :class:`MixtureOfExpertsClassifier`, for every candidate.
    tol : float, default=1e-5
        As in :class:`MixtureOfExpertsClassifier`, for every candidate.
    acceleration : {"auto", "squarem"} or None, default="auto"
        As in :class:`MixtureOfExpertsClassifier`, for every candidate.
    crossfit : "auto", bool or int, default="auto"
        As in :class:`MixtureOfExpertsClassifier`, for every candidate.
    random_state : int, RandomState instance or None, default=None
        As in :class:`MixtureOfExpertsClassifier`; every candidate, fold and
        the refit get the same seed, as in
        :class:`MixtureOfExpertsRegressorCV`.
    verbose : int, default=0
        As in :class:`MixtureOfExpertsClassifier`, for every candidate.
    verbose_interval : int, default=10
        As in :class:`MixtureOfExpertsClassifier`, for every candidate.
    blas_threads : "auto", int or None, default="auto"
        As in :class:`MixtureOfExpertsClassifier`, for every candidate.

    Attributes
    ----------
    best_estimator_ : MixtureOfExpertsClassifier
        The chosen mixture, refitted on all the data as in the folds: the
        grid's first candidate (fewest experts, first penalty) from the
        mixture's own starts, every later one as one start from
        responsibilities grown from the one before (``init_resp``), so its
        ``start_log_likelihoods_`` then holds one curve whatever its
        ``n_init`` (which stays this estimator's, for a later ``fit`` of its
        own). Its parameters are this estimator's, with the chosen
        ``n_experts`` and gate, and as ``random_state`` the seed drawn from
        this estimator's, which every candidate and fold shared.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    n_experts_ : int
        The chosen number of experts, the candidate's ``n_experts``; the
        refitted ``best_estimator_`` holds fewer if it pruned some.
    alpha_ : float or None
        The chosen gate penalty (None with ``alphas=None``).
    cv_results_ : dict of ndarray
        As for :class:`MixtureOfExpertsRegressorCV`.
    best_index_ : int
        Index of the chosen candidate in ``cv_results_`` (by ``selection``).
    best_score_ : float
        Its mean held-out log-likelihood per row.
    best_params_ : dict
        Its parameters.
    n_splits_ : int
        Number of folds.
    n_iter_ : int
        EM iterations of the refit of the chosen mixture.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    MixtureOfExpertsClassifier : The mixture with a fixed number of experts.
    sklearn.linear_model.LogisticRegressionCV : The same idea for one model.

    Examples
    --------
    Classes that a single linear border cannot separate (an XOR pattern),
    where each quadrant pair is linear for a gated expert:

    >>> import numpy as np
    >>> from skmoe import MixtureOfExpertsClassifierCV
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, size=(400, 2))
    >>> y = (X[:, 0] * X[:, 1] > 0).astype(int)
    >>> clf = MixtureOfExpertsClassifierCV(
    ...     n_experts_grid=(1, 2), alphas=(1e-3,), cv=3, random_state=0
    ... ).fit(X, y)
    >>> clf.n_experts_
    2
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    _mixture_class = MixtureOfExpertsClassifier
    _parameter_constraints = _constraints(MixtureOfExpertsClassifier)

    def __init__(
        self,
        experts=None,
        *,
        n_experts_grid=(1, 2, 3, 4),
        alphas=(1.0, 1e-2, 1e-4, 1e-6),
        cv=None,
        selection="one_se",
        n_jobs=None,
        gate=None,
        gate_features=None,
        expert_features=None,
        unweighted_fit="hard",
        assignment="soft",
        temperatures=None,
        top_k=None,
        balance=0.0,
        min_expert_weight=1e-3,
        dead_expert="reseed",
        init_params="kmeans",
        n_init=3,
        init_max_iter=20,
        max_iter=1000,
        tol=1e-5,
        acceleration="auto",
        crossfit="auto",
        random_state=None,
        verbose=0,
        verbose_interval=10,
        blas_threads="auto",
    ):
        self.experts = experts
        self.n_experts_grid = n_experts_grid
        self.alphas = alphas
        self.cv = cv
        self.selection = selection
        self.n_jobs = n_jobs
        self.gate = gate
        self.gate_features = gate_features
        self.expert_features = expert_features
        self.unweighted_fit = unweighted_fit
        self.assignment = assignment
        self.temperatures = temperatures
        self.top_k = top_k
        self.balance = balance
        self.min_expert_weight = min_expert_weight
        self.dead_expert = dead_expert
        self.init_params = init_params
        self.n_init = n_init
        self.init_max_iter = init_max_iter
        self.max_iter = max_iter
        self.tol = tol
        self.acceleration = acceleration
        self.crossfit = crossfit
        self.random_state = random_state
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.blas_threads = blas_threads

    def _check_target(self, y):
        # Before the folds are checked for missing classes: a continuous
        # target is refused as such, not as thousands of missing classes.
        check_classification_targets(y)
        self.classes_ = np.unique(y)

    def _target_columns(self, y):
        return (np.asarray(y)[:, np.newaxis] == self.classes_).astype(np.float64)

    def _check_folds(self, splits, y, weights):
        _check_fold_classes(splits, y, weights, self.classes_)

    def predict(self, X, top_k=None):
        """Predict the most probable class under the chosen mixture.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to predict.
        top_k : int or None, default=None
            Evaluate only each row's ``top_k`` most trusted experts.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            The class of highest :meth:`predict_proba` for each row.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsClassifierCV
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = (np.abs(X[:, 0]) > 1.5).astype(int)
        >>> clf = MixtureOfExpertsClassifierCV(
        ...     n_experts_grid=(1, 2), alphas=(1e-3,), cv=3, n_init=1, random_state=0
        ... ).fit(X, y)
        >>> clf.n_experts_, clf.predict([[-2.5], [0.0], [2.5]])
        (2, array([1, 0, 1]))
        """
        check_is_fitted(self)
        return self.best_estimator_.predict(X, top_k=top_k)

    def predict_proba(self, X, top_k=None):
        """Predict class probabilities under the chosen mixture.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to predict.
        top_k : int or None, default=None
            Evaluate only each row's ``top_k`` most trusted experts.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsClassifierCV
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = (np.abs(X[:, 0]) > 1.5).astype(int)
        >>> clf = MixtureOfExpertsClassifierCV(
        ...     n_experts_grid=(1, 2), alphas=(1e-3,), cv=3, n_init=1, random_state=0
        ... ).fit(X, y)
        >>> clf.predict_proba([[-2.5], [0.0], [2.5]]).round(1)
        array([[0., 1.],
               [1., 0.],
               [0., 1.]])
        """
        check_is_fitted(self)
        return self.best_estimator_.predict_proba(X, top_k=top_k)

    def predict_log_proba(self, X, top_k=None):
        """Predict the logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to predict.
        top_k : int or None, default=None
            Evaluate only each row's ``top_k`` most trusted experts.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The natural logarithm of :meth:`predict_proba`, columns in the
            order of ``classes_``.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsClassifierCV
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = (np.abs(X[:, 0]) > 1.5).astype(int)
        >>> clf = MixtureOfExpertsClassifierCV(
        ...     n_experts_grid=(1, 2), alphas=(1e-3,), cv=3, n_init=1, random_state=0
        ... ).fit(X, y)
        >>> log_proba = clf.predict_log_proba(X)
        >>> log_proba.shape, bool(np.allclose(np.exp(log_proba), clf.predict_proba(X)))
        ((200, 2), True)
        """
        check_is_fitted(self)
        return self.best_estimator_.predict_log_proba(X, top_k=top_k)
