"""The Dask path on a LocalCluster: the single-machine results, blockwise.

Every comparison is against the single-machine code run in the same test:
the same graph (bit for bit where both take the GEMM path), the same K-Means
partition, the same selected indices for the same seed.
"""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import make_blobs

pytest.importorskip("dask.distributed", reason='needs dask: pip install "skusl[dask]"')

import dask.array as da  # noqa: E402

from skusl import (  # noqa: E402
    KMeansClosestSelector,
    RandomSelector,
    TypiClustSelector,
    USLSelector,
    distributed,
)
from skusl.neighbors import kneighbors as single_kneighbors  # noqa: E402
from skusl.neighbors import kneighbors_graph as single_graph  # noqa: E402
from skusl.neighbors import query_kneighbors  # noqa: E402
from skusl.neighbors._exact import exact_kneighbors as single_exact  # noqa: E402
from skusl.neighbors._kmeans import fit_kmeans as single_kmeans  # noqa: E402


@pytest.fixture(scope="module")
def client():
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as cluster, Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(1200, 16, centers=12, cluster_std=2.0, random_state=0)
    return X.astype(np.float32), y


def _dask(X, rows):
    return da.from_array(X, chunks=(rows, X.shape[1]))


# --------------------------------------------------------------------- graph

@pytest.fixture(params=[None, 700], ids=["one-tile", "tiles-of-700"])
def tile_rows(request, monkeypatch):
    """Column tiles as configured (one tile at this size) and forced small."""
    from skusl.distributed import _exact as dist_exact

    if request.param is not None:
        monkeypatch.setattr(dist_exact, "COLUMN_TILE_ROWS", request.param)
    return request.param


def test_column_tiles_group_consecutive_blocks():
    from skusl.distributed._exact import column_tiles

    offsets = np.array([0, 300, 800, 1199, 1200])
    assert column_tiles(offsets, 700) == [(0, 1), (1, 2), (2, 4)]
    assert column_tiles(offsets, 10_000) == [(0, 4)]
    assert column_tiles(offsets, 1) == [(0, 1), (1, 2), (2, 3), (3, 4)]


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("chunks", [400, (300, 500, 399, 1), 1200])
def test_exact_graph_is_the_single_machine_graph(client, blobs, backend, chunks, tile_rows):
    X = blobs[0]
    Xd = da.from_array(X, chunks=(chunks, (16,)))
    dist, ind = distributed.kneighbors(Xd, 10, neighbors="exact", backend=backend)
    dist, ind = dist.compute(), ind.compute()
    # Bit for bit against the single-machine search on the same (GEMM) path.
    d0, i0 = single_exact(X, X, 10, backend=backend, exclude_self=True,
                          block_bytes=256 * X.shape[0] * 4)
    assert np.array_equal(ind, i0)
    assert np.array_equal(dist, d0)
    # And the public function (SYRK for one block): same neighbours, same distances
    # up to a last-bit rounding.
    d1, i1 = single_kneighbors(X, 10, neighbors="exact", backend=backend)
    assert np.array_equal(ind, i1)
    np.testing.assert_allclose(dist, d1, rtol=1e-6)


def test_graph_is_csr_in_the_single_machine_format(client, blobs):
    X = blobs[0].astype(np.float64)
    G = distributed.kneighbors_graph(_dask(X, 350), 7, neighbors="exact")
    G0 = single_graph(X, 7, neighbors="exact")
    assert G.format == "csr" and G.shape == G0.shape and G.nnz == 7 * X.shape[0]
    assert np.array_equal(G.indices, G0.indices) and np.array_equal(G.indptr, G0.indptr)
    np.testing.assert_allclose(G.data, G0.data, rtol=1e-12)


def test_off_centre_float32_takes_the_single_machine_guards(client):
    # rand + 100 in float32: the GEMM cancels, the guards centre the data.
    X = (np.random.RandomState(0).rand(900, 8) + 100).astype(np.float32)
    dist, ind = distributed.kneighbors(_dask(X, 250), 5, neighbors="exact")
    d0, i0 = single_kneighbors(X, 5, neighbors="exact")
    truth = single_kneighbors(X.astype(np.float64), 5, neighbors="exact")[1]
    assert np.array_equal(ind.compute(), i0)
    assert np.mean(ind.compute() == truth) > 0.99
    np.testing.assert_allclose(dist.compute(), d0, rtol=1e-5)


