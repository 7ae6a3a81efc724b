"""``python -m skmoe``: a mixture of experts next to the usual alternatives.

Cross-validates a mixture of linear experts, with its defaults and with its
capacity chosen by internal cross-validation (the CV variant), next to its
single expert, a depth-4 decision tree and a Voting ensemble of those two, on
data with
regimes generated on the spot (three linear regimes; XOR quadrants) and on
data bundled with scikit-learn (diabetes, iris), where a single linear model
is already good.
"""

import sys
import warnings
from time import perf_counter

import numpy as np
from scipy.special import softmax
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import VotingClassifier, VotingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from . import (
    MixtureOfExpertsClassifier,
    MixtureOfExpertsClassifierCV,
    MixtureOfExpertsRegressor,
    MixtureOfExpertsRegressorCV,
    __version__,
)


def regime_data(n_samples=4000, random_state=0):
    """Three linear regimes; a softmax of the inputs picks one per row."""
    rng = np.random.RandomState(random_state)
    X = rng.uniform(-3, 3, size=(n_samples, 2))
    gate = softmax(X @ np.array([[3.0, -3.0, 0.0], [0.0, 0.0, 3.0]]), axis=1)
    regime = (gate.cumsum(axis=1) > rng.uniform(size=(n_samples, 1))).argmax(axis=1)
    coef = np.array([[2.0, 1.5, -1.0], [-1.0, -2.0, 0.5], [0.0, 0.5, 2.5]])[regime]
    y = coef[:, 0] + np.einsum("nd,nd->n", X, coef[:, 1:])
    return X, y + 0.3 * rng.standard_normal(n_samples)


def xor_data(n_samples=1000, random_state=0):
    """Four quadrants, the label flips from one quadrant to the next."""
    rng = np.random.RandomState(random_state)
    X = rng.uniform(-1, 1, size=(n_samples, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def _cv_cell(model, X, y):
    """Mean and spread of the 5-fold CV score, with the seconds it took.

    Warnings of the fits (dead experts among the CV variant's candidates,
    say) are silenced: the table is about held-out scores.
    """
    start = perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = cross_val_score(model, X, y, cv=KFold(5, shuffle=True, random_state=0))
    seconds = perf_counter() - start
    return f"{scores.mean():.3f} +/- {scores.std():.3f} ({seconds:.1f}s)"


def _table(title, datasets, models):
    header = ["model", *datasets]
    rows = [
        [name, *(_cv_cell(model, X, y) for X, y in datasets.values())]
        for name, model in models.items()
    ]
    print(f"\n{title}")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        cells = zip(row, widths, strict=True)
        print("  ".join(cell.ljust(width) for cell, width in cells))


def regression_demo():
    linear = LinearRegression()
    tree = DecisionTreeRegressor(max_depth=4, random_state=0)
    _table(
        "Regression, R2 (5-fold CV; mean +/- sd, seconds for the 5 fits)",
        {
            "3 regimes (generated)": regime_data(),
            "diabetes": load_diabetes(return_X_y=True),
        },
        {
            "LinearRegression (single expert)": linear,
            "DecisionTree(max_depth=4)": tree,
            "VotingRegressor(linear, tree)": VotingRegressor(
                [("linear", linear), ("tree", tree)]
            ),
            "skmoe: defaults (2 linear experts)": MixtureOfExpertsRegressor(
                random_state=0
            ),
            # The number of experts is a capacity knob: the CV variant chooses
            # it (1 included) and the gate's penalty by held-out likelihood
            # (on 3 inner folds here, to keep the demo short).
            "skmoe CV: 1-4 linear experts": MixtureOfExpertsRegressorCV(
                cv=3, random_state=0
            ),
        },
    )


def classification_demo():
    logistic = LogisticRegression()
    tree = DecisionTreeClassifier(max_depth=4, random_state=0)
    _table(
        "Classification, accuracy (5-fold CV; mean +/- sd, seconds for the 5 fits)",
        {"XOR quadrants (generated)": xor_data(), "iris": load_iris(return_X_y=True)},
        {
            name: make_pipeline(StandardScaler(), model)
            for name, model in {
                "LogisticRegression (single expert)": logistic,
                "DecisionTree(max_depth=4)": tree,
                "VotingClassifier(logistic, tree), soft": VotingClassifier(
                    [("logistic", logistic), ("tree", tree)], voting="soft"
                ),
                "skmoe: defaults (2 logistic experts)": MixtureOfExpertsClassifier(
                    random_state=0
                ),
                "skmoe CV: 1-4 logistic experts": MixtureOfExpertsClassifierCV(
                    cv=3, random_state=0
                ),
            }.items()
        },
    )


def main():
    print(f"skmoe {__version__}: mixtures of experts for scikit-learn")
    regression_demo()
    classification_demo()
    print(
        "\nRead the table as measured: where the data have regimes the mixture "
        "should\nbeat its single linear (logistic) expert, and with enough experts "
        "(the CV\nvariant) the tree and Voting too: two experts are too few for "
        "three regimes;\nwhere one linear model is already right, a mixture with a "
        "fixed number of\nexperts can only tie or overfit, and the CV variant, "
        "which may choose a\nsingle expert, is the one to compare.\n"
        "The user guide (docs/user_guide.rst) explains the model, EM and the gate."
    )
    print(
        "Documentation (getting started, user guide, API, examples): docs/ in the "
        'source tree;\nbuild it with  pip install -e ".[docs]" && '
        "sphinx-build -W -b html docs docs/_build/html"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
