"""The skmoe version a pickled estimator was saved with, as scikit-learn does
for its own version.

It lives in a module of its own because every estimator class of skmoe
(mixtures, ``SoftmaxGate``, ``RuleExpert``) uses it, and ``rules.py`` sits at
the bottom of the package's imports.
"""

import warnings

# What a pickle saved before skmoe recorded its version reports, as
# scikit-learn reports "pre-0.18".
UNRECORDED_VERSION = "pre-0.1.0"


class InconsistentVersionWarning(UserWarning):
    """An estimator was unpickled with a skmoe version other than the one that
    pickled it.

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
    sklearn.exceptions.InconsistentVersionWarning : the same for
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


def _current_version():
    # Read at call time, from the package, so that the version in use is the
    # one the package reports.
    import skmoe

    return skmoe.__version__


class VersionedStateMixin:
    """Store skmoe's version in the pickled state and compare it on loading.

    Put it left of :class:`~sklearn.base.BaseEstimator` in the bases, so that
    its ``__getstate__`` / ``__setstate__`` wrap scikit-learn's. scikit-learn
    records its own version only for classes in ``sklearn.*`` modules.
    """

    def __getstate__(self):
        state = super().__getstate__()
        return dict(state.items(), _skmoe_version=_current_version())

    def __setstate__(self, state):
        state = dict(state)
        original = state.pop("_skmoe_version", UNRECORDED_VERSION)
        current = _current_version()
        if original != current:
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=type(self).__name__,
                    current_skmoe_version=current,
                    original_skmoe_version=original,
                ),
                stacklevel=2,
            )
        super().__setstate__(state)
