"""USL on a Dask cluster: the single-machine steps, row block by row block.

The driver mirrors :meth:`skusl.selection.USLSelector._select` step for
step, with the same seeds drawn in the same order, and calls the same
functions and kernels on each row block:

1. rows normalised blockwise (:func:`skusl._validation.normalize_rows`
   is row-wise: same bits);
2. the kNN graph by row blocks (:mod:`skusl.distributed._exact`, or the
   partitioned approximate search);
3. the density utility blockwise (:func:`~skusl.selection._usl_core.density_utility`);
   the two-hop variant on the client, from the graph it holds anyway;
4. K-Means (:mod:`skusl.distributed._kmeans`, the single-machine partition
   by default);
5. each regulariser round: the current picks (m rows) gathered and sent to
   every row block, which runs the backend's ``regularizer_block`` kernel
   on the same GEMM rows as the single-machine loop; the per-cluster argmax
   per block (``cluster_argmax``), merged in block order (ties to the
   smaller index, as on one machine);
6. :func:`~skusl.selection._usl_core.finalize_selection` on the client.

What sits on the client: the graph (O(n k)), the utility, labels and
regulariser (O(n)), the picks and their rows (O(m d)); with
``kmeans="single"``, also the rows the single-machine K-Means reads.
"""

import numpy as np
from sklearn.utils.validation import check_random_state

from .._backends import get_kernels
from .._validation import check_distance_range, check_n_select, normalize_rows
from ..neighbors import arrays_to_graph
from ..selection import _usl_core
from ._dask import (
    check_dask_points,
    compute,
    holds_persisted,
    persist,
    require_dask,
    row_blocks,
    row_offsets,
)
from ._exact import _check_backend, exact_kneighbors, gemm_rows
from ._kmeans import fit_kmeans

_SEED_MAX = np.iinfo(np.int32).max

#: ``neighbors=`` values of the distributed search.
DISTRIBUTED_NEIGHBORS = ("exact", "approximate")


def preprocess(X, normalize):
    """Validated, (optionally) row-normalised and persisted copy of a dask array."""
    X = check_dask_points(X)
    X = X.map_blocks(normalize_rows, dtype=X.dtype) if normalize else check_distance_range(X)
    return persist(X)[0]


@holds_persisted
def kneighbors(X, n_neighbors, *, neighbors="exact", backend="auto", random_state=None,
               n_jobs=None, **approximate_params):
    """The kNN graph of a validated dask array as dask (dist, ind) arrays."""
    from ..neighbors._graph import _check_n_neighbors

    _check_n_neighbors(n_neighbors, X.shape[0])
    if neighbors == "exact":
        return exact_kneighbors(X, n_neighbors, backend=backend, n_jobs=n_jobs)
    if neighbors == "approximate":
        from ._approximate import approximate_kneighbors

        return approximate_kneighbors(X, n_neighbors, random_state=random_state,
                                      backend=backend, n_jobs=n_jobs, **approximate_params)
    raise ValueError(f"neighbors={neighbors!r}: the distributed search is one of "
                     f"{DISTRIBUTED_NEIGHBORS} (a kNN estimator cannot run on a dask array).")


def sq_norms(X):
    """``einsum('ij,ij->i', X, X)`` per row block (the single-machine regulariser's norms)."""
    return X.map_blocks(lambda b: np.einsum("ij,ij->i", b, b), drop_axis=1, dtype=X.dtype)


def density_utility(dist):
    """USL's density utility (eq. 2) of every row, from the graph's dask distances."""
    return dist.map_blocks(lambda d: _usl_core.density_utility(d.astype(np.float64) ** 2),
                           drop_axis=1, dtype=np.float64)


def _block_argmax(score, labels, offset, n_clusters, backend):
    """One block's per-cluster winners (global indices, -1 if absent) and their scores."""
    picks = _usl_core.cluster_argmax(score, labels, n_clusters, backend=backend)
    best = np.where(picks >= 0, score[np.maximum(picks, 0)], -np.inf)
    return np.where(picks >= 0, picks + offset, -1), best


