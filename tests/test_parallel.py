"""Parallel and distributed fitting give the same model as a serial fit."""

import pickle
import threading

import numpy as np
import pytest
from _data import make_linear_mixture
from joblib import parallel_backend
from numpy.testing import assert_array_equal
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.datasets import load_breast_cancer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import SplineTransformer, StandardScaler
from sklearn.tree import DecisionTreeRegressor
from threadpoolctl import threadpool_info

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor
from skmoe._experts import realigned


@pytest.mark.parametrize(
    "experts",
    [
        DecisionTreeRegressor(max_depth=3, max_features=1),
        [
            ("lin", Ridge()),
            ("knn", KNeighborsRegressor()),
            ("tree", DecisionTreeRegressor(max_depth=3)),
        ],
    ],
    ids=["seeded trees", "mixed with a resampled kNN"],
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_n_jobs_does_not_change_the_model(experts):
    X, y = make_linear_mixture(600, random_state=0)
    params = dict(
        experts=experts,
        n_experts=3,
        unweighted_fit="resample",
        max_iter=15,
        random_state=0,
    )
    serial = MixtureOfExpertsRegressor(n_jobs=1, **params).fit(X, y)
    parallel = MixtureOfExpertsRegressor(n_jobs=2, **params).fit(X, y)
    assert_array_equal(serial.predict(X), parallel.predict(X))
    assert_array_equal(serial.log_likelihoods_, parallel.log_likelihoods_)


def test_dask_cluster_gives_the_local_model():
    distributed = pytest.importorskip("dask.distributed")
    X, y = make_linear_mixture(1000, random_state=1)
    params = dict(n_experts=3, n_jobs=2, random_state=0)
    local = MixtureOfExpertsRegressor(**params).fit(X, y)
    grid = {"n_experts": [2, 3]}
    local_search = GridSearchCV(
        MixtureOfExpertsRegressor(Ridge(), random_state=0), grid, cv=3
    ).fit(X, y)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
        parallel_backend("dask"),
        distributed.get_task_stream(client) as tasks,
    ):
        # Both workers up before the fits (a loaded machine starts them
        # late); counted after them, a worker its nanny restarted under load
        # made the count flaky.
        client.wait_for_workers(2, timeout=60)
        remote = MixtureOfExpertsRegressor(**params).fit(X, y)
        search = GridSearchCV(
            MixtureOfExpertsRegressor(Ridge(), random_state=0), grid, cv=3, n_jobs=2
        ).fit(X, y)
    # The expert fits and the grid's candidates ran as tasks on the cluster.
    assert len(tasks.data) > 0
    assert_array_equal(remote.predict(X), local.predict(X))
    assert search.best_params_ == local_search.best_params_
    scores = "mean_test_score"
    assert_array_equal(search.cv_results_[scores], local_search.cv_results_[scores])


@pytest.mark.parametrize(
    "n_init, where",
    [
        # One start: the experts are what runs in parallel.
        (1, r"failed in the parallel backend at EM iteration 1: "),
        # Several starts (the default): the starts run in parallel.
        (3, r"the 3 starts in parallel \(n_jobs=2\) failed in the parallel backend: "),
    ],
)
def test_a_dask_client_that_went_away_gives_a_clear_error(n_init, where):
    distributed = pytest.importorskip("dask.distributed")
    X, y = make_linear_mixture(300, random_state=2)
    moe = MixtureOfExpertsRegressor(
        n_experts=2, n_init=n_init, n_jobs=2, random_state=0
    )
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    )
    client = distributed.Client(cluster)
    with parallel_backend("dask"):
        client.close()
        cluster.close()
        with pytest.raises(
            RuntimeError,
            match=where + ".* check that it is still running",
        ):
            moe.fit(X, y)
    assert not hasattr(moe, "experts_")


