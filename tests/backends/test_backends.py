"""Backends: NumPy (reference, namespace-generic), Numba (CPU) and CuPy (GPU).

CPU backends must agree bit for bit (the only documented exception: ``pow``
for a ``reg_alpha`` other than 0, 0.5 and 1 may differ in the last ulp).
GPU tests are marked ``gpu`` and skip without CuPy and a CUDA device.
"""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

from skusl import USLSelector
from skusl._backends import get_kernels, get_namespace, resolve_backend
from skusl._backends import _array_api
from skusl.neighbors import kneighbors, kneighbors_graph
from skusl.selection._usl_core import (MIN_SQ_DIST, density_utility, finalize_selection,
                                       inter_cluster_regularizer, regularized_selection)

DATA = Path("/work/shared/data")
CPU_BACKENDS = ("numpy", "numba")


def _gpu_available():
    if importlib.util.find_spec("cupy") is None:
        return False
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


HAS_GPU = _gpu_available()
gpu = pytest.mark.skipif(not HAS_GPU, reason="needs CuPy and a CUDA GPU")


def _load(name, n):
    path = DATA / f"{name}.npz"
    if not path.exists():
        pytest.skip(f"{path} not available")
    with np.load(path, allow_pickle=False) as d:
        return np.ascontiguousarray(d["X"][:n], dtype=np.float32)


# --------------------------------------------------------------------- resolve
def test_resolve_auto_never_needs_a_gpu():
    assert resolve_backend("auto", np.zeros((2, 2))) == "numba"
    assert resolve_backend("numpy") == "numpy"
    assert get_namespace(np.zeros(2)) is np


def test_resolve_unknown_backend():
    with pytest.raises(ValueError, match="backend='torch' is not one of"):
        resolve_backend("torch")


@pytest.mark.skipif(HAS_GPU, reason="a GPU is present")
def test_cupy_without_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="backend='cupy' needs"):
        resolve_backend("cupy")
    X = np.random.RandomState(0).rand(30, 3)
    with pytest.raises(ValueError, match="backend='cupy' needs"):
        USLSelector(n_select=2, n_neighbors=3, backend="cupy").fit(X)


def test_num_threads_restores_setting():
    import numba

    nb = get_kernels("numba")
    before = numba.get_num_threads()
    with nb.num_threads(1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before


# --------------------------------------------------------------------- kernels
def _random_points(dtype, n=300, d=8, seed=0):
    X = np.random.default_rng(seed).standard_normal((n, d)).astype(dtype)
    X[5] = X[6] = X[7]  # duplicates: zero distances and exact ties
    X[20:40] = np.round(X[20:40])  # more exact ties on a coarse grid
    return X


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 7, 299])
def test_knn_block_numba_equals_numpy(dtype, k):
    X = _random_points(dtype)
    sq = np.einsum("ij,ij->i", X, X)
    out = {}
    for name in CPU_BACKENDS:
        for exclude_self in (True, False):
            kk = min(k, X.shape[0] - exclude_self)
            out[name, exclude_self] = get_kernels(name).knn_block(
                X @ X.T, sq, sq, kk, 0, exclude_self)
    for exclude_self in (True, False):
        (d0, i0), (d1, i1) = out["numpy", exclude_self], out["numba", exclude_self]
        np.testing.assert_array_equal(i0, i1)
        np.testing.assert_array_equal(d0, d1)
        assert d0.dtype == dtype and i0.dtype == np.int64
        # sorted by (distance, index)
        assert np.all((np.diff(d0, axis=1) > 0)
                      | ((np.diff(d0, axis=1) == 0) & (np.diff(i0, axis=1) > 0)))


