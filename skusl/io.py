"""Embeddings in, indices and labels out: the files users hand around.

Reading never unpickles (``allow_pickle=False``); ``.npy`` files are
memory-mapped so a large matrix is not copied before validation needs it.
A file is read by what it holds, not only by its name: an ``.npz`` archive
renamed ``.npy`` (or the reverse) is refused with the fix. Text files are
read as UTF-8 with or without a byte-order mark.

Every writer is atomic: it writes a temporary file beside the target and
renames it, so an interrupted run never leaves a half-written file. A new
file gets the mode the umask gives (as ``open`` would), an overwritten one
keeps its mode, and a symbolic link is written through (its target is
replaced, the link stays).

* Embeddings in: :func:`load_embeddings`.
* Selected indices out and back: :func:`save_indices`, :func:`load_indices`.
* Labels out: :func:`save_labels_csv` (``index,label[,confidence]``),
  :func:`save_ssl_split` / :func:`load_ssl_split` (``lb_idx`` and
  ``ulb_idx``), :func:`save_usb_split` (USB's cached split files).
* Annotations in: :func:`read_annotations`, :func:`annotations_to_y`.
"""

import contextlib
import csv
import json
import os
import secrets
import stat
import zipfile
from pathlib import Path

import numpy as np

from ._validation import check_indices

__all__ = [
    "annotations_to_y",
    "atomic_write",
    "load_embeddings",
    "load_indices",
    "load_ssl_split",
    "read_annotations",
    "save_indices",
    "save_labels_csv",
    "save_ssl_split",
    "save_usb_split",
]

EMBEDDING_FORMATS = (".npy", ".npz", ".csv", ".parquet")
INDEX_FORMATS = (".csv", ".json", ".npy", ".txt")


def load_embeddings(path, key=None, *, header="auto"):
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


def _check_input_file(path, what, formats, *, allow_empty=False):
    if not path.exists():
        raise FileNotFoundError(f"no such {what} file: {path}")
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not a file; pass the {what} file itself.")
    if path.suffix.lower() not in formats:
        raise ValueError(f"unsupported {what} format {path.suffix.lower()!r} ({path}); use "
                         f"one of {', '.join(formats)}.")
    if path.stat().st_size == 0 and not allow_empty:
        raise ValueError(f"{path} is empty (0 bytes); write the {what} again.")


_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"


def _magic(path):
    with open(path, "rb") as f:
        return f.read(6)


_PICKLE_ADVICE = ("skusl never unpickles (it reads with allow_pickle=False): save a numeric "
                  "array instead, e.g. numpy.save(path, numpy.asarray(X, dtype=numpy.float32))")


def _load_npy(path, mmap=False):
    head = _magic(path)
    if head.startswith(_ZIP_MAGIC):
        raise ValueError(f"{path} is an .npz archive (a zip file), not an .npy array; "
                         "rename it to .npz (and pass --key / key= if it holds several "
                         "arrays).")
    if not head.startswith(_NPY_MAGIC):
        raise ValueError(f"{path} is not an .npy file (it does not start with numpy's "
                         "header); write it with numpy.save.")
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except ValueError as exc:
        if any(word in str(exc) for word in ("pickle", "Object arrays", "Python objects")):
            raise ValueError(f"{path} holds Python objects; {_PICKLE_ADVICE}.") from None
        raise ValueError(f"{path} is not a readable .npy file (truncated or corrupt: {exc}); "
                         "write it again with numpy.save.") from None
    except (OSError, EOFError) as exc:
        raise ValueError(f"{path} is not a readable .npy file (truncated or corrupt: {exc}); "
                         "write it again with numpy.save.") from None


def _open_npz(path):
    head = _magic(path)
    if head.startswith(_NPY_MAGIC):
        raise ValueError(f"{path} is an .npy array, not an .npz archive; rename it to .npy.")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path} is not a readable .npz archive (truncated or corrupt: "
                         f"{exc}); write it again with numpy.savez.") from None


def _npz_array(archive, path, key):
    try:
        return archive[key]
    except ValueError as exc:
        if any(word in str(exc) for word in ("pickle", "Object arrays", "Python objects")):
            raise ValueError(f"{path}: array {key!r} holds Python objects; "
                             f"{_PICKLE_ADVICE}.") from None
        raise ValueError(f"{path}: array {key!r} is unreadable ({exc}); write the archive "
                         "again with numpy.savez.") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: array {key!r} is truncated or corrupt ({exc}); write the "
                         "archive again with numpy.savez.") from None


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


