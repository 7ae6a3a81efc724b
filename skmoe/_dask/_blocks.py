"""The training data as delayed row blocks, one pass over them, and the two
passes that describe the data before EM (sizes and means, then spreads)."""

import numpy as np

# Blocks whose sums are added in one task: a tree of fan-in 8 keeps the
# reduction shallow without gathering thousands of results in one place.
_FAN_IN = 8


def _combine(*parts):
    """Add the sums of several blocks, concatenate their samples (in order),
    and keep the largest of their largest magnitudes."""
    out = {}
    for key in parts[0]:
        values = [part[key] for part in parts]
        if key.startswith("sample"):
            out[key] = np.concatenate(values)
        elif key == "classes":
            out[key] = np.unique(np.concatenate(values))
        elif key.startswith("largest"):
            out[key] = np.maximum.reduce(values)
        else:
            total = values[0]
            for value in values[1:]:
                total = total + value
            out[key] = total
    return out


class _Data:
    """The training data as lists of delayed row blocks (X, y, weights, init)."""

    def __init__(self, X, y, sample_weight, init):
        self.X, self.y, self.sample_weight, self.init = X, y, sample_weight, init
        self.n_samples = X.shape[0]

    def blocks(self):
        """``(index, [X, y, weights, init])`` of every block that holds rows."""
        if not hasattr(self, "_blocks"):  # built once: every pass reuses them
            self._blocks = self._split_blocks()
        return self._blocks

    def _split_blocks(self):
        columns = [self.X, self.y, self.sample_weight, self.init]
        delayed = [None if c is None else list(c.to_delayed().ravel()) for c in columns]
        # An empty block (a filtered-out partition) adds nothing to any sum,
        # and estimators refuse zero rows: it is left out of every pass. The
        # others keep their index, which seeds their sample of rows.
        return [
            (b, [None if d is None else d[b] for d in delayed])
            for b, n_rows in enumerate(self.X.chunks[0])
            if n_rows > 0
        ]

    def run(self, plan):
        """Evaluate ``plan`` on every block and add the results."""
        import dask

        shared = dask.delayed(plan, traverse=False)
        parts = [
            dask.delayed(_block_pass)(shared, index, *blocks)
            for index, blocks in self.blocks()
        ]
        while len(parts) > 1:
            parts = [
                dask.delayed(_combine)(*parts[k : k + _FAN_IN])
                for k in range(0, len(parts), _FAN_IN)
            ]
        (total,) = dask.compute(parts[0])
        return total


def _block_pass(plan, index, X, y, sample_weight, init):
    return plan(index, X, y, sample_weight, init)


def _sample_mask(index, n_rows, fraction):
    """Rows of block ``index`` drawn for a sample; fixed, so reruns agree."""
    if fraction >= 1:
        return np.ones(n_rows, dtype=bool)
    return np.random.RandomState([7, index]).uniform(size=n_rows) < fraction


def as_floats(values):
    """A block as float64, with pandas' missing value read as NaN, as
    scikit-learn reads it in memory: a column of a nullable dtype (``Float64``,
    ``Int64``, ``boolean``) reaches a block as objects, ``pd.NA`` among them."""
    values = np.asarray(values)
    if values.dtype == object:
        import pandas as pd  # only pandas makes pd.NA

        values = np.where(pd.isna(values), np.nan, values)
    return values.astype(np.float64)


def _weights(w, n_rows):
    """A block's sample weights, or ones."""
    return np.ones(n_rows) if w is None else as_floats(w)


def _largest(values):
    """The largest finite magnitude in a block, as a (1,) array: the largest
    over the blocks is what check_magnitude judges in memory."""
    magnitude = np.abs(values[np.isfinite(values)])
    return np.array([magnitude.max() if magnitude.size else 0.0])


class _Summary:
    """First pass: row count, weight, weighted column sums, non-finite values,
    and the labels (classifier) or weighted target sum (regressor)."""

    def __init__(self, kind):
        self.kind = kind

    def __call__(self, index, X, y, w, init):
        X = as_floats(X)
        w = _weights(w, len(X))
        out = {
            "n": np.array(len(X)),
            "weight": w.sum(),
            "negative_weight": np.count_nonzero(w < 0),
            "inf_X": np.count_nonzero(np.isinf(X)),
            # By column: NaN may stand where neither the gate nor the
            # experts read.
            "nan_X": np.count_nonzero(np.isnan(X), axis=0),
            "nonfinite_w": np.count_nonzero(~np.isfinite(w)),
            "sum_X": w @ X,
            "largest_X": _largest(X),
        }
        if self.kind == "regressor":
            y = as_floats(y)
            out["nonfinite_y"] = np.count_nonzero(~np.isfinite(y))
            out["sum_y"] = w @ y
            out["largest_y"] = _largest(y)
        else:
            out["classes"] = np.unique(np.asarray(y))
        return out


class _Spread:
    """Second pass: weighted sums of squares about the means, the class
    masses, and the rows sampled for the k-means start and the noise floor."""

    def __init__(self, kind, mean_X, mean_y, classes, sampled, fraction):
        self.kind, self.mean_X, self.mean_y = kind, mean_X, mean_y
        self.classes, self.sampled, self.fraction = classes, sampled, fraction

    def __call__(self, index, X, y, w, init):
        X = as_floats(X)
        w = _weights(w, len(X))
        out = {"sq_X": w @ (X - self.mean_X) ** 2}
        if self.kind == "regressor":
            y = as_floats(y)
            out["sq_y"] = w @ (y - self.mean_y) ** 2
        else:
            y_index = np.searchsorted(self.classes, np.asarray(y))
            out["class_mass"] = np.bincount(
                y_index, weights=w, minlength=len(self.classes)
            )
        if self.sampled:
            rows = _sample_mask(index, len(X), self.fraction)
            out["sample_X"] = X[rows]
            out["sample_w"] = w[rows]
            out["sample_y"] = np.asarray(y)[rows]
        return out
