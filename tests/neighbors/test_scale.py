"""Scale work (issue 13): tiled exact search, the approximate search, the planner."""

import sys

import numpy as np
import pytest

from skusl.neighbors import _exact


def _data(n=1500, d=16, seed=0, dtype=np.float32):
    # Small whole numbers: every product and sum is exact in float32, so any
    # GEMM shape gives the same bits and ties are true ties (many of them).
    X = np.random.default_rng(seed).integers(0, 3, (n, d)).astype(dtype)
    X[7] = X[3]  # an exact duplicate: a zero distance and ties by index
    X[11] = X[3]
    return X


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_tiled_exact_search_matches_one_full_row_block(backend, dtype, monkeypatch):
    """Column tiles (running top-k) give the result of one (rows, n) block per row block."""
    X = _data(dtype=dtype)
    full_d, full_i = _exact.exact_kneighbors(X, X, 12, backend="numpy", exclude_self=True,
                                             tile_cols=None, block_bytes=1 << 40)
    # Tiles that do not divide n, rows per block that split the diagonal
    monkeypatch.setattr(_exact, "TILE_ROWS", 2000)
    d, i = _exact.exact_kneighbors(X, X, 12, backend=backend, exclude_self=True,
                                   tile_cols=1700)
    np.testing.assert_array_equal(i, full_i)
    np.testing.assert_array_equal(d, full_d)
    monkeypatch.setattr(_exact, "TILE_ROWS", 257)
    d, i = _exact.exact_kneighbors(X, X, 12, backend=backend, exclude_self=True,
                                   tile_cols=300)
    np.testing.assert_array_equal(i, full_i)
    np.testing.assert_array_equal(d, full_d)
    assert (i != np.arange(len(X))[:, None]).all()  # self excluded across tile borders
    assert i[3, 0] == 7 and i[3, 1] == 11 and d[3, 0] == 0  # ties by the smaller index
    ties = np.diff(d, axis=1) == 0
    assert ties.mean() > 0.5 and (np.diff(i, axis=1)[ties] > 0).all()


def test_tiled_backends_agree_bit_for_bit(monkeypatch):
    monkeypatch.setattr(_exact, "TILE_ROWS", 333)
    X = _data(d=40)
    Q = np.random.default_rng(1).standard_normal((200, 40)).astype(np.float32)
    out = [_exact.exact_kneighbors(Q, X, 9, backend=b, exclude_self=False, tile_cols=512)
           for b in ("numpy", "numba")]
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


