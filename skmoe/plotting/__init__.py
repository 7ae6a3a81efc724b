"""Displays that draw what a fitted mixture of experts has learned.

Five displays, in the style of scikit-learn's (``RocCurveDisplay``,
``DecisionBoundaryDisplay``): each holds the computed arrays, ``plot`` draws
them and ``from_estimator`` computes them from a fitted
:class:`~skmoe.MixtureOfExpertsRegressor` or
:class:`~skmoe.MixtureOfExpertsClassifier` and draws. ``from_estimator``
also takes a fitted Pipeline whose last step is a mixture, as the functions of
:mod:`skmoe.inspection` do: its other steps transform the rows first, and
grids are laid in the columns the Pipeline takes; and a fitted CV variant
(:class:`~skmoe.MixtureOfExpertsRegressorCV`), for the mixture it chose.

- :class:`GateRegionsDisplay`: the region of the plane of two features each
  expert is trusted with by the gate (other features held at their medians or
  a given row), and the data coloured by expert.
- :class:`GateProfileDisplay`: the gate's probability of each expert along any
  one feature, other features held likewise.
- :class:`ExpertCurvesDisplay`: regression along one feature: every expert's
  curve where the gate trusts it, the mixture mean with a band of two
  predictive standard deviations, and the gate's probabilities in a panel
  below.
- :class:`ConvergenceDisplay`: the EM log-likelihood per iteration of every
  start, the kept start highlighted.
- :class:`ExpertUsageDisplay`: the share of rows routed to each expert and the
  gate's mean confidence on them.

Expert ``i`` has the same colour in every display. matplotlib is needed to
draw (``pip install "skmoe[plot]"``); importing this module does not import it.
Each display lives in a module of its own; what they share is in
``_common``.
"""

from ._convergence import ConvergenceDisplay
from ._expert_curves import ExpertCurvesDisplay
from ._expert_usage import ExpertUsageDisplay
from ._gate_profile import GateProfileDisplay
from ._gate_regions import GateRegionsDisplay

__all__ = [
    "ConvergenceDisplay",
    "ExpertCurvesDisplay",
    "ExpertUsageDisplay",
    "GateProfileDisplay",
    "GateRegionsDisplay",
]
