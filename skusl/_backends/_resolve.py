"""Pick a backend from the user's request and the input's array type."""

import importlib

BACKENDS = ("auto", "numpy", "numba", "cupy")


def is_cupy_array(X):
    """True if ``X`` is a CuPy array (without importing CuPy)."""
    return type(X).__module__.split(".")[0] == "cupy"


def is_dask_array(X):
    """True if ``X`` is a ``dask.array.Array`` (without importing dask).

    Such input goes to the cluster path (:mod:`skusl.distributed`).
    """
    cls = type(X)
    return cls.__module__.split(".")[0] == "dask" and cls.__name__ == "Array"


def get_namespace(*arrays):
    """``cupy`` if any of ``arrays`` is a CuPy array, else ``numpy``.

    The device rule: computations follow their input (scikit-learn's
    array-API habit, restricted to the two namespaces skusl supports).
    """
    for a in arrays:
        if is_cupy_array(a):
            return importlib.import_module("cupy")
    return importlib.import_module("numpy")


def to_host(a):
    """A NumPy view of ``a`` (copies CuPy arrays off the GPU)."""
    return get_kernels("cupy").to_host(a) if is_cupy_array(a) else a


def _numba_available():
    try:
        importlib.import_module("numba")
    except ImportError:  # pragma: no cover - numba is a hard dependency
        return False
    return True


def resolve_backend(backend, X=None):
    """Return the concrete backend name for ``backend`` and input ``X``.

    ``"auto"`` follows the data: CuPy input computes with CuPy, anything else
    with Numba (falling back to NumPy if Numba cannot be imported). ``"auto"``
    never requires a GPU.

    Raises
    ------
    ValueError
        If ``backend`` is unknown, or ``"cupy"`` is asked for without CuPy or
        without a usable GPU.
    """
    if backend not in BACKENDS:
        raise ValueError(
            f"backend={backend!r} is not one of {BACKENDS}; use 'auto' to let "
            "skusl choose."
        )
    if backend == "auto":
        if X is not None and is_cupy_array(X):
            return "cupy"
        return "numba" if _numba_available() else "numpy"
    if backend == "cupy":
        _require_cupy()
    return backend


def _require_cupy():
    try:
        cupy = importlib.import_module("cupy")
        n_devices = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # ImportError, CUDARuntimeError, ...
        raise ValueError(
            "backend='cupy' needs CuPy and a CUDA GPU "
            f"({type(exc).__name__}: {exc}). Install the extra with "
            "`pip install skusl[gpu]` on a machine with a GPU, or use "
            "backend='auto'."
        ) from exc
    if n_devices < 1:
        raise ValueError(
            "backend='cupy' needs a CUDA GPU, but none is visible; use "
            "backend='auto' or 'numba'."
        )


def get_kernels(backend):
    """Import and return the kernel module of a concrete backend."""
    name = {"numpy": "_numpy", "numba": "_numba", "cupy": "_cupy"}[backend]
    return importlib.import_module(f"skusl._backends.{name}")
