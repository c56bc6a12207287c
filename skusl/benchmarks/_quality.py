"""The quality benchmark (``docs/user_guide/benchmarks.rst``): which labels to buy.

For every dataset (``.npz`` with ``X``, ``y``), selector, budget (labels per
class) and seed, one *cell*: select ``budget * n_classes`` samples, then
score the selection with the ground truth (class coverage and balance,
1-NN, linear-probe and propagation accuracy) and record the selection's
wall time and peak traced memory. Each dataset's kNN graph is built once and
shared by every kNN-based selector and by HDL (``PrecomputedKNN``); its time
is reported separately (and the graph cached next to the cells). Finished cells are appended to
``<out>/cache/<dataset>.jsonl``, so an interrupted run continues where it
stopped.

The selectors are the registry's (:data:`skusl.selection.SELECTORS`), the
oracle, and the peers of :mod:`skusl.benchmarks._peers` (scikit-activeml).
Sets larger than ``max_samples`` rows (default 5 000) are subsampled once
(seed 0, the same rows for every selector and seed), because the peers
build dense n x n matrices.
"""

import os
import platform
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

from .. import __version__
from ..metrics import (class_balance, class_coverage, linear_probe_accuracy,
                       nearest_prototype_accuracy, propagation_accuracy)
from ..neighbors import PrecomputedKNN, kneighbors_graph
from ..selection import SELECTORS as REGISTRY
from ..selection import SelectorSpec
from ._common import append_jsonl, read_jsonl
from ._peers import PEERS, peers_available

#: Bump when a selector or a metric changes meaning: cached cells of another
#: version are recomputed.
CACHE_VERSION = 2
#: Per-selector algorithm versions (1 when absent): bump one when that selector's
#: picks change, and only its cached cells are recomputed (the others are reused).
#: probcover 2: delta="auto" maximises the greedy's last marginal gain (issue 11).
SELECTOR_VERSIONS = {"probcover": 2}
#: Bump when only the metrics change: cached selections are re-scored (cheap)
#: instead of re-selected.
METRICS_VERSION = 4
#: Rows per dataset (larger sets are subsampled once, seed 0).
DEFAULT_MAX_SAMPLES = 5_000
#: The linear probe's inverse regularisation (see skusl.metrics.linear_probe_accuracy).
PROBE_C = 100.0

DEFAULT_BUDGETS = (1, 2, 4, 10)
DEFAULT_SEEDS = (0, 1, 2, 3, 4)
#: Neighbours of the shared graph (the selectors' default k); HDL uses the
#: first ``HDL_NEIGHBORS`` of them.
GRAPH_NEIGHBORS = 20
HDL_NEIGHBORS = 3

METRICS = ("coverage", "balance", "nn_acc", "probe_acc", "probe_bacc", "prop_acc", "time_s",
           "peak_mb")
METRIC_TITLES = {
    "coverage": "coverage", "balance": "balance", "nn_acc": "1-NN acc",
    "probe_acc": "linear-probe acc", "probe_bacc": "probe balanced acc",
    "prop_acc": "propagation acc",
    "time_s": "time (s)", "peak_mb": "peak MB",
}


def _stratified(X, y, n_per_class, seed):
    """Oracle: ``n_per_class`` random samples of every class (uses the labels)."""
    rng = np.random.RandomState(seed)
    picks = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        picks.append(rng.choice(members, min(n_per_class, members.size), replace=False))
    return np.concatenate(picks)


def _uslt_available():
    try:
        import torch  # noqa: F401

        from ..deep import USLTClusterer  # noqa: F401
    except Exception:  # ImportError, or a broken torch install
        return False
    return True


def _make(name, n_select, seed, graph, n_classes):
    """The estimator of selector ``name`` (None for the oracle)."""
    spec = SELECTORS[name]
    if spec.kind == "peer":
        return spec.make(n_select, seed, None, n_classes=n_classes)
    return spec.make(n_select, seed, PrecomputedKNN(graph))


def _oracle(n_select, seed, knn):  # never called: run_cell draws the oracle itself
    raise RuntimeError("the stratified oracle needs the labels")


#: Every selector the benchmark knows: the registry, the oracle, the peers.
SELECTORS = {
    **{k: v for k, v in REGISTRY.items()},
    "stratified": SelectorSpec("stratified", "stratified (oracle, uses labels: not fair)",
                               _oracle, "grey", kind="oracle", fair=False),
    **PEERS,
}


