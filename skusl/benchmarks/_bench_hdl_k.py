"""How HDL's accuracy depends on k: the search behind HDLLabeler's default.

For each shared set (20k-row slices), 1, 4 and 10 random labels per class
and 3 seeds, HDL's transductive accuracy (on all samples) for k in
{1, 2, 3, 5, 7, 10}, on one exact 10-NN graph per set (HDL reads its first k
columns through ``metric="precomputed"``). Prints a Markdown table.

    python -m skusl.benchmarks hdl-k
"""

import warnings

import numpy as np

from ._common import load_shared

from .. import HDLLabeler
from ..neighbors import kneighbors_graph

KS = (1, 2, 3, 5, 7, 10)


def main(argv=None):
    import argparse

    command = __name__.rsplit("_bench_", 1)[1].replace("_", "-")
    argparse.ArgumentParser(prog=f"python -m skusl.benchmarks {command}",
                            description=__doc__.splitlines()[0]).parse_args(argv)
    print("| data | labels/class | " + " | ".join(f"k={k}" for k in KS) + " |")
    print("|---|---|" + "---|" * len(KS))
    means = {k: [] for k in KS}
    for name in ("fashion20k_pixels", "rt13k_minilm", "mnist70k_pca100"):
        X, y = load_shared(name, n=20000)
        graph = kneighbors_graph(X, max(KS))
        classes = np.unique(y)
        for per_class in (1, 4, 10):
            acc = {k: [] for k in KS}
            for seed in range(3):
                rng = np.random.RandomState(seed)
                labeled = np.concatenate([rng.choice(np.flatnonzero(y == c), per_class,
                                                     replace=False) for c in classes])
                y_partial = np.full(len(y), -1)
                y_partial[labeled] = y[labeled]
                for k in KS:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # unlabeled components at tiny k
                        hdl = HDLLabeler(n_neighbors=k, method="hdl",
                                         metric="precomputed").fit(graph, y_partial)
                    acc[k].append(np.mean(hdl.transduction_ == y))
            for k in KS:
                means[k].append(np.mean(acc[k]))
            print(f"| {name} | {per_class} | " + " | ".join(f"{np.mean(acc[k]):.3f}"
                                                           for k in KS) + " |", flush=True)
    print("| **mean** | | " + " | ".join(f"**{np.mean(means[k]):.3f}**" for k in KS) + " |")


if __name__ == "__main__":
    main()