# ------------------------------------------------------------------ ivf search
def _blobs(n=6000, d=16, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((30, d)) * 3
    return (centers[rng.integers(0, 30, n)] + rng.standard_normal((n, d))).astype(np.float32)


def test_ivf_search_recall_and_format():
    from skusl.neighbors._cells import cell_kneighbors

    X = _blobs()
    info = {}
    d, i = cell_kneighbors(X, 10, n_probe=2, cell_size=300, random_state=0,
                           target_recall=0.95, info=info)
    exact_d, exact_i = _exact.exact_kneighbors(X, X, 10, backend="numba", exclude_self=True)
    recall = np.mean([np.intersect1d(a, b).size / 10 for a, b in zip(i, exact_i, strict=True)])
    assert recall >= 0.95 and info["recall"] >= 0.95
    assert info["n_cells"] == 20 and info["n_probe"] >= 2
    assert (i != np.arange(len(X))[:, None]).all() and (i >= 0).all()
    assert (np.diff(d, axis=1) >= 0).all()
    np.testing.assert_allclose(d, np.linalg.norm(X[i] - X[:, None], axis=2), rtol=1e-4,
                               atol=1e-4)
    d2, i2 = cell_kneighbors(X, 10, n_probe=2, cell_size=300, random_state=0,
                             target_recall=0.95)
    np.testing.assert_array_equal(i, i2)  # same seed, same graph


def test_ivf_recall_prediction_is_the_sample_recall():
    """The recall predicted from home cells is what the search then finds on the sample."""
    from skusl.neighbors import _cells

    X = np.random.default_rng(1).standard_normal((4000, 24)).astype(np.float32)  # hard
    info = {}
    _, i = _cells.cell_kneighbors(X, 8, n_probe=1, cell_size=200, random_state=3,
                                  target_recall=0.999, max_probe=2, info=info)
    assert info["n_probe"] == 2 and info["recall"] < 0.999
    rng = np.random.RandomState(3)  # replay the function's draws to find its sample
    n_cells = 20
    rng.choice(4000, 40 * n_cells, replace=False)
    rng.randint(np.iinfo(np.int32).max)
    check = np.sort(rng.choice(4000, _cells.RECALL_SAMPLE, replace=False))
    _, exact_i = _exact.exact_kneighbors(X[check], X, 9, backend="numba", exclude_self=False)
    truth = [t[t != r][:8] for t, r in zip(exact_i, check, strict=True)]
    found = np.mean([np.intersect1d(a, t).size / 8 for a, t in zip(i[check], truth, strict=True)])
    assert found == pytest.approx(info["recall"])
    assert _cells.cell_kneighbors(X, 8, n_probe=1, cell_size=200, random_state=3,
                                  target_recall=0.999, max_probe=2,
                                  search_below_target=False) is None


def test_kneighbors_ivf_method_and_warning():
    from skusl.neighbors import _graph, kneighbors

    X = np.random.default_rng(1).standard_normal((3000, 24)).astype(np.float32)
    d, i = kneighbors(X, 8, neighbors="ivf", random_state=0)  # 3 cells: all probed
    _, exact_i = kneighbors(X, 8, neighbors="exact")
    np.testing.assert_array_equal(i, exact_i)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_graph, "IVF_TARGET_RECALL", 1.01)  # unreachable
        with pytest.warns(UserWarning, match="recall"):
            d, i = kneighbors(X, 8, neighbors="ivf", random_state=0)
    assert d.shape == (3000, 8)


# ------------------------------------------------------------------ cost model
def test_plan_neighbors_boundaries(monkeypatch):
    import sys

    from skusl.neighbors import _plan
    from skusl.neighbors import _cells

    # a fresh process: pynndescent not compiled yet (an earlier test in this
    # process may have used it, which drops its compile cost from the plan)
    monkeypatch.delitem(sys.modules, "pynndescent", raising=False)
    rate = _plan.REFERENCE_RATE
    assert _plan.plan_neighbors(1000, 128, 20, rate=rate, cores=2).method == "exact"
    # below IVF_MIN_CELLS cells ivf is no candidate, and pynndescent's compile
    # cost keeps the exact search up to tens of thousands of rows
    n_small = _plan.IVF_MIN_CELLS * _cells.CELL_SIZE - 1
    assert _plan.plan_neighbors(n_small, 128, 20, rate=rate, cores=2).method == "exact"
    big = _plan.plan_neighbors(1_000_000, 128, 20, rate=rate, cores=2)
    assert big.method == "ivf" and big.seconds["exact"] > 50 * big.seconds["ivf"]
    # k as large as a cell: exact, whatever n
    assert _plan.plan_neighbors(1_000_000, 128, _cells.CELL_SIZE, rate=rate).method == "exact"
    # memory: a search that does not fit is not chosen
    tight = big.memory_bytes["ivf"] - 1
    assert _plan.plan_neighbors(1_000_000, 128, 20, rate=rate, cores=2,
                                available=tight).method != "ivf"
    # the compile cost counts until pynndescent has run in this process
    before = _plan.neighbors_seconds(200_000, 128, 20, rate=rate)["approximate"]
    fake = type(sys)("pynndescent")
    fake._skusl_used = True
    monkeypatch.setitem(sys.modules, "pynndescent", fake)
    after = _plan.neighbors_seconds(200_000, 128, 20, rate=rate)["approximate"]
    assert before - after == pytest.approx(_plan.NND_COMPILE_S)
    # the rates scale every path alike: the choice does not depend on load
    slow = _plan.plan_neighbors(1_000_000, 128, 20, rate=rate / 10, cores=2)
    assert slow.method == big.method


