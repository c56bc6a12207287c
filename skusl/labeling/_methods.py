"""The propagation methods and their default neighbourhood sizes.

A module of its own so that :mod:`skusl.model_selection` (AutoK, which
propagates with the estimator's own method) reads the defaults without
importing the labeler that itself uses AutoK: no import cycle.
"""

#: ``HDLLabeler(method=...)`` values.
METHODS = ("rounds", "hdl", "knn_dv")

#: ``n_neighbors=None``: the k of each method (docs/benchmarks/propagation.md
#: for "rounds"; docs/benchmarks/hdl.md for the paper's HDL and kNN-DV).
DEFAULT_NEIGHBORS = {"rounds": 10, "hdl": 3, "knn_dv": 3}
