"""What every selector shares: validation, get_support, transform, score.

A selector picks rows, it never drops them: ``transform(X)`` returns the
distances of every sample to the selected prototypes (as ``KMeans.transform``
does for centroids), ``get_support()`` a boolean mask over the training
samples, ``selected_indices_`` the chosen indices (best first).
Subclasses implement :meth:`BaseSelector._select` only.
"""

from numbers import Integral

import numpy as np
from sklearn.base import (BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                          _fit_context)
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.utils.validation import check_is_fitted, check_random_state

from .._backends import get_namespace, to_host
from .._backends._resolve import is_dask_array
from .._validation import Count, check_embeddings, check_n_select, normalize_rows
from ..neighbors import query_kneighbors


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

    Subclasses define ``n_select``, ``normalize`` and ``random_state``
    parameters and implement ``_select(X, random_state)``, which receives
    the validated, preprocessed training matrix and returns the selected
    indices (best first); it may set further fitted attributes.

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

    _parameter_constraints: dict = {
        "n_select": [Count(Integral, 1, None, closed="left")],  # bool is no budget
        "normalize": ["boolean"],
        "random_state": ["random_state"],
    }

    def _preprocess(self, X):
        return normalize_rows(X) if self.normalize else X

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Select ``n_select`` samples of ``X`` worth labeling.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings. A ``dask.array`` runs on the active Dask scheduler
            (:func:`skusl.distributed.fit_selector`, for the selectors that
            have a distributed path), with the same result.
        y : None
            Ignored; selection is unsupervised.

        Returns
        -------
        self : object
            Fitted selector.
        """
        if is_dask_array(X):  # the cluster path; dask is imported there
            from ..distributed import fit_selector

            return fit_selector(self, X)
        X = check_embeddings(self, X, allow_cupy=self._supports_cupy)
        check_n_select(self.n_select, X.shape[0])
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
