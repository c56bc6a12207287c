"""USLSelector: the paper's equations, the API contract, bad input."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skusl import USLSelector
from skusl.metrics import class_coverage


def reference_usl(X, labels, n_select, k, *, reg_weight, reg_alpha, reg_momentum,
                  reg_iter, reg_horizon, utility="density", reg_scale="raw"):
    """A literal, slow restatement of USL (Wang, Lian & Yu 2022), eq. 2-6.

    Written from the paper, loop by loop, sharing no code with skusl. The
    K-Means partition (eq. 3) is taken as given (``labels``), since it comes
    from scikit-learn.
    """
    n = X.shape[0]
    Z = X / np.linalg.norm(X, axis=1, keepdims=True)  # unit sphere
    D2 = np.array([[np.sum((Z[i] - Z[j]) ** 2) for j in range(n)] for i in range(n)])
    U = np.empty(n)
    knn = []
    for i in range(n):
        others = [j for j in range(n) if j != i]
        nbrs = sorted(others, key=lambda j: (D2[i, j], j))[:k]
        knn.append(nbrs)
        U[i] = 1.0 / np.mean([D2[i, j] for j in nbrs])  # eq. 2
    if utility == "two_hop":
        U = np.array([U[i] + sum(np.dot(Z[i], Z[j]) * U[j] for j in knn[i])
                      for i in range(n)])
    C = labels.max() + 1
    reg = np.zeros(n)
    for it in range(reg_iter):
        picks = {}
        for c in range(C):  # eq. 4/6: best regularised utility per cluster
            members = [i for i in range(n) if labels[i] == c]
            if members:
                scale = 1.0
                if reg_scale == "cluster":  # Reg given the spread of U inside the cluster
                    su, sr = np.std(U[members]), np.std(reg[members])
                    scale = su / sr if sr > 1e-12 * su else 0.0
                picks[c] = max(members,
                               key=lambda i: (U[i] - reg_weight * scale * reg[i], -i))
        if it == reg_iter - 1:
            break
        new = np.zeros(n)
        for i in range(n):  # eq. 5: repulsion from other clusters' picks
            d = sorted(D2[i, s] for c, s in picks.items() if c != labels[i])
            if reg_horizon is not None:
                d = d[:reg_horizon]
            new[i] = sum(1.0 / max(v, 1e-12) ** reg_alpha for v in d)
        reg = reg_momentum * reg + (1 - reg_momentum) * new
    sizes = np.bincount(labels, minlength=C)
    kept = sorted(picks, key=lambda c: (-sizes[c], c))[:n_select]
    chosen = [picks[c] for c in kept]
    return sorted(chosen, key=lambda i: (-U[i], i))


@pytest.mark.parametrize("reg_scale", ["raw", "cluster"])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("params", [
    dict(n_select=6, n_neighbors=5),
    dict(n_select=4, n_neighbors=8, n_clusters=7, reg_horizon=2),
    dict(n_select=5, n_neighbors=4, reg_weight=2.0, reg_alpha=1.0, reg_momentum=0.5,
         reg_iter=4),
    dict(n_select=5, n_neighbors=6, utility="two_hop"),
])
def test_matches_literal_restatement_of_the_paper(seed, params, reg_scale):
    X, _ = make_blobs(n_samples=90, centers=5, n_features=4, cluster_std=2.0,
                      random_state=seed)
    sel = USLSelector(random_state=seed, reg_scale=reg_scale, **params).fit(X)
    defaults = dict(reg_weight=0.5, reg_alpha=0.5, reg_momentum=0.9, reg_iter=10,
                    reg_horizon=None, utility="density", reg_scale=reg_scale)
    ref_params = {**defaults, **{p: v for p, v in params.items()
                                 if p not in ("n_select", "n_neighbors", "n_clusters")}}
    expected = reference_usl(X, sel.labels_, params["n_select"], params["n_neighbors"],
                             **ref_params)
    np.testing.assert_array_equal(sel.selected_indices_, expected)


def test_regulariser_changes_the_selection():
    # Without the regulariser, picks of neighbouring clusters crowd together;
    # the test guards against the regulariser silently doing nothing.
    X, _ = make_blobs(n_samples=400, centers=3, n_features=5, random_state=0)
    plain = USLSelector(n_select=12, reg_weight=0, random_state=0).fit(X)
    reg = USLSelector(n_select=12, reg_weight=5, random_state=0).fit(X)
    assert set(plain.selected_indices_) != set(reg.selected_indices_)
    assert np.all(reg.regularizer_ > 0)
    assert np.all(plain.regularizer_ == 0)


def test_deterministic_for_a_seed(digits):
    X, _ = digits
    a = USLSelector(n_select=15, random_state=3).fit(X).selected_indices_
    b = USLSelector(n_select=15, random_state=3).fit(X).selected_indices_
    np.testing.assert_array_equal(a, b)


def test_fitted_attributes(digits):
    X, y = digits
    sel = USLSelector(n_select=10, n_clusters=14, random_state=0).fit(X)
    n = X.shape[0]
    assert sel.selected_indices_.shape == (10,) and len(set(sel.selected_indices_)) == 10
    assert sel.labels_.shape == (n,) and sel.labels_.max() < 14
    assert sel.cluster_centers_.shape == (14, 64)
    assert sel.knn_graph_.shape == (n, n) and sel.knn_graph_.nnz == n * 20
    assert np.all(np.diff(sel.utility_[sel.selected_indices_]) <= 0)  # best first
    assert sel.get_support().sum() == 10
    np.testing.assert_array_equal(np.flatnonzero(sel.get_support()),
                                  np.sort(sel.selected_indices_))
    np.testing.assert_array_equal(sel.get_support(indices=True), sel.selected_indices_)
    # The 10 picks come from the 10 largest of the 14 clusters.
    sizes = np.bincount(sel.labels_, minlength=14)
    assert set(sel.labels_[sel.selected_indices_]) == set(np.argsort(-sizes, kind="stable")[:10])
    D = sel.transform(X)
    assert D.shape == (n, 10)
    np.testing.assert_allclose(D[sel.selected_indices_, np.arange(10)], 0, atol=1e-3)


def test_covers_classes_better_than_random(digits):
    X, y = digits
    usl = [class_coverage(y, USLSelector(n_select=10, random_state=s).fit(X).selected_indices_)
           for s in range(3)]
    rnd = [class_coverage(y, np.random.RandomState(s).choice(len(X), 10, replace=False))
           for s in range(3)]
    assert np.mean(usl) > np.mean(rnd)


def test_score_with_and_without_labels(digits):
    X, y = digits
    sel = USLSelector(n_select=20, random_state=0).fit(X)
    acc = sel.score(X, y)
    # On the training data the score is 1-NN labeling from the selected points.
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    P = Xn[sel.selected_indices_]
    nearest = np.argmin(((Xn[:, None, :] - P[None]) ** 2).sum(-1), axis=1)
    assert acc == pytest.approx(np.mean(y[sel.selected_indices_][nearest] == y))
    assert 0.5 < acc <= 1
    unsup = sel.score(X)
    assert unsup == pytest.approx(-np.mean(np.min(((Xn[:, None, :] - P[None]) ** 2).sum(-1), 1)),
                                  rel=1e-4)


def test_pipeline_and_grid_search(digits):
    X, y = digits
    X, y = X[:600], y[:600]
    pipe = make_pipeline(StandardScaler(), USLSelector(n_select=10, random_state=0))
    assert pipe.fit_transform(X).shape == (600, 10)
    search = GridSearchCV(USLSelector(n_select=10, random_state=0),
                          {"reg_weight": [0.0, 0.5], "n_neighbors": [5, 20]}, cv=2)
    search.fit(X, y)
    assert set(search.best_params_) == {"reg_weight", "n_neighbors"}
    assert 0 < search.best_score_ <= 1


def test_duplicate_rows_give_finite_utilities():
    rng = np.random.RandomState(0)
    X = np.repeat(rng.rand(12, 6), 10, axis=0)  # 12 distinct points, 10 copies each
    sel = USLSelector(n_select=15, n_neighbors=5, random_state=0).fit(X)
    assert np.all(np.isfinite(sel.utility_)) and np.all(np.isfinite(sel.regularizer_))
    assert len(set(sel.selected_indices_)) == 15


def test_fewer_clusters_than_budget_fills_by_utility(digits):
    X = digits[0][:400]
    sel = USLSelector(n_select=8, n_clusters=3, random_state=0).fit(X)
    chosen = sel.selected_indices_
    assert len(set(chosen)) == 8
    # One pick per cluster, then the best remaining utilities.
    assert len(set(sel.labels_[chosen])) == 3
    rest = np.setdiff1d(np.arange(400), chosen)
    # The 5 fills beat every sample left out.
    assert np.sum(sel.utility_[chosen] >= sel.utility_[rest].max()) >= 5


def test_all_identical_rows_still_return_n_select():
    X = np.ones((30, 4))
    sel = USLSelector(n_select=5, n_neighbors=3, random_state=0).fit(X)
    assert len(set(sel.selected_indices_)) == 5


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int64])
def test_dtypes(dtype, digits):
    X = digits[0][:300].astype(dtype)
    sel = USLSelector(n_select=5, random_state=0).fit(X)
    assert sel.selected_indices_.shape == (5,)
    assert sel.prototypes_.dtype == (np.float32 if dtype in (np.float16, np.float32)
                                     else np.float64)


@pytest.mark.parametrize("X, params, match", [
    (np.array([[0.0, np.nan], [1, 1], [2, 2]]), {}, "NaN"),
    (np.array([[0.0, np.inf], [1, 1], [2, 2]]), {}, "infinity"),
    (np.zeros((0, 3)), {}, "0 sample"),
    (np.arange(10.0), {}, "2D array"),
    (np.random.rand(5, 3), {"n_select": 6}, "n_select=6 exceeds n_samples=5"),
    (np.random.rand(5, 3), {"n_select": 2, "n_neighbors": 5}, "n_neighbors=5 must be smaller"),
    (np.random.rand(20, 3), {"n_select": 4, "n_clusters": 21}, "n_clusters=21 exceeds"),
    (np.random.rand(20, 3), {"n_select": 0}, "n_select"),
    (np.random.rand(20, 3), {"utility": "peak"}, "utility"),
    (np.random.rand(20, 3), {"backend": "gpu"}, "backend"),
])
def test_bad_input_raises_a_clear_value_error(X, params, match):
    with pytest.raises(ValueError, match=match):
        USLSelector(**{"n_select": 2, "n_neighbors": 3, **params}).fit(X)


def test_sparse_input_names_the_fix():
    import scipy.sparse as sp

    with pytest.raises(ValueError, match="toarray"):
        USLSelector(n_select=2, n_neighbors=3).fit(sp.random(20, 5, density=0.5, format="csr"))


def test_import_is_fast_and_lazy():
    import subprocess
    import sys

    code = ("import time, sys; t = time.perf_counter(); import skusl; "
            "dt = time.perf_counter() - t; "
            "print(dt, 'numba' in sys.modules, 'torch' in sys.modules, 'sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    # what is imported, not how long it takes: a wall-clock bound fails on a
    # loaded machine and passes on a slow import elsewhere
    assert out[1:] == ["False", "False", "False"]


