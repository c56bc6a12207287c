"""TypiClustSelector: the most typical sample of each of the largest clusters."""

from numbers import Integral

import numpy as np
from .._sklearn_compat import Interval

from ._base import SEED_MAX, BaseKNNSelector, fill_unique
from ..neighbors._kmeans import fit_kmeans
from ._usl_core import MIN_SQ_DIST


def typicality(dist):
    """TypiClust's typicality ``1 / mean_j ||x_i - x_j||`` over the kNN (eq. 3).

    ``dist`` is (n, k) Euclidean distances, self excluded; the mean is
    floored so exact duplicates give a large finite value.
    """
    mean = np.asarray(dist, dtype=np.float64).mean(axis=1)
    return 1.0 / np.maximum(mean, np.sqrt(MIN_SQ_DIST))


class TypiClustSelector(BaseKNNSelector):
    """TypiClust: the most typical sample of each of the largest clusters.

    Hacohen, Dekel & Weinshall, "Active Learning on a Budget: Opposite
    Strategies Suit High and Low Budgets", ICML 2022 (TPC_RP with an empty
    labeled pool). Typicality is the inverse mean Euclidean distance to the
    ``n_neighbors`` nearest neighbours (paper: K=20). K-Means splits the data
    into ``n_clusters`` clusters (paper: the budget, at most 500); clusters
    of at most ``min_cluster_size`` samples are dropped (reference code:
    ``MIN_CLUSTER_SIZE = 5``), the rest are served largest first, and each
    visit takes the most typical sample of the cluster not yet taken. With
    more picks than kept clusters, the visits cycle (largest first again).

    One difference from the reference code, for memory O(n k) and a shared
    graph: typicality uses the global kNN graph, whereas the reference code
    recomputes each cluster's kNN among its own members (``k = min(20,
    size // 2)``). Both agree wherever a point's nearest neighbours lie in
    its cluster, which is the case for the typical points that get picked.

    Warm start, as the reference's TPC_RP with a labeled pool: with
    ``fit(X, labeled=idx)``, K-Means makes ``n_select + len(idx)`` clusters
    (at most 500 + ``len(idx)``) and each pick goes to the kept cluster
    holding the fewest labeled or picked samples (largest first). Not
    prefix-consistent: the partition depends on the budget.

    Parameters
    ----------
    n_select : int, default=10
        Annotation budget: the number of samples returned (paper: B).
    n_neighbors : int, default=20
        Neighbours in the typicality (paper: K=20), self excluded.
    n_clusters : int or None, default=None
        K-Means clusters; ``None`` means ``min(n_select, 500)`` as in the
        reference code.
    min_cluster_size : int, default=5
        Clusters with at most this many samples are dropped (unless every
        cluster is that small).
    normalize : bool, default=True
        L2-normalise features first (the paper uses normalised
        self-supervised embeddings).
    neighbors : {"auto", "exact", "approximate"} or estimator, default="auto"
        How to build the kNN graph; see :func:`skusl.neighbors.kneighbors`.
        Pass :class:`skusl.neighbors.PrecomputedKNN` to reuse a graph.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        Kernels for the kNN graph.
    random_state : int, RandomState instance or None, default=None
        Seeds K-Means and the approximate kNN search.
    n_jobs : int or None, default=None
        Threads for the kNN search (-1: all cores).
    verbose : bool, default=False
        Show progress bars.

    Attributes
    ----------
    selected_indices_ : ndarray of shape (n_select,)
        Chosen samples in visiting order (largest cluster first).
    typicality_ : ndarray of shape (n_samples,)
        Typicality of every sample.
    labels_ : ndarray of shape (n_samples,)
        K-Means cluster of every sample.
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        K-Means centroids.
    knn_graph_ : scipy.sparse.csr_matrix of shape (n_samples, n_samples)
        The kNN distance graph (self excluded).
    prototypes_ : ndarray of shape (n_select, n_features)
        The selected samples in the selector's feature space.
    n_samples_fit_ : int
        Number of training samples.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when ``X`` has string column names.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skusl.selection import TypiClustSelector
    >>> X, y = load_digits(return_X_y=True)
    >>> sel = TypiClustSelector(n_select=10, random_state=0).fit(X)
    >>> len(set(y[sel.selected_indices_])) >= 7
    True
    """

    _supports_labeled = True

    _parameter_constraints: dict = {
        **BaseKNNSelector._parameter_constraints,
        "n_clusters": [Interval(Integral, 1, None, closed="left"), None],
        "min_cluster_size": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, n_select=10, *, n_neighbors=20, n_clusters=None, min_cluster_size=5,
                 normalize=True, neighbors="auto", backend="auto", random_state=None,
                 n_jobs=None, verbose=False):
        self.n_select = n_select
        self.n_neighbors = n_neighbors
        self.n_clusters = n_clusters
        self.min_cluster_size = min_cluster_size
        self.normalize = normalize
        self.neighbors = neighbors
        self.backend = backend
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _select(self, X, random_state):
        n_samples = X.shape[0]
        labeled = self.labeled_indices_
        n_clusters = (min(self.n_select, 500) + labeled.size if self.n_clusters is None
                      else self.n_clusters)
        if n_clusters > n_samples:
            raise ValueError(f"n_clusters={n_clusters} exceeds n_samples={n_samples}; "
                             "lower n_clusters.")
        knn_seed, kmeans_seed = random_state.randint(SEED_MAX, size=2)
        dist, _ = self._knn(X, knn_seed)
        typ = typicality(dist)
        labels, centers = fit_kmeans(X, n_clusters, int(kmeans_seed))
        self.typicality_, self.labels_, self.cluster_centers_ = typ, labels, centers
        return typiclust_picks(typ, labels, n_clusters, self.n_select, self.min_cluster_size,
                               labeled=labeled)


