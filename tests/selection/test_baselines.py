"""Baseline selectors: agreement with slow literal restatements of each
algorithm on tiny data (the shared contract is in tests/test_common.py)."""


import numpy as np
import pytest
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.metrics import pairwise_distances

from skusl.neighbors import PrecomputedKNN, kneighbors_graph
from skusl.selection import (KCenterGreedySelector, KMeansClosestSelector, ProbCoverSelector,
                             RandomSelector, TypiClustSelector)
from skusl.selection._probcover import auto_delta_candidates, probcover_delta

# Small instances: the checks use 10-30 samples.
ESTIMATORS = [
    RandomSelector(n_select=2),
    KMeansClosestSelector(n_select=2),
    KCenterGreedySelector(n_select=2),
    TypiClustSelector(n_select=2, n_neighbors=3, min_cluster_size=1),
    ProbCoverSelector(n_select=2, n_neighbors=3, delta=0.5),
    ProbCoverSelector(n_select=2, n_neighbors=3),
]


def _blobs(n_per=15, centres=((0, 0, 1), (0, 1, 0), (1, 0, 0)), scale=0.05, seed=0):
    rng = np.random.RandomState(seed)
    X = np.vstack([np.asarray(c, float) + scale * rng.randn(n_per, len(c)) for c in centres])
    y = np.repeat(np.arange(len(centres)), n_per)
    return X, y


# scikit-learn's checks, same seed same selection and the exact budget run
# for every selector in tests/test_common.py.


@pytest.mark.parametrize("cls", [KMeansClosestSelector, KCenterGreedySelector,
                                 TypiClustSelector, ProbCoverSelector])
def test_blobs_cover_every_cluster(cls):
    X, y = _blobs()
    kw = {} if cls in (KMeansClosestSelector, KCenterGreedySelector) else {"n_neighbors": 5}
    sel = cls(n_select=3, random_state=0, **kw).fit(X)
    assert set(y[sel.selected_indices_]) == {0, 1, 2}


def test_shared_api_from_base():
    X, _ = _blobs()
    sel = TypiClustSelector(n_select=3, n_neighbors=5, random_state=0).fit(X)
    assert sel.get_support().sum() == 3
    D = sel.transform(X)
    assert D.shape == (X.shape[0], 3)
    np.testing.assert_allclose(D[sel.selected_indices_, np.arange(3)], 0, atol=1e-6)


def test_random_is_a_uniform_draw():
    sel = RandomSelector(n_select=4, random_state=7).fit(np.eye(10))
    expected = np.random.RandomState(7).choice(10, 4, replace=False)
    np.testing.assert_array_equal(sel.selected_indices_, expected)


# ---------------------------------------------------------------- literal restatements
def literal_kmeans_closest(X, m, seed):
    rs = np.random.RandomState(seed)
    km_seed = int(rs.randint(np.iinfo(np.int32).max))
    km = KMeans(m, n_init=1, max_iter=100, random_state=km_seed).fit(X)
    sizes = np.bincount(km.labels_, minlength=m)
    out = []
    for c in sorted(range(m), key=lambda c: (-sizes[c], c)):
        d = [np.linalg.norm(X[i] - km.cluster_centers_[c]) for i in range(len(X))]
        for i in sorted(range(len(X)), key=lambda i: (d[i], i)):
            if i not in out:
                out.append(i)
                break
    return out


def test_kmeans_closest_matches_literal():
    X, _ = _blobs(n_per=8)
    for seed in range(3):
        sel = KMeansClosestSelector(n_select=4, normalize=False, random_state=seed).fit(X)
        assert sel.selected_indices_.tolist() == literal_kmeans_closest(X, 4, seed)


def literal_k_center(X, m, seed):
    first = np.random.RandomState(seed).randint(len(X))
    centres = [first]
    while len(centres) < m:
        best, best_d = None, -1.0
        for i in range(len(X)):
            if i in centres:
                continue
            d = min(float(np.sum((X[i] - X[c]) ** 2)) for c in centres)
            if d > best_d + 1e-12:
                best, best_d = i, d
        centres.append(best)
    return centres


