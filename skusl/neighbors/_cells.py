"""Approximate kNN of every row: K-Means cells, exact GEMM search inside the probed cells.

The inverted-file scheme (IVF-Flat, as in faiss's ``IndexIVFFlat``) used
for the all-neighbour graph, with every search a GEMM:

1. ``n_cells`` centroids from K-Means on a seeded sample
   (:func:`skusl.neighbors._kmeans.fit_kmeans`);
2. every row's ``n_probe`` nearest centroids (the exact tiled search);
   its nearest one is its *home* cell;
3. for every cell, the rows that probe it are searched exactly (GEMM +
   the top-k kernel) against the cell's home members; a row's candidates
   from its ``n_probe`` cells are disjoint (each row has one home) and are
   merged by (distance, index).

Why not pynndescent: its kernels compile in every new process (about a
minute), while these are the project's cached Numba kernels and BLAS. Cost
about ``n * n_probe * n / n_cells * d`` multiply-adds, all in GEMM; recall
rises with ``n_probe`` (measured in ``docs/benchmarks/scale.md``). Rows
whose probed cells hold fewer than ``k`` other rows (tiny data) get the
exact answer.
"""

import numpy as np
from sklearn.utils import check_random_state

from .._backends import get_kernels

#: Home members per cell (n_cells = n / CELL_SIZE).
CELL_SIZE = 1000
#: Cells each row searches.
N_PROBE = 4
#: Sampled rows per cell for the centroids.
SAMPLE_PER_CELL = 40
#: Rows merged at a time (bounds the sort's temporaries).
MERGE_ROWS = 1 << 16
#: Budget of one cell's (query rows, members) GEMM block, per worker.
CELL_BLOCK_BYTES = 32 << 20
#: Most probes the recall check doubles up to.
MAX_PROBE = 32
#: Rows on which the recall check runs the exact search (n x 256 x d, a GEMM).
RECALL_SAMPLE = 256


def cell_kneighbors(X, n_neighbors, *, n_probe=N_PROBE, cell_size=CELL_SIZE,
                    random_state=None, backend="numba", progress=None,
                    target_recall=None, max_probe=MAX_PROBE, info=None,
                    search_below_target=True, accept=None):
    """Approximate k nearest neighbours of every row of ``X`` (self excluded).

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Validated float32/float64 rows (a memory map is read, not copied).
    n_neighbors : int
    n_probe : int
        Cells searched per row.
    cell_size : int
        Average home members per cell.
    random_state : int, RandomState or None
        Seeds the sample and the K-Means.
    backend : {"numpy", "numba"}
    progress : callable or None
        Called with the number of cells finished.
    target_recall : float or None
        When set, the recall against the exact search on
        :data:`RECALL_SAMPLE` seeded rows is computed for ``n_probe`` and,
        while below the target, for twice as many probes (up to
        ``max_probe``), before any cell is searched; the search then runs
        once with the probes found.
    max_probe : int
    search_below_target : bool
        When the target cannot be reached: search anyway (True) or return
        None (False; ``neighbors="auto"`` then uses pynndescent).
    accept : callable or None
        Called as ``accept(n_probe, recall, n_cells)`` once the probes are
        known and before the search; when it returns False the function
        returns None (``neighbors="auto"`` asks the cost model whether the
        search at that many probes still beats pynndescent).
    info : dict or None
        Receives ``n_probe``, ``recall`` (on the sample: the search is exact
        in the probed cells, so this is its recall there; None without a
        target) and ``n_cells``.

    Returns
    -------
    dist : ndarray of shape (n, n_neighbors)
        Euclidean distances, ascending; ties by smaller index.
    ind : ndarray of shape (n, n_neighbors), int64
    """
    from ._exact import exact_kneighbors

    n = X.shape[0]
    k = int(n_neighbors)
    rng = check_random_state(random_state)
    centers, n_cells = cell_centers(X, cell_size=cell_size, random_state=rng)
    n_probe = int(min(n_probe, n_cells))
    n_probe_max = int(max(n_probe, min(max_probe, n_cells)))
    recall = None
    if target_recall is not None:
        # The search is exact inside the probed cells, so a true neighbour is
        # found exactly when its home cell is probed: the recall of every
        # n_probe follows from the exact neighbours of a sample and the home
        # cells of those neighbours, before any cell is searched (and before
        # the probes of all rows: ``accept`` may still turn the search down).
        check = np.sort(rng.choice(n, min(n, RECALL_SAMPLE), replace=False))
        _, truth = exact_kneighbors(X[check], X, min(k + 1, n), backend=backend,
                                    exclude_self=False)
        truth = np.array([t[t != r][:k] for t, r in zip(truth, check, strict=True)])
        check_probes = nearest_cells(X[check], centers, n_probe_max, backend)
        truth_home = nearest_cells(X[truth.ravel()], centers, 1, backend)[:, 0]
        truth_home = truth_home.reshape(truth.shape)
        while True:
            found = (truth_home[:, :, None] == check_probes[:, None, :n_probe]).any(axis=2)
            recall = float(found.mean())
            if recall >= target_recall or n_probe >= n_probe_max:
                break
            n_probe = min(2 * n_probe, n_probe_max)
    if info is not None:
        info.update(n_probe=n_probe, recall=recall, n_cells=n_cells)
    if recall is not None and recall < target_recall and not search_below_target:
        return None
    if accept is not None and not accept(n_probe, recall, n_cells):
        return None
    return _search(X, nearest_cells(X, centers, n_probe, backend), k, backend, progress)


