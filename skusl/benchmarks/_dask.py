"""The Dask path on this machine: 1 worker against 2, next to the single-machine path.

``python -m skusl.benchmarks dask --out docs/benchmarks/dask.md``

In one process, on one data set (unit-norm Gaussian mixture, float32, as the
CPU benchmarks' ``synthetic``; or ``--data`` a shared ``.npz``):

- the single-machine exact graph and ``USLSelector.fit`` with 1 and 2
  threads (Numba and BLAS; the baselines);
- on a ``LocalCluster`` of 1, then 2, worker processes of one thread each
  (one Numba and one BLAS thread per task): the exact graph, the
  approximate (partitioned) graph with its recall against the exact one,
  and :func:`skusl.distributed.fit_usl` end to end, checked to return the
  single-machine selection.

Each timing is the best of ``--repeats`` runs after a warm-up run (which
loads the compiled kernels in every worker). The machine is shared by other
jobs: read the ratios, measured in the same process minutes apart.
"""

import os
import time
import warnings

import numpy as np


def synthetic(n, d, n_centers=50, seed=0):
    """Unit-norm Gaussian mixture (the CPU benchmarks' stand-in for embeddings)."""
    rng = np.random.RandomState(seed)
    centers = rng.standard_normal((n_centers, d))
    X = centers[rng.randint(n_centers, size=n)] + 0.7 * rng.standard_normal((n, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X.astype(np.float32)


def _best(fn, repeats):
    best, out = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def _recall(ind, truth):
    hits = sum(np.intersect1d(a, b).size for a, b in zip(ind, truth, strict=True))
    return hits / truth.size


def _single_machine(X, k, n_select, repeats):
    import numba
    from threadpoolctl import threadpool_limits

    from ..neighbors import kneighbors
    from ..selection import USLSelector

    rows = {}
    kneighbors(X[:2000], k, neighbors="exact", n_jobs=1)  # load the compiled kernels
    for threads in (1, 2):
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        with threadpool_limits(threads):  # BLAS threads too
            t_graph, (dist, ind) = _best(
                lambda t=threads: kneighbors(X, k, neighbors="exact", n_jobs=t), repeats)
            t_usl, sel = _best(lambda t=threads: USLSelector(
                n_select=n_select, n_neighbors=k, neighbors="exact", random_state=0,
                n_jobs=t).fit(X), repeats)
        rows[threads] = {"graph": t_graph, "usl": t_usl}
    return rows, ind, sel.selected_indices_


def _on_cluster(X, k, n_select, n_workers, chunk_rows, repeats, truth, selected):
    import dask.array as da
    from dask.distributed import Client, LocalCluster

    from .. import distributed

    out = {}
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        Xd = da.from_array(X, chunks=(chunk_rows, X.shape[1]))
        with warnings.catch_warnings():  # "large graph": the data is in it, on purpose
            warnings.simplefilter("ignore", UserWarning)
            Xd = client.persist(Xd)  # the data sits on the workers before the clock starts
        client.wait_for_workers(n_workers)
        distributed.kneighbors(Xd[:4 * chunk_rows], k, neighbors="exact", n_jobs=1)  # warm-up

        def exact():
            dist, ind = distributed.kneighbors(Xd, k, neighbors="exact", n_jobs=1)
            return ind.compute()

        def approximate():
            dist, ind = distributed.kneighbors(Xd, k, neighbors="approximate", random_state=0,
                                               n_jobs=1)
            return ind.compute()

        def usl():
            return distributed.fit_usl(Xd, n_select, n_neighbors=k, random_state=0, n_jobs=1)

        out["graph"], ind = _best(exact, repeats)
        out["graph_equal"] = bool(np.array_equal(ind, truth))
        out["approx"], ind = _best(approximate, repeats)
        out["approx_recall"] = _recall(ind, truth)
        out["usl"], fitted = _best(usl, repeats)
        out["usl_equal"] = bool(np.array_equal(fitted["selected_indices_"], selected))
    return out


def run(n=40_000, d=128, k=20, n_select=100, chunk_rows=5000, repeats=1, data=None):
    """Measure; return the Markdown report."""
    if data is not None:
        with np.load(data, allow_pickle=False) as f:
            X = np.ascontiguousarray(f["X"][:n], dtype=np.float32)
        source = f"`{os.path.basename(data)}` (first {X.shape[0]} rows)"
    else:
        X = synthetic(n, d)
        source = "unit-norm Gaussian mixture (50 centres), float32"
    n, d = X.shape
    load_before = os.getloadavg()[0]
    single, truth, selected = _single_machine(X, k, n_select, repeats)
    cluster = {w: _on_cluster(X, k, n_select, w, chunk_rows, repeats, truth, selected)
               for w in (1, 2)}
    load_after = os.getloadavg()[0]

    def ratio(a, b):
        return f"{a / b:.2f}"

    lines = [
        "# The Dask path: 1 worker against 2",
        "",
        "Regenerate: `python -m skusl.benchmarks dask --out docs/benchmarks/dask.md`",
        f"({source}; n={n}, d={d}, k={k}, n_select={n_select}, row blocks of "
        f"{chunk_rows}; best of {repeats} after a warm-up).",
        "",
        f"The machine (2 cores, {os.cpu_count()} visible) was shared with other jobs: load "
        f"average {load_before:.1f} before and {load_after:.1f} after. Read the ratios, "
        "measured in one process minutes apart, not the seconds.",
        "",
        "| step | single machine, 1 thread | single machine, 2 threads | Dask, 1 worker | "
        "Dask, 2 workers | 2 workers vs 1 |",
        "|---|---|---|---|---|---|",
        f"| exact kNN graph (s) | {single[1]['graph']:.1f} | {single[2]['graph']:.1f} | "
        f"{cluster[1]['graph']:.1f} | {cluster[2]['graph']:.1f} | "
        f"{ratio(cluster[1]['graph'], cluster[2]['graph'])}x |",
        f"| approximate kNN graph (s) | - | - | {cluster[1]['approx']:.1f} | "
        f"{cluster[2]['approx']:.1f} | {ratio(cluster[1]['approx'], cluster[2]['approx'])}x |",
        f"| USL end to end (s) | {single[1]['usl']:.1f} | {single[2]['usl']:.1f} | "
        f"{cluster[1]['usl']:.1f} | {cluster[2]['usl']:.1f} | "
        f"{ratio(cluster[1]['usl'], cluster[2]['usl'])}x |",
        "",
        "Checks (same seed, same result):",
        "",
        f"- exact graph identical to the single-machine graph: 1 worker "
        f"{cluster[1]['graph_equal']}, 2 workers {cluster[2]['graph_equal']};",
        f"- USL selection identical to `USLSelector(neighbors='exact')`: 1 worker "
        f"{cluster[1]['usl_equal']}, 2 workers {cluster[2]['usl_equal']};",
        f"- approximate graph recall against the exact one (default cells of 2000 rows, "
        f"3 cells per row): {cluster[1]['approx_recall']:.4f} (1 worker), "
        f"{cluster[2]['approx_recall']:.4f} (2 workers).",
        "",
        "Each Dask worker is a process with one thread; its tasks run the Numba kernels",
        "on one thread and BLAS on one thread (Dask sets `OMP_NUM_THREADS=1` in",
        "workers), so 2 workers use the same 2 cores as the 2-thread single-machine run.",
        "The Dask path pays for scheduling, for moving row blocks between workers, and",
        "(USL) for one round trip per step; it exists for data that does not fit one",
        "machine, where the alternative is not running at all.",
        "",
    ]
    return "\n".join(lines)


def register(subparsers):
    p = subparsers.add_parser("dask", help="the Dask path: 1 vs 2 workers on this machine")
    p.add_argument("--out", required=True, help="Markdown file to write")
    p.add_argument("--n", type=int, default=40_000)
    p.add_argument("--d", type=int, default=128)
    p.add_argument("--k", type=int, default=20)
    p.add_argument("--n-select", type=int, default=100)
    p.add_argument("--chunk-rows", type=int, default=5000)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--data", default=None, help="a shared .npz (X) instead of synthetic data")
    p.set_defaults(handler=main)


def main(args):
    from pathlib import Path

    report = run(n=args.n, d=args.d, k=args.k, n_select=args.n_select,
                 chunk_rows=args.chunk_rows, repeats=args.repeats, data=args.data)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(report)
    print(report)
    return 0
