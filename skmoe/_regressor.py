"""MixtureOfExpertsRegressor: Gaussian experts around any regressors."""

from numbers import Real

import numpy as np
from sklearn.base import MetaEstimatorMixin, RegressorMixin
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.utils.validation import column_or_1d

from ._base import _BaseMixtureOfExperts
from ._compat import Interval
from ._dask import is_dask_collection, predict_blocks
from ._estimators import check_output, has_own_likelihood, naming, reports_std
from ._inference import ScoredOutOfCore, _child_mixture, _one_model
from ._likelihood import own_variance, predict_mean, predict_mean_and_var
from ._math import (
    gaussian_log_prob,
    mixture_mean_and_var,
    noise_variances,
    weighted_mean_and_var,
)
from ._noise import nn_noise_variance, target_rounding
from ._predictive import (
    central_interval,
    check_coverage,
    check_n_samples,
    check_quantiles,
    mixture_quantiles,
    sample_mixture,
    stack_components,
)
from ._routing import routed_blocks
from ._validation import check_magnitude
from ._warn import warn
from .exceptions import DegenerateFitWarning

# A linear expert with at least this many rows (by responsibility) per
# coefficient has residuals that measure its noise: when they lie far below
# the floor, the floor, not the data, set its noise variance.
ROWS_PER_COEFFICIENT = 20


