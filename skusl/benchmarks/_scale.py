"""Millions of rows on one machine: ``python -m skusl.benchmarks scale --out FILE.md``.

Issue 13's figures, each measured here:

- **end to end** (``--e2e N:D ...``, default 1M x 512 and 1M x 128): a
  unit-norm Gaussian mixture (the CPU benchmarks' ``synthetic``, float32,
  written in chunks to a ``.npy``), then, each in a FRESH process through
  the CLI, ``python -m skusl select X.npy --budget B`` (USL, the recommended
  selector) and ``python -m skusl label X.npy --labels ...`` (the default
  propagation) with the selected samples' true labels; wall time and peak
  RSS (``wait4``) per command, the plan and the ivf recall the CLI logs, and
  the propagation accuracy; the shared real sets (``--real``) the same way;
- **exact kNN vs faiss** (``--knn N ...``): the exact graph against faiss's
  ``IndexFlatIP`` in one process (the same data, d = 128);
- **K-Means** (``--kmeans``): the sampled fit's inertia against full Lloyd on
  a subsample, and both times;
- **selectors** (``--selectors NAME ...``): each selector at 1M x 128 in a
  fresh process, wall time (limit 10 min).

The machine is shared: the load average is reported beside every figure.
"""

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ._common import synthetic, write_report


#: Data kinds of :func:`write_synthetic`.
SYNTHETIC_KINDS = ("subspaces", "blobs")


def write_synthetic(path, n, d, n_centers=50, seed=0, chunk=100_000, kind="blobs",
                    intrinsic_dim=16):
    """A unit-norm Gaussian mixture written in chunks to a ``.npy``; returns labels.

    ``kind="blobs"``: the Dask benchmark's ``synthetic`` mixture, every class
    an isotropic Gaussian in all ``d`` dimensions. Within a class the
    pairwise distances then concentrate (intrinsic dimension ``d``): every
    member is nearly as far as the nearest, which is the worst case for any
    approximate search and unlike real embeddings. ``kind="subspaces"``:
    every class spreads along its own random ``intrinsic_dim``-dimensional
    subspace (plus a small isotropic noise), the low intrinsic dimension of
    learned embeddings (tens of dimensions for image and text encoders), so
    the kNN graph has structure inside each class too.
    """
    if kind not in SYNTHETIC_KINDS:
        raise ValueError(f"kind must be one of {SYNTHETIC_KINDS}, got {kind!r}.")
    rng = np.random.RandomState(seed)
    centers = rng.standard_normal((n_centers, d))
    labels = rng.randint(n_centers, size=n)
    if kind == "subspaces":
        r = int(min(intrinsic_dim, d))
        # Orthonormal bases; the spread (4 per axis, norm ~16) matches the
        # blobs' radius (0.7 sqrt(512) ~ 16) so the classes are as separated.
        bases = np.linalg.qr(rng.standard_normal((n_centers, d, r)))[0]
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    for s in range(0, n, chunk):
        e = min(n, s + chunk)
        lab = labels[s:e]
        if kind == "blobs":
            X = centers[lab] + 0.7 * rng.standard_normal((e - s, d))
        else:
            z = 4.0 * rng.standard_normal((e - s, r))
            X = centers[lab] + 0.1 * rng.standard_normal((e - s, d))
            for c in np.unique(lab):  # one GEMM per class present in the chunk
                rows = lab == c
                X[rows] += z[rows] @ bases[c].T
        X /= np.linalg.norm(X, axis=1, keepdims=True)
        out[s:e] = X
    out.flush()
    del out
    return labels


