"""A fast M-step for the common experts: LinearRegression, Ridge and
LogisticRegression fitted by their own normal equations or Newton steps.

EM refits every expert at every iteration on new weights ``w_i = sample_weight
* resp[:, i]``. For these three estimators the weighted fit has a known form,
as Jordan & Jacobs (1994) used it: weighted least squares for the linear
experts, iteratively reweighted least squares (Newton's method) for the
logistic ones. Solving that directly skips the estimators' input validation
and general-purpose solvers (L-BFGS for LogisticRegression, restarted at every
EM iteration), which on small data cost far more than the arithmetic.

The experts stay the user's estimator objects: the result is written into
them as their own ``fit`` writes it (``coef_``, ``intercept_``,
``n_features_in_``, ``classes_``, ...), so ``predict``, ``score`` and
``clone`` work as after a fit. The solution is the one the estimator's fit
converges to: the same objective (penalty convention ``C`` or ``alpha``,
intercept unpenalised, binomial for two classes and multinomial for more,
``sample_weight`` multiplying each row's loss), solved to a tighter tolerance.
Options whose objective is not reproduced here (``positive=True``, an l1 or
elastic-net penalty, ``class_weight``, other solvers' conventions) and inputs
other than dense float64 arrays keep the estimator's own ``fit``. So does the
first fit of a lone expert (a mixture of one expert is that estimator, fitted
as it fits itself); in a mixture of several, an expert's first fit checks its
parameters as its ``fit`` would, then is solved here from zero to
convergence.

A Pipeline ending in one of these models
(``make_pipeline(StandardScaler(), LogisticRegression())``) is solved here
too (:func:`fit_pipeline`): EM gives the weights to its last step only, so
its other steps, refitted on the same rows at every M-step, would end where
they began. They are fitted once per EM run, and the last step is solved on
their output (any other last step is fitted on it by its own ``fit``).
"""

import numbers
import weakref
from typing import NamedTuple

import numpy as np
from scipy import linalg
from scipy.special import expit
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    RobustScaler,
    StandardScaler,
)

from ._compat import _get_feature_names, output_config, validate_params
from ._estimators import transform_through
from ._math import logsumexp_rows

# Newton on the logistic objective stops when no entry of the gradient of the
# per-unit-weight objective exceeds this (scikit-learn's lbfgs stops at its
# ``tol``, 1e-4 by default), when a step no longer lowers the objective, or
# after this many steps in one M-step: warm started from the previous M-step,
# it usually needs one to three.
NEWTON_TOL = 1e-10
NEWTON_MAX_ITER = 50

# Newton steps a warm-started expert takes per M-step (EM warm-starts its
# experts from their previous solution). Generalised EM needs each M-step
# only to lower the expert's objective from where it stood, which any damped
# Newton step from the previous solution does; as EM settles, that solution
# is already within one quadratically convergent step of the new optimum, so
# the expert ends at the solution of a full refit (as Jordan & Jacobs'
# IRLS experts did). From zero (a cold start) Newton runs to convergence.
EM_NEWTON_STEPS = 1

# The normal equations square the condition number of the weighted design;
# beyond this ratio of smallest to largest eigenvalue they lose the digits a
# least-squares solver keeps, so the estimator's own fit (SVD-based for
# LinearRegression) takes over.
MIN_EIGENVALUE_RATIO = 1e-9

# Largest number of logistic parameters ((n_features + 1) * n_classes) whose
# Hessian Newton builds; beyond it the estimator's own solver is cheaper.
MAX_NEWTON_PARAMS = 500

# Rows per block when a multinomial Hessian is summed over rows.
HESSIAN_CHUNK = 8192

# Steps that rescale or fill in columns one at a time: a linear model after
# them is still linear in X, with as many coefficients.
COLUMNWISE = (StandardScaler, MinMaxScaler, MaxAbsScaler, RobustScaler, SimpleImputer)

_RIDGE_SOLVERS = ("auto", "cholesky", "svd")
_LOGISTIC_SOLVERS = ("lbfgs", "newton-cg", "newton-cholesky")


