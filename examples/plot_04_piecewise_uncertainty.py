"""
Piecewise regression with honest uncertainty
============================================

A mixture of regression experts gives a whole predictive distribution, not
only a mean: each expert has its own noise level, and the gate says how much
each expert counts at each input. ``predict(X, return_std=True)`` returns the
standard deviation of that distribution. It is small where a precise expert is
in charge, large where a noisy one is, and largest on a border, where the
gate hesitates between experts that disagree.

A single model with one residual standard deviation cannot do this: its band
has the same width everywhere, too wide in quiet regions and too narrow in
noisy ones.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.ensemble import GradientBoostingRegressor

from skmoe import MixtureOfExpertsRegressor
from skmoe.plotting import ExpertCurvesDisplay

# %%
# Three pieces, three noise levels
# --------------------------------
# The target follows a different line on each third of ``[0, 9]``, with
# noise of standard deviation 0.2, 1.0 and 0.4 and jumps at the borders.
SD = np.array([0.2, 1.0, 0.4])


def pieces(n, rng):
    x = rng.uniform(0, 9, n)
    piece = np.digitize(x, [3, 6])
    mean = np.choose(piece, [1 + x, 7 - 0.5 * x, x - 4])
    return x[:, None], mean + SD[piece] * rng.standard_normal(n), piece


rng = np.random.RandomState(0)
X, y, piece = pieces(600, rng)
X_test, y_test, piece_test = pieces(5000, rng)

moe = MixtureOfExpertsRegressor(n_experts=3, random_state=0).fit(X, y)
print("experts' noise standard deviations:", np.sqrt(moe.noise_var_).round(2))

# %%
# EM recovers the three noise levels (the experts are sorted by their share of
# the rows, not by position). Inside a piece, the predictive standard
# deviation is that piece's noise. On the border at ``x = 3`` it is larger
# than on either side: there the gate hesitates between two lines that
# disagree by 1.5, and the disagreement adds to the noise.
x_new = np.array([[1.5], [3.0], [4.5], [7.5]])
mean, std = moe.predict(x_new, return_std=True)
print("x:  ", x_new.ravel())
print("std:", std.round(2))

# %%
# Is the band right?
# ------------------
# If the predictive distribution is right, about 95% of new targets fall within
# two standard deviations of the mean, in every piece. Compare with gradient
# boosting and a band of two residual standard deviations, the same width
# everywhere.
boost = GradientBoostingRegressor(max_depth=2, random_state=0).fit(X, y)
boost_sd = np.std(y - boost.predict(X))
mean, std = moe.predict(X_test, return_std=True)
inside_moe = np.abs(y_test - mean) <= 2 * std
inside_boost = np.abs(y_test - boost.predict(X_test)) <= 2 * boost_sd
print(
    f"R^2: mixture {moe.score(X_test, y_test):.3f}, "
    f"boosting {boost.score(X_test, y_test):.3f}"
)
print("share of test targets inside the band, per piece (noise 0.2, 1.0, 0.4):")
for name, inside in [("mixture", inside_moe), ("boosting", inside_boost)]:
    shares = [inside[piece_test == k].mean() for k in range(3)]
    print(f"  {name:9s}", " ".join(f"{share:.3f}" for share in shares))

# %%
# Both models predict the mean equally well (the same R²), but only the
# mixture knows how far to trust its prediction: its band holds close to 95%
# in each piece. The constant band holds everything in the quiet pieces and
# only about three quarters in the noisy one.
#
# The figure shows each expert (dashed) where the gate trusts it, the
# mixture's mean and its band of two standard deviations, with the constant
# band of the boosted model in dotted lines for comparison, and below it the
# gate's probability of each expert.
disp = ExpertCurvesDisplay.from_estimator(moe, X, y)
grid = np.linspace(0, 9, 300)[:, None]
for sign in [-1, 1]:
    disp.ax_.plot(grid, boost.predict(grid) + sign * 2 * boost_sd, ":", color="0.3")
disp.ax_.plot([], [], ":", color="0.3", label="boosting ± 2 residual std")
# Redraw the legend with the new entry, to the right of the data as before.
disp.ax_.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize="small")
disp.ax_.set_title("Three pieces, three noise levels")
disp.gate_ax_.set_xlabel("x")
plt.show()
