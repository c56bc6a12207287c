"""Baseline selectors on a Dask cluster, where their steps are blockwise.

- ``RandomSelector``: the draw needs only ``n``.
- ``KMeansClosestSelector``: K-Means (:mod:`skusl.distributed._kmeans`), then
  the rows nearest each centroid by the blockwise exact query.
- ``TypiClustSelector``: typicality from the graph (blockwise), K-Means,
  then TypiClust's visiting loop on the client (O(n)).

Each mirrors its single-machine ``_select``: the same seeds drawn in the
same order, the same functions where they exist as functions, so the same
``random_state`` gives the same selection. Greedy coverage selectors
(k-center, ProbCover) take one pass over the data per pick and stay on one
machine (see the user guide).
"""

import numpy as np
from sklearn.utils.validation import check_random_state

from .._validation import check_n_select
from ..neighbors import arrays_to_graph
from ..selection import _baselines
from ._dask import compute, holds_persisted
from ._exact import query_topk
from ._kmeans import fit_kmeans
from ._usl import _SEED_MAX, kneighbors, preprocess


def _result(Xp, selected, **fitted):
    selected = np.asarray(selected, dtype=np.int64)
    return {"selected_indices_": selected, "prototypes_": np.asarray(compute(Xp[selected])[0]),
            "n_samples_fit_": Xp.shape[0], "n_features_in_": Xp.shape[1], **fitted}


@holds_persisted
def fit_random(X, n_select, *, normalize=True, random_state=None):
    """``RandomSelector`` on a dask array: the fitted attributes as a dict."""
    check_n_select(n_select, X.shape[0])
    Xp = preprocess(X, normalize)
    rng = check_random_state(random_state)
    return _result(Xp, rng.choice(Xp.shape[0], n_select, replace=False))


def closest_unique(cand):
    """For each centroid's candidate row (nearest first), the first row not yet taken."""
    taken = set()
    chosen = []
    for row in cand:
        pick = next(int(i) for i in row if int(i) not in taken)
        taken.add(pick)
        chosen.append(pick)
    return np.asarray(chosen, dtype=np.int64)


@holds_persisted
def fit_kmeans_closest(X, n_select, *, normalize=True, random_state=None, kmeans="single",
                       backend="auto", n_jobs=None):
    """``KMeansClosestSelector`` on a dask array: the fitted attributes as a dict."""
    n_samples = X.shape[0]
    check_n_select(n_select, n_samples)
    Xp = preprocess(X, normalize)
    rng = check_random_state(random_state)
    labels, centers = fit_kmeans(Xp, n_select, int(rng.randint(_SEED_MAX)), method=kmeans,
                                 backend=backend, n_jobs=n_jobs)
    labels = np.asarray(compute(labels)[0])
    sizes = np.bincount(labels, minlength=n_select)
    order = np.lexsort((np.arange(n_select), -sizes))
    _, cand = query_topk(np.ascontiguousarray(centers[order], dtype=Xp.dtype), Xp,
                         min(n_select, n_samples), backend=backend, n_jobs=n_jobs)
    return _result(Xp, closest_unique(cand), labels_=labels, cluster_centers_=centers)


@holds_persisted
def fit_typiclust(X, n_select, *, n_neighbors=20, n_clusters=None, min_cluster_size=5,
                  normalize=True, neighbors="exact", kmeans="single", backend="auto",
                  random_state=None, n_jobs=None, approximate_params=None):
    """``TypiClustSelector`` on a dask array: the fitted attributes as a dict."""
    n_samples = X.shape[0]
    check_n_select(n_select, n_samples)
    n_clusters = min(n_select, 500) if n_clusters is None else n_clusters
    if n_clusters > n_samples:
        raise ValueError(f"n_clusters={n_clusters} exceeds n_samples={n_samples}; "
                         "lower n_clusters.")
    Xp = preprocess(X, normalize)
    rng = check_random_state(random_state)
    knn_seed, kmeans_seed = rng.randint(_SEED_MAX, size=2)
    dist, ind = kneighbors(Xp, n_neighbors, neighbors=neighbors, backend=backend,
                           random_state=int(knn_seed), n_jobs=n_jobs,
                           **(approximate_params or {}))
    typ = dist.map_blocks(_baselines.typicality, drop_axis=1, dtype=np.float64)
    labels, centers = fit_kmeans(Xp, n_clusters, int(kmeans_seed), method=kmeans,
                                 backend=backend, n_jobs=n_jobs)
    dist, ind, typ, labels = compute(dist, ind, typ, labels)
    picks = _baselines.typiclust_picks(typ, labels, n_clusters, n_select, min_cluster_size)
    return _result(Xp, picks, knn_graph_=arrays_to_graph(dist, ind), typicality_=typ,
                   labels_=labels, cluster_centers_=centers)
