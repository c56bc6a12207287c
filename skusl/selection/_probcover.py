"""ProbCoverSelector: greedy maximum coverage of delta-balls."""

import warnings
from numbers import Integral, Real

import numpy as np
from .._sklearn_compat import Interval, StrOptions

from ._balls import (TooManyPairsError, ball_graph, ball_method, block_rows, estimate_ball_edges,
                     probe_blocks, probe_rows, sq_dist_block)
from ._base import SEED_MAX, BaseKNNSelector
from .._backends import resolve_backend
from ..neighbors._kmeans import fit_kmeans

#: Default bound on the pairs held by the true delta-ball graph (int32 index and
#: bool flag: 0.5 GB; with ``delta="auto"`` int32 index and float64 squared
#: distance: 1.2 GB); above it fit raises before building.
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


def _coverage_greedy(out, inc, n_select, limit=None, labeled=None):
    """Greedy maximum coverage of the balls ``out`` (rows: centres, columns: members).

    ``inc`` is its transpose (row t: the centres whose ball holds t); the
    same matrix when the balls are symmetric. With ``limit``, only entries
    whose stored value (a distance or squared distance) is below it count,
    so one pattern built at the largest radius serves every smaller one.
    Every ball must hold its centre (a stored 0). Each step picks the
    unchosen ball holding the most uncovered samples (ties to the smaller
    index); ``labeled`` balls start covered. Stops early once nothing
    coverable is left. Work per step: O(n) for the argmax plus the rows of
    the newly covered samples; no Python loop over samples.

    Returns
    -------
    chosen : ndarray of int64, at most ``n_select`` long
    covered : ndarray of shape (n_samples,), bool
    gains : ndarray of int64, the newly covered samples of each pick
    """
    n = out.shape[0]

    def members(matrix, rows):
        sub = matrix[rows]
        return sub.indices if limit is None else sub.indices[sub.data < limit]

    if limit is None:
        degree = np.diff(out.indptr).astype(np.int64)
    else:  # every row holds its centre, so no row is empty for reduceat
        degree = np.add.reduceat((out.data < limit).astype(np.int64), out.indptr[:-1])
    covered = np.zeros(n, dtype=bool)
    taken = -(n + 1)  # a chosen ball's degree stays negative under the updates

    def cover(centres):
        ball = np.unique(members(out, centres))
        new = ball[~covered[ball]]
        covered[new] = True
        # a newly covered sample no longer counts for any ball holding it
        np.subtract(degree, np.bincount(members(inc, new), minlength=n), out=degree)
        return new.size

    if labeled is not None and len(labeled):
        labeled = np.asarray(labeled)
        degree[labeled] = taken
        cover(labeled)
    chosen, gains = [], []
    for _ in range(n_select):
        cur = int(np.argmax(degree))
        if degree[cur] <= 0:
            break
        degree[cur] += taken
        chosen.append(cur)
        gains.append(cover(np.array([cur])))
    return (np.asarray(chosen, dtype=np.int64), covered, np.asarray(gains, dtype=np.int64))


def knn_balls(dist, ind):
    """The kNN-restricted balls as a CSR of distances: row i holds i (0) and ``ind[i]``."""
    import scipy.sparse as sp

    n, k = ind.shape
    indices = np.concatenate([np.arange(n)[:, None], ind], axis=1).ravel()
    data = np.concatenate([np.zeros((n, 1)), dist], axis=1).ravel()
    return sp.csr_matrix((data, indices, np.arange(0, n * (k + 1) + 1, k + 1)), shape=(n, n))


def max_coverage_greedy(dist, ind, delta, n_select, random_state):
    """ProbCover's greedy max coverage on kNN-restricted balls (``balls="knn"``).

    Point i covers itself and its kNN neighbours closer than ``delta``. Each
    step picks the point covering the most still-uncovered points (ties to
    the smaller index); once everything coverable is covered, the remaining
    picks are drawn at random from unchosen points, as the reference code
    does. Out- and in-edge CSR matrices of the kNN graph: O(n k) memory.

    Returns
    -------
    chosen : ndarray of shape (n_select,), int64
    covered : ndarray of shape (n_samples,), bool
    """
    out = knn_balls(dist, ind)
    chosen, covered, _ = _coverage_greedy(out, out.T.tocsr(), n_select, limit=delta)
    if chosen.size < n_select:
        rest = np.setdiff1d(np.arange(out.shape[0]), chosen)
        extra = random_state.choice(rest, n_select - chosen.size, replace=False)
        chosen = np.concatenate([chosen, extra.astype(np.int64)])
    return chosen, covered


