"""Numba kernel of Hierarchical Dynamic Labeling (HDL).

Imported lazily by :class:`skusl.labeling.HDLLabeler` (never at ``import
skusl`` time). The kernel is compiled once with an explicit signature and
``cache=True``; later imports load it from the on-disk cache.

The algorithm (see :class:`skusl.labeling.HDLLabeler` for the statement) runs
in O(n k) plus one sort per level set (O(n log n) in all):

* reverse-neighbour lists in CSR form (counting sort over the kNN indices);
* ``L[i]`` = labeled out-neighbours of unlabeled ``i``, kept in a bucket
  queue: one doubly linked list per value 0..k and a pointer to the largest
  non-empty bucket; labeling ``j`` walks ``j``'s reverse list and moves each
  unlabeled ``r`` one bucket up, O(1) per edge;
* a level set is the whole top bucket, ordered once by its in-degree from
  its own members (descending, ties by index) and labeled in that order,
  each vote seeing every label assigned before it.
"""

import numpy as np
from numba import njit

_SIG = ("UniTuple(int64, 2)(int64[:, ::1], float64[:, ::1], int64[::1], int64, "
        "int64[::1], boolean, int64[::1], int64[::1], float64[:, ::1], int64)")


@njit("Tuple((int64[::1], int64[::1]))(int64[:, ::1])", cache=True, nogil=True)
def reverse_neighbours(ind):
    """Reverse edges of a kNN index array (CSR layout).

    ``rev[rev_ptr[j]:rev_ptr[j + 1]]`` are the flat positions ``i * k + t``
    with ``ind[i, t] == j``, in increasing ``i``: ``rev // k`` is the row
    that has ``j`` among its neighbours, and the position gives that edge's
    weight. Shared by the HDL and rounds kernels.
    """
    n, k = ind.shape
    rev_ptr = np.zeros(n + 1, np.int64)
    for i in range(n):
        for t in range(k):
            rev_ptr[ind[i, t] + 1] += 1
    for i in range(n):
        rev_ptr[i + 1] += rev_ptr[i]
    fill = rev_ptr[:n].copy()
    rev = np.empty(n * k, np.int64)
    for i in range(n):
        for t in range(k):
            j = ind[i, t]
            rev[fill[j]] = i * k + t
            fill[j] += 1
    return rev_ptr, rev


@njit(cache=True, nogil=True, inline="always")
def count_labeled(i, ind, lab):
    """How many of ``i``'s neighbours are labeled (HDL kernel)."""
    c = 0
    for t in range(ind.shape[1]):
        if lab[ind[i, t]] >= 0:
            c += 1
    return c


@njit(cache=True, nogil=True, inline="always")
def tally_votes(i, ind, w, lab, cnt, sims):
    """Count and summed similarity per class of ``i``'s labeled neighbours.

    Fills ``cnt`` and ``sims`` (length n_classes) and returns how many of
    the neighbours are labeled (HDL kernel; rounds also counts reverse edges).
    """
    cnt[:] = 0
    sims[:] = 0.0
    total = 0
    for t in range(ind.shape[1]):
        c = lab[ind[i, t]]
        if c >= 0:
            cnt[c] += 1
            sims[c] += w[i, t]
            total += 1
    return total


