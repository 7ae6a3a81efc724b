"""
A router over models you already have
=====================================

Sometimes the experts exist before the mixture does: a model per site, per
season or per product line, each trained and validated on its own data, and
perhaps too costly or too regulated to retrain. What is missing is a router
that decides which model to trust for a new row.

Wrap each model in scikit-learn's ``FrozenEstimator`` and a mixture learns
exactly that: EM never refits a frozen expert, it only learns the gate and
each model's noise level. That takes far fewer rows than training new
models, because the hard part is already done.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import SplineTransformer

from skmoe import MixtureOfExpertsRegressor

# %%
# Two models from last year
# -------------------------
# Electricity demand depends on the temperature, in one way on working days
# and in another at weekends. Last year someone fitted one curve of demand
# against temperature for working days and one for weekends. The columns of
# ``X`` are the temperature and the day of the week (0 is Monday).


def demand(n, rng):
    temperature = rng.uniform(-5, 35, n)
    day = rng.randint(0, 7, n)
    weekend = day >= 5
    weekday_load = 60 + 0.15 * (temperature - 15) ** 2
    weekend_load = 40 + 0.05 * (temperature - 18) ** 2
    load = np.where(weekend, weekend_load, weekday_load)
    return np.column_stack([temperature, day]), load + 3 * rng.standard_normal(n)


def curve():
    return make_pipeline(SplineTransformer(n_knots=5), LinearRegression())


rng = np.random.RandomState(0)
X_old, y_old = demand(2000, rng)
weekend_old = X_old[:, 1] >= 5
weekday_model = curve().fit(X_old[~weekend_old, :1], y_old[~weekend_old])
weekend_model = curve().fit(X_old[weekend_old, :1], y_old[weekend_old])

# %%
# A router learned from 300 new rows
# ----------------------------------
# The models see the temperature only (``expert_features=[0]``, the column
# they were trained on); the gate sees the day only (``gate_features=[1]``).
# Neither model is refitted: ``router.named_experts_.weekday.estimator`` is
# the very object fitted last year.
X, y = demand(300, rng)
X_test, y_test = demand(5000, rng)
router = MixtureOfExpertsRegressor(
    [
        ("weekday", FrozenEstimator(weekday_model)),
        ("weekend", FrozenEstimator(weekend_model)),
    ],
    gate_features=[1],
    expert_features=[0],
    random_state=0,
).fit(X, y)
print(
    "the frozen model is the old one:",
    router.named_experts_.weekday.estimator is weekday_model,
)

# %%
# How good is it? Either model alone is wrong on the other kind of day, and
# averaging them, as a voting ensemble would, is wrong on both. The router
# picks the right model for each day. A gradient-boosting model trained from
# scratch on the same 300 rows comes close, but it has to relearn both curves
# and the role of the day from those rows alone.
temperature = X_test[:, :1]
candidates = {
    "working-day model alone": weekday_model.predict(temperature),
    "weekend model alone": weekend_model.predict(temperature),
    "average of the two": (
        weekday_model.predict(temperature) + weekend_model.predict(temperature)
    )
    / 2,
    "router (mixture)": router.predict(X_test),
    "boosting, 300 new rows": GradientBoostingRegressor(random_state=0)
    .fit(X, y)
    .predict(X_test),
}
for name, prediction in candidates.items():
    print(f"{name:24s} R^2 = {r2_score(y_test, prediction):.3f}")

# %%
# What the router learned
# -----------------------
# The gate's probability of the weekend model for each day of the week: it
# learned that Saturday and Sunday belong to the weekend model, from the data
# alone.
days = np.column_stack([np.full(7, 20.0), np.arange(7)])
p_weekend = router.gate_proba(days)[:, 1]
print("P(weekend model), Monday to Sunday:", p_weekend.round(3))

fig, (ax_curves, ax_gate) = plt.subplots(
    1, 2, figsize=(11, 4), layout="constrained", width_ratios=[3, 2]
)
grid = np.linspace(-5, 35, 200)[:, None]
is_weekend = X[:, 1] >= 5
ax_curves.scatter(
    X[~is_weekend, 0],
    y[~is_weekend],
    s=8,
    color="C0",
    alpha=0.5,
    label="new rows, working days",
)
ax_curves.scatter(
    X[is_weekend, 0],
    y[is_weekend],
    s=8,
    color="C1",
    alpha=0.5,
    label="new rows, weekends",
)
ax_curves.plot(grid, weekday_model.predict(grid), color="C0", label="working-day model")
ax_curves.plot(grid, weekend_model.predict(grid), color="C1", label="weekend model")
ax_curves.set(
    xlabel="temperature (°C)",
    ylabel="demand",
    title="Two prefit models and the new data",
)
ax_curves.legend(fontsize="small")
ax_gate.bar(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], p_weekend, color="C1")
ax_gate.set(
    ylim=(0, 1),
    ylabel="gate probability of the weekend model",
    title="What the router learned",
)
plt.show()