#: Candidate radii tried by ``delta="auto"`` (geometric in the ball size).
N_DELTA_CANDIDATES = 20


def _radius_grid(lo, hi, n_candidates):
    """``n_candidates`` radii geometric from ``lo`` to a hair above ``hi`` (all > 0)."""
    hi = np.nextafter(max(float(hi), np.sqrt(np.finfo(float).tiny)), np.inf)  # squares > 0
    lo = min(float(lo), hi) if lo > 0 else hi / 1e3  # duplicates: no zero radius
    return np.unique(np.r_[np.geomspace(lo, hi, n_candidates)[:-1], hi])


def auto_delta_candidates(X, sq_norm, n_balls, n_candidates=N_DELTA_CANDIDATES):
    """The radii ``delta="auto"`` tries, and the pairs each would hold.

    ``n_candidates`` radii geometric from the median distance to the nearest
    neighbour (below it most balls hold only their centre) to the median
    radius of a ball holding ``n / n_balls`` samples (where ``n_balls``
    disjoint balls would hold every sample: the largest a fair share allows),
    both over 1000 evenly spaced rows. A geometric grid in the radius, not in
    the ball size: where one dense region sets every median, the radii that
    suit the sparser regions are still tried. Memory: a block of
    :data:`skusl.selection._balls.BLOCK_BYTES` of distances.

    Returns
    -------
    deltas : ndarray, increasing
    edges : ndarray of int64
        Estimated (centre, member) pairs of the balls at each delta, self
        included.
    """
    n = X.shape[0]
    if n < 2:  # a single sample: any radius
        return np.array([1.0]), np.array([n], dtype=np.int64)
    q_max = int(min(n - 1, np.ceil(n / max(n_balls, 1))))
    qs = np.unique([1, max(q_max, 1)])
    rows = probe_rows(n)
    kth = np.empty((rows.size, qs.size))
    for start, sq in probe_blocks(X, sq_norm, rows):
        kth[start:start + sq.shape[0]] = np.partition(sq, qs, axis=1)[:, qs]  # col 0: self
    lo, hi = np.sqrt(np.median(kth, axis=0))[[0, -1]]
    deltas = _radius_grid(lo, hi, n_candidates)
    counts = np.zeros(deltas.size, dtype=np.int64)
    d2 = deltas * deltas
    for _, sq in probe_blocks(X, sq_norm, rows):
        counts += np.array([int((sq < t).sum()) for t in d2], dtype=np.int64)
    return deltas, np.ceil(counts * n / rows.size).astype(np.int64)


def choose_delta(out, inc, deltas, n_select, *, squared):
    """``delta="auto"``: the candidate at which the budget's last label covers the most.

    For each candidate the greedy runs on ``out`` / ``inc`` (balls built at
    the largest candidate, holding distances, or squared distances when
    ``squared``) and scores the marginal gain of its ``n_select``-th pick
    (0 if it stops early). The greedy's gains fall from pick to pick, so
    this is the smallest gain of the budget, and it is small both when
    delta is too small (every ball holds a few samples) and when it is too
    large (the first balls swallow whole groups of classes and the last
    labels pick up leftovers). Ties go to the larger delta (more coverage).

    Returns
    -------
    best : int
        Index of the chosen candidate.
    scores : ndarray of int64
        The ``n_select``-th gain at each candidate.
    """
    scores = np.zeros(deltas.size, dtype=np.int64)
    for j, delta in enumerate(deltas):
        limit = delta * delta if squared else delta
        _, _, gains = _coverage_greedy(out, inc, n_select, limit=limit)
        scores[j] = gains[-1] if gains.size == n_select else 0
    # one greedy path per radius makes the gain a noisy statistic: average it over
    # each candidate and its two neighbours on the (geometric) grid
    window = np.convolve(np.ones(scores.size), np.ones(3), mode="same")
    smooth = np.convolve(scores.astype(float), np.ones(3), mode="same") / window
    best = int(np.flatnonzero(smooth == smooth.max())[-1])
    return best, scores


