"""Round-based propagation: HDL's two ideas without a flooding front.

The driver of :func:`skusl.labeling._rounds_numba.rounds_propagate` and its
fallback for the points no labeled point reaches; used by
``HDLLabeler(method="rounds")``.
"""

import numpy as np

from ._propagate import fallback_classes, propagation_state

#: Weight of a reverse edge's vote (``i`` among ``j``'s nearest, for ``i``'s
#: vote) relative to a forward edge's (``j`` among ``i``'s nearest): half, as
#: it arrives one round later (:mod:`skusl.labeling._rounds_numba`).
REVERSE_WEIGHT = 0.5


def rounds_labels(dist, ind, codes, n_classes, features=None, *, weighted=True,
                  reverse_weight=REVERSE_WEIGHT):
    """Propagate labels round by round over a kNN graph given as (n, k) arrays.

    Parameters
    ----------
    dist, ind : arrays of shape (n, k)
        The kNN graph (self excluded).
    codes : int array of shape (n,)
        Class codes, -1 for unlabeled.
    n_classes : int
    features : ndarray or None
        Features for the fallback of graph components without labels.
    weighted : bool, default=True
        Similarity-weighted vote (True) or majority vote, ties by similarity.
    reverse_weight : float, default=0.5
        Vote weight of a reverse edge relative to a forward one.

    Returns
    -------
    labels : ndarray of int64, shape (n,)
    order : ndarray of int64, shape (n_unlabeled,)
        Fallback points last, in index order.
    level : ndarray of int64, shape (n,)
        Round of each propagated point (1, 2, ...), 0 for fallback points,
        -1 for the points labeled in ``codes``.
    shares : ndarray of shape (n, n_classes)
        Vote shares (one-hot for labeled and fallback points).
    confidence : ndarray of shape (n,)
        Winner's vote share; 1 for labeled points, 0 for fallback points.
    n_fallback : int
    """
    from ._rounds_numba import rounds_propagate

    lab, ind, w, level, shares = propagation_state(dist, ind, codes, n_classes)
    n = lab.shape[0]
    n_unlabeled = int((lab < 0).sum())
    order = np.empty(n, dtype=np.int64)
    confidence = np.ones(n, dtype=np.float64)
    pos = rounds_propagate(ind, w, lab, n_classes, bool(weighted), float(reverse_weight),
                           order, level, shares, confidence)
    n_fallback = n_unlabeled - pos
    if n_fallback:
        # Graph components without a labeled point: the Euclidean-nearest
        # labeled point, as HDL's last level.
        lost = np.flatnonzero(lab < 0)
        fb = fallback_classes(dist, ind, lab, features)
        lab[lost] = fb[lost]
        shares[lost, fb[lost]] = 1.0
        confidence[lost] = 0.0
        level[lost] = 0
        order[pos:n_unlabeled] = lost
    return lab, order[:n_unlabeled], level, shares, confidence, int(n_fallback)
