"""
Where is each expert trusted? The gate's regions
================================================

The gate of a mixture is a classifier over the experts: for every input it
gives the probability that each expert is the right one. Drawing the expert it
trusts most, over the plane of two inputs, shows how the mixture has divided
the problem, and whether that division makes sense.

Here a machine's power draw depends on its load, but the law changes with the
conditions: one law when it is hot, another when it is humid, a third
otherwise. Temperature and humidity decide the regime; load drives the power
within a regime. So the gate is given the first two columns
(``gate_features``) and the experts the third (``expert_features``), which
makes both parts easy to read.
"""

import itertools

import matplotlib.pyplot as plt
import numpy as np

from skmoe import MixtureOfExpertsRegressor
from skmoe.plotting import ExpertUsageDisplay, GateProfileDisplay, GateRegionsDisplay

# %%
# Three regimes
# -------------
# Hot (above 25 °C): power = 8 + 1.5 load. Otherwise, humid (above 60%):
# 2 + 3 load. Otherwise mild: 1 + load. Noise of standard deviation 0.5.
COEF = np.array([[8.0, 1.5], [2.0, 3.0], [1.0, 1.0]])


def machine(n, rng):
    temperature = rng.uniform(0, 40, n)
    humidity = rng.uniform(0, 100, n)
    load = rng.uniform(0, 10, n)
    regime = np.where(temperature > 25, 0, np.where(humidity > 60, 1, 2))
    power = COEF[regime, 0] + COEF[regime, 1] * load + 0.5 * rng.standard_normal(n)
    return np.column_stack([temperature, humidity, load]), power, regime


rng = np.random.RandomState(0)
X, y, regime = machine(600, rng)
X_test, y_test, regime_test = machine(3000, rng)

moe = MixtureOfExpertsRegressor(
    n_experts=3, gate_features=[0, 1], expert_features=[2], random_state=0
).fit(X, y)
print(f"held-out R^2: {moe.score(X_test, y_test):.3f}")

# %%
# Each expert is a straight line in the load. Their intercepts and slopes are
# the three laws, and ``expert_weights_`` is each expert's share of the rows:
# 41% mild, 37% hot and 22% humid, where the true shares are 37.5%, 37.5%
# and 25%. (Experts are sorted by their share, so "expert0" is the one with
# the most rows.)
for name, expert in moe.named_experts_.items():
    print(f"{name}: {expert.intercept_:.2f} + {expert.coef_[0]:.2f} * load")
print("shares:", moe.expert_weights_.round(2))

# %%
# How often does the gate pick the expert of the true regime? Experts have no
# fixed labels, so match them to the regimes in the best order first.
routed = moe.predict_expert(X_test)
agreement = max(
    np.mean(np.array(order)[regime_test] == routed)
    for order in itertools.permutations(range(3))
)
print(f"test rows routed to the expert of their regime: {agreement:.1%}")

# %%
# The regions
# -----------
# Left: the expert the gate trusts most at each temperature and humidity, with
# the training rows coloured by the expert they are routed to. The thin lines
# are contours of the gate's top probability (0.6, 0.8, 0.95): the hand-over
# from one expert to the next is narrow, so the gate is sure almost
# everywhere. The softmax gate draws straight borders; here the true ones are
# ``temperature = 25`` and ``humidity = 60``, and the gate finds both.
#
# Right: the share of rows routed to each expert, and the gate's mean
# probability on those rows (its confidence). A share near zero would flag an
# expert that does nothing; a low confidence, regimes that the gate's inputs
# cannot tell apart.
fig, (ax_regions, ax_usage) = plt.subplots(
    1, 2, figsize=(11, 4.2), layout="constrained", width_ratios=[3, 2]
)
regions = GateRegionsDisplay.from_estimator(moe, X, ax=ax_regions, eps=0)
ax_regions.set(xlabel="temperature (°C)", ylabel="humidity (%)")
ExpertUsageDisplay.from_estimator(moe, X, ax=ax_usage)
plt.show()

# %%
# Along one input, the others held
# --------------------------------
# ``GateProfileDisplay`` draws the gate's probability of each expert along one
# input, the other inputs held at their medians or, as here, at a row of our
# choosing. Along humidity at 15 °C the gate hands over from the mild expert
# to the humid one at 60%; at 35 °C humidity does not matter, and the hot
# expert is trusted throughout. On data with more inputs than two, this is
# the view to start from.
fig, axes = plt.subplots(1, 2, figsize=(11, 3.4), layout="constrained", sharey=True)
for ax, temperature in zip(axes, [15.0, 35.0], strict=True):
    profile = GateProfileDisplay.from_estimator(
        moe,
        X,
        1,
        held_at=[temperature, 50.0, 5.0],
        plot_data=False,
        ax=ax,
        title=f"Gate along humidity at {temperature:.0f} °C",
    )
    profile.ax_.set_xlabel("humidity (%)")
plt.show()
