"""Model selection for label propagation: :class:`AutoK` (adaptive k).

:class:`AutoK` lives beside the labeler it tunes (``skusl/labeling/_autok.py``:
``HDLLabeler(n_neighbors="auto")`` runs it, so it sits in the same layer);
this is its public home.
"""

from ..labeling._autok import AutoK, autok_curves

__all__ = ["AutoK", "autok_curves"]
