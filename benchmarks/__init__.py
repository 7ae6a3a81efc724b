"""skmoe's benchmarks; ``python -m benchmarks`` runs the suite of ``run.py``.

The ``bench_*.py`` scripts import their shared helpers as ``_common``, which is
how a script run as ``python benchmarks/bench_core.py`` finds its neighbours.
Appending this folder to ``sys.path`` lets the suite import those scripts as
modules (``benchmarks.bench_core``) without changing them.
"""

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.append(_HERE)
