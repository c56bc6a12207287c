"""The propagation functions the labelers and AutoK share: votes, graph rows,
the paper's HDL on arrays, the fallback.

Arrays in, arrays out (no estimator): :class:`~skusl.labeling.HDLLabeler`
and :mod:`skusl.model_selection` (AutoK's held-out criterion) both call them,
so neither has to import the other.
"""

import warnings

import numpy as np
import scipy.sparse as sp

from ..neighbors._graph import smallest_per_row

#: Similarity of a neighbour at distance ``d`` is ``1 / (d + SIM_EPS)``: scale
#: free in its ranking, finite for duplicates (``d = 0``).
SIM_EPS = 1e-12


# --------------------------------------------------------------------------- votes
def similarity(dist):
    """Similarity of neighbours at Euclidean distance ``dist``: ``1 / (d + 1e-12)``."""
    return 1.0 / (np.asarray(dist, dtype=np.float64) + SIM_EPS)


def majority_vote(nbr_codes, nbr_sim, n_classes):
    """Row-wise majority vote, ties by summed similarity, then smallest code.

    Parameters
    ----------
    nbr_codes : int array of shape (n, k)
        Class codes of each row's voters (all labeled).
    nbr_sim : float array of shape (n, k)
    n_classes : int

    Returns
    -------
    winner : ndarray of int64, shape (n,)
    shares : ndarray of shape (n, n_classes)
        Vote shares (counts / k).
    """
    n, k = nbr_codes.shape
    flat = (np.arange(n)[:, None] * n_classes + nbr_codes).ravel()
    counts = np.bincount(flat, minlength=n * n_classes).reshape(n, n_classes)
    sims = np.bincount(flat, weights=nbr_sim.ravel(),
                       minlength=n * n_classes).reshape(n, n_classes)
    best = counts.max(axis=1, keepdims=True)
    sims = np.where(counts == best, sims, -np.inf)
    winner = np.argmax(sims, axis=1).astype(np.int64)
    return winner, counts / k


def weighted_vote(nbr_codes, nbr_sim, n_classes):
    """Row-wise similarity-weighted class shares (rows sum to one)."""
    n, k = nbr_codes.shape
    flat = (np.arange(n)[:, None] * n_classes + nbr_codes).ravel()
    sims = np.bincount(flat, weights=nbr_sim.ravel(),
                       minlength=n * n_classes).reshape(n, n_classes)
    return sims / sims.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------- graphs
def rows_to_arrays(graph, n_neighbors, n_columns):
    """The ``n_neighbors`` smallest stored distances of each row of a graph.

    For ``predict`` with ``metric="precomputed"``: ``graph`` has shape
    ``(n_queries, n_train)``; nothing is treated as self.
    """
    if not sp.issparse(graph):
        raise ValueError(
            "with metric='precomputed', X must be a SciPy sparse distance graph of "
            f"shape (n_queries, n_train_samples); got {type(graph).__name__}."
        )
    if graph.shape[1] != n_columns:
        raise ValueError(
            f"the precomputed graph has {graph.shape[1]} columns, but the model was "
            f"fitted on {n_columns} samples: columns must index the training samples."
        )
    coo = sp.coo_matrix(graph)
    row, col, data = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
    if not np.all(np.isfinite(data)) or (data < 0).any():
        raise ValueError("a precomputed kNN graph must hold finite, non-negative distances.")
    n = graph.shape[0]
    counts = np.bincount(row, minlength=n)
    if n and counts.min() < n_neighbors:
        raise ValueError(
            f"the precomputed graph has rows with only {int(counts.min())} stored "
            f"distances, but n_neighbors={n_neighbors} are needed; query more "
            "neighbours of the training samples."
        )
    dist, ind = smallest_per_row(row, col, data, counts, n_neighbors)
    return dist.astype(np.float64), ind


