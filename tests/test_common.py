"""scikit-learn's estimator checks on the configurations users reach first.

Expected failures are strict (a check that starts to pass must be taken off the
list), except the few whose outcome depends on the CPU: see
``cpu_dependent_failures``.
"""

import re

import pytest
from sklearn import config_context
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    estimator_checks_generator,
)

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor, SoftmaxGate
from skmoe.rules import RuleExpert


def row_mean(X):
    """A fixed regression rule."""
    return X.mean(axis=1)


def first_column_sign(X):
    """A fixed classification rule: labels 0/1, unseen labels mean no opinion."""
    return (X[:, 0] > 0).astype(int)


# The two default mixtures are checked exactly as users get them; the others,
# which are there for their kinds of experts, run one start, as scikit-learn's
# own checks shorten iterative estimators (restarts are tested elsewhere).
ONE_START = {"n_init": 1}
ESTIMATORS = [
    MixtureOfExpertsRegressor(),
    MixtureOfExpertsRegressor(
        DecisionTreeRegressor(max_depth=3), n_experts=3, **ONE_START
    ),
    MixtureOfExpertsClassifier(),
    # At most 50 iterations: on the checks' separable blobs the tree fits
    # every row, and the logistic expert's share shrinks over some 250 EM
    # iterations before it is re-seeded, twice (570 iterations in all, each
    # cross-fitting the tree: 7 s for 20 rows).
    MixtureOfExpertsClassifier(
        [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=3))],
        max_iter=50,
        **ONE_START,
    ),
    SoftmaxGate(),
    MixtureOfExpertsRegressor(
        [("lin", LinearRegression()), ("knn", KNeighborsRegressor())], **ONE_START
    ),
    MixtureOfExpertsClassifier(
        [("lr", LogisticRegression()), ("knn", KNeighborsClassifier())], **ONE_START
    ),
    MixtureOfExpertsRegressor(
        [("rule", RuleExpert(row_mean)), ("lin", LinearRegression())], **ONE_START
    ),
    MixtureOfExpertsClassifier(
        [("rule", RuleExpert(first_column_sign)), ("lr", LogisticRegression())],
        **ONE_START,
    ),
    # A hierarchical mixture: two gates deep, four linear leaves; the children
    # with the looser tol the user guide advises for them, and at most 50
    # iterations at the top (on the checks' noise EM crawls to max_iter).
    MixtureOfExpertsRegressor(
        MixtureOfExpertsRegressor(n_experts=2, tol=1e-3, **ONE_START),
        n_experts=2,
        max_iter=50,
        **ONE_START,
    ),
    # Every part takes NaN (allow_nan), so the checks run with missing values.
    # Boosting experts of one kind are not cross-fitted: cross-fitting is
    # checked with the linear + tree and linear + kNN mixtures above, and here
    # it would triple the time of the slowest instances of this file.
    MixtureOfExpertsRegressor(
        HistGradientBoostingRegressor(max_iter=10),
        gate=HistGradientBoostingClassifier(max_iter=10),
        crossfit=False,
        **ONE_START,
    ),
    MixtureOfExpertsClassifier(
        HistGradientBoostingClassifier(max_iter=10),
        gate=HistGradientBoostingClassifier(max_iter=10),
        crossfit=False,
        **ONE_START,
    ),
]


def _has_expert(estimator, kinds):
    experts = getattr(estimator, "experts", None)
    if isinstance(experts, list):
        experts = [expert for _, expert in experts]
    else:
        experts = [experts]
    return any(isinstance(e, kinds) for e in experts)


def _on_dense_and_sparse_data(reason):
    # Sparse X reaches the experts as it is, so the sparse variant of the
    # check fails for the same reason as the dense one.
    return {
        f"check_sample_weight_equivalence_on_{kind}_data": reason
        for kind in ("dense", "sparse")
    }


def _default_regressor_starts(estimator):
    """The regressor with its default starts: several, the first y-aware."""
    return (
        type(estimator) is MixtureOfExpertsRegressor
        and estimator.experts is None
        and estimator.n_init > 1
        and estimator.init_params in ("auto", "kmeans_xy")
    )


