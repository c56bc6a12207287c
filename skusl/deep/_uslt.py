"""USLTClusterer: USL-T, the training-based selection, on embeddings."""

import numbers
import time

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils import check_random_state
from .._sklearn_compat import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._progress import progress_bar
from .._validation import (Count, check_distance_range, check_embeddings, check_n_select,
                           normalize_rows, rows_to_float32)
from ..neighbors import kneighbors
from ..selection._base import support
from ..selection._usl_core import density_utility, regularized_selection
from . import _losses
from ._torch import deterministic_algorithms, eval_mode, import_torch, resolve_device

#: Momentum of the count EMA that drives the reassignment (the reference's 0.9).
COUNT_MOMENTUM = 0.9

#: Relative size of the perturbation that separates a reassigned cluster from
#: the one it was split from (the reference adds N(0, 1e-7) noise to unit-scale
#: weights; here it is scaled by the weight's norm).
REASSIGN_EPS = 1e-7

#: The reference implementation's training settings (Wang, Lian & Yu, ECCV 2022,
#: ``usl-t_pretraining/configs``), as :class:`USLTClusterer` parameters.
#: ``"imagenet"`` is the head-only setting on a frozen backbone (the
#: ImageNet-100 config; the ImageNet-1k one differs only by no reweighting)
#: and gives the estimator's defaults; ``"cifar10"`` / ``"cifar100"`` train the
#: whole network with image augmentations in the reference. Use them as
#: ``USLTClusterer(**USLT_REFERENCE_SETTINGS["cifar10"])``.
USLT_REFERENCE_SETTINGS = {
    "imagenet": dict(tau=0.0, reweight="renorm", mean_outside_mask=True, alpha=2.5,
                     sharpen_temperature=0.5, local_weight=0.5, reassign_thresholds=(0.15, 1.5),
                     selection="density", utility="density"),
    "cifar10": dict(tau=0.95, reweight="inverse", mean_outside_mask=False, alpha=5.0,
                    sharpen_temperature=0.25, local_weight=5.0, reassign_thresholds=None,
                    selection="confidence", utility="density"),
    "cifar100": dict(tau=0.95, reweight="inverse", mean_outside_mask=True, alpha=5.0,
                     sharpen_temperature=0.25, local_weight=5.0, reassign_thresholds=None,
                     selection="confidence", utility="density"),
}