def _slow_regularizer(G, sq_rows, sq_sel, own, horizon, alpha, floor):
    """Reference: one Python loop per point, sequential float64 sum."""
    one = G.dtype.type
    reg = np.zeros(G.shape[0])
    for r in range(G.shape[0]):
        dists = []
        for j in range(G.shape[1]):
            if j == own[r]:
                continue
            d = (one(-2) * G[r, j] + sq_rows[r]) + sq_sel[j]  # kernel's dtype and order
            dists.append(float(max(d, one(floor))))
        dists.sort()
        if horizon:
            dists = dists[:horizon]
        acc = 0.0
        for d in dists:
            acc += 1.0 / math.sqrt(d) if alpha == 0.5 else d ** -alpha
        reg[r] = acc
    return reg


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("horizon", [0, 1, 4, 19, 20, 50])
def test_regularizer_kernels_equal_slow_reference(dtype, horizon):
    X = _random_points(dtype, n=200, d=6, seed=1)
    sel = np.array([7, 6, 3, 11, 25, 26] + list(range(100, 114)))  # 6 == 7: a duplicate
    sq = np.einsum("ij,ij->i", X, X)
    G = X @ X[sel].T
    own = np.random.default_rng(2).integers(-1, sel.size, X.shape[0])
    own[7] = 0  # the point itself is its cluster's pick: excluded, no zero distance
    own[5] = 2  # its duplicates 6, 7 are picks of other clusters: floored distance
    ref = _slow_regularizer(G, sq, sq[sel], own, horizon, 0.5, MIN_SQ_DIST)
    assert np.all(np.isfinite(ref))
    for name in CPU_BACKENDS:
        got = get_kernels(name).regularizer_block(G.copy(), sq, sq[sel], own, horizon,
                                                  0.5, MIN_SQ_DIST)
        assert got.dtype == np.float64
        if horizon == 0:
            # No horizon: both kernels sum in column order, the reference in
            # distance order -- equal up to summation rounding.
            np.testing.assert_allclose(got, ref, rtol=1e-13)
        else:
            np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0, 0.7])
@pytest.mark.parametrize("horizon", [0, 5])
def test_regularizer_numba_equals_numpy(alpha, horizon):
    X = _random_points(np.float32, n=400, d=5, seed=3)
    sel = np.arange(0, 400, 13)
    sq = np.einsum("ij,ij->i", X, X)
    G = X @ X[sel].T
    own = np.random.default_rng(4).integers(-1, sel.size, X.shape[0])
    a = get_kernels("numpy").regularizer_block(G.copy(), sq, sq[sel], own, horizon,
                                               alpha, MIN_SQ_DIST)
    b = get_kernels("numba").regularizer_block(G.copy(), sq, sq[sel], own, horizon,
                                               alpha, MIN_SQ_DIST)
    if alpha in (0.0, 0.5, 1.0):
        np.testing.assert_array_equal(a, b)
    else:  # pow: NumPy's SIMD loop and libm may differ in the last ulp
        np.testing.assert_allclose(a, b, rtol=1e-14)
    if alpha == 0.0:  # counts the other clusters' picks within the horizon
        m_other = sel.size - (own >= 0)
        np.testing.assert_array_equal(a, np.minimum(m_other, horizon or sel.size))


def test_cluster_argmax_equals_reference():
    rng = np.random.default_rng(5)
    score = rng.integers(0, 4, 500).astype(np.float64)  # many ties
    score[::7] = -0.0
    labels = rng.integers(0, 60, 500)  # some of the 64 clusters stay empty
    ref = np.full(64, -1)
    for i in range(500):
        c = labels[i]
        if ref[c] < 0 or score[i] > score[ref[c]]:
            ref[c] = i
    for name in CPU_BACKENDS:
        np.testing.assert_array_equal(get_kernels(name).cluster_argmax(score, labels, 64),
                                      ref)


def test_finalize_selection_fills_and_orders():
    utility = np.array([1.0, 5.0, 5.0, 2.0, 9.0, 0.0])
    labels = np.array([0, 0, 1, 1, 2, 2])
    picks = np.array([1, -1, 4])  # one empty cluster: fill from the best unselected
    out = finalize_selection(picks, labels, utility, 3)
    np.testing.assert_array_equal(out, [4, 1, 2])  # ties in utility by index


# ----------------------------------------------------------- end to end (CPU)
@pytest.mark.parametrize("name", ["fashion20k_pixels", "rt13k_minilm"])
def test_knn_graph_identical_across_cpu_backends(name):
    X = _load(name, 3000)
    graphs = [kneighbors_graph(X, 15, neighbors="exact", backend=b) for b in CPU_BACKENDS]
    assert (graphs[0] != graphs[1]).nnz == 0
    np.testing.assert_array_equal(graphs[0].indices, graphs[1].indices)


FITTED = ("selected_indices_", "utility_", "regularizer_", "labels_",
          "cluster_centers_", "prototypes_")