class BrokenRegressor(RegressorMixin, BaseEstimator):
    def fit(self, X, y, sample_weight=None):
        raise ValueError("broken on purpose")

    def predict(self, X):
        return np.zeros(len(X))


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_failing_expert_in_parallel_starts_is_named_as_in_a_serial_fit(n_jobs):
    # The starts run in parallel: the expert's own error comes through as a
    # serial fit raises it, not as a failure of the parallel backend.
    X, y = make_linear_mixture(200, random_state=4)
    moe = MixtureOfExpertsRegressor(
        [("ok", LinearRegression()), ("bad", BrokenRegressor())],
        n_init=3,
        n_jobs=n_jobs,
        random_state=0,
    )
    with pytest.raises(
        ValueError,
        match=r"^Expert 'bad' \(BrokenRegressor\) failed to fit at EM iteration 1: "
        "broken on purpose$",
    ):
        moe.fit(X, y)
    assert not hasattr(moe, "experts_")


def test_an_unknown_backend_is_refused_by_joblib():
    with pytest.raises(ValueError, match="Invalid backend"):
        with parallel_backend("no-such-backend"):
            pass


def test_restarts_in_parallel_pick_the_serial_winner():
    X, y = make_linear_mixture(800, random_state=3)
    params = dict(n_experts=3, n_init=4, init_params="random", random_state=0)
    serial = MixtureOfExpertsRegressor(n_jobs=1, **params).fit(X, y)
    parallel = MixtureOfExpertsRegressor(n_jobs=2, **params).fit(X, y)
    assert_array_equal(serial.predict(X), parallel.predict(X))
    assert serial.log_likelihood_ == parallel.log_likelihood_
    # And the winner is the best of the starts run one by one.
    singles = [
        # One start each (n_init=1): each single is one of the four starts.
        MixtureOfExpertsRegressor(
            n_experts=3, n_init=1, init_params="random", random_state=seed
        )
        .fit(X, y)
        .log_likelihood_
        for seed in np.random.RandomState(0).randint(np.iinfo(np.int32).max, size=4)
    ]
    assert serial.log_likelihood_ == pytest.approx(max(singles), abs=1e-12)


@pytest.mark.parametrize(
    "expert",
    [LogisticRegression(), make_pipeline(StandardScaler(), LogisticRegression())],
    ids=["logistic", "scaled logistic Pipeline"],
)
def test_a_process_backend_gives_the_serial_model(expert):
    # The starts run in other processes and come back pickled: what the M-steps
    # of a run keep by expert (held by weak references, which do not pickle)
    # is left behind and rebuilt, to the same numbers.
    X, y = load_breast_cancer(return_X_y=True)
    params = dict(experts=expert, n_experts=2, random_state=0)
    serial = MixtureOfExpertsClassifier(**params).fit(X, y)
    with parallel_backend("loky", n_jobs=2):
        parallel = MixtureOfExpertsClassifier(n_jobs=2, **params).fit(X, y)
    assert_array_equal(serial.log_likelihoods_, parallel.log_likelihoods_)
    assert_array_equal(serial.predict_proba(X), parallel.predict_proba(X))


class LookupExpert(LinearRegression):
    """Finds a column missing at its third fit."""

    def fit(self, X, y, sample_weight=None):
        self.calls_ = getattr(self, "calls_", 0) + 1
        if self.calls_ >= 3:
            raise KeyError("column 'price' not found")
        return super().fit(X, y, sample_weight=sample_weight)


def test_a_key_error_of_an_expert_in_parallel_stays_that_experts_key_error():
    # str() of a KeyError quotes its message: the expert's own failure was
    # taken for one of the parallel backend and became a RuntimeError.
    X, y = make_linear_mixture(200, random_state=4)
    moe = MixtureOfExpertsRegressor(
        LookupExpert(), n_experts=2, n_init=1, n_jobs=2, random_state=0
    )
    with pytest.raises(KeyError, match=r"Expert .*LookupExpert.*column .*price"):
        moe.fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_multiprocessing_backend_gives_the_serial_model():
    # A start paused after its short run goes back pickled by the standard
    # pickler, which takes no lambda.
    X, y = make_linear_mixture(300, random_state=5)
    params = dict(n_experts=3, init_max_iter=2, random_state=0)
    serial = MixtureOfExpertsRegressor(**params).fit(X, y)
    with parallel_backend("multiprocessing", n_jobs=2):
        parallel = MixtureOfExpertsRegressor(n_jobs=2, **params).fit(X, y)
    assert_array_equal(serial.log_likelihoods_, parallel.log_likelihoods_)


