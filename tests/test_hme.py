"""Hierarchical mixtures by composition, and experts that know their spread."""

import pickle

import numpy as np
import pytest
from _data import make_hard_regimes, make_linear_mixture
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import norm
from sklearn import config_context
from sklearn.base import clone
from sklearn.dummy import DummyRegressor
from sklearn.frozen import FrozenEstimator
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import DotProduct
from sklearn.linear_model import BayesianRidge, LinearRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor


def hard_regimes_log_likelihood(X, y):
    """Per-row log-likelihood under the true model of make_hard_regimes."""
    regime = 2 * (X[:, 0] > 0) + (X[:, 1] > 0)
    coef = np.array([[1, 2, -1], [-2, 1, 1], [0.5, -1, 2], [3, 0, -2]])[regime]
    mean = coef[:, 0] + np.einsum("nd,nd->n", X, coef[:, 1:])
    return norm.logpdf(y, mean, 0.3)


@pytest.fixture(scope="module")
def two_level():
    X, y = make_hard_regimes(4000, random_state=0)
    hme = MixtureOfExpertsRegressor(
        MixtureOfExpertsRegressor(n_experts=2), n_experts=2, random_state=0
    ).fit(X, y)
    return hme, X, y


def test_depth_two_reaches_the_truth_and_beats_a_flat_mixture(two_level):
    hme, X, y = two_level
    X_test, y_test = make_hard_regimes(20000, random_state=1)
    held_out = hme.log_likelihood(X_test, y_test).mean()
    truth = hard_regimes_log_likelihood(X_test, y_test).mean()
    flat = MixtureOfExpertsRegressor(n_experts=2, random_state=0).fit(X, y)
    assert held_out > truth - 0.05
    assert held_out > flat.log_likelihood(X_test, y_test).mean() + 0.5


def test_parent_log_likelihood_never_decreases(two_level):
    hme, _, _ = two_level
    curve = hme.log_likelihoods_
    assert len(curve) > 2
    assert np.all(np.diff(curve) >= -1e-8 * np.abs(curve[1:]))


def test_children_are_warm_started_then_handed_back(two_level):
    hme, _, _ = two_level
    # Each child continued its own EM across the parent's iterations...
    assert all(child.n_iter_ >= 1 for child in hme.experts_)
    # ...and is returned with the warm_start its template had.
    assert all(child.warm_start is False for child in hme.experts_)


def floor_estimates(monkeypatch):
    """The number of rows of every noise-floor estimate made from now on."""
    import skmoe._regressor

    rows = []
    estimate = skmoe._regressor.nn_noise_variance

    def counting(X, y, sample_weight):
        rows.append(len(y))
        return estimate(X, y, sample_weight)

    monkeypatch.setattr(skmoe._regressor, "nn_noise_variance", counting)
    return rows


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_children_take_their_floor_from_the_parents_noise_estimate(monkeypatch):
    # A flat mixture's experts share one floor, from the noise of all rows;
    # a hierarchy's children share the parent's estimate, each with its own
    # reg_var. Estimated by each child at every refit it took a quarter of
    # the fit and moved with the responsibilities.
    X, y = make_hard_regimes(600, random_state=4)
    rows = floor_estimates(monkeypatch)
    child = MixtureOfExpertsRegressor(n_experts=2, n_init=1, reg_var=0.05)
    hme = MixtureOfExpertsRegressor(child, n_experts=2, n_init=1, random_state=0)
    hme.fit(X, y)
    assert hme.n_iter_ > 5
    assert rows == [600]  # the parent's estimate, once
    for fitted in hme.experts_:
        assert fitted._var_floor == pytest.approx(0.05 * hme._noise, rel=1e-12)
    assert hme._var_floor == pytest.approx(1e-2 * hme._noise, rel=1e-12)
    # No level keeps the parent's estimate once the parent's fit is over:
    # refitted alone, a child estimates its own.
    assert not any("_parent_noise" in c.__dict__ for c in hme.experts_)
    hme.experts_[0].fit(X, y)
    assert rows == [600, 600]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_warm_started_parent_on_other_rows_passes_on_their_noise(monkeypatch):
    X, y = make_hard_regimes(600, random_state=4)
    child = MixtureOfExpertsRegressor(n_experts=2, n_init=1)
    hme = MixtureOfExpertsRegressor(
        child, n_experts=2, n_init=1, warm_start=True, random_state=0
    ).fit(X, y)
    before = hme._noise
    rows = floor_estimates(monkeypatch)
    hme.fit(X[:400], y[:400])
    assert rows == [400] and hme._noise != before
    for fitted in hme.experts_:
        assert fitted._var_floor == pytest.approx(1e-2 * hme._noise, rel=1e-12)