def test_k_center_matches_literal():
    X = np.random.RandomState(1).rand(30, 3)
    for seed in range(4):
        sel = KCenterGreedySelector(n_select=6, normalize=False, random_state=seed).fit(X)
        assert sel.selected_indices_.tolist() == literal_k_center(X, 6, seed)
        D = pairwise_distances(X, X[sel.selected_indices_]).min(axis=1)
        assert sel.radius_ == pytest.approx(D.max())


def test_k_center_duplicates_still_distinct():
    X = np.repeat(np.eye(3), 4, axis=0)
    sel = KCenterGreedySelector(n_select=5, random_state=0).fit(X)
    assert np.unique(sel.selected_indices_).size == 5


def literal_typiclust(X, m, k, min_size, seed):
    rs = np.random.RandomState(seed)
    _, km_seed = rs.randint(np.iinfo(np.int32).max, size=2)
    D = pairwise_distances(X)
    typ = []
    for i in range(len(X)):
        others = sorted((D[i, j], j) for j in range(len(X)) if j != i)[:k]
        typ.append(1.0 / np.mean([d for d, _ in others]))
    labels = KMeans(m, n_init=1, max_iter=100, random_state=int(km_seed)).fit(X).labels_
    sizes = {c: int((labels == c).sum()) for c in range(m)}
    kept = sorted((c for c in range(m) if sizes[c] > min_size), key=lambda c: (-sizes[c], c))
    chosen = []
    i = 0
    while len(chosen) < m:
        c = kept[i % len(kept)]
        members = [j for j in range(len(X)) if labels[j] == c and j not in chosen]
        if members:
            chosen.append(max(members, key=lambda j: (typ[j], -j)))
        i += 1
    return chosen


def test_typiclust_matches_literal():
    X, _ = _blobs(n_per=10, centres=((0, 0, 1), (0, 1, 0), (1, 0, 0), (1, 1, 1)))
    X = np.vstack([X, [[5.0, 5.0, 5.0], [5.1, 5.0, 5.0]]])  # a tiny cluster to drop
    for seed in range(3):
        sel = TypiClustSelector(n_select=5, n_neighbors=4, normalize=False,
                                random_state=seed).fit(X)
        assert sel.selected_indices_.tolist() == literal_typiclust(X, 5, 4, 5, seed)
    # the 2-point cluster is dropped whenever K-Means isolates it
    assert not {40, 41} & set(sel.selected_indices_.tolist()) or \
        np.bincount(sel.labels_)[sel.labels_[40]] > 5


def literal_probcover(X, m, k, delta):
    D = pairwise_distances(X)
    n = len(X)
    balls = []
    for i in range(n):
        nbrs = sorted((D[i, j], j) for j in range(n) if j != i)[:k]
        balls.append({i} | {j for d, j in nbrs if d < delta})
    covered, chosen = set(), []
    for _ in range(m):
        gains = [len(balls[i] - covered) if i not in chosen else -1 for i in range(n)]
        best = int(np.argmax(gains))
        if gains[best] <= 0:
            break
        chosen.append(best)
        covered |= balls[best]
    return chosen, covered


def test_probcover_matches_literal():
    X = np.random.RandomState(2).rand(40, 2)
    for delta in (0.1, 0.2, 0.35):
        sel = ProbCoverSelector(n_select=6, n_neighbors=6, delta=delta, normalize=False,
                                balls="knn", random_state=0).fit(X)
        chosen, covered = literal_probcover(X, 6, 6, delta)
        assert sel.selected_indices_.tolist()[: len(chosen)] == chosen
        assert sel.coverage_ == pytest.approx(len(covered) / len(X))


def literal_probcover_balls(X, m, delta, labeled=()):
    """ProbCover with true delta-balls (every sample closer than delta), loop by loop."""
    D = pairwise_distances(X)
    n = len(X)
    balls = [{j for j in range(n) if D[i, j] < delta} | {i} for i in range(n)]
    covered, chosen = set(), list(labeled)
    for i in labeled:
        covered |= balls[i]
    new = []
    for _ in range(m):
        gains = [len(balls[i] - covered) if i not in chosen else -1 for i in range(n)]
        best = int(np.argmax(gains))
        if gains[best] <= 0:
            break
        chosen.append(best)
        new.append(best)
        covered |= balls[best]
    return new, covered


