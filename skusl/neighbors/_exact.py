"""Exact kNN by blocked GEMM plus a per-row top-k kernel.

Memory is O(n k + block): the (block, n) inner-product block is the only
large temporary, sized by ``block_bytes``. Works on NumPy and CuPy arrays
alike (the array namespace follows the input).

The GEMM form ``|x|^2 + |y|^2 - 2 x.y`` is fast but loses precision when
the norms are large next to the distances (cancellation). Two guards keep
it exact "where it matters" and leave ordinary data on the plain path, bit
for bit:

- *conditioning* (before the search): values whose squares would overflow
  or underflow are scaled by a power of two (exact, so the answer is the
  same as in exact arithmetic), and data far from the origin compared with
  its spread is centred (distances are translation invariant);
- *float64 re-rank* (after a block): when the float32/float64 rounding of
  the norms is not negligible next to the block's k-th distances, the
  kernel is asked for ``2k + 16`` candidates, which are re-ranked on
  distances computed directly (``sum (x - y)^2``) in float64.

Both guards are namespace-generic and run after the kernels, so the NumPy
and Numba backends stay bit-identical on every path.
"""

import numpy as np

from .._backends import get_kernels

#: Default size of the inner-product block; 256 MiB keeps the GEMM efficient
#: while staying far below the graph itself for large n.
DEFAULT_BLOCK_BYTES = 1 << 28

#: Centre the data when its centroid's squared norm exceeds this many times
#: the mean squared deviation from it (the GEMM then loses log2(1 + ratio)
#: bits to cancellation). Raw pixels and unit-normalised embeddings sit
#: below 3 (measured on the benchmark sets: 0.002 to 2.2); ``rand + 100`` at 1e5.
OFF_CENTRE_RATIO = 32.0

#: Re-rank a block in float64 when ``eps * (max |x|^2 + max |y|^2)`` exceeds
#: this fraction of the block's median k-th squared distance. Ordinary data
#: sits near 1e-6 (float32, unit sphere), cancellation cases near 1e-1.
RERANK_TOLERANCE = 1e-4


#: Working set of the re-rank's gathered (rows, candidates, d) float64 block:
#: small enough to stay in cache (measured: 4 MiB chunks are 8x faster than
#: 256 MiB ones, which spend their time in page faults).
RERANK_CHUNK_BYTES = 1 << 22


#: Tiled search (Numba backend): rows x columns of one GEMM tile. 2048 x 2048
#: float32 is 16 MiB, resident in the 32 MiB L3 between the GEMM that writes
#: it and the scan that reads it; the (rows, n) block of the untiled path is
#: written to and read back from memory (and page-faulted in) every block,
#: which is why that path fell behind faiss's tiled search as n grew
#: (docs/benchmarks/scale.md).
TILE_ROWS = 2048
TILE_COLS = 2048


def _tiled_topk(kernels, Xb, Y, sq_rows, sq_Y, k, self_offset, buf,
                tile_cols=TILE_COLS):
    """Top-k of the rows ``Xb`` over all of ``Y``, one cache-resident tile at a time.

    ``buf`` is a flat scratch array of at least ``len(Xb) * tile_cols``
    elements (reused, so no page faults per tile).
    """
    b = Xb.shape[0]
    state = kernels.TopK(b, k, Xb.dtype)
    n_ref = Y.shape[0]
    for c0 in range(0, n_ref, tile_cols):
        c1 = min(n_ref, c0 + tile_cols)
        S = buf[: b * (c1 - c0)].reshape(b, c1 - c0)
        np.matmul(Xb, Y[c0:c1].T, out=S)
        state.update(S, sq_rows, sq_Y, c0, self_offset)
    return state.finish()


def _rerank_candidates(k, n_available):
    return int(min(n_available, 2 * k + 16))


def _max_abs(xp, A):
    # max and -min instead of abs(A).max(): no (n, d) temporary.
    return max(float(A.max()), -float(A.min())) if A.size else 0.0


