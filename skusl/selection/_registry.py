"""The one list of selectors: the CLI, the benchmarks and the report colours read it.

Each entry is a :class:`SelectorSpec`: a name (``select --method NAME``), a
label for reports, a plot colour, and ``make(n_select, random_state,
neighbors)`` building the estimator (``neighbors`` is ignored by selectors
without a kNN graph). Adding a selector = one module + one entry here.
"""

from dataclasses import dataclass
from functools import partial
from typing import Callable

from .._upper import upper
from ._kcenter import KCenterGreedySelector
from ._kmeans_closest import KMeansClosestSelector
from ._maxherding import MaxHerdingSelector
from ._probcover import ProbCoverSelector
from ._random import RandomSelector
from ._typiclust import TypiClustSelector
from ._usl import USLSelector


@dataclass(frozen=True)
class SelectorSpec:
    """One selector of the registry.

    Parameters
    ----------
    name, label, make, color, kind, fair
        The attributes below, in this order (``kind`` and ``fair`` optional).

    Attributes
    ----------
    name : str
        Registry key, the CLI's ``--method`` value.
    label : str
        Human-readable name in reports.
    make : callable
        ``make(n_select, random_state, neighbors)`` -> unfitted estimator.
    color : str
        Matplotlib colour, the same in every plot.
    kind : str
        ``"skusl"`` (core), ``"deep"`` (needs PyTorch), ``"peer"`` (another
        library, benchmarks only) or ``"oracle"`` (uses labels).
    fair : bool
        False for oracles (they see the labels).

    Examples
    --------
    >>> from skusl.selection import SELECTORS
    >>> spec = SELECTORS["kmeans_closest"]
    >>> spec.label, spec.kind, spec.fair
    ('k-means closest', 'skusl', True)
    >>> type(spec.make(5, 0, "exact")).__name__
    'KMeansClosestSelector'
    """

    name: str
    label: str
    make: Callable
    color: str
    kind: str = "skusl"
    fair: bool = True


def _build(cls, params, uses_graph, n, seed, knn):
    if uses_graph:
        params = {**params, "neighbors": knn}
    return cls(n, random_state=seed, **params)


def _maker(cls, uses_graph=True, **params):
    """``make(n_select, random_state, neighbors)`` for ``cls(**params)``.

    ``neighbors`` is passed on only when ``uses_graph`` (the selector builds a
    kNN graph); a partial, so that a spec pickles.
    """
    return partial(_build, cls, params, uses_graph)


def _uslt(n, seed, knn):
    return upper("deep").USLTClusterer(n, neighbors=knn, random_state=seed)


_SPECS = [
    SelectorSpec("random", "random", _maker(RandomSelector, False), "tab:blue"),
    SelectorSpec("kmeans_closest", "k-means closest",
                 _maker(KMeansClosestSelector, False), "tab:orange"),
    SelectorSpec("kcenter_greedy", "k-center greedy (Core-Set)",
                 _maker(KCenterGreedySelector, False), "tab:green"),
    SelectorSpec("typiclust", "TypiClust", _maker(TypiClustSelector), "tab:purple"),
    SelectorSpec("probcover", "ProbCover (delta auto)", _maker(ProbCoverSelector), "tab:olive"),
    SelectorSpec("probcover_purity", "ProbCover (purity delta)",
                 _maker(ProbCoverSelector, delta="purity"), "yellowgreen"),
    SelectorSpec("maxherding", "MaxHerding", _maker(MaxHerdingSelector), "tab:cyan"),
    SelectorSpec("usl", "USL", _maker(USLSelector), "tab:red"),
    SelectorSpec("usl_raw", "USL (reference regulariser scale)",
                 _maker(USLSelector, reg_scale="raw"), "salmon"),
    SelectorSpec("usl_two_hop", "USL two-hop", _maker(USLSelector, utility="two_hop"),
                 "tab:pink"),
    SelectorSpec("uslt", "USL-T", _uslt, "black", kind="deep"),
]

#: name -> SelectorSpec, in report order.
SELECTORS = {spec.name: spec for spec in _SPECS}

#: The default of ``skusl select`` and the README's recommendation, chosen by
#: the quality benchmark (docs/benchmarks/quality/README.md, "Which selector").
RECOMMENDED = "kmeans_closest"


def make_selector(name, n_select, random_state=None, neighbors="auto"):
    """Build the registry's selector ``name`` with budget ``n_select``.

    Parameters
    ----------
    name : str
        A key of :data:`SELECTORS`.
    n_select : int
        Annotation budget.
    random_state : int, RandomState instance or None
        Seed.
    neighbors : str or estimator
        kNN search (or :class:`skusl.neighbors.PrecomputedKNN`) for the
        selectors built on a kNN graph.

    Returns
    -------
    selector : estimator
        Unfitted.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skusl.selection import RECOMMENDED, make_selector
    >>> X, _ = load_digits(return_X_y=True)
    >>> selector = make_selector(RECOMMENDED, 10, random_state=0).fit(X)
    >>> len(selector.selected_indices_)
    10
    """
    if name not in SELECTORS:
        raise ValueError(f"unknown selector {name!r}; choose from {sorted(SELECTORS)}")
    return SELECTORS[name].make(n_select, random_state, neighbors)
