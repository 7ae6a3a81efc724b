"""MixtureOfExpertsClassifier: any probabilistic classifiers as experts."""

import numbers

import numpy as np
from sklearn.base import ClassifierMixin, MetaEstimatorMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.linear_model import LogisticRegression
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from ._base import _BaseMixtureOfExperts
from ._dask import is_dask_collection, predict_blocks
from ._estimators import as_trained, check_output, has_own_likelihood, naming
from ._inference import ScoredOutOfCore, _one_model
from ._likelihood import (
    PROBA_FLOOR,
    aligned_proba,
    check_labels,
    class_index,
    has_proba,
    label_noise,
    smoothed_one_hot,
)
from ._routing import routed_blocks
from ._warn import warn
from .exceptions import DegenerateFitWarning


class ScoredAsFitted:
    """A classifier mixin: ``score`` reads ``y`` as the mixture's ``fit``."""

    def score(self, X, y, sample_weight=None):
        """Return the mean accuracy on the given rows and labels.

        As :meth:`sklearn.base.ClassifierMixin.score`, with ``y`` read as
        ``fit`` reads it: an object array of numbers (a pandas column of ints
        stored as objects) holds numbers, as the predictions do, and
        cross-validation by the default scorer works on such labels. Named
        scorers (``scoring="accuracy"``) use scikit-learn's metrics, which
        do not read them, and score NaN; ``fit`` warns of it
        (``DataConversionWarning``), and ``y.astype(int)`` avoids it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows.
        y : array-like of shape (n_samples,)
            Their true labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        score : float
            Mean accuracy of ``predict(X)`` against ``y``.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsClassifier
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(100, 2))
        >>> y = (X[:, 0] > 0).astype(int).astype(object)  # ints as objects
        >>> import warnings
        >>> with warnings.catch_warnings():  # the DataConversionWarning above
        ...     warnings.simplefilter("ignore")
        ...     clf = MixtureOfExpertsClassifier(n_init=1, random_state=0).fit(X, y)
        >>> bool(clf.score(X, y) > 0.9)
        True
        """
        return super().score(X, _uniform_labels(y), sample_weight=sample_weight)


