"""Numba kernels (CPU, parallel over rows).

Imported lazily by :func:`skusl._backends.get_kernels`. Every kernel is
compiled for float32 and float64 with explicit signatures and
``cache=True``: the first import on a machine compiles once and writes the
cache (next to this file, or under ``NUMBA_CACHE_DIR``); later imports load
it in a fraction of a second and ``fit`` never triggers a compile.

Each kernel reproduces its NumPy twin (:mod:`skusl._backends._array_api`)
bit for bit: float32 input is computed in float32 with the same operation
order (``2 * s`` as ``s + s`` and zero as ``d - d`` keep Numba from
promoting to float64), and sums run in the same sequential order.
"""

import contextlib

import numpy as np
from numba import njit, prange


def array_namespace():
    """The namespace the kernels compute in (inputs and outputs)."""
    return np


@njit(cache=True, nogil=True)
def _kth_smallest(a, size, kth):
    """Value of rank ``kth`` (0-based) in ``a[:size]``; reorders ``a`` (quickselect)."""
    lo = 0
    hi = size - 1
    while lo < hi:
        pivot = a[(lo + hi) >> 1]
        i = lo
        j = hi
        while i <= j:  # Hoare partition: stops on equal keys, so ties stay balanced
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        if kth <= j:
            hi = j
        elif kth >= i:
            lo = i
        else:
            break  # a[j+1:i] all equal the pivot and hold rank kth
    return a[kth]


@njit(cache=True, nogil=True)
def _compact(bd, bi, size, k, scratch):
    """Keep the ``k`` best (distance, index) of the buffer, in buffer order.

    The buffer is in increasing index order, so among entries equal to the
    k-th distance the first ones are the smaller indices. Returns the k-th
    distance (the new strict threshold).
    """
    for t in range(size):
        scratch[t] = bd[t]
    v = _kth_smallest(scratch, size, k - 1)
    take_eq = k
    for t in range(size):
        if bd[t] < v:
            take_eq -= 1
    w = 0
    for t in range(size):
        d = bd[t]
        if d < v or (d == v and take_eq > 0):
            if d == v:
                take_eq -= 1
            bd[w] = d
            bi[w] = bi[t]
            w += 1
    return v


def _buffer_capacity(k):
    """Candidate buffer per row: 2k below k=128, else k + max(k, 1024).

    Measured (`python -m skusl.benchmarks topk`, 50k columns, 1 thread, CPU time): 2k
    ties the old heap at k<=50 and beats it from k=100; k+1024 is 12 % faster
    than 2k at k=399 (fewer compactions) but 10-25 % slower than 2k at k<=100.
    """
    return 2 * k if k < 128 else k + max(k, 1024)


#: Columns per scan tile: small enough to stay in L1, long enough to vectorise.
_SCAN_TILE = 256

@njit(nogil=True, inline="always")
def _count_below(row, sq_cols, sr, thr):
    # Pass 1 of a scan: how many distances of the slice beat the threshold.
    # A separate function on 1-D slices, with no store, is what LLVM
    # vectorises (measured 2.5 -> 0.6 ns per entry on one core); pass 2
    # recomputes the same expression, so the bits do not change.
    below = 0
    for t in range(row.shape[0]):
        s = row[t]
        d = (sr - (s + s)) + sq_cols[t]
        below += 1 if d < thr else 0
    return below


def _float_sigs(template):
    """A kernel's two signatures: ``template`` with ``{f}`` as float32, then float64."""
    return [template.format(f=f) for f in ("float32", "float64")]


_KNN_SIGS = _float_sigs("void({f}[:, ::1], {f}[::1], {f}[::1], int64, boolean, "
                         "int64, {f}[:, ::1], int64[:, ::1])")


