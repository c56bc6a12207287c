"""Which K-Means keeps USL's diversity step cheap? (issue: K-Means must not dominate).

Times scikit-learn ``KMeans`` (Lloyd and Elkan, one k-means++ init),
``MiniBatchKMeans`` and ``BisectingKMeans`` on 50k x 128 for m = 40 and
m = 1000 clusters, on a synthetic unit-norm mixture and on MNIST-PCA-100
(50k rows, 100 dims), and reports time and inertia relative to full-batch
Lloyd in the same process. The exact kNN graph (k=20) is timed alongside, as
the cost K-Means must stay below.

    python -m skusl.benchmarks kmeans [--quick]
"""

import argparse

import numpy as np
from sklearn.cluster import BisectingKMeans, KMeans, MiniBatchKMeans

from ._common import load_shared, synthetic, timed

from ..neighbors import kneighbors
from ..neighbors._kmeans import make_kmeans


def candidates(m, seed):
    return {
        "KMeans lloyd": KMeans(m, n_init=1, max_iter=100, random_state=seed),
        "KMeans elkan": KMeans(m, n_init=1, max_iter=100, algorithm="elkan", random_state=seed),
        "MiniBatchKMeans": MiniBatchKMeans(m, n_init=1, max_iter=100,
                                           batch_size=max(2048, 4 * m), init="random",
                                           max_no_improvement=10, random_state=seed),
        "BisectingKMeans": BisectingKMeans(m, random_state=seed),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m skusl.benchmarks kmeans", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k rows instead of 50k")
    args = parser.parse_args(argv)
    n = 10_000 if args.quick else 50_000
    sets = {"synthetic 128-d": synthetic(n, 128)}
    try:
        sets["mnist70k_pca100"] = load_shared("mnist70k_pca100", n=n)[0]
    except FileNotFoundError:
        pass
    print("| data | m | method | time (s) | time / Lloyd | inertia / Lloyd | time / kNN graph |")
    print("|---|---|---|---|---|---|---|")
    for name, X in sets.items():
        t_knn, _ = timed(kneighbors, X, 20, neighbors="exact")
        for m in (40, 1000):
            results = {}
            for label, km in candidates(m, 0).items():
                t, fitted = timed(km.fit, X)
                results[label] = (t, fitted.inertia_ if hasattr(fitted, "inertia_")
                                  else np.nan)
            t0, i0 = results["KMeans lloyd"]
            chosen = type(make_kmeans(n, m, 0)).__name__
            for label, (t, inertia) in results.items():
                mark = " (skusl's choice)" if label.startswith(chosen) and (
                    chosen != "KMeans" or label == "KMeans lloyd") else ""
                print(f"| {name} ({n}) | {m} | {label}{mark} | {t:.2f} | {t / t0:.2f} | "
                      f"{inertia / i0:.3f} | {t / t_knn:.2f} |")
        print(f"| {name} ({n}) | - | exact kNN graph, k=20 | {t_knn:.2f} | | | 1.00 |")


if __name__ == "__main__":
    main()
