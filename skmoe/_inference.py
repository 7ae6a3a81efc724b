"""What a fitted mixture says about new inputs: the gate's probabilities,
routing, leaves of a hierarchy, and the posterior of labelled rows.

The mixin reads the fitted state only; the EM class provides ``_split``,
``_log_gate``, ``_e_step``, ``_expert_log_prob`` and ``_check_new_target``.
"""

import functools
import numbers

import numpy as np
from sklearn.base import TransformerMixin, is_classifier
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import Bunch, get_tags
from sklearn.utils.validation import check_is_fitted, validate_data

from ._compat import _check_feature_names_in
from ._composition import _is_named_list
from ._dask import is_dask_collection, predict_blocks
from ._routing import check_top_k, top_k_weights
from ._validation import check_magnitude, check_numeric_input, check_sparse


def _child_mixture(expert):
    """The mixture an expert is, alone or prefit inside a FrozenEstimator
    (which passes its ``log_likelihood`` and ``predict`` on, so EM already
    uses the child's own likelihood); None for a leaf. (A Pipeline that ends
    in a mixture is a leaf: its parent reads it as any regressor or
    classifier.)"""
    if isinstance(expert, FrozenEstimator):
        expert = expert.estimator
    return expert if isinstance(expert, _InferenceMixin) else None


def _one_model(method):
    """Run an inference method on one snapshot of the fitted state.

    A successful ``fit`` swaps the whole fitted state in one step, so a
    reader in another thread sees the old model or the new one, never a mix
    of the two.
    """

    @functools.wraps(method)
    def reader(self, *args, **kwargs):
        return method(self._snapshot(), *args, **kwargs)

    return reader


class ScoredOutOfCore:
    """A mixin: ``score`` on a Dask collection computes the predictions,
    ``y`` and the weights together and scores them in memory, as
    ``RegressorMixin`` (R^2) or ``ClassifierMixin`` (accuracy) does;
    scikit-learn's metrics need their lengths, which Dask may not know
    (a DataFrame's partitions)."""

    def score(self, X, y, sample_weight=None):
        """Return the score of ``predict(X)`` against ``y``.

        R^2 for a regressor, mean accuracy for a classifier, as
        scikit-learn's ``score``; on a Dask collection the predictions,
        ``y`` and ``sample_weight`` are computed in one pass first.

        Parameters
        ----------
        X : array-like or Dask collection of shape (n_samples, n_features)
            The rows.
        y : array-like or Dask collection of shape (n_samples,)
            Their true targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        score : float
            R^2 (regressor) or mean accuracy (classifier) of ``predict(X)``.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = np.abs(X[:, 0]) + 0.1 * rng.standard_normal(200)
        >>> moe = MixtureOfExpertsRegressor(n_init=1, random_state=0).fit(X, y)
        >>> bool(moe.score(X, y) > 0.9)
        True
        """
        if not is_dask_collection(X):
            return super().score(X, y, sample_weight=sample_weight)
        import dask

        predicted, y, sample_weight = dask.compute(self.predict(X), y, sample_weight)
        metric = accuracy_score if is_classifier(self) else r2_score
        return float(metric(np.asarray(y), predicted, sample_weight=sample_weight))


