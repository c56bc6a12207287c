"""The two places where a lower layer hands work to a higher one, by name.

skusl is layered: ``_backends``; ``neighbors`` (exact and IVF search,
K-Means, the cost model); ``selection`` and ``labeling``; then ``deep``,
``distributed``, ``metrics``, ``cli`` and ``benchmarks`` on top. A module
imports only from its own package or from lower ones, so the package import
graph has no cycle (``tests/test_imports.py`` fails on one). Two features
need a lower layer to reach a higher one at run time:

- a ``dask.array`` given to a selector's ``fit`` or to
  :func:`skusl.neighbors.kneighbors_graph` runs on the cluster
  (:mod:`skusl.distributed`, which itself builds on selection and neighbors);
- the selector registry (:data:`skusl.selection.SELECTORS`) lists USL-T,
  :class:`skusl.deep.USLTClusterer` (PyTorch), which builds on selection.

Both go through :func:`upper`: the higher package is named here and
imported on first use, so loading a lower layer never loads a higher one
(nor dask, nor torch).
"""

import importlib

#: The higher packages a lower layer may hand work to.
UPPER = ("deep", "distributed")


def upper(name):
    """The package ``skusl.<name>`` (one of :data:`UPPER`), imported on first use.

    Parameters
    ----------
    name : str
        ``"distributed"`` or ``"deep"``.

    Returns
    -------
    module : module

    Examples
    --------
    >>> from skusl._upper import upper
    >>> upper("distributed").__name__
    'skusl.distributed'
    """
    if name not in UPPER:
        raise ValueError(f"{name!r} is not a package a lower layer hands work to; "
                         f"one of {UPPER}.")
    return importlib.import_module(f"skusl.{name}")