def supports_fast_mstep(expert):
    """Whether :func:`fast_mstep` solves ``expert``'s weighted fit itself.

    True for unfitted or fitted instances of exactly
    :class:`~sklearn.linear_model.LinearRegression` (``positive=False``),
    :class:`~sklearn.linear_model.Ridge` (a scalar ``alpha``,
    ``positive=False``, solver ``"auto"``, ``"cholesky"`` or ``"svd"``) and
    :class:`~sklearn.linear_model.LogisticRegression` with its default L2
    penalty (``l1_ratio=0``, finite ``C``, no ``class_weight``, not dual,
    solver ``"lbfgs"``, ``"newton-cg"`` or ``"newton-cholesky"``, no
    deprecated ``penalty`` or ``n_jobs``, ``verbose=0``). Subclasses may
    change ``fit`` and are left to it.

    Parameters
    ----------
    expert : object

    Returns
    -------
    supported : bool

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression, Ridge
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from skmoe._fast_mstep import supports_fast_mstep
    >>> supports_fast_mstep(Ridge(alpha=2.0)), supports_fast_mstep(Ridge(positive=True))
    (True, False)
    >>> supports_fast_mstep(LogisticRegression(class_weight="balanced"))
    False
    >>> supports_fast_mstep(DecisionTreeRegressor())
    False
    """
    if getattr(expert, "_skl_callbacks", None):
        return False  # callbacks expect the estimator's own fit loop
    kind = type(expert)
    if kind not in (LinearRegression, Ridge, LogisticRegression):
        return False
    # The parameters as attributes: get_params inspects the signature, which
    # costs more than this whole check, and it runs at every EM iteration.
    params = expert.__dict__
    if kind is LinearRegression:
        return not params.get("positive", False)
    if kind is Ridge:
        alpha = params.get("alpha")
        return (
            not params.get("positive", False)
            and params.get("solver") in _RIDGE_SOLVERS
            and isinstance(alpha, numbers.Real)
            and alpha >= 0
        )
    C = params.get("C")
    l1_ratio = params.get("l1_ratio")
    return (
        params.get("penalty", "deprecated") == "deprecated"
        and isinstance(l1_ratio, numbers.Real)
        and l1_ratio == 0
        and isinstance(C, numbers.Real)
        and 0 < C < np.inf
        and not params.get("dual", False)
        and params.get("class_weight") is None
        and params.get("solver") in _LOGISTIC_SOLVERS
        and params.get("n_jobs") is None
        and not params.get("verbose", 0)
    )


def fast_mstep(experts, X, y, weights, *, own_first_fit=True, design=None, warm=None):
    """M-step for the experts: expert ``i`` fitted to ``y`` with weights
    ``weights[:, i]``, in place.

    Experts that :func:`supports_fast_mstep` are solved here once fitted;
    an unfitted one is fitted by its own ``fit`` if ``own_first_fit``, else
    its parameters are checked as its ``fit`` checks them and it is solved
    here from zero. Any other expert, or any input that is not a dense
    float64 array (or a target that is not 1-D, or a linear system too
    ill-conditioned for the normal equations), is fitted by its own
    ``fit(X, y, sample_weight=...)``.

    Parameters
    ----------
    experts : list of estimators
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    weights : ndarray of shape (n_samples, n_experts)
        Non-negative row weights, one column per expert, positive somewhere
        in each column.
    own_first_fit : bool, default=True
        Whether an unfitted expert is fitted by its own ``fit``.
    design : LogisticDesign, default=None
        :func:`logistic_design` of these ``X`` and ``y``, made once for the
        many M-steps of an EM run; made here if None.
    warm : bool, default=None
        Whether a fitted logistic expert starts from its last solution (and
        takes ``EM_NEWTON_STEPS``) or from zero (and runs to convergence);
        None: as its ``warm_start`` says.

    Returns
    -------
    experts : list of estimators
        The same objects, fitted.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skmoe._fast_mstep import fast_mstep
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, size=(200, 1))
    >>> y = np.where(X[:, 0] < 0, 2 * X[:, 0], -X[:, 0])
    >>> left = (X[:, 0] < 0).astype(float)
    >>> weights = np.column_stack([left, 1 - left]) + 1e-9
    >>> experts = [LinearRegression(), LinearRegression()]
    >>> a, b = fast_mstep(experts, X, y, weights, own_first_fit=False)
    >>> np.round([a.coef_[0], b.coef_[0]], 3)
    array([ 2., -1.])
    """
    dense = _dense(X, y)
    fitted = []
    for i, expert in enumerate(experts):
        w = weights[:, i]
        done = False
        first = not hasattr(expert, "coef_")
        if dense and not (first and own_first_fit) and supports_fast_mstep(expert):
            if first:
                validate_params(expert)
            if isinstance(expert, LogisticRegression):
                done = _fit_logistic(expert, X, y, w, design, warm)
            else:
                done = _fit_least_squares(expert, X, y, w)
        if not done:
            expert.fit(X, y, sample_weight=w)
        fitted.append(expert)
    return fitted


