"""Saving and loading: pickle, joblib and skops.io give back the same model
for every configuration of the estimator checks; skops needs to trust no
type beyond skmoe's own (and what the experts need by themselves); a model
saved by one skmoe version and loaded by another says so."""

import copy
import functools
import io
import pickle
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
from _docs import code_blocks, run_blocks
from numpy.testing import assert_array_equal
from sklearn.base import clone, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression
from test_common import ESTIMATORS as MIXTURES

import skmoe
from skmoe import (
    InconsistentVersionWarning,
    MixtureOfExpertsClassifier,
    MixtureOfExpertsClassifierCV,
    MixtureOfExpertsRegressor,
    MixtureOfExpertsRegressorCV,
    SoftmaxGate,
)
from skmoe.rules import RuleExpert

sio = pytest.importorskip("skops.io")

# What skops.io.get_untrusted_types reports of skmoe for these
# configurations: the list docs/persistence.rst gives users as ``trusted=``.
SKMOE_TYPES = [
    "skmoe._classifier.MixtureOfExpertsClassifier",
    "skmoe._cv.MixtureOfExpertsClassifierCV",
    "skmoe._cv.MixtureOfExpertsRegressorCV",
    "skmoe._gating.SoftmaxGate",
    "skmoe._regressor.MixtureOfExpertsRegressor",
    "skmoe.rules.RuleExpert",
]
DOCS = Path(__file__).parents[1] / "docs" / "persistence.rst"

# The estimator checks' configurations, and the CV estimators.
SMALL_GRID = dict(n_experts_grid=(1, 2), alphas=(1e-2,), cv=3, max_iter=20)
ESTIMATORS = [
    *MIXTURES,
    MixtureOfExpertsRegressorCV(**SMALL_GRID),
    MixtureOfExpertsClassifierCV(**SMALL_GRID),
]

rng = np.random.RandomState(0)
X = rng.standard_normal((60, 3))
y_reg = np.where(X[:, 0] > 0, 1 + 2 * X[:, 1], -X[:, 2]) + 0.1 * rng.standard_normal(60)
y_clf = (X[:, 0] * X[:, 1] > 0).astype(int)


