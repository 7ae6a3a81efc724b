"""Cross-fitting: experts compared on what they would score on new rows.

EM compares the experts by their likelihood on the training rows, which
rewards in-sample fit: a tree or a nearest-neighbours expert explains the
rows it was fitted on better than a linear expert does, even where both
generalise alike, so it wins them, and the mixture generalises like the tree.

The remedy is a complexity-aware likelihood. The E-step scores expert ``i``
on row ``j`` by ``log p_i(y_j | x_j) - optimism_i``: its in-sample
log-likelihood minus its optimism per row, the amount by which its in-sample
log-likelihood exceeds what it scores on rows it did not see (Efron's
covariance penalty; AIC's ``k / n`` for a model of ``k`` parameters). Once
some expert is *flexible* (its complexity adapts to the data), the optimism
of every expert EM refits is measured: the rows are split into ``v`` folds
once per fit, and at every M-step, for each fold, a copy of the expert is
fitted on the other folds' rows (with the current responsibilities as
weights) and predicts the held-out fold; the optimism is the
responsibility-weighted mean of in-sample minus out-of-fold log-likelihood.
The experts and their likelihood parameters the mixture keeps are fitted on
all rows.

Benchmarks (``benchmarks/FLEXIBLE.md``) compared this with scoring each row
by its out-of-fold likelihood directly (``SCORE = "oof"``: noisier per row,
so a confident tree still wins the rows it happens to get right), with
AIC's ``k / n`` for the linear and logistic experts (``SCOPE =
"flexible"``: as good and cheaper on small inputs, but AIC counts every
coefficient of a penalised model, and on many features it priced the
logistic expert out of every row) and with choosing the number of plain EM
iterations on a held-out split.

This is no longer exact EM: the log-likelihood recorded at each iteration is
the penalised one, which need not increase monotonically; EM stops when it
changes by less than ``tol`` or has not improved for ``PATIENCE`` iterations.
The cost is ``v`` extra fits of each flexible expert per iteration (on
``(v - 1) / v`` of the rows), one prediction of each copy on its fold, and
two extra evaluations of the experts' likelihood.
"""

from contextlib import contextmanager
from copy import deepcopy
from numbers import Integral
from typing import NamedTuple

import numpy as np
from sklearn import get_config
from sklearn.base import clone
from sklearn.decomposition import PCA, IncrementalPCA, TruncatedSVD
from sklearn.pipeline import Pipeline

from ._compat import _check_method_params
from ._complexity import (
    InformationCriteriaMixin,
    expert_parameters,
)
from ._estimators import (
    fit_mode,
    has_own_likelihood,
    is_fixed,
    naming,
    same_type_error,
    shallow_copy,
    transform_through,
)
from ._experts import MIN_HARD_ROWS, fitting, run_fit_jobs
from ._fast_mstep import COLUMNWISE, PipelineInputs, supports_pipeline_mstep
from ._validation import read_only

__all__ = [
    "AUTO_FOLDS",
    "PATIENCE",
    "assign_folds",
    "crossfit_columns",
    "crossfit_folds",
    "crossfit_outputs",
    "is_flexible",
    "may_wander",
    "optimism",
    "refuse_out_of_core",
    "splice_outputs",
    "stalled",
]

# Folds of crossfit="auto": each copy sees 80 % of the rows, so its
# out-of-fold error is close to that of the expert fitted on all of them.
AUTO_FOLDS = 5

# Iterations without a new best cross-fitted log-likelihood after which EM
# stops: the out-of-fold scores of a tree jump when a split moves, so the
# curve may wander by more than tol without going anywhere.
PATIENCE = 10

# Which experts are cross-fitted once one is flexible: "flexible" (only
# those: the others pay AIC's k / n) or "learning" (all that EM refits, the
# default). AIC counts every coefficient, which overstates the optimism of a
# penalised model with many of them: a LogisticRegression(C=1) on digits (650
# coefficients, 270 rows) paid 2.4 nats per row, lost every row to the tree
# and the mixture fell to 0.64-0.86 accuracy against 0.91-0.95 for the
# logistic expert alone; measured out of fold, it keeps them (0.91-0.95).
SCOPE = "learning"

