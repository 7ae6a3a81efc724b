"""The EM loop: starts, restarts, warm start, convergence and verbose output."""

import re
import warnings
from unittest import mock

import joblib
import numpy as np
import pytest
from _data import make_linear_mixture
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor
from skmoe._base import _Run
from skmoe._init import best_run, weighted_kmeans


@pytest.fixture(scope="module")
def data():
    return make_linear_mixture(600, random_state=0)


def test_best_of_n_init_is_kept(data):
    X, y = data
    single = MixtureOfExpertsRegressor(
        n_experts=3, init_params="random", random_state=0
    ).fit(X, y)
    best = MixtureOfExpertsRegressor(
        n_experts=3, init_params="random", n_init=6, random_state=0
    ).fit(X, y)
    # The first of the six starts is the single start (same random stream).
    assert best.log_likelihood_ >= single.log_likelihood_
    others = [
        MixtureOfExpertsRegressor(n_experts=3, init_params="random", random_state=seed)
        .fit(X, y)
        .log_likelihood_
        for seed in range(1, 4)
    ]
    assert len({round(ll, 6) for ll in [single.log_likelihood_, *others]}) > 1


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_every_start_keeps_its_curve(data):
    X, y = data
    moe = MixtureOfExpertsRegressor(
        n_experts=3, init_params="random", n_init=4, random_state=0
    ).fit(X, y)
    curves = moe.start_log_likelihoods_
    assert len(curves) == 4
    assert_array_equal(curves[moe.best_start_], moe.log_likelihoods_)
    finals = [curve[-1] for curve in curves]
    assert moe.best_start_ == int(np.argmax(finals))
    assert len({round(value, 6) for value in finals}) > 1


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_short_runs_continue_only_the_leading_start(data):
    X, y = data
    kw = dict(n_experts=3, init_params="random", n_init=4, tol=1e-8, random_state=0)
    full = MixtureOfExpertsRegressor(init_max_iter=None, **kw).fit(X, y)
    short = MixtureOfExpertsRegressor(init_max_iter=5, **kw).fit(X, y)
    curves = full.start_log_likelihoods_
    assert min(len(curve) for curve in curves) > 5  # no start settles in 5
    # The start leading after five iterations is the one continued ...
    assert short.best_start_ == int(np.argmax([curve[4] for curve in curves]))
    for i, curve in enumerate(short.start_log_likelihoods_):
        if i == short.best_start_:
            # ... from where it stopped: the path of a run never interrupted.
            assert_array_equal(curve, curves[i])
        else:
            assert_array_equal(curve, curves[i][:5])
    assert_array_equal(short.log_likelihoods_, curves[short.best_start_])
    assert short.n_iter_ == len(short.log_likelihoods_) > 5
    assert short.converged_


def test_starts_at_the_same_optimum_keep_the_first_on_every_machine():
    # Two starts that reach the same optimum end apart by rounding alone, and
    # rounding differs between CPUs: the first is kept whichever is ahead.
    def run(ll, paused=False):
        return _Run(ll, {}, [ll], not paused, resume=(lambda: None) if paused else None)

    runs = [run(-1.3), run(-1.3 + 1e-13), run(-1.2, paused=True)]
    assert best_run(runs, finished=True) == 0
    assert best_run(runs) == 2
    runs[1] = run(-1.3 + 1e-6)  # a better optimum, however close
    assert best_run(runs, finished=True) == 1


