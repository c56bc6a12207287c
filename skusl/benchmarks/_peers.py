"""Peer selectors from other libraries, run by the quality benchmark only.

scikit-activeml 1.0.1's ``TypiClust``, ``ProbCover`` and ``MaxHerding``
(``pip install "skusl[bench]"``), wrapped as registry entries
(:class:`skusl.selection.SelectorSpec`, kind ``"peer"``) so the benchmark,
its report and its colours treat them exactly as skusl's selectors. Every
pool is unlabeled (``y`` all missing) and the whole budget is one batch,
the setting of the papers' first round. Their defaults are kept, with one
exception: ProbCover's ``n_classes`` is the number of classes (with an
empty labeled pool scikit-activeml would fall back to 2 pseudo-classes; the
paper uses the number of classes). All three build dense n x n matrices.
"""

import numpy as np

from ..selection import SelectorSpec


def peers_available():
    """True when scikit-activeml imports."""
    try:
        import skactiveml  # noqa: F401
    except ImportError:
        return False
    return True


class PeerSelector:
    """Minimal ``fit(X) -> selected_indices_`` wrapper around a scikit-activeml strategy."""

    def __init__(self, name, n_select, random_state, n_classes):
        self.name = name
        self.n_select = n_select
        self.random_state = random_state
        self.n_classes = n_classes

    def _strategy(self):
        from skactiveml import pool

        seed = self.random_state
        if self.name == "skactiveml_typiclust":
            return pool.TypiClust(random_state=seed)
        if self.name == "skactiveml_probcover":
            return pool.ProbCover(n_classes=max(self.n_classes, 2), random_state=seed)
        if self.name == "skactiveml_maxherding":
            return pool.MaxHerding(random_state=seed)
        raise ValueError(f"unknown peer {self.name!r}")

    def fit(self, X, y=None):
        y_missing = np.full(X.shape[0], np.nan)
        picks = self._strategy().query(X, y_missing, batch_size=self.n_select)
        self.selected_indices_ = np.asarray(picks, dtype=np.int64)
        return self


def _peer(name):
    def make(n_select, seed, knn, n_classes=None):
        return PeerSelector(name, n_select, seed, n_classes)
    return make


#: name -> SelectorSpec of the peers (the benchmark adds them to SELECTORS).
PEERS = {
    "skactiveml_typiclust": SelectorSpec("skactiveml_typiclust", "skactiveml TypiClust",
                                         _peer("skactiveml_typiclust"), "indigo", kind="peer"),
    "skactiveml_probcover": SelectorSpec("skactiveml_probcover", "skactiveml ProbCover",
                                         _peer("skactiveml_probcover"), "darkkhaki",
                                         kind="peer"),
    "skactiveml_maxherding": SelectorSpec("skactiveml_maxherding", "skactiveml MaxHerding",
                                          _peer("skactiveml_maxherding"), "teal", kind="peer"),
}
