"""Mixture-of-Experts estimators for scikit-learn."""

from ._base import DeadExpertWarning, DegenerateFitWarning
from ._classifier import MixtureOfExpertsClassifier
from ._cv import MixtureOfExpertsClassifierCV, MixtureOfExpertsRegressorCV
from ._gating import SoftmaxGate
from ._persistence import InconsistentVersionWarning
from ._regressor import MixtureOfExpertsRegressor

__version__ = "0.1.0.dev0"

__all__ = [
    "DeadExpertWarning",
    "DegenerateFitWarning",
    "InconsistentVersionWarning",
    "MixtureOfExpertsClassifier",
    "MixtureOfExpertsClassifierCV",
    "MixtureOfExpertsRegressor",
    "MixtureOfExpertsRegressorCV",
    "SoftmaxGate",
    "__version__",
]
