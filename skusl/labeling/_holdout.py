"""AutoK's held-out criterion: propagate from part of the labels, score on the rest.

With a few labels per class the paper's clusterability ``mu_k`` is 0 for
every k at or above the labels per class (a centre's k nearest *labeled*
neighbours then must include other classes), so it cannot rank k. Holding out
labeled samples and propagating from the others over the *whole* graph
measures what matters, the accuracy of the propagation at each k, from the
labels alone.
"""

import numpy as np

#: A k other than the method's default is taken only when its held-out
#: accuracy beats the default's clearly: by more than this one-sided quantile
#: of Student's t (with the held-out samples' count less one as its degrees
#: of freedom) in standard errors of the paired difference. With tens of
#: held-out labels the curve is noisy, and the default is the k measured best
#: over the shared sets.
SWITCH_QUANTILE = 0.977  # 2 standard errors for a normal


def holdout_splits(codes, n_repeats, fraction, rng):
    """Stratified held-out draws among the labeled samples.

    Every class with at least two labels gives ``round(fraction * n_c)``
    of them (at least one, at most ``n_c - 1``); a class with one label
    keeps it (holding it out would leave its class nothing to propagate).

    Returns
    -------
    splits : list of int arrays
        Held-out indices (into ``codes``) of each repeat; empty when no
        class has two labels.
    """
    labeled = np.flatnonzero(codes >= 0)
    per_class = [labeled[codes[labeled] == c] for c in np.unique(codes[labeled])]
    if not any(m.size >= 2 for m in per_class):
        return []
    splits = []
    for _ in range(n_repeats):
        held = [rng.choice(m, int(np.clip(round(fraction * m.size), 1, m.size - 1)),
                           replace=False) for m in per_class if m.size >= 2]
        splits.append(np.sort(np.concatenate(held)))
    return splits


def graph_correct(dist, ind, codes, n_classes, features, method, splits, k_values):
    """Held-out correctness for graph methods ("rounds", "hdl").

    Returns
    -------
    correct : bool ndarray of shape (len(k_values), n_scored)
        Whether each held-out sample (all repeats concatenated) was given its
        label by the propagation from the other labels at each k.
    """
    if method == "rounds":
        from ._rounds import rounds_labels as propagate
    else:
        from ._propagate import hdl_labels as propagate
    import warnings

    rows = []
    for k in k_values:
        row = []
        for held in splits:
            partial = codes.copy()
            partial[held] = -1
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # fallback notes
                labels = propagate(dist[:, :k], ind[:, :k], partial, n_classes, features)[0]
            row.append(labels[held] == codes[held])
        rows.append(np.concatenate(row))
    return np.array(rows)


def knn_dv_correct(features, codes, n_classes, splits, k_values):
    """Held-out correctness for kNN-DV: vote of the k nearest kept labels."""
    from ._propagate import majority_vote, similarity
    from ..neighbors import query_kneighbors

    rows = [[] for _ in k_values]
    labeled = np.flatnonzero(codes >= 0)
    for held in splits:
        kept = np.setdiff1d(labeled, held)
        dist, ind = query_kneighbors(features[held], features[kept],
                                     max(k_values), backend="numpy")
        for a, k in enumerate(k_values):
            winner, _ = majority_vote(codes[kept][ind[:, :k]], similarity(dist[:, :k]),
                                      n_classes)
            rows[a].append(winner == codes[held])
    return np.array([np.concatenate(r) for r in rows])


def choose_k(correct, k_values, default_k, sample_ids=None):
    """The default k unless another beats it clearly (see :data:`SWITCH_QUANTILE`).

    Parameters
    ----------
    correct : bool array of shape (len(k_values), n_scored)
        Held-out correctness, all repeats concatenated.
    k_values : sequence of int
    default_k : int
    sample_ids : int array of shape (n_scored,) or None
        Which labeled sample each column scores. A sample held out in several
        repeats is one observation (its columns averaged): counting it once
        per repeat would shrink the standard error as if each draw brought a
        new sample, without adding evidence. ``None``: every column its own sample.

    Returns
    -------
    k : int
    scores : ndarray of shape (len(k_values),)
        Held-out accuracy at each k.
    """
    from scipy.stats import t as student_t

    scores = correct.mean(axis=1)
    k_values = list(k_values)
    d = k_values.index(default_k) if default_k in k_values else int(np.argmax(scores))
    best = int(np.argmax(scores))  # ties: the smaller k
    diff = correct[best].astype(np.float64) - correct[d]
    if sample_ids is not None:
        _, inverse, counts = np.unique(sample_ids, return_inverse=True, return_counts=True)
        diff = np.bincount(inverse, weights=diff) / counts
    m = diff.shape[0]
    if m < 2 or best == d:
        return int(k_values[d]), scores
    # One pseudo-observation of the largest variance a difference of two
    # correctness indicators can have (1) keeps a few unanimous samples
    # (standard deviation 0) from passing as certain.
    var = ((m - 1) * diff.var(ddof=1) + 1.0) / m
    se = np.sqrt(var / m)
    if diff.mean() > student_t.ppf(SWITCH_QUANTILE, m - 1) * se:
        return int(k_values[best]), scores
    return int(k_values[d]), scores
