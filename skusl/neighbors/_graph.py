"""Public kNN functions: build, query, and convert the shared graph."""

from __future__ import annotations

import contextlib
from typing import Any, Literal, Optional, Tuple, Union

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from .._backends import get_kernels, resolve_backend
from .._backends._resolve import is_dask_array
from .._backends._numpy import sort_rows
from .._progress import progress_bar
from .._upper import upper
from .._validation import check_points
from ._approximate import approximate_kneighbors
from ._cells import cell_kneighbors
from ._exact import exact_kneighbors

NEIGHBORS_METHODS = ("auto", "exact", "approximate", "ivf")

#: Inputs from this many rows are planned (memory checked) before the search.
PLAN_MIN_SAMPLES = 10_000

#: Recall (against the exact search, on a sample) the "ivf" search must reach;
#: below it, it raises its probes, and "auto" falls back to pynndescent.
IVF_TARGET_RECALL = 0.95

#: Type of the ``neighbors`` option: a method name, or a KNeighborsTransformer-like estimator.
NeighborsOption = Union[Literal["auto", "exact", "approximate", "ivf"], Any]
#: Type of the ``backend`` option.
BackendOption = Literal["auto", "numpy", "numba", "cupy"]
#: A SciPy sparse matrix or sparse array (any format).
# scipy >= 1.11 has sparse arrays beside sparse matrices; 1.10 (the minimum
# pyproject claims) only matrices
SparseGraph = Union[sp.spmatrix, sp.sparray] if hasattr(sp, "sparray") else sp.spmatrix


def _choose_method(neighbors, n_samples, n_features, n_neighbors=20, verbose=False):
    if neighbors == "auto":
        from ._plan import plan_neighbors

        plan = plan_neighbors(n_samples, n_features, n_neighbors)
        if verbose:
            _log(plan.describe())
        return plan.method
    return neighbors


def _ivf_still_faster(n_samples, n_features, n_neighbors, verbose):
    """``accept`` for the ivf search under ``neighbors="auto"``.

    Once the recall check has found how many probes the data need (the
    planner assumed :data:`skusl.neighbors._cells.N_PROBE`), the rest of the
    ivf search is costed again at that many probes and turned down when
    pynndescent would now be faster (measured at 1M x 128: 16 probes, ivf
    124 s against pynndescent's 64 s, docs/benchmarks/neighbors_auto.md).
    """
    from ._plan import ivf_remaining_seconds, neighbors_seconds

    def accept(n_probe, recall, n_cells):
        rest = ivf_remaining_seconds(n_samples, n_features, n_probe, n_neighbors)
        nnd = neighbors_seconds(n_samples, n_features, n_neighbors)["approximate"]
        if verbose:
            _log(f"ivf at {n_probe} probes: ~{rest:.0f} s left; approximate ~{nnd:.0f} s")
        return rest <= nnd

    return accept


def _log(message):
    import sys

    print(f"[skusl] {message}", file=sys.stderr, flush=True)


def _check_n_neighbors(n_neighbors, n_samples=None):
    if (not isinstance(n_neighbors, (int, np.integer)) or isinstance(n_neighbors, bool)
            or n_neighbors < 1):
        raise ValueError(f"n_neighbors must be a positive integer, got {n_neighbors!r}.")
    if n_samples is None:
        return
    if n_neighbors >= n_samples:
        raise ValueError(
            f"n_neighbors={n_neighbors} must be smaller than n_samples={n_samples} "
            "(the sample itself is not its own neighbour); lower n_neighbors."
        )


def _threads(backend, n_jobs):
    if backend == "numba":
        return get_kernels("numba").num_threads(n_jobs)
    return contextlib.nullcontext()


