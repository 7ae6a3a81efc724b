import os

# scikit-learn's array-API smoke check (check_array_api_input) only runs when
# SciPy is imported with SCIPY_ARRAY_API=1; set it before anything imports SciPy
# so the check runs instead of being skipped.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