def ball_coverage_greedy(balls, n_select, random_state, labeled=None, limit=None):
    """Greedy maximum coverage of the (symmetric) ball pattern ``balls``.

    Each step picks the unchosen sample whose ball holds the most uncovered
    samples (ties to the smaller index). ``labeled`` samples are chosen
    already: their balls start covered. Once everything coverable is
    covered the rest is a prefix of one random permutation of the unchosen
    samples (the reference draws at random), so the ranking is
    prefix-consistent. Work per step: the balls of the newly covered samples.
    ``limit``: count only the entries below it (``balls`` holding squared
    distances, see :func:`delta_ball_graph`).

    Returns
    -------
    chosen : ndarray of shape (n_select,), int64
    covered : ndarray of shape (n_samples,), bool
    """
    n = balls.shape[0]
    chosen, covered, _ = _coverage_greedy(balls, balls, n_select, limit=limit,
                                          labeled=labeled)
    if chosen.size < n_select:
        taken = np.zeros(n, dtype=bool)
        taken[chosen] = True
        if labeled is not None and len(labeled):
            taken[labeled] = True
        rest = np.flatnonzero(~taken)
        fill = rest[random_state.permutation(rest.size)][: n_select - chosen.size]
        chosen = np.concatenate([chosen, fill.astype(np.int64)])
    return chosen, covered


