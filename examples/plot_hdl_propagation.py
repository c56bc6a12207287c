"""
Spread 20 labels over 1797 digits with HDL
==========================================

Label two random images per class of scikit-learn's handwritten digits, let
:class:`~skusl.model_selection.AutoK` choose the neighbourhood size from
those 20 labels alone, and propagate them to every other image with
:class:`~skusl.labeling.HDLLabeler`. The plot compares the default propagation by
rounds, the paper's HDL and its kNN-DV baseline over k, and shows how the
labels spread round by round.
Runs in a few seconds.
"""

import numpy as np
from sklearn.datasets import load_digits

from skusl.labeling import HDLLabeler
from skusl.model_selection import AutoK

X, y_true = load_digits(return_X_y=True)
rng = np.random.RandomState(0)
y = np.full_like(y_true, -1)
for c in range(10):
    pick = rng.choice(np.flatnonzero(y_true == c), size=2, replace=False)
    y[pick] = c
unlabeled = y == -1

auto = AutoK(HDLLabeler(), random_state=0).fit(X, y)
hdl = auto.estimator_
acc = (hdl.transduction_[unlabeled] == y_true[unlabeled]).mean()
print(f"AutoK chose k={auto.k_}; propagation labels the {unlabeled.sum()} unlabeled digits "
      f"with accuracy {acc:.3f} ({hdl.n_fallback_} by fallback)")

ks = [1, 2, 3, 5, 7, 10, 15, 20]
curves = {}
for method in ("rounds", "hdl", "knn_dv"):
    curves[method] = [
        (HDLLabeler(n_neighbors=k, method=method).fit(X, y).transduction_[unlabeled]
         == y_true[unlabeled]).mean()
        for k in ks
    ]
    print(method, " ".join(f"k={k}:{a:.3f}" for k, a in zip(ks, curves[method], strict=False)))

try:
    import matplotlib

    matplotlib.use("Agg") if __name__ == "__main__" else None
    import matplotlib.pyplot as plt
except ImportError:  # the example still prints its numbers
    plt = None

if plt is not None:
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(ks, curves["rounds"], "^-", label="rounds (default)")
    ax1.plot(ks, curves["hdl"], "o-", label="HDL (paper)")
    ax1.plot(ks, curves["knn_dv"], "s--", label="kNN-DV")
    ax1.axvline(auto.k_, color="grey", lw=1, label=f"AutoK k={auto.k_}")
    ax1.set_xlabel("k")
    ax1.set_ylabel("accuracy on the unlabeled digits")
    ax1.legend()
    order = hdl.labeling_order_
    correct = hdl.transduction_[order] == y_true[order]
    ax2.plot(np.arange(1, order.size + 1), np.cumsum(correct) / np.arange(1, order.size + 1))
    ax2.set_xlabel("samples labeled so far (labeling order)")
    ax2.set_ylabel("running accuracy")
    fig.tight_layout()
    if __name__ == "__main__":
        fig.savefig("hdl_propagation.png", dpi=100)