def test_a_leader_that_ends_below_a_paused_start_hands_on(data):
    # EM with re-seeds or cross-fitting is not an ascent: the start continued
    # after the short runs may end below where another start paused. That
    # start then continues too, and the better of the two is kept.
    X, y = data
    resumed = []

    def run(index, paused_at, ends_at):
        def resume():
            resumed.append(index)
            return _Run(ends_at, {"n_iter_": index}, [paused_at, ends_at], True)

        return _Run(paused_at, {}, [paused_at], False, resume=resume)

    runs = [run(0, -1.0, -3.0), run(1, -2.0, -1.5), run(2, -2.5, -0.5)]
    moe = MixtureOfExpertsRegressor(n_init=3, random_state=0)
    with mock.patch.object(MixtureOfExpertsRegressor, "_in_parallel", lambda *a: runs):
        ended = moe._run_starts(None, None, [None] * 2, None, np.random.RandomState(0))
    # Start 0 led and fell to -3.0; start 1 (-2.0) was then ahead and ended
    # at -1.5, above every paused start: start 2 stays paused.
    assert resumed == [0, 1]
    assert [r.paused for r in ended] == [False, False, True]
    moe._adopt(ended)
    assert moe.best_start_ == 1 and moe.log_likelihood_ == -1.5


def test_a_start_that_settles_in_its_short_run_is_finished(data):
    X, y = data
    # A budget above every start's iterations changes nothing.
    kw = dict(n_experts=3, init_params="random", n_init=3, random_state=0)
    full = MixtureOfExpertsRegressor(init_max_iter=None, **kw).fit(X, y)
    roomy = MixtureOfExpertsRegressor(init_max_iter=999, **kw).fit(X, y)
    for mine, theirs in zip(
        roomy.start_log_likelihoods_, full.start_log_likelihoods_, strict=True
    ):
        assert_array_equal(mine, theirs)
    assert roomy.best_start_ == full.best_start_
    assert_array_equal(roomy.predict(X), full.predict(X))


