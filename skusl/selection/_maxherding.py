"""MaxHerdingSelector: greedy maximum of a kernel coverage (generalised coverage)."""

from numbers import Integral, Real

import numpy as np
from .._sklearn_compat import Interval, StrOptions

from ..neighbors import query_kneighbors
from ._base import SEED_MAX, BaseKNNSelector

#: Micro-clusters of the coreset: the greedy's cost is O(m^2) per pick,
#: independent of n; ``docs/benchmarks/quality`` compares it with the exact
#: (dense) objective of scikit-activeml at n = 10k.
DEFAULT_CORESET = 2000

#: Rows of the (block, m) distance block of the coreset assignment.
_BLOCK_ROWS = 4096


def _sq_dists(A, B):
    """Squared Euclidean distances (float64, clipped at 0) between rows of A and B."""
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    sq = (np.einsum("ij,ij->i", A, A)[:, None] - 2.0 * (A @ B.T)
          + np.einsum("ij,ij->i", B, B)[None, :])
    return np.maximum(sq, 0.0)


def micro_cluster_coreset(X, n_coreset, random_state):
    """Weighted coreset: ``n_coreset`` micro-clusters of ``X``.

    Seeds are ``n_coreset`` distinct random rows; every sample joins its
    nearest seed (one blocked pass, O(n m d) time, O(n + block m) memory),
    and each micro-cluster is summarised by its mean and its size. One
    Lloyd step, no iterations: the coverage objective only needs every
    sample within a micro-cluster's radius of its centre.

    Returns
    -------
    centres : ndarray of shape (m, n_features), float64
    weights : ndarray of shape (m,), float64
        Members per micro-cluster (they sum to n).
    members : ndarray of shape (n_samples,), int64
        Micro-cluster of every sample.
    """
    n = X.shape[0]
    seeds = np.sort(random_state.choice(n, n_coreset, replace=False))
    _, nearest = query_kneighbors(np.ascontiguousarray(X), np.ascontiguousarray(X[seeds]), 1)
    members = np.asarray(nearest[:, 0], dtype=np.int64)
    weights = np.bincount(members, minlength=n_coreset).astype(np.float64)
    centres = np.zeros((n_coreset, X.shape[1]), dtype=np.float64)
    np.add.at(centres, members, np.asarray(X, dtype=np.float64))
    keep = weights > 0  # a seed always holds itself, unless duplicated rows tie
    centres = centres[keep] / weights[keep, None]
    remap = np.cumsum(keep) - 1
    return centres, weights[keep], remap[members]


def kernel_herding_greedy(K, weights, n_select, start=None, forbidden=None):
    """Greedy maximisation of ``sum_j w_j max_s K[j, s]`` over candidate columns s.

    ``K`` is (n_points, n_candidates) kernel values in [0, 1]; ``start`` the
    coverage already reached (from labeled samples), ``forbidden`` the
    candidates that may not be picked. Each step takes the candidate of
    largest exact marginal gain ``sum_j w_j max(K[j, s] - cur_j, 0)`` (ties to
    the smaller column). Exact and prefix-consistent: the picks for budget m
    are the first m picks for any larger budget.

    Returns
    -------
    chosen : ndarray of shape (<= n_select,), int64
        Candidate columns in greedy order (fewer if candidates run out).
    cur : ndarray of shape (n_points,)
        Final ``max_s K[j, s]``.
    """
    n_pts, n_cand = K.shape
    cur = np.zeros(n_pts) if start is None else np.asarray(start, dtype=np.float64).copy()
    allowed = np.ones(n_cand, dtype=bool)
    if forbidden is not None:
        allowed[forbidden] = False
    chosen = []
    for _ in range(min(n_select, int(allowed.sum()))):
        gain = weights @ np.maximum(K - cur[:, None], 0.0)
        gain[~allowed] = -np.inf
        s = int(np.argmax(gain))
        chosen.append(s)
        allowed[s] = False
        np.maximum(cur, K[:, s], out=cur)
    return np.asarray(chosen, dtype=np.int64), cur


