"""Approximate kNN graph of a dask array: overlapping K-Means cells, exact search inside each.

The partitioned all-neighbour scheme (as in partition-based builders such
as FAISS's IVF used for all-pairs, or the "k-means tree" graph builders):

1. ``n_cells`` centroids, fitted by the project's K-Means
   (:func:`skusl.neighbors._kmeans.fit_kmeans`) on a seeded sample gathered
   to the client;
2. every row joins its ``n_probe`` nearest cells (the overlap: a point near a
   cell boundary is searched on both sides), found blockwise with the exact
   kernel;
3. a shuffle sends each cell's members to one task (cells packed into
   groups of about equal cost); each cell runs the exact search among its
   members (``knn_block`` on the cell's GEMM, as the exact path);
4. the candidates go back to their row blocks and are merged: duplicates
   (a pair found in two cells) dropped, the ``k`` nearest kept by
   (distance, index);
5. rows left with fewer than ``k`` candidates (tiny cells) get the exact
   answer from a query against all row blocks.

The exact search's conditioning (power-of-two scaling, centring) is applied
to the whole array first; its float64 re-rank is not applied inside cells.

Cost: about ``n * n_probe^2 * cell_size * d`` multiply-adds (each cell holds
about ``n_probe * cell_size`` rows) against ``n^2 d`` for the exact graph;
recall rises with ``n_probe`` and ``cell_size`` (measured in
``docs/benchmarks/dask.md``). The result is not the single-machine
approximate graph (pynndescent): same seed, same graph, on any cluster.
"""

import numpy as np

from ..neighbors import _exact
from ._dask import (compute, from_row_blocks, holds_persisted, persist, row_blocks, row_offsets)
from ._exact import (_search_settings, _sq_norms, _to_distances, nearest_rows, pair_topk,
                     query_topk)

#: Rows per cell before the overlap (each cell then holds about n_probe times this).
DEFAULT_CELL_SIZE = 2000
#: Cells each row joins.
DEFAULT_N_PROBE = 3
#: Sample rows per cell for the centroids.
SAMPLE_PER_CELL = 40


def _split_block(block, cells, offset, group_of_cell, n_groups):
    """One row block's (global index, cell, row) triples, one tuple per cell group."""
    n_probe = cells.shape[1]
    gidx = np.repeat(np.arange(block.shape[0], dtype=np.int64) + offset, n_probe)
    cell = cells.ravel()
    group = group_of_cell[cell]
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(n_groups + 1))
    rows = np.repeat(np.arange(block.shape[0]), n_probe)
    out = []
    for g in range(n_groups):
        sel = order[bounds[g]:bounds[g + 1]]
        out.append((gidx[sel], cell[sel], block[rows[sel]]))
    return tuple(out)


def _search_cells(k, backend, block_bytes, n_jobs, offsets, *pieces):
    """Exact kNN inside every cell of a group; candidates routed to their row blocks."""
    gidx = np.concatenate([p[0] for p in pieces])
    cell = np.concatenate([p[1] for p in pieces])
    rows = np.concatenate([p[2] for p in pieces])
    order = np.lexsort((gidx, cell))
    gidx, cell, rows = gidx[order], cell[order], rows[order]
    n = gidx.size
    out_d = np.full((n, k), np.inf, dtype=np.float64)
    out_i = np.full((n, k), -1, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]]) if n else np.zeros(0, int)
    ends = np.r_[starts[1:], n] if n else np.zeros(0, int)  # a group may hold no cell
    for s, e in zip(starts, ends, strict=True):
        X = np.ascontiguousarray(rows[s:e])
        sq = _sq_norms(X)
        d, i = pair_topk(X, sq, X, sq, k, 0, 0, backend, block_bytes, 0, n_jobs)
        out_d[s:e, :d.shape[1]] = d
        out_i[s:e, :d.shape[1]] = gidx[s:e][i]
    # Route each row's candidates to the row block that owns it.
    dest = np.searchsorted(offsets, gidx, side="right") - 1
    by_dest = np.argsort(dest, kind="stable")
    bounds = np.searchsorted(dest[by_dest], np.arange(len(offsets)))
    return tuple((gidx[by_dest[bounds[b]:bounds[b + 1]]],
                  out_d[by_dest[bounds[b]:bounds[b + 1]]],
                  out_i[by_dest[bounds[b]:bounds[b + 1]]]) for b in range(len(offsets) - 1))


def _merge_candidates(k, n_rows, offset, *pieces):
    """The k nearest distinct candidates of each row of a block (inf / -1 where short)."""
    src = np.concatenate([p[0] for p in pieces]) - offset
    d = np.concatenate([p[1] for p in pieces])
    i = np.concatenate([p[2] for p in pieces])
    row = np.repeat(src, k)
    d, i = d.ravel(), i.ravel()
    keep = i >= 0
    row, d, i = row[keep], d[keep], i[keep]
    order = np.lexsort((d, i, row))  # by row, then index, then distance
    row, d, i = row[order], d[order], i[order]
    first = np.r_[True, (row[1:] != row[:-1]) | (i[1:] != i[:-1])]
    row, d, i = row[first], d[first], i[first]
    order = np.lexsort((i, d, row))  # by row, then (distance, index)
    row, d, i = row[order], d[order], i[order]
    starts = np.searchsorted(row, np.arange(n_rows))
    rank = np.arange(row.size) - starts[row]
    keep = rank < k
    out_d = np.full((n_rows, k), np.inf)
    out_i = np.full((n_rows, k), -1, dtype=np.int64)
    out_d[row[keep], rank[keep]] = d[keep]
    out_i[row[keep], rank[keep]] = i[keep]
    return out_d, out_i