@njit(_KNN_SIGS, parallel=True, cache=True, nogil=True)
def _knn_block_kernel(S, sq_rows, sq_cols, row_offset, exclude_self, cap, out_d, out_i):
    b, n = S.shape
    k = out_d.shape[1]
    for r in prange(b):
        # Buffered threshold selection: append every candidate strictly below
        # the threshold (in increasing j); when the buffer is full, keep its k
        # best and set the threshold to the k-th distance. Columns arrive in
        # increasing j, so an equal distance never beats the k-th one held.
        bd = np.empty(cap, dtype=S.dtype)
        bi = np.empty(cap, dtype=np.int64)
        scratch = np.empty(cap, dtype=S.dtype)
        zero = S.dtype.type(0)
        thr = S.dtype.type(np.inf)  # inf never enters, as with the old heap
        size = 0
        sr = sq_rows[r]
        row = S[r]
        self_col = r + row_offset if exclude_self else -1
        for c0 in range(0, n, _SCAN_TILE):
            w = min(_SCAN_TILE, n - c0)
            # Pass 1 (vectorised, see _count_below): does any distance of the
            # slice beat the threshold? Same operations, order and dtype as
            # the NumPy kernel ((-2 s + |x|^2) + |y|^2, clipped at +0), so
            # both round alike.
            if _count_below(row[c0:c0 + w], sq_cols[c0:c0 + w], sr, thr) == 0:
                continue  # the common case once the threshold has settled
            # Pass 2, rare: append the candidates in increasing column order.
            for t in range(w):
                s = row[c0 + t]
                d = (sr - (s + s)) + sq_cols[c0 + t]
                d = zero if d < zero else d  # NaN stays NaN, as np.maximum
                j = c0 + t
                if d < thr and j != self_col:
                    bd[size] = d
                    bi[size] = j
                    size += 1
                    if size == cap:
                        thr = _compact(bd, bi, size, k, scratch)
                        size = k
        if size > k:
            _compact(bd, bi, size, k, scratch)
            size = k
        # The buffer is in index order: a stable sort by distance gives
        # (distance, index) order.
        order = np.argsort(bd[:size], kind="mergesort")
        for t in range(size):
            out_d[r, t] = bd[order[t]]
            out_i[r, t] = bi[order[t]]
        for t in range(size, k):  # fewer than k finite candidates
            out_d[r, t] = np.inf
            out_i[r, t] = -1  # the driver rejects these (never a valid index)


# The same kernel compiled without a parallel region, for callers that run
# on one thread (``num_threads(1)``): no thread wake-ups per call, and safe to
# call from several Python threads at once (the ivf search's cell workers).
_knn_block_serial = njit(_KNN_SIGS, cache=True, nogil=True)(_knn_block_kernel.py_func)


def knn_block(S, sq_rows, sq_cols, k, row_offset, exclude_self):
    """Numba twin of :func:`skusl._backends._numpy.knn_block` (same contract).

    ``S`` is read, not overwritten; each row is scanned once with a buffered
    threshold selection (quickselect compactions, then one stable sort of the
    k kept), O(n + k log k) per row instead of the heap's O(n + k log(n/k)
    log k) sift-downs. Under ``num_threads(1)`` (per calling thread) the
    serial compilation of the same kernel runs: same results.
    """
    import numba

    S = np.ascontiguousarray(S)
    dtype = S.dtype
    b = S.shape[0]
    out_d = np.empty((b, k), dtype=dtype)
    out_i = np.empty((b, k), dtype=np.int64)
    if k == 0:
        return out_d, out_i
    kernel = _knn_block_serial if numba.get_num_threads() == 1 else _knn_block_kernel
    kernel(S, np.ascontiguousarray(sq_rows, dtype=dtype),
                      np.ascontiguousarray(sq_cols, dtype=dtype),
                      int(row_offset), bool(exclude_self), _buffer_capacity(int(k)),
                      out_d, out_i)
    return out_d, out_i


_TILE_SIGS = _float_sigs("void({f}[:, ::1], {f}[::1], {f}[::1], int64, int64, int64, "
                          "{f}[:, ::1], int64[:, ::1], int64[::1], {f}[::1], {f}[:, ::1])")


