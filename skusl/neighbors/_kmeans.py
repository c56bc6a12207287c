"""K-Means for the diversity step, chosen by problem size.

USL only needs a reasonable partition (one pick per cluster), so the cost of
K-Means must stay below the kNN graph's. ``python -m skusl.benchmarks kmeans``
measures scikit-learn's ``KMeans`` (Lloyd, one k-means++ init) against
``MiniBatchKMeans`` on 50k x 128 for m = 40 and m = 1000; the switch below
follows those figures (see ``docs/benchmarks/kmeans.md``).

Above :data:`SAMPLE_SIZE` rows (issue 13: m = 1000-3000 clusters on a
million rows) the partition is fitted on a seeded uniform sample of
``SAMPLE_SIZE`` rows and every row is then assigned to its nearest centroid
by the exact tiled search (one GEMM pass over X). Lloyd's centroids are
means, and a mean over ~50-200 sampled members per cluster is within a few
per cent of the full one, while the fit costs a fifth of the data or less;
``python -m skusl.benchmarks scale`` reports the inertia against the fit on
all rows.
"""

import numpy as np
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.utils import check_random_state

#: Above this many (samples x clusters), full-batch Lloyd iterations cost
#: more than the kNN graph; switch to mini-batches.
FULL_BATCH_MAX_WORK = 5e6


def make_kmeans(n_samples, n_clusters, random_state):
    """The K-Means estimator USL uses for ``n_clusters`` on ``n_samples`` points."""
    if n_samples * n_clusters <= FULL_BATCH_MAX_WORK:
        return KMeans(n_clusters=n_clusters, n_init=1, max_iter=100,
                      random_state=random_state)
    # Random init: k-means++ seeding costs 5x the mini-batch iterations at
    # m=1000 on 50k points for 0.1-0.7% lower inertia (docs/benchmarks/kmeans.md).
    return MiniBatchKMeans(n_clusters=n_clusters, n_init=1, max_iter=100, init="random",
                           batch_size=max(2048, 4 * n_clusters),
                           max_no_improvement=10, random_state=random_state)


#: Rows above which K-Means is fitted on a sample and then assigns every row.
SAMPLE_SIZE = 200_000


def fit_kmeans(X, n_clusters, random_state, *, sample_size=None):
    """Partition ``X`` into ``n_clusters``; returns (labels, centers).

    ``labels`` may leave clusters empty when ``X`` has fewer distinct points
    than clusters; callers handle empty clusters. With more than
    ``sample_size`` rows (default :data:`SAMPLE_SIZE`), the centroids come
    from a seeded sample of that many rows and every row is assigned to its
    nearest centroid (exact search); below it, the result is unchanged.
    """
    sample_size = SAMPLE_SIZE if sample_size is None else int(sample_size)
    n = X.shape[0]
    if n > sample_size >= n_clusters:
        from ._graph import query_kneighbors

        rng = check_random_state(random_state)
        rows = np.sort(rng.choice(n, sample_size, replace=False))
        _, centers = _fit(X[rows], n_clusters, int(rng.randint(np.iinfo(np.int32).max)))
        centers = np.ascontiguousarray(centers, dtype=X.dtype)
        _, nearest = query_kneighbors(X, centers, 1)
        return nearest[:, 0].astype("int64"), centers
    return _fit(X, n_clusters, random_state)


def _fit(X, n_clusters, random_state):
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    km = make_kmeans(X.shape[0], n_clusters, random_state)
    with warnings.catch_warnings():
        # Duplicate-heavy data gives fewer distinct clusters than asked for;
        # USL fills those picks itself, so the warning would only mislead.
        warnings.simplefilter("ignore", ConvergenceWarning)
        km.fit(X)
    return km.labels_.astype("int64"), km.cluster_centers_