def test_auto_recosts_ivf_once_the_probes_are_known(monkeypatch):
    """16 probes at 1M x 128 cost more than pynndescent (measured 124 s vs 64 s): declined."""
    from skusl.neighbors import _graph, _plan

    monkeypatch.delitem(sys.modules, "pynndescent", raising=False)
    monkeypatch.setattr(_plan, "gemm_rate", lambda: _plan.REFERENCE_RATE)
    monkeypatch.setattr(_plan, "_n_cores", lambda: 2)
    accept = _graph._ivf_still_faster(1_000_000, 128, 20, verbose=False)
    assert accept(4, 0.97, 1000) and not accept(16, 0.97, 1000)
    # the estimates at 16 probes are those measured, within 25%
    assert _plan.ivf_remaining_seconds(1_000_000, 128, 16) == pytest.approx(124, rel=0.25)
    assert _plan.ivf_remaining_seconds(1_000_000, 384, 16) == pytest.approx(239, rel=0.25)
    nnd = _plan.neighbors_seconds(1_000_000, 384, 20)["approximate"]
    assert nnd == pytest.approx(135, rel=0.25)


@pytest.mark.parametrize("declined", [False, True])
def test_auto_falls_back_when_ivf_is_declined(monkeypatch, declined):
    from skusl.neighbors import _graph, _plan, kneighbors

    X = np.random.default_rng(2).standard_normal((3000, 24)).astype(np.float32)
    calls = []

    def fake_nndescent(X, k, **kwargs):  # stands in for pynndescent, records the call
        calls.append(k)
        return _exact.exact_kneighbors(X, X, k, backend="numpy", exclude_self=True)

    monkeypatch.setattr(_graph, "_choose_method", lambda *a, **k: "ivf")
    monkeypatch.setattr(_graph, "approximate_kneighbors", fake_nndescent)
    monkeypatch.setattr(_plan, "ivf_remaining_seconds",
                        lambda *a, **k: float("inf") if declined else 0.0)
    _, i = kneighbors(X, 8, neighbors="auto", random_state=0)
    _, exact_i = kneighbors(X, 8, neighbors="exact")
    np.testing.assert_array_equal(i, exact_i)  # 3 cells, all probed: exact either way
    assert calls == ([8] if declined else [])


def test_cell_search_accept_sees_the_probes_and_can_decline():
    from skusl.neighbors._cells import cell_kneighbors

    X = _blobs()
    seen = []
    out = cell_kneighbors(X, 10, n_probe=2, cell_size=300, random_state=0,
                          target_recall=0.95,
                          accept=lambda *args: seen.append(args) or False)
    assert out is None and len(seen) == 1
    n_probe, recall, n_cells = seen[0]
    assert n_cells == 20 and n_probe >= 2 and recall >= 0.95


def test_gemm_rate_is_measured():
    from skusl.neighbors import _plan

    assert 1e8 < _plan.gemm_rate() < 1e14


def test_memory_planner_stops_naming_what_fits():
    from skusl.neighbors import _plan

    plan = _plan.plan_fit(1_000_000, 512, 20, n_clusters=1000, reg_iter=10, rate=5e10)
    assert plan.memory_bytes > 2 * plan.input_bytes  # X and its normalised copy
    _plan.check_memory(plan, available=plan.memory_bytes)  # fits: silent
    with pytest.raises(ValueError, match="smaller n_neighbors.*dask"):
        _plan.check_memory(plan, available=plan.memory_bytes - 1)


