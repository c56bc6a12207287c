"""
=============================================================
HDL on a 2-D toy set: labeling level by level
=============================================================

:class:`~skusl.HDLLabeler` spreads a few labels over a kNN graph. It does
not label every sample at once: it labels first the unlabeled samples with
the *most* labeled neighbours (the highest level ``L``, the safest
decisions), adds them to the labeled set, updates the counts and goes on,
so that uncertain samples, on the boundaries between classes, are labeled
last, by the most evidence. The baseline ``method="knn_dv"`` labels
everything at once by a vote of the k nearest *labeled* samples.

This is the paper's algorithm, ``method="hdl"``; the default,
``method="rounds"``, grows every labeled region one hop per round instead
(see the user guide).

Here eight labeled points (chosen by :class:`~skusl.USLSelector`) label
two interleaved half-moons and a blob.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_blobs, make_moons

from skusl import HDLLabeler, USLSelector
from skusl.io import annotations_to_y
from skusl.plotting import plot_labeling_levels, plot_selection

# %%
# Data and the eight samples to label
# -----------------------------------
X_moons, y_moons = make_moons(500, noise=0.08, random_state=0)
X_blob, _ = make_blobs(150, centers=[(2.6, 1.4)], cluster_std=0.2, random_state=0)
X = np.vstack([X_moons, X_blob])
y_true = np.concatenate([y_moons, np.full(150, 2)])

selector = USLSelector(n_select=8, n_neighbors=10, normalize=False, random_state=0).fit(X)
picks = selector.selected_indices_
y = annotations_to_y(len(X), picks, y_true[picks])  # -1: unlabeled

# %%
# HDL's levels and order
# ----------------------
# ``labeling_level_`` is the level at which each sample was labeled: the
# number of labeled neighbours it had then (-1 for the samples labeled from
# the start). ``labeling_order_`` lists the unlabeled samples in the order
# they were labeled.
hdl = HDLLabeler(n_neighbors=10, method="hdl", normalize=False).fit(X, y)
rank = np.full(len(X), -1)
rank[hdl.labeling_order_] = np.arange(hdl.labeling_order_.size)
knn_dv = HDLLabeler(n_neighbors=3, method="knn_dv", normalize=False).fit(X, y)

fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
plot_selection(X, picks, y_true, ax=axes[0, 0], title="the 8 labeled samples (stars)")
plot_labeling_levels(X, hdl.labeling_level_, labeled=picks, ax=axes[0, 1],
                     colorbar_label="labeled neighbours when labeled (level)",
                     title="HDL level of each sample")
plot_labeling_levels(X, rank, labeled=picks, ax=axes[1, 0], cmap="magma",
                     colorbar_label="labeling order", title="HDL order: early (dark) to late")
for ax, model, _name in ((axes[1, 1], hdl, "HDL"),):
    wrong = model.transduction_ != y_true
    plot_selection(X, picks, model.transduction_, ax=ax,
                   title=f"HDL labels: {np.mean(~wrong):.1%} right "
                         f"(kNN-DV: {np.mean(knn_dv.transduction_ == y_true):.1%})")
    ax.scatter(*X[wrong].T, s=40, facecolors="none", edgecolors="red", label="wrong")
    ax.legend(loc="lower left", fontsize=8)
fig.tight_layout()

# %%
# How many samples each level labeled
# -----------------------------------
levels, counts = np.unique(hdl.labeling_level_[hdl.labeling_level_ >= 0],
                           return_counts=True)
for level, count in zip(levels, counts, strict=False):
    print(f"level {level:2d}: {count:4d} samples")
print(f"fallback (no labeled neighbour at all): {hdl.n_fallback_}")
plt.show()
