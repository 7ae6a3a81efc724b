"""scikit-learn's estimator checks on the configurations users reach first."""

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    parametrize_with_checks,
)

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor, SoftmaxGate

ESTIMATORS = [
    MixtureOfExpertsRegressor(),
    MixtureOfExpertsRegressor(DecisionTreeRegressor(max_depth=3), n_experts=3),
    MixtureOfExpertsClassifier(),
    MixtureOfExpertsClassifier(
        [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=3))]
    ),
    SoftmaxGate(),
]


def _has_tree_expert(estimator):
    experts = getattr(estimator, "experts", None)
    if isinstance(experts, list):
        experts = [expert for _, expert in experts]
    else:
        experts = [experts]
    return any(
        isinstance(e, (DecisionTreeRegressor, DecisionTreeClassifier)) for e in experts
    )


def expected_failed_checks(estimator):
    if _has_tree_expert(estimator):
        # A lone DecisionTreeRegressor(max_depth=3, random_state=seed) fitted with
        # fractional weights w * r, against rows repeated w times with weights r,
        # predicts differently for 12 of 20 seeds on this check's 15 x 30 data
        # (DecisionTreeClassifier: 8 of 20): many splits tie, and summing the
        # weights in another order breaks the tie differently. EM fits its
        # experts with exactly such fractional weights (sample_weight *
        # responsibility), so a mixture with a tree expert inherits it.
        return {
            "check_sample_weight_equivalence_on_dense_data": (
                "tree experts break split ties differently under fractional "
                "weights than under repeated rows"
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
