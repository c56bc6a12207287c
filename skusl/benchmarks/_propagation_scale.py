"""``propagation --scale``: propagation over a 1M-row kNN graph, time and peak RSS.

Synthetic blobs (low-dimensional, so that scikit-learn's KD-tree builds the
exact 10-NN graph in minutes on two cores); the graph is saved once, then
every method runs in a fresh Python process that loads it, so that the peak
resident memory of that process, less its resident memory once the graph is
loaded, is what the propagation itself adds (tracemalloc cannot see Numba's
buffers).
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SCALE_K = 10
SCALE_D = 8
SCALE_CLASSES = 10
SCALE_LPC = 10
SCALE_METHODS = ("rounds", "hdl", "label_spreading")

_CHILD = r"""
import json, resource, sys, time
import numpy as np, scipy.sparse as sp
method, folder = sys.argv[1], sys.argv[2]
graph = sp.load_npz(folder + "/graph.npz").tocsr()
y = np.load(folder + "/y.npy")
part = np.load(folder + "/partial.npy")

def rss_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20

from sklearn.semi_supervised import LabelSpreading
from skusl.benchmarks._propagation import sklearn_knn_kernel
from skusl.labeling import HDLLabeler
from skusl.neighbors import kneighbors_graph

def fit(graph, part, k):
    if method in ("rounds", "hdl"):
        return HDLLabeler(n_neighbors=k, method=method, metric="precomputed").fit(graph, part)
    return LabelSpreading(kernel=sklearn_knn_kernel(graph, k)).fit(
        np.zeros((graph.shape[0], 1)), part)

# warm up on a tiny graph: imports and compiled kernels are not the propagation's cost
rng = np.random.RandomState(0)
tiny = rng.normal(size=(200, 3))
fit(kneighbors_graph(tiny, 12), np.r_[0, 1, -np.ones(198, int)], int(sys.argv[3]))
base = rss_mb()
t0 = time.perf_counter()
est = fit(graph, part, int(sys.argv[3]))
n_fallback = int(est.n_fallback_) if hasattr(est, "n_fallback_") else None
elapsed = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
unl = part < 0
print(json.dumps({"time_s": elapsed, "rss_mb": max(0.0, peak - base), "base_mb": base,
                  "acc": float(np.mean(est.transduction_[unl] == y[unl])),
                  "n_fallback": n_fallback}))
"""


def make_blobs_graph(n, folder, seed=0, d=SCALE_D):
    """Blobs, their exact ``SCALE_K``-NN graph (KD-tree), labels; returns metadata."""
    import scipy.sparse as sp
    from sklearn.datasets import make_blobs
    from sklearn.neighbors import NearestNeighbors

    from ..neighbors import arrays_to_graph
    from ._propagation import random_labels

    X, y = make_blobs(n_samples=n, n_features=d, centers=SCALE_CLASSES,
                      cluster_std=3.0, center_box=(-10, 10), random_state=seed)
    t0 = time.perf_counter()
    nn = NearestNeighbors(n_neighbors=SCALE_K + 1, algorithm="kd_tree", n_jobs=-1).fit(X)
    dist, ind = nn.kneighbors()  # the query set is the fit set: self excluded
    graph_s = time.perf_counter() - t0
    graph = arrays_to_graph(dist, ind)
    sp.save_npz(folder / "graph.npz", graph, compressed=False)
    part = np.full(n, -1, dtype=np.int64)
    picks = random_labels(y, SCALE_LPC, seed)
    part[picks] = y[picks]
    np.save(folder / "y.npy", y)
    np.save(folder / "partial.npy", part)
    graph_mb = (graph.data.nbytes + graph.indices.nbytes + graph.indptr.nbytes) / 2**20
    return {"n": n, "d": d, "k": SCALE_K, "n_classes": SCALE_CLASSES,
            "lpc": SCALE_LPC, "graph_s": graph_s, "graph_mb": graph_mb}


def run_scale(cache_dir, n=1_000_000, cached_only=False, d=SCALE_D):
    """Time and peak RSS of each method on the ``n``-row graph (cached as JSON).

    ``d``: dimension of the blobs (the KD-tree's cost grows fast with it; on
    a loaded two-core machine ``d=2`` keeps the graph build in minutes).
    """
    folder = Path(cache_dir) / (f"scale_{n}" if d == SCALE_D else f"scale_{n}_d{d}")
    result_path = folder / "result.json"
    if result_path.exists():
        return json.loads(result_path.read_text())
    if cached_only:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    meta = make_blobs_graph(n, folder, d=d)
    runs = {}
    for method in SCALE_METHODS:
        out = subprocess.run([sys.executable, "-c", _CHILD, method, str(folder),
                              str(SCALE_K)], capture_output=True, text=True, check=True)
        runs[method] = json.loads(out.stdout.strip().splitlines()[-1])
    meta["runs"] = runs
    result_path.write_text(json.dumps(meta, indent=1))
    return meta