def load_dataset(path, max_samples=None):
    """``X, y`` of a dataset, subsampled to ``max_samples`` rows (seed 0, sorted)."""
    with np.load(path, allow_pickle=False) as data:
        X = np.ascontiguousarray(data["X"])
        y = np.asarray(data["y"])
    if max_samples is not None and X.shape[0] > max_samples:
        rows = np.sort(np.random.RandomState(0).choice(X.shape[0], max_samples, replace=False))
        X, y = np.ascontiguousarray(X[rows]), y[rows]
    return X, y


def run_cell(name, X, y, graph, n_per_class, seed):
    """Select and score one (selector, budget, seed) cell; returns a dict."""
    classes = np.unique(y)
    n_select = n_per_class * classes.size
    notes = []
    tracemalloc.start()
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if name == "stratified":
            sel = _stratified(X, y, n_per_class, seed)
        else:
            sel = _make(name, n_select, seed, graph, classes.size).fit(X).selected_indices_
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    notes.extend(sorted({str(w.message)[:200] for w in caught
                         if issubclass(w.category, UserWarning)}))
    sel = np.asarray(sel, dtype=np.int64)
    return {
        "selector": name, "budget": n_per_class, "seed": seed, "n_select": int(sel.size),
        **score_selection(X, y, graph, sel),
        "time_s": elapsed, "peak_mb": peak / 2**20,
        "selected": sel.tolist(), "warnings": notes, "version": CACHE_VERSION,
        "selector_version": selector_version(name),
    }


def selector_version(name):
    """The algorithm version of selector ``name`` its cached cells must carry."""
    return SELECTOR_VERSIONS.get(name, 1)


def score_selection(X, y, graph, sel):
    """The quality metrics of one selection (ground truth used here only)."""
    return {
        "coverage": class_coverage(y, sel), "balance": class_balance(y, sel),
        "nn_acc": nearest_prototype_accuracy(X, y, sel),
        "probe_acc": linear_probe_accuracy(X, y, sel, C=PROBE_C),
        "probe_bacc": linear_probe_accuracy(X, y, sel, C=PROBE_C, balanced=True),
        "prop_acc": propagation_accuracy(X, y, sel, n_neighbors=HDL_NEIGHBORS, graph=graph),
        "metrics_version": METRICS_VERSION,
    }


class CellCache:
    """Append-only JSON-lines cache of finished cells, one file per dataset."""

    def __init__(self, out_dir, dataset, n_rows=None):
        self.path = Path(out_dir) / "cache" / f"{dataset}.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.records = {}
        self.graph = None
        for rec in read_jsonl(self.path, CACHE_VERSION):
            if rec.get("n_rows") != n_rows:
                continue
            if rec.get("selector") == "__graph__":
                self.graph = rec
            elif rec.get("selector_version", 1) == selector_version(rec["selector"]):
                self.records[(rec["selector"], rec["budget"], rec["seed"])] = rec

    def get(self, key):
        return self.records.get(key)

    @property
    def graph_path(self):
        return self.path.with_suffix(".graph.npz")

    def load_graph(self, n_samples):
        """The dataset's cached kNN graph and its build time, or (None, None)."""
        import scipy.sparse as sp

        if self.graph is None or not self.graph_path.exists():
            return None, None
        graph = sp.load_npz(self.graph_path).tocsr()
        if graph.shape != (n_samples, n_samples):
            return None, None
        return graph, self.graph["seconds"]

    def save_graph(self, graph):
        import scipy.sparse as sp

        sp.save_npz(self.graph_path, graph, compressed=False)

    def put(self, rec):
        append_jsonl(self.path, rec)
        if rec["selector"] == "__graph__":
            self.graph = rec
        elif rec.get("selector_version", 1) == selector_version(rec["selector"]):
            self.records[(rec["selector"], rec["budget"], rec["seed"])] = rec


def _n_rows(path, max_samples):
    with np.load(path, allow_pickle=False) as data:
        n = int(data["y"].shape[0])
    return n if max_samples is None else min(n, max_samples)


