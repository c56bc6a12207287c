"""Benchmark HDL label propagation: quality against baselines, and speed.

Quality: transductive accuracy on the unlabeled samples of HDL, kNN-DV,
scikit-learn's ``LabelSpreading(kernel="knn")`` and a ``KNeighborsClassifier``
fitted on the labeled samples, with 1, 4 and 25 random labels per class over
several seeds, at the k AutoK picks and at the best k in hindsight (the k of
the best mean accuracy over the seeds). One exact kNN graph per dataset is
built once, with the largest k of the grid, and reused: HDL takes its first k
columns (handed over as a ``neighbors=`` estimator that returns the cached
graph, so that the fallback can still use the features); LabelSpreading gets the same
graph's connectivity through a callable kernel (plus self loops, as its own
``kernel="knn"`` has).

Speed: propagation time after the graph over graph-build time on 70k
samples, and a synthetic run with the approximate graph (total time, peak
memory).

Run from the repository root::

    python -m skusl.benchmarks hdl --quick          # the figures in docs/benchmarks/hdl.md
    python -m skusl.benchmarks hdl                  # full grid, 1M synthetic

Not part of the test suite.
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ..neighbors import PrecomputedKNN
from ._common import load_shared, peak_rss_mb

warnings.filterwarnings("ignore", category=UserWarning)

DATASETS = ("fashion70k_pca100", "mnist70k_pca100", "rt13k_minilm")


def load(name):
    return load_shared(name)


def draw_labels(y, per_class, seed):
    rng = np.random.RandomState(seed)
    y_semi = np.full_like(y, -1)
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        pick = rng.choice(members, size=min(per_class, members.size), replace=False)
        y_semi[pick] = c
    return y_semi


class GraphKernel:
    """Callable kernel for LabelSpreading: the cached kNN connectivity."""

    def __init__(self, ind, k):
        n = ind.shape[0]
        rows = np.repeat(np.arange(n), k + 1)
        cols = np.concatenate([np.arange(n)[:, None], ind[:, :k]], axis=1).ravel()
        self.graph = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))

    def __call__(self, X, Y=None):
        return self.graph


def quality(name, k_grid, ls_grid, budgets, seeds, log):
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.semi_supervised import LabelSpreading

    from ..labeling import HDLLabeler
    from ..model_selection import AutoK
    from ..neighbors import arrays_to_graph, kneighbors

    X, y = load(name)
    k_top = max(k_grid)
    t0 = time.perf_counter()
    dist, ind = kneighbors(X, k_top, neighbors="exact", backend="numba")
    t_graph = time.perf_counter() - t0
    log(f"{name}: {X.shape}, exact graph k={k_top} in {t_graph:.1f} s")
    graphs = {k: arrays_to_graph(dist[:, :k], ind[:, :k]) for k in set(k_grid) | set(ls_grid)}
    acc = {}   # (method, budget, k) -> list over seeds
    auto_k = {}

    def record(method, budget, k, pred, y_semi):
        unl = y_semi == -1
        acc[(method, budget, k, seed)] = float((pred[unl] == y[unl]).mean())

    for budget in budgets:
        for seed in seeds:
            y_semi = draw_labels(y, budget, seed)
            n_lab = int((y_semi != -1).sum())
            ak = AutoK(criterion="clusterability", random_state=seed).fit(X, y_semi).k_
            auto_k.setdefault(budget, []).append(ak)
            ks = sorted(set(k_grid) | {ak})
            for k in ks:
                G = graphs.get(k)
                if G is None:
                    G = graphs[k] = arrays_to_graph(dist[:, :k], ind[:, :k])
                hdl = HDLLabeler(n_neighbors=k, method="hdl",
                                 neighbors=PrecomputedKNN(G)).fit(X, y_semi)
                record("HDL", budget, k, hdl.transduction_, y_semi)
                if k <= n_lab:
                    dv = HDLLabeler(n_neighbors=k, method="knn_dv").fit(X, y_semi)
                    record("kNN-DV", budget, k, dv.transduction_, y_semi)
                    lab = y_semi != -1
                    knc = KNeighborsClassifier(n_neighbors=k).fit(X[lab], y_semi[lab])
                    record("KNeighborsClassifier", budget, k, knc.predict(X), y_semi)
            for k in sorted(set(ls_grid) | {ak}):
                if k not in graphs:
                    graphs[k] = arrays_to_graph(dist[:, :k], ind[:, :k])
                ls = LabelSpreading(kernel=GraphKernel(ind, k), max_iter=30).fit(X, y_semi)
                record("LabelSpreading", budget, k, ls.transduction_, y_semi)
            log(f"  {name} {budget}/class seed {seed}: AutoK k={ak}, "
                f"HDL {acc[('HDL', budget, ak, seed)]:.3f}, "
                f"kNN-DV {acc.get(('kNN-DV', budget, ak, seed), float('nan')):.3f}")
    return acc, auto_k, t_graph, (X, y, dist, ind)


def summarise(name, acc, auto_k, budgets, seeds):
    """Markdown table: accuracy at AutoK's k, and at the best k in hindsight."""
    lines = [f"\n### {name}\n",
             "| labels/class | method | acc. at AutoK k (mean ± std) | AutoK k (per seed) "
             "| best k in hindsight | acc. at best k |",
             "|---|---|---|---|---|---|"]
    for budget in budgets:
        for method in ("HDL", "kNN-DV", "LabelSpreading", "KNeighborsClassifier"):
            at_auto = [acc.get((method, budget, k, s))
                       for s, k in zip(seeds, auto_k[budget], strict=False)]
            at_auto = [v for v in at_auto if v is not None]
            ks = sorted({k for (m, b, k, s) in acc if m == method and b == budget})
            means = {}
            for k in ks:
                vals = [acc.get((method, budget, k, s)) for s in seeds]
                if all(v is not None for v in vals):
                    means[k] = (np.mean(vals), np.std(vals))
            if not means:
                continue
            best_k = max(means, key=lambda k: (means[k][0], -k))
            auto_txt = (f"{np.mean(at_auto):.3f} ± {np.std(at_auto):.3f}"
                        if len(at_auto) == len(seeds) else "n/a (k > labeled)")
            lines.append(f"| {budget} | {method} | {auto_txt} | "
                         f"{','.join(map(str, auto_k[budget]))} | {best_k} | "
                         f"{means[best_k][0]:.3f} ± {means[best_k][1]:.3f} |")
    return "\n".join(lines)


