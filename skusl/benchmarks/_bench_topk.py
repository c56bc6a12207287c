"""Top-k kernel benchmark: GEMM vs the old heap kernel vs the buffered kernel.

Part 1 times, on one inner-product block ``S = X[:rows] @ X.T`` and in the
same process: the GEMM itself, the previous Numba heap kernel (a copy kept
below for comparison) and the current ``skusl._backends._numba`` kernel,
for each k; outputs are checked equal. Part 2 times the whole
``skusl.neighbors.kneighbors(X, k, neighbors="exact")`` (numba backend)
against scikit-learn ``NearestNeighbors(algorithm="brute").kneighbors`` and
faiss ``IndexFlatIP`` (a yardstick, when importable). Times are the best of
``--repeat`` wall-clock runs; ratios are taken within the run.

Data: ``mnist70k_pca100[:n]`` mapped to 128 dims by a fixed Gaussian
projection, L2-normalised, float32 (``make_data`` of the backends benchmark).

Usage::

    python -m skusl.benchmarks topk                       # 50k cols, k=20 100 399
    python -m skusl.benchmarks topk --n-full 20000        # smaller part 2
"""

import argparse
import time

import numpy as np
from numba import njit, prange


from .._backends import _numba as nb
from ..neighbors import kneighbors
from ._bench_backends import faiss_knn, make_data


# ------------------------------------------------ previous kernel (size-k heap)
@njit(inline="always")
def _heap_sift_down(hd, hi, size):
    pos = 0
    while True:
        left = 2 * pos + 1
        if left >= size:
            break
        right = left + 1
        child = left
        if right < size and (hd[right] > hd[left]
                             or (hd[right] == hd[left] and hi[right] > hi[left])):
            child = right
        if hd[child] > hd[pos] or (hd[child] == hd[pos] and hi[child] > hi[pos]):
            hd[pos], hd[child] = hd[child], hd[pos]
            hi[pos], hi[child] = hi[child], hi[pos]
            pos = child
        else:
            break


@njit(parallel=True, nogil=True)
def heap_kernel(S, sq_rows, sq_cols, row_offset, exclude_self, out_d, out_i):
    b, n = S.shape
    k = out_d.shape[1]
    for r in prange(b):
        hd = out_d[r]
        hi = out_i[r]
        for t in range(k):
            hd[t] = np.inf
            hi[t] = n
        sr = sq_rows[r]
        self_col = r + row_offset if exclude_self else -1
        for j in range(n):
            if j == self_col:
                continue
            s = S[r, j]
            d = (sr - (s + s)) + sq_cols[j]
            if d < 0:
                d = d - d
            if d < hd[0]:
                hd[0] = d
                hi[0] = j
                _heap_sift_down(hd, hi, k)
        size = k
        while size > 1:
            last = size - 1
            hd[0], hd[last] = hd[last], hd[0]
            hi[0], hi[last] = hi[last], hi[0]
            size = last
            _heap_sift_down(hd, hi, size)


def best_of(fn, repeat):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def sklearn_time(X, k, repeat):
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(X)
    return best_of(lambda: nn.kneighbors(), repeat)[0]


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m skusl.benchmarks topk", description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=50000, help="columns of the block")
    p.add_argument("--rows", type=int, default=1000, help="rows of the block")
    p.add_argument("--k", type=int, nargs="+", default=[20, 100, 399])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--n-full", type=int, default=50000, help="rows for part 2 (0: skip)")
    args = p.parse_args(argv)

    import numba

    X, source = make_data(args.n)
    print(f"data: {source}, float32; numba threads {numba.get_num_threads()}")
    sq = np.einsum("ij,ij->i", X, X)
    rows = args.rows
    t_gemm, S = best_of(lambda: X[:rows] @ X.T, args.repeat)
    print(f"\n## Part 1: one block {rows} x {args.n} x {X.shape[1]}")
    print(f"GEMM {t_gemm:.3f} s")
    print("| k | GEMM | old heap | new buffered | old/new | new/GEMM |")
    print("|---|---|---|---|---|---|")
    for k in args.k:
        od = np.empty((rows, k), np.float32)
        oi = np.empty((rows, k), np.int64)
        heap_kernel(S[:2], sq[:2], sq, 0, True, od[:2], oi[:2])  # compile
        nb.knn_block(S[:2], sq[:2], sq, k, 0, True)
        t_old, _ = best_of(lambda od=od, oi=oi: heap_kernel(S, sq[:rows], sq, 0, True, od, oi),
                           args.repeat)
        t_new, (d, i) = best_of(lambda k=k: nb.knn_block(S, sq[:rows], sq, k, 0, True),
                                args.repeat)
        assert np.array_equal(d, od) and np.array_equal(i, oi), "kernels disagree"
        print(f"| {k} | {t_gemm:.3f} s | {t_old:.3f} s | {t_new:.3f} s | "
              f"x{t_old / t_new:.2f} | x{t_new / t_gemm:.2f} |")

    if not args.n_full:
        return
    Xf, source = make_data(args.n_full)
    print(f"\n## Part 2: whole kNN, {source}")
    print("| k | skusl exact (numba) | sklearn brute | faiss IndexFlatIP | "
          "skusl/sklearn | skusl/faiss |")
    print("|---|---|---|---|---|---|")
    kneighbors(Xf[:500], 5, neighbors="exact", backend="numba")  # warm-up
    for k in args.k:
        t_us = best_of(lambda k=k: kneighbors(Xf, k, neighbors="exact", backend="numba"),
                       args.repeat)[0]
        t_sk = sklearn_time(Xf, k, args.repeat)
        t_fa = faiss_knn(Xf, k)
        fa = f"{t_fa:.2f} s" if t_fa is not None else "n/a"
        rf = f"x{t_us / t_fa:.2f}" if t_fa is not None else "n/a"
        print(f"| {k} | {t_us:.2f} s | {t_sk:.2f} s | {fa} | x{t_us / t_sk:.2f} | {rf} |",
              flush=True)


if __name__ == "__main__":
    main()
