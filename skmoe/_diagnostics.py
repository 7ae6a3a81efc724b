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


def dead_experts(names, shares, min_expert_weight, policy):
    """Experts still dead at the end: kept ones, or re-seeded ones that
    starved again."""
    dead = np.flatnonzero(shares < min_expert_weight)
    if len(dead) == 0:
        return None
    how = (
        "were kept (dead_expert='keep')"
        if policy == "keep"
        else "are still dead after re-seeding"
    )
    return (
        f"Experts {[names[i] for i in dead]} hold less than "
        f"min_expert_weight={min_expert_weight} of the responsibility "
        f"({', '.join(f'{shares[i]:.2g}' for i in dead)}) and {how}. "
        "Consider fewer experts."
    )


def experts_remaining(n_experts):
    """What pruning leaves, for its message.

    >>> experts_remaining(1), experts_remaining(2)
    ('1 expert remains', '2 experts remain')
    """
    return "1 expert remains" if n_experts == 1 else f"{n_experts} experts remain"


def small_experts(names, shares, min_expert_weight):
    """Live experts far below their fair share, which a poor start leaves."""
    fair = 1 / len(shares)
    small = np.flatnonzero(
        (shares < SMALL_SHARE * fair) & (shares >= min_expert_weight)
    )
    if len(small) == 0:
        return None
    return (
        f"Experts {[names[i] for i in small]} hold only "
        f"{', '.join(f'{shares[i]:.1%}' for i in small)} of the rows, less than "
        f"a tenth of a fair share ({fair:.0%}). EM may have stopped in a poor "
        "local optimum: compare with more starts (n_init) or another "
        "init_params (and fewer experts, if the data have no regime that "
        "small)."
    )


def restart_spread(final_log_likelihoods):
    """Restarts that ended in different optima."""
    lls = np.asarray(final_log_likelihoods, dtype=float)
    if len(lls) < 2 or np.ptp(lls) <= RESTART_SPREAD:
        return None
    return (
        f"The {len(lls)} starts ended in different optima: their mean "
        f"log-likelihoods per row span {lls.min():.4g} to {lls.max():.4g}. The "
        "best was kept; more starts (n_init) may find a better one."
    )