class _InferenceMixin(TransformerMixin):
    """Inference methods shared by the regressor and the classifier.

    A transformer too (as VotingClassifier is): ``transform`` gives the
    gate's probabilities, and ``set_output`` applies to it.
    """

    def _validate_predict_data(self, X):
        check_is_fitted(self)
        check_numeric_input(X)
        check_sparse(X, self._fitted_experts_refusing_sparse)
        X = validate_data(
            self,
            X,
            dtype=np.float64,  # as fit reads it
            reset=False,
            accept_sparse="csr",
            ensure_all_finite="allow-nan",  # checked by column in _split
        )
        check_magnitude(X, "X", new=True)
        return X

    def _fitted_experts_refusing_sparse(self):
        return [
            name
            for name, expert in self._named_experts()
            if not get_tags(expert).input_tags.sparse
        ]

    def _named_experts(self):
        """``(name, expert)`` pairs of the fitted experts."""
        return zip(self._expert_names, self.experts_, strict=True)

    @property
    def named_experts_(self):
        """Bunch of the fitted experts by name (``expert0``... for a template).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LinearRegression, Ridge
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(200)
        >>> moe = MixtureOfExpertsRegressor(
        ...     [("lin", LinearRegression()), ("ridge", Ridge())],
        ...     n_init=1,
        ...     random_state=0,
        ... ).fit(X, y)
        >>> list(moe.named_experts_)
        ['lin', 'ridge']
        >>> moe.named_experts_.ridge is moe.experts_[1]
        True
        """
        check_is_fitted(self)
        return Bunch(**dict(self._named_experts()))

    @_one_model
    def gate_proba(self, X):
        """The gate's probability of each expert for each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to route.

        Returns
        -------
        gate : ndarray of shape (n_samples, n_experts)
            ``g_i(x)``; rows sum to 1.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(200)
        >>> moe = MixtureOfExpertsRegressor(n_init=1, random_state=0).fit(X, y)
        >>> moe.gate_proba([[-2.0], [2.0]]).round(2)
        array([[0., 1.],
               [1., 0.]])
        """
        if is_dask_collection(X):
            return predict_blocks(self, "gate_proba", X)
        _, Xg = self._split(self._validate_predict_data(X))
        return np.exp(self._log_gate(Xg))

    def _routing_weights(self, Xg, top_k):
        """Gate probabilities kept for each row's ``top_k`` experts, (n, M).

        ``top_k=None`` uses the parameter. Either is capped at the number of
        experts left when it does not exceed the number the mixture was
        built with (pruning may have left fewer): ``top_k=n_experts`` is
        the dense prediction still.
        """
        n_experts = len(self.experts_)
        if top_k is None:
            top_k = self.top_k
        built = len(self.experts) if _is_named_list(self.experts) else self.n_experts
        if isinstance(top_k, numbers.Integral) and n_experts < top_k <= built:
            top_k = n_experts
        check_top_k(top_k, n_experts)
        return top_k_weights(np.exp(self._log_gate(Xg)), top_k)

    @_one_model
    def routing_summary(self, X):
        """Which expert handles what: the gate's view of ``X``, per expert.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to summarise.

        Returns
        -------
        summary : :class:`~sklearn.utils.Bunch`
            ``expert`` (names), ``share`` (fraction of rows whose most trusted
            expert it is), ``mean_gate`` (mean gate probability over all rows)
            and ``confidence`` (mean gate probability on the rows it is most
            trusted for; NaN if none), each of shape (n_experts,).

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(200)
        >>> moe = MixtureOfExpertsRegressor(n_init=1, random_state=0).fit(X, y)
        >>> summary = moe.routing_summary([[-2.0], [-1.0], [2.0]])
        >>> summary.expert.tolist(), summary.share.round(2).tolist()
        (['expert0', 'expert1'], [0.33, 0.67])
        >>> summary.confidence.round(2).tolist()
        [1.0, 1.0]
        """
        gate = self.gate_proba(X)
        top = np.argmax(gate, axis=1)
        n_experts = gate.shape[1]
        counts = np.bincount(top, minlength=n_experts)
        top_gate = np.bincount(top, weights=gate.max(axis=1), minlength=n_experts)
        with np.errstate(invalid="ignore", divide="ignore"):
            confidence = top_gate / counts
        return Bunch(
            expert=np.array(self._expert_names, dtype=object),
            share=counts / len(top),
            mean_gate=gate.mean(axis=0),
            confidence=np.where(counts > 0, confidence, np.nan),
        )

    @_one_model
    def leaf_proba(self, X):
        """Path probability of every leaf expert of a hierarchical mixture.

        A leaf's probability is the product of the gate probabilities along
        its path: ``g_i(x) * g_j|i(x) * ...``. For a flat mixture this is
        :meth:`gate_proba`. Columns follow :attr:`leaf_names_`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to route down the hierarchy.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_leaves)
            Rows sum to 1.

        Examples
        --------
        Three regimes: a linear expert next to a nested mixture of two.

        >>> import numpy as np
        >>> from sklearn.linear_model import LinearRegression
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = np.select([X[:, 0] < -1, X[:, 0] < 1], [-2 * X[:, 0], 2.0], X[:, 0])
        >>> y = y + 0.1 * rng.standard_normal(200)
        >>> sub = MixtureOfExpertsRegressor(n_init=1, random_state=0)
        >>> moe = MixtureOfExpertsRegressor(
        ...     [("lin", LinearRegression()), ("sub", sub)], n_init=1, random_state=0
        ... ).fit(X, y)
        >>> moe.leaf_names_.tolist()
        ['lin', 'sub/expert0', 'sub/expert1']
        >>> moe.leaf_proba([[-2.0], [0.0], [2.0]]).round(2)
        array([[0., 0., 1.],
               [0., 1., 0.],
               [1., 0., 0.]])
        """
        Xe, Xg = self._split(self._validate_predict_data(X))
        gate = np.exp(self._log_gate(Xg))
        columns = []
        for i, expert in enumerate(self.experts_):
            child = _child_mixture(expert)
            leaves = 1.0 if child is None else child.leaf_proba(Xe)
            columns.append(gate[:, [i]] * leaves)
        return np.hstack(columns)

    @property
    def leaf_names_(self):
        """Names of the leaf experts, ``"parent/child"`` below nested mixtures.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LinearRegression
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = np.select([X[:, 0] < -1, X[:, 0] < 1], [-2 * X[:, 0], 2.0], X[:, 0])
        >>> y = y + 0.1 * rng.standard_normal(200)
        >>> sub = MixtureOfExpertsRegressor(n_init=1, random_state=0)
        >>> moe = MixtureOfExpertsRegressor(
        ...     [("lin", LinearRegression()), ("sub", sub)], n_init=1, random_state=0
        ... ).fit(X, y)
        >>> moe.leaf_names_.tolist()
        ['lin', 'sub/expert0', 'sub/expert1']
        >>> list(moe.named_experts_)
        ['lin', 'sub']
        """
        check_is_fitted(self)
        names = []
        for name, expert in self._named_experts():
            child = _child_mixture(expert)
            if child is None:
                names.append(name)
            else:
                names.extend(f"{name}/{leaf}" for leaf in child.leaf_names_)
        return np.array(names, dtype=object)

    def transform(self, X):
        """The gate's probabilities as features: one column per expert.

        As :meth:`sklearn.ensemble.VotingClassifier.transform` returns its
        members' outputs, this lets a mixture feed another model, for
        example as a step of a Pipeline or inside a StackingClassifier.
        With ``set_output(transform="pandas")`` the result is a DataFrame
        whose columns are :meth:`get_feature_names_out`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to transform.

        Returns
        -------
        gate : ndarray of shape (n_samples, n_experts)
            Equal to :meth:`gate_proba`.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(200)
        >>> moe = MixtureOfExpertsRegressor(n_init=1, random_state=0).fit(X, y)
        >>> features = moe.transform(X)
        >>> features.shape, bool(np.allclose(features.sum(axis=1), 1.0))
        ((200, 2), True)
        """
        return self.gate_proba(X)

    def get_feature_names_out(self, input_features=None):
        """Get the names of the columns of :meth:`transform`.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked, as by VotingClassifier: it must have
            ``n_features_in_`` entries, equal to ``feature_names_in_`` if
            ``fit`` saw column names. The names out do not depend on it.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``"<mixture class in lower case>_<expert name>"``, as
            VotingClassifier names its outputs.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LinearRegression, Ridge
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(200)
        >>> moe = MixtureOfExpertsRegressor(
        ...     [("lin", LinearRegression()), ("ridge", Ridge())],
        ...     n_init=1,
        ...     random_state=0,
        ... ).fit(X, y)
        >>> moe.get_feature_names_out().tolist()
        ['mixtureofexpertsregressor_lin', 'mixtureofexpertsregressor_ridge']
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features, generate_names=False)
        prefix = type(self).__name__.lower()
        return np.array(
            [f"{prefix}_{name}" for name in self._expert_names], dtype=object
        )

    def predict_expert(self, X):
        """Index of the expert the gate trusts most for each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to route.

        Returns
        -------
        expert : ndarray of shape (n_samples,)
            Positions in ``experts_``.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(200)
        >>> moe = MixtureOfExpertsRegressor(n_init=1, random_state=0).fit(X, y)
        >>> moe.predict_expert([[-2.0], [2.0]])
        array([1, 0])
        >>> [round(float(moe.experts_[i].coef_[0])) for i in (1, 0)]
        [2, -1]
        """
        if is_dask_collection(X):
            return predict_blocks(self, "predict_expert", X)
        return np.argmax(self.gate_proba(X), axis=1)

    def log_likelihood(self, X, y):
        """Compute the log-likelihood of each labelled row under the mixture.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows.
        y : array-like of shape (n_samples,)
            Their targets.

        Returns
        -------
        log_likelihood : ndarray of shape (n_samples,)
            ``log sum_i g_i(x) p_i(y | x)``. Its weighted mean over the training
            data is ``log_likelihood_`` without cross-fitting; with it,
            ``log_likelihood_`` is the penalised value EM recorded, lower. A
            classifier's expert probabilities ``p_i`` are floored at 1e-12,
            as in EM (a row that every expert deems impossible costs 27.6
            nats, where ``predict_log_proba`` gives minus infinity).

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(200)
        >>> moe = MixtureOfExpertsRegressor(n_init=1, random_state=0).fit(X, y)
        >>> log_lik = moe.log_likelihood(X, y)
        >>> log_lik.shape, bool(np.isclose(log_lik.mean(), moe.log_likelihood_))
        ((200,), True)

        A target far from both experts' lines is unlikely:

        >>> bool(moe.log_likelihood([[2.0]], [10.0])[0] < log_lik.min())
        True
        """
        _, log_norm = self._posterior(X, y)
        return log_norm

    def responsibilities(self, X, y):
        """Compute the posterior probability of each expert for labelled rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows.
        y : array-like of shape (n_samples,)
            Their targets.

        Returns
        -------
        resp : ndarray of shape (n_samples, n_experts)
            ``g_i(x) p_i(y | x) / sum_k g_k(x) p_k(y | x)``; rows sum to 1.

        Examples
        --------
        >>> import numpy as np
        >>> from skmoe import MixtureOfExpertsRegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.uniform(-3, 3, size=(200, 1))
        >>> y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
        >>> y += 0.1 * rng.standard_normal(200)
        >>> moe = MixtureOfExpertsRegressor(n_init=1, random_state=0).fit(X, y)
        >>> resp = moe.responsibilities(X, y)
        >>> resp.shape, bool(np.allclose(resp.sum(axis=1), 1.0))
        ((200, 2), True)

        At ``x = 0`` both lines are in reach; the target says which expert
        produced it:

        >>> moe.responsibilities([[0.0], [0.0]], [1.0, 4.0]).round(2)
        array([[0., 1.],
               [1., 0.]])
        """
        log_resp, _ = self._posterior(X, y)
        return np.exp(log_resp)

    @_one_model
    def _posterior(self, X, y):
        Xe, Xg = self._split(self._validate_predict_data(X))
        y_lik = self._check_new_target(y, Xe.shape[0])
        return self._e_step(Xg, self._expert_log_prob(Xe, y_lik))
