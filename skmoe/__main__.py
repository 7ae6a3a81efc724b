"""``python -m skmoe``: a mixture of experts next to the usual alternatives.

Fits each model on the same training split and scores it on held-out rows:
a regression problem with three linear regimes chosen by a soft gate
(generated on the spot), and the breast-cancer data bundled with
scikit-learn.
"""

import sys
from time import perf_counter

import numpy as np
from scipy.special import softmax
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import VotingClassifier, VotingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, log_loss, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from . import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor, __version__


def regime_data(n_samples=4000, random_state=0):
    """Three linear regimes; a softmax of the inputs picks one per row."""
    rng = np.random.RandomState(random_state)
    X = rng.uniform(-3, 3, size=(n_samples, 2))
    gate = softmax(X @ np.array([[3.0, -3.0, 0.0], [0.0, 0.0, 3.0]]), axis=1)
    regime = (gate.cumsum(axis=1) > rng.uniform(size=(n_samples, 1))).argmax(axis=1)
    coef = np.array([[2.0, 1.5, -1.0], [-1.0, -2.0, 0.5], [0.0, 0.5, 2.5]])[regime]
    y = coef[:, 0] + np.einsum("nd,nd->n", X, coef[:, 1:])
    return X, y + 0.3 * rng.standard_normal(n_samples)


def _timed_fit(model, X, y):
    start = perf_counter()
    model.fit(X, y)
    return perf_counter() - start


def _table(title, header, rows):
    print(f"\n{title}")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        cells = zip(row, widths, strict=True)
        print("  ".join(str(cell).ljust(width) for cell, width in cells))


def regression_demo():
    X, y = regime_data()
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    linear = LinearRegression()
    tree = DecisionTreeRegressor(max_depth=5, random_state=0)
    models = {
        "LinearRegression (single expert)": linear,
        "DecisionTree(max_depth=5) (single expert)": tree,
        "VotingRegressor(linear, tree)": VotingRegressor(
            [("linear", linear), ("tree", tree)]
        ),
        "skmoe: 3 linear experts": MixtureOfExpertsRegressor(
            LinearRegression(), n_experts=3, random_state=0
        ),
    }
    rows = []
    for name, model in models.items():
        seconds = _timed_fit(model, X_train, y_train)
        pred = model.predict(X_test)
        rmse = mean_squared_error(y_test, pred) ** 0.5
        rows.append([name, f"{r2_score(y_test, pred):.3f}", f"{rmse:.3f}",
                     f"{seconds:.2f}"])
    _table(
        "Regression: 3 linear regimes behind a soft gate (3,000 train / 1,000 test)",
        ["model", "R2", "RMSE", "fit s"], rows,
    )


def classification_demo():
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, stratify=y, random_state=0
    )
    logistic = LogisticRegression(max_iter=1000)
    tree = DecisionTreeClassifier(max_depth=3, random_state=0)
    models = {
        "LogisticRegression (single expert)": make_pipeline(StandardScaler(), logistic),
        "DecisionTree(max_depth=3) (single expert)": tree,
        "VotingClassifier(logistic, tree), soft": make_pipeline(
            StandardScaler(),
            VotingClassifier([("logistic", logistic), ("tree", tree)], voting="soft"),
        ),
        "skmoe: [logistic, tree] experts": make_pipeline(
            StandardScaler(),
            MixtureOfExpertsClassifier(
                [("logistic", logistic), ("tree", tree)], random_state=0
            ),
        ),
    }
    rows = []
    for name, model in models.items():
        seconds = _timed_fit(model, X_train, y_train)
        proba = model.predict_proba(X_test)
        rows.append([
            name,
            f"{accuracy_score(y_test, model.predict(X_test)):.3f}",
            f"{log_loss(y_test, proba):.3f}",
            f"{seconds:.2f}",
        ])
    _table(
        "Classification: breast cancer, bundled with scikit-learn (stratified 75/25)",
        ["model", "accuracy", "log-loss", "fit s"], rows,
    )


def main():
    print(f"skmoe {__version__}: mixtures of experts for scikit-learn")
    regression_demo()
    classification_demo()
    print(
        "\nThe user guide (docs/user_guide.rst) explains the model, EM and the "
        "gate; every public class has examples in its docstring."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
