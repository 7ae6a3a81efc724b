"""
Dead experts and load balancing
===============================

Neural mixtures of experts are prone to collapse: the experts chosen early get
the training signal, improve, and are chosen even more, while the others
starve. The usual remedy there is a load-balancing loss. In EM collapse is
rarer, since the k-means start gives every expert a region and soft
responsibilities keep every expert in play, but an expert can still end up
with nothing: after a bad start, or when a neighbour wins all of its rows.
Once an expert has no rows, EM cannot revive it: its fit carries no
information, it explains no row better than the others, and the gate learns
to give it nothing.

skmoe watches every expert's share of the responsibility
(``expert_weights_``). An expert whose share falls below
``min_expert_weight`` is *dead*, and ``dead_expert`` says what happens:
``"reseed"`` (the default) hands it the rows the mixture explains worst,
``"prune"`` removes it, ``"keep"`` leaves it. Each raises a
``DeadExpertWarning`` saying what was done.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import softmax
from sklearn.linear_model import Ridge

from skmoe import DeadExpertWarning, MixtureOfExpertsRegressor
from skmoe.plotting import ExpertUsageDisplay

# %%
# A start that starves an expert
# ------------------------------
# Three linear regimes under a soft gate, three ``Ridge`` experts, and a start
# (``init_params`` can be an array of responsibilities) that gives the third
# expert nothing. A penalised expert is the typical victim: with weights that
# are all close to zero, its penalty outweighs its rows and it shrinks to a
# constant that explains nothing.


def linear_mixture(n, seed):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, 2))
    gate = softmax(X @ [[2.5, -2.5, 0.0], [0.0, 0.0, 2.5]], axis=1)
    expert = (gate.cumsum(axis=1) > rng.uniform(size=(n, 1))).argmax(axis=1)
    coef = np.array([[1.0, 2.0, -1.0], [-1.0, -1.0, 2.0], [0.5, 0.0, -3.0]])
    y = coef[expert, 0] + (coef[expert, 1:] * X).sum(axis=1)
    return X, y + 0.5 * rng.standard_normal(n)


X, y = linear_mixture(1500, seed=3)
X_test, y_test = linear_mixture(5000, seed=4)
start = np.full((1500, 3), 1e-12)
start[:750, 0] = start[750:, 1] = 1.0

models = {}
for policy in ["prune", "reseed"]:
    moe = MixtureOfExpertsRegressor(
        Ridge(),
        n_experts=3,
        min_expert_weight=0.01,
        dead_expert=policy,
        random_state=0,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DeadExpertWarning)
        moe.fit(X, y, init_resp=start)
    models[policy] = moe
    held_out = moe.log_likelihood(X_test, y_test).mean()
    print(
        f"{policy}: shares {moe.expert_weights_.round(2)}, "
        f"held-out log-likelihood {held_out:.3f}"
    )
    for warning in caught:
        print("  DeadExpertWarning:", warning.message)

# %%
# Pruned, the dead expert is gone and the mixture has two experts for three
# regimes. Re-seeded on the rows the other two explained worst, the third
# expert finds the third regime, and the held-out log-likelihood rises by
# about a nat per row. (Kept, with ``dead_expert="keep"``, the starved expert
# may come back by itself, as it happens to here, or stay dead: that is luck,
# not a rule.)
#
# The figure shows each mixture's usage on the test rows: the share of rows
# routed to each expert and the gate's mean confidence on them. Pruned, two
# experts share three regimes; after re-seeding, every expert has a regime of
# its own.
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained", sharey=True)
for ax, (policy, moe) in zip(axes, models.items(), strict=True):
    ExpertUsageDisplay.from_estimator(moe, X_test, ax=ax)
    ax.set_title(f'dead_expert="{policy}"')
plt.show()

# %%
# Why load balancing is off by default
# ------------------------------------
# ``balance`` adds the load-balancing term of neural mixtures,
# ``M * sum_i p_i f_i``, to the gate's objective (with the soft share
# ``f_i = p_i``, since the top-1 share has no gradient). It pulls the experts'
# shares towards ``1 / M``. In a classical mixture of experts unequal shares
# are usually *right*: regimes of different sizes deserve different shares.
# Here three quarters of the rows lie in one of two regimes, and balancing
# moves the border into the larger one:


def three_to_one(n, seed):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-3, 1, size=(n, 1))  # 3/4 of the rows left of 0
    y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
    return X, y + 0.3 * rng.standard_normal(n)


X, y = three_to_one(600, seed=0)
X_test, y_test = three_to_one(5000, seed=1)
for balance in [0.0, 1.0]:
    moe = MixtureOfExpertsRegressor(n_experts=2, balance=balance, random_state=0)
    moe.fit(X, y)
    share = moe.routing_summary(X_test).share
    held_out = moe.log_likelihood(X_test, y_test).mean()
    print(f"balance={balance}: shares {share.round(2)}, held-out {held_out:.3f}")

# %%
# Use ``balance`` when an even load is a goal in itself (experts that must
# each serve part of the traffic), start small (0.01 to 0.1), and check both
# the shares and the held-out log-likelihood. For experts that starve
# completely, ``dead_expert="reseed"`` is the direct remedy.