def _merge_argmax(*parts):
    """Per-cluster winners of consecutive blocks: a later block wins only if strictly better."""
    picks, best = parts[0][0].copy(), parts[0][1].copy()
    for p, b in parts[1:]:
        better = (p >= 0) & ((picks < 0) | (b > best))
        picks[better], best[better] = p[better], b[better]
    return picks, best


def _argmax_tree(scores, labels, offsets, n_clusters, backend):
    """Delayed (picks, best) over all blocks; an order-preserving tree keeps ties early."""
    from dask import delayed

    argmax = delayed(_block_argmax, pure=True)
    parts = [argmax(s, lab, int(offsets[b]), n_clusters, backend)
             for b, (s, lab) in enumerate(zip(scores, labels, strict=True))]
    merge = delayed(_merge_argmax, pure=True)
    while len(parts) > 1:
        parts = [merge(*parts[j:j + 8]) if len(parts[j:j + 8]) > 1 else parts[j]
                 for j in range(0, len(parts), 8)]
    return parts[0]


def cluster_argmax(score, labels, n_clusters, *, backend):
    """Index of the highest ``score`` in each cluster, ties to the smallest index.

    ``score`` and ``labels`` are dask arrays with the same row blocks; each
    block runs the backend's kernel, and the block winners are merged in
    block order. Returns a NumPy int64 array (-1 for empty clusters).
    """
    tree = _argmax_tree(score.to_delayed().ravel(), labels.to_delayed().ravel(),
                        row_offsets(score), n_clusters, backend)
    return compute(tree)[0][0]


def _picked_rows(X, winners, offset):
    """This block's picked rows and their places among the picks (cluster order)."""
    picks = winners[0]
    sel_idx = picks[picks >= 0]
    local = sel_idx - offset
    here = np.flatnonzero((local >= 0) & (local < X.shape[0]))
    return here, X[local[here]]


def _assemble_picks(winners, *pieces):
    """``S = X[picks[picks >= 0]]`` (cluster order), its norms and each cluster's column."""
    picks = winners[0]
    valid = picks >= 0
    n_sel = int(valid.sum())
    S = np.empty((n_sel, pieces[0][1].shape[1]), dtype=pieces[0][1].dtype)
    for here, rows in pieces:
        S[here] = rows
    column = np.full(picks.shape[0], -1, dtype=np.int64)
    column[valid] = np.arange(n_sel)
    return S, np.einsum("ij,ij->i", S, S), column


def _regularizer_rows(X, sq_rows, labels, picked, horizon, alpha, backend):
    """``inter_cluster_regularizer`` for one row block, against the gathered picks.

    The same kernel on the same GEMM rows (blocks of ``_REG_BLOCK_ROWS``) as
    the single-machine loop, so the same terms in the same order.
    """
    S, sq_sel, column = picked
    kernels = get_kernels(backend)
    step = _usl_core._REG_BLOCK_ROWS
    reg = np.empty(X.shape[0], dtype=np.float64)
    for start in range(0, X.shape[0], step):
        stop = min(X.shape[0], start + step)
        G = gemm_rows(X[start:stop], S)
        reg[start:stop] = kernels.regularizer_block(
            G, sq_rows[start:stop], sq_sel, column[labels[start:stop]], horizon, alpha,
            _usl_core.MIN_SQ_DIST)
    return reg


def _momentum(reg, reg_new, momentum):
    return momentum * reg + (1 - momentum) * reg_new


def _score(utility, reg, weight):
    return utility - weight * reg


def _scaled_score(utility, reg, labels, factor, weight):
    return utility - weight * (reg * factor[labels])


def _sum_moments(*moments):
    out = moments[0].copy()
    for m in moments[1:]:  # block order: the same sum on every run
        out += m
    return out


