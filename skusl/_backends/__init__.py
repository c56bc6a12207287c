"""Compute kernels (arrays in, arrays out, no validation) and backend resolution.

Each backend module implements the same small set of kernels:

- ``array_namespace()``: the module (``numpy`` or ``cupy``) the kernels
  take and return arrays of;
- ``knn_block(S, sq_rows, sq_cols, k, row_offset, exclude_self)``: turn one
  GEMM block of inner products into the ``k`` smallest squared Euclidean
  distances per row (ties broken by the smaller column index);
- ``regularizer_block(G, sq_rows, sq_sel, own, horizon, alpha, floor)``: USL's
  inter-cluster regulariser for a block of points;
- ``cluster_argmax(score, labels, n_clusters)``: the best point per cluster;
- ``sort_rows(dist, ind)``: sort each row by distance, ties by index;
- ``to_device(a)`` / ``to_host(a)``: into the backend's memory and back to
  a NumPy array;
- ``num_threads(n_jobs)``: a context manager for the CPU threads it uses.

``BACKEND_API`` lists these names; a test checks that every backend module
defines all of them, so adding a backend means one module here, one entry in
``BACKENDS`` and ``get_kernels`` (:mod:`skusl._backends._resolve`), and its
tests. No code outside this package branches on the backend's name to move
arrays: it calls :func:`to_host` (any array to NumPy) or the kernels.

The namespace-generic kernels live in :mod:`skusl._backends._array_api`;
:mod:`skusl._backends._numpy` binds them to NumPy (the reference) and
:mod:`skusl._backends._cupy` to CuPy (GPU). The Numba ones
(:mod:`skusl._backends._numba`) reproduce the NumPy results bit for bit; the
module is imported lazily and compiles on its first import on a machine,
then loads from the on-disk cache.
"""

from ._resolve import (BACKENDS, get_kernels, get_namespace, is_cupy_array,
                       resolve_backend, to_host)

#: The names every backend module defines.
BACKEND_API = ("array_namespace", "knn_block", "regularizer_block", "cluster_argmax",
               "sort_rows", "to_device", "to_host", "num_threads")

__all__ = ["BACKEND_API", "BACKENDS", "get_kernels", "get_namespace", "is_cupy_array",
           "resolve_backend", "to_host"]
