"""warm_start continues only from what is still compatible."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.tree import DecisionTreeRegressor

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor
from skmoe.exceptions import WarmStartWarning

pytestmark = pytest.mark.filterwarnings("error::skmoe.exceptions.WarmStartWarning")


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(400, 2))
    y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
    return X, y + 0.1 * rng.standard_normal(400)


def warm(moe, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return moe.fit(X, y)


def test_unchanged_refit_continues_from_the_fitted_model(data):
    X, y = data
    moe = MixtureOfExpertsRegressor(warm_start=True, random_state=0).fit(X, y)
    curve = moe.log_likelihoods_.copy()
    moe.fit(X, y)
    # The curve goes on where it stopped, from the same optimum.
    assert len(moe.log_likelihoods_) > len(curve)
    assert_allclose(moe.log_likelihoods_[: len(curve)], curve)
    assert moe.n_iter_ <= 2
    assert abs(moe.log_likelihood_ - curve[-1]) < 1e-4


def test_changed_expert_hyperparameters_take_effect(data):
    X, y = data
    moe = MixtureOfExpertsRegressor(
        Ridge(alpha=1e-6), warm_start=True, random_state=0
    ).fit(X, y)
    moe.set_params(experts__alpha=1e6)
    warm(moe, X, y)
    assert all(expert.alpha == 1e6 for expert in moe.experts_)
    # So strong a penalty flattens every expert.
    assert max(np.abs(expert.coef_).max() for expert in moe.experts_) < 0.01


def test_changed_gate_hyperparameters_take_effect(data):
    X, y = data
    moe = MixtureOfExpertsRegressor(warm_start=True, random_state=0).fit(X, y)
    sharp = np.abs(moe.gate_.coef_).max()
    moe.set_params(gate__alpha=1e4)
    warm(moe, X, y)
    assert moe.gate_.alpha == 1e4
    assert np.abs(moe.gate_.coef_).max() < sharp / 10


def test_replaced_expert_starts_afresh_with_a_warning(data):
    X, y = data
    experts = [("a", LinearRegression()), ("b", LinearRegression())]
    moe = MixtureOfExpertsRegressor(experts, warm_start=True, random_state=0)
    moe.fit(X, y)
    moe.set_params(b=DecisionTreeRegressor(max_depth=2))
    with pytest.warns(WarmStartWarning, match="the experts"):
        warm(moe, X, y)
    assert isinstance(moe.named_experts_["b"], DecisionTreeRegressor)
    assert len(moe.start_log_likelihoods_[moe.best_start_]) == moe.n_iter_


def test_more_experts_start_afresh_with_a_warning(data):
    X, y = data
    moe = MixtureOfExpertsRegressor(warm_start=True, random_state=0).fit(X, y)
    moe.set_params(n_experts=4)
    with pytest.warns(WarmStartWarning, match="number"):
        warm(moe, X, y)
    assert len(moe.experts_) == 4


def test_other_features_start_afresh_with_a_warning(data):
    X, y = data
    moe = MixtureOfExpertsRegressor(warm_start=True, random_state=0).fit(X, y)
    with pytest.warns(WarmStartWarning, match="number of features"):
        warm(moe, np.column_stack([X, X[:, 0]]), y)
    assert moe.n_features_in_ == 3
    moe.set_params(gate_features=[0])
    with pytest.warns(WarmStartWarning, match="gate_features"):
        warm(moe, np.column_stack([X, X[:, 0]]), y)
    assert moe.gate_.coef_.shape == (2, 1)


def _two_regimes(n, border, noise, seed):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-3, 3, size=(n, 1))
    y = np.where(X[:, 0] < border, 1 + 2 * X[:, 0], 4 - X[:, 0])
    return X, y + noise * rng.standard_normal(n)


def test_flexible_experts_on_new_data_iterate_as_usual():
    # EM with trees stops when it stalls. It judged the stall on the whole
    # curve, the earlier fit's included, and stopped after one iteration with
    # converged_=True, though each further call still climbed.
    X, y = _two_regimes(400, 0.0, 0.1, 0)
    X_new, y_new = _two_regimes(400, 1.5, 0.5, 1)
    moe = MixtureOfExpertsRegressor(
        DecisionTreeRegressor(max_depth=2), warm_start=True, random_state=0
    )
    warm(moe, X, y)
    warm(moe, X_new, y_new)
    assert moe.converged_
    assert moe.n_iter_ > 5
    fresh = MixtureOfExpertsRegressor(
        DecisionTreeRegressor(max_depth=2), random_state=0
    ).fit(X_new, y_new)
    assert moe.log_likelihood_ > fresh.log_likelihood_ - 0.05


def test_a_converged_hard_fit_is_a_fixed_point():
    # The first M-step of a continued fit took the posteriors as they were,
    # soft, and moved a converged hard-EM model by up to 0.145.
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(500, 2))
    regime = 2 * (X[:, 0] > 0) + (X[:, 1] > 0)
    coef = rng.normal(scale=3, size=(4, 3))
    y = coef[regime, 0] + (coef[regime, 1:] * X).sum(axis=1)
    y += 0.3 * rng.standard_normal(500)
    moe = MixtureOfExpertsRegressor(
        n_experts=4, assignment="hard", warm_start=True, random_state=0
    ).fit(X, y)
    assert moe.converged_
    before = moe.predict(X)
    warm(moe, X, y)
    assert moe.n_iter_ == 1
    assert_allclose(moe.predict(X), before, atol=1e-8)


def test_stochastic_em_reports_this_calls_best():
    # log_likelihood_ is the best iteration's: it was taken over the whole
    # curve, and stayed at the earlier fit's 0.886 on data it scored -0.676.
    X, y = _two_regimes(400, 0.0, 0.1, 0)
    X_new, y_new = _two_regimes(400, 1.5, 0.5, 1)
    moe = MixtureOfExpertsRegressor(
        assignment="stochastic", max_iter=30, warm_start=True, random_state=0
    ).fit(X, y)
    n_before = len(moe.log_likelihoods_)
    warm(moe, X_new, y_new)
    assert moe.log_likelihood_ == max(moe.log_likelihoods_[n_before:])
    assert_allclose(moe.log_likelihood_, moe.log_likelihood(X_new, y_new).mean())


def test_reseeds_count_across_refits_with_changed_parameters(data):
    # At most two re-seeds per expert, warm-started refits included. A refit
    # with changed hyper-parameters began its count at zero and then put the
    # fitted model's back, so it re-seeded without limit and forgot it.
    X, y = data
    moe = MixtureOfExpertsRegressor(
        n_experts=4, min_expert_weight=0.2, n_init=1, warm_start=True, random_state=0
    )
    counts = {}
    for alpha in ("auto", 0.01, 0.02):
        moe.set_params(gate__alpha=alpha)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warm(moe, X, y)
        reseeds = sum("re-seeded" in str(w.message) for w in caught)
        assert sum(moe._reseeds.values()) - sum(counts.values()) >= min(reseeds, 1)
        assert all(counts.get(k, 0) <= n <= 2 for k, n in moe._reseeds.items())
        counts = dict(moe._reseeds)
    assert sum(counts.values()) <= 2 * 4


def test_reseed_counts_follow_their_experts_when_sorted(data):
    # Cloned experts are sorted by share and named by position at the end
    # of fit; their re-seed counts stayed under the names of before, on
    # other experts.
    X, y = data
    moe = MixtureOfExpertsRegressor(n_experts=3, random_state=0).fit(X, y)
    moe._expert_names = ["expert2", "expert0", "expert1"]
    moe._reseeds = {"expert2": 2, "expert1": 1}
    moe._name_by_position()
    assert moe._expert_names == ["expert0", "expert1", "expert2"]
    assert moe._reseeds == {"expert0": 2, "expert2": 1}


def test_reordered_or_renamed_columns_start_afresh_with_a_warning(data):
    # Continuing would read each column as the one that stood there before:
    # R^2 0.63 after swapping two columns, 0.99 fitted afresh.
    pd = pytest.importorskip("pandas")
    X, y = data
    frame = pd.DataFrame(X, columns=["g", "x"])
    moe = MixtureOfExpertsRegressor(warm_start=True, random_state=0).fit(frame, y)
    fresh = MixtureOfExpertsRegressor(random_state=0).fit(frame[["x", "g"]], y)
    with pytest.warns(WarmStartWarning, match="names of the columns"):
        warm(moe, frame[["x", "g"]], y)
    assert_allclose(moe.predict(frame[["x", "g"]]), fresh.predict(frame[["x", "g"]]))
    with pytest.warns(WarmStartWarning, match="names of the columns"):
        warm(moe, frame.set_axis(["a", "b"], axis=1), y)
    warm(moe, frame.set_axis(["a", "b"], axis=1), y)  # the same names: continues


def test_a_signature_without_column_names_continues(data):
    # Models saved before the signature held the columns' names continue.
    X, y = data
    moe = MixtureOfExpertsRegressor(warm_start=True, random_state=0).fit(X, y)
    del moe._fit_signature["structure"]["feature_names_in_"]
    warm(moe, X, y)


def test_other_classes_start_afresh_with_a_warning(data):
    X, y = data
    labels = (y > 1).astype(int)
    moe = MixtureOfExpertsClassifier(
        LogisticRegression(), warm_start=True, random_state=0
    ).fit(X, labels)
    with pytest.warns(WarmStartWarning, match="classes"):
        warm(moe, X, np.digitize(y, [0, 2]))
    assert moe.classes_.tolist() == [0, 1, 2]
    assert moe.predict_proba(X).shape == (len(X), 3)


def _first_column(X):
    return X[:, 0]


def _as_loaded_elsewhere(function):
    """The same module-level function as another process has it after
    unpickling: equal module and name, another object at another address."""
    import types

    twin = types.FunctionType(
        function.__code__, function.__globals__, function.__name__
    )
    twin.__qualname__ = function.__qualname__
    return twin


def test_a_rule_loaded_in_another_process_continues(data, monkeypatch):
    """Parameters were compared by repr, and a function's repr holds its
    address: after loading a saved model elsewhere, a warm start silently
    refitted from the templates instead of continuing."""
    from skmoe._base import _BaseMixtureOfExperts
    from skmoe.rules import RuleExpert

    X, y = data
    experts = [("rule", RuleExpert(_first_column)), ("lin", LinearRegression())]
    moe = MixtureOfExpertsRegressor(experts, warm_start=True, random_state=0)
    warm(moe, X, y)
    moe.set_params(rule__rule=_as_loaded_elsewhere(_first_column))

    def refresh(*args):
        raise AssertionError("refitted from the templates")

    monkeypatch.setattr(_BaseMixtureOfExperts, "_refresh", refresh)
    warm(moe, X, y)  # continues: _refresh is never called
    assert moe.n_iter_ <= 2


def test_a_changed_lambda_rule_is_a_changed_parameter(data):
    """A lambda's name does not tell one from another: its repr is kept."""
    from skmoe._warm_start import _value_text

    assert _value_text(lambda X: X[:, 0]) != _value_text(lambda X: X[:, 1])
    assert _value_text(_first_column) == _value_text(
        _as_loaded_elsewhere(_first_column)
    )