class MixtureOfExpertsRegressor(
    ScoredOutOfCore, RegressorMixin, MetaEstimatorMixin, _BaseMixtureOfExperts
):
    """Mixture of experts for regression, fitted by EM.

    The model is ``p(y | x) = sum_i g_i(x) N(y; mu_i(x), sigma_i^2)``: a softmax
    gate ``g`` decides how much each expert is trusted at ``x``, and each expert
    is any scikit-learn regressor ``mu_i`` with its own noise variance. EM
    (Jordan & Jacobs, 1994) alternates between the posterior probability that
    each expert produced each row (E-step) and refitting every expert with those
    posteriors as sample weights, and the gate on them as soft targets (M-step).

    Parameters
    ----------
    experts : estimator, list of (str, estimator) tuples or None, default=None
        One regressor, cloned ``n_experts`` times; or named regressors, as in
        :class:`~sklearn.ensemble.VotingRegressor` (an entry may be ``"drop"``);
        ``None`` means :class:`~sklearn.linear_model.LinearRegression` experts.
        Experts that do not accept ``sample_weight`` are fitted as
        ``unweighted_fit`` says; prefit models wrapped in
        :class:`~sklearn.frozen.FrozenEstimator` and
        :class:`~skmoe.rules.RuleExpert` rules are never refitted.
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
    reg_var : float, default=1e-2
        Floor of every expert's noise variance, relative to an estimate of the
        noise variance of ``y``: half the weighted mean squared difference of
        ``y`` between nearest neighbours in the standardised columns that the
        gate and the experts see, or of the residuals of one linear fit of
        ``y`` on them where that is smaller (a sloped mean between neighbours
        far apart is not noise). It stops an expert from collapsing onto a
        few rows it fits exactly, where its likelihood would grow without
        bound. Being relative to the noise and not to ``var(y)``, it does not
        bind when regimes lie far apart compared with their noise. The floor
        is never below the rounding error of ``y`` itself (a thousand units
        in the last place of its root mean square, whatever the number of
        rows or their weights), so that a constant target keeps a finite
        likelihood. An expert that ends at the floor
        with zero residuals, a linear expert on many rows whose residual
        variance lies far below the floor (where the estimate overstates the
        noise: regimes of different slopes far apart compared with it), and a
        constant ``y`` raise a ``DegenerateFitWarning``.
    init_params : {"auto", "kmeans", "kmeans_xy", "random"}, default="auto"
        How the first responsibilities are chosen: weighted k-means on the
        standardised inputs (``"kmeans"``) or on inputs and target
        (``"kmeans_xy"``), or a random gate drawn in parameter space
        (``"random"``). Hard k-means labels are softened so that EM can move
        away from them. To start from given responsibilities, pass them to
        ``fit`` as ``init_resp``; an array here is deprecated (it fits one
        data set, not the folds of a cross-validation).
        ``"auto"`` starts the first of the ``n_init`` starts from
        ``"kmeans_xy"``, the second from ``"kmeans"``, and so on in turn, and
        the best final log-likelihood decides: regimes that overlap in ``x``
        (two lines through the same inputs) are invisible to k-means on ``x``
        alone, while with fewer experts than levels of ``y`` (a mixture of
        sub-mixtures) k-means on ``x`` and ``y`` splits on ``y`` instead of
        on the regimes.
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
        or a PCA in a Pipeline) and there are more than 12 rows, plain EM otherwise
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
    experts_ : list of estimators
        The fitted experts. Experts cloned from one template are ordered by
        decreasing ``expert_weights_`` (with a ``SoftmaxGate``, whose columns
        are reordered with them).
    named_experts_ : :class:`~sklearn.utils.Bunch`
        The fitted experts by name (``expert0``, ``expert1``... for a template).
    leaf_names_ : ndarray of str
        The names of the leaf experts, in the order of :meth:`leaf_proba`:
        ``"parent/child"`` below nested mixtures (fitted as experts or prefit
        in a FrozenEstimator); the names of :attr:`named_experts_` for a flat
        mixture.
    gate_ : SoftmaxGate or None
        The fitted gate; None when there is a single expert.
    noise_var_ : ndarray of shape (n_experts,)
        Each expert's noise variance. Experts that predict their own spread
        (``predict(X, return_std=True)``, as
        :class:`~sklearn.linear_model.BayesianRidge`) use that instead, row by
        row, in the likelihood and in ``return_std``; for them this is the
        weighted residual variance, for reference.
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
    gate_features_, expert_features_ : ndarray of int
        The columns the gate and the experts see.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    MixtureOfExpertsClassifier : The same model for classification.
    sklearn.ensemble.VotingRegressor : Every model on every row, fixed weights.

    References
    ----------
    M. I. Jordan and R. A. Jacobs (1994). Hierarchical mixtures of experts and
    the EM algorithm. Neural Computation 6(2), 181-214.

    Examples
    --------
    Two regimes, each linear, switching at ``x = 0``:

    >>> import numpy as np
    >>> from skmoe import MixtureOfExpertsRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-3, 3, size=(400, 1))
    >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
    >>> y += 0.1 * rng.standard_normal(400)
    >>> moe = MixtureOfExpertsRegressor(n_experts=2, random_state=0).fit(X, y)
    >>> slopes = sorted(float(e.coef_[0]) for e in moe.experts_)
    >>> [round(s, 1) for s in slopes]
    [-1.0, 2.0]
    >>> moe.predict([[-2.0], [2.0]]).round(1)
    array([-3.,  2.])
    >>> moe.score(X, y) > 0.99
    True

    One line everywhere, and a tree beside a linear expert: plain EM hands
    the tree rows it fits only in sample; cross-fitted (``crossfit="auto"``,
    the default once an expert is flexible), the line keeps them.

    >>> from sklearn.linear_model import LinearRegression
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-2, 2, size=(200, 2))
    >>> y = 1 + 2 * X[:, 0] - X[:, 1] + 0.5 * rng.standard_normal(200)
    >>> experts = [("line", LinearRegression()),
    ...            ("tree", DecisionTreeRegressor(min_samples_leaf=5))]
    >>> shares = {}
    >>> for crossfit in [False, "auto"]:
    ...     moe = MixtureOfExpertsRegressor(experts, crossfit=crossfit, n_init=1,
    ...                                     max_iter=100, random_state=0)
    ...     shares[crossfit] = moe.fit(X, y).expert_weights_[0]
    >>> bool(shares[False] < 0.7), bool(shares["auto"] > 0.85)
    (True, True)
    """

    _parameter_constraints = {
        **_BaseMixtureOfExperts._parameter_constraints,
        "reg_var": [Interval(Real, 0, 1, closed="both")],
    }
    _kind = "regressor"
    _likelihood_attributes = ("noise_var_",)

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
        reg_var=1e-2,
        init_params="auto",
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
        self.reg_var = reg_var
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
        return LinearRegression()

    def _validate_fit_data(self, X, y):
        if y is not None:
            check_regression_target(y)  # before scikit-learn's own checks
        return super()._validate_fit_data(X, y)

    def _check_target(self, X, y, sample_weight):
        y = _numeric_target(y)
        check_magnitude(y, "y")
        mean, var = weighted_mean_and_var(y, sample_weight)
        # A variance within the rounding of y's values means y is constant,
        # and any expert then fits it exactly, up to rounding.
        rounding = target_rounding(mean, var)
        self._constant_target = var <= rounding
        # The floor is relative to the noise, not to var(y) (regimes far apart
        # would lift it above the noise), and never below that rounding
        # error: for a constant or noise-free y it would otherwise be ~1e-308,
        # and residuals of 1e-16 would cost ~1e276 per row.
        if self._constant_target:
            noise = 0.0
        elif "_parent_noise" in self.__dict__:
            # A child in its parent's EM (see _base.share_noise_estimate).
            noise = self._parent_noise
        else:
            noise = nn_noise_variance(X, y, sample_weight)
        self._noise = noise
        self._var_floor = max(self.reg_var * noise, rounding, np.finfo(np.float64).tiny)
        return y, y

    def _check_new_target(self, y, n_samples):
        y = _numeric_target(column_or_1d(y, warn=True))
        if len(y) != n_samples:
            raise ValueError(
                f"y has {len(y)} samples but X has {n_samples}; they must match."
            )
        if not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or inf.")
        check_magnitude(y, "y", new=True)
        return y

    def _warn_if_degenerate(self, data):
        if self._constant_target:
            warn(
                "y is constant: every expert fits it exactly, so the gate has "
                "nothing to learn and log_likelihood_ only reflects the floor "
                "of the noise variance. A regression on a constant target is "
                "better served by sklearn.dummy.DummyRegressor.",
                DegenerateFitWarning,
            )
            return
        exact, bound = self._experts_at_the_floor(data)
        if exact and self._var_floor > self.reg_var * self._noise:
            warn(
                f"Experts {exact} fit their rows exactly and y looks noise-free: "
                "their noise variance is at its floor, the rounding error of "
                f"y's values ({self._var_floor:.3g}), so log_likelihood_ and how "
                "much the gate trusts them are set by rounding, not by the data.",
                DegenerateFitWarning,
            )
        elif exact:
            warn(
                f"Experts {exact} fit their rows exactly: their noise variance "
                "is at its floor reg_var * (noise variance estimate) = "
                f"{self._var_floor:.3g}, so how much the gate trusts them is "
                "set by reg_var, not by the data. If the data are noise-free "
                "there this is expected (a smaller reg_var gives narrower "
                "intervals); otherwise use simpler experts (a shallower tree, "
                "a larger min_samples_leaf), fewer experts or a larger reg_var.",
                DegenerateFitWarning,
            )
        if bound:
            warn(
                f"The noise floor binds on experts {bound}: their residual "
                "variance is below a quarter of the floor reg_var * (noise "
                f"variance estimate) = {self._var_floor:.3g}, so their noise "
                "variance, and the predictive intervals, are wider than their "
                "residuals say. The model-free noise estimate overstates the "
                "noise where regimes of different slopes lie far apart "
                "relative to the noise; lower reg_var (to 1e-4, say) and "
                "compare noise_var_ again.",
                DegenerateFitWarning,
            )

    def _experts_at_the_floor(self, data):
        """Names of the live experts at the variance floor whose weighted
        residuals on the training rows vanish (below a thousandth of the
        floor), and of the linear ones, with many rows per coefficient, whose
        residual variance lies well below it (below a quarter).

        A floor above the true noise (clean data) is not degenerate; residuals
        of zero (an interpolating tree, a rule on noise-free rows) are. A
        linear expert on many rows has honest residuals: a floor far above
        them is the noise estimate's error, not protection from overfitting.
        """
        candidates = [
            i
            for i, expert in enumerate(self.experts_)
            if self.noise_var_[i] <= self._var_floor * (1 + 1e-9)
            and self.expert_weights_[i] >= self.min_expert_weight
            and not (reports_std(expert) or has_own_likelihood(expert))
        ]
        if not candidates:
            return [], []  # the common case needs no extra pass over the data
        Xe, Xg, y = data.Xe, data.Xg, data.y_lik
        means, variances = self._moments(Xe)
        log_resp, _ = self._e_step(Xg, self._log_prob(Xe, y, means, variances))
        resp = np.exp(log_resp)
        raw = noise_variances(
            y[:, np.newaxis] - means, data.sample_weight[:, np.newaxis] * resp, 0.0
        )
        rows = resp.sum(axis=0)
        exact = [i for i in candidates if raw[i] <= 1e-3 * self._var_floor]
        bound = [
            i
            for i in candidates
            if i not in exact
            and raw[i] < self._var_floor / 4
            and isinstance(self.experts_[i], (LinearRegression, Ridge))
            and rows[i] >= ROWS_PER_COEFFICIENT * (Xe.shape[1] + 1)
        ]
        names = self._expert_names
        return [names[i] for i in exact], [names[i] for i in bound]

    def _target_features(self, y):
        return y[:, np.newaxis]

    def _expert_means(self, X):
        """Each expert's prediction, (n, M)."""
        means = np.empty((X.shape[0], len(self.experts_)))
        for i, (name, expert) in enumerate(self._named_experts()):
            with naming(name, expert):
                means[:, i] = predict_mean(expert, X)
        return means

    def _one_expert(self, i, X):
        """Expert ``i``'s mean and variance on the rows of ``X``.

        Experts that predict their own spread give a variance per row (floored
        like the noise); the others have the noise variance EM fitted them.
        """
        expert = self.experts_[i]
        with naming(self._expert_names[i], expert):
            if reports_std(expert):
                mean, var = predict_mean_and_var(expert, X)
                return mean, own_variance(var, self.noise_var_[i], self._var_floor)
            return predict_mean(expert, X), self.noise_var_[i]

    def _moments(self, X, weights=None):
        """Means and variances of the experts, each (n, M).

        With routing ``weights``, an expert is evaluated only on the rows routed
        to it (its other entries are zeros and are weighted by zero).
        """
        shape = (X.shape[0], len(self.experts_))
        if weights is None:
            weights = np.ones(shape)
        means = np.zeros(shape)
        variances = np.broadcast_to(self.noise_var_, shape).copy()
        for i, where, X_rows in routed_blocks(weights, X):
            means[where, i], variances[where, i] = self._one_expert(i, X_rows)
        return means, variances

    def _log_prob(self, X, y, means, variances, n_iter=None):
        log_prob = gaussian_log_prob(y, means, variances)
        for i, (name, expert) in enumerate(self._named_experts()):
            if has_own_likelihood(expert):
                with naming(name, expert, n_iter):
                    log_prob[:, i] = check_output(
                        expert.log_likelihood(X, y),
                        (len(y),),
                        "log-likelihoods",
                        allow="-inf",
                    )
        return log_prob

    def _expert_outputs(self, X, y_lik, n_iter=None):
        """Means (n, M) and, for experts that report their own spread, their
        variances by position; each expert is evaluated once, through
        ``return_std`` where it has one."""
        means, own_var = np.zeros((X.shape[0], len(self.experts_))), {}
        for i, (name, expert) in enumerate(self._named_experts()):
            with naming(name, expert, n_iter):
                if reports_std(expert):
                    means[:, i], own_var[i] = predict_mean_and_var(expert, X)
                else:
                    means[:, i] = predict_mean(*self._through_pipeline(expert, X))
        return means, own_var

    def _fit_likelihood(self, outputs, y_lik, weights):
        means, _ = outputs
        self.noise_var_ = noise_variances(
            y_lik[:, np.newaxis] - means, weights, self._var_floor
        )

    def _expert_log_prob(self, X, y_lik, outputs=None, n_iter=None):
        if outputs is None:
            return self._log_prob(X, y_lik, *self._moments(X))
        means, own_var = outputs
        variances = np.broadcast_to(self.noise_var_, means.shape).copy()
        for i, var in own_var.items():
            variances[:, i] = own_variance(var, self.noise_var_[i], self._var_floor)
        return self._log_prob(X, y_lik, means, variances, n_iter)

    @_one_model
    def predict(self, X, return_std=False, top_k=None):
        """Predict the gate-weighted mean of the experts' predictions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to predict.
        return_std : bool, default=False
            Also return the standard deviation of the predictive mixture: the
            experts' noise plus their disagreement, weighted by the gate.
        top_k : int or None, default=None
            Evaluate only each row's ``top_k`` most trusted experts, with the
            gate renormalised over them; None uses the ``top_k`` parameter.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            ``sum_i g_i(x) mu_i(x)``.
        y_std : ndarray of shape (n_samples,)
            Only with ``return_std=True``.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(200)
        >>> moe = MixtureOfExpertsRegressor(n_init=1, random_state=0).fit(X, y)
        >>> moe.predict([[-2.0], [2.0]]).round(1)
        array([-3.,  2.])
        >>> mean, std = moe.predict([[-2.0], [2.0]], return_std=True)
        >>> bool(np.all(std < 0.2))
        True
        """
        if is_dask_collection(X):
            return predict_blocks(
                self, "predict", X, return_std=return_std, top_k=top_k
            )
        Xe, Xg = self._split(self._validate_predict_data(X))
        weights = self._routing_weights(Xg, top_k)
        mean, var = mixture_mean_and_var(weights, *self._moments(Xe, weights))
        if return_std:
            return mean, np.sqrt(np.maximum(var, 0))
        return mean

    @_one_model
    def _predictive_mixture(self, X):
        """The predictive distribution of each row as a Gaussian mixture.

        Nested mixtures of regressors contribute their own components, weighted
        by this gate (a hierarchical mixture is flattened to its leaves); any
        other expert contributes one Gaussian with the variance ``predict``
        uses in ``return_std``: its noise variance, or its own per-row variance
        if its ``predict`` takes ``return_std``. The gate is routed as in
        ``predict`` (the ``top_k`` parameter).

        Returns
        -------
        weights, means, variances : ndarray of shape (n_samples, n_components)
        """
        Xe, Xg = self._split(self._validate_predict_data(X))
        gate = self._routing_weights(Xg, None)
        parts = []
        for i, where, X_rows in routed_blocks(gate, Xe):
            child = _child_mixture(self.experts_[i])
            if child is not None:
                with naming(self._expert_names[i], child):
                    parts.append((i, where, *child._predictive_mixture(X_rows)))
                continue
            mean, var = self._one_expert(i, X_rows)
            var = np.broadcast_to(var, mean.shape)
            parts.append(
                (i, where, np.ones((len(mean), 1)), mean[:, None], var[:, None])
            )
        return stack_components(gate, parts)

    @_one_model
    def predict_quantiles(self, X, quantiles):
        """Compute quantiles of the predictive distribution, from its exact CDF.

        The predictive distribution is the mixture
        ``p(y | x) = sum_i g_i(x) N(y; mu_i(x), sigma_i^2)`` (nested mixtures
        flattened to their leaves; experts that predict their own spread with
        their variance per row). Its quantiles are found by solving
        ``F(y) = q`` on the mixture CDF ``F`` to about ``1e-10`` standard
        deviations of the narrowest component, for all rows at once. Unlike
        ``mean +/- k * std`` they follow skew and two modes. They are
        model-based: as good as the fitted noise model (see the user guide for
        calibrated, conformal intervals).

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
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(400, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(400)
        >>> moe = MixtureOfExpertsRegressor(random_state=0).fit(X, y)

        On the border the gate hesitates between ``y = 1`` and ``y = 4``: the
        5 %, 50 % and 95 % quantiles follow the two modes, where
        ``mean -/+ 1.645 std`` spreads one wide Gaussian over both:

        >>> moe.predict_quantiles([[0.0]], [0.05, 0.5, 0.95]).round(1)
        array([[0.9, 3.8, 4.1]])
        >>> mean, std = moe.predict([[0.0]], return_std=True)
        >>> np.round([mean - 1.645 * std, mean + 1.645 * std], 1).ravel()
        array([0.1, 5.1])
        """
        quantiles = check_quantiles(quantiles)
        if is_dask_collection(X):
            return predict_blocks(self, "predict_quantiles", X, quantiles=quantiles)
        return mixture_quantiles(*self._predictive_mixture(X), quantiles)

    @_one_model
    def predict_interval(self, X, coverage=0.9):
        """Central prediction interval of the predictive distribution.

        The equal-tailed interval between the ``(1 - coverage) / 2`` and
        ``(1 + coverage) / 2`` quantiles of :meth:`predict_quantiles`. On rows
        where the gate hesitates between experts that disagree, the mixture is
        two-humped and this interval is narrower than ``mean +/- z * std``,
        which assumes one Gaussian. The coverage is model-based: it holds when
        the fitted mixture is the true distribution.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to predict.
        coverage : float, default=0.9
            Probability the interval holds, strictly between 0 and 1.

        Returns
        -------
        interval : ndarray of shape (n_samples, 2)
            Lower and upper ends.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(400, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(400)
        >>> moe = MixtureOfExpertsRegressor(random_state=0).fit(X, y)
        >>> lower, upper = moe.predict_interval(X, coverage=0.9).T
        >>> round(float(np.mean((lower <= y) & (y <= upper))), 2)
        0.9
        """
        coverage = check_coverage(coverage)
        if is_dask_collection(X):
            return predict_blocks(self, "predict_interval", X, coverage=coverage)
        return central_interval(*self._predictive_mixture(X), coverage)

    @_one_model
    def sample_y(self, X, n_samples=1, random_state=None):
        """Draw targets from the predictive distribution.

        For each row and draw, an expert (a leaf, below nested mixtures) is
        picked with the gate's probabilities, then ``y`` is drawn from its
        Gaussian. As in
        :meth:`~sklearn.gaussian_process.GaussianProcessRegressor.sample_y`,
        rows are independent.

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
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(400, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(400)
        >>> moe = MixtureOfExpertsRegressor(random_state=0).fit(X, y)
        >>> draws = moe.sample_y([[-2.0], [2.0]], n_samples=500, random_state=0)
        >>> draws.shape
        (2, 500)
        >>> draws.mean(axis=1).round(1)
        array([-3.,  2.])
        """
        n_samples = check_n_samples(n_samples)
        return sample_mixture(
            *self._predictive_mixture(X), n_samples, random_state=random_state
        )

    @_one_model
    def expert_predictions(self, X):
        """Predict with every expert, for every row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to predict.

        Returns
        -------
        predictions : ndarray of shape (n_samples, n_experts)
            ``predictions[:, i]`` is the prediction of ``experts_[i]``,
            whatever the gate's weight on it.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(200)
        >>> moe = MixtureOfExpertsRegressor(n_init=1, random_state=0).fit(X, y)
        >>> moe.expert_predictions([[-2.0], [2.0]]).round(0)
        array([[ 6., -3.],
               [ 2.,  5.]])
        >>> moe.predict([[-2.0], [2.0]]).round(0)
        array([-3.,  2.])
        """
        Xe, _ = self._split(self._validate_predict_data(X))
        return self._expert_means(Xe)


def _numeric_target(y, owner="MixtureOfExpertsRegressor"):
    """``y`` as float64, or a ValueError saying a regressor needs numbers.
    pandas' missing value (``pd.NA``, in the nullable dtypes) is read as NaN,
    which older pandas would not convert on its own."""
    try:
        if hasattr(y, "to_numpy"):  # a pandas Series or DataFrame
            return y.to_numpy(dtype=np.float64, na_value=np.nan)
        return np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"y must be numeric for {owner}; got dtype "
            f"{np.asarray(y).dtype} ({exc}). For class labels use "
            f"{owner.replace('Regressor', 'Classifier')}."
        ) from exc


def check_regression_target(y, owner="MixtureOfExpertsRegressor"):
    """Refuse a ``y`` that is not numbers, or holds NaN or infinity, by name.

    Before scikit-learn's own check, which tests finiteness before it
    converts objects: a ``None`` in a list became NaN unseen, and the fit
    failed later blaming an expert.
    """
    y = _numeric_target(y, owner)
    if np.isnan(y).any():
        raise ValueError("Input y contains NaN.")
    if np.isinf(y).any():
        raise ValueError("Input y contains infinity.")