@njit(_TILE_SIGS, parallel=True, cache=True, nogil=True)
def _knn_tile_kernel(S, sq_rows, sq_cols, col_offset, self_offset, k, bd, bi, size, thr,
                     scratch):
    # The scan of _knn_block_kernel, on one column tile of the rows' GEMM,
    # with the per-row candidate buffer (bd, bi, size, thr) kept between
    # tiles. Tiles arrive in increasing column order, so the buffer holds
    # candidates in increasing index order exactly as one full-row scan
    # would: the result is the same bits as knn_block on the whole row.
    b, w_all = S.shape
    cap = bd.shape[1]
    for r in prange(b):
        zero = S.dtype.type(0)
        t_r = thr[r]
        n_r = size[r]
        sr = sq_rows[r]
        row = S[r]
        self_col = r + self_offset if self_offset >= 0 else -1
        for c0 in range(0, w_all, _SCAN_TILE):
            w = min(_SCAN_TILE, w_all - c0)
            # The clip at zero cannot turn a distance that is not below the
            # (non-negative) threshold into one that is, so pass 1 skips it.
            if _count_below(row[c0:c0 + w], sq_cols[col_offset + c0:col_offset + c0 + w],
                            sr, t_r) == 0:
                continue
            for t in range(w):
                s = row[c0 + t]
                d = (sr - (s + s)) + sq_cols[col_offset + c0 + t]
                d = zero if d < zero else d
                j = col_offset + c0 + t
                if d < t_r and j != self_col:
                    bd[r, n_r] = d
                    bi[r, n_r] = j
                    n_r += 1
                    if n_r == cap:
                        t_r = _compact(bd[r], bi[r], n_r, k, scratch[r])
                        n_r = k
        thr[r] = t_r
        size[r] = n_r


@njit(["void(float32[:, ::1], int64[:, ::1], int64[::1], int64, float32[:, ::1], "
       "float32[:, ::1], int64[:, ::1])",
       "void(float64[:, ::1], int64[:, ::1], int64[::1], int64, float64[:, ::1], "
       "float64[:, ::1], int64[:, ::1])"], parallel=True, cache=True, nogil=True)
def _knn_tile_finish_kernel(bd, bi, size, k, scratch, out_d, out_i):
    b = bd.shape[0]
    for r in prange(b):
        n_r = size[r]
        if n_r > k:
            _compact(bd[r], bi[r], n_r, k, scratch[r])
            n_r = k
        order = np.argsort(bd[r, :n_r], kind="mergesort")
        for t in range(n_r):
            out_d[r, t] = bd[r, order[t]]
            out_i[r, t] = bi[r, order[t]]
        for t in range(n_r, k):
            out_d[r, t] = np.inf
            out_i[r, t] = -1


class TopK:
    """Running ``k`` smallest squared distances of ``b`` rows over column tiles.

    ``update`` scans one tile of inner products (columns ``col_offset`` to
    ``col_offset + S.shape[1]`` of the reference), ``finish`` returns the
    (b, k) distances and indices sorted by (distance, index): the same bits
    as :func:`knn_block` on the whole row, with a working set of one tile
    (the caller keeps the tile in cache) instead of a (b, n) block.
    """

    def __init__(self, b, k, dtype):
        cap = _buffer_capacity(int(k))
        self.k = int(k)
        self.bd = np.empty((b, cap), dtype=dtype)
        self.bi = np.empty((b, cap), dtype=np.int64)
        self.scratch = np.empty((b, cap), dtype=dtype)
        self.size = np.zeros(b, dtype=np.int64)
        self.thr = np.full(b, np.inf, dtype=dtype)

    def update(self, S, sq_rows, sq_cols, col_offset, self_offset):
        """Scan ``S`` (b, w); ``self_offset`` < 0: no self exclusion."""
        _knn_tile_kernel(S, sq_rows, sq_cols, int(col_offset), int(self_offset), self.k,
                         self.bd, self.bi, self.size, self.thr, self.scratch)

    def finish(self):
        b = self.bd.shape[0]
        out_d = np.empty((b, self.k), dtype=self.bd.dtype)
        out_i = np.empty((b, self.k), dtype=np.int64)
        _knn_tile_finish_kernel(self.bd, self.bi, self.size, self.k, self.scratch,
                                out_d, out_i)
        return out_d, out_i


