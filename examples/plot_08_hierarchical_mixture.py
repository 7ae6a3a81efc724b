"""
A hierarchical mixture of experts
=================================

A softmax gate compares one linear score per expert, so the borders between
its regions are straight lines that all come from the same few scores: it
cannot place each border independently. Jordan and Jacobs' hierarchical
mixture of experts (HME) replaces the single gate by a tree of gates. The top
gate splits the input space; inside each part, a gate of its own splits it
again, with a border of its own.

skmoe builds the tree by composition: a mixture can be the expert of another
mixture. Here the regime changes at ``x2 = -1`` left of ``x1 = 0`` but at
``x2 = +1`` right of it, a bent border that one gate over four experts can only
approximate and a gate over two mixtures of two can draw exactly.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import norm

from skmoe import MixtureOfExpertsRegressor
from skmoe.plotting import GateRegionsDisplay

# %%
# Four regimes with a bent border
# -------------------------------
# Each regime is a plane in ``(x1, x2)``; noise of standard deviation 0.3.
COEF = np.array([[1, 2, -1], [-2, 1, 1], [0.5, -1, 2], [3, 0, -2]])


def bent(n, rng):
    X = rng.uniform(-2, 2, size=(n, 2))
    regime = np.where(X[:, 0] < 0, X[:, 1] > -1, 2 + (X[:, 1] > 1))
    mean = COEF[regime, 0] + (COEF[regime, 1:] * X).sum(axis=1)
    return X, mean + 0.3 * rng.standard_normal(n), mean


rng = np.random.RandomState(0)
X, y, _ = bent(1200, rng)
X_test, y_test, true_mean = bent(5000, rng)

# %%
# Flat and hierarchical
# ---------------------
# The flat mixture has four linear experts under one gate. The hierarchy has
# two children, each a mixture of two linear experts: four leaves as well.
# Three settings are worth copying. Restarts at the top (``n_init=3``, the
# default) and one start for the children (``n_init=1``): a tree of gates has
# more ways to start badly, so restarts matter even more, but they belong to
# the whole tree; the children's own would multiply the cost at every level.
# Starts from k-means on ``x`` (``init_params="kmeans"``): the top gate must
# split the inputs, which k-means on ``x`` and ``y`` would cut along ``y``. And a
# looser ``tol`` for the children: they continue their own EM in every
# iteration of the parent, and it is the parent's ``tol`` that decides when
# the whole tree stops.
flat = MixtureOfExpertsRegressor(n_experts=4, random_state=0).fit(X, y)
child = MixtureOfExpertsRegressor(n_experts=2, n_init=1, tol=1e-3)
hme = MixtureOfExpertsRegressor(
    child, n_experts=2, init_params="kmeans", random_state=0
).fit(X, y)

# %%
# The held-out log-likelihood per row judges the whole predictive distribution
# (higher is better). The truth, the density that generated the data, sets
# the ceiling.
print(f"truth  {norm.logpdf(y_test, true_mean, 0.3).mean():.3f}")
for name, model in [("flat", flat), ("HME", hme)]:
    log_lik = model.log_likelihood(X_test, y_test).mean()
    print(f"{name:6s} {log_lik:.3f}   R^2 = {model.score(X_test, y_test):.3f}")

# %%
# The hierarchy halves the flat mixture's gap to the truth. It has four
# leaves, named ``parent/child``; ``leaf_proba`` gives the probability of each
# leaf along the path of gates, and each regime has a leaf of its own:
print(list(hme.leaf_names_))
points = [[-1.0, -1.5], [-1.0, 0.0], [1.0, 0.0], [1.0, 1.5]]  # one per regime
print(hme.leaf_proba(points).round(2))

# %%
# Where does the difference come from? Both models send nearly every row to the
# expert of its regime. But to bend a border, the flat gate has to keep its
# linear scores shallow, so it hands over from one expert to the next slowly:
# it is less than 90% sure on twice as many rows as the tree of gates, and
# there it mixes experts that disagree.
print("share of test rows whose most probable expert has less than 0.9:")
for name, proba in [("flat", flat.gate_proba(X_test)), ("HME", hme.leaf_proba(X_test))]:
    print(f"{name:5s} {np.mean(proba.max(axis=1) < 0.9):.1%}")

# %%
# The regions
# -----------
# Left: the flat mixture's gate; right: the leaf each point of the plane is
# most likely to reach in the hierarchy. The thin lines are contours of the
# top probability (0.6, 0.8 and 0.95), the true borders are drawn in black.
# Both find the regions, but the flat gate's hand-over zones are wide and
# reach across the bend, while in the hierarchy the top gate splits at
# ``x1 = 0`` and each child draws its own sharp horizontal border.
fig, (ax_flat, ax_hme) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
GateRegionsDisplay.from_estimator(flat, X, ax=ax_flat, eps=0, plot_data=False)
ax_flat.set_title("flat: one gate over 4 experts")

xx0, xx1 = np.meshgrid(np.linspace(-2, 2, 200), np.linspace(-2, 2, 200))
leaves = hme.leaf_proba(np.column_stack([xx0.ravel(), xx1.ravel()]))
best_leaf = leaves.argmax(axis=1).reshape(xx0.shape)
ax_hme.contourf(
    xx0,
    xx1,
    best_leaf,
    levels=np.arange(5) - 0.5,
    colors=["C0", "C1", "C2", "C3"],
    alpha=0.35,
)
contours = ax_hme.contour(
    xx0,
    xx1,
    leaves.max(axis=1).reshape(xx0.shape),
    levels=[0.6, 0.8, 0.95],
    colors="k",
    linewidths=0.5,
    linestyles=":",
)
ax_hme.clabel(contours, fontsize="x-small")
for leaf, name in enumerate(hme.leaf_names_):
    ax_hme.plot([], [], "s", color=f"C{leaf}", alpha=0.6, label=name)
ax_hme.legend(title="leaf", fontsize="small", loc="lower left")
ax_hme.set_title("HME: a gate over 2 mixtures of 2")
for ax in (ax_flat, ax_hme):
    ax.plot([-2, 0, 0, 0, 2], [-1, -1, -2, 1, 1], color="k", lw=1.5)
    ax.plot([0, 0], [-2, 2], color="k", lw=1.5)
    ax.set(xlabel="x1", ylabel="x2")
plt.show()
