"""``python -m skusl``: the command line, :mod:`skusl.cli`."""

import sys

from .cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
