"""Every public class and function documents itself with a runnable example.

The examples themselves run as doctests (``--doctest-modules``); this checks
that none is missing, so a new public name cannot ship without one.
"""

import inspect

import pytest

import skmoe
import skmoe.inspection
import skmoe.plotting
import skmoe.rules


def _public_objects():
    for module in (skmoe, skmoe.inspection, skmoe.plotting, skmoe.rules):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                yield f"{module.__name__}.{name}", obj


PUBLIC = dict(_public_objects())


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
