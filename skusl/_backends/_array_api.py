"""Namespace-generic kernels: the same code runs on NumPy and on CuPy.

Every function takes the array namespace ``xp`` first (``numpy`` or
``cupy``; both expose the NumPy API used here: ``partition``,
``argpartition``, ``take_along_axis``, stable ``argsort``, ``cumsum``).
:mod:`skusl._backends._numpy` binds them to NumPy (the reference backend, so
CI runs this code on every test) and :mod:`skusl._backends._cupy` to CuPy.

Results are defined without reference to any summation or selection order
a library may pick:

- top-k: the ``k`` smallest values, ties broken by the smaller column index,
  sorted by (value, index);
- regulariser: terms summed left to right (``cumsum`` is a sequential
  accumulate in NumPy) in column order, or in ascending distance order when a
  horizon cuts the sum, so that the Numba kernel can reproduce it bit for bit;
- per-cluster argmax: the highest score, ties to the smaller index.

Kernels do no validation (arrays in, arrays out).
"""

from functools import partial


def bind(xp, *names):
    """This module's kernels ``names`` bound to the namespace ``xp``, docstrings kept.

    Returns one callable per name, in order (what a backend module exports).
    """
    bound = []
    for name in names:
        kernel = partial(globals()[name], xp)
        kernel.__doc__ = globals()[name].__doc__
        bound.append(kernel)
    return bound


def knn_block(xp, S, sq_rows, sq_cols, k, row_offset, exclude_self):
    """Keep the ``k`` smallest squared distances of each row of a GEMM block.

    Parameters
    ----------
    xp : module
        ``numpy`` or ``cupy``.
    S : array of shape (b, n)
        Inner products ``X[rows] @ Y.T``; overwritten with squared distances.
    sq_rows : array of shape (b,)
        Squared norms of the block's rows.
    sq_cols : array of shape (n,)
        Squared norms of the columns.
    k : int
        Neighbours to keep.
    row_offset : int
        Global index of the block's first row (for self exclusion).
    exclude_self : bool
        Whether row ``i`` must not return column ``row_offset + i``.

    Returns
    -------
    dist : array of shape (b, k)
        Squared distances ``(-2 s + |x|^2) + |y|^2`` in the input's dtype
        (this operation order is part of the contract), ascending, clipped
        at zero.
    ind : array of shape (b, k), int64
        Column indices; ties are broken by the smaller index.
    """
    D = S
    D *= -2
    D += sq_rows[:, None]
    D += sq_cols[None, :]
    xp.maximum(D, 0, out=D)
    b, n = D.shape
    if exclude_self:
        rows = xp.arange(b)
        D[rows, rows + row_offset] = xp.inf
    if k < n:
        part = xp.argpartition(D, k - 1, axis=1)[:, :k]
        vals = xp.take_along_axis(D, part, axis=1)
        # argpartition picks arbitrarily among values equal to the k-th one;
        # rows where such a tie straddles the boundary are redone with a
        # stable sort, so that the smaller index always wins.
        kth = vals.max(axis=1)[:, None]
        straddle = xp.flatnonzero((D == kth).sum(axis=1) != (vals == kth).sum(axis=1))
        if straddle.size:
            redo = xp.argsort(D[straddle], axis=1, kind="stable")[:, :k]
            part[straddle] = redo
            vals[straddle] = xp.take_along_axis(D[straddle], redo, axis=1)
    else:
        part = xp.broadcast_to(xp.arange(n), (b, n)).copy()
        vals = D.copy()
    return sort_rows(xp, vals, part.astype(xp.int64, copy=False))


class TopK:
    """Running ``k`` smallest squared distances of ``b`` rows over column tiles.

    The namespace-generic twin of :class:`skusl._backends._numba.TopK`:
    ``update`` takes one tile of inner products (columns ``col_offset`` on;
    overwritten), ``finish`` returns (b, k) distances and indices sorted by
    (distance, index). Each tile's top-k comes from :func:`knn_block`; the
    running state holds only smaller column indices than the new tile, so a
    stable sort of ``[state, tile]`` by distance keeps the smaller index on
    ties, as one full-row :func:`knn_block` would.
    """

    def __init__(self, xp, b, k, dtype):
        self.xp = xp
        self.k = int(k)
        self.dist = xp.empty((b, 0), dtype=dtype)
        self.ind = xp.empty((b, 0), dtype=xp.int64)

    def update(self, S, sq_rows, sq_cols, col_offset, self_offset):
        """Scan ``S`` (b, w); ``self_offset`` < 0: no self exclusion."""
        xp = self.xp
        b, w = S.shape
        if self_offset >= 0:  # -inf inner product: +inf distance, never kept
            rows = xp.arange(b)
            cols = rows + (self_offset - col_offset)
            inside = (cols >= 0) & (cols < w)
            S[rows[inside], cols[inside]] = -xp.inf
        d, i = knn_block(xp, S, sq_rows, sq_cols[col_offset:col_offset + w],
                         min(self.k, w), 0, False)
        dist = xp.concatenate([self.dist, d], axis=1)
        ind = xp.concatenate([self.ind, i + col_offset], axis=1)
        order = xp.argsort(dist, axis=1, kind="stable")[:, : self.k]
        self.dist = xp.take_along_axis(dist, order, axis=1)
        self.ind = xp.take_along_axis(ind, order, axis=1)

    def finish(self):
        return self.dist, self.ind


