"""Model complexity: the number of free parameters of a fitted mixture, and the
information criteria (BIC, AIC) built on it.

A mixture's parameters are its gate's, its experts' and its likelihood's (one
noise variance per regression expert, one error rate per classification
expert that predicts labels only). They can be counted only where every part
is a parametric model of fixed size; a tree, k-nearest neighbours or a kernel
machine adapts its complexity to the data, so no count exists and the
criteria are refused with the reason.

The counting lives in pure functions; :class:`InformationCriteriaMixin` puts
``bic`` and ``aic`` on the mixtures.
"""

import numpy as np
from sklearn.base import is_regressor
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._estimators import has_own_likelihood
from ._fast_mstep import scales_columns_only
from .rules import RuleExpert

__all__ = [
    "InformationCriteriaMixin",
    "aic_from_log_likelihood",
    "bic_from_log_likelihood",
    "n_parameters",
]

# Regression experts whose mean has one parameter per coefficient (and one for
# the intercept). Ridge's effective degrees of freedom (the trace of its hat
# matrix) are fewer; counting coefficients overstates its complexity, which
# makes the criteria conservative for ridge experts.
_LINEAR_REGRESSORS = (LinearRegression, Ridge)

# Gates whose probabilities are a multinomial logit of their inputs.
_LOGIT_GATES = ("SoftmaxGate", "LogisticRegression")


def _linear_mean_parameters(expert):
    """Coefficients plus intercept of a fitted single-target linear model."""
    coef = np.asarray(expert.coef_)
    if coef.ndim > 1 and coef.shape[0] != 1:
        raise ValueError(
            f"{type(expert).__name__} has {coef.shape[0]} targets; a mixture's "
            "regression expert predicts one."
        )
    return coef.size + int(bool(expert.fit_intercept))


def _logit_parameters(n_classes, n_features, fit_intercept=True):
    """Free parameters of a multinomial logit over ``n_classes`` classes.

    Softmax is unchanged by adding one vector to every class's coefficients,
    so one class serves as reference: ``(n_classes - 1) * (n_features + 1)``
    with an intercept; binary logistic regression is the case of 2 classes.
    """
    return (n_classes - 1) * (n_features + int(bool(fit_intercept)))


def _counted_model(estimator):
    """The estimator whose parameters count: the last step of a Pipeline
    whose other steps only rescale or fill in columns (StandardScaler,
    SimpleImputer, ...: fitted to X alone, outside the likelihood of y, and
    leaving the model as many coefficients); else the estimator itself."""
    if type(estimator) is Pipeline and scales_columns_only(estimator):
        return estimator.steps[-1][1]
    return estimator


def _unknown_count(name, expert, role):
    return ValueError(
        f"The number of free parameters is unknown for the {role} {name!r} "
        f"({type(expert).__name__}), so bic and aic are not defined for this "
        "mixture: they are counted for LinearRegression, Ridge and "
        "LogisticRegression experts, fixed experts (FrozenEstimator, "
        "RuleExpert), SoftmaxGate or LogisticRegression gates (alone or after "
        "column-wise scalers and imputers in a Pipeline), and mixtures of "
        "them. Trees, k-nearest neighbours, kernel machines and boosting adapt "
        "their complexity to the data and have no fixed count. Choose "
        "n_experts by cross-validation instead (MixtureOfExpertsRegressorCV / "
        "MixtureOfExpertsClassifierCV)."
    )


