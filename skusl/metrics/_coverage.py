"""How well a set of selected samples covers the classes."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_selection


def _selected_labels(y_true, selected_indices):
    _, y_true, sel = check_selection(y_true, selected_indices, allow_empty=True)
    return y_true, y_true[sel]


def class_coverage(y_true: ArrayLike, selected_indices: ArrayLike) -> float:
    """Share of the classes of ``y_true`` that the selection contains.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth labels of all samples.
    selected_indices : array-like of int, or boolean mask
        The selected samples.

    Returns
    -------
    coverage : float
        In [0, 1]; 1 means every class has at least one selected sample.

    Examples
    --------
    >>> from skusl.metrics import class_coverage
    >>> class_coverage([0, 0, 1, 1, 2, 2], [0, 1, 2])
    0.6666666666666666
    """
    y_true, y_sel = _selected_labels(y_true, selected_indices)
    return len(np.unique(y_sel)) / len(np.unique(y_true))


def class_balance(y_true: ArrayLike, selected_indices: ArrayLike) -> float:
    """Normalised entropy of the selected samples' class histogram.

    ``H(p) / log(C)`` with ``p`` the share of each of the ``C`` classes of
    ``y_true`` among the selected samples: 1 for a perfectly balanced
    selection, 0 when every selected sample has the same class.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    selected_indices : array-like of int, or boolean mask

    Returns
    -------
    balance : float

    Examples
    --------
    >>> from skusl.metrics import class_balance
    >>> class_balance([0, 0, 1, 1], [0, 2])
    1.0
    >>> class_balance([0, 0, 1, 1], [0, 1])
    0.0
    """
    y_true, y_sel = _selected_labels(y_true, selected_indices)
    classes = np.unique(y_true)
    if classes.size < 2:
        return 1.0
    counts = np.array([(y_sel == c).sum() for c in classes], dtype=np.float64)
    p = counts[counts > 0] / counts.sum()
    return float(abs((p * np.log(p)).sum()) / np.log(classes.size))
