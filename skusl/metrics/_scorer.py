"""Selection metrics as scikit-learn scorers (for GridSearchCV & co.)."""

from __future__ import annotations

from typing import Any, Callable, Protocol, Union

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils.validation import check_is_fitted

from ._accuracy import linear_probe_accuracy, nearest_prototype_accuracy, propagation_accuracy
from ._coverage import class_balance, class_coverage


def _coverage(X, y_true, selected_indices):
    return class_coverage(y_true, selected_indices)


def _balance(X, y_true, selected_indices):
    return class_balance(y_true, selected_indices)


#: Name -> metric(X, y_true, selected_indices, **kwargs).
SELECTION_METRICS = {
    "coverage": _coverage,
    "balance": _balance,
    "nearest_prototype_accuracy": nearest_prototype_accuracy,
    "linear_probe_accuracy": linear_probe_accuracy,
    "propagation_accuracy": propagation_accuracy,
}


class FittedSelector(Protocol):
    """A fitted estimator whose ``transform`` gives distances to its prototypes."""

    def fit(self, X: Any, y: Any = ...) -> Any: ...

    def transform(self, X: Any) -> Any: ...


def stand_in_indices(selector: FittedSelector, X: ArrayLike) -> np.ndarray:
    """Indices of the samples of ``X`` nearest each of the selector's prototypes.

    On the training data these are ``selected_indices_`` (up to exact
    duplicates); on a held-out set, the samples an annotator would be shown
    in their place. Distances are measured in the selector's own space
    (``selector.transform``).

    Parameters
    ----------
    selector : fitted selector
        Any :class:`~skusl.selection.BaseSelector` (or an estimator whose
        ``transform`` gives distances to its selected prototypes).
    X : array-like of shape (n_samples, n_features)

    Returns
    -------
    indices : ndarray of shape (n_select,), int64
        For each prototype (in ``selected_indices_`` order), its nearest
        sample of ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from skusl.metrics import stand_in_indices
    >>> from skusl.selection import KCenterGreedySelector
    >>> X = np.random.RandomState(0).rand(30, 3)
    >>> sel = KCenterGreedySelector(n_select=4, random_state=0).fit(X)
    >>> bool((stand_in_indices(sel, X) == sel.selected_indices_).all())
    True
    """
    check_is_fitted(selector)
    return np.argmin(selector.transform(X), axis=0).astype(np.int64)


class _SelectionScorer:
    def __init__(self, metric, kwargs):
        self._metric = metric
        self._kwargs = kwargs

    def __call__(self, estimator, X, y=None):
        if y is None:
            raise ValueError("selection scorers need the true labels y of X.")
        idx = stand_in_indices(estimator, X)
        return float(self._metric(np.asarray(X), np.asarray(y), idx, **self._kwargs))

    def __repr__(self):
        name = getattr(self._metric, "__name__", repr(self._metric)).lstrip("_")
        args = "".join(f", {k}={v!r}" for k, v in self._kwargs.items())
        return f"make_selection_scorer({name}{args})"


def make_selection_scorer(metric: Union[str, Callable[..., float]],
                          **kwargs: Any) -> Callable[..., float]:
    """Turn a selection metric into a scorer ``scorer(selector, X, y)``.

    The scorer maps the fitted selector's prototypes to the samples of ``X``
    nearest them (:func:`stand_in_indices`; on the training data, exactly the
    selected samples) and returns ``metric(X, y, those_indices, **kwargs)``.
    Higher is better for every built-in metric. Pass it as ``scoring=`` to
    :class:`~sklearn.model_selection.GridSearchCV` or
    :func:`~sklearn.model_selection.cross_val_score` to tune a selector on a
    labeled development set.

    Parameters
    ----------
    metric : str or callable
        One of ``"coverage"``, ``"balance"``, ``"nearest_prototype_accuracy"``,
        ``"linear_probe_accuracy"``, ``"propagation_accuracy"``, or a callable
        ``metric(X, y_true, selected_indices, **kwargs) -> float``.
    **kwargs
        Passed to the metric (e.g. ``n_neighbors`` for propagation accuracy).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y) -> float``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skusl.metrics import make_selection_scorer
    >>> from skusl.selection import KMeansClosestSelector
    >>> X, y = load_digits(return_X_y=True)
    >>> scorer = make_selection_scorer("linear_probe_accuracy")
    >>> search = GridSearchCV(KMeansClosestSelector(random_state=0),
    ...                       {"n_select": [10, 20]}, scoring=scorer, cv=2).fit(X, y)
    >>> search.best_params_
    {'n_select': 20}
    """
    if isinstance(metric, str):
        if metric not in SELECTION_METRICS:
            raise ValueError(f"unknown selection metric {metric!r}; choose one of "
                             f"{sorted(SELECTION_METRICS)} or pass a callable.")
        metric = SELECTION_METRICS[metric]
    elif not callable(metric):
        raise TypeError("metric must be a name or a callable "
                        "metric(X, y_true, selected_indices, **kwargs).")
    return _SelectionScorer(metric, kwargs)