class MixtureOfExpertsClassifier(
    ScoredAsFitted,
    ScoredOutOfCore,
    ClassifierMixin,
    MetaEstimatorMixin,
    _BaseMixtureOfExperts,
):
    """Mixture of experts for classification, fitted by EM.

    The model is ``P(y | x) = sum_i g_i(x) P_i(y | x)``: a softmax gate ``g``
    decides how much each expert is trusted at ``x``, and each expert is any
    scikit-learn classifier with ``predict_proba``. EM (Jordan & Jacobs, 1994)
    alternates between the posterior probability that each expert produced each
    label (E-step) and refitting every expert with those posteriors as sample
    weights, and the gate on them as soft targets (M-step).

    Parameters
    ----------
    experts : estimator, list of (str, estimator) tuples or None, default=None
        One classifier, cloned ``n_experts`` times; or named classifiers, as in
        :class:`~sklearn.ensemble.VotingClassifier` (an entry may be
        ``"drop"``); ``None`` means
        :class:`~sklearn.linear_model.LogisticRegression` experts. Experts
        that do not accept ``sample_weight`` are fitted as ``unweighted_fit``
        says; prefit models wrapped in :class:`~sklearn.frozen.FrozenEstimator`
        and :class:`~skmoe.rules.RuleExpert` rules are never refitted. Experts
        without ``predict_proba`` give a smoothed one-hot of their labels, whose
        error rate EM learns (``label_noise_``).
    n_experts : int, default=2
        Number of experts when ``experts`` is one estimator or None.
    gate : classifier or None, default=None
        The gate; ``None`` means ``SoftmaxGate()``, which fits the
        responsibilities directly. Any other classifier with ``predict_proba``
        that accepts ``sample_weight`` (also in the last step of a Pipeline)
        can serve: it sees every row once per expert, weighted by the
        responsibilities, which costs ``n_experts`` times the memory of ``X``.
        Parameters are reachable as ``gate__alpha`` even while ``gate=None``.
    gate_features, expert_features : selector or None, default=None
        The columns the gate and the experts see: int indices, a boolean
        mask, column names (with a DataFrame), or a callable such as
        :func:`~sklearn.compose.make_column_selector` applied to ``X`` in
        ``fit`` and returning one of these; ``None`` (given, or returned by
        the callable) means every column. Letting the gate see only the
        variables that decide the regime (flexmix's concomitant variables)
        and the experts only those that drive the target often fits better.
    unweighted_fit : {"hard", "resample"}, default="hard"
        How an expert that does not accept ``sample_weight`` (k-nearest
        neighbours, a Gaussian process, a Pipeline whose last step takes no
        weights) gets its share of the rows: ``"hard"`` fits it on the rows it
        is most responsible for (hard EM, as flexmix does); ``"resample"``
        fits it on ``n_samples`` rows drawn with probability proportional to
        ``sample_weight * responsibility``, seeded by ``random_state``.
        Experts that take weights are unaffected.
    assignment : {"soft", "hard", "stochastic", "annealed"}, default="soft"
        How EM shares each row between experts for the next M-step: ``"soft"``
        by the posteriors (EM); ``"hard"`` wholly to the most probable expert
        (classification EM: hard routing while training); ``"stochastic"``
        wholly to an expert drawn from the posterior (stochastic EM, the EM
        counterpart of noisy gating: it runs ``max_iter`` iterations and keeps
        the best, whose number is ``n_iter_``; ``converged_`` is then always
        True); ``"annealed"`` by the posteriors raised to ``1 / T`` for a
        temperature ``T`` falling over the iterations (start soft, end hard).
    temperatures : array-like of float or None, default=None
        The annealing schedule, one positive, non-increasing temperature per
        iteration (the last repeats). None: 1, 0.8, 0.64, ... down to 0.05.
        Used with ``assignment="annealed"`` only.
    top_k : int or None, default=None
        Experts evaluated per row at predict time: the ``top_k`` the gate
        trusts most, with the gate renormalised over them. Each expert
        predicts once, for the rows routed to it; an expert no row is routed
        to is not called. None evaluates every expert. ``predict`` also takes
        ``top_k``, which overrides this one.
    balance : float, default=0.0
        Weight of the load-balancing penalty ``M * sum_i p_i f_i`` in the
        gate's objective, ``p_i`` being the mean gate probability of expert
        ``i`` and ``f_i`` its share of the rows, taken soft (``f_i = p_i``:
        the top-1 share has no gradient). It spreads the gate's probability
        over experts where the data allow it; in a classical mixture unequal
        use is often right, so it is off by default. Needs the default gate.
    min_expert_weight : float, default=1e-3
        An expert whose share of the responsibility (``expert_weights_``)
        falls below this during EM is dead; ``dead_expert`` says what follows.
    dead_expert : {"reseed", "prune", "keep"}, default="reseed"
        ``"reseed"``: hand the expert the rows the mixture explains worst (at
        most twice per expert and start, warm-started refits included);
        ``"prune"``: remove it (for good: a warm-started refit continues with
        the survivors), but never the last one: when every expert falls below
        ``min_expert_weight`` (possible only above ``1 / n_experts``), the
        heaviest stays and the mixture becomes that single expert;
        ``"keep"``: leave it. Each case raises a
        ``DeadExpertWarning`` saying what was done, and so does a fit that ends
        with an expert still dead.
    init_params : {"kmeans", "kmeans_xy", "random", "auto"}, default="kmeans"
        How the first responsibilities are chosen: weighted k-means on the
        standardised inputs (``"kmeans"``) or on inputs and one-hot labels
        (``"kmeans_xy"``), or a random gate drawn in parameter space
        (``"random"``). Hard k-means labels are softened so that EM can move
        away from them. ``"auto"`` alternates ``"kmeans_xy"`` and
        ``"kmeans"`` over the ``n_init`` starts, as the regressor's default
        does; the classifier's default stays ``"kmeans"``, which did better
        on the real data sets of ``benchmarks/DEFAULTS.md``. To start from
        given responsibilities, pass them to ``fit`` as ``init_resp``; an
        array here is deprecated.
    n_init : int, default=3
        Number of EM runs from different starts; the one with the highest
        log-likelihood is kept (see ``init_max_iter``). Restarts are the
        default because EM's optima are local: on the grid of
        ``benchmarks/DEFAULTS.md`` one start misses the best optimum by
        0.02-0.06 nats per row on hard borders, three reach it. A
        ``LocalOptimumWarning`` says when they disagree. A fit given
        ``init_resp`` runs one start, from those responsibilities.
    init_max_iter : int or None, default=20
        With several starts, each runs at most this many EM iterations; only
        the start with the highest log-likelihood then continues to ``tol``
        ("short runs then a long run", Biernacki, Celeux & Govaert 2003).
        On the 97 fits of ``benchmarks/SHORT_RUNS.md`` the start leading
        after 20 iterations ended within 0.0003 nats per row of the best of
        three full runs, at 0.78 of their iterations on average (0.42 on
        breast_cancer). Where EM is not an ascent (after a re-seed of a dead
        expert, with cross-fitting) the start continued may end below where
        another paused; that one then continues too, and the best finished
        start is kept. None runs every start to convergence, as
        ``GaussianMixture`` does. Stochastic and annealed ``assignment`` run
        every start's whole schedule.
    max_iter : int, default=1000
        Maximum number of EM iterations per start: a bound for safety, so
        that ``tol`` decides.
    tol : float, default=1e-5
        EM stops when what it climbs, the mean log-likelihood per unit weight
        less the penalties of the gate's and the experts' fits (a
        ``SoftmaxGate``'s ``alpha``, an L2 ``LogisticRegression`` expert's
        or gate's ``C``), changes by less than ``tol`` from one iteration to
        the next; the recorded curve can then still move. The change is
        absolute, so it does not depend on the units of ``y`` (a relative
        rule would stop at other iterations for ``y`` in metres and in
        millimetres); 1e-4 stops early where regimes are buried in noise.
        With a flexible expert (a tree, kNN, boosting; anything but linear
        and logistic models, fixed experts and nested mixtures) a refit is
        not an ascent step and the curve may jump by more than ``tol`` for
        ever, so EM also stops, as converged, once 10 iterations bring no
        new best log-likelihood (counted from the last re-seed of a dead
        expert, which starts a new path).
    acceleration : {"auto", "squarem"} or None, default="auto"
        ``"squarem"`` accelerates soft EM by SQUAREM (Varadhan & Roland,
        2008): after two EM steps it extrapolates the responsibilities along
        the path they took, and keeps the jump only if it climbs at least as
        high as plain EM's step (in what EM climbs, see ``tol``). It reaches
        the same optimum in fewer iterations where EM crawls (flat
        likelihoods, overlapping regimes, nearly separable classes);
        ``log_likelihoods_`` records the accepted steps. ``"auto"`` does the
        same once a run has taken 20 iterations: EM that settles sooner
        (most fits, and every start's short run of ``init_max_iter``) is
        plain EM, step for step, and only a run that still climbs is
        extrapolated (measured in ``benchmarks/FASTEM.md``). None: plain
        EM. Other ``assignment`` values run plain, and so, with ``"auto"``,
        do fits on Dask collections and mixtures whose EM is not an ascent
        (flexible experts, cross-fitting: see ``tol`` and ``crossfit``).
    crossfit : "auto", bool or int, default="auto"
        Keep flexible experts (a tree, k-nearest neighbours) from winning
        rows by fitting them in sample, which plain EM rewards. With
        cross-fitting, the E-step scores each expert by its in-sample
        log-likelihood minus its *optimism* per row: the mean gap between
        its in-sample and its out-of-fold log-likelihood, measured by
        fitting one copy of each expert per fold on the other folds' rows at
        every iteration. ``"auto"``: 5 folds when some expert is flexible
        (one whose complexity adapts to the data: anything but
        scikit-learn's linear models, alone or after a scaler, an imputer
        or a PCA in a Pipeline) and there are more than 12 rows, unless y
        has two classes and one of them a single row (a fold's copies would
        see one class), plain EM otherwise
        (a mixture of linear or logistic experts is unchanged); True: 5
        folds; an int: that many folds; False or None: plain EM. Prefit
        models and rules pay nothing, nor do nested mixtures. The experts
        kept are fitted on all rows, as are their likelihood parameters.
        The folds are drawn from ``random_state``,
        stratified by class for a classifier; a weighted row lies in one
        fold, so weights are not repeated rows here. Cost: ``crossfit``
        extra fits of each expert per iteration (on 80 % of the rows with
        5 folds); pass ``crossfit=False`` where the experts are costly and
        the plain in-sample comparison is acceptable. This is no longer
        exact EM: ``log_likelihoods_`` records the penalised log-likelihood,
        and EM stops when it changes by less than ``tol`` or has not
        improved for 10 iterations. See "Flexible experts" in the user
        guide and ``benchmarks/FLEXIBLE.md``.
    random_state : int, RandomState instance or None, default=None
        Seeds the starts and every expert clone that has a ``random_state``.
        Pass an int for reproducible fits.
    warm_start : bool, default=False
        If True and the mixture is fitted, ``fit`` continues EM from the fitted
        experts and gate, ignoring ``n_init``.
    verbose : int, default=0
        Print each start and, every ``verbose_interval`` iterations, the
        iteration, log-likelihood, change and elapsed seconds.
    verbose_interval : int, default=10
        Iterations between two progress lines.
    n_jobs : int or None, default=None
        Experts fitted in parallel (threads) within each M-step; ``None`` means
        one at a time.
    blas_threads : "auto", int or None, default="auto"
        Most BLAS and OpenMP threads during ``fit``. ``"auto"``: one thread
        while ``n_samples * n_features ** 2`` is below 2e9, where threads cost
        more than they give on EM's many small matrix products, and the
        configured threads above; an int: at most that many; None: the thread
        pools as they are. A lower limit set outside (``threadpoolctl``,
        ``OMP_NUM_THREADS``) is never raised. See "Threads inside EM" in the
        user guide.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    experts_ : list of estimators
        The fitted experts, trained on the original labels. Experts cloned from
        one template are ordered by decreasing ``expert_weights_`` (with a
        ``SoftmaxGate``, whose columns are reordered with them).
    named_experts_ : :class:`~sklearn.utils.Bunch`
        The fitted experts by name (``expert0``, ``expert1``... for a template).
    leaf_names_ : ndarray of str
        The names of the leaf experts, in the order of :meth:`leaf_proba`:
        ``"parent/child"`` below nested mixtures (fitted as experts or prefit
        in a FrozenEstimator); the names of :attr:`named_experts_` for a flat
        mixture.
    gate_ : SoftmaxGate or None
        The fitted gate; None when there is a single expert.
    expert_weights_ : ndarray of shape (n_experts,)
        Mean responsibility of each expert over the training rows, as EM's
        last E-step had it (with cross-fitting, from the penalised scores;
        :meth:`responsibilities` gives the plain posteriors).
    log_likelihood_ : float
        Final mean log-likelihood per unit sample weight, as EM recorded it:
        with cross-fitting (``crossfit``), the penalised one, below the mean
        of :meth:`log_likelihood` on the training rows.
    log_likelihoods_ : ndarray of shape (n_iterations,)
        Mean log-likelihood after each EM iteration of the best start; with
        ``warm_start``, a refit appends to the curve of the previous fits.
    start_log_likelihoods_ : list of ndarray
        The curve of every start of the last fit, ``n_init`` of them (one
        for a warm-started refit); ``start_log_likelihoods_[best_start_]``
        equals ``log_likelihoods_``. A start left after its short run
        (``init_max_iter``) has a curve that ends there.
    best_start_ : int
        Index of the start the mixture kept.
    n_iter_ : int
        EM iterations of the best start.
    converged_ : bool
        Whether the best start converged.
    label_noise_ : ndarray of shape (n_experts,)
        Learned error rate of each expert that predicts labels only (NaN for
        experts with ``predict_proba``).
    gate_features_, expert_features_ : ndarray of int
        The columns the gate and the experts see.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    MixtureOfExpertsRegressor : The same model for regression.
    sklearn.ensemble.VotingClassifier : Every model on every row, fixed weights.

    References
    ----------
    M. I. Jordan and R. A. Jacobs (1994). Hierarchical mixtures of experts and
    the EM algorithm. Neural Computation 6(2), 181-214.

    Examples
    --------
    XOR of the quadrants: no single linear model separates it, but a gate that
    sends each half-plane to its own logistic regression does.

    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skmoe import MixtureOfExpertsClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, size=(600, 2))
    >>> y = (X[:, 0] * X[:, 1] > 0).astype(int)
    >>> single = LogisticRegression().fit(X, y)
    >>> moe = MixtureOfExpertsClassifier(n_experts=4, random_state=0).fit(X, y)
    >>> bool(moe.score(X, y) > single.score(X, y) + 0.3)
    True
    >>> moe.predict_proba(X[:2]).sum(axis=1)
    array([1., 1.])
    """

    _kind = "classifier"
    _likelihood_attributes = ("label_noise_",)

    def __init__(
        self,
        experts=None,
        *,
        n_experts=2,
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
        warm_start=False,
        verbose=0,
        verbose_interval=10,
        n_jobs=None,
        blas_threads="auto",
    ):
        self.experts = experts
        self.n_experts = n_experts
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
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.n_jobs = n_jobs
        self.blas_threads = blas_threads

    def _default_expert(self):
        return LogisticRegression()

    def _check_target(self, X, y, sample_weight):
        y = _uniform_labels(y, at_fit=True)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        y_index = np.searchsorted(self.classes_, y)
        mass = np.bincount(y_index, weights=sample_weight, minlength=len(self.classes_))
        if np.count_nonzero(mass) < 2:
            raise ValueError(
                "MixtureOfExpertsClassifier needs samples of at least 2 classes "
                "with positive weight in y, but the data contain only one class: "
                f"{np.asarray(self.classes_[np.argmax(mass)]).item()!r}."
            )
        return y, y_index

    def _warn_if_degenerate(self, data):
        # Only a prefit expert or a rule can: a fitted one learns y's own
        # classes.
        strangers = {}
        for name, expert in zip(self._expert_names, self.experts_, strict=True):
            theirs = self._labels_known_to(expert, data.Xe)
            if theirs is not None and not class_index(theirs, self.classes_)[1].any():
                strangers[name] = sorted(set(theirs.tolist()), key=repr)[:5]
        if strangers:
            warn(
                f"Experts {list(strangers)} know none of y's classes "
                f"{self.classes_.tolist()!r} (theirs: "
                f"{'; '.join(map(repr, strangers.values()))}), so they give every "
                "row the same probabilities and explain no row better than "
                "chance. If they were trained on the same labels encoded "
                "otherwise, encode y as they do; else leave them out.",
                DegenerateFitWarning,
            )

    def _labels_known_to(self, expert, X):
        """The labels the likelihood reads of ``expert``: those it predicts
        for the training rows ``X`` if it predicts labels only (whatever its
        ``classes_`` say: text '0' and '1' for classes 0 and 1 are no
        opinion on any row), else its ``classes_``, if it has them."""
        if not has_proba(expert):
            return check_labels(expert.predict(as_trained(expert, X)), X.shape[0])
        if hasattr(expert, "classes_"):
            return np.asarray(expert.classes_)
        return None

    def _check_new_target(self, y, n_samples):
        y = column_or_1d(y, warn=True)
        if len(y) != n_samples:
            raise ValueError(
                f"y has {len(y)} samples but X has {n_samples}; they must match."
            )
        y_index, known = class_index(_uniform_labels(y), self.classes_)
        if not np.all(known):
            unknown = sorted({repr(label) for label in y[~known].tolist()})
            raise ValueError(
                f"y contains labels not seen in fit: {', '.join(unknown)}; "
                f"the classes are {self.classes_.tolist()!r}."
            )
        return y_index

    def _target_features(self, y_index):
        return np.eye(len(self.classes_))[y_index]

    def _expert_proba(self, i, X, labels=None):
        """Expert ``i``'s class probabilities, (n, C), columns as ``classes_``;
        ``labels`` are its predictions on ``X`` if it predicts labels only
        and they are known (see _expert_outputs)."""
        expert = self.experts_[i]
        if has_proba(expert):
            return aligned_proba(expert, X, self.classes_)
        if labels is None:
            labels = check_labels(expert.predict(as_trained(expert, X)), X.shape[0])
        return smoothed_one_hot(labels, self.classes_, self.label_noise_[i])

    def _named_proba(self, i, X):
        """:meth:`_expert_proba`, with errors naming the expert."""
        with naming(self._expert_names[i], self.experts_[i]):
            return self._expert_proba(i, X)

    def _expert_probas(self, X):
        """Every expert's class probabilities, (n, M, C)."""
        return np.stack(
            [self._named_proba(i, X) for i in range(len(self.experts_))], axis=1
        )

    def _log_prob_of(self, X, y_index, outputs, n_iter=None):
        """``log P_i(y | x)`` of each expert; ``outputs`` caches the experts'
        outputs by position; errors name the expert and ``n_iter``."""
        rows = np.arange(X.shape[0])
        log_prob = np.empty((X.shape[0], len(self.experts_)))
        for i, (name, expert) in enumerate(self._named_experts()):
            with naming(name, expert, n_iter):
                if self._own_likelihood(expert):
                    log_prob[:, i] = check_output(
                        expert.log_likelihood(X, self.classes_[y_index]),
                        (X.shape[0],),
                        "log-likelihoods",
                        allow="-inf",
                    )
                    continue
                output = outputs.get(i)
                if output is not None and output.ndim == 2:
                    proba = output[:, 0]  # the observed class's, kept
                else:
                    proba = self._expert_proba(i, X, output)[rows, y_index]
            log_prob[:, i] = np.log(np.maximum(proba, PROBA_FLOOR))
        return log_prob

    def _expert_outputs(self, X, y_lik, n_iter=None):
        """The experts' outputs by position: the labels (n,) of the experts
        that predict labels only (their error rate is the likelihood's
        M-step); for the others, the probability each gives the observed
        class ``y_lik``, as a column (n, 1): all the E-step needs of the
        (n, C) probabilities, so only one of them is held at a time; none
        for experts that report their own likelihood."""
        outputs = {}
        rows = np.arange(X.shape[0])
        for i, (name, expert) in enumerate(self._named_experts()):
            with naming(name, expert, n_iter):
                if not has_proba(expert):
                    outputs[i] = check_labels(
                        expert.predict(as_trained(expert, X)), X.shape[0]
                    )
                elif not self._own_likelihood(expert):
                    model, Xm = self._through_pipeline(expert, X)
                    proba = aligned_proba(model, Xm, self.classes_)
                    outputs[i] = proba[rows, y_lik][:, np.newaxis]
        return outputs

    def _own_likelihood(self, expert):
        """Whether EM asks ``expert`` for its own ``log_likelihood``: a
        nested mixture on this mixture's classes. A prefit one that knows
        other classes is read through its aligned probabilities, as any
        prefit classifier is (a class it lacks has probability 0, one it
        adds is dropped and the rest renormalised), which for the same
        classes is the same likelihood."""
        return has_own_likelihood(expert) and np.array_equal(
            getattr(expert, "classes_", self.classes_), self.classes_
        )

    def _fit_likelihood(self, outputs, y_lik, weights):
        self.label_noise_ = np.full(len(self.experts_), np.nan)
        for i, output in outputs.items():
            if output.ndim == 1:  # labels
                self.label_noise_[i] = label_noise(
                    output, y_lik, self.classes_, weights[:, i]
                )

    def _expert_log_prob(self, X, y_lik, outputs=None, n_iter=None):
        return self._log_prob_of(X, y_lik, outputs or {}, n_iter)

    @_one_model
    def predict_proba(self, X, top_k=None):
        """Predict the gate-weighted mixture of the experts' class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to predict.
        top_k : int or None, default=None
            Evaluate only each row's ``top_k`` most trusted experts, with the
            gate renormalised over them; None uses the ``top_k`` parameter.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            ``sum_i g_i(x) P_i(c | x)``, columns in the order of ``classes_``;
            rows sum to 1.

        Examples
        --------
        Class 1 at both ends, which no single linear border separates:

        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsClassifier
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = (np.abs(X[:, 0]) > 1.5).astype(int)
        >>> clf = MixtureOfExpertsClassifier(n_init=1, random_state=0).fit(X, y)
        >>> clf.predict_proba([[-2.5], [0.0], [2.5]]).round(1)
        array([[0., 1.],
               [1., 0.],
               [0., 1.]])
        """
        if is_dask_collection(X):
            return predict_blocks(self, "predict_proba", X, top_k=top_k)
        Xe, Xg = self._split(self._validate_predict_data(X))
        weights = self._routing_weights(Xg, top_k)
        # Summed expert by expert: one (n, n_classes) array, not one per
        # expert (934 MiB at 200,000 rows, 10 experts and 50 classes).
        proba = np.zeros((weights.shape[0], len(self.classes_)))
        for i, where, X_rows in routed_blocks(weights, Xe):
            proba[where] += weights[where, i, np.newaxis] * self._named_proba(i, X_rows)
        # Rounding can put a certain class at 1 + 2e-16, which metrics such as
        # log_loss refuse; no other entry of that row can be above 0 then.
        return np.minimum(proba, 1.0, out=proba)

    def predict_log_proba(self, X, top_k=None):
        """Predict the logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to predict.
        top_k : int or None, default=None
            As in :meth:`predict_proba`.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The natural logarithm of :meth:`predict_proba` (``-inf`` where a
            probability is 0), columns in the order of ``classes_``.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsClassifier
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = (np.abs(X[:, 0]) > 1.5).astype(int)
        >>> clf = MixtureOfExpertsClassifier(n_init=1, random_state=0).fit(X, y)
        >>> log_proba = clf.predict_log_proba(X)
        >>> log_proba.shape, bool(np.allclose(np.exp(log_proba), clf.predict_proba(X)))
        ((200, 2), True)
        """
        if is_dask_collection(X):
            return predict_blocks(self, "predict_log_proba", X, top_k=top_k)
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X, top_k=top_k))

    @_one_model
    def predict(self, X, top_k=None):
        """Predict the most probable class under the mixture.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to predict.
        top_k : int or None, default=None
            As in :meth:`predict_proba`.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            The class of highest :meth:`predict_proba` for each row.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsClassifier
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = (np.abs(X[:, 0]) > 1.5).astype(int)
        >>> clf = MixtureOfExpertsClassifier(n_init=1, random_state=0).fit(X, y)
        >>> clf.predict([[-2.5], [0.0], [2.5]])
        array([1, 0, 1])
        >>> bool(clf.score(X, y) > 0.95)
        True
        """
        if is_dask_collection(X):
            return predict_blocks(self, "predict", X, top_k=top_k)
        proba = self.predict_proba(X, top_k=top_k)
        return self.classes_[np.argmax(proba, axis=1)]

    @_one_model
    def expert_predictions(self, X):
        """Predict class probabilities with every expert, for every row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to predict.

        Returns
        -------
        probabilities : ndarray of shape (n_samples, n_experts, n_classes)
            ``probabilities[:, i]`` are the class probabilities of
            ``experts_[i]`` (a smoothed one-hot of its labels if it has no
            ``predict_proba``), columns in the order of ``classes_``.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsClassifier
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = (np.abs(X[:, 0]) > 1.5).astype(int)
        >>> clf = MixtureOfExpertsClassifier(n_init=1, random_state=0).fit(X, y)
        >>> experts = clf.expert_predictions(X)
        >>> experts.shape
        (200, 2, 2)

        :meth:`predict_proba` weighs them by the gate:

        >>> mixed = np.einsum("nm,nmc->nc", clf.gate_proba(X), experts)
        >>> bool(np.allclose(mixed, clf.predict_proba(X)))
        True
        """
        Xe, _ = self._split(self._validate_predict_data(X))
        return self._expert_probas(Xe)


