"""Warnings that point at the user's line, wherever in skmoe they arise."""

import concurrent.futures
import contextvars
import os
import sys
import threading
import warnings
from contextlib import contextmanager

import joblib
import sklearn

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _package_dir(module):
    return os.path.dirname(os.path.abspath(module.__file__)) + os.sep


# Between the user's call and skmoe's fit stand scikit-learn (its fit
# wrapper, a Pipeline, GridSearchCV, cross_val_score) and joblib.
_CALLERS = (_package_dir(sklearn), _package_dir(joblib))
# scikit-learn's fit wrapper (``_fit_context``), which every fit passes.
_FIT_WRAPPER = os.path.join("sklearn", "base.py")
# Where a worker thread's stack begins: no user's line below it.
_THREAD_START = (threading.__file__, _package_dir(concurrent.futures))


def _internal(filename):
    return filename.startswith(_PACKAGE)


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
    warnings.warn(message, category, stacklevel=_user_level())


def _user_level():
    """The stack level of the user's line: past skmoe, and past the
    scikit-learn and joblib calls between it and the user (a Pipeline,
    GridSearchCV, a CV estimator's own fits of the mixture). A worker
    thread's stack holds no user's line; there the first caller outside
    skmoe and scikit-learn's fit wrapper stands, as it always did."""
    frame, level = sys._getframe(2), 2  # warn's caller
    first = None
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_CALLERS):
            if not _internal(filename):
                break
        elif first is None and not filename.endswith(_FIT_WRAPPER):
            first = level
        frame, level = frame.f_back, level + 1
    if frame is None or frame.f_code.co_filename.startswith(_THREAD_START):
        return level if first is None else first
    return level