def cell_centers(X, *, cell_size=CELL_SIZE, random_state=None):
    """K-Means centroids of ``X``'s cells: ``(centers, n_cells)``.

    ``n / cell_size`` centroids from K-Means on :data:`SAMPLE_PER_CELL`
    seeded rows per cell, in ``X``'s dtype.
    """
    from ._kmeans import fit_kmeans

    n = X.shape[0]
    n_cells = int(max(1, min(n // max(1, cell_size), n)))
    rng = check_random_state(random_state)
    sample = int(min(n, max(n_cells, SAMPLE_PER_CELL * n_cells)))
    rows = np.sort(rng.choice(n, sample, replace=False))
    _, centers = fit_kmeans(X[rows], n_cells, int(rng.randint(np.iinfo(np.int32).max)))
    return np.ascontiguousarray(centers, dtype=X.dtype), n_cells


def nearest_cells(X, centers, n_probe, backend="numba"):
    """Every row's ``n_probe`` nearest centroids, nearest first (column 0: home cell).

    Only the ranking of the centroids matters here, so no float64 distances
    are computed.
    """
    from ._exact import exact_kneighbors

    _, probes = exact_kneighbors(X, centers, int(min(n_probe, centers.shape[0])),
                                 backend=backend, exclude_self=False,
                                 direct_distances=False)
    return probes


def cell_probes(X, n_probe, *, cell_size=CELL_SIZE, random_state=None, backend="numba"):
    """K-Means cells of ``X`` and every row's ``n_probe`` nearest cells.

    :func:`cell_centers`, then :func:`nearest_cells` of every row.

    Returns
    -------
    probes : ndarray of shape (n, min(n_probe, n_cells)), int64
        Cells by increasing centroid distance; column 0 is the row's home cell.
    n_cells : int
    """
    centers, n_cells = cell_centers(X, cell_size=cell_size, random_state=random_state)
    return nearest_cells(X, centers, n_probe, backend), n_cells


def _search(X, probes, k, backend, progress):
    from ._exact import exact_kneighbors

    n, n_probe = probes.shape
    n_cells = int(probes.max()) + 1
    home = probes[:, 0]
    kernels = get_kernels(backend)
    sq = np.einsum("ij,ij->i", X, X)
    # Candidates of row i from its p-th probe in slot p: (n, n_probe, k).
    # int32 indices while they fit: the candidates are the largest state.
    cand_d = np.full((n, n_probe, k), np.inf, dtype=X.dtype)
    cand_i = np.full((n, n_probe, k), -1,
                     dtype=np.int32 if n < np.iinfo(np.int32).max else np.int64)
    # Rows grouped by home cell, and (row, probe rank) pairs grouped by cell.
    by_home = np.argsort(home, kind="stable")
    home_bounds = np.searchsorted(home[by_home], np.arange(n_cells + 1))
    flat = probes[:, 1:].ravel()
    by_probe = np.argsort(flat, kind="stable")
    probe_bounds = np.searchsorted(flat[by_probe], np.arange(n_cells + 1))
    _search_cells(X, sq, k, n_probe, n_cells, by_home, home_bounds, by_probe,
                  probe_bounds, kernels, cand_d, cand_i, progress, _n_workers(backend))
    cand_d, cand_i = cand_d.reshape(n, -1), cand_i.reshape(n, -1)
    dist = np.empty((n, k), dtype=X.dtype)
    ind = np.empty((n, k), dtype=np.int64)
    for s in range(0, n, MERGE_ROWS):  # bounded temporaries
        dist[s:s + MERGE_ROWS], ind[s:s + MERGE_ROWS] = _merge(
            cand_d[s:s + MERGE_ROWS], cand_i[s:s + MERGE_ROWS].astype(np.int64), k)
    del cand_d, cand_i
    short = np.flatnonzero(ind[:, -1] < 0)
    if short.size:  # tiny cells: the exact answer for these rows
        d, i = exact_kneighbors(X[short], X, k + 1, backend=backend, exclude_self=False)
        keep = i != short[:, None]
        keep[keep.sum(axis=1) > k, -1] = False  # self absent (duplicates): drop the last
        dist[short] = d[keep].reshape(short.size, k)
        ind[short] = i[keep].reshape(short.size, k)
    return np.sqrt(np.maximum(dist, 0)), ind


def _n_workers(backend):
    # Cells are searched by one worker per core, each on one thread (BLAS and
    # Numba): a cell's GEMM (~4k x 1000 x d) and top-k scan are too small to
    # split across cores without the wake-ups and barriers costing more than
    # they save (96 ms per parallel call measured on the loaded machine), but
    # independent cells keep every core busy. The Numba kernels release the
    # GIL; the NumPy twin does not everywhere, so it runs one cell at a time.
    if backend != "numba":
        return None
    import numba

    return max(1, numba.get_num_threads())


def _block_rows(n_members, itemsize):
    """Query rows per (rows, members) block of one cell: at most :data:`CELL_BLOCK_BYTES`.

    K-Means cells are uneven: at 1M x 512 (isotropic blobs) one cell's
    members-against-members block was gigabytes when it was one GEMM (the
    label step's peak: 3.7 GiB of anonymous memory in the search).
    """
    return int(max(256, min(4096, CELL_BLOCK_BYTES // max(1, n_members * itemsize))))


def _search_cells(X, sq, k, n_probe, n_cells, by_home, home_bounds, by_probe, probe_bounds,
                  kernels, cand_d, cand_i, progress, workers=None):
    """Fill the candidates cell by cell; cells write disjoint (row, probe) slots.

    ``workers=None``: one cell at a time, threads as set (the NumPy kernels);
    an int: that many workers, each with one Numba thread.
    """
    import contextlib
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    def one_cell(c):
        members = by_home[home_bounds[c]:home_bounds[c + 1]]
        if members.size == 0:
            return
        M = X[members]
        sq_m = sq[members]
        kk = min(k, members.size - 1)
        step = _block_rows(members.size, X.dtype.itemsize)
        if kk > 0:  # the home rows, against each other (self excluded)
            for s in range(0, members.size, step):
                rows = members[s:s + step]
                d, i = kernels.knn_block(M[s:s + step] @ M.T, sq_m[s:s + step], sq_m, kk,
                                         s, True)
                cand_d[rows, 0, :kk] = d
                cand_i[rows, 0, :kk] = members[i]
        pairs = by_probe[probe_bounds[c]:probe_bounds[c + 1]]
        if pairs.size:  # rows probing c from elsewhere
            q_rows, q_rank = pairs // (n_probe - 1), pairs % (n_probe - 1) + 1
            kq = min(k, members.size)
            for s in range(0, q_rows.size, step):  # bound the (queries, members) block
                qr, rk = q_rows[s:s + step], q_rank[s:s + step]
                d, i = kernels.knn_block(X[qr] @ M.T, sq[qr], sq_m, kq, 0, False)
                cand_d[qr, rk, :kq] = d
                cand_i[qr, rk, :kq] = members[i]

    def worker(cells):
        one_thread = contextlib.nullcontext() if workers is None else kernels.num_threads(1)
        with one_thread:  # Numba's setting is per thread
            for c in cells:
                one_cell(c)
                if progress is not None:
                    progress(1)

    cells = np.arange(n_cells)
    if workers is None or workers == 1:
        worker(cells)
        return
    # Round-robin shares (cells are of similar cost); BLAS on one thread each.
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(worker, cells[w::workers]) for w in range(workers)]:
            future.result()


def _merge(cand_d, cand_i, k):
    """The ``k`` smallest of each row by (distance, index); -1 marks a missing one."""
    from .._backends._numpy import sort_rows

    part = np.argpartition(cand_d, k - 1, axis=1)[:, :k] if cand_d.shape[1] > k else None
    if part is not None:
        # argpartition may split ties at the k-th value arbitrarily: re-sort the
        # rows where a tie straddles the cut with a full lexicographic sort.
        d = np.take_along_axis(cand_d, part, axis=1)
        i = np.take_along_axis(cand_i, part, axis=1)
        kth = d.max(axis=1)[:, None]
        straddle = np.flatnonzero((cand_d == kth).sum(axis=1) != (d == kth).sum(axis=1))
        if straddle.size:
            sd, si = sort_rows(cand_d[straddle], cand_i[straddle])
            d[straddle], i[straddle] = sd[:, :k], si[:, :k]
    else:
        d, i = cand_d, cand_i
    d, i = sort_rows(d, i)
    i = np.where(np.isfinite(d), i, -1)
    return d, i
