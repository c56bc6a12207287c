"""Repository-wide pytest configuration (doctest collection).

Optional dependencies (torch, CuPy, dask) must not break the suite on a machine
with only ``pip install -e ".[test]"``: modules that import one at module
level are left out of doctest collection, and the doctests of modules whose
examples need one are skipped with the reason. The report header lists both.
"""

import importlib.util

import pytest

collect_ignore_glob = ["benchmarks/*", "examples/*", "docs/*"]

#: module file -> the optional package it imports at module level
_IMPORTS_AT_TOP = {
    "skusl/_backends/_cupy.py": "cupy",
    "skusl/deep/_network.py": "torch",
}
#: module-name prefix -> the optional package its doctest examples use
_EXAMPLES_NEED = {
    "skusl.deep.": "torch",
    "skusl.distributed.": "dask",
}


def _missing(package):
    return importlib.util.find_spec(package) is None


_NOT_COLLECTED = []
for _path, _package in _IMPORTS_AT_TOP.items():
    if _missing(_package):
        collect_ignore_glob.append(_path)
        _NOT_COLLECTED.append(f"{_path} ({_package} not installed)")


def pytest_report_header(config):
    missing = sorted({p for p in _EXAMPLES_NEED.values() if _missing(p)})
    lines = []
    if _NOT_COLLECTED:
        lines.append("doctests not collected: " + ", ".join(_NOT_COLLECTED))
    if missing:
        lines.append("doctests skipped for want of: " + ", ".join(missing))
    return lines or None


def pytest_collection_modifyitems(config, items):
    from _pytest.doctest import DoctestItem

    for item in items:
        if not isinstance(item, DoctestItem):
            continue
        for prefix, package in _EXAMPLES_NEED.items():
            if item.name.startswith(prefix) and _missing(package):
                item.add_marker(pytest.mark.skip(
                    reason=f"example needs {package} (pip install \"skusl[{package}]\")"))
