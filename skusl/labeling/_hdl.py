"""HDLLabeler: Hierarchical Dynamic Labeling over the embedding kNN graph."""

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from .._sklearn_compat import HasMethods, StrOptions, _fit_context

# split_labels lives in skusl._validation (one reading of y for every estimator).
from .._validation import Count, check_embeddings, normalize_rows, split_labels
from ..neighbors import NEIGHBORS_METHODS
from ._methods import DEFAULT_NEIGHBORS, METHODS

from ._propagate import (hdl_fallback_mask, hdl_labels, majority_vote, rows_to_arrays,
                         similarity, weighted_vote)


#: ``n_neighbors="auto"``: the largest k AutoK tries (the HDL paper's range).
AUTO_K_MAX = 20


# --------------------------------------------------------------------------- estimator
class HDLLabeler(ClassifierMixin, BaseEstimator):
    """Spread a few labels over the kNN graph: by rounds (default), HDL or kNN-DV.

    Semi-supervised, in scikit-learn's convention (as ``LabelSpreading``):
    ``fit(X, y)`` with ``y == -1`` for the unlabeled samples labels every
    sample (``transduction_``); ``predict`` labels new samples by a vote of
    their k nearest training samples.

    **method="rounds" (default).** One kNN graph over labeled and unlabeled
    samples (k out-neighbours per sample, self excluded). An edge ``i -> j``
    (``j`` among ``i``'s neighbours) is a *forward* edge of ``i`` and a
    *reverse* edge of ``j``. A sample labeled in round ``r`` (the given labels:
    round 0) makes its unlabeled reverse neighbours (the samples that have it
    among their neighbours) candidates of round ``r + 1`` and its unlabeled
    forward neighbours candidates of round ``r + 2``: every labeled region
    grows one hop per round along forward edges and one per two rounds along
    reverse ones, so none floods the others (HDL's global level lets the
    first region's front run across class borders at k >= 10). A round's
    candidates are taken in order of ``2 F + R`` when the round starts (``F``
    labeled forward neighbours, ``R`` labeled reverse ones; descending, ties
    by the smaller index), and each is labeled at its turn by the
    similarity-weighted vote (``1 / (d + 1e-12)``) of its neighbours labeled
    at that turn, reverse ones at half weight (ties by the count, forward 2
    and reverse 1, then the smallest class). This keeps HDL's two ideas, the
    most labeled neighbours first and a labeled set that grows as it goes,
    inside each round. Reverse edges matter at small k: without them, the
    samples whose neighbours all point away from the labeled ones (8% to
    58% of the unlabeled samples of the shared sets at k = 3, one random
    label per class) were left to the fallback, and k = 3 fell to 85% of
    the best k's accuracy at one label per class (96% with them,
    docs/benchmarks/propagation.md). Only samples in graph components
    without a labeled sample get the fallback below (level 0, confidence 0).
    O(n k) time and memory after the graph, plus one sort per round.

    **method="hdl"**, the paper's Algorithm 1, unchanged. For an unlabeled
    sample ``i``, ``L_i`` is the number of labeled samples among its k
    neighbours. Until no sample is unlabeled:

    1. ``m = max L`` over the unlabeled samples; the level set ``S`` is every
       unlabeled sample with ``L_i = m`` (taken when the level starts).
    2. ``S`` is ordered once, by the number of members of ``S`` that have
       ``i`` among their neighbours (descending: labeling ``i`` first helps
       the most others), ties by the smaller index.
    3. The members of ``S`` are labeled in that order, each by the majority
       class of its neighbours labeled *at that moment* (including members of
       ``S`` labeled just before it: each labeled sample joins the labeled
       set at once). Ties between classes go to the larger summed similarity
       ``1 / (d + 1e-12)`` (``d`` the Euclidean distance), remaining ties to
       the smallest class (in ``classes_`` order).
    4. ``L`` of every unlabeled sample that has a newly labeled sample among
       its neighbours grows by one; samples of ``S`` are not re-leveled.
       The next level is taken from the updated ``L`` (it may be higher than
       ``m``).

    When ``m = 0`` (no unlabeled sample has a labeled neighbour) the level set
    is every remaining sample; step 3 applies, and a member that still has no
    labeled neighbour at its turn takes the class of the nearest labeled
    sample: nearest by shortest path in the kNN graph made undirected (edge
    weights the distances), from the samples labeled when that level started;
    a component of the graph without any labeled sample falls back to the
    Euclidean-nearest labeled sample (or, with a precomputed graph, to the
    most frequent class among the samples labeled so far, with a warning).
    Such samples are counted in ``n_fallback_`` and get a one-hot ``label_distributions_`` row.

    Implementation: a bucket queue over ``L`` and reverse-neighbour lists in
    a Numba kernel, O(n k) after the graph plus one sort per level set; memory
    O(n k + n n_classes). Nothing is O(n^2).

    ``method="knn_dv"`` is the paper's kNN-DV baseline: every unlabeled sample
    takes the majority class of its k nearest *labeled* samples (same ties),
    all at once.

    Parameters
    ----------
    n_neighbors : int, "auto" or None, default=None
        k, the neighbours per sample (rounds, HDL) or labeled voters (kNN-DV).
        ``None``: the method's default, 10 for ``"rounds"`` (the best of the
        k measured in ``docs/benchmarks/propagation.md``, whose accuracy
        varies little over k = 3..20), 3 for ``"hdl"`` and ``"knn_dv"`` (the
        paper's value; HDL wants a small k: with a large k the region that
        fills first keeps the highest counts on its frontier and overruns
        the others, ``docs/benchmarks/hdl.md``).
        ``"auto"`` picks it with :class:`skusl.model_selection.AutoK`'s
        held-out criterion for this method (k = 1..20 on a graph built once
        at k=20; this estimator's ``random_state``); with one label per
        class it keeps the method's default.
    method : {"rounds", "hdl", "knn_dv"}, default="rounds"
    metric : {"euclidean", "precomputed"}, default="euclidean"
        ``"precomputed"``: ``X`` in ``fit`` is a sparse kNN distance graph of
        shape (n_samples, n_samples) with at least ``n_neighbors`` neighbours
        per row besides the sample itself (e.g. ``USLSelector().fit(X).knn_graph_``
        or ``sklearn.neighbors.kneighbors_graph(X, k, mode="distance")``); the
        k smallest are used. In ``predict``, ``X`` is a sparse graph of shape
        (n_queries, n_train_samples) from the new samples to the training
        samples (e.g. ``NearestNeighbors(...).fit(X_train).kneighbors_graph(
        X_new, mode="distance")``). HDL never sees features then;
        ``method="knn_dv"`` needs features and is not available.
    neighbors : {"auto", "exact", "approximate"} or estimator, default="auto"
        How the graph is built; see :func:`skusl.neighbors.kneighbors`.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        Kernels of the exact kNN search.
    normalize : bool, default=True
        L2-normalise the rows first (cosine geometry, as ``USLSelector``), so
        that the graph matches the one the selector builds. Ignored with
        ``metric="precomputed"``.
    random_state : int, RandomState instance or None, default=None
        Seed of the approximate kNN search and of AutoK.
    n_jobs : int or None, default=None
        Threads of the kNN search.
    verbose : bool, default=False
        Progress bars while building the graph.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Distinct labels of the labeled samples, sorted.
    transduction_ : ndarray of shape (n_samples,)
        The label of every training sample.
    label_distributions_ : ndarray of shape (n_samples, n_classes)
        Vote shares of each sample's labeled neighbours when it was labeled
        (similarity-weighted for ``"rounds"``, counted for ``"hdl"`` and
        ``"knn_dv"``; one-hot for labeled and fallback samples).
    confidence_ : ndarray of shape (n_samples,)
        The label's share of the vote that gave it (the row of
        ``label_distributions_`` at the label): 1 for the samples labeled in
        ``y``, 0 for the fallback samples (a label from distance, not a
        vote). Higher is more often right; sort by it to send the least
        certain samples to the annotators next.
    labeling_order_ : ndarray of shape (n_unlabeled,)
        Indices of the unlabeled samples in the order they were labeled
        (kNN-DV: ascending).
    labeling_level_ : ndarray of shape (n_samples,)
        The round (1, 2, ...; 0 for fallback samples) of ``"rounds"``, the
        level ``m`` of ``"hdl"``, at which each sample was labeled; -1 for
        the samples labeled in ``y`` (kNN-DV: ``n_neighbors``).
    n_fallback_ : int
        Samples labeled by the nearest-labeled fallback.
    n_neighbors_ : int
        The k used (the method's default for ``None``, AutoK's pick for
        ``"auto"``).
    n_features_in_ : int
        Features seen in ``fit`` (with ``metric="precomputed"``: n_samples).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when ``X`` has string column names.

    See Also
    --------
    skusl.model_selection.AutoK : chooses ``n_neighbors`` from the labeled samples.
    sklearn.semi_supervised.LabelSpreading : iterative graph label spreading.

    Notes
    -----
    ``predict`` / ``predict_proba`` vote among the ``n_neighbors_`` nearest
    training samples with their transduced labels, each weighted by its
    similarity ``1 / (d + 1e-12)`` (``predict`` is the argmax of
    ``predict_proba``, ties to the smallest class), so a training sample
    predicts its own ``transduction_`` label. With a single labeled class
    every sample gets that class; with every sample labeled, ``transduction_``
    is ``y``.

    References
    ----------
    The HDL propagation and its kNN-DV baseline as described in the user
    guide's labeling page (``docs/user_guide/labeling.rst``).

    Examples
    --------
    >>> import numpy as np
    >>> from skusl.labeling import HDLLabeler
    >>> X = np.array([[0.0, 1.0], [0.1, 1.0], [0.2, 1.0],
    ...               [1.0, 0.0], [1.0, 0.1], [1.0, 0.2]])
    >>> y = np.array([0, -1, -1, 1, -1, -1])
    >>> hdl = HDLLabeler(n_neighbors=2).fit(X, y)
    >>> hdl.transduction_
    array([0, 0, 0, 1, 1, 1])
    >>> hdl.labeling_level_
    array([-1,  1,  1, -1,  1,  1])
    >>> hdl.predict([[0.05, 1.0]])
    array([0])
    """

    _parameter_constraints: dict = {
        "n_neighbors": [Count(numbers.Integral, 1, None, closed="left"),
                        StrOptions({"auto"}), None],
        "method": [StrOptions(set(METHODS))],
        "metric": [StrOptions({"euclidean", "precomputed"})],
        "neighbors": [StrOptions(set(NEIGHBORS_METHODS)), HasMethods(["fit_transform"])],
        "backend": [StrOptions({"auto", "numpy", "numba", "cupy"})],
        "normalize": ["boolean"],
        "random_state": ["random_state"],
        "n_jobs": [numbers.Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, n_neighbors=None, *, method="rounds", metric="euclidean",
                 neighbors="auto", backend="auto", normalize=True, random_state=None,
                 n_jobs=None, verbose=False):
        self.n_neighbors = n_neighbors
        self.method = method
        self.metric = metric
        self.neighbors = neighbors
        self.backend = backend
        self.normalize = normalize
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    # ------------------------------------------------------------------ input
    def _check_graph(self, X, n_samples):
        if not sp.issparse(X):
            raise ValueError(
                "with metric='precomputed', X must be a SciPy sparse kNN distance "
                "graph of shape (n_samples, n_samples), e.g. "
                f"USLSelector().fit(X).knn_graph_; got {type(X).__name__}."
            )
        if X.shape != (n_samples, n_samples):
            raise ValueError(
                f"the precomputed graph has shape {X.shape}, but y has {n_samples} "
                "entries: the graph must be (n_samples, n_samples)."
            )
        return X

    def _prepare(self, X):
        if self.normalize:
            X = normalize_rows(X)
        return X

    def _resolve_k(self, X, y, n_samples, n_labeled):
        """The k to use; ``None`` when ``"auto"`` with the held-out criterion
        (chosen later, on the graph ``fit`` builds anyway)."""
        k = self.n_neighbors
        self._autok = None
        if k is None:
            k = DEFAULT_NEIGHBORS[self.method]
        elif k == "auto":
            if self.method != "knn_dv":
                return None
            from ._autok import AutoK

            auto = AutoK(HDLLabeler(method=self.method, metric=self.metric,
                                    normalize=self.normalize, backend=self.backend),
                         random_state=self.random_state)._choose(X, y)
            self._autok = auto
            k = int(auto.k_)
        self._check_k(k, n_samples, n_labeled)
        return int(k)

    def _check_k(self, k, n_samples, n_labeled):
        if k >= n_samples:
            raise ValueError(
                f"n_neighbors={k} must be smaller than n_samples={n_samples} (the "
                "sample itself is not its own neighbour); lower n_neighbors."
            )
        if self.method == "knn_dv" and k > n_labeled:
            raise ValueError(
                f"method='knn_dv' votes among the n_neighbors={k} nearest labeled "
                f"samples, but only {n_labeled} are labeled; lower n_neighbors."
            )

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Label every sample from the labeled ones.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or sparse graph
            Embeddings; with ``metric="precomputed"`` a sparse kNN distance
            graph of shape (n_samples, n_samples).
        y : array-like of shape (n_samples,)
            Class values, ``-1`` for unlabeled samples (also ``"-1"`` in
            string/object targets). NaN is rejected.

        Returns
        -------
        self : HDLLabeler
            Fitted estimator.
        """
        y_in = y
        y, unlabeled, classes, codes = split_labels(y, type(self).__name__)
        n_samples = y.shape[0]
        if self.metric == "precomputed":
            if self.method == "knn_dv":
                raise ValueError(
                    "method='knn_dv' searches the k nearest labeled samples, which a "
                    "kNN graph does not hold; use metric='euclidean' with features."
                )
            graph = self._check_graph(X, n_samples)
            self.n_features_in_ = n_samples
            features = None
        else:
            graph = None
            features = self._prepare(check_embeddings(self, X, reset=True))
            if features.shape[0] != n_samples:
                raise ValueError(
                    f"X has {features.shape[0]} samples but y has {n_samples} entries."
                )
        n_labeled = int((~unlabeled).sum())
        k = self._resolve_k(X, y_in, n_samples, n_labeled)
        n_classes = classes.shape[0]

        if n_labeled == n_samples:
            k = DEFAULT_NEIGHBORS[self.method] if k is None else k
            labels = codes
            order = np.empty(0, dtype=np.int64)
            level = np.full(n_samples, -1, dtype=np.int64)
            shares = np.zeros((n_samples, n_classes))
            shares[np.arange(n_samples), codes] = 1.0
            confidence = np.ones(n_samples)
            n_fallback = 0
        elif self.method == "knn_dv":
            labels, order, level, shares = self._knn_dv(features, codes, k, n_classes)
            confidence = shares.max(axis=1)
            n_fallback = 0
        else:
            # "auto" builds the graph once, at the largest k AutoK tries
            dist, ind = self._graph(graph if features is None else features, k)
            if k is None:
                from ._autok import AutoK

                auto = AutoK(HDLLabeler(method=self.method), k_max=ind.shape[1],
                             random_state=self.random_state)
                self._autok = auto._fit_arrays(dist, ind, codes, classes, features)
                k = int(auto.k_)
                self._check_k(k, n_samples, n_labeled)
                dist, ind = dist[:, :k], ind[:, :k]
            if self.method == "rounds":
                from ._rounds import rounds_labels

                labels, order, level, shares, confidence, n_fallback = rounds_labels(
                    dist, ind, codes, n_classes, features)
            else:
                labels, order, level, shares, n_fallback = hdl_labels(
                    dist, ind, codes, n_classes, features)
                confidence = shares.max(axis=1)
                confidence[hdl_fallback_mask(ind, order, level)] = 0.0

        self.classes_ = classes
        self._labels = labels
        self.transduction_ = classes[labels]
        self.label_distributions_ = shares
        self.confidence_ = confidence
        self.labeling_order_ = order
        self.labeling_level_ = level
        self.n_fallback_ = int(n_fallback)
        self.n_neighbors_ = k
        self._fit_X = features
        self._n_train = n_samples
        return self

    def _graph(self, X, k):
        """(dist, ind) of the k-NN graph of the features, or of a precomputed graph.

        ``k=None`` ("auto"): up to ``AUTO_K_MAX`` neighbours (those the
        precomputed graph holds, if fewer).
        """
        if self.metric == "precomputed":
            from ..neighbors import graph_to_arrays

            if k is None:
                dist, ind = graph_to_arrays(X)
                return dist[:, :AUTO_K_MAX], ind[:, :AUTO_K_MAX]
            return graph_to_arrays(X, k)
        from ..neighbors import kneighbors

        if k is None:
            k = min(AUTO_K_MAX, X.shape[0] - 1)

        dist, ind = kneighbors(X, k, neighbors=self.neighbors, backend=self.backend,
                               random_state=self.random_state, n_jobs=self.n_jobs,
                               verbose=self.verbose)
        if not isinstance(dist, np.ndarray):  # CuPy
            dist, ind = dist.get(), ind.get()
        return dist, ind

    def _knn_dv(self, features, codes, k, n_classes):
        from ..neighbors import query_kneighbors

        lab_idx = np.flatnonzero(codes >= 0)
        unl_idx = np.flatnonzero(codes < 0)
        dist, ind = query_kneighbors(features[unl_idx], features[lab_idx], k,
                                     backend=self.backend, n_jobs=self.n_jobs,
                                     verbose=self.verbose)
        if not isinstance(dist, np.ndarray):  # CuPy
            dist, ind = dist.get(), ind.get()
        winner, votes = majority_vote(codes[lab_idx][ind], similarity(dist), n_classes)
        labels = codes.copy()
        labels[unl_idx] = winner
        shares = np.zeros((codes.shape[0], n_classes))
        shares[lab_idx, codes[lab_idx]] = 1.0
        shares[unl_idx] = votes
        level = np.full(codes.shape[0], -1, dtype=np.int64)
        level[unl_idx] = k
        return labels, unl_idx, level, shares

    # ------------------------------------------------------------------ predict
    def _neighbors_of(self, X):
        k = self.n_neighbors_
        if self.metric == "precomputed":
            dist, ind = rows_to_arrays(X, k, self._n_train)
            return dist, ind
        from ..neighbors import query_kneighbors

        X = self._prepare(check_embeddings(self, X, reset=False))
        dist, ind = query_kneighbors(X, self._fit_X, k, backend=self.backend,
                                     n_jobs=self.n_jobs)
        if not isinstance(dist, np.ndarray):  # CuPy
            dist, ind = dist.get(), ind.get()
        return dist, ind

    def predict_proba(self, X):
        """Class shares among the k nearest training samples, similarity-weighted.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features) or sparse graph
            New samples; with ``metric="precomputed"`` a sparse distance graph
            of shape (n_queries, n_train_samples).

        Returns
        -------
        proba : ndarray of shape (n_queries, n_classes)
            Rows sum to one; columns follow ``classes_``.
        """
        check_is_fitted(self, "transduction_")
        dist, ind = self._neighbors_of(X)
        return weighted_vote(self._labels[ind], similarity(dist), self.classes_.shape[0])

    def predict(self, X):
        """Label new samples by the weighted vote of their k nearest training samples.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features) or sparse graph
            As in :meth:`predict_proba`.

        Returns
        -------
        y_pred : ndarray of shape (n_queries,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.metric == "precomputed"
        tags.input_tags.sparse = self.metric == "precomputed"
        return tags