def _dense(X, y):
    """Whether ``X`` and ``y`` are what the direct solvers take: a dense
    float64 matrix and a 1-D target."""
    return (
        isinstance(X, np.ndarray)
        and X.ndim == 2
        and X.dtype == np.float64
        and isinstance(y, np.ndarray)
        and y.ndim == 1
    )


def _forget_feature_names(expert, n_features):
    """What ``fit`` on an unnamed array sets about the input columns."""
    expert.n_features_in_ = n_features
    if hasattr(expert, "feature_names_in_"):
        del expert.feature_names_in_


# ---- linear experts ---------------------------------------------------------


def _fit_least_squares(expert, X, y, w):
    """Weighted least squares (Ridge: plus ``alpha * ||coef||^2``), centred
    on the weighted means when fitting an intercept, as scikit-learn does.

    Returns False, leaving ``expert`` untouched, when the normal equations
    are too ill-conditioned to match the estimator's own solver, or when
    there are more features than rows (see :func:`_wide`).
    """
    mass = w.sum()
    if not mass > 0 or _wide(X, w, expert.fit_intercept):
        return False
    if expert.fit_intercept:
        mean_x = (w @ X) / mass
        mean_y = (w @ y) / mass
        Xc = X - mean_x
        yc = y - mean_y
    else:
        Xc, yc = X, y
    Xw = Xc * w[:, np.newaxis]
    Sxx = Xw.T @ Xc
    Sxy = Xw.T @ yc
    alpha = float(expert.alpha) if isinstance(expert, Ridge) else 0.0
    system = Sxx + alpha * np.eye(len(Sxx))
    eigenvalues = linalg.eigvalsh(system)
    if (
        not eigenvalues[-1] > 0
        or eigenvalues[0] < MIN_EIGENVALUE_RATIO * (eigenvalues[-1])
    ):
        return False
    coef = linalg.solve(system, Sxy, assume_a="pos")
    expert.coef_ = coef
    expert.intercept_ = float(mean_y - mean_x @ coef) if expert.fit_intercept else 0.0
    _forget_feature_names(expert, X.shape[1])
    if isinstance(expert, LinearRegression):
        # The singular values of the weighted, centred design, as lstsq
        # reports them; with the conditioning required above, full rank.
        expert.singular_ = np.sqrt(np.clip(eigenvalues[::-1], 0.0, None))
        expert.rank_ = X.shape[1]
    else:
        expert.n_iter_ = None
        expert.solver_ = "cholesky" if expert.solver == "auto" else expert.solver
    return True


def _wide(X, w, fit_intercept):
    """Whether the design has more columns than the rows that carry weight
    can span (one fewer once centred for an intercept).

    Its normal equations are then ``n_features`` square and at most of the
    rows' rank: singular without a penalty (LinearRegression's own lstsq
    gives the minimum-norm solution), and for Ridge larger than the
    ``n_samples`` square system its own solver uses instead. Deciding from
    the shapes skips forming them and the eigen-decomposition that would
    only find this out: 70 ms per M-step at 100 rows of 1,000 features.
    """
    rows = np.count_nonzero(w > 0) - int(bool(fit_intercept))
    return X.shape[1] > rows


# ---- Pipelines ----------------------------------------------------------------


