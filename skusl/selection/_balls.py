"""Radius search for ProbCover's true delta-balls, exact or over K-Means cells.

A ball pattern is a CSR matrix whose row ``i`` holds every ``j`` with
``d(i, j) < delta``, self included (a stored 0), optionally with the
squared distances as values (so one pattern built at the largest radius
serves every smaller one: the entries below its square). Two builders:

- :func:`exact_ball_graph`: every row against every row in blocks of at
  most :data:`BLOCK_BYTES` of distances; O(n^2 d) time, exact.
- :func:`cell_ball_graph`: the inverted-file scheme of
  :mod:`skusl.neighbors._cells` (K-Means cells; every row searches its
  ``n_probe`` nearest cells exactly), then the union with the transpose so
  the pattern stays symmetric; O(n n_probe cell_size d) time. The probes
  are doubled until the ball recall, measured on rows whose exact balls are
  known, reaches a target.

Both stop with a ``ValueError`` as soon as the pairs found exceed the bound
given (the estimate before building comes from a sample of rows and can be
wrong), so memory stays O(block + pairs).
"""

import numpy as np

#: Largest block of float64 distances held at once (x3 with the GEMM's temporaries).
BLOCK_BYTES = 1 << 27
#: Rows whose exact balls estimate the pair count and the cells' recall.
N_PROBE_ROWS = 1000
#: Ball recall the cell search aims at (share of the true members found).
TARGET_BALL_RECALL = 0.95
#: Most probes the recall check doubles up to.
MAX_BALL_PROBE = 32
#: Largest n for which ``neighbors="auto"`` builds the balls exactly: beyond,
#: the O(n^2 d) scan costs minutes (100k x 128 float64: about 40 s on 2 cores).
EXACT_BALLS_MAX = 50_000