# How the E-step scores the cross-fitted experts: "oof" (each row by the
# copy that did not see it) or "penalized" (in sample, minus the expert's
# optimism). Benchmarks compare the two.
SCORE = "penalized"

# Steps whose output is an affine map of their input learnt without y (or,
# for the imputer, the input itself where present): a linear model after
# them is a linear model of X with at most as many coefficients as columns.
LINEAR_MAPS = (*COLUMNWISE, PCA, IncrementalPCA, TruncatedSVD)


def _is_linear(expert):
    """Whether ``expert`` is one of scikit-learn's linear models, alone or
    after :data:`LINEAR_MAPS` (scaling, imputation, a projection) in a
    Pipeline."""
    if isinstance(expert, Pipeline):
        *head, (_, last) = expert.steps
        mapped = all(
            step is None or step == "passthrough" or isinstance(step, LINEAR_MAPS)
            for _, step in head
        )
        return mapped and _is_linear(last)
    # By class, as isinstance: a subclass of LinearRegression is linear too.
    return any(
        cls.__module__.startswith("sklearn.linear_model")
        for cls in type(expert).__mro__
    )


def is_flexible(expert):
    """Whether ``expert`` adapts its complexity to the data.

    Parameters
    ----------
    expert : estimator
        An expert, fitted or not.

    Returns
    -------
    flexible : bool
        False for scikit-learn's linear models (LinearRegression, Ridge,
        Lasso, LogisticRegression, RidgeClassifier...: as many coefficients
        as columns, whatever the data), alone or after a scaler, an imputer
        or a projection (PCA, TruncatedSVD) in a Pipeline, for fixed experts
        (prefit models, rules) and for nested mixtures; True for the rest
        (trees, neighbours, kernel machines, boosting, pipelines that expand
        the features).
    """
    if is_fixed(expert) or isinstance(expert, InformationCriteriaMixin):
        return False
    return not _is_linear(expert)


def _learns(expert):
    """Whether EM refits ``expert`` and reads its likelihood from its output."""
    return not (is_fixed(expert) or has_own_likelihood(expert))


def crossfit_columns(experts, crossfit, scope=None):
    """Positions of the experts the E-step scores out of fold.

    Parameters
    ----------
    experts : list of estimators
    crossfit : "auto", bool, int or None
        The mixture's parameter. ``"auto"`` cross-fits once some expert is
        flexible; True or an int always; False or None never.
    scope : {"learning", "flexible"} or None, default=None
        Which experts: every expert EM refits, or only the flexible ones;
        None reads ``SCOPE``.

    Returns
    -------
    columns : list of int
        Empty when EM runs plain.
    """
    if crossfit is None or crossfit is False:
        return []
    learning = [i for i, expert in enumerate(experts) if _learns(expert)]
    flexible = [i for i in learning if is_flexible(experts[i])]
    if crossfit == "auto" and not flexible:
        return []
    if (scope or SCOPE) == "flexible" and flexible:
        return flexible
    return learning


def n_folds(crossfit):
    """The number of folds the parameter asks for."""
    if crossfit == "auto" or crossfit is True:
        return AUTO_FOLDS
    return int(crossfit)


def assign_folds(n_folds, sample_weight, strata, rng):
    """A fold for every row, stratified by ``strata`` if given.

    Only rows of positive weight are dealt out, so that a row of weight zero
    is absent, as everywhere else in the mixture: it is in no training fold,
    and is predicted by the copies of fold 0. Within each stratum the rows
    are shuffled and dealt round-robin, continuing from one stratum to the
    next, so that the folds differ in size by one row at most.

    Parameters
    ----------
    n_folds : int
    sample_weight : ndarray of shape (n,)
    strata : ndarray of shape (n,) or None
        Class positions, say; None shuffles all rows together.
    rng : numpy.random.RandomState

    Returns
    -------
    folds : ndarray of int of shape (n,)
        In ``range(n_folds)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmoe._crossfit import assign_folds
    >>> folds = assign_folds(2, np.ones(6), np.array([0, 0, 0, 0, 1, 1]),
    ...                      np.random.RandomState(0))
    >>> np.bincount(folds).tolist()
    [3, 3]
    """
    present = np.flatnonzero(sample_weight > 0)
    order = present[rng.permutation(len(present))]
    if strata is not None:
        order = order[np.argsort(strata[order], kind="stable")]
    folds = np.zeros(len(sample_weight), dtype=np.intp)
    folds[order] = np.arange(len(order)) % n_folds
    return folds