def supports_pipeline_mstep(expert):
    """Whether :func:`fit_pipeline` may fit ``expert``'s steps before the
    last once per EM run.

    True for a :class:`~sklearn.pipeline.Pipeline` without ``memory`` (which
    would clone the steps), ``verbose`` or ``transform_input``. EM gives the
    row weights to a Pipeline's last step (as ``<last>__sample_weight``), so
    the steps before it see the same unweighted rows at every M-step.

    Parameters
    ----------
    expert : object

    Returns
    -------
    supported : bool

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skmoe._fast_mstep import supports_pipeline_mstep
    >>> scaled = make_pipeline(StandardScaler(), LogisticRegression())
    >>> printing = make_pipeline(StandardScaler(), LogisticRegression(), verbose=True)
    >>> supports_pipeline_mstep(scaled), supports_pipeline_mstep(printing)
    (True, False)
    """
    if type(expert) is not Pipeline:
        return False
    params = expert.__dict__
    return not (
        params.get("memory") is not None
        or params.get("verbose")
        or params.get("transform_input") is not None
    )


def scales_columns_only(pipeline):
    """Whether every step of ``pipeline`` before its last is "passthrough"
    or exactly one of :data:`COLUMNWISE` (whose ``fit_transform`` is its
    ``fit`` then its ``transform``)."""
    return all(_columnwise(step) for _, step in pipeline.steps[:-1])


def _columnwise(step):
    return (
        step is None
        or (isinstance(step, str) and step == "passthrough")
        or (type(step) in COLUMNWISE)
    )


class PipelineInputs(NamedTuple):
    """What :func:`fit_pipeline` keeps of a Pipeline for the M-steps of an
    EM run: the rows its first steps were fitted on, and their output."""

    X: object  # the Pipeline's input, (n, d)
    y: np.ndarray  # (n,)
    Xt: object  # the first steps' fit_transform: the last step's fit input
    Xp: object  # their transform: the last step's input in the Pipeline's predict
    design: object  # logistic_design(Xt, y) for a logistic last step, else None
    names: object  # the column names of a DataFrame Xt the last step keeps, or None
    key: object  # _columnwise_key of the first steps, or None


def fit_pipeline(pipeline, X, y, w, inputs):
    """M-step of a Pipeline that :func:`supports_pipeline_mstep`, in place.

    EM gives the weights to the last step only (``<last>__sample_weight``),
    so the steps before it would be refitted on the same unweighted rows at
    every M-step and end where they began. The first M-step on ``X`` fits
    them as ``Pipeline.fit`` does and keeps their output in ``inputs``; each
    M-step then fits the last step on that output with :func:`fast_mstep`
    (a LinearRegression, Ridge or LogisticRegression solved directly, from
    its previous solution; any other by its own ``fit``). What ``inputs``
    keeps changes no result: without it the first steps are refitted, to
    the same numbers (given their ``random_state``).

    Parameters
    ----------
    pipeline : Pipeline
    X : array-like of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    w : ndarray of shape (n_samples,)
        The last step's row weights.
    inputs : dict
        :class:`PipelineInputs` by Pipeline, kept by the caller for one EM
        run (a :class:`RunMemo`).

    Returns
    -------
    pipeline : Pipeline
        The same object, fitted.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skmoe._fast_mstep import fit_pipeline
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, size=(200, 1)) * 1000
    >>> y = np.where(X[:, 0] < 0, 2 * X[:, 0], -X[:, 0])
    >>> left = (X[:, 0] < 0) + 1e-9
    >>> pipeline = make_pipeline(StandardScaler(), LinearRegression())
    >>> _ = fit_pipeline(pipeline, X, y, left, inputs={})
    >>> round(float(pipeline.predict([[-500.0]])[0]), 3)
    -1000.0
    """
    kept = inputs.get(pipeline)
    if kept is None or kept.X is not X or kept.y is not y:
        kept = inputs[pipeline] = _fit_first_steps(
            pipeline, X, y, list(inputs.values())
        )
    last = pipeline.steps[-1][1]
    fast_mstep(
        [last],
        kept.Xt,
        y,
        w[:, np.newaxis],
        own_first_fit=False,
        design=kept.design,
        # As EM warm-starts the experts it refits (a Pipeline has no
        # warm_start of its own): from zero only when not yet fitted.
        warm=True,
    )
    if kept.names is not None:
        last.feature_names_in_ = kept.names
    return pipeline


