"""Numba kernel of round-based propagation (``HDLLabeler(method="rounds")``).

Imported lazily by :mod:`skusl.labeling._rounds` (never at ``import skusl``
time); compiled once with an explicit signature and ``cache=True``.

The kNN graph is directed: ``j`` in ``ind[i]`` is a *forward* edge of ``i``
(``j`` is among ``i``'s nearest) and a *reverse* edge of ``j`` (``i`` has
``j`` among its nearest). Both carry evidence, the forward one more: a
labeled point ``j`` labeled in round ``r`` makes its unlabeled reverse
neighbours (the ``i`` with ``j`` in ``ind[i]``) candidates of round ``r + 1``
and its unlabeled forward neighbours candidates of round ``r + 2``. So a
region grows one hop per round along forward edges and one hop per two
rounds along reverse ones, and every point in a graph component that holds a
labeled point is reached (a forward-only growth leaves the points whose
out-neighbours all point away to a fallback: 8% to 58% of the unlabeled
points at k = 3 with one random label per class on the shared sets).

Within a round the candidates go in order of ``2 F + R`` at the round's start
(``F`` labeled forward neighbours, ``R`` labeled reverse ones; descending,
ties by index), each labeled by the vote of its neighbours labeled at its
turn: forward neighbours with their similarity, reverse ones with
``reverse_weight`` times it (counts 2 and 1 for the counted vote).

Cost: the reverse-edge lists (counting sort) and one pass over each point's
forward and reverse edges when it is voted and when it is labeled, O(n k)
in all, plus one sort per round (O(n log n) in all). Memory O(n k).
"""

import numpy as np
from numba import njit

from ._hdl_numba import reverse_neighbours

_SIG = ("int64(int64[:, ::1], float64[:, ::1], int64[::1], int64, boolean, float64, "
        "int64[::1], int64[::1], float64[:, ::1], float64[::1])")


@njit(cache=True, nogil=True, inline="always")
def _schedule(p, when, sched, buf, n_buf):
    """Make ``p`` a candidate of round ``when`` unless it is one of an earlier round."""
    if sched[p] > when:
        sched[p] = when
        b = when % 3
        buf[b, n_buf[b]] = p
        n_buf[b] += 1


@njit(_SIG, cache=True, nogil=True)
def rounds_propagate(ind, w, lab, n_classes, weighted, reverse_weight, order, level,
                     dist_out, conf):
    """Label, round by round, every point that some labeled point reaches.

    Parameters
    ----------
    ind : int64 array of shape (n, k)
        Out-neighbours of every point (self excluded).
    w : float64 array of shape (n, k)
        Vote weight of each edge (its similarity).
    lab : int64 array of shape (n,)
        Class code of every point, -1 for unlabeled; updated in place.
        Points in graph components without a labeled point stay -1.
    n_classes : int
    weighted : bool
        True: the class with the largest summed weight wins, ties by count.
        False: the class with the largest count wins, ties by summed weight.
    reverse_weight : float
        Weight of a reverse edge's vote relative to a forward edge's.
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
    ptr, edge = reverse_neighbours(ind)
    w_flat = w.ravel()  # edge i -> ind[i, t] at position i * k + t
    n_fwd = np.zeros(n, np.int64)  # labeled forward neighbours of unlabeled points
    n_rev = np.zeros(n, np.int64)  # labeled reverse neighbours
    for i in range(n):
        if lab[i] >= 0:
            for t in range(k):
                n_rev[ind[i, t]] += 1
        else:
            for t in range(k):
                if lab[ind[i, t]] >= 0:
                    n_fwd[i] += 1
    # Candidates of rounds r, r + 1, r + 2 live in buffers r % 3, (r+1) % 3,
    # (r+2) % 3; ``sched`` is each point's earliest round so far (a point is
    # pushed once per value, so each buffer holds at most n entries).
    never = np.int64(1) << 62
    sched = np.full(n, never, np.int64)
    buf = np.empty((3, n), np.int64)
    n_buf = np.zeros(3, np.int64)
    for i in range(n):
        if lab[i] == -1 and (n_fwd[i] > 0 or n_rev[i] > 0):
            _schedule(i, 1 if n_fwd[i] > 0 else 2, sched, buf, n_buf)

    cnt = np.zeros(n_classes, np.int64)
    sims = np.zeros(n_classes, np.float64)
    span = 2 * k + n + 1  # > 2 F + R
    pos = 0
    rnd = 0
    while n_buf[0] + n_buf[1] + n_buf[2] > 0:
        rnd += 1
        b = rnd % 3
        cur = np.empty(n_buf[b], np.int64)
        n_cur = 0
        for a in range(n_buf[b]):
            i = buf[b, a]
            if lab[i] == -1 and sched[i] == rnd:
                cur[n_cur] = i
                n_cur += 1
        n_buf[b] = 0
        keys = np.empty(n_cur, np.int64)
        for a in range(n_cur):
            i = cur[a]
            keys[a] = (span - 2 * n_fwd[i] - n_rev[i]) * n + i  # most evidence first
        perm = np.argsort(keys)
        for a in range(n_cur):
            i = cur[perm[a]]
            cnt[:] = 0
            sims[:] = 0.0
            for t in range(k):
                c = lab[ind[i, t]]
                if c >= 0:
                    cnt[c] += 2
                    sims[c] += w[i, t]
            for e in range(ptr[i], ptr[i + 1]):
                c = lab[edge[e] // k]
                if c >= 0:
                    cnt[c] += 1
                    sims[c] += reverse_weight * w_flat[edge[e]]
            best = 0
            for c in range(1, n_classes):
                if weighted:
                    if sims[c] > sims[best] or (sims[c] == sims[best] and cnt[c] > cnt[best]):
                        best = c
                elif cnt[c] > cnt[best] or (cnt[c] == cnt[best] and sims[c] > sims[best]):
                    best = c
            s = 0.0
            total = 0
            for c in range(n_classes):
                s += sims[c]
                total += cnt[c]
            for c in range(n_classes):
                dist_out[i, c] = sims[c] / s if weighted else cnt[c] / total
            conf[i] = dist_out[i, best]
            lab[i] = best
            level[i] = rnd
            order[pos] = i
            pos += 1
            # i is now a labeled forward neighbour of its reverse neighbours ...
            for e in range(ptr[i], ptr[i + 1]):
                r = edge[e] // k
                if lab[r] == -1:
                    n_fwd[r] += 1
                    _schedule(r, rnd + 1, sched, buf, n_buf)
            # ... and a labeled reverse neighbour of its forward neighbours
            for t in range(k):
                o = ind[i, t]
                if lab[o] == -1:
                    n_rev[o] += 1
                    _schedule(o, rnd + 2, sched, buf, n_buf)
    return pos
