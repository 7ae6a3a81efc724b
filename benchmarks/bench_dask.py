"""Out-of-core EM on a Dask LocalCluster: memory, scaling with rows, overhead.

What is measured
----------------
A ``LocalCluster`` of this machine: 2 worker processes, 1 thread each, on the
loopback interface, each with a memory limit (``--memory-limit``, default
350 MB; a worker holds about 215 MB before it sees any data). The data are
two linear regimes switching at ``x0 = 0``: ``X`` uniform on [-2, 2] with
``N_FEATURES`` columns, ``y = 1 + X @ a`` left of 0 and ``-1 + X @ b`` right
of it, plus noise (sd 0.5), generated lazily by ``dask.array.random`` in
blocks of ``BLOCK_ROWS`` rows on the workers and written block by block to
``.npy`` files (``dask.array.to_npy_stack``), which the fits read back lazily,
memory-mapped, one block per task: no process ever holds the data. The model
is ``MixtureOfExpertsRegressor(n_experts=2, random_state=0)`` (linear experts,
softmax gate), with ``tol=0`` and a fixed ``max_iter``, so that every run does
the same number of EM iterations (ConvergenceWarning is expected and ignored).

1. **Overhead against the in-memory fit** on data that fits: ``--small-rows``
   rows (default 200,000) computed into NumPy, the same start
   (``init_resp``: the sign of ``x0``, softened) and ``OVERHEAD_ITER``
   iterations, fitted (a) in memory (``fit`` on NumPy arrays, one BLAS
   thread), (b) on the cluster with the data persisted in the workers'
   memory, (c) on the cluster with the data generated anew at every pass. The
   three fits must agree (log-likelihood per row within 1e-8; the script
   stops with an AssertionError otherwise). The ratio is (b) or (c) over (a).
2. **Time per EM iteration against rows**: ``BIG_ITER`` iterations on the
   first 0.5, 1 and 2 million rows of one data set on disk. The time per
   iteration is the wall time of the EM passes (the two passes that
   summarise the data first are left out) over the iterations; per million
   rows it stays flat when the cost grows linearly.
3. **Larger than a worker**: a fit on ``--rows`` rows (default: enough for
   ``X`` and ``y`` to take 4 times one worker's memory limit; ``--quick``
   1 million, a quarter of it) with ``BIG_ITER`` EM iterations. Reported: the
   data's size against the limit, wall time, passes over the data, and each
   worker process's peak resident memory (sampled every 0.1 s with psutil)
   next to its resident memory before the fit and the size of one block; its
   time per iteration is added to the table of part 2.

How to read it
--------------
- Peak memory per worker should stay at its starting level plus a few blocks,
  whatever the number of rows: only sums travel, the blocks are dropped after
  their pass.
- Each EM iteration costs one pass for the E-step, the log-likelihood and the
  first Newton point of the gate, plus one pass per further Newton step of
  the gate; ``passes/iter`` shows how many.
- Wall times depend on what else runs on the machine; the load average is
  printed. Ratios within one run compare like with like.

Run ``nice python benchmarks/bench_dask.py`` (a few minutes on two idle cores),
or ``--quick`` for smaller sizes. ``--threads`` limits the in-memory fit of
part 1; the workers of the cluster run one thread each.
"""

import argparse
import os
import tempfile
import threading
import time
import warnings
from contextlib import contextmanager
from unittest import mock

import numpy as np
from sklearn.exceptions import ConvergenceWarning

try:
    from benchmarks._common import add_threads_argument, environment, limit_threads
except ImportError:  # run as a script
    from _common import add_threads_argument, environment, limit_threads

import skmoe._dask
from skmoe import MixtureOfExpertsRegressor

N_FEATURES = 10
BLOCK_ROWS = 50_000
SCALE_ROWS = (500_000, 1_000_000, 2_000_000)
NOISE_SD = 0.5
SLOPES = np.array(
    [
        [1.0, -2.0, 0.5, 0.0, 1.0, 0.0, -1.0, 0.5, 0.0, 2.0],
        [-1.5, 1.0, 0.0, 2.0, 0.0, -1.0, 0.5, 0.0, 1.0, -0.5],
    ]
)
BIG_ITER = 2
OVERHEAD_ITER = 8


