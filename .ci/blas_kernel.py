"""Print the OpenBLAS kernel numpy and scipy use here (OPENBLAS_CORETYPE applied).

The kernel is the one threadpoolctl reports: OPENBLAS_CORETYPE names a CPU,
and OpenBLAS falls back to another kernel when this CPU cannot run it, so the
name asked for is not always the one used.
"""

import numpy  # noqa: F401  (loads numpy's OpenBLAS)
import scipy.linalg  # noqa: F401  (loads scipy's OpenBLAS)
from threadpoolctl import threadpool_info

kernels = sorted(
    {
        str(info.get("architecture"))
        for info in threadpool_info()
        if info["internal_api"] == "openblas"
    }
)
print("+".join(kernels) or "no-openblas")
