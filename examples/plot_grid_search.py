"""
=================================================================
Tune ``reg_weight`` and ``n_neighbors`` with ``GridSearchCV``
=================================================================

Selection is unsupervised, but its parameters can be tuned on a small
*labeled development set* from a similar domain, like any scikit-learn
estimator's. Every selector has a ``score(X, y)``: the accuracy of labeling
each sample of ``X`` by its nearest selected prototype, where each
prototype carries the true label of the sample of ``X`` closest to it (on
a held-out fold, the sample an annotator would have been shown). So
:class:`~sklearn.model_selection.GridSearchCV` works as usual: it selects
on the training folds and scores the selection on the held-out fold.

Other criteria are available as scorers through
:func:`skusl.metrics.make_selection_scorer` (class coverage, balance,
linear-probe or propagation accuracy).

Here: 20 labels, a 3 x 3 grid, 3-fold cross-validation on 900 of the digits
(the development set).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skusl import USLSelector
from skusl.datasets import load_demo
from skusl.metrics import make_selection_scorer

demo = load_demo()
# 900 digits stand in for a small labeled development set
dev = np.random.RandomState(0).choice(len(demo.data), 900, replace=False)
X_dev, y_dev = demo.data[dev], demo.target[dev]

param_grid = {"reg_weight": [0.0, 0.5, 2.0], "n_neighbors": [5, 20, 50]}
search = GridSearchCV(
    USLSelector(n_select=20, random_state=0),
    param_grid,
    cv=StratifiedKFold(3, shuffle=True, random_state=0),
    scoring={"accuracy": make_selection_scorer("nearest_prototype_accuracy"),
             "coverage": make_selection_scorer("coverage")},
    refit="accuracy",  # the default scoring=None would use USLSelector.score
)
search.fit(X_dev, y_dev)
print("best parameters:", search.best_params_)
print(f"best cross-validated 1-NN accuracy: {search.best_score_:.3f}")
for params, cover in zip(search.cv_results_["params"],
                         search.cv_results_["mean_test_coverage"], strict=False):
    print(f"  {params}: class coverage {cover:.2f}")

# %%
# The grid
# --------
scores = np.empty((len(param_grid["reg_weight"]), len(param_grid["n_neighbors"])))
for params, score in zip(search.cv_results_["params"],
                         search.cv_results_["mean_test_accuracy"], strict=False):
    scores[param_grid["reg_weight"].index(params["reg_weight"]),
           param_grid["n_neighbors"].index(params["n_neighbors"])] = score
fig, ax = plt.subplots(figsize=(4.5, 3.6))
image = ax.imshow(scores, cmap="viridis")
ax.set_xticks(range(len(param_grid["n_neighbors"])), param_grid["n_neighbors"])
ax.set_yticks(range(len(param_grid["reg_weight"])), param_grid["reg_weight"])
ax.set_xlabel("n_neighbors (density estimate, K)")
ax.set_ylabel("reg_weight (lambda)")
for (i, j), value in np.ndenumerate(scores):
    ax.text(j, i, f"{value:.3f}", ha="center", va="center", color="white", fontsize=9)
fig.colorbar(image, ax=ax, label="mean 1-NN accuracy")
ax.set_title("GridSearchCV over USLSelector")
fig.tight_layout()

# %%
# The tuned selector is refitted on all of the development set; apply its
# parameters to the unlabeled pool you want to select from.
best = search.best_estimator_
print("selected:", best.selected_indices_[:10], "...")
plt.show()