def _fit(estimator):
    estimator = clone(estimator)
    if "random_state" in estimator.get_params():
        estimator.set_params(random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimator.fit(X, y_clf if is_classifier(estimator) else y_reg)


@functools.cache
def _fitted(index):
    return _fit(ESTIMATORS[index])


@pytest.fixture(
    scope="module",
    params=range(len(ESTIMATORS)),
    ids=[f"{i}-{type(e).__name__}" for i, e in enumerate(ESTIMATORS)],
)
def fitted(request):
    return _fitted(request.param)


def outputs(model):
    """Everything the model predicts on X."""
    results = {"predict": model.predict(X)}
    for method in ("predict_proba", "gate_proba", "leaf_proba"):
        if hasattr(model, method):
            results[method] = getattr(model, method)(X)
    if isinstance(model, MixtureOfExpertsRegressor):
        results["std"] = model.predict(X, return_std=True)[1]
    return results


def via_pickle(model, tmp_path):
    return pickle.loads(pickle.dumps(model))


def via_joblib(model, tmp_path):
    joblib.dump(model, tmp_path / "model.joblib")
    return joblib.load(tmp_path / "model.joblib")


def via_skops(model, tmp_path):
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    return sio.load(path, trusted=sio.get_untrusted_types(file=path))


@pytest.mark.parametrize(
    "round_trip", [via_pickle, via_joblib, via_skops], ids=["pickle", "joblib", "skops"]
)
def test_round_trip_gives_identical_predictions(fitted, round_trip, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        loaded = round_trip(fitted, tmp_path)
    assert type(loaded) is type(fitted)
    expected, got = outputs(fitted), outputs(loaded)
    assert got.keys() == expected.keys()
    for method, values in expected.items():
        assert_array_equal(got[method], values, err_msg=method)
    # The version travels in the saved state only, never in the object.
    assert "_skmoe_version" not in vars(loaded)


def _leaf_experts(model):
    model = getattr(model, "best_estimator_", model)  # a CV estimator's choice
    for expert in getattr(model, "experts_", []):
        if isinstance(expert, (MixtureOfExpertsRegressor, MixtureOfExpertsClassifier)):
            yield from _leaf_experts(expert)
        else:
            yield expert


def test_skops_trusts_skmoe_and_the_experts_alone(fitted):
    untrusted = set(sio.get_untrusted_types(data=sio.dumps(fitted)))
    # What each expert needs when saved on its own (a tree's Tree, a rule's
    # function): the mixture adds nothing to it but skmoe's own classes.
    of_experts = set()
    for expert in _leaf_experts(fitted):
        of_experts.update(sio.get_untrusted_types(data=sio.dumps(expert)))
    assert untrusted - of_experts <= set(SKMOE_TYPES)
    assert {t for t in untrusted if t.startswith("skmoe")} <= set(SKMOE_TYPES)


def test_the_documented_trusted_list_is_what_skops_reports():
    reported = set()
    for index in range(len(ESTIMATORS)):
        dump = sio.dumps(_fitted(index))
        reported.update(
            t for t in sio.get_untrusted_types(data=dump) if t.startswith("skmoe")
        )
    assert sorted(reported) == SKMOE_TYPES
    text = DOCS.read_text()
    for name in SKMOE_TYPES:
        assert f'"{name}"' in text


def test_untrusted_skmoe_types_are_refused():
    model = _fit(MixtureOfExpertsRegressor())
    with pytest.raises(
        sio.exceptions.UntrustedTypesFoundException, match="SoftmaxGate"
    ):
        sio.loads(sio.dumps(model))


# ---- versions ---------------------------------------------------------------


SAVERS = {
    "pickle": (pickle.dumps, pickle.loads),
    "joblib": (
        lambda model: _joblib_bytes(model),
        lambda data: joblib.load(io.BytesIO(data)),
    ),
    "skops": (
        sio.dumps,
        lambda data: sio.loads(data, trusted=sio.get_untrusted_types(data=data)),
    ),
}


def _joblib_bytes(model):
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


def _rule(X):
    return X[:, 0]


def _objects():
    """One fitted object of each skmoe class, with its nested skmoe classes."""
    return {
        "MixtureOfExpertsRegressor": (
            _fit(
                MixtureOfExpertsRegressor(
                    [("rule", RuleExpert(_rule)), ("lin", LinearRegression())]
                )
            ),
            {"MixtureOfExpertsRegressor", "SoftmaxGate", "RuleExpert"},
        ),
        "MixtureOfExpertsClassifier": (
            _fit(MixtureOfExpertsClassifier()),
            {"MixtureOfExpertsClassifier", "SoftmaxGate"},
        ),
        "SoftmaxGate": (_fit(SoftmaxGate()), {"SoftmaxGate"}),
        "RuleExpert": (RuleExpert(_rule).fit(X), {"RuleExpert"}),
        # Unfitted: pickled before any mixture exists in it.
        "MixtureOfExpertsRegressorCV": (
            MixtureOfExpertsRegressorCV(**SMALL_GRID),
            {"MixtureOfExpertsRegressorCV"},
        ),
        "MixtureOfExpertsClassifierCV": (
            _fit(
                MixtureOfExpertsClassifierCV(**{**SMALL_GRID, "n_experts_grid": (2,)})
            ),
            {
                "MixtureOfExpertsClassifierCV",
                "MixtureOfExpertsClassifier",
                "SoftmaxGate",
            },
        ),
    }


@pytest.fixture(scope="module")
def objects():
    return _objects()


@pytest.mark.parametrize("saver", SAVERS)
@pytest.mark.parametrize(
    "name",
    [
        "MixtureOfExpertsRegressor",
        "MixtureOfExpertsClassifier",
        "SoftmaxGate",
        "RuleExpert",
        "MixtureOfExpertsRegressorCV",
        "MixtureOfExpertsClassifierCV",
    ],
)
def test_another_version_warns_on_loading(objects, saver, name, monkeypatch):
    model, classes = objects[name]
    dump, load = SAVERS[saver]
    current = skmoe.__version__
    with monkeypatch.context() as patch:
        patch.setattr(skmoe, "__version__", "0.0.1")
        data = dump(model)
    with pytest.warns(InconsistentVersionWarning) as record:
        loaded = load(data)
    warned = [w.message for w in record if w.category is InconsistentVersionWarning]
    assert {w.estimator_name for w in warned} == classes
    for warning in warned:
        assert warning.original_skmoe_version == "0.0.1"
        assert warning.current_skmoe_version == current
    assert str(warned[0]) == (
        f"Trying to unpickle estimator {warned[0].estimator_name} from skmoe "
        f"version 0.0.1 when using version {current}. This might lead to "
        "breaking code or invalid results. Use at your own risk. Refit the "
        "model with this version, or load it with the version that saved it; "
        "see the persistence page of the skmoe documentation."
    )
    # Loaded anyway, and whole.
    if hasattr(model, "n_features_in_"):
        assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize("saver", SAVERS)
def test_same_version_loads_silently(objects, saver):
    model, _ = objects["MixtureOfExpertsRegressor"]
    dump, load = SAVERS[saver]
    data = dump(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load(data)


def test_state_records_the_version(objects, monkeypatch):
    model, _ = objects["MixtureOfExpertsClassifier"]
    monkeypatch.setattr(skmoe, "__version__", "9.9.9")
    state = model.__getstate__()
    assert state["_skmoe_version"] == "9.9.9"
    assert "_skmoe_version" not in vars(model)
    assert b"9.9.9" in pickle.dumps(model)


def test_a_pickle_without_a_version_is_reported_as_older(objects):
    model, _ = objects["SoftmaxGate"]
    state = model.__getstate__()
    del state["_skmoe_version"]  # as saved before skmoe recorded it
    loaded = SoftmaxGate.__new__(SoftmaxGate)
    with pytest.warns(InconsistentVersionWarning) as record:
        loaded.__setstate__(state)
    assert record[0].message.original_skmoe_version == "pre-0.1.0"
    assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_copies_do_not_warn(objects):
    model, _ = objects["MixtureOfExpertsRegressor"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for duplicate in (copy.copy(model), copy.deepcopy(model), clone(model)):
            assert "_skmoe_version" not in vars(duplicate)


def test_the_warning_is_a_user_warning():
    assert issubclass(InconsistentVersionWarning, UserWarning)
    assert "InconsistentVersionWarning" in skmoe.__all__


# ---- the persistence page runs as written ------------------------------------


def test_the_persistence_page_runs_and_prints_what_it_says(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = code_blocks(DOCS.read_text())
    assert len(blocks) >= 6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        run_blocks(blocks, DOCS, {})
