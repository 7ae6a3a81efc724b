"""
Mixture of experts versus a voting ensemble on data with regimes
================================================================

A voting ensemble and a mixture of experts both combine several models, but
in different ways. ``VotingClassifier`` fits every member on every row and
averages their probabilities with the same weights everywhere. A mixture of
experts has a gate that decides, for each input, which expert to trust, and
trains each expert mostly on the rows it is trusted with.

The difference matters when the data have regimes: here the rule that decides
the class is one straight border on the left half of the plane and another
on the right half. Each half is easy for a logistic regression; the whole
plane is not easy for any single simple model, and averaging simple models
that all saw the whole plane does not help much either.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

from skmoe import MixtureOfExpertsClassifier
from skmoe.plotting import GateRegionsDisplay

# %%
# Two regimes
# -----------
# Left of ``x1 = 0`` the class is 1 above the rising line ``x2 = x1 + 1.5``;
# right of it, below the falling line ``x2 = 1.5 - x1``. 5% of the labels are
# flipped, so no model can do better than about 95% accuracy.
rng = np.random.RandomState(0)
X = rng.uniform(-3, 3, size=(2000, 2))
left = X[:, 0] < 0
y = np.where(left, X[:, 1] > X[:, 0] + 1.5, X[:, 1] < 1.5 - X[:, 0]).astype(int)
y = np.where(rng.rand(2000) < 0.05, 1 - y, y)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

# %%
# The contenders
# --------------
# The voting ensemble soft-votes a logistic regression and a depth-4 tree, two
# members of different kinds, as one would to pool their strengths. The
# mixture has two logistic-regression experts. Its likelihood has local
# maxima (a start that splits the plane horizontally is stuck there), so it
# runs EM from five starts and keeps the best (``n_init=5``).
logistic = LogisticRegression()
tree = DecisionTreeClassifier(max_depth=4, random_state=0)
models = {
    "logistic regression": logistic,
    "tree (depth 4)": tree,
    "voting (logistic + tree)": VotingClassifier(
        [("logistic", logistic), ("tree", tree)], voting="soft"
    ),
    "mixture of 2 logistic": MixtureOfExpertsClassifier(
        LogisticRegression(), n_experts=2, n_init=5, random_state=0
    ),
}
print(f"{'model':26s} accuracy  log-loss")
for name, model in models.items():
    model.fit(X_train, y_train)
    loss = log_loss(y_test, model.predict_proba(X_test))
    print(f"{name:26s} {model.score(X_test, y_test):8.3f}  {loss:8.3f}")

# %%
# The mixture (0.946) is within half a point of the best possible accuracy,
# about 0.95. The ensemble (0.878) is no more accurate than its tree alone,
# though averaging does improve its log-loss. Every member of the ensemble
# was fitted to the whole plane: the logistic regression can only draw one
# straight border through both regimes, and the tree approximates two
# diagonal borders with a few axis-parallel steps. Averaging them smooths
# their mistakes but cannot remove them. The mixture splits the problem: the
# gate learns the vertical border between the regimes, and each expert learns
# the border inside its own half.
moe = models["mixture of 2 logistic"]
print("gate coefficients (x1, x2):")
print(moe.gate_.coef_.round(1))
print("expert trusted at (-2, 0) and (2, 0):", moe.predict_expert([[-2, 0], [2, 0]]))

# %%
# Pictures of the three models
# ----------------------------
# Left and middle: the probability of class 1 (red) that the ensemble and the
# mixture give over the plane, with the test rows coloured by their class; a
# point that stands out from its background is misclassified. Right: the
# gate's regions, the half of the plane each expert is trusted with.
xx0, xx1 = np.meshgrid(np.linspace(-3, 3, 150), np.linspace(-3, 3, 150))
grid = np.column_stack([xx0.ravel(), xx1.ravel()])
fig, axes = plt.subplots(1, 3, figsize=(13, 4), layout="constrained")
shown = ["voting (logistic + tree)", "mixture of 2 logistic"]
for ax, name in zip(axes[:2], shown, strict=True):
    proba = models[name].predict_proba(grid)[:, 1].reshape(xx0.shape)
    ax.contourf(xx0, xx1, proba, levels=np.linspace(0, 1, 11), cmap="RdBu_r")
    ax.scatter(*X_test.T, c=y_test, cmap="RdBu_r", s=8, edgecolors="w", linewidths=0.3)
    ax.set(title=f"{name}: P(class 1)", xlabel="x1", ylabel="x2")
GateRegionsDisplay.from_estimator(moe, X_train, ax=axes[2], eps=0)
axes[2].set(title="mixture: where each expert is trusted", xlabel="x1", ylabel="x2")
plt.show()
