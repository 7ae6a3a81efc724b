"""
A domain rule next to a learned expert
======================================

Part of the answer is often known in advance: a physical law, a guideline, a
rule in a contract. ``skmoe.rules.RuleExpert`` turns such a function into an
expert. EM never changes the rule, but it learns where the rule holds (the
gate) and how noisy it is there (its noise variance), and a learned expert
covers the rest. The mixture then tells you where your rule stops being
right.

A wind turbine's power grows with the cube of the wind speed until the
turbine reaches its rated power; above that speed a controller caps the
output. The cube law is textbook physics; the cap is a property of this
turbine that no one wrote down.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.tree import DecisionTreeRegressor

from skmoe import MixtureOfExpertsRegressor
from skmoe.plotting import ExpertCurvesDisplay
from skmoe.rules import RuleExpert


# %%
# The rule and the data
# ---------------------
# The rule is a plain function of ``X``. Define it at module level (not as a
# lambda), so that a fitted mixture can be pickled. The turbine's real output
# follows the rule up to 10 MW and stays there, with noise of standard
# deviation 0.3. There are only 150 rows to learn from.
def cube_law(X):
    """Power in MW below the rated speed: 0.01 * speed ** 3."""
    return 0.01 * X[:, 0] ** 3


def turbine(n, rng):
    speed = rng.uniform(3, 15, n)
    power = np.minimum(0.01 * speed**3, 10.0) + 0.3 * rng.standard_normal(n)
    return speed[:, None], power


rng = np.random.RandomState(0)
X, y = turbine(150, rng)
X_test, y_test = turbine(3000, rng)

# %%
# The rule alone is useless above the rated speed, where it keeps climbing.
# Next to it, a ``LinearRegression`` expert; the gate decides which to trust.
moe = MixtureOfExpertsRegressor(
    [("physics", RuleExpert(cube_law)), ("learned", LinearRegression())],
    random_state=0,
).fit(X, y)
print(f"rule alone:          R^2 = {r2_score(y_test, cube_law(X_test)):.3f}")
print(f"rule + linear:       R^2 = {moe.score(X_test, y_test):.3f}")

# %%
# For comparison, models that have to learn everything from the 150 rows:
two_lines = MixtureOfExpertsRegressor(n_experts=2, random_state=0).fit(X, y)
tree = DecisionTreeRegressor(max_depth=3, random_state=0).fit(X, y)
print(f"two linear experts:  R^2 = {two_lines.score(X_test, y_test):.3f}")
print(f"tree (depth 3):      R^2 = {tree.score(X_test, y_test):.3f}")

# %%
# What the mixture learned about the rule
# ---------------------------------------
# The gate hands the rule everything below 10 m/s, exactly the rated speed,
# and the learned expert everything above; that expert is nearly flat at 10 MW,
# the cap. EM estimates both experts' noise close to the true 0.3. Nobody told
# the mixture where the rule stops holding: the rule's likelihood did.
speeds = np.linspace(3, 15, 1201)[:, None]
trust_rule = moe.gate_proba(speeds)[:, 0]
print(f"the rule is trusted below {speeds[trust_rule > 0.5].max():.2f} m/s")
learned = moe.named_experts_.learned
print(f"learned expert: {learned.intercept_:.2f} + {learned.coef_[0]:.3f} * speed")
print("noise standard deviations (physics, learned):", np.sqrt(moe.noise_var_).round(2))

# %%
# The figure shows the rule and the learned expert (dashed) where the gate
# trusts each, the mixture's mean and band, and below it the gate's trust in
# each.
disp = ExpertCurvesDisplay.from_estimator(moe, X, y)
disp.ax_.set(
    title="A physical law and a learned expert", ylabel="power (MW)", ylim=(-1, 14)
)
disp.gate_ax_.set_xlabel("wind speed (m/s)")
plt.show()
