"""Markdown report of the propagation benchmark, with the issue's Done-means check."""

import json
from pathlib import Path

import numpy as np

from ._propagation import SWEEP_KS, TITLES

#: The default of ``HDLLabeler()`` this report checks (method "rounds").
DEFAULT_K = 10
CHECK_KS = (5, 10, 20)


def _table(recs):
    """{(selection, dataset, method, k, lpc): [acc per seed]}."""
    out = {}
    for r in recs:
        out.setdefault((r["selection"], r["dataset"], r["method"], str(r["k"]), r["lpc"]),
                       []).append(r["acc"])
    return out


def _over_sets(tab, sel, method, k, lpc, datasets, partial=False):
    """Mean over the sets of the per-set mean over seeds.

    None if a set is missing, unless ``partial``: then the mean over the sets
    present (and None if there is none).
    """
    vals = [tab.get((sel, ds, method, str(k), lpc)) for ds in datasets]
    if partial:
        vals = [v for v in vals if v is not None]
    if not vals or any(v is None for v in vals):
        return None
    return float(np.mean([np.mean(v) for v in vals]))


def _n_sets(tab, sel, method, k, lpc, datasets):
    return sum((sel, ds, method, str(k), lpc) in tab for ds in datasets)


def _pct(v):
    return "—" if v is None else f"{100 * v:.1f}"


def done_means(tab, sel, lpcs, datasets):
    """The issue's three checks; returns (lines, all_hold)."""
    lines, holds = [], []
    groups = [(f"{lpc}", [lpc]) for lpc in lpcs] + [("all", list(lpcs))]

    def mean(method, k, lpc_list):
        vals = [_over_sets(tab, sel, method, k, lpc, datasets) for lpc in lpc_list]
        return None if any(v is None for v in vals) else float(np.mean(vals))

    lines += ["| labels per class | k | rounds (default) | LabelSpreading | kNN-DV | "
              "beats both? |", "|---|---|---|---|---|---|"]
    for name, lpc_list in groups:
        for k in sorted({DEFAULT_K, *CHECK_KS}):
            r, ls, dv = (mean(m, k, lpc_list) for m in ("rounds", "label_spreading", "knn_dv"))
            ok = None if None in (r, ls, dv) else (r > ls and r > dv)
            holds.append(ok)
            tag = " (default)" if k == DEFAULT_K else ""
            lines.append(f"| {name} | {k}{tag} | {_pct(r)} | {_pct(ls)} | {_pct(dv)} | "
                         f"{'—' if ok is None else ('yes' if ok else '**no**')} |")
    lines += ["", "| labels per class | best k (acc) | worst k in 3..20 (acc) | worst / best | "
              "≥ 90%? |", "|---|---|---|---|---|"]
    for name, lpc_list in groups:
        curve = {k: mean("rounds", k, lpc_list) for k in SWEEP_KS}
        if any(v is None for v in curve.values()):
            lines.append(f"| {name} | — | — | — | — |")
            holds.append(None)
            continue
        best, worst = max(curve, key=curve.get), min(curve, key=curve.get)
        ratio = curve[worst] / curve[best]
        holds.append(ratio >= 0.9)
        lines.append(f"| {name} | {best} ({_pct(curve[best])}) | {worst} "
                     f"({_pct(curve[worst])}) | {100 * ratio:.1f}% | "
                     f"{'yes' if ratio >= 0.9 else '**no**'} |")
    lines += ["", "| labels per class | rounds, k=auto | rounds, k=10 | auto − default "
              "(points) | within 1 point? |", "|---|---|---|---|---|"]
    for name, lpc_list in groups:
        a, d = mean("rounds_auto", "auto", lpc_list), mean("rounds", DEFAULT_K, lpc_list)
        if None in (a, d):
            lines.append(f"| {name} | — | — | — | — |")
            holds.append(None)
            continue
        ok = a >= d - 0.01
        holds.append(ok)
        lines.append(f"| {name} | {_pct(a)} | {_pct(d)} | {100 * (a - d):+.1f} | "
                     f"{'yes' if ok else '**no**'} |")
    return lines, holds


def _summary(tab, sel, methods, ks, lpcs, datasets):
    """Means over the sets; a cell over fewer sets says how many (e.g. "71.2 (3/5)")."""
    lines = ["| method | k | " + " | ".join(f"{lpc} / class" for lpc in lpcs) + " |",
             "|---|---|" + "---|" * len(lpcs)]
    for method in methods:
        mks = ["auto"] if method.endswith("_auto") else ks
        for k in mks:
            cells = []
            for lpc in lpcs:
                v = _over_sets(tab, sel, method, k, lpc, datasets, partial=True)
                n = _n_sets(tab, sel, method, k, lpc, datasets)
                cells.append(_pct(v) + ("" if n in (0, len(datasets))
                                        else f" ({n}/{len(datasets)} sets)"))
            if set(cells) == {"—"}:
                continue
            lines.append(f"| {TITLES[method]} | {k} | " + " | ".join(cells) + " |")
    return lines


