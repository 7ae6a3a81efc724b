"""Warnings that point at the user's line, wherever in skmoe they arise."""

import contextvars
import os
import sys
import threading
import warnings
from contextlib import contextmanager

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
# scikit-learn's fit wrapper (``_fit_context``) sits between the user's call
# and skmoe's fit.
_FIT_WRAPPER = os.path.join("sklearn", "base.py")


def _internal(filename):
    return filename.startswith(_PACKAGE) or filename.endswith(_FIT_WRAPPER)


# Set while a fit's own UserWarnings are not to be shown (see ``quietly``).
_QUIET = contextvars.ContextVar("skmoe_quiet", default=False)


@contextmanager
def quietly():
    """Silence the UserWarnings of the fits made in the block, in this thread.

    skmoe's own warnings are silenced by a context variable, which belongs
    to the thread. Others (an expert's own ConvergenceWarning) need the
    process's warning filters, which ``warnings.catch_warnings`` saves and
    restores: entered and left by two threads at once, it can leave an
    "ignore" filter behind for good. It is used in the main thread only;
    in a worker thread, other libraries' warnings stay shown.
    """
    token = _QUIET.set(True)
    try:
        if threading.current_thread() is threading.main_thread():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                yield
        else:
            yield
    finally:
        _QUIET.reset(token)


def warn(message, category):
    """``warnings.warn`` with the stack level of the first caller outside skmoe.

    EM raises its warnings several calls deep, and how deep depends on the
    path (a restart, a warm start, a nested mixture); counting frames by hand
    would point at skmoe's own code as soon as that path changes. A mixture
    used as another mixture's expert reports at the outer call, the user's.
    """
    if _QUIET.get() and issubclass(category, UserWarning):
        return
    frame, level = sys._getframe(0), 1
    while frame is not None and _internal(frame.f_code.co_filename):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