def _fit_first_steps(pipeline, X, y, others=()):
    """Fit the steps of ``pipeline`` before its last, in place, as
    ``Pipeline.fit`` does; return their :class:`PipelineInputs`.

    Column-wise first steps configured as those of another Pipeline in
    ``others`` (the :class:`PipelineInputs` of the run), fitted on the same
    rows, give the same output: it is shared, not kept once per expert
    (cloned scaled experts would each hold a copy of ``X``).
    """
    last = pipeline.steps[-1][1]
    logistic = isinstance(last, LogisticRegression) and supports_fast_mstep(last)
    key = _columnwise_key(pipeline, logistic)
    if len(pipeline.steps) == 1:
        Xt = Xp = X
    else:
        # A slice shares the step objects (no memory: no clones) and checks
        # them as Pipeline.fit does.
        first = pipeline[:-1]
        same = [o for o in others if o.key == key and o.X is X and o.y is y]
        if key is not None and same:
            first.fit(X, y)
            return same[0]
        Xt = first.fit_transform(X, y)
        Xp = Xt if key is not None else transform_through(first, X)
    names = None
    if supports_fast_mstep(last) and _float_frame(Xt):
        # Steps set to output pandas: solved on the frame's values, the last
        # step keeps its column names as its fit on the frame would.
        names, Xt = _get_feature_names(Xt), Xt.to_numpy(dtype=np.float64)
    design = logistic_design(Xt, y) if solves_logistic([last], Xt, y) else None
    return PipelineInputs(X, y, Xt, Xp, design, names, key)


def _columnwise_key(pipeline, logistic):
    """What makes two Pipelines' column-wise first steps give the same output
    on the same rows (their classes, parameters and output containers, and
    whether the run keeps a logistic design for the last step), or None
    when some first step is not column-wise."""
    if not scales_columns_only(pipeline):
        return None
    return (
        logistic,
        *(
            (type(step), repr(step), repr(output_config(step)))
            for _, step in pipeline.steps[:-1]
        ),
    )


def _float_frame(X):
    """Whether ``X`` is a pandas DataFrame of float64 columns."""
    dtypes = getattr(X, "dtypes", None)
    return (
        hasattr(X, "to_numpy")
        and dtypes is not None
        and getattr(X, "ndim", 0) == 2
        and all(dtype == np.float64 for dtype in dtypes)
    )


# ---- logistic experts -------------------------------------------------------


class RunMemo(weakref.WeakKeyDictionary):
    """A ``WeakKeyDictionary`` that pickles as an empty one.

    It keeps, by estimator, what the M-steps of one EM run reuse (a Newton
    run's last terms, a Pipeline's scaled columns), all of which an M-step
    rebuilds when missing. A process backend pickles the runs of the starts
    it ran, and weak references do not pickle.

    Examples
    --------
    >>> import pickle
    >>> from sklearn.linear_model import Ridge
    >>> from skmoe._fast_mstep import RunMemo
    >>> expert = Ridge()
    >>> memo = RunMemo({expert: "kept"})
    >>> len(memo), len(pickle.loads(pickle.dumps(memo)))
    (1, 0)
    """

    def __reduce__(self):
        return type(self), ()


class LogisticDesign(NamedTuple):
    """What every logistic M-step of an EM run computes from ``X`` and ``y``
    alone, which do not change between iterations."""

    X: np.ndarray  # (n, d)
    y: np.ndarray  # (n,)
    classes: np.ndarray  # (C,), sorted
    targets: object  # (n, 1) for two classes, one-hot (n, C) for more; None for one
    Z: np.ndarray  # X with a last column of ones, (n, d + 1)
    # expert -> the memo of its last Newton run (see _newton); weakly held,
    # so the memo of an expert EM dropped (a rejected jump's) goes with it.
    memos: RunMemo

    def matches(self, X, y):
        """Whether this design was made from these very arrays."""
        return self.X is X and self.y is y


