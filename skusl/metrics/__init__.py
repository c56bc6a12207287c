"""Metrics of a selection against ground-truth labels (evaluation only).

Coverage and balance of the classes among the selected samples, and how well
their true labels label everything else: nearest-prototype (1-NN),
linear-probe and propagation (HDL) accuracy. :func:`make_selection_scorer`
turns any of them into a scikit-learn scorer.
"""

from ._accuracy import (linear_probe_accuracy, nearest_prototype_accuracy,
                        propagation_accuracy)
from ._coverage import class_balance, class_coverage
from ._scorer import SELECTION_METRICS, make_selection_scorer, stand_in_indices

__all__ = [
    "SELECTION_METRICS",
    "class_balance",
    "class_coverage",
    "linear_probe_accuracy",
    "make_selection_scorer",
    "nearest_prototype_accuracy",
    "propagation_accuracy",
    "stand_in_indices",
]
