"""NumPy kernels: the reference backend every other backend must match.

The kernels are the namespace-generic ones of
:mod:`skusl._backends._array_api` bound to NumPy, so the code the CuPy
backend runs on the GPU is exercised on the CPU by every test.
"""

import contextlib

import numpy as np

from . import _array_api


def array_namespace():
    """The namespace the kernels compute in (inputs and outputs)."""
    return np


knn_block, regularizer_block, cluster_argmax, TopK, sort_rows = _array_api.bind(
    np, "knn_block", "regularizer_block", "cluster_argmax", "TopK", "sort_rows")


def to_device(a):
    """The array as this backend computes on it (host memory: a NumPy array)."""
    return np.asarray(a)


def to_host(a):
    """A NumPy array of ``a`` (already on the host)."""
    return np.asarray(a)


@contextlib.contextmanager
def num_threads(n_jobs):
    """Context manager: run the BLAS calls on ``n_jobs`` threads, then restore.

    ``n_jobs=None`` leaves the BLAS setting alone; negative values count from
    the number of cores as in joblib (-1 = all).
    """
    if n_jobs is None:
        yield
        return
    from joblib import effective_n_jobs
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=effective_n_jobs(n_jobs), user_api="blas"):
        yield