class _ScaledFirstColumn:
    """A callable object as a rule: its default repr holds its address."""

    def __init__(self, factor):
        self.factor = factor

    def __call__(self, X):
        return self.factor * X[:, 0]


def test_callable_objects_and_partials_are_named_by_their_content():
    # Their reprs hold addresses: a model deep-copied, or loaded in another
    # process, took the same rule for a changed one and silently refitted
    # from the templates (its predictions moved by up to 1.7).
    import copy
    import functools

    from skmoe._warm_start import _value_text

    rule = _ScaledFirstColumn(2.0)
    assert _value_text(rule) == _value_text(copy.deepcopy(rule))
    assert _value_text(rule) != _value_text(_ScaledFirstColumn(3.0))
    partial = functools.partial(_as_loaded_elsewhere(_first_column))
    assert _value_text(partial) == _value_text(functools.partial(_first_column))
    assert _value_text(functools.partial(max, 1)) != _value_text(
        functools.partial(max, 2)
    )


def test_a_deep_copied_rule_object_continues(data, monkeypatch):
    import copy

    from skmoe._base import _BaseMixtureOfExperts
    from skmoe.rules import RuleExpert

    X, y = data
    rule = RuleExpert(_ScaledFirstColumn(2.0))
    moe = MixtureOfExpertsRegressor(
        [("rule", rule), ("lin", LinearRegression())], warm_start=True, random_state=0
    )
    warm(moe, X, y)
    moe = copy.deepcopy(moe)

    def refresh(*args):
        raise AssertionError("refitted from the templates")

    monkeypatch.setattr(_BaseMixtureOfExperts, "_refresh", refresh)
    warm(moe, X, y)
    assert moe.n_iter_ <= 2


def test_init_resp_on_a_warm_refit_is_ignored_with_a_warning(data):
    """A warm start continues from the fitted model; the responsibilities
    passed to fit were dropped without a word."""
    X, y = data
    moe = MixtureOfExpertsRegressor(warm_start=True, random_state=0).fit(X, y)
    coef = [expert.coef_.copy() for expert in moe.experts_]
    resp = np.full((len(y), 2), 0.5)
    with pytest.warns(WarmStartWarning, match="init_resp is ignored"):
        moe.fit(X, y, init_resp=resp)
    for before, expert in zip(coef, moe.experts_, strict=True):
        assert_allclose(expert.coef_, before, atol=1e-3)
