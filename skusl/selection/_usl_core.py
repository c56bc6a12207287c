"""USL's steps as plain functions (the private driver behind USLSelector).

Wang, Lian & Yu, "Unsupervised Selective Labeling for More Effective
Semi-Supervised Learning", ECCV 2022, Sec. 3.1: kNN density (eq. 2), K-Means
diversity (eq. 3-4), and the iterative inter-cluster regulariser (eq. 5-6).

Every function is written against the array namespace of its input (NumPy
or CuPy, see :func:`skusl._backends.get_namespace`): the same code runs on
the GPU for CuPy input and in CI under NumPy. Heavy work goes through the
backend's kernels (:mod:`skusl._backends`).
"""

from .._backends import get_kernels, get_namespace
from .._backends import _array_api
from .._progress import progress_bar

#: Smallest squared distance used in a reciprocal: duplicate points give zero
#: distances, which must not turn utilities or the regulariser into inf/NaN.
MIN_SQ_DIST = 1e-12

#: Rows of the regulariser's (block, m) inner-product block.
_REG_BLOCK_ROWS = 8192


def density_utility(sq_dist):
    """``U_i = 1 / mean_j ||x_i - x_j||^2`` over the k nearest neighbours j.

    ``sq_dist`` is (n, k) squared distances, self excluded. The mean is
    floored at :data:`MIN_SQ_DIST`, so a point whose neighbours are all exact
    duplicates gets a large but finite utility.
    """
    xp = get_namespace(sq_dist)
    mean = sq_dist.astype(xp.float64).mean(axis=1)
    return 1.0 / xp.maximum(mean, MIN_SQ_DIST)


def two_hop_utility(utility, X, dist, ind, *, sq_norm=None):
    """DC-SSL's two-hop utility ``U_i + sum_{j in kNN(i)} cos(x_i, x_j) U_j``.

    The cosine comes from the graph's distances and the norms:
    ``cos = (|x_i|^2 + |x_j|^2 - d_ij^2) / (2 |x_i| |x_j|)`` (``1 - d^2/2`` on
    the unit sphere), taken as 0 for all-zero rows. ``sq_norm`` (float64
    ``(X * X).sum(axis=1)``) replaces ``X`` where the rows are not at hand
    (the distributed path computes it blockwise; pass ``X=None``).
    """
    xp = get_namespace(dist if X is None else X)
    if sq_norm is None:
        sq_norm = (X * X).sum(axis=1).astype(xp.float64)
    norm = xp.sqrt(sq_norm)
    sq_dist = dist.astype(xp.float64) ** 2
    denom = 2 * norm[:, None] * norm[ind]
    safe = xp.where(denom == 0, 1.0, denom)
    cos = xp.where(denom == 0, 0.0, (sq_norm[:, None] + sq_norm[ind] - sq_dist) / safe)
    return utility + (cos * utility[ind]).sum(axis=1)


def cluster_argmax(score, labels, n_clusters, *, backend="numpy"):
    """Index of the highest ``score`` in each cluster (-1 for empty clusters).

    Ties go to the smallest index (every backend).
    """
    return get_kernels(backend).cluster_argmax(score, labels, n_clusters)


def inter_cluster_regularizer(X, sq_norm, labels, picks, *, horizon, alpha, backend,
                              extra=None):
    """``Reg_i`` of USL's eq. 5 for every point given the current picks.

    Sum over the ``horizon`` nearest picked points of *other* clusters of
    ``1 / max(d^2, MIN_SQ_DIST) ** alpha`` (the point's own cluster's pick is
    excluded; ``horizon=None`` sums over all of them). Computed in row blocks:
    memory O(block x m), never n x n. ``extra`` indices repel every point
    (picks of no cluster: already-labeled samples).
    """
    kernels = get_kernels(backend)
    xp = get_namespace(X)
    valid = picks >= 0
    sel_idx = picks[valid]
    if extra is not None and len(extra):
        # appended after the cluster picks: no cluster's column points at them
        sel_idx = xp.concatenate([sel_idx, xp.asarray(extra, dtype=sel_idx.dtype)])
    # Column of each cluster's pick among the picked points (-1 if empty).
    column = xp.full(picks.shape[0], -1, dtype=xp.int64)
    column[valid] = xp.arange(int(valid.sum()))
    S = X[sel_idx]
    sq_sel = sq_norm[sel_idx]
    horizon = 0 if horizon is None else int(horizon)
    n = X.shape[0]
    reg = xp.empty(n, dtype=xp.float64)
    for start in range(0, n, _REG_BLOCK_ROWS):
        stop = min(n, start + _REG_BLOCK_ROWS)
        G = X[start:stop] @ S.T
        reg[start:stop] = kernels.regularizer_block(
            G, sq_norm[start:stop], sq_sel, column[labels[start:stop]],
            horizon, alpha, MIN_SQ_DIST)
    return reg


