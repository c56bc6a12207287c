"""Selectors: which samples to label.

:class:`USLSelector` implements training-free USL (Wang, Lian & Yu, ECCV
2022); :class:`MaxHerdingSelector` (Bae, Noh & Sutherland, ECCV 2024) and
:class:`ProbCoverSelector` maximise a coverage; the other baselines are
:class:`RandomSelector`, :class:`KMeansClosestSelector`,
:class:`KCenterGreedySelector` (Core-Set) and :class:`TypiClustSelector`.
All share :class:`BaseSelector`'s API: ``selected_indices_``, ``get_support``,
``transform`` (distances to the selected prototypes), ``score`` and, where it
makes sense, ``fit(X, labeled=...)`` (warm start). ``SELECTORS`` is the
registry the CLI and the benchmarks read; ``RECOMMENDED`` its default.
"""

from ._base import BaseKNNSelector, BaseSelector
from ._kcenter import KCenterGreedySelector
from ._kmeans_closest import KMeansClosestSelector
from ._maxherding import MaxHerdingSelector
from ._probcover import ProbCoverSelector
from ._random import RandomSelector
from ._registry import RECOMMENDED, SELECTORS, SelectorSpec, make_selector
from ._typiclust import TypiClustSelector
from ._usl import USLSelector

__all__ = [
    "BaseKNNSelector",
    "BaseSelector",
    "KCenterGreedySelector",
    "KMeansClosestSelector",
    "MaxHerdingSelector",
    "ProbCoverSelector",
    "RECOMMENDED",
    "RandomSelector",
    "SELECTORS",
    "SelectorSpec",
    "TypiClustSelector",
    "USLSelector",
    "make_selector",
]