def speed_70k(name, X, y, dist, ind, t_graph, log, k=10):
    from skusl.labeling import HDLLabeler
    from skusl._validation import split_labels
    from skusl.labeling._propagate import hdl_labels
    from skusl.neighbors import arrays_to_graph, kneighbors

    y_semi = draw_labels(y, 25, 0)
    t0 = time.perf_counter()
    kneighbors(X, k, neighbors="exact", backend="numba")
    t_graph_k = time.perf_counter() - t0
    G = arrays_to_graph(dist[:, :k], ind[:, :k])
    # warm-up (JIT cache)
    HDLLabeler(n_neighbors=k, method="hdl", metric="precomputed").fit(G, y_semi)
    fits, kernels = [], []
    _, _, classes, codes = split_labels(y_semi)
    for _ in range(3):
        t0 = time.perf_counter()
        HDLLabeler(n_neighbors=k, method="hdl", metric="precomputed").fit(G, y_semi)
        fits.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        hdl_labels(dist[:, :k], ind[:, :k], codes, classes.size)
        kernels.append(time.perf_counter() - t0)
    log(f"speed {name}: graph k={k} {t_graph_k:.2f} s, HDL fit(precomputed) "
        f"{min(fits):.3f} s, propagation core {min(kernels):.3f} s")
    return t_graph_k, min(fits), min(kernels)


