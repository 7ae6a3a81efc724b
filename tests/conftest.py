import sys
from pathlib import Path

# Let tests import their shared data helpers as ``_data``.
sys.path.insert(0, str(Path(__file__).parent))
