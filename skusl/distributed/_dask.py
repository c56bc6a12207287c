"""Dask plumbing: the lazy import, input checks, and the row blocks every step maps over.

Nothing here imports dask at module import time: ``import skusl`` and the
selectors work without it, and :func:`is_dask_array` recognises a
``dask.array.Array`` by its type alone.
"""

import contextvars
import functools
import importlib

import numpy as np

from .._backends import _resolve

INSTALL_HINT = 'install the Dask extra with `pip install "skusl[dask]"`'


def is_dask_array(X):
    """True if ``X`` is a ``dask.array.Array`` (without importing dask).

    The selectors and :func:`skusl.neighbors.kneighbors_graph` use it to send
    a dask array to the distributed path.

    Parameters
    ----------
    X : object

    Returns
    -------
    bool

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from skusl.distributed import is_dask_array
    >>> is_dask_array(da.zeros((4, 2))), is_dask_array(np.zeros((4, 2)))
    (True, False)
    """
    return _resolve.is_dask_array(X)


def require_dask():
    """``dask.array``, or an ``ImportError`` that names the extra to install."""
    try:
        return importlib.import_module("dask.array")
    except ImportError as exc:
        raise ImportError(f"the distributed path needs dask; {INSTALL_HINT}.") from exc


def compute(*objects):
    """``dask.compute`` on the active scheduler (a ``distributed.Client`` if one is set)."""
    import dask

    return dask.compute(*objects)


#: Collections persisted during the current top-level call (see :func:`holds_persisted`).
_HELD = contextvars.ContextVar("skusl_distributed_held", default=None)


def holds_persisted(func):
    """Keep everything ``func`` (and what it calls) persists alive until it returns.

    ``Array.to_delayed()`` and ``da.from_delayed`` do not carry the futures
    of a persisted collection on a ``distributed`` client: once the
    collection itself is garbage-collected, tasks built from its blocks
    fail with "lost dependencies". Every entry point therefore holds its
    persisted intermediates until it returns; what it returns is either on
    the client or persisted on its own.
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if _HELD.get() is not None:  # an outer call holds them
            return func(*args, **kwargs)
        token = _HELD.set([])
        try:
            return func(*args, **kwargs)
        finally:
            _HELD.reset(token)
    return wrapper


def persist(*objects):
    """``dask.persist``, finished: results held in the cluster's memory (or locally).

    On a ``distributed`` client, ``persist`` returns at once with futures;
    waiting here means a later step never races the release of the
    intermediate results it was built from. Inside a :func:`holds_persisted`
    call, the results stay referenced until that call returns.
    """
    import dask

    out = dask.persist(*objects)
    held = _HELD.get()
    if held is not None:
        held.append(out)
    try:
        from distributed import futures_of, get_client, wait
    except ImportError:  # dask without distributed: persisted synchronously
        return out
    try:
        get_client()
    except ValueError:  # no client: the local scheduler finished already
        return out
    wait(futures_of(out))
    return out


def check_dask_points(X, name="X"):
    """Validate a dask array as :func:`skusl._validation.check_points` does a NumPy one.

    The rules and messages are the single-machine ones: 2-D, at least one
    sample and one feature, real numbers (int/bool become float64, float16
    becomes float32), no NaN or infinity (one pass over the data, blockwise).
    Unknown chunk sizes are computed; the features are put in one chunk, so
    that every row block is a complete (rows, d) matrix.

    Returns
    -------
    X : dask array of float32 or float64, row-chunked, one column chunk
    """
    da = require_dask()
    if not is_dask_array(X):
        raise ValueError(
            f"{name} must be a dask array here, got {type(X).__name__}; wrap it with "
            f"dask.array.from_array({name}, chunks=(rows_per_block, -1)), or use the "
            "single-machine function or estimator for in-memory data."
        )
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features), got a {X.ndim}-D dask array of "
            f"shape {X.shape}; reshape it first, e.g. {name}.reshape(len({name}), -1)."
        )
    if any(np.isnan(c) for c in X.chunks[0]):
        X = X.compute_chunk_sizes()  # e.g. arrays built from dask.dataframe partitions
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"Found array with shape {X.shape}; at least one sample and one "
                         "feature are required.")
    kind = X.dtype.kind
    if kind == "c":
        raise ValueError(f"Complex data not supported: {name} is complex; pass real "
                         f"features (e.g. {name}.real or abs({name})).")
    if kind not in "biuf":
        raise ValueError(f"{name} must hold numbers, got dtype {X.dtype}; convert it with "
                         f"{name}.astype(float).")
    if X.dtype == np.float16:
        X = X.astype(np.float32)
    elif X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    X = X.rechunk({1: -1})
    # One pass, O(n) booleans back: the rows to name if any is bad.
    bad = np.asarray(compute(~da.isfinite(X).all(axis=1))[0])
    if bad.any():
        rows = np.flatnonzero(bad)
        listed = ", ".join(map(str, rows[:5])) + (
            f" and {rows.size - 5} more" if rows.size > 5 else "")
        raise ValueError(
            f"{name} contains NaN or infinity in row(s) {listed}; drop or impute them "
            f"first, e.g. {name}[dask.array.isfinite({name}).all(axis=1)]."
        )
    return X


def row_offsets(X):
    """Global index of the first row of each row block, and the total (len = blocks + 1)."""
    return np.concatenate(([0], np.cumsum(X.chunks[0]))).astype(np.int64)


def row_blocks(X):
    """The row blocks of a one-column-chunk dask array, as a list of delayed arrays."""
    return list(X.to_delayed().ravel())


def from_row_blocks(blocks, X, width, dtype):
    """Stack delayed (rows_b, width) (or (rows_b,) if ``width`` is None) results like ``X``."""
    da = require_dask()
    parts = []
    for block, rows in zip(blocks, X.chunks[0], strict=True):
        shape = (rows,) if width is None else (rows, width)
        parts.append(da.from_delayed(block, shape=shape, dtype=dtype))
    return da.concatenate(parts, axis=0)