def test_rerank_runs_where_the_rounding_noise_is_large(client, tile_rows):
    # Two clusters at +-100 (the knn-precision benchmark's case): centring cannot
    # help, the float64 re-rank must run; the single machine gets every neighbour.
    from skusl.distributed import _exact as dist_exact

    rng = np.random.RandomState(0)
    X = rng.rand(800, 16)
    X[:400] += 100
    X[400:] -= 100
    X = X.astype(np.float32)
    truth = single_kneighbors(X.astype(np.float64), 6, neighbors="exact")[1]
    single = single_kneighbors(X, 6, neighbors="exact", backend="numpy")[1]
    assert np.array_equal(single, truth)
    calls = []
    rerank = dist_exact._exact._rerank

    def counting_rerank(*args):
        calls.append(1)
        return rerank(*args)

    dist_exact._exact._rerank = counting_rerank
    try:
        _, ind = distributed.kneighbors(_dask(X, 200), 6, neighbors="exact", backend="numpy")
        ind = ind.compute()
    finally:
        dist_exact._exact._rerank = rerank
    assert calls  # the guard ran (in-process workers)
    assert np.array_equal(ind, single)


def test_query_against_a_dask_array(client, blobs):
    from skusl.distributed._exact import nearest_rows, query_topk

    X = blobs[0]
    Q = X[:9] + 0.5
    d0, i0 = query_kneighbors(Q, X, 4)
    d, i = query_topk(Q, _dask(X, 300), 4)
    assert np.array_equal(i, i0) and np.array_equal(d, d0)
    d0, i0 = query_kneighbors(X, Q, 2)
    d, i = nearest_rows(_dask(X, 300), Q, 2)
    assert np.array_equal(i.compute(), i0) and np.array_equal(d.compute(), d0)


def test_approximate_graph_recall_and_determinism(client, blobs):
    X = blobs[0]
    _, truth = single_kneighbors(X, 10, neighbors="exact")
    params = dict(neighbors="approximate", random_state=0, cell_size=150, n_probe=3)
    dist, ind = distributed.kneighbors(_dask(X, 300), 10, **params)
    dist, ind = dist.compute(), ind.compute()
    recall = np.mean([np.intersect1d(a, b).size for a, b in zip(ind, truth, strict=True)]) / 10
    assert recall > 0.9
    assert (np.diff(dist, axis=1) >= 0).all()
    assert not (ind == np.arange(X.shape[0])[:, None]).any()
    assert all(np.unique(row).size == 10 for row in ind)
    # Same seed, same graph, whatever the row blocks (here more blocks than cells).
    d2, i2 = distributed.kneighbors(_dask(X, 100), 10, **params)
    assert np.array_equal(i2.compute(), ind) and np.array_equal(d2.compute(), dist)
    # The distances are true distances of the listed pairs.
    direct = np.sqrt(((X[:, None, :] - X[ind]) ** 2).sum(-1, dtype=np.float64))
    np.testing.assert_allclose(dist, direct, rtol=1e-4, atol=1e-4)


def test_approximate_fills_rows_of_tiny_cells_exactly(client):
    # Three isolated pairs: their cells hold fewer than k+1 rows.
    rng = np.random.RandomState(0)
    X = np.vstack([rng.randn(300, 3), [[50, 50, 50], [50.1, 50, 50]]]).astype(np.float32)
    _, truth = single_kneighbors(X, 6, neighbors="exact")
    _, ind = distributed.kneighbors(_dask(X, 101), 6, neighbors="approximate",
                                    random_state=0, cell_size=20, n_probe=1)
    ind = ind.compute()
    assert (ind >= 0).all()
    assert np.array_equal(np.sort(ind[-2:], axis=1), np.sort(truth[-2:], axis=1))


# -------------------------------------------------------------------- K-Means

def test_kmeans_single_is_the_single_machine_partition(client, blobs):
    X = blobs[0]
    labels, centers = distributed.fit_kmeans(_dask(X, 300), 12, 7, method="single")
    l0, c0 = single_kmeans(X, 12, 7)
    assert np.array_equal(labels.compute(), l0) and np.array_equal(centers, c0)


def test_kmeans_lloyd_on_the_cluster(client, blobs):
    from sklearn.cluster import KMeans

    X = blobs[0]
    labels, centers, n_iter, inertia = distributed.fit_kmeans_lloyd(_dask(X, 300), 12, 0)
    labels = labels.compute()
    d = ((X[:, None, :].astype(np.float64) - centers[None]) ** 2).sum(-1)
    assert np.array_equal(labels, d.argmin(axis=1))  # a fixed point: nearest centres
    np.testing.assert_allclose(inertia, d.min(axis=1).sum(), rtol=1e-5)
    sk = KMeans(12, n_init=1, random_state=0).fit(X).inertia_
    assert inertia <= 1.05 * sk
    again = distributed.fit_kmeans_lloyd(_dask(X, 300), 12, 0)
    assert np.array_equal(again[0].compute(), labels) and 1 <= n_iter <= 100