def cluster_moments(v, labels, n_clusters):
    """(3, n_clusters) float64: count, sum and sum of squares of ``v`` per cluster."""
    xp = get_namespace(v)
    return xp.stack([xp.bincount(labels, minlength=n_clusters).astype(xp.float64),
                     xp.bincount(labels, weights=v, minlength=n_clusters),
                     xp.bincount(labels, weights=v * v, minlength=n_clusters)])


def spread_factor(moments_u, moments_reg):
    """Per-cluster ``std_c(U) / std_c(Reg)`` from :func:`cluster_moments` (0 where Reg is flat)."""
    xp = get_namespace(moments_u)

    def std(m):
        count = xp.maximum(m[0], 1.0)
        mean = m[1] / count
        return xp.sqrt(xp.maximum(m[2] / count - mean * mean, 0.0))

    su, sr = std(moments_u), std(moments_reg)
    flat = sr <= 1e-9 * xp.maximum(su, 1e-300)
    return xp.where(flat, 0.0, su / xp.where(flat, 1.0, sr))


def cluster_spread_scale(utility, reg, labels, n_clusters):
    """Per-sample factor ``std_c(U) / std_c(Reg)`` of its cluster c (``reg_scale="cluster"``).

    Multiplying ``Reg`` by it gives the regulariser the spread of the
    utility inside every cluster, so ``reg_weight`` reads as "how much of
    the utility's spread the repulsion may cost" whatever the units of U
    (1 / squared distance) and Reg (1 / distance summed over the picks).
    Clusters where Reg is flat get factor 0 (Reg cannot change their argmax
    anyway). From per-cluster moments, so the distributed path (which sums
    them over row blocks) computes the same factor.
    """
    factor = spread_factor(cluster_moments(utility, labels, n_clusters),
                           cluster_moments(reg, labels, n_clusters))
    return factor[labels]


def regularized_selection(X, utility, labels, n_clusters, *, reg_weight, reg_alpha,
                          reg_momentum, reg_iter, reg_horizon, backend, verbose=False,
                          reg_scale="raw", extra_repellers=None):
    """Per-cluster picks under the iterative regulariser (USL eq. 5-6).

    Round 1 picks ``argmax U`` in each cluster. Each later round updates
    ``Reg <- momentum * Reg + (1 - momentum) * Reg_new`` from the previous
    round's picks and re-picks ``argmax(U - reg_weight * Reg)`` per cluster,
    exactly as the reference implementation's loop: ``reg_iter`` rounds make
    ``reg_iter - 1`` regulariser updates, and ``reg_iter=1`` (or
    ``reg_weight=0``) is plain per-cluster density peaks.

    ``reg_scale="cluster"`` multiplies ``Reg`` by :func:`cluster_spread_scale`
    before the re-pick (``"raw"``: the reference's values).
    ``extra_repellers`` (indices, e.g. already-labeled samples) repel every
    point in every round, as picks of no cluster.

    Returns
    -------
    picks : ndarray of shape (n_clusters,), int64
        Chosen index per cluster, -1 for an empty cluster.
    reg : ndarray of shape (n_samples,)
        The regulariser used for the final picks.
    """
    xp = get_namespace(X)
    reg = xp.zeros_like(utility)
    sq_norm = xp.einsum("ij,ij->i", X, X)
    picks = cluster_argmax(utility, labels, n_clusters, backend=backend)
    n_rounds = reg_iter if reg_weight != 0 else 1
    with progress_bar(total=n_rounds, desc="USL regulariser", disable=not verbose) as bar:
        bar.update(1)
        for _ in range(1, n_rounds):
            reg_new = inter_cluster_regularizer(X, sq_norm, labels, picks,
                                                horizon=reg_horizon, alpha=reg_alpha,
                                                backend=backend, extra=extra_repellers)
            reg = reg_momentum * reg + (1 - reg_momentum) * reg_new
            eff = reg if reg_scale == "raw" else \
                reg * cluster_spread_scale(utility, reg, labels, n_clusters)
            picks = cluster_argmax(utility - reg_weight * eff, labels, n_clusters,
                                   backend=backend)
            bar.update(1)
    return picks, reg


def finalize_selection(picks, labels, utility, n_select):
    """Exactly ``n_select`` distinct indices, best utility first.

    With more non-empty clusters than ``n_select``, the picks of the
    ``n_select`` largest clusters are kept (ties by cluster id). With fewer
    (empty clusters, duplicate-heavy data), the rest is filled with the
    highest-utility points not yet chosen. Ties in utility go to the smaller
    index.
    """
    return _array_api.finalize_selection(get_namespace(utility), picks, labels,
                                         utility, n_select)
