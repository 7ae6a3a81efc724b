import numpy as np, time
from sklearn.tree import DecisionTreeRegressor
from skmoe import MixtureOfExpertsRegressor
rng = np.random.RandomState(0)
X = rng.uniform(-1, 1, size=(500, 2))
regime = 2 * (X[:, 0] > 0) + (X[:, 1] > 0)
coef = rng.normal(scale=3, size=(4, 3))
y = coef[regime, 0] + (coef[regime, 1:] * X).sum(axis=1) + 0.3 * rng.standard_normal(500)
print("### verbose=1"); MixtureOfExpertsRegressor(n_experts=4, verbose=1, random_state=0).fit(X, y)
print("### verbose=2, verbose_interval=5"); MixtureOfExpertsRegressor(n_experts=4, verbose=2, verbose_interval=5, n_init=1, random_state=0).fit(X, y)