def expert_parameters(name, expert, kind):
    """Free parameters of one fitted expert's own model.

    Parameters
    ----------
    name : str
        The expert's name, for the error message.
    expert : fitted estimator
    kind : {"regressor", "classifier"}
        The kind of mixture it serves in.

    Returns
    -------
    n_params : int
        Parameters of the expert's prediction (its coefficients), plus those
        the mixture's likelihood adds for it: one noise variance for a
        regression expert, one error rate for a classification expert without
        ``predict_proba``. A nested mixture counts all of its own (it reports
        its own likelihood, so the parent adds nothing to it).

    Raises
    ------
    ValueError
        If the expert has no fixed number of parameters.
    """
    if isinstance(expert, InformationCriteriaMixin):
        return n_parameters(expert)
    model = _counted_model(expert)
    if isinstance(expert, (FrozenEstimator, RuleExpert)):
        own = 0  # never refitted: nothing of it is estimated
    elif kind == "regressor" and isinstance(model, _LINEAR_REGRESSORS):
        own = _linear_mean_parameters(model)
    elif kind == "classifier" and isinstance(model, LogisticRegression):
        own = _logit_parameters(
            len(model.classes_), model.coef_.shape[1], model.fit_intercept
        )
    else:
        raise _unknown_count(name, expert, "expert")
    if kind == "regressor":
        # Its noise variance, unless it reports its own likelihood (a prefit
        # mixture), which the mixture then uses instead of a Gaussian.
        return own + int(not has_own_likelihood(expert))
    # A classifier without probabilities gets a smoothed one-hot whose
    # smoothing (its error rate) EM estimates.
    return own + int(not hasattr(expert, "predict_proba"))


def gate_parameters(gate, n_experts):
    """Free parameters of a fitted gate over ``n_experts`` experts.

    Parameters
    ----------
    gate : fitted SoftmaxGate, LogisticRegression or None
        Alone or after column-wise scalers and imputers in a Pipeline; None
        (a single expert, no gate) has none.
    n_experts : int

    Returns
    -------
    n_params : int
        ``(n_experts - 1) * (n_gate_features + 1)``, the multinomial logit's.

    Raises
    ------
    ValueError
        If the gate has no fixed number of parameters.
    """
    if gate is None or n_experts == 1:
        return 0
    model = _counted_model(gate)
    if type(model).__name__ not in _LOGIT_GATES:
        raise _unknown_count("gate", gate, "gate")
    return _logit_parameters(
        n_experts, model.n_features_in_, getattr(model, "fit_intercept", True)
    )


def n_parameters(mixture):
    """Number of free parameters of a fitted mixture of experts.

    Parameters
    ----------
    mixture : fitted MixtureOfExpertsRegressor or MixtureOfExpertsClassifier
        The mixture whose parameters are counted.

    Returns
    -------
    n_params : int
        The gate's plus every expert's (see :func:`expert_parameters` and
        :func:`gate_parameters`); nested mixtures count theirs recursively.

    Raises
    ------
    ValueError
        If a part has no fixed number of parameters (a tree, kNN, ...).

    Examples
    --------
    Two linear regression experts on 2 features (3 coefficients and a noise
    variance each) and a softmax gate on the same 2 features (3):

    >>> import numpy as np
    >>> from skmoe import MixtureOfExpertsRegressor
    >>> from skmoe._complexity import n_parameters
    >>> rng = np.random.RandomState(0)
    >>> X = rng.standard_normal((100, 2))
    >>> y = np.abs(X[:, 0]) + 0.1 * rng.standard_normal(100)
    >>> moe = MixtureOfExpertsRegressor(n_experts=2, random_state=0).fit(X, y)
    >>> n_parameters(moe)
    11
    """
    check_is_fitted(mixture)
    kind = "regressor" if is_regressor(mixture) else "classifier"
    names = list(mixture.named_experts_)
    count = gate_parameters(mixture.gate_, len(mixture.experts_))
    for name, expert in zip(names, mixture.experts_, strict=True):
        count += expert_parameters(name, expert, kind)
    return int(count)


def bic_from_log_likelihood(total_log_likelihood, n_params, n_samples):
    """Bayesian information criterion: ``-2 log L + n_params log n``.

    Parameters
    ----------
    total_log_likelihood : float
        The log-likelihood summed over the ``n_samples`` rows.
    n_params : int
    n_samples : int

    Returns
    -------
    bic : float
        Lower is better.

    Examples
    --------
    >>> from skmoe._complexity import bic_from_log_likelihood
    >>> round(bic_from_log_likelihood(-100.0, 3, 50), 2)
    211.74
    """
    return float(-2.0 * total_log_likelihood + n_params * np.log(n_samples))


