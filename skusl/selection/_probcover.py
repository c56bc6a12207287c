"""ProbCoverSelector: greedy maximum coverage of delta-balls."""

import warnings
from numbers import Integral, Real

import numpy as np
from .._sklearn_compat import Interval, StrOptions

from ._base import SEED_MAX, BaseKNNSelector
from ..neighbors._kmeans import fit_kmeans

#: Default bound on the pairs held by the true delta-ball graph (about 1.2 GB
#: of int32 indices and flags); above it fit raises before building.
MAX_BALL_EDGES = 10**8


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


def _greedy_max_degree(n_select, degree, chosen_mask, cover):
    """The greedy loop of both coverage solvers: up to ``n_select`` picks.

    Each pick is the unchosen sample of largest ``degree`` (ties to the
    smaller index) while that degree is positive; ``cover(pick)`` then marks
    what it covers and lowers ``degree`` in place. ``chosen_mask`` is
    updated; returns the picks (a list, in order).
    """
    chosen = []
    for _ in range(n_select):
        deg = np.where(chosen_mask, -1, degree)
        cur = int(np.argmax(deg))
        if deg[cur] <= 0:
            break
        chosen.append(cur)
        chosen_mask[cur] = True
        cover(cur)
    return chosen


def max_coverage_greedy(dist, ind, delta, n_select, random_state):
    """ProbCover's greedy max coverage on kNN-restricted balls (``balls="knn"``).

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

    def cover(cur):
        new = [cur] if not covered[cur] else []
        new.extend(int(t) for t in ind[cur][edge[cur]] if not covered[t])
        for t in new:
            covered[t] = True
            # t no longer counts for anyone pointing at it, nor for itself
            degree[t] -= 1
            degree[in_src[in_ptr[t]:in_ptr[t + 1]]] -= 1

    chosen = _greedy_max_degree(n_select, degree, chosen_mask, cover)
    if len(chosen) < n_select:
        rest = np.flatnonzero(~chosen_mask)
        extra = random_state.choice(rest, n_select - len(chosen), replace=False)
        chosen.extend(int(i) for i in extra)
    return np.asarray(chosen, dtype=np.int64), covered


def _sq_dist_block(X, sq_norm, rows):
    """Squared distances of ``X[rows]`` to every row of ``X`` (float64, clipped at 0)."""
    G = X[rows] @ X.T
    sq = sq_norm[rows, None] - 2.0 * G + sq_norm[None, :]
    return np.maximum(sq, 0.0)


def _probe_rows(n_samples, n_probe=1000):
    """Evenly spaced rows used to estimate ball sizes (no random draw needed)."""
    return np.unique(np.linspace(0, n_samples - 1, min(n_samples, n_probe)).astype(np.int64))


def auto_delta(X, sq_norm, n_balls):
    """delta="auto": the median radius of a ball holding ``n / n_balls`` samples.

    With that radius ``n_balls`` typical balls could cover the data if they
    were disjoint; a dense class fits in one or two balls, so the greedy
    moves on to the other classes instead of piling up in the densest one
    (the collapse of the purity heuristic's small delta). Estimated from
    1000 evenly spaced rows against all samples: O(1000 n) time and memory.
    """
    n = X.shape[0]
    q = int(min(n - 1, np.ceil(n / max(n_balls, 1))))
    rows = _probe_rows(n)
    sq = _sq_dist_block(X, sq_norm, rows)
    kth = np.partition(sq, q, axis=1)[:, q]  # column 0 is the row itself
    return float(np.sqrt(np.median(kth)))


def estimate_ball_edges(X, sq_norm, delta):
    """Estimated number of (i, j) pairs closer than ``delta``, self included."""
    n = X.shape[0]
    rows = _probe_rows(n)
    count = int((_sq_dist_block(X, sq_norm, rows) < delta * delta).sum())
    return int(np.ceil(count * n / rows.size))


def delta_ball_graph(X, sq_norm, delta, *, block_rows=1024):
    """CSR pattern of the true delta-balls: row i holds every j with d(i, j) < delta.

    Self included. Built in row blocks of ``block_rows x n`` distances, so
    memory is O(block n + edges); the pattern is symmetric, so row i is also
    the set of balls that contain i.
    """
    import scipy.sparse as sp

    n = X.shape[0]
    indptr = np.zeros(n + 1, dtype=np.int64)
    parts = []
    d2 = delta * delta
    for start in range(0, n, block_rows):
        rows = np.arange(start, min(n, start + block_rows))
        inside = _sq_dist_block(X, sq_norm, rows) < d2
        inside[np.arange(rows.size), rows] = True  # a ball always holds its centre
        r, c = np.nonzero(inside)
        parts.append(c.astype(np.int32 if n < 2**31 else np.int64))
        indptr[rows + 1] = np.bincount(r, minlength=rows.size)
    indices = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
    np.cumsum(indptr, out=indptr)
    data = np.ones(indices.size, dtype=bool)
    return sp.csr_matrix((data, indices, indptr), shape=(n, n))


def ball_coverage_greedy(balls, n_select, random_state, labeled=None):
    """Greedy maximum coverage of the (symmetric) ball pattern ``balls``.

    Each step picks the unchosen sample whose ball holds the most uncovered
    samples (ties to the smaller index). ``labeled`` samples are chosen
    already: their balls start covered. Once everything coverable is
    covered the rest is a prefix of one random permutation of the unchosen
    samples (the reference draws at random), so the ranking is
    prefix-consistent. Work per step: the balls of the newly covered samples.

    Returns
    -------
    chosen : ndarray of shape (n_select,), int64
    covered : ndarray of shape (n_samples,), bool
    """
    n = balls.shape[0]
    indptr, indices = balls.indptr, balls.indices
    degree = np.diff(indptr).astype(np.int64)
    covered = np.zeros(n, dtype=bool)
    chosen_mask = np.zeros(n, dtype=bool)

    def cover(centre_rows):
        ball = np.unique(balls[centre_rows].indices)
        new = ball[~covered[ball]]
        covered[new] = True
        # a newly covered sample no longer counts for any ball holding it
        np.subtract(degree, np.bincount(balls[new].indices, minlength=n), out=degree)

    if labeled is not None and len(labeled):
        chosen_mask[labeled] = True
        cover(np.asarray(labeled))
    chosen = _greedy_max_degree(n_select, degree, chosen_mask,
                                lambda cur: cover(np.array([cur])))
    if len(chosen) < n_select:
        rest = np.flatnonzero(~chosen_mask)
        chosen.extend(int(i) for i in rest[random_state.permutation(rest.size)]
                      [: n_select - len(chosen)])
    del indptr, indices
    return np.asarray(chosen, dtype=np.int64), covered


def exact_impure_radius(X, sq_norm, pseudo_labels, r):
    """Complete ``r`` (distance to the nearest sample of another pseudo-label).

    ``r`` comes from the kNN graph, ``inf`` where no neighbour of another
    label lies among the k nearest; those rows are computed exactly against
    all samples of other labels, in row blocks (memory O(block n)).
    """
    r = r.copy()
    todo = np.flatnonzero(~np.isfinite(r))
    for start in range(0, todo.size, 1024):
        rows = todo[start:start + 1024]
        sq = _sq_dist_block(X, sq_norm, rows)
        sq[pseudo_labels[rows][:, None] == pseudo_labels[None, :]] = np.inf
        r[rows] = np.sqrt(sq.min(axis=1))
    return r




class ProbCoverSelector(BaseKNNSelector):
    """ProbCover: greedy maximum coverage of delta-balls.

    Yehuda, Dekel, Hacohen & Weinshall, "Active Learning Through a Covering
    Lens", NeurIPS 2022. Each sample covers the ball of radius ``delta``
    around it; the selection greedily maximises the number of covered
    samples (probability coverage).

    Balls (``balls``): ``"radius"`` (default) holds every sample closer than
    ``delta``, as the paper and its reference code, built by a blocked
    radius search with memory O(number of pairs within delta); the pair
    count is estimated from 1000 rows first and ``fit`` raises a
    ``ValueError`` when it would exceed ``max_edges``. ``"knn"`` restricts
    each ball to the ``n_neighbors`` nearest neighbours (O(n k) memory, the
    earlier approximation): in a dense region every ball then ties at
    ``n_neighbors + 1`` samples and the greedy keeps picking there.

    Radius (``delta``):

    - ``"auto"`` (default): the median radius of a ball holding
      ``n / (n_select + n_labeled)`` samples, so that the budget's balls can
      reach the whole set and a dense class fills one ball instead of
      absorbing the budget.
    - ``"purity"`` (or ``None``): the paper's heuristic. With K-Means
      pseudo-labels (``n_clusters``), the largest delta for which at least
      ``alpha`` (paper: 0.95) of the balls are pure, in closed form (an
      order statistic of each sample's distance to its nearest sample of
      another pseudo-label; exact for ``balls="radius"``, capped by the kNN
      graph's radius for ``balls="knn"``). Measured on the shared sets
      (``docs/benchmarks/quality``), this delta is small where one class is
      much denser than the others (MNIST's ones), so all balls there hold
      hundreds of samples and the greedy spends the budget in that class:
      coverage 10-13% of the classes at 1 label per class, below random.
      scikit-activeml's ProbCover, with the same heuristic, collapses the
      same way.
    - a float: that radius (Euclidean, in the normalised space).

    A ``UserWarning`` says when the purity heuristic is unreliable (delta
    capped by the kNN graph, or most balls holding only their centre).

    Warm start: ``fit(X, labeled=idx)`` starts the greedy with the balls of
    ``idx`` covered. Prefix-consistent: ``selected_indices_[:m]`` is the
    budget-``m`` selection for a fixed ``delta`` (``"auto"`` depends on the
    budget; pass the fitted ``delta_`` to grow a selection).

    Parameters
    ----------
    n_select : int, default=10
        Annotation budget: the number of samples returned.
    delta : float, {"auto", "purity"} or None, default="auto"
        Ball radius, or the rule that sets it (see above); ``None`` is
        ``"purity"``.
    alpha : float, default=0.95
        Purity threshold of the purity heuristic.
    balls : {"radius", "knn"}, default="radius"
        True delta-balls, or balls restricted to the kNN graph.
    max_edges : int, default=100_000_000
        Largest number of (centre, member) pairs the radius balls may hold;
        above, ``fit`` raises before building them (lower ``delta``,
        subsample, or use ``balls="knn"``).
    n_neighbors : int, default=20
        Neighbours of the kNN graph (the purity heuristic's first pass, and
        the balls' size bound for ``balls="knn"``).
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
    labeled_indices_ : ndarray of int64
        The ``labeled`` indices given to ``fit`` (sorted; empty if none).
    delta_ : float
        The ball radius used.
    purity_ : float or None
        Share of pure balls at ``delta_`` (purity heuristic only; else None).
    coverage_ : float
        Share of samples covered by the selected (and labeled) balls.
    n_ball_edges_ : int
        Pairs held by the balls (self included).
    labels_ : ndarray of shape (n_samples,) or None
        K-Means pseudo-labels (purity heuristic only; else None).
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
    >>> 0 < sel.delta_ < 2 and sel.coverage_ > 0.5
    True
    """

    _supports_labeled = True

    _parameter_constraints: dict = {
        **BaseKNNSelector._parameter_constraints,
        "delta": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto", "purity"}),
                  None],
        "alpha": [Interval(Real, 0, 1, closed="right")],
        "balls": [StrOptions({"radius", "knn"})],
        "max_edges": [Interval(Integral, 1, None, closed="left")],
        "n_clusters": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(self, n_select=10, *, delta="auto", alpha=0.95, balls="radius",
                 max_edges=MAX_BALL_EDGES, n_neighbors=20, n_clusters=None, normalize=True,
                 neighbors="auto", backend="auto", random_state=None, n_jobs=None,
                 verbose=False):
        self.n_select = n_select
        self.delta = delta
        self.alpha = alpha
        self.balls = balls
        self.max_edges = max_edges
        self.n_neighbors = n_neighbors
        self.n_clusters = n_clusters
        self.normalize = normalize
        self.neighbors = neighbors
        self.backend = backend
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _purity_delta(self, X, sq_norm, dist, ind, seed):
        n_samples = X.shape[0]
        n_clusters = self.n_select if self.n_clusters is None else self.n_clusters
        n_clusters = min(n_clusters, n_samples)
        labels, _ = fit_kmeans(X, n_clusters, int(seed))
        delta, r = probcover_delta(dist, ind, labels, self.alpha)
        if self.balls == "radius":  # exact: complete r beyond the graph, then re-rank
            r = exact_impure_radius(X, sq_norm, labels, r)
            r_sorted = np.sort(r)
            need = int(np.ceil(self.alpha * r.size - 1e-9))
            delta = float(r_sorted[max(r.size - max(need, 1), 0)])
        if not np.isfinite(delta):
            warnings.warn(
                f"ProbCover's purity heuristic is unreliable here: over alpha="
                f"{self.alpha} of the balls stay pure up to the kNN graph's radius, so "
                f"delta is capped at it; raise n_neighbors (={self.n_neighbors}), pass "
                "delta, or use balls='radius'.", UserWarning, stacklevel=4)
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
                "n_clusters or pass delta.", UserWarning, stacklevel=4)
        return delta

    def _select(self, X, random_state):
        knn_seed, kmeans_seed = random_state.randint(SEED_MAX, size=2)
        dist, ind = self._knn(X, knn_seed, dtype=np.float64)
        labeled = self.labeled_indices_
        Xd = np.asarray(X, dtype=np.float64)
        sq_norm = np.einsum("ij,ij->i", Xd, Xd)
        self.labels_ = self.purity_ = None
        if self.delta is None or self.delta == "purity":
            delta = self._purity_delta(Xd, sq_norm, dist, ind, kmeans_seed)
        elif self.delta == "auto":
            delta = auto_delta(Xd, sq_norm, self.n_select + labeled.size)
            delta = float(np.nextafter(delta, np.inf))  # the ball holds its q-th neighbour
        else:
            delta = float(self.delta)
        if self.balls == "knn":
            if labeled.size:
                raise ValueError("labeled= needs balls='radius' in ProbCoverSelector.")
            chosen, covered = max_coverage_greedy(dist, ind, delta, self.n_select,
                                                  random_state)
            self.n_ball_edges_ = int((dist < delta).sum() + X.shape[0])
        else:
            est = estimate_ball_edges(Xd, sq_norm, delta)
            if est > self.max_edges:
                raise ValueError(
                    f"ProbCover's delta-balls (delta={delta:.4g}) would hold about {est:.3g} "
                    f"pairs (~{est * 5 / 2**30:.1f} GiB), over max_edges={self.max_edges}; "
                    "raise max_edges if the memory is there, subsample X, pass a smaller "
                    "delta, or use balls='knn' (O(n k) memory).")
            balls = delta_ball_graph(Xd, sq_norm, delta)
            self.n_ball_edges_ = int(balls.nnz)
            chosen, covered = ball_coverage_greedy(balls, self.n_select, random_state,
                                                   labeled=labeled)
        self.delta_ = delta
        self.coverage_ = float(covered.mean())
        return chosen
