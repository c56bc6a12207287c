"""KMeansClosestSelector: the sample nearest each K-Means centroid."""

import numpy as np

from ..neighbors import query_kneighbors
from ._base import SEED_MAX, BaseSelector
from ..neighbors._kmeans import fit_kmeans


#: Relative distance (in machine epsilons of X's dtype) under which two
#: samples are equally near a centroid.
TIE_EPS = 64


class KMeansClosestSelector(BaseSelector):
    """The sample nearest each K-Means centroid.

    K-Means (the same solver as :class:`USLSelector`'s diversity step) into
    ``n_select`` clusters; each cluster contributes the training sample
    nearest its centroid. Centroids are served largest cluster first; if two
    centroids share a nearest sample (duplicate-heavy data), the later one
    takes its nearest sample not yet chosen. Samples equally near a centroid
    (to :data:`TIE_EPS` machine epsilons: a two-member cluster's centroid is
    equidistant from both) go to the smaller index, so rounding never
    decides.

    Parameters
    ----------
    n_select : int, default=10
        Annotation budget, and the number of clusters.
    normalize : bool, default=True
        L2-normalise features first (cosine geometry, as USL).
    random_state : int, RandomState instance or None, default=None
        Seeds K-Means. Same seed, same selection.

    Notes
    -----
    Warm start: with ``fit(X, labeled=idx)``, K-Means makes
    ``n_select + len(idx)`` clusters and the picks come from the
    ``n_select`` clusters holding the fewest labeled samples (largest
    first), so the new labels go where the old ones are missing. Not
    prefix-consistent: the partition depends on the budget.

    Attributes
    ----------
    selected_indices_ : ndarray of shape (n_select,)
        Chosen samples, largest cluster first (ties by cluster id).
    labels_ : ndarray of shape (n_samples,)
        K-Means cluster of every sample.
    cluster_centers_ : ndarray of shape (n_select, n_features)
        K-Means centroids (in the normalised space).
    prototypes_ : ndarray of shape (n_select, n_features)
        The selected samples in the selector's feature space.
    n_samples_fit_ : int
        Number of training samples.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when ``X`` has string column names.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skusl.selection import KMeansClosestSelector
    >>> X, y = load_digits(return_X_y=True)
    >>> sel = KMeansClosestSelector(n_select=10, random_state=0).fit(X)
    >>> len(set(y[sel.selected_indices_])) >= 7
    True
    """

    _supports_labeled = True

    def _select(self, X, random_state):
        n_samples = X.shape[0]
        labeled = self.labeled_indices_
        n_clusters = min(self.n_select + labeled.size, n_samples)
        labels, centers = fit_kmeans(X, n_clusters, int(random_state.randint(SEED_MAX)))
        self.labels_ = labels
        self.cluster_centers_ = centers
        sizes = np.bincount(labels, minlength=n_clusters)
        held = np.bincount(labels[labeled], minlength=n_clusters)
        order = np.lexsort((np.arange(n_clusters), -sizes, held))[: self.n_select]
        # n_select + |labeled| candidates per centroid always leave one free.
        dist, cand = query_kneighbors(np.ascontiguousarray(centers[order], dtype=X.dtype), X,
                                      min(self.n_select + labeled.size, n_samples))
        # A two-member cluster's centroid is equidistant from both: a tie
        # that rounding (a rescaled input, another BLAS) would break either
        # way. Distances within TIE_EPS epsilons of the nearest free one count
        # as tied, and the smaller index wins.
        tol = TIE_EPS * np.finfo(X.dtype).eps
        taken = np.zeros(n_samples, dtype=bool)
        taken[labeled] = True
        chosen = []
        for row_d, row_i in zip(dist, cand, strict=True):  # one row per centroid
            free = ~taken[row_i]
            nearest = row_d[free][0]
            tied = free & (row_d <= nearest * (1 + tol) + tol)
            pick = int(row_i[tied].min())
            taken[pick] = True
            chosen.append(pick)
        return np.asarray(chosen, dtype=np.int64)

