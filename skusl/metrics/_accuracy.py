"""How well the true labels of the selected samples label everything else.

Each metric takes the embeddings ``X``, the ground-truth ``y_true`` of all
samples (evaluation only: selection never sees it) and the selected indices
(or a boolean mask), trains on the selected samples with their true labels
and scores on *all* samples (selected ones included), as the project's evaluation
protocol prescribes (``docs/user_guide/benchmarks.rst``).
"""

from __future__ import annotations

import warnings
from typing import Literal, Optional

import numpy as np
from numpy.typing import ArrayLike
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from .._validation import check_selection
from ..neighbors import query_kneighbors
from ..neighbors._graph import SparseGraph


def _check_selection(X, y_true, selected_indices):
    return check_selection(y_true, selected_indices, X)


def nearest_prototype_accuracy(X: ArrayLike, y_true: ArrayLike,
                               selected_indices: ArrayLike) -> float:
    """Accuracy of labeling every sample by its nearest selected sample (1-NN).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Embeddings, in the space the distances should be measured in.
    y_true : array-like of shape (n_samples,)
        Ground-truth labels of all samples.
    selected_indices : array-like of int, or boolean mask
        The selected (labeled) samples.

    Returns
    -------
    accuracy : float
        Share of all samples whose nearest selected sample (Euclidean) has
        their class; ties to the earlier selected index.

    Examples
    --------
    >>> import numpy as np
    >>> from skusl.metrics import nearest_prototype_accuracy
    >>> X = np.array([[0.0], [0.1], [1.0], [1.1]])
    >>> nearest_prototype_accuracy(X, [0, 0, 1, 1], [0, 2])
    1.0
    >>> nearest_prototype_accuracy(X, [0, 0, 1, 1], [0, 1])
    0.5
    """
    X, y_true, sel = _check_selection(X, y_true, selected_indices)
    _, nearest = query_kneighbors(X, np.ascontiguousarray(X[sel]), 1)
    return float(np.mean(y_true[sel][nearest[:, 0]] == y_true))


def linear_probe_accuracy(X: ArrayLike, y_true: ArrayLike, selected_indices: ArrayLike, *,
                          C: float = 100.0, max_iter: int = 1000,
                          balanced: bool = False) -> float:
    """Accuracy on all samples of a logistic regression fitted on the selected ones.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Embeddings (features of the linear probe, used as given).
    y_true : array-like of shape (n_samples,)
        Ground-truth labels of all samples.
    selected_indices : array-like of int, or boolean mask
        The selected (labeled) samples: the probe's training set.
    C : float, default=100.0
        Inverse L2 regularisation of :class:`~sklearn.linear_model.LogisticRegression`.
        Weak on purpose, and not tuned (there is no validation set at these
        budgets): with scikit-learn's ``C=1`` and a handful of unit-norm
        samples the weights shrink to almost nothing and the intercept (the
        class prior of the selection) decides, so a selection holding one
        class twice predicts that class everywhere. On 1 random label per
        class, ``C=1`` scores 18% on ``load_digits`` where 1-NN scores 54%;
        ``C=100`` scores 50%, and both agree on stratified selections.
    max_iter : int, default=1000
        Iterations of the lbfgs solver.
    balanced : bool, default=False
        Balanced accuracy (mean per-class recall) instead of accuracy.

    Returns
    -------
    accuracy : float
        When the selection holds a single class, the probe predicts it for
        every sample.

    Examples
    --------
    >>> import numpy as np
    >>> from skusl.metrics import linear_probe_accuracy
    >>> X = np.array([[0.0, 1.0], [0.1, 0.9], [1.0, 0.0], [0.9, 0.1]])
    >>> linear_probe_accuracy(X, [0, 0, 1, 1], [0, 2])
    1.0
    """
    X, y_true, sel = _check_selection(X, y_true, selected_indices)
    y_sel = y_true[sel]
    if np.unique(y_sel).size < 2:
        pred = np.full(y_true.shape, y_sel[0])
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            pred = LogisticRegression(C=C, max_iter=max_iter).fit(X[sel], y_sel).predict(X)
    if balanced:
        from sklearn.metrics import balanced_accuracy_score

        with warnings.catch_warnings():  # classes never predicted are fine here
            warnings.simplefilter("ignore", UserWarning)
            return float(balanced_accuracy_score(y_true, pred))
    return float(np.mean(pred == y_true))


def propagation_accuracy(X: ArrayLike, y_true: ArrayLike, selected_indices: ArrayLike, *,
                         n_neighbors: int = 3,
                         graph: Optional[SparseGraph] = None,
                         method: Literal["hdl", "1nn"] = "hdl") -> float:
    """Accuracy of propagating the selected samples' labels over the kNN graph.

    With ``method="hdl"`` the labels spread by the paper's HDL
    (``HDLLabeler(method="hdl")``, kept so that the quality benchmark's
    figures keep their meaning) over the ``n_neighbors``-NN graph;
    with ``"1nn"`` every sample takes the label
    of its nearest selected sample, i.e. :func:`nearest_prototype_accuracy`.
    Distances are measured on ``X`` as given (no normalisation), as in the
    other metrics.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Embeddings.
    y_true : array-like of shape (n_samples,)
        Ground-truth labels of all samples.
    selected_indices : array-like of int, or boolean mask
        The selected (labeled) samples.
    n_neighbors : int, default=3
        Neighbours of HDL's graph.
    graph : sparse matrix of shape (n_samples, n_samples) or None
        A precomputed kNN distance graph with at least ``n_neighbors``
        neighbours per row (e.g. a selector's ``knn_graph_``), to avoid
        rebuilding it; HDL then runs with ``metric="precomputed"``.
    method : {"hdl", "1nn"}, default="hdl"

    Returns
    -------
    accuracy : float
        On all samples, the selected ones included.

    Examples
    --------
    >>> import numpy as np
    >>> from skusl.metrics import propagation_accuracy
    >>> X = np.r_[np.random.RandomState(0).rand(20, 2), 5 + np.random.RandomState(1).rand(20, 2)]
    >>> y = np.r_[np.zeros(20, int), np.ones(20, int)]
    >>> propagation_accuracy(X, y, [0, 20], n_neighbors=5)
    1.0
    """
    if method not in ("hdl", "1nn"):
        raise ValueError(f"method must be 'hdl' or '1nn', got {method!r}.")
    if method == "1nn":
        return nearest_prototype_accuracy(X, y_true, selected_indices)
    from ..labeling import HDLLabeler

    X, y_true, sel = _check_selection(X, y_true, selected_indices)
    classes, codes = np.unique(y_true, return_inverse=True)
    y_partial = np.full(X.shape[0], -1, dtype=np.int64)
    y_partial[sel] = codes[sel]
    if np.unique(codes[sel]).size < 2:
        return float(np.mean(codes == codes[sel][0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # fallback counts, not errors
        if graph is not None:
            hdl = HDLLabeler(n_neighbors=n_neighbors, method="hdl",
                             metric="precomputed").fit(graph, y_partial)
        else:
            hdl = HDLLabeler(n_neighbors=n_neighbors, method="hdl",
                             normalize=False).fit(X, y_partial)
    return float(np.mean(np.asarray(hdl.transduction_) == codes))
