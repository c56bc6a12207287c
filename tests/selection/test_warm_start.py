"""fit(X, labeled=...): kept out of the picks, complemented; greedy selectors prefix-consistent."""

import numpy as np
import pytest

from skusl.selection import (BaseSelector, KCenterGreedySelector, KMeansClosestSelector,
                             MaxHerdingSelector, ProbCoverSelector, RandomSelector,
                             TypiClustSelector, USLSelector)


def _blobs(n_per=40, seed=0):
    rng = np.random.RandomState(seed)
    centres = np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0]], float)
    X = np.vstack([c + 0.05 * rng.randn(n_per, 3) for c in centres])
    return X, np.repeat(np.arange(3), n_per)


WARM = [
    RandomSelector(random_state=0),
    KMeansClosestSelector(random_state=0),
    KCenterGreedySelector(random_state=0),
    TypiClustSelector(n_neighbors=5, random_state=0),
    ProbCoverSelector(random_state=0),
    ProbCoverSelector(delta=0.1, random_state=0),
    MaxHerdingSelector(random_state=0),
    MaxHerdingSelector(n_coreset=30, random_state=0),
    USLSelector(n_neighbors=5, random_state=0),
]
#: greedy: selected_indices_[:m] is the budget-m selection
PREFIX = [RandomSelector(random_state=3), KCenterGreedySelector(random_state=3),
          ProbCoverSelector(delta=0.1, random_state=3), MaxHerdingSelector(random_state=3),
          MaxHerdingSelector(n_coreset=40, random_state=3)]
#: greedy and deterministic given the labeled set: fit(labeled=sel[:a]) continues sel[a:]
CONTINUES = [KCenterGreedySelector(random_state=3),
             ProbCoverSelector(delta=0.1, random_state=3),
             ProbCoverSelector(random_state=3),  # "auto": same total budget, same delta
             MaxHerdingSelector(random_state=3), MaxHerdingSelector(n_coreset=40, random_state=3)]


def _name(est):
    return type(est).__name__ + str(sorted(est.get_params(deep=False).items())[:2])


@pytest.mark.parametrize("est", WARM, ids=_name)
def test_labeled_are_kept_out_and_complemented(est):
    X, y = _blobs()
    labeled = np.flatnonzero(y == 0)[:2]  # two labels of blob 0 already
    sel = est.set_params(n_select=2).fit(X, labeled=labeled)
    picks = sel.selected_indices_
    assert picks.size == 2 and np.unique(picks).size == 2
    assert not set(picks) & set(labeled)
    np.testing.assert_array_equal(sel.labeled_indices_, np.sort(labeled))
    if not isinstance(est, RandomSelector):  # the new labels go to the blobs still missing
        assert set(y[picks]) == {1, 2}
    # a boolean mask says the same
    mask = np.zeros(len(X), dtype=bool)
    mask[labeled] = True
    np.testing.assert_array_equal(est.fit(X, labeled=mask).selected_indices_, picks)


@pytest.mark.parametrize("est", PREFIX, ids=_name)
def test_greedy_selectors_are_prefix_consistent(est):
    X, _ = _blobs()
    full = est.set_params(n_select=9).fit(X).selected_indices_.copy()
    for m in (1, 4):
        np.testing.assert_array_equal(est.set_params(n_select=m).fit(X).selected_indices_,
                                      full[:m])


@pytest.mark.parametrize("est", CONTINUES, ids=_name)
def test_growing_a_selection_continues_it(est):
    X, _ = _blobs()
    full = est.set_params(n_select=9).fit(X).selected_indices_.copy()
    grown = est.set_params(n_select=5).fit(X, labeled=full[:4]).selected_indices_
    np.testing.assert_array_equal(grown, full[4:])


def test_bad_labeled_and_unsupported_selectors():
    X, _ = _blobs()
    with pytest.raises(ValueError, match="outside"):
        RandomSelector(3).fit(X, labeled=[0, 500])
    with pytest.raises(ValueError, match="not yet labeled"):
        RandomSelector(119).fit(X, labeled=[0, 1])
    with pytest.raises(ValueError, match="integers"):
        RandomSelector(3).fit(X, labeled=[0.5])

    class Largest(BaseSelector):
        def __init__(self, n_select=2, normalize=False, random_state=None):
            self.n_select, self.normalize, self.random_state = n_select, normalize, random_state

        def _select(self, X, random_state):
            return np.argsort(-np.linalg.norm(X, axis=1))[: self.n_select]

    with pytest.raises(ValueError, match="does not take labeled"):
        Largest().fit(X, labeled=[1])
    assert Largest().fit(X, labeled=[]).labeled_indices_.size == 0


def test_usl_labeled_repel_and_clusters_holding_them_give_no_pick():
    X, y = _blobs(n_per=60)
    labeled = np.flatnonzero(y == 1)[:3]
    sel = USLSelector(n_select=4, n_neighbors=5, random_state=0).fit(X, labeled=labeled)
    held = set(sel.labels_[labeled])
    assert not held & set(sel.labels_[sel.selected_indices_])