class USLTClusterer(ClusterMixin, TransformerMixin, BaseEstimator):
    """USL-T: learn clusters on embeddings, then select one sample from each.

    The training-based selective labeling of Wang, Lian & Yu, "Unsupervised
    Selective Labeling for More Effective Semi-Supervised Learning" (ECCV
    2022). ``C = n_clusters`` cosine cluster heads (``n_heads`` of them) sit on
    the frozen embeddings, optionally behind a small MLP neck or a trainable
    ``backbone``, and are trained with Adam on

    ``L = sum over heads of (L_global + lambda * L_local)``

    * global loss: cross-entropy of the strong view against the argmax
      prediction of the weak view, only where that prediction's probability
      exceeds ``tau``, class-balanced by ``reweight`` (see
      :func:`skusl.deep._losses.global_loss`);
    * local loss: ``KL(sharpen(softmax(z_nbr - alpha log p_bar), T) ||
      softmax(z_anchor))``, the anchor being the sample's strong view and the
      neighbour drawn uniformly from its ``n_neighbors`` nearest neighbours
      (a fixed kNN graph from :func:`skusl.neighbors.kneighbors`); ``p_bar``
      is the running average of each head's cluster marginals (momentum
      ``prior_momentum``);
    * reassignment: an EMA of each head's cluster sizes is kept; once a
      cluster shrinks below ``reassign_thresholds[0]`` times the mean size
      while the largest exceeds ``reassign_thresholds[1]`` times it, the
      shrinking cluster's weight is replaced by a perturbed copy of the
      largest one's, which splits it (the reference's count EMA).

    Each head numbers its clusters independently (the heads start from
    different random samples), so cluster ``c`` of one head has nothing to do
    with cluster ``c`` of another. As in the reference (``HEAD_IN_USE=0``),
    the clusters, ``labels_``, ``predict``, ``predict_proba`` and the
    selection come from head 0; the other heads only regularise the shared
    network and enter the confidence, which is the mean over heads of each
    head's own maximum probability.

    The selection takes the ``n_select`` largest clusters and picks one member
    of each. With ``selection="density", utility="density"`` it is the
    densest (largest kNN density ``1 / mean_j ||x_i - x_j||^2`` over the
    ``n_neighbors`` nearest neighbours, the reference's frozen-feature,
    ImageNet selection); with ``selection="confidence"`` the most confident
    (its CIFAR selection). The defaults depart from the reference twice (see
    Notes): the density is weighted by the share of a sample's neighbours in
    its own cluster (``utility="cluster_density"``), and the pick is made
    under USL's inter-cluster regulariser (``selection="regularized"``, the
    ``reg_*`` parameters as in :class:`skusl.USLSelector`).

    Parameters
    ----------
    n_select : int, default=10
        Number of samples to select (the annotation budget), ``M`` in the
        paper.
    n_clusters : int or None, default=None
        ``C``, the number of learned clusters; ``None`` means ``n_select``.
        When ``C > n_select`` the ``n_select`` largest clusters are kept.
    n_heads : int, default=3
        Cluster heads trained side by side (the paper's multi-head training,
        3 in the reference); head 0 gives the clusters.
    n_neighbors : int, default=20
        ``k``: the neighbour of the local loss is drawn from the ``k``
        nearest, and the density of the selection averages over them (20 in
        the reference, which counts the sample itself as one of its 20).
    selection : {"regularized", "density", "confidence"}, default="regularized"
        Which member of a cluster is selected: the highest ``utility`` under
        USL's regulariser, the highest ``utility`` (with
        ``utility="density"`` the reference's ImageNet selection), or the
        most confident (its CIFAR selection). Ties: the larger mean
        log-probability, then the smaller index.
    utility : {"cluster_density", "density"}, default="cluster_density"
        The utility of the ``"regularized"`` and ``"density"`` selections:
        the kNN density (the reference's), or the kNN density times the
        share of the ``n_neighbors`` nearest neighbours that head 0 puts in
        the sample's own cluster.
    reg_weight : float, default=0.5
        Weight of USL's regulariser in ``selection="regularized"`` (ignored
        by the other selections); ``0`` gives the plain utility pick. This
        and the ``reg_*`` parameters below have :class:`skusl.USLSelector`'s
        meanings and defaults. The regulariser acts in the space the kNN
        graph is built in: the (normalised) embeddings, or the raw inputs
        with a ``backbone``.
    reg_alpha : float, default=0.5
        Exponent on the squared distance in the regulariser.
    reg_momentum : float, default=0.9
        Momentum of the regulariser's moving average.
    reg_iter : int, default=10
        Selection rounds, the first without regulariser.
    reg_horizon : int or None, default=None
        Only the ``reg_horizon`` nearest picks of other clusters repel a
        point; ``None`` uses all.
    reg_scale : {"cluster", "raw"}, default="cluster"
        The regulariser rescaled inside every cluster to the utility's
        spread there, or the reference's raw values.
    tau : float, default=0.0
        ``tau``, confidence threshold of the global loss (ImageNet: 0, CIFAR:
        0.95).
    reweight : {"renorm", "inverse", "none"}, default="renorm"
        Class balancing of the global loss (ImageNet-100: ``"renorm"``,
        CIFAR: ``"inverse"``); booleans mean ``"inverse"`` / ``"none"``.
    mean_outside_mask : bool, default=True
        Average the global loss over the whole batch rather than over the
        samples that pass ``tau`` (ImageNet and CIFAR-100: on, CIFAR-10: off).
    alpha : float, default=2.5
        ``alpha``, strength of the logit adjustment ``- alpha log p_bar`` of
        the neighbour's prediction (ImageNet: 2.5, CIFAR: 5).
    sharpen_temperature : float, default=0.5
        ``T``, sharpening temperature of the local-loss target (ImageNet: 0.5,
        CIFAR: 0.25).
    local_weight : float, default=0.5
        ``lambda``, weight of the local loss in the total (ImageNet: 0.5,
        CIFAR: 5).
    prior_momentum : float, default=0.5
        Momentum ``m`` of the EMA ``p_bar <- m p_bar + (1 - m) mean(p_nbr)``.
    reassign_thresholds : (float, float) or None, default=(0.15, 1.5)
        ``(low, high)`` relative to the mean cluster size ``n_samples / C``:
        a cluster whose count EMA falls below ``low`` is reassigned when the
        largest is above ``high``. The reference's ImageNet-100 thresholds are
        50 and 500 samples for a mean of 317 (ImageNet-1k: 100 and 1000 for
        427). ``None`` switches the reassignment off (the CIFAR setting).
    reassign_after : int, default=100
        Optimiser steps before the first reassignment (lets the count EMA
        settle; the reference waits 124 steps on ImageNet-100).
    learning_rate : float, default=1e-4
        Adam learning rate (as in the paper).
    weight_decay : float, default=1e-4
        Adam weight decay (as in the paper).
    n_epochs : int, default=30
        Passes over the data, unless ``min_steps`` asks for more.
    min_steps : int, default=1000
        Minimum number of optimiser steps: training runs
        ``max(n_epochs * ceil(n_samples / batch_size), min_steps)`` steps
        (the last pass may be partial). At the paper's learning rate a few
        hundred steps leave the heads near their random start (see Notes).
    batch_size : int, default=256
    hidden_layer_sizes : tuple of int, default=()
        Widths of a trainable MLP neck between the (frozen) embeddings and
        the heads; ``()`` puts the heads directly on the embeddings (the
        reference's head-only setting).
    logit_scale : float, default=40.0
        Fixed scale ``s`` of the cosine logits, ``z = s cos(f(x), w_c)``
        (fixed, not learned, so it cannot collapse; 40 as in the reference).
    noise_scale : float, default=0.1
        Strong view: expected norm of the Gaussian noise added to the
        (unit-norm) embedding; see Notes.
    feature_dropout : float, default=0.1
        Strong view: probability of zeroing each coordinate (inverted
        dropout) before the noise; see Notes.
    augment : callable or None, default=None
        ``augment(batch, generator) -> batch`` replaces the feature-space
        strong view (e.g. real image augmentations when ``backbone`` takes
        images). ``generator`` is the ``torch.Generator`` to draw from.
    backbone : torch.nn.Module or None, default=None
        Trained jointly with the heads (``X`` is its input, one row per
        sample); ``None`` trains on the frozen embeddings. It is deep-copied,
        never modified.
    normalize : bool, default=True
        L2-normalise the rows of ``X`` first (embeddings live on the sphere).
    neighbors : {"auto", "exact", "approximate"} or estimator, default="auto"
        How the fixed kNN graph is built; see :func:`skusl.neighbors.kneighbors`.
    device : "auto" or str, default="auto"
        Training device; ``"auto"`` picks CUDA, then MPS, then the CPU.
    n_jobs : int or None, default=None
        CPU threads for torch during ``fit`` and ``predict`` (restored
        afterwards) and for the kNN graph. ``None`` means 1: the batches are
        small, and one thread is fastest, especially on a shared machine;
        ``-1`` uses all cores.
    random_state : int, RandomState instance or None, default=None
        Seeds the head initialisation, batch order, neighbour draws and
        perturbations (one ``torch.Generator``). Same seed, same result on the
        CPU.
    verbose : bool, default=False
        Progress bars for the kNN graph and the training.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of every training sample (argmax of head 0).
    confidence_ : ndarray of shape (n_samples,)
        Mean over heads of each head's maximum probability.
    density_ : ndarray of shape (n_samples,)
        kNN density ``1 / mean_j ||x_i - x_j||^2`` of every training sample.
    utility_ : ndarray of shape (n_samples,)
        The utility the selection ranks by (``density_``, or with
        ``utility="cluster_density"`` ``density_`` times the cluster purity
        of the sample's neighbourhood).
    selected_indices_ : ndarray of shape (n_select,)
        The selected samples: one per kept cluster, largest cluster first;
        then, if fewer than ``n_select`` clusters are non-empty, the next
        best members round-robin.
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        L2-normalised mean (input space) of each cluster's members; for an
        empty cluster the sample most likely to belong to it.
    cluster_sizes_ : ndarray of shape (n_clusters,)
    cluster_prior_ : ndarray of shape (n_heads, n_clusters)
        ``p_bar`` at the end of training.
    cluster_counts_ : ndarray of shape (n_heads, n_clusters)
        The count EMA (estimated cluster sizes) at the end of training.
    n_reassigned_ : int
        Reassignments made during training (all heads).
    loss_curve_ : list of float
        Mean total loss of every pass over the data.
    n_iter_ : int
        Passes over the data (the last one possibly partial).
    n_steps_ : int
        Optimiser steps taken.
    fit_time_ : float
        Seconds spent in ``fit``.
    model_ : torch.nn.Module
        The trained network (on the CPU).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when ``X`` has string column names.

    See Also
    --------
    skusl.USLSelector : the training-free selection (USL).
    TorchFeaturizer : turns images or texts into the embeddings used here.
    USLT_REFERENCE_SETTINGS : the reference's ImageNet and CIFAR settings.

    Notes
    -----
    **Defaults.** On frozen embeddings only the heads are trained, which is
    the reference's ImageNet setting (``UPDATE_HEAD_ONLY``): its losses
    (``tau=0``, renormalised reweighting, mean outside the mask, ``alpha=2.5``,
    ``T=0.5``, ``lambda=0.5``, count-EMA reassignment). Its selection (kNN
    density inside each of the largest clusters) is
    ``USLT_REFERENCE_SETTINGS["imagenet"]``; the CIFAR settings, made for
    fine-tuning a whole ResNet with image augmentations, are there too.

    **Selection: two departures from the reference.** On the shared
    embeddings the reference's density pick lands, in some clusters, on a
    dense sample at the cluster's edge whose neighbours belong to the next
    cluster (on MNIST, "1"s, the densest digit, were the picks of several
    clusters holding mostly other digits), and it leaves picks of
    neighbouring clusters side by side.
    The defaults weight the density by the share of a sample's neighbours in
    its own cluster (``utility="cluster_density"``) and pick under USL's
    inter-cluster regulariser (``selection="regularized"``, USL eq. 5-6 with
    :class:`skusl.USLSelector`'s defaults). ``docs/benchmarks/uslt.md``
    (``python -m skusl.benchmarks uslt``) measures the reference's pick,
    each departure and the defaults on the same trained heads.

    **Strong view in feature space.** USL-T contrasts a weakly and a strongly
    augmented image. On precomputed embeddings there are no images, so the
    weak view is the embedding itself and the strong view is a perturbation
    of it: inverted dropout with rate ``feature_dropout``, plus isotropic
    Gaussian noise of expected norm ``noise_scale``, then re-normalised to the
    sphere. Augmentations of one image land in a small neighbourhood of its
    embedding, and this perturbation samples such a neighbourhood, so the
    strong view keeps the sample's identity while making the global loss
    demand predictions that are stable in its neighbourhood. The neighbour of
    the local loss gets the same perturbation, as its image is strongly
    augmented in the reference. With a ``backbone`` on raw inputs, pass real
    augmentations through ``augment``.

    **Initialisation and schedule.** The cluster weights start at the (neck)
    features of ``C`` distinct randomly drawn samples per head, as in the
    reference. Adam at the paper's learning rate 1e-4 moves a weight by about
    1e-4 per step, so a fixed number of epochs is no measure of training: 30
    epochs are about 2,400 steps on 20,000 samples but 210 on 1,800, after
    which the heads are still within cosine 0.995 of their start.
    ``min_steps=1000`` sets a floor.

    **Determinism.** All randomness comes from one ``torch.Generator`` seeded
    from ``random_state`` (the network is built under a forked, seeded global
    RNG, so the caller's torch RNG is untouched), and training runs with
    ``torch.use_deterministic_algorithms`` (restored afterwards). On the CPU a
    fixed ``random_state`` gives identical results.

    References
    ----------
    Wang, X., Lian, L. & Yu, S. X. "Unsupervised Selective Labeling for More
    Effective Semi-Supervised Learning." ECCV 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from skusl.deep import USLTClusterer
    >>> X = np.random.RandomState(0).randn(200, 16)
    >>> uslt = USLTClusterer(n_select=5, min_steps=20, random_state=0).fit(X)
    >>> uslt.selected_indices_.shape
    (5,)
    """

    _parameter_constraints = {
        "n_select": [Count(numbers.Integral, 1, None, closed="left")],  # bool is no budget
        "n_clusters": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "n_heads": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_neighbors": [Interval(numbers.Integral, 1, None, closed="left")],
        "selection": [StrOptions({"regularized", "density", "confidence"})],
        "utility": [StrOptions({"cluster_density", "density"})],
        "reg_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "reg_alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "reg_momentum": [Interval(numbers.Real, 0, 1, closed="both")],
        "reg_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "reg_horizon": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "reg_scale": [StrOptions({"cluster", "raw"})],
        "tau": [Interval(numbers.Real, 0, 1, closed="left")],
        "reweight": [StrOptions(set(_losses.REWEIGHT_MODES)), "boolean"],
        "mean_outside_mask": ["boolean"],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "sharpen_temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "local_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "prior_momentum": [Interval(numbers.Real, 0, 1, closed="both")],
        "reassign_thresholds": [tuple, list, None],
        "reassign_after": [Interval(numbers.Integral, 0, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "n_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "min_steps": [Interval(numbers.Integral, 0, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "hidden_layer_sizes": [tuple, list],
        "logit_scale": [Interval(numbers.Real, 0, None, closed="neither")],
        "noise_scale": [Interval(numbers.Real, 0, None, closed="left")],
        "feature_dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "augment": [callable, None],
        "backbone": "no_validation",
        "normalize": ["boolean"],
        "neighbors": "no_validation",
        "device": "no_validation",
        "n_jobs": [numbers.Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, n_select=10, *, n_clusters=None, n_heads=3, n_neighbors=20,
                 selection="regularized", utility="cluster_density", reg_weight=0.5,
                 reg_alpha=0.5, reg_momentum=0.9, reg_iter=10, reg_horizon=None,
                 reg_scale="cluster", tau=0.0, reweight="renorm", mean_outside_mask=True,
                 alpha=2.5, sharpen_temperature=0.5, local_weight=0.5, prior_momentum=0.5,
                 reassign_thresholds=(0.15, 1.5), reassign_after=100, learning_rate=1e-4,
                 weight_decay=1e-4, n_epochs=30, min_steps=1000, batch_size=256,
                 hidden_layer_sizes=(), logit_scale=40.0, noise_scale=0.1, feature_dropout=0.1,
                 augment=None, backbone=None, normalize=True, neighbors="auto", device="auto",
                 n_jobs=None, random_state=None, verbose=False):
        self.n_select = n_select
        self.n_clusters = n_clusters
        self.n_heads = n_heads
        self.n_neighbors = n_neighbors
        self.selection = selection
        self.utility = utility
        self.reg_weight = reg_weight
        self.reg_alpha = reg_alpha
        self.reg_momentum = reg_momentum
        self.reg_iter = reg_iter
        self.reg_horizon = reg_horizon
        self.reg_scale = reg_scale
        self.tau = tau
        self.reweight = reweight
        self.mean_outside_mask = mean_outside_mask
        self.alpha = alpha
        self.sharpen_temperature = sharpen_temperature
        self.local_weight = local_weight
        self.prior_momentum = prior_momentum
        self.reassign_thresholds = reassign_thresholds
        self.reassign_after = reassign_after
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.n_epochs = n_epochs
        self.min_steps = min_steps
        self.batch_size = batch_size
        self.hidden_layer_sizes = hidden_layer_sizes
        self.logit_scale = logit_scale
        self.noise_scale = noise_scale
        self.feature_dropout = feature_dropout
        self.augment = augment
        self.backbone = backbone
        self.normalize = normalize
        self.neighbors = neighbors
        self.device = device
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Train the cluster heads on ``X`` and select ``n_select`` samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings (or backbone inputs, one row per sample).
        y : None
            Ignored.

        Returns
        -------
        self : USLTClusterer
        """
        self._validate_params()
        torch = import_torch("USLTClusterer")
        start = time.perf_counter()
        X = check_embeddings(self, X)
        n_samples = X.shape[0]
        check_n_select(self.n_select, n_samples)
        n_clusters = self.n_clusters if self.n_clusters is not None else self.n_select
        if n_clusters > n_samples:
            raise ValueError(f"n_clusters={n_clusters} exceeds n_samples={n_samples}; "
                             "lower n_clusters.")
        if self.n_neighbors >= n_samples:
            raise ValueError(
                f"n_neighbors={self.n_neighbors} must be smaller than n_samples={n_samples} "
                "(the sample itself is not its own neighbour); lower n_neighbors."
            )
        if any(not isinstance(h, numbers.Integral) or h < 1 for h in self.hidden_layer_sizes):
            raise ValueError("hidden_layer_sizes must be a tuple of positive integers, got "
                             f"{self.hidden_layer_sizes!r}.")
        thresholds = self._check_thresholds()
        X = (rows_to_float32(X) if self.normalize
             else check_distance_range(np.asarray(X, dtype=np.float32)))
        if self.normalize:
            X = normalize_rows(X)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        dist, knn = kneighbors(X, self.n_neighbors, neighbors=self.neighbors,
                               random_state=seed, n_jobs=self.n_jobs, verbose=self.verbose)
        density = density_utility(np.asarray(dist, dtype=np.float64) ** 2)

        from ._network import USLTNetwork
        import copy

        device = resolve_device(self.device)
        with deterministic_algorithms(device.type != "cpu"), _TorchThreads(self.n_jobs, torch):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                backbone = copy.deepcopy(self.backbone) if self.backbone is not None else None
                in_features = self._backbone_width(backbone, X, torch)
                net = USLTNetwork(in_features, n_clusters, self.n_heads,
                                  tuple(self.hidden_layer_sizes), self.logit_scale, backbone)
            net.to(device)
            gen = torch.Generator(device=device)
            gen.manual_seed(seed)
            X_t = torch.from_numpy(X).to(device)
            knn_t = torch.from_numpy(np.ascontiguousarray(knn, dtype=np.int64)).to(device)
            self._init_heads(net, X_t, n_clusters, gen, torch)
            state = self._train(net, X_t, knn_t, n_clusters, thresholds, gen, torch)
            proba, confidence, log_conf = _soft_assign(net, X_t, torch)

        self.model_ = net.to("cpu")
        self.cluster_prior_ = state["prior"].cpu().numpy().astype(np.float64)
        self.cluster_counts_ = state["counts"].cpu().numpy().astype(np.float64)
        self.n_reassigned_ = state["n_reassigned"]
        self.loss_curve_ = state["losses"]
        self.n_iter_ = len(state["losses"])
        self.n_steps_ = state["n_steps"]
        self.n_clusters_ = n_clusters
        self.labels_ = proba.argmax(axis=1).astype(np.int64)
        self.confidence_ = confidence
        self.density_ = density
        self.cluster_sizes_ = np.bincount(self.labels_, minlength=n_clusters)
        self.utility_ = density
        if self.utility == "cluster_density":
            self.utility_ = density * cluster_purity(self.labels_, knn)
        score = confidence if self.selection == "confidence" else self.utility_
        if self.selection == "regularized":
            score = self._regularized_score(X, self.utility_, n_clusters)
        self.selected_indices_ = _select(self.labels_, score, log_conf, self.n_select,
                                         n_clusters)
        self.cluster_centers_ = _centers(X, self.labels_, proba, n_clusters)
        self.fit_time_ = time.perf_counter() - start
        return self

    def _regularized_score(self, X, utility, n_clusters):
        """The utility, with each cluster's regularised pick ranked first.

        USL's regulariser (eq. 5-6, :func:`regularized_selection`) on head 0's
        clusters gives one pick per cluster; raising it above every utility
        lets :func:`_select` keep the cluster order and the round-robin fill.
        """
        picks, _ = regularized_selection(
            X, utility, self.labels_, n_clusters, reg_weight=self.reg_weight,
            reg_alpha=self.reg_alpha, reg_momentum=self.reg_momentum, reg_iter=self.reg_iter,
            reg_horizon=self.reg_horizon, backend="numpy", verbose=self.verbose,
            reg_scale=self.reg_scale)
        score = utility.copy()
        score[picks[picks >= 0]] = np.inf
        return score

    def _check_thresholds(self):
        if self.reassign_thresholds is None:
            return None
        t = tuple(self.reassign_thresholds)
        if (len(t) != 2 or not all(isinstance(v, numbers.Real) for v in t)
                or not 0 <= t[0] < t[1]):
            raise ValueError("reassign_thresholds must be None or (low, high) with "
                             f"0 <= low < high, got {self.reassign_thresholds!r}.")
        return float(t[0]), float(t[1])

    def _backbone_width(self, backbone, X, torch):
        if backbone is None:
            return X.shape[1]
        with torch.no_grad(), eval_mode(backbone):
            out = backbone(torch.from_numpy(X[:1]))
        return int(np.prod(out.shape[1:]))

    def _init_heads(self, net, X_t, n_clusters, gen, torch):
        """Cluster weights := features of C distinct random samples (per head)."""
        with torch.no_grad(), eval_mode(net):
            for h in range(self.n_heads):
                idx = torch.randperm(X_t.shape[0], generator=gen, device=X_t.device)[:n_clusters]
                net.heads[h].copy_(net.embed(X_t[idx]))

    def _perturb(self, x, gen, torch):
        """The strong view: dropout + Gaussian noise, back on the sphere."""
        if self.augment is not None:
            return self.augment(x, gen)
        if self.feature_dropout > 0:
            keep = torch.rand(x.shape, generator=gen, device=x.device) >= self.feature_dropout
            x = x * keep / (1.0 - self.feature_dropout)
        if self.noise_scale > 0:
            dim = int(np.prod(x.shape[1:]))
            noise = torch.randn(x.shape, generator=gen, device=x.device, dtype=x.dtype)
            x = x + noise * (self.noise_scale / dim ** 0.5)
        if self.normalize:
            x = torch.nn.functional.normalize(x.reshape(x.shape[0], -1), dim=1).reshape(x.shape)
        return x

    def _train(self, net, X_t, knn_t, n_clusters, thresholds, gen, torch):
        n_samples, k = knn_t.shape
        batch = min(self.batch_size, n_samples)
        steps_per_epoch = -(-n_samples // batch)
        total_steps = max(self.n_epochs * steps_per_epoch, self.min_steps)
        n_epochs = -(-total_steps // steps_per_epoch)
        dev = X_t.device
        prior = torch.full((self.n_heads, n_clusters), 1.0 / n_clusters, device=dev)
        # the reference starts the count EMA at 1/C too; it reaches the data's
        # scale long before ``reassign_after`` steps
        counts = torch.full((self.n_heads, n_clusters), 1.0 / n_clusters, device=dev)
        opt = torch.optim.Adam(net.parameters(), lr=self.learning_rate,
                               weight_decay=self.weight_decay)
        losses, step, n_reassigned = [], 0, 0
        net.train()
        with progress_bar(total=total_steps, desc="USL-T", disable=not self.verbose) as bar:
            for _ in range(n_epochs):
                perm = torch.randperm(n_samples, generator=gen, device=dev)
                total, n_batches = 0.0, 0
                for s in range(steps_per_epoch):
                    if step == total_steps:
                        break
                    idx = perm[s * batch:(s + 1) * batch]
                    b = idx.shape[0]
                    pick = torch.randint(k, (b,), generator=gen, device=dev)
                    nbr = knn_t[idx, pick]
                    weak = X_t[idx]
                    strong = self._perturb(weak, gen, torch)
                    nbr_strong = self._perturb(X_t[nbr], gen, torch)
                    # targets only: no gradient through the weak view or the neighbour
                    with torch.no_grad():
                        z_targets = net(torch.cat([weak, nbr_strong]))
                    z_strong_all = net(strong)
                    loss = 0.0
                    for h in range(self.n_heads):
                        z_weak, z_nbr = z_targets[h, :b], z_targets[h, b:]
                        z_strong = z_strong_all[h]
                        loss = loss + _losses.global_loss(
                            z_weak, z_strong, tau=self.tau, reweight=self.reweight,
                            mean_outside_mask=self.mean_outside_mask)
                        # the anchor is the strong view, as in the reference
                        loss = loss + self.local_weight * _losses.local_loss(
                            z_strong, z_nbr, prior[h], alpha=self.alpha,
                            temperature=self.sharpen_temperature)
                        prior[h] = _losses.update_prior(prior[h], z_nbr, self.prior_momentum)
                        counts[h] = _losses.update_counts(counts[h], z_weak, tau=self.tau,
                                                          n_samples=n_samples,
                                                          momentum=COUNT_MOMENTUM)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    step += 1
                    if thresholds is not None and step > self.reassign_after:
                        n_reassigned += _reassign(net, counts, n_samples / n_clusters,
                                                  thresholds, gen, torch)
                    total += float(loss.detach())
                    n_batches += 1
                    bar.update(1)
                losses.append(total / max(n_batches, 1))
                bar.set_postfix_str(f"loss={losses[-1]:.4f}")
        net.eval()
        return dict(prior=prior, counts=counts, losses=losses, n_steps=step,
                    n_reassigned=n_reassigned)

    # -------------------------------------------------------- inference API
    def _prepare(self, X):
        X = check_embeddings(self, X, reset=False)
        X = (rows_to_float32(X) if self.normalize
             else check_distance_range(np.asarray(X, dtype=np.float32)))
        return normalize_rows(X) if self.normalize else X

    def predict_proba(self, X):
        """Soft cluster assignments of head 0 (the head that gives the clusters).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_clusters)
            Rows sum to one.
        """
        return self._assign(X)[0]

    def predict(self, X):
        """Cluster of highest probability under head 0.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return self.predict_proba(X).argmax(axis=1).astype(np.int64)

    def score_samples(self, X):
        """Confidence: mean over heads of each head's maximum probability.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        confidence : ndarray of shape (n_samples,)
        """
        return self._assign(X)[1]

    def _assign(self, X):
        """Head 0's probabilities and the confidence of new samples."""
        check_is_fitted(self)
        torch = import_torch("USLTClusterer")
        X = self._prepare(X)
        with _TorchThreads(self.n_jobs, torch):
            proba, confidence, _ = _soft_assign(self.model_, torch.from_numpy(X), torch)
        return proba, confidence

    def transform(self, X):
        """Soft cluster assignments (same as :meth:`predict_proba`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_clusters)
        """
        return self.predict_proba(X)

    def fit_transform(self, X, y=None, **fit_params):
        """Fit, then return the soft assignments of the training samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.
        **fit_params : dict
            Ignored.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_clusters)
        """
        return self.fit(X).transform(X)

    def get_support(self, indices=False):
        """Mask (or indices) of the selected training samples.

        Parameters
        ----------
        indices : bool, default=False
            Return ``selected_indices_`` instead of a boolean mask.

        Returns
        -------
        support : ndarray
        """
        check_is_fitted(self)
        return support(self.selected_indices_, self.labels_.shape[0], indices)

    def get_feature_names_out(self, input_features=None):
        """Names of the soft-assignment columns: ``usltclusterer0``, ...

        Parameters
        ----------
        input_features : None
            Ignored.

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self)
        return np.asarray([f"usltclusterer{c}" for c in range(self.n_clusters_)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = []
        return tags


class _TorchThreads:
    """Set torch's intra-op thread count for a block, then restore it."""

    def __init__(self, n_jobs, torch):
        import os

        self.torch = torch
        cores = os.cpu_count() or 1
        if n_jobs is None:
            self.n = 1
        elif n_jobs < 0:
            self.n = max(1, cores + 1 + n_jobs)
        else:
            self.n = max(1, int(n_jobs))

    def __enter__(self):
        self.previous = self.torch.get_num_threads()
        self.torch.set_num_threads(self.n)
        return self

    def __exit__(self, *exc):
        self.torch.set_num_threads(self.previous)
        return False


def _soft_assign(net, X_t, torch, chunk=4096):
    """Head 0's probabilities and the per-sample confidence.

    Returns ``proba`` (n, C) float64 from head 0 alone, ``confidence`` = mean
    over heads of each head's max probability, and ``log_conf`` = mean over
    heads of each head's max log-probability (a tie-breaker that does not
    saturate at 1). Each head is read in its own numbering; no probability is
    ever averaged across heads, whose cluster ids are unrelated.
    """
    probs, confs, logcs = [], [], []
    with torch.no_grad(), eval_mode(net):
        for start in range(0, X_t.shape[0], chunk):
            z = net(X_t[start:start + chunk]).to(torch.float64)  # (heads, b, C)
            logp = torch.log_softmax(z, dim=2)
            max_logp = logp.max(dim=2).values  # each head's own best cluster
            probs.append(torch.exp(logp[0]).cpu())
            confs.append(torch.exp(max_logp).mean(dim=0).cpu())
            logcs.append(max_logp.mean(dim=0).cpu())
    return (torch.cat(probs).numpy(), torch.cat(confs).numpy(), torch.cat(logcs).numpy())


def _reassign(net, counts, mean_size, thresholds, gen, torch):
    """Split the largest cluster into the smallest one where the counts call for it.

    Per head: if the smallest count EMA is below ``low * mean_size`` and the
    largest above ``high * mean_size``, the smallest cluster's weight becomes
    the largest one's plus a tiny random perturbation (minus it for the
    largest), and both take half the largest count. The two copies then
    split the large cluster along the random direction (DeeperCluster's
    empty-cluster trick, used by the reference). Returns the number of
    reassignments made.
    """
    low, high = thresholds[0] * mean_size, thresholds[1] * mean_size
    n = 0
    with torch.no_grad():
        for h in range(counts.shape[0]):
            min_val, min_ind = counts[h].min(dim=0)
            max_val, max_ind = counts[h].max(dim=0)
            if not (float(min_val) < low and float(max_val) > high):
                continue
            w = net.heads[h, max_ind].clone()
            pert = torch.randn(w.shape, generator=gen, device=w.device, dtype=w.dtype)
            pert = pert * (REASSIGN_EPS * float(w.norm()))
            net.heads[h, min_ind] = w + pert
            net.heads[h, max_ind] = w - pert
            half = counts[h, max_ind] / 2
            counts[h, min_ind] = half
            counts[h, max_ind] = half
            n += 1
    return n


def cluster_purity(labels, knn):
    """Share of each sample's kNN (``knn``: (n, k) indices) in its own cluster.

    A dense sample at a cluster's edge whose neighbours lie in the next
    cluster represents that cluster rather than its own; weighting the
    density by this share keeps such samples from being their cluster's pick.
    """
    return (labels[knn] == labels[:, None]).mean(axis=1)


def _select(labels, score, tiebreak, n_select, n_clusters):
    """One member per kept cluster (best ``score``), largest cluster first.

    Clusters are ranked by size (ties: lower index); the ``n_select`` largest
    non-empty ones each give their best member (highest ``score``, then
    highest ``tiebreak``, then lowest index). If fewer than ``n_select``
    clusters are non-empty, the remaining picks go round-robin over the
    clusters (by size) to their next best members. One sort, no loop over
    samples.
    """
    n = labels.shape[0]
    order = np.lexsort((np.arange(n), -tiebreak, -score, labels))  # by cluster, best first
    sizes = np.bincount(labels, minlength=n_clusters)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    by_size = np.lexsort((np.arange(n_clusters), -sizes))
    by_size = by_size[sizes[by_size] > 0]
    picks = list(order[starts[by_size[:n_select]]])
    depth = 1
    while len(picks) < n_select:
        for c in by_size:
            if depth < sizes[c] and len(picks) < n_select:
                picks.append(order[starts[c] + depth])
        depth += 1
    return np.asarray(picks, dtype=np.int64)


def _centers(X, labels, proba, n_clusters):
    centers = np.zeros((n_clusters, X.shape[1]), dtype=np.float64)
    np.add.at(centers, labels, X.astype(np.float64))
    empty = np.bincount(labels, minlength=n_clusters) == 0
    for c in np.flatnonzero(empty):
        centers[c] = X[np.argmax(proba[:, c])]
    return normalize_rows(centers)