def make_data(n_rows, seed=0):
    """Lazy (X, y): two linear regimes split at x0 = 0."""
    import dask.array as da

    rng = da.random.default_rng(seed)
    X = rng.uniform(-2.0, 2.0, size=(n_rows, N_FEATURES), chunks=(BLOCK_ROWS, -1))
    left = X[:, 0] < 0
    y = da.where(left, 1.0 + X @ SLOPES[0], -1.0 + X @ SLOPES[1])
    return X, y + NOISE_SD * rng.standard_normal(n_rows, chunks=BLOCK_ROWS)


def store(X, y, directory):
    """Write (X, y) block by block (one .npy file per block) and open them
    again lazily, memory-mapped: data on a local disk, as a data lake's
    files would be, read one block per task."""
    import dask.array as da

    for name, values in (("X", X), ("y", y)):
        da.to_npy_stack(os.path.join(directory, name), values, axis=0)
    return tuple(
        da.from_npy_stack(os.path.join(directory, name), mmap_mode="r")
        for name in ("X", "y")
    )


def starting_resp(X0):
    """The sign of x0, softened as skmoe softens a hard start."""
    left = (X0 < 0).astype(float)
    return 0.1 + 0.8 * np.column_stack([left, 1 - left])


def model(max_iter):
    return MixtureOfExpertsRegressor(
        n_experts=2, random_state=0, tol=0.0, max_iter=max_iter
    )