def _uniform_labels(y, at_fit=False):
    """Class labels of one kind: strings, booleans or numbers.

    An object array of numbers (Python and numpy ints mixed, say) becomes a
    numeric array, which scikit-learn's target checks accept; labels that mix
    kinds, or are missing, get an error that says so instead of a failed sort
    deep inside numpy. ``at_fit``, such a conversion warns: scikit-learn's
    metrics read the same labels as of an unknown type, so a named scorer
    (``scoring="accuracy"`` in a search) fails on them, and a search would
    choose among NaN scores.
    """
    y = np.asarray(y)
    if y.dtype.kind != "O":
        return y
    values = y.tolist()
    missing = [v for v in values if v is None or (isinstance(v, float) and v != v)]
    if missing:
        raise ValueError(
            f"y contains missing class labels ({missing[0]!r}); every row "
            "needs a label. Drop those rows or give them a label of their own."
        )
    kinds = {_label_kind(v) for v in values}
    if len(kinds) > 1:
        raise ValueError(
            f"y mixes class labels of different kinds ({', '.join(sorted(kinds))}"
            "); labels must be all strings, all booleans or all numbers, for "
            "example y.astype(str)."
        )
    if kinds <= {"numbers", "booleans"}:
        if at_fit:
            warn(
                "y holds numbers stored as objects (dtype object). The mixture "
                "reads them as numbers, but scikit-learn's metrics do not: they "
                "see labels of an unknown type, so a named scorer (scoring="
                "'accuracy' or 'neg_log_loss' in cross_validate or GridSearchCV) "
                "fails on them and scores NaN. Convert them first, for example "
                "y.astype(int).",
                DataConversionWarning,
            )
        return np.array(values)
    return y


def _label_kind(value):
    if isinstance(value, (bool, np.bool_)):
        return "booleans"
    if isinstance(value, numbers.Number):
        return "numbers"
    if isinstance(value, str):
        return "strings"
    return type(value).__name__
