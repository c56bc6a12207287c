"""Dask: the kNN graph, K-Means, utilities and the regulariser on a cluster.

``pip install "skusl[dask]"``. A selector's ``fit`` and
:func:`skusl.neighbors.kneighbors_graph` send a ``dask.array`` here. The
functions take a ``dask.array.Array``
and run on the active Dask scheduler: a ``dask.distributed.Client`` if one
is set (``Client("scheduler:8786")``, or a ``LocalCluster``), the local
threads otherwise. Only O(n k) state (the graph) and O(n) vectors come
back to the client; propagation (:class:`skusl.labeling.HDLLabeler`) runs
there on the returned graph.

Same seed, same result: with the exact search and ``kmeans="single"``,
:func:`fit_usl` and the baselines return the single-machine selection, and
:func:`kneighbors_graph` the single-machine graph (bit for bit on ordinary
data; see :mod:`skusl.distributed._exact` for why).

Importing this module does not import dask; the functions do, on first use.
"""

import functools

from ..neighbors import NEIGHBORS_METHODS as _SINGLE_MACHINE_METHODS
from . import _kmeans
from ._baselines import fit_kmeans_closest, fit_random, fit_typiclust
from ._dask import check_dask_points, holds_persisted, is_dask_array
from ._kmeans import KMEANS_METHODS
from ._usl import fit_usl

#: The single-machine methods (:data:`skusl.neighbors.NEIGHBORS_METHODS`) less
#: ``"ivf"``: on a dask array ``"approximate"`` already is a cell search (K-Means
#: cells, exact search inside each: :mod:`skusl.distributed._approximate`), so the
#: one-machine IVF has no separate twin here.
NEIGHBORS_METHODS = tuple(m for m in _SINGLE_MACHINE_METHODS if m != "ivf")


def _validating(func):
    """``func`` with its first argument validated by :func:`check_dask_points`."""
    @functools.wraps(func)
    def wrapper(X, *args, **kwargs):
        return func(check_dask_points(X), *args, **kwargs)
    return wrapper


fit_kmeans = _validating(_kmeans.fit_kmeans)
fit_kmeans_lloyd = _validating(_kmeans.fit_kmeans_lloyd)


#: ``neighbors="auto"`` on a dask array: the exact search while ``n^2 d`` stays
#: below this many multiply-adds (about 70,000 x 200 dimensions), the
#: partitioned approximate search above. Its own rule: the single-machine cost
#: model measures one machine's rates, not a cluster's.
AUTO_EXACT_MAX_WORK = 1e12


def _method(neighbors, X):
    if isinstance(neighbors, str) and neighbors == "ivf":
        raise ValueError(
            "neighbors='ivf' is the single-machine cell search; on a dask array the "
            "cell search is neighbors='approximate' (K-Means cells, exact inside each), "
            "or pass X.compute() to use 'ivf' on one machine."
        )
    if not isinstance(neighbors, str) or neighbors not in NEIGHBORS_METHODS:
        raise ValueError(
            f"neighbors={neighbors!r}: on a dask array the kNN search is one of "
            f"{NEIGHBORS_METHODS}; a kNN estimator cannot run on the cluster (pass "
            "X.compute() to use it on one machine)."
        )
    if neighbors != "auto":
        return neighbors
    work = float(X.shape[0]) ** 2 * X.shape[1]
    return "exact" if work <= AUTO_EXACT_MAX_WORK else "approximate"


@holds_persisted
def kneighbors(X, n_neighbors, *, neighbors="auto", backend="auto", random_state=None,
               n_jobs=None, cell_size=None, n_probe=None):
    """k nearest neighbours of every row of a dask array, on the cluster.

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features)
        Validated as on one machine (2-D, real, finite); row blocks are kept.
    n_neighbors : int
        Neighbours per sample, the sample itself excluded.
    neighbors : {"auto", "exact", "approximate"}, default="auto"
        ``"exact"``: every row block against every row block, the
        single-machine kernels and guards (the single-machine graph).
        ``"approximate"``: overlapping K-Means cells with an exact search in
        each (:mod:`skusl.distributed._approximate`). ``"auto"``: exact
        while ``n^2 d <= 1e12`` (:data:`AUTO_EXACT_MAX_WORK`), approximate
        above.
    backend : {"auto", "numpy", "numba"}, default="auto"
        Kernels in the tasks.
    random_state : int, RandomState or None
        Seeds the approximate search.
    n_jobs : int or None
        Numba threads per task.
    cell_size, n_probe : int or None
        Approximate search only: rows per cell and cells per row (defaults
        2000 and 3).

    Returns
    -------
    dist : dask array of shape (n_samples, n_neighbors)
        Euclidean distances, ascending, ties to the smaller index (persisted).
    ind : dask array of shape (n_samples, n_neighbors), int64

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from skusl.distributed import kneighbors
    >>> X = da.from_array(np.array([[0.0], [1.0], [3.0], [6.0]]), chunks=2)
    >>> dist, ind = kneighbors(X, 2, backend="numpy")
    >>> ind.compute()
    array([[1, 2],
           [0, 2],
           [1, 0],
           [2, 1]])
    """
    from ._usl import kneighbors as _kneighbors

    X = check_dask_points(X)
    params = {k: v for k, v in (("cell_size", cell_size), ("n_probe", n_probe))
              if v is not None}
    return _kneighbors(X, n_neighbors, neighbors=_method(neighbors, X), backend=backend,
                       random_state=random_state, n_jobs=n_jobs, **params)