def _coverage(records, meta, datasets):
    """Cells run per set and selection, against the plan."""
    from ._propagation import _phases

    phases = _phases(meta["ks"], meta["lpcs"], meta["seeds"], ("random", meta["selector"]))
    planned = {}
    for sel, cells in phases:
        planned[sel] = planned.get(sel, 0) + len(cells)
    lines = ["| set | " + " | ".join(f"{sel} labels" for sel in planned) + " |",
             "|---|" + "---|" * len(planned)]
    for ds in datasets:
        got = {sel: sum(r["dataset"] == ds and r["selection"] == sel for r in records)
               for sel in planned}
        lines.append(f"| {ds} | " + " | ".join(f"{got[sel]} / {planned[sel]}"
                                               for sel in planned) + " |")
    return lines


def _per_set(tab, sel, ds, methods, ks, lpcs):
    lines = [f"#### {ds}", "", "| method | k | " + " | ".join(f"{lpc} / class" for lpc in lpcs)
             + " |", "|---|---|" + "---|" * len(lpcs)]
    for method in methods:
        mks = ["auto"] if method.endswith("_auto") else ks
        for k in mks:
            cells = []
            for lpc in lpcs:
                v = tab.get((sel, ds, method, str(k), lpc))
                cells.append("—" if v is None else
                             f"{100 * np.mean(v):.1f} ± {100 * np.std(v):.1f}")
            if set(cells) != {"—"}:
                lines.append(f"| {TITLES[method]} | {k} | " + " | ".join(cells) + " |")
    return lines + [""]


def _costs(records, methods, sel):
    lines = ["| method | k | median time (s) | max time (s) | median peak traced MB |",
             "|---|---|---|---|---|"]
    for method in methods:
        for k in (["auto"] if method.endswith("_auto") else [3, 10, 20]):
            rs = [r for r in records if r["method"] == method and str(r["k"]) == str(k)
                  and r["selection"] == sel]
            if rs:
                t = [r["time_s"] for r in rs]
                lines.append(f"| {TITLES[method]} | {k} | {np.median(t):.2f} | {max(t):.2f} | "
                             f"{np.median([r['peak_mb'] for r in rs]):.0f} |")
    return lines


def _scale_lines(scale):
    if not scale:
        return ["Not in this report: no finished scale run in the cache (`--scale` runs it; "
                "cut for time on the loaded machine of this run)."]
    lines = [f"Synthetic blobs: {scale['n']:,} rows x {scale['d']} features, "
             f"{scale['n_classes']} classes, {scale['lpc']} labels per class, k={scale['k']}. "
             f"Exact kNN graph by scikit-learn's KD-tree: {scale['graph_s']:.0f} s. Each "
             "propagation runs in a fresh process on the saved graph; peak RSS is that "
             "process's maximum resident memory minus its resident memory after loading "
             "the graph (so it is what the propagation adds), and `graph` the CSR graph's "
             "own size.", "",
             "| method | time (s) | peak RSS above the loaded graph (MB) | graph (MB) | "
             "accuracy on unlabeled | n_fallback |", "|---|---|---|---|---|---|"]
    for name, r in scale["runs"].items():
        lines.append(f"| {TITLES.get(name, name)} | {r['time_s']:.1f} | {r['rss_mb']:.0f} | "
                     f"{scale['graph_mb']:.0f} | {100 * r['acc']:.1f} | "
                     f"{r.get('n_fallback', '—')} |")
    lines += ["", f"O(n k) check: the graph's arrays (float64 distances + int64 indices) "
              f"take {scale['n'] * scale['k'] * 16 / 2**20:.0f} MB; the label "
              "distributions (n x classes, float64) "
              f"{scale['n'] * scale['n_classes'] * 8 / 2**20:.0f} MB."]
    return lines


