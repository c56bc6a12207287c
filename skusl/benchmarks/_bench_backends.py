"""Backends benchmark: exact kNN and the USL regulariser per backend.

Every figure is a ratio measured in the same process (the machine is shared
and noisy): backend time / numpy-backend time, our kNN / faiss
``IndexFlatIP`` (a yardstick only, used when installed), ``USLSelector.fit``
/ scikit-learn's brute-force ``kneighbors``, our kNN / the GEMM lower bound
(``2 n^2 d`` flops at the sgemm rate measured here).

Data: ``mnist70k_pca100`` sliced to n rows and mapped to 128 dims by a fixed
Gaussian random projection (100 -> 128), L2-normalised, float32. For
n > 70000 (the 200k case) the rows are synthetic: a 100-component Gaussian
mixture in 128 dims (seeded), normalised.

Usage::

    python -m skusl.benchmarks backends --quick          # 10k rows, a minute
    python -m skusl.benchmarks backends                  # 50k, k=20 and 399
    python -m skusl.benchmarks backends --sizes 200000 --k 20 --backends numba
    python -m skusl.benchmarks backends --gpu            # adds cupy, prints device
    python -m skusl.benchmarks backends --compile-only   # Numba cold/warm import
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from .. import USLSelector
from .._backends import get_kernels
from ..neighbors import kneighbors
from ..selection._usl_core import density_utility, regularized_selection
from ._common import SHARED_DATA

ROOT = Path(__file__).resolve().parents[2]

DATA = SHARED_DATA


def make_data(n, d=128, seed=0):
    """mnist70k_pca100 projected to ``d`` dims (synthetic mixture above 70k)."""
    rng = np.random.default_rng(seed)
    path = DATA / "mnist70k_pca100.npz"
    if n <= 70000 and path.exists():
        with np.load(path, allow_pickle=False) as f:
            X = f["X"][:n].astype(np.float64)
        X = X @ rng.standard_normal((X.shape[1], d)) / np.sqrt(d)
        source = f"mnist70k_pca100[:{n}] @ R(100x{d})"
    else:
        centers = rng.standard_normal((100, d))
        X = centers[rng.integers(0, 100, n)] + 0.5 * rng.standard_normal((n, d))
        source = f"synthetic Gaussian mixture ({n}x{d}, 100 components)"
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return np.ascontiguousarray(X, dtype=np.float32), source


def timed(fn, repeat=1):
    best = np.inf
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def sgemm_rate(d=128, n=20000, rows=4096):
    """Flops/s of the (rows x d) @ (d x n) float32 GEMM the kNN runs."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((rows, d)).astype(np.float32)
    B = rng.standard_normal((n, d)).astype(np.float32)
    A @ B.T  # warm-up
    t, _ = timed(lambda: A @ B.T, repeat=5)
    return 2.0 * rows * n * d / t


def faiss_knn(X, k):
    try:
        import faiss
    except ImportError:
        return None
    index = faiss.IndexFlatIP(X.shape[1])
    index.add(X)
    return timed(lambda: index.search(X, k + 1))[0]  # +1: the point itself


def sklearn_knn(X, k):
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(X)
    return timed(lambda: nn.kneighbors())[0]  # self excluded, like ours


def bench_knn(X, k, backends):
    times = {}
    for b in backends:
        Xb = X
        if b == "cupy":
            import cupy

            Xb = cupy.asarray(X)
            kneighbors(Xb[:2000], k, neighbors="exact", backend=b)  # warm-up
            cupy.cuda.Device().synchronize()

        def run(Xb=Xb, b=b):  # bound now: the loop variables change
            out = kneighbors(Xb, k, neighbors="exact", backend=b)
            if b == "cupy":
                cupy.cuda.Device().synchronize()
            return out

        times[b] = timed(run)[0]
    return times


def bench_regularizer(X, k, backends, n_select=40, seed=0):
    from skusl.neighbors._kmeans import fit_kmeans

    dist, _ = kneighbors(X, k, neighbors="exact", backend="numba")
    utility = density_utility(dist.astype(np.float64) ** 2)
    labels, _ = fit_kmeans(X, n_select, seed)
    times = {}
    for b in backends:
        Xb, ub, lb = X, utility, labels
        if b == "cupy":
            import cupy

            Xb, ub, lb = cupy.asarray(X), cupy.asarray(utility), cupy.asarray(labels)

        def run(Xb=Xb, ub=ub, lb=lb, b=b):  # bound now: the loop variables change
            out = regularized_selection(Xb, ub, lb, n_select, reg_weight=0.5, reg_alpha=0.5,
                                        reg_momentum=0.9, reg_iter=10, reg_horizon=None,
                                        backend=b)
            if b == "cupy":
                cupy.cuda.Device().synchronize()
            return out

        times[b] = timed(run)[0]
    return times


def bench_fit(X, k=399, n_select=40):
    tracemalloc.start()
    t_fit, sel = timed(lambda: USLSelector(n_select=n_select, n_neighbors=k,
                                           neighbors="exact", random_state=0).fit(X))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return t_fit, peak, sel


