"""
Choosing the number of experts
==============================

How many experts does a problem need? Too few and regimes get averaged; too
many and experts split a regime between them, fit noise, and make the model
harder to read. There is no rule that works in general, so treat
``n_experts`` like any other hyperparameter: cross-validate it with
``GridSearchCV``.

For mixtures of linear experts there is a cheaper alternative that needs no
refitting: an information criterion (BIC or AIC) computed from the training
log-likelihood and an explicit count of the parameters. This example does
both.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import softmax
from sklearn.model_selection import GridSearchCV, KFold

from skmoe import MixtureOfExpertsRegressor

# %%
# Three overlapping regimes
# -------------------------
# Three linear laws in two inputs. A soft gate picks one per row, so near the
# borders a row may follow either of two laws: ``p(y | x)`` has two modes
# there, which no single prediction can capture.


def three_regimes(n, rng):
    X = rng.uniform(-3, 3, size=(n, 2))
    gate = softmax(X @ np.array([[3.0, -3.0, 0.0], [0.0, 0.0, 3.0]]), axis=1)
    regime = (gate.cumsum(axis=1) > rng.uniform(size=(n, 1))).argmax(axis=1)
    coef = np.array([[2.0, 1.5, -1.0], [-1.0, -2.0, 0.5], [0.0, 0.5, 2.5]])[regime]
    y = coef[:, 0] + (coef[:, 1:] * X).sum(axis=1)
    return X, y + 0.3 * rng.standard_normal(n)


X, y = three_regimes(600, np.random.RandomState(0))

# %%
# Cross-validation
# ----------------
# Two scores for each number of experts. R², the default score of a regressor,
# judges only the mean prediction. The held-out log-likelihood judges the
# whole predictive distribution: the means, each expert's noise and the
# gate's sharpness; it is the score a probabilistic model should be chosen
# by. Any callable ``scorer(estimator, X, y)`` can be a score; ``refit`` says
# which one picks the final model.


def mean_log_likelihood(estimator, X, y):
    return estimator.log_likelihood(X, y).mean()


n_experts = [1, 2, 3, 4, 5]
search = GridSearchCV(
    MixtureOfExpertsRegressor(n_init=2, random_state=0),
    {"n_experts": n_experts},
    scoring={"log-likelihood": mean_log_likelihood, "R2": "r2"},
    refit="log-likelihood",
    cv=KFold(3, shuffle=True, random_state=0),
).fit(X, y)
results = search.cv_results_
print("n_experts  log-likelihood   R^2")
for i, m in enumerate(n_experts):
    print(
        f"{m:9d}  {results['mean_test_log-likelihood'][i]:14.3f}  "
        f"{results['mean_test_R2'][i]:.3f}"
    )
print("chosen:", search.best_params_)

# %%
# The log-likelihood jumps up to three experts and then slowly falls: the extra
# experts only fit noise. R² barely moves beyond three and even ticks up at
# five, within the noise of the folds: the mean prediction of a mixture of
# overlapping regimes cannot get much better, so R² cannot tell three experts
# from five.
#
# Information criteria
# --------------------
# BIC and AIC trade the training log-likelihood against the number of free
# parameters ``p``: ``BIC = -2 log L + p log n`` and ``AIC = -2 log L + 2 p``,
# lower is better. ``log L`` is the total over the training rows,
# ``log_likelihood(X, y).sum()``. For ``M`` linear experts on ``d`` inputs,
# with a softmax gate on the same inputs, count:
#
# * ``M (d + 1)`` expert coefficients and intercepts;
# * ``M`` noise variances;
# * ``(M - 1)(d + 1)`` gate parameters: the softmax is unchanged when the same
#   score is added to every expert, so one expert's row is redundant.
#
# The gate's small penalty makes its effective number of parameters slightly
# smaller; that is ignored here.
n, d = X.shape
bic, aic = [], []
for m in n_experts:
    moe = MixtureOfExpertsRegressor(n_experts=m, n_init=2, random_state=0).fit(X, y)
    log_lik = moe.log_likelihood(X, y).sum()
    p = m * (d + 1) + m + (m - 1) * (d + 1)
    bic.append(-2 * log_lik + p * np.log(n))
    aic.append(-2 * log_lik + 2 * p)
    print(
        f"M={m}: log L = {log_lik:8.1f}, p = {p:2d}, "
        f"BIC = {bic[-1]:7.1f}, AIC = {aic[-1]:7.1f}"
    )

# %%
# BIC chooses three experts, like cross-validation, with one fit per candidate
# instead of one per candidate and fold. AIC penalises parameters less: it is
# nearly flat from three to five experts and picks four, a known tendency of
# AIC to choose too many components for a mixture.
#
# Information criteria need a model with a fixed, countable number of
# parameters fitted by maximum likelihood. Linear and logistic experts
# qualify. Trees, boosting and k-nearest neighbours do not: the splits of a
# tree are chosen from the data, a kNN expert keeps every training row, and
# neither has a parameter count that would mean anything in the formula. For
# such experts, and whenever in doubt, cross-validate.

fig, (ax_cv, ax_ic) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
ax_cv.errorbar(
    n_experts,
    results["mean_test_log-likelihood"],
    yerr=results["std_test_log-likelihood"],
    marker="o",
    capsize=3,
)
ax_cv.set(
    xlabel="n_experts",
    ylabel="held-out log-likelihood per row",
    title="3-fold cross-validation",
    xticks=n_experts,
)
ax_r2 = ax_cv.twinx()
ax_r2.plot(n_experts, results["mean_test_R2"], "s--", color="C1")
ax_r2.set_ylabel("held-out R²", color="C1")
# Differences matter, not levels: draw each criterion minus its minimum, on a
# scale that is linear near zero and logarithmic above 10.
for values, style, name in [(bic, "o-", "BIC"), (aic, "s-", "AIC")]:
    ax_ic.plot(n_experts, np.subtract(values, min(values)), style, label=name)
ax_ic.set_yscale("symlog", linthresh=10)
ax_ic.set(
    xlabel="n_experts",
    ylabel="criterion minus its minimum",
    title="Information criteria (lower is better)",
    xticks=n_experts,
)
ax_ic.legend()
plt.show()
