"""
The whole predictive distribution: quantiles, intervals and samples
===================================================================

A mixture of regression experts predicts a distribution, not only a number:
for an input ``x`` it says ``p(y | x) = sum_i g_i(x) N(y; mu_i(x), sigma_i^2)``.
``predict(X, return_std=True)`` summarises it by its mean and standard
deviation, which is all there is to say about one Gaussian. Where the gate
hesitates between experts that disagree, though, the distribution has two
modes, and ``mean +/- 1.645 std`` is the wrong 90 % interval: too wide, and
centred on the trough between the modes, where ``y`` is least likely.

``predict_quantiles``, ``predict_interval`` and ``sample_y`` use the mixture
itself: quantiles come from its exact CDF, samples from its components.
"""

import matplotlib.pyplot as plt
import numpy as np

from skmoe import MixtureOfExpertsRegressor

# %%
# Two regimes with a soft border
# ------------------------------
# Left of zero ``y`` mostly follows ``1 + 2x``, right of it ``4 - x``; near
# zero a row may belong to either, with the probability of the right-hand
# regime rising smoothly (a logistic curve in ``2x``). The noise sd is 0.3.


def two_soft_regimes(n, rng):
    x = rng.uniform(-3, 3, n)
    right = rng.uniform(size=n) < 1 / (1 + np.exp(-2 * x))
    y = np.where(right, 4 - x, 1 + 2 * x) + 0.3 * rng.standard_normal(n)
    return x[:, None], y


rng = np.random.RandomState(0)
X, y = two_soft_regimes(2000, rng)
X_test, y_test = two_soft_regimes(10_000, rng)
moe = MixtureOfExpertsRegressor(n_experts=2, random_state=0).fit(X, y)

# %%
# Exact intervals against the ``+/- 1.645 std`` band
# --------------------------------------------------
# Both claim 90 %. On new rows from the same source, count how often each
# holds the target: over all rows, and on the rows near the border
# (``|x| < 0.75``) where the distribution has two modes.
lower, upper = moe.predict_interval(X_test, coverage=0.9).T
mean, std = moe.predict(X_test, return_std=True)
in_exact = (lower <= y_test) & (y_test <= upper)
in_band = np.abs(y_test - mean) <= 1.645 * std
border = np.abs(X_test[:, 0]) < 0.75
for name, rows in [("all rows", slice(None)), ("border rows", border)]:
    print(
        f"{name:12s} coverage: exact {in_exact[rows].mean():.2f}, "
        f"band {in_band[rows].mean():.2f};  mean width: exact "
        f"{(upper - lower)[rows].mean():.1f}, band {3.29 * std[rows].mean():.1f}"
    )

# %%
# The exact interval holds 90 % everywhere. The band over-covers on the
# border, because it is wider than it needs to be: a Gaussian with the
# mixture's variance spreads its mass over the trough between the modes.
#
# The density at the border
# -------------------------
# ``log_likelihood(X, y)`` is ``log p(y | x)``: evaluated on a grid of ``y`` at
# one ``x`` it draws the predictive density. Draws from ``sample_y`` follow
# it; the mean (dotted) lies where almost no draw does.
x0 = 0.0
grid = np.linspace(-2, 7, 400)
density = np.exp(moe.log_likelihood(np.full((len(grid), 1), x0), grid))
draws = moe.sample_y([[x0]], n_samples=4000, random_state=0)[0]
(lo0, hi0), (mean0, std0) = (
    moe.predict_interval([[x0]], coverage=0.9)[0],
    [v[0] for v in moe.predict([[x0]], return_std=True)],
)

fig, (ax_x, ax_y) = plt.subplots(1, 2, figsize=(11, 4.2))

# Left: the 5 %, 50 % and 95 % quantiles along x, against the band.
x_grid = np.linspace(-3, 3, 300)[:, None]
quantiles = moe.predict_quantiles(x_grid, [0.05, 0.5, 0.95])
grid_mean, grid_std = moe.predict(x_grid, return_std=True)
ax_x.scatter(X[:, 0], y, s=4, color="0.75", label="training rows")
ax_x.plot(x_grid, quantiles[:, 1], color="C0", label="median")
ax_x.fill_between(
    x_grid[:, 0],
    quantiles[:, 0],
    quantiles[:, 2],
    color="C0",
    alpha=0.25,
    label="exact 90 % interval",
)
for sign in [-1, 1]:
    ax_x.plot(x_grid, grid_mean + sign * 1.645 * grid_std, "--", color="C3")
ax_x.plot([], [], "--", color="C3", label="mean ± 1.645 std")
ax_x.axvline(x0, color="0.4", lw=0.8)
ax_x.set(xlabel="x", ylabel="y", title="Quantiles follow the two regimes")
ax_x.legend(loc="lower right", fontsize="small")

# Right: the predictive density at x = 0.
ax_y.hist(draws, bins=60, density=True, color="0.8", label="sample_y draws")
ax_y.plot(grid, density, color="C0", label="p(y | x = 0)")
ax_y.axvspan(lo0, hi0, color="C0", alpha=0.15, label="exact 90 % interval")
for end in [mean0 - 1.645 * std0, mean0 + 1.645 * std0]:
    ax_y.axvline(end, ls="--", color="C3")
ax_y.axvline(mean0, ls=":", color="k", label="mean")
ax_y.plot([], [], "--", color="C3", label="mean ± 1.645 std")
ax_y.set(xlabel="y", ylabel="density", title="Two modes at the border x = 0")
ax_y.legend(loc="upper left", fontsize="small")
fig.tight_layout()
plt.show()

# %%
# On the left, the median jumps from one line to the other where the gate
# crosses one half, and the upper end of the interval jumps to the upper line
# where that regime's weight passes 5 %: an equal-tailed interval ends where
# the probability mass says, even if that means spanning the gap between the
# modes. The band instead bulges smoothly over both lines and beyond them.
#
# These intervals are model-based: they are right when the fitted mixture is
# the true distribution, as here. When the noise is not Gaussian or the
# experts are misspecified, wrap the mixture in a conformal method (the user
# guide shows MAPIE's) for intervals with guaranteed coverage.