def logistic_design(X, y):
    """The :class:`LogisticDesign` of dense ``X`` and 1-D ``y``."""
    classes = np.unique(y)
    if len(classes) == 2:
        targets = (y == classes[1]).astype(np.float64)[:, np.newaxis]
    elif len(classes) > 2:
        targets = (y[:, np.newaxis] == classes).astype(np.float64)
    else:
        targets = None
    Z = np.hstack([X, np.ones((len(X), 1))])
    return LogisticDesign(X, y, classes, targets, Z, RunMemo())


def solves_logistic(experts, X, y):
    """Whether :func:`fast_mstep` would solve some of ``experts`` as logistic
    regressions on ``X`` and ``y``: then a :func:`logistic_design` pays."""
    return _dense(X, y) and any(
        isinstance(expert, LogisticRegression) and supports_fast_mstep(expert)
        for expert in experts
    )


def expert_penalty(expert):
    """What a fitted expert's weighted fit subtracts from its log-likelihood
    summed over rows: ``||coef||^2 / (2 C)`` for a LogisticRegression with
    the plain L2 objective, else 0.

    EM's M-steps maximise each expert's weighted log-likelihood less this
    penalty, so what EM climbs is the mixture's log-likelihood less the
    experts' (and the gate's) penalties. The L2 objective is the one solved
    here (:func:`supports_fast_mstep`), or, before scikit-learn 1.8, the
    default ``penalty="l2"`` with an unpenalised intercept (not liblinear's)
    and unweighted classes. Ridge's penalty is left out: it is on the squared
    error, so in units of the likelihood it would depend on the noise
    variance, whose update does not include it; EM with Ridge experts is
    judged on its log-likelihood. A Pipeline pays its last step's penalty:
    EM's weights go to that step.
    """
    if isinstance(expert, Pipeline):
        expert = expert.steps[-1][1]
    if type(expert) is not LogisticRegression or not hasattr(expert, "coef_"):
        return 0.0
    if supports_fast_mstep(expert) or _plain_l2(expert.__dict__):
        return float(np.vdot(expert.coef_, expert.coef_)) / (2.0 * expert.C)
    return 0.0


def _plain_l2(params):
    """Whether LogisticRegression's parameters ``params`` name the L2
    objective by the ``penalty`` of scikit-learn before 1.8."""
    C = params.get("C")
    return (
        params.get("penalty") == "l2"
        and isinstance(C, numbers.Real)
        and 0 < C < np.inf
        and params.get("class_weight") is None
        and params.get("solver") != "liblinear"
        and not params.get("dual", False)
    )


def _fit_logistic(expert, X, y, w, design=None, warm=None):
    """L2-penalised weighted logistic regression by damped Newton steps.

    The objective is scikit-learn's: ``sum_t w_t loss_t + ||coef||^2 / (2 C)``
    with the intercept unpenalised, binomial (one logit for ``classes_[1]``)
    for two classes and multinomial (one logit per class, every class's
    coefficients penalised) for more. Newton starts from the expert's last
    solution when it is warm-started, and then takes at most
    ``EM_NEWTON_STEPS`` steps (generalised EM); from zero it runs to
    convergence.

    Returns False, leaving ``expert`` untouched, when the problem is not one
    this solves (a single class, too many parameters).
    """
    if design is None or not design.matches(X, y):
        design = logistic_design(X, y)
    classes = design.classes
    n_classes = len(classes)
    n_features = X.shape[1]
    binary = n_classes == 2
    n_logits = 1 if binary else n_classes
    q = n_features + int(expert.fit_intercept)
    if n_classes < 2 or q * n_logits > MAX_NEWTON_PARAMS:
        return False
    Z = design.Z if expert.fit_intercept else X
    targets = design.targets
    W, warm = _logistic_start(expert, classes, q, n_logits, warm)
    # The per-unit-weight objective, as scikit-learn's solvers see it.
    total = w.sum()
    weight = w / total
    alpha = 1.0 / (expert.C * total)
    penalised = np.zeros((q, n_logits), dtype=bool)
    penalised[:n_features] = True
    max_iter = EM_NEWTON_STEPS if warm else NEWTON_MAX_ITER
    memo = design.memos.setdefault(expert, {})
    W, n_iter = _newton(
        W, Z, targets, weight, alpha, penalised, binary, max_iter, memo=memo
    )
    coef, intercept = W[:n_features].T, W[n_features:].ravel()
    if expert.fit_intercept and not binary:
        # Softmax ignores a constant added to every intercept; the solvers
        # of scikit-learn end on the zero-sum one.
        intercept = intercept - intercept.mean()
    expert.classes_ = classes
    expert.coef_ = np.ascontiguousarray(coef)
    expert.intercept_ = intercept if expert.fit_intercept else np.zeros(n_logits)
    expert.n_iter_ = np.array([n_iter], dtype=np.int32)
    _forget_feature_names(expert, n_features)
    return True


