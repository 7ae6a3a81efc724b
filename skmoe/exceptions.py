"""Warnings and errors that skmoe raises, in one public module.

They are also importable from ``skmoe`` itself. Each warning says what
happened and what to do about it.
"""

__all__ = [
    "DeadExpertWarning",
    "DegenerateFitWarning",
    "ExpertOutputError",
    "InconsistentVersionWarning",
    "LocalOptimumWarning",
    "WarmStartWarning",
]


class DeadExpertWarning(UserWarning):
    """An expert received almost none of the responsibility during EM.

    Raised with what skmoe did about it (re-seeded, pruned or kept, as
    ``dead_expert`` says). Remedies: fewer experts, another ``init_params``,
    more ``n_init``, or a load-balancing penalty (``balance``).

    See Also
    --------
    DegenerateFitWarning : A fit that ended on a degenerate solution.

    Examples
    --------
    A start that leaves the second expert almost no responsibility: with
    ``dead_expert="prune"`` it is dropped, and the warning says so (once: with
    ``n_init=1``, as every start from ``init_resp`` would warn).

    >>> import warnings
    >>> import numpy as np
    >>> from skmoe import DeadExpertWarning, MixtureOfExpertsRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-3, 3, size=(200, 1))
    >>> y = 2 * X[:, 0] + 0.1 * rng.standard_normal(200)
    >>> start = np.tile([0.9999, 0.0001], (200, 1))
    >>> moe = MixtureOfExpertsRegressor(
    ...     n_experts=2, n_init=1, dead_expert="prune", random_state=0
    ... )
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     moe = moe.fit(X, y, init_resp=start)
    >>> [w.category.__name__ for w in caught]
    ['DeadExpertWarning']
    >>> len(moe.experts_)
    1
    """


class DegenerateFitWarning(UserWarning):
    """The fit finished, but on a degenerate solution.

    Raised at the end of ``fit`` when the data leave the mixture nothing to
    estimate in some part: a constant regression target; regression experts
    that fit their rows exactly, so that their noise variance sits at its
    floor (``reg_var`` times an estimate of the noise variance) and the
    gate's trust in them is set by that floor rather than by the data; or a
    prefit classification expert that knows none of ``y``'s classes (labels
    encoded otherwise), whose probabilities are then the same for every row.
    The model is usable
    (its predictions and log-likelihood are finite); the message says what is
    degenerate and what to change.

    See Also
    --------
    DeadExpertWarning : An expert that receives almost no responsibility.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from skmoe import DegenerateFitWarning, MixtureOfExpertsRegressor
    >>> X = np.arange(10.0).reshape(-1, 1)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     moe = MixtureOfExpertsRegressor(random_state=0).fit(X, np.ones(10))
    >>> [w.category.__name__ for w in caught]
    ['DegenerateFitWarning']
    >>> moe.predict([[3.0]])
    array([1.])
    """


class ExpertOutputError(ValueError):
    """An expert's output cannot enter the mixture.

    Raised when an expert returns predictions of the wrong shape, NaN or
    infinite values, complex numbers, probabilities that are negative or do
    not sum to 1, or duplicate ``classes_``. The message names the expert
    and, during EM, the iteration. It is a :class:`ValueError`, so code that
    catches ``ValueError`` keeps working.

    See Also
    --------
    DegenerateFitWarning : A fit that finished, but on a degenerate solution.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyRegressor
    >>> from skmoe import ExpertOutputError, MixtureOfExpertsRegressor
    >>> class NaNRegressor(DummyRegressor):
    ...     def predict(self, X):
    ...         return np.full(len(X), np.nan)
    >>> X = np.arange(20.0).reshape(-1, 1)
    >>> moe = MixtureOfExpertsRegressor(NaNRegressor(), n_experts=2)
    >>> try:
    ...     moe.fit(X, X[:, 0])
    ... except ExpertOutputError as exc:
    ...     print(str(exc)[:52])
    Expert 'expert0' (NaNRegressor) gave unusable output
    """