def crossfit_folds(mixture, templates, sample_weight, strata, rng):
    """The folds of one fit, or None when EM runs plain.

    Drawn from ``rng`` only when cross-fitting, so that a mixture that does
    not cross-fit draws the same random numbers as before. ``"auto"`` does
    not cross-fit when a fold's copy would have fewer than ``MIN_HARD_ROWS``
    rows of positive weight to fit on (at most 12 rows in all, with 5 folds),
    or rows of a single class.

    Raises
    ------
    ValueError
        If ``crossfit`` asks for more folds than there are rows of positive
        weight.
    """
    if not crossfit_columns(templates, mixture.crossfit):
        return None
    n_present = int(np.count_nonzero(sample_weight > 0))
    v = n_folds(mixture.crossfit)
    if isinstance(mixture.crossfit, Integral) and not isinstance(
        mixture.crossfit, bool
    ):
        if v > n_present:
            raise ValueError(
                f"'crossfit' asks for {v} folds, but only {n_present} rows have "
                "a positive sample_weight; use at most that many folds, or "
                "crossfit=False."
            )
    elif mixture.crossfit == "auto" and n_present * (v - 1) < v * MIN_HARD_ROWS:
        # Too few rows to fit a copy on (v - 1) / v of them: a
        # KNeighborsRegressor alone fits 6 rows, its copies would get 4.
        return None
    elif mixture.crossfit == "auto" and _a_copy_would_see_one_class(
        strata, sample_weight
    ):
        return None
    else:
        v = min(v, n_present)  # tiny data: one row per fold
    if v < 2:
        return None
    return assign_folds(v, sample_weight, strata, rng)


def _a_copy_would_see_one_class(strata, sample_weight):
    """Whether some fold's copies would be fitted on rows of a single class.

    Stratified folds deal each class's rows out in turn, so a class on one
    row (of positive weight) is missing from one fold's training rows only.
    That leaves a single class there when it is one of two classes: a
    minority of one row, which a logistic expert alone fits, but not its
    copy.
    """
    if strata is None:
        return False
    counts = np.bincount(strata[sample_weight > 0])
    counts = counts[counts > 0]
    return len(counts) == 2 and counts.min() == 1


def may_wander(experts):
    """Whether EM's log-likelihood may wander without settling.

    A flexible expert's refit is not an ascent step: a tree's split or a
    boosting model's bins move with the weights, so the curve can jump by
    more than ``tol`` from one iteration to the next for ever, cross-fitted
    or not. Nor is the refit of a linear model trained by stochastic steps
    (SGD, Perceptron), which goes on from its last weights with new noise:
    with three Perceptron experts half the steps went down and EM ran to
    ``max_iter``. EM then stops when it stalls (see :func:`stalled`).
    """
    stochastic = any(_learns(e) and _trained_stochastically(e) for e in experts)
    return stochastic or bool(crossfit_columns(experts, "auto"))


def _trained_stochastically(expert):
    """Whether ``expert`` (or a Pipeline's last step) learns by stochastic
    gradient steps, as the estimators with ``partial_fit`` do, rather than
    solving its weighted fit."""
    last = expert.steps[-1][1] if isinstance(expert, Pipeline) else expert
    return hasattr(last, "partial_fit")


def refuse_out_of_core(crossfit):
    """Raise if ``crossfit`` asks for cross-fitting of a Dask collection.

    Out-of-core EM takes linear and logistic experts only, which
    ``crossfit="auto"`` never cross-fits; cross-fitting them on purpose would
    need a pass over the blocks per fold.
    """
    if crossfit is True or (
        isinstance(crossfit, Integral) and not isinstance(crossfit, bool)
    ):
        raise ValueError(
            f"crossfit={crossfit!r} is not supported on Dask collections: "
            "out-of-core EM fits linear and logistic experts, which are scored "
            "in sample. Use crossfit='auto' or False, or fit on an in-memory "
            "sample."
        )


