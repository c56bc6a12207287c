"""USLSelector: training-free unsupervised selective labeling."""

from numbers import Integral, Real

import numpy as np
from .._sklearn_compat import Interval, StrOptions

from .._backends import get_kernels, get_namespace, resolve_backend, to_host
from ..neighbors import arrays_to_graph, kneighbors
from ._base import KNN_CONSTRAINTS, BaseSelector
from ..neighbors._kmeans import fit_kmeans
from ._usl_core import (density_utility, finalize_selection, regularized_selection,
                        two_hop_utility)


class USLSelector(BaseSelector):
    """Unsupervised Selective Labeling (USL), training-free.

    Picks ``n_select`` samples that are both *representative* (in dense
    regions of the embedding) and *diverse* (one per K-Means cluster, pushed
    apart by an inter-cluster regulariser), following Wang, Lian & Yu,
    "Unsupervised Selective Labeling for More Effective Semi-Supervised
    Learning", ECCV 2022, Sec. 3.1. Hand the indices to annotators, then
    spread their labels with :class:`skusl.labeling.HDLLabeler`.

    Steps: (1) L2-normalise (``normalize``); (2) kNN density utility
    ``U_i = 1 / mean_{j in kNN(i)} ||x_i - x_j||^2`` (eq. 2); (3) K-Means into
    ``n_clusters`` clusters, the max-utility member of each (eq. 3-4);
    (4) ``reg_iter`` rounds of re-picking ``argmax(U - lambda Reg)`` per
    cluster with ``Reg_i = sum_s 1 / ||x_i - s||^(2 alpha)`` over the picks
    s of other clusters, smoothed by momentum (eq. 5-6).

    Parameters
    ----------
    n_select : int, default=10
        Annotation budget: the number of samples returned (paper: M).
    n_neighbors : int, default=20
        Neighbours in the density estimate, the sample itself excluded
        (paper: K). The reference code counts the sample as one of its own
        K neighbours, so its K maps to ``n_neighbors = K - 1`` (CIFAR-10:
        K=400 -> 399; ImageNet: K=20 -> 19). Our utility averages over the
        ``n_neighbors`` true neighbours, i.e. the reference's ``1 / mean`` times
        ``(K-1)/K``, a constant factor that leaves the ranking unchanged and
        scales ``reg_weight``'s balance by under 0.3% at K=400. The default 20
        follows the ImageNet setting and keeps the graph small (O(n k)).
    n_clusters : int or None, default=None
        K-Means clusters (paper: C). ``None`` means ``n_select``. When larger
        than ``n_select``, the picks of the ``n_select`` largest clusters are
        kept (ties by cluster id). When smaller (or when clusters come up
        empty, as on duplicate-heavy data), each cluster gives one pick and the
        rest are the highest-utility samples not yet chosen.
    utility : {"density", "two_hop"}, default="density"
        ``"density"``: eq. 2. ``"two_hop"``: the DC-SSL variant
        ``U_i + sum_{j in kNN(i)} cos(x_i, x_j) U_j``.
    normalize : bool, default=True
        Project features onto the unit sphere first, as the paper does.
    reg_weight : float, default=0.5
        Weight of the regulariser (paper: lambda). 0 disables it.
    reg_alpha : float, default=0.5
        Exponent on the *squared* distance in the regulariser (paper:
        alpha); 0.5 gives ``1 / Euclidean distance`` as on CIFAR-10.
    reg_momentum : float, default=0.9
        Momentum of the regulariser's moving average (paper: m).
    reg_iter : int, default=10
        Selection rounds, the first without regulariser (the reference's
        ``iters``): ``reg_iter - 1`` regulariser updates.
    reg_horizon : int or None, default=None
        Only the ``reg_horizon`` nearest picks of other clusters repel a
        point (ImageNet: 32-128); ``None`` uses all (CIFAR-10).
    reg_scale : {"cluster", "raw"}, default="cluster"
        ``"raw"``: ``U - reg_weight * Reg`` with the reference's values. In
        the reference's units the regulariser is inert at small budgets: U
        (1 / mean squared kNN distance) varies inside a cluster by far more
        than Reg (1 / distance summed over the other picks, smoothed by a
        momentum that after 9 updates reaches only ``1 - 0.9^9 = 61%`` of its
        value), so ``reg_weight=0.5`` changes 0 of 10 picks on fashion20k.
        ``"cluster"``: Reg is rescaled inside every cluster to the utility's
        spread there (``Reg * std_c(U) / std_c(Reg)``), so ``reg_weight`` is
        the share of the utility's spread the repulsion may cost, the same on
        every dataset. Evidence: ``docs/benchmarks/quality``.
    neighbors : {"auto", "exact", "approximate"} or estimator, default="auto"
        How to build the kNN graph; see :func:`skusl.neighbors.kneighbors`.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        Kernels for the kNN graph and the regulariser. ``"auto"``: CuPy for
        CuPy input, Numba otherwise (never needs a GPU). CuPy input is
        computed on the GPU and the fitted arrays are CuPy arrays; NumPy
        input with ``"cupy"`` is copied to the GPU and the results back.
        ``knn_graph_`` is always a SciPy matrix and K-Means always runs on
        the host (scikit-learn), so the same seed gives the same selection
        on every backend (up to float rounding on the GPU).
    random_state : int, RandomState instance or None, default=None
        Seeds K-Means and the approximate kNN search. Same seed, same
        selection.
    n_jobs : int or None, default=None
        Threads for the Numba kernels and pynndescent (-1: all cores).
    verbose : bool, default=False
        Show progress bars.

    Notes
    -----
    Warm start: with ``fit(X, labeled=idx)``, K-Means makes ``n_select +
    len(idx)`` clusters (when ``n_clusters`` is None); clusters holding a
    labeled sample give no pick, and the labeled samples repel the picks in
    the regulariser. Not prefix-consistent: the partition depends on the
    budget.

    Attributes
    ----------
    selected_indices_ : ndarray of shape (n_select,)
        Chosen samples, highest utility first.
    labels_ : ndarray of shape (n_samples,)
        K-Means cluster of every sample.
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        K-Means centroids (in the normalised space).
    utility_ : ndarray of shape (n_samples,)
        The utility ``U`` of every sample (density or two-hop).
    regularizer_ : ndarray of shape (n_samples,)
        The regulariser ``Reg`` behind the final picks.
    knn_graph_ : scipy.sparse.csr_matrix of shape (n_samples, n_samples)
        The kNN distance graph (self excluded), reusable by
        ``HDLLabeler(metric="precomputed")``.
    prototypes_ : ndarray of shape (n_select, n_features)
        The selected samples in the selector's feature space.
    n_samples_fit_ : int
        Number of training samples.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when ``X`` has string column names.

    See Also
    --------
    skusl.labeling.HDLLabeler : spread the selected samples' labels.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skusl import USLSelector
    >>> X, y = load_digits(return_X_y=True)
    >>> selector = USLSelector(n_select=10, random_state=0).fit(X)
    >>> selector.selected_indices_.shape
    (10,)
    >>> len(set(y[selector.selected_indices_])) >= 7
    True
    """

    _supports_cupy = True
    _supports_labeled = True

    _parameter_constraints: dict = {
        **BaseSelector._parameter_constraints,
        **KNN_CONSTRAINTS,
        "n_clusters": [Interval(Integral, 1, None, closed="left"), None],
        "utility": [StrOptions({"density", "two_hop"})],
        "reg_weight": [Interval(Real, 0, None, closed="left")],
        "reg_alpha": [Interval(Real, 0, None, closed="left")],
        "reg_momentum": [Interval(Real, 0, 1, closed="both")],
        "reg_iter": [Interval(Integral, 1, None, closed="left")],
        "reg_horizon": [Interval(Integral, 1, None, closed="left"), None],
        "reg_scale": [StrOptions({"cluster", "raw"})],
    }

    def __init__(self, n_select=10, *, n_neighbors=20, n_clusters=None, utility="density",
                 normalize=True, reg_weight=0.5, reg_alpha=0.5, reg_momentum=0.9,
                 reg_iter=10, reg_horizon=None, reg_scale="cluster", neighbors="auto",
                 backend="auto", random_state=None, n_jobs=None, verbose=False):
        self.n_select = n_select
        self.n_neighbors = n_neighbors
        self.n_clusters = n_clusters
        self.utility = utility
        self.normalize = normalize
        self.reg_weight = reg_weight
        self.reg_alpha = reg_alpha
        self.reg_momentum = reg_momentum
        self.reg_iter = reg_iter
        self.reg_horizon = reg_horizon
        self.reg_scale = reg_scale
        self.neighbors = neighbors
        self.backend = backend
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _select(self, X, random_state):
        n_samples = X.shape[0]
        labeled = self.labeled_indices_
        n_clusters = (min(self.n_select + labeled.size, n_samples) if self.n_clusters is None
                      else self.n_clusters)
        if n_clusters > n_samples:
            raise ValueError(f"n_clusters={n_clusters} exceeds n_samples={n_samples}; "
                             "lower n_clusters.")
        backend = resolve_backend(self.backend, X)
        knn_seed, kmeans_seed = random_state.randint(np.iinfo(np.int32).max, size=2)
        # Device rule: CuPy input computes on the GPU and keeps CuPy results;
        # NumPy input with backend="cupy" goes to the GPU and comes back.
        back = _identity
        if backend == "cupy" and get_namespace(X) is np:
            X = get_kernels("cupy").to_device(X)
            back = to_host
        xp = get_namespace(X)

        dist, ind = kneighbors(X, self.n_neighbors, neighbors=self.neighbors,
                               backend=backend, random_state=int(knn_seed),
                               n_jobs=self.n_jobs, verbose=self.verbose)
        dist, ind = xp.asarray(dist), xp.asarray(ind)  # a given graph comes from the host
        self.knn_graph_ = arrays_to_graph(to_host(dist), to_host(ind))  # SciPy, host
        utility = density_utility(dist.astype(xp.float64) ** 2)
        if self.utility == "two_hop":
            utility = two_hop_utility(utility, X, dist, ind)

        # K-Means runs on the host (scikit-learn) on every backend, so the same
        # seed gives the same partition; X is small next to the kNN work.
        labels, centers = fit_kmeans(to_host(X), n_clusters, int(kmeans_seed))
        labels = xp.asarray(labels)
        pick_utility, extra = utility, None
        if labeled.size:
            # labeled samples: never picked (below every utility), repel the picks
            extra = xp.asarray(labeled)
            low = float(utility.min()) - float(utility.max() - utility.min()) - 1.0
            pick_utility = xp.where(_mask(xp, n_samples, extra), low, utility)
        picks, reg = regularized_selection(
            X, pick_utility, labels, n_clusters, reg_weight=self.reg_weight,
            reg_alpha=self.reg_alpha, reg_momentum=self.reg_momentum,
            reg_iter=self.reg_iter, reg_horizon=self.reg_horizon, backend=backend,
            verbose=self.verbose, reg_scale=self.reg_scale, extra_repellers=extra)
        if labeled.size:  # clusters holding a labeled sample give no pick
            held = xp.zeros(n_clusters, dtype=bool)
            held[labels[extra]] = True
            picks = xp.where(held, -1, picks)
            pick_utility = xp.where(_mask(xp, n_samples, extra), -xp.inf, utility)

        selected = finalize_selection(picks, labels, pick_utility, self.n_select)
        self.utility_ = back(utility)
        self.regularizer_ = back(reg)
        self.labels_ = back(labels)
        self.cluster_centers_ = back(xp.asarray(centers))
        return back(selected)


def _mask(xp, n, idx):
    mask = xp.zeros(n, dtype=bool)
    mask[idx] = True
    return mask


def _identity(a):
    return a