def expected_failed_checks(estimator):
    if _default_regressor_starts(estimator):
        # The check's data are noise: no regimes, many optima of nearly equal
        # likelihood. Three starts, the first and third from k-means on x
        # and y, end in different ones, and which start wins for weights and
        # which for repeated rows depends on the last bits of the start's
        # k-means, i.e. on the BLAS kernel: measured, the check passes under
        # SkylakeX and fails under Haswell, and it passes under both with one
        # start (n_init=1) or with x-only starts (init_params="kmeans").
        return _on_dense_and_sparse_data(
            "on structureless data the default starts end in near-equal optima "
            "and the one kept depends on the BLAS kernel"
        )
    if _has_expert(estimator, (KNeighborsRegressor, KNeighborsClassifier)):
        # k-nearest neighbours take no sample_weight, so EM fits them on the rows
        # they own (unweighted_fit="hard"), each row counted once: a row of
        # weight 3 is one neighbour, where three repeated rows are three.
        return _on_dense_and_sparse_data(
            "experts without sample_weight count a weighted row once"
        )
    hgb = (HistGradientBoostingRegressor, HistGradientBoostingClassifier)
    if _has_expert(estimator, hgb):
        # HistGradientBoosting bins its inputs by weighted quantiles and its
        # trees are grown from those bins: weights and repeated rows give other
        # bins (scikit-learn lists the same check as an expected failure for
        # HistGradientBoosting itself). It takes no sparse X, so only the dense
        # check runs.
        return {
            "check_sample_weight_equivalence_on_dense_data": (
                "HistGradientBoosting experts bin weighted rows differently "
                "from repeated rows"
            )
        }
    if _has_expert(estimator, (DecisionTreeRegressor, DecisionTreeClassifier)):
        # A lone DecisionTreeRegressor(max_depth=3, random_state=seed) fitted with
        # fractional weights w * r, against rows repeated w times with weights r,
        # predicts differently for 12 of 20 seeds on this check's 15 x 30 data
        # (DecisionTreeClassifier: 8 of 20): many splits tie, and summing the
        # weights in another order breaks the tie differently. EM fits its
        # experts with exactly such fractional weights (sample_weight *
        # responsibility), so a mixture with a tree expert inherits it. Which
        # way a tie falls depends on the last bits of the responsibilities,
        # which depend on the BLAS kernel the CPU gets, so these are listed in
        # cpu_dependent_failures too.
        return _on_dense_and_sparse_data(
            "tree experts break split ties differently under fractional "
            "weights than under repeated rows"
        )
    # A hierarchy of linear leaves used to fail the sparse weight check (LSQR's
    # tolerance grew through two levels of EM to ~8e-9 against the check's
    # rtol=1e-7); since EM's M-steps changed (one Newton step for the gate,
    # linear outputs from the coefficients) and the children stop at tol=1e-3
    # it passes under the SkylakeX, Haswell and Katmai kernels, so it is no
    # longer listed as an expected failure.
    return {}


def cpu_dependent_failures(estimator):
    """The expected failures that pass or fail depending on the CPU.

    scikit-learn lists the sample-weight checks of its own tree ensembles
    (RandomForest*, GradientBoosting*, HistGradientBoosting*, ...) in its
    PER_ESTIMATOR_XFAIL_CHECKS and runs them as non-strict expected failures;
    a mixture with tree experts gets the same treatment, for the same reason
    (see ``expected_failed_checks``). Measured on one AMD EPYC with
    scikit-learn 1.9.1, by OpenBLAS kernel (Katmai is what
    ``OPENBLAS_CORETYPE=Prescott`` runs):

        check                   SkylakeX  Haswell  Sandybridge  Nehalem  Katmai
        tree regressor, dense   fails     passes   fails        passes   fails
        tree regressor, sparse  fails     fails    fails        fails    passes
        lr + tree, dense        passes    fails    passes       passes   passes
        lr + tree, sparse       passes    fails    fails        passes   passes
        default regressor, both passes    fails    (not measured)

    The default regressor's pair is measured at its defaults of this round
    (three starts, the first y-aware); see ``expected_failed_checks``.

    and with scikit-learn 1.6.1 on SkylakeX the tree regressor's sparse check
    passes. ``.ci/run`` runs this file under several ``OPENBLAS_CORETYPE``.
    """
    if _has_expert(estimator, (DecisionTreeRegressor, DecisionTreeClassifier)):
        return set(_on_dense_and_sparse_data(""))
    if _default_regressor_starts(estimator):
        return set(_on_dense_and_sparse_data(""))
    return set()


def _check_name(check):
    return getattr(check, "func", check).__name__


def _check_id(estimator, check):
    """The test id parametrize_with_checks gives: estimator, then check."""
    with config_context(print_changed_only=True):
        name = re.sub(r"\s", "", repr(estimator))
    keywords = getattr(check, "keywords", {})
    if keywords:
        args = ",".join(f"{k}={v}" for k, v in keywords.items())
        return f"{name}-{_check_name(check)}({args})"
    return f"{name}-{_check_name(check)}"


def _checks(estimators):
    """(estimator, check) params as ``parametrize_with_checks`` makes them.

    Built from the public ``estimator_checks_generator`` (scikit-learn 1.6+)
    rather than ``parametrize_with_checks(xfail_strict=...)`` (1.8+), so the
    checks run on every supported scikit-learn and each expected failure gets
    its own strictness.
    """
    params = []
    for estimator in estimators:
        expected = expected_failed_checks(estimator)
        not_strict = cpu_dependent_failures(estimator)
        for instance, check in estimator_checks_generator(estimator):
            name = _check_name(check)
            marks = ()
            if name in expected:
                marks = pytest.mark.xfail(
                    reason=expected[name], strict=name not in not_strict
                )
            params.append(
                pytest.param(
                    instance, check, marks=marks, id=_check_id(instance, check)
                )
            )
    return params


@pytest.mark.parametrize("estimator, check", _checks(ESTIMATORS))
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_cpu_dependent_failures_are_expected_failures():
    # A non-strict mark is only for a listed expected failure: everything
    # else that is expected to fail must keep failing.
    for estimator in ESTIMATORS:
        assert cpu_dependent_failures(estimator) <= set(
            expected_failed_checks(estimator)
        )


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
def test_dataframe_column_names_consistency(estimator):
    check_dataframe_column_names_consistency(type(estimator).__name__, estimator)