def _condition(xp, X, Y, exclude_self):
    """Scale (power of two) and centre ``X`` and ``Y`` where the GEMM needs it.

    Returns ``(X, Y, exponent)``: the distances of the returned arrays times
    ``2**exponent`` are the distances of the inputs. On ordinary data the
    inputs come back unchanged (same objects) with ``exponent = 0``.
    """
    finfo = np.finfo(X.dtype)
    n_features = X.shape[1]
    max_abs = _max_abs(xp, X) if exclude_self else max(_max_abs(xp, X), _max_abs(xp, Y))
    exponent = 0
    # Squares (times the feature count, times 4 for the cross term) must stay
    # finite, and the largest squares must stay a mantissa above the
    # subnormal range. Scaling by a power of two (ldexp) is exact.
    too_big = max_abs * max_abs * 4.0 * n_features >= float(finfo.max)
    too_small = 0 < max_abs and max_abs * max_abs < float(finfo.tiny) / float(finfo.eps)
    if too_big or too_small:
        exponent = int(np.frexp(max_abs)[1])
        X = xp.ldexp(X, -exponent)
        Y = X if exclude_self else xp.ldexp(Y, -exponent)
    n_ref = Y.shape[0]
    if n_ref:
        centre = Y.mean(axis=0, dtype=xp.float64)
        sq_centre = float(centre @ centre)
        # mean |y|^2 - |mean|^2: the spread; one pass, no (n, d) temporary
        sq_spread = float(xp.einsum("ij,ij->", Y, Y, dtype=xp.float64)) / n_ref - sq_centre
        if sq_centre > OFF_CENTRE_RATIO * max(sq_spread, 0.0):
            centre = centre.astype(X.dtype)
            X = X - centre
            Y = X if exclude_self else Y - centre
    return X, Y, exponent


