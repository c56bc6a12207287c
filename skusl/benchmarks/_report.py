"""Turn benchmark cells into a Markdown report, a JSON summary and PNG plots."""

import json
from pathlib import Path

import numpy as np

from ..selection import RECOMMENDED
from ._quality import METRIC_TITLES, METRICS, SELECTORS

#: Columns of the per-dataset tables.
TABLE_METRICS = ("coverage", "balance", "nn_acc", "probe_acc", "probe_bacc", "prop_acc",
                 "time_s", "peak_mb")
#: One colour per selector, the same in every plot: the registry's.
COLORS = {name: spec.color for name, spec in SELECTORS.items()}
#: Budgets (labels per class) of the Done-means check.
CHECK_BUDGETS = (1, 2)
#: Accuracies plotted against the budget.
PLOT_METRICS = ("nn_acc", "probe_acc", "prop_acc")


def aggregate(records):
    """{(dataset, selector, budget): {metric: (mean, std, n)}} over seeds."""
    groups = {}
    for rec in records:
        groups.setdefault((rec["dataset"], rec["selector"], rec["budget"]), []).append(rec)
    out = {}
    for key, recs in groups.items():
        out[key] = {m: (float(np.mean([r[m] for r in recs])),
                        float(np.std([r[m] for r in recs])), len(recs)) for m in METRICS}
        out[key]["warnings"] = sorted({w for r in recs for w in r.get("warnings", [])})
    return out


def _fmt(mean, std, metric):
    if metric in ("time_s",):
        return f"{mean:.2f} ± {std:.2f}"
    if metric == "peak_mb":
        return f"{mean:.0f}"
    return f"{100 * mean:.1f} ± {100 * std:.1f}"


def _label(name):
    return SELECTORS[name].label


def _mean_over_sets(agg, datasets, selector, budget, metric="probe_acc"):
    vals = [agg[(ds, selector, budget)][metric][0] for ds in datasets
            if (ds, selector, budget) in agg]
    return float(np.mean(vals)) if len(vals) == len(datasets) else None


def done_checks(agg, meta, recommended=RECOMMENDED):
    """The issue's Done-means checks, computed from the cells.

    Returns a list of (claim, holds, evidence) for the recommended selector
    (random + 10 probe points on the mean, never below random on a set,
    above every peer on the mean; at 1 and 2 labels per class) and for
    ProbCover's coverage at 1 label per class (at least random's on every
    set), with its linear probe against random's beside it.
    """
    datasets = meta["datasets"]
    peers = [s for s in meta["selectors"] if SELECTORS[s].kind == "peer"]
    out = []
    for b in CHECK_BUDGETS:
        rec = _mean_over_sets(agg, datasets, recommended, b)
        rnd = _mean_over_sets(agg, datasets, "random", b)
        if rec is None or rnd is None:
            out.append((f"{b}/class: {recommended} >= random + 10 points (mean)", None,
                        "cells missing"))
            continue
        out.append((f"{b}/class: {_label(recommended)} >= random + 10 probe points on the "
                    "mean", rec >= rnd + 0.10,
                    f"{100 * rec:.1f} vs random {100 * rnd:.1f} (+{100 * (rec - rnd):.1f})"))
        worst = min(((agg[(ds, recommended, b)]["probe_acc"][0]
                      - agg[(ds, "random", b)]["probe_acc"][0], ds) for ds in datasets))
        out.append((f"{b}/class: {_label(recommended)} never below random on a set",
                    worst[0] >= 0, f"smallest margin {100 * worst[0]:+.1f} ({worst[1]})"))
        for peer in peers:
            pm = _mean_over_sets(agg, datasets, peer, b)
            if pm is None:
                out.append((f"{b}/class: beats {_label(peer)} on the mean", None,
                            "cells missing"))
                continue
            out.append((f"{b}/class: {_label(recommended)} beats {_label(peer)} on the mean",
                        rec > pm, f"{100 * rec:.1f} vs {100 * pm:.1f}"))
    if "probcover" in meta["selectors"]:
        margins = [(agg[(ds, "probcover", 1)]["coverage"][0]
                    - agg[(ds, "random", 1)]["coverage"][0], ds) for ds in datasets
                   if (ds, "probcover", 1) in agg and (ds, "random", 1) in agg]
        if margins:
            worst = min(margins)
            out.append(("1/class: ProbCover's coverage >= random's on every set",
                        worst[0] >= 0 and len(margins) == len(datasets),
                        f"smallest margin {100 * worst[0]:+.1f} points ({worst[1]})"))
        probe = [(agg[(ds, "probcover", 1)]["probe_acc"][0]
                  - agg[(ds, "random", 1)]["probe_acc"][0], ds) for ds in datasets
                 if (ds, "probcover", 1) in agg and (ds, "random", 1) in agg]
        if probe:  # reported beside coverage, so that neither is traded silently
            worst = min(probe)
            out.append(("1/class: ProbCover's linear probe >= random's on every set",
                        worst[0] >= 0 and len(probe) == len(datasets),
                        f"smallest margin {100 * worst[0]:+.1f} points ({worst[1]})"))
    return out


