"""Exact kNN graph of a dask array: every row block against every column block.

The single-machine search (:mod:`skusl.neighbors._exact`) turns a (rows, n)
GEMM block into each row's ``k`` smallest squared distances with a backend
kernel (``knn_block``). Here the columns are split too: the task for the
pair (row block r, column block c) runs the same kernel on the (r, c) GEMM
block and returns that block's top-k with global column indices; a tree of
merges (``MERGE_FAN_IN`` parts at a time) keeps the ``k`` smallest by
(squared distance, index). Consecutive row blocks are grouped into column
tiles of about ``COLUMN_TILE_ROWS`` rows, so that the top-k scan restarts
once per tile rather than once per block. No task ever holds more than two row blocks and one GEMM
tile, and only the (n, k) result leaves the workers.

Why it is the single-machine graph, bit for bit on ordinary data:

- every entry of the GEMM is the same dot product whichever rows and
  columns share its call (BLAS blocks the inner dimension the same way;
  one-row products, which BLAS routes to GEMV, are padded to two rows, and
  diagonal blocks are kept off NumPy's SYRK path). The single-machine
  search multiplies its row blocks by all of ``X`` with GEMM too, except
  when all of ``X`` fits one block (below about 8,000 rows), where NumPy
  takes SYRK: there the two agree up to a last-bit rounding of a few
  distances;
- squared distances are formed by the same kernel from the same norms, in
  the same operation order, and the k smallest of a union of per-block
  top-k lists, ties to the smaller index, are the k smallest of the row;
- the precision guards are the single-machine ones: ``_condition`` (the
  same function, evaluated on the dask array) scales or centres globally,
  and a row block whose rounding noise is not negligible next to its k-th
  distances is redone on float64 direct distances (``_rerank``), with the
  same criterion. The one difference: the single-machine search keeps
  re-ranking every block after the first that needs it, whereas here each
  row block decides for itself, and each column block contributes its own
  ``2k + 16`` candidates (a superset of the single-machine candidates).
"""

import numpy as np

from .._backends import get_kernels, resolve_backend
from .._backends._numpy import sort_rows
from ..neighbors import _exact
from ..neighbors._graph import _threads
from ._dask import (compute, from_row_blocks, holds_persisted, persist, require_dask,
                    row_blocks, row_offsets)

#: Row-block results merged per task in the top-k reduction tree.
MERGE_FAN_IN = 8

#: Rows of one column tile: consecutive row blocks are searched together up to
#: this many (one top-k scan per tile; its threshold settles once per tile).
COLUMN_TILE_ROWS = 32768


def gemm_rows(A, B):
    """``A @ B.T`` with the bits every row would get inside a larger product.

    BLAS routes a one-row (or one-column) product to GEMV, which may round
    differently from GEMM; padding to two rows keeps the GEMM path. NumPy
    routes ``A @ A.T`` to SYRK, which rounds some entries differently too;
    a copy of ``B`` keeps GEMM on the diagonal blocks as everywhere else.
    """
    if np.may_share_memory(A, B):
        B = B.copy()
    if A.shape[0] == 1:
        return gemm_rows(np.concatenate([A, A]), B)[:1]
    if B.shape[0] == 1:
        return gemm_rows(A, np.concatenate([B, B]))[:, :1]
    return A @ B.T


