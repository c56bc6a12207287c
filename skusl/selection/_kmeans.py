"""K-Means for the diversity step, chosen by problem size.

USL only needs a reasonable partition (one pick per cluster), so the cost of
K-Means must stay below the kNN graph's. ``python -m skusl.benchmarks kmeans``
measures scikit-learn's ``KMeans`` (Lloyd, one k-means++ init) against
``MiniBatchKMeans`` on 50k x 128 for m = 40 and m = 1000; the switch below
follows those figures (see ``docs/benchmarks/kmeans.md``).
"""

from sklearn.cluster import KMeans, MiniBatchKMeans

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


def fit_kmeans(X, n_clusters, random_state):
    """Partition ``X`` into ``n_clusters``; returns (labels, centers).

    ``labels`` may leave clusters empty when ``X`` has fewer distinct points
    than clusters; callers handle empty clusters.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    km = make_kmeans(X.shape[0], n_clusters, random_state)
    with warnings.catch_warnings():
        # Duplicate-heavy data gives fewer distinct clusters than asked for;
        # USL fills those picks itself, so the warning would only mislead.
        warnings.simplefilter("ignore", ConvergenceWarning)
        km.fit(X)
    return km.labels_.astype("int64"), km.cluster_centers_
