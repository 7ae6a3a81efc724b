"""Dask inputs of every shape fit and predict as their rows do in memory:
empty blocks (a partition filtered out, a chunk of length 0), chunks of
unknown size (after boolean masking), a NumPy ``y`` or a number as
``sample_weight``; wrong ones are refused with what is allowed.

The data are small, so every pass runs on the synchronous scheduler.
"""

import numpy as np
import pytest
from _data import make_linear_mixture
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LogisticRegression

from skmoe import MixtureOfExpertsClassifier, MixtureOfExpertsRegressor

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")

# Short fits, compared with each other: neither needs to converge.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Out-of-core EM is plain EM; in memory, acceleration="auto" may take SQUAREM
# jumps after 20 iterations, which end at the same optimum only to tol.
KW = dict(n_experts=2, n_init=1, random_state=0, max_iter=8, acceleration=None)


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def assert_same_fit(out_of_core, in_memory):
    assert_allclose(
        out_of_core.log_likelihoods_, in_memory.log_likelihoods_, rtol=0, atol=1e-8
    )
    for mine, theirs in zip(out_of_core.experts_, in_memory.experts_, strict=True):
        assert_allclose(mine.coef_, theirs.coef_, rtol=0, atol=1e-6)
        assert_allclose(mine.intercept_, theirs.intercept_, rtol=0, atol=1e-6)
    assert_allclose(out_of_core.gate_.coef_, in_memory.gate_.coef_, atol=1e-6)


def regression_data(n=600):
    X, y = make_linear_mixture(n, random_state=0)
    return X, y


def frame_with_empty_partition(X, y):
    """Four partitions of 150 rows, the second filtered out entirely; and the
    rows that remain, in memory."""
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "t": y})
    keep = np.ones(len(y), dtype=bool)
    keep[150:300] = False
    frame["keep"] = keep
    filtered = dd.from_pandas(frame, npartitions=4)
    filtered = filtered[filtered.keep]
    assert filtered.map_partitions(len).compute().tolist() == [150, 0, 150, 150]
    return filtered[["a", "b"]], filtered.t, frame.loc[keep, ["a", "b"]], keep


def array_with_empty_chunk(values, first=300):
    rows = (first, 0, len(values) - first)
    return da.from_array(values, chunks=(rows,) + values.shape[1:])


# ---- empty blocks ---------------------------------------------------------------


def test_fit_skips_an_empty_partition():
    X, y = regression_data()
    X_lazy, y_lazy, X_kept, keep = frame_with_empty_partition(X, y)
    in_memory = MixtureOfExpertsRegressor(**KW).fit(X_kept, y[keep])
    out_of_core = MixtureOfExpertsRegressor(**KW).fit(X_lazy, y_lazy)
    assert_same_fit(out_of_core, in_memory)
    assert_array_equal(out_of_core.feature_names_in_, ["a", "b"])


@pytest.mark.parametrize("numpy_y", [False, True], ids=["dask y", "numpy y"])
def test_fit_skips_a_zero_length_chunk(numpy_y):
    X, y = regression_data()
    y_in = y if numpy_y else array_with_empty_chunk(y)
    in_memory = MixtureOfExpertsRegressor(**KW).fit(X, y)
    out_of_core = MixtureOfExpertsRegressor(**KW).fit(array_with_empty_chunk(X), y_in)
    assert_same_fit(out_of_core, in_memory)


def test_classifier_fit_skips_a_zero_length_chunk():
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(500, 2))
    y = np.where(X[:, 0] * X[:, 1] > 0, "same", "differ")
    # Solved to the optimum in memory, as the out-of-core Newton solves it.
    expert = LogisticRegression(solver="newton-cholesky", tol=1e-12)
    kw = dict(KW, experts=expert)
    in_memory = MixtureOfExpertsClassifier(**kw).fit(X, y)
    out_of_core = MixtureOfExpertsClassifier(**kw).fit(
        array_with_empty_chunk(X), array_with_empty_chunk(y)
    )
    assert_allclose(out_of_core.predict_proba(X), in_memory.predict_proba(X), atol=1e-6)


REGRESSOR_METHODS = [
    ("predict", {}),
    ("predict", {"return_std": True}),
    ("predict", {"top_k": 1}),
    ("gate_proba", {}),
    ("transform", {}),
    ("predict_expert", {}),
    ("predict_quantiles", {"quantiles": [0.1, 0.9]}),
    ("predict_interval", {"coverage": 0.8}),
]


@pytest.fixture(scope="module")
def fitted_regressor():
    return MixtureOfExpertsRegressor(**KW).fit(*regression_data())


