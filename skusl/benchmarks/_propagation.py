"""The propagation benchmark: spread a few labels over every sample.

``python -m skusl.benchmarks propagation --data DATA --scale``
(report: ``docs/benchmarks/propagation.md``)

For every shared set (subsampled to ``--max-rows`` rows, 20,000 by default,
to keep the run in hours on two cores), one exact kNN graph (20 neighbours,
self excluded) is built and cached. On it, for labels per class in
{1, 4, 25}, seeds 0-2 and two ways of choosing the labeled samples
(``random``: that many random samples of every class; and a selector of
skusl's, by name, ``--selector``, default ``usl``), every propagation runs
on the first k neighbours, k in {3, 5, 10, 20}:

- ``rounds``: ``HDLLabeler()`` (the default, ``method="rounds"``);
- ``hdl``: the paper's Algorithm 1, ``HDLLabeler(method="hdl")``;
- ``knn_dv``: the paper's baseline (k clipped to the number of labels);
- ``label_spreading`` / ``label_propagation``: scikit-learn's, kernel knn,
  default ``alpha`` / ``max_iter``, given the *same* graph: scikit-learn's
  knn kernel is the connectivity graph of each sample and its
  ``n_neighbors - 1`` nearest others, so a k-neighbour graph is its
  ``n_neighbors = k + 1`` (``tests/benchmarks/test_propagation_bench.py`` checks the
  transduction equals ``kernel="knn"``'s);

plus ``rounds`` at every k in 3..20 (the flatness check) and
``HDLLabeler(n_neighbors="auto")`` for rounds and hdl. Accuracy is scored on
the samples that were not labeled. Time and peak traced memory
(``tracemalloc``) are of the propagation step, the graph given; Numba's own
buffers are not traced (the kernel's are O(n k)), so ``--scale`` measures
peak RSS in a fresh process instead.

Finished cells are appended to ``<cache>/<dataset>.jsonl`` (default
``benchmarks/results/cache/propagation``): an interrupted run continues;
``--report-only`` rewrites the report from the cache.
"""

import os
import platform
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

from .. import __version__
from ._common import append_jsonl, read_jsonl

#: Bump when a method or the protocol changes meaning: cached cells of another
#: version are recomputed.
CACHE_VERSION = 2
GRAPH_NEIGHBORS = 20
DEFAULT_KS = (3, 5, 10, 20)
DEFAULT_LPC = (1, 4, 25)
DEFAULT_SEEDS = (0, 1, 2)
DEFAULT_MAX_ROWS = 20_000
#: The k of the flatness check ("any k in 3..20").
SWEEP_KS = tuple(range(3, 21))
METHODS = ("rounds", "hdl", "knn_dv", "label_spreading", "label_propagation")
TITLES = {"rounds": "rounds (default)", "hdl": "HDL (paper)", "knn_dv": "kNN-DV",
          "label_spreading": "LabelSpreading", "label_propagation": "LabelPropagation",
          "rounds_auto": "rounds, k=auto", "hdl_auto": "HDL, k=auto"}


# --------------------------------------------------------------------------- data
def load_subset(path, max_rows):
    """The set's ``X`` (float32) and ``y``; a seed-0 random subset of ``max_rows``."""
    with np.load(path, allow_pickle=False) as data:
        X = np.ascontiguousarray(data["X"], dtype=np.float32)
        y = np.asarray(data["y"])
    if max_rows and X.shape[0] > max_rows:
        keep = np.sort(np.random.RandomState(0).choice(X.shape[0], max_rows, replace=False))
        X, y = X[keep], y[keep]
    return X, y


def random_labels(y, lpc, seed):
    """``lpc`` random samples of every class (fewer where a class is smaller)."""
    rng = np.random.RandomState(seed)
    picks = [rng.choice(np.flatnonzero(y == c), min(lpc, int((y == c).sum())), replace=False)
             for c in np.unique(y)]
    return np.sort(np.concatenate(picks))


def selector_labels(name, X, y, graph, lpc, seed):
    """The picks of skusl's selector ``name`` (as in the quality benchmark)."""
    from ._quality import _make

    n_classes = np.unique(y).size
    n_select = lpc * n_classes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        selector = _make(name, n_select, seed, graph, n_classes)
        return np.asarray(selector.fit(X).selected_indices_)


def sklearn_knn_kernel(graph, k):
    """scikit-learn's knn connectivity kernel built from our graph's first k neighbours.

    scikit-learn's ``kernel="knn"`` with ``n_neighbors = k + 1`` is the 0/1
    graph of each sample and its k nearest others; this is that graph,
    without a second kNN search.
    """
    import scipy.sparse as sp

    from ..neighbors import graph_to_arrays

    _, ind = graph_to_arrays(graph, k)
    n = ind.shape[0]
    cols = np.concatenate([np.arange(n)[:, None], ind], axis=1)
    conn = sp.csr_matrix((np.ones(cols.size), cols.ravel(),
                          np.arange(0, cols.size + 1, k + 1)), shape=(n, n))

    def kernel(X, Y):
        return conn
    return kernel


