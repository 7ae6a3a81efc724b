"""Warnings that point at the user's line, wherever in skmoe they arise."""

import os
import sys
import warnings

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
# scikit-learn's fit wrapper (``_fit_context``) sits between the user's call
# and skmoe's fit.
_FIT_WRAPPER = os.path.join("sklearn", "base.py")


def _internal(filename):
    return filename.startswith(_PACKAGE) or filename.endswith(_FIT_WRAPPER)


def warn(message, category):
    """``warnings.warn`` with the stack level of the first caller outside skmoe.

    EM raises its warnings several calls deep, and how deep depends on the
    path (a restart, a warm start, a nested mixture); counting frames by hand
    would point at skmoe's own code as soon as that path changes. A mixture
    used as another mixture's expert reports at the outer call, the user's.
    """
    frame, level = sys._getframe(0), 1
    while frame is not None and _internal(frame.f_code.co_filename):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
