"""KCenterGreedySelector: Core-Set's farthest-first traversal."""

import numpy as np

from ._base import BaseSelector


def k_center_greedy(X, n_select, first, labeled=None):
    """Greedy farthest-first traversal (Gonzalez; Core-Set, Sener & Savarese 2018).

    Starts from ``first`` (or, given ``labeled`` indices, from the sample
    farthest from them, with ``first`` ignored); each next centre is the sample farthest from all
    centres chosen so far (ties to the smaller index). Keeps a single
    distance vector: O(n) memory besides ``X``, O(n d) per centre.

    Returns
    -------
    centres : ndarray of shape (n_select,), int64
        In the order chosen.
    min_dist : ndarray of shape (n_samples,)
        Squared distance of every sample to its nearest centre.
    """
    X = np.asarray(X)
    sq_norm = np.einsum("ij,ij->i", X, X)
    centres = np.empty(n_select, dtype=np.int64)
    min_dist = np.full(X.shape[0], np.inf)
    cur = int(first)
    if labeled is not None and len(labeled):
        for s in labeled:  # labeled samples are centres already
            d = sq_norm - 2.0 * (X @ X[s]) + sq_norm[s]
            np.minimum(min_dist, np.maximum(d, 0.0), out=min_dist)
        min_dist[labeled] = -1.0
        cur = int(np.argmax(min_dist))
    for t in range(n_select):
        centres[t] = cur
        d = sq_norm - 2.0 * (X @ X[cur]) + sq_norm[cur]
        np.minimum(min_dist, np.maximum(d, 0.0), out=min_dist)
        min_dist[centres[: t + 1]] = -1.0  # never re-pick a centre (duplicates)
        cur = int(np.argmax(min_dist))
    min_dist[centres] = 0.0
    if labeled is not None and len(labeled):
        min_dist[labeled] = 0.0
    return centres, min_dist


class KCenterGreedySelector(BaseSelector):
    """Core-Set selection: greedy k-center (farthest-first traversal).

    Sener & Savarese, "Active Learning for Convolutional Neural Networks: A
    Core-Set Approach", ICLR 2018, with an empty labeled pool: the first
    centre is drawn uniformly at random from ``random_state`` (so a seed
    fixes the whole selection), and every next centre is the sample farthest
    from the centres chosen so far (ties to the smaller index). It minimises
    the covering radius, a 2-approximation of the k-center problem, and so
    favours outliers: a diverse but not representative baseline.

    Memory: one distance vector, O(n) besides ``X``; time O(n d) per centre.

    Parameters
    ----------
    n_select : int, default=10
        Annotation budget: the number of centres.
    normalize : bool, default=True
        L2-normalise features first.
    random_state : int, RandomState instance or None, default=None
        Draws the first centre.

    Notes
    -----
    Warm start: with ``fit(X, labeled=idx)`` the labeled samples are the
    initial centres (the Core-Set paper's setting) and no random centre is
    drawn. Prefix-consistent: ``selected_indices_[:m]`` is the budget-``m``
    selection, and ``fit(X, labeled=sel[:a])`` continues with ``sel[a:]``.

    Attributes
    ----------
    selected_indices_ : ndarray of shape (n_select,)
        Centres in the order chosen (the random first centre first).
    radius_ : float
        Covering radius: the largest distance of a sample to its nearest
        centre.
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
    >>> import numpy as np
    >>> from skusl.selection import KCenterGreedySelector
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 0.0], [0.0, 5.0]])
    >>> sel = KCenterGreedySelector(n_select=3, normalize=False, random_state=0).fit(X)
    >>> sorted(sel.selected_indices_.tolist())[-2:]
    [2, 3]
    """

    _supports_labeled = True

    def _select(self, X, random_state):
        first = random_state.randint(X.shape[0])
        centres, min_dist = k_center_greedy(X, self.n_select, first, self.labeled_indices_)
        self.radius_ = float(np.sqrt(min_dist.max()))
        return centres

