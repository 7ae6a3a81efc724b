"""What a finished fit says about itself: the messages of the warnings that
tell a user when EM probably went wrong, and what to do.

Each function looks at the fitted numbers only and returns a message, or
None when there is nothing to say.
"""

import numpy as np

# An expert holding less than this share of its fair share (1 / M) of the
# rows, though alive, usually marks a start that EM could not leave: the
# 200,000-row four-regime case ended with one expert at 2 % (fair share 25 %)
# and R² 0.81, against 0.99 from the best of three starts.
SMALL_SHARE = 0.1

# Restarts whose final log-likelihoods per row differ by more than this found
# different optima, not the same one to within tol.
RESTART_SPREAD = 0.01


def dead_experts(names, shares, min_expert_weight, policy, reseeded=None):
    """Experts still dead at the end: kept ones, re-seeded ones that starved
    again, or ones that died at the last iteration, too late to re-seed or
    prune (no E-step follows it); ``reseeded`` flags, per expert, whether it
    was ever re-seeded (None: all were)."""
    dead = np.flatnonzero(shares < min_expert_weight)
    if len(dead) == 0:
        return None
    if reseeded is None:
        reseeded = np.ones(len(shares), dtype=bool)
    message = (
        f"Experts {[names[i] for i in dead]} hold less than "
        f"min_expert_weight={min_expert_weight} of the responsibility "
        f"({', '.join(f'{shares[i]:.2g}' for i in dead)})"
    )
    if policy == "keep":
        return f"{message} and were kept (dead_expert='keep'). Consider fewer experts."
    if policy == "reseed" and np.all(np.asarray(reseeded)[dead]):
        return f"{message} and are still dead after re-seeding. Consider fewer experts."
    action = "re-seed" if policy == "reseed" else "prune"
    return (
        f"{message} at the last iteration, too late to {action} them (no "
        "E-step follows it): EM stopped at max_iter while they died. Raise "
        "max_iter."
    )


def experts_remaining(n_experts):
    """What pruning leaves, for its message.

    >>> experts_remaining(1), experts_remaining(2)
    ('1 expert remains', '2 experts remain')
    """
    return "1 expert remains" if n_experts == 1 else f"{n_experts} experts remain"


def small_experts(names, shares, min_expert_weight, from_resp=False):
    """Live experts far below their fair share, which a poor start leaves;
    ``from_resp``: the fit started from the user's ``init_resp``, where
    ``n_init`` and ``init_params`` do not apply."""
    fair = 1 / len(shares)
    small = np.flatnonzero(
        (shares < SMALL_SHARE * fair) & (shares >= min_expert_weight)
    )
    if len(small) == 0:
        return None
    remedy = (
        "compare with a fit from init_params (init_resp makes one start, "
        "whatever n_init)"
        if from_resp
        else "compare with more starts (n_init) or another init_params"
    )
    return (
        f"Experts {[names[i] for i in small]} hold only "
        f"{', '.join(f'{shares[i]:.1%}' for i in small)} of the rows, less than "
        f"a tenth of a fair share ({fair:.0%}). EM may have stopped in a poor "
        f"local optimum: {remedy} (and fewer experts, if the data have no "
        "regime that small)."
    )


def restart_spread(final_log_likelihoods):
    """Restarts that ended in different optima, the best reached only once.

    When another start reached the best optimum too (to within
    ``RESTART_SPREAD``), the best is replicated: more starts would most
    likely find it again, and the poorer optima the other starts ended in
    say nothing about the fit kept. Warning then, as on most classifier fits
    (where a few starts settle in a poorer optimum within their short runs),
    gave advice that could not help: the same span with 3, 10 or 30 starts.
    A best reached once may have been luck, and another start may find a
    better one.
    """
    lls = np.asarray(final_log_likelihoods, dtype=float)
    if len(lls) < 2 or np.ptp(lls) <= RESTART_SPREAD:
        return None
    if np.count_nonzero(lls >= lls.max() - RESTART_SPREAD) > 1:
        return None  # the best optimum is replicated
    return (
        f"The {len(lls)} starts ended in different optima: their mean "
        f"log-likelihoods per row span {lls.min():.4g} to {lls.max():.4g}, and "
        "no other start reached the best. The best was kept; more starts "
        "(n_init) may find a better one."
    )
