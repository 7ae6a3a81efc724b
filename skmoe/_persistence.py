"""The skmoe version a pickled estimator was saved with, as scikit-learn does
for its own version.

It lives in a module of its own because every estimator class of skmoe
(mixtures, ``SoftmaxGate``, ``RuleExpert``) uses it, and ``rules.py`` sits at
the bottom of the package's imports.
"""

import warnings

from .exceptions import InconsistentVersionWarning

# What a pickle saved before skmoe recorded its version reports, as
# scikit-learn reports "pre-0.18".
UNRECORDED_VERSION = "pre-0.1.0"

# Where the API reference puts a public class (docs/api.rst: generated/).
DOC_LINK_TEMPLATE = (
    "https://skmoe.readthedocs.io/en/latest/generated/"
    "{estimator_module}.{estimator_name}.html"
)


def _current_version():
    # Read at call time, from the package, so that the version in use is the
    # one the package reports.
    import skmoe

    return skmoe.__version__


class VersionedStateMixin:
    """What makes an estimator skmoe's own: its version in the pickled state,
    compared on loading, and the link to its page in the HTML repr.

    Put it left of :class:`~sklearn.base.BaseEstimator` in the bases, so that
    its ``__getstate__`` / ``__setstate__`` wrap scikit-learn's. scikit-learn
    records its own version only for classes in ``sklearn.*`` modules.
    """

    # The "?" icon of the HTML repr opens the class's page of skmoe's API
    # reference, as scikit-learn's own classes open theirs.
    _doc_link_module = "skmoe"
    _doc_link_template = DOC_LINK_TEMPLATE

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