class LocalOptimumWarning(UserWarning):
    """EM probably stopped in a poor local optimum.

    Raised at the end of ``fit`` when a live expert holds less than a tenth
    of its fair share of the rows (a start EM could not leave often looks so),
    or when the starts that finished (converged, not left after their short
    run of ``init_max_iter`` iterations) ended in optima whose
    log-likelihoods per row differ by more than 0.01. ``converged_`` only
    says that the log-likelihood stopped moving, not that it stopped at the
    best place; the message says what to try (more starts, a y-aware start,
    fewer experts).

    See Also
    --------
    DeadExpertWarning : An expert that receives almost no responsibility.
    skmoe.plotting.ConvergenceDisplay : The log-likelihood of every start.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from skmoe import LocalOptimumWarning, MixtureOfExpertsRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-3, 3, size=(600, 1))
    >>> y = np.abs(X[:, 0]) + 0.1 * rng.standard_normal(600)
    >>> start = np.tile([0.495, 0.495, 0.01], (600, 1))
    >>> moe = MixtureOfExpertsRegressor(n_experts=3, max_iter=2, tol=1e9)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     moe = moe.fit(X, y, init_resp=start)
    >>> [w.category.__name__ for w in caught]
    ['LocalOptimumWarning']
    """


class WarmStartWarning(UserWarning):
    """``warm_start=True`` could not continue from the fitted model.

    A warm start continues EM only from what is compatible with the
    estimator's parameters and the data: changed hyper-parameters of the
    experts or the gate take effect at once, but a changed set of experts,
    ``n_experts``, ``gate_features``, ``expert_features``, number of features
    or set of classes leaves nothing to continue from. ``fit`` then starts
    afresh and this warning says why.

    See Also
    --------
    skmoe.MixtureOfExpertsRegressor : Its ``warm_start`` parameter.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from skmoe import MixtureOfExpertsRegressor, WarmStartWarning
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-3, 3, size=(200, 1))
    >>> y = np.abs(X[:, 0]) + 0.1 * rng.standard_normal(200)
    >>> moe = MixtureOfExpertsRegressor(n_experts=1, warm_start=True, random_state=0)
    >>> moe = moe.fit(X, y)
    >>> moe = moe.set_params(n_experts=2)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     moe = moe.fit(X, y)
    >>> [w.category.__name__ for w in caught]
    ['WarmStartWarning']
    >>> len(moe.experts_)
    2
    """


class InconsistentVersionWarning(UserWarning):
    """An estimator was unpickled with another skmoe version than pickled it.

    skmoe stores its version with every estimator it pickles (``pickle``,
    ``joblib`` and ``skops.io`` alike) and compares it when the estimator is
    loaded, as scikit-learn does with
    :class:`sklearn.exceptions.InconsistentVersionWarning` for its own
    version. Fitted attributes may change between versions, so a model loaded
    by another version may fail or predict differently: refit it with the
    version in use, or load it with the version that saved it. A pickle made
    before skmoe recorded its version reports ``"pre-0.1.0"``.

    Parameters
    ----------
    estimator_name : str
        Name of the estimator's class.
    current_skmoe_version : str
        The skmoe version loading the estimator.
    original_skmoe_version : str
        The skmoe version that saved it.

    See Also
    --------
    sklearn.exceptions.InconsistentVersionWarning : The same for
        scikit-learn's version, which skmoe's experts may also raise.

    Examples
    --------
    Turn the warning into an error to refuse models from other versions:

    >>> import pickle
    >>> import warnings
    >>> import numpy as np
    >>> from skmoe import InconsistentVersionWarning, MixtureOfExpertsRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-3, 3, size=(100, 1))
    >>> y = np.abs(X[:, 0]) + 0.1 * rng.standard_normal(100)
    >>> moe = MixtureOfExpertsRegressor(random_state=0).fit(X, y)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", InconsistentVersionWarning)
    ...     loaded = pickle.loads(pickle.dumps(moe))  # same version: no warning
    >>> state = moe.__getstate__()
    >>> state["_skmoe_version"] = "0.0.1"
    >>> old = MixtureOfExpertsRegressor.__new__(MixtureOfExpertsRegressor)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     old.__setstate__(state)
    >>> caught[0].message.original_skmoe_version
    '0.0.1'
    """

    def __init__(
        self, *, estimator_name, current_skmoe_version, original_skmoe_version
    ):
        self.estimator_name = estimator_name
        self.current_skmoe_version = current_skmoe_version
        self.original_skmoe_version = original_skmoe_version

    def __str__(self):
        return (
            f"Trying to unpickle estimator {self.estimator_name} from skmoe "
            f"version {self.original_skmoe_version} when using version "
            f"{self.current_skmoe_version}. This might lead to breaking code or "
            "invalid results. Use at your own risk. Refit the model with this "
            "version, or load it with the version that saved it; see the "
            "persistence page of the skmoe documentation."
        )
