"""What every selector shares: validation, get_support, transform, score.

A selector picks rows, it never drops them: ``transform(X)`` returns the
distances of every sample to the selected prototypes (as ``KMeans.transform``
does for centroids), ``get_support()`` a boolean mask over the training
samples, ``selected_indices_`` the chosen indices (best first).
Subclasses implement :meth:`BaseSelector._select` only; kNN-based ones derive
from :class:`BaseKNNSelector`, which owns the seed -> graph -> ``knn_graph_`` step.

Warm start: ``fit(X, labeled=idx)`` passes the indices of samples that are
already labeled. Selectors that can use them (``_supports_labeled = True``)
keep them out of the new picks and choose picks that complement them;
``selected_indices_`` holds the new picks only, ``labeled_indices_`` the
given ones. ``y`` is never used for that: a Pipeline fills it with targets.
"""

from numbers import Integral

import numpy as np
from .._sklearn_compat import HasMethods, Interval, StrOptions
from sklearn.base import (BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                          _fit_context)
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.utils.validation import check_is_fitted, check_random_state

from .._backends import BACKENDS, get_namespace, resolve_backend, to_host
from .._backends._resolve import is_dask_array
from .._upper import upper
from .._validation import Count, check_embeddings, check_n_select, normalize_rows
from ..neighbors import NEIGHBORS_METHODS, arrays_to_graph, kneighbors, query_kneighbors

#: Upper bound of the integer seeds drawn from ``random_state`` for the
#: sub-steps (kNN search, K-Means).
SEED_MAX = np.iinfo(np.int32).max


def check_labeled(labeled, n_samples, n_select):
    """Validate ``fit``'s ``labeled`` indices; returns a sorted unique int64 array."""
    if labeled is None:
        return np.zeros(0, dtype=np.int64)
    arr = np.asarray(to_host(labeled))
    if arr.dtype == bool:
        if arr.shape != (n_samples,):
            raise ValueError(f"labeled is a boolean mask of shape {arr.shape}; it must have "
                             f"shape ({n_samples},), one entry per sample.")
        arr = np.flatnonzero(arr)
    arr = arr.ravel()
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"labeled must hold row indices (integers), got dtype {arr.dtype}.")
    arr = np.unique(arr.astype(np.int64))
    if arr.size and (arr[0] < 0 or arr[-1] >= n_samples):
        raise ValueError(f"labeled holds indices outside [0, {n_samples}); pass row "
                         "indices of X.")
    if n_select > n_samples - arr.size:
        raise ValueError(f"n_select={n_select} exceeds the {n_samples - arr.size} samples "
                         f"not yet labeled ({arr.size} of {n_samples} are); lower n_select.")
    return arr


def fill_unique(chosen, n_samples, n_select, order, exclude=None):
    """Append the first indices of ``order`` not yet chosen (nor excluded) until ``n_select``."""
    chosen = list(dict.fromkeys(int(i) for i in chosen))[:n_select]
    if len(chosen) < n_select:
        taken = np.zeros(n_samples, dtype=bool)
        if exclude is not None:
            taken[exclude] = True
        taken[chosen] = True
        order = np.asarray(order)
        rest = order[~taken[order]]
        chosen.extend(int(i) for i in rest[: n_select - len(chosen)])
    return np.asarray(chosen, dtype=np.int64)


def support(selected_indices, n_samples, indices=False):
    """``get_support`` of every selector: a copy of the indices, or a mask over n_samples."""
    if indices:
        return selected_indices.copy()
    xp = get_namespace(selected_indices)
    mask = xp.zeros(n_samples, dtype=bool)
    mask[selected_indices] = True
    return mask


