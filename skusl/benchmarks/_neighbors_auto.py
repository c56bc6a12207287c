"""``neighbors="auto"`` against the searches it chooses from, 20k to 1M rows.

``python -m skusl.benchmarks neighbors-auto --out docs/benchmarks/neighbors_auto.md``

For every (n, d) of the grid (default 20k, 50k, 200k and 1M rows at d = 128
and 384, :func:`skusl.benchmarks._scale.write_synthetic` ``kind="subspaces"``
written to a ``.npy``), each search runs in a FRESH process on the same
memory-mapped file, as a user's first call would: ``kneighbors(X, 20,
neighbors=m)`` for ``m`` in ``"exact"``, ``"ivf"``, ``"approximate"``
(pynndescent, its compile included) and ``"auto"``. The time is the call's
wall time (imports of the package excluded, compilation included); the
recall is against the exact search on 256 seeded rows. Above
``--exact-full`` rows the exact search is timed on the first
``--exact-queries`` rows against all ``n`` (its cost per query row is the
same for every row: one GEMM tile pass over all of ``X``) and scaled by
``n / queries``; those figures are marked *scaled*. The runs are sequential
and the load average is reported beside each row.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ._common import write_report

#: The child process: one search on the memory-mapped file, one JSON line out.
CHILD = r"""
import json, sys, time
import numpy as np
from skusl.neighbors import kneighbors
from skusl.neighbors._exact import exact_kneighbors
from skusl._backends import resolve_backend

path, method, k, queries = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
X = np.load(path, mmap_mode="r")
n = X.shape[0]
backend = resolve_backend("auto", X)
start = time.perf_counter()
if queries:
    exact_kneighbors(np.asarray(X[:queries]), X, k + 1, backend=backend, exclude_self=False)
    seconds = (time.perf_counter() - start) * n / queries
    ind = None
else:
    _, ind = kneighbors(X, k, neighbors=method, random_state=0, verbose=True)
    seconds = time.perf_counter() - start
recall = None
if ind is not None and method != "exact":
    rows = np.sort(np.random.default_rng(0).choice(n, 256, replace=False))
    _, truth = exact_kneighbors(np.asarray(X[rows]), X, k + 1, backend=backend,
                                exclude_self=False)
    hits = [np.intersect1d(t[t != r][:k], ind[r]).size for t, r in zip(truth, rows)]
    recall = float(np.sum(hits)) / (k * rows.size)
