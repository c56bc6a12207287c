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

from ._common import add_size_arguments, synthetic, write_report


def _best(fn, repeats, client=None):
    """Best of ``repeats`` runs: wall seconds, this process's CPU seconds, workers' CPU seconds.

    The CPU figures are what a shared machine cannot blur: the client
    process (with a ``LocalCluster``, the scheduler too) and each worker's
    ``process_time``. Each figure is its own minimum over the repeats.
    """
    best = {"wall": np.inf, "cpu": np.inf, "workers": None}
    out = None
    for _ in range(repeats):
        before = client.run(time.process_time) if client is not None else {}
        cpu, start = time.process_time(), time.perf_counter()
        out = fn()
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        after = client.run(time.process_time) if client is not None else {}
        workers = sorted(after[w] - before[w] for w in after)
        best["wall"], best["cpu"] = min(best["wall"], wall), min(best["cpu"], cpu)
        if workers and (best["workers"] is None or max(workers) < max(best["workers"])):
            best["workers"] = workers
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

        out["graph"], ind = _best(exact, repeats, client)
        out["graph_equal"] = bool(np.array_equal(ind, truth))
        out["approx"], ind = _best(approximate, repeats, client)
        out["approx_recall"] = _recall(ind, truth)
        out["usl"], fitted = _best(usl, repeats, client)
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

    def wall(t):
        return f"{t['wall']:.1f}"

    def cpu(t):  # client (+ scheduler) CPU, then each worker's
        workers = " + ".join(f"{w:.1f}" for w in t["workers"]) if t["workers"] else ""
        return f"{t['cpu']:.1f}" + (f" / {workers}" if workers else "")

    def speedup(key, measure):
        one, two = cluster[1][key], cluster[2][key]
        if measure == "wall":
            return f"{one['wall'] / two['wall']:.2f}x"
        return f"{max(one['workers']) / max(two['workers']):.2f}x"

    steps = [("exact kNN graph", "graph"), ("approximate kNN graph", "approx"),
             ("USL end to end", "usl")]
    lines = [
        "# The Dask path: 1 worker against 2",
        "",
        "Regenerate: `python -m skusl.benchmarks dask --out docs/benchmarks/dask.md`",
        f"({source}; n={n}, d={d}, k={k}, n_select={n_select}, row blocks of "
        f"{chunk_rows}; best of {repeats} after a warm-up).",
        "",
        f"The machine ({os.cpu_count()} cores) was shared with other jobs: load average "
        f"{load_before:.1f} before and {load_after:.1f} after, i.e. several runnable "
        "threads per core. Wall-clock times on such a machine measure the other jobs as "
        "much as this code; the CPU seconds below do not. With dedicated cores, the "
        "wall time of a compute-bound Dask step is about its busiest worker's CPU "
        "seconds (plus the client's), so the last column is the speed-up a second "
        "core or machine brings; the measured wall-clock ratio is given beside it.",
        "",
    ]
    tables = [("Wall clock (s)", wall, "wall", "2 workers vs 1"),
              ("CPU seconds (client process / each worker)", cpu, "cpu",
               "2 workers vs 1 (busiest worker)")]
    for title, fmt, measure, ratio in tables:
        lines += [
            f"## {title}",
            "",
            "| step | single machine, 1 thread | single machine, 2 threads | Dask, 1 worker "
            f"| Dask, 2 workers | {ratio} |",
            "|---|---|---|---|---|---|",
        ]
        for name, key in steps:
            one = fmt(single[1][key]) if key in single[1] else "-"
            two = fmt(single[2][key]) if key in single[2] else "-"
            lines.append(f"| {name} | {one} | {two} | {fmt(cluster[1][key])} | "
                         f"{fmt(cluster[2][key])} | {speedup(key, measure)} |")
        lines.append("")
    lines += [
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
        "The client process also runs the scheduler and, for USL, the single-machine",
        "K-Means on the gathered rows (`kmeans=\"single\"`). At this size the",
        "approximate search does about as much work as the exact one (each of the 20",
        "cells holds about 6000 rows): it does n * 9 * 2000 * d multiply-adds against",
        "n^2 d, so it can only win well above 18,000 rows, by a factor that grows with",
        "n (not measured here beyond this size).",
        "",
    ]
    return "\n".join(lines)


def register(subparsers):
    p = subparsers.add_parser("dask", help="the Dask path: 1 vs 2 workers on this machine")
    add_size_arguments(p, n=40_000)
    p.add_argument("--n-select", type=int, default=100)
    p.add_argument("--chunk-rows", type=int, default=5000)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--data", default=None, help="a shared .npz (X) instead of synthetic data")
    p.set_defaults(handler=main)


def main(args):
    report = run(n=args.n, d=args.d, k=args.k, n_select=args.n_select,
                 chunk_rows=args.chunk_rows, repeats=args.repeats, data=args.data)
    return write_report(args.out, report)
