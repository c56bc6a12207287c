"""Cost model and memory planner: which kNN search, how long, how much memory.

``neighbors="auto"`` asks :func:`plan_neighbors` for the fastest search for
this (n, d, k) on this machine; ``fit`` and the CLI ask :func:`plan_fit` for
the peak memory and time of the chosen path and stop before the heavy work
when it cannot fit (:func:`check_memory`).

The rates are measured, not guessed:

- the GEMM rate (multiply-adds per second) is timed once per process on a
  small float32 product on the current threads (about 20 ms);
- the exact search's tiled top-k scan costs :data:`SCAN_S_PER_ENTRY` per
  (row, column) entry and core;
- pynndescent (``"approximate"``): :data:`NND_S_AT_1M_128` seconds at 1M x
  128 once compiled, linear in n, plus its compile cost
  :data:`NND_COMPILE_S` in every new process;
- ``"ivf"`` (:mod:`skusl.neighbors._cells`): its GEMMs, at
  :data:`IVF_GEMM_EFFICIENCY` of the measured rate (one thread per cell,
  ~1000-column products), and the top-k scan of its short rows,
  :data:`IVF_SCAN_S_PER_ENTRY` per entry and core, counted from its cells
  and probes. The planner assumes :data:`skusl.neighbors._cells.N_PROBE`
  probes; once the recall check knows how many the data need, ``"auto"``
  costs the rest of the search again (:func:`ivf_remaining_seconds`) and
  takes pynndescent when that is faster.

The constants were fitted to ``python -m skusl.benchmarks neighbors-auto``
(docs/benchmarks/neighbors_auto.md: fresh processes, 20k-1M rows, d = 128
and 384, on this project's 2-core machine, idle, ``gemm_rate()`` 1.0e11).
The figures are estimates to choose a path and to refuse an impossible one,
not promises; ``python -m skusl.benchmarks scale`` measures the real times.
"""

import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np

#: Seconds per (row, column) entry of the exact search's top-k scan, one core.
SCAN_S_PER_ENTRY = 5e-9
#: pynndescent, compiled, at 1M x 128, k = 20 (2 cores; 64 s measured in a
#: fresh process, its compile included).
NND_S_AT_1M_128 = 40.0
#: Growth of pynndescent's time with n (fresh-process figures at 200k and 1M).
NND_EXPONENT = 1.0
#: pynndescent's per-process compile cost (28 s for the whole call at 20k x 384).
NND_COMPILE_S = 25.0
#: GEMM rate (multiply-adds/s, 2 threads) of the machine the pynndescent
#: figures were measured on; they are scaled by ``REFERENCE_RATE / rate`` so
#: that a loaded or faster machine slows or speeds every path alike.
REFERENCE_RATE = 1e11
#: The ivf cells' GEMMs (4096 queries x ~1000 members, one thread each) run
#: at this fraction of :func:`gemm_rate`.
IVF_GEMM_EFFICIENCY = 0.4
#: Seconds per entry and core of the top-k scan on the ivf's ~1000-column
#: rows (the threshold has little time to settle on short rows: measured
#: 6-15 ns per entry on one core, against under 1 ns on long rows).
IVF_SCAN_S_PER_ENTRY = 8e-9
#: Seconds per candidate of the ivf's final merge (argpartition, NumPy).
IVF_MERGE_S_PER_CANDIDATE = 4e-8

#: The ivf search is a candidate from this many cells (n >= 32 x CELL_SIZE).
IVF_MIN_CELLS = 32

_GEMM_RATE = None


def gemm_rate():
    """Multiply-adds per second of a float32 GEMM on this process's threads (cached)."""
    global _GEMM_RATE
    if _GEMM_RATE is None:
        rng = np.random.default_rng(0)
        A = rng.standard_normal((1024, 256), dtype=np.float32)
        B = rng.standard_normal((2048, 256), dtype=np.float32)
        A @ B.T  # warm up the BLAS threads
        best = np.inf
        for _ in range(3):
            t = time.perf_counter()
            A @ B.T
            best = min(best, time.perf_counter() - t)
        _GEMM_RATE = 1024 * 2048 * 256 / max(best, 1e-6)
    return _GEMM_RATE


