"""AutoK against a direct computation; meta-estimator use; bad input."""

import math

import numpy as np
import pytest
from scipy.special import comb
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skusl.labeling import HDLLabeler
from skusl.model_selection import AutoK
from skusl.neighbors import arrays_to_graph


def make_problem(seed, n=80, d=4, n_classes=3, frac=0.5):
    rng = np.random.RandomState(seed)
    y_true = rng.randint(n_classes, size=n)
    X = rng.normal(size=(n, d)) + 2.0 * np.eye(d)[y_true % d]
    y = np.where(rng.rand(n) < frac, y_true, -1)
    return X, y, y_true


def direct_autok(X, y, k_max, e, centres=None):
    """mu_k, I_k by plain loops (binomial tail for I_k)."""
    lab = np.flatnonzero(y != -1)
    centres = lab if centres is None else centres
    mu = np.zeros(k_max)
    for c in centres:
        others = [j for j in lab if j != c]
        d = [math.dist(X[c], X[j]) for j in others]
        nn = [others[t] for t in np.lexsort((others, d))]
        for k in range(1, k_max + 1):
            mu[k - 1] += all(y[j] == y[c] for j in nn[:k])
    mu /= len(centres)
    bound = np.zeros(k_max)
    for k in range(1, k_max + 1):
        kp = math.ceil((k + 1) / 2) - 1   # at most k' wrong among k + 1 labels
        bound[k - 1] = sum(comb(k + 1, w) * e ** w * (1 - e) ** (k + 1 - w)
                           for w in range(kp + 1))
    return mu, bound


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("e", [0.05, 0.15, 0.3])
def test_matches_direct_computation(seed, e):
    X, y, _ = make_problem(seed)
    auto = AutoK(criterion="clusterability", k_max=12, noise_rate=e,
                 normalize=False).fit(X, y)
    mu, bound = direct_autok(X, y, 12, e)
    np.testing.assert_allclose(auto.clusterability_, mu)
    np.testing.assert_allclose(auto.vote_bound_, bound, rtol=1e-10)
    np.testing.assert_allclose(auto.scores_, mu * bound)
    assert auto.k_ == int(np.argmax(mu * bound)) + 1


def test_sampled_centres_deterministic():
    X, y, _ = make_problem(0, n=120)
    a = AutoK(criterion="clusterability", p=0.4, k_max=8, random_state=3,
              normalize=False).fit(X, y)
    b = AutoK(criterion="clusterability", p=0.4, k_max=8, random_state=3,
              normalize=False).fit(X, y)
    np.testing.assert_array_equal(a.centres_, b.centres_)
    np.testing.assert_array_equal(a.scores_, b.scores_)
    assert a.centres_.size == round(0.4 * (y != -1).sum())
    mu, _ = direct_autok(X, y, 8, 0.15, centres=a.centres_)
    np.testing.assert_allclose(a.clusterability_, mu)


def test_default_k_max_and_one_label_per_class():
    X, y, _ = make_problem(0)
    auto = AutoK(criterion="clusterability").fit(X, y)
    assert auto.scores_.shape == (min(50, (y != -1).sum() - 1),)
    y1 = np.full_like(y, -1)
    y1[[0, 1, 2]] = [0, 1, 2]
    auto = AutoK(criterion="clusterability").fit(X, y1)
    assert auto.k_ == 1 and not auto.scores_.any()
    # the held-out criterion has nothing to hold out either: the method's default k
    assert AutoK().fit(X, y1).k_ == 10
    assert AutoK(HDLLabeler(method="hdl")).fit(X, y1).k_ == 3
    assert np.isnan(AutoK().fit(X, y1).scores_).all()


def test_duplicates_keep_self_excluded():
    X = np.repeat(np.eye(3), 4, axis=0)
    y = np.repeat([0, 1, 2], 4)
    auto = AutoK(criterion="clusterability", k_max=4).fit(X, y)
    np.testing.assert_allclose(auto.clusterability_, [1, 1, 1, 0])


def test_meta_estimator_and_auto():
    X, y, y_true = make_problem(1, n=100)
    meta = AutoK(HDLLabeler(), random_state=0).fit(X, y)
    assert meta.estimator_.n_neighbors == meta.k_
    hdl = HDLLabeler(n_neighbors=meta.k_).fit(X, y)
    np.testing.assert_array_equal(meta.predict(X), hdl.predict(X))
    np.testing.assert_allclose(meta.predict_proba(X), hdl.predict_proba(X))
    assert meta.score(X, y_true) == hdl.score(X, y_true)
    auto = HDLLabeler(n_neighbors="auto", random_state=0).fit(X, y)
    assert auto.n_neighbors_ == meta.k_
    assert not hasattr(AutoK(), "predict")


def test_follows_estimator_geometry():
    X, y, _ = make_problem(2)
    X = X * np.array([10.0, 1, 1, 1])
    raw = AutoK(criterion="clusterability", normalize=False).fit(X, y)
    meta = AutoK(HDLLabeler(normalize=False), criterion="clusterability").fit(X, y)
    np.testing.assert_array_equal(raw.scores_, meta.scores_)


def test_precomputed():
    X, y, _ = make_problem(3, n=40, frac=1.0)
    from skusl.neighbors import kneighbors
    dist, ind = kneighbors(X, 39, neighbors="exact")
    G = arrays_to_graph(dist, ind)
    pre = AutoK(criterion="clusterability", k_max=6, metric="precomputed").fit(G, y)
    feat = AutoK(criterion="clusterability", k_max=6, normalize=False).fit(X, y)
    np.testing.assert_allclose(pre.scores_, feat.scores_)
    small = arrays_to_graph(*kneighbors(X, 3, neighbors="exact"))
    with pytest.raises(ValueError, match="AutoK with a precomputed graph"):
        AutoK(criterion="clusterability", k_max=6, metric="precomputed").fit(small, y)


