"""What a warm start may continue from.

After a fit, a mixture keeps a signature of what it was fitted with: its
*structure* (the experts' names and kinds, the kind of gate, the columns,
the classes) and a digest of its *parameters* (every hyper-parameter of the
experts and the gate, nested ones included). A warm-started refit compares
it with the current one:

- same structure and parameters: continue EM from the fitted model;
- same structure, other parameters: rebuild experts and gate from their new
  parameters and start from the fitted model's responsibilities;
- other structure: nothing to continue from; start afresh, saying why.

The signature holds only text, numbers and lists, so a pickled or
``skops``-saved mixture keeps it without new trusted types.
"""

import functools
import hashlib
import types

import numpy as np

from ._gating import SoftmaxGate

_STRUCTURE_LABELS = {
    "experts": "the experts (their names, kinds or number)",
    "gate": "the kind of gate",
    "n_features_in_": "the number of features of X",
    "feature_names_in_": "the names of the columns of X (or their order)",
    "gate_features_": "gate_features",
    "expert_features_": "expert_features",
    "classes_": "the classes in y",
}


def fit_signature(mixture, names, templates):
    """The signature of ``mixture`` about to be fitted with these experts.

    Parameters
    ----------
    mixture : mixture of experts
        With its input attributes set for the data (``n_features_in_``,
        ``gate_features_``, ``expert_features_``, ``classes_`` if any).
    names : list of str
    templates : list of estimators
        The unfitted experts.

    Returns
    -------
    signature : dict
        ``{"structure": dict, "parameters": str}``.
    """
    # gate=None is the default SoftmaxGate, also once gate__alpha made it one.
    gate = SoftmaxGate() if mixture.gate is None else mixture.gate
    structure = {
        "experts": [[n, _type_name(t)] for n, t in zip(names, templates, strict=True)],
        "gate": _type_name(gate),
        "n_features_in_": mixture.n_features_in_,
        "feature_names_in_": _names(mixture),
        "gate_features_": mixture.gate_features_.tolist(),
        "expert_features_": mixture.expert_features_.tolist(),
        "classes_": getattr(mixture, "classes_", np.array([])).tolist(),
    }
    parameters = [_fingerprint(t) for t in templates] + [_fingerprint(gate)]
    return {"structure": structure, "parameters": _digest(parameters)}


def warm_start_plan(previous, current):
    """How a warm start proceeds from the ``previous`` signature.

    Returns
    -------
    plan : {"continue", "refresh"} or None
        None: start afresh.
    why : str or None
        What changed, when the structure did.
    """
    now = current["structure"]
    # What a signature of an earlier version did not hold counts as unchanged.
    before = {**now, **previous["structure"]}
    if before != now:
        changed = [
            label for key, label in _STRUCTURE_LABELS.items() if before[key] != now[key]
        ]
        return None, f"{' and '.join(changed)} changed since the last fit"
    if previous["parameters"] != current["parameters"]:
        return "refresh", None
    return "continue", None


def _names(mixture):
    """The columns' names X had, as a list, or None."""
    names = getattr(mixture, "feature_names_in_", None)
    return None if names is None else names.tolist()


def _type_name(estimator):
    if estimator is None or isinstance(estimator, str):
        return repr(estimator)
    kind = estimator if isinstance(estimator, type) else type(estimator)
    return f"{kind.__module__}.{kind.__qualname__}"


def _fingerprint(estimator):
    """The hyper-parameters of ``estimator`` as text, nested ones included.

    Seeds are left out (EM draws its own for every clone), and nested
    estimators appear by type, their parameters under their own keys.
    """
    if estimator is None or not hasattr(estimator, "get_params"):
        return _type_name(estimator)
    params = estimator.get_params(deep=True)
    items = sorted(
        (key, _value_text(value))
        for key, value in params.items()
        if not (key == "random_state" or key.endswith("__random_state"))
    )
    return (_type_name(estimator), items)


def _value_text(value):
    """A parameter's value as text that is the same in every process.

    A module-level function (a rule's) is named by module and name: its
    repr holds its address, which differs once the model is loaded
    elsewhere, and a warm start would then refit from the templates instead
    of continuing. A ``functools.partial`` is named by its function and
    arguments, and an object whose repr holds its address (a callable
    object as a rule) by its class and state. A lambda or a local function
    keeps its repr: its name does not tell one from another.
    """
    if hasattr(value, "get_params"):
        return _type_name(value)
    if isinstance(value, types.FunctionType):
        if "<" not in value.__qualname__:
            return f"{value.__module__}.{value.__qualname__}"
        return repr(value)
    if isinstance(value, functools.partial):
        args = [_value_text(arg) for arg in value.args]
        keywords = sorted((k, _value_text(v)) for k, v in value.keywords.items())
        return f"partial({_value_text(value.func)}, {args}, {keywords})"
    text = repr(value)
    state = getattr(value, "__dict__", None)
    if " at 0x" in text and isinstance(state, dict):
        # An object's default repr holds its address too: it is named by its
        # class and its state instead (a rule's callable object).
        items = sorted((key, _value_text(item)) for key, item in state.items())
        return f"{type(value).__module__}.{type(value).__qualname__}({items})"
    return text


def _digest(value):
    return hashlib.sha256(repr(value).encode()).hexdigest()