@pytest.mark.parametrize("n_init", [1, 3], ids=["experts", "starts"])
def test_a_prefit_expert_is_not_sent_to_process_workers(n_init):
    # A fixed expert is never refitted: dispatched with the others, a process
    # backend copied it there and back, and the fitted model held a second
    # copy of it (a 27 MB prefit model pickled into a 55 MB mixture). Starts
    # run in process workers came back with copies too.
    X, y = make_linear_mixture(2000, random_state=6)
    frozen = FrozenEstimator(KNeighborsRegressor().fit(X, y))
    moe = MixtureOfExpertsRegressor(
        [("prefit", frozen), ("lin", LinearRegression())],
        n_init=n_init,
        n_jobs=2,
        random_state=0,
    )
    with parallel_backend("loky", n_jobs=2):
        moe.fit(X, y)
    assert moe.experts_[0] is frozen
    assert len(pickle.dumps(moe)) < 1.5 * len(pickle.dumps(frozen))


def test_a_dask_cluster_returns_arrays_compiled_code_takes():
    # Worker processes hand back a result's arrays inside distributed's
    # message frames, at any byte offset: a spline Pipeline fitted by another
    # worker failed to transform in the start that asked for it ("Expected a
    # 1-dim C contiguous array"). The starts run in parallel, and each fits
    # its experts in parallel.
    distributed = pytest.importorskip("dask.distributed")
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(500, 2))
    y = np.sin(X[:, 0]) + 0.1 * rng.standard_normal(500)
    expert = make_pipeline(SplineTransformer(), Ridge())
    params = dict(experts=expert, n_experts=2, random_state=0)
    serial = MixtureOfExpertsRegressor(**params).fit(X, y)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        parallel_backend("dask"),
    ):
        remote = MixtureOfExpertsRegressor(n_jobs=2, **params).fit(X, y)
    assert_array_equal(remote.log_likelihoods_, serial.log_likelihoods_)
    assert_array_equal(remote.predict(X), serial.predict(X))


def test_realigned_copies_only_what_has_an_unaligned_array():
    buffer = bytearray(8 * 5 + 1)
    unaligned = np.frombuffer(buffer, dtype=np.float64, count=5, offset=1)
    unaligned[:] = np.arange(5.0)
    assert not unaligned.flags.aligned
    fitted = LinearRegression().fit(np.eye(5), np.arange(5.0))
    fitted.coef_ = unaligned
    copy = realigned([fitted])
    assert copy[0] is not fitted
    assert copy[0].coef_.flags.aligned and copy[0].coef_.flags.writeable
    assert_array_equal(copy[0].coef_, np.arange(5.0))
    # A function (a rule's, sent by cloudpickle) does not stop the search.
    rule = [lambda x: x, unaligned]
    copy = realigned(rule)
    assert copy[0] is rule[0] and copy[1].flags.aligned
    # All aligned, or not picklable (it never left the process): as given.
    results = [LinearRegression().fit(np.eye(5), np.arange(5.0)), lambda x: x]
    assert realigned(results) is results
    unpicklable = [threading.Lock(), unaligned]
    assert realigned(unpicklable) is unpicklable


class ThreadRecording(LinearRegression):
    """Records the fewest BLAS threads it was fitted with."""

    def fit(self, X, y, sample_weight=None):
        pools = [p for p in threadpool_info() if p["user_api"] == "blas"]
        self.blas_threads_seen_ = min(p["num_threads"] for p in pools)
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("n_init", [1, 3], ids=["experts", "starts"])
def test_process_workers_fit_with_the_threads_of_the_fit_that_sent_them(n_init):
    # loky gives its workers threads of its own (here two each); the experts
    # fitted there ran with them, whatever blas_threads said, and the model
    # parted from the serial one by rounding where the counts differed.
    if not [p for p in threadpool_info() if p["user_api"] == "blas"]:
        pytest.skip("no BLAS library found by threadpoolctl")
    X, y = make_linear_mixture(300, random_state=7)
    moe = MixtureOfExpertsRegressor(
        ThreadRecording(),
        n_experts=2,
        n_init=n_init,
        n_jobs=2,
        blas_threads=1,
        random_state=0,
    )
    with parallel_backend("loky", n_jobs=2, inner_max_num_threads=2):
        moe.fit(X, y)
    assert [expert.blas_threads_seen_ for expert in moe.experts_] == [1, 1]
