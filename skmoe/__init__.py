"""Mixture-of-Experts estimators for scikit-learn."""

from ._classifier import MixtureOfExpertsClassifier
from ._cv import MixtureOfExpertsClassifierCV, MixtureOfExpertsRegressorCV
from ._gating import SoftmaxGate
from ._regressor import MixtureOfExpertsRegressor
from .exceptions import (
    DeadExpertWarning,
    DegenerateFitWarning,
    ExpertOutputError,
    InconsistentVersionWarning,
    LocalOptimumWarning,
    WarmStartWarning,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "DeadExpertWarning",
    "DegenerateFitWarning",
    "ExpertOutputError",
    "InconsistentVersionWarning",
    "LocalOptimumWarning",
    "MixtureOfExpertsClassifier",
    "MixtureOfExpertsClassifierCV",
    "MixtureOfExpertsRegressor",
    "MixtureOfExpertsRegressorCV",
    "SoftmaxGate",
    "WarmStartWarning",
    "__version__",
]