@pytest.fixture(scope="module")
def fitted_on_frame():
    X, y = regression_data()
    frame = pd.DataFrame(X, columns=["a", "b"])
    return MixtureOfExpertsRegressor(**KW).fit(frame, y)


def as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


def assert_lazy_equals(lazy, expected, empty_block=None):
    """Equal to the in-memory result; the empty block, if any, an empty
    array of the result's width and dtype."""
    for mine, theirs in zip(as_tuple(lazy), as_tuple(expected), strict=True):
        assert isinstance(mine, da.Array)
        computed = mine.compute()
        assert computed.dtype == theirs.dtype
        if computed.dtype.kind == "f":  # block by block: BLAS may round apart
            assert_allclose(computed, theirs, rtol=1e-12, atol=1e-12)
        else:
            assert_array_equal(computed, theirs)
        if empty_block is not None:
            block = mine.blocks[empty_block].compute()
            assert block.shape == (0,) + theirs.shape[1:]
            assert block.dtype == theirs.dtype


@pytest.mark.parametrize("method, kwargs", REGRESSOR_METHODS)
def test_lazy_predictions_on_an_empty_partition(fitted_on_frame, method, kwargs):
    X, y = regression_data()
    X_lazy, _, X_kept, _ = frame_with_empty_partition(X, y)
    lazy = getattr(fitted_on_frame, method)(X_lazy, **kwargs)
    expected = getattr(fitted_on_frame, method)(X_kept, **kwargs)
    assert_lazy_equals(lazy, expected, empty_block=1)


@pytest.mark.parametrize("method, kwargs", REGRESSOR_METHODS)
def test_lazy_predictions_on_a_zero_length_chunk(fitted_regressor, method, kwargs):
    X, _ = regression_data()
    lazy = getattr(fitted_regressor, method)(array_with_empty_chunk(X), **kwargs)
    expected = getattr(fitted_regressor, method)(X, **kwargs)
    assert_lazy_equals(lazy, expected, empty_block=1)


@pytest.mark.parametrize(
    "method",
    ["predict", "predict_proba", "predict_log_proba", "gate_proba", "predict_expert"],
)
def test_lazy_classifier_predictions_on_a_zero_length_chunk(method):
    rng = np.random.RandomState(1)
    X = rng.normal(size=(300, 2))
    y = np.where(X[:, 0] * X[:, 1] > 0, "same", "differ")
    moe = MixtureOfExpertsClassifier(**KW).fit(X, y)
    lazy = getattr(moe, method)(array_with_empty_chunk(X, 100))
    assert_lazy_equals(lazy, getattr(moe, method)(X), empty_block=1)


def test_only_empty_blocks_are_refused_before_any_pass():
    X, y = regression_data(4)
    X_empty = da.from_array(X, chunks=((4, 0), (2,)))[:0]
    with pytest.raises(ValueError, match=r"X has 0 sample\(s\); at least 2"):
        MixtureOfExpertsRegressor(**KW).fit(X_empty, y[:0])


# ---- chunks of unknown size ---------------------------------------------------------


def masked(X, y, weight):
    """Arrays after a boolean mask: Dask no longer knows their chunk sizes."""
    X_lazy, y_lazy = da.from_array(X, chunks=150), da.from_array(y, chunks=150)
    keep = y_lazy > np.quantile(y, 0.2)
    w_lazy = da.from_array(weight, chunks=150)[keep]
    return X_lazy[keep], y_lazy[keep], w_lazy, y > np.quantile(y, 0.2)


@pytest.mark.parametrize("numpy_y", [False, True], ids=["dask y", "numpy y"])
def test_fit_on_chunks_of_unknown_size(numpy_y):
    X, y = regression_data()
    weight = np.random.RandomState(1).uniform(0.5, 2.0, len(y))
    X_lazy, y_lazy, w_lazy, keep = masked(X, y, weight)
    assert np.isnan(X_lazy.shape[0]) and np.isnan(y_lazy.shape[0])
    in_memory = MixtureOfExpertsRegressor(**KW).fit(
        X[keep], y[keep], sample_weight=weight[keep]
    )
    out_of_core = MixtureOfExpertsRegressor(**KW).fit(
        X_lazy, y[keep] if numpy_y else y_lazy, sample_weight=w_lazy
    )
    assert_same_fit(out_of_core, in_memory)
    # The sizes were computed on copies: the caller's arrays are as they were.
    assert np.isnan(X_lazy.shape[0]) and np.isnan(w_lazy.shape[0])


def test_predict_on_chunks_of_unknown_size(fitted_regressor):
    X, y = regression_data()
    X_lazy, _, _, keep = masked(X, y, np.ones(len(y)))
    for method, kwargs in REGRESSOR_METHODS:
        lazy = getattr(fitted_regressor, method)(X_lazy, **kwargs)
        expected = getattr(fitted_regressor, method)(X[keep], **kwargs)
        assert_lazy_equals(lazy, expected)