# ------------------------------------------------------------------ selection

USL_CASES = [
    {},
    {"utility": "two_hop"},
    {"reg_horizon": 3},
    {"n_clusters": 40},
    {"n_clusters": 8},
    {"normalize": False},
    {"reg_weight": 0.0},
    {"reg_alpha": 0.7, "reg_momentum": 0.5, "reg_iter": 4},
]


@pytest.mark.parametrize("params", USL_CASES)
def test_usl_same_seed_same_selection(client, blobs, params, monkeypatch):
    from skusl.distributed import _exact as dist_exact

    monkeypatch.setattr(dist_exact, "COLUMN_TILE_ROWS", 700)  # several tiles per row
    X = blobs[0]
    single = USLSelector(n_select=20, neighbors="exact", random_state=3, **params).fit(X)
    fitted = distributed.fit_usl(_dask(X, 300), 20, random_state=3, **params)
    assert np.array_equal(fitted["selected_indices_"], single.selected_indices_)
    assert np.array_equal(fitted["labels_"], single.labels_)
    assert np.array_equal(fitted["utility_"], single.utility_)
    # The regulariser sums inner products computed by BLAS on blocks of other
    # shapes than the single machine's; some BLAS builds (numpy 1.24's) round
    # those differently in the last float32 bits. The selection above is
    # exact; the regulariser agrees to rounding.
    np.testing.assert_allclose(fitted["regularizer_"], single.regularizer_, rtol=1e-5)
    assert (fitted["knn_graph_"] != single.knn_graph_).nnz == 0
    np.testing.assert_array_equal(fitted["prototypes_"], single.prototypes_)


def test_usl_on_shared_text_embeddings(client, rt_small):
    X = rt_small[0][:1000]
    single = USLSelector(n_select=15, neighbors="exact", random_state=0).fit(X)
    fitted = distributed.fit_usl(_dask(X, 256), 15, random_state=0)
    assert np.array_equal(fitted["selected_indices_"], single.selected_indices_)


def test_usl_with_the_approximate_graph_and_lloyd(client, blobs):
    X, y = blobs
    fitted = distributed.fit_usl(_dask(X, 300), 12, neighbors="approximate",
                                 kmeans="lloyd", random_state=0,
                                 approximate_params={"cell_size": 200})
    sel = fitted["selected_indices_"]
    assert np.unique(sel).size == 12
    assert np.unique(y[sel]).size >= 10  # 12 well-separated blobs


def test_baselines_same_seed_same_selection(client, blobs):
    X = blobs[0]
    Xd = _dask(X, 300)
    r = distributed.fit_random(Xd, 9, random_state=4)
    assert np.array_equal(r["selected_indices_"],
                          RandomSelector(n_select=9, random_state=4).fit(X).selected_indices_)
    kc = distributed.fit_kmeans_closest(Xd, 9, random_state=4)
    single = KMeansClosestSelector(n_select=9, random_state=4).fit(X)
    assert np.array_equal(kc["selected_indices_"], single.selected_indices_)
    tc = distributed.fit_typiclust(Xd, 9, n_neighbors=8, random_state=4)
    single = TypiClustSelector(n_select=9, n_neighbors=8, neighbors="exact",
                               random_state=4).fit(X)
    assert np.array_equal(tc["selected_indices_"], single.selected_indices_)
    assert np.array_equal(tc["typicality_"], single.typicality_)


def test_fit_selector_sets_the_fitted_attributes(client, blobs):
    X = blobs[0]
    est = distributed.fit_selector(USLSelector(n_select=6, random_state=0), _dask(X, 400))
    single = USLSelector(n_select=6, random_state=0).fit(X)
    assert np.array_equal(est.selected_indices_, single.selected_indices_)
    assert est.n_features_in_ == 16 and est.n_samples_fit_ == X.shape[0]
    assert np.array_equal(est.get_support(indices=True), single.selected_indices_)
    np.testing.assert_allclose(est.transform(X[:5]), single.transform(X[:5]))


def test_estimators_accept_a_dask_array(client, blobs):
    """The hooks: ``fit`` and ``kneighbors_graph`` send a dask array to the cluster."""
    from skusl import KCenterGreedySelector

    X = blobs[0]
    Xd = _dask(X, 300)
    for est in (USLSelector(n_select=7, random_state=2),
                TypiClustSelector(n_select=7, n_neighbors=6, random_state=2),
                KMeansClosestSelector(n_select=7, random_state=2)):
        on_cluster = est.fit(Xd).selected_indices_.copy()
        assert isinstance(on_cluster, np.ndarray)
        assert np.array_equal(on_cluster, est.fit(X).selected_indices_), type(est).__name__
    assert (single_graph(Xd, 6) != single_graph(X, 6)).nnz == 0
    with pytest.raises(ValueError, match="has no distributed path"):
        KCenterGreedySelector(n_select=3).fit(Xd)
    with pytest.raises(ValueError, match="n_select"):  # parameters validated first
        USLSelector(n_select=0).fit(Xd)


