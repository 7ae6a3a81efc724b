import os
import sys

import pytest

# scikit-learn's array-API smoke check (check_array_api_input) only runs when
# SciPy is imported with SCIPY_ARRAY_API=1; set it before anything imports SciPy
# so the check runs instead of being skipped.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

# Tests and doctests that draw do so off-screen.
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the figures a test or doctest opened (only if it used pyplot)."""
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")
