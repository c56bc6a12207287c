"""K-Means of a dask array: the single-machine partition, or a blocked Lloyd on the cluster.

USL, TypiClust and K-Means-closest pick per cluster, so identical picks
need the identical partition. Two methods:

``"single"`` (the default of the distributed selectors)
    Exactly what :func:`skusl.neighbors._kmeans.fit_kmeans` computes on one
    machine, by calling it on the rows it reads. Today that K-Means
    (scikit-learn's ``KMeans`` or ``MiniBatchKMeans``) reads every row, so
    the rows are gathered to the client: O(n d) on one node for this step
    only. The shared design for large n (issue 13, item 4): the single-machine
    K-Means fits its centres on a seeded sample, reading ``X`` only through
    ``X.shape`` and ``X[sorted_rows]``, then labels every row by a row-wise
    nearest-centre pass. Both paths then run the same centre fit on the same
    gathered sample, and the distributed path maps the same row-wise
    assignment over the row blocks (same GEMM rows, same bits), so only the
    sample sits on the client.
``"lloyd"``
    Lloyd's algorithm on the cluster: k-means++ seeding on a seeded sample
    gathered to the client, then each iteration assigns every row block to
    its nearest centre and sums the blocks (O(m d) per block back), until
    the centres move less than ``tol`` (scikit-learn's relative tolerance).
    Only O(m d) state sits on the client; the partition is a true full-data
    Lloyd, not the single-machine one (its inertia is reported).
"""

import warnings

import numpy as np

from ._dask import compute, holds_persisted, persist, require_dask, row_blocks
from ._exact import nearest_rows

KMEANS_METHODS = ("single", "lloyd")

#: Rows drawn for the k-means++ seeding of the blocked Lloyd: enough for
#: every cluster to be seeded from many candidates, bounded for the client.
SEED_SAMPLE_PER_CLUSTER = 32
SEED_SAMPLE_MIN = 10_000


@holds_persisted
def assign_clusters(X, centers, *, backend="auto", n_jobs=None):
    """Nearest centre of every row of a dask array (ties to the smaller centre index).

    The distributed twin of ``query_kneighbors(X, centers, 1)``: the same
    kernel, so the same labels whatever the row blocks. Returns a dask
    int64 array with ``X``'s row blocks.
    """
    _, ind = nearest_rows(X, centers, 1, backend=backend, n_jobs=n_jobs)
    return persist(ind[:, 0])[0]


def _gather_rows(X, rows):
    """``X[rows]`` as a NumPy array on the client (``rows=None``: all of ``X``)."""
    if rows is None:
        return np.ascontiguousarray(compute(X)[0])
    return np.ascontiguousarray(compute(X[np.sort(rows)])[0])


def fit_kmeans_single(X, n_clusters, random_state):
    """The single-machine K-Means partition of a dask array (the same labels and centres).

    Calls :func:`skusl.neighbors._kmeans.fit_kmeans` on the rows it reads
    (all of them with today's scikit-learn K-Means: they are gathered to
    the client) with the same seed.

    Returns
    -------
    labels : dask array of shape (n_samples,), int64 (row blocks as ``X``)
    centers : ndarray of shape (n_clusters, n_features)
    """
    from ..neighbors._kmeans import fit_kmeans

    da = require_dask()
    labels, centers = fit_kmeans(_gather_rows(X, None), n_clusters, random_state)
    return da.from_array(labels, chunks=(X.chunks[0],)), centers


def _block_sums(block, labels, n_clusters):
    """Per-cluster sums (float64) and counts of one row block."""
    import scipy.sparse as sp

    member = sp.csr_matrix((np.ones(labels.size), (labels, np.arange(labels.size))),
                           shape=(n_clusters, labels.size))
    return member @ block.astype(np.float64), np.bincount(labels, minlength=n_clusters)


def _add_sums(*parts):
    return sum(p[0] for p in parts), sum(p[1] for p in parts)


def _tree_sum(parts):
    from dask import delayed

    add = delayed(_add_sums, pure=True)
    while len(parts) > 1:
        parts = [add(*parts[j:j + 8]) if len(parts[j:j + 8]) > 1 else parts[j]
                 for j in range(0, len(parts), 8)]
    return parts[0]


