"""Sphinx configuration of the skusl documentation.

Build with ``docs/build.sh`` (warnings are errors). The API reference is
generated from the docstrings: at start-up this file writes ``api/index.rst``
with one autosummary table per public module, listing that module's
``__all__``, so a new public name is documented without editing the docs.
"""

import importlib
import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("MPLBACKEND", "Agg")

import skusl  # noqa: E402

project = "skusl"
author = "skusl developers"
copyright = "skusl developers, BSD-3-Clause"
version = release = skusl.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints",
                    "auto_examples/*.md5", "auto_examples/**/*.py",
                    "build.sh", "README.md"]
templates_path = ["_templates"]
default_role = "literal"
nitpicky = False

# -- API reference -----------------------------------------------------------

#: Public modules, in the order of the reference, with a one-line summary.
API_MODULES = [
    ("skusl.selection", "Selectors: which samples to label"),
    ("skusl.labeling", "Label propagation"),
    ("skusl.model_selection", "Choosing k"),
    ("skusl.deep", "Embeddings and training-based selection (PyTorch)"),
    ("skusl.neighbors", "The shared kNN graph"),
    ("skusl.distributed", "Dask: the graph, K-Means and selection on a cluster"),
    ("skusl.metrics", "Evaluating a selection"),
    ("skusl.io", "Files in and out"),
    ("skusl.plotting", "Figures (matplotlib)"),
    ("skusl.datasets", "Demo data"),
    ("skusl.benchmarks", "Benchmarks"),
]


def _public_names(module):
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")]
    return sorted(names, key=str.lower)


def write_api_reference(folder=DOCS / "api"):
    """Write ``api/index.rst``: an autosummary table per public module."""
    lines = [".. _api:", "", "API reference", "=============", "",
             "Every public class and function, generated from its docstring. The",
             "estimators are also importable from the top level "
             "(``from skusl import USLSelector``).", ""]
    for name, summary in API_MODULES:
        # Every public module imports without its optional extras (they load
        # lazily), so an ImportError here is a bug and must fail the build.
        module = importlib.import_module(name)
        title = f":mod:`{name}`: {summary}"
        lines += [f".. _api_{name.replace('.', '_')}:", "", title, "-" * len(title), "",
                  f".. automodule:: {name}", "   :no-members:", "   :no-index:", "",
                  f".. currentmodule:: {name}", "", ".. autosummary::",
                  "   :toctree: generated", "   :nosignatures:", ""]
        lines += [f"   {n}" for n in _public_names(module)]
        lines.append("")
    folder.mkdir(exist_ok=True)
    target = folder / "index.rst"
    text = "\n".join(lines)
    if not target.exists() or target.read_text() != text:
        target.write_text(text)


write_api_reference()

autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"
autodoc_member_order = "groupwise"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- Gallery -----------------------------------------------------------------

#: Set SKUSL_DOCS_GALLERY=0 to build without running the examples.
_run_gallery = os.environ.get("SKUSL_DOCS_GALLERY", "1") != "0"

sphinx_gallery_conf = {
    "examples_dirs": str(REPO / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"(__init__|_helpers?)\.py",
    "plot_gallery": "True" if _run_gallery else "False",
    "backreferences_dir": "api/backrefs",
    "doc_module": ("skusl",),
    "reference_url": {"skusl": None},
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
    "min_reported_time": 1,
    "show_memory": False,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "matplotlib_animations": False,
    "capture_repr": ("_repr_html_", "__repr__"),
    "write_computation_times": False,  # no sg_execution_times.rst in the sources
}

# -- HTML --------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skusl {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_show_sourcelink = False

myst_heading_anchors = 3
# The benchmark reports under docs/benchmarks/ are Markdown written to read
# well on GitHub too: they may start at a level-2 heading and link to files
# outside the docs (scripts, data, reports not yet generated). Those links
# stay plain links instead of failing the build.
suppress_warnings = ["myst.header", "myst.xref_missing"]

# -- Docstring hooks -----------------------------------------------------------

import re  # noqa: E402

# scikit-learn's fitted-attribute names end in "_", which reStructuredText
# reads as a hyperlink reference ("n_features_in_" -> unknown target). In
# docstrings they are written bare in types and shapes, e.g.
# "ndarray of shape (n_features_in_,)"; quote them as inline literals before
# numpydoc renders the docstring. Doctest blocks, literal blocks and text
# already in backticks are left alone.
_TRAILING_UNDERSCORE = re.compile(r"(?<![\w`*|:.])([A-Za-z][A-Za-z0-9_]*[A-Za-z0-9]_)(?![\w`])")
_QUOTED = re.compile(r"(``.+?``|`[^`]+`_?_?|:\w+:`[^`]+`)")


_PARAM_HEADER = re.compile(r"^(\s*[\w*][\w*, ]* : )(.*)$")
_BARE_NAME = re.compile(r"^\s*[\w*][\w*, ]*$")


def _quote_attribute_names(text):
    header = _PARAM_HEADER.match(text)
    if header:  # "name : type": numpydoc renders the name itself
        return header.group(1) + _quote_attribute_names(header.group(2))
    if _BARE_NAME.match(text):  # a parameter without a type, or a plain word
        return text
    parts = _QUOTED.split(text)
    for i in range(0, len(parts), 2):  # even parts are outside quotes
        parts[i] = _TRAILING_UNDERSCORE.sub(r"``\1``", parts[i])
    return "".join(parts)


# Members inherited from scikit-learn (get_params, score, ...) are documented
# with their own docstrings, whose cross-references point into scikit-learn's
# documentation; keep their text, drop the links.
_SPHINX_ROLE = re.compile(
    r":(?:ref|term|doc|class|func|meth|attr|mod|obj):`~?([^`<]*?)\s*(?:<[^>]*>)?`")


def _unlink(line):
    return _SPHINX_ROLE.sub(lambda m: f"``{m.group(1).strip()}``" if m.group(1).strip()
                            else "", line)


def quote_fitted_attributes(app, what, name, obj, options, lines):
    if getattr(obj, "__module__", "") and obj.__module__.split(".")[0] == "sklearn":
        lines[:] = [_unlink(line) for line in lines]
    in_doctest = False
    literal_indent = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None:
            if stripped and indent <= literal_indent:
                literal_indent = None
            else:
                continue
        if stripped.startswith(">>>"):
            in_doctest = True
        if in_doctest:
            if not stripped:
                in_doctest = False
            continue
        lines[i] = _quote_attribute_names(line)
        if stripped.endswith("::"):
            literal_indent = indent


# scikit-learn adds metadata-routing methods (set_fit_request, ...) to every
# estimator class; their docstrings link into scikit-learn's own docs.
_SKIP_MEMBERS = re.compile(r"^(set_\w+_request|get_metadata_routing|set_output)$")


def skip_sklearn_plumbing(app, what, name, obj, skip, options):
    if _SKIP_MEMBERS.match(name):
        return True
    return None


def setup(app):
    app.connect("autodoc-process-docstring", quote_fitted_attributes, priority=400)
    app.connect("autodoc-skip-member", skip_sklearn_plumbing)
