"""skusl.metrics: values on hand-made cases, and the scorer in a search."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, KFold

from skusl.metrics import (SELECTION_METRICS, class_balance, class_coverage,
                           linear_probe_accuracy, make_selection_scorer,
                           nearest_prototype_accuracy, propagation_accuracy, stand_in_indices)
from skusl.neighbors import kneighbors_graph
from skusl.selection import KMeansClosestSelector, RandomSelector


def _two_blobs(n=20, seed=0):
    rng = np.random.RandomState(seed)
    X = np.r_[rng.rand(n, 2), 5 + rng.rand(n, 2)]
    y = np.r_[np.zeros(n, int), np.ones(n, int)]
    return X, y


def test_coverage_balance_accept_masks():
    y = np.array([0, 0, 1, 1, 2, 2])
    mask = np.array([1, 0, 1, 0, 0, 0], bool)
    assert class_coverage(y, mask) == pytest.approx(2 / 3)
    assert class_balance(y, mask) == pytest.approx(np.log(2) / np.log(3))


def test_nearest_prototype_accuracy_literal():
    X, y = _two_blobs()
    sel = [3, 7, 25]
    D = ((X[:, None, :] - X[sel][None]) ** 2).sum(-1)
    expected = np.mean(y[np.asarray(sel)[D.argmin(1)]] == y)
    assert nearest_prototype_accuracy(X, y, sel) == pytest.approx(expected)
    assert nearest_prototype_accuracy(X, y, [0, 20]) == 1.0


def test_linear_probe_single_class_and_strings():
    X, y = _two_blobs()
    assert linear_probe_accuracy(X, y, [0, 1]) == 0.5
    ys = np.where(y == 0, "cat", "dog")
    assert linear_probe_accuracy(X, ys, [0, 20]) == 1.0


@pytest.mark.parametrize("method", ["1nn", "hdl"])
def test_propagation_accuracy(method):
    X, y = _two_blobs()
    G = kneighbors_graph(X, 5)
    assert propagation_accuracy(X, y, [0, 20], n_neighbors=5, method=method) == 1.0
    assert propagation_accuracy(X, y, [0, 20], n_neighbors=5, graph=G, method=method) == 1.0
    assert propagation_accuracy(X, y, [0, 1], n_neighbors=5, method=method) == 0.5


def test_bad_selection_messages():
    X, y = _two_blobs()
    with pytest.raises(ValueError, match="empty"):
        nearest_prototype_accuracy(X, y, [])
    with pytest.raises(ValueError, match="outside"):
        linear_probe_accuracy(X, y, [100])
    with pytest.raises(ValueError, match="labels for"):
        nearest_prototype_accuracy(X, y[:5], [0])
    with pytest.raises(ValueError, match="method"):
        propagation_accuracy(X, y, [0], method="lp")
    with pytest.raises(ValueError, match="unknown selection metric"):
        make_selection_scorer("f1")


@pytest.mark.parametrize("name", sorted(SELECTION_METRICS))
def test_scorer_on_training_data_equals_metric(name):
    X, y = _two_blobs()
    sel = KMeansClosestSelector(n_select=4, normalize=False, random_state=0).fit(X)
    np.testing.assert_array_equal(np.sort(stand_in_indices(sel, X)),
                                  np.sort(sel.selected_indices_))
    scorer = make_selection_scorer(name)
    expected = SELECTION_METRICS[name](X, y, stand_in_indices(sel, X))
    assert scorer(sel, X, y) == pytest.approx(expected)
    assert name in repr(scorer)


def test_scorer_in_grid_search_and_custom_callable():
    X, y = _two_blobs(30)
    grid = GridSearchCV(RandomSelector(normalize=False, random_state=0), {"n_select": [1, 6]},
                        scoring=make_selection_scorer("coverage"),
                        cv=KFold(2, shuffle=True, random_state=0)).fit(X, y)
    assert grid.best_params_ == {"n_select": 6}
    scorer = make_selection_scorer(lambda X, y, idx, bonus=0: len(idx) + bonus, bonus=1)
    assert scorer(grid.best_estimator_, X, y) == 7
    with pytest.raises(ValueError, match="true labels"):
        scorer(grid.best_estimator_, X)