def test_leaf_probabilities_multiply_along_paths(two_level):
    hme, X, _ = two_level
    leaves = hme.leaf_proba(X)
    assert list(hme.leaf_names_) == [
        "expert0/expert0",
        "expert0/expert1",
        "expert1/expert0",
        "expert1/expert1",
    ]
    assert_allclose(leaves.sum(axis=1), 1.0)
    gate = hme.gate_proba(X)
    for i, child in enumerate(hme.experts_):
        expected = gate[:, [i]] * child.gate_proba(X)
        assert_allclose(leaves[:, 2 * i : 2 * i + 2], expected)
    # The four quadrants end up on four different leaves.
    quadrant = 2 * (X[:, 0] > 0) + (X[:, 1] > 0)
    leaf = leaves.argmax(axis=1)
    assert len({np.bincount(leaf[quadrant == q]).argmax() for q in range(4)}) == 4


def test_a_prefit_child_mixture_is_a_node_of_the_hierarchy(two_level):
    # EM reads a prefit mixture inside a FrozenEstimator by its own
    # likelihood, as a child it fits; its leaves are the hierarchy's too.
    hme, X, y = two_level
    prefit = hme.experts_[0]
    mixed = MixtureOfExpertsRegressor(
        [("prefit", FrozenEstimator(prefit)), ("linear", LinearRegression())],
        random_state=0,
    ).fit(X, y)
    assert list(mixed.leaf_names_) == ["prefit/expert0", "prefit/expert1", "linear"]
    leaves = mixed.leaf_proba(X)
    gate = mixed.gate_proba(X)
    assert_allclose(leaves[:, :2], gate[:, [0]] * prefit.gate_proba(X))
    assert_allclose(leaves[:, 2], gate[:, 1])
    assert_allclose(leaves.sum(axis=1), 1.0)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_three_levels_fit_predict_clone_and_pickle():
    X, y = make_hard_regimes(1500, random_state=2)
    # One start at each level (n_init=1): the tree of mixtures is tested here,
    # not the restarts, whose default three would multiply the fits by 27.
    grandchild = MixtureOfExpertsRegressor(n_experts=2, n_init=1, max_iter=20)
    child = MixtureOfExpertsRegressor(grandchild, n_experts=2, n_init=1, max_iter=20)
    hme = MixtureOfExpertsRegressor(
        child, n_experts=2, n_init=1, max_iter=20, random_state=0
    )
    hme.fit(X, y)
    assert hme.leaf_proba(X).shape == (len(X), 8)
    assert len(hme.leaf_names_) == 8 and hme.leaf_names_[0].count("/") == 2
    # Every level below got the parent's noise estimate, through the
    # children, and none keeps it once the fit is over.
    levels = [*hme.experts_, *(g for c in hme.experts_ for g in c.experts_)]
    assert len(levels) == 6
    assert not any("_parent_noise" in level.__dict__ for level in levels)
    assert all(level._noise == hme._noise for level in levels)
    restored = pickle.loads(pickle.dumps(hme))
    assert_array_equal(restored.predict(X), hme.predict(X))
    twin = clone(hme)
    assert not hasattr(twin, "experts_")
    assert twin.get_params()["experts__experts__n_experts"] == 2


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_grid_search_over_nested_mixtures():
    X, y = make_hard_regimes(600, random_state=3)
    search = GridSearchCV(
        MixtureOfExpertsRegressor(
            # One start per level: the grid reaches the children's parameter.
            MixtureOfExpertsRegressor(n_experts=2, n_init=1, max_iter=30),
            n_experts=2,
            n_init=1,
            max_iter=30,
            random_state=0,
        ),
        {"experts__n_experts": [1, 2]},
        cv=3,
    )
    search.fit(X, y)
    assert search.best_params_ == {"experts__n_experts": 2}