def test_propagation_on_the_returned_graph(client, blobs):
    from skusl.labeling import HDLLabeler

    X, y = blobs
    fitted = distributed.fit_usl(_dask(X, 300), 24, n_neighbors=5, random_state=0)
    partial = np.full(X.shape[0], -1)
    partial[fitted["selected_indices_"]] = y[fitted["selected_indices_"]]
    on_cluster = HDLLabeler(n_neighbors=5, metric="precomputed").fit(
        fitted["knn_graph_"], partial)
    single = HDLLabeler(n_neighbors=5, metric="precomputed").fit(
        single_graph(X / np.linalg.norm(X, axis=1, keepdims=True), 5), partial)
    assert np.array_equal(on_cluster.transduction_, single.transduction_)


def test_worker_processes(blobs):
    # Real clusters run tasks in other processes: everything must pickle.
    from dask.distributed import Client, LocalCluster

    X = blobs[0][:500]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster):
        fitted = distributed.fit_usl(_dask(X, 130), 8, reg_iter=3, random_state=1)
    single = USLSelector(n_select=8, reg_iter=3, neighbors="exact", random_state=1).fit(X)
    assert np.array_equal(fitted["selected_indices_"], single.selected_indices_)


# ---------------------------------------------------------------- bad input

def test_bad_input_names_the_fix(client, blobs):
    from sklearn.neighbors import KNeighborsTransformer

    X = blobs[0].copy()
    X[[5, 700]] = np.nan
    with pytest.raises(ValueError, match=r"NaN or infinity in row\(s\) 5, 700"):
        distributed.kneighbors(_dask(X, 300), 3)
    with pytest.raises(ValueError, match="must be a dask array"):
        distributed.fit_usl(blobs[0], 3)
    with pytest.raises(ValueError, match="2-D"):
        distributed.kneighbors(da.zeros((4, 3, 2)), 3)
    with pytest.raises(ValueError, match="Complex"):
        distributed.kneighbors(da.zeros((4, 3), dtype=complex), 2)
    with pytest.raises(ValueError, match="n_select=2000 exceeds n_samples=1200"):
        distributed.fit_usl(_dask(blobs[0], 300), 2000)
    with pytest.raises(ValueError, match="n_neighbors=1200 must be smaller"):
        distributed.kneighbors(_dask(blobs[0], 300), 1200)
    with pytest.raises(ValueError, match="kNN estimator cannot run on the cluster"):
        distributed.fit_selector(USLSelector(neighbors=KNeighborsTransformer()),
                                 _dask(blobs[0], 300))
    with pytest.raises(ValueError, match="'ivf' is the single-machine cell search"):
        distributed.fit_selector(USLSelector(neighbors="ivf"), _dask(blobs[0], 300))
    from skusl.neighbors import NEIGHBORS_METHODS

    assert distributed.NEIGHBORS_METHODS == tuple(m for m in NEIGHBORS_METHODS if m != "ivf")
    with pytest.raises(ValueError, match="KCenterGreedySelector has no distributed path"):
        from skusl import KCenterGreedySelector

        distributed.fit_selector(KCenterGreedySelector(), _dask(blobs[0], 300))
    with pytest.raises(ValueError, match="workers' CPUs"):
        distributed.kneighbors(_dask(blobs[0], 300), 3, backend="cupy")


def test_auto_picks_exact_below_the_work_threshold():
    from skusl.distributed import _method

    assert _method("auto", da.zeros((70_000, 200), chunks=10_000)) == "exact"
    assert _method("auto", da.zeros((100_000, 200), chunks=10_000)) == "approximate"
    assert _method("exact", da.zeros((100_000, 200), chunks=10_000)) == "exact"


def test_integer_and_float16_input_follow_the_single_machine_dtypes(client):
    Xi = np.random.RandomState(0).randint(0, 9, size=(80, 4))
    G = distributed.kneighbors_graph(_dask(Xi, 30), 3)
    assert G.dtype == np.float64
    Xh = Xi.astype(np.float16)
    dist, _ = distributed.kneighbors(_dask(Xh, 30), 3)
    assert dist.dtype == np.float32


def test_import_does_not_load_dask():
    code = ("import sys, skusl, skusl.distributed, skusl.selection; "
            "print(any(m == 'dask' or m.startswith('dask.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
