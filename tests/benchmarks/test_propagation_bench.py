"""The propagation benchmark: the peers' graph, the cache, the report (tiny data)."""

import numpy as np
import pytest
from sklearn.semi_supervised import LabelPropagation, LabelSpreading

from skusl.benchmarks import _propagation as bench
from skusl.neighbors import kneighbors_graph


def blobs(n=150, seed=0):
    rng = np.random.RandomState(seed)
    y = rng.randint(3, size=n)
    X = rng.normal(size=(n, 5)) + 2.5 * np.eye(5)[y]
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X.astype(np.float32), y


def test_sklearn_kernel_is_their_knn_kernel_on_our_graph():
    X, y = blobs()
    part = np.where(np.random.RandomState(1).rand(y.size) < 0.1, y, -1)
    graph = kneighbors_graph(X, 20)
    for cls in (LabelSpreading, LabelPropagation):
        for k in (3, 10):
            theirs = cls(kernel="knn", n_neighbors=k + 1).fit(X, part)
            ours = cls(kernel=bench.sklearn_knn_kernel(graph, k)).fit(X, part)
            np.testing.assert_array_equal(ours.transduction_, theirs.transduction_)
            np.testing.assert_allclose(ours.label_distributions_,
                                       theirs.label_distributions_)


def test_random_labels_per_class():
    _, y = blobs()
    picks = bench.random_labels(y, 4, seed=0)
    assert np.bincount(y[picks]).tolist() == [4, 4, 4]
    np.testing.assert_array_equal(picks, bench.random_labels(y, 4, seed=0))


def test_run_resumes_and_reports(tmp_path, monkeypatch):
    X, y = blobs()
    data = tmp_path / "data"
    data.mkdir()
    np.savez(data / "tiny.npz", X=X, y=y)
    monkeypatch.setattr(bench, "SWEEP_KS", (3, 4))
    kw = dict(datasets=["tiny"], selector="usl", ks=[3], lpcs=[1, 2], seeds=[0],
              progress=False)
    recs, meta = bench.run_propagation(data, tmp_path / "cache", **kw)
    # 2 selections x 2 budgets: rounds/hdl/kNN-DV/LS at k=3, rounds at 4, rounds auto,
    # hdl auto; LabelPropagation on the random labels only
    assert len(recs) == 2 * 2 * 7 + 2
    assert all(0 <= r["acc"] <= 1 and r["time_s"] >= 0 for r in recs)
    lines = (tmp_path / "cache" / "tiny.jsonl").read_text().splitlines()
    again, _ = bench.run_propagation(data, tmp_path / "cache", **kw)
    assert (tmp_path / "cache" / "tiny.jsonl").read_text().splitlines() == lines
    assert sorted(r["acc"] for r in again) == sorted(r["acc"] for r in recs)
    from skusl.benchmarks._propagation_report import write_report

    out = write_report(recs, meta, tmp_path / "p.md")
    text = open(out).read()
    assert "## Done-means check, random labels" in text and "LabelSpreading" in text


@pytest.mark.slow  # three fresh Python processes
def test_scale_run_small(tmp_path):
    from skusl.benchmarks._propagation_scale import run_scale

    res = run_scale(tmp_path, n=3000)
    assert set(res["runs"]) == {"rounds", "hdl", "label_spreading"}
    for run in res["runs"].values():
        assert run["time_s"] > 0 and run["rss_mb"] >= 0 and 0 <= run["acc"] <= 1
    assert run_scale(tmp_path, n=3000) == res  # cached
