"""The shared kNN graph: exactness, approximate recall, formats, duplicates."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.neighbors import KNeighborsTransformer, NearestNeighbors
from sklearn.neighbors import kneighbors_graph as sk_kneighbors_graph

from skusl.neighbors import (PrecomputedKNN, graph_to_arrays, kneighbors,
                             kneighbors_graph, query_kneighbors)

from ..conftest import load_shared


def _brute(X, k):
    nn = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(X)
    return nn.kneighbors()  # sklearn excludes the query point itself here


def _recall(ind, ref_ind):
    hits = [np.intersect1d(a, b).size for a, b in zip(ind, ref_ind, strict=False)]
    return np.sum(hits) / ref_ind.size


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exact_matches_sklearn_brute(backend, dtype, rt_small):
    X = rt_small[0][:1500].astype(dtype)
    dist, ind = kneighbors(X, 15, neighbors="exact", backend=backend)
    ref_dist, ref_ind = _brute(X.astype(np.float64), 15)
    assert dist.dtype == dtype and ind.dtype == np.int64
    assert _recall(ind, ref_ind) == 1.0
    np.testing.assert_allclose(dist, ref_dist, atol=1e-3)
    assert np.all(np.diff(dist, axis=1) >= 0)
    assert not np.any(ind == np.arange(len(X))[:, None])


def test_numpy_and_numba_graphs_identical(fashion_small):
    X = fashion_small[0][:1500]
    d1, i1 = kneighbors(X, 10, neighbors="exact", backend="numpy")
    d2, i2 = kneighbors(X, 10, neighbors="exact", backend="numba")
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_array_equal(d1, d2)


def test_small_blocks_give_the_same_graph(rt_small):
    from skusl.neighbors._exact import exact_kneighbors

    X = rt_small[0][:600]
    full = exact_kneighbors(X, X, 7, backend="numba", exclude_self=True)
    tiny = exact_kneighbors(X, X, 7, backend="numba", exclude_self=True,
                            block_bytes=X.shape[0] * 4 * 13)  # 13-row blocks
    np.testing.assert_array_equal(full[1], tiny[1])


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_duplicates_and_ties_are_deterministic(backend):
    rng = np.random.RandomState(0)
    X = rng.rand(200, 5)
    X[10] = X[20] = X[30] = X[40]  # four copies of one point
    X[50:60] = X[60:70]  # ten duplicated pairs
    dist, ind = kneighbors(X, 5, neighbors="exact", backend=backend)
    assert np.all(np.isfinite(dist))
    # The copies of X[40] find each other at distance 0, smaller index first.
    np.testing.assert_array_equal(ind[40][:3], [10, 20, 30])
    # GEMM-based distances leave rounding noise (~sqrt(eps)) instead of 0.
    assert np.all(dist[40][:3] < 1e-3)
    np.testing.assert_array_equal(ind[50][0], 60)
    # Exact ties between distinct points: the smaller index wins.
    X1 = np.array([[0.0], [1.0], [3.0], [5.0]])
    _, ind1 = kneighbors(X1, 2, neighbors="exact", backend=backend)
    np.testing.assert_array_equal(ind1[2], [1, 3])  # 1 and 3 tie at distance 2


def test_approximate_recall_on_shared_data():
    X, _ = load_shared("mnist70k_pca100", n=8000)
    dist, ind = kneighbors(X, 10, neighbors="approximate", random_state=0)
    ref_dist, ref_ind = _brute(X, 10)
    assert _recall(ind, ref_ind) >= 0.95
    assert not np.any(ind == np.arange(len(X))[:, None])
    assert np.all(np.diff(dist, axis=1) >= 0)


def test_auto_picks_exact_on_small_data(rt_small):
    X = rt_small[0][:500]
    np.testing.assert_array_equal(kneighbors(X, 5)[1], kneighbors(X, 5, neighbors="exact")[1])


def test_graph_format_matches_sklearn(rt_small):
    X = rt_small[0][:400].astype(np.float64)
    G = kneighbors_graph(X, 6)
    ref = sk_kneighbors_graph(X, 6, mode="distance")
    assert sp.isspmatrix_csr(G) and G.shape == (400, 400)
    assert np.all(np.diff(G.indptr) == 6)
    assert (abs(G - ref) > 1e-6).nnz == 0


def test_estimator_neighbors_and_graph_to_arrays(rt_small):
    X = rt_small[0][:300]
    ref_dist, ref_ind = kneighbors(X, 8, neighbors="exact")
    # sklearn's transformer stores the sample itself: it must be dropped.
    dist, ind = kneighbors(X, 8, neighbors=KNeighborsTransformer(n_neighbors=8))
    np.testing.assert_array_equal(ind, ref_ind)
    G = kneighbors_graph(X, 8)
    np.testing.assert_array_equal(kneighbors(X, 8, neighbors=PrecomputedKNN(G))[1], ref_ind)
    d5, i5 = graph_to_arrays(G, 5)
    np.testing.assert_array_equal(i5, ref_ind[:, :5])
    with pytest.raises(ValueError, match="only 8 neighbours"):
        graph_to_arrays(G, 9)
    with pytest.raises(ValueError, match="sparse"):
        graph_to_arrays(G.toarray(), 3)
    with pytest.raises(ValueError, match="has 300 rows"):
        kneighbors(X[:100], 5, neighbors=PrecomputedKNN(G))


def test_query_kneighbors(rt_small):
    X = rt_small[0]
    Q, R = X[:50], X[50:900]
    dist, ind = query_kneighbors(Q, R, 3)
    nn = NearestNeighbors(n_neighbors=3, algorithm="brute").fit(R)
    ref_dist, ref_ind = nn.kneighbors(Q)
    np.testing.assert_array_equal(ind, ref_ind)
    np.testing.assert_allclose(dist, ref_dist, atol=1e-4)


@pytest.mark.parametrize("bad, match", [(0, "positive"), (50, "smaller than n_samples")])
def test_bad_n_neighbors(bad, match):
    X = np.random.RandomState(0).rand(50, 3)
    with pytest.raises(ValueError, match=match):
        kneighbors(X, bad)


def test_bad_method_and_backend():
    X = np.random.RandomState(0).rand(20, 3)
    with pytest.raises(ValueError, match="neighbors='fast'"):
        kneighbors(X, 3, neighbors="fast")
    with pytest.raises(ValueError, match="backend='gpu'"):
        kneighbors(X, 3, backend="gpu")


# ------------------------------------------------------------ numerics (issue 10)
def _sk_float32_recall(X, k):
    """Recall of scikit-learn's float32 brute force against the float64 truth."""
    truth = _brute(X.astype(np.float64), k)[1]
    return _recall(_brute(X, k)[1], truth), truth


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("case", ["off_centre", "two_far_clusters"])
def test_float32_cancellation_recall_matches_sklearn(backend, case):
    # |x|^2 + |y|^2 - 2 x.y in float32 cancels when the norms dwarf the
    # distances: rand + 100 (fixed by centring) and two clusters at +-100
    # (centring cannot help: fixed by the float64 re-rank).
    X = np.random.RandomState(0).rand(2000, 16)
    if case == "off_centre":
        X += 100
    else:
        X[:1000] += 100
        X[1000:] -= 100
    X = X.astype(np.float32)
    sk_recall, truth = _sk_float32_recall(X, 10)
    dist, ind = kneighbors(X, 10, neighbors="exact", backend=backend)
    assert dist.dtype == np.float32
    assert _recall(ind, truth) >= sk_recall
    ref_dist = _brute(X.astype(np.float64), 10)[0]
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-4)


