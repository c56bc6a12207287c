"""Baseline selectors: what USL is compared against.

All share :class:`~skusl.selection.BaseSelector` (validation,
``get_support``, ``transform``, ``score``) and only implement ``_select``.
None of them builds an ``n x n`` matrix: memory is O(n k) for the kNN-based
ones (TypiClust, ProbCover) and O(n) besides ``X`` for the others.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from .._sklearn_compat import HasMethods, Interval, StrOptions

from .._backends import BACKENDS, resolve_backend
from ..neighbors import NEIGHBORS_METHODS, arrays_to_graph, kneighbors, query_kneighbors
from ._base import BaseSelector
from ._kmeans import fit_kmeans
from ._usl_core import MIN_SQ_DIST

_SEED_MAX = np.iinfo(np.int32).max

_KNN_CONSTRAINTS = {
    "n_neighbors": [Interval(Integral, 1, None, closed="left")],
    "neighbors": [StrOptions(set(NEIGHBORS_METHODS)), HasMethods(["fit_transform"])],
    "backend": [StrOptions(set(BACKENDS))],
    "n_jobs": [Integral, None],
    "verbose": ["verbose"],
}


def _fill_unique(chosen, n_samples, n_select, order):
    """Append the first indices of ``order`` not yet chosen until ``n_select``."""
    chosen = list(dict.fromkeys(int(i) for i in chosen))[:n_select]
    if len(chosen) < n_select:
        taken = np.zeros(n_samples, dtype=bool)
        taken[chosen] = True
        rest = [int(i) for i in order if not taken[i]]
        chosen.extend(rest[: n_select - len(chosen)])
    return np.asarray(chosen, dtype=np.int64)


class RandomSelector(BaseSelector):
    """Uniformly random selection without replacement (the usual baseline).

    Parameters
    ----------
    n_select : int, default=10
        Annotation budget: the number of samples returned.
    normalize : bool, default=True
        L2-normalise features first. It does not change the selection, only
        the space of ``prototypes_`` and ``transform`` (as for the others).
    random_state : int, RandomState instance or None, default=None
        Seeds the draw. Same seed, same selection.

    Attributes
    ----------
    selected_indices_ : ndarray of shape (n_select,)
        The drawn samples, in draw order.
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
    >>> import numpy as np
    >>> from skusl.selection import RandomSelector
    >>> X = np.random.RandomState(0).rand(100, 4)
    >>> RandomSelector(n_select=3, random_state=0).fit(X).selected_indices_.shape
    (3,)
    """

    def __init__(self, n_select=10, *, normalize=True, random_state=None):
        self.n_select = n_select
        self.normalize = normalize
        self.random_state = random_state

    def _select(self, X, random_state):
        return random_state.choice(X.shape[0], self.n_select, replace=False)


class KMeansClosestSelector(BaseSelector):
    """The sample nearest each K-Means centroid.

    K-Means (the same solver as :class:`USLSelector`'s diversity step) into
    ``n_select`` clusters; each cluster contributes the training sample
    nearest its centroid. Centroids are served largest cluster first; if two
    centroids share a nearest sample (duplicate-heavy data), the later one
    takes its nearest sample not yet chosen.

    Parameters
    ----------
    n_select : int, default=10
        Annotation budget, and the number of clusters.
    normalize : bool, default=True
        L2-normalise features first (cosine geometry, as USL).
    random_state : int, RandomState instance or None, default=None
        Seeds K-Means. Same seed, same selection.

    Attributes
    ----------
    selected_indices_ : ndarray of shape (n_select,)
        Chosen samples, largest cluster first (ties by cluster id).
    labels_ : ndarray of shape (n_samples,)
        K-Means cluster of every sample.
    cluster_centers_ : ndarray of shape (n_select, n_features)
        K-Means centroids (in the normalised space).
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
    >>> from skusl.selection import KMeansClosestSelector
    >>> X, y = load_digits(return_X_y=True)
    >>> sel = KMeansClosestSelector(n_select=10, random_state=0).fit(X)
    >>> len(set(y[sel.selected_indices_])) >= 7
    True
    """

    def __init__(self, n_select=10, *, normalize=True, random_state=None):
        self.n_select = n_select
        self.normalize = normalize
        self.random_state = random_state

    def _select(self, X, random_state):
        n_samples = X.shape[0]
        labels, centers = fit_kmeans(X, self.n_select, int(random_state.randint(_SEED_MAX)))
        self.labels_ = labels
        self.cluster_centers_ = centers
        sizes = np.bincount(labels, minlength=self.n_select)
        order = np.lexsort((np.arange(self.n_select), -sizes))
        # n_select candidates per centroid always leave one not yet taken.
        _, cand = query_kneighbors(np.ascontiguousarray(centers[order], dtype=X.dtype), X,
                                   min(self.n_select, n_samples))
        taken = np.zeros(n_samples, dtype=bool)
        chosen = []
        for row in cand:
            pick = next(int(i) for i in row if not taken[i])
            taken[pick] = True
            chosen.append(pick)
        return np.asarray(chosen, dtype=np.int64)


def k_center_greedy(X, n_select, first):
    """Greedy farthest-first traversal (Gonzalez; Core-Set, Sener & Savarese 2018).

    Starts from ``first``; each next centre is the sample farthest from all
    centres chosen so far (ties to the smaller index). Keeps a single
    distance vector: O(n) memory besides ``X``, O(n d) per centre.

    Returns
    -------
    centres : ndarray of shape (n_select,), int64
        In the order chosen.
    min_dist : ndarray of shape (n_samples,)
        Squared distance of every sample to its nearest centre.
    """
    X = np.asarray(X)
    sq_norm = np.einsum("ij,ij->i", X, X)
    centres = np.empty(n_select, dtype=np.int64)
    min_dist = np.full(X.shape[0], np.inf)
    cur = int(first)
    for t in range(n_select):
        centres[t] = cur
        d = sq_norm - 2.0 * (X @ X[cur]) + sq_norm[cur]
        np.minimum(min_dist, np.maximum(d, 0.0), out=min_dist)
        min_dist[centres[: t + 1]] = -1.0  # never re-pick a centre (duplicates)
        cur = int(np.argmax(min_dist))
    min_dist[centres] = 0.0
    return centres, min_dist


class KCenterGreedySelector(BaseSelector):
    """Core-Set selection: greedy k-center (farthest-first traversal).

    Sener & Savarese, "Active Learning for Convolutional Neural Networks: A
    Core-Set Approach", ICLR 2018, with an empty labeled pool: the first
    centre is drawn uniformly at random from ``random_state`` (so a seed
    fixes the whole selection), and every next centre is the sample farthest
    from the centres chosen so far (ties to the smaller index). It minimises
    the covering radius, a 2-approximation of the k-center problem, and so
    favours outliers: a diverse but not representative baseline.

    Memory: one distance vector, O(n) besides ``X``; time O(n d) per centre.

    Parameters
    ----------
    n_select : int, default=10
        Annotation budget: the number of centres.
    normalize : bool, default=True
        L2-normalise features first.
    random_state : int, RandomState instance or None, default=None
        Draws the first centre.

    Attributes
    ----------
    selected_indices_ : ndarray of shape (n_select,)
        Centres in the order chosen (the random first centre first).
    radius_ : float
        Covering radius: the largest distance of a sample to its nearest
        centre.
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
    >>> import numpy as np
    >>> from skusl.selection import KCenterGreedySelector
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 0.0], [0.0, 5.0]])
    >>> sel = KCenterGreedySelector(n_select=3, normalize=False, random_state=0).fit(X)
    >>> sorted(sel.selected_indices_.tolist())[-2:]
    [2, 3]
    """

    def __init__(self, n_select=10, *, normalize=True, random_state=None):
        self.n_select = n_select
        self.normalize = normalize
        self.random_state = random_state

    def _select(self, X, random_state):
        first = random_state.randint(X.shape[0])
        centres, min_dist = k_center_greedy(X, self.n_select, first)
        self.radius_ = float(np.sqrt(min_dist.max()))
        return centres


def typicality(dist):
    """TypiClust's typicality ``1 / mean_j ||x_i - x_j||`` over the kNN (eq. 3).

    ``dist`` is (n, k) Euclidean distances, self excluded; the mean is
    floored so exact duplicates give a large finite value.
    """
    mean = np.asarray(dist, dtype=np.float64).mean(axis=1)
    return 1.0 / np.maximum(mean, np.sqrt(MIN_SQ_DIST))


class TypiClustSelector(BaseSelector):
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

    _parameter_constraints: dict = {
        **BaseSelector._parameter_constraints,
        **_KNN_CONSTRAINTS,
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
        n_clusters = min(self.n_select, 500) if self.n_clusters is None else self.n_clusters
        if n_clusters > n_samples:
            raise ValueError(f"n_clusters={n_clusters} exceeds n_samples={n_samples}; "
                             "lower n_clusters.")
        knn_seed, kmeans_seed = random_state.randint(_SEED_MAX, size=2)
        dist, ind = kneighbors(X, self.n_neighbors, neighbors=self.neighbors,
                               backend=resolve_backend(self.backend, X),
                               random_state=int(knn_seed), n_jobs=self.n_jobs,
                               verbose=self.verbose)
        self.knn_graph_ = arrays_to_graph(dist, ind)
        typ = typicality(dist)
        labels, centers = fit_kmeans(X, n_clusters, int(kmeans_seed))
        self.typicality_, self.labels_, self.cluster_centers_ = typ, labels, centers
        return typiclust_picks(typ, labels, n_clusters, self.n_select, self.min_cluster_size)


def typiclust_picks(typ, labels, n_clusters, n_select, min_cluster_size):
    """TypiClust's visiting loop given typicality and cluster labels."""
    sizes = np.bincount(labels, minlength=n_clusters)
    kept = np.flatnonzero(sizes > min_cluster_size)
    if kept.size == 0:
        kept = np.flatnonzero(sizes > 0)
    kept = kept[np.lexsort((kept, -sizes[kept]))]
    # Members of each kept cluster, most typical first (ties to smaller index).
    order = np.lexsort((np.arange(typ.size), -typ))
    queues = {c: [] for c in kept.tolist()}
    for i in order:
        q = queues.get(int(labels[i]))
        if q is not None:
            q.append(int(i))
    heads = dict.fromkeys(queues, 0)
    chosen = []
    while len(chosen) < n_select and any(heads[c] < len(queues[c]) for c in queues):
        for c in kept.tolist():
            if len(chosen) == n_select:
                break
            if heads[c] < len(queues[c]):
                chosen.append(queues[c][heads[c]])
                heads[c] += 1
    return _fill_unique(chosen, typ.size, n_select, order)