def regularized_selection(X, utility, labels, n_clusters, *, reg_weight, reg_alpha,
                          reg_momentum, reg_iter, reg_horizon, backend, reg_scale="raw"):
    """:func:`skusl.selection._usl_core.regularized_selection` on dask arrays.

    Every round is one layer of one task graph, computed once: each block
    sends its picked rows (O(m d) in all) to a task that stacks them, the
    stack goes to every block, which updates its regulariser and its
    per-cluster winners; the winners merge in block order. Returns NumPy
    ``(picks, reg)`` on the client.
    """
    from dask import delayed

    offsets = row_offsets(X)
    xs = row_blocks(X)
    sq = row_blocks(persist(sq_norms(X))[0])
    us, labs = row_blocks(utility), row_blocks(labels)
    horizon = 0 if reg_horizon is None else int(reg_horizon)
    picked_rows = delayed(_picked_rows, pure=True)
    assemble = delayed(_assemble_picks, pure=True)
    regularize = delayed(_regularizer_rows, pure=True)
    momentum, score = delayed(_momentum, pure=True), delayed(_score, pure=True)
    moments = delayed(_usl_core.cluster_moments, pure=True)
    total = delayed(_sum_moments, pure=True)
    factor_of = delayed(_usl_core.spread_factor, pure=True)
    scaled = delayed(_scaled_score, pure=True)
    if reg_scale != "raw":
        mom_u = total(*[moments(u, lab, n_clusters) for u, lab in zip(us, labs, strict=True)])
    winners = _argmax_tree(us, labs, offsets, n_clusters, backend)
    regs = [delayed(np.zeros)(n, dtype=np.float64) for n in X.chunks[0]]
    n_rounds = reg_iter if reg_weight != 0 else 1
    for _ in range(1, n_rounds):
        picked = assemble(winners, *[picked_rows(x, winners, int(offsets[b]))
                                     for b, x in enumerate(xs)])
        regs = [momentum(r, regularize(x, s, lab, picked, horizon, reg_alpha, backend),
                         reg_momentum)
                for r, x, s, lab in zip(regs, xs, sq, labs, strict=True)]
        if reg_scale == "raw":
            scores = [score(u, r, reg_weight) for u, r in zip(us, regs, strict=True)]
        else:  # the regulariser at the utility's spread per cluster (USLSelector)
            fac = factor_of(mom_u, total(*[moments(r, lab, n_clusters)
                                           for r, lab in zip(regs, labs, strict=True)]))
            scores = [scaled(u, r, lab, fac, reg_weight)
                      for u, r, lab in zip(us, regs, labs, strict=True)]
        winners = _argmax_tree(scores, labs, offsets, n_clusters, backend)
    winners, regs = compute(winners, regs)
    return winners[0], np.concatenate(regs)


