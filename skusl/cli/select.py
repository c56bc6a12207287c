"""``python -m skusl select``: pick the samples worth labeling from an embeddings file."""

import sys
import time

from . import about, check_input, check_matrix, check_output

OUTPUT_FORMATS = (".csv", ".json", ".npy", ".txt")


def register(subparsers):
    """Add the ``select`` command to an ``argparse`` subparsers object."""
    from ..selection import RECOMMENDED, SELECTORS

    methods = [name for name in SELECTORS]
    select = subparsers.add_parser(
        "select", help="pick the samples worth labeling from an embeddings file",
        description=(
            f"Select BUDGET samples of EMBEDDINGS with METHOD (default {RECOMMENDED}, the "
            "quality benchmark's recommendation) and write their indices, best first. "
            "Row i of the file is sample i."))
    select.add_argument("embeddings", help="embeddings file: .npy (memory-mapped), .npz "
                        "(array 'X' or the only one), .csv, .parquet")
    select.add_argument("--budget", "-m", type=int, required=True,
                        help="number of samples to select (the annotation budget)")
    select.add_argument("--method", choices=methods, default=RECOMMENDED, metavar="NAME",
                        help=f"selector: {', '.join(methods)} (default {RECOMMENDED}; "
                        "uslt needs PyTorch)")
    select.add_argument("--labeled", default=None, metavar="FILE",
                        help="indices already labeled (.csv/.json/.npy/.txt): kept out of "
                        "the picks, which complement them (selectors with a warm start)")
    select.add_argument("--k", type=int, default=None,
                        help="neighbours of the kNN graph (default: the method's, 20; USL's "
                        "paper CIFAR-10 setting K=400 is --k 399)")
    select.add_argument("--clusters", type=int, default=None,
                        help="K-Means clusters, for the cluster-based methods (default: "
                        "the budget)")
    select.add_argument("--neighbors", choices=["auto", "exact", "approximate", "ivf"],
                        default="auto", help="kNN search (default auto: the fastest by a "
                        "cost model of this machine's measured rates; exact for small "
                        "data, ivf cells at a million rows; see skusl.neighbors._plan)")
    select.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    select.add_argument("--key", default=None, help="array name inside an .npz")
    select.add_argument("--out", "-o", default="selected_indices.csv",
                        help="output file; .csv, .json, .npy or .txt (default "
                        "selected_indices.csv)")
    select.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    select.set_defaults(func=run, flags={"n_select": "--budget", "n_clusters": "--clusters"})


def build_selector(args):
    """The estimator ``select`` fits: the registry's ``--method`` with the flags applied."""
    from ..selection import make_selector

    selector = make_selector(args.method, args.budget, random_state=args.seed,
                             neighbors=args.neighbors)
    params = selector.get_params()
    for flag, param, value in (("--k", "n_neighbors", args.k),
                               ("--clusters", "n_clusters", args.clusters)):
        if value is None:
            continue
        if param not in params:
            raise ValueError(f"{flag} does not apply to --method {args.method}.")
        selector.set_params(**{param: value})
    if "verbose" in params:
        selector.set_params(verbose=not args.quiet)
    return selector


def run(args):
    """Run ``select``; return the exit status."""
    from ..io import load_embeddings, load_indices, save_indices

    check_output(args.out, OUTPUT_FORMATS)
    path = check_input(args.embeddings, "embeddings")
    X = check_matrix(load_embeddings(path, key=args.key), path)
    labeled = None
    if args.labeled is not None:
        labeled = load_indices(check_input(args.labeled, "labeled indices"))
    start = time.perf_counter()
    selector = build_selector(args)
    params = selector.get_params()
    # The planner, before the heavy work: the chosen path's peak memory and time.
    # Selectors without a kNN graph (k-means closest, random) plan none.
    graph_k = (params.get("n_neighbors") or 20) if "n_neighbors" in params else 0
    plan_or_stop(X, graph_k,
                 params.get("n_clusters") or (args.budget if "n_clusters" in params else 0),
                 args.neighbors, args.quiet, reg_iter=params.get("reg_iter") or 0)
    try:
        if labeled is None:
            selector.fit(X)
        else:
            selector.fit(X, labeled=labeled)
    except ValueError as exc:  # the data or a flag: say which file it is about
        raise about(path, exc) from None
    elapsed = time.perf_counter() - start
    out = save_indices(selector.selected_indices_, args.out)
    if not args.quiet:
        print(f"selected {args.budget} of {X.shape[0]} samples with {args.method} in "
              f"{elapsed:.1f} s -> {out}", file=sys.stderr)
    return 0


def plan_or_stop(X, k, n_clusters, neighbors, quiet, *, reg_iter=0, copies=1):
    """Say the plan (peak memory, time) and stop with an error naming what fits."""
    from ..neighbors._plan import check_memory, plan_fit

    n, d = X.shape
    if n < 2:
        return None
    plan = plan_fit(n, d, min(k, n - 1), n_clusters=n_clusters, reg_iter=reg_iter,
                    itemsize=X.dtype.itemsize, copies=copies, method=neighbors)
    if not quiet:
        print(f"[skusl] {plan.describe()}", file=sys.stderr, flush=True)
    check_memory(plan, flags={"neighbors": "--neighbors ivf", "k": "a smaller --k",
                              "dask": "the Dask path (skusl.distributed, pip install "
                                      "'skusl[dask]')"})
    return plan