# ---------------------------------------------------------------- CSV reading
def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() != ""


def _is_int_literal(text):
    text = text.strip()
    return text.lstrip("+-").isdigit()


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


@contextlib.contextmanager
def atomic_write(path, mode="w"):
    """Open a temporary file beside ``path``; rename it onto ``path`` on success.

    On an exception the temporary file is removed and ``path`` is untouched,
    so readers never see a half-written file. Every writer in this module
    uses it. The file ends up with the mode a plain ``open(path, "w")`` would
    give it: the umask's default for a new file, the old mode for an
    overwritten one. A symbolic link is written through: its target is
    replaced and the link stays a link.

    Parameters
    ----------
    path : str or Path
        The file to (over)write; missing parent folders are created.
    mode : {"w", "wb"}, default="w"
        Text (UTF-8) or binary.

    Yields
    ------
    f : file object
        Open on the temporary file.

    Raises
    ------
    ValueError
        If ``path`` is a folder, or a parent of it is a file.

    Examples
    --------
    >>> import os, tempfile
    >>> from skusl.io import atomic_write
    >>> path = os.path.join(tempfile.mkdtemp(), "note.txt")
    >>> with atomic_write(path) as f:
    ...     _ = f.write("hello\\n")
    >>> open(path).read()
    'hello\\n'
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}.")
    target = _write_target(Path(path))
    old_mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else None
    tmp = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
    # os.open applies the umask to 0o666, as open() does for a new file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o666)
    try:
        if old_mode is not None:
            os.chmod(tmp, old_mode)
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as f:
            yield f
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _write_target(path):
    """The file a writer replaces: through symlinks, with its folder created."""
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    if target.is_dir():
        raise ValueError(f"{path} is a folder; pass a file name inside it (e.g. "
                         f"{path / 'out'}{path.suffix or '.csv'}).")
    for parent in (target.parent, *target.parent.parents):
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"cannot write {path}: {parent} is a file, not a folder; "
                                 "choose an output path inside a folder.")
            break
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create the folder {target.parent} for {path}: "
                         f"{exc.strerror or exc}.") from None
    return target


def save_indices(indices, path):
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


def load_indices(path):
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
        values = _read_index_lines(path)
    try:
        return check_indices(values)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def _read_json(path):
    try:
        with open(path, encoding="utf-8-sig") as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); write it again.") from None


def _parse_index(text):
    """An index from its text: an integer, or a whole-number float (``3.0``)."""
    text = text.strip()
    if _is_int_literal(text):
        return int(text)
    value = float(text)  # ValueError for anything else
    if not np.isfinite(value) or value != np.floor(value):
        raise ValueError(text)
    return int(value) if abs(value) <= 2.0 ** 63 else value


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
            values.append(_parse_index(cells[column]))
        except ValueError:
            raise ValueError(f"{path}, line {line_no}: {cells[column]!r} is not an index "
                             "(a whole, non-negative row number).") from None
    return np.asarray(values, dtype=object)


# --------------------------------------------------------------------------
# Labels out: CSV and the labeled / unlabeled splits SSL codebases read
# --------------------------------------------------------------------------

def _check_index_array(indices, n_samples=None, name="indices"):
    return check_indices(indices, n_samples, name=name)


def _check_unique(indices, name="indices"):
    check_indices(indices, name=name, unique=True)


def _format_label(value):
    if isinstance(value, (np.floating, float)) and float(value).is_integer():
        return str(int(value))
    return str(value.item() if isinstance(value, np.generic) else value)


def save_labels_csv(path, indices, labels, confidence=None):
    """Write ``index,label[,confidence]`` rows to a CSV file (atomically).

    The form to hand labels around: the selected samples with their
    annotations, or every sample with the label
    :class:`~skusl.labeling.HDLLabeler` propagated to it and its
    confidence (``label_distributions_.max(axis=1)``). Read it back with
    :func:`read_annotations`.

    Parameters
    ----------
    path : str or Path
        The ``.csv`` file to write; missing folders are created.
    indices : array-like of int, shape (n_rows,)
        Row numbers of the samples in the embedding matrix.
    labels : array-like of shape (n_rows,)
        Their labels (integers or strings; written with ``str``).
    confidence : array-like of float, shape (n_rows,), optional
        Adds a ``confidence`` column (written with 6 significant digits).

    Returns
    -------
    path : Path
        The file written.

    See Also
    --------
    read_annotations : read ``index,label`` rows back.

    Examples
    --------
    >>> import os, tempfile
    >>> from skusl.io import save_labels_csv
    >>> path = os.path.join(tempfile.mkdtemp(), "labels.csv")
    >>> _ = save_labels_csv(path, [4, 0, 9], ["cat", "dog", "cat"],
    ...                     confidence=[1.0, 0.75, 0.5])
    >>> print(open(path).read(), end="")
    index,label,confidence
    4,cat,1
    0,dog,0.75
    9,cat,0.5
    """
    path = Path(path)
    indices = _check_index_array(indices)
    labels = np.asarray(labels, dtype=object).ravel()
    if labels.shape[0] != indices.shape[0]:
        raise ValueError(f"got {indices.shape[0]} indices but {labels.shape[0]} labels.")
    header = ["index", "label"]
    if confidence is not None:
        confidence = np.asarray(confidence, dtype=np.float64).ravel()
        if confidence.shape[0] != indices.shape[0]:
            raise ValueError(f"got {indices.shape[0]} indices but {confidence.shape[0]} "
                             "confidences.")
        header.append("confidence")
    with atomic_write(path, "w") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        for row in range(indices.shape[0]):
            record = [int(indices[row]), _format_label(labels[row])]
            if confidence is not None:
                record.append(format(confidence[row], ".6g"))
            writer.writerow(record)
    return path


def _parse_labels(raw):
    """Integers when every label is one, else the strings as given."""
    try:
        return np.asarray([int(v) for v in raw], dtype=np.int64)
    except ValueError:
        return np.asarray(raw, dtype=object)


def read_annotations(path, *, index_column="index", label_column="label"):
    """Read annotations from a CSV file of ``index,label`` rows.

    The file an annotation tool (or a spreadsheet) gives back for the
    selected samples. A header naming ``index_column`` and ``label_column``
    picks those columns, whatever their order; other columns (a
    confidence, the annotator) are ignored. Without a header, the first two
    columns are the index and the label. Rows with an empty label (not
    annotated yet) are skipped; a row repeating an index with the same
    label is dropped, with a different label it raises ``ValueError``.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    index_column, label_column : str, default="index", "label"
        Column names in the header.

    Returns
    -------
    indices : ndarray of shape (n_annotated,), int64
        Row numbers of the annotated samples, in file order.
    labels : ndarray of shape (n_annotated,)
        int64 when every label is an integer, else an object array of the
        strings.

    See Also
    --------
    annotations_to_y : the ``y`` vector (``-1`` for unlabeled) estimators take.
    save_labels_csv : write such a file.

    Examples
    --------
    >>> import os, tempfile
    >>> from skusl.io import read_annotations
    >>> path = os.path.join(tempfile.mkdtemp(), "annotations.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("label,index,annotator\\n3,17,ann\\n5,2,bob\\n,8,ann\\n")
    >>> indices, labels = read_annotations(path)
    >>> indices, labels
    (array([17,  2]), array([3, 5]))
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such annotations file: {path}")
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not an annotations file; pass the CSV itself.")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = [row for row in csv.reader(f) if row and any(cell.strip() for cell in row)]
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not a UTF-8 text CSV ({exc}); export the annotations "
                         "as CSV (UTF-8).") from None
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    header = [cell.strip() for cell in rows[0]]
    if header and _is_number(header[0]):
        i_col, l_col = 0, 1
    else:
        missing = [c for c in (index_column, label_column) if c not in header]
        if missing:
            raise ValueError(f"{path}: the header {header} has no column "
                             f"{missing[0]!r}; name the columns "
                             f"'{index_column},{label_column}' or pass "
                             "index_column= / label_column=.")
        i_col, l_col = header.index(index_column), header.index(label_column)
        rows = rows[1:]
    seen = {}
    for row in rows:
        if len(row) <= max(i_col, l_col):
            raise ValueError(f"{path}: row {row} has too few columns.")
        label = row[l_col].strip()
        if not label:
            continue
        try:
            index = _parse_index(row[i_col])
        except ValueError:
            raise ValueError(f"{path}: index {row[i_col]!r} is not an integer.") from None
        if index < 0:
            raise ValueError(f"{path}: negative index {index}.")
        if not isinstance(index, int) or index > np.iinfo(np.int64).max:
            raise ValueError(f"{path}: index {row[i_col].strip()} is far beyond any row "
                             "number; the index column must hold the samples' row numbers.")
        if index in seen and seen[index] != label:
            raise ValueError(f"{path}: sample {index} is labeled both {seen[index]!r} and "
                             f"{label!r}; keep one row per sample.")
        seen.setdefault(index, label)
    indices = np.fromiter(seen.keys(), dtype=np.int64, count=len(seen))
    return indices, _parse_labels(list(seen.values()))