def _run(cmd, timeout=None):
    """Run ``cmd`` in a fresh process: (wall s, peak RSS bytes, returncode, stderr)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return time.perf_counter() - start, None, "timeout", err
    wall = time.perf_counter() - start
    # communicate() reaped the child; its rusage is in RUSAGE_CHILDREN (max over
    # children so far), so each command is run after the previous finished and
    # the figure is reported as "peak so far" when it did not grow.
    import resource

    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return wall, rss, proc.returncode, err


def _load():
    return "%.1f / %.1f / %.1f" % os.getloadavg()


def end_to_end(X_path, labels, budget, workdir, neighbors="auto"):
    """select then label through the CLI, fresh processes; one result dict."""
    py = sys.executable
    sel = Path(workdir) / "selected.csv"
    lab = Path(workdir) / "labels.csv"
    out = Path(workdir) / "propagated.csv"
    row = {"load_before": _load()}
    wall, rss, rc, err = _run([py, "-m", "skusl", "select", str(X_path), "--budget",
                               str(budget), "--neighbors", neighbors, "--out", str(sel)])
    row.update(select_s=wall, select_rss=rss, select_rc=rc, select_log=_log_lines(err))
    if rc != 0:
        return row
    picked = np.loadtxt(sel, delimiter=",", dtype=np.int64, ndmin=1, comments="#",
                        skiprows=_header_rows(sel))
    with open(lab, "w") as fh:
        fh.write("index,label\n")
        for i in picked:
            fh.write(f"{int(i)},{int(labels[i])}\n")
    wall, rss2, rc, err = _run([py, "-m", "skusl", "label", str(X_path), "--labels", str(lab),
                                "--neighbors", neighbors, "--out", str(out)])
    row.update(label_s=wall, label_rss=rss2, label_rc=rc, label_log=_log_lines(err),
               load_after=_load())
    if rc == 0:
        pred = np.loadtxt(out, delimiter=",", skiprows=1, usecols=1, dtype=np.int64)
        row["accuracy"] = float(np.mean(pred == labels))
        row["classes_picked"] = int(np.unique(labels[picked]).size)
    return row


def _header_rows(path):
    with open(path) as fh:
        first = fh.readline()
    return 0 if first.strip().lstrip("-").isdigit() else 1


def _log_lines(err):
    keep = [ln.strip() for ln in re.split(r"[\r\n]", err or "")
            if ln.startswith("[skusl]") or ln.startswith("error") or "selected" in ln
            or "labeled" in ln]
    return keep[-6:]


def knn_vs_faiss(n, d=128, k=20):
    """Exact graph vs faiss IndexFlatIP, one process: seconds of each and their ratio."""
    import faiss

    from ..neighbors import kneighbors

    X = synthetic(n, d)
    kneighbors(X[:3000], k, neighbors="exact")  # load the compiled kernels
    t = time.perf_counter()
    _, ind = kneighbors(X, k, neighbors="exact")
    ours = time.perf_counter() - t
    index = faiss.IndexFlatIP(d)
    index.add(X)
    t = time.perf_counter()
    _, fi = index.search(X, k + 1)
    theirs = time.perf_counter() - t
    agree = np.mean([np.intersect1d(a, b).size / k for a, b in
                     zip(ind[:2000], fi[:2000, 1:], strict=True)])
    return {"n": n, "d": d, "skusl_s": ours, "faiss_s": theirs, "ratio": ours / theirs,
            "agreement": float(agree), "load": _load()}


def kmeans_quality(n=100_000, d=128, m=1000, seed=0):
    """Sampled fit (1:5 sample, as 200k of 1M) vs full Lloyd on the same n rows."""
    from sklearn.cluster import KMeans

    from ..neighbors._kmeans import fit_kmeans

    X = synthetic(n, d, seed=seed)
    t = time.perf_counter()
    labels, centers = fit_kmeans(X, m, seed, sample_size=n // 5)
    sampled_s = time.perf_counter() - t
    inertia = float(((X - centers[labels]) ** 2).sum())
    t = time.perf_counter()
    full = KMeans(m, n_init=1, max_iter=100, random_state=seed).fit(X)
    full_s = time.perf_counter() - t
    return {"n": n, "d": d, "m": m, "sampled_s": sampled_s, "sampled_inertia": inertia,
            "lloyd_s": full_s, "lloyd_inertia": float(full.inertia_),
            "ratio": inertia / float(full.inertia_), "load": _load()}


def selector_time(name, X_path, budget, timeout=600):
    """One selector on the .npy in a fresh process: wall seconds (or 'timeout')."""
    code = (
        "import numpy as np, skusl.selection as S\n"
        f"X = np.load({str(X_path)!r}, mmap_mode='r')\n"
        f"S.{name}(n_select={budget}, random_state=0).fit(X)\n"
    )
    wall, rss, rc, err = _run([sys.executable, "-c", code], timeout=timeout)
    return {"selector": name, "seconds": wall, "rc": rc, "rss": rss, "load": _load(),
            "error": (err or "").strip().splitlines()[-1:] if rc not in (0,) else []}


def register(subparsers):
    p = subparsers.add_parser("scale", help="millions of rows: end to end through the CLI, "
                              "exact kNN vs faiss, K-Means, every selector at 1M")
    p.add_argument("--out", required=True, help="Markdown file to write")
    p.add_argument("--e2e", nargs="*", default=["1000000:512", "1000000:128"],
                   help="N:D synthetic end-to-end runs (default 1M x 512 and 1M x 128)")
    p.add_argument("--budget", type=int, default=1000)
    p.add_argument("--real", nargs="*", default=[], help="shared .npz files to run end to end")
    p.add_argument("--knn", nargs="*", type=int, default=[50_000, 200_000],
                   help="sizes for exact vs faiss IndexFlatIP (d=128)")
    p.add_argument("--kmeans", default=None, metavar="N:D:M",
                   help="sampled K-Means vs full Lloyd on N x D with M clusters "
                   "(e.g. 100000:128:1000)")
    p.add_argument("--selectors", nargs="*", default=[],
                   help="selector classes of skusl.selection to time at 1M x 128")
    p.add_argument("--workdir", default=None, help="where the .npy files go (default: a "
                   "temporary folder)")
    p.set_defaults(handler=main)


def main(args):
    work = Path(args.workdir or tempfile.mkdtemp(prefix="skusl-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    sections = []
    e2e = []
    for spec in args.e2e:
        n, d = map(int, spec.split(":"))
        path = work / f"synthetic_{n}x{d}.npy"
        labels = write_synthetic(path, n, d)
        row = end_to_end(path, labels, args.budget, work)
        row.update(data=f"synthetic {n} x {d}")
        e2e.append(row)
        print(row, flush=True)
        if args.selectors and d == 128:
            for name in args.selectors:
                r = selector_time(name, path, args.budget)
                sections.append(("selector", r))
                print(r, flush=True)
        path.unlink()
    for npz in args.real:
        data = np.load(npz)
        X, y = data["X"].astype(np.float32), data["y"]
        path = work / (Path(npz).stem + ".npy")
        np.save(path, X)
        budget = int(min(args.budget, max(10, X.shape[0] // 50)))
        row = end_to_end(path, np.asarray(y), budget, work)
        row.update(data=Path(npz).stem)
        e2e.append(row)
        print(row, flush=True)
    knn = []
    for n in args.knn:
        knn.append(knn_vs_faiss(n))
        print(knn[-1], flush=True)
    km = None
    if args.kmeans:
        n, d, m = map(int, args.kmeans.split(":"))
        km = kmeans_quality(n, d, m)
        print(km, flush=True)
    report = _report(e2e, knn, km, [r for kind, r in sections if kind == "selector"])
    return write_report(args.out, report)


def _gb(b):
    return "-" if b is None else f"{b / 2**30:.2f}"


def _report(e2e, knn, km, selectors):
    lines = ["# Scale: millions of rows on one machine", "",
             "Regenerate: `python -m skusl.benchmarks scale --out docs/benchmarks/scale.md` "
             "(options: `--e2e N:D`, `--real FILE.npz`, `--knn N`, `--kmeans`, "
             "`--selectors NAME`). The machine is shared by other jobs: the load average "
             "(1/5/15 min, 2 cores) is given beside each figure.", "",
             "This report: `python -m skusl.benchmarks " + " ".join(sys.argv[1:]) + "`", ""]
    if e2e:
        lines += ["## End to end through the CLI (fresh processes)", "",
                  "| data | budget cmd | select s | select peak RSS GB | label s | "
                  "label peak RSS GB | total s | accuracy | load before / after |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in e2e:
            total = (r.get("select_s") or 0) + (r.get("label_s") or 0)
            lines.append(
                f"| {r['data']} | rc {r.get('select_rc')}/{r.get('label_rc', '-')} | "
                f"{r.get('select_s', 0):.0f} | {_gb(r.get('select_rss'))} | "
                f"{r.get('label_s', 0):.0f} | {_gb(r.get('label_rss'))} | {total:.0f} | "
                f"{r.get('accuracy', float('nan')):.3f} | {r['load_before']} / "
                f"{r.get('load_after', '-')} |")
        lines += ["", "Peak RSS is the largest child so far (`RUSAGE_CHILDREN`) and "
                  "counts the memory-mapped input's pages. What the CLI logged (plan, "
                  "ivf recall on its sample):", ""]
        for r in e2e:
            lines.append(f"- {r['data']}:")
            lines += [f"  - `{ln}`" for ln in r.get("select_log", []) + r.get("label_log", [])]
        lines.append("")
    if knn:
        lines += ["## Exact kNN vs faiss IndexFlatIP (same process, k = 20)", "",
                  "| n | d | skusl exact s | faiss s | ratio | neighbour agreement | load |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['n']} | {r['d']} | {r['skusl_s']:.1f} | {r['faiss_s']:.1f} | "
                  f"{r['ratio']:.2f} | {r['agreement']:.3f} | {r['load']} |" for r in knn]
        lines.append("")
    if km:
        lines += ["## K-Means: sampled fit vs full Lloyd", "",
                  f"{km['n']} x {km['d']}, m = {km['m']}: sampled (1:5) "
                  f"{km['sampled_s']:.1f} s, inertia {km['sampled_inertia']:.5g}; full Lloyd "
                  f"{km['lloyd_s']:.1f} s, inertia {km['lloyd_inertia']:.5g}; ratio "
                  f"{km['ratio']:.4f} (load {km['load']}).", ""]
    if selectors:
        lines += ["## Every selector at 1M x 128 (fresh process, limit 10 min)", "",
                  "| selector | seconds | rc | load |", "|---|---|---|---|"]
        lines += [f"| {r['selector']} | {r['seconds']:.0f} | {r['rc']} | {r['load']} |"
                  for r in selectors]
        lines.append("")
    return "\n".join(lines) + "\n"
