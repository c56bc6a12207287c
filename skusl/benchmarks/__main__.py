"""Command line: ``python -m skusl.benchmarks quality --data DIR --out DIR``.

``DATA`` is a folder of ``.npz`` datasets (``X``, ``y``).

Examples
--------
All datasets (subsampled to 5k rows), every selector of the registry and
scikit-activeml's peers, budgets 1/2/4/10 per class, 5 seeds::

    python -m skusl.benchmarks quality --data DATA --out docs/benchmarks/quality/

The issue-2 subset::

    python -m skusl.benchmarks quality --data DATA --out /tmp/issue2 \\
        --datasets fashion20k_pixels rt13k_minilm --budgets 1 4 \\
        --selectors usl random kmeans_closest

The documented search around USL's defaults (one factor at a time)::

    python -m skusl.benchmarks usl-search --data DATA \\
        --out docs/benchmarks/quality/usl_search.md --datasets digits1797_pixels rt13k_minilm

The exact kNN's precision guards (recall on cancellation-prone float32 data,
cost of the float64 re-rank at 50k x 128)::

    python -m skusl.benchmarks knn-precision --out docs/benchmarks/knn_precision.md

The Dask path, 1 worker against 2 (needs ``pip install "skusl[dask]"``)::

    python -m skusl.benchmarks dask --out docs/benchmarks/dask.md

The measurement commands keep their own options (``--help`` lists them)::

    python -m skusl.benchmarks backends --quick     # kNN/regulariser per backend, faiss yardstick
    python -m skusl.benchmarks topk                 # the Numba top-k against alternatives
    python -m skusl.benchmarks hdl --quick          # HDL against peers, 1M-row scale run
    python -m skusl.benchmarks hdl-k                # HDL's k search
    python -m skusl.benchmarks kmeans               # K-Means variants inside USL
    python -m skusl.benchmarks kmeans-large-m       # K-Means at many clusters

Label propagation (rounds, HDL, kNN-DV, LabelSpreading, LabelPropagation;
add ``--scale`` for the 1M-row graph)::

    python -m skusl.benchmarks propagation --data DATA \\
        --out docs/benchmarks/propagation.md --scale

USL-T beside USL and random, 1 label per class, 5 seeds (needs torch)::

    python -m skusl.benchmarks uslt --data DATA --out docs/benchmarks/uslt.md

MaxHerding against scikit-activeml's at 10k rows (and once at 1M x 128)::

    python -m skusl.benchmarks maxherding --data DATA \\
        --out docs/benchmarks/maxherding.md --million

``neighbors="auto"`` against exact, ivf and pynndescent, fresh processes,
20k-1M rows at d = 128 and 384 (resumable; ``--repeat 3`` for medians)::

    python -m skusl.benchmarks neighbors-auto --out docs/benchmarks/neighbors_auto.md

Millions of rows (issue 13): end to end through the CLI in fresh processes,
exact kNN against faiss, sampled K-Means, every selector at 1M x 128::

    python -m skusl.benchmarks scale --out docs/benchmarks/scale.md \\
        --kmeans 100000:128:1000 --real DATA/mnist70k_pca100.npz \\
        --selectors USLSelector

An interrupted run continues from ``<out>/cache``; ``--report-only`` rewrites
the report from the cache without running any selection.
"""

import argparse
import sys


#: Commands whose module parses its own options: name -> (module, help).
PASS_THROUGH = {
    "backends": ("_bench_backends", "kNN and regulariser per backend, faiss yardstick, compile"),
    "topk": ("_bench_topk", "the Numba top-k against alternatives"),
    "hdl": ("_bench_hdl", "HDL against kNN-DV, LabelSpreading and AutoK; scale run"),
    "hdl-k": ("_bench_hdl_k", "HDL's neighbourhood-size search"),
    "kmeans": ("_bench_kmeans", "K-Means variants inside USL"),
    "kmeans-large-m": ("_bench_kmeans_large_m", "K-Means at many clusters"),
}


def _ints(values):
    return [int(v) for v in values]


def build_parser():
    from ._quality import DEFAULT_BUDGETS, DEFAULT_SEEDS, SELECTORS

    parser = argparse.ArgumentParser(prog="python -m skusl.benchmarks",
                                     description="skusl benchmarks")
    sub = parser.add_subparsers(dest="command", required=True)
    q = sub.add_parser("quality",
                       help="selection quality protocol (docs/user_guide/benchmarks.rst)")
    q.add_argument("--data", required=True, help="folder of .npz datasets (X, y)")
    q.add_argument("--out", required=True, help="report folder (cache in OUT/cache)")
    q.add_argument("--datasets", nargs="+", default=None,
                   help="dataset file stems to run (default: every .npz in --data)")
    q.add_argument("--selectors", nargs="+", default=None, choices=list(SELECTORS),
                   metavar="NAME", help=f"selectors (default: all of {', '.join(SELECTORS)})")
    q.add_argument("--budgets", nargs="+", type=int, default=list(DEFAULT_BUDGETS),
                   help="labels per class (default: 1 2 4 10)")
    q.add_argument("--seeds", nargs="+", type=int, default=list(DEFAULT_SEEDS),
                   help="seeds (default: 0 1 2 3 4)")
    q.add_argument("--max-samples", type=int, default=5_000,
                   help="subsample larger sets to this many rows, seed 0 (default 5000; "
                   "0: all rows)")
    q.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    q.add_argument("--report-only", action="store_true",
                   help="write the report from cached cells only (no selection is run; cells "
                   "scored with older metrics are re-scored)")
    u = sub.add_parser("usl-search",
                       help="one-factor-at-a-time search around USLSelector's defaults")
    u.add_argument("--data", required=True, help="folder of .npz datasets (X, y)")
    u.add_argument("--out", required=True, help="Markdown file to write")
    u.add_argument("--datasets", nargs="+", required=True, help="dataset file stems")
    u.add_argument("--budgets", nargs="+", type=int, default=[1, 4])
    u.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    from . import (_dask, _knn_precision, _maxherding, _neighbors_auto, _probcover_delta,
                   _propagation, _scale, _uslt)

    # Commands with their own module: register(subparsers).
    _knn_precision.register(sub)
    _dask.register(sub)
    _scale.register(sub)
    for name, (_, text) in PASS_THROUGH.items():
        sub.add_parser(name, help=f"{text} (its own options: {name} --help)", add_help=False)
    _propagation.register(sub)
    _uslt.register(sub)
    _maxherding.register(sub)
    _probcover_delta.register(sub)
    _neighbors_auto.register(sub)
    return parser


def main(argv=None):
    from ._quality import run_quality
    from ._report import write_report

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in PASS_THROUGH:
        import importlib

        module = importlib.import_module(f"{__package__}.{PASS_THROUGH[argv[0]][0]}")
        return module.main(argv[1:])
    args = build_parser().parse_args(argv)
    if getattr(args, "handler", None) is not None:
        return args.handler(args)
    if args.command == "usl-search":
        from ._usl_search import run_usl_search

        print(run_usl_search(args.data, args.out, datasets=args.datasets,
                             budgets=args.budgets, seeds=args.seeds))
        return 0
    records, meta = run_quality(args.data, args.out, datasets=args.datasets,
                                selectors=args.selectors, budgets=args.budgets,
                                seeds=args.seeds, progress=not args.no_progress,
                                cached_only=args.report_only,
                                max_samples=args.max_samples or None)
    paths = write_report(records, meta, args.out)
    for p in paths:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
