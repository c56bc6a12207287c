"""Labeled / unlabeled index splits for SSL codebases (JSON/NPZ, USB's files)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional, Tuple

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils import Bunch

from .._validation import check_indices
from ._common import PathLike, _npz_array, _open_npz, _read_json, atomic_write

def _split_arrays(labeled_indices, n_samples):
    if (not isinstance(n_samples, (int, np.integer)) or isinstance(n_samples, bool)
            or n_samples < 1):
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
    lb_idx = check_indices(labeled_indices, n_samples, name="labeled_indices", unique=True)
    mask = np.ones(n_samples, dtype=bool)
    mask[lb_idx] = False
    return lb_idx, np.flatnonzero(mask).astype(np.int64)


def save_ssl_split(path: PathLike, labeled_indices: ArrayLike, n_samples: int,
                   labels: Optional[ArrayLike] = None) -> Path:
    """Write a labeled / unlabeled index split, the form SSL codebases load.

    Semi-supervised training scripts (FixMatch and its descendants, USB's
    ``split_ssl_data``) take the labeled set as an index array ``lb_idx``
    into the training set and train on the others as unlabeled data
    (``ulb_idx``). This writes both:

    * ``.json``: ``{"format": "skusl-ssl-split", "version": 1,
      "n_samples": n, "lb_idx": [...], "ulb_idx": [...]}`` plus
      ``"lb_labels": [...]`` when ``labels`` is given.
    * ``.npz``: arrays ``lb_idx``, ``ulb_idx`` (int64), ``n_samples`` and,
      with ``labels``, ``lb_labels`` (readable with ``allow_pickle=False``).

    Labels keep their type: integers are stored as integers, anything else
    as text (a mix of both becomes text), and :func:`load_ssl_split` gives
    them back as stored.

    ``lb_idx`` keeps the given order (a selector's best first);
    ``ulb_idx`` is every other row, ascending, so the two are disjoint and
    cover ``range(n_samples)``. (USB then adds the labeled samples back to
    the unlabeled stream itself when ``include_lb_to_ulb``.) For USB's own
    file names use :func:`save_usb_split`.

    Parameters
    ----------
    path : str or Path
        ``.json`` or ``.npz``.
    labeled_indices : array-like of int, or boolean mask
        The samples that are (or will be) labeled, e.g. a selector's
        ``selected_indices_``.
    n_samples : int
        Size of the training set.
    labels : array-like of shape (n_labeled,), optional
        Their annotations, stored as ``lb_labels``.

    Returns
    -------
    path : Path
        The file written.

    See Also
    --------
    load_ssl_split : read it back.

    Examples
    --------
    >>> import json, os, tempfile
    >>> from skusl.io import save_ssl_split
    >>> path = os.path.join(tempfile.mkdtemp(), "split.json")
    >>> _ = save_ssl_split(path, [3, 0], n_samples=6, labels=[1, 0])
    >>> split = json.load(open(path))
    >>> split["lb_idx"], split["ulb_idx"], split["lb_labels"]
    ([3, 0], [1, 2, 4, 5], [1, 0])
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".npz"):
        raise ValueError(f"unsupported split format {suffix!r} ({path}); use .json or .npz.")
    lb_idx, ulb_idx = _split_arrays(labeled_indices, n_samples)
    lb_labels = None
    if labels is not None:
        lb_labels = np.asarray(labels).ravel()
        if lb_labels.shape[0] != lb_idx.shape[0]:
            raise ValueError(f"got {lb_idx.shape[0]} labeled indices but "
                             f"{lb_labels.shape[0]} labels.")
        if lb_labels.dtype == object:  # one type per file: all integers, or text
            values = lb_labels.tolist()
            ints = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                       for v in values)
            lb_labels = (np.asarray(values, dtype=np.int64) if ints
                         else np.asarray([str(v) for v in values], dtype=str))
    if suffix == ".json":
        record = {"format": "skusl-ssl-split", "version": 1, "n_samples": int(n_samples),
                  "lb_idx": lb_idx.tolist(), "ulb_idx": ulb_idx.tolist()}
        if lb_labels is not None:
            record["lb_labels"] = lb_labels.tolist()
        with atomic_write(path) as f:
            json.dump(record, f)
            f.write("\n")
    else:
        arrays = {"lb_idx": lb_idx, "ulb_idx": ulb_idx,
                  "n_samples": np.asarray(n_samples, dtype=np.int64)}
        if lb_labels is not None:
            arrays["lb_labels"] = lb_labels
        with atomic_write(path, "wb") as f:
            np.savez(f, **arrays)
    return path