@contextlib.contextmanager
def num_threads(n_jobs):
    """Context manager: run Numba kernels on ``n_jobs`` threads, then restore.

    ``n_jobs=None`` leaves Numba's setting alone; negative values count from
    the number of cores as in joblib (-1 = all).
    """
    if n_jobs is None:
        yield
        return
    import numba

    limit = numba.config.NUMBA_NUM_THREADS
    n = n_jobs if n_jobs > 0 else limit + 1 + n_jobs
    previous = numba.get_num_threads()
    numba.set_num_threads(int(min(max(n, 1), limit)))
    try:
        yield
    finally:
        numba.set_num_threads(previous)


_REG_SIGS = _float_sigs("void({f}[:, ::1], {f}[::1], {f}[::1], int64[::1], "
                         "int64, float64, {f}, float64[::1])")


@njit(cache=True, inline="always")
def _inverse_power(d, alpha):
    # Mirrors _array_api._inverse_power: exact special cases, pow otherwise.
    if alpha == 0.5:
        return 1.0 / np.sqrt(d)
    if alpha == 1.0:
        return 1.0 / d
    if alpha == 0.0:
        return 0.0 if np.isinf(d) else 1.0
    return d ** -alpha


@njit(_REG_SIGS, parallel=True, cache=True, nogil=True)
def _regularizer_block_kernel(G, sq_rows, sq_sel, own, horizon, alpha, floor, out):
    b, m = G.shape
    for r in prange(b):
        sr = sq_rows[r]
        o = own[r]
        acc = 0.0
        if horizon > 0:
            buf = np.empty(m, dtype=G.dtype)
            for j in range(m):
                g = G[r, j]
                d = (sr - (g + g)) + sq_sel[j]
                if d < floor:
                    d = floor
                buf[j] = np.inf if j == o else d
            buf.sort()  # ascending distance: the NumPy kernel's summation order
            for t in range(min(horizon, m)):
                acc += _inverse_power(np.float64(buf[t]), alpha)
        else:
            for j in range(m):
                if j == o:
                    continue  # its term is 0 in the NumPy kernel; x + 0.0 == x
                g = G[r, j]
                d = (sr - (g + g)) + sq_sel[j]
                if d < floor:
                    d = floor
                acc += _inverse_power(np.float64(d), alpha)
        out[r] = acc


def regularizer_block(G, sq_rows, sq_sel, own, horizon, alpha, floor):
    """Numba twin of :func:`skusl._backends._array_api.regularizer_block`.

    Same contract and the same bits: one pass over each row of ``G`` (no
    (b, m) temporaries), parallel over rows. ``G`` is read, not overwritten.
    """
    G = np.ascontiguousarray(G)
    dtype = G.dtype
    out = np.empty(G.shape[0], dtype=np.float64)
    _regularizer_block_kernel(G, np.ascontiguousarray(sq_rows, dtype=dtype),
                              np.ascontiguousarray(sq_sel, dtype=dtype),
                              np.ascontiguousarray(own, dtype=np.int64),
                              int(horizon), float(alpha), dtype.type(floor), out)
    return out


@njit("int64[::1](float64[::1], int64[::1], int64)", cache=True, nogil=True)
def _cluster_argmax_kernel(score, labels, n_clusters):
    best = np.empty(n_clusters, dtype=np.float64)
    picks = np.full(n_clusters, -1, dtype=np.int64)
    for i in range(score.shape[0]):
        c = labels[i]
        # Strictly greater: the first (smallest) index keeps a tie.
        if picks[c] < 0 or score[i] > best[c]:
            best[c] = score[i]
            picks[c] = i
    return picks


def cluster_argmax(score, labels, n_clusters):
    """Index of the highest ``score`` in each cluster (-1 for empty clusters).

    Ties go to the smallest index. One sequential O(n) pass (memory-bound,
    threads would not help).
    """
    return _cluster_argmax_kernel(np.ascontiguousarray(score, dtype=np.float64),
                                  np.ascontiguousarray(labels, dtype=np.int64),
                                  int(n_clusters))


# Host memory, as NumPy: the array helpers are NumPy's.
from ._numpy import sort_rows, to_device, to_host  # noqa: E402,F401