def probcover_delta(dist, ind, pseudo_labels, alpha):
    """Largest ball radius whose purity is at least ``alpha`` (ProbCover's heuristic).

    A ball ``B(x_i, delta)`` (on the kNN graph: the neighbours closer than
    ``delta``) is pure when all its members share ``x_i``'s pseudo-label, i.e.
    when ``delta <= r_i``, the distance to i's first neighbour of another
    pseudo-label (``inf`` if none among its k neighbours). Purity(delta) =
    share of pure balls, non-increasing in delta, so the largest delta with
    purity >= alpha is an order statistic of ``r``: exact, no grid.

    Returns
    -------
    delta : float
        ``inf`` when more than ``alpha`` of the balls stay pure up to the
        graph's radius (the heuristic cannot bound delta).
    impure_radius : ndarray of shape (n_samples,)
        ``r`` above.
    """
    other = pseudo_labels[ind] != pseudo_labels[:, None]
    first = np.where(other.any(axis=1), other.argmax(axis=1), -1)
    r = np.full(dist.shape[0], np.inf)
    has = first >= 0
    r[has] = dist[np.flatnonzero(has), first[has]]
    r_sorted = np.sort(r)
    # purity(delta) = mean(r >= delta) >= alpha  <=>  delta <= r_sorted[j]
    # with j = n - ceil(alpha n) (the smallest r among the top ceil(alpha n)).
    n = r.size
    need = int(np.ceil(alpha * n - 1e-9))
    j = max(n - max(need, 1), 0)
    return float(r_sorted[j]), r


