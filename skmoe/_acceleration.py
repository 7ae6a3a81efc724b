"""SQUAREM: squared extrapolation of the EM map (Varadhan & Roland, 2008).

EM moves the responsibilities ``R`` by a map ``F``: an M-step from ``R`` and
the E-step that follows. Near an optimum ``F`` is nearly linear and EM
converges linearly, slowly where the likelihood is flat. SQUAREM takes two
EM steps, ``R1 = F(R0)`` and ``R2 = F(R1)``, and jumps along the direction
they agree on:

    r = R1 - R0,   v = R2 - 2 R1 + R0,   alpha = -||r|| / ||v||   (SqS3)
    R' = R0 - 2 alpha r + alpha^2 v

``alpha = -1`` gives ``R2`` itself. The jump is made in the space of the
responsibilities, where it is valid whatever the experts are (their
parameters need not be exposed), and projected back onto it: non-negative
rows that sum to 1. The mixture then takes one EM step from ``R'`` and keeps
it only if it climbs at least as high as ``R2``'s step; otherwise it goes on
from ``R2`` by plain EM, so the accepted steps never fall below plain EM's
path. What EM climbs, and what the steps are compared on, is the
log-likelihood less the penalties of the gate's and the experts' fits
(``_objective.py``): on a penalised fit the log-likelihood itself can fall
while EM climbs.

The M-steps of the gate and of linear and logistic experts are partial (a
few Newton steps from the previous solution: generalised EM), so plain EM
from ``R2`` is an ascent only from the solution that gave ``R2``. A jump
therefore keeps a copy of the experts and the gate as they were before it,
and a rejected jump hands them back with ``R2``.

By default (``acceleration="auto"``) the jumps begin only after a run's
first ``AUTO_DELAY`` iterations. Most fits settle within them, and there a
jump has little to win and costs a copy of the model and, when rejected, an
M-step; a fit still climbing after them is one that crawls, where SQUAREM
pays (``benchmarks/FASTEM.md``). Steps before the delay are not used, so a
run paused after them and resumed extrapolates exactly as an uninterrupted
one. ``"auto"`` leaves plain EM where it is not an ascent (flexible experts,
cross-fitting): there a jump could not be judged against the plain step.

The norms that set the step length weight each row by its sample weight, so
that, as everywhere in EM, a weight of ``k`` counts as ``k`` repeated rows.
"""

import numpy as np

from ._estimators import copy_sharing_frozen

# The longest jump allowed at first, and the factor by which it grows after a
# jump that used all of it (SQUAREM's step.max0 and mstep).
STEP_MAX_START = 1.0
STEP_MAX_GROWTH = 4.0

# Iterations of plain EM before ``acceleration="auto"`` starts jumping: the
# short runs of ``init_max_iter``'s default, so the starts are compared on
# plain EM and only the leader's long run is extrapolated.
AUTO_DELAY = 20

# Responsibilities below this are set to it before rows are renormalised: a
# jump must not leave an expert with exactly nothing.
_RESP_FLOOR = 1e-12


def squarem_step(R0, R1, R2, step_max, sample_weight=None):
    """Extrapolate two EM steps of the responsibilities.

    Parameters
    ----------
    R0, R1, R2 : ndarray of shape (n, M)
        Responsibilities before, after one and after two EM steps.
    step_max : float
        The largest ``-alpha`` allowed (at least 1).
    sample_weight : ndarray of shape (n,), default=None
        Row weights of the norms, so that a row of weight ``k`` counts as
        ``k`` repeated rows (and one of weight 0 not at all).

    Returns
    -------
    R : ndarray of shape (n, M)
        The extrapolated responsibilities, rows non-negative and summing to 1.
    alpha : float
        The step length used, in ``[-step_max, -1]``; ``-1`` returns ``R2``.
    """
    r = R1 - R0
    v = R2 - 2 * R1 + R0
    r_norm, v_norm = _norm(r, sample_weight), _norm(v, sample_weight)
    if v_norm == 0 or not np.isfinite(r_norm / v_norm):
        return R2, -1.0
    alpha = float(np.clip(-r_norm / v_norm, -step_max, -1.0))
    if alpha == -1.0:
        return R2, alpha
    R = R0 - 2 * alpha * r + alpha**2 * v
    return project(R), alpha


