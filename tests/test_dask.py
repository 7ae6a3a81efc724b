"""Mixtures on Dask collections: data-parallel EM equals the in-memory fit, and
block-wise predictions equal the NumPy ones.

A LocalCluster on the loopback interface, started and closed here, runs every
pass; threads (``processes=False``) keep it quick, and one test runs worker
processes so that what travels (the model, the passes' plans) must pickle.
"""

import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
from _data import EXPERT_COEF, curves_differ, make_linear_mixture
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.tree import DecisionTreeRegressor

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor
from skmoe._fast_mstep import supports_fast_mstep

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

from skmoe._dask import fit_dask, predict_blocks  # noqa: E402

# The bar for "equals the in-memory fit".
LL_TOL, COEF_TOL = 1e-8, 1e-6


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,  # in-process transport: nothing leaves the process
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def chunked(values, rows=150):
    return da.from_array(values, chunks=(rows,) + values.shape[1:])


def plain(estimator):
    """The in-memory reference for an out-of-core fit: plain EM, which is what
    runs out of core. The in-memory default, ``acceleration="auto"``, takes
    SQUAREM jumps after 20 iterations and then ends at the same optimum only
    to ``tol``; the fits here stop sooner, but the comparison must not rest
    on that."""
    return estimator.set_params(acceleration=None)


def assert_same_fit(in_memory, out_of_core, X, y, ll_tol=LL_TOL):
    """Same curve, likelihood per row, experts, gate and noise."""
    assert in_memory.acceleration is None  # see plain()
    curve, other = in_memory.log_likelihoods_, out_of_core.log_likelihoods_
    assert len(curve) == len(other)
    assert_allclose(other, curve, rtol=0, atol=ll_tol)
    assert_allclose(
        out_of_core.log_likelihood(X, y),
        in_memory.log_likelihood(X, y),
        rtol=0,
        atol=ll_tol,
    )
    for mine, theirs in zip(out_of_core.experts_, in_memory.experts_, strict=True):
        assert type(mine) is type(theirs)
        assert_allclose(mine.coef_, theirs.coef_, rtol=0, atol=COEF_TOL)
        assert_allclose(mine.intercept_, theirs.intercept_, rtol=0, atol=COEF_TOL)
    if in_memory.gate_ is not None:
        assert_allclose(
            out_of_core.gate_.coef_, in_memory.gate_.coef_, rtol=0, atol=COEF_TOL
        )
        assert_allclose(
            out_of_core.gate_.intercept_,
            in_memory.gate_.intercept_,
            rtol=0,
            atol=COEF_TOL,
        )
    for name in ("noise_var_", "expert_weights_"):
        if hasattr(in_memory, name):
            assert_allclose(
                getattr(out_of_core, name), getattr(in_memory, name), rtol=1e-8
            )
    assert out_of_core.n_iter_ == in_memory.n_iter_
    assert out_of_core.converged_ == in_memory.converged_