@njit(_SIG, cache=True, nogil=True)
def hdl_propagate(ind, w, lab, n_classes, fb, use_fb, order, level, dist_out, pos):
    """Label the unlabeled points of ``lab`` in place, level by level.

    Parameters
    ----------
    ind : int64 array of shape (n, k)
        Out-neighbours of every point (self excluded, distinct per row).
    w : float64 array of shape (n, k)
        Similarity of each neighbour (tie-break of the vote).
    lab : int64 array of shape (n,)
        Class code of every point, -1 for unlabeled; updated in place.
    n_classes : int
    fb : int64 array of shape (n,)
        Fallback class of each point (read only when ``use_fb``).
    use_fb : bool
        False: stop and return as soon as no unlabeled point has a labeled
        neighbour (max L = 0), so that the caller can compute ``fb``.
        True: run that last level too, falling back to ``fb``.
    order : int64 array of shape (n,)
        Receives the labeled points in labeling order from ``pos`` on.
    level : int64 array of shape (n,)
        Receives the level (max L) at which each point was labeled.
    dist_out : float64 array of shape (n, n_classes)
        Receives each labeled point's vote shares.
    pos : int
        Number of entries of ``order`` already written.

    Returns
    -------
    pos : int
        Entries of ``order`` written so far.
    n_fallback : int
        Points labeled by the fallback during this call.
    """
    n, k = ind.shape
    rev_ptr, rev = reverse_neighbours(ind)

    # bucket queue over L (doubly linked lists)
    L = np.zeros(n, np.int64)
    head = np.full(k + 1, -1, np.int64)
    nxt = np.full(n, -1, np.int64)
    prv = np.full(n, -1, np.int64)
    in_round = np.zeros(n, np.bool_)
    top = 0
    n_unlabeled = 0
    for i in range(n - 1, -1, -1):
        if lab[i] == -1:
            c = count_labeled(i, ind, lab)
            L[i] = c
            nxt[i] = head[c]
            if head[c] != -1:
                prv[head[c]] = i
            head[c] = i
            if c > top:
                top = c
            n_unlabeled += 1

    S = np.empty(n, np.int64)
    indeg = np.zeros(n, np.int64)
    cnt = np.zeros(n_classes, np.int64)
    sims = np.zeros(n_classes, np.float64)
    n_fallback = 0
    while n_unlabeled > 0:
        while top > 0 and head[top] == -1:
            top -= 1
        m = top
        if m == 0 and not use_fb:
            break
        # the level set: the whole top bucket
        s = 0
        node = head[m]
        while node != -1:
            S[s] = node
            s += 1
            in_round[node] = True
            node = nxt[node]
        head[m] = -1
        for a in range(s):
            j = S[a]
            for t in range(k):
                q = ind[j, t]
                if in_round[q]:
                    indeg[q] += 1
        keys = np.empty(s, np.int64)
        for a in range(s):
            keys[a] = (n - indeg[S[a]]) * n + S[a]  # desc in-degree, then index
        perm = np.argsort(keys)
        for a in range(s):
            i = S[perm[a]]
            # majority of the labeled neighbours, ties by summed similarity,
            # then by the smallest class code
            total = tally_votes(i, ind, w, lab, cnt, sims)
            if total == 0:
                best = fb[i]
                n_fallback += 1
                dist_out[i, best] = 1.0
            else:
                best = 0
                for c in range(1, n_classes):
                    if cnt[c] > cnt[best] or (cnt[c] == cnt[best] and sims[c] > sims[best]):
                        best = c
                for c in range(n_classes):
                    dist_out[i, c] = cnt[c] / total
            lab[i] = best
            order[pos] = i
            pos += 1
            level[i] = m
            n_unlabeled -= 1
            in_round[i] = False
            indeg[i] = 0
            for e in range(rev_ptr[i], rev_ptr[i + 1]):
                r = rev[e] // k
                if lab[r] != -1:
                    continue
                old = L[r]
                L[r] = old + 1
                if in_round[r]:
                    continue  # already in this level set: stays there
                # unlink r from bucket old, push it on bucket old + 1
                if prv[r] != -1:
                    nxt[prv[r]] = nxt[r]
                else:
                    head[old] = nxt[r]
                if nxt[r] != -1:
                    prv[nxt[r]] = prv[r]
                prv[r] = -1
                nxt[r] = head[old + 1]
                if head[old + 1] != -1:
                    prv[head[old + 1]] = r
                head[old + 1] = r
                if old + 1 > top:
                    top = old + 1
    return pos, n_fallback
