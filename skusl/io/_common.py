"""What every reader and writer of skusl.io shares: file checks, numpy files, atomic writes."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
import zipfile
from pathlib import Path
from typing import IO, Any, Iterator, Literal, Union

import numpy as np

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"


_PICKLE_ADVICE = ("skusl never unpickles (it reads with allow_pickle=False): save a numeric "
                  "array instead, e.g. numpy.save(path, numpy.asarray(X, dtype=numpy.float32))")

#: A file path: ``str`` or any ``os.PathLike`` (e.g. ``pathlib.Path``).
PathLike = Union[str, os.PathLike]


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


def _magic(path):
    with open(path, "rb") as f:
        return f.read(6)


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


def _read_json(path):
    try:
        with open(path, encoding="utf-8-sig") as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); write it again.") from None


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


def _parse_index(text):
    """An index from its text: an integer, or a whole-number float (``3.0``)."""
    text = text.strip()
    if _is_int_literal(text):
        return int(text)
    value = float(text)  # ValueError for anything else
    if not np.isfinite(value) or value != np.floor(value):
        raise ValueError(text)
    return int(value) if abs(value) <= 2.0 ** 63 else value


@contextlib.contextmanager
def atomic_write(path: PathLike, mode: Literal["w", "wb"] = "w") -> Iterator[IO[Any]]:
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
