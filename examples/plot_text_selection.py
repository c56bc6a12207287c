"""
==========================================================
Select sentences to label from text embeddings
==========================================================

Which movie-review snippets should an annotator read first? This example
selects 12 of the Rotten Tomatoes snippets of ``rt13k_minilm.npz`` (13,835
sentences embedded with all-MiniLM-L6-v2; three classes: fresh review,
rotten review, plot summary) and prints them, next to 12 random ones.

The embeddings are read from ``../shared/data`` beside the skusl checkout
(or from the folder that the ``SKUSL_SHARED_DATA`` environment variable names).
When that file is absent the example falls back to the tiny text demo
bundled with skusl, :func:`skusl.datasets.load_demo_text` (300 generated
sentences on four topics, embedded offline). To keep the example fast, a
random 3,000 of the 13,835 snippets are used.
"""

import os
import textwrap
from pathlib import Path

import numpy as np

from skusl import USLSelector
from skusl.datasets import load_demo_text
from skusl.metrics import class_coverage


def find_shared_data(name):
    """Path of ``shared/data/<name>`` beside the checkout, or None.

    ``SKUSL_SHARED_DATA`` names the folder explicitly; otherwise look in
    ``shared/data`` next to every folder above this script, the working
    directory and the skusl package (the checkout's ``../shared/data``).
    """
    if "SKUSL_SHARED_DATA" in os.environ:
        path = Path(os.environ["SKUSL_SHARED_DATA"]) / name
        return path if path.exists() else None
    import skusl

    starts = [Path.cwd(), Path(skusl.__file__).resolve().parent]
    if "__file__" in globals():
        starts.append(Path(__file__).resolve().parent)
    for start in starts:
        for folder in [start, *start.parents]:
            path = folder / "shared" / "data" / name
            if path.exists():
                return path
    return None


path = find_shared_data("rt13k_minilm.npz")
if path is not None:
    with np.load(path, allow_pickle=False) as data:
        keep = np.sort(np.random.RandomState(0).choice(data["X"].shape[0], 3000,
                                                       replace=False))
        X, y_true, texts = data["X"][keep], data["y"][keep], data["texts"][keep]
        class_names = [str(n) for n in data["label_names"]]
    print(f"rt13k: {len(X)} of the snippets, {X.shape[1]}-d MiniLM embeddings")
else:
    demo = load_demo_text()
    X, y_true, texts = demo.data, demo.target, demo.texts
    class_names = list(demo.target_names)
    print(f"shared data not found: using the bundled demo ({len(X)} sentences)")

n_select = 12

# %%
# USL's picks, best first
# -----------------------
selector = USLSelector(n_select=n_select, n_neighbors=20, random_state=0).fit(X)


def show(indices):
    for i in indices:
        snippet = textwrap.shorten(str(texts[i]), width=90, placeholder=" ...")
        print(f"  [{class_names[y_true[i]]:>9s}] {snippet}")


show(selector.selected_indices_)

# %%
# Twelve random sentences
# -----------------------
random_picks = np.random.RandomState(0).choice(len(X), n_select, replace=False)
show(random_picks)

# %%
# Class coverage of the two sets
# ------------------------------
for name, picks in (("USL", selector.selected_indices_), ("random", random_picks)):
    counts = np.bincount(y_true[picks], minlength=len(class_names))
    print(f"{name:>6s}: coverage {class_coverage(y_true, picks):.2f}, per class "
          + ", ".join(f"{c}={k}" for c, k in zip(class_names, counts, strict=False)))