def test_cancellation_paths_keep_numpy_and_numba_identical():
    X = np.random.RandomState(1).rand(700, 8)
    X[:350] += 300
    X = X.astype(np.float32)
    d1, i1 = kneighbors(X, 6, neighbors="exact", backend="numpy")
    d2, i2 = kneighbors(X, 6, neighbors="exact", backend="numba")
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_array_equal(d1, d2)
    q1 = query_kneighbors(X[:50] + 1, X, 4, backend="numpy")
    q2 = query_kneighbors(X[:50] + 1, X, 4, backend="numba")
    np.testing.assert_array_equal(q1[1], q2[1])
    np.testing.assert_array_equal(q1[0], q2[0])


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("dtype, scale", [(np.float64, 1e155), (np.float64, 1e-160),
                                          (np.float32, 1e19), (np.float32, 1e-17)])
def test_extreme_magnitudes_give_the_scaled_answer(backend, dtype, scale):
    base = np.random.RandomState(0).rand(120, 5)
    X = (base * scale).astype(dtype)
    dist, ind = kneighbors(X, 4, neighbors="exact", backend=backend)
    ref_dist, ref_ind = _brute(base, 4)
    assert _recall(ind, ref_ind) == 1.0
    assert np.all(np.isfinite(dist)) and ind.min() >= 0 and ind.max() < len(X)
    np.testing.assert_allclose(dist / scale, ref_dist, rtol=1e-3)
    qd, qi = query_kneighbors(X[:7], X, 3, backend=backend)
    np.testing.assert_array_equal(qi[:, 0], np.arange(7))