def splice_outputs(full, part, rows, columns):
    """Write the experts' outputs on some rows into the outputs on all rows.

    ``full`` is what a mixture's ``_expert_outputs`` returns for all its
    experts on all rows, ``part`` what it returns for the experts at
    ``columns`` (in that order) on ``rows``. Either is a 2-D array (rows,
    experts), a dict by expert position of arrays whose first axis is the
    rows, or a tuple of those.

    Parameters
    ----------
    full, part : ndarray, dict or tuple
    rows : ndarray of int
    columns : list of int

    Returns
    -------
    full : ndarray, dict or tuple
        ``full``, written in place.
    """
    if isinstance(full, tuple):
        return tuple(
            splice_outputs(f, p, rows, columns) for f, p in zip(full, part, strict=True)
        )
    if isinstance(full, dict):
        for j, value in part.items():
            # An expert without an output in full (a spread it did not
            # report) keeps none.
            if value is not None and full.get(columns[j]) is not None:
                target = full[columns[j]]
                if not np.can_cast(value.dtype, target.dtype):
                    # A copy's label longer than any the expert gave ("bad"
                    # into "<U1"): widened, not cut to another label; labels
                    # of another kind as objects, not converted.
                    same_kind = value.dtype.kind == target.dtype.kind
                    kind = np.result_type(target, value) if same_kind else object
                    target = full[columns[j]] = target.astype(kind)
                target[rows] = value
        return full
    full[np.ix_(rows, columns)] = part
    return full


class FoldInputs(NamedTuple):
    """The first steps of a Pipeline expert's cross-fitted copy for one
    fold, fitted once per EM run, and their output (``first`` None: not
    kept, the copies are fitted whole)."""

    X: object  # the run's training rows, data.Xe
    signature: tuple  # the first steps' classes and parameters
    first: object  # the fitted steps before the last, a Pipeline, or None
    Xt: object  # their fit_transform of the fold's training rows
    Xp: object  # their transform of its held-out rows

    @property
    def nbytes(self):
        return 0 if self.first is None else self.Xt.nbytes + self.Xp.nbytes


class _FoldMemo(dict):
    """:class:`FoldInputs` by (expert name, fold), and the bytes they hold.

    Pickles empty, as :class:`~skmoe._fast_mstep.RunMemo` does: a process
    backend sends the runs of its starts back, and the entries are rebuilt
    when missing.
    """

    nbytes = 0

    def keep(self, key, inputs):
        self.nbytes += inputs.nbytes - getattr(self.get(key), "nbytes", 0)
        self[key] = inputs
        return inputs

    def __reduce__(self):
        return (type(self), ())


def _fold_first_steps(mixture, data, i, fold, train, test, where):
    """Expert ``i``'s :class:`FoldInputs` for ``fold``, fitted on first use
    and kept for the run; None when its copies are fitted whole.

    A Pipeline's cross-fitted copy fits its steps before the last on the
    fold's unweighted rows at every M-step (EM weights the last step only),
    and they end where they began: fitted once, the copies are the same to
    the bit (a spline Pipeline's copies spent most of a fit on them). Kept
    while their output fits in scikit-learn's ``working_memory``, for
    ndarray outputs (no frames), for Pipelines that EM weights through
    their last step (not resampled) and that get no routed metadata.
    """
    name, expert = mixture._expert_names[i], mixture.experts_[i]
    if (
        data.params.get(name)
        or fit_mode(expert) != "pipeline"
        or not supports_pipeline_mstep(expert)
        or len(expert.steps) < 2
    ):
        return None
    memo = mixture.__dict__.setdefault("_fold_pipelines_of_run", _FoldMemo())
    signature = tuple((type(step), repr(step)) for _, step in expert.steps[:-1])
    kept = memo.get((name, fold))
    if kept is None or kept.X is not data.Xe or kept.signature != signature:
        first = clone(expert[:-1])
        with fitting(name, expert, where):
            Xt = first.fit_transform(read_only(data.Xe[train]), data.y_fit[train])
        with naming(name, expert, where):
            Xp = transform_through(first, read_only(data.Xe[test]))
        kept = FoldInputs(data.Xe, signature, first, Xt, Xp)
        if (
            not (isinstance(Xt, np.ndarray) and isinstance(Xp, np.ndarray))
            or memo.nbytes + kept.nbytes > _budget()
        ):
            kept = kept._replace(first=None, Xt=None, Xp=None)  # not tried again
        memo.keep((name, fold), kept)
    return None if kept.first is None else kept