@pytest.mark.parametrize("name,seed,horizon,utility", [
    ("fashion20k_pixels", 0, None, "density"),
    ("fashion20k_pixels", 1, 8, "two_hop"),
    ("rt13k_minilm", 2, None, "density"),
    ("rt13k_minilm", 3, 8, "density"),
])
def test_selection_identical_across_cpu_backends(name, seed, horizon, utility):
    X = _load(name, 2000)
    fits = [USLSelector(n_select=20, n_neighbors=10, reg_horizon=horizon, utility=utility,
                        neighbors="exact", backend=b, random_state=seed).fit(X)
            for b in CPU_BACKENDS]
    for att in FITTED:
        np.testing.assert_array_equal(getattr(fits[0], att), getattr(fits[1], att),
                                      err_msg=att)
    assert (fits[0].knn_graph_ != fits[1].knn_graph_).nnz == 0


def test_driver_runs_on_namespace_generic_kernels():
    """The xp driver path the GPU runs, executed here under NumPy."""
    X = _load("rt13k_minilm", 1500)
    dist, _ = kneighbors(X, 10, neighbors="exact", backend="numpy")
    utility = density_utility(dist ** 2)
    labels = np.random.default_rng(0).integers(0, 25, X.shape[0])
    out = {}
    for b in CPU_BACKENDS:
        out[b] = regularized_selection(X, utility, labels, 25, reg_weight=0.5,
                                       reg_alpha=0.5, reg_momentum=0.9, reg_iter=5,
                                       reg_horizon=None, backend=b)
    np.testing.assert_array_equal(out["numpy"][0], out["numba"][0])
    np.testing.assert_array_equal(out["numpy"][1], out["numba"][1])
    picks = out["numpy"][0]
    reg = inter_cluster_regularizer(X, np.einsum("ij,ij->i", X, X), labels, picks,
                                    horizon=3, alpha=0.5, backend="numpy")
    assert reg.shape == (X.shape[0],) and np.all(np.isfinite(reg))
    # namespace-generic cluster argmax == the Numba loop on the final scores
    score = utility - 0.5 * out["numpy"][1]
    np.testing.assert_array_equal(_array_api.cluster_argmax(np, score, labels, 25),
                                  get_kernels("numba").cluster_argmax(score, labels, 25))


# ----------------------------------------------------------------------- GPU
@pytest.mark.gpu
@gpu
@pytest.mark.parametrize("cupy_input", [True, False])
def test_cupy_matches_numpy_on_every_fitted_attribute(cupy_input):
    import cupy

    X = _load("rt13k_minilm", 2000)
    ref = USLSelector(n_select=20, n_neighbors=10, neighbors="exact", backend="numpy",
                      random_state=0).fit(X)
    Xin = cupy.asarray(X) if cupy_input else X
    got = USLSelector(n_select=20, n_neighbors=10, neighbors="exact",
                      backend="auto" if cupy_input else "cupy", random_state=0).fit(Xin)
    for att in FITTED:
        value = getattr(got, att)
        assert isinstance(value, cupy.ndarray if cupy_input else np.ndarray), att
        value = cupy.asnumpy(value)
        expected = getattr(ref, att)
        if value.dtype.kind == "f":
            # cuBLAS sums the inner products in another order: a few ulps.
            np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-6, err_msg=att)
        else:
            np.testing.assert_array_equal(value, expected, err_msg=att)
    np.testing.assert_allclose(got.knn_graph_.data, ref.knn_graph_.data, rtol=1e-5,
                               atol=1e-6)
    # neighbour indices agree except between near-equal distances
    assert np.mean(got.knn_graph_.indices == ref.knn_graph_.indices) > 0.999
    mask = got.get_support()
    assert int(cupy.asnumpy(mask).sum()) == 20
    assert got.transform(Xin[:5]).shape == (5, 20)
    assert np.isfinite(got.score(Xin))