def kneighbors(X: ArrayLike, n_neighbors: int, *,
               neighbors: NeighborsOption = "auto", backend: BackendOption = "auto",
               random_state: Union[int, np.random.RandomState, None] = None,
               n_jobs: Optional[int] = None,
               verbose: Union[bool, int] = False) -> Tuple[np.ndarray, np.ndarray]:
    """k nearest neighbours of every sample among the others.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Finite features (NumPy, or CuPy with the exact search). Integer,
        boolean and float16 input is converted (to float64, float32 for
        float16); NaN/inf, sparse, 1-D and 3-D input raise a ``ValueError``
        naming the fix. Values too large or too small to square are scaled
        by a power of two internally (exact), and float32 data far from the
        origin is centred or re-ranked in float64 where rounding would change
        the neighbours (see :mod:`skusl.neighbors._exact`).
    n_neighbors : int
        Neighbours per sample, the sample itself excluded.
    neighbors : {"auto", "exact", "approximate", "ivf"} or estimator, default="auto"
        ``"exact"``: tiled GEMM and a running per-row top-k, memory
        O(n k + tile). ``"approximate"``: NN-descent (pynndescent; its kernels
        compile in every new process, about a minute). ``"ivf"``: K-Means
        cells, exact GEMM search in each row's nearest cells
        (:mod:`skusl.neighbors._cells`), its recall checked against the exact
        search on a sample and its probes doubled until it reaches 0.95 (a
        warning if it cannot). ``"auto"``: the fastest by the cost model of
        measured rates (:func:`skusl.neighbors._plan.plan_neighbors`: exact below a few
        thousand samples, ivf from 32 cells); when ivf misses its recall
        target, or the probes it needs for it make the rest of its search
        slower than pynndescent by the same model, pynndescent
        (docs/benchmarks/neighbors_auto.md). An estimator
        with scikit-learn's ``KNeighborsTransformer`` interface (``fit_transform``
        returning a sparse distance graph) is fitted on ``X`` and its graph
        used; it must return at least ``n_neighbors`` neighbours besides self.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        Kernels for the exact search; see :func:`skusl._backends.resolve_backend`.
    random_state : int, RandomState or None
        Seed of the approximate search.
    n_jobs : int or None
        Threads for the Numba kernels and pynndescent (-1: all cores).
    verbose : bool or int
        1 (True): one progress bar and the plan's line; 2: also
        pynndescent's own log lines.

    Returns
    -------
    dist : array of shape (n_samples, n_neighbors)
        Euclidean distances, ascending; ties broken by the smaller index.
    ind : array of shape (n_samples, n_neighbors), int64

    Examples
    --------
    >>> import numpy as np
    >>> from skusl.neighbors import kneighbors
    >>> X = np.array([[0.0], [1.0], [3.0], [6.0]])
    >>> dist, ind = kneighbors(X, 2, backend="numpy")
    >>> ind
    array([[1, 2],
           [0, 2],
           [1, 0],
           [2, 1]])
    >>> dist[3]
    array([3., 5.])
    """
    X = check_points(X)
    n_samples, n_features = X.shape
    _check_n_neighbors(n_neighbors, n_samples)
    if not isinstance(neighbors, str):
        graph = neighbors.fit_transform(X)
        return graph_to_arrays(graph, n_neighbors)
    if neighbors not in NEIGHBORS_METHODS:
        raise ValueError(
            f"neighbors={neighbors!r} is not one of {NEIGHBORS_METHODS} nor an "
            "estimator with a fit_transform method returning a kNN graph."
        )
    backend = resolve_backend(backend, X)
    method = "exact" if backend == "cupy" and neighbors == "auto" else _choose_method(
        neighbors, n_samples, n_features, n_neighbors, verbose)
    if n_samples >= PLAN_MIN_SAMPLES and backend != "cupy":
        # The memory planner, before the heavy work: the graph path's peak
        # (X itself is already in memory) against what is available.
        from ._plan import check_memory, plan_fit

        plan = plan_fit(n_samples, n_features, n_neighbors, copies=0, method=method,
                        itemsize=X.dtype.itemsize)
        plan.memory_bytes -= plan.input_bytes  # X is already held
        if int(verbose) >= 2:
            _log(plan.describe())
        check_memory(plan)
    if method in ("approximate", "ivf") and backend == "cupy":
        raise ValueError(f"neighbors={method!r} runs on the CPU; pass NumPy "
                         "input or use neighbors='exact' with backend='cupy'.")
    if method == "ivf":
        info = {}
        accept = None
        if neighbors == "auto":
            accept = _ivf_still_faster(n_samples, n_features, n_neighbors, verbose)
        with progress_bar(desc="kNN graph (ivf cells)", disable=not verbose) as bar, \
                _threads(backend, n_jobs):
            found = cell_kneighbors(X, n_neighbors, random_state=random_state,
                                    backend=backend, progress=bar.update,
                                    target_recall=IVF_TARGET_RECALL, info=info,
                                    max_probe=16 if neighbors == "auto" else 32,
                                    search_below_target=neighbors != "auto",
                                    accept=accept)
        if verbose:
            _log(f"ivf search: {info['n_cells']} cells, {info['n_probe']} probes, "
                 f"recall {info['recall']:.3f} on a sample")
        if found is not None and info["recall"] >= IVF_TARGET_RECALL:
            return found
        if neighbors != "auto":
            import warnings

            warnings.warn(f"neighbors='ivf' reached recall {info['recall']:.3f} < "
                          f"{IVF_TARGET_RECALL} on a sample at {info['n_probe']} probes; "
                          "neighbors='approximate' (pynndescent) or 'exact' may suit "
                          "this data better.", stacklevel=2)
            return found
        method = "approximate"  # "auto": the data need NN-descent, or it is faster
        if verbose:
            _log("falling back to neighbors='approximate' (pynndescent)")
    if method == "approximate":
        return approximate_kneighbors(X, n_neighbors, random_state=random_state,
                                      n_jobs=n_jobs, verbose=verbose)
    with progress_bar(total=n_samples, desc="kNN graph", disable=not verbose) as bar, \
            _threads(backend, n_jobs):
        return exact_kneighbors(X, X, n_neighbors, backend=backend,
                                exclude_self=True, progress=bar.update)


