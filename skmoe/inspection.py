"""Look inside a fitted mixture of experts, alone or at the end of a Pipeline.

A mixture usually sits at the end of a :class:`~sklearn.pipeline.Pipeline`
(scaling, a :class:`~sklearn.compose.ColumnTransformer`, then the mixture).
Its own methods (``gate_proba``, ``predict_expert``, ``routing_summary``,
``responsibilities``) want the rows as the mixture sees them, after the
preceding steps. The functions here take the fitted mixture *or* the fitted
Pipeline (and a fitted ``MixtureOfExpertsRegressorCV`` or
``MixtureOfExpertsClassifierCV`` for the mixture it chose), apply the
preceding steps' ``transform`` themselves, and follow
scikit-learn's ``set_output`` convention: given a pandas DataFrame they return
pandas objects with the input's index and the experts' names (the keys of
``named_experts_``) as columns; given anything else, numpy arrays as the
mixture's methods do.

The displays of :mod:`skmoe.plotting` accept such Pipelines the same way.
"""

import sys

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

__all__ = ["gate_proba", "predict_expert", "responsibilities", "routing_summary"]


def _unwrap_mixture(estimator, X=None, *, caller):
    """The mixture at the end of ``estimator``, and ``X`` as that mixture sees it.

    ``estimator`` is a fitted skmoe mixture, or one of its CV variants (whose
    chosen and refitted mixture, ``best_estimator_``, is looked at), or a
    fitted Pipeline whose last step is either (Pipelines may nest). The steps
    before the mixture transform ``X``, outermost Pipeline first; ``X=None``
    transforms nothing.

    Returns
    -------
    mixture : MixtureOfExpertsRegressor or MixtureOfExpertsClassifier
    X_mixture : the transformed ``X``, or ``X`` itself without preceding steps.
    """
    from ._base import _BaseMixtureOfExperts
    from ._cv import _BaseMixtureOfExpertsCV

    heads, last = [], estimator
    while isinstance(last, Pipeline):
        if len(last.steps) > 1:
            heads.append(last[:-1])
        last = last.steps[-1][1]
    if isinstance(last, _BaseMixtureOfExpertsCV):
        # The mixture it chose, refitted on all rows: what its predict uses.
        check_is_fitted(last)
        last = last.best_estimator_
    if not isinstance(last, _BaseMixtureOfExperts):
        got = type(estimator).__name__
        if last is not estimator:
            got += f" whose last step is {type(last).__name__}"
        raise TypeError(
            f"{caller} needs a fitted skmoe MixtureOfExpertsRegressor or "
            "MixtureOfExpertsClassifier (or their CV variants), or a fitted "
            f"Pipeline whose last step is one; got a {got}."
        )
    # The mixture first: a Pipeline that was never fitted fails here, with
    # scikit-learn's NotFittedError, before its transformers are asked.
    check_is_fitted(last)
    if X is not None:
        for head in heads:
            X = head.transform(X)
    return last, X


def _is_dataframe(X):
    """Whether X is a pandas DataFrame, without importing pandas."""
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(X, pd.DataFrame)


def _expert_names(mixture):
    return [str(name) for name in mixture.named_experts_]


def _per_expert_frame(values, X, mixture):
    """(n_samples, n_experts) values as X's container: a DataFrame or an array."""
    if not _is_dataframe(X):
        return values
    import pandas as pd

    return pd.DataFrame(values, index=X.index, columns=_expert_names(mixture))