@pytest.mark.gpu
@gpu
def test_cupy_kernels_match_numpy():
    import cupy

    X = _random_points(np.float32, n=500, d=16)
    sq = np.einsum("ij,ij->i", X, X)
    cp_k, np_k = get_kernels("cupy"), get_kernels("numpy")
    Xd = cupy.asarray(X)
    sqd = cupy.asarray(sq)
    d0, i0 = np_k.knn_block(X @ X.T, sq, sq, 10, 0, True)
    d1, i1 = cp_k.knn_block(Xd @ Xd.T, sqd, sqd, 10, 0, True)
    np.testing.assert_allclose(cupy.asnumpy(d1), d0, rtol=1e-5, atol=1e-5)
    assert np.mean(cupy.asnumpy(i1) == i0) > 0.99
    sel = np.arange(0, 500, 17)
    own = np.random.default_rng(0).integers(-1, sel.size, 500)
    for horizon in (0, 5):
        r0 = np_k.regularizer_block(X @ X[sel].T, sq, sq[sel], own, horizon, 0.5,
                                    MIN_SQ_DIST)
        r1 = cp_k.regularizer_block(Xd @ Xd[sel].T, sqd, sqd[sel], cupy.asarray(own),
                                    horizon, 0.5, MIN_SQ_DIST)
        np.testing.assert_allclose(cupy.asnumpy(r1), r0, rtol=1e-5)
    score = cupy.asarray(np.random.default_rng(1).integers(0, 3, 500).astype(float))
    labels = cupy.asarray(np.random.default_rng(2).integers(0, 30, 500))
    np.testing.assert_array_equal(
        cupy.asnumpy(cp_k.cluster_argmax(score, labels, 32)),
        np_k.cluster_argmax(cupy.asnumpy(score), cupy.asnumpy(labels), 32))


def _tie_heavy_points(dtype, n, seed):
    """Integer-valued points with many duplicated rows: ties everywhere."""
    rng = np.random.default_rng(seed)
    X = rng.integers(-2, 3, size=(n, 4)).astype(dtype)
    X[: n // 4] = X[n // 4: n // 2]  # a quarter of the rows duplicated
    return X


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [40, 700])
def test_knn_block_numba_equals_numpy_large_k_and_ties(dtype, n):
    """Buffered top-k: compactions forced (small n, k close to n) and exact ties."""
    X = _tie_heavy_points(dtype, n, seed=n)
    sq = np.einsum("ij,ij->i", X, X)
    ks = sorted({k for k in (1, 5, 20, 127, 128, 399, n // 2, n - 2, n - 1) if 1 <= k < n})
    for k in ks:
        for exclude_self, offset in ((True, 0), (False, 0), (True, 3)):
            rows = slice(offset, n)  # a block that does not start at row 0
            kk = min(k, n - exclude_self)
            S = X[rows] @ X.T
            d0, i0 = get_kernels("numpy").knn_block(S.copy(), sq[rows], sq, kk, offset,
                                                    exclude_self)
            d1, i1 = get_kernels("numba").knn_block(S, sq[rows], sq, kk, offset, exclude_self)
            np.testing.assert_array_equal(i0, i1, err_msg=f"k={kk} self={exclude_self}")
            np.testing.assert_array_equal(d0, d1, err_msg=f"k={kk} self={exclude_self}")
            assert d1.dtype == dtype and i1.dtype == np.int64


def test_knn_block_numba_all_equal_distances():
    """Every distance equal: the k smallest indices, in order, survive compactions."""
    n, k = 3000, 399
    X = np.ones((n, 3), dtype=np.float32)
    sq = np.einsum("ij,ij->i", X, X)
    d, i = get_kernels("numba").knn_block(X @ X.T, sq, sq, k, 0, True)
    expected = np.array([[j for j in range(k + 1) if j != r][:k] for r in range(n)])
    np.testing.assert_array_equal(i, expected)
    assert np.all(d == 0)


def test_every_backend_module_defines_the_same_names():
    # Parsed, not imported: the CuPy module needs CuPy to import.
    import ast
    from pathlib import Path

    from skusl._backends import BACKEND_API

    folder = Path(__file__).resolve().parents[2] / "skusl" / "_backends"
    for module in ("_numpy", "_numba", "_cupy"):
        tree = ast.parse((folder / f"{module}.py").read_text())
        names = set()
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                for target in node.targets:  # ``a = ...`` and ``a, b = ...``
                    elts = target.elts if isinstance(target, ast.Tuple) else [target]
                    names.update(e.id for e in elts if isinstance(e, ast.Name))
            elif isinstance(node, ast.ImportFrom):
                names.update(a.asname or a.name for a in node.names)
        missing = set(BACKEND_API) - names
        assert not missing, f"skusl/_backends/{module}.py lacks {sorted(missing)}"


def test_numpy_and_numba_host_helpers_and_threads():
    from skusl._backends import get_kernels, to_host

    for backend in ("numpy", "numba"):
        kernels = get_kernels(backend)
        a = kernels.to_device([1.0, 2.0])
        assert isinstance(a, np.ndarray)
        assert isinstance(kernels.to_host(a), np.ndarray)
        with kernels.num_threads(1):
            pass
        with kernels.num_threads(None):
            pass
    x = np.arange(3)
    assert to_host(x) is x
