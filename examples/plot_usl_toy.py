"""
=====================================================================
USL on a 2-D toy set: density peaks, K-Means, and the regulariser
=====================================================================

Which points should we label when we can label only ten? This example
rebuilds, on a 2-D toy set, the argument of Fig. 3 of Wang, Lian & Yu,
"Unsupervised Selective Labeling for More Effective Semi-Supervised Learning"
(ECCV 2022), step by step:

1. **Density peaks alone** pick *representative* points, but all in the
   densest region: nine of ten land in one blob.
2. **K-Means + density** (one pick per cluster: :class:`~skusl.USLSelector`
   with ``reg_weight=0``) is *diverse* across clusters, but the big blob is
   split into several clusters whose density peaks crowd at its centre.
3. **The regulariser** (here ``reg_weight=10``) pushes the picks of
   neighbouring clusters apart, while staying in dense regions.
4. **Too much regularisation** (``reg_weight=40``) pushes picks to the
   fringes, onto outliers that represent little.

Why 10 and not the paper's 0.5? The density utility scales as one over a
squared distance and the regulariser as one over a distance (summed over
the other clusters' picks), so the right balance depends on the scale of
the features and on the budget. The paper's 0.5 (the default) is for
L2-normalised embeddings, which :class:`~skusl.USLSelector` produces with
its default ``normalize=True``; this raw 2-D toy needs its own value, found
by eye here, or by cross-validation as in
:ref:`sphx_glr_auto_examples_plot_grid_search.py`.
"""

import matplotlib.pyplot as plt
import numpy as np

from skusl import USLSelector
from skusl.plotting import plot_selection

# %%
# A toy set: one big dense blob, three smaller ones
# -------------------------------------------------
rng = np.random.RandomState(0)
sizes = [900, 300, 200, 200]
centres = [(0, 0), (5, 4), (-5, 4), (4, -4)]
spreads = [1.0, 0.6, 0.8, 1.2]
X = np.vstack([rng.normal(c, s, (n, 2)) for c, s, n in zip(centres, spreads, sizes, strict=False)])
y = np.repeat(np.arange(4), sizes)  # only to colour the plot; selection never sees it

n_select = 10

# %%
# Four ways to pick ten points
# ----------------------------
# ``normalize=False`` keeps the 2-D geometry (on real embeddings keep the
# default ``normalize=True``: the paper works on the unit sphere).
no_reg = USLSelector(n_select, normalize=False, reg_weight=0, random_state=0).fit(X)
density_peaks = np.argsort(-no_reg.utility_)[:n_select]
usl = USLSelector(n_select, normalize=False, reg_weight=10, random_state=0).fit(X)
strong = USLSelector(n_select, normalize=False, reg_weight=40, random_state=0).fit(X)

selections = {
    "density peaks alone": density_peaks,
    "K-Means + density\n(reg_weight=0)": no_reg.selected_indices_,
    "USL (reg_weight=10)": usl.selected_indices_,
    "too strong\n(reg_weight=40)": strong.selected_indices_,
}


def spread(points):
    """Mean distance from each selected point to its nearest other pick."""
    d = np.linalg.norm(points[:, None] - points[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    return d.min(axis=1).mean()


def least_typical(picks):
    """Density percentile of the least dense pick (0: an outlier)."""
    return min((no_reg.utility_ < no_reg.utility_[i]).mean() for i in picks)


# Below each panel: the blobs covered, the spread (mean distance from a pick
# to its nearest other pick) and the density percentile of the least dense
# pick (0% is an outlier).
fig, axes = plt.subplots(1, 4, figsize=(14, 3.8), sharex=True, sharey=True)
for ax, (name, picks) in zip(axes, selections.items(), strict=False):
    plot_selection(X, picks, y, ax=ax, title=name)
    ax.set_xlabel(f"blobs {len(np.unique(y[picks]))}/4, spread {spread(X[picks]):.2f}, "
                  f"least dense pick at {least_typical(picks):.0%}", fontsize=9)
fig.tight_layout()

# %%
# The utility and the regulariser
# -------------------------------
# USL's utility is the kNN density ``U_i = 1 / mean_j ||x_i - x_j||^2``;
# the final picks maximise ``U - reg_weight * Reg`` within their cluster,
# where ``Reg`` sums ``1 / distance`` to the picks of the other clusters.
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharex=True, sharey=True)
for ax, values, name in ((axes[0], usl.utility_, "utility U (density)"),
                         (axes[1], usl.regularizer_, "regulariser Reg")):
    points = ax.scatter(X[:, 0], X[:, 1], c=values, s=6, cmap="viridis")
    ax.scatter(*X[usl.selected_indices_].T, marker="*", s=150, c="red",
               edgecolors="black")
    fig.colorbar(points, ax=ax)
    ax.set_title(name)
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
plt.show()