def synthetic(n, d, k, log, seed=0):
    """n x d Gaussian mixture, approximate graph, 10 labels per class."""
    from skusl.labeling import HDLLabeler
    from skusl.neighbors import kneighbors_graph

    rng = np.random.RandomState(seed)
    n_classes = 20
    centres = rng.normal(size=(n_classes, d)).astype(np.float32) * 0.6
    y = rng.randint(n_classes, size=n)
    X = (centres[y] + rng.normal(size=(n, d)).astype(np.float32) / np.sqrt(d)).astype(np.float32)
    y_semi = draw_labels(y, 10, seed)
    t0 = time.perf_counter()
    G = kneighbors_graph(X, k, neighbors="approximate", random_state=seed)
    t_graph = time.perf_counter() - t0
    t0 = time.perf_counter()
    hdl = HDLLabeler(n_neighbors=k, method="hdl", metric="precomputed").fit(G, y_semi)
    t_prop = time.perf_counter() - t0
    unl = y_semi == -1
    acc = float((hdl.transduction_[unl] == y[unl]).mean())
    log(f"synthetic {n}x{d}: approx graph k={k} {t_graph:.1f} s, HDL {t_prop:.2f} s, "
        f"acc {acc:.3f}, peak RSS {peak_rss_mb():.0f} MiB")
    return t_graph, t_prop, acc, peak_rss_mb()


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m skusl.benchmarks hdl", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smaller k grid, 200k synthetic instead of 1M")
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--synthetic-n", type=int, default=None)
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument("--out", default=None, help="also write the Markdown here")
    args = parser.parse_args(argv)

    k_grid = [1, 3, 5, 10, 20, 50] if args.quick else [1, 2, 3, 5, 7, 10, 15, 20, 30, 50]
    ls_grid = [5, 10, 20] if args.quick else [3, 5, 10, 20, 50]
    budgets, seeds = [1, 4, 25], list(range(args.seeds))
    n_syn = args.synthetic_n or (200_000 if args.quick else 1_000_000)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    report = [f"Command: `python -m skusl.benchmarks hdl {' '.join(argv or sys.argv[1:])}`",
              f"Machine: {os.cpu_count()} CPU cores (shared), NumPy {np.__version__}.",
              f"k grid (HDL, kNN-DV, KNeighborsClassifier): {k_grid}; "
              f"LabelSpreading: {ls_grid} plus AutoK's k. Accuracy on the unlabeled samples."]
    speed_rows = []
    for name in args.datasets:
        acc, auto_k, t_graph, (X, y, dist, ind) = quality(name, k_grid, ls_grid, budgets,
                                                         seeds, log)
        report.append(summarise(name, acc, auto_k, budgets, seeds))
        if X.shape[0] >= 70_000:
            tg, tf, tk = speed_70k(name, X, y, dist, ind, t_graph, log)
            speed_rows.append(f"| {name} | {X.shape[0]} | 10 | {tg:.2f} | {tf:.3f} | "
                              f"{tk:.3f} | {tf / tg:.3f} |")
        del X, y, dist, ind
    if speed_rows:
        report += ["\n### Speed on 70k (k = 10, 25 labels/class)\n",
                   "| dataset | n | k | exact graph (s) | HDL fit, precomputed (s) "
                   "| propagation core (s) | fit / graph |", "|---|---|---|---|---|---|---|",
                   *speed_rows]
    if not args.skip_synthetic:
        tg, tp, acc_s, rss = synthetic(n_syn, 64, 10, log)
        report += [f"\n### Synthetic {n_syn} x 64, approximate graph (k = 10)\n",
                   "| graph (s) | HDL fit (s) | total (s) | accuracy | peak RSS (MiB) |",
                   "|---|---|---|---|---|",
                   f"| {tg:.1f} | {tp:.2f} | {tg + tp:.1f} | {acc_s:.3f} | {rss:.0f} |"]
    text = "\n".join(report) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