def test_probcover_true_balls_match_literal():
    X = np.random.RandomState(2).rand(60, 2)
    for delta in (0.1, 0.2, 0.35):
        sel = ProbCoverSelector(n_select=6, n_neighbors=3, delta=delta, normalize=False,
                                random_state=0).fit(X)
        chosen, covered = literal_probcover_balls(X, 6, delta)
        assert sel.selected_indices_.tolist()[: len(chosen)] == chosen
        assert sel.coverage_ == pytest.approx(len(covered) / len(X))
        # with n_neighbors=3 the kNN-restricted balls are smaller: not the same greedy
        knn = ProbCoverSelector(n_select=6, n_neighbors=3, delta=delta, normalize=False,
                                balls="knn", random_state=0).fit(X)
        if delta >= 0.2:
            assert knn.coverage_ < sel.coverage_
    # warm start: labeled balls start covered, the new picks are the literal's
    sel = ProbCoverSelector(n_select=4, delta=0.2, normalize=False, random_state=0)
    sel.fit(X, labeled=[3, 17])
    chosen, _ = literal_probcover_balls(X, 4, 0.2, labeled=[3, 17])
    assert sel.selected_indices_.tolist() == chosen


def test_probcover_edge_budget_raises_before_building():
    X = np.random.RandomState(0).rand(300, 3)
    with pytest.raises(ValueError, match="max_edges"):
        ProbCoverSelector(n_select=3, delta=5.0, max_edges=1000, random_state=0).fit(X)
    sel = ProbCoverSelector(n_select=3, delta=0.05, max_edges=10**6, random_state=0).fit(X)
    assert sel.n_ball_edges_ >= 300


def test_probcover_auto_delta_does_not_collapse_on_a_dense_class():
    # one very dense class and four spread ones: the purity delta is small, its balls
    # in the dense class hold the most points, and its picks pile up there
    rng = np.random.RandomState(0)
    centres = np.eye(5) * 4
    X = np.vstack([centres[0] + 0.02 * rng.randn(400, 5)]
                  + [c + 0.6 * rng.randn(100, 5) for c in centres[1:]])
    y = np.repeat(np.arange(5), [400, 100, 100, 100, 100])
    auto = ProbCoverSelector(n_select=5, normalize=False, random_state=0).fit(X)
    assert len(set(y[auto.selected_indices_])) == 5
    fixed_small = ProbCoverSelector(n_select=5, delta=0.05, normalize=False,
                                    random_state=0).fit(X)
    assert len(set(y[fixed_small.selected_indices_])) == 1


def _unequal_blobs(seed):
    """Six separated blobs of very unequal spread and size (a tight one of 300)."""
    rng = np.random.RandomState(seed)
    centres = np.vstack([np.eye(5) * 6, -np.eye(5)[:1] * 6])
    scales, sizes = [0.02, 0.05, 0.1, 0.3, 0.6, 1.0], [300, 100, 100, 60, 100, 40]
    X = np.vstack([c + s * rng.randn(m, 5) for c, s, m in
                   zip(centres, scales, sizes, strict=True)])
    return X, np.repeat(np.arange(6), sizes)