def query_kneighbors(X: ArrayLike, Y: ArrayLike, n_neighbors: int, *,
                     backend: BackendOption = "auto", n_jobs: Optional[int] = None,
                     verbose: Union[bool, int] = False) -> Tuple[np.ndarray, np.ndarray]:
    """Exact k nearest rows of ``Y`` for every row of ``X`` (no self exclusion).

    Used to place new samples on an existing graph (``predict``) and to find
    the sample nearest each prototype. ``X`` and ``Y`` are validated as in
    :func:`kneighbors` and must have the same number of features; mixed
    float32/float64 input computes in float64.

    Parameters
    ----------
    X : array-like of shape (n_queries, n_features)
    Y : array-like of shape (n_ref, n_features)
    n_neighbors : int
        At most ``n_ref``.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
    n_jobs : int or None
    verbose : bool

    Returns
    -------
    dist : array of shape (n_queries, n_neighbors)
        Euclidean distances, ascending; ties broken by the smaller index.
    ind : array of shape (n_queries, n_neighbors), int64

    Examples
    --------
    >>> import numpy as np
    >>> from skusl.neighbors import query_kneighbors
    >>> reference = np.array([[0.0], [1.0], [3.0]])
    >>> dist, ind = query_kneighbors(np.array([[2.9], [-1.0]]), reference, 1)
    >>> ind.ravel(), dist.ravel().round(2)
    (array([2, 0]), array([0.1, 1. ]))
    """
    X = check_points(X)
    Y = check_points(Y, "Y")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(f"X has {X.shape[1]} features but Y has {Y.shape[1]}; query "
                         "with samples embedded the same way as the reference.")
    if X.dtype != Y.dtype:  # one dtype for the GEMM: the wider one
        X, Y = X.astype(np.float64), Y.astype(np.float64)
    _check_n_neighbors(n_neighbors)
    if n_neighbors > Y.shape[0]:
        raise ValueError(f"n_neighbors={n_neighbors} exceeds the {Y.shape[0]} reference "
                         "samples; lower n_neighbors.")
    backend = resolve_backend(backend, X)
    with progress_bar(total=X.shape[0], desc="kNN query", disable=not verbose) as bar, \
            _threads(backend, n_jobs):
        return exact_kneighbors(X, Y, n_neighbors, backend=backend,
                                exclude_self=False, progress=bar.update)


def kneighbors_graph(X: ArrayLike, n_neighbors: int, **kwargs: Any) -> sp.csr_matrix:
    """The kNN graph of ``X`` as a CSR distance matrix (scikit-learn's format).

    Takes the same parameters as :func:`kneighbors`. Row ``i`` stores
    exactly ``n_neighbors`` entries (Euclidean distances to its neighbours,
    the sample itself excluded), sorted by (distance, index). Zero distances
    between duplicate points are stored explicitly. A ``dask.array`` is
    searched on the active Dask scheduler
    (:func:`skusl.distributed.kneighbors_graph`, the same graph).

    Examples
    --------
    >>> import numpy as np
    >>> from skusl.neighbors import kneighbors_graph
    >>> X = np.array([[0.0], [1.0], [3.0], [6.0]])
    >>> G = kneighbors_graph(X, 2, backend="numpy")
    >>> G.toarray()  # row 2: a tie at distance 3 goes to the smaller index, 0
    array([[0., 1., 3., 0.],
           [1., 0., 2., 0.],
           [3., 2., 0., 0.],
           [0., 5., 3., 0.]])
    """
    if is_dask_array(X):  # on the cluster; the graph comes back as CSR
        kwargs.pop("verbose", None)
        return upper("distributed").kneighbors_graph(X, n_neighbors, **kwargs)
    dist, ind = kneighbors(X, n_neighbors, **kwargs)
    if not isinstance(dist, np.ndarray):  # CuPy: the graph lives on the host
        dist, ind = dist.get(), ind.get()
    return arrays_to_graph(dist, ind)