def sort_rows(xp, dist, ind):
    """Sort each row of a (dist, ind) pair by (distance, index)."""
    # Two stable sorts make a lexicographic one: first by index, then by
    # distance (equal distances keep their ascending-index order).
    by_index = xp.argsort(ind, axis=1, kind="stable")
    dist = xp.take_along_axis(dist, by_index, axis=1)
    ind = xp.take_along_axis(ind, by_index, axis=1)
    by_dist = xp.argsort(dist, axis=1, kind="stable")
    return (xp.take_along_axis(dist, by_dist, axis=1),
            xp.take_along_axis(ind, by_dist, axis=1))


def regularizer_block(xp, G, sq_rows, sq_sel, own, horizon, alpha, floor):
    """Inter-cluster repulsion of a block of points from the selected ones.

    ``Reg_i = sum over the `horizon` nearest selected points s of other
    clusters of 1 / max(||x_i - s||^2, floor) ** alpha`` (USL, Wang et al.
    2022, Sec. 3.1, the regulariser of eq. 5).

    Parameters
    ----------
    xp : module
        ``numpy`` or ``cupy``.
    G : array of shape (b, m)
        Inner products of the block's points with the m selected points;
        overwritten.
    sq_rows, sq_sel : array of shape (b,) and (m,)
        Squared norms.
    own : array of shape (b,), int64
        Column of the point's own cluster's selected sample, or -1.
    horizon : int
        Keep the ``horizon`` nearest selected points; 0 keeps all.
    alpha : float
        Exponent on the squared distance. 0.5 and 1 are computed as
        ``1 / sqrt(d)`` and ``1 / d`` (correctly rounded everywhere); other
        values use ``pow``, whose last bit may differ between libraries.
    floor : float
        Smallest squared distance used (duplicates stay finite).

    Returns
    -------
    reg : array of shape (b,), float64
        Terms summed sequentially: in column order without a horizon, in
        ascending distance order with one.
    """
    D = G
    D *= -2
    D += sq_rows[:, None]
    D += sq_sel[None, :]
    xp.maximum(D, floor, out=D)
    rows = xp.flatnonzero(own >= 0)
    D[rows, own[rows]] = xp.inf  # a point is not repelled by its own cluster's pick
    if horizon > 0:
        if horizon < D.shape[1]:
            D = xp.partition(D, horizon - 1, axis=1)[:, :horizon]
        D = xp.sort(D, axis=1)
    T = _inverse_power(xp, D.astype(xp.float64), alpha)  # inf -> 0 drops the own pick
    if T.shape[1] == 0:
        return xp.zeros(T.shape[0], dtype=xp.float64)
    return xp.cumsum(T, axis=1)[:, -1]


def _inverse_power(xp, D, alpha):
    """``D ** -alpha`` with exact special cases for the common exponents."""
    if alpha == 0.5:
        return 1.0 / xp.sqrt(D)
    if alpha == 1:
        return 1.0 / D
    if alpha == 0:
        return xp.where(xp.isinf(D), 0.0, 1.0)
    return D ** -float(alpha)


def cluster_argmax(xp, score, labels, n_clusters):
    """Index of the highest ``score`` in each cluster (-1 for empty clusters).

    Ties go to the smallest index. Two stable sorts (score descending, then
    cluster) put every cluster's winner first in its run: O(n log n), and no
    scatter-max, which the array namespaces do not share.
    """
    by_score = xp.argsort(-score, kind="stable")
    lab = labels[by_score]
    by_label = xp.argsort(lab, kind="stable")
    order = by_score[by_label]
    lab = lab[by_label]
    first = xp.ones(lab.shape[0], dtype=bool)
    first[1:] = lab[1:] != lab[:-1]
    picks = xp.full(n_clusters, -1, dtype=xp.int64)
    picks[lab[first]] = order[first]
    return picks


def finalize_selection(xp, picks, labels, utility, n_select):
    """Exactly ``n_select`` distinct indices, best utility first.

    With more non-empty clusters than ``n_select``, the picks of the
    ``n_select`` largest clusters are kept (ties by cluster id). With fewer
    (empty clusters, duplicate-heavy data), the rest is filled with the
    highest-utility points not yet chosen. Ties in utility go to the smaller
    index.
    """
    n_clusters = picks.shape[0]
    sizes = xp.bincount(labels, minlength=n_clusters)
    nonempty = xp.flatnonzero(picks >= 0)  # ascending: stable sorts keep id order
    by_size = nonempty[xp.argsort(-sizes[nonempty], kind="stable")]
    chosen = picks[by_size[:n_select]]
    if chosen.shape[0] < n_select:
        taken = xp.zeros(utility.shape[0], dtype=bool)
        taken[chosen] = True
        candidates = xp.flatnonzero(~taken)
        best = candidates[xp.argsort(-utility[candidates], kind="stable")]
        chosen = xp.concatenate([chosen, best[: n_select - chosen.shape[0]]])
    chosen = xp.sort(chosen)
    return chosen[xp.argsort(-utility[chosen], kind="stable")]