def run_quality(data_dir, out_dir, *, datasets=None, selectors=None, budgets=DEFAULT_BUDGETS,
                seeds=DEFAULT_SEEDS, progress=True, cached_only=False,
                max_samples=DEFAULT_MAX_SAMPLES):
    """Run the protocol; returns the list of cell records (cached or new).

    Parameters
    ----------
    data_dir : path
        Folder of ``.npz`` files (keys ``X``, ``y``).
    out_dir : path
        Report folder; the cache lives in ``out_dir/cache``.
    datasets, selectors : list of str or None
        Restrict to these dataset stems / selector names (None: all).
    budgets, seeds : sequence of int
        Labels per class, and seeds.
    progress : bool
        Show a progress bar over the cells.
    cached_only : bool
        Compute nothing: report the cached cells only.
    max_samples : int or None
        Subsample larger sets to this many rows (None: all rows).

    Returns
    -------
    records : list of dict
        One per cell, with its ``dataset``.
    meta : dict
        What the report needs besides the cells (graph times, versions...).
    """
    from .._progress import progress_bar

    data_dir, out_dir = Path(data_dir), Path(out_dir)
    paths = sorted(data_dir.glob("*.npz"))
    if datasets:
        unknown = set(datasets) - {p.stem for p in paths}
        if unknown:
            raise ValueError(f"no dataset {sorted(unknown)} in {data_dir}")
        paths = [p for p in paths if p.stem in datasets]
    if not paths:
        raise ValueError(f"no .npz dataset in {data_dir}")
    default = [s for s, spec in SELECTORS.items() if spec.kind != "peer" or peers_available()]
    selectors = default if not selectors else list(selectors)
    unknown = set(selectors) - set(SELECTORS)
    if unknown:
        raise ValueError(f"unknown selectors {sorted(unknown)}; choose from {list(SELECTORS)}")
    skipped = []
    if "uslt" in selectors and not _uslt_available():
        selectors.remove("uslt")
        skipped.append("uslt")
    for name in [s for s in selectors if SELECTORS[s].kind == "peer"]:
        if not peers_available():
            selectors.remove(name)
            skipped.append(name)
    records, graphs = [], {}
    total = len(paths) * len(selectors) * len(budgets) * len(seeds)
    with progress_bar(total=total, desc="quality cells", disable=not progress) as bar:
        for path in paths:
            n_rows = _n_rows(path, max_samples)
            cache = CellCache(out_dir, path.stem, n_rows)
            todo = [(s, b, r) for s in selectors for b in budgets for r in seeds
                    if cache.get((s, b, r)) is None]
            done = [cache.get((s, b, r)) for s in selectors for b in budgets for r in seeds
                    if cache.get((s, b, r)) is not None]
            stale = [rec for rec in done if rec.get("metrics_version", 1) != METRICS_VERSION]
            if todo and not cached_only or stale:
                X, y = load_dataset(path, max_samples)
                graph, gtime = cache.load_graph(X.shape[0])
                if graph is None:
                    t0 = time.perf_counter()
                    graph = kneighbors_graph(X, GRAPH_NEIGHBORS)
                    gtime = time.perf_counter() - t0
                    cache.save_graph(graph)
                for rec in stale:  # metrics changed since: re-score the cached selection
                    rec.update(score_selection(X, y, graph, np.asarray(rec["selected"])))
                    cache.put(rec)
                if cache.graph is None:
                    cache.put({"selector": "__graph__", "seconds": gtime, "n_rows": n_rows,
                               "n_samples": int(X.shape[0]), "n_features": int(X.shape[1]),
                               "n_classes": int(np.unique(y).size),
                               "neighbors": GRAPH_NEIGHBORS, "version": CACHE_VERSION})
                for name, budget, seed in ([] if cached_only else todo):
                    bar.set_postfix_str(f"{path.stem} {name} b={budget} s={seed}")
                    rec = dict(run_cell(name, X, y, graph, budget, seed), n_rows=n_rows)
                    cache.put(rec)
                    records.append(dict(rec, dataset=path.stem))
                    bar.update(1)
            records.extend(dict(rec, dataset=path.stem) for rec in done)
            bar.update(len(done))
            graphs[path.stem] = cache.graph
    meta = {
        "skusl": __version__, "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "propagation": "HDL",
        "not_run": skipped, "graphs": graphs, "budgets": list(budgets), "seeds": list(seeds),
        "selectors": selectors, "datasets": [p.stem for p in paths],
        "hdl_neighbors": HDL_NEIGHBORS, "max_samples": max_samples, "probe_C": PROBE_C,
    }
    return records, meta
