"""Fixed experts: domain rules that take part in a mixture without training."""

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, validate_data

from ._persistence import VersionedStateMixin

__all__ = ["RuleExpert"]


def _returns_probabilities(expert):
    return expert.classes is not None


def _check_classes(classes):
    """``classes`` as a 1-D array of distinct labels, or a clear error."""
    labels = None if isinstance(classes, str) else np.asarray(classes, dtype=object)
    valid = labels is not None and labels.ndim == 1 and len(labels) > 0
    try:
        valid = valid and len(set(labels.tolist())) == len(labels)
    except TypeError:  # unhashable labels, such as lists
        valid = False
    if not valid:
        raise ValueError(
            "RuleExpert's 'classes' must be None or a 1-D sequence of distinct "
            f"class labels, one per column the rule returns; got {classes!r}."
        )
    return np.asarray(classes)


class RuleExpert(VersionedStateMixin, BaseEstimator):
    """An expert that is a fixed rule: a callable from ``X`` to predictions.

    A mixture never trains a ``RuleExpert``; the gate learns where to trust it,
    and EM still learns how noisy it is (the noise variance of a regression
    rule, the error rate of a classification rule), so a rule competes fairly
    with learned experts: it wins the rows it explains best.

    Parameters
    ----------
    rule : callable
        ``rule(X) -> predictions`` for a 2-D array ``X`` (the expert's columns):
        values of shape (n_samples,) in a regressor; class labels of shape
        (n_samples,) in a classifier, or, with ``classes`` given, class
        probabilities of shape (n_samples, n_classes). In a classifier, a label
        the mixture never saw means "no opinion" for that row. Use a
        module-level function (not a lambda) so that the expert can be pickled.
    classes : array-like of shape (n_classes,) or None, default=None
        The classes, in the order of the columns the rule returns. Given, the
        rule returns probabilities and the expert has ``predict_proba``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        ``classes`` as an array; only when ``classes`` is given.
    n_features_in_ : int
        Number of features seen during :meth:`fit`, when it was called.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`, defined only when ``X``
        has feature names that are all strings.

    See Also
    --------
    sklearn.frozen.FrozenEstimator : An already-trained model as a fixed expert.

    Examples
    --------
    A domain rule (``y = 2x`` for negative ``x``) routed next to a learned
    linear model, which has to cover the rest:

    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skmoe import MixtureOfExpertsRegressor
    >>> from skmoe.rules import RuleExpert
    >>> def doubling(X):
    ...     return 2 * X[:, 0]
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-3, 3, size=(500, 1))
    >>> y = np.where(X[:, 0] < 0, 2 * X[:, 0], 5 - X[:, 0])
    >>> y += 0.1 * rng.standard_normal(500)
    >>> moe = MixtureOfExpertsRegressor(
    ...     [("rule", RuleExpert(doubling)), ("learned", LinearRegression())],
    ...     random_state=0,
    ... ).fit(X, y)
    >>> moe.predict_expert([[-2.0], [2.0]])
    array([0, 1])
    >>> round(float(moe.named_experts_.learned.coef_[0]), 1)
    -1.0
    """

    def __init__(self, rule, *, classes=None):
        self.rule = rule
        self.classes = classes

    def __sklearn_is_fitted__(self):
        # A rule needs no training: it can predict as soon as it is built.
        return True

    @property
    def classes_(self):
        """The class labels: ``classes`` as an array, only when it is given.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe.rules import RuleExpert
        >>> def always_first(X):
        ...     return np.tile([1.0, 0.0], (len(X), 1))
        >>> RuleExpert(always_first, classes=["a", "b"]).classes_.tolist()
        ['a', 'b']
        >>> hasattr(RuleExpert(always_first), "classes_")
        False
        """
        if self.classes is None:
            raise AttributeError("RuleExpert has classes_ only when classes is given.")
        return _check_classes(self.classes)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # The rule sees X as given, missing values included, and may handle
        # them; a NaN it returns is refused (_apply).
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X, y=None, sample_weight=None):
        """Record the number of input features; the rule itself is fixed.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows the rule will be applied to; only their number of
            columns (and names, if any) is recorded.
        y : Ignored
            Not used, present here for API consistency by convention.
        sample_weight : Ignored
            Not used: the rule is not trained.

        Returns
        -------
        self : RuleExpert
            The expert, unchanged but for ``n_features_in_`` (and
            ``feature_names_in_``).

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe.rules import RuleExpert
        >>> def doubling(X):
        ...     return 2 * X[:, 0]
        >>> rule = RuleExpert(doubling).fit(np.zeros((3, 1)))
        >>> rule.n_features_in_
        1
        """
        validate_data(self, X, ensure_all_finite=False)
        return self

    def _apply(self, X):
        if not callable(self.rule):
            raise TypeError(
                f"RuleExpert's 'rule' must be a callable X -> predictions, "
                f"got {self.rule!r}."
            )
        if hasattr(self, "n_features_in_"):
            X = validate_data(self, X, reset=False, ensure_all_finite=False)
        else:
            X = check_array(X, ensure_all_finite=False)
        output = np.asarray(self.rule(X))
        n_classes = None if self.classes is None else len(self.classes_)
        expected = (len(X),) if n_classes is None else (len(X), n_classes)
        if output.shape != expected:
            raise ValueError(
                f"RuleExpert's rule {self.rule!r} returned shape {output.shape} "
                f"for {len(X)} rows; expected {expected}."
            )
        if output.dtype.kind in "fc" and not np.all(np.isfinite(output)):
            raise ValueError(f"RuleExpert's rule {self.rule!r} returned NaN or inf.")
        return output

    def predict(self, X):
        """Apply the rule (with ``classes``: the most probable class).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to predict.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The rule's output; with ``classes``, the class of highest
            probability in each row.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe.rules import RuleExpert
        >>> def doubling(X):
        ...     return 2 * X[:, 0]
        >>> RuleExpert(doubling).predict([[1.0], [2.5]])
        array([2., 5.])
        >>> def sign_proba(X):
        ...     positive = (X[:, 0] > 0).astype(float)
        ...     return np.column_stack([1 - positive, positive])
        >>> rule = RuleExpert(sign_proba, classes=["neg", "pos"])
        >>> rule.predict([[-1.0], [1.0]]).tolist()
        ['neg', 'pos']
        """
        output = self._apply(X)
        if self.classes is None:
            return output
        return self.classes_[np.argmax(output, axis=1)]

    @available_if(_returns_probabilities)
    def predict_proba(self, X):
        """Apply the rule for class probabilities (only with ``classes``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to predict.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes``.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe.rules import RuleExpert
        >>> def sign_proba(X):
        ...     positive = (X[:, 0] > 0).astype(float)
        ...     return np.column_stack([1 - positive, positive])
        >>> rule = RuleExpert(sign_proba, classes=["neg", "pos"])
        >>> rule.predict_proba([[-1.0], [1.0]])
        array([[1., 0.],
               [0., 1.]])
        >>> hasattr(RuleExpert(sign_proba), "predict_proba")
        False
        """
        proba = self._apply(X).astype(np.float64)
        if np.any(proba < 0) or not np.allclose(proba.sum(axis=1), 1.0):
            raise ValueError(
                f"RuleExpert's rule {self.rule!r} must return non-negative "
                "probabilities whose rows sum to 1."
            )
        return proba