# --------------------------------------------------------------------------- methods
def propagate(method, X, graph, y_partial, k, seed):
    """Transduction of one method; ``k`` may be ``"auto"`` for rounds / hdl."""
    from sklearn.semi_supervised import LabelPropagation, LabelSpreading

    from ..labeling import HDLLabeler

    if method in ("rounds", "hdl"):
        est = HDLLabeler(n_neighbors=k, method=method, metric="precomputed",
                         random_state=seed).fit(graph, y_partial)
        return est.transduction_, est.n_neighbors_
    if method == "knn_dv":
        k = min(k, int((y_partial >= 0).sum()))
        est = HDLLabeler(n_neighbors=k, method="knn_dv", normalize=False).fit(X, y_partial)
        return est.transduction_, k
    cls = LabelSpreading if method == "label_spreading" else LabelPropagation
    est = cls(kernel=sklearn_knn_kernel(graph, k)).fit(X, y_partial)
    return est.transduction_, k


def run_cell(method, X, y, graph, labeled, k, seed):
    y_partial = np.full(y.shape[0], -1, dtype=np.int64)
    y_partial[labeled] = y[labeled]
    tracemalloc.start()
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        labels, k_used = propagate(method, X, graph, y_partial, k, seed)
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    unl = y_partial < 0
    return {"acc": float(np.mean(labels[unl] == y[unl])), "k_used": int(k_used),
            "time_s": elapsed, "peak_mb": peak / 2**20,
            "warnings": sorted({str(w.message)[:120] for w in caught})[:3]}


# --------------------------------------------------------------------------- cache
class Cache:
    """Append-only JSON lines, one file per dataset; the graph beside it."""

    def __init__(self, cache_dir, dataset):
        self.path = Path(cache_dir) / f"{dataset}.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.cells = {}
        self.meta = None
        for rec in read_jsonl(self.path, CACHE_VERSION):
            if rec.get("kind") == "graph":
                self.meta = rec
            else:
                self.cells[self.key(rec)] = rec

    @staticmethod
    def key(rec):
        return _key((rec["selection"], rec["method"], rec["k"], rec["lpc"], rec["seed"]))

    def put(self, rec):
        rec["version"] = CACHE_VERSION
        append_jsonl(self.path, rec)
        if rec.get("kind") == "graph":
            self.meta = rec
        else:
            self.cells[self.key(rec)] = rec

    def graph(self, X, max_rows):
        import scipy.sparse as sp

        from ..neighbors import kneighbors_graph

        gpath = self.path.with_suffix(".graph.npz")
        if self.meta is not None and gpath.exists():
            g = sp.load_npz(gpath).tocsr()
            if g.shape[0] == X.shape[0]:
                return g
        t0 = time.perf_counter()
        g = kneighbors_graph(X, GRAPH_NEIGHBORS)
        seconds = time.perf_counter() - t0
        sp.save_npz(gpath, g, compressed=False)
        self.put({"kind": "graph", "seconds": seconds, "n_samples": int(X.shape[0]),
                  "n_features": int(X.shape[1]), "max_rows": max_rows})
        return g


#: The slow context methods, run after the Done-means cells of both selections.
LATE_METHODS = ("label_propagation", "hdl_auto")


def plan(ks, lpcs, seeds, selection, late=False):
    """The (selection, method, k, lpc, seed) cells of one selection.

    ``late=False``: the cells the Done-means check needs plus HDL; ``late=True``:
    HDL with k="auto" and LabelPropagation (1000 iterations by default, the
    slowest by far; on the random labels only, cut for time on the shared
    two-core machine).
    """
    cells = []
    if late:  # seed-major, so that a cut run has every (k, lpc) for the first seeds
        for seed in seeds:
            for lpc in lpcs:
                if selection == "random":
                    cells += [(selection, "label_propagation", k, lpc, seed) for k in ks]
                cells.append((selection, "hdl_auto", "auto", lpc, seed))
        return cells
    for lpc in lpcs:
        for seed in seeds:
            for k in ks:
                cells += [(selection, m, k, lpc, seed) for m in METHODS
                          if m not in LATE_METHODS]
            cells += [(selection, "rounds", k, lpc, seed) for k in SWEEP_KS if k not in ks]
            cells.append((selection, "rounds_auto", "auto", lpc, seed))
    return cells


def _phases(ks, lpcs, seeds, selections):
    return [(sel, plan(ks, lpcs, seeds, sel, late)) for late in (False, True)
            for sel in selections]


def _key(cell):
    return cell[0], cell[1], str(cell[2]), cell[3], cell[4]