@pytest.mark.parametrize("seed", [0, 1])
def test_probcover_auto_delta_covers_blobs_of_unequal_density(seed):
    # budget = number of blobs: the last label's gain is largest at a radius that
    # covers the broad blob in one ball and keeps the blobs apart
    X, y = _unequal_blobs(seed)
    auto = ProbCoverSelector(n_select=6, normalize=False, random_state=0).fit(X)
    assert len(set(y[auto.selected_indices_])) == 6
    # the previous rule (median radius of a ball of n / budget samples) and any
    # larger radius merge blobs: fewer covered
    D = np.sort(pairwise_distances(X), axis=1)
    fair = float(np.nextafter(np.median(D[:, int(np.ceil(len(X) / 6))]), np.inf))
    for delta in (fair, 9.0):
        big = ProbCoverSelector(n_select=6, delta=delta, normalize=False,
                                random_state=0).fit(X)
        assert len(set(y[big.selected_indices_])) < 6
    # the search is recorded; the chosen radius is a candidate
    grid = auto.delta_scores_
    assert grid.shape[1] == 2 and np.all(np.diff(grid[:, 0]) > 0)
    assert auto.delta_ in grid[:, 0] and grid[:, 0].max() == pytest.approx(fair)
    # same seed, same result; refitting with the chosen delta reproduces it
    again = ProbCoverSelector(n_select=6, normalize=False, random_state=0).fit(X)
    np.testing.assert_array_equal(again.selected_indices_, auto.selected_indices_)
    fixed = ProbCoverSelector(n_select=6, delta=auto.delta_, normalize=False,
                              random_state=0).fit(X)
    np.testing.assert_array_equal(fixed.selected_indices_, auto.selected_indices_)
    assert fixed.n_ball_edges_ == auto.n_ball_edges_ and fixed.delta_scores_ is None