def test_cli_prints_the_plan_and_stops_when_it_cannot_fit(tmp_path, monkeypatch, capsys):
    from skusl.neighbors import _plan
    from skusl.cli import main

    X = np.random.default_rng(0).standard_normal((300, 8)).astype(np.float32)
    np.save(tmp_path / "X.npy", X)
    out = tmp_path / "sel.csv"
    assert main(["select", str(tmp_path / "X.npy"), "--budget", "5", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    # The default (k-means closest) builds no kNN graph, and plans none.
    assert "plan: peak memory" in err and "no kNN graph" in err
    assert main(["select", str(tmp_path / "X.npy"), "--budget", "5", "--method", "usl",
                 "--out", str(out)]) == 0
    assert "kNN graph: exact" in capsys.readouterr().err
    monkeypatch.setattr(_plan, "available_memory", lambda: 1000)
    assert main(["select", str(tmp_path / "X.npy"), "--budget", "5", "--method", "usl",
                 "--out", str(tmp_path / "b.csv"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "GiB are available" in err and "--k" in err and "Dask" in err
    assert not (tmp_path / "b.csv").exists()
    assert main(["select", str(tmp_path / "X.npy"), "--budget", "5", "--out",
                 str(tmp_path / "b.csv"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "GiB are available" in err and "--k" not in err and "Dask" in err


def test_pynndescent_logs_only_at_verbose_2(monkeypatch):
    import pynndescent

    from skusl.neighbors import _approximate

    seen = []

    class Fake:
        def __init__(self, X, n_neighbors, verbose, **kw):
            seen.append(verbose)
            ind = np.array([[(i + j) % len(X) for j in range(n_neighbors)]
                            for i in range(len(X))])
            self.neighbor_graph = (ind, np.tile(np.arange(n_neighbors, dtype=float),
                                                (len(X), 1)))

    monkeypatch.setattr(pynndescent, "NNDescent", Fake)
    X = np.zeros((10, 2))
    for verbose in (0, 1, 2):
        _approximate.approximate_kneighbors(X, 3, verbose=verbose)
    assert seen == [False, False, True]


# --------------------------------------------------------------------- K-Means
def test_sampled_kmeans_assigns_every_row_and_stays_close():
    from sklearn.cluster import KMeans

    from skusl.neighbors._kmeans import _fit, fit_kmeans

    X = _blobs(n=5000, d=8)
    labels, centers = fit_kmeans(X, 30, 0, sample_size=1000)
    d2 = ((X[:, None, :] - centers[None]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(labels, d2.argmin(axis=1))  # every row to its nearest
    full = KMeans(30, n_init=1, random_state=0).fit(X)
    assert d2.min(axis=1).sum() <= 1.1 * full.inertia_
    # at or below the sample size: the unsampled fit, unchanged
    small = fit_kmeans(X[:900], 30, 0, sample_size=1000)
    ref = _fit(X[:900], 30, 0)
    np.testing.assert_array_equal(small[0], ref[0])


# ---------------------------------------------------------------- memory maps
def test_memory_mapped_input_is_not_copied(tmp_path, monkeypatch):
    import tracemalloc

    from skusl import USLSelector
    from skusl.io import load_embeddings

    from skusl.neighbors import _kmeans

    monkeypatch.setattr(_exact, "TILE_ROWS", 128)  # a 1 MiB tile, not 16 MiB
    monkeypatch.setattr(_exact, "RERANK_CHUNK_BYTES", 1 << 19)  # the re-rank's chunks
    # K-Means copies what it fits (scikit-learn): here the sampled path's sample
    monkeypatch.setattr(_kmeans, "SAMPLE_SIZE", 600)
    X = np.random.default_rng(0).standard_normal((8000, 1024)).astype(np.float32)
    np.save(tmp_path / "X.npy", X)
    Xm = load_embeddings(tmp_path / "X.npy")
    assert isinstance(Xm, np.memmap)
    sel = USLSelector(n_select=10, normalize=False, neighbors="exact", random_state=0)
    sel.fit(Xm[:100])  # warm up (compiled kernels, imports)
    tracemalloc.start()
    sel.fit(Xm)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < X.nbytes  # a copy of X (33 MB) alone would reach it


def test_unit_norm_memory_map_stays_mapped_with_normalize(tmp_path):
    # The default normalize=True: unit-norm rows (embeddings usually are) are
    # not copied; rows that are not unit-norm still are normalised.
    from skusl._validation import normalize_rows
    from skusl.io import load_embeddings

    X = np.random.default_rng(1).standard_normal((500, 64)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    np.save(tmp_path / "X.npy", X)
    Xm = load_embeddings(tmp_path / "X.npy")
    assert normalize_rows(Xm) is Xm
    scaled = 2 * X
    Z = normalize_rows(scaled)
    assert Z is not scaled
    np.testing.assert_allclose(np.linalg.norm(Z, axis=1), 1, rtol=1e-6)
    almost = X.copy()
    almost[7] *= 1.001  # one row off: the whole matrix is normalised
    assert normalize_rows(almost) is not almost
