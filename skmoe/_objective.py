"""What EM climbs: the log-likelihood less the penalties of the fits.

The M-steps of penalised experts and of the gate maximise their weighted
log-likelihood less a penalty (``LogisticRegression``'s ``||coef||^2 / (2 C)``,
as an expert or as the gate; the ``SoftmaxGate``'s ``alpha``), so EM is an
ascent of the mixture's log-likelihood less those penalties (a MAP fit), not
of the log-likelihood itself. Near the optimum the two can move in opposite
directions: on breast_cancer with two ``LogisticRegression()`` experts the
log-likelihood peaks after about 150 iterations and then falls by 7e-5 nats
per row while the penalised objective still rises. EM's stopping rule and
SQUAREM's safeguard therefore look at the penalised objective.
"""

from ._fast_mstep import expert_penalty
from ._gating import SoftmaxGate, gate_penalty


def penalty_per_weight(experts, gate, n_gate_features, total_weight):
    """The fits' penalties per unit of sample weight, in the units of
    the mean log-likelihood.

    Parameters
    ----------
    experts : list of estimators
        The fitted experts; those whose penalty is not known count 0
        (see :func:`~skmoe._fast_mstep.expert_penalty`).
    gate : estimator or None
        The fitted gate: a ``SoftmaxGate`` counts its ``alpha``; a
        ``LogisticRegression`` with the plain L2 objective, fitted on the
        rows replicated once per expert and weighted by the
        responsibilities, counts ``||coef||^2 / (2 C)`` as an expert does;
        any other gate counts 0.
    n_gate_features : int
        Number of the gate's input features.
    total_weight : float
        Sum of the sample weights.

    Returns
    -------
    penalty : float
    """
    penalty = sum(expert_penalty(expert) for expert in experts)
    if isinstance(gate, SoftmaxGate):
        penalty += gate_penalty(gate, n_gate_features, total_weight)
    elif gate is not None:
        # Its weighted log-loss on the replicated rows is the soft-target
        # cross-entropy, so its fit subtracts the same penalty from it.
        penalty += expert_penalty(gate)
    return float(penalty / total_weight)
