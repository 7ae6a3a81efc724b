"""What the benchmark scripts share: the thread limit and the version line.

Timings on a 2-core machine that other work shares are steadier with one BLAS
and one OpenMP thread (oversubscribed OpenBLAS threads spin and can slow small
problems tenfold), so the scripts limit threads unless told otherwise.
"""

import platform

import numpy as np
import scipy
import sklearn
from threadpoolctl import threadpool_info, threadpool_limits

import skmoe


def add_threads_argument(parser):
    """Add ``--threads N`` (default 1; 0 leaves the thread pools as they are)."""
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        metavar="N",
        help="BLAS and OpenMP threads during the run (default: 1; 0 leaves them "
        "as configured)",
    )


def total_iterations(model):
    """EM iterations over all of a fitted mixture's starts (the short runs
    and the continued leader), which its fit time pays for; ``n_iter_`` is
    the chosen start's alone."""
    curves = getattr(model, "start_log_likelihoods_", None)
    if not curves:
        return int(model.n_iter_)
    return int(sum(len(curve) for curve in curves))


def limit_threads(threads):
    """Limit BLAS and OpenMP to ``threads`` (0: no limit); a context manager."""
    return threadpool_limits(limits=threads or None)


def environment():
    """One line: library versions and the BLAS / OpenMP threads in force."""
    pools = threadpool_info()
    threads = {
        api: sorted({p["num_threads"] for p in pools if p["user_api"] == api})
        for api in ("blas", "openmp")
    }
    return (
        f"skmoe {skmoe.__version__}, numpy {np.__version__}, scipy "
        f"{scipy.__version__}, scikit-learn {sklearn.__version__}, "
        f"Python {platform.python_version()}, BLAS threads {threads['blas']}, "
        f"OpenMP threads {threads['openmp']}"
    )
