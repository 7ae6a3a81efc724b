"""Displays that draw what a fitted mixture of experts has learned.

Four displays, in the style of scikit-learn's (``RocCurveDisplay``,
``DecisionBoundaryDisplay``): each holds the computed arrays, ``plot`` draws
them and ``from_estimator`` computes them from a fitted
:class:`~skmoe.MixtureOfExpertsRegressor` or
:class:`~skmoe.MixtureOfExpertsClassifier` and draws.

- :class:`GateRegionsDisplay`: the region of the plane each expert is trusted
  with by the gate (two gate features), and the data coloured by expert.
- :class:`ExpertCurvesDisplay`: 1-D regression: every expert's curve, the
  mixture mean with a band of two predictive standard deviations, and the
  gate's probabilities in a panel below.
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
from ._gate_regions import GateRegionsDisplay

__all__ = [
    "ConvergenceDisplay",
    "ExpertCurvesDisplay",
    "ExpertUsageDisplay",
    "GateRegionsDisplay",
]
