"""The package import graph of skusl has no cycle.

Every ``import`` and ``from ... import`` in ``skusl/`` counts, the ones inside
functions too (a deferred import is still a dependency), and so does
``importlib.import_module`` with a literal ``"skusl...."`` name. Modules are
grouped by package (``skusl.neighbors._graph`` -> ``skusl.neighbors``;
top-level modules such as ``skusl._validation`` stand alone; the root
``skusl/__init__.py``, which only names the public API lazily, is left out).
The one sanctioned upward hand-off is :func:`skusl._upper.upper`, by name.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "skusl"


def _modules(root):
    mods = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        mods[".".join(parts)] = (path, is_package)
    return mods


def _imported_names(tree, module, is_package):
    base = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                target = anchor + ("." + node.module if node.module else "")
            else:
                target = node.module
            yield target, node.lineno
            for alias in node.names:  # ``from . import _cells`` names a module
                yield f"{target}.{alias.name}", node.lineno
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(
                node.func, "id", None)) == "import_module" and node.args
              and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            yield node.args[0].value, node.lineno


def _group(module, top):
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else top


def package_graph(root=ROOT):
    """``{package: {package: [where, ...]}}`` over the modules below ``root``."""
    mods = _modules(root)
    top = root.name
    graph = {}
    for module, (path, is_package) in mods.items():
        for name, line in _imported_names(ast.parse(path.read_text()), module, is_package):
            if not name or name.split(".")[0] != top:
                continue
            while name and name not in mods:  # ``pkg.mod.func`` -> ``pkg.mod``
                name = name.rpartition(".")[0]
            src, dst = _group(module, top), _group(name, top) if name else top
            if top in (src, dst) or src == dst:
                continue
            graph.setdefault(src, {}).setdefault(dst, []).append(
                f"{path.relative_to(root.parent)}:{line} imports {name}")
    return graph


def cycles(graph):
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _describe(graph, component):
    return "\n".join(f"  {a} -> {b}: {'; '.join(graph[a][b])}"
                     for a in component for b in component if b in graph.get(a, {}))


def test_package_import_graph_has_no_cycle():
    graph = package_graph()
    assert "skusl.neighbors" in graph and "skusl.selection" in graph  # it did read skusl
    found = cycles(graph)
    assert not found, "import cycles between skusl packages:\n" + "\n\n".join(
        _describe(graph, c) for c in found)


def test_the_check_finds_a_deferred_import_cycle(tmp_path):
    pkg = tmp_path / "skusl"
    for sub in ("low", "high"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "high" / "_a.py").write_text("from ..low import thing\n")
    (pkg / "low" / "_b.py").write_text("def f():\n    from ..high import _a\n")
    graph = package_graph(pkg)
    assert cycles(graph) == [["skusl.high", "skusl.low"]]
    (pkg / "low" / "_b.py").write_text(
        "import importlib\n\ndef f():\n    return importlib.import_module('skusl.high')\n")
    assert cycles(package_graph(pkg)) == [["skusl.high", "skusl.low"]]
    (pkg / "low" / "_b.py").write_text("def f():\n    return 1\n")
    assert cycles(package_graph(pkg)) == []


@pytest.mark.parametrize("name", ["deep", "distributed"])
def test_the_upward_hand_off_names_a_higher_package(name):
    from skusl._upper import UPPER, upper

    assert name in UPPER
    assert upper(name).__name__ == f"skusl.{name}"
    with pytest.raises(ValueError, match="hands work to"):
        upper("selection")


def test_lower_layers_load_no_higher_one():
    import subprocess
    import sys

    code = ("import sys, skusl.selection, skusl.neighbors, skusl.labeling, "
            "skusl.model_selection; print(sorted(m for m in ('skusl.distributed', "
            "'skusl.deep', 'dask', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT.parent).stdout
    assert out.strip() == "[]"