@pytest.mark.parametrize("assignment", ["stochastic", "annealed"])
def test_stochastic_and_annealed_em_run_every_start_in_full(data, assignment):
    X, y = data
    moe = MixtureOfExpertsRegressor(
        n_experts=2,
        assignment=assignment,
        temperatures=[4.0, 2.0, 1.0] if assignment == "annealed" else None,
        n_init=2,
        init_max_iter=1,
        max_iter=8,
        tol=0,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        moe.fit(X, y)
    assert [len(curve) for curve in moe.start_log_likelihoods_] == [8, 8]


def test_verbose_says_which_start_continues(data, capsys):
    X, y = data
    MixtureOfExpertsRegressor(
        n_experts=3,
        init_params="random",
        n_init=2,
        init_max_iter=3,
        verbose=1,
        random_state=0,
    ).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    paused = [line for line in lines if line.startswith("Short run ended")]
    assert len(paused) == 2
    assert all("after 3 iterations" in line for line in paused)
    (resumed,) = [line for line in lines if line.startswith("Continuing")]
    assert resumed.endswith("from iteration 4")
    assert "converged" in lines[-1]


def test_same_random_state_same_model(data):
    X, y = data
    params = dict(
        experts=DecisionTreeRegressor(max_depth=3, max_features=1),
        n_experts=3,
        init_params="random",
        max_iter=10,
        random_state=7,
    )
    first = MixtureOfExpertsRegressor(**params).fit(X, y)
    second = MixtureOfExpertsRegressor(**params).fit(X, y)
    assert_array_equal(first.predict(X), second.predict(X))
    assert [e.random_state for e in first.experts_] == [
        e.random_state for e in second.experts_
    ]
    # The user's template expert is left unseeded.
    assert params["experts"].random_state is None


def test_warm_start_continues_em(data):
    X, y = data
    moe = MixtureOfExpertsRegressor(
        n_experts=3, max_iter=1, warm_start=True, random_state=0
    )
    curves = []
    with pytest.warns(ConvergenceWarning):
        for _ in range(8):
            moe.fit(X, y)
            curves.append(moe.log_likelihood_)
    assert np.all(np.diff(curves) >= -1e-10)
    assert curves[-1] > curves[0]
    assert len(moe.log_likelihoods_) == 8
    assert_allclose(moe.log_likelihoods_, curves)


def test_warm_start_matches_one_long_run(data):
    X, y = data
    long = MixtureOfExpertsRegressor(n_experts=3, max_iter=12, tol=0, random_state=0)
    with pytest.warns(ConvergenceWarning):
        long.fit(X, y)
    warm = MixtureOfExpertsRegressor(
        n_experts=3, max_iter=6, tol=0, warm_start=True, random_state=0
    )
    with pytest.warns(ConvergenceWarning):
        warm.fit(X, y)
        warm.fit(X, y)
    assert_allclose(warm.log_likelihoods_, long.log_likelihoods_, rtol=1e-7)


def test_convergence_warning_says_what_to_try(data):
    X, y = data
    moe = MixtureOfExpertsRegressor(n_experts=3, max_iter=2, tol=0, random_state=0)
    with pytest.warns(ConvergenceWarning, match="did not converge") as record:
        moe.fit(X, y)
    message = str(record[0].message)
    assert "max_iter" in message and "tol" in message
    assert not moe.converged_
    assert moe.n_iter_ == 2


def test_converges_and_records_each_iteration(data):
    X, y = data
    moe = MixtureOfExpertsRegressor(n_experts=3, random_state=0).fit(X, y)
    assert moe.converged_
    assert len(moe.log_likelihoods_) == moe.n_iter_
    assert moe.log_likelihood_ == moe.log_likelihoods_[-1]
    assert abs(moe.log_likelihoods_[-1] - moe.log_likelihoods_[-2]) < moe.tol
    assert_allclose(moe.log_likelihood_, moe.log_likelihood(X, y).mean())


def test_verbose_prints_iteration_lines(data, capsys):
    X, y = data
    with pytest.warns(ConvergenceWarning):
        MixtureOfExpertsRegressor(
            n_experts=3,
            verbose=1,
            verbose_interval=2,
            n_init=1,
            max_iter=6,
            tol=0,
            random_state=0,
        ).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    iteration_lines = [line for line in lines if "Iteration" in line]
    numbers = [int(re.search(r"Iteration (\d+)", line)[1]) for line in iteration_lines]
    # The first iteration, then every verbose_interval (tests/test_progress.py
    # covers the lines due by time).
    assert numbers == [1, 2, 4, 6]
    # The first line's change is from nothing before it: inf.
    change = r"(-?[\d.]+e[-+]\d+|inf)"
    pattern = rf"log-likelihood -?\d+\.\d+\s+change {change}\s+time [\d.]+s"
    assert all(re.search(pattern, line) for line in iteration_lines)
    assert lines[0] == "Initialization 0"
    assert "did not converge" in lines[-1]


def test_silent_by_default(data, capsys):
    X, y = data
    MixtureOfExpertsRegressor(n_experts=2, random_state=0).fit(X, y)
    assert capsys.readouterr().out == ""


def test_initial_responsibilities_array(data):
    X, y = data
    hard = np.zeros((len(y), 3))
    hard[np.arange(len(y)), np.arange(len(y)) % 3] = 5.0
    before = hard.copy()
    moe = MixtureOfExpertsRegressor(n_experts=3, max_iter=1, random_state=0)
    with pytest.warns(ConvergenceWarning):
        moe.fit(X, y, init_resp=hard)
    assert_array_equal(hard, before)
    # One M-step from equal thirds: every expert sees the same weighted rows
    # (up to the row pattern), so the experts are close to one global fit.
    assert np.ptp(moe.expert_weights_) < 0.2


def test_cloned_experts_are_ordered_by_weight(data):
    X, y = data
    moe = MixtureOfExpertsRegressor(n_experts=3, random_state=0).fit(X, y)
    assert np.all(np.diff(moe.expert_weights_) <= 0)
    assert_allclose(moe.expert_weights_.sum(), 1.0)
    # The order is applied consistently to experts, noise and gate.
    resp = moe.responsibilities(X, y)
    assert_allclose(resp.mean(axis=0), moe.expert_weights_, atol=1e-10)
    gate_share = moe.gate_proba(X).mean(axis=0)
    assert np.argmax(gate_share) == 0


def test_named_experts_keep_their_order(data):
    X, y = data
    from sklearn.linear_model import LinearRegression, Ridge

    moe = MixtureOfExpertsRegressor(
        [("small", Ridge(alpha=1e3)), ("lin", LinearRegression())], random_state=0
    ).fit(X, y)
    assert list(moe.named_experts_) == ["small", "lin"]
    assert isinstance(moe.named_experts_.small, Ridge)
    assert moe.named_experts_.lin is moe.experts_[1]


def test_fit_modifies_nothing_it_was_given(data):
    X, y = data
    X_ro, y_ro = X.copy(), y.copy()
    X_ro.flags.writeable = False
    y_ro.flags.writeable = False
    weight = np.linspace(0.5, 2, len(y))
    template = DecisionTreeRegressor(max_depth=2)
    before = joblib.hash((X_ro, y_ro, weight, template))
    MixtureOfExpertsRegressor(template, n_experts=2, random_state=0).fit(
        X_ro, y_ro, sample_weight=weight
    )
    assert joblib.hash((X_ro, y_ro, weight, template)) == before


@pytest.mark.parametrize(
    "Mixture", [MixtureOfExpertsRegressor, MixtureOfExpertsClassifier]
)
def test_experts_that_scale_in_place_see_the_data_as_given(Mixture):
    # Every expert and the gate get the same array. One that changed it in
    # place (copy=False) would hand the next one scaled data, and the
    # user's X too; read-only, they copy it, as for joblib's memmaps.
    rng = np.random.RandomState(0)
    X = 10 * rng.uniform(-3, 3, size=(400, 2)) + 50
    y = np.where(X[:, 0] > 50, X[:, 1], -X[:, 1]) + rng.normal(0, 0.1, 400)
    if Mixture is MixtureOfExpertsClassifier:
        y = (y > 0).astype(int)
        expert = LogisticRegression()
    else:
        expert = Ridge()
    X_given = X.copy()
    fitted = [
        Mixture(
            make_pipeline(StandardScaler(copy=copy), clone(expert)),
            n_experts=2,
            gate=make_pipeline(StandardScaler(copy=copy), LogisticRegression()),
            n_init=1,
            random_state=0,
        ).fit(X, y)
        for copy in (True, False)
    ]
    assert_array_equal(X, X_given)
    assert_array_equal(fitted[1].predict(X), fitted[0].predict(X))
    assert_array_equal(X, X_given)


@pytest.mark.parametrize("sparse_format", ["csr", "csc", "coo"])
def test_experts_that_scale_sparse_X_in_place_leave_the_callers_matrix(sparse_format):
    # Sparse X reached the experts as the caller's matrix: a Pipeline
    # scaling it in place changed the caller's data (by up to 7.3 here).
    import scipy.sparse as sp

    rng = np.random.RandomState(0)
    X = np.abs(10 * rng.uniform(-3, 3, size=(300, 2)))
    y = np.where(X[:, 0] > 15, X[:, 1], -X[:, 1]) + rng.normal(0, 0.1, 300)
    X_sparse = sp.csr_matrix(X).asformat(sparse_format)
    X_given = X_sparse.copy()
    fitted = [
        MixtureOfExpertsRegressor(
            make_pipeline(StandardScaler(with_mean=False, copy=copy), Ridge()),
            n_experts=2,
            n_init=1,
            random_state=0,
        ).fit(X_sparse, y)
        for copy in (True, False)
    ]
    assert_array_equal(X_sparse.toarray(), X_given.toarray())
    assert_array_equal(fitted[1].predict(X), fitted[0].predict(X))


@pytest.mark.parametrize(
    "Mixture", [MixtureOfExpertsRegressor, MixtureOfExpertsClassifier]
)
def test_an_expert_that_writes_into_y_is_stopped_by_name(Mixture):
    # It changed the caller's y, and EM's likelihood read the changed y
    # (log_likelihood_ 1.1 against -32 on the real one).
    class ClipsY(Ridge):
        def fit(self, X, y, sample_weight=None):
            np.clip(y, -1, 1, out=y)
            return super().fit(X, y, sample_weight)

    class FlipsY(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            y[:] = y[::-1]
            return super().fit(X, y, sample_weight)

    X, y = make_linear_mixture(200, random_state=0)
    expert = ClipsY()
    if Mixture is MixtureOfExpertsClassifier:
        y, expert = (y > 0).astype(int), FlipsY()
    y_given = y.copy()
    with pytest.raises(ValueError, match="'expert0' .* read-only"):
        Mixture(expert, n_experts=2, n_init=1, random_state=0).fit(X, y)
    assert_array_equal(y, y_given)


def test_weighted_kmeans_is_invariant_to_repeats_and_order():
    rng = np.random.RandomState(0)
    Z = rng.standard_normal((40, 3))
    weight = rng.randint(0, 4, size=40).astype(float)
    labels = weighted_kmeans(Z, weight, 4, np.random.RandomState(1))
    repeat = np.repeat(np.arange(40), weight.astype(int))
    perm = rng.permutation(len(repeat))
    labels_repeated = weighted_kmeans(
        Z[repeat][perm], np.ones(len(repeat)), 4, np.random.RandomState(1)
    )
    # Same partition of the distinct rows, same cluster numbering.
    assert_array_equal(labels[repeat][perm], labels_repeated)


def test_auto_start_takes_the_y_aware_and_the_x_only_rule_in_turn(data):
    X, y = data
    moe = MixtureOfExpertsRegressor(n_experts=3, n_init=3, random_state=0).fit(X, y)
    seeds = np.random.RandomState(0).randint(np.iinfo(np.int32).max, size=3)
    for curve, rule, seed in zip(
        moe.start_log_likelihoods_,
        ["kmeans_xy", "kmeans", "kmeans_xy"],
        seeds,
        strict=True,
    ):
        alone = MixtureOfExpertsRegressor(
            n_experts=3, init_params=rule, n_init=1, random_state=seed
        ).fit(X, y)
        assert_allclose(curve, alone.log_likelihoods_, rtol=1e-12)


def test_auto_start_finds_regimes_a_y_aware_start_splits_on_y():
    # Two sub-mixtures for four regimes: k-means on (x, y) with two clusters
    # cuts y high / low across the regimes, and every y-aware start ends in
    # that basin; the x-only start of "auto" finds the split x1 = 0.
    rng = np.random.RandomState(0)
    coef = np.array([[1, 2, -1], [-2, 1, 1], [0.5, -1, 2], [3, 0, -2]])
    X = rng.uniform(-2, 2, size=(1200, 2))
    regime = np.where(X[:, 0] < 0, X[:, 1] > -1, 2 + (X[:, 1] > 1))
    y = coef[regime, 0] + (coef[regime, 1:] * X).sum(axis=1)
    y = y + 0.3 * rng.standard_normal(1200)
    child = MixtureOfExpertsRegressor(n_experts=2, n_init=1, tol=1e-3)
    lls = {
        init: MixtureOfExpertsRegressor(
            child, n_init=2, init_params=init, random_state=0
        )
        .fit(X, y)
        .log_likelihood_
        for init in ["kmeans_xy", "auto"]
    }
    assert lls["auto"] > lls["kmeans_xy"] + 0.2


def test_given_responsibilities_are_one_start(data):
    X, y = data
    start = np.full((len(X), 2), 0.5)
    start[: len(X) // 2, 0] = 0.9
    start[: len(X) // 2, 1] = 0.1
    moe = MixtureOfExpertsRegressor(n_experts=2, n_init=3, random_state=0)
    moe.fit(X, y, init_resp=start)
    assert len(moe.start_log_likelihoods_) == 1
    assert moe.best_start_ == 0