class MaxHerdingSelector(BaseKNNSelector):
    """MaxHerding: greedy maximum of a kernel coverage.

    Bae, Noh & Sutherland, "Generalized Coverage for More Robust Low-Budget
    Active Learning", ECCV 2024. The selection S greedily maximises the
    generalised coverage ``sum_i max_{s in S} k(x_i, x_s)`` with a Gaussian
    kernel ``k(x, z) = exp(-gamma ||x - z||^2)``: ProbCover's hard balls
    become soft ones, so no radius has to be tuned and a dense class stops
    paying off once one pick covers it.

    Scalable form (no n x n matrix): above ``n_coreset`` samples the sum
    over i runs over a weighted coreset of ``n_coreset`` micro-clusters
    (:func:`micro_cluster_coreset`: their means, weighted by their sizes),
    and the candidates are the samples nearest each micro-cluster's mean.
    Memory O(n + m^2) besides ``X``, time O(n m d) for the coreset plus
    O(m^2) per pick (m = ``n_coreset``), so it runs at a million rows. Up to
    ``n_coreset`` samples the objective is the exact one over all samples,
    as scikit-activeml's ``MaxHerding`` computes it.

    Kernel width ``gamma``: ``"features"`` (default) is ``1 / n_features``,
    scikit-learn's RBF default and scikit-activeml's MaxHerding default; on
    unit-norm embeddings the kernel is then broad (values above
    ``exp(-4 / d)``) and the objective close to a k-medoids one. ``"knn"``
    takes the width from the kNN graph: ``gamma = 1 / (2 median_i
    d_k(i)^2)``, d_k the distance to the ``n_neighbors``-th neighbour (a
    local kernel). A float sets gamma directly.

    Warm start: ``fit(X, labeled=idx)`` starts the coverage from ``idx``.
    Prefix-consistent: ``selected_indices_[:m]`` is the budget-``m``
    selection (for a fixed coreset, i.e. while ``n_select + len(idx) <=
    n_coreset / 2``), and ``fit(X, labeled=sel[:a])`` continues with ``sel[a:]``.

    Parameters
    ----------
    n_select : int, default=10
        Annotation budget: the number of samples returned.
    gamma : float or {"features", "knn"}, default="features"
        Kernel width (see above).
    n_coreset : int, default=2000
        Micro-clusters of the coreset; at most this many samples use the
        exact objective. Raised to ``2 (n_select + n_labeled)`` if smaller.
    n_neighbors : int, default=20
        Neighbour whose distance sets ``gamma="knn"`` (unused otherwise).
    normalize : bool, default=True
        L2-normalise features first (as scikit-activeml's MaxHerding).
    neighbors : {"auto", "exact", "approximate"} or estimator, default="auto"
        kNN graph for ``gamma="knn"``; see :func:`skusl.neighbors.kneighbors`.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        Kernels for the kNN graph.
    random_state : int, RandomState instance or None, default=None
        Seeds the coreset's micro-cluster seeds (and the approximate kNN
        search). Same seed, same selection.
    n_jobs : int or None, default=None
        Threads for the kNN search (-1: all cores).
    verbose : bool, default=False
        Show progress bars.

    Attributes
    ----------
    selected_indices_ : ndarray of shape (n_select,)
        Chosen samples in greedy order (largest marginal gain first).
    labeled_indices_ : ndarray of int64
        The ``labeled`` indices given to ``fit`` (sorted; empty if none).
    gamma_ : float
        The kernel width used.
    coverage_ : float
        ``sum_i max_s k(x_i, x_s) / n`` reached (on the coreset), in [0, 1].
    coreset_size_ : int
        Points in the coverage sum (``n_samples`` when exact).
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
    >>> from skusl.selection import MaxHerdingSelector
    >>> X, y = load_digits(return_X_y=True)
    >>> sel = MaxHerdingSelector(n_select=10, random_state=0).fit(X)
    >>> len(set(y[sel.selected_indices_])) >= 7
    True
    """

    _supports_labeled = True

    _parameter_constraints: dict = {
        **BaseKNNSelector._parameter_constraints,
        "gamma": [Interval(Real, 0, None, closed="neither"), StrOptions({"features", "knn"})],
        "n_coreset": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, n_select=10, *, gamma="features", n_coreset=DEFAULT_CORESET,
                 n_neighbors=20, normalize=True, neighbors="auto", backend="auto",
                 random_state=None, n_jobs=None, verbose=False):
        self.n_select = n_select
        self.gamma = gamma
        self.n_coreset = n_coreset
        self.n_neighbors = n_neighbors
        self.normalize = normalize
        self.neighbors = neighbors
        self.backend = backend
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _gamma(self, X, knn_seed):
        if self.gamma == "features":
            return 1.0 / X.shape[1]
        if self.gamma == "knn":
            dist, _ = self._knn(X, knn_seed, dtype=np.float64)
            return 1.0 / (2.0 * max(float(np.median(dist[:, -1] ** 2)), 1e-12))
        return float(self.gamma)

    def _select(self, X, random_state):
        n = X.shape[0]
        labeled = self.labeled_indices_
        knn_seed, coreset_seed = random_state.randint(SEED_MAX, size=2)
        gamma = self._gamma(X, knn_seed)
        m = max(self.n_coreset, 2 * (self.n_select + labeled.size))
        if n <= m:  # exact objective over all samples
            pts, weights, cand = np.asarray(X, dtype=np.float64), np.ones(n), np.arange(n)
        else:
            pts, weights, _ = micro_cluster_coreset(X, m, np.random.RandomState(coreset_seed))
            _, near = query_kneighbors(np.ascontiguousarray(pts, dtype=X.dtype), X, 1)
            cand = np.unique(np.asarray(near[:, 0], dtype=np.int64))
            # a labeled sample is no candidate: it is covered already
            cand = np.setdiff1d(cand, labeled)
            if cand.size < self.n_select:  # tiny or duplicate-heavy data: all samples
                cand = np.setdiff1d(np.arange(n), labeled)
        K = np.exp(-gamma * _sq_dists(pts, X[cand]))
        start = None
        if labeled.size:
            start = np.exp(-gamma * _sq_dists(pts, X[labeled])).max(axis=1)
        forbidden = np.flatnonzero(np.isin(cand, labeled))
        picks, cur = kernel_herding_greedy(K, weights, self.n_select, start=start,
                                           forbidden=forbidden)
        chosen = cand[picks]
        if chosen.size < self.n_select:  # only when candidates ran out
            rest = np.setdiff1d(np.arange(n), np.r_[labeled, chosen])
            chosen = np.r_[chosen, rest[: self.n_select - chosen.size]]
        self.gamma_ = gamma
        self.coverage_ = float(weights @ cur / weights.sum())
        self.coreset_size_ = int(pts.shape[0])
        return chosen