def arrays_to_graph(dist: ArrayLike, ind: ArrayLike,
                    n_samples_fit: Optional[int] = None) -> sp.csr_matrix:
    """Pack (n, k) distance and index arrays into a CSR graph.

    Parameters
    ----------
    dist, ind : ndarray of shape (n, k)
        Distances and column indices of each row's neighbours.
    n_samples_fit : int or None
        Number of columns; ``None`` means ``n`` (a square graph).

    Returns
    -------
    graph : scipy.sparse.csr_matrix of shape (n, n_samples_fit)

    Examples
    --------
    >>> import numpy as np
    >>> from skusl.neighbors import arrays_to_graph
    >>> G = arrays_to_graph(np.array([[1.0], [1.0], [2.0]]), np.array([[1], [0], [1]]))
    >>> G.toarray()
    array([[0., 1., 0.],
           [1., 0., 0.],
           [0., 2., 0.]])
    """
    dist, ind = np.asarray(dist), np.asarray(ind)
    if dist.ndim != 2 or dist.shape != ind.shape:
        raise ValueError(f"dist and ind must be 2-D arrays of the same shape (n, k), got "
                         f"{dist.shape} and {ind.shape}.")
    n, k = dist.shape
    n_cols = n if n_samples_fit is None else n_samples_fit
    if dist.dtype.kind not in "fiu" or not np.all(np.isfinite(dist)):
        raise ValueError("dist must hold finite distances.")
    if dist.size and dist.min() < 0:
        raise ValueError("dist must hold non-negative distances.")
    if ind.dtype.kind == "f":
        if not np.all(np.isfinite(ind)) or np.any(ind != np.floor(ind)):
            raise ValueError("ind must hold whole numbers (column indices).")
        ind = ind.astype(np.int64)
    elif ind.dtype.kind not in "iu":
        raise ValueError(f"ind must hold integer column indices, got dtype {ind.dtype}.")
    if ind.size and (ind.min() < 0 or ind.max() >= n_cols):
        raise ValueError(f"ind holds column indices outside [0, {n_cols}): "
                         f"{int(ind.min())} to {int(ind.max())}.")
    indptr = np.arange(0, n * k + 1, k, dtype=np.int64)
    return sp.csr_matrix((np.ascontiguousarray(dist).ravel(),
                          np.ascontiguousarray(ind).ravel(), indptr),
                         shape=(n, n_cols))