def typiclust_picks(typ, labels, n_clusters, n_select, min_cluster_size, labeled=None):
    """TypiClust's visiting loop given typicality and cluster labels.

    Each pick goes to the kept cluster (more than ``min_cluster_size``
    members) with the fewest labeled-or-picked members, largest first, ties
    by cluster id; it takes that cluster's most typical member not yet taken.
    Without ``labeled`` this is the round robin over the kept clusters,
    largest first.
    """
    n = typ.size
    labeled = np.zeros(0, dtype=np.int64) if labeled is None else np.asarray(labeled)
    sizes = np.bincount(labels, minlength=n_clusters)
    kept = np.flatnonzero(sizes > min_cluster_size)
    if kept.size == 0:
        kept = np.flatnonzero(sizes > 0)
    kept = kept[np.lexsort((kept, -sizes[kept]))]
    order = np.lexsort((np.arange(n), -typ))  # most typical first, ties to smaller index
    free = np.ones(n, dtype=bool)
    free[labeled] = False
    # Members of every cluster, most typical first: one sort, no loop over samples.
    by_cluster = order[np.argsort(labels[order], kind="stable")]
    by_cluster = by_cluster[free[by_cluster]]
    start = np.searchsorted(labels[by_cluster], kept, side="left")
    stop = np.searchsorted(labels[by_cluster], kept, side="right")
    count = np.bincount(labels[labeled], minlength=n_clusters)[kept].astype(np.int64)
    head = start.copy()
    chosen = []
    rank = np.arange(kept.size)
    while len(chosen) < n_select:
        open_ = head < stop
        if not open_.any():
            break
        # min count, then rank (largest cluster first)
        c = int(np.lexsort((rank[open_], count[open_]))[0])
        c = int(rank[open_][c])
        chosen.append(int(by_cluster[head[c]]))
        head[c] += 1
        count[c] += 1
    return fill_unique(chosen, n, n_select, order, exclude=labeled)