def _n_cores():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _nnd_compiled():
    # pynndescent compiles on first use in a process; once imported and used
    # here (our flag), the compile cost is paid.
    return "pynndescent" in sys.modules and getattr(sys.modules["pynndescent"],
                                                    "_skusl_used", False)


@dataclass
class NeighborsPlan:
    """What :func:`plan_neighbors` decided, and why.

    Attributes
    ----------
    method : str
        ``"exact"``, ``"ivf"`` or ``"approximate"``.
    seconds : dict
        Estimated seconds of every candidate search.
    memory_bytes : dict
        Estimated peak extra memory (beyond X) of every candidate search.
    """

    method: str
    seconds: dict = field(default_factory=dict)
    memory_bytes: dict = field(default_factory=dict)

    def describe(self):
        if not self.seconds:
            return "no kNN graph"
        parts = [f"{m} ~{s:.0f} s, {self.memory_bytes[m] / 2**30:.2f} GiB"
                 for m, s in sorted(self.seconds.items(), key=lambda kv: kv[1])]
        return f"kNN graph: {self.method} (estimates: " + "; ".join(parts) + ")"


def neighbors_seconds(n, d, k, *, rate=None, cores=None):
    """Estimated seconds of each search at (n, d, k).

    Parameters
    ----------
    n, d, k : int
    rate : float or None
        GEMM multiply-adds per second (default: measured, :func:`gemm_rate`).
    cores : int or None
        Cores for the scan (default: this process's).

    Returns
    -------
    seconds : dict
        ``{"exact": ..., "ivf": ..., "approximate": ...}``.
    """
    from . import _cells

    rate = gemm_rate() if rate is None else float(rate)
    cores = _n_cores() if cores is None else int(cores)
    n, d, k = float(n), float(d), float(k)
    exact = n * n * (d / rate + SCAN_S_PER_ENTRY / cores)
    n_cells = max(1.0, n // _cells.CELL_SIZE)
    # the sampled K-Means (~30 passes over 40 rows per cell) and the recall
    # check (256 rows against all), then the probes and the search
    setup = (30 * _cells.SAMPLE_PER_CELL * n_cells * n_cells * d / rate
             + _cells.RECALL_SAMPLE * n * (d / rate + SCAN_S_PER_ENTRY / cores))
    ivf = setup + ivf_remaining_seconds(n, d, _cells.N_PROBE, k, rate=rate, cores=cores)
    nnd = NND_S_AT_1M_128 * (n / 1e6) ** NND_EXPONENT * (0.1 + 0.9 * d / 128) * (k / 20) ** 0.5
    if not _nnd_compiled():
        nnd += NND_COMPILE_S
    nnd *= REFERENCE_RATE / rate
    return {"exact": exact, "ivf": ivf, "approximate": nnd}


def ivf_remaining_seconds(n, d, n_probe, k=20, *, rate=None, cores=None):
    """Estimated seconds of the ivf search once its cells and probe count are known.

    Every row's nearest cells (n x n_cells), the search of ``n_probe`` cells
    of about :data:`skusl.neighbors._cells.CELL_SIZE` rows each, the merge of
    the candidates, and a fixed cost per cell.
    """
    from . import _cells

    rate = gemm_rate() if rate is None else float(rate)
    cores = _n_cores() if cores is None else int(cores)
    n, d = float(n), float(d)
    n_cells = max(1.0, n // _cells.CELL_SIZE)
    entries = n * n_cells + n * n_probe * min(n, _cells.CELL_SIZE)
    per_entry = d / (rate * IVF_GEMM_EFFICIENCY) + IVF_SCAN_S_PER_ENTRY / cores
    return (entries * per_entry + n * n_probe * k * IVF_MERGE_S_PER_CANDIDATE
            + 2e-4 * n_cells)


def neighbors_memory(n, d, k, itemsize=4):
    """Estimated peak extra bytes (beyond X itself) of each search."""
    from . import _cells, _exact

    graph = n * k * (itemsize + 8) * 2  # the (n, k) arrays and the CSR copy
    tiles = _exact.TILE_ROWS * _exact.TILE_COLS * itemsize * 2
    exact = graph + tiles
    ivf_probe = _cells.N_PROBE * 2  # the recall check may double the probes once
    ivf = graph + n * ivf_probe * k * (itemsize + 4) + n * ivf_probe * 8 + tiles
    nnd = graph + n * k * 40 + n * d * itemsize  # pynndescent's heaps and its copy of X
    return {"exact": exact, "ivf": ivf, "approximate": nnd}


def plan_neighbors(n, d, k, *, rate=None, cores=None, available=None):
    """Choose the kNN search for ``neighbors="auto"``: the fastest one that fits.

    Parameters
    ----------
    n : int
        Samples.
    d : int
        Features.
    k : int
        Neighbours per sample.
    rate : float or None
        GEMM multiply-adds per second (default: measured once per process).
    cores : int or None
        Cores (default: this process's).
    available : int or None
        Bytes of memory available (default: the machine's, see
        :func:`available_memory`); searches that do not fit are skipped.

    Returns
    -------
    plan : NeighborsPlan

    Notes
    -----
    Tiny inputs (fewer than 2 cells of the ``"ivf"`` search, or ``k`` not
    smaller than a cell) always take the exact search. ``"ivf"`` checks its
    own recall on a sample and raises its probes (or ``"auto"`` falls back to
    pynndescent) when the data need it, so its estimate is a lower bound.

    Examples
    --------
    >>> from skusl.neighbors._plan import plan_neighbors
    >>> plan_neighbors(5_000, 128, 20, rate=5e10, cores=2).method
    'exact'
    >>> plan_neighbors(1_000_000, 128, 20, rate=5e10, cores=2).method
    'ivf'
    """
    from . import _cells

    seconds = neighbors_seconds(n, d, k, rate=rate, cores=cores)
    memory = neighbors_memory(n, d, k)
    if n < 2 * _cells.CELL_SIZE or k >= _cells.CELL_SIZE // 2:
        return NeighborsPlan("exact", {"exact": seconds["exact"]},
                             {"exact": memory["exact"]})
    available = available_memory() if available is None else available
    candidates = list(seconds)
    if n // _cells.CELL_SIZE < IVF_MIN_CELLS:
        # Few cells: the recall check raises the probes towards all cells,
        # i.e. an exact search with extra steps (measured on rt13k: 22 s
        # against the estimate's 3 s).
        candidates.remove("ivf")
    fits = [m for m in candidates if memory[m] <= available] or ["exact"]
    method = min(fits, key=seconds.get)
    return NeighborsPlan(method, seconds, memory)


def available_memory():
    """Bytes of memory available to this process (MemAvailable, cgroup limit)."""
    avail = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as fh:
                raw = fh.read().strip()
        except OSError:
            continue
        if raw.isdigit() and int(raw) < (1 << 60):
            avail = int(raw) if avail is None else min(avail, int(raw))
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = 1 << 62
    return avail


@dataclass
class FitPlan:
    """Peak memory and time of a selector's fit (estimates)."""

    neighbors: NeighborsPlan
    memory_bytes: int
    seconds: float
    input_bytes: int
    details: dict = field(default_factory=dict)

    def describe(self):
        extra = ", ".join(f"{key} ~{val:.0f} s" for key, val in self.details.items())
        return (f"plan: peak memory ~{self.memory_bytes / 2**30:.2f} GiB (input "
                f"{self.input_bytes / 2**30:.2f} GiB), time ~{self.seconds:.0f} s; "
                f"{self.neighbors.describe()}" + (f"; {extra}" if extra else ""))


def plan_fit(n, d, k, *, n_clusters=0, reg_iter=0, itemsize=4, copies=1, method="auto",
             rate=None, cores=None, available=None):
    """Estimate a fit's peak memory and time before the heavy work.

    Parameters
    ----------
    n, d, k : int
        Samples, features, neighbours (``k=0``: the fit builds no kNN graph,
        e.g. k-means closest).
    n_clusters : int
        K-Means clusters (0: no K-Means).
    reg_iter : int
        USL regulariser rounds (each an (n, m) GEMM pass).
    itemsize : int
        Bytes per value of X.
    copies : int
        Full copies of X the estimator makes (1 for the normalised copy; 0
        when X is used as given, e.g. a memory map with ``normalize=False``).
    method : str
        ``"auto"`` (plan it), ``"exact"``, ``"ivf"`` or ``"approximate"``.

    Returns
    -------
    plan : FitPlan
    """
    rate = gemm_rate() if rate is None else float(rate)
    if k == 0:
        nplan = NeighborsPlan("none", {}, {})
    elif method == "auto":
        nplan = plan_neighbors(n, d, k, rate=rate, cores=cores, available=available)
    else:
        seconds = neighbors_seconds(n, d, k, rate=rate, cores=cores)
        memory = neighbors_memory(n, d, k, itemsize)
        nplan = NeighborsPlan(method, seconds, memory)
    input_bytes = n * d * itemsize
    details = {"kNN": nplan.seconds[nplan.method]} if k else {}
    if n_clusters:
        from ._kmeans import SAMPLE_SIZE

        sample = min(n, SAMPLE_SIZE)
        # mini-batch passes over the sample (early stop: ~10), then one assignment
        details["K-Means"] = (10 * sample * n_clusters * d + n * n_clusters * d) / rate
    if reg_iter and n_clusters:
        details["regulariser"] = max(0, reg_iter - 1) * n * n_clusters * d / rate
    work = n * 8 * 8 if n_clusters else 0  # labels, utilities, scores (float64 / int64)
    memory = (input_bytes * (1 + copies) + nplan.memory_bytes.get(nplan.method, 0) + work
              + min(n, 8192) * max(n_clusters, 1) * itemsize * 2)
    return FitPlan(nplan, int(memory), float(sum(details.values())), int(input_bytes),
                   details)


def check_memory(plan, available=None, *, flags=None):
    """Raise a ``MemoryError``-like ``ValueError`` naming what fits, if the plan does not.

    Parameters
    ----------
    plan : FitPlan
    available : int or None
        Bytes available (default: :func:`available_memory`).
    flags : dict or None
        How the message names the options (the CLI passes its flags).
    """
    available = available_memory() if available is None else available
    if plan.memory_bytes <= available:
        return
    flags = {"neighbors": "neighbors='ivf'", "k": "a smaller n_neighbors",
             "dask": "a dask.array on a cluster (skusl.distributed, pip install "
                     "'skusl[dask]')", **(flags or {})}
    nplan = plan.neighbors
    others = [m for m in nplan.memory_bytes
              if m != nplan.method and nplan.memory_bytes[m] < nplan.memory_bytes[nplan.method]]
    graph = [flags["k"]] if nplan.memory_bytes else []
    options = []
    if others:
        best = min(others, key=nplan.memory_bytes.get)
        options.append(flags["neighbors"].replace("ivf", best))
    options += graph + [flags["dask"]]
    raise ValueError(
        f"this fit needs about {plan.memory_bytes / 2**30:.1f} GiB but "
        f"{available / 2**30:.1f} GiB are available ({plan.describe()}); use "
        + ", or ".join(options) + "."
    )