def max_coverage_greedy(dist, ind, delta, n_select, random_state):
    """ProbCover's greedy max coverage on the delta-ball graph (kNN-restricted).

    Point i covers itself and its kNN neighbours closer than ``delta``. Each
    step picks the point covering the most still-uncovered points (ties to
    the smaller index); once everything coverable is covered, the remaining
    picks are drawn at random from unchosen points, as the reference code
    does. Uses in-/out-edge arrays of the kNN graph: O(n k) memory.

    Returns
    -------
    chosen : ndarray of shape (n_select,), int64
    covered : ndarray of shape (n_samples,), bool
    """
    n, k = ind.shape
    edge = dist < delta  # (n, k) out-edges i -> ind[i, j]
    # degree = self + out-edges to uncovered points
    degree = 1 + edge.sum(axis=1).astype(np.int64)
    # incoming edges: for each target t, the sources s with edge s -> t
    src = np.repeat(np.arange(n), k)[edge.ravel()]
    dst = ind.ravel()[edge.ravel()]
    order = np.argsort(dst, kind="stable")
    in_src = src[order]
    in_ptr = np.concatenate(([0], np.cumsum(np.bincount(dst, minlength=n))))
    covered = np.zeros(n, dtype=bool)
    chosen_mask = np.zeros(n, dtype=bool)
    chosen = []
    for _ in range(n_select):
        deg = np.where(chosen_mask, -1, degree)
        cur = int(np.argmax(deg))
        if deg[cur] <= 0:
            break
        chosen.append(cur)
        chosen_mask[cur] = True
        new = [cur] if not covered[cur] else []
        new.extend(int(t) for t in ind[cur][edge[cur]] if not covered[t])
        for t in new:
            covered[t] = True
            # t no longer counts for anyone pointing at it, nor for itself
            degree[t] -= 1
            degree[in_src[in_ptr[t]:in_ptr[t + 1]]] -= 1
    if len(chosen) < n_select:
        rest = np.flatnonzero(~chosen_mask)
        extra = random_state.choice(rest, n_select - len(chosen), replace=False)
        chosen.extend(int(i) for i in extra)
    return np.asarray(chosen, dtype=np.int64), covered