def _logistic_start(expert, classes, q, n_logits, warm=None):
    """``(W, warm)``: the expert's previous solution as (q, n_logits) and
    True, if warm-started (``warm``, or if None its ``warm_start``) on the
    same classes and features; zeros and False otherwise."""
    coef = getattr(expert, "coef_", None)
    previous = getattr(expert, "classes_", None)
    n_features = q - int(expert.fit_intercept)
    if (
        (expert.warm_start if warm is None else warm)
        and coef is not None
        and previous is not None
        and np.array_equal(previous, classes)
        and coef.shape == (n_logits, n_features)
    ):
        W = np.zeros((q, n_logits))
        W[:n_features] = coef.T
        if expert.fit_intercept:
            W[n_features] = expert.intercept_
        return W, True
    return np.zeros((q, n_logits)), False


def _logistic_terms(W, Z, binary):
    """What the loss at ``W`` (q, L) takes from ``W`` and ``Z`` alone: the
    linear predictor ``eta`` (n, L), each row's log-normaliser (n,) and the
    class probabilities (n, L). The weights and targets enter only after."""
    eta = Z @ W
    if binary:
        # log(1 + exp(eta)), stable for large |eta|.
        return eta, np.logaddexp(0.0, eta[:, 0]), expit(eta)
    # A max-shifted sum: numpy's logaddexp.reduce takes 2-4x as long on
    # the (n, C) arrays of ten classes.
    log_norm = logsumexp_rows(eta)
    return eta, log_norm, np.exp(eta - log_norm[:, np.newaxis])


def _logistic_loss(W, Z, targets, weight, alpha, penalised, binary, terms=None):
    """Penalised loss, gradient and class probabilities at ``W`` (q, L);
    ``terms`` are :func:`_logistic_terms` of ``W`` and ``Z`` when known."""
    eta, log_norm, proba = _logistic_terms(W, Z, binary) if terms is None else terms
    if binary:
        loss = weight @ (log_norm - targets[:, 0] * eta[:, 0])
    else:
        loss = weight @ (log_norm - np.einsum("nk,nk->n", targets, eta))
    coef = W * penalised
    loss += 0.5 * alpha * np.vdot(coef, coef)
    grad = Z.T @ (weight[:, np.newaxis] * (proba - targets)) + alpha * coef
    return loss, grad, proba


def _logistic_hessian(Z, proba, weight, alpha, penalised, binary):
    """Hessian of :func:`_logistic_loss`, flattened to (q L, q L) in the
    order of ``W.ravel()`` (entry ``(a, j)`` at ``a * L + j``)."""
    if binary:
        h = weight * proba[:, 0] * (1.0 - proba[:, 0])
        H = Z.T @ (Z * h[:, np.newaxis])
    else:
        n, q = Z.shape
        L = proba.shape[1]
        # sum_t w_t (diag(p_t) - p_t p_t^T) kron z_t z_t^T, the outer
        # products summed over blocks of rows: one (rows, q L) array at a
        # time, not one for all n rows (2.3 GiB at a million rows of 5
        # features and 50 classes).
        H = np.zeros((q * L, q * L))
        root = np.sqrt(weight)
        for start in range(0, n, HESSIAN_CHUNK):
            rows = slice(start, start + HESSIAN_CHUNK)
            zp = (root[rows, np.newaxis] * Z[rows])[:, :, np.newaxis] * proba[
                rows, np.newaxis, :
            ]
            zp = zp.reshape(-1, q * L)
            H -= zp.T @ zp
        for j in range(L):
            H[j::L, j::L] += Z.T @ (Z * (weight * proba[:, j])[:, np.newaxis])
    H.flat[:: len(H) + 1] += alpha * penalised.ravel()  # the diagonal
    return H