def compile_times():
    """Numba import (compile or cache load) and first-call times, in subprocesses."""
    code = ("import time; t=time.perf_counter(); import skusl._backends._numba as nb; "
            "t1=time.perf_counter(); import numpy as np; X=np.random.rand(500,32)"
            ".astype(np.float32); s=np.einsum('ij,ij->i',X,X); nb.knn_block(X@X.T,s,s,10,0,True);"
            "nb.regularizer_block(X@X[:20].T,s,s[:20],np.zeros(500,np.int64),0,0.5,1e-12);"
            "nb.cluster_argmax(np.random.rand(500),np.zeros(500,np.int64),1);"
            "print(t1-t, time.perf_counter()-t1)")
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("cold (empty cache)", "warm (cached)"):
            t = time.perf_counter()
            res = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT,
                                 capture_output=True, text=True, check=True)
            wall = time.perf_counter() - t
            imp, first = map(float, res.stdout.split())
            out[label] = (imp, first, wall)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m skusl.benchmarks backends", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10k rows, k=20 and 399")
    parser.add_argument("--gpu", action="store_true", help="add the cupy backend")
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--k", type=int, nargs="+", default=[20, 399])
    parser.add_argument("--backends", nargs="+", default=["numpy", "numba"])
    parser.add_argument("--no-fit", action="store_true", help="skip the fit ratios")
    parser.add_argument("--compile-only", action="store_true")
    args = parser.parse_args(argv)

    import numba
    import threadpoolctl

    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, numba "
          f"{numba.__version__}, numba threads {numba.get_num_threads()}, cores "
          f"{os.cpu_count()}")
    print("BLAS:", [(p["internal_api"], p["num_threads"])
                    for p in threadpoolctl.threadpool_info()])
    print("\n## Numba compile / load (subprocess, NUMBA_CACHE_DIR in a temp dir)")
    for label, (imp, first, wall) in compile_times().items():
        print(f"{label:20s} import {imp:6.2f} s, first calls {first:6.3f} s, "
              f"process {wall:6.2f} s")
    if args.compile_only:
        return

    backends = list(args.backends)
    if args.gpu:
        try:
            import cupy

            props = cupy.cuda.runtime.getDeviceProperties(0)
            print(f"GPU: {props['name'].decode()} ({props['totalGlobalMem'] / 2**30:.0f} GiB)")
            backends.append("cupy")
        except Exception as exc:  # no cupy or no device
            print(f"--gpu: no usable GPU ({type(exc).__name__}: {exc}); CPU only")
    sizes = args.sizes or ([10000] if args.quick else [50000])
    rate = sgemm_rate()
    print(f"\nsgemm rate (4096x128 @ 128x20000): {rate / 1e9:.1f} GFLOP/s")
    get_kernels("numba")  # import (compile or cache load) outside the timings

    for n in sizes:
        X, source = make_data(n)
        print(f"\n## n = {n}, d = 128: {source}")
        gemm_bound = 2.0 * n * n * X.shape[1] / rate
        print(f"GEMM lower bound (2 n^2 d / rate): {gemm_bound:.2f} s")
        for k in args.k:
            if k >= n:
                continue
            times = bench_knn(X, k, backends)
            t_faiss = faiss_knn(X, k)
            base = times.get("numpy")
            print(f"\nkNN k={k}:")
            for b, t in times.items():
                line = f"  {b:6s} {t:8.2f} s"
                if base:
                    line += f"  x{t / base:5.2f} of numpy"
                if b != "cupy":
                    line += f"  x{t / gemm_bound:5.2f} of GEMM bound"
                    if t_faiss:
                        line += f"  x{t / t_faiss:5.2f} of faiss"
                else:
                    line += f"  (CPU numba / GPU: x{times['numba'] / t:6.1f})" \
                        if "numba" in times else ""
                print(line)
            print(f"  faiss IndexFlatIP: {t_faiss:.2f} s" if t_faiss
                  else "  faiss not installed")
        reg = bench_regularizer(X, 20, backends)
        base = reg.get("numpy")
        print("\nregulariser (n_select=40, reg_iter=10, no horizon):")
        for b, t in reg.items():
            print(f"  {b:6s} {t:8.3f} s" + (f"  x{t / base:5.2f} of numpy" if base else ""))
        if not args.no_fit:
            k = max(kk for kk in args.k if kk < n)
            t_fit, peak, _ = bench_fit(X, k)
            t_sk = sklearn_knn(X, k)
            t_reg = reg.get("numba", min(reg.values()))
            print(f"\nUSLSelector.fit (n_neighbors={k}, n_select=40, backend auto=numba): "
                  f"{t_fit:.2f} s, peak traced memory {peak / 2**20:.0f} MiB")
            print(f"  sklearn NearestNeighbors(brute).kneighbors: {t_sk:.2f} s; "
                  f"fit / sklearn kNN = x{t_fit / t_sk:.2f}")
            print(f"  regulariser / fit = {t_reg / t_fit:.1%}")


if __name__ == "__main__":
    main()
