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
from ..selection import _typiclust
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
    """``RandomSelector`` on a dask array: the fitted attributes as a dict.

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features)
    n_select : int
    normalize : bool, default=True
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    fitted : dict
        ``selected_indices_``, ``prototypes_``, ``n_samples_fit_``,
        ``n_features_in_`` (NumPy, on the client).

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from skusl.distributed import fit_random
    >>> from skusl.selection import RandomSelector
    >>> X = np.random.RandomState(0).rand(100, 4)
    >>> fitted = fit_random(da.from_array(X, chunks=30), 3, random_state=0)
    >>> single = RandomSelector(n_select=3, random_state=0).fit(X)
    >>> bool((fitted["selected_indices_"] == single.selected_indices_).all())
    True
    """
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
    """``KMeansClosestSelector`` on a dask array: the fitted attributes as a dict.

    K-Means (:func:`skusl.distributed.fit_kmeans`, ``kmeans`` its method),
    then the rows nearest each centroid by an exact query against every row
    block.

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features)
    n_select : int
    normalize : bool, default=True
    random_state : int, RandomState instance or None, default=None
    kmeans : {"single", "lloyd"}, default="single"
    backend : {"auto", "numpy", "numba"}, default="auto"
    n_jobs : int or None, default=None

    Returns
    -------
    fitted : dict
        ``selected_indices_``, ``prototypes_``, ``labels_``,
        ``cluster_centers_``, ``n_samples_fit_``, ``n_features_in_``.

    Examples
    --------
    >>> import dask.array as da
    >>> from sklearn.datasets import load_digits
    >>> from skusl.distributed import fit_kmeans_closest
    >>> from skusl.selection import KMeansClosestSelector
    >>> X, _ = load_digits(return_X_y=True)
    >>> fitted = fit_kmeans_closest(da.from_array(X, chunks=600), 5, random_state=0)
    >>> single = KMeansClosestSelector(n_select=5, random_state=0).fit(X)
    >>> bool((fitted["selected_indices_"] == single.selected_indices_).all())
    True
    """
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
    """``TypiClustSelector`` on a dask array: the fitted attributes as a dict.

    Typicality from the distributed kNN graph (blockwise), K-Means, then
    TypiClust's visiting loop on the client (O(n)).

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features)
    n_select : int
    n_neighbors : int, default=20
    n_clusters : int or None, default=None
        ``None``: ``min(n_select, 500)``, as the single-machine selector.
    min_cluster_size : int, default=5
    normalize : bool, default=True
    neighbors : {"exact", "approximate"}, default="exact"
    kmeans : {"single", "lloyd"}, default="single"
    backend : {"auto", "numpy", "numba"}, default="auto"
    random_state : int, RandomState instance or None, default=None
    n_jobs : int or None, default=None
    approximate_params : dict or None
        ``cell_size`` / ``n_probe`` of the approximate search.

    Returns
    -------
    fitted : dict
        ``selected_indices_``, ``prototypes_``, ``typicality_``, ``labels_``,
        ``cluster_centers_``, ``knn_graph_``, ``n_samples_fit_``,
        ``n_features_in_``.

    Examples
    --------
    >>> import dask.array as da
    >>> from sklearn.datasets import load_digits
    >>> from skusl.distributed import fit_typiclust
    >>> from skusl.selection import TypiClustSelector
    >>> X, _ = load_digits(return_X_y=True)
    >>> fitted = fit_typiclust(da.from_array(X, chunks=600), 5, random_state=0)
    >>> single = TypiClustSelector(n_select=5, neighbors="exact", random_state=0).fit(X)
    >>> bool((fitted["selected_indices_"] == single.selected_indices_).all())
    True
    """
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
    typ = dist.map_blocks(_typiclust.typicality, drop_axis=1, dtype=np.float64)
    labels, centers = fit_kmeans(Xp, n_clusters, int(kmeans_seed), method=kmeans,
                                 backend=backend, n_jobs=n_jobs)
    dist, ind, typ, labels = compute(dist, ind, typ, labels)
    picks = _typiclust.typiclust_picks(typ, labels, n_clusters, n_select, min_cluster_size)
    return _result(Xp, picks, knn_graph_=arrays_to_graph(dist, ind), typicality_=typ,
                   labels_=labels, cluster_centers_=centers)
