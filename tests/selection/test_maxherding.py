"""MaxHerdingSelector: the paper's objective, scikit-activeml's MaxHerding, the coreset."""

import tracemalloc

import numpy as np
import pytest
from sklearn.base import clone

from skusl.selection import MaxHerdingSelector
from skusl.selection._maxherding import kernel_herding_greedy, micro_cluster_coreset


def literal_maxherding(X, m, gamma, labeled=()):
    """Greedy max of sum_i max_{s in S} exp(-gamma |x_i - x_s|^2), loop by loop."""
    n = len(X)
    Z = X / np.linalg.norm(X, axis=1, keepdims=True)
    K = np.array([[np.exp(-gamma * np.sum((Z[i] - Z[j]) ** 2)) for j in range(n)]
                  for i in range(n)])
    S = list(labeled)
    new = []
    for _ in range(m):
        def f(T):
            return sum(max(K[i, s] for s in T) for i in range(n)) if T else 0.0
        base = f(S)
        gains = [f(S + [c]) - base if c not in S else -np.inf for c in range(n)]
        best = int(np.argmax(gains))
        S.append(best)
        new.append(best)
    return new


def _blobs(n_per=30, seed=0, d=4, k=4):
    rng = np.random.RandomState(seed)
    centres = np.eye(d)[:k] * 3 + 1
    X = np.vstack([c + 0.4 * rng.randn(n_per, d) for c in centres])
    return X, np.repeat(np.arange(k), n_per)


@pytest.mark.parametrize("gamma", ["features", 2.0, 10.0])
def test_exact_objective_matches_literal(gamma):
    X, _ = _blobs(n_per=10)
    sel = MaxHerdingSelector(n_select=5, gamma=gamma, random_state=0).fit(X)
    g = 1.0 / X.shape[1] if gamma == "features" else gamma
    assert sel.gamma_ == pytest.approx(g)
    assert sel.selected_indices_.tolist() == literal_maxherding(X, 5, g)
    warm = MaxHerdingSelector(n_select=3, gamma=gamma, random_state=0).fit(X, labeled=[0, 25])
    assert warm.selected_indices_.tolist() == literal_maxherding(X, 3, g, labeled=[0, 25])


def test_matches_scikit_activeml_maxherding():
    pool = pytest.importorskip("skactiveml.pool")
    X, _ = _blobs(n_per=25, d=6)
    ours = MaxHerdingSelector(n_select=8, random_state=0).fit(X).selected_indices_
    theirs = pool.MaxHerding(random_state=0).query(X, np.full(len(X), np.nan), batch_size=8)
    np.testing.assert_array_equal(ours, theirs)


def test_coreset_keeps_the_objective_and_covers_every_blob():
    X, y = _blobs(n_per=400, d=8, k=8, seed=1)
    exact = MaxHerdingSelector(n_select=8, n_coreset=len(X), gamma=2.0, random_state=0).fit(X)
    core = MaxHerdingSelector(n_select=8, n_coreset=150, gamma=2.0, random_state=0).fit(X)
    assert core.coreset_size_ <= 150 and exact.coreset_size_ == len(X)

    def coverage(sel):  # the exact objective of a selection, on all samples
        Z = X / np.linalg.norm(X, axis=1, keepdims=True)
        d2 = ((Z[:, None, :] - Z[None, sel, :]) ** 2).sum(-1)
        return np.exp(-2.0 * d2).max(axis=1).mean()

    assert coverage(core.selected_indices_) >= 0.97 * coverage(exact.selected_indices_)
    assert set(y[core.selected_indices_]) == set(range(8))


def test_coreset_weights_and_members():
    X, _ = _blobs(n_per=50)
    centres, weights, members = micro_cluster_coreset(X, 20, np.random.RandomState(0))
    assert weights.sum() == len(X) and centres.shape == (weights.size, X.shape[1])
    np.testing.assert_allclose(centres[3], X[members == 3].mean(axis=0))


def test_greedy_gains_are_exact_and_forbidden_columns_skipped():
    K = np.array([[1.0, 0.2, 0.9], [0.1, 1.0, 0.0], [0.8, 0.0, 1.0]])
    picks, cur = kernel_herding_greedy(K, np.ones(3), 2)
    assert picks.tolist() == [0, 1]  # gains 1.9 / 1.2 / 1.9 -> ties to the smaller column
    np.testing.assert_allclose(cur, [1.0, 1.0, 0.8])
    picks, _ = kernel_herding_greedy(K, np.ones(3), 1, forbidden=[0])
    assert picks.tolist() == [2]


def test_no_dense_n_by_n_matrix():
    X = np.random.RandomState(0).rand(12000, 16).astype(np.float32)
    tracemalloc.start()
    MaxHerdingSelector(n_select=20, n_coreset=300, random_state=0).fit(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 0.05 * 12000 ** 2 * 8  # a dense float64 kernel would be 1.15 GB


def test_same_seed_same_selection():
    X, _ = _blobs(n_per=200)
    est = MaxHerdingSelector(n_select=6, n_coreset=50)
    a = clone(est).set_params(random_state=1).fit(X).selected_indices_
    b = clone(est).set_params(random_state=1).fit(X).selected_indices_
    np.testing.assert_array_equal(a, b)


def test_knn_bandwidth_from_the_graph():
    X, _ = _blobs(n_per=30)
    sel = MaxHerdingSelector(n_select=4, gamma="knn", n_neighbors=5, random_state=0).fit(X)
    d5 = sel.knn_graph_.toarray()
    kth = np.sort(np.where(d5 > 0, d5, np.inf), axis=1)[:, 4]
    assert sel.gamma_ == pytest.approx(1 / (2 * np.median(kth ** 2)))
