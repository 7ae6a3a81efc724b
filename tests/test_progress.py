"""verbose=1 reports EM's progress after the first iteration, then every
``verbose_interval`` iterations or every few seconds, whichever comes first:
with costly experts the first line tells early what an iteration costs."""

import re
import time
import warnings

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression

import skmoe._progress
from skmoe import MixtureOfExpertsRegressor


class SlowRegressor(RegressorMixin, BaseEstimator):
    """A linear expert whose fit takes ``seconds`` longer, as a costly one."""

    def __init__(self, seconds=0.0):
        self.seconds = seconds

    def fit(self, X, y, sample_weight=None):
        time.sleep(self.seconds)
        self.model_ = LinearRegression().fit(X, y, sample_weight=sample_weight)
        return self

    def predict(self, X):
        return self.model_.predict(X)


def two_slopes():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(200, 2))
    y = np.where(X[:, 0] < 0, X[:, 1], -X[:, 1]) + 0.1 * rng.standard_normal(200)
    return X, y


def iterations_printed(capsys, expert=None, **params):
    X, y = two_slopes()
    # The lines of one start, unless a test asks for more (n_init's default
    # runs three, each printing its own).
    params.setdefault("n_init", 1)
    moe = MixtureOfExpertsRegressor(
        expert, n_experts=2, verbose=1, tol=0.0, random_state=0, **params
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        moe.fit(X, y)
    return [int(n) for n in re.findall(r"Iteration (\d+)", capsys.readouterr().out)]


def test_first_iteration_then_every_interval(capsys, monkeypatch):
    monkeypatch.setattr(skmoe._progress, "_PROGRESS_SECONDS", np.inf)
    assert iterations_printed(capsys, max_iter=12, verbose_interval=5) == [1, 5, 10]


def test_slow_iterations_are_reported_by_time(capsys, monkeypatch):
    # Each iteration takes at least 2 x 30 ms (two experts): with a report
    # due every 50 ms, every iteration is reported although the interval is
    # far away.
    monkeypatch.setattr(skmoe._progress, "_PROGRESS_SECONDS", 0.05)
    printed = iterations_printed(
        capsys, SlowRegressor(0.03), max_iter=4, verbose_interval=1000
    )
    assert printed == [1, 2, 3, 4]


def test_fast_iterations_are_not_reported_by_time(capsys):
    # The default report period is far longer than these iterations.
    assert iterations_printed(capsys, max_iter=12, verbose_interval=100) == [1]


def test_every_start_reports_its_first_iteration(capsys, monkeypatch):
    monkeypatch.setattr(skmoe._progress, "_PROGRESS_SECONDS", np.inf)
    printed = iterations_printed(capsys, max_iter=3, verbose_interval=100, n_init=2)
    assert printed == [1, 1]


def test_a_resumed_start_goes_on_reporting_by_time(capsys, monkeypatch):
    # After a short run the leader continues: its time restarted at 0 and
    # its lines by time stopped until the new clock caught up with the old.
    monkeypatch.setattr(skmoe._progress, "_PROGRESS_SECONDS", 0.05)
    X, y = two_slopes()
    moe = MixtureOfExpertsRegressor(
        SlowRegressor(0.03),
        n_experts=2,
        n_init=2,
        init_max_iter=3,
        max_iter=6,
        tol=0.0,
        acceleration=None,
        verbose=1,
        verbose_interval=1000,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        moe.fit(X, y)
    out = capsys.readouterr().out
    resumed = out[out.index("Continuing initialization") :]
    assert [int(n) for n in re.findall(r"Iteration (\d+)", resumed)] == [4, 5, 6]
    leader = out[out.index(f"Initialization {moe.best_start_}\n") :]
    seconds = [float(t) for t in re.findall(r"time ([\d.]+)s", leader)]
    before = seconds[:3]
    after = [float(t) for t in re.findall(r"time ([\d.]+)s", resumed)]
    assert after[0] > before[-1]


def test_parallel_starts_print_their_lines_start_by_start(capsys):
    # In threads the starts' lines interleaved under each other's headers;
    # in processes they never reached the caller's stdout.
    from joblib import parallel_backend

    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(600, 2))
    y = np.where(X[:, 0] < 0, 1 + 2 * X[:, 0], 4 - X[:, 0])
    y = y + 0.3 * rng.standard_normal(600)
    for backend in ("threading", "loky"):
        moe = MixtureOfExpertsRegressor(
            n_experts=3,
            n_init=3,
            n_jobs=2,
            acceleration=None,
            verbose=1,
            verbose_interval=1,
            random_state=0,
        )
        with parallel_backend(backend, n_jobs=2):
            moe.fit(X, y)
        out = capsys.readouterr().out
        for index, curve in enumerate(moe.start_log_likelihoods_):
            block = out.split(f"Initialization {index}\n")[1].split("Initialization")[0]
            printed = [float(v) for v in re.findall(r"log-likelihood (\S+)\t", block)]
            assert len(printed) >= 2
            np.testing.assert_allclose(printed, curve[: len(printed)], atol=1e-6)