def gate_proba(estimator, X):
    """The gate's probability of each expert for each row.

    Parameters
    ----------
    estimator : MixtureOfExpertsRegressor, MixtureOfExpertsClassifier or Pipeline
        A fitted mixture or CV variant, or a fitted Pipeline whose last step is
        one; the Pipeline's other steps transform ``X`` first.
    X : array-like or pandas DataFrame of shape (n_samples, n_features)
        Rows as the estimator takes them.

    Returns
    -------
    gate : ndarray or pandas DataFrame of shape (n_samples, n_experts)
        ``g_i(x)``; rows sum to 1. A DataFrame with ``X``'s index and the
        experts' names as columns when ``X`` is a DataFrame.

    See Also
    --------
    skmoe.MixtureOfExpertsRegressor.gate_proba : The mixture's own method.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skmoe import MixtureOfExpertsRegressor
    >>> from skmoe.inspection import gate_proba
    >>> rng = np.random.RandomState(0)
    >>> X = pd.DataFrame({"age": rng.uniform(20, 80, 200)},
    ...                  index=[f"p{i}" for i in range(200)])
    >>> y = np.where(X["age"] < 50, 1.0, -1.0) * X["age"] / 10
    >>> y += 0.1 * rng.standard_normal(200)
    >>> pipe = make_pipeline(StandardScaler(),
    ...                      MixtureOfExpertsRegressor(random_state=0)).fit(X, y)
    >>> gate = gate_proba(pipe, X.iloc[:3])
    >>> list(gate.columns), list(gate.index)
    (['expert0', 'expert1'], ['p0', 'p1', 'p2'])
    >>> bool(np.allclose(gate.sum(axis=1), 1.0))
    True
    """
    mixture, X_mixture = _unwrap_mixture(estimator, X, caller="gate_proba")
    return _per_expert_frame(mixture.gate_proba(X_mixture), X, mixture)


def predict_expert(estimator, X):
    """The expert the gate trusts most for each row.

    Parameters
    ----------
    estimator : MixtureOfExpertsRegressor, MixtureOfExpertsClassifier or Pipeline
        A fitted mixture or CV variant, or a fitted Pipeline whose last step is
        one; the Pipeline's other steps transform ``X`` first.
    X : array-like or pandas DataFrame of shape (n_samples, n_features)
        Rows as the estimator takes them.

    Returns
    -------
    expert : ndarray of int or pandas Series of shape (n_samples,)
        For an array ``X``, positions in ``experts_``, as the mixture's
        ``predict_expert``. For a DataFrame ``X``, a categorical Series named
        ``"expert"`` with ``X``'s index whose values are the experts' names;
        its categories are all the experts in order, so ``.cat.codes`` are the
        positions and ``value_counts()`` lists experts without rows too.

    See Also
    --------
    skmoe.MixtureOfExpertsRegressor.predict_expert : The mixture's own method.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skmoe import MixtureOfExpertsRegressor
    >>> from skmoe.inspection import predict_expert
    >>> rng = np.random.RandomState(0)
    >>> X = pd.DataFrame({"age": rng.uniform(20, 80, 200)})
    >>> y = np.where(X["age"] < 50, 1.0, -1.0) * X["age"] / 10
    >>> y += 0.1 * rng.standard_normal(200)
    >>> moe = MixtureOfExpertsRegressor(random_state=0)
    >>> pipe = make_pipeline(StandardScaler(), moe).fit(X, y)
    >>> expert = predict_expert(pipe, pd.DataFrame({"age": [25.0, 75.0]}))
    >>> expert.name, list(expert.cat.categories)
    ('expert', ['expert0', 'expert1'])
    >>> bool(expert.iloc[0] != expert.iloc[1])
    True
    """
    mixture, X_mixture = _unwrap_mixture(estimator, X, caller="predict_expert")
    expert = mixture.predict_expert(X_mixture)
    if not _is_dataframe(X):
        return expert
    import pandas as pd

    names = _expert_names(mixture)
    values = pd.Categorical.from_codes(expert, categories=names)
    return pd.Series(values, index=X.index, name="expert")