def annotations_to_y(n_samples, indices, labels, *, unlabeled=-1):
    """The label vector ``y`` with ``unlabeled`` (``-1``) where no label is known.

    scikit-learn's semi-supervised convention, taken by
    :class:`~skusl.labeling.HDLLabeler` and :class:`~skusl.model_selection.AutoK`.

    Parameters
    ----------
    n_samples : int
        Rows of the embedding matrix.
    indices : array-like of int, shape (n_annotated,)
        Annotated rows (e.g. from :func:`read_annotations`).
    labels : array-like of shape (n_annotated,)
        Their labels. Integers give an int64 ``y``; anything else (strings)
        gives an object array holding ``unlabeled`` for unlabeled rows.
    unlabeled : int, default=-1
        The marker of unlabeled rows; no label may equal it, as a number or as
        text (``"-1"`` also means unlabeled to every estimator).

    Returns
    -------
    y : ndarray of shape (n_samples,)

    Examples
    --------
    >>> from skusl.io import annotations_to_y
    >>> annotations_to_y(6, [4, 1], [7, 2])
    array([-1,  2, -1, -1,  7, -1])
    >>> annotations_to_y(3, [2], ["cat"])
    array([-1, -1, 'cat'], dtype=object)
    """
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
    indices = _check_index_array(indices, n_samples)
    _check_unique(indices)
    labels = np.asarray(labels).ravel()
    if labels.shape[0] != indices.shape[0]:
        raise ValueError(f"got {indices.shape[0]} indices but {labels.shape[0]} labels.")
    numeric = np.issubdtype(labels.dtype, np.integer) or (
        np.issubdtype(labels.dtype, np.floating) and labels.size
        and np.all(np.mod(labels, 1) == 0))
    if numeric or labels.size == 0:
        labels = labels.astype(np.int64)
        y = np.full(n_samples, unlabeled, dtype=np.int64)
    else:
        labels = labels.astype(object)
        y = np.full(n_samples, unlabeled, dtype=object)
    # The marker in either form: estimators read both -1 and "-1" as unlabeled
    # (skusl._validation.split_labels), so neither may be a class.
    marker = (labels == unlabeled) | (labels.astype(str) == str(unlabeled))
    if np.any(marker):
        raise ValueError(f"a label equals the unlabeled marker {unlabeled!r} (estimators read "
                         f"both {unlabeled!r} and {str(unlabeled)!r} as unlabeled); relabel "
                         "that class or pass another unlabeled= value.")
    y[indices] = labels
    return y


def _split_arrays(labeled_indices, n_samples):
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
    lb_idx = _check_index_array(labeled_indices, n_samples, name="labeled_indices")
    _check_unique(lb_idx, name="labeled_indices")
    mask = np.ones(n_samples, dtype=bool)
    mask[lb_idx] = False
    return lb_idx, np.flatnonzero(mask).astype(np.int64)


def save_ssl_split(path, labeled_indices, n_samples, labels=None):
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
        if lb_labels.dtype == object:
            lb_labels = lb_labels.astype(str)
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


def load_ssl_split(path):
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
    from sklearn.utils import Bunch

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
    if labels is not None:
        labels = _parse_labels([str(v) for v in labels]) if np.asarray(labels).dtype.kind in "UO" \
            else np.asarray(labels)
    return Bunch(lb_idx=lb_idx, ulb_idx=ulb_idx, n_samples=int(n_samples), lb_labels=labels)


def save_usb_split(folder, labeled_indices, n_samples, *, num_labels=None, seed=0,
                   lb_imb_ratio=1, ulb_imb_ratio=1):
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
