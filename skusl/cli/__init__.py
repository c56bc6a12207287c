"""The command line: ``python -m skusl {demo,select,label} ...`` (also ``skusl``).

It sits on top of the package: the algorithm packages never import it. Each
command lives in its own module (:mod:`skusl.cli.demo`,
:mod:`skusl.cli.select`, :mod:`skusl.cli.label`) with a
``register(subparsers)`` function; this module builds the parser and turns
every user error into one line on stderr, ``error: ...`` naming the file or
flag and the fix, and exit status 2. ``python -m skusl --help`` imports no
Numba, CuPy or torch.
"""

import argparse
import importlib
import re
import sys
from pathlib import Path

#: The commands, in the order ``--help`` lists them: modules skusl.cli.<name>.
COMMANDS = ("demo", "select", "label")


class UsageError(ValueError):
    """A user error the CLI reports as ``error: ...`` with exit status 2."""


def build_parser():
    """The ``argparse`` parser of ``python -m skusl``, with every command registered."""
    parser = argparse.ArgumentParser(
        prog="python -m skusl",
        description=(
            "Pick the few samples of an unlabeled dataset worth labeling, then "
            "spread their labels over the rest. Input: an embedding matrix "
            "(.npy, .npz, .csv, .parquet), one row per sample."),
        epilog="Run 'python -m skusl COMMAND --help' for a command's options.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"skusl.cli.{name}").register(sub)
    return parser


def main(argv=None):
    """Run the command line; return the exit status (0, or 2 for a user error).

    Parameters
    ----------
    argv : list of str or None
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : int
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, ImportError) as exc:
        print(f"error: {flag_names(str(exc), getattr(args, 'flags', {}))}", file=sys.stderr)
        return 2
    except OSError as exc:  # permissions, a full disk, ...: the OS names the file
        print(f"error: {exc}", file=sys.stderr)
        return 2


#: Estimator parameter -> the CLI flag that sets it, shared by the commands.
_COMMON_FLAGS = {"n_neighbors": "--k"}


def flag_names(message, flags=None):
    """Speak in flags: ``n_neighbors=5`` becomes ``--k 5``, ``n_neighbors`` ``--k``.

    ``flags`` maps further parameter names of the command's estimator to
    its flags (e.g. ``{"n_clusters": "--clusters"}``).
    """
    for param, flag in {**_COMMON_FLAGS, **(flags or {})}.items():
        if param not in _KEEP_VALUE:
            message = re.sub(rf"\b{param}=(\S+?)(?=[\s,;:)]|$)", rf"{flag} \1", message)
        message = re.sub(rf"\b{param}\b(?!=)", flag, message)
    return message


#: Parameters whose ``name=value`` stays as the estimator wrote it (it reads
#: as "n_select=301 exceeds n_samples=300"); the bare name still becomes the flag.
_KEEP_VALUE = {"n_select"}


def check_input(path, what):
    """An input path must be an existing file (not a folder): else a UsageError."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such {what} file: {path}")
    if path.is_dir():
        raise UsageError(f"{path} is a folder, not a file; pass the {what} file itself.")
    return path


def check_output(path, suffixes, flag="--out", what=None):
    """Refuse an output path before any work is done: bad suffix, a folder, below a file."""
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        raise UsageError(f"{flag} {path}: {what or 'the output'} must be a "
                         f"{' / '.join(suffixes)} file; name the output accordingly.")
    if path.is_dir():
        raise UsageError(f"{flag} {path} is a folder; name a file inside it, e.g. "
                         f"{path / ('out' + suffixes[0])}.")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"{flag} {path}: {parent} is a file, not a folder; choose "
                                 "an output path inside a folder.")
            break
    return path


def check_matrix(X, path):
    """The loaded embeddings must be a 2-D matrix (one row per sample)."""
    if getattr(X, "ndim", 2) != 2:
        raise UsageError(
            f"{path} holds an array of shape {X.shape}; embeddings must be 2-D, one row per "
            "sample (save X.reshape(-1, 1) for a single feature, X.reshape(len(X), -1) to "
            "flatten each sample).")
    return X


def about(path, exc):
    """A UsageError that names ``path`` unless the message already does."""
    message = str(exc)
    if str(path) not in message:
        message = f"{path}: {message}"
    return UsageError(message)
