"""One fitted mixture predicting in 8 threads at once gives what it gives
serially, and is left unchanged: prediction reads the model and never writes
to it."""

import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest
from _data import make_linear_mixture, make_xor
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeRegressor

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor

N_THREADS = 8
ROUNDS = 5


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y)


MODELS = {
    "linear regressor": (
        lambda: MixtureOfExpertsRegressor(n_experts=3, random_state=0),
        make_linear_mixture,
    ),
    "tree and linear regressor, top_k=1": (
        lambda: MixtureOfExpertsRegressor(
            [("lin", LinearRegression()), ("tree", DecisionTreeRegressor(max_depth=4))],
            top_k=1,
            random_state=0,
        ),
        make_linear_mixture,
    ),
    "hierarchical regressor": (
        lambda: MixtureOfExpertsRegressor(
            MixtureOfExpertsRegressor(n_experts=2), n_experts=2, random_state=0
        ),
        make_linear_mixture,
    ),
    "classifier with knn": (
        lambda: MixtureOfExpertsClassifier(
            [("lr", LogisticRegression()), ("knn", KNeighborsClassifier())],
            random_state=0,
        ),
        make_xor,
    ),
}


def _outputs(model, X, y):
    """Everything a fitted mixture computes from (X, y) without changing."""
    results = [
        model.predict(X),
        model.gate_proba(X),
        model.responsibilities(X, y),
        model.log_likelihood(X, y),
    ]
    if hasattr(model, "predict_proba"):
        results.append(model.predict_proba(X))
    else:
        results.extend(model.predict(X, return_std=True))
    return results


@pytest.mark.parametrize("name", MODELS)
def test_predicting_in_8_threads_equals_predicting_serially(name):
    make_model, make_data = MODELS[name]
    X, y = make_data(400, random_state=0)
    model = _fit(make_model(), X, y)
    # Each thread takes its own slices, overlapping the others'.
    slices = [slice(start, start + 200) for start in range(0, 200, 25)]
    serial = [_outputs(model, X[rows], y[rows]) for rows in slices]
    state = _own_state(model)
    start = threading.Barrier(N_THREADS)

    def work(index):
        start.wait()  # all threads predict at the same moment
        rows = slices[index]
        return [_outputs(model, X[rows], y[rows]) for _ in range(ROUNDS)]

    with ThreadPoolExecutor(N_THREADS) as pool:
        concurrent = list(pool.map(work, range(N_THREADS)))
    for index, rounds in enumerate(concurrent):
        for outputs in rounds:
            for got, expected in zip(outputs, serial[index], strict=True):
                assert_array_equal(got, expected)
    assert _own_state(model) == state


def _own_state(model):
    """A hash of everything the mixture holds but its experts' insides.

    scikit-learn's KD-trees count their queries in the fitted tree, so a
    k-nearest-neighbours expert changes a little with every prediction; the
    mixture's own attributes, gate included, must not change at all.
    """
    own = {key: value for key, value in vars(model).items() if key != "experts_"}
    return joblib.hash(own)


def test_predicting_while_another_thread_refits_sees_one_model():
    # A refit swaps the fitted state in one step: a prediction made meanwhile
    # is the old model's or the new one's, never a mix (an old gate with new
    # experts).
    X_a, y_a = make_linear_mixture(300, random_state=0)
    y_b = -2 * y_a + 5
    model = MixtureOfExpertsRegressor(n_experts=3, random_state=0)
    expected = [_fit(clone(model), X_a, y).predict(X_a) for y in (y_a, y_b)]
    _fit(model, X_a, y_a)
    stop = threading.Event()

    def refit():
        for round_ in range(20):
            _fit(model, X_a, y_b if round_ % 2 == 0 else y_a)
        stop.set()

    predictions = []
    refitter = threading.Thread(target=refit)
    refitter.start()
    while not stop.is_set():
        predictions.append(model.predict(X_a))
    refitter.join()
    assert len(predictions) > 20
    for prediction in predictions:
        assert any(np.array_equal(prediction, e) for e in expected)