class ProbCoverSelector(BaseSelector):
    """ProbCover: greedy maximum coverage of delta-balls.

    Yehuda, Dekel, Hacohen & Weinshall, "Active Learning Through a Covering
    Lens", NeurIPS 2022. Each sample covers the ball of radius ``delta``
    around it; the selection greedily maximises the number of covered
    samples (probability coverage). When ``delta`` is not given it is chosen
    by the paper's purity heuristic: with K-Means pseudo-labels, the largest
    delta for which at least ``alpha`` (paper: 0.95) of the balls are pure.

    For memory O(n k), balls are restricted to the ``n_neighbors`` nearest
    neighbours (the reference code keeps every pair closer than delta, which
    is quadratic in the worst case). The purity heuristic is then computed on
    the same graph, in closed form (no grid of deltas). A ``UserWarning`` says
    when the heuristic is unreliable: (a) purity stays above ``alpha`` up to
    the graph's radius, so delta is capped by the graph (raise
    ``n_neighbors``); or (b) the chosen delta leaves most balls empty (only
    the sample itself), so ProbCover degenerates towards a random pick
    (pseudo-labels too fine: lower ``n_clusters`` or give ``delta``).

    Parameters
    ----------
    n_select : int, default=10
        Annotation budget: the number of samples returned.
    delta : float or None, default=None
        Ball radius (Euclidean, in the normalised space). ``None``: purity
        heuristic.
    alpha : float, default=0.95
        Purity threshold of the heuristic.
    n_neighbors : int, default=20
        Neighbours kept per sample: the largest a ball can be (besides self).
    n_clusters : int or None, default=None
        K-Means clusters for the pseudo-labels (paper: the number of
        classes); ``None`` means ``n_select``.
    normalize : bool, default=True
        L2-normalise features first.
    neighbors : {"auto", "exact", "approximate"} or estimator, default="auto"
        How to build the kNN graph; see :func:`skusl.neighbors.kneighbors`.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        Kernels for the kNN graph.
    random_state : int, RandomState instance or None, default=None
        Seeds K-Means, the approximate kNN search and the random picks made
        once everything coverable is covered.
    n_jobs : int or None, default=None
        Threads for the kNN search (-1: all cores).
    verbose : bool, default=False
        Show progress bars.

    Attributes
    ----------
    selected_indices_ : ndarray of shape (n_select,)
        Chosen samples in greedy order (largest marginal coverage first).
    delta_ : float
        The ball radius used.
    purity_ : float or None
        Share of pure balls at ``delta_`` (heuristic only; else None).
    coverage_ : float
        Share of samples covered by the selected balls.
    labels_ : ndarray of shape (n_samples,) or None
        K-Means pseudo-labels (heuristic only; else None).
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
    >>> from skusl.selection import ProbCoverSelector
    >>> X, y = load_digits(return_X_y=True)
    >>> sel = ProbCoverSelector(n_select=10, random_state=0).fit(X)
    >>> 0 < sel.delta_ < 2 and sel.coverage_ > 0
    True
    """

    _parameter_constraints: dict = {
        **BaseSelector._parameter_constraints,
        **_KNN_CONSTRAINTS,
        "delta": [Interval(Real, 0, None, closed="neither"), None],
        "alpha": [Interval(Real, 0, 1, closed="right")],
        "n_clusters": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(self, n_select=10, *, delta=None, alpha=0.95, n_neighbors=20, n_clusters=None,
                 normalize=True, neighbors="auto", backend="auto", random_state=None,
                 n_jobs=None, verbose=False):
        self.n_select = n_select
        self.delta = delta
        self.alpha = alpha
        self.n_neighbors = n_neighbors
        self.n_clusters = n_clusters
        self.normalize = normalize
        self.neighbors = neighbors
        self.backend = backend
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _select(self, X, random_state):
        n_samples = X.shape[0]
        knn_seed, kmeans_seed = random_state.randint(_SEED_MAX, size=2)
        dist, ind = kneighbors(X, self.n_neighbors, neighbors=self.neighbors,
                               backend=resolve_backend(self.backend, X),
                               random_state=int(knn_seed), n_jobs=self.n_jobs,
                               verbose=self.verbose)
        dist = np.asarray(dist, dtype=np.float64)
        self.knn_graph_ = arrays_to_graph(dist, ind)
        self.labels_ = self.purity_ = None
        if self.delta is not None:
            delta = float(self.delta)
        else:
            n_clusters = self.n_select if self.n_clusters is None else self.n_clusters
            n_clusters = min(n_clusters, n_samples)
            labels, _ = fit_kmeans(X, n_clusters, int(kmeans_seed))
            delta, r = probcover_delta(dist, ind, labels, self.alpha)
            if not np.isfinite(delta):
                warnings.warn(
                    f"ProbCover's purity heuristic is unreliable here: over alpha="
                    f"{self.alpha} of the balls stay pure up to the kNN graph's radius, so "
                    f"delta is capped at it; raise n_neighbors (={self.n_neighbors}) or "
                    "pass delta.", UserWarning)
                delta = float(np.nextafter(dist[:, -1].max(), np.inf))
            self.labels_ = labels
            self.purity_ = float(np.mean(r >= delta))
            nonempty = float(np.mean(dist[:, 0] < delta))
            if nonempty < 0.5:
                warnings.warn(
                    f"ProbCover's purity heuristic is unreliable here: delta={delta:.4g} "
                    f"leaves {1 - nonempty:.0%} of the balls holding only their centre, so "
                    "the selection is close to random; the pseudo-labels (n_clusters="
                    f"{n_clusters}) may be too fine for these embeddings; lower "
                    "n_clusters or pass delta.", UserWarning)
        chosen, covered = max_coverage_greedy(dist, ind, delta, self.n_select, random_state)
        self.delta_ = delta
        self.coverage_ = float(covered.mean())
        return chosen