print(json.dumps({"seconds": seconds, "recall": recall, "scaled": bool(queries)}))
"""

#: The searches timed for every size, in this order.
METHODS = ("exact", "ivf", "approximate", "auto")


def _load():
    return "%.1f / %.1f / %.1f" % os.getloadavg()


def _chosen(stderr):
    """What ``"auto"`` did, from its ``[skusl]`` log lines."""
    lines = [ln.split("] ", 1)[1] for ln in stderr.splitlines() if ln.startswith("[skusl] ")]
    method = next((ln.split(":", 1)[1].split("(")[0].strip() for ln in lines
                   if ln.startswith("kNN graph:")), "?")
    if any("falling back" in ln for ln in lines):
        method += " -> approximate"
    probes = next((ln.split(",")[1].strip() for ln in lines if ln.startswith("ivf search")),
                  None)
    return method + (f" ({probes})" if probes else "")


def run_one(path, method, k, queries=0, timeout=1800):
    """One search in a fresh process: a dict (seconds, recall, scaled, chosen, load)."""
    load = _load()
    cmd = [sys.executable, "-c", CHILD, str(path), method, str(k), str(queries)]
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"seconds": None, "recall": None, "scaled": False, "chosen": "timeout",
                "load": load, "wall": time.perf_counter() - started}
    if proc.returncode != 0:
        raise RuntimeError(f"{method} on {path} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result.update(load=load, chosen=_chosen(proc.stderr) if method == "auto" else method)
    return result


def run_grid(sizes, dims, workdir, k=20, exact_full=60_000, exact_queries=20_000,
             cache=None, rerun=(), repeat=1, methods=METHODS, keep=None, log=print):
    """Every method at every (n, d), ``repeat`` runs each; a list of row dicts.

    ``cache`` (a ``.jsonl`` path) keeps every finished run, so an interrupted
    grid continues; ``rerun`` (method names) drops those methods' runs from
    the cache first, e.g. ``"auto"`` after a change of the cost model. Each
    row holds, per method, the run of median time among its runs (the
    machine is noisy: separate processes of the same search differ by up to
    25%) and their count. ``keep`` (a path) keeps the data files there.
    """
    from ._scale import write_synthetic

    done = {}
    if cache is not None and Path(cache).exists():
        for line in Path(cache).read_text().splitlines():
            rec = json.loads(line)
            if rec["method"] not in rerun:
                done.setdefault((rec["n"], rec["d"], rec["method"]), []).append(rec["result"])
        if rerun:
            Path(cache).write_text("".join(
                json.dumps({"n": n, "d": d, "method": m, "result": r}) + "\n"
                for (n, d, m), runs in done.items() for r in runs))
    rows = []
    for d in dims:
        for n in sizes:
            path = Path(keep or workdir) / f"auto_{n}x{d}.npy"
            for _ in range(repeat):  # interleaved: every method once per pass
                for method in methods:
                    runs = done.setdefault((n, d, method), [])
                    if len(runs) >= repeat:
                        continue
                    if not path.exists():
                        write_synthetic(path, n, d, kind="subspaces")
                        # An untimed first process: the page cache and
                        # Numba's on-disk cache warm for every method alike.
                        run_one(path, "exact", k, min(n, 1000))
                    queries = (min(exact_queries, n) if method == "exact" and n > exact_full
                               else 0)
                    runs.append(run_one(path, method, k, queries))
                    if cache is not None:
                        with open(cache, "a") as f:
                            f.write(json.dumps({"n": n, "d": d, "method": method,
                                                "result": runs[-1]}) + "\n")
                    log(f"{n} x {d} {method}: {runs[-1]}")
            row = {"n": n, "d": d}
            for method in METHODS:
                runs = [r for r in done.get((n, d, method), []) if r["seconds"] is not None]
                runs = runs or done.get((n, d, method), [])
                if runs:
                    ranked = sorted(runs, key=lambda r: r["seconds"] or float("inf"))
                    row[method] = dict(ranked[(len(ranked) - 1) // 2], runs=len(runs),
                                       all_seconds=[r["seconds"] for r in runs])
            rows.append(row)
            if path.exists() and keep is None:
                path.unlink()
    return rows


def _fmt(r):
    if r["seconds"] is None:
        return "timeout"
    s = f"{r['seconds']:.1f}" + (" (scaled)" if r["scaled"] else "")
    if r.get("runs", 1) > 1:
        s += " (median of " + ", ".join(f"{t:.1f}" for t in r["all_seconds"]) + ")"
    if r["recall"] is not None:
        s += f", recall {r['recall']:.3f}"
    return s


def report(rows, command):
    lines = [
        '# `neighbors="auto"` against exact, ivf and approximate (fresh processes)', "",
        f"Regenerate: `{command}`", "",
        "Every search in a fresh process on the same memory-mapped `.npy` "
        "(`write_synthetic(kind=\"subspaces\")`: 50 classes, each on its own "
        "16-dimensional subspace, unit norm, float32), k = 20, 2 cores. Seconds "
        "of the `kneighbors` call (compilation included); recall against the "
        "exact search on 256 rows. *Faster* is the faster of exact and "
        "approximate (pynndescent); *best* the fastest of all three.", "",
        "| n | d | exact s | ivf s | approximate s | auto s (chose) | auto / faster "
        "| auto / best | load (before auto) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    worst = 0.0
    for row in rows:
        times = {m: row[m]["seconds"] for m in METHODS}
        faster = min(t for m, t in times.items() if m in ("exact", "approximate") and t)
        best = min(t for m, t in times.items() if m != "auto" and t)
        auto = times["auto"]
        ratio = auto / faster if auto else float("inf")
        worst = max(worst, ratio)
        lines.append(
            f"| {row['n']} | {row['d']} | {_fmt(row['exact'])} | {_fmt(row['ivf'])} | "
            f"{_fmt(row['approximate'])} | {_fmt(row['auto'])} ({row['auto']['chosen']}) | "
            f"{ratio:.2f} | {auto / best if auto else float('inf'):.2f} | "
            f"{row['auto']['load']} |")
    lines += ["", f"Worst auto / faster: {worst:.2f} (target: at most 1.2).", "",
              "How `auto` decides (skusl/neighbors/_plan.py): the cost model of "
              "measured rates picks exact below 32 ivf cells (32k rows), else the "
              "cheaper of ivf at 4 probes and pynndescent (its compile included "
              "until it has run in the process); the ivf search first predicts its "
              "recall on 256 rows and doubles its probes (up to 16) until 0.95, then "
              "costs the rest of its search at those probes and hands over to "
              "pynndescent when that is now cheaper (`ivf -> approximate` above; the "
              "K-Means cells and the recall check, a few seconds at 1M rows, are then "
              "spent). Separate processes of the same search differ by up to 25% on "
              "this shared machine; rows with several runs give their median.", ""]
    return "\n".join(lines)


def register(subparsers):
    p = subparsers.add_parser("neighbors-auto",
                              help='neighbors="auto" against exact, ivf and approximate')
    p.add_argument("--out", required=True, help="Markdown file to write")
    p.add_argument("--sizes", nargs="+", type=int,
                   default=[20_000, 50_000, 200_000, 1_000_000])
    p.add_argument("--dims", nargs="+", type=int, default=[128, 384])
    p.add_argument("--exact-full", type=int, default=60_000,
                   help="above this many rows the exact search is timed on a slice and scaled")
    p.add_argument("--exact-queries", type=int, default=20_000)
    p.add_argument("--workdir", default=None, help="where the .npy files go (default: a "
                   "temporary folder)")
    p.add_argument("--cache", default=None,
                   help="a .jsonl of finished runs (default: OUT with .jsonl)")
    p.add_argument("--rerun", nargs="*", default=[], choices=METHODS,
                   help="methods whose cached runs are dropped and run again")
    p.add_argument("--repeat", type=int, default=1,
                   help="runs per method (interleaved); the report shows the median")
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS,
                   help="methods to run (the report shows every cached one)")
    p.add_argument("--keep", default=None, help="keep the data files in this folder")
    p.set_defaults(handler=main)


def main(args):
    import tempfile

    command = "python -m skusl.benchmarks neighbors-auto " + " ".join(sys.argv[2:])
    with tempfile.TemporaryDirectory(dir=args.workdir) as workdir:
        rows = run_grid(args.sizes, args.dims, workdir, exact_full=args.exact_full,
                        exact_queries=args.exact_queries,
                        cache=args.cache or Path(args.out).with_suffix(".jsonl"),
                        rerun=args.rerun, repeat=args.repeat, methods=args.methods,
                        keep=args.keep)
    return write_report(args.out, report(rows, command))
