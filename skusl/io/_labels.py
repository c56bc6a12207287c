"""Labels out (``index,label[,confidence]`` CSV) and annotations back in."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Optional, Tuple

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_indices
from ._common import PathLike, _is_number, _parse_index, atomic_write

def _format_label(value):
    if isinstance(value, (np.floating, float)) and float(value).is_integer():
        return str(int(value))
    return str(value.item() if isinstance(value, np.generic) else value)


def _check_writable_labels(labels):
    """Labels must read back as written: read_annotations skips empty labels and
    strips whitespace, so neither can be written."""
    for value in labels.tolist():
        text = _format_label(value)
        if text == "":
            raise ValueError("a label is empty, which read_annotations reads as 'not "
                             "annotated yet'; give every written sample a label.")
        if text != text.strip():
            raise ValueError(f"label {text!r} has surrounding whitespace, which readers "
                             "strip; strip it before saving.")


def save_labels_csv(path: PathLike, indices: ArrayLike, labels: ArrayLike,
                    confidence: Optional[ArrayLike] = None) -> Path:
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
    indices = check_indices(indices)
    labels = np.asarray(labels, dtype=object).ravel()
    _check_writable_labels(labels)
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


def _canonical_int(text):
    """``int(text)`` if ``text`` is exactly how Python writes that integer, else None.

    ``"7"`` and ``"-12"`` are integers; ``"007"``, ``"+3"``, ``"1_000"`` and
    other spellings that ``int()`` also accepts stay text, so that reading
    a file never changes a label.
    """
    try:
        value = int(text)
    except ValueError:
        return None
    return value if str(value) == text and abs(value) <= np.iinfo(np.int64).max else None


def _parse_labels(raw):
    """Integers when every label is written as one (a CSV has no types), else the text.

    Integer labels written by :func:`save_labels_csv` come back as int64,
    text labels as they were written, unless every one of them is the
    canonical spelling of an integer (``"3"``), which reads as that integer.
    """
    values = [_canonical_int(v) for v in raw]
    if raw and all(v is not None for v in values):
        return np.asarray(values, dtype=np.int64)
    return np.asarray(raw, dtype=object)


def read_annotations(path: PathLike, *, index_column: str = "index",
                     label_column: str = "label") -> Tuple[np.ndarray, np.ndarray]:
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


def annotations_to_y(n_samples: int, indices: ArrayLike, labels: ArrayLike, *,
                     unlabeled: int = -1) -> np.ndarray:
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
    if (not isinstance(n_samples, (int, np.integer)) or isinstance(n_samples, bool)
            or n_samples < 1):
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
    indices = check_indices(indices, n_samples, unique=True)
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