def _budget():
    """Bytes the run may keep of the copies' first steps' output:
    scikit-learn's ``working_memory`` (MiB), its bound on what chunked
    computations hold at once."""
    return get_config()["working_memory"] * 2**20


def _fold_jobs(mixture, data, resp, rng, n_iter, columns, train, fold, v, kept):
    """Fit jobs for the copies of the experts at ``columns`` on ``train``;
    for an expert in ``kept`` (its :class:`FoldInputs` for the fold, by
    position), a copy of its last step, on its first steps' output.

    The copies of one fold share its rows (read-only: an expert that would
    scale them in place copies them first), so a fit holds one copy of them
    per fold, not one per fold and expert (785 MiB, 41 times X, for 8 trees
    on 50,000 x 50).
    """
    X_train, y_train = read_only(data.Xe[train]), data.y_fit[train]
    weight_train, resp_train = data.sample_weight[train], resp[train]
    jobs = []
    for i in columns:
        name, expert = mixture._expert_names[i], mixture.experts_[i]
        X_fit = X_train
        if i in kept:
            expert, X_fit = expert.steps[-1][1], read_only(kept[i].Xt)
        mode = fit_mode(expert)
        seed = rng.randint(np.iinfo(np.int32).max) if mode == "unweighted" else None
        params = data.params.get(name)
        if params:
            params = _check_method_params(data.Xe, params, train)
        jobs.append(
            (
                name,
                _copy_of_fold(n_iter, fold, v),
                clone(expert),
                X_fit,
                y_train,
                weight_train,
                resp_train,
                i,
                mode,
                mixture.unweighted_fit,
                seed,
                params,
            )
        )
    return jobs


def _scored_from(copy, expert, kept, last, X_test):
    """The cross-fitted copy of Pipeline ``expert`` whose last step is
    ``last``: its kept first steps, then ``last``. ``copy`` (the mixture
    that scores the copies) reads its outputs on ``X_test`` from the kept
    transform of those rows, as the mixture reads its experts' on the
    training rows (``_through_pipeline``)."""
    pipeline = shallow_copy(expert)
    pipeline.steps = [*kept.first.steps, (expert.steps[-1][0], last)]
    copy._pipelines()[pipeline] = PipelineInputs(
        X_test, None, None, kept.Xp, None, None, None
    )
    return pipeline


def _copy_of_fold(n_iter, fold, v):
    """The EM iteration as errors about a fold's copies quote it."""
    return f"{n_iter} (cross-fitted copy for fold {fold + 1} of {v})"


@contextmanager
def _naming_crossfit(crossfit):
    """Say, in an error raised by a cross-fitted copy of an expert, what the
    copy is and how to fit without copies.

    A copy sees only part of the rows: it can fail where the expert fitted
    on all of them does not (a category seen in one fold only, too few
    rows for its neighbours).
    """
    try:
        yield
    except Exception as exc:
        said = str(exc).rstrip()
        said += "" if said.endswith(".") else "."
        message = (
            f"{said} Cross-fitted copies are fitted on all folds but one and "
            "predict the rows of the one left out (see crossfit), so they may "
            "meet values they were not fitted on; crossfit=False fits the "
            f"experts without them (crossfit={crossfit!r} here)."
        )
        raise same_type_error(exc, message) from exc