def fallback_classes(dist, ind, codes, features=None):
    """Class of the nearest labeled point for every unlabeled point.

    "Nearest" is the shortest-path distance in the kNN graph made undirected
    (edge weights: Euclidean distances), from the points labeled so far
    (multi-source Dijkstra, O(n k log n)). Points whose graph component
    holds no labeled point take the class of the Euclidean-nearest labeled
    point when ``features`` are given, otherwise the most frequent class
    among the points labeled so far (with a warning).
    """
    from scipy.sparse.csgraph import dijkstra

    from ..neighbors import arrays_to_graph, query_kneighbors

    n = codes.shape[0]
    labeled = np.flatnonzero(codes >= 0)
    graph = arrays_to_graph(np.maximum(dist, np.finfo(np.float64).tiny), ind)
    _, _, sources = dijkstra(graph, directed=False, indices=labeled, min_only=True,
                             return_predecessors=True)
    fb = np.zeros(n, dtype=np.int64)
    reached = sources >= 0
    fb[reached] = codes[sources[reached]]
    lost = np.flatnonzero(~reached & (codes < 0))
    if lost.size:
        if features is not None:
            _, nearest = query_kneighbors(features[lost], features[labeled], 1,
                                          backend="numpy")
            fb[lost] = codes[labeled[nearest[:, 0]]]
        else:
            majority = np.argmax(np.bincount(codes[labeled]))
            fb[lost] = majority
            warnings.warn(
                f"{lost.size} samples lie in parts of the precomputed graph that no "
                "labeled sample reaches; they get the most frequent class. Build the "
                "graph with more neighbours, or fit on the features.",
                UserWarning, stacklevel=3,
            )
    return fb


def propagation_state(dist, ind, codes, n_classes):
    """The arrays HDL and the rounds start from, ready for their Numba kernels.

    Returns
    -------
    lab : ndarray of int64, shape (n,)
        A copy of ``codes`` (-1 unlabeled), labeled in place by the kernel.
    ind : ndarray of int64, shape (n, k)
    w : ndarray of shape (n, k)
        :func:`similarity` of ``dist``.
    level : ndarray of int64, shape (n,)
        All -1.
    shares : ndarray of float64, shape (n, n_classes)
        One-hot for the labeled samples, zero elsewhere.
    """
    lab = np.ascontiguousarray(codes, dtype=np.int64).copy()
    ind = np.ascontiguousarray(ind, dtype=np.int64)
    w = np.ascontiguousarray(similarity(dist))
    level = np.full(lab.shape[0], -1, dtype=np.int64)
    shares = np.zeros((lab.shape[0], n_classes), dtype=np.float64)
    labeled = np.flatnonzero(lab >= 0)
    shares[labeled, lab[labeled]] = 1.0
    return lab, ind, w, level, shares


def hdl_labels(dist, ind, codes, n_classes, features=None):
    """Run HDL on a kNN graph given as (n, k) arrays.

    Parameters
    ----------
    dist, ind : arrays of shape (n, k)
        The kNN graph (self excluded, distinct neighbours per row).
    codes : int array of shape (n,)
        Class codes, -1 for unlabeled.
    n_classes : int
    features : ndarray or None
        Features for the fallback of graph components without labels.

    Returns
    -------
    labels : ndarray of int64, shape (n,)
    order : ndarray of int64, shape (n_unlabeled,)
    level : ndarray of int64, shape (n,)
        -1 for the points labeled in ``codes``.
    shares : ndarray of shape (n, n_classes)
    n_fallback : int
    """
    from ._hdl_numba import hdl_propagate

    lab, ind, w, level, shares = propagation_state(dist, ind, codes, n_classes)
    n = lab.shape[0]
    n_unlabeled = int((lab < 0).sum())
    order = np.empty(n_unlabeled, dtype=np.int64)
    fb = np.zeros(n, dtype=np.int64)
    pos, n_fallback = hdl_propagate(ind, w, lab, n_classes, fb, False, order, level,
                                    shares, 0)
    if pos < n_unlabeled:  # the last level: no unlabeled point has a labeled neighbour
        fb = fallback_classes(dist, ind, lab, features)
        pos, n_fallback = hdl_propagate(ind, w, lab, n_classes, fb, True, order, level,
                                        shares, pos)
    return lab, order, level, shares, int(n_fallback)


def hdl_fallback_mask(ind, order, level):
    """Which samples HDL labeled by the fallback (no labeled neighbour at their turn).

    Only the ``max L = 0`` level has any; there, a sample had no labeled
    neighbour at its turn exactly when every neighbour was labeled after it
    (samples labeled in ``y`` count as labeled before everyone).
    """
    n = ind.shape[0]
    pos = np.full(n, -1, dtype=np.int64)
    pos[order] = np.arange(order.shape[0])
    mask = np.zeros(n, dtype=bool)
    cand = np.flatnonzero(level == 0)
    if cand.size:
        mask[cand] = (pos[ind[cand]] > pos[cand, None]).all(axis=1)
    return mask