def pair_topk(Xr, sq_r, Xc, sq_c, k, col_offset, self_offset, backend, block_bytes,
              n_candidates=0, n_jobs=None):
    """The ``k`` nearest rows of the column block ``Xc`` for each row of ``Xr``.

    Parameters
    ----------
    Xr : ndarray of shape (b_r, d)
    Xc : ndarray of shape (b_c, d), or a list of consecutive row blocks
        (concatenated here: fewer, longer column tiles let the top-k
        threshold settle once per tile rather than once per block).
    sq_r, sq_c : ndarray of shape (b_r,) and (b_c,) (or a list, as ``Xc``)
        Squared row norms.
    k : int
    col_offset : int
        Global index of ``Xc``'s first row.
    self_offset : int or None
        ``Xr``'s rows are rows ``self_offset, self_offset + 1, ...`` of ``Xc``
        (a row never returns itself); ``None``: no self exclusion.
    backend : {"numpy", "numba"}
    block_bytes : int
        Budget of one GEMM tile.
    n_candidates : int
        0: the ``k`` nearest by the GEMM, their squared distances then computed
        directly in float64 (the plain path). Otherwise take
        that many candidates per row and keep the ``k`` nearest by float64
        direct distances (the single-machine ``_rerank``).
    n_jobs : int or None
        Numba threads in this task.

    Returns
    -------
    sq_dist : ndarray of shape (b_r, k_c)
        ``k_c = min(k, available columns)``; float64 direct distances;
        ascending, ties to the smaller index.
    ind : ndarray of shape (b_r, k_c), int64
        Global column indices.
    """
    kernels = get_kernels(backend)
    if isinstance(Xc, (list, tuple)):
        Xc, sq_c = np.concatenate(Xc), np.concatenate(sq_c)
    diagonal = self_offset is not None
    b_r, b_c = Xr.shape[0], Xc.shape[0]
    available = b_c - int(diagonal)
    k_c = min(k, available)
    dtype = np.float64  # direct float64 distances, as the single-machine search
    out_d = np.empty((b_r, max(k_c, 0)), dtype=dtype)
    out_i = np.empty((b_r, max(k_c, 0)), dtype=np.int64)
    if k_c <= 0:
        return out_d, out_i
    n_cand = min(n_candidates, available)
    rows = int(max(1, min(b_r, block_bytes // max(1, b_c * Xr.dtype.itemsize))))
    with _threads(backend, n_jobs):
        for start in range(0, b_r, rows):
            stop = min(b_r, start + rows)
            G = gemm_rows(Xr[start:stop], Xc)
            offset = start + (self_offset or 0)
            if n_candidates:
                _, cand = kernels.knn_block(G, sq_r[start:stop], sq_c, n_cand, offset, diagonal)
                d, i = _exact._rerank(np, Xr[start:stop], Xc, cand, k_c)
            else:  # direct distances of the k found (the single-machine rule)
                _, i = kernels.knn_block(G, sq_r[start:stop], sq_c, k_c, offset, diagonal)
                d, i = _exact._rerank(np, Xr[start:stop], Xc, i, k_c)
            out_d[start:stop] = d
            out_i[start:stop] = i
    out_i += col_offset
    return out_d, out_i


def merge_topk(k, *parts):
    """The ``k`` smallest (distance, index) pairs of each row over several top-k lists."""
    d = np.concatenate([p[0] for p in parts], axis=1)
    i = np.concatenate([p[1] for p in parts], axis=1)
    d, i = sort_rows(d, i)
    return d[:, :k], i[:, :k]


def _needs_rerank(part, sq_r, max_sq_all, n_candidates):
    """The single-machine criterion: GEMM rounding noise against the k-th distances."""
    d = part[0]
    if not n_candidates or d.shape[0] == 0:
        return False
    eps = float(np.finfo(sq_r.dtype).eps)  # the GEMM's precision, not the distances'

    noise = eps * (float(sq_r.max()) + max_sq_all)
    return bool(noise > _exact.RERANK_TOLERANCE * float(np.median(d[:, -1])))


def _to_distances(part, exponent, dtype):
    """Squared distances (float64 if re-ranked) to distances in ``X``'s dtype."""
    d, i = part
    d = d.astype(dtype, copy=False) ** 0.5
    if exponent:
        d = np.ldexp(d, exponent)
    return np.ascontiguousarray(d), np.ascontiguousarray(i)


def _sq_norms(block):
    return np.einsum("ij,ij->i", block, block)


def _tree(parts, k):
    from dask import delayed

    merge = delayed(merge_topk, pure=True)
    while len(parts) > 1:
        parts = [merge(k, *parts[j:j + MERGE_FAN_IN]) if len(parts[j:j + MERGE_FAN_IN]) > 1
                 else parts[j] for j in range(0, len(parts), MERGE_FAN_IN)]
    return parts[0]


def column_tiles(offsets, target_rows=None):
    """Consecutive row blocks grouped into column tiles of about ``target_rows`` rows.

    ``None``: :data:`COLUMN_TILE_ROWS`. A block larger than the target is a
    tile of its own.
    """
    target_rows = COLUMN_TILE_ROWS if target_rows is None else target_rows
    tiles, start = [], 0
    for c in range(1, len(offsets) - 1):
        if offsets[c + 1] - offsets[start] > target_rows:
            tiles.append((start, c))
            start = c
    tiles.append((start, len(offsets) - 1))
    return tiles


def _row_block_topk(query, query_sq, r, blocks, sq, offsets, k, backend, block_bytes,
                    n_candidates, n_jobs):
    """Delayed top-k of one query block against every column tile (r: its own index, or -1)."""
    from dask import delayed

    pair = delayed(pair_topk, pure=True)
    parts = []
    for c0, c1 in column_tiles(offsets):
        self_offset = int(offsets[r] - offsets[c0]) if c0 <= r < c1 else None
        parts.append(pair(query, query_sq, blocks[c0:c1], sq[c0:c1], k, int(offsets[c0]),
                          self_offset, backend, block_bytes, n_candidates, n_jobs))
    return _tree(parts, k)


def _guarded_search(queries, query_sq, ref, k, backend, block_bytes, n_jobs):
    """Top-k of each query block against the row blocks of ``ref`` (already conditioned).

    ``queries=None`` searches ``ref`` against itself (self excluded);
    otherwise ``queries`` and ``query_sq`` are lists of delayed blocks and
    their squared norms. The plain pass runs first; query blocks that fail
    the rounding-noise criterion are searched again with float64
    re-ranking. Returns one delayed (squared distances, indices) per query
    block.
    """
    from dask import delayed

    self_search = queries is None
    sq_arr, = persist(ref.map_blocks(_sq_norms, drop_axis=1, dtype=ref.dtype))
    max_sq_all = float(compute(sq_arr.max())[0])
    blocks = row_blocks(ref)
    sq = list(sq_arr.to_delayed().ravel())
    if self_search:
        queries, query_sq = blocks, sq
    offsets = row_offsets(ref)
    n_candidates = _exact._rerank_candidates(k, ref.shape[0] - int(self_search))

    def search(r, n_cand):
        return _row_block_topk(queries[r], query_sq[r], r if self_search else -1, blocks, sq,
                               offsets, k, backend, block_bytes, n_cand, n_jobs)

    plain = [search(r, 0) for r in range(len(queries))]
    check = delayed(_needs_rerank, pure=True)
    flags = [check(plain[r], query_sq[r], max_sq_all, n_candidates)
             for r in range(len(queries))]
    plain, flags = persist(plain, flags)
    flags = compute(*flags)
    return [search(r, n_candidates) if flag else plain[r] for r, flag in enumerate(flags)]


def _check_backend(backend):
    if backend == "cupy":
        raise ValueError("the distributed search computes on the workers' CPUs; use "
                         "backend='auto', 'numba' or 'numpy'.")
    return resolve_backend(backend)


@holds_persisted
def _search_settings(backend, block_bytes):
    """``dask.array``, the checked backend and the GEMM tile budget of a search."""
    da = require_dask()
    backend = _check_backend(backend)
    block_bytes = _exact.DEFAULT_BLOCK_BYTES if block_bytes is None else int(block_bytes)
    return da, backend, block_bytes


def _distance_arrays(parts, Xc, k, exponent, dtype):
    """The delayed per-row-block results of a search as persisted dask arrays.

    ``parts`` hold (squared, conditioned) distances and indices, one per row
    block of ``Xc``; returns (distances in ``dtype``, int64 indices).
    """
    from dask import delayed

    finish = delayed(_to_distances, pure=True, nout=2)
    finished = [finish(p, exponent, dtype) for p in parts]
    dist = from_row_blocks([f[0] for f in finished], Xc, k, dtype)
    ind = from_row_blocks([f[1] for f in finished], Xc, k, np.int64)
    return persist(dist, ind)


def exact_kneighbors(X, n_neighbors, *, backend="auto", block_bytes=None, n_jobs=None):
    """Exact k nearest neighbours of every row of a dask array, self excluded.

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features)
        Validated (:func:`~skusl.distributed._dask.check_dask_points`): float,
        finite, one column chunk. Row blocks of at least ``n_neighbors + 1``
        rows keep the tasks efficient (any size is correct).
    n_neighbors : int
    backend : {"auto", "numpy", "numba"}
        Kernels in the tasks (``"auto"``: Numba).
    block_bytes : int or None
        GEMM tile budget per task (default: the single-machine 256 MiB).
    n_jobs : int or None
        Numba threads per task (``None``: Numba's setting on the worker).

    Returns
    -------
    dist : dask array of shape (n_samples, n_neighbors), X's dtype
        Euclidean distances, ascending, ties to the smaller index; row
        blocks as ``X``'s, persisted.
    ind : dask array of shape (n_samples, n_neighbors), int64
    """
    da, backend, block_bytes = _search_settings(backend, block_bytes)
    dtype = X.dtype
    Xc, _, exponent = _exact._condition(da, X, X, True)
    if Xc is not X:
        Xc, = persist(Xc)
    parts = _guarded_search(None, None, Xc, n_neighbors, backend, block_bytes, n_jobs)
    return _distance_arrays(parts, Xc, n_neighbors, exponent, dtype)


@holds_persisted
def query_topk(Q, X, k, *, backend="auto", block_bytes=None, n_jobs=None):
    """Exact ``k`` nearest rows of the dask array ``X`` for each row of a NumPy ``Q``.

    ``Q`` is small (centroids, a few query points): it travels to every row
    block of ``X``. No self exclusion; the same guards as
    :func:`exact_kneighbors`. Returns NumPy (distances, indices), ascending
    with ties to the smaller index, like
    :func:`skusl.neighbors.query_kneighbors`.
    """
    from dask import delayed

    da, backend, block_bytes = _search_settings(backend, block_bytes)
    dtype = X.dtype
    Q = np.ascontiguousarray(Q, dtype=dtype)
    Qc, Xc, exponent = _exact._condition(da, da.from_array(Q, chunks=Q.shape), X, False)
    Qc = np.ascontiguousarray(compute(Qc)[0])
    if Xc is not X:
        Xc, = persist(Xc)
    part, = _guarded_search([delayed(Qc)], [delayed(_sq_norms(Qc))], Xc, k, backend,
                            block_bytes, n_jobs)
    return _to_distances(compute(part)[0], exponent, dtype)


@holds_persisted
def nearest_rows(X, Y, k=1, *, backend="auto", block_bytes=None, n_jobs=None):
    """The ``k`` nearest rows of a small NumPy ``Y`` for each row of the dask array ``X``.

    The distributed twin of :func:`skusl.neighbors.query_kneighbors` with
    ``X`` the queries: ``Y`` (centroids) travels to every row block, the
    guards are evaluated on ``X`` and ``Y`` as a whole. Returns dask arrays
    (distances, indices) with ``X``'s row blocks.
    """
    da, backend, block_bytes = _search_settings(backend, block_bytes)
    dtype = X.dtype
    Y = np.ascontiguousarray(Y, dtype=dtype)
    Xc, Yc, exponent = _exact._condition(da, X, da.from_array(Y, chunks=Y.shape), False)
    if Xc is not X:
        Xc, = persist(Xc)
    sq = list(Xc.map_blocks(_sq_norms, drop_axis=1, dtype=dtype).to_delayed().ravel())
    parts = _guarded_search(row_blocks(Xc), sq, Yc, k, backend, block_bytes, n_jobs)
    return _distance_arrays(parts, Xc, k, exponent, dtype)
