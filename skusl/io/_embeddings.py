"""Embeddings in: ``.npy``, ``.npz``, ``.csv`` (pandas-aware) and ``.parquet``."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Literal, Optional, Union

import numpy as np

from ._common import (PathLike, _check_input_file, _is_int_literal, _is_number, _load_npy,
                      _npz_array, _open_npz)

EMBEDDING_FORMATS = (".npy", ".npz", ".csv", ".parquet")


def load_embeddings(path: PathLike, key: Optional[str] = None, *,
                    header: Union[Literal["auto"], bool] = "auto") -> np.ndarray:
    """Read an embedding matrix from ``.npy``, ``.npz``, ``.csv`` or ``.parquet``.

    Parameters
    ----------
    path : str or Path
        ``.npy``: memory-mapped. ``.npz``: the array ``key``, else ``X``, else
        the only array. ``.csv``: numbers separated by commas; a header line
        is detected (also pandas' ``0,1,2,...`` column names), an unnamed
        first header cell marks pandas' index column, which is skipped; an
        empty field (how pandas writes NaN) is a missing value, reported with
        its line. ``.parquet`` (needs pyarrow): all numeric columns (pandas'
        ``__index_level_0__`` excluded), or one list-valued column holding
        the vectors.
    key : str, optional
        Array name inside an ``.npz``.
    header : {"auto", True, False}, default="auto"
        CSV only: whether the first line is a header. ``"auto"`` detects it
        and refuses the one ambiguous case (a first line ``0,1,...,d-1`` over
        integer-only rows).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)

    Raises
    ------
    ValueError
        The file is missing, a folder, empty, truncated, of another format
        than its name says, holds Python objects (never unpickled) or
        missing values; the message names the file and the fix.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skusl.io import load_embeddings
    >>> path = os.path.join(tempfile.mkdtemp(), "emb.npy")
    >>> np.save(path, np.eye(3, dtype=np.float32))
    >>> load_embeddings(path).shape
    (3, 3)
    """
    path = Path(path)
    _check_input_file(path, "embeddings", EMBEDDING_FORMATS)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return _load_npy(path, mmap=True)
    if suffix == ".npz":
        return _load_npz(path, key)
    if suffix == ".csv":
        return _load_csv(path, header)
    return _load_parquet(path)


def _load_npz(path, key):
    with _open_npz(path) as archive:
        names = list(archive.files)
        if key is None:
            if "X" in names:
                key = "X"
            elif len(names) == 1:
                key = names[0]
            else:
                raise ValueError(f"{path} holds several arrays {names} and none is "
                                 "named 'X'; say which one to use (--key NAME).")
        if key not in names:
            raise ValueError(f"{path} has no array {key!r}; it holds {names}.")
        return _npz_array(archive, path, key)


def _csv_head(path, n_lines=2):
    """The first ``n_lines`` non-blank rows (with their 1-based line numbers)."""
    out = []
    with open(path, newline="", encoding="utf-8-sig") as f:
        for line_no, row in enumerate(csv.reader(f), start=1):
            if row and any(cell.strip() for cell in row):
                out.append((line_no, [cell.strip() for cell in row]))
                if len(out) == n_lines:
                    break
    return out


def _pandas_names(cells):
    return cells == [str(i) for i in range(len(cells))]


def _csv_layout(path, header):
    """Decide (skip_header, skip_index_column) for a CSV of numbers."""
    head = _csv_head(path)
    if not head:
        raise ValueError(f"{path} holds no rows; write the embeddings again.")
    first = head[0][1]
    second = head[1][1] if len(head) > 1 else None
    index_col = False
    if header == "auto":
        rest = first[1:]
        unnamed = first[0] in ("", "Unnamed: 0")
        if len(first) > 1 and (
                (unnamed and (_pandas_names(rest) or not all(_is_number(c) for c in rest)))
                or (not _is_number(first[0]) and _pandas_names(rest))):
            # pandas' to_csv(path): the index column (unnamed, or named over the
            # default 0..d-1 feature names), then the features.
            return True, True
        if any(c and not _is_number(c) for c in first):
            header = True
        elif _pandas_names(first):
            if second is not None and not all(_is_int_literal(c) for c in second if c):
                header = True
            else:
                raise ValueError(
                    f"{path}: the first line reads 0,1,...,{len(first) - 1}, which is how "
                    "pandas writes column names, but every row holds integers, so it may "
                    "also be data; say which with load_embeddings(path, header=True) or "
                    "header=False (or save the matrix as .npy).")
        else:
            header = False
    if header and first and first[0] in ("", "Unnamed: 0"):
        index_col = True
    return bool(header), index_col


def _csv_problem(path, skip, usecols):
    """Find the first bad row of a CSV of numbers: (line, message) or None."""
    width = None
    with open(path, newline="", encoding="utf-8-sig") as f:
        seen = 0
        for line_no, row in enumerate(csv.reader(f), start=1):
            if not row or not any(cell.strip() for cell in row):
                continue
            seen += 1
            if seen <= skip:
                continue
            cells = [row[i] for i in usecols if i < len(row)] if usecols else row
            if width is None:
                width = len(row)
            elif len(row) != width:
                return (f"line {line_no} has {len(row)} fields but the first data line has "
                        f"{width}; every row needs one value per feature.")
            for col, cell in enumerate(cells, start=1):
                if not cell.strip():
                    return (f"line {line_no}, column {col} is empty: a missing value (pandas "
                            "writes NaN that way); fill or drop it (e.g. "
                            "DataFrame.dropna()) before saving.")
                if not _is_number(cell):
                    return f"line {line_no}, column {col} holds {cell!r}, not a number."
    return None


def _load_csv(path, header="auto"):
    if header not in ("auto", True, False):
        raise ValueError(f"header must be 'auto', True or False, got {header!r}.")
    try:
        return _read_csv_numbers(path, header)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not a UTF-8 text CSV ({exc}); export it as CSV "
                         "(UTF-8) or save the matrix with numpy.save.") from None


def _read_csv_numbers(path, header):
    skip, index_col = _csv_layout(path, header)
    n_fields = len(_csv_head(path, 1)[0][1])
    usecols = list(range(1, n_fields)) if index_col else None
    try:
        X = np.loadtxt(path, delimiter=",", skiprows=_physical_skip(path, skip),
                       usecols=usecols, dtype=np.float64, ndmin=2, encoding="utf-8-sig",
                       quotechar='"')
    except ValueError as exc:
        problem = _csv_problem(path, skip, usecols)
        raise ValueError(f"{path}: {problem or exc}") from None
    bad = ~np.isfinite(X).all(axis=1)
    if bad.any():
        lines = _data_line_numbers(path, skip)[np.flatnonzero(bad)[:5]]
        raise ValueError(f"{path}: line(s) {', '.join(map(str, lines))} hold NaN or "
                         "infinity (missing values?); fill or drop them before saving.")
    if X.size == 0:
        raise ValueError(f"{path} holds a header but no rows of numbers.")
    return X


def _physical_skip(path, n_header):
    """Lines to skip so that ``n_header`` non-blank lines are passed."""
    if not n_header:
        return 0
    return _csv_head(path, 1)[0][0]


def _data_line_numbers(path, skip):
    lines = []
    with open(path, newline="", encoding="utf-8-sig") as f:
        seen = 0
        for line_no, row in enumerate(csv.reader(f), start=1):
            if row and any(cell.strip() for cell in row):
                seen += 1
                if seen > skip:
                    lines.append(line_no)
    return np.asarray(lines)


def _load_parquet(path):
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ImportError("reading .parquet needs pyarrow: pip install pyarrow") from exc
    import pyarrow.types as pat

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow's ArrowInvalid and friends
        raise ValueError(f"{path} is not a readable parquet file ({exc}).") from None
    columns = [(c, t) for c, t in zip(table.column_names, table.schema.types, strict=True)
               if not c.startswith("__index_level_")]  # pandas' stored index
    list_cols = [c for c, t in columns
                 if pat.is_list(t) or pat.is_large_list(t) or pat.is_fixed_size_list(t)]
    if len(list_cols) == 1:
        return np.asarray(table.column(list_cols[0]).to_pylist(), dtype=np.float64)
    numeric = [c for c, t in columns if pat.is_integer(t) or pat.is_floating(t)]
    if not numeric:
        raise ValueError(f"{path} has no numeric columns and no single vector column.")
    return np.column_stack([table.column(c).to_numpy() for c in numeric])