def _rerank(xp, X, Y, cand, k, budget_bytes=RERANK_CHUNK_BYTES):
    """The ``k`` nearest of the candidate columns, on float64 direct distances.

    ``cand`` is (b, c) candidate indices into ``Y`` for the rows of ``X``.
    Returns (b, k) squared distances (float64) and indices, sorted by
    (distance, index).
    """
    from .._backends._array_api import sort_rows

    b, c = cand.shape
    d = X.shape[1]
    sq = xp.empty((b, c), dtype=xp.float64)
    rows = int(max(1, budget_bytes // max(1, c * d * 8)))
    for s in range(0, b, rows):
        e = min(b, s + rows)
        diff = Y[cand[s:e]].astype(xp.float64) - X[s:e, None, :].astype(xp.float64)
        sq[s:e] = xp.einsum("ijk,ijk->ij", diff, diff)
    sq, ind = sort_rows(xp, sq, cand)
    return sq[:, :k], ind[:, :k]


def exact_kneighbors(X, Y, n_neighbors, *, backend, exclude_self,
                     block_bytes=DEFAULT_BLOCK_BYTES, progress=None, tile_cols=TILE_COLS,
                     direct_distances=True):
    """k nearest rows of ``Y`` for every row of ``X`` (Euclidean distances).

    Parameters
    ----------
    X : array of shape (n_queries, d)
        Finite float32 or float64 (validated by the caller).
    Y : array of shape (n_ref, d)
        Same dtype as ``X``; ``X`` itself when ``exclude_self``.
    n_neighbors : int
    backend : {"numpy", "numba", "cupy"}
        A concrete backend (see :func:`skusl._backends.resolve_backend`).
    exclude_self : bool
        ``X`` is ``Y`` and row ``i`` must not return ``i``.
    block_bytes : int
        Budget for the inner-product block.
    progress : callable or None
        Called with the number of rows finished after each block.
    tile_cols : int or None
        Columns per GEMM tile on backends with a running top-k (Numba):
        ``TILE_ROWS x tile_cols`` tiles stay in cache. ``None``: one
        ``(block, n)`` GEMM per row block, as the NumPy and CuPy backends do.
    direct_distances : bool
        Recompute the distances of the k found directly in float64 and sort
        by them (the result then does not depend on the GEMM's tiling).
        ``False`` keeps the GEMM's distances and order: for callers that
        need only a ranking, such as the probed cells of the IVF search
        (32 centroids a row; at 200k x 512 the float64 pass took 16.7 s of
        the probe search's 21.4 s in one profile).

    Returns
    -------
    dist : array of shape (n_queries, n_neighbors)
        Euclidean distances in ``X``'s dtype, ascending; ties by smaller index.
    ind : array of shape (n_queries, n_neighbors), int64

    Raises
    ------
    ValueError
        If a distance comes out non-finite (the input was not validated).
    """
    kernels = get_kernels(backend)
    xp = kernels.array_namespace() if hasattr(kernels, "array_namespace") else np
    X, Y, exponent = _condition(xp, X, Y, exclude_self)
    n_q, n_ref = X.shape[0], Y.shape[0]
    itemsize = np.dtype(X.dtype).itemsize
    eps = float(np.finfo(X.dtype).eps)
    rows_per_block = int(max(1, min(n_q, block_bytes // max(1, n_ref * itemsize))))
    sq_X = xp.einsum("ij,ij->i", X, X)
    sq_Y = sq_X if exclude_self else xp.einsum("ij,ij->i", Y, Y)
    max_sq_Y = float(sq_Y.max()) if n_ref else 0.0
    n_candidates = _rerank_candidates(n_neighbors, n_ref - int(exclude_self))
    out_d = xp.empty((n_q, n_neighbors), dtype=X.dtype)
    out_i = xp.empty((n_q, n_neighbors), dtype=xp.int64)
    YT = Y.T
    rerank = False
    tiled = hasattr(kernels, "TopK") and tile_cols is not None
    if tiled:
        rows_per_block = int(min(n_q, TILE_ROWS))
        buf = np.empty(rows_per_block * min(n_ref, tile_cols), dtype=X.dtype)
    for start in range(0, n_q, rows_per_block):
        stop = min(n_q, start + rows_per_block)
        if not rerank and tiled:
            d, i = _tiled_topk(kernels, X[start:stop], Y, sq_X[start:stop], sq_Y,
                               n_neighbors, start if exclude_self else -1, buf,
                               tile_cols)
        elif not rerank:
            d, i = kernels.knn_block(X[start:stop] @ YT, sq_X[start:stop], sq_Y,
                                     n_neighbors, start, exclude_self)
        if not rerank:
            # The GEMM's rounding error on a squared distance is about
            # eps * (|x|^2 + |y|^2); once it is not negligible next to the
            # k-th distances, this block and every later one are re-ranked.
            noise = eps * (float(sq_X[start:stop].max()) + max_sq_Y)
            kth = float(xp.median(d[:, -1]))
            rerank = noise > RERANK_TOLERANCE * kth and n_candidates > 0
        if rerank and tiled:
            _, cand = _tiled_topk(kernels, X[start:stop], Y, sq_X[start:stop], sq_Y,
                                  n_candidates, start if exclude_self else -1, buf,
                                  tile_cols)
        elif rerank:
            _, cand = kernels.knn_block(X[start:stop] @ YT, sq_X[start:stop], sq_Y,
                                        n_candidates, start, exclude_self)
        if rerank:
            d, i = _rerank(xp, X[start:stop], Y, cand, n_neighbors)
        elif not direct_distances:
            d = xp.maximum(d, 0)
        else:
            # The k found get their distances computed directly (float64
            # sum (x - y)^2), then sorted by (distance, index): the result no
            # longer depends on how the GEMM was tiled (BLAS rounds a product
            # differently for different matrix shapes), so the tiled, blocked
            # and distributed searches give the same bits.
            d, i = _rerank(xp, X[start:stop], Y, i, n_neighbors)
        out_d[start:stop] = d
        out_i[start:stop] = i
        if progress is not None:
            progress(stop - start)
    dist = out_d ** 0.5
    if exponent:
        dist = xp.ldexp(dist, exponent)
    if not bool(xp.isfinite(dist).all()) or bool((out_i < 0).any()):
        raise ValueError(
            "the kNN search produced non-finite distances; X must hold finite "
            "values (check with numpy.isfinite(X).all()) - use the public "
            "skusl.neighbors functions, which validate their input."
        )
    return dist, out_i