def test_unknown_number_of_columns_is_refused_with_the_remedy(fitted_regressor):
    X, y = regression_data()
    X_lazy = da.from_array(X, chunks=150)[:, da.from_array(np.array([True, True]))]
    assert np.isnan(X_lazy.shape[1])
    with pytest.raises(ValueError, match=r"X must have a known number of columns"):
        MixtureOfExpertsRegressor(**KW).fit(X_lazy, y)
    with pytest.raises(ValueError, match=r"compute_chunk_sizes\(\)"):
        fitted_regressor.predict(X_lazy)


# ---- y and sample_weight ----------------------------------------------------------


@pytest.mark.parametrize("weight", [2.0, np.float32(0.5), 3])
def test_a_number_as_sample_weight_weighs_every_row(weight):
    X, y = regression_data()
    in_memory = MixtureOfExpertsRegressor(**KW).fit(X, y, sample_weight=weight)
    out_of_core = MixtureOfExpertsRegressor(**KW).fit(
        da.from_array(X, chunks=150), da.from_array(y, chunks=150), weight
    )
    assert_same_fit(out_of_core, in_memory)


@pytest.mark.parametrize(
    "change, match",
    [
        (
            {"y": np.zeros(10)},
            r"y has 10 rows but X has 600; .* shape \(n_samples,\) = \(600,\), "
            r"got \(10,\)",
        ),
        ({"y": da.zeros(10, chunks=5)}, r"y has 10 rows but X has 600"),
        ({"y": np.zeros((600, 2))}, r"y must be 1-D, .* got shape \(600, 2\)"),
        ({"y": 1.0}, r"y must be 1-D, .* got shape \(\)"),
        (
            {"sample_weight": np.ones(10)},
            r"sample_weight has 10 rows but X has 600; .* \(600,\) \(or be a "
            r"number, the weight of every row\), got \(10,\)",
        ),
        (
            {"sample_weight": da.ones(10, chunks=5)},
            r"sample_weight has 10 rows but X has 600",
        ),
        (
            {"sample_weight": np.ones((600, 1))},
            r"sample_weight must be 1-D, .* got shape \(600, 1\)",
        ),
        (
            {"sample_weight": np.array(2.0)},
            r"sample_weight must be a number, an array of shape \(n_samples,\) "
            r"or None; got array\(2\.\)",
        ),
        (
            {"sample_weight": "heavy"},
            r"sample_weight must be a number, an array of shape \(n_samples,\) "
            r"or None; got 'heavy'",
        ),
        ({"init_resp": np.ones((10, 2))}, r"init_resp has 10 rows but X has 600"),
        (
            {"init_resp": np.ones((600, 3))},
            r"'init_resp' as an array must have shape \(n_samples, n_experts\) "
            r"= \(600, 2\); got \(600, 3\)",
        ),
    ],
    ids=[
        "short y",
        "short dask y",
        "2-D y",
        "scalar y",
        "short weights",
        "short dask weights",
        "2-D weights",
        "0-d array weight",
        "string weight",
        "short init_resp",
        "init_resp too wide",
    ],
)
def test_mismatched_inputs_are_refused_with_what_is_allowed(change, match):
    X, y = regression_data()
    X_lazy = da.from_array(X, chunks=150)
    kwargs = {"y": y}
    kwargs.update(change)
    moe = MixtureOfExpertsRegressor(**KW)
    with pytest.raises(ValueError, match=match):
        moe.fit(X_lazy, **kwargs)
    assert not hasattr(moe, "experts_")


@pytest.mark.parametrize("weight", [1e-160, 1e160])
def test_a_total_weight_out_of_range_is_refused_as_in_memory(weight):
    """Beyond this range the penalty over the total weight overflows; the
    out-of-core fit did not check it."""
    X, y = regression_data()
    match = r"sample_weight sums to .*, outside the range \[1e-150, 1e\+150\]"
    with pytest.raises(ValueError, match=match):
        MixtureOfExpertsRegressor(**KW).fit(X, y, sample_weight=weight)
    with pytest.raises(ValueError, match=match):
        MixtureOfExpertsRegressor(**KW).fit(da.from_array(X, chunks=150), y, weight)


def test_negative_number_as_sample_weight_is_refused():
    X, y = regression_data()
    match = "sample_weight must be finite and non-negative; got 600 negative"
    with pytest.raises(ValueError, match=match):
        MixtureOfExpertsRegressor(**KW).fit(da.from_array(X, chunks=150), y, -1.0)
