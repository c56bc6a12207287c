"""CuPy kernels (GPU): the namespace-generic kernels bound to CuPy.

Imported only when ``backend="cupy"`` is resolved (CuPy and a GPU present).
The GEMM runs in cuBLAS (``X @ Y.T`` on device arrays, issued by the
driver); the top-k, the regulariser and the per-cluster argmax are the
:mod:`skusl._backends._array_api` kernels, whose code CI runs under NumPy.

Differences from the CPU backends are float rounding only: cuBLAS sums the
inner products in another order than OpenBLAS, and CuPy's ``cumsum`` is a
parallel scan, so distances and the regulariser agree to a few ulps, and
neighbour indices agree except between candidates whose distances are
within that rounding of each other. TF32 is not used (CuPy leaves it off
unless ``CUPY_TF32=1``). CuPy's ``argpartition`` sorts each row fully (it
is a stable sort), which is correct but not the fastest top-k; a fused
top-k RawKernel is the next step where the GPU top-k dominates.
"""

import contextlib

import cupy
import numpy as np

from . import _array_api


def array_namespace():
    """The namespace the kernels compute in (inputs and outputs)."""
    return cupy


knn_block, regularizer_block, cluster_argmax, sort_rows = _array_api.bind(
    cupy, "knn_block", "regularizer_block", "cluster_argmax", "sort_rows")


def to_device(a):
    """Copy a NumPy array to the current GPU (CuPy arrays pass through)."""
    return cupy.asarray(a)


def to_host(a):
    """Copy a CuPy array to the host (NumPy arrays pass through)."""
    return a.get() if isinstance(a, cupy.ndarray) else np.asarray(a)


def num_threads(n_jobs):
    """Context manager for the CPU-thread setting: a no-op on the GPU.

    The device schedules its own threads; ``n_jobs`` is accepted so that
    every backend takes the same calls.
    """
    return contextlib.nullcontext()
