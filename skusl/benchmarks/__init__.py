"""Benchmarks that regenerate the project's reported figures.

``python -m skusl.benchmarks quality --data DIR --out docs/benchmarks/quality/``
runs the evaluation protocol of ``docs/user_guide/benchmarks.rst`` (see
:func:`run_quality`) and writes a Markdown report with accuracy-vs-budget
plots.
"""

from ._quality import SELECTORS, run_cell, run_quality

__all__ = ["SELECTORS", "run_cell", "run_quality"]