def _norm(D, sample_weight):
    """Frobenius norm of ``D`` (n, M), each row's squares weighted."""
    if sample_weight is None:
        return np.sqrt(np.vdot(D, D))
    return np.sqrt(sample_weight @ np.einsum("nm,nm->n", D, D))


def project(R):
    """Responsibilities from an extrapolated array: floored, rows summing to 1."""
    R = np.maximum(R, _RESP_FLOOR)
    return R / R.sum(axis=1, keepdims=True)


def next_step_max(step_max, alpha, accepted):
    """Let jumps grow after a full-length one that helped; shrink them after a
    rejected one."""
    if not accepted:
        return max(STEP_MAX_START, step_max / STEP_MAX_GROWTH)
    if alpha == -step_max:
        return step_max * STEP_MAX_GROWTH
    return step_max


class Squarem:
    """The extrapolation cycle of one EM run, fed one EM step at a time.

    After every EM step the run asks :meth:`judge` whether a pending jump is
    kept, then :meth:`next_resp` for the responsibilities of the next
    M-step: the step's own, or a jump once two plain steps are in.
    """

    def __init__(self, mixture=None, delay=0, sample_weight=None):
        self.mixture = mixture
        self.delay = delay
        self.sample_weight = sample_weight
        self.step_max = STEP_MAX_START
        self.cycle = []
        self.pending = None  # (R2, its log-likelihood, alpha) of a jump
        self.before_jump = None  # the mixture's experts and gate, copied

    def restart(self, resp, n_iter=None):
        """Start a new cycle at ``resp`` (after a re-seed or a rejected jump),
        given by iteration ``n_iter``."""
        early = n_iter is not None and n_iter <= self.delay
        self.cycle, self.pending = ([] if early else [resp]), None

    def judge(self, objective):
        """None after a plain step; after a jump, whether it is kept: its
        ``objective`` (what EM climbs) is at least that of the plain step it
        left. A kept jump starts the next cycle; after a rejected one, plain
        EM goes on from :meth:`fallback`."""
        if self.pending is None:
            return None
        R2, objective2, alpha = self.pending
        # A bool, not numpy's: EM asks whether the answer `is False`.
        accepted = bool(objective >= objective2)
        self.step_max = next_step_max(self.step_max, alpha, accepted)
        self.cycle = [] if accepted else [R2]
        self.pending = None
        if accepted:
            self.before_jump = None
        return accepted

    def fallback(self):
        """Where plain EM goes on after a rejected jump: ``R2``, with the
        experts and the gate that gave it."""
        if self.before_jump is not None:
            self.mixture.experts_, self.mixture.gate_ = self.before_jump
            self.before_jump = None
        return self.cycle[0]

    def next_resp(self, resp, objective, can_jump, n_iter=None):
        """The responsibilities of the next M-step.

        Parameters
        ----------
        resp : ndarray of shape (n, M)
            What the last EM step's E-step gave.
        objective : float
            What EM climbs at that step: its log-likelihood less the fits'
            penalties.
        can_jump : bool
            Whether a jump may be tried now (there must be iterations left
            to fall back if it fails).
        n_iter : int, default=None
            The EM iteration that gave ``resp``; steps up to ``delay`` are
            passed on unused.
        """
        if n_iter is not None and n_iter <= self.delay:
            return resp
        self.cycle.append(resp)
        if len(self.cycle) < 3 or not can_jump:
            self.cycle = self.cycle[-2:]
            return resp
        R0, R1, R2 = self.cycle
        R, alpha = squarem_step(R0, R1, R2, self.step_max, self.sample_weight)
        if alpha == -1.0:
            # As SQUAREM does: a step held at its longest lets the next grow.
            self.step_max = next_step_max(self.step_max, alpha, accepted=True)
            self.cycle = [R2]
            return R2
        self.cycle, self.pending = [R2], (R2, objective, alpha)
        if self.mixture is not None:
            self.before_jump = copy_sharing_frozen(
                (self.mixture.experts_, self.mixture.gate_), self.mixture.experts_
            )
        return R
