"""scikit-learn's estimator checks on the configurations users reach first."""

import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    parametrize_with_checks,
)

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor, SoftmaxGate
from skmoe.rules import RuleExpert


def row_mean(X):
    """A fixed regression rule."""
    return X.mean(axis=1)


def first_column_sign(X):
    """A fixed classification rule: labels 0/1, unseen labels mean no opinion."""
    return (X[:, 0] > 0).astype(int)


ESTIMATORS = [
    MixtureOfExpertsRegressor(),
    MixtureOfExpertsRegressor(DecisionTreeRegressor(max_depth=3), n_experts=3),
    MixtureOfExpertsClassifier(),
    MixtureOfExpertsClassifier(
        [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=3))]
    ),
    SoftmaxGate(),
    MixtureOfExpertsRegressor(
        [("lin", LinearRegression()), ("knn", KNeighborsRegressor())]
    ),
    MixtureOfExpertsClassifier(
        [("lr", LogisticRegression()), ("knn", KNeighborsClassifier())]
    ),
    MixtureOfExpertsRegressor(
        [("rule", RuleExpert(row_mean)), ("lin", LinearRegression())]
    ),
    MixtureOfExpertsClassifier(
        [("rule", RuleExpert(first_column_sign)), ("lr", LogisticRegression())]
    ),
    # A hierarchical mixture: two gates deep, four linear leaves.
    MixtureOfExpertsRegressor(MixtureOfExpertsRegressor(n_experts=2), n_experts=2),
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


def expected_failed_checks(estimator):
    if _has_expert(estimator, (KNeighborsRegressor, KNeighborsClassifier)):
        # k-nearest neighbours take no sample_weight, so EM fits them on the rows
        # they own (unweighted_fit="hard"), each row counted once: a row of
        # weight 3 is one neighbour, where three repeated rows are three.
        return _on_dense_and_sparse_data(
            "experts without sample_weight count a weighted row once"
        )
    if _has_expert(estimator, DecisionTreeRegressor):
        # A lone DecisionTreeRegressor(max_depth=3, random_state=seed) fitted with
        # fractional weights w * r, against rows repeated w times with weights r,
        # predicts differently for 12 of 20 seeds on this check's 15 x 30 data
        # (DecisionTreeClassifier: 8 of 20): many splits tie, and summing the
        # weights in another order breaks the tie differently. EM fits its
        # experts with exactly such fractional weights (sample_weight *
        # responsibility), so a mixture with a tree expert inherits it. Whether
        # it shows depends on the seeds the trees draw: the lr + tree
        # classifier passes with the seeds it gets.
        return _on_dense_and_sparse_data(
            "tree experts break split ties differently under fractional "
            "weights than under repeated rows"
        )
    if _has_expert(estimator, MixtureOfExpertsRegressor):
        # On sparse X, LinearRegression solves by LSQR to a tolerance: weights
        # and repeated rows already differ by ~3e-10 for one LinearRegression
        # on this check's kind of data (1.6e-15 on dense X). The hierarchy
        # refits its leaves through two levels of EM and the difference grows
        # to ~8e-9, which fails the check's rtol=1e-7 on a prediction near 0.
        return {
            "check_sample_weight_equivalence_on_sparse_data": (
                "sparse LinearRegression leaves are solved iteratively (LSQR)"
            )
        }
    return {}


@parametrize_with_checks(
    ESTIMATORS, expected_failed_checks=expected_failed_checks, xfail_strict=True
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
def test_dataframe_column_names_consistency(estimator):
    check_dataframe_column_names_consistency(type(estimator).__name__, estimator)
