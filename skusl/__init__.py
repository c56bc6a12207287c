"""skusl: unsupervised selective labeling for embeddings, scikit-learn style.

Pick the few samples worth labeling (USL, USL-T and baselines), then spread
their labels over the rest (HDL with adaptive k). Public names are imported
lazily so that ``import skusl`` stays fast and never loads Numba, CuPy or
torch; they load on first use.
"""

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "USLSelector": "skusl.selection",
    "RandomSelector": "skusl.selection",
    "KMeansClosestSelector": "skusl.selection",
    "KCenterGreedySelector": "skusl.selection",
    "TypiClustSelector": "skusl.selection",
    "ProbCoverSelector": "skusl.selection",
    "MaxHerdingSelector": "skusl.selection",
    "HDLLabeler": "skusl.labeling",
    "AutoK": "skusl.model_selection",
    "TorchFeaturizer": "skusl.deep",
    "USLTClusterer": "skusl.deep",
    "kneighbors_graph": "skusl.neighbors",
}

_SUBMODULES = ("neighbors", "selection", "labeling", "model_selection", "deep",
               "metrics", "datasets", "io", "plotting")

__all__ = sorted(_LAZY) + list(_SUBMODULES) + ["__version__"]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        module = importlib.import_module(f"skusl.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'skusl' has no attribute {name!r}")


def __dir__():
    return __all__
