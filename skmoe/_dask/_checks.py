"""What out-of-core EM supports: experts whose M-step is a sum over rows, soft
EM and the default gate; anything else is refused with what to do instead."""

import numbers

import numpy as np
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

from .._gating import SoftmaxGate


def _logistic_alpha(expert):
    """The L2 strength (``1 / C``) of a LogisticRegression, or an error."""
    params = expert.get_params(deep=False)
    penalty = params.get("penalty", "deprecated")
    l1_ratio = params.get("l1_ratio", 0.0)
    if penalty in ("deprecated", "l2"):
        ok = l1_ratio in (0, 0.0, None) or penalty == "l2"
    else:
        ok = penalty is None
    if not ok or params.get("solver") == "liblinear":
        return None
    if params.get("class_weight") is not None or params.get("dual"):
        return None
    C = params.get("C", 1.0)
    if penalty is None or C == np.inf:
        return 0.0
    return 1.0 / C


def _expert_kind(expert, kind):
    """``"linear"``, ``"logistic"`` or None when the expert's M-step is not a
    sum over rows."""
    if kind == "regressor" and type(expert) in (LinearRegression, Ridge):
        if expert.get_params().get("positive"):
            return None
        alpha = expert.get_params().get("alpha", 0.0)
        if not isinstance(alpha, numbers.Real):
            return None
        return "linear"
    if kind == "classifier" and type(expert) is LogisticRegression:
        return "logistic" if _logistic_alpha(expert) is not None else None
    return None


def _refuse_experts(names, templates, kind):
    bad = [
        f"{name!r} ({type(expert).__name__})"
        for name, expert in zip(names, templates, strict=True)
        if _expert_kind(expert, kind) is None
    ]
    if not bad:
        return
    allowed = (
        "LinearRegression or Ridge (positive=False, scalar alpha)"
        if kind == "regressor"
        else "LogisticRegression with an L2 penalty or none (not liblinear, "
        "no class_weight)"
    )
    raise TypeError(
        f"Experts {', '.join(bad)} cannot be fitted on a Dask collection: "
        "out-of-core EM needs experts whose M-step reduces to sums over rows, "
        f"which for a {kind} means {allowed}. Instead, fit the mixture on a "
        "sample that fits in memory (for example X.sample(frac=...) or a few "
        "blocks, .compute()d) and predict on all rows: predict, predict_proba "
        "and gate_proba accept Dask collections and run block by block."
    )


def _check_options(model, n_experts):
    """Refuse the options that have no out-of-core counterpart."""
    if model.assignment != "soft":
        raise ValueError(
            f"assignment={model.assignment!r} is not supported on Dask "
            "collections: out-of-core EM is soft EM, whose M-step is a sum over "
            "rows of the posteriors. Use assignment='soft', or fit on an "
            "in-memory sample."
        )
    # "auto" (the default) runs plain EM out of core; only an explicit
    # request for SQUAREM is refused.
    acceleration = getattr(model, "acceleration", None)
    if acceleration == "squarem":
        raise ValueError(
            f"acceleration={acceleration!r} is not supported on Dask "
            "collections: SQUAREM extrapolates the responsibilities of every "
            "row, which out-of-core EM never holds. Use acceleration='auto' "
            "(plain EM out of core) or None."
        )
    if model.n_jobs not in (None, 1):
        raise ValueError(
            f"n_jobs={model.n_jobs!r} is not supported on Dask collections: the "
            "Dask cluster already parallelises every pass over the blocks. Leave "
            "n_jobs=None."
        )
    if model.balance:
        raise ValueError(
            f"balance={model.balance!r} is not supported on Dask collections: "
            "its gate objective is not convex and needs L-BFGS over the whole "
            "data. Use balance=0.0, or fit on an in-memory sample."
        )
    if n_experts > 1 and not (
        model.gate is None or isinstance(model.gate, SoftmaxGate)
    ):
        raise TypeError(
            f"gate={model.gate!r} cannot be fitted on a Dask collection: only "
            "the default SoftmaxGate has a Newton step made of sums over rows. "
            "Use gate=None."
        )
    if isinstance(model.gate, SoftmaxGate) and model.gate.solver == "lbfgs":
        raise ValueError(
            "gate__solver='lbfgs' is not supported on Dask collections: the "
            "gate is fitted by Newton steps from block sums. Use 'auto' or "
            "'newton'."
        )
    if model.warm_start and hasattr(model, "converged_"):
        raise ValueError(
            "warm_start=True on a fitted mixture is not supported on Dask "
            "collections: each out-of-core fit starts afresh. Set "
            "warm_start=False."
        )