@holds_persisted
def kneighbors_graph(X, n_neighbors, **kwargs):
    """The kNN graph of a dask array as a SciPy CSR matrix on the client.

    Takes :func:`kneighbors`' parameters; the graph is
    :func:`skusl.neighbors.kneighbors_graph`'s format (exactly
    ``n_neighbors`` entries per row, sorted by (distance, index)), ready for
    ``HDLLabeler(metric="precomputed")``. It is O(n k): 1M rows at k=20 take
    240 MB.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from skusl.distributed import kneighbors_graph
    >>> from skusl.neighbors import kneighbors_graph as single_machine_graph
    >>> X = np.random.RandomState(0).rand(200, 5)
    >>> G = kneighbors_graph(da.from_array(X, chunks=50), 5)
    >>> G.shape, G.nnz, (G != single_machine_graph(X, 5)).nnz
    ((200, 200), 1000, 0)
    """
    from ..neighbors import arrays_to_graph
    from ._dask import compute

    dist, ind = kneighbors(X, n_neighbors, **kwargs)
    dist, ind = compute(dist, ind)
    return arrays_to_graph(dist, ind)


def _usl_params(est):
    return dict(n_select=est.n_select, n_neighbors=est.n_neighbors,
                n_clusters=est.n_clusters, utility=est.utility, normalize=est.normalize,
                reg_weight=est.reg_weight, reg_alpha=est.reg_alpha,
                reg_momentum=est.reg_momentum, reg_iter=est.reg_iter,
                reg_horizon=est.reg_horizon, reg_scale=est.reg_scale, backend=est.backend,
                random_state=est.random_state, n_jobs=est.n_jobs)


@holds_persisted
def fit_selector(estimator, X):
    """Fit a skusl selector on a dask array: the distributed twin of ``estimator.fit(X)``.

    Supported: ``USLSelector``, ``RandomSelector``, ``KMeansClosestSelector``
    and ``TypiClustSelector`` (their parameters as given, the single-machine
    K-Means partition). Sets the same fitted attributes as ``fit`` (NumPy
    arrays and a SciPy graph on the client) and returns the estimator.

    Parameters
    ----------
    estimator : BaseSelector
        An unfitted (or refitted) selector; its parameters are validated.
    X : dask array of shape (n_samples, n_features)

    Returns
    -------
    estimator : BaseSelector
        Fitted: ``get_support``, ``transform`` and ``score`` work as after
        ``fit`` on a NumPy array.

    Raises
    ------
    ValueError
        For a selector that has no distributed path, or a ``neighbors``
        estimator (it cannot run on the cluster).

    Examples
    --------
    >>> import dask.array as da
    >>> from sklearn.datasets import load_digits
    >>> from skusl import USLSelector
    >>> from skusl.distributed import fit_selector
    >>> X, _ = load_digits(return_X_y=True)
    >>> sel = fit_selector(USLSelector(n_select=8, random_state=0), da.from_array(X, chunks=600))
    >>> single = USLSelector(n_select=8, random_state=0).fit(X)
    >>> bool((sel.selected_indices_ == single.selected_indices_).all())
    True
    """
    from ..selection import KMeansClosestSelector, RandomSelector, TypiClustSelector, USLSelector

    estimator._validate_params()
    X = check_dask_points(X)
    name = type(estimator).__name__
    if isinstance(estimator, USLSelector):
        fitted = fit_usl(X, neighbors=_method(estimator.neighbors, X),
                         **_usl_params(estimator))
    elif isinstance(estimator, RandomSelector):
        fitted = fit_random(X, estimator.n_select, normalize=estimator.normalize,
                            random_state=estimator.random_state)
    elif isinstance(estimator, KMeansClosestSelector):
        fitted = fit_kmeans_closest(X, estimator.n_select, normalize=estimator.normalize,
                                    random_state=estimator.random_state)
    elif isinstance(estimator, TypiClustSelector):
        fitted = fit_typiclust(
            X, estimator.n_select, n_neighbors=estimator.n_neighbors,
            n_clusters=estimator.n_clusters, min_cluster_size=estimator.min_cluster_size,
            normalize=estimator.normalize, neighbors=_method(estimator.neighbors, X),
            backend=estimator.backend, random_state=estimator.random_state,
            n_jobs=estimator.n_jobs)
    else:
        raise ValueError(
            f"{name} has no distributed path: it runs on one machine. Pass X.compute() "
            "(the embeddings in memory), or use USLSelector, TypiClustSelector, "
            "KMeansClosestSelector or RandomSelector on the dask array."
        )
    for attr, value in fitted.items():
        setattr(estimator, attr, value)
    return estimator


__all__ = [
    "KMEANS_METHODS",
    "NEIGHBORS_METHODS",
    "fit_kmeans",
    "fit_kmeans_closest",
    "fit_kmeans_lloyd",
    "fit_random",
    "fit_selector",
    "fit_typiclust",
    "fit_usl",
    "is_dask_array",
    "kneighbors",
    "kneighbors_graph",
]
