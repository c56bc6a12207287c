"""Helpers shared by the benchmark commands: the shared data, synthetic sets, timing."""

import json
import os
import resource
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("SKUSL_SHARED_DATA", REPO.parent / "shared" / "data"))


def load_shared(name, n=None, seed=0):
    """A shared ``.npz`` set (X float32, y), optionally a random slice of ``n`` rows."""
    with np.load(SHARED_DATA / f"{name}.npz", allow_pickle=False) as f:
        X, y = f["X"], f["y"]
    if n is not None and n < X.shape[0]:
        idx = np.sort(np.random.RandomState(seed).choice(X.shape[0], n, replace=False))
        X, y = X[idx], y[idx]
    return np.ascontiguousarray(X, dtype=np.float32), y


def synthetic(n, d, n_centers=50, seed=0):
    """Unit-norm Gaussian mixture: a stand-in for embeddings of size n x d."""
    rng = np.random.RandomState(seed)
    centers = rng.standard_normal((n_centers, d))
    X = centers[rng.randint(n_centers, size=n)] + 0.7 * rng.standard_normal((n, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X.astype(np.float32)


def timed(fn, *args, repeat=1, **kwargs):
    """Best wall time of ``repeat`` calls, and the last result."""
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn(*args, **kwargs)
        best = min(best, time.perf_counter() - t)
    return best, out


def peak_rss_mb():
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read_jsonl(path, version):
    """Records of an append-only JSON-lines cache written with ``version``.

    Blank lines and a line cut by an interruption (not valid JSON) are
    skipped, as are records of another cache version.
    """
    path = Path(path)
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if rec.get("version") == version:
            records.append(rec)
    return records


def append_jsonl(path, rec):
    """Append one record and flush it to disk (the cache survives a kill)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fh.write(json.dumps(rec) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def add_size_arguments(parser, n, d=128, k=20):
    """The benchmark commands' common options: ``--out`` (Markdown) and the sizes."""
    parser.add_argument("--out", required=True, help="Markdown file to write")
    parser.add_argument("--n", type=int, default=n)
    parser.add_argument("--d", type=int, default=d)
    parser.add_argument("--k", type=int, default=k)


def write_report(out, report):
    """Write the Markdown ``report`` to ``out`` (folders made) and print it; returns 0."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(report)
    return 0
