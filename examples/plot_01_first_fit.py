"""
A first fit: two regimes, two experts
=====================================

A mixture of experts is worth trying when data follow different rules in
different parts of the input space. Here the target rises with ``x`` left of
zero and falls right of it. One straight line cannot follow both parts; two
linear experts can, if something decides which of them to trust for each
``x``. That something is the gate, and EM fits experts and gate together.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import train_test_split

from skmoe import MixtureOfExpertsRegressor
from skmoe.plotting import ExpertCurvesDisplay

# %%
# The data
# --------
# 600 rows: a rising line left of 0, a falling one right of it, with noise of
# standard deviation 0.3. A quarter of the rows is held out to judge the fit.
rng = np.random.RandomState(0)
X = rng.uniform(-3, 3, size=(600, 1))
y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
y += 0.3 * rng.standard_normal(600)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
print(X_train.shape, X_test.shape)

# %%
# Fit one line and a mixture of two
# ---------------------------------
# ``MixtureOfExpertsRegressor`` is an ordinary scikit-learn regressor: ``fit``,
# ``predict`` and ``score`` (R²) work as usual. Its experts here are two clones
# of ``LinearRegression``. ``random_state`` fixes the start of EM, so the fit
# is the same every time.
line = LinearRegression().fit(X_train, y_train)
moe = MixtureOfExpertsRegressor(LinearRegression(), n_experts=2, random_state=0)
moe.fit(X_train, y_train)
print(f"one line:    R^2 = {line.score(X_test, y_test):.3f}")
print(f"two experts: R^2 = {moe.score(X_test, y_test):.3f}")

# %%
# What the mixture found
# ----------------------
# Each expert is a fitted ``LinearRegression``: their intercepts and slopes are
# the two lines that generated the data (1 + 2x and 4 - x). ``noise_var_`` is
# each expert's noise variance, close to the true 0.3² = 0.09.
for name, expert in moe.named_experts_.items():
    print(f"{name}: intercept {expert.intercept_:.2f}, slope {expert.coef_[0]:.2f}")
print("noise variances:", moe.noise_var_.round(3))

# %%
# The gate decides, for each input, how much each expert is trusted. Far from
# zero it is sure; at zero, the border, it hesitates. ``return_std=True`` turns
# that hesitation into a wider predictive spread: at the border the model
# says it does not know which rule applies.
x_new = np.array([[-2.0], [0.0], [2.0]])
print("gate probabilities:")
print(moe.gate_proba(x_new).round(2))
mean, std = moe.predict(x_new, return_std=True)
print("prediction:", mean.round(2), "standard deviation:", std.round(2))

# %%
# The figure
# ----------
# ``ExpertCurvesDisplay`` draws the data, each expert's line (dashed) where the
# gate trusts it, the mixture's mean with a band of two standard deviations,
# and below it the gate's probability of each expert. Each expert is trusted
# where its line fits, and the band widens where the gate hands over.
disp = ExpertCurvesDisplay.from_estimator(moe, X_train, y_train)
disp.ax_.set_title("Two linear experts and their gate")
disp.gate_ax_.set_xlabel("x")
plt.show()