class PeakRSS:
    """Peak resident memory of the worker processes, sampled in a thread."""

    def __init__(self, client, interval=0.1):
        import psutil

        pids = client.run(os.getpid)
        self.processes = {addr: psutil.Process(pid) for addr, pid in pids.items()}
        self.interval = interval
        self.start = {a: p.memory_info().rss for a, p in self.processes.items()}
        self.peak = dict(self.start)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._stop.is_set():
            for addr, process in self.processes.items():
                try:
                    rss = process.memory_info().rss
                except Exception:  # a worker restarted: report what we have
                    continue
                self.peak[addr] = max(self.peak[addr], rss)
            time.sleep(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False


@contextmanager
def count_passes():
    """Count and time the passes of out-of-core EM (the summaries apart)."""
    record = {"passes": 0, "em_seconds": 0.0, "all": 0}
    run = skmoe._dask._Data.run

    def timed(self, plan):
        start = time.perf_counter()
        result = run(self, plan)
        record["all"] += 1
        if isinstance(plan, skmoe._dask._Plan):
            record["passes"] += 1
            record["em_seconds"] += time.perf_counter() - start
        return result

    with mock.patch.object(skmoe._dask._Data, "run", timed):
        yield record


def fit_out_of_core(X, y, max_iter, init_resp=None):
    with count_passes() as record, warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        moe = skmoe._dask.fit_dask(model(max_iter), X, y, init_resp=init_resp)
        record["wall"] = time.perf_counter() - start
    record["n_iter"] = moe.n_iter_
    return moe, record


def mb(n_bytes):
    return n_bytes / 2**20


def part_big(client, n_rows, limit, directory):
    X, y = make_data(n_rows)
    start = time.perf_counter()
    X, y = store(X, y, directory)
    written = time.perf_counter() - start
    data_bytes = X.nbytes + y.nbytes
    block_bytes = BLOCK_ROWS * (N_FEATURES + 1) * 8
    print(
        f"\n3. Fit on {n_rows:,} rows: X and y take {mb(data_bytes):,.0f} MB, "
        f"{data_bytes / limit:.1f} x one worker's memory limit "
        f"({mb(limit):.0f} MB); blocks of {BLOCK_ROWS:,} rows "
        f"({mb(block_bytes):.1f} MB)"
    )
    print(f"   generated on the workers and written to disk in {written:.1f} s")
    with PeakRSS(client) as rss:
        moe, record = fit_out_of_core(X, y, BIG_ITER)
    print(
        f"   completed: {record['n_iter']} EM iterations, {record['all']} passes, "
        f"{record['wall']:.1f} s; log-likelihood per row {moe.log_likelihood_:.4f}"
    )
    for addr in rss.peak:
        grown = rss.peak[addr] - rss.start[addr]
        print(
            f"   worker {addr}: {mb(rss.start[addr]):.0f} MB before, peak "
            f"{mb(rss.peak[addr]):.0f} MB (+{mb(grown):.0f} MB = "
            f"{grown / block_bytes:.1f} blocks; limit {mb(limit):.0f} MB)"
        )
    print("   in the table of part 2:")
    print_scale_row(n_rows, record)


def part_scale(client, directory):
    print(f"\n2. Time per EM iteration against rows ({BIG_ITER} iterations)")
    X_all, y_all = store(*make_data(SCALE_ROWS[-1], seed=2), directory)
    print("   rows        s/iter   passes/iter   s/iter per million rows")
    for n in SCALE_ROWS:
        _, record = fit_out_of_core(X_all[:n], y_all[:n], BIG_ITER)
        print_scale_row(n, record)


def print_scale_row(n, record):
    per_iter = record["em_seconds"] / record["n_iter"]
    print(
        f"   {n:>10,}  {per_iter:7.2f}   {record['passes'] / record['n_iter']:6.1f}"
        f"        {per_iter / (n / 1e6):7.3f}",
        flush=True,
    )


def part_overhead(client, n_rows, threads):
    import dask
    import dask.array as da

    X, y = make_data(n_rows, seed=1)
    X_np, y_np = dask.compute(X, y)
    resp = starting_resp(X_np[:, 0])
    print(
        f"\n1. Overhead on {n_rows:,} rows that fit in memory "
        f"({OVERHEAD_ITER} iterations, the same start)"
    )
    with limit_threads(threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        in_memory = model(OVERHEAD_ITER).fit(X_np, y_np, init_resp=resp)
        wall_memory = time.perf_counter() - start
    resp_blocks = da.from_array(resp, chunks=(BLOCK_ROWS, 2))
    X_kept, y_kept = dask.persist(X, y)
    persisted, rec_persisted = fit_out_of_core(
        X_kept, y_kept, OVERHEAD_ITER, init_resp=resp_blocks
    )
    lazy, rec_lazy = fit_out_of_core(X, y, OVERHEAD_ITER, init_resp=resp_blocks)
    for fitted in (persisted, lazy):
        gap = np.abs(fitted.log_likelihoods_ - in_memory.log_likelihoods_).max()
        assert gap < 1e-8, f"out-of-core fit differs from in-memory by {gap}"
    print(f"   in memory (NumPy):              {wall_memory:7.2f} s")
    print(
        f"   cluster, data persisted:        {rec_persisted['wall']:7.2f} s   "
        f"ratio {rec_persisted['wall'] / wall_memory:5.1f}"
    )
    print(
        f"   cluster, data regenerated:      {rec_lazy['wall']:7.2f} s   "
        f"ratio {rec_lazy['wall'] / wall_memory:5.1f}"
    )
    print(
        f"   passes: {rec_lazy['all']} ({rec_lazy['passes']} EM passes), "
        f"{rec_persisted['wall'] / rec_persisted['all']:.2f} s per pass persisted"
    )
    del X_kept, y_kept


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--small-rows", type=int, default=200_000)
    parser.add_argument("--memory-limit", type=float, default=350, help="MB")
    parser.add_argument("--quick", action="store_true")
    add_threads_argument(parser)
    args = parser.parse_args(argv)
    if args.quick:
        # A worker holds ~215 MB before any data (Python, NumPy, SciPy,
        # scikit-learn), so the limit cannot shrink with the data.
        args.rows, args.small_rows = 1_000_000, 50_000
    from distributed import Client, LocalCluster

    limit = int(args.memory_limit * 2**20)
    if args.rows is None:  # 4 times the limit, in whole blocks
        row_bytes = (N_FEATURES + 1) * 8
        args.rows = -(-4 * limit // (row_bytes * BLOCK_ROWS)) * BLOCK_ROWS
    print(environment())
    print(f"load average: {open('/proc/loadavg').read().split()[:3]}")
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",
            memory_limit=limit,
        ) as cluster,
        Client(cluster) as client,
    ):
        # The cheap parts first: their figures are printed within minutes.
        part_overhead(client, args.small_rows, args.threads)
        with tempfile.TemporaryDirectory() as directory:
            part_scale(client, directory)
        with tempfile.TemporaryDirectory() as directory:
            part_big(client, args.rows, limit, directory)
    print(f"load average: {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
