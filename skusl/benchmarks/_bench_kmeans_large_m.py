"""K-Means with m = 1000 clusters on 50k points: the mini-batch settings.

Complements the ``kmeans`` command (whose full-batch Lloyd runs at m=1000 take
minutes): mini-batch K-Means with k-means++ or random seeding, full-batch
Lloyd capped at 20 iterations, and Lloyd at m=40 for scale, on the synthetic
128-d mixture and MNIST-PCA-100 (50k rows). Prints time, inertia and steps.

    python -m skusl.benchmarks kmeans-large-m
"""

import time

from sklearn.cluster import KMeans, MiniBatchKMeans

from ._common import load_shared, synthetic


def main(argv=None):
    import argparse

    command = __name__.rsplit("_bench_", 1)[1].replace("_", "-")
    argparse.ArgumentParser(prog=f"python -m skusl.benchmarks {command}",
                            description=__doc__.splitlines()[0]).parse_args(argv)
    print("| data | method | time (s) | inertia | steps |")
    print("|---|---|---|---|---|")
    for name, X in (("synthetic 128-d", synthetic(50000, 128)),
                    ("mnist70k_pca100", load_shared("mnist70k_pca100", n=50000)[0])):
        runs = (
            ("MiniBatch m=1000, k-means++", MiniBatchKMeans(
                1000, n_init=1, max_iter=100, batch_size=4000, max_no_improvement=10,
                random_state=0)),
            ("MiniBatch m=1000, random init (skusl's choice)", MiniBatchKMeans(
                1000, n_init=1, max_iter=100, batch_size=4000, init="random",
                max_no_improvement=10, random_state=0)),
            ("Lloyd m=1000, 20 iterations", KMeans(1000, n_init=1, max_iter=20, random_state=0)),
            ("Lloyd m=40 (skusl's choice)", KMeans(40, n_init=1, max_iter=100, random_state=0)),
        )
        for label, km in runs:
            t = time.perf_counter()
            km.fit(X)
            dt = time.perf_counter() - t
            steps = getattr(km, "n_steps_", km.n_iter_)
            print(f"| {name} | {label} | {dt:.2f} | {km.inertia_:.1f} | {steps} |", flush=True)


if __name__ == "__main__":
    main()