def routing_summary(estimator, X):
    """Which expert handles what: the gate's view of ``X``, per expert.

    Parameters
    ----------
    estimator : MixtureOfExpertsRegressor, MixtureOfExpertsClassifier or Pipeline
        A fitted mixture or CV variant, or a fitted Pipeline whose last step is
        one; the Pipeline's other steps transform ``X`` first.
    X : array-like or pandas DataFrame of shape (n_samples, n_features)
        Rows as the estimator takes them.

    Returns
    -------
    summary : :class:`~sklearn.utils.Bunch` or pandas DataFrame
        Per expert: ``share`` (fraction of rows whose most trusted expert it
        is), ``mean_gate`` (mean gate probability over all rows) and
        ``confidence`` (mean gate probability on the rows it is most trusted
        for; NaN if none). For an array ``X``, the mixture's
        ``routing_summary``: a Bunch of arrays of shape (n_experts,) with the
        names in ``expert``. For a DataFrame ``X``, a DataFrame with one row
        per expert, indexed by name, and those three columns.

    See Also
    --------
    skmoe.MixtureOfExpertsRegressor.routing_summary : The mixture's own method.
    skmoe.plotting.ExpertUsageDisplay : Draws the shares and confidences.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skmoe import MixtureOfExpertsRegressor
    >>> from skmoe.inspection import routing_summary
    >>> rng = np.random.RandomState(0)
    >>> X = pd.DataFrame({"age": rng.uniform(20, 80, 200)})
    >>> y = np.where(X["age"] < 50, 1.0, -1.0) * X["age"] / 10
    >>> y += 0.1 * rng.standard_normal(200)
    >>> pipe = make_pipeline(StandardScaler(),
    ...                      MixtureOfExpertsRegressor(random_state=0)).fit(X, y)
    >>> summary = routing_summary(pipe, X)
    >>> list(summary.index), list(summary.columns)
    (['expert0', 'expert1'], ['share', 'mean_gate', 'confidence'])
    >>> float(summary["share"].sum())
    1.0
    """
    mixture, X_mixture = _unwrap_mixture(estimator, X, caller="routing_summary")
    summary = mixture.routing_summary(X_mixture)
    if not _is_dataframe(X):
        return summary
    import pandas as pd

    columns = ["share", "mean_gate", "confidence"]
    return pd.DataFrame(
        {column: np.asarray(summary[column]) for column in columns},
        index=pd.Index(_expert_names(mixture), name="expert"),
    )


def responsibilities(estimator, X, y):
    """Posterior probability of each expert for each labelled row.

    Parameters
    ----------
    estimator : MixtureOfExpertsRegressor, MixtureOfExpertsClassifier or Pipeline
        A fitted mixture or CV variant, or a fitted Pipeline whose last step is
        one; the Pipeline's other steps transform ``X`` first (``y`` is used as
        given, as a Pipeline does).
    X : array-like or pandas DataFrame of shape (n_samples, n_features)
        Rows as the estimator takes them.
    y : array-like of shape (n_samples,)
        Their targets.

    Returns
    -------
    resp : ndarray or pandas DataFrame of shape (n_samples, n_experts)
        ``g_i(x) p_i(y | x) / sum_k g_k(x) p_k(y | x)``; rows sum to 1. A
        DataFrame with ``X``'s index and the experts' names as columns when
        ``X`` is a DataFrame.

    See Also
    --------
    skmoe.MixtureOfExpertsRegressor.responsibilities : The mixture's own method.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skmoe import MixtureOfExpertsRegressor
    >>> from skmoe.inspection import responsibilities
    >>> rng = np.random.RandomState(0)
    >>> X = pd.DataFrame({"age": rng.uniform(20, 80, 200)},
    ...                  index=range(1000, 1200))
    >>> y = np.where(X["age"] < 50, 1.0, -1.0) * X["age"] / 10
    >>> y += 0.1 * rng.standard_normal(200)
    >>> pipe = make_pipeline(StandardScaler(),
    ...                      MixtureOfExpertsRegressor(random_state=0)).fit(X, y)
    >>> resp = responsibilities(pipe, X, y)
    >>> resp.shape, int(resp.index[0])
    ((200, 2), 1000)
    >>> bool(np.allclose(resp.sum(axis=1), 1.0))
    True
    """
    mixture, X_mixture = _unwrap_mixture(estimator, X, caller="responsibilities")
    return _per_expert_frame(mixture.responsibilities(X_mixture, y), X, mixture)