def test_nested_classifier():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(1200, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    hme = MixtureOfExpertsClassifier(
        MixtureOfExpertsClassifier(n_experts=2), n_experts=2, random_state=0
    ).fit(X, y)
    assert hme.score(X, y) > 0.9
    assert_allclose(hme.leaf_proba(X).sum(axis=1), 1.0)


# ---- experts that report their own spread -----------------------------------


@pytest.mark.parametrize("routing", [False, True])
@pytest.mark.parametrize(
    "make", [BayesianRidge, lambda: make_pipeline(StandardScaler(), BayesianRidge())]
)
def test_bayesian_ridge_expert_brings_its_own_spread(make, routing):
    # Behind a scaler too: a Pipeline passes return_std on to its last step.
    X, y = make_linear_mixture(400, random_state=0)
    alone = make().fit(X, y)
    alone_mean, alone_std = alone.predict(X, return_std=True)
    with config_context(enable_metadata_routing=routing):
        moe = MixtureOfExpertsRegressor(make(), n_experts=1).fit(X, y)
        mean, std = moe.predict(X, return_std=True)
        log_likelihood = moe.log_likelihood(X, y)
    assert_allclose(mean, alone_mean, rtol=1e-10)
    assert_allclose(std, alone_std, rtol=1e-10)
    assert_allclose(log_likelihood, norm.logpdf(y, alone_mean, alone_std))


def test_spread_is_used_row_by_row_in_a_mixture():
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(600, 1))
    # Noise grows with |x| on the left; a Bayesian expert's own spread does
    # not, but its std is what enters the likelihood and return_std.
    y = np.where(X[:, 0] < 0, 2 * X[:, 0], -X[:, 0]) + 0.2 * rng.standard_normal(600)
    moe = MixtureOfExpertsRegressor(
        [("bayes", BayesianRidge()), ("lin", LinearRegression())], random_state=0
    ).fit(X, y)
    gate = moe.gate_proba(X)
    means = moe.expert_predictions(X)
    bayes_mean, bayes_std = moe.experts_[0].predict(X, return_std=True)
    assert_allclose(means[:, 0], bayes_mean)
    variances = np.column_stack([bayes_std**2, np.full(len(X), moe.noise_var_[1])])
    expected = np.log(
        (gate * norm.pdf(y[:, None], means, np.sqrt(variances))).sum(axis=1)
    )
    assert_allclose(moe.log_likelihood(X, y), expected, rtol=1e-8)
    mixture_mean = (gate * means).sum(axis=1)
    spread = (gate * (variances + (means - mixture_mean[:, None]) ** 2)).sum(axis=1)
    assert_allclose(moe.predict(X, return_std=True)[1], np.sqrt(spread), rtol=1e-8)


def test_zero_std_everywhere_is_no_spread():
    # DummyRegressor.predict accepts return_std but returns zeros: the fitted
    # noise variance stands in, as for any expert without a spread.
    X, y = make_linear_mixture(300, random_state=1)
    moe = MixtureOfExpertsRegressor(DummyRegressor(), n_experts=1).fit(X, y)
    _, std = moe.predict(X, return_std=True)
    assert_allclose(std, np.sqrt(np.var(y)), rtol=1e-10)


def test_zero_std_on_some_rows_is_decided_row_by_row():
    """A Gaussian process with a linear kernel through the origin is sure of
    itself at x = 0 only. Whether its zero there stood for "no spread" was
    decided over the rows predicted together: x = 0 alone got the noise
    (sd 1.26), beside x = 1 the floor (sd 0.033), and a log-likelihood of
    -3.1 or -2896."""
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(400, 1))
    y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
    y += 0.3 * rng.standard_normal(400)
    gp = GaussianProcessRegressor(
        DotProduct(sigma_0=0.0, sigma_0_bounds="fixed"), alpha=0.09, optimizer=None
    )
    moe = MixtureOfExpertsRegressor(gp, n_experts=2, n_init=1, random_state=0)
    moe.fit(X, y)
    both, alone = np.array([[0.0], [1.0]]), np.array([[0.0]])
    assert moe.experts_[0].predict(alone, return_std=True)[1][0] == 0.0
    assert_allclose(
        moe.predict(both, return_std=True)[1][:1],
        moe.predict(alone, return_std=True)[1],
    )
    assert_allclose(
        moe.log_likelihood(both, [2.5, 3.0])[:1], moe.log_likelihood(alone, [2.5])
    )
    # There the expert's fitted noise stands in, as for DummyRegressor.
    _, variances = moe._one_expert(0, both)
    assert variances[0] == moe.noise_var_[0]
    assert variances[1] < moe.noise_var_[0]


