"""Numba kernel of round-based propagation (``HDLLabeler(method="rounds")``).

Imported lazily by :mod:`skusl.labeling._rounds` (never at ``import skusl``
time); compiled once with an explicit signature and ``cache=True``.

One round labels every unlabeled point that has a labeled out-neighbour when
the round starts (the *candidates*), in order of their labeled-neighbour
count at that moment (descending, ties by index), each by the
similarity-weighted vote of its neighbours labeled at its turn. A point
labeled in round ``r`` makes its unlabeled in-neighbours candidates of round
``r + 1``, so every labeled region grows exactly one hop per round.

Cost: the reverse-neighbour lists (counting sort) and one pass over each
point's k neighbours when it is voted and when it is labeled, O(n k) in all,
plus one sort per round (O(n log n) in all). Memory O(n k).
"""

import numpy as np
from numba import njit

from ._hdl_numba import count_labeled, reverse_neighbours, tally_votes

_SIG = ("int64(int64[:, ::1], float64[:, ::1], int64[::1], int64, boolean, int64[::1], "
        "int64[::1], float64[:, ::1], float64[::1])")


@njit(_SIG, cache=True, nogil=True)
def rounds_propagate(ind, w, lab, n_classes, weighted, order, level, dist_out, conf):
    """Label, round by round, every point that some labeled point reaches.

    Parameters
    ----------
    ind : int64 array of shape (n, k)
        Out-neighbours of every point (self excluded).
    w : float64 array of shape (n, k)
        Vote weight of each neighbour (its similarity).
    lab : int64 array of shape (n,)
        Class code of every point, -1 for unlabeled; updated in place.
        Points with no directed path to a labeled point stay -1.
    n_classes : int
    weighted : bool
        True: the class with the largest summed weight wins. False: the
        class with the most voters wins, ties by summed weight.
    order : int64 array of shape (n,)
        Receives the labeled points in labeling order.
    level : int64 array of shape (n,)
        Receives the round (1, 2, ...) of every point labeled here.
    dist_out : float64 array of shape (n, n_classes)
        Receives each labeled point's vote shares (weighted or counted, as
        the vote).
    conf : float64 array of shape (n,)
        Receives the winner's vote share.

    Returns
    -------
    pos : int
        Points labeled (entries of ``order`` written).
    """
    n, k = ind.shape
    rev_ptr, rev = reverse_neighbours(ind)

    # L[i]: labeled out-neighbours of unlabeled i; the first candidates
    L = np.zeros(n, np.int64)
    cur = np.empty(n, np.int64)
    nxt = np.empty(n, np.int64)
    queued = np.zeros(n, np.bool_)
    n_cur = 0
    for i in range(n):
        if lab[i] == -1:
            c = count_labeled(i, ind, lab)
            L[i] = c
            if c > 0:
                cur[n_cur] = i
                n_cur += 1
                queued[i] = True

    cnt = np.zeros(n_classes, np.int64)
    sims = np.zeros(n_classes, np.float64)
    pos = 0
    rnd = 0
    while n_cur > 0:
        rnd += 1
        keys = np.empty(n_cur, np.int64)
        for a in range(n_cur):
            keys[a] = (k - L[cur[a]]) * n + cur[a]  # most labeled neighbours first
        perm = np.argsort(keys)
        n_nxt = 0
        for a in range(n_cur):
            i = cur[perm[a]]
            total = tally_votes(i, ind, w, lab, cnt, sims)
            best = 0
            for c in range(1, n_classes):
                if weighted:
                    if sims[c] > sims[best] or (sims[c] == sims[best] and cnt[c] > cnt[best]):
                        best = c
                elif cnt[c] > cnt[best] or (cnt[c] == cnt[best] and sims[c] > sims[best]):
                    best = c
            if weighted:
                s = 0.0
                for c in range(n_classes):
                    s += sims[c]
                for c in range(n_classes):
                    dist_out[i, c] = sims[c] / s
            else:
                for c in range(n_classes):
                    dist_out[i, c] = cnt[c] / total
            conf[i] = dist_out[i, best]
            lab[i] = best
            level[i] = rnd
            order[pos] = i
            pos += 1
            for e in range(rev_ptr[i], rev_ptr[i + 1]):
                r = rev[e]
                if lab[r] != -1:
                    continue
                L[r] += 1
                if not queued[r]:  # not a candidate of this round: one of the next
                    queued[r] = True
                    nxt[n_nxt] = r
                    n_nxt += 1
        cur, nxt = nxt, cur
        n_cur = n_nxt
    return pos