def test_bad_input():
    X, y, _ = make_problem(0, n=30)
    with pytest.raises(ValueError, match="at least one labeled"):
        AutoK().fit(X, np.full(30, -1))
    one = np.full(30, -1)
    one[4] = 2
    with pytest.raises(ValueError, match="at least two labeled"):
        AutoK(criterion="clusterability").fit(X, one)
    with pytest.raises(ValueError, match="k_max=40 exceeds"):
        AutoK(criterion="clusterability", k_max=40).fit(X, y)
    with pytest.raises(ValueError, match="smaller than n_samples"):
        AutoK(k_max=30).fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        AutoK().fit(X, np.where(y == -1, np.nan, y))
    Xn = X.copy()
    Xn[1, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        AutoK().fit(Xn, y)


def test_pipeline_and_grid_search():
    X, _, y_true = make_problem(4, n=90)
    pipe = make_pipeline(StandardScaler(), AutoK(HDLLabeler()))
    grid = GridSearchCV(pipe, {"autok__noise_rate": [0.05, 0.3]}, cv=3).fit(X, y_true)
    assert 0 <= grid.best_score_ <= 1


# --------------------------------------------------------------------------- held-out
def direct_holdout(X, y, method, k_values, n_repeats, fraction, seed):
    """The held-out curve by refitting HDLLabeler on the features at every k."""
    rng = np.random.RandomState(seed)
    lab = np.flatnonzero(y != -1)
    classes = np.unique(y[lab])
    per_class = [lab[y[lab] == c] for c in classes]
    splits = [np.sort(np.concatenate([
        rng.choice(m, int(np.clip(round(fraction * m.size), 1, m.size - 1)), replace=False)
        for m in per_class if m.size >= 2])) for _ in range(n_repeats)]
    scores = []
    for k in k_values:
        hits = []
        for held in splits:
            part = y.copy()
            part[held] = -1
            est = HDLLabeler(n_neighbors=k, method=method, neighbors="exact").fit(X, part)
            hits.append(est.transduction_[held] == y[held])
        scores.append(np.concatenate(hits).mean())
    return np.array(scores)


@pytest.mark.parametrize("method", ["rounds", "hdl", "knn_dv"])
def test_holdout_matches_direct_refits(method):
    X, y, _ = make_problem(5, n=90, frac=0.3)
    auto = AutoK(HDLLabeler(method=method), k_max=6, n_repeats=3, random_state=2).fit(X, y)
    expect = direct_holdout(X, y, method, range(1, 7), 3, 0.25, 2)
    np.testing.assert_allclose(auto.scores_, expect)
    assert auto.n_held_out_ > 0
    assert auto.k_ in range(1, 7)
    assert auto.estimator_.n_neighbors == auto.k_


def test_holdout_switches_only_on_clear_evidence():
    from skusl.labeling._holdout import choose_k

    # k=3 wins on every held-out point: clear evidence against the default 10
    correct = np.zeros((3, 40), dtype=bool)
    correct[0] = True
    assert choose_k(correct, [3, 5, 10], 10)[0] == 3
    # a one-point edge is noise: the default stays
    correct = np.zeros((3, 40), dtype=bool)
    correct[:, :20] = True
    correct[0, 20] = True
    k, scores = choose_k(correct, [3, 5, 10], 10)
    assert k == 10 and scores[0] > scores[2]


def test_holdout_steers_hdl_away_from_flooding():
    # the paper's HDL floods at large k on two blobs joined by a chain; the
    # held-out accuracy sees it, the clusterability of the labeled points cannot
    rng = np.random.RandomState(0)
    A = rng.normal(size=(60, 2)) * 0.5
    B = rng.normal(size=(60, 2)) * 0.5 + [4.0, 0.0]
    chain = np.c_[np.linspace(0.8, 3.2, 30), np.zeros(30)]
    X = np.vstack([A, B, chain])
    y = np.full(len(X), -1)
    y[[0, 1, 2, 3, 4, 5]] = 0
    y[[60, 61, 62]] = 1
    hdl = HDLLabeler(method="hdl", normalize=False)
    auto = AutoK(hdl, k_max=15, random_state=0).fit(X, y)
    flooded = HDLLabeler(n_neighbors=15, method="hdl", normalize=False).fit(X, y)
    truth = np.r_[np.zeros(60), np.ones(60), chain[:, 0] > 2]
    assert (flooded.transduction_ == truth).mean() < 0.7
    assert (auto.estimator_.transduction_ == truth).mean() > 0.9


def test_holdout_counts_a_sample_held_out_in_several_draws_once():
    from skusl.labeling._holdout import choose_k

    # 8 held-out samples, each in all 5 draws: k=3 right on 4 of them, k=10 on none
    per_sample = np.zeros((3, 8), dtype=bool)
    per_sample[0, :4] = True
    correct = np.tile(per_sample, 5)
    ids = np.tile(np.arange(8), 5)
    assert choose_k(correct, [3, 5, 10], 10)[0] == 3  # 40 "samples": looks clear
    assert choose_k(correct, [3, 5, 10], 10, ids)[0] == 10  # 8 samples: it is not
    # three unanimous samples are not certainty either
    assert choose_k(np.array([[1, 1, 1], [0, 0, 0]], bool), [3, 10], 10)[0] == 10
