"""Selected indices out and back: ``.csv``, ``.txt``, ``.json``, ``.npy``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_indices
from ._common import (PathLike, _check_input_file, _load_npy, _parse_index, _read_json,
                      atomic_write)

INDEX_FORMATS = (".csv", ".json", ".npy", ".txt")


def save_indices(indices: ArrayLike, path: PathLike) -> Path:
    """Write selected indices, in order, in the format the extension names.

    ``.csv``: a header ``index`` and one index per line. ``.txt``: one index
    per line. ``.json``: a list. ``.npy``: an int64 array.

    Parameters
    ----------
    indices : array-like of int, or boolean mask
        Row numbers (whole numbers, non-negative; ``3.0`` is read as 3), or
        a boolean mask such as ``selector.get_support()``, whose ``True``
        positions are written. Fractions, negative values and NaN raise a
        ``ValueError``.
    path : str or Path

    Returns
    -------
    path : Path
        The file written.

    See Also
    --------
    load_indices : read them back.
    save_labels_csv : indices with their labels (and confidences).
    save_ssl_split : labeled / unlabeled index split for SSL codebases.

    Examples
    --------
    >>> import os, tempfile
    >>> from skusl.io import load_indices, save_indices
    >>> folder = tempfile.mkdtemp()
    >>> for name in ("picks.csv", "picks.json", "picks.npy", "picks.txt"):
    ...     path = save_indices([42, 7, 1000], os.path.join(folder, name))
    ...     print(name, load_indices(path).tolist())
    picks.csv [42, 7, 1000]
    picks.json [42, 7, 1000]
    picks.npy [42, 7, 1000]
    picks.txt [42, 7, 1000]
    >>> open(os.path.join(folder, "picks.csv")).read()
    'index\\n42\\n7\\n1000\\n'
    """
    path = Path(path)
    indices = check_indices(indices)
    suffix = path.suffix.lower()
    if suffix not in INDEX_FORMATS:
        raise ValueError(f"unsupported output format {suffix!r} ({path}); use one of "
                         f"{', '.join(INDEX_FORMATS)}.")
    if suffix == ".npy":
        with atomic_write(path, "wb") as f:
            np.save(f, indices, allow_pickle=False)
    elif suffix == ".json":
        with atomic_write(path) as f:
            json.dump(indices.tolist(), f)
            f.write("\n")
    else:
        with atomic_write(path) as f:
            if suffix == ".csv":
                f.write("index\n")
            f.writelines(f"{i}\n" for i in indices.tolist())
    return path


def load_indices(path: PathLike) -> np.ndarray:
    """Read indices written by :func:`save_indices` (any of its formats).

    Parameters
    ----------
    path : str or Path
        ``.npy`` (integers, whole-number floats, or a boolean mask),
        ``.json`` (a list), ``.csv`` or ``.txt`` (one index per line; a
        header line is detected, and a CSV with several columns is read from
        its ``index`` column, e.g. :func:`save_labels_csv` output).

    Returns
    -------
    indices : ndarray of shape (n_indices,), int64

    Raises
    ------
    ValueError
        For a line that is not a whole number, negative values, a file of
        another format than its name says, or an unreadable file; the
        message names the file and the line.

    Examples
    --------
    >>> import os, tempfile
    >>> from skusl.io import load_indices
    >>> path = os.path.join(tempfile.mkdtemp(), "picks.txt")
    >>> with open(path, "w") as f:
    ...     _ = f.write("3\\n1\\n4\\n")
    >>> load_indices(path)
    array([3, 1, 4])
    """
    path = Path(path)
    # An empty text file is an empty selection (save_indices([]) writes one).
    _check_input_file(path, "indices", INDEX_FORMATS,
                      allow_empty=path.suffix.lower() in (".csv", ".txt"))
    suffix = path.suffix.lower()
    if suffix == ".npy":
        values = _load_npy(path)
    elif suffix == ".json":
        values = _read_json(path)
        if isinstance(values, dict):
            hint = (" it is a split file: read it with skusl.io.load_ssl_split"
                    if "lb_idx" in values else "")
            raise ValueError(f"{path} holds a JSON object, not a list of indices;{hint}.")
    else:
        try:
            values = _read_index_lines(path)
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path} is not a UTF-8 text file of indices ({exc}).") from None
    try:
        return check_indices(values)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def _read_index_lines(path):
    rows = []
    with open(path, newline="", encoding="utf-8-sig") as f:
        for line_no, row in enumerate(csv.reader(f), start=1):
            cells = [c.strip() for c in row]
            if cells and any(cells):
                rows.append((line_no, cells))
    if not rows:
        return np.zeros(0, dtype=np.int64)
    column = 0
    first = rows[0][1]
    try:
        _parse_index(first[0])
    except ValueError:  # a header line: use its 'index' column, or the only one
        if "index" in first:
            column = first.index("index")
        elif len(first) > 1:
            raise ValueError(f"{path}: the header {first} has no 'index' column; name the "
                             "column of row numbers 'index'.") from None
        rows = rows[1:]
    values = []
    for line_no, cells in rows:
        if column >= len(cells) or not cells[column]:
            raise ValueError(f"{path}, line {line_no}: no index in column {column + 1}.")
        try:
            value = _parse_index(cells[column])
            if value < 0:
                raise ValueError(cells[column])
        except ValueError:
            raise ValueError(f"{path}, line {line_no}: {cells[column]!r} is not an index "
                             "(a whole, non-negative row number).") from None
        values.append(value)
    return np.asarray(values, dtype=object)