def _pack_groups(sizes, n_groups):
    """Cells into ``n_groups`` groups of about equal cost (size^2), largest first."""
    group_of_cell = np.zeros(sizes.size, dtype=np.int64)
    load = np.zeros(n_groups)
    for c in np.argsort(-sizes.astype(np.float64) ** 2, kind="stable"):
        g = int(np.argmin(load))
        group_of_cell[c] = g
        load[g] += float(sizes[c]) ** 2
    return group_of_cell


def _fix_short_rows(X, d, i, k, backend, n_jobs):
    """Rows with fewer than k candidates: exact answer from a query against all of X."""
    short = np.flatnonzero(i[:, -1] < 0)
    if short.size == 0:
        return d, i
    Q = np.ascontiguousarray(compute(X[short])[0])
    qd, qi = query_topk(Q, X, min(k + 1, X.shape[0]), backend=backend, n_jobs=n_jobs)
    is_self = qi == short[:, None]
    drop = np.where(is_self.any(axis=1), is_self.argmax(axis=1), qi.shape[1] - 1)
    keep = np.ones(qi.shape, dtype=bool)
    keep[np.arange(short.size), drop] = False
    d = d.copy()
    i = i.copy()
    d[short] = (qd[keep].reshape(short.size, -1)[:, :k].astype(np.float64)) ** 2
    i[short] = qi[keep].reshape(short.size, -1)[:, :k]
    return d, i


@holds_persisted
def approximate_kneighbors(X, n_neighbors, *, random_state=None, cell_size=DEFAULT_CELL_SIZE,
                           n_probe=DEFAULT_N_PROBE, backend="auto", block_bytes=None,
                           n_jobs=None):
    """Approximate k nearest neighbours of every row of a dask array (self excluded).

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features)
        Validated, one column chunk.
    n_neighbors : int
    random_state : int, RandomState or None
        Seeds the sample and the cells' K-Means. Same seed, same graph.
    cell_size : int, default=2000
        Rows per cell before the overlap: ``n_cells = ceil(n / cell_size)``.
    n_probe : int, default=3
        Cells each row joins (1: disjoint cells).
    backend : {"auto", "numpy", "numba"}
    block_bytes : int or None
        GEMM tile budget inside a cell.
    n_jobs : int or None
        Numba threads per task.

    Returns
    -------
    dist, ind : dask arrays of shape (n_samples, n_neighbors)
        Distances in ``X``'s dtype (ascending, ties to the smaller index) and
        int64 indices, persisted, with ``X``'s row blocks.
    """
    from dask import delayed
    from sklearn.utils.validation import check_random_state

    from ..neighbors._kmeans import fit_kmeans

    da, backend, block_bytes = _search_settings(backend, block_bytes)
    n_samples, dtype = X.shape[0], X.dtype
    k = int(n_neighbors)
    rng = check_random_state(random_state)
    Xc, _, exponent = _exact._condition(da, X, X, True)
    if Xc is not X:
        Xc, = persist(Xc)
    n_cells = int(max(1, -(-n_samples // int(cell_size))))
    n_probe = int(min(max(1, n_probe), n_cells))
    if n_cells == 1:
        from ._exact import exact_kneighbors

        return exact_kneighbors(X, k, backend=backend, block_bytes=block_bytes, n_jobs=n_jobs)
    n_sample = min(n_samples, SAMPLE_PER_CELL * n_cells)
    rows = np.sort(rng.choice(n_samples, n_sample, replace=False))
    sample = np.ascontiguousarray(compute(Xc[rows])[0])
    _, centers = fit_kmeans(sample, n_cells, int(rng.randint(np.iinfo(np.int32).max)))
    _, cells = nearest_rows(Xc, centers, n_probe, backend=backend, n_jobs=n_jobs)
    cells, = persist(cells)
    sizes = compute(cells.map_blocks(
        lambda c: np.bincount(c.ravel(), minlength=n_cells)[None], dtype=np.int64,
        chunks=((1,) * cells.numblocks[0], (n_cells,))).sum(axis=0))[0]
    blocks = row_blocks(Xc)
    offsets = row_offsets(Xc)
    n_groups = len(blocks)
    group_of_cell = delayed(_pack_groups(sizes, n_groups))
    split = delayed(_split_block, pure=True, nout=n_groups)
    splits = [split(b, c, int(offsets[j]), group_of_cell, n_groups)
              for j, (b, c) in enumerate(zip(blocks, cells.to_delayed().ravel(), strict=True))]
    search = delayed(_search_cells, pure=True, nout=len(blocks))
    found = [search(k, backend, block_bytes, n_jobs, offsets, *[s[g] for s in splits])
             for g in range(n_groups)]
    merge = delayed(_merge_candidates, pure=True, nout=2)
    merged = [merge(k, int(offsets[b + 1] - offsets[b]), int(offsets[b]),
                    *[f[b] for f in found]) for b in range(len(blocks))]
    d, i = compute(from_row_blocks([m[0] for m in merged], Xc, k, np.float64),
                   from_row_blocks([m[1] for m in merged], Xc, k, np.int64))
    d, i = _fix_short_rows(Xc, d, i, k, backend, n_jobs)
    d, i = _to_distances((d, i), exponent, dtype)
    chunks = (Xc.chunks[0], (k,))
    return persist(da.from_array(d, chunks=chunks), da.from_array(i, chunks=chunks))