def crossfit_outputs(mixture, data, resp, rng, n_iter, outputs):
    """The experts' outputs for the likelihood's M-step and the E-step, and
    a penalty per expert to subtract from its log-likelihood.

    For each fold, copies of the experts at ``crossfit_columns`` are fitted
    on the other folds' rows with the responsibilities ``resp`` as weights
    (``n_jobs`` fits them side by side), and predict the fold's rows. With
    ``SCORE == "oof"`` those out-of-fold outputs replace the in-sample ones
    (penalty None); with ``"penalized"`` the in-sample outputs stay, and each
    cross-fitted expert pays its optimism: the mean, weighted by its
    responsibilities, of its in-sample log-likelihood minus its out-of-fold
    one (an effective-degrees-of-freedom penalty per row, as AIC's ``k / n``).

    Parameters
    ----------
    mixture : mixture of experts
        Fitted at this M-step (its experts on all rows).
    data : _TrainingData
        With ``folds``.
    resp : ndarray of shape (n, M)
    rng : numpy.random.RandomState
        Seeds of the resampling fallback.
    n_iter : int
        The EM iteration, for errors.
    outputs : object
        ``mixture._expert_outputs`` on all rows.

    Returns
    -------
    outputs : object
    penalty : ndarray of shape (M,) or None
    """
    columns = crossfit_columns(mixture.experts_, mixture.crossfit)
    if not columns:
        return outputs, None
    present = data.sample_weight > 0
    v = int(data.folds.max()) + 1
    jobs, kept = [], []
    for fold in range(v):
        train = np.flatnonzero(present & (data.folds != fold))
        test = np.flatnonzero(data.folds == fold)
        where = _copy_of_fold(n_iter, fold, v)
        with _naming_crossfit(mixture.crossfit):
            first_steps = {
                i: _fold_first_steps(mixture, data, i, fold, train, test, where)
                for i in columns
            }
        kept.append({i: k for i, k in first_steps.items() if k is not None})
        jobs += _fold_jobs(
            mixture, data, resp, rng, n_iter, columns, train, fold, v, kept[fold]
        )
    with _naming_crossfit(mixture.crossfit):
        copies = run_fit_jobs(jobs, mixture.n_jobs, n_iter)
    copy = mixture._snapshot()  # the mixture with the copies as its experts
    copy._expert_names = [mixture._expert_names[i] for i in columns]
    oof = deepcopy(outputs)
    for fold in range(v):
        test = np.flatnonzero(data.folds == fold)
        # Read-only, as the rows every expert predicts: one that scales in
        # place must not move the rows the next one sees.
        X_test = read_only(data.Xe[test])
        copy.experts_ = copies[fold * len(columns) : (fold + 1) * len(columns)]
        for j, i in enumerate(columns):
            if i in kept[fold]:
                copy.experts_[j] = _scored_from(
                    copy, mixture.experts_[i], kept[fold][i], copy.experts_[j], X_test
                )
        where = _copy_of_fold(n_iter, fold, v)
        with _naming_crossfit(mixture.crossfit):
            part = copy._expert_outputs(X_test, data.y_lik[test], where)
        oof = splice_outputs(oof, part, test, columns)
    if SCORE == "oof":
        return oof, None
    return outputs, optimism(mixture, data, resp, outputs, oof, columns, n_iter)


def optimism(mixture, data, resp, outputs, oof, columns, n_iter):
    """Each expert's optimism per row, (M,): how much better its in-sample
    log-likelihood is than what it would score on new rows.

    For the cross-fitted experts (``columns``), the mean of in-sample minus
    out-of-fold log-likelihood, weighted by their responsibilities. For the
    other experts that EM refits, whose number of free parameters ``k`` is
    known (linear, logistic), AIC's ``k / n_i``, ``n_i`` being the expert's
    share of the rows (its summed weights). Nested mixtures and fixed
    experts pay nothing.
    """
    weights = data.sample_weight[:, np.newaxis] * resp
    shares = np.maximum(weights.sum(axis=0), np.finfo(np.float64).tiny)
    log_prob = []
    for output in (oof, outputs):  # the in-sample fit last: it stays
        mixture._fit_likelihood(output, data.y_lik, weights)
        log_prob.append(mixture._expert_log_prob(data.Xe, data.y_lik, output, n_iter))
    gap = log_prob[1] - log_prob[0]
    penalty = np.zeros(gap.shape[1])
    for i, (name, expert) in enumerate(mixture._named_experts()):
        if i in columns:
            penalty[i] = max(weights[:, i] @ gap[:, i] / shares[i], 0.0)
        elif _learns(expert):
            k = expert_parameters(name, expert, mixture._kind)
            penalty[i] = k / shares[i]
    return penalty


def stalled(curve, patience=PATIENCE):
    """Whether the last ``patience`` values of ``curve`` failed to beat the
    best before them."""
    if len(curve) <= patience:
        return False
    return max(curve[-patience:]) <= max(curve[:-patience])