def block_rows(n_samples, limit=None):
    """Rows per distance block so that a ``rows x n_samples`` float64 block fits ``BLOCK_BYTES``."""
    rows = max(1, BLOCK_BYTES // (8 * max(n_samples, 1)))
    return int(rows if limit is None else min(rows, limit))


def sq_dist_block(X, sq_norm, rows, Y=None, sq_y=None):
    """Squared distances of ``X[rows]`` to every row of ``Y`` (default ``X``; float64, >= 0)."""
    if Y is None:
        Y, sq_y = X, sq_norm
    sq = X[rows] @ Y.T
    sq *= -2.0
    sq += sq_norm[rows, None]
    sq += sq_y[None, :]
    return np.maximum(sq, 0.0, out=sq)


def probe_rows(n_samples, n_probe=N_PROBE_ROWS):
    """Evenly spaced rows used to estimate ball sizes (no random draw needed)."""
    return np.unique(np.linspace(0, n_samples - 1, min(n_samples, n_probe)).astype(np.int64))


def probe_blocks(X, sq_norm, rows):
    """Squared distances of the probe ``rows`` to every sample, a bounded block at a time."""
    step = block_rows(X.shape[0], limit=128)
    for start in range(0, rows.size, step):
        yield start, sq_dist_block(X, sq_norm, rows[start:start + step])


def estimate_ball_edges(X, sq_norm, delta):
    """Estimated number of (i, j) pairs closer than ``delta``, self included."""
    n = X.shape[0]
    rows = probe_rows(n)
    count = sum(int((sq < delta * delta).sum()) for _, sq in probe_blocks(X, sq_norm, rows))
    return int(np.ceil(count * n / rows.size))


class TooManyPairsError(ValueError):
    """The balls hold more pairs than allowed; ``found`` is the count when the search stopped."""

    def __init__(self, found, max_pairs):
        self.found, self.max_pairs = int(found), int(max_pairs)
        super().__init__(f"the balls hold over {self.max_pairs} pairs "
                         f"({self.found} found before stopping)")


def _index_dtype(n):
    return np.int32 if n < np.iinfo(np.int32).max else np.int64


def _to_csr(counts, cols, vals):
    """CSR from the members ``cols`` of consecutive rows (``counts`` per row).

    ``vals``: their squared distances, or None for a ``True`` pattern.
    """
    import scipy.sparse as sp

    n = counts.size
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    data = np.ones(cols.size, dtype=bool) if vals is None else vals
    return sp.csr_matrix((data, cols, indptr), shape=(n, n))


def exact_ball_graph(X, sq_norm, delta, *, squared=False, max_pairs=None, progress=None):
    """True delta-balls by a blocked scan of all pairs (exact; O(n^2 d) time).

    Parameters
    ----------
    X : ndarray of shape (n, d), float64
    sq_norm : ndarray of shape (n,)
        Squared row norms of ``X``.
    delta : float
    squared : bool, default=False
        Store the squared distances (float64, the centre 0) instead of ``True``.
    max_pairs : int or None
        Raise :class:`TooManyPairsError` as soon as more pairs are found.
    progress : callable or None
        Called with the number of rows finished.

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n, n)
    """
    n = X.shape[0]
    counts = np.zeros(n, dtype=np.int64)
    parts, values = [], []
    d2 = delta * delta
    found = 0
    step = block_rows(n, limit=1024)
    for start in range(0, n, step):
        rows = np.arange(start, min(n, start + step))
        sq = sq_dist_block(X, sq_norm, rows)
        sq[np.arange(rows.size), rows] = 0.0  # a ball always holds its centre
        r, c = np.nonzero(sq < d2)
        found += r.size
        if max_pairs is not None and found > max_pairs:
            raise TooManyPairsError(found, max_pairs)
        parts.append(c.astype(_index_dtype(n)))
        if squared:
            values.append(sq[r, c])
        counts[rows] = np.bincount(r, minlength=rows.size)
        if progress is not None:
            progress(rows.size)
    indices = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
    return _to_csr(counts, indices, np.concatenate(values) if squared else None)


def _ball_recall(X, sq_norm, home, probes, d2, check, ladder):
    """Share of the true ball members of the ``check`` rows found with each probe count.

    A member is found when its home cell is among the row's probes, or the
    row's home among the member's (the union with the transpose).

    Returns
    -------
    dict mapping each probe count of ``ladder`` to the recall
    """
    found = dict.fromkeys(ladder, 0)
    total = 0
    for start, sq in probe_blocks(X, sq_norm, check):
        rows = check[start:start + sq.shape[0]]
        r, c = np.nonzero(sq < d2)
        keep = rows[r] != c
        r, c = rows[r[keep]], c[keep]
        total += r.size
        for p in ladder:
            fwd = (probes[r, :p] == home[c][:, None]).any(axis=1)
            bwd = (probes[c, :p] == home[r][:, None]).any(axis=1)
            found[p] += int((fwd | bwd).sum())
    return {p: 1.0 if total == 0 else found[p] / total for p in ladder}


def cell_ball_graph(X, sq_norm, delta, *, squared=False, max_pairs=None, random_state=None,
                    backend="numpy", target_recall=TARGET_BALL_RECALL,
                    max_probe=MAX_BALL_PROBE, info=None, progress=None):
    """Delta-balls found in K-Means cells: each row searches its nearest cells exactly.

    The cells and the probes are :func:`skusl.neighbors._cells.cell_probes`'s
    (``n / 1000`` cells). The probe count starts at 4 and doubles (up to
    ``max_probe``) while the recall of the balls of 1000 evenly spaced rows,
    whose exact balls are computed first, stays below ``target_recall``.
    Pairs found from either side are kept (the pattern is symmetric), so a
    member is missed only when neither row's probes reach the other's home.

    Parameters
    ----------
    X, sq_norm, delta, squared, max_pairs, progress
        As in :func:`exact_ball_graph` (``progress`` counts cells).
    random_state : int, RandomState or None
        Seeds the cells' K-Means.
    backend : {"numpy", "numba"}
        Kernels for the probes (the nearest centroids).
    target_recall : float
    max_probe : int
    info : dict or None
        Receives ``n_probe``, ``recall`` (of the probe rows' balls at that
        probe count) and ``n_cells``.

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n, n)
    """
    from ..neighbors._cells import N_PROBE, cell_probes

    n = X.shape[0]
    probes, n_cells = cell_probes(X, max_probe, random_state=random_state, backend=backend)
    home = probes[:, 0]
    d2 = delta * delta
    # the probe counts tried: N_PROBE doubled, capped at the probes computed
    ladder = sorted({min(N_PROBE * 2**i, probes.shape[1])
                     for i in range(int(np.log2(max(max_probe // N_PROBE, 1))) + 1)})
    recalls = _ball_recall(X, sq_norm, home, probes, d2, probe_rows(n), ladder)
    n_probe = next((p for p in ladder if recalls[p] >= target_recall), ladder[-1])
    if info is not None:
        info.update(n_probe=int(n_probe), recall=float(recalls[n_probe]),
                    n_cells=int(n_cells))
    probes = probes[:, :n_probe]
    by_home = np.argsort(home, kind="stable")
    home_bounds = np.searchsorted(home[by_home], np.arange(n_cells + 1))
    flat = probes.ravel()
    order = np.argsort(flat, kind="stable")
    by_probe = order // n_probe  # the rows probing each cell, grouped by cell
    probe_bounds = np.searchsorted(flat[order], np.arange(n_cells + 1))
    del flat, order
    idx = _index_dtype(n)
    rows_parts, cols_parts, vals_parts = [], [], []
    found = 0
    for c in range(n_cells):
        members = by_home[home_bounds[c]:home_bounds[c + 1]]
        queries = by_probe[probe_bounds[c]:probe_bounds[c + 1]]
        if members.size and queries.size:
            M, sq_m = X[members], sq_norm[members]
            chunk = block_rows(members.size, limit=8192)
            for s in range(0, queries.size, chunk):
                q = queries[s:s + chunk]
                sq = sq_dist_block(X, sq_norm, q, M, sq_m)
                r, k = np.nonzero(sq < d2)
                # self pairs are added once below, with an exact 0
                keep = q[r] != members[k]
                r, k = r[keep], k[keep]
                found += r.size
                if max_pairs is not None and found > max_pairs:
                    raise TooManyPairsError(found, max_pairs)
                rows_parts.append(q[r].astype(idx))
                cols_parts.append(members[k].astype(idx))
                if squared:
                    vals_parts.append(sq[r, k])
        if progress is not None:
            progress(1)
    rows = np.concatenate(rows_parts + [np.arange(n, dtype=idx)])
    cols = np.concatenate(cols_parts + [np.arange(n, dtype=idx)])
    vals = np.concatenate(vals_parts + [np.zeros(n)]) if squared else None
    del rows_parts, cols_parts, vals_parts
    # union with the transpose: both orientations, then one copy of each pair
    # (a pair found from both sides carries the same distance up to rounding)
    key = np.concatenate([rows.astype(np.int64) * n + cols, cols.astype(np.int64) * n + rows])
    if squared:
        vals = np.concatenate([vals, vals])
    del rows, cols
    key, first = np.unique(key, return_index=True)
    if max_pairs is not None and key.size > max_pairs:
        raise TooManyPairsError(key.size, max_pairs)
    counts = np.bincount(key // n, minlength=n)
    return _to_csr(counts, (key % n).astype(idx), vals[first] if squared else None)


def ball_graph(X, sq_norm, delta, *, method="exact", squared=False, max_pairs=None,
               random_state=None, backend="numpy", info=None, verbose=False):
    """The delta-ball pattern by ``method`` (``"exact"`` or ``"cells"``); see the module.

    ``verbose``: a progress bar (rows for the exact scan, cells for the cells).
    """
    from .._progress import progress_bar

    if method == "exact":
        if info is not None:
            info.update(n_probe=None, recall=1.0, n_cells=None)
        with progress_bar(total=X.shape[0], desc="delta-balls (exact)",
                          disable=not verbose) as bar:
            return exact_ball_graph(X, sq_norm, delta, squared=squared, max_pairs=max_pairs,
                                    progress=bar.update)
    with progress_bar(desc="delta-balls (cells)", disable=not verbose) as bar:
        return cell_ball_graph(X, sq_norm, delta, squared=squared, max_pairs=max_pairs,
                               random_state=random_state, backend=backend, info=info,
                               progress=bar.update)


def ball_method(neighbors, n_samples):
    """``"exact"`` or ``"cells"`` for ProbCover's ``neighbors`` setting and ``n_samples``."""
    if isinstance(neighbors, str) and neighbors in ("approximate", "ivf"):
        return "cells"
    if isinstance(neighbors, str) and neighbors == "exact":
        return "exact"
    return "exact" if n_samples <= EXACT_BALLS_MAX else "cells"
