"""``python -m skusl demo``: USL on the bundled digits, against random picks."""

import time

from . import check_output

OUTPUT_FORMATS = (".csv", ".json", ".npy", ".txt")


def register(subparsers):
    """Add the ``demo`` command to an ``argparse`` subparsers object."""
    demo = subparsers.add_parser(
        "demo", help="select 20 digits to label and show how well they cover the classes",
        description=(
            "Run USL on the bundled demo set (scikit-learn's 1797 handwritten "
            "digits): pick 20 samples to label, print them with their true "
            "classes, compare class coverage with 20 random picks, and save the "
            "indices."))
    demo.add_argument("--budget", type=int, default=20, help="samples to select (default 20)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--out", default="usl_demo_indices.csv",
                      help="where to save the indices (default usl_demo_indices.csv)")
    demo.set_defaults(func=run, flags={"n_select": "--budget"})


def run(args):
    """Run ``demo``; return the exit status."""
    import numpy as np

    from ..datasets import load_demo
    from ..io import save_indices
    from ..metrics import class_balance, class_coverage
    from ..selection import USLSelector

    check_output(args.out, OUTPUT_FORMATS)
    demo = load_demo()
    X, y = demo.data, demo.target
    print(f"demo data: {X.shape[0]} handwritten digits, {X.shape[1]} pixels each, "
          f"{len(np.unique(y))} classes (labels used only to evaluate)")
    start = time.perf_counter()
    selector = USLSelector(n_select=args.budget, random_state=args.seed).fit(X)
    elapsed = time.perf_counter() - start
    chosen = selector.selected_indices_
    print(f"\nUSL selected {chosen.size} samples in {elapsed:.2f} s (best first):")
    print("  index: " + " ".join(f"{i:>4d}" for i in chosen))
    print("  class: " + " ".join(f"{c:>4d}" for c in y[chosen]))

    rng = np.random.RandomState(args.seed)
    random_pick = rng.choice(X.shape[0], size=chosen.size, replace=False)
    n_classes = len(np.unique(y))
    print("\n                  classes covered   balance   1-NN accuracy from the picks")
    for name, idx in (("USL", chosen), ("random", random_pick)):
        cover = class_coverage(y, idx)
        acc = _nearest_pick_accuracy(selector, X, y, idx)
        print(f"  {name:<8s} {round(cover * n_classes):>12d}/{n_classes}   "
              f"{class_balance(y, idx):>7.2f}   {acc:>10.3f}")
    path = save_indices(chosen, args.out)
    print(f"\nsaved the {chosen.size} indices to {path}: hand them to annotators, then "
          "spread their labels with skusl.HDLLabeler.")
    return 0


def _nearest_pick_accuracy(selector, X, y, idx):
    """Accuracy of labeling every sample by its nearest picked sample."""
    from ..metrics import nearest_prototype_accuracy

    return nearest_prototype_accuracy(selector._preprocess(X), y, idx)