class BaseSelector(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class for sample selectors (not for direct use).

    Subclasses have ``n_select``, ``normalize`` and ``random_state``
    parameters (this class's ``__init__`` takes just those; a subclass with
    more defines its own) and implement ``_select(X, random_state)``, which receives
    the validated, preprocessed training matrix and returns the selected
    indices (best first); it may set further fitted attributes.

    Parameters
    ----------
    n_select : int, default=10
        Annotation budget: the number of samples to select.
    normalize : bool, default=True
        L2-normalise features first.
    random_state : int, RandomState instance or None, default=None
        Seed of the selection. Same seed, same selection.

    Examples
    --------
    A selector that picks the samples of largest norm:

    >>> import numpy as np
    >>> from skusl.selection import BaseSelector
    >>> class LargestNorm(BaseSelector):
    ...     def __init__(self, n_select=2, normalize=False, random_state=None):
    ...         self.n_select = n_select
    ...         self.normalize = normalize
    ...         self.random_state = random_state
    ...     def _select(self, X, random_state):
    ...         return np.argsort(-np.linalg.norm(X, axis=1), kind="stable")[: self.n_select]
    >>> X = np.array([[0.0, 1.0], [3.0, 4.0], [1.0, 1.0], [6.0, 8.0]])
    >>> sel = LargestNorm().fit(X)
    >>> sel.selected_indices_, sel.get_support()
    (array([3, 1]), array([False,  True, False,  True]))
    >>> sel.transform([[6.0, 8.0]])
    array([[0., 5.]])
    """

    #: Subclasses that compute on CuPy input (and return CuPy fitted arrays)
    #: set this to True; the others reject CuPy input in validation.
    _supports_cupy = False
    #: Subclasses that honour ``fit(X, labeled=...)`` set this to True (they
    #: read ``self.labeled_indices_`` in ``_select``); the others raise.
    _supports_labeled = False

    _parameter_constraints: dict = {
        "n_select": [Count(Integral, 1, None, closed="left")],  # bool is no budget
        "normalize": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, n_select=10, *, normalize=True, random_state=None):
        self.n_select = n_select
        self.normalize = normalize
        self.random_state = random_state

    def _preprocess(self, X):
        return normalize_rows(X) if self.normalize else X

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, labeled=None):
        """Select ``n_select`` samples of ``X`` worth labeling.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings. A ``dask.array`` runs on the active Dask scheduler
            (:func:`skusl.distributed.fit_selector`, for the selectors that
            have a distributed path), with the same result.
        y : None
            Ignored; selection is unsupervised.
        labeled : array-like of int or bool mask, default=None
            Samples already labeled (warm start, growing budgets). They are
            never picked again and the ``n_select`` new picks complement
            them (each selector's docstring says how). Only for selectors
            whose ``_supports_labeled`` is True; the others raise.

        Returns
        -------
        self : object
            Fitted selector.
        """
        has_labeled = labeled is not None and np.size(to_host(labeled)) > 0
        if has_labeled and not self._supports_labeled:
            raise ValueError(f"{type(self).__name__} does not take labeled= (no warm start); "
                             "use a greedy or cluster selector, or drop labeled.")
        if is_dask_array(X):  # the cluster path; dask is imported there
            if has_labeled:
                raise ValueError("labeled= is not supported on a dask array; compute X "
                                 "(X.compute()) or select without labeled.")
            return upper("distributed").fit_selector(self, X)
        X = check_embeddings(self, X, allow_cupy=self._supports_cupy)
        check_n_select(self.n_select, X.shape[0])
        self.labeled_indices_ = check_labeled(labeled, X.shape[0], self.n_select)
        Xp = self._preprocess(X)
        selected = self._select(Xp, check_random_state(self.random_state))
        xp = get_namespace(Xp)  # CuPy input keeps CuPy fitted arrays
        self.selected_indices_ = xp.asarray(selected, dtype=xp.int64)
        self.prototypes_ = Xp[self.selected_indices_]
        self.n_samples_fit_ = X.shape[0]
        return self

    @property
    def _n_features_out(self):
        # transform's columns (one per selected prototype), named
        # "<classname>0", ... by get_feature_names_out; enables set_output.
        return len(self.selected_indices_)

    def get_support(self, indices=False):
        """Mask (or indices) of the selected training samples.

        Parameters
        ----------
        indices : bool, default=False
            Return ``selected_indices_`` (best first) instead of a mask.

        Returns
        -------
        support : ndarray
            Boolean mask of shape (n_samples_fit_,), or the indices.
        """
        check_is_fitted(self)
        return support(self.selected_indices_, self.n_samples_fit_, indices)

    def transform(self, X):
        """Euclidean distances from each sample to the selected prototypes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        distances : ndarray of shape (n_samples, n_select)
            Column ``j`` is the distance to ``selected_indices_[j]`` in the
            selector's feature space (after normalisation if ``normalize``).
        """
        check_is_fitted(self)
        Xp = self._preprocess(check_embeddings(self, X, reset=False,
                                               allow_cupy=self._supports_cupy))
        xp = get_namespace(Xp)
        protos = xp.asarray(self.prototypes_).astype(Xp.dtype, copy=False)
        if xp is not np:  # on the GPU: |x|^2 - 2 x.p + |p|^2, clipped at 0
            sq = ((Xp * Xp).sum(axis=1)[:, None] - 2 * (Xp @ protos.T)
                  + (protos * protos).sum(axis=1)[None, :])
            return xp.sqrt(xp.maximum(sq, 0))
        return euclidean_distances(Xp, protos)

    def score(self, X, y=None):
        """How well the selection would label ``X``.

        With ``y``: the accuracy of labeling every sample of ``X`` by its
        nearest *labeled* sample, where the labeled samples are the points of
        ``X`` nearest each selected prototype, carrying their true ``y``. On
        the training data these are exactly the selected samples; on a
        held-out labeled dev set they are the dev samples an annotator would
        be shown in their place. This lets ``GridSearchCV`` tune selection
        parameters on labeled data.

        Without ``y``: minus the mean squared distance of the samples to
        their nearest prototype (higher is better, as ``KMeans.score``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or None

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        Xp = self._preprocess(check_embeddings(self, X, reset=False,
                                               allow_cupy=self._supports_cupy))
        protos = get_namespace(Xp).asarray(self.prototypes_).astype(Xp.dtype, copy=False)
        dist, nearest_proto = map(to_host, query_kneighbors(Xp, protos, 1))
        if y is None:
            return -float(np.mean(dist[:, 0].astype(np.float64) ** 2))
        y = np.asarray(to_host(y))
        if y.shape[0] != Xp.shape[0]:
            raise ValueError(f"y has {y.shape[0]} labels for {Xp.shape[0]} samples.")
        stand_in = to_host(query_kneighbors(protos, Xp, 1)[1])
        proto_labels = y[stand_in[:, 0]]
        return float(np.mean(proto_labels[nearest_proto[:, 0]] == y))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        tags.target_tags.required = False
        return tags


#: Parameters shared by the selectors built on a kNN graph.
KNN_CONSTRAINTS = {
    "n_neighbors": [Interval(Integral, 1, None, closed="left")],
    "neighbors": [StrOptions(set(NEIGHBORS_METHODS)), HasMethods(["fit_transform"])],
    "backend": [StrOptions(set(BACKENDS))],
    "n_jobs": [Integral, None],
    "verbose": ["verbose"],
}


class BaseKNNSelector(BaseSelector):
    """Base class of the selectors built on the kNN graph (not for direct use).

    Owns the shared step seed -> kNN arrays -> ``knn_graph_``: subclasses
    define ``n_neighbors``, ``neighbors``, ``backend``, ``n_jobs`` and
    ``verbose`` (:data:`KNN_CONSTRAINTS`) and call :meth:`_knn`.

    Parameters
    ----------
    n_select, normalize, random_state
        As :class:`BaseSelector`, whose ``__init__`` this class keeps; a
        subclass defines its own with the kNN parameters above.

    Examples
    --------
    A selector that picks the samples with the nearest ``n_neighbors``-th
    neighbour (the densest), on the shared graph:

    >>> import numpy as np
    >>> from skusl.selection import BaseKNNSelector
    >>> class Densest(BaseKNNSelector):
    ...     def __init__(self, n_select=2, *, n_neighbors=3, neighbors="exact",
    ...                  backend="auto", normalize=False, n_jobs=None,
    ...                  random_state=None, verbose=False):
    ...         self.n_select, self.n_neighbors, self.neighbors = n_select, n_neighbors, neighbors
    ...         self.backend, self.normalize, self.n_jobs = backend, normalize, n_jobs
    ...         self.random_state, self.verbose = random_state, verbose
    ...     def _select(self, X, random_state):
    ...         dist, _ = self._knn(X, seed=random_state.randint(2**31 - 1))
    ...         return np.argsort(dist[:, -1], kind="stable")[: self.n_select]
    >>> X = np.r_[np.zeros((5, 2)), [[10.0, 10.0]], 0.01 * np.arange(8).reshape(4, 2)]
    >>> sel = Densest(n_select=2).fit(X)
    >>> sel.selected_indices_.tolist(), sel.knn_graph_.shape
    ([0, 1], (10, 10))
    """

    _parameter_constraints: dict = {**BaseSelector._parameter_constraints, **KNN_CONSTRAINTS}

    def _knn(self, X, seed, dtype=None):
        """(dist, ind) of the ``n_neighbors``-NN graph (self excluded); sets ``knn_graph_``."""
        dist, ind = kneighbors(X, self.n_neighbors, neighbors=self.neighbors,
                               backend=resolve_backend(self.backend, X),
                               random_state=int(seed), n_jobs=self.n_jobs,
                               verbose=self.verbose)
        if dtype is not None:
            dist = np.asarray(dist, dtype=dtype)
        self.knn_graph_ = arrays_to_graph(dist, ind)
        return dist, ind