def test_numba_top_k_never_reports_index_n():
    # NaN rows that slip past validation (internal callers) give an error,
    # never the out-of-range index n that made predict raise IndexError.
    from skusl.neighbors._exact import exact_kneighbors

    X = np.random.RandomState(0).rand(30, 3)
    X[4] = np.nan
    for backend in ("numpy", "numba"):
        with pytest.raises(ValueError, match="non-finite"):
            exact_kneighbors(X, X, 3, backend=backend, exclude_self=True)


def test_normalize_rows_survives_extreme_magnitudes():
    from skusl._validation import normalize_rows

    base = np.random.RandomState(0).rand(20, 6) + 0.1
    ref = base / np.linalg.norm(base, axis=1, keepdims=True)
    for dtype, scale in [(np.float64, 1e160), (np.float64, 1e-170),
                         (np.float32, 1e20), (np.float32, 1e-25)]:
        Z = normalize_rows((base * scale).astype(dtype))
        np.testing.assert_allclose(Z, ref, rtol=1e-5)
    # ordinary rows keep exactly the plain X / |X| bits; zero rows stay zero
    X = np.vstack([base, np.zeros((1, 6))])
    Z = normalize_rows(X)
    np.testing.assert_array_equal(Z[:-1], base / ((base * base).sum(axis=1) ** 0.5)[:, None])
    np.testing.assert_array_equal(Z[-1], 0)


# ------------------------------------------------------------ precomputed graphs
def test_coo_graph_with_repeated_pairs_is_refused():
    X = np.random.RandomState(0).rand(40, 3)
    G = kneighbors_graph(X, 4).tocoo()
    row = np.concatenate([G.row, [0]])
    col = np.concatenate([G.col, [G.col[0]]])
    data = np.concatenate([G.data, [G.data[0]]])
    dup = sp.coo_matrix((data, (row, col)), shape=G.shape)
    with pytest.raises(ValueError, match=r"stores the pair \(0, \d+\) more than once"):
        graph_to_arrays(dup, 4)
    # the same graph without the repeat is fine, in COO as in CSR
    np.testing.assert_array_equal(graph_to_arrays(G, 4)[1], kneighbors(X, 4)[1])


@pytest.mark.parametrize("include_self", [False, True])
def test_connectivity_graph_is_refused(include_self):
    X = np.random.RandomState(0).rand(40, 3)
    G = sk_kneighbors_graph(X, 5, mode="connectivity", include_self=include_self)
    with pytest.raises(ValueError, match="mode='distance'"):
        graph_to_arrays(G, 4)
    with pytest.raises(ValueError, match="mode='distance'"):
        kneighbors(X, 4, neighbors=KNeighborsTransformer(n_neighbors=5,
                                                         mode="connectivity"))


def test_approximate_accepts_a_random_state_instance():
    X = np.random.RandomState(0).rand(300, 5)
    a = kneighbors(X, 5, neighbors="approximate", random_state=np.random.RandomState(3))
    b = kneighbors(X, 5, neighbors="approximate", random_state=np.random.RandomState(3))
    np.testing.assert_array_equal(a[1], b[1])