def test_all_bayesian_experts_give_the_mixture_of_their_densities():
    X, y = make_linear_mixture(800, random_state=5)
    moe = MixtureOfExpertsRegressor(BayesianRidge(), n_experts=3, random_state=0)
    moe.fit(X, y)
    gate = moe.gate_proba(X)
    moments = [expert.predict(X, return_std=True) for expert in moe.experts_]
    means = np.column_stack([m for m, _ in moments])
    stds = np.column_stack([s for _, s in moments])
    density = (gate * norm.pdf(y[:, None], means, stds)).sum(axis=1)
    assert_allclose(moe.log_likelihood(X, y), np.log(density), rtol=1e-8)
    mixture_mean = (gate * means).sum(axis=1)
    spread = (gate * (stds**2 + (means - mixture_mean[:, None]) ** 2)).sum(axis=1)
    assert_allclose(moe.predict(X, return_std=True)[1], np.sqrt(spread), rtol=1e-8)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_grid_search_reaches_the_leaves_parameters():
    X, y = make_hard_regimes(600, random_state=4)
    search = GridSearchCV(
        MixtureOfExpertsRegressor(
            # One start per level: the grid reaches the leaves' parameter.
            MixtureOfExpertsRegressor(Ridge(), n_experts=2, n_init=1, max_iter=20),
            n_experts=2,
            n_init=1,
            max_iter=20,
            random_state=0,
        ),
        {"experts__experts__alpha": [0.01, 1e4]},
        cv=3,
    ).fit(X, y)
    assert search.best_params_ == {"experts__experts__alpha": 0.01}
    leaf = search.best_estimator_.experts_[0].experts_[0]
    assert leaf.alpha == 0.01


# ---- the children's warnings ---------------------------------------------------


def _three_bands(n=400):
    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 2, size=(n, 2))
    band = np.digitize(X[:, 0] + (X[:, 1] > 0) * X[:, 1], [-0.5, 0.8])
    return X, np.array(list("abc"))[band]


def test_a_childs_warnings_do_not_repeat_at_every_parent_iteration():
    """A child's fit is one M-step of its parent's EM: its end-of-fit
    warnings came again at most parent iterations, with new figures (ten
    LocalOptimumWarnings for one fit here)."""
    import warnings

    from skmoe.exceptions import LocalOptimumWarning

    X, y = _three_bands()
    inner = MixtureOfExpertsClassifier(n_experts=3, n_init=1, tol=1e-3)
    outer = MixtureOfExpertsClassifier(inner, n_experts=2, n_init=1, random_state=0)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        outer.fit(X, y)
    local = [w for w in record if w.category is LocalOptimumWarning]
    assert len(local) <= len(outer.experts_)  # at most one per child, at the end
    assert all("_in_parent_em" not in vars(child) for child in outer.experts_)


@pytest.mark.parametrize("dead_expert", ["reseed", "prune"])
def test_a_childs_dead_experts_are_named_by_their_path_only(dead_expert):
    """Re-seeds and prunes inside a child warned while the parent's EM ran,
    with the child's bare names and its own iteration numbers."""
    import warnings

    from skmoe.exceptions import DeadExpertWarning

    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(400, 1))
    y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
    y += 0.3 * rng.standard_normal(400)
    child = MixtureOfExpertsRegressor(
        n_experts=3, n_init=1, tol=1e-3, min_expert_weight=0.05, dead_expert=dead_expert
    )
    outer = MixtureOfExpertsRegressor(child, n_experts=2, n_init=1, random_state=0)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        outer.fit(X, y)
    dead = [str(w.message) for w in record if w.category is DeadExpertWarning]
    # Experts by path, or the child by its name (how many it pruned).
    assert all(
        ("['expert" in m and "/" in m.split("]")[0]) or " experts of 'expert" in m
        for m in dead
    ), dead


def test_a_childs_final_state_is_judged_under_its_path():
    from skmoe.exceptions import DeadExpertWarning

    X, y = _three_bands()
    inner = MixtureOfExpertsClassifier(n_experts=2, n_init=1, tol=1e-3)
    outer = MixtureOfExpertsClassifier(inner, n_experts=2, n_init=1, random_state=0)
    outer.fit(X, y)
    child = outer.experts_[1]
    child.expert_weights_ = np.array([1.0 - 1e-5, 1e-5])  # as if one died
    with pytest.warns(DeadExpertWarning, match=r"'expert1/expert1'"):
        outer._warn_if_suspect([])