def test_probcover_auto_delta_knn_balls_and_edge_budget():
    X, y = _unequal_blobs(0)
    knn = ProbCoverSelector(n_select=6, balls="knn", normalize=False, random_state=0).fit(X)
    # kNN balls: candidates stop at the graph's radius
    assert knn.delta_ <= np.nextafter(knn.knn_graph_.data.max(), np.inf)
    assert np.unique(knn.selected_indices_).size == 6
    # candidates whose balls exceed max_edges are skipped, with a warning
    sq_norm = np.einsum("ij,ij->i", X, X)
    deltas, est = auto_delta_candidates(X, sq_norm, 6)
    cap = int(est[deltas.size // 2])
    with pytest.warns(UserWarning, match="skipped"):
        small = ProbCoverSelector(n_select=6, max_edges=cap, normalize=False,
                                  random_state=0).fit(X)
    assert small.delta_ <= deltas[deltas.size // 2]
    with pytest.raises(ValueError, match="max_edges"):
        ProbCoverSelector(n_select=6, max_edges=10, normalize=False, random_state=0).fit(X)


def test_probcover_random_fill_once_all_covered():
    X, _ = _blobs(n_per=5)
    sel = ProbCoverSelector(n_select=8, n_neighbors=6, delta=10.0, random_state=0).fit(X)
    assert sel.coverage_ == 1.0 and np.unique(sel.selected_indices_).size == 8


def literal_purity_delta(X, k, labels, alpha, grid):
    D = pairwise_distances(X)
    n = len(X)
    best = None
    for delta in grid:
        pure = 0
        for i in range(n):
            nbrs = sorted((D[i, j], j) for j in range(n) if j != i)[:k]
            pure += all(labels[j] == labels[i] for d, j in nbrs if d < delta)
        if pure / n >= alpha:
            best = delta
    return best


def test_probcover_purity_delta_matches_grid_search():
    X, _ = _blobs(n_per=12, scale=0.2, seed=4)
    labels = KMeans(3, n_init=1, random_state=0).fit(X).labels_
    G = kneighbors_graph(X, 6)
    from skusl.neighbors import graph_to_arrays

    dist, ind = graph_to_arrays(G)
    for alpha in (0.8, 0.95):
        delta, r = probcover_delta(dist, ind, labels, alpha)
        # the closed form is the grid's supremum: every candidate r (and a
        # hair above the chosen one) agrees with the literal purity test
        grid = np.unique(np.r_[r[np.isfinite(r)], delta + 1e-9])
        lit = literal_purity_delta(X, 6, labels, alpha, grid)
        assert lit == pytest.approx(delta)


def test_probcover_heuristic_warns_when_unreliable():
    X, _ = _blobs(n_per=15, scale=0.01)
    # 3 well-separated blobs, 3 pseudo-clusters: every 5-NN ball is pure up to
    # the graph's radius, so delta is capped by the graph.
    with pytest.warns(UserWarning, match="raise n_neighbors"):
        sel = ProbCoverSelector(n_select=3, n_neighbors=5, delta="purity", balls="knn",
                                random_state=0).fit(X)
    assert np.isfinite(sel.delta_) and sel.purity_ == 1.0
    # true balls: the heuristic is exact (distance to the nearest other pseudo-label)
    exact = ProbCoverSelector(n_select=3, n_neighbors=5, delta="purity",
                              random_state=0).fit(X)
    assert exact.delta_ > sel.delta_ and len(set(exact.labels_)) == 3
    # structureless data cut into many pseudo-clusters: tiny delta
    Xr = np.random.RandomState(0).rand(60, 5)
    with pytest.warns(UserWarning, match="only their centre"):
        ProbCoverSelector(n_select=20, n_neighbors=5, alpha=0.99, delta="purity",
                          random_state=0).fit(Xr)


def test_precomputed_graph_is_reused():
    X, _ = _blobs()
    G = kneighbors_graph(X, 5)
    # ProbCover needs the graph for the purity heuristic (radius balls with
    # delta="auto" or a float do not build it)
    assert ProbCoverSelector(n_select=3, random_state=0).fit(X).knn_graph_ is None
    for cls, params in ((TypiClustSelector, {}), (ProbCoverSelector, {"delta": "purity"})):
        a = cls(n_select=3, n_neighbors=5, normalize=False, random_state=0, **params).fit(X)
        b = cls(n_select=3, n_neighbors=5, neighbors=PrecomputedKNN(G), normalize=False,
                random_state=0, **params).fit(X)
        np.testing.assert_array_equal(a.selected_indices_, b.selected_indices_)
        assert (b.knn_graph_ != G).nnz == 0


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_bad_input_messages(est):
    with pytest.raises(ValueError, match="n_select"):
        clone(est).set_params(n_select=50).fit(np.random.rand(10, 3))
    X = np.random.rand(10, 3)
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clone(est).fit(X)


def test_probcover_cell_radius_search_matches_exact_balls():
    from skusl.selection._balls import (TooManyPairsError, cell_ball_graph,
                                        exact_ball_graph)

    rng = np.random.RandomState(0)
    X = np.vstack([rng.randn(1500, 8) * 0.1 + c for c in rng.randn(4, 8)])
    sq = np.einsum("ij,ij->i", X, X)
    exact = exact_ball_graph(X, sq, 0.25, squared=True)
    info = {}
    cells = cell_ball_graph(X, sq, 0.25, squared=True, random_state=0, info=info)
    pattern = cells.copy()
    pattern.data[:] = 1
    assert (pattern != pattern.T).nnz == 0 and np.all(cells.diagonal() == 0)
    # every pair found is a true pair with its distance; the measured recall is reported
    n = X.shape[0]
    C, E = cells.tocoo(), exact.tocoo()
    assert np.isin(C.row * n + C.col, E.row * n + E.col).all()
    assert np.allclose(np.asarray(exact[C.row, C.col]).ravel(), C.data, atol=1e-12)
    off = cells.nnz - X.shape[0], exact.nnz - X.shape[0]
    assert info["recall"] >= 0.95 and off[0] >= 0.95 * off[1]
    # the guard stops the search as soon as more pairs turn up than allowed
    with pytest.raises(TooManyPairsError):
        cell_ball_graph(X, sq, 0.25, max_pairs=exact.nnz // 4, random_state=0)
    with pytest.raises(TooManyPairsError):
        exact_ball_graph(X, sq, 0.25, max_pairs=exact.nnz // 4)
    # the selector on cells matches the exact one here (recall ~1)
    a = ProbCoverSelector(n_select=8, neighbors="exact", normalize=False,
                          random_state=0).fit(X)
    b = ProbCoverSelector(n_select=8, neighbors="ivf", normalize=False,
                          random_state=0).fit(X)
    assert (a.ball_search_, b.ball_search_) == ("exact", "cells") and a.ball_recall_ == 1.0
    assert b.ball_recall_ >= 0.95 and abs(a.coverage_ - b.coverage_) < 0.02
    # an estimate that is too low: the search stops and a smaller radius is tried
    with pytest.raises(ValueError, match="max_edges"):
        ProbCoverSelector(n_select=3, delta=0.25, max_edges=X.shape[0] + 10,
                          normalize=False, random_state=0).fit(X)