def load_ssl_split(path: PathLike) -> Bunch:
    """Read a split written by :func:`save_ssl_split`.

    Parameters
    ----------
    path : str or Path
        ``.json`` or ``.npz``.

    Returns
    -------
    split : Bunch
        ``lb_idx`` and ``ulb_idx`` (int64 arrays), ``n_samples`` (int) and
        ``lb_labels`` (array, or None when the file has none).

    Examples
    --------
    >>> import os, tempfile
    >>> from skusl.io import load_ssl_split, save_ssl_split
    >>> path = os.path.join(tempfile.mkdtemp(), "split.npz")
    >>> _ = save_ssl_split(path, [2], n_samples=4)
    >>> split = load_ssl_split(path)
    >>> split.lb_idx, split.ulb_idx, split.lb_labels
    (array([2]), array([0, 1, 3]), None)
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such split file: {path}")
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not a split file.")
    suffix = path.suffix.lower()
    if suffix == ".json":
        record = _read_json(path)
        if not isinstance(record, dict) or "lb_idx" not in record:
            raise ValueError(f"{path} is not a split file (no 'lb_idx').")
        labels = record.get("lb_labels")
        lb_idx = check_indices(record["lb_idx"], name=f"{path}: lb_idx")
        ulb_idx = check_indices(record.get("ulb_idx", []), name=f"{path}: ulb_idx")
        n_samples = record.get("n_samples", lb_idx.size + ulb_idx.size)
    elif suffix == ".npz":
        with _open_npz(path) as archive:
            if "lb_idx" not in archive.files:
                raise ValueError(f"{path} is not a split file (no 'lb_idx').")
            lb_idx = check_indices(_npz_array(archive, path, "lb_idx"),
                                   name=f"{path}: lb_idx")
            ulb_idx = (check_indices(_npz_array(archive, path, "ulb_idx"),
                                     name=f"{path}: ulb_idx")
                       if "ulb_idx" in archive.files else np.zeros(0, dtype=np.int64))
            n_samples = (_npz_array(archive, path, "n_samples").item()
                         if "n_samples" in archive.files else lb_idx.size + ulb_idx.size)
            labels = (_npz_array(archive, path, "lb_labels")
                      if "lb_labels" in archive.files else None)
    else:
        raise ValueError(f"unsupported split format {suffix!r} ({path}); use .json or .npz.")
    if labels is not None:  # JSON and NPZ both keep the type: ints stay ints, text text
        labels = np.asarray(labels)
    return Bunch(lb_idx=lb_idx, ulb_idx=ulb_idx, n_samples=int(n_samples), lb_labels=labels)


def save_usb_split(folder: PathLike, labeled_indices: ArrayLike, n_samples: int, *,
                   num_labels: Optional[int] = None, seed: int = 0, lb_imb_ratio: int = 1,
                   ulb_imb_ratio: int = 1) -> Tuple[Path, Path]:
    """Write ``lb_idx`` / ``ulb_idx`` under the names USB loads them by.

    USB (the Unified Semi-supervised learning Benchmark,
    ``microsoft/Semi-supervised-learning``) draws its labeled split in
    ``semilearn.datasets.utils.sample_labeled_unlabeled_data`` and caches it
    as two ``.npy`` files in ``data/<dataset>/labeled_idx/``::

        lb_labels{num_labels}_{lb_imb_ratio}_seed{seed}_idx.npy
        ulb_labels{num_labels}_{ulb_imb_ratio}_seed{seed}_idx.npy

    When both exist it loads them instead of sampling at random. Writing
    your selection there (with the ``num_labels``, imbalance ratios and
    ``seed`` of the run's configuration; USB's defaults for the ratios are
    the integer 1) makes USB train on the samples you chose. USB takes the
    labels of the training set's targets; use :func:`save_ssl_split` or
    :func:`save_labels_csv` when the labels come from annotators.

    Parameters
    ----------
    folder : str or Path
        USB's ``data/<dataset>/labeled_idx`` folder (created if missing).
    labeled_indices : array-like of int, or boolean mask
        The selected training samples.
    n_samples : int
        Size of the training set.
    num_labels : int, optional
        USB's ``num_labels``; default: the number of labeled indices.
    seed : int, default=0
        USB's ``seed``.
    lb_imb_ratio, ulb_imb_ratio : int, default=1
        USB's ``lb_imb_ratio`` / ``ulb_imb_ratio``, formatted as USB does.

    Returns
    -------
    lb_path, ulb_path : Path
        The two files written.

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> from skusl.io import save_usb_split
    >>> folder = os.path.join(tempfile.mkdtemp(), "cifar10", "labeled_idx")
    >>> lb_path, ulb_path = save_usb_split(folder, [5, 1], n_samples=8)
    >>> lb_path.name, np.load(lb_path).tolist(), np.load(ulb_path).tolist()
    ('lb_labels2_1_seed0_idx.npy', [5, 1], [0, 2, 3, 4, 6, 7])
    """
    lb_idx, ulb_idx = _split_arrays(labeled_indices, n_samples)
    num_labels = lb_idx.size if num_labels is None else num_labels
    folder = Path(folder)
    lb_path = folder / f"lb_labels{num_labels}_{lb_imb_ratio}_seed{seed}_idx.npy"
    ulb_path = folder / f"ulb_labels{num_labels}_{ulb_imb_ratio}_seed{seed}_idx.npy"
    for target, values in ((lb_path, lb_idx), (ulb_path, ulb_idx)):
        with atomic_write(target, "wb") as f:
            np.save(f, values, allow_pickle=False)
    return lb_path, ulb_path