def _newton(
    W,
    Z,
    targets,
    weight,
    alpha,
    penalised,
    binary,
    max_iter=NEWTON_MAX_ITER,
    tol=NEWTON_TOL,
    memo=None,
):
    """Damped Newton with a backtracking line search; returns ``(W, n_iter)``.

    At most ``max_iter`` steps, stopping early once no gradient entry exceeds
    ``tol``. Every step lowers the objective (or none is taken), so a
    capped run never ends above its start.

    For several classes the intercepts are determined only up to a common
    constant, which leaves the Hessian singular in one direction. The
    gradient is orthogonal to that direction, and so is the step solved with
    the rank-one term that pins the intercepts' sum: it is the exact Newton
    step of the identified problem.

    ``memo`` is a dict the caller keeps between calls on the same ``Z``: it
    holds the solution of the last call with its :func:`_logistic_terms`.
    EM's next M-step starts from that solution with new weights, and the
    terms do not depend on the weights, so its first evaluation of the loss
    only re-weights them (the same numbers, one pass over ``Z`` fewer).
    """
    terms = _recall(memo, W, Z, binary)
    if terms is None:
        terms = _logistic_terms(W, Z, binary)
    W, n_iter, terms = _newton_steps(
        W, Z, targets, weight, alpha, penalised, binary, max_iter, tol, terms
    )
    if memo is not None:
        # A copy: the caller may hand out views of W (an expert's coef_).
        # The probabilities follow from the rest by one exp, so they are
        # not kept: a memo per expert lives through the EM run.
        memo.update(W=W.copy(), Z=Z, terms=terms[:2])
    return W, n_iter


def _recall(memo, W, Z, binary):
    """The terms ``memo`` keeps for this very ``W`` and ``Z``, else None."""
    if not (memo and memo["Z"] is Z and np.array_equal(memo["W"], W)):
        return None
    eta, log_norm = memo["terms"]
    # As _logistic_terms computes them, to the bit.
    proba = expit(eta) if binary else np.exp(eta - log_norm[:, np.newaxis])
    return eta, log_norm, proba


def _newton_steps(
    W, Z, targets, weight, alpha, penalised, binary, max_iter, tol, terms
):
    """:func:`_newton`'s iterations from ``W`` with its ``terms``; returns
    ``(W, n_iter, terms)``, the terms those of the returned ``W``."""
    q, L = W.shape
    gauge = None
    if not binary and not penalised[-1, 0]:
        gauge = np.zeros((q, L))
        gauge[-1] = 1.0 / np.sqrt(L)
        gauge = gauge.ravel()
    loss, grad, proba = _logistic_loss(
        W, Z, targets, weight, alpha, penalised, binary, terms
    )
    for n_iter in range(max_iter):
        if np.max(np.abs(grad)) <= tol:
            return W, n_iter, terms
        H = _logistic_hessian(Z, proba, weight, alpha, penalised, binary)
        if gauge is not None:
            H += np.outer(gauge, gauge)
        try:
            # numpy's solver: scipy's checks cost more than this small system.
            step = np.linalg.solve(H, grad.ravel())
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, grad.ravel(), rcond=None)[0]
        step = step.reshape(W.shape)
        slope = np.vdot(grad, step)
        t = 1.0
        while True:
            W_new = W - t * step
            new_terms = _logistic_terms(W_new, Z, binary)
            new = _logistic_loss(
                W_new, Z, targets, weight, alpha, penalised, binary, new_terms
            )
            if new[0] <= loss - 1e-4 * t * slope or t < 1e-10:
                break
            t *= 0.5
        if new[0] >= loss:
            # No descent left at machine precision: the gradient is at its
            # rounding floor (features far from 0 or of unequal scales).
            return W, n_iter + 1, terms
        W, terms, (loss, grad, proba) = W_new, new_terms, new
    return W, max_iter, terms
