"""Figures of a selection and of the labels spread from it (matplotlib optional).

Every function draws on a Matplotlib ``Axes`` (a new figure when ``ax`` is
None) and returns it, so figures compose with ``plt.subplots``. Matplotlib is
imported when a function is called, never by ``import skusl``; without it
the functions raise an ``ImportError`` naming the fix
(``pip install matplotlib``).

* :func:`plot_selection`: the selected samples over a 2-D view of the data.
* :func:`plot_selected_images`: the selected samples as an image grid.
* :func:`plot_class_coverage`: class coverage and balance of selections.
* :func:`plot_class_counts`: selected samples per class.
* :func:`plot_budget_curve`: a score against the annotation budget.
* :func:`plot_labeling_levels`: a per-sample value (HDL's level) in 2-D.
"""

import numpy as np

from ._backends._resolve import to_host
from ._validation import check_indices

__all__ = [
    "plot_budget_curve",
    "plot_class_counts",
    "plot_class_coverage",
    "plot_labeling_levels",
    "plot_selected_images",
    "plot_selection",
    "project_2d",
]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - exercised without matplotlib
        raise ImportError("skusl.plotting needs matplotlib: pip install matplotlib "
                          '(or pip install "skusl[docs]").') from exc
    return plt


def _axes(ax, figsize=(5, 4)):
    if ax is not None:
        return ax
    _, ax = _pyplot().subplots(figsize=figsize)
    return ax


def _host(a):
    """A NumPy array of ``a`` (CuPy arrays are copied off the GPU)."""
    return np.asarray(to_host(a))


def _as_indices(selected, n_samples=None):
    return check_indices(_host(selected), n_samples, name="selected indices")


def project_2d(X, *, random_state=0):
    """Two columns to draw: ``X`` itself when 2-D, else its first two PCs.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Embeddings (NumPy; a CuPy array is copied to the host).
    random_state : int, default=0
        Seed of the randomised PCA solver on large inputs.

    Returns
    -------
    X2 : ndarray of shape (n_samples, 2)

    Examples
    --------
    >>> import numpy as np
    >>> from skusl.plotting import project_2d
    >>> project_2d(np.random.RandomState(0).rand(50, 8)).shape
    (50, 2)
    """
    X = _host(X).astype(np.float64, copy=False)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}.")
    if X.shape[1] == 2:
        return X
    if X.shape[1] == 1:
        return np.column_stack([X[:, 0], np.zeros(X.shape[0])])
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=random_state).fit_transform(X)


def plot_selection(X, selected, y=None, *, ax=None, title=None, cmap="tab10",
                   point_size=8, marker_size=140, annotate=False, random_state=0):
    """Draw the selected samples over all samples in 2-D.

    Samples are drawn small (coloured by ``y`` when given, grey otherwise),
    the selected ones as large stars with a black edge. Data with more than
    two features are projected on their first two principal components
    (:func:`project_2d`); pass your own 2-D projection (t-SNE, UMAP) as ``X``
    to use it instead.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Samples, or their 2-D projection.
    selected : array-like of int, or boolean mask of shape (n_samples,)
        The selection, e.g. ``selector.selected_indices_``.
    y : array-like of shape (n_samples,), optional
        Classes to colour the samples by (evaluation only).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    title : str, optional
        Axes title.
    cmap : str, default="tab10"
        Colormap of the classes.
    point_size, marker_size : float, default=8, 140
        Marker areas of all samples and of the selected ones.
    annotate : bool, default=False
        Write each selected sample's rank (0 = first in ``selected``).
    random_state : int, default=0
        Seed of the projection.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import make_blobs
    >>> from skusl import USLSelector
    >>> from skusl.plotting import plot_selection
    >>> X, y = make_blobs(300, centers=4, random_state=0)
    >>> sel = USLSelector(n_select=4, normalize=False, random_state=0).fit(X)
    >>> ax = plot_selection(X, sel.selected_indices_, y, title="USL")
    >>> ax.get_title()
    'USL'
    """
    X2 = project_2d(X, random_state=random_state)
    selected = _as_indices(selected, X2.shape[0])
    ax = _axes(ax)
    if y is None:
        ax.scatter(X2[:, 0], X2[:, 1], s=point_size, c="0.7", linewidths=0)
        sel_colors = "crimson"
    else:
        codes = np.unique(_host(y), return_inverse=True)[1].ravel()
        colormap = _pyplot().get_cmap(cmap)
        n_colors = getattr(colormap, "N", 256)
        colors = colormap(codes % n_colors if n_colors < 256 else
                          codes / max(codes.max(), 1))
        ax.scatter(X2[:, 0], X2[:, 1], s=point_size, c=colors, alpha=0.5, linewidths=0)
        sel_colors = colors[selected]
    ax.scatter(X2[selected, 0], X2[selected, 1], s=marker_size, c=sel_colors,
               marker="*", edgecolors="black", linewidths=1.0, zorder=3,
               label=f"selected ({selected.size})")
    if annotate:
        for rank, i in enumerate(selected):
            ax.annotate(str(rank), X2[i], textcoords="offset points", xytext=(4, 4),
                        fontsize=7)
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title)
    return ax


