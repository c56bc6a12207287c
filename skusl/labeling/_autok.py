"""AutoK: choose the k of kNN label propagation from the labeled samples alone."""

import numbers

import numpy as np
import scipy.sparse as sp
from scipy.special import betainc
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils import check_random_state, get_tags
from .._sklearn_compat import HasMethods, Interval, StrOptions, _fit_context
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .._validation import check_embeddings, normalize_rows
from ._holdout import choose_k, graph_correct, holdout_splits, knn_dv_correct

#: ``k_max=None`` searches k = 1 .. min(DEFAULT_K_MAX, n_labeled - 1).
DEFAULT_K_MAX = 50
#: ``criterion="holdout"``, ``k_max=None``: k = 1 .. 20 (the HDL paper's range).
DEFAULT_HOLDOUT_K_MAX = 20


def autok_curves(centre_codes, neighbor_codes, noise_rate):
    """AutoK's three curves over k = 1 .. k_max.

    Parameters
    ----------
    centre_codes : int array of shape (n_centres,)
        Class code of each centre.
    neighbor_codes : int array of shape (n_centres, k_max)
        Class codes of each centre's nearest labeled neighbours (self
        excluded), nearest first.
    noise_rate : float
        Assumed label-noise rate ``e``.

    Returns
    -------
    clusterability : ndarray of shape (k_max,)
        ``mu_k``: share of centres whose k nearest labeled neighbours all
        share its class.
    vote_bound : ndarray of shape (k_max,)
        ``I_k = betainc(k + 1 - k', k' + 1, 1 - e)``, ``k' = ceil((k+1)/2) - 1``:
        the probability that at most ``k'`` of ``k + 1`` labels are wrong
        at noise rate ``e``.
    scores : ndarray of shape (k_max,)
        ``mu_k * I_k``.

    Examples
    --------
    >>> import numpy as np
    >>> from skusl.model_selection import autok_curves
    >>> mu, bound, score = autok_curves(np.array([0, 1]), np.array([[0, 0], [1, 0]]), 0.15)
    >>> mu
    array([1. , 0.5])
    """
    k_max = neighbor_codes.shape[1]
    same = neighbor_codes == np.asarray(centre_codes)[:, None]
    all_same = np.logical_and.accumulate(same, axis=1)
    clusterability = all_same.mean(axis=0) if all_same.shape[0] else np.zeros(k_max)
    k = np.arange(1, k_max + 1)
    k_prime = np.ceil((k + 1) / 2).astype(np.int64) - 1
    vote_bound = betainc(k + 1 - k_prime, k_prime + 1, 1.0 - noise_rate)
    return clusterability, vote_bound, clusterability * vote_bound


def _estimator_has(attr):
    def check(self):
        return self.estimator is not None and hasattr(self.estimator, attr)
    return check


