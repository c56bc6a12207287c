"""Approximate kNN through pynndescent (imported lazily)."""

import numpy as np
from sklearn.utils import check_random_state

from .._backends._numpy import sort_rows


def approximate_kneighbors(X, n_neighbors, *, random_state=None, n_jobs=None,
                           verbose=False):
    """Approximate k nearest neighbours of every row of ``X`` among the rows of ``X``.

    NN-descent (Dong et al., 2011) as implemented by pynndescent, asked for
    ``n_neighbors + 1`` neighbours so that dropping the sample itself still
    leaves ``n_neighbors``.

    Returns
    -------
    dist : ndarray of shape (n, n_neighbors)
        Euclidean distances, ascending; ties by smaller index.
    ind : ndarray of shape (n, n_neighbors), int64
    """
    from pynndescent import NNDescent

    # An int seed is passed through; a RandomState (or None) draws one, as
    # scikit-learn's check_random_state accepts every random_state form.
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        seed = int(random_state)
    elif random_state is None:
        seed = None
    else:
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    import pynndescent

    from .._progress import progress_bar

    # One progress bar (verbose >= 1); pynndescent's own timestamped log
    # lines only at verbose >= 2, so they do not break into the bars.
    with progress_bar(total=1, desc="kNN graph (NN-descent)", disable=not verbose) as bar:
        index = NNDescent(
            X, n_neighbors=n_neighbors + 1, metric="euclidean",
            random_state=seed, n_jobs=-1 if n_jobs is None else n_jobs,
            verbose=int(verbose) >= 2, low_memory=True, compressed=True,
        )
        ind, dist = index.neighbor_graph
        bar.update(1)
    pynndescent._skusl_used = True  # compiled in this process (the cost model reads it)
    return drop_self(np.asarray(dist), np.asarray(ind), n_neighbors)


def drop_self(dist, ind, n_neighbors):
    """Remove each row's own index (or its last column) and sort the rest.

    Rows of ``ind`` hold ``n_neighbors + 1`` candidates; where a row contains
    its own index that entry goes, otherwise the farthest does. Missing
    neighbours (index < 0, as pynndescent reports on tiny data) are an error.
    """
    n = ind.shape[0]
    if (ind < 0).any():
        raise ValueError(
            "the approximate search returned fewer neighbours than asked for; "
            "use neighbors='exact' on data this small."
        )
    is_self = ind == np.arange(n)[:, None]
    drop = is_self.copy()
    no_self = ~is_self.any(axis=1)
    drop[no_self, -1] = True
    # A row can list itself twice only in a corrupt graph; keep shapes honest.
    keep = ~drop
    keep_counts = keep.sum(axis=1)
    if (keep_counts != n_neighbors).any():
        raise ValueError("the approximate search returned duplicate neighbours.")
    d = dist[keep].reshape(n, n_neighbors)
    i = ind[keep].reshape(n, n_neighbors).astype(np.int64)
    return sort_rows(d, i)