def plot_selected_images(images, selected, labels=None, *, n_cols=10, image_shape=None,
                         cmap="gray_r", fig=None):
    """Show the selected samples as a grid of images.

    Parameters
    ----------
    images : array-like of shape (n_samples, h, w), (n_samples, h, w, c) or (n_samples, h*w)
        All images; flat rows need ``image_shape``.
    selected : array-like of int, or boolean mask
        The samples to show, in order.
    labels : array-like of shape (n_samples,), optional
        Written above each image.
    n_cols : int, default=10
        Images per row.
    image_shape : tuple of int, optional
        Shape to reshape flat rows to, e.g. ``(8, 8)``.
    cmap : str, default="gray_r"
        Colormap of single-channel images.
    fig : matplotlib Figure, optional
        Where to draw; a new figure when None.

    Returns
    -------
    fig : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skusl.datasets import load_demo
    >>> from skusl.plotting import plot_selected_images
    >>> demo = load_demo()
    >>> fig = plot_selected_images(demo.images, [0, 1, 2], demo.target, n_cols=3)
    >>> len(fig.axes)
    3
    """
    plt = _pyplot()
    images = np.asarray(images)
    selected = _as_indices(selected, images.shape[0])
    if images.ndim == 2:
        if image_shape is None:
            side = int(round(np.sqrt(images.shape[1])))
            if side * side != images.shape[1]:
                raise ValueError("flat images need image_shape=(height, width).")
            image_shape = (side, side)
        images = images.reshape((images.shape[0],) + tuple(image_shape))
    n_cols = max(1, min(n_cols, selected.size))
    n_rows = max(1, int(np.ceil(selected.size / n_cols)))
    if fig is None:
        fig = plt.figure(figsize=(1.1 * n_cols, 1.3 * n_rows))
    for k, i in enumerate(selected):
        ax = fig.add_subplot(n_rows, n_cols, k + 1)
        ax.imshow(images[i], cmap=cmap if images.ndim == 3 else None,
                  interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if labels is not None:
            ax.set_title(str(np.asarray(labels)[i]), fontsize=9)
    return fig


def _selection_dict(selections):
    if isinstance(selections, dict):
        return {str(k): _as_indices(v) for k, v in selections.items()}
    return {"selection": _as_indices(selections)}


def plot_class_coverage(y_true, selections, *, ax=None, title=None):
    """Bars of class coverage and class balance, one pair per selection.

    Coverage is the share of classes with at least one selected sample,
    balance the normalised entropy of the selected classes
    (:func:`skusl.metrics.class_coverage`, :func:`skusl.metrics.class_balance`);
    both are 1 at best.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth classes (evaluation only).
    selections : dict of str to array-like of int, or array-like of int
        Selections by name, e.g. ``{"USL": ..., "random": ...}``.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    title : str, optional
        Axes title.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skusl.plotting import plot_class_coverage
    >>> y = [0, 0, 1, 1, 2, 2]
    >>> ax = plot_class_coverage(y, {"good": [0, 2, 4], "poor": [0, 1, 2]})
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['good', 'poor']
    """
    from .metrics import class_balance, class_coverage

    selections = _selection_dict(selections)
    names = list(selections)
    cover = [class_coverage(y_true, idx) for idx in selections.values()]
    balance = [class_balance(y_true, idx) for idx in selections.values()]
    ax = _axes(ax, figsize=(1.2 + 1.1 * len(names), 3.5))
    pos = np.arange(len(names))
    width = 0.38
    bars_c = ax.bar(pos - width / 2, cover, width, label="class coverage", color="#4c72b0")
    bars_b = ax.bar(pos + width / 2, balance, width, label="class balance", color="#dd8452")
    for bars in (bars_c, bars_b):
        for bar in bars:
            ax.annotate(f"{bar.get_height():.2f}", (bar.get_x() + bar.get_width() / 2,
                                                    bar.get_height()),
                        ha="center", va="bottom", fontsize=8)
    ax.set_xticks(pos)
    ax.set_xticklabels(names)
    ax.set_ylim(0, 1.12)
    ax.legend(loc="lower right", fontsize=8)
    if title is not None:
        ax.set_title(title)
    return ax


def plot_class_counts(y_true, selections, *, ax=None, title=None):
    """Grouped bars: how many samples of each class every selection holds.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth classes (evaluation only).
    selections : dict of str to array-like of int, or array-like of int
        Selections by name.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    title : str, optional
        Axes title.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skusl.plotting import plot_class_counts
    >>> ax = plot_class_counts([0, 0, 1, 1], {"a": [0, 2], "b": [0, 1]})
    >>> ax.get_xlabel()
    'class'
    """
    y_true = np.asarray(y_true)
    classes = np.unique(y_true)
    selections = _selection_dict(selections)
    ax = _axes(ax, figsize=(max(4, 0.5 * classes.size + 2), 3.5))
    pos = np.arange(classes.size)
    width = 0.8 / len(selections)
    for k, (name, idx) in enumerate(selections.items()):
        counts = [(y_true[idx] == c).sum() for c in classes]
        ax.bar(pos - 0.4 + width * (k + 0.5), counts, width, label=name)
    ax.set_xticks(pos)
    ax.set_xticklabels([str(c) for c in classes])
    ax.set_xlabel("class")
    ax.set_ylabel("selected samples")
    ax.legend(fontsize=8)
    if title is not None:
        ax.set_title(title)
    return ax


def plot_budget_curve(budgets, scores, *, ax=None, ylabel="accuracy", title=None,
                      xscale="log"):
    """A score (e.g. accuracy) against the annotation budget, one line per method.

    Parameters
    ----------
    budgets : array-like of shape (n_budgets,)
        Labels per run (total or per class).
    scores : dict of str to array-like
        Per method, shape (n_budgets,) or (n_budgets, n_seeds); with seeds
        the line is the mean and the band +- one standard deviation.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    ylabel : str, default="accuracy"
        Label of the y axis.
    title : str, optional
        Axes title.
    xscale : {"log", "linear"}, default="log"
        Scale of the budget axis.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skusl.plotting import plot_budget_curve
    >>> ax = plot_budget_curve([10, 20, 40], {"USL": [0.6, 0.7, 0.8],
    ...                                       "random": [[0.4, 0.5], [0.6, 0.6], [0.7, 0.8]]})
    >>> [line.get_label() for line in ax.get_lines()]
    ['USL', 'random']
    """
    budgets = np.asarray(budgets, dtype=np.float64).ravel()
    ax = _axes(ax)
    for name, values in scores.items():
        values = np.asarray(values, dtype=np.float64)
        if values.ndim == 1:
            values = values[:, None]
        if values.shape[0] != budgets.size:
            raise ValueError(f"scores[{name!r}] has {values.shape[0]} rows for "
                             f"{budgets.size} budgets.")
        mean = values.mean(axis=1)
        line, = ax.plot(budgets, mean, marker="o", label=str(name))
        if values.shape[1] > 1:
            std = values.std(axis=1)
            ax.fill_between(budgets, mean - std, mean + std, alpha=0.2,
                            color=line.get_color())
    ax.set_xscale(xscale)
    if xscale == "log":
        ax.set_xticks(budgets)
        ax.set_xticklabels([f"{b:g}" for b in budgets])
        ax.minorticks_off()
    ax.set_xlabel("labels (budget)")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title is not None:
        ax.set_title(title)
    return ax


def plot_labeling_levels(X, levels, *, labeled=None, ax=None, title=None, cmap="viridis",
                         colorbar_label="level", point_size=12, random_state=0):
    """Colour each sample by a per-sample value, e.g. the HDL level it was labeled at.

    With :class:`skusl.labeling.HDLLabeler`, pass ``labeling_level_`` (the
    number of labeled neighbours a sample had when it was labeled: high
    levels go first and are the safest) or the rank in ``labeling_order_``
    (when it was labeled). The initially labeled samples are drawn as black
    stars.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Samples, or their 2-D projection (see :func:`project_2d`).
    levels : array-like of shape (n_samples,)
        Value per sample; entries of labeled samples are not drawn in colour.
    labeled : array-like of int, or boolean mask, optional
        The samples labeled from the start.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    title : str, optional
        Axes title.
    cmap : str, default="viridis"
        Colormap of the values.
    colorbar_label : str, default="level"
        Label of the colour bar.
    point_size : float, default=12
        Marker area of the samples.
    random_state : int, default=0
        Seed of the projection.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skusl.plotting import plot_labeling_levels
    >>> X = np.random.RandomState(0).rand(20, 2)
    >>> ax = plot_labeling_levels(X, np.arange(20) % 4, labeled=[0, 5], title="HDL")
    >>> ax.get_title()
    'HDL'
    """
    X2 = project_2d(X, random_state=random_state)
    levels = _host(levels).astype(np.float64).ravel()
    if levels.shape[0] != X2.shape[0]:
        raise ValueError(f"levels has {levels.shape[0]} values for {X2.shape[0]} samples.")
    ax = _axes(ax)
    mask = np.ones(X2.shape[0], dtype=bool)
    if labeled is not None:
        labeled = _as_indices(labeled, X2.shape[0])
        mask[labeled] = False
    points = ax.scatter(X2[mask, 0], X2[mask, 1], c=levels[mask], s=point_size,
                        cmap=cmap, linewidths=0)
    ax.figure.colorbar(points, ax=ax, label=colorbar_label)
    if labeled is not None:
        ax.scatter(X2[labeled, 0], X2[labeled, 1], s=150, c="black", marker="*",
                   zorder=3, label="labeled")
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title)
    return ax
