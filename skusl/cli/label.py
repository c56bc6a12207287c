"""``python -m skusl label``: spread a few labels over an embeddings file.

The output is CSV only (``index,label,confidence`` rows, one per sample,
the format :func:`skusl.io.read_annotations` reads back); another
extension for ``--out`` is refused before any work is done.
"""

import sys
import time

from . import UsageError, about, check_input, check_matrix, check_output

OUTPUT_FORMATS = (".csv",)


def _k(value):
    if value is None or value == "auto":
        return value
    try:
        k = int(value)
    except ValueError:
        raise UsageError(f"--k must be 'auto' or a positive integer, got {value!r}.") from None
    if k < 1:
        raise UsageError(f"--k must be 'auto' or a positive integer, got {value!r}.")
    return k


def register(subparsers):
    """Add the ``label`` command to an ``argparse`` subparsers object.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From ``parser.add_subparsers()``.
    """
    label = subparsers.add_parser(
        "label", help="label every sample from a few labeled ones (kNN-graph propagation)",
        description=(
            "Spread the labels of LABELS (index,label rows for the annotated "
            "samples) over every row of EMBEDDINGS by propagation on the kNN "
            "graph, and write index,label,confidence for every sample as CSV "
            "(confidence: the label's share of the vote of the labeled neighbours, "
            "1 for the given labels, 0 for the samples no labeled sample reaches; "
            "send the least confident to the annotators next)."))
    label.add_argument("embeddings", help="embeddings file: .npy, .npz (array 'X' or the "
                       "only one), .csv, .parquet; row i is sample i")
    label.add_argument("--labels", "-l", required=True,
                       help="CSV of index,label rows (a header line is allowed)")
    label.add_argument("--k", type=str, default=None,
                       help="neighbours per sample (default: the method's, 10 for rounds, "
                       "the best on the propagation benchmark), or 'auto' to choose it "
                       "with AutoK's held-out criterion (propagates once per k = 1..20: "
                       "minutes at a million rows; with one label per class it keeps the "
                       "method's default)")
    label.add_argument("--method", choices=["rounds", "hdl", "knn_dv"], default="rounds",
                       help="rounds (default: every labeled region grows one hop per "
                       "round, along the graph's edges both ways), hdl (the paper's "
                       "Algorithm 1) or the knn_dv baseline")
    label.add_argument("--neighbors", choices=["auto", "exact", "approximate", "ivf"],
                       default="auto", help="kNN search (default auto)")
    label.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    label.add_argument("--key", default=None, help="array name inside an .npz")
    label.add_argument("--out", "-o", required=True,
                       help="output file, .csv: index,label,confidence for every sample")
    label.add_argument("--quiet", "-q", action="store_true", help="no progress or summary")
    label.set_defaults(func=run, flags={})


def run(args):
    """Run ``label``: read, propagate, write atomically. Returns the exit status.

    Parameters
    ----------
    args : argparse.Namespace
        As parsed by the parser :func:`register` builds.

    Returns
    -------
    status : int
        0 on success.
    """
    import numpy as np

    from ..io import annotations_to_y, load_embeddings, read_annotations, save_labels_csv
    from ..labeling import HDLLabeler

    k = _k(args.k)
    check_output(args.out, OUTPUT_FORMATS,
                 what="label's output (index,label,confidence rows)")
    path = check_input(args.embeddings, "embeddings")
    labels_path = check_input(args.labels, "labels")
    X = check_matrix(load_embeddings(path, key=getattr(args, "key", None)), path)
    try:
        indices, labels = read_annotations(labels_path)
    except ValueError as exc:
        raise about(labels_path, exc) from None
    if indices.size == 0:
        raise UsageError(f"{labels_path} holds no labeled sample (index,label rows).")
    n_samples = X.shape[0]
    if indices.max() >= n_samples:
        raise UsageError(f"{labels_path}: index {int(indices.max())} is out of range for "
                         f"the {n_samples} rows of {path}.")
    try:
        y = annotations_to_y(n_samples, indices, labels)
    except ValueError as exc:
        raise about(labels_path, exc) from None
    from .select import plan_or_stop

    from ..labeling._hdl import AUTO_K_MAX
    from ..labeling._methods import DEFAULT_NEIGHBORS

    method = getattr(args, "method", "rounds")
    plan_k = AUTO_K_MAX if k == "auto" else (k or DEFAULT_NEIGHBORS[method])
    plan_or_stop(X, plan_k, 0, getattr(args, "neighbors", "auto"),
                 args.quiet, copies=0)
    start = time.perf_counter()
    hdl = HDLLabeler(n_neighbors=k, method=method,
                     neighbors=getattr(args, "neighbors", "auto"),
                     random_state=args.seed, verbose=not args.quiet)
    try:
        hdl.fit(X, y)
    except ValueError as exc:
        raise about(path, exc) from None
    elapsed = time.perf_counter() - start
    confidence = hdl.confidence_
    out = save_labels_csv(args.out, np.arange(X.shape[0]), hdl.transduction_, confidence)
    if not args.quiet:
        print(f"labeled {X.shape[0]} samples from {indices.size} labels (k={hdl.n_neighbors_}, "
              f"{hdl.n_fallback_} by fallback) in {elapsed:.1f} s -> {out}",
              file=sys.stderr)
    return 0