def which_selector(agg, meta):
    """Mean linear-probe accuracy over the sets, per fair selector and budget (best first)."""
    rows = []
    for b in meta["budgets"]:
        means = [(m, s) for s in meta["selectors"] if SELECTORS[s].fair
                 for m in [_mean_over_sets(agg, meta["datasets"], s, b)] if m is not None]
        rows.append((b, sorted(means, reverse=True)))
    return rows


def write_markdown(agg, meta, out_dir):
    datasets, budgets = meta["datasets"], meta["budgets"]
    selectors = meta["selectors"]
    lines = [
        "# Selection quality benchmark",
        "",
        "Generated by `python -m skusl.benchmarks quality` (DESIGN.md section 5); do not "
        "edit by hand. Mean ± std over seeds "
        f"{', '.join(map(str, meta['seeds']))}; accuracies and coverage/balance in %, "
        "scored on all samples (selected ones included).",
        "",
        f"- skusl {meta['skusl']}, Python {meta['python']}, {meta['machine']}.",
        f"- Propagation accuracy: {meta['propagation']}, k={meta.get('hdl_neighbors', 10)} "
        "on the shared graph.",
        f"- Linear probe: scikit-learn `LogisticRegression(C={meta.get('probe_C', 100):g})` "
        "on the selected samples, scored on all rows, as accuracy and balanced accuracy "
        "(weak regularisation: with the default C=1 the intercept, i.e. the selection's "
        "class counts, decides; see `skusl.metrics.linear_probe_accuracy`). Issue 11 "
        "measured with C=10; the ranking of the selectors is what is compared here.",
        (f"- Rows: sets larger than {meta['max_samples']} rows are subsampled once (seed 0, "
         "the same rows for every selector and seed), because scikit-activeml's "
         "selectors build dense n x n matrices." if meta.get("max_samples") else
         "- Rows: every row of every set."),
        "- Peers: scikit-activeml 1.0.1's TypiClust, ProbCover and MaxHerding with their "
        "defaults, an empty labeled pool and the budget as one batch (ProbCover's "
        "`n_classes` = the number of classes); see `skusl/benchmarks/_peers.py`.",
        "- Time and peak memory: the selection step only (`fit`, given the shared kNN "
        "graph); peak memory is what `tracemalloc` traces (NumPy buffers included).",
        "- `stratified` is an oracle that draws the budget per class using the labels: "
        "a reference, **not a fair competitor**.",
    ]
    if meta.get("not_run"):
        lines.append(f"- Not run: {', '.join(_label(s) for s in meta['not_run'])} "
                     "(PyTorch or `skusl.deep` not importable).")
    lines.append("- `—`: cell not run (e.g. cut for time; see the seeds count per dataset).")
    n_seeds = len(meta["seeds"])
    seeds_run = {ds: sorted({cell["probe_acc"][2] for (d, _, _), cell in agg.items() if d == ds})
                 for ds in datasets}
    lines += ["", "## Linear-probe accuracy at a glance", ""]
    header = "| dataset | budget | " + " | ".join(_label(s) for s in selectors) + " |"
    lines += [header, "|" + "---|" * (len(selectors) + 2)]
    for ds in datasets:
        for b in budgets:
            counts = seeds_run[ds]
            tag = "" if counts == [n_seeds] or not counts else \
                f" ({'-'.join(map(str, sorted({counts[0], counts[-1]})))} seeds)"
            row = [ds + tag, f"{b}/class"]
            fair = [agg[(ds, s, b)]["probe_acc"][0] for s in selectors
                    if SELECTORS[s].fair and (ds, s, b) in agg]
            best = max(fair) if fair else None
            for s in selectors:
                cell = agg.get((ds, s, b))
                if cell is None:
                    row.append("—")
                    continue
                text = _fmt(*cell["probe_acc"][:2], "probe_acc")
                if SELECTORS[s].fair and best is not None and cell["probe_acc"][0] == best:
                    text = f"**{text}**"
                row.append(text)
            lines.append("| " + " | ".join(row) + " |")
    lines += ["", "Bold: best fair selector per row.", ""]
    checks = done_checks(agg, meta)
    if checks:
        lines += ["## Done-means checks (issue 11)", "",
                  f"Recommended selector: `{RECOMMENDED}` ({_label(RECOMMENDED)}). "
                  "Means are over all sets of this report.", "",
                  "| check | holds | evidence |", "|---|---|---|"]
        for claim, holds, evidence in checks:
            mark = "—" if holds is None else ("yes" if holds else "**no**")
            lines.append(f"| {claim} | {mark} | {evidence} |")
        lines.append("")
    lines += ["## Which selector (mean linear-probe accuracy over the sets)", "",
              "| budget | best fair selectors (mean %) |", "|---|---|"]
    for b, ranked in which_selector(agg, meta):
        top = ", ".join(f"{_label(s)} {100 * m:.1f}" for m, s in ranked[:5])
        lines.append(f"| {b}/class | {top} |")
    lines.append("")

    for ds in datasets:
        g = meta["graphs"].get(ds) or {}
        lines += [f"## {ds}", ""]
        if g:
            lines.append(f"n = {g['n_samples']} (rows used), d = {g['n_features']}, "
                         f"{g['n_classes']} classes; shared {g['neighbors']}-NN graph built "
                         f"once in {g['seconds']:.1f} s (not included in the times below).")
            lines.append("")
        counts = seeds_run[ds]
        if counts and counts != [n_seeds]:
            lines.append(f"Seeds per cell: {', '.join(map(str, counts))} of the {n_seeds} "
                         "requested (the run was cut for time); std over those.")
            lines.append("")
        lines.append(f"![accuracy vs budget]({ds}.png)")
        lines.append("")
        cols = " | ".join(METRIC_TITLES[m] for m in TABLE_METRICS)
        lines += [f"| budget | selector | {cols} |", "|" + "---|" * (len(TABLE_METRICS) + 2)]
        for b in budgets:
            for s in selectors:
                cell = agg.get((ds, s, b))
                if cell is None:
                    continue
                vals = " | ".join(_fmt(*cell[m][:2], m) for m in TABLE_METRICS)
                lines.append(f"| {b}/class | {_label(s)} | {vals} |")
        notes = sorted({(s, w) for b in budgets for s in selectors
                        for w in agg.get((ds, s, b), {}).get("warnings", [])})
        if notes:
            lines += ["", "Warnings raised during selection:", ""]
            lines += [f"- {_label(s)}: {w}" for s, w in notes]
        lines.append("")
    path = Path(out_dir) / "README.md"
    path.write_text("\n".join(lines))
    return path


