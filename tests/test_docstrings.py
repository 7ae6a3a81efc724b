"""Everything public has a numpydoc docstring with a runnable example.

"Public": the classes and functions of ``__all__`` of skmoe, skmoe.inspection,
skmoe.plotting, skmoe.rules and skmoe.exceptions, and every public method and
property those classes define in skmoe (not what they inherit unchanged from
scikit-learn or Python, nor the ``set_*_request`` methods scikit-learn
generates). The examples themselves run as doctests (``--doctest-modules``);
this checks that none is missing, so a new public name cannot ship without
one, and validates the docstrings with numpydoc as scikit-learn does its own.
"""

import inspect

import pytest
from numpydoc import validate as validation

import skmoe
import skmoe.exceptions
import skmoe.inspection
import skmoe.plotting
import skmoe.rules


def _public_objects():
    modules = (skmoe, skmoe.inspection, skmoe.plotting, skmoe.rules, skmoe.exceptions)
    for module in modules:
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                # The exceptions are re-exported by skmoe: one name each.
                yield f"{obj.__module__}.{obj.__name__}", obj


def _public_path(obj):
    """The name by which ``obj`` is public (``skmoe.SoftmaxGate``)."""
    for module in (skmoe, skmoe.inspection, skmoe.plotting, skmoe.rules):
        if getattr(module, obj.__name__, None) is obj:
            return f"{module.__name__}.{obj.__name__}"
    return f"{obj.__module__}.{obj.__name__}"


PUBLIC = {_public_path(obj): obj for _, obj in _public_objects()}


def _defined_in_skmoe(attribute):
    """Whether a class attribute is a method or property written in skmoe.

    A function, property, classmethod or ``available_if`` descriptor carries
    the ``__module__`` of the code that defined it; the ``set_*_request``
    methods scikit-learn generates are descriptors of its own module.
    """
    if isinstance(attribute, (classmethod, staticmethod)):
        attribute = attribute.__func__
    if isinstance(attribute, property):
        attribute = attribute.fget
    if not callable(attribute) and not hasattr(attribute, "__get__"):
        return False
    module = getattr(attribute, "__module__", None) or ""
    qualname = getattr(attribute, "__qualname__", None) or ""
    return (module == "skmoe" or module.startswith("skmoe.")) and "." in qualname


def _public_methods():
    """``{"skmoe.Class.method": (class, name)}`` of the methods and properties
    that skmoe defines on its public classes, wherever in the class hierarchy
    (a mixin's ``gate_proba`` counts for both mixtures)."""
    methods = {}
    for path, cls in PUBLIC.items():
        if not inspect.isclass(cls):
            continue
        for name in dir(cls):
            if name.startswith("_"):
                continue
            owner = next((k for k in cls.__mro__ if name in vars(k)), None)
            if owner is not None and _defined_in_skmoe(vars(owner)[name]):
                methods[f"{path}.{name}"] = (cls, name)
    return methods


METHODS = _public_methods()


def _docstring(obj):
    """The docstring of a class, function, method or property."""
    if isinstance(obj, tuple):
        cls, name = obj
        attribute = inspect.getattr_static(cls, name)
        if isinstance(attribute, property):
            return inspect.getdoc(attribute) or ""
        return inspect.getdoc(getattr(cls, name)) or ""
    return inspect.getdoc(obj) or ""


# scikit-learn's filter of numpydoc's errors, copied from
# sklearn/tests/test_docstrings.py (scikit-learn 1.9.1, ``filter_errors``):
# the same codes are ignored here, for the same reasons.
def _filter_errors(errors, method, Klass=None):
    for code, message in errors:
        # RT02: the first line of Returns names the value, not only its type.
        # GL01: the summary starts on the line after the opening quotes.
        # GL02: a blank line before the closing quotes (short properties).
        if code in ["RT02", "GL01", "GL02"]:
            continue
        # PR02 (unknown parameters) and GL08 (no signature) on properties.
        if code in ("PR02", "GL08") and Klass is not None and method is not None:
            if isinstance(inspect.getattr_static(Klass, method), property):
                continue
        # ES01, SA01 and EX01 only for class docstrings (functions come with
        # method="function", as in scikit-learn). Examples are required of
        # every function and method by the tests above and below.
        if method is not None and code in ["EX01", "SA01", "ES01"]:
            continue
        yield code, message


def test_the_public_names_are_found():
    assert {
        "skmoe.MixtureOfExpertsRegressor",
        "skmoe.MixtureOfExpertsClassifier",
        "skmoe.SoftmaxGate",
        "skmoe.DeadExpertWarning",
        "skmoe.rules.RuleExpert",
        "skmoe.plotting.GateRegionsDisplay",
        "skmoe.inspection.gate_proba",
    } <= set(PUBLIC)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_object_has_a_runnable_example(name):
    doc = inspect.getdoc(PUBLIC[name]) or ""
    assert "Examples\n--------" in doc, f"{name} has no Examples section"
    examples = doc.split("Examples\n--------", 1)[1]
    assert ">>> " in examples, f"{name}'s Examples section has no doctest"


def test_the_public_methods_are_found():
    assert {
        "skmoe.MixtureOfExpertsRegressor.fit",
        "skmoe.MixtureOfExpertsRegressor.gate_proba",  # from a mixin
        "skmoe.MixtureOfExpertsRegressor.named_experts_",  # a property
        "skmoe.MixtureOfExpertsClassifierCV.predict_proba",
        "skmoe.SoftmaxGate.take_classes",
        "skmoe.rules.RuleExpert.predict_proba",  # behind available_if
        "skmoe.plotting.GateRegionsDisplay.from_estimator",  # a classmethod
    } <= set(METHODS)
    # Inherited unchanged from scikit-learn, or generated by it: not ours.
    for name in ("set_output", "fit_transform", "set_fit_request"):
        assert f"skmoe.MixtureOfExpertsRegressor.{name}" not in METHODS
    # Ours: it scores Dask collections too.
    assert "skmoe.MixtureOfExpertsRegressor.score" in METHODS
    assert "skmoe.DeadExpertWarning.with_traceback" not in METHODS


@pytest.mark.parametrize("name", sorted(METHODS))
def test_public_method_has_a_runnable_example(name):
    doc = _docstring(METHODS[name])
    assert "Examples\n--------" in doc, f"{name} has no Examples section"
    examples = doc.split("Examples\n--------", 1)[1]
    assert ">>> " in examples, f"{name}'s Examples section has no doctest"


@pytest.mark.parametrize("name", sorted(PUBLIC) + sorted(METHODS))
def test_numpydoc_validation(name):
    if name in METHODS:
        cls, method = METHODS[name]
        import_path = f"{cls.__module__}.{cls.__name__}.{method}"
    else:
        obj, cls, method = PUBLIC[name], None, None
        import_path = f"{obj.__module__}.{obj.__qualname__}"
        if inspect.isfunction(obj):
            method = "function"
    result = validation.validate(import_path)
    errors = list(_filter_errors(result["errors"], method, Klass=cls))
    assert not errors, "\n".join(
        [f"{name} ({result['file']}:{result['file_line']}):"]
        + [f"  {code}: {message}" for code, message in errors]
    )
