import sys
from pathlib import Path

import pytest

# Let tests import their shared data helpers as ``_data``.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def objectives(monkeypatch):
    """What EM climbs (the log-likelihood less the fits' penalties) at every
    step it records, in order, for the fits made while the fixture is active."""
    from skmoe._base import _BaseMixtureOfExperts

    curve = []
    record = _BaseMixtureOfExperts._record

    def recording(self, n_iter, ll, previous, log_resp, data, *args):
        curve.append(ll - self._penalty(data))
        return record(self, n_iter, ll, previous, log_resp, data, *args)

    monkeypatch.setattr(_BaseMixtureOfExperts, "_record", recording)
    return curve
