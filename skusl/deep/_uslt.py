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
from . import _losses
from ._torch import deterministic_algorithms, eval_mode, import_torch, resolve_device


class USLTClusterer(ClusterMixin, TransformerMixin, BaseEstimator):
    """USL-T: learn clusters on embeddings, then select their most confident members.

    The training-based selective labeling of Wang, Lian & Yu, "Unsupervised
    Selective Labeling for More Effective Semi-Supervised Learning" (ECCV
    2022). ``C = n_clusters`` cosine cluster heads (``n_heads`` of them) sit on
    the frozen embeddings, optionally behind a small MLP neck or a trainable
    ``backbone``, and are trained with Adam on

    ``L = L_global + lambda * L_local``

    * global loss: cross-entropy of the strong view against the argmax
      prediction of the weak view, only where that prediction's probability
      exceeds ``tau``; with ``reweight`` each kept sample is weighted by the
      inverse frequency of its pseudo-label in the batch;
    * local loss: ``KL(sharpen(softmax(z_nbr - alpha log p_bar), T) ||
      softmax(z_anchor))`` with the neighbour drawn uniformly from the
      anchor's ``n_neighbors`` nearest neighbours (a fixed kNN graph from
      :func:`skusl.neighbors.kneighbors`) and ``p_bar`` the running average
      of the cluster marginals (momentum ``prior_momentum``).

    After training every sample gets the cluster of highest probability
    (averaged over heads); its probability is its confidence. The most
    confident member of each cluster is selected.

    Parameters
    ----------
    n_select : int, default=10
        Number of samples to select (the annotation budget), ``M`` in the
        paper.
    n_clusters : int or None, default=None
        ``C``, the number of learned clusters; ``None`` means ``n_select``.
        When ``C > n_select`` the ``n_select`` largest clusters are kept.
    n_heads : int, default=3
        Independent cluster heads (the paper's multi-head training);
        probabilities are averaged over them.
    n_neighbors : int, default=20
        ``k``: the neighbour of the local loss is drawn from the ``k``
        nearest (20 in the reference setup).
    tau : float, default=0.95
        ``tau``, confidence threshold of the global loss.
    reweight : bool, default=True
        Inverse-frequency reweighting of the global loss.
    alpha : float, default=5.0
        ``alpha``, strength of the logit adjustment ``- alpha log p_bar`` of
        the neighbour's prediction (CIFAR: 5, ImageNet: 2.5).
    sharpen_temperature : float, default=0.25
        ``T``, sharpening temperature of the local-loss target (CIFAR: 0.25,
        ImageNet: 0.5).
    local_weight : float, default=5.0
        ``lambda``, weight of the local loss in the total (CIFAR: 5,
        ImageNet: 0.5).
    prior_momentum : float, default=0.5
        Momentum ``m`` of the EMA ``p_bar <- m p_bar + (1 - m) mean(p_nbr)``.
    learning_rate : float, default=1e-4
        Adam learning rate (as in the paper).
    weight_decay : float, default=1e-4
        Adam weight decay (as in the paper).
    n_epochs : int, default=30
        Passes over the data. With the default batch size this is about
        2,400 Adam steps on 20,000 samples; see Notes.
    batch_size : int, default=256
    hidden_layer_sizes : tuple of int, default=()
        Widths of the trainable MLP neck between the (frozen) embeddings and
        the heads; ``()`` puts the heads directly on the embeddings (pure
        spherical clustering of the input).
    logit_scale : float, default=40.0
        Fixed scale ``s`` of the cosine logits, ``z = s cos(f(x), w_c)``
        (fixed, not learned, so it cannot collapse; 40 makes ``tau = 0.95``
        reachable).
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
        Cluster of every training sample (argmax of the head-averaged
        probabilities).
    confidence_ : ndarray of shape (n_samples,)
        Probability of that cluster, averaged over heads.
    selected_indices_ : ndarray of shape (n_select,)
        The selected samples: in each kept cluster, the member of highest
        confidence; ordered most confident first.
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        L2-normalised mean (input space) of each cluster's members; for an
        empty cluster the sample most likely to belong to it.
    cluster_sizes_ : ndarray of shape (n_clusters,)
    cluster_prior_ : ndarray of shape (n_heads, n_clusters)
        ``p_bar`` at the end of training.
    loss_curve_ : list of float
        Mean total loss of every epoch.
    n_iter_ : int
        Epochs run.
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

    Notes
    -----
    **Strong view in feature space.** USL-T contrasts a weakly and a strongly
    augmented image. On precomputed embeddings there are no images, so the
    weak view is the embedding itself and the strong view is a perturbation
    of it: inverted dropout with rate ``feature_dropout``, plus isotropic
    Gaussian noise of expected norm ``noise_scale``, then re-normalised to the
    sphere. Augmentations of one image land in a small neighbourhood of its
    embedding, and this perturbation samples such a neighbourhood: dropout
    removes a random subset of feature coordinates (as a crop or colour change
    removes some evidence) and the noise moves the point by a fraction of the
    typical nearest-neighbour distance, so the strong view keeps the sample's
    identity while making the global loss demand predictions that are stable
    in its neighbourhood. The neighbour of the local loss gets the same
    perturbation, as its image would be augmented in the paper. With a
    ``backbone`` on raw inputs, pass real augmentations through ``augment``.

    **Initialisation and schedule.** The cluster weights start at the (neck)
    features of ``C`` distinct randomly drawn samples rather than at random
    directions: with the paper's small learning rate, random directions spend
    most of a short CPU budget near the uniform prediction. ``n_epochs=30``
    and ``batch_size=256`` train about 2,400 steps on 20,000 samples,
    enough for the losses to level off on the shared benchmark sets while
    fitting in about a minute on two CPU cores (see ``docs/benchmarks/uslt.md``).

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
    >>> uslt = USLTClusterer(n_select=5, n_epochs=2, random_state=0).fit(X)
    >>> uslt.selected_indices_.shape
    (5,)
    """

    _parameter_constraints = {
        "n_select": [Count(numbers.Integral, 1, None, closed="left")],  # bool is no budget
        "n_clusters": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "n_heads": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_neighbors": [Interval(numbers.Integral, 1, None, closed="left")],
        "tau": [Interval(numbers.Real, 0, 1, closed="left")],
        "reweight": ["boolean"],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "sharpen_temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "local_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "prior_momentum": [Interval(numbers.Real, 0, 1, closed="both")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "n_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
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

    def __init__(self, n_select=10, *, n_clusters=None, n_heads=3, n_neighbors=20, tau=0.95,
                 reweight=True, alpha=5.0, sharpen_temperature=0.25, local_weight=5.0,
                 prior_momentum=0.5, learning_rate=1e-4, weight_decay=1e-4, n_epochs=30,
                 batch_size=256, hidden_layer_sizes=(), logit_scale=40.0,
                 noise_scale=0.1, feature_dropout=0.1, augment=None, backbone=None,
                 normalize=True, neighbors="auto", device="auto", n_jobs=None,
                 random_state=None, verbose=False):
        self.n_select = n_select
        self.n_clusters = n_clusters
        self.n_heads = n_heads
        self.n_neighbors = n_neighbors
        self.tau = tau
        self.reweight = reweight
        self.alpha = alpha
        self.sharpen_temperature = sharpen_temperature
        self.local_weight = local_weight
        self.prior_momentum = prior_momentum
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.n_epochs = n_epochs
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
        X = (rows_to_float32(X) if self.normalize
             else check_distance_range(np.asarray(X, dtype=np.float32)))
        if self.normalize:
            X = normalize_rows(X)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        _, knn = kneighbors(X, self.n_neighbors, neighbors=self.neighbors,
                            random_state=seed, n_jobs=self.n_jobs, verbose=self.verbose)

        from ._network import USLTNetwork
        import copy

        device = resolve_device(self.device)
        with deterministic_algorithms(device.type != "cpu"), _torch_threads(self.n_jobs, torch):
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
            prior, losses = self._train(net, X_t, knn_t, n_clusters, gen, torch)
            proba, log_conf = self._soft_assign(net, X_t, torch)

        self.model_ = net.to("cpu")
        self.cluster_prior_ = prior.cpu().numpy().astype(np.float64)
        self.loss_curve_ = losses
        self.n_iter_ = len(losses)
        self.n_clusters_ = n_clusters
        self.labels_ = proba.argmax(axis=1).astype(np.int64)
        self.confidence_ = proba[np.arange(n_samples), self.labels_]
        self.cluster_sizes_ = np.bincount(self.labels_, minlength=n_clusters)
        self.selected_indices_ = _select(self.labels_, self.confidence_, log_conf,
                                         self.n_select, n_clusters)
        self.cluster_centers_ = _centers(X, self.labels_, proba, n_clusters)
        self.fit_time_ = time.perf_counter() - start
        return self

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

    def _train(self, net, X_t, knn_t, n_clusters, gen, torch):
        n_samples, k = knn_t.shape
        batch = min(self.batch_size, n_samples)
        steps = -(-n_samples // batch)
        prior = torch.full((self.n_heads, n_clusters), 1.0 / n_clusters, device=X_t.device)
        opt = torch.optim.Adam(net.parameters(), lr=self.learning_rate,
                               weight_decay=self.weight_decay)
        losses = []
        net.train()
        with progress_bar(total=self.n_epochs, desc="USL-T", disable=not self.verbose) as bar:
            for _ in range(self.n_epochs):
                perm = torch.randperm(n_samples, generator=gen, device=X_t.device)
                total = 0.0
                for s in range(steps):
                    idx = perm[s * batch:(s + 1) * batch]
                    b = idx.shape[0]
                    pick = torch.randint(k, (b,), generator=gen, device=X_t.device)
                    nbr = knn_t[idx, pick]
                    weak = X_t[idx]
                    views = torch.cat([weak, self._perturb(weak, gen, torch),
                                       self._perturb(X_t[nbr], gen, torch)])
                    logits = net(views)
                    loss = 0.0
                    for h in range(self.n_heads):
                        z_weak, z_strong, z_nbr = logits[h, :b], logits[h, b:2 * b], logits[h, 2 * b:]
                        loss = loss + _losses.global_loss(z_weak, z_strong, tau=self.tau,
                                                          reweight=self.reweight)
                        loss = loss + self.local_weight * _losses.local_loss(
                            z_weak, z_nbr, prior[h], alpha=self.alpha,
                            temperature=self.sharpen_temperature)
                        prior[h] = _losses.update_prior(prior[h], z_nbr, self.prior_momentum)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    total += float(loss.detach())
                losses.append(total / steps)
                bar.update(1)
                bar.set_postfix_str(f"loss={losses[-1]:.4f}")
        net.eval()
        return prior, losses

    def _soft_assign(self, net, X_t, torch):
        """Head-averaged probabilities (float64) and mean log-probabilities."""
        probs, logps = [], []
        with torch.no_grad(), eval_mode(net):
            for start in range(0, X_t.shape[0], 4096):
                z = net(X_t[start:start + 4096]).to(torch.float64)
                probs.append(torch.softmax(z, dim=2).mean(dim=0).cpu())
                logps.append(torch.log_softmax(z, dim=2).mean(dim=0).cpu())
        proba = torch.cat(probs).numpy()
        logp = torch.cat(logps).numpy()
        labels = proba.argmax(axis=1)
        return proba, logp[np.arange(len(labels)), labels]

    # -------------------------------------------------------- inference API
    def predict_proba(self, X):
        """Soft cluster assignments, averaged over heads.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_clusters)
            Rows sum to one.
        """
        check_is_fitted(self)
        torch = import_torch("USLTClusterer")
        X = check_embeddings(self, X, reset=False)
        X = (rows_to_float32(X) if self.normalize
             else check_distance_range(np.asarray(X, dtype=np.float32)))
        if self.normalize:
            X = normalize_rows(X)
        with _torch_threads(self.n_jobs, torch):
            proba, _ = self._soft_assign(self.model_, torch.from_numpy(X), torch)
        return proba

    def predict(self, X):
        """Cluster of highest head-averaged probability.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return self.predict_proba(X).argmax(axis=1).astype(np.int64)

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


class _torch_threads:
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


def _select(labels, confidence, log_conf, n_select, n_clusters):
    """One per kept cluster (the most confident), most confident first.

    Clusters are ranked by size (ties: lower index); the ``n_select`` largest
    non-empty ones each give their most confident member. If fewer than
    ``n_select`` clusters are non-empty, the remaining picks go round-robin
    over the clusters (by size) to their next most confident members.
    """
    sizes = np.bincount(labels, minlength=n_clusters)
    order_clusters = np.lexsort((np.arange(n_clusters), -sizes))
    order_clusters = order_clusters[sizes[order_clusters] > 0]
    members = {}
    for c in order_clusters:
        idx = np.flatnonzero(labels == c)
        # confidence first, then the (non-saturating) mean log-probability, then index
        rank = np.lexsort((idx, -log_conf[idx], -confidence[idx]))
        members[c] = idx[rank]
    primary = [members[c][0] for c in order_clusters[:n_select]]
    fill = []
    depth = 1
    while len(primary) + len(fill) < n_select:
        for c in order_clusters:
            if depth < len(members[c]) and len(primary) + len(fill) < n_select:
                fill.append(members[c][depth])
        depth += 1

    def by_confidence(ids):
        ids = np.asarray(ids, dtype=np.int64)
        return ids[np.lexsort((ids, -log_conf[ids], -confidence[ids]))]

    return np.concatenate([by_confidence(primary), by_confidence(fill)]).astype(np.int64)


def _centers(X, labels, proba, n_clusters):
    centers = np.zeros((n_clusters, X.shape[1]), dtype=np.float64)
    np.add.at(centers, labels, X.astype(np.float64))
    empty = np.bincount(labels, minlength=n_clusters) == 0
    for c in np.flatnonzero(empty):
        centers[c] = X[np.argmax(proba[:, c])]
    return normalize_rows(centers)
