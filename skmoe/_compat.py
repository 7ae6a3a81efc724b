"""Every import of a private scikit-learn name, and nothing else.

scikit-learn may change its private helpers without deprecation; keeping them
here makes such a change a one-file fix.
"""

from sklearn.utils.validation import _check_sample_weight

__all__ = ["_check_sample_weight"]