class AutoK(MetaEstimatorMixin, BaseEstimator):
    """Adaptive k for kNN label propagation, from the labeled samples alone.

    ``criterion="holdout"`` (default): in each of ``n_repeats`` draws, hold
    out ``holdout_fraction`` of the labels of every class that has at least
    two, propagate from the others over the whole kNN graph with the
    estimator's method (``HDLLabeler``'s ``method``; ``"rounds"`` without an
    estimator) at k = 1 .. ``k_max``, and score the held-out labels.
    ``scores_`` is the held-out accuracy at each k. ``k_`` is the method's
    default k (``HDLLabeler``'s: 10 for rounds, 3 for hdl and knn_dv) unless
    the best k beats it clearly: by more than Student's t (97.7% one-sided,
    about two standard errors for tens of samples) in standard errors of the
    paired difference, each held-out sample counted once however many draws
    held it out, its variance shrunk towards the largest possible by one
    pseudo-observation (a few tens of held-out labels make a noisy curve;
    the default is the k measured best on the shared sets,
    ``docs/benchmarks/propagation.md``). With one label per class
    nothing can be held out: ``k_`` is the default and ``scores_`` NaN.
    This is informative where the paper's estimator is not: with few labels
    per class, ``mu_k`` below is 0 for every k at or above the labels per
    class.

    ``criterion="clusterability"``, the paper's estimator: for k = 1 ..
    ``k_max``, draw a fraction ``p`` of the labeled samples as
    centres; ``mu_k`` (clusterability) is the share of centres whose k nearest
    *labeled* neighbours (self excluded, ties by the smaller index) all carry
    the centre's label; ``I_k = betainc(k + 1 - k', k' + 1, 1 - e)`` with
    ``k' = ceil((k + 1) / 2) - 1`` bounds the chance that a majority vote of
    ``k + 1`` labels survives a label-noise rate ``e``; ``k_ = argmax mu_k *
    I_k`` (ties to the smaller k).

    Three ways to use it: ``AutoK().fit(X, y).k_``; ``AutoK(HDLLabeler())``,
    a meta-estimator that fits a clone of the estimator with
    ``n_neighbors=k_`` and delegates ``predict`` / ``predict_proba`` /
    ``score``; and ``HDLLabeler(n_neighbors="auto")``.

    Parameters
    ----------
    estimator : estimator with an ``n_neighbors`` parameter, default=None
        Fitted with ``n_neighbors=k_`` (a clone, in ``estimator_``). Its
        ``method`` (if any) is the propagation the held-out criterion runs.
    criterion : {"holdout", "clusterability"}, default="holdout"
    k_max : int or None, default=None
        Largest k tried. ``holdout``: below ``n_samples``; ``None``: 20 (the
        HDL paper's range; with a precomputed graph, at most the neighbours
        it holds). ``clusterability``: at most ``n_labeled - 1``; ``None``:
        ``min(50, n_labeled - 1)`` (50 covers the k used in practice while
        the search stays cheap).
    p : float in (0, 1], default=1.0
        ``clusterability`` only: fraction of the labeled samples drawn as centres. The default uses
        them all (the least noisy estimate, and the cost, O(n_labeled^2 d),
        is small at annotation budgets); lower it when tens of thousands of
        samples are labeled.
    noise_rate : float in [0, 1), default=0.15
        ``clusterability`` only: assumed label-noise rate ``e`` (the paper's value).
    n_repeats : int, default=5
        ``holdout`` only: held-out draws (each costs ``k_max`` propagations,
        O(n k) each).
    holdout_fraction : float in (0, 1), default=0.25
        ``holdout`` only: share of each class's labels held out (at least
        one, at most all but one).
    metric : {"euclidean", "precomputed"}, default="euclidean"
        ``"precomputed"``: ``X`` is a sparse distance graph of shape
        (n_samples, n_samples); ``holdout`` propagates on it,
        ``clusterability`` needs its labeled rows to store distances to at
        least ``k_max`` other labeled samples. Ignored when ``estimator`` has a
        ``metric`` parameter (its value is used, so that k is chosen in the
        geometry the estimator works in).
    normalize : bool, default=True
        L2-normalise the rows first; ignored when ``estimator`` has a
        ``normalize`` parameter (its value is used).
    random_state : int, RandomState instance or None, default=None
        Seed of the held-out draws or of the draw of the centres (and of an
        approximate kNN search).

    Attributes
    ----------
    k_ : int
        The chosen k.
    scores_ : ndarray of shape (k_max,)
        ``holdout``: held-out accuracy at k = 1 .. k_max (index ``k - 1``;
        NaN when nothing could be held out). ``clusterability``:
        ``mu_k * I_k``.
    n_held_out_ : int
        ``holdout``: held-out labels scored, all repeats together
        (``clusterability``: 0).
    clusterability_ : ndarray of shape (k_max,) or None
        ``clusterability``: ``mu_k`` for k = 1 .. k_max (``holdout``: None).
    vote_bound_ : ndarray of shape (k_max,) or None
        ``clusterability``: ``I_k`` (``holdout``: None).
    centres_ : ndarray of shape (n_centres,) or None
        ``clusterability``: indices (into ``X``) of the centres drawn
        (``holdout``: None).
    classes_ : ndarray of shape (n_classes,)
        Labels of the labeled samples, sorted.
    estimator_ : estimator
        The fitted clone (only when ``estimator`` is given).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when ``X`` has string column names.

    Notes
    -----
    With one labeled sample per class every k has ``mu_k = 0``; then all
    clusterability scores are zero and ``k_ = 1``; the held-out criterion
    keeps the method's default instead. Either needs at least two labels in
    some classes to say anything.

    Examples
    --------
    >>> import numpy as np
    >>> from skusl.labeling import HDLLabeler
    >>> from skusl.model_selection import AutoK
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(0, 0.1, (20, 2)) + [1, 0],
    ...                rng.normal(0, 0.1, (20, 2)) + [0, 1]])
    >>> y = np.repeat([0, 1], 20)
    >>> y[::2] = -1
    >>> auto = AutoK(HDLLabeler(method="hdl"), k_max=5, random_state=0).fit(X, y)
    >>> int(auto.k_), auto.estimator_.n_neighbors   # hdl's default 3: no k beats it
    (3, 3)
    >>> paper = AutoK(HDLLabeler(), criterion="clusterability", k_max=5).fit(X, y)
    >>> int(paper.k_)
    4
    >>> auto.predict([[1.0, 0.0]])
    array([0])
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit"]), None],
        "criterion": [StrOptions({"holdout", "clusterability"})],
        "k_max": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "p": [Interval(numbers.Real, 0, 1, closed="right")],
        "noise_rate": [Interval(numbers.Real, 0, 1, closed="left")],
        "n_repeats": [Interval(numbers.Integral, 1, None, closed="left")],
        "holdout_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "metric": [StrOptions({"euclidean", "precomputed"})],
        "normalize": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, *, criterion="holdout", k_max=None, p=1.0,
                 noise_rate=0.15, n_repeats=5, holdout_fraction=0.25,
                 metric="euclidean", normalize=True, random_state=None):
        self.estimator = estimator
        self.criterion = criterion
        self.k_max = k_max
        self.p = p
        self.noise_rate = noise_rate
        self.n_repeats = n_repeats
        self.holdout_fraction = holdout_fraction
        self.metric = metric
        self.normalize = normalize
        self.random_state = random_state

    def _params(self):
        return self.estimator.get_params(deep=False) if self.estimator is not None else {}

    def _geometry(self):
        params = self._params()
        return params.get("metric", self.metric), params.get("normalize", self.normalize)

    def _method(self):
        """The propagation k is chosen for, and its default k."""
        from ._methods import DEFAULT_NEIGHBORS

        method = self._params().get("method", "rounds")
        if method not in DEFAULT_NEIGHBORS:
            method = "rounds"
        return method, DEFAULT_NEIGHBORS[method]

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Choose k from the labeled samples, then fit the estimator (if any).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or sparse graph
            Embeddings (labeled and unlabeled; only the labeled rows are
            used to choose k), or a sparse distance graph with
            ``metric="precomputed"``.
        y : array-like of shape (n_samples,)
            Class values, ``-1`` for unlabeled samples.

        Returns
        -------
        self : AutoK
            Fitted estimator.
        """
        self._choose(X, y)
        if self.estimator is not None:
            self.estimator_ = clone(self.estimator).set_params(n_neighbors=self.k_)
            self.estimator_.fit(X, y)
        return self

    def _choose(self, X, y):
        """Set ``k_`` and the curves (no estimator is fitted)."""
        from .._validation import split_labels

        metric, normalize = self._geometry()
        y_arr, unlabeled, classes, codes = split_labels(y, type(self).__name__)
        n_samples = y_arr.shape[0]
        if metric == "precomputed":
            if not sp.issparse(X) or X.shape != (n_samples, n_samples):
                raise ValueError(
                    "with metric='precomputed', X must be a SciPy sparse distance "
                    f"graph of shape ({n_samples}, {n_samples}); got "
                    f"{type(X).__name__} of shape {getattr(X, 'shape', None)}."
                )
            self.n_features_in_ = n_samples
        else:
            features = check_embeddings(self, X, reset=True)
            if features.shape[0] != n_samples:
                raise ValueError(
                    f"X has {features.shape[0]} samples but y has {n_samples} entries."
                )
        lab_idx = np.flatnonzero(~unlabeled)
        n_lab = lab_idx.shape[0]
        if self.criterion == "holdout":
            return self._choose_holdout(X, None if metric == "precomputed" else features,
                                        codes, classes, metric, normalize)
        if n_lab < 2:
            raise ValueError(
                f"AutoK needs at least two labeled samples to compare neighbours; "
                f"got {n_lab} sample labeled (n_samples = {n_samples}). Label more "
                "samples, or pass n_neighbors=k to HDLLabeler instead of 'auto' (CLI: "
                "--k K)."
            )
        if self.k_max is None:
            k_max = min(DEFAULT_K_MAX, n_lab - 1)
        else:
            k_max = int(self.k_max)
            if k_max > n_lab - 1:
                raise ValueError(
                    f"k_max={k_max} exceeds the {n_lab - 1} other labeled samples a "
                    f"centre can have as neighbours ({n_lab} labeled); lower k_max "
                    "or leave it None."
                )
        rng = check_random_state(self.random_state)
        n_centres = max(1, int(round(self.p * n_lab)))
        if n_centres < n_lab:
            centres = np.sort(rng.choice(n_lab, size=n_centres, replace=False))
        else:
            centres = np.arange(n_lab)

        lab_codes = codes[lab_idx]
        if metric == "precomputed":
            nbr = self._graph_neighbors(X, lab_idx, k_max)[centres]
        else:
            from ..neighbors import query_kneighbors

            X_lab = features[lab_idx]
            if normalize:
                X_lab = normalize_rows(X_lab)
            _, ind = query_kneighbors(X_lab[centres], X_lab, k_max + 1, backend="numpy")
            # drop the centre itself by index (a duplicate of it stays a neighbour)
            drop = ind == centres[:, None]
            drop[~drop.any(axis=1), -1] = True
            nbr = ind[~drop].reshape(centres.shape[0], k_max)
        clusterability, bound, scores = autok_curves(lab_codes[centres], lab_codes[nbr],
                                                     self.noise_rate)
        self.clusterability_ = clusterability
        self.vote_bound_ = bound
        self.scores_ = scores
        self.k_ = int(np.argmax(scores)) + 1
        self.centres_ = lab_idx[centres]
        self.classes_ = classes
        self.n_held_out_ = 0
        return self

    # ------------------------------------------------------------------ held-out
    def _holdout_k_max(self, n_samples):
        if self.k_max is None:
            return max(1, min(DEFAULT_HOLDOUT_K_MAX, n_samples - 1))
        if self.k_max >= n_samples:
            raise ValueError(
                f"k_max={self.k_max} must be smaller than n_samples={n_samples} (a "
                "sample is not its own neighbour); lower k_max or leave it None."
            )
        return int(self.k_max)

    def _choose_holdout(self, X, features, codes, classes, metric, normalize):
        method, _ = self._method()
        n_samples = codes.shape[0]
        n_lab = int((codes >= 0).sum())
        k_max = self._holdout_k_max(n_samples)
        if features is not None and normalize:
            features = normalize_rows(features)
        if method == "knn_dv":
            rng = check_random_state(self.random_state)
            splits = holdout_splits(codes, self.n_repeats, self.holdout_fraction, rng)
            kept = min((n_lab - h.size for h in splits), default=0)
            k_values = list(range(1, max(1, min(k_max, kept)) + 1))
            correct = knn_dv_correct(features, codes, classes.shape[0], splits,
                                     k_values) if splits else None
            return self._set_holdout(correct, k_values, classes, splits)
        params = self._params()
        if metric == "precomputed":
            from ..neighbors import graph_to_arrays

            # k_max=None: as many of the first 20 neighbours as the graph holds
            dist, ind = graph_to_arrays(X, None if self.k_max is None else k_max)
            dist, ind = dist[:, :k_max], ind[:, :k_max]
        else:
            from ..neighbors import kneighbors

            dist, ind = kneighbors(features, k_max,
                                   neighbors=params.get("neighbors", "auto"),
                                   backend=params.get("backend", "auto"),
                                   random_state=self.random_state)
            if not isinstance(dist, np.ndarray):  # CuPy
                dist, ind = dist.get(), ind.get()
        return self._fit_arrays(dist, ind, codes, classes, features)

    def _fit_arrays(self, dist, ind, codes, classes, features):
        """The held-out criterion on a kNN graph given as (n, k_max) arrays."""
        method, _ = self._method()
        k_max = ind.shape[1] if self.k_max is None else min(int(self.k_max), ind.shape[1])
        k_values = list(range(1, k_max + 1))
        rng = check_random_state(self.random_state)
        splits = holdout_splits(codes, self.n_repeats, self.holdout_fraction, rng)
        correct = graph_correct(dist, ind, codes, classes.shape[0], features, method,
                                splits, k_values) if splits else None
        return self._set_holdout(correct, k_values, classes, splits)

    def _set_holdout(self, correct, k_values, classes, splits):
        _, default_k = self._method()
        default_k = min(default_k, k_values[-1])
        if correct is None or correct.shape[1] == 0:
            # one label per class: nothing to hold out, keep the method's default
            self.k_ = default_k
            self.scores_ = np.full(len(k_values), np.nan)
        else:
            self.k_, self.scores_ = choose_k(correct, k_values, default_k,
                                             np.concatenate(splits))
        self.n_held_out_ = int(sum(h.size for h in splits))
        self.classes_ = classes
        # the other criterion's curves: fitted, but empty
        self.clusterability_ = self.vote_bound_ = self.centres_ = None
        return self

    @staticmethod
    def _graph_neighbors(graph, lab_idx, k_max):
        from ..neighbors import graph_to_arrays

        sub = sp.csr_matrix(graph)[lab_idx][:, lab_idx]
        try:
            _, nbr = graph_to_arrays(sub, k_max)
        except ValueError as exc:
            raise ValueError(
                "AutoK with a precomputed graph needs, in every labeled row, the "
                f"distances to at least k_max={k_max} other labeled samples, which a "
                "kNN graph rarely holds; run AutoK on the features instead "
                "(AutoK().fit(X, y).k_) or pass a smaller k_max."
            ) from exc
        return nbr

    @available_if(_estimator_has("predict"))
    def predict(self, X):
        """Predict with the fitted estimator (``estimator_.predict``)."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the fitted estimator."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("score"))
    def score(self, X, y, sample_weight=None):
        """Score of the fitted estimator (accuracy for classifiers)."""
        check_is_fitted(self, "estimator_")
        if sample_weight is None:
            return self.estimator_.score(X, y)
        return self.estimator_.score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        if self.estimator is not None:
            sub = get_tags(self.estimator)
            tags.estimator_type = sub.estimator_type
            tags.classifier_tags = sub.classifier_tags
            tags.input_tags.pairwise = sub.input_tags.pairwise
            tags.input_tags.sparse = sub.input_tags.sparse
        return tags
