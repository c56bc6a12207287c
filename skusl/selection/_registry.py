"""The one list of selectors: the CLI, the benchmarks and the report colours read it.

Each entry is a :class:`SelectorSpec`: a name (``select --method NAME``), a
label for reports, a plot colour, and ``make(n_select, random_state,
neighbors)`` building the estimator (``neighbors`` is ignored by selectors
without a kNN graph). Adding a selector = one module + one entry here.
"""

from dataclasses import dataclass
from typing import Callable

from .._upper import upper


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


def _random(n, seed, knn):
    from ._random import RandomSelector

    return RandomSelector(n, random_state=seed)


def _kmeans_closest(n, seed, knn):
    from ._kmeans_closest import KMeansClosestSelector

    return KMeansClosestSelector(n, random_state=seed)


def _kcenter(n, seed, knn):
    from ._kcenter import KCenterGreedySelector

    return KCenterGreedySelector(n, random_state=seed)


def _typiclust(n, seed, knn):
    from ._typiclust import TypiClustSelector

    return TypiClustSelector(n, neighbors=knn, random_state=seed)


def _probcover(n, seed, knn):
    from ._probcover import ProbCoverSelector

    return ProbCoverSelector(n, neighbors=knn, random_state=seed)


def _probcover_purity(n, seed, knn):
    from ._probcover import ProbCoverSelector

    return ProbCoverSelector(n, delta="purity", neighbors=knn, random_state=seed)


def _maxherding(n, seed, knn):
    from ._maxherding import MaxHerdingSelector

    return MaxHerdingSelector(n, neighbors=knn, random_state=seed)


def _usl(n, seed, knn):
    from ._usl import USLSelector

    return USLSelector(n, neighbors=knn, random_state=seed)


def _usl_raw(n, seed, knn):
    from ._usl import USLSelector

    return USLSelector(n, reg_scale="raw", neighbors=knn, random_state=seed)


def _usl_two_hop(n, seed, knn):
    from ._usl import USLSelector

    return USLSelector(n, utility="two_hop", neighbors=knn, random_state=seed)


def _uslt(n, seed, knn):
    return upper("deep").USLTClusterer(n, neighbors=knn, random_state=seed)


_SPECS = [
    SelectorSpec("random", "random", _random, "tab:blue"),
    SelectorSpec("kmeans_closest", "k-means closest", _kmeans_closest, "tab:orange"),
    SelectorSpec("kcenter_greedy", "k-center greedy (Core-Set)", _kcenter, "tab:green"),
    SelectorSpec("typiclust", "TypiClust", _typiclust, "tab:purple"),
    SelectorSpec("probcover", "ProbCover (delta auto)", _probcover, "tab:olive"),
    SelectorSpec("probcover_purity", "ProbCover (purity delta)", _probcover_purity,
                 "yellowgreen"),
    SelectorSpec("maxherding", "MaxHerding", _maxherding, "tab:cyan"),
    SelectorSpec("usl", "USL", _usl, "tab:red"),
    SelectorSpec("usl_raw", "USL (reference regulariser scale)", _usl_raw, "salmon"),
    SelectorSpec("usl_two_hop", "USL two-hop", _usl_two_hop, "tab:pink"),
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