@pytest.mark.parametrize(
    "experts, params",
    [
        (None, {}),
        (Ridge(alpha=3.0), {"gate_features": [0], "init_params": "random"}),
        (Ridge(alpha=0.5, fit_intercept=False), {"expert_features": [1, 0]}),
    ],
    ids=["LinearRegression, k-means start", "Ridge, random start", "no intercept"],
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_regressor_equals_in_memory_fit(client, experts, params):
    X, y = make_linear_mixture(600, random_state=0)
    # Far from the origin: the block sums must not cancel.
    X, y = X + 50.0, y + 100.0
    weight = np.random.RandomState(1).uniform(0.2, 3.0, len(y))
    kw = dict(experts=experts, n_experts=3, random_state=0, tol=1e-10, max_iter=6)
    kw.update(params)
    in_memory = plain(MixtureOfExpertsRegressor(**kw)).fit(X, y, sample_weight=weight)
    out_of_core = MixtureOfExpertsRegressor(**kw).fit(
        chunked(X),
        chunked(y, 100),  # chunks unlike X's are aligned to them
        sample_weight=chunked(weight),
    )
    assert_same_fit(in_memory, out_of_core, X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_constant_gate_column_is_not_counted_as_in_memory(client):
    # alpha="auto" counts the gate's varying columns, out of core too.
    X, y = make_linear_mixture(600, random_state=0)
    X = np.column_stack([X, np.full(len(X), 7.0)])
    kw = dict(n_experts=3, random_state=0, tol=1e-10, max_iter=6)
    in_memory = plain(MixtureOfExpertsRegressor(**kw)).fit(X, y)
    out_of_core = MixtureOfExpertsRegressor(**kw).fit(chunked(X), chunked(y))
    assert_same_fit(in_memory, out_of_core, X, y)
    assert out_of_core.gate_._n_varying == in_memory.gate_._n_varying == 2


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_noise_floor_is_set_on_the_columns_seen_as_in_memory(client):
    # A column neither the gate nor the experts see must not enter the noise
    # estimate out of core either (every row is in the sample here).
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(600, 2))
    y = 5 * np.sin(2 * X[:, 0]) + 0.3 * rng.standard_normal(600)
    kw = dict(n_experts=2, gate_features=[0], expert_features=[0], max_iter=3)
    in_memory = MixtureOfExpertsRegressor(**kw).fit(X, y)
    on_x0 = MixtureOfExpertsRegressor(n_experts=2, max_iter=3).fit(X[:, [0]], y)
    out_of_core = MixtureOfExpertsRegressor(**kw).fit(chunked(X), chunked(y))
    assert in_memory._var_floor == pytest.approx(on_x0._var_floor, rel=1e-12)
    assert out_of_core._var_floor == pytest.approx(in_memory._var_floor, rel=1e-12)


@pytest.mark.filterwarnings("ignore::skmoe.exceptions.DegenerateFitWarning")
def test_noise_free_target_of_mean_zero_has_the_in_memory_floor(client):
    # The floor's rounding term scaled with y's mean out of core, with its
    # root mean square in memory: 6.6e-34 against 9.5e-26 for a noise-free
    # y of mean 0, and log_likelihood_ -305.5 against 27.9.
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(400, 1))
    X -= X.mean()
    y = 2 * X[:, 0]
    in_memory = MixtureOfExpertsRegressor(n_experts=1).fit(X, y)
    out_of_core = MixtureOfExpertsRegressor(n_experts=1).fit(chunked(X), chunked(y))
    assert out_of_core._var_floor == pytest.approx(in_memory._var_floor, rel=1e-9)
    assert out_of_core._noise == in_memory._noise
    # The residuals are rounding errors, which differ between the two
    # solvers, and the floor is of their size: equal to rounding, not 1e-8.
    assert out_of_core.log_likelihood_ == pytest.approx(
        in_memory.log_likelihood_, abs=1e-3
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_default_acceleration_runs_plain_em_out_of_core(client):
    # Out-of-core EM never holds the responsibilities, so "auto" (the
    # default) is plain EM there: the in-memory fit without acceleration,
    # past the iteration where in memory the first jump would be made.
    X, y = make_linear_mixture(400, random_state=3)
    kw = dict(n_experts=5, n_init=1, random_state=0, tol=0.0, max_iter=30)
    plain = MixtureOfExpertsRegressor(acceleration=None, **kw).fit(X, y)
    jumping = MixtureOfExpertsRegressor(**kw).fit(X, y)
    assert curves_differ(jumping.log_likelihoods_, plain.log_likelihoods_)
    out_of_core = MixtureOfExpertsRegressor(**kw).fit(chunked(X), chunked(y))
    assert_same_fit(plain, out_of_core, X, y)


def assert_same_starts(in_memory, out_of_core, X, y):
    """The same start kept, every start's curve and the kept fit alike."""
    assert out_of_core.best_start_ == in_memory.best_start_
    for mine, theirs in zip(
        out_of_core.start_log_likelihoods_,
        in_memory.start_log_likelihoods_,
        strict=True,
    ):
        assert_allclose(mine, theirs, rtol=0, atol=LL_TOL)
    assert_same_fit(in_memory, out_of_core, X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore::UserWarning")  # starts in different optima
def test_several_starts_keep_the_same_best(client):
    X, y = make_linear_mixture(400, random_state=11)
    kw = dict(n_experts=3, n_init=3, init_params="random", random_state=0)
    kw["max_iter"] = 5
    in_memory = plain(MixtureOfExpertsRegressor(**kw)).fit(X, y)
    out_of_core = MixtureOfExpertsRegressor(**kw).fit(chunked(X), chunked(y))
    assert_same_starts(in_memory, out_of_core, X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_short_runs_continue_the_same_start(client):
    X, y = make_linear_mixture(400, random_state=11)
    kw = dict(n_experts=3, n_init=3, init_params="random", random_state=0)
    kw.update(init_max_iter=3, max_iter=8, tol=1e-12)
    in_memory = plain(MixtureOfExpertsRegressor(**kw)).fit(X, y)
    out_of_core = MixtureOfExpertsRegressor(**kw).fit(chunked(X), chunked(y))
    lengths = [len(curve) for curve in in_memory.start_log_likelihoods_]
    assert sorted(lengths) == [3, 3, 8]  # two short runs, one continued
    assert_same_starts(in_memory, out_of_core, X, y)


def test_verbose_prints_the_in_memory_progress_lines(client, capsys):
    X, y = make_linear_mixture(300, random_state=12)
    kw = dict(n_experts=2, random_state=0, verbose=1, verbose_interval=2)
    kw["max_iter"] = 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain(MixtureOfExpertsRegressor(**kw)).fit(X, y)
        in_memory = capsys.readouterr().out.splitlines()
        MixtureOfExpertsRegressor(**kw).fit(chunked(X), chunked(y))
        out_of_core = capsys.readouterr().out.splitlines()

    def without_time(lines):
        return [line.split("\t time")[0] for line in lines]

    assert len(out_of_core) == len(in_memory) >= 4
    assert without_time(out_of_core) == without_time(in_memory)


# Out of core, multinomial logistic experts are solved by the Newton steps of
# skmoe's direct M-step, on the objective of scikit-learn >= 1.8; before it,
# in-memory logistic experts keep their own fit (another multinomial solver).
_MULTINOMIAL_AS_IN_MEMORY = pytest.mark.skipif(
    not supports_fast_mstep(LogisticRegression()),
    reason="in-memory logistic experts keep their own fit on this scikit-learn",
)


@pytest.mark.parametrize(
    "n_classes", [2, pytest.param(3, marks=_MULTINOMIAL_AS_IN_MEMORY)]
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_classifier_equals_in_memory_fit(client, n_classes):
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(600, 2))
    # Two regimes (left and right of x1 = 0), each a multinomial logit.
    left, right = [[2, 0, -1], [0, 1, 1]], [[-2, 1, 0], [1, 0, -1]]
    logits = np.where(X[:, :1] < 0, X @ left, X @ right)[:, :n_classes]
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    y = p.cumsum(axis=1) / p.sum(axis=1, keepdims=True) < rng.uniform(size=(600, 1))
    y = np.array(["a", "b", "c"])[y.sum(axis=1)]
    # The in-memory expert solved to the optimum, as the out-of-core Newton does.
    expert = LogisticRegression(C=2.0, solver="newton-cholesky", tol=1e-12)
    kw = dict(experts=expert, n_experts=2, random_state=0, tol=1e-9, max_iter=8)
    in_memory = plain(MixtureOfExpertsClassifier(**kw)).fit(X, y)
    out_of_core = MixtureOfExpertsClassifier(**kw).fit(chunked(X), chunked(y))
    assert_array_equal(out_of_core.classes_, in_memory.classes_)
    # In memory, EM refits logistic experts by Newton steps that stop once no
    # gradient entry of the mean loss exceeds 1e-10 (skmoe._fast_mstep), which
    # leaves them ~1e-8 from the optimum that out-of-core Newton reaches: per
    # row, the log-likelihoods then agree to 1e-7 rather than 1e-8.
    assert_same_fit(in_memory, out_of_core, X, y, ll_tol=1e-7)
    assert_allclose(out_of_core.predict_proba(X), in_memory.predict_proba(X), atol=1e-7)


@pytest.mark.parametrize(
    "dead_expert, n_left", [("prune", 2), ("reseed", 3)], ids=["prune", "reseed"]
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_start_from_responsibilities_and_dead_experts(client, dead_expert, n_left):
    """A Dask array of starting responsibilities, and a start that leaves an
    expert dead: it is pruned, or re-seeded on the rows explained worst (cut
    at quantiles of all rows, as there are fewer than the sample size), as in
    memory."""
    X, y = make_linear_mixture(500, random_state=2)
    start = np.tile([0.9995, 0.0004, 0.0001], (500, 1))
    start[X[:, 0] > 0] = [0.0004, 0.9995, 0.0001]
    kw = dict(n_experts=3, dead_expert=dead_expert, random_state=0, max_iter=12)
    kw["n_init"] = 1  # starts from init_resp are alike: one says it all
    match = "pruned" if dead_expert == "prune" else "re-seeded"
    with pytest.warns(UserWarning, match=match) as said_in_memory:
        in_memory = plain(MixtureOfExpertsRegressor(**kw)).fit(X, y, init_resp=start)
    with pytest.warns(UserWarning, match=match) as said_out_of_core:
        out_of_core = fit_dask(
            MixtureOfExpertsRegressor(**kw),
            chunked(X),
            chunked(y),
            init_resp=chunked(start),
        )
    assert len(out_of_core.experts_) == len(in_memory.experts_) == n_left
    assert_same_fit(in_memory, out_of_core, X, y)
    # Said at the end, of the kept start, under the final names, alike.
    said = [[str(w.message) for w in s] for s in (said_in_memory, said_out_of_core)]
    assert said[0] == said[1]
    assert sum("min_expert_weight" in message for message in said[0]) == 1


def test_recovers_known_mixture_from_lazily_generated_data(client):
    """Rows generated block by block on the workers: the fit finds the true
    experts (each data set's own draw, no in-memory copy ever exists)."""
    n, rows = 20_000, 5_000
    rs = da.random.RandomState(0)
    X = rs.standard_normal((n, 2), chunks=(rows, 2))
    # The true mixture of _data: gate logits 2.5 x1 (expert 0) vs -2.5 x1,
    # here with two experts, so which expert a row follows is x1's sign.
    coef = EXPERT_COEF[:2]
    left = X[:, 0] < 0
    y = da.where(left, coef[1, 0] + X @ coef[1, 1:], coef[0, 0] + X @ coef[0, 1:])
    y = y + 0.3 * rs.standard_normal(n, chunks=rows)
    # The regimes switch sharply, so the gate sharpens for many iterations;
    # the experts are found within a few, from one start (n_init=1).
    moe = MixtureOfExpertsRegressor(
        n_experts=2, init_params="kmeans_xy", n_init=1, random_state=0, max_iter=6
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        moe = fit_dask(moe, X, y)
    fitted = sorted(
        (np.r_[e.intercept_, e.coef_] for e in moe.experts_), key=lambda c: c[1]
    )
    assert_allclose(fitted, coef[np.argsort(coef[:, 1])], atol=0.05)
    assert_allclose(np.sqrt(moe.noise_var_), 0.3, rtol=0.05)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_dataframe_input_keeps_names_and_equals_pandas(client):
    X, y = make_linear_mixture(400, random_state=3)
    frame = pd.DataFrame(X, columns=["size", "age"])
    kw = dict(n_experts=2, random_state=0, gate_features=["age"], max_iter=6)
    in_memory = plain(MixtureOfExpertsRegressor(**kw)).fit(frame, y)
    dframe = dd.from_pandas(frame, npartitions=3)
    target = dd.from_pandas(pd.Series(y), npartitions=3)
    out_of_core = MixtureOfExpertsRegressor(**kw).fit(dframe, target)
    assert_array_equal(out_of_core.feature_names_in_, ["size", "age"])
    assert_array_equal(out_of_core.gate_features_, [1])
    assert_same_fit(in_memory, out_of_core, frame, y)
    lazy = out_of_core.predict(dframe)
    assert isinstance(lazy, da.Array)
    assert_allclose(lazy.compute(), in_memory.predict(frame), atol=1e-8)


@pytest.mark.parametrize(
    "Mixture", [MixtureOfExpertsRegressor, MixtureOfExpertsClassifier]
)
def test_score_on_partitions_of_unknown_length_equals_in_memory(client, Mixture):
    # scikit-learn's metrics took the lazy predictions and failed: "Cannot
    # call len() on object with unknown chunk size".
    X, y = make_linear_mixture(300, random_state=4)
    if Mixture is MixtureOfExpertsClassifier:
        y = (y > np.median(y)).astype(int)
    weight = np.random.RandomState(2).uniform(0.5, 2.0, len(y))
    moe = Mixture(n_experts=2, n_init=1, random_state=0).fit(X, y)
    frame = dd.from_pandas(pd.DataFrame(X), npartitions=3)
    target = dd.from_pandas(pd.Series(y), npartitions=3)
    expected = moe.score(X, y, sample_weight=weight)
    assert moe.score(frame, target, sample_weight=weight) == pytest.approx(expected)
    assert moe.score(frame, y) == pytest.approx(moe.score(X, y))


@pytest.mark.parametrize(
    "method, kwargs",
    [
        ("predict", {}),
        ("predict", {"top_k": 1}),
        ("gate_proba", {}),
        ("predict_expert", {}),
        ("predict_quantiles", {"quantiles": [0.05, 0.5, 0.95]}),
        ("predict_interval", {"coverage": 0.8}),
    ],
)
def test_lazy_regressor_predictions_equal_numpy(client, method, kwargs):
    X, y = make_linear_mixture(500, random_state=4)
    moe = MixtureOfExpertsRegressor(n_experts=3, random_state=0).fit(X, y)
    lazy = getattr(moe, method)(chunked(X, 128), **kwargs)
    assert isinstance(lazy, da.Array)
    assert lazy.numblocks[0] == 4
    assert_array_equal(lazy.compute(), getattr(moe, method)(X, **kwargs))


def test_lazy_prediction_ships_the_model_once(client):
    X, y = make_linear_mixture(300, random_state=5)
    moe = MixtureOfExpertsRegressor(n_experts=2, random_state=0).fit(X, y)
    mean, std = moe.predict(chunked(X, 50), return_std=True)
    graph = dict(mean.__dask_graph__())
    # One key holds the model; each block's task refers to it by that key.
    models = [
        v
        for v in graph.values()
        if isinstance(getattr(v, "value", v), MixtureOfExpertsRegressor)
    ]
    assert len(models) == 1
    assert len(graph) == 1 + 6 + 6 + 6  # model, data, predictions, means
    expected_mean, expected_std = moe.predict(X, return_std=True)
    assert_array_equal(mean.compute(), expected_mean)
    assert_array_equal(std.compute(), expected_std)


def test_lazy_classifier_predictions_equal_numpy(client):
    rng = np.random.RandomState(6)
    X = rng.normal(size=(300, 2))
    y = np.where(X[:, 0] * X[:, 1] > 0, "same", "differ")
    moe = MixtureOfExpertsClassifier(n_experts=2, random_state=0).fit(X, y)
    for method in ("predict", "predict_proba", "predict_log_proba"):
        lazy = getattr(moe, method)(chunked(X, 70))
        assert isinstance(lazy, da.Array)
        assert_array_equal(lazy.compute(), getattr(moe, method)(X))


def test_worker_processes_give_the_same_fit():
    """With worker processes everything that travels is pickled."""
    X, y = make_linear_mixture(400, random_state=7)
    kw = dict(n_experts=2, random_state=0, max_iter=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        in_memory = plain(MixtureOfExpertsRegressor(**kw)).fit(X, y)
    with (
        warnings.catch_warnings(),
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster),
    ):
        warnings.simplefilter("ignore", ConvergenceWarning)
        out_of_core = fit_dask(MixtureOfExpertsRegressor(**kw), chunked(X), chunked(y))
        lazy = predict_blocks(out_of_core, "predict", chunked(X)).compute()
    assert_same_fit(in_memory, out_of_core, X, y)
    assert_allclose(lazy, in_memory.predict(X), atol=1e-8)


# ---- what cannot run out of core says so ----------------------------------


def test_experts_without_sum_m_step_are_refused_with_a_remedy(client):
    X, y = make_linear_mixture(200, random_state=8)
    moe = MixtureOfExpertsRegressor(
        [("lin", LinearRegression()), ("tree", DecisionTreeRegressor())]
    )
    with pytest.raises(TypeError) as error:
        fit_dask(moe, chunked(X), chunked(y))
    message = str(error.value)
    assert "'tree' (DecisionTreeRegressor)" in message
    assert "'lin'" not in message
    assert "LinearRegression or Ridge" in message
    assert "sample" in message and "predict" in message
    assert not hasattr(moe, "experts_")


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"assignment": "hard"}, ValueError, "assignment='hard'"),
        ({"n_jobs": 2}, ValueError, "n_jobs=2"),
        ({"acceleration": "squarem"}, ValueError, "acceleration='squarem'"),
        ({"balance": 0.1}, ValueError, "balance=0.1"),
        ({"gate": LogisticRegression()}, TypeError, "SoftmaxGate"),
        ({"gate__solver": "lbfgs"}, ValueError, "gate__solver='lbfgs'"),
        ({"experts": Ridge(positive=True)}, TypeError, "positive=False"),
        # Refused in memory before: they fitted, and every predict failed.
        ({"top_k": 5}, ValueError, "'top_k' must be between 1 and the number"),
        ({"temperatures": [1.0, 2.0]}, ValueError, "temperatures"),
    ],
)
def test_unsupported_options_are_refused(client, params, error, match):
    X, y = make_linear_mixture(200, random_state=9)
    moe = MixtureOfExpertsRegressor(n_experts=2).set_params(**params)
    with pytest.raises(error, match=match):
        moe.fit(chunked(X), chunked(y))


def test_fit_params_are_refused(client):
    X, y = make_linear_mixture(100, random_state=9)
    with pytest.raises(ValueError, match=r"Fit parameters \['groups'\]"):
        fit_dask(MixtureOfExpertsRegressor(), chunked(X), chunked(y), groups=y)


def test_classifier_refuses_label_only_experts(client):
    from sklearn.svm import LinearSVC

    X = np.random.RandomState(0).normal(size=(100, 2))
    y = (X[:, 0] > 0).astype(int)
    moe = MixtureOfExpertsClassifier(LinearSVC(), n_experts=2)
    with pytest.raises(TypeError, match="LinearSVC.*LogisticRegression with an L2"):
        fit_dask(moe, chunked(X, 50), chunked(y, 50))


@pytest.mark.parametrize(
    "labels, match",
    [
        # It fitted a class "nan", and a class per value of continuous y.
        (lambda y: np.where(np.arange(len(y)) == 7, np.nan, y), "Input y contains NaN"),
        (lambda y: y + 0.5 * np.random.RandomState(0).rand(len(y)), "continuous"),
    ],
    ids=["NaN label", "continuous"],
)
def test_classifier_refuses_labels_as_in_memory(client, labels, match):
    X = np.random.RandomState(0).normal(size=(200, 2))
    y = labels((X[:, 0] > 0).astype(float))
    moe = MixtureOfExpertsClassifier(n_experts=2, random_state=0)
    with pytest.raises(ValueError, match=match):
        moe.fit(X, y)
    with pytest.raises(ValueError, match=match):
        moe.fit(chunked(X, 50), chunked(y, 50))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_nan_in_a_column_nobody_reads_is_left_alone_as_in_memory(client):
    # It was refused out of core ("X contains NaN or infinity (86 values)"),
    # where the guide's "Missing values" has it fitted.
    X, y = make_linear_mixture(300, random_state=12)
    unread = np.where(np.random.RandomState(0).rand(300) < 0.3, np.nan, 1.0)
    X = np.column_stack([X, unread])
    kw = dict(n_experts=2, random_state=0, gate_features=[0], expert_features=[0, 1])
    kw.update(max_iter=6)
    in_memory = plain(MixtureOfExpertsRegressor(**kw)).fit(X, y)
    out_of_core = MixtureOfExpertsRegressor(**kw).fit(chunked(X), chunked(y))
    assert_same_fit(in_memory, out_of_core, X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore::skmoe.exceptions.LocalOptimumWarning")
def test_nullable_pandas_dtypes_are_read_as_in_memory(client):
    # Columns of pandas' nullable dtypes reach a block as objects: a fit
    # failed with "float() argument must be ... not 'NAType'" where the
    # in-memory fit reads pd.NA as NaN and refuses it by name.
    X, y = make_linear_mixture(300, random_state=13)
    frame = pd.DataFrame(X, columns=["a", "b"]).astype("Float64")
    frame["c"] = pd.array(np.arange(300) % 3, dtype="Int64")
    target = pd.Series(y, dtype="Float64")
    kw = dict(n_experts=2, random_state=0, max_iter=6)
    in_memory = plain(MixtureOfExpertsRegressor(**kw)).fit(frame.astype(float), y)
    out_of_core = MixtureOfExpertsRegressor(**kw).fit(
        dd.from_pandas(frame, npartitions=2), dd.from_pandas(target, npartitions=2)
    )
    assert_same_fit(in_memory, out_of_core, frame.astype(float), y)

    moe = MixtureOfExpertsRegressor(**kw)
    missing = frame.copy()
    missing.loc[7, "a"] = pd.NA
    with pytest.raises(ValueError, match="X contains NaN"):
        moe.fit(missing, y)
    with pytest.raises(ValueError, match="X contains NaN"):
        moe.fit(dd.from_pandas(missing, npartitions=2), dd.from_pandas(target, 2))
    target = target.copy()
    target[7] = pd.NA
    with pytest.raises(ValueError, match="y contains NaN"):
        moe.fit(frame, target)
    with pytest.raises(ValueError, match="y contains NaN"):
        moe.fit(dd.from_pandas(frame, 2), dd.from_pandas(target, npartitions=2))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_column_vector_y_is_read_as_in_memory(client):
    # In memory it is raveled with scikit-learn's DataConversionWarning; out
    # of core it was refused ("y must be 1-D").
    from sklearn.exceptions import DataConversionWarning

    X, y = make_linear_mixture(300, random_state=14)
    kw = dict(n_experts=2, n_init=1, random_state=0, max_iter=5)
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        in_memory = plain(MixtureOfExpertsRegressor(**kw)).fit(X, y[:, None])
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        out_of_core = MixtureOfExpertsRegressor(**kw).fit(
            chunked(X), chunked(y[:, None])
        )
    assert_same_fit(in_memory, out_of_core, X, y)


def test_a_continued_start_prints_as_in_memory(client, capsys):
    # Out of core the leader's short run is replayed from its seed to go on;
    # it printed "Initialization 1" again and its first iterations twice.
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(600, 2))
    regime = np.digitize(X[:, 0], [-1, 1])
    coef = np.array([[1.0, 2.0, -1.0], [-1.0, -1.0, 2.0], [0.5, 0.0, -3.0]])
    y = coef[regime, 0] + (coef[regime, 1:] * X).sum(axis=1)
    y = y + 0.3 * rng.standard_normal(600)
    kw = dict(n_experts=3, init_max_iter=5, random_state=0, verbose=1)

    def printed():
        out = capsys.readouterr().out
        return re.sub(r"\ttime [\d.]+s", "", out).splitlines()

    plain(MixtureOfExpertsRegressor(**kw)).fit(X, y)
    in_memory = printed()
    MixtureOfExpertsRegressor(**kw).fit(chunked(X, 200), chunked(y, 200))
    out_of_core = printed()
    assert any(line.startswith("Continuing initialization") for line in in_memory)
    assert [line.split("\t")[0] for line in out_of_core] == [
        line.split("\t")[0] for line in in_memory
    ]


def test_bad_data_is_refused_and_the_model_left_as_it_was(client):
    X, y = make_linear_mixture(200, random_state=10)
    moe = MixtureOfExpertsRegressor(n_experts=2, random_state=0).fit(X, y)
    before = moe.predict(X)
    bad = X.copy()
    bad[150, 1] = np.nan
    with pytest.raises(ValueError, match=r"X contains NaN \(1 values\) in the col"):
        fit_dask(moe, chunked(bad), chunked(y))
    bad[150, 1] = np.inf
    with pytest.raises(ValueError, match=r"X contains infinity \(1 values\)"):
        fit_dask(moe, chunked(bad), chunked(y))
    with pytest.raises(ValueError, match="y has 150 rows but X has 200"):
        fit_dask(moe, chunked(X), chunked(y[:150]))
    # Named as passed: a worker had said 'init_params' of init_resp.
    with pytest.raises(ValueError, match="'init_resp' as an array must hold finite"):
        fit_dask(moe, chunked(X), chunked(y), init_resp=-np.ones((200, 2)))
    # Refused in memory; out of core they fitted (the imaginary parts
    # dropped, values beyond EM's exact range kept).
    with pytest.raises(ValueError, match="Complex data not supported: X"):
        fit_dask(moe, chunked(X + 1j), chunked(y))
    for name, big_X, big_y in (("X", X * 1e160, y), ("y", X, y * 1e-160)):
        with pytest.raises(ValueError, match=f"{name} holds values of magnitude"):
            moe.fit(big_X, big_y)
        with pytest.raises(ValueError, match=f"{name} holds values of magnitude"):
            fit_dask(moe, chunked(big_X), chunked(big_y))
    assert_array_equal(moe.predict(X), before)


def test_the_fitted_model_is_swapped_in_at_the_end(client, monkeypatch):
    """As in memory, a thread predicting meanwhile sees the old model or the
    new one: the fit wrote to the model as it went, so a refit on three
    columns left a model that took neither two nor three (2,073 failed
    predictions in a reviewer's run)."""
    from skmoe._dask import _fit

    X, y = make_linear_mixture(200, random_state=11)
    moe = MixtureOfExpertsRegressor(n_experts=2, n_init=1, random_state=0).fit(X, y)
    before = moe.predict(X)
    wider = np.column_stack([X, X[:, :1]])
    seen_during_fit = []
    run_starts = _fit._run_starts

    def watched(model, em):
        seen_during_fit.append((moe.n_features_in_, moe.predict(X)))
        return run_starts(model, em)

    monkeypatch.setattr(_fit, "_run_starts", watched)
    moe.fit(chunked(wider), chunked(y))
    (n_features, predicted), *_ = seen_during_fit
    assert n_features == X.shape[1]
    assert_array_equal(predicted, before)
    assert moe.n_features_in_ == wider.shape[1]


def test_import_skmoe_does_not_import_dask():
    code = "import sys, skmoe; print('dask' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_numpy_input_is_not_a_dask_collection():
    from skmoe._dask import is_dask_collection

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not is_dask_collection(np.zeros((3, 2)))
        assert not is_dask_collection(pd.DataFrame({"a": [1.0]}))
    assert is_dask_collection(da.zeros((3, 2)))
    assert is_dask_collection(dd.from_pandas(pd.DataFrame({"a": [1.0]}), 1))