def write_report(records, meta, out, scale=None):
    """Write the Markdown report (and a JSON summary beside it); returns its path."""
    datasets, lpcs, ks = meta["datasets"], meta["lpcs"], meta["ks"]
    tab = _table(records)
    sel = meta["selector"]
    methods = ("rounds", "hdl", "knn_dv", "label_spreading", "label_propagation",
               "rounds_auto", "hdl_auto")
    lines = [
        "# Label propagation benchmark",
        "",
        "Generated by `python -m skusl.benchmarks propagation --data ../shared/data "
        "--out docs/benchmarks/propagation.md --scale` (module "
        "`skusl/benchmarks/_propagation.py`); do not edit by hand.",
        "",
        f"- skusl {meta['skusl']}, Python {meta['python']}, {meta['machine']} (shared with "
        "other jobs: times are noisy, compare them within a column).",
        f"- Sets: every file of `../shared/data`; those above {meta['max_rows']:,} rows are "
        f"cut to a random {meta['max_rows']:,}-row subset (seed 0) to keep the run in hours on "
        "two cores. One exact 20-NN graph per set (self excluded, the rows are unit norm); "
        "every method uses its first k neighbours.",
        f"- Labels: `random` = that many random samples of every class; `{sel}` = skusl's "
        f"`{sel}` selector (`--selector`) picking labels-per-class x classes samples on the "
        f"same graph. Seeds {', '.join(map(str, meta['seeds']))}; accuracy in % on the "
        "samples that were not labeled, mean over seeds (per-set tables: ± std).",
        "- rounds = `HDLLabeler()` (method `rounds`, k=10 by default); HDL = the paper's "
        "Algorithm 1 (`method=\"hdl\"`); kNN-DV = vote of the k nearest labeled samples "
        "(k clipped to the number of labels); LabelSpreading / LabelPropagation = "
        "scikit-learn's, default `alpha`/`max_iter`, with the same graph as their knn kernel "
        "(scikit-learn's `n_neighbors` counts the sample itself, so a k-neighbour graph is "
        "its `n_neighbors=k+1`; the transduction equals `kernel='knn'`'s, "
        "`tests/benchmarks/test_propagation_bench.py`). k=auto = `HDLLabeler(n_neighbors='auto')` "
        "(AutoK's held-out criterion).",
        "- LabelPropagation runs on the random labels only (1000 iterations per fit: cut "
        "for time). Rounds also runs at every k in 3..20 for the flatness check.",
        "",
    ]
    for ds in datasets:
        g = meta["graphs"].get(ds) or {}
        if g:
            lines.append(f"- {ds}: {g['n_samples']:,} x {g['n_features']} rows used; graph "
                         f"built in {g['seconds']:.0f} s.")
    all_holds = []
    for s in ("random", sel):
        check, holds = done_means(tab, s, lpcs, datasets)
        if s == "random":
            all_holds = holds
        lines += ["", f"## Done-means check, {s} labels", "",
                  "Mean over the sets of the accuracy on the unlabeled samples "
                  "(`all`: mean over 1, 4 and 25 labels per class).", ""] + check
    verdict = ("every check holds" if all(h is True for h in all_holds) else
               "incomplete (some cells not run)" if any(h is None for h in all_holds) else
               "**some checks fail** (marked **no**)")
    lines[lines.index("## Done-means check, random labels") + 1:
          lines.index("## Done-means check, random labels") + 1] = \
        ["", f"Verdict on the random labels: {verdict}."]
    lines += ["", "## Cells run", "",
              "Cells in the cache against the plan (the run was cut at the session's "
              "time limit where they differ; missing cells show as `—`, and means over "
              "fewer sets say how many).", ""] + _coverage(records, meta, datasets)
    for s in ("random", sel):
        lines += ["", f"## Mean over the sets, {s} labels", ""]
        lines += _summary(tab, s, methods, ks, lpcs, datasets)
    lines += ["", "## Rounds at every k (mean over the sets, random labels)", "",
              "| k | " + " | ".join(f"{lpc} / class" for lpc in lpcs) + " |",
              "|---|" + "---|" * len(lpcs)]
    for k in SWEEP_KS:
        lines.append(f"| {k} | " + " | ".join(
            _pct(_over_sets(tab, "random", "rounds", k, lpc, datasets)) for lpc in lpcs) + " |")
    for s in ("random", sel):
        lines += ["", f"## Per set, {s} labels", ""]
        for ds in datasets:
            lines += _per_set(tab, s, ds, methods, ks, lpcs)
    lines += ["## Time and peak memory (20k-row graphs, random labels)", "",
              "The propagation step only, graph given (each method reads it from the same CSR "
              "matrix); peak memory is what `tracemalloc` traces (NumPy buffers; Numba's "
              "kernel buffers, O(n k), are not traced: the scale run below measures RSS). "
              "k=auto includes AutoK's 5 x 20 held-out propagations.", ""]
    lines += _costs(records, methods, "random")
    lines += ["", "## Scale: a 1M-row graph", ""] + _scale_lines(scale)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text("\n".join(lines) + "\n")
    summary = {"meta": meta, "scale": scale, "mean_over_sets": {
        f"{s}|{m}|{k}|{lpc}": _over_sets(tab, s, m, k, lpc, datasets)
        for s in ("random", sel) for m in methods
        for k in (["auto"] if m.endswith("_auto") else sorted(set(ks) | set(SWEEP_KS)))
        for lpc in lpcs}}
    Path(out).with_suffix(".json").write_text(json.dumps(summary, indent=1))
    return str(out)