def graph_to_arrays(graph: SparseGraph,
                    n_neighbors: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Read the ``n_neighbors`` nearest neighbours of every row of a graph.

    Accepts any square sparse distance graph: scikit-learn's
    ``kneighbors_graph`` / ``KNeighborsTransformer`` output (which may store
    the sample itself), pynndescent's transformer, or :func:`kneighbors_graph`.
    Self entries are dropped; each row keeps its ``n_neighbors`` smallest
    stored distances, sorted by (distance, index).

    Parameters
    ----------
    graph : sparse matrix of shape (n_samples, n_samples)
    n_neighbors : int or None
        Neighbours to keep; ``None`` keeps the smallest row count.

    Returns
    -------
    dist : ndarray of shape (n_samples, n_neighbors)
    ind : ndarray of shape (n_samples, n_neighbors), int64

    Raises
    ------
    ValueError
        If the graph is not square and sparse, holds negative or non-finite
        distances, or a row has fewer than ``n_neighbors`` neighbours.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neighbors import kneighbors_graph as sk_graph
    >>> from skusl.neighbors import graph_to_arrays
    >>> X = np.array([[0.0], [1.0], [3.0], [6.0]])
    >>> G = sk_graph(X, 2, mode="distance", include_self=True)  # stores self
    >>> dist, ind = graph_to_arrays(G, 1)
    >>> ind.ravel(), dist.ravel()
    (array([1, 0, 1, 2]), array([1., 1., 2., 3.]))
    """
    if not sp.issparse(graph):
        raise ValueError(
            "a precomputed kNN graph must be a SciPy sparse matrix of distances, "
            "e.g. from skusl.neighbors.kneighbors_graph or "
            f"sklearn.neighbors.kneighbors_graph; got {type(graph).__name__}."
        )
    n, m = graph.shape
    if n != m:
        raise ValueError(f"a precomputed kNN graph must be square, got shape {graph.shape}.")
    coo = sp.coo_matrix(graph)
    row, col = coo.row.astype(np.int64), coo.col.astype(np.int64)
    data = coo.data
    if data.dtype.kind not in "fiub":
        raise ValueError(f"a precomputed kNN graph must hold real distances, got dtype "
                         f"{data.dtype}.")
    data = data.astype(np.float64, copy=False) if data.dtype.kind != "f" else data
    if not np.all(np.isfinite(data)) or (data < 0).any():
        raise ValueError("a precomputed kNN graph must hold finite, non-negative distances.")
    off_diag = row != col
    row, col, data = row[off_diag], col[off_diag], data[off_diag]
    _check_graph_entries(graph, row, col, data, n)
    counts = np.bincount(row, minlength=n)
    k_min = int(counts.min()) if n else 0
    if n_neighbors is None:
        n_neighbors = k_min
    if n_neighbors < 1 or k_min < n_neighbors:
        raise ValueError(
            f"the precomputed graph has rows with only {k_min} neighbours besides "
            f"the sample itself, but n_neighbors={n_neighbors} are needed; build "
            "the graph with more neighbours or lower n_neighbors."
        )
    return sort_rows(*smallest_per_row(row, col, data, counts, n_neighbors))


def smallest_per_row(row, col, data, counts, n_neighbors):
    """The ``n_neighbors`` smallest entries of each row of a graph given as COO arrays.

    ``counts`` holds the entries per row (every row has at least
    ``n_neighbors``); ties by the smaller column. Returns ``(dist, ind)`` of
    shape ``(n_rows, n_neighbors)``, sorted by (distance, column).
    """
    order = np.lexsort((col, data, row))
    row, col, data = row[order], col[order], data[order]
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    keep = (np.arange(row.size) - starts[row]) < n_neighbors
    n = counts.shape[0]
    return data[keep].reshape(n, n_neighbors), col[keep].reshape(n, n_neighbors)


def _check_graph_entries(graph, row, col, data, n):
    """Refuse graphs whose entries would silently corrupt the neighbour lists."""
    canonical = sp.isspmatrix_csr(graph) and graph.has_canonical_format
    if not canonical and row.size:
        # COO -> CSR sums repeated pairs (linear, then per-row sorts): a count
        # above 1 marks a pair stored twice.
        counts = sp.coo_matrix((np.ones(row.size, dtype=np.int32), (row, col)),
                               shape=(n, n)).tocsr()
        if counts.nnz != row.size:
            first = int(np.flatnonzero(counts.data > 1)[0])
            i = int(np.searchsorted(counts.indptr, first, side="right") - 1)
            j = int(counts.indices[first])
            raise ValueError(
                f"the precomputed graph stores the pair ({i}, {j}) more than once "
                f"({row.size - counts.nnz} repeated entries), e.g. a COO matrix built with "
                "duplicate (row, col) pairs; keep one distance per pair (converting with "
                ".tocsr() would add them up, which is wrong for distances)."
            )
    if n >= 3 and data.size and data[0] > 0 and np.all(data == data[0]):
        raise ValueError(
            f"every distance stored in the precomputed graph equals {data[0]:g}: this is "
            "a connectivity graph (e.g. kneighbors_graph(X, k, mode='connectivity')), "
            "which carries no distances, so every density and vote weight would be "
            "equal. Build it with mode='distance'."
        )


class PrecomputedKNN:
    """Hand an already-built kNN graph to any estimator's ``neighbors=``.

    A minimal ``KNeighborsTransformer``-like object: ``fit_transform(X)``
    returns the stored graph after checking that it has one row per sample.
    Use it to build the graph once and share it across selectors, seeds and
    parameter searches.

    Parameters
    ----------
    graph : sparse matrix of shape (n_samples, n_samples)
        A kNN distance graph, e.g. ``USLSelector(...).fit(X).knn_graph_``.

    Examples
    --------
    >>> import numpy as np
    >>> from skusl.neighbors import PrecomputedKNN, kneighbors_graph
    >>> X = np.random.RandomState(0).rand(50, 3)
    >>> G = kneighbors_graph(X, 5)
    >>> from skusl import USLSelector
    >>> sel = USLSelector(n_select=3, n_neighbors=5, neighbors=PrecomputedKNN(G),
    ...                   normalize=False, random_state=0).fit(X)
    >>> (sel.knn_graph_ != G).nnz
    0
    """

    def __init__(self, graph):
        self.graph = graph

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        if X.shape[0] != self.graph.shape[0]:
            raise ValueError(f"the precomputed graph has {self.graph.shape[0]} rows but X "
                             f"has {X.shape[0]} samples; build the graph on this X.")
        return self.graph

    def fit_transform(self, X, y=None):
        return self.fit(X).transform(X)

    def get_params(self, deep=True):
        return {"graph": self.graph}

    def set_params(self, **params):
        for key, value in params.items():
            setattr(self, key, value)
        return self