def write_plots(agg, meta, out_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for ds in meta["datasets"]:
        fig, axes = plt.subplots(1, len(PLOT_METRICS), figsize=(5 * len(PLOT_METRICS), 4),
                                 sharey=False)
        for ax, metric in zip(axes, PLOT_METRICS, strict=False):
            for s in meta["selectors"]:
                pts = [(b, agg[(ds, s, b)][metric]) for b in meta["budgets"]
                       if (ds, s, b) in agg]
                if not pts:
                    continue
                bs = [p[0] for p in pts]
                mean = np.array([p[1][0] for p in pts]) * 100
                std = np.array([p[1][1] for p in pts]) * 100
                style = {"color": COLORS.get(s)}
                if not SELECTORS[s].fair:
                    style["linestyle"] = "--"
                if s.startswith("usl"):
                    style["linewidth"] = 2.5
                ax.errorbar(bs, mean, yerr=std, marker="o", capsize=3,
                            label="stratified (oracle)" if s == "stratified" else _label(s),
                            **style)
            ax.set_xscale("log")
            ax.set_xticks(meta["budgets"])
            ax.set_xticklabels([str(b) for b in meta["budgets"]])
            ax.minorticks_off()
            ax.set_xlabel("labels per class")
            ax.set_ylabel(f"{METRIC_TITLES[metric]} (%)")
            ax.set_title(f"{ds}: {METRIC_TITLES[metric]}")
            ax.grid(alpha=0.3)
        if axes[-1].get_legend_handles_labels()[0]:
            axes[-1].legend(fontsize=7, loc="lower right")
        fig.tight_layout()
        path = Path(out_dir) / f"{ds}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths


def write_report(records, meta, out_dir):
    """Markdown table, ``results.json`` summary and one PNG per dataset."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    agg = aggregate(records)
    summary = {
        "meta": meta,
        "cells": [{"dataset": ds, "selector": s, "budget": b,
                   **{m: {"mean": v[0], "std": v[1], "n": v[2]}
                      for m, v in cell.items() if m != "warnings"},
                   "warnings": cell["warnings"]}
                  for (ds, s, b), cell in sorted(agg.items())],
    }
    (out_dir / "results.json").write_text(json.dumps(summary, indent=1))
    md = write_markdown(agg, meta, out_dir)
    pngs = write_plots(agg, meta, out_dir)
    return [md, out_dir / "results.json", *pngs]