def exact_impure_radius(X, sq_norm, pseudo_labels, r):
    """Complete ``r`` (distance to the nearest sample of another pseudo-label).

    ``r`` comes from the kNN graph, ``inf`` where no neighbour of another
    label lies among the k nearest; those rows are computed exactly against
    all samples of other labels, in row blocks (memory O(block n)).
    """
    r = r.copy()
    todo = np.flatnonzero(~np.isfinite(r))
    step = block_rows(X.shape[0], limit=1024)
    for start in range(0, todo.size, step):
        rows = todo[start:start + step]
        sq = sq_dist_block(X, sq_norm, rows)
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
    ``delta``, as the paper and its reference code, built by a radius
    search with memory O(number of pairs within delta) plus a bounded block
    of distances; the pair count is estimated from 1000 rows first and
    ``fit`` raises a ``ValueError`` when it would exceed ``max_edges``
    (``"auto"`` skips the candidate radii above it), and the search itself
    stops as soon as it finds more (the estimate can be low). The search
    follows ``neighbors``: ``"exact"`` scans every pair (O(n^2 d) time);
    ``"approximate"`` and ``"ivf"`` search each row's nearest K-Means cells exactly
    (``n / 1000`` cells, the probes doubled from 4 until 95% of the true
    members of 1000 rows' balls are found; ``ball_recall_``), in
    O(n n_probe 1000 d) time; ``"auto"`` (and an estimator) is exact up to
    50,000 samples and the cells above. ``"knn"`` restricts
    each ball to the ``n_neighbors`` nearest neighbours (O(n k) memory, the
    earlier approximation): in a dense region every ball then ties at
    ``n_neighbors + 1`` samples and the greedy keeps picking there.

    Radius (``delta``):

    - ``"auto"`` (default): the radius at which the budget's last label
      covers the most. 20 candidate radii, geometric from the median
      nearest-neighbour distance to the median radius of a ball of
      ``n / budget`` samples (the budget's fair share; the rule of skusl
      0.1, whose balls in dense regions hold several classes), where
      ``budget = n_select + n_labeled``; for each the greedy runs and the
      marginal gain of its ``budget``-th pick is scored, averaged with the
      two neighbouring radii (one greedy path is a noisy statistic), and
      the best radius wins (ties: the larger). The greedy's gains fall from
      pick to pick, so this maximises the smallest gain of the budget: too
      small a delta and every ball holds a few samples; too large and the
      first balls swallow groups of neighbouring classes while the last
      labels pick up leftovers. On separated blobs it is the radius that
      covers each blob with one ball. One ball pattern, built at the largest
      candidate with its squared distances, serves every candidate
      (memory O(pairs within that radius); candidates above ``max_edges``
      are skipped with a warning), and the selection equals a fit with
      ``delta=delta_``. Measured on 5000-row subsamples of the shared sets
      (``docs/benchmarks/quality``): class coverage at 1 label per class at
      or above random's on all five (fashion20k: 80% vs 60% with the
      fair-share radius and 70% for random) and the linear probe up 4-22
      points on three of them (limits below).
      The radius is chosen without the labeled samples (as if the whole
      budget were new), so growing a selection keeps its radius.
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

    Known limit of ``"auto"``: one radius for the whole set. Where a group
    of tight classes lies closer together than the spread of a broad class
    (fashion's tops), no radius both separates the group and covers the
    broad class in one ball; on rt13k (3 overlapping text classes) at 2
    labels per class its 6 picks fall in one class (coverage 33% vs 67% for
    random; the probe then predicts that class, 53.9%, above random's 46%).

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
    neighbors : {"auto", "exact", "approximate", "ivf"} or estimator, default="auto"
        How to build the kNN graph (see :func:`skusl.neighbors.kneighbors`)
        and the radius balls (above).
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
    delta_scores_ : ndarray of shape (n_candidates, 2) or None
        ``delta="auto"`` only: each candidate radius and the share of the
        samples its budget-th greedy pick newly covers (before smoothing).
    coverage_ : float
        Share of samples covered by the selected (and labeled) balls.
    n_ball_edges_ : int
        Pairs held by the balls (self included).
    ball_search_ : {"exact", "cells", "knn"}
        How the balls were built (see ``balls`` and ``neighbors`` above).
    ball_recall_ : float or None
        Share of the true ball members found, measured on 1000 rows at the
        largest radius searched (1.0 for the exact search; None for
        ``balls="knn"``).
    labels_ : ndarray of shape (n_samples,) or None
        K-Means pseudo-labels (purity heuristic only; else None).
    knn_graph_ : scipy.sparse.csr_matrix of shape (n_samples, n_samples) or None
        The kNN distance graph (self excluded); None when nothing needs it
        (radius balls with ``delta="auto"`` or a float).
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

    def _auto_candidates(self, Xd, sq_norm, dist, n_balls):
        """Candidate radii of ``delta="auto"`` that fit ``max_edges`` (radius balls)."""
        if self.balls == "knn":  # balls hold at most the k neighbours: radii up to the k-th
            n, k = dist.shape
            q_max = int(min(k, np.ceil(n / max(n_balls, 1))))
            return _radius_grid(np.median(dist[:, 0]), np.median(dist[:, q_max - 1]),
                                N_DELTA_CANDIDATES)
        deltas, est = auto_delta_candidates(Xd, sq_norm, n_balls)
        fits = est <= self.max_edges
        if not fits.any():
            self._raise_edges(deltas[0], est[0], bytes_per_pair=12)
        if not fits.all():
            warnings.warn(
                f"ProbCover's delta='auto' skipped {int((~fits).sum())} of {deltas.size} "
                f"candidate radii (above {deltas[fits][-1]:.4g}): their balls would hold "
                f"over max_edges={self.max_edges} pairs; raise max_edges if the memory "
                "is there.", UserWarning, stacklevel=4)
        return deltas[fits]

    def _raise_edges(self, delta, est, bytes_per_pair=5):
        raise ValueError(
            f"ProbCover's delta-balls (delta={delta:.4g}) would hold about {est:.3g} "
            f"pairs (~{est * bytes_per_pair / 2**30:.1f} GiB), over max_edges={self.max_edges}; "
            "raise max_edges if the memory is there, subsample X, pass a smaller "
            "delta, or use balls='knn' (O(n k) memory).")

    def _build_balls(self, Xd, sq_norm, delta, *, squared, seed):
        """The radius balls at ``delta`` (the search set by ``neighbors``); sets ``ball_*_``."""
        info = {}
        balls = ball_graph(Xd, sq_norm, delta, method=self.ball_search_, squared=squared,
                           max_pairs=self.max_edges, random_state=int(seed),
                           backend=self._host_backend, info=info, verbose=self.verbose)
        self.ball_recall_ = info["recall"]
        return balls

    def _auto_radius_balls(self, Xd, sq_norm, deltas, n_balls, seed):
        """``delta="auto"`` on radius balls: one pattern at the largest candidate that fits.

        The pair count of each candidate is estimated on 1000 rows; where the
        search finds more than ``max_edges`` pairs after all, it stops early and
        the next smaller candidate is tried.
        """
        while True:
            try:
                balls = self._build_balls(Xd, sq_norm, deltas[-1], squared=True, seed=seed)
            except TooManyPairsError as err:
                if deltas.size == 1:
                    self._raise_edges(deltas[0], err.found, bytes_per_pair=12)
                warnings.warn(
                    f"ProbCover's delta='auto': the balls at {deltas[-1]:.4g} hold over "
                    f"max_edges={self.max_edges} pairs (the estimate was low); trying the "
                    "next smaller radius.", UserWarning, stacklevel=5)
                deltas = deltas[:-1]
                continue
            best, scores = choose_delta(balls, balls, deltas, n_balls, squared=True)
            return balls, deltas, best, scores

    def _select(self, X, random_state):
        knn_seed, kmeans_seed = random_state.randint(SEED_MAX, size=2)
        # the kNN graph serves the kNN balls and the purity heuristic only (at 1M
        # rows its search costs minutes that radius balls do not need)
        purity = self.delta is None or self.delta == "purity"
        if self.balls == "knn" or purity:
            dist, ind = self._knn(X, knn_seed, dtype=np.float64)
        else:
            dist = ind = self.knn_graph_ = None
        # the ball search runs on the host: CuPy input is already copied to Xd below
        backend = resolve_backend(self.backend, X)
        self._host_backend = "numpy" if backend == "cupy" else backend
        labeled = self.labeled_indices_
        Xd = np.asarray(X, dtype=np.float64)
        sq_norm = np.einsum("ij,ij->i", Xd, Xd)
        self.labels_ = self.purity_ = self.delta_scores_ = None
        self.ball_search_ = "knn" if self.balls == "knn" else ball_method(self.neighbors,
                                                                           X.shape[0])
        self.ball_recall_ = None  # set by the radius search
        if self.balls == "knn" and labeled.size:
            raise ValueError("labeled= needs balls='radius' in ProbCoverSelector.")
        balls = None
        if purity:
            delta = self._purity_delta(Xd, sq_norm, dist, ind, kmeans_seed)
        elif self.delta == "auto":
            # the radius is the total budget's (labeled + new), chosen as if none
            # were labeled: growing a selection keeps its delta and continues it
            n_balls = self.n_select + labeled.size
            deltas = self._auto_candidates(Xd, sq_norm, dist, n_balls)
            if self.balls == "knn":
                out = knn_balls(dist, ind)
                best, scores = choose_delta(out, out.T.tocsr(), deltas, n_balls,
                                            squared=False)
            else:  # one pattern at the largest candidate serves them all
                balls, deltas, best, scores = self._auto_radius_balls(
                    Xd, sq_norm, deltas, n_balls, kmeans_seed)
            delta = float(deltas[best])
            self.delta_scores_ = np.column_stack([deltas, scores / X.shape[0]])
        else:
            delta = float(self.delta)
        if self.balls == "knn":
            chosen, covered = max_coverage_greedy(dist, ind, delta, self.n_select,
                                                  random_state)
            self.n_ball_edges_ = int((dist < delta).sum() + X.shape[0])
        else:
            if balls is None:
                est = estimate_ball_edges(Xd, sq_norm, delta)
                if est > self.max_edges:
                    self._raise_edges(delta, est)
                try:
                    balls = self._build_balls(Xd, sq_norm, delta, squared=False,
                                              seed=kmeans_seed)
                except TooManyPairsError as err:
                    self._raise_edges(delta, err.found)
                limit = None
                self.n_ball_edges_ = int(balls.nnz)
            else:
                limit = delta * delta
                self.n_ball_edges_ = int((balls.data < limit).sum())
            chosen, covered = ball_coverage_greedy(balls, self.n_select, random_state,
                                                   labeled=labeled, limit=limit)
        self.delta_ = delta
        self.coverage_ = float(covered.mean())
        return chosen