@holds_persisted
def fit_kmeans_lloyd(X, n_clusters, random_state, *, max_iter=100, tol=1e-4,
                     backend="auto", n_jobs=None):
    """Blocked Lloyd K-Means on the cluster (k-means++ seeding on a sample).

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features)
    n_clusters : int
    random_state : int
        Seeds the sample and the k-means++ seeding.
    max_iter : int
        Lloyd iterations at most.
    tol : float
        Stop when the squared centre shift falls below ``tol`` times the mean
        feature variance (scikit-learn's ``KMeans`` rule).
    backend, n_jobs
        Kernels of the assignment step.

    Returns
    -------
    labels : dask array of shape (n_samples,), int64
    centers : ndarray of shape (n_clusters, n_features)
    n_iter : int
    inertia : float
        Sum of squared distances to the nearest centre (float64).

    Notes
    -----
    A cluster left empty keeps its previous centre (scikit-learn moves it to
    a far point instead).

    Examples
    --------
    >>> import dask.array as da
    >>> from sklearn.datasets import make_blobs
    >>> from skusl.distributed import fit_kmeans_lloyd
    >>> X, _ = make_blobs(600, 4, centers=3, random_state=0)
    >>> labels, centers, n_iter, inertia = fit_kmeans_lloyd(da.from_array(X, chunks=200),
    ...                                                     3, random_state=0)
    >>> labels.compute().shape, centers.shape, bool(inertia > 0)
    ((600,), (3, 4), True)
    """
    from dask import delayed
    from sklearn.cluster import kmeans_plusplus

    rng = np.random.RandomState(random_state)
    n_samples = X.shape[0]
    n_sample = min(n_samples, max(SEED_SAMPLE_MIN, SEED_SAMPLE_PER_CLUSTER * n_clusters))
    rows = (None if n_sample == n_samples
            else rng.choice(n_samples, n_sample, replace=False))
    sample = _gather_rows(X, rows)
    centers, _ = kmeans_plusplus(sample, n_clusters, random_state=rng)
    centers = centers.astype(np.float64)
    variance = compute(X.astype(np.float64).var(axis=0).mean())[0]
    threshold = tol * float(variance)
    blocks = row_blocks(X)
    sums = delayed(_block_sums, pure=True)
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 (reported after the loop)
        labels = assign_clusters(X, centers.astype(X.dtype), backend=backend, n_jobs=n_jobs)
        label_blocks = list(labels.to_delayed().ravel())
        total, counts = compute(_tree_sum([sums(b, lab, n_clusters) for b, lab in
                                              zip(blocks, label_blocks, strict=True)]))[0]
        new = centers.copy()
        filled = counts > 0
        new[filled] = total[filled] / counts[filled, None]
        shift = float(((new - centers) ** 2).sum())
        centers = new
        if shift <= threshold:
            break
    else:
        warnings.warn(f"the blocked Lloyd K-Means stopped at max_iter={max_iter} before "
                      "converging; raise max_iter.", stacklevel=2)
    centers = centers.astype(X.dtype)
    dist, ind = nearest_rows(X, centers, 1, backend=backend, n_jobs=n_jobs)
    labels, inertia = persist(ind[:, 0], (dist[:, 0].astype(np.float64) ** 2).sum())
    return labels, centers, n_iter, float(compute(inertia)[0])


@holds_persisted
def fit_kmeans(X, n_clusters, random_state, *, method="single", backend="auto",
               n_jobs=None):
    """K-Means partition of a dask array: the single-machine one, or Lloyd on the cluster.

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features)
        Validated (:func:`check_dask_points`), in the selector's feature space.
    n_clusters : int
    random_state : int
        The seed the single-machine selector would pass to its K-Means.
    method : {"single", "lloyd"}, default="single"
        ``"single"``: exactly :func:`skusl.neighbors._kmeans.fit_kmeans`
        (same labels and centres; today it reads every row, which are
        gathered to the client). ``"lloyd"``: :func:`fit_kmeans_lloyd`, a
        full-data Lloyd on the cluster with O(m d) client state.
    backend : {"auto", "numpy", "numba"}, default="auto"
        Kernels of the blockwise assignment (``"lloyd"``).
    n_jobs : int or None
        Numba threads per task.

    Returns
    -------
    labels : dask array of shape (n_samples,), int64
        With ``X``'s row blocks.
    centers : ndarray of shape (n_clusters, n_features)

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from skusl.distributed import fit_kmeans
    >>> from skusl.neighbors._kmeans import fit_kmeans as single_machine_kmeans
    >>> X, _ = make_blobs(600, 4, centers=3, random_state=0)
    >>> labels, centers = fit_kmeans(da.from_array(X, chunks=200), 3, 0)
    >>> bool(np.array_equal(labels.compute(), single_machine_kmeans(X, 3, 0)[0]))
    True
    """
    if method not in KMEANS_METHODS:
        raise ValueError(f"kmeans={method!r} is not one of {KMEANS_METHODS}.")
    if method == "single":
        return fit_kmeans_single(X, n_clusters, random_state)
    labels, centers, _, _ = fit_kmeans_lloyd(X, n_clusters, random_state, backend=backend,
                                             n_jobs=n_jobs)
    return labels, centers

