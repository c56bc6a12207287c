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

from ._common import atomic_write
from ._embeddings import EMBEDDING_FORMATS, load_embeddings  # noqa: F401 (the formats)
from ._indices import INDEX_FORMATS, load_indices, save_indices  # noqa: F401
from ._labels import annotations_to_y, read_annotations, save_labels_csv
from ._splits import load_ssl_split, save_ssl_split, save_usb_split

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