@holds_persisted
def fit_usl(X, n_select, *, n_neighbors=20, n_clusters=None, utility="density",
            normalize=True, reg_weight=0.5, reg_alpha=0.5, reg_momentum=0.9, reg_iter=10,
            reg_horizon=None, reg_scale="cluster", neighbors="exact", kmeans="single",
            backend="auto", random_state=None, n_jobs=None, approximate_params=None):
    """USL selection of a dask array on the active Dask scheduler.

    Takes :class:`skusl.selection.USLSelector`'s parameters (same meaning,
    same defaults), plus ``kmeans`` and ``approximate_params``. With
    ``neighbors="exact"`` and ``kmeans="single"``, the same ``random_state``
    gives the single-machine selection (``USLSelector(neighbors="exact")``).

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features)
        Embeddings; validated as on one machine.
    n_select : int
    n_neighbors, n_clusters, utility, normalize : see ``USLSelector``
    reg_weight, reg_alpha, reg_momentum, reg_iter, reg_horizon : see ``USLSelector``
    reg_scale : {"cluster", "raw"}, default="cluster"
        See ``USLSelector``; the per-cluster moments are summed over the row
        blocks.
    neighbors : {"exact", "approximate"}, default="exact"
        The distributed kNN search (:func:`skusl.distributed.kneighbors`).
    kmeans : {"single", "lloyd"}, default="single"
        ``"single"``: the single-machine partition (gathers the rows its
        K-Means reads); ``"lloyd"``: a blocked Lloyd on the cluster.
    backend : {"auto", "numpy", "numba"}, default="auto"
        Kernels in the tasks.
    random_state : int, RandomState instance or None, default=None
    n_jobs : int or None, default=None
        Numba threads per task.
    approximate_params : dict or None
        ``cell_size`` / ``n_probe`` of the approximate search.

    Returns
    -------
    fitted : dict
        The selector's fitted attributes: ``selected_indices_``,
        ``prototypes_``, ``labels_``, ``cluster_centers_``, ``utility_``,
        ``regularizer_``, ``knn_graph_`` (a SciPy CSR matrix), NumPy arrays
        on the client.

    Examples
    --------
    >>> import dask.array as da
    >>> from sklearn.datasets import load_digits
    >>> from skusl import USLSelector
    >>> from skusl.distributed import fit_usl
    >>> X, _ = load_digits(return_X_y=True)
    >>> fitted = fit_usl(da.from_array(X, chunks=600), 10, random_state=0)
    >>> single = USLSelector(n_select=10, neighbors="exact", random_state=0).fit(X)
    >>> bool((fitted["selected_indices_"] == single.selected_indices_).all())
    True
    """
    n_samples = X.shape[0]
    check_n_select(n_select, n_samples)
    n_clusters = n_select if n_clusters is None else n_clusters
    if n_clusters > n_samples:
        raise ValueError(f"n_clusters={n_clusters} exceeds n_samples={n_samples}; "
                         "lower n_clusters.")
    backend = _check_backend(backend)
    rng = check_random_state(random_state)
    # The single-machine selector draws these two seeds in this order.
    knn_seed, kmeans_seed = rng.randint(_SEED_MAX, size=2)
    Xp = preprocess(X, normalize)
    dist, ind = kneighbors(Xp, n_neighbors, neighbors=neighbors, backend=backend,
                           random_state=int(knn_seed), n_jobs=n_jobs,
                           **(approximate_params or {}))
    u, = persist(density_utility(dist))
    graph_dist, graph_ind, u_host = compute(dist, ind, u)
    if utility == "two_hop":
        norms = np.asarray(compute(Xp.map_blocks(
            lambda b: (b * b).sum(axis=1).astype(np.float64), drop_axis=1,
            dtype=np.float64))[0])
        u_host = _usl_core.two_hop_utility(u_host, None, graph_dist, graph_ind,
                                           sq_norm=norms)
        u = require_dask().from_array(u_host, chunks=(Xp.chunks[0],))
    labels, centers = fit_kmeans(Xp, n_clusters, int(kmeans_seed), method=kmeans,
                                 backend=backend, n_jobs=n_jobs)
    labels, = persist(labels)
    picks, reg_host = regularized_selection(
        Xp, u, labels, n_clusters, reg_weight=reg_weight, reg_alpha=reg_alpha,
        reg_momentum=reg_momentum, reg_iter=reg_iter, reg_horizon=reg_horizon,
        backend=backend, reg_scale=reg_scale)
    labels_host, = compute(labels)
    selected = _usl_core.finalize_selection(picks, labels_host, u_host, n_select)
    selected = np.asarray(selected, dtype=np.int64)
    return {
        "selected_indices_": selected,
        "prototypes_": np.asarray(compute(Xp[selected])[0]),
        "labels_": labels_host,
        "cluster_centers_": centers,
        "utility_": u_host,
        "regularizer_": reg_host,
        "knn_graph_": arrays_to_graph(graph_dist, graph_ind),
        "n_samples_fit_": n_samples,
        "n_features_in_": X.shape[1],
    }