def run_propagation(data_dir, cache_dir, *, datasets=None, selector="usl", ks=DEFAULT_KS,
                    lpcs=DEFAULT_LPC, seeds=DEFAULT_SEEDS, max_rows=DEFAULT_MAX_ROWS,
                    cached_only=False, progress=True):
    """Run (or read back) every cell; returns the records and the run's metadata.

    The Done-means cells run first (random labels, then the selector's, every
    set), then the slow context cells (:data:`LATE_METHODS`), so that an
    interrupted run has the main comparison complete.
    """
    from .._progress import progress_bar

    paths = sorted(Path(data_dir).glob("*.npz"))
    if datasets:
        paths = [p for p in paths if p.stem in datasets]
    if not paths:
        raise ValueError(f"no dataset {datasets or ''} in {data_dir}")
    selections = ("random", selector)
    caches = {p.stem: Cache(cache_dir, p.stem) for p in paths}
    phases = _phases(ks, lpcs, seeds, selections)
    total = sum(len(cells) for _, cells in phases) * len(paths)
    with progress_bar(total=total, desc="propagation cells", disable=not progress) as bar:
        for sel, cells in phases:
            for path in paths:
                cache = caches[path.stem]
                todo = [] if cached_only else [c for c in cells if _key(c) not in cache.cells]
                bar.update(len(cells) - len(todo))
                if not todo:
                    continue
                X, y = load_subset(path, max_rows)
                graph = cache.graph(X, max_rows)
                picks = {}
                for _, method, k, lpc, seed in todo:
                    if (lpc, seed) not in picks:
                        picks[lpc, seed] = (random_labels(y, lpc, seed) if sel == "random"
                                            else selector_labels(sel, X, y, graph, lpc, seed))
                    bar.set_postfix_str(f"{path.stem} {sel} {method} k={k} lpc={lpc} s={seed}")
                    rec = run_cell(method.replace("_auto", ""), X, y, graph, picks[lpc, seed],
                                   k, seed)
                    rec.update(selection=sel, method=method, k=k, lpc=lpc, seed=seed)
                    cache.put(rec)
                    bar.update(1)
    records = []
    for path in paths:
        cache = caches[path.stem]
        for _, cells in phases:
            for c in cells:
                rec = cache.cells.get(_key(c))
                if rec is not None:
                    records.append(dict(rec, dataset=path.stem))
    meta = {"skusl": __version__, "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
            "graphs": {p.stem: caches[p.stem].meta for p in paths},
            "selector": selector, "ks": list(ks), "lpcs": list(lpcs), "seeds": list(seeds),
            "max_rows": max_rows, "datasets": [p.stem for p in paths]}
    return records, meta


# --------------------------------------------------------------------------- command
def register(subparsers):
    """Add ``propagation`` to the benchmarks' subcommands."""
    p = subparsers.add_parser("propagation",
                              help="label propagation: rounds, HDL, kNN-DV, LabelSpreading, "
                              "LabelPropagation at k in 3..20 and 1/4/25 labels per class")
    p.add_argument("--data", default="../shared/data", help="folder of .npz datasets (X, y)")
    p.add_argument("--out", default="docs/benchmarks/propagation.md", help="Markdown report")
    p.add_argument("--cache", default="benchmarks/results/cache/propagation",
                   help="cache folder (cells and graphs)")
    p.add_argument("--datasets", nargs="+", default=None, help="dataset stems (default all)")
    p.add_argument("--selector", default="usl",
                   help="skusl selector (quality-benchmark name) for the non-random labels")
    p.add_argument("--ks", nargs="+", type=int, default=list(DEFAULT_KS))
    p.add_argument("--lpc", nargs="+", type=int, default=list(DEFAULT_LPC),
                   help="labels per class")
    p.add_argument("--seeds", nargs="+", type=int, default=list(DEFAULT_SEEDS))
    p.add_argument("--max-rows", type=int, default=DEFAULT_MAX_ROWS,
                   help="random subset of bigger sets (0: all rows)")
    p.add_argument("--report-only", action="store_true", help="report the cached cells only")
    p.add_argument("--scale", action="store_true",
                   help="also time the 1M-row graph (k=10, synthetic blobs)")
    p.add_argument("--scale-rows", type=int, default=1_000_000)
    p.add_argument("--scale-dim", type=int, default=8,
                   help="dimension of the scale run's blobs (default 8; the KD-tree's "
                   "cost grows fast with it)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(handler=main)


def main(args):
    from ._propagation_report import write_report

    records, meta = run_propagation(
        args.data, args.cache, datasets=args.datasets, selector=args.selector, ks=args.ks,
        lpcs=args.lpc, seeds=args.seeds, max_rows=args.max_rows,
        cached_only=args.report_only, progress=not args.no_progress)
    scale = None
    if args.scale:
        from ._propagation_scale import run_scale

        scale = run_scale(args.cache, n=args.scale_rows, cached_only=args.report_only,
                          d=args.scale_dim)
    print(write_report(records, meta, args.out, scale=scale))
    return 0