def aic_from_log_likelihood(total_log_likelihood, n_params):
    """Akaike information criterion: ``-2 log L + 2 n_params``.

    Parameters
    ----------
    total_log_likelihood : float
        The log-likelihood summed over the rows.
    n_params : int

    Returns
    -------
    aic : float
        Lower is better.

    Examples
    --------
    >>> from skmoe._complexity import aic_from_log_likelihood
    >>> aic_from_log_likelihood(-100.0, 3)
    206.0
    """
    return float(-2.0 * total_log_likelihood + 2.0 * n_params)


class InformationCriteriaMixin:
    """``bic`` and ``aic`` for mixtures whose parameters can be counted."""

    def bic(self, X, y):
        """Bayesian information criterion of the fitted mixture on ``(X, y)``.

        ``-2 * sum(log_likelihood(X, y)) + n_params * log(n_samples)``, as
        :meth:`sklearn.mixture.GaussianMixture.bic`; lower is better. Compare
        mixtures with different ``n_experts`` on their training data to
        choose how many experts to use.

        The count of free parameters is known for linear experts
        (``LinearRegression`` and ``Ridge``: coefficients, intercept and a
        noise variance; ``LogisticRegression``: ``(n_classes - 1) *
        (n_features + 1)``, the binary case being ``n_features + 1``), fixed
        experts (``FrozenEstimator``, ``RuleExpert``: only their noise or
        error rate), a ``SoftmaxGate`` (``(n_experts - 1) * (n_gate_features
        + 1)``) and mixtures of these (hierarchical mixtures). Ridge's and
        the gate's penalties make their effective degrees of freedom
        smaller than the count; the criterion is then conservative.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs, usually the training data.
        y : array-like of shape (n_samples,)
            Their targets.

        Returns
        -------
        bic : float
            The criterion; lower is better.

        Raises
        ------
        ValueError
            If an expert or the gate has no fixed number of parameters (a
            tree, k-nearest neighbours...); use the CV estimators instead.

        See Also
        --------
        aic : The Akaike criterion, a smaller penalty.

        Examples
        --------
        Three linear regimes: the criterion is lowest at three experts.

        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(600, 1))
        >>> y = np.select([X[:, 0] < -1, X[:, 0] < 1], [-2 * X[:, 0], 2.0], X[:, 0])
        >>> y = y + 0.1 * rng.standard_normal(600)
        >>> bics = [
        ...     MixtureOfExpertsRegressor(n_experts=k, random_state=0)
        ...     .fit(X, y)
        ...     .bic(X, y)
        ...     for k in (1, 2, 3, 4)
        ... ]
        >>> int(np.argmin(bics)) + 1
        3
        """
        log_likelihood = self.log_likelihood(X, y)
        return bic_from_log_likelihood(
            log_likelihood.sum(), n_parameters(self), len(log_likelihood)
        )

    def aic(self, X, y):
        """Akaike information criterion of the fitted mixture on ``(X, y)``.

        ``-2 * sum(log_likelihood(X, y)) + 2 * n_params``, as
        :meth:`sklearn.mixture.GaussianMixture.aic`; lower is better. The
        parameters are counted as for :meth:`bic`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs, usually the training data.
        y : array-like of shape (n_samples,)
            Their targets.

        Returns
        -------
        aic : float
            The criterion; lower is better.

        Raises
        ------
        ValueError
            If an expert or the gate has no fixed number of parameters.

        See Also
        --------
        bic : The Bayesian criterion, whose penalty grows with ``log(n)``.

        Examples
        --------
        One linear regression expert: 2 coefficients, an intercept and a
        noise variance.

        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.standard_normal((50, 2))
        >>> y = X @ [1.0, -1.0] + rng.standard_normal(50)
        >>> moe = MixtureOfExpertsRegressor(n_experts=1).fit(X, y)
        >>> total = moe.log_likelihood(X, y).sum()
        >>> bool(np.isclose(moe.aic(X, y), -2 * total + 2 * 4))
        True
        """
        return aic_from_log_likelihood(
            self.log_likelihood(X, y).sum(), n_parameters(self)
        )
