"""Every public estimator's docstring agrees with its code.

The ``Parameters`` section lists exactly the constructor's arguments, each
``default=`` is the signature's default, and each fitted attribute that the
``Attributes`` section promises exists after ``fit`` (on the small data of
``test_common``).
"""

import ast
import inspect
import re
import warnings

import numpy as np
import pytest
from numpydoc.docscrape import ClassDoc
from sklearn.base import clone

from .test_common import (INSTANCES, _blobs, _partially_labeled, needs_labels,
                          public_estimator_classes)

CLASSES = sorted(public_estimator_classes().items())

#: attributes that exist only for some inputs, with the condition
CONDITIONAL_ATTRIBUTES = {
    "feature_names_in_": "only when X has string column names",
    "knn_graph_": "not kept when the graph is precomputed or store_graph is off",
    "estimator_": "AutoK: only when a propagation estimator is given",
}


def _documented_default(type_text):
    match = re.search(r"default\s*[=:]?\s*(.+)$", type_text)
    if match is None:
        return None, False
    text = match.group(1).strip()
    try:
        return ast.literal_eval(text), True
    except (ValueError, SyntaxError):  # a name such as None-like prose or a string
        return text.strip("\"'`"), True


@pytest.mark.parametrize("name, cls", CLASSES, ids=[n for n, _ in CLASSES])
def test_parameters_section_matches_the_signature(name, cls):
    documented = {p.name: p.type for p in ClassDoc(cls)["Parameters"]}
    signature = inspect.signature(cls).parameters
    assert list(documented) == list(signature), \
        f"{name}: docstring lists {list(documented)}, signature has {list(signature)}"
    for pname, par in signature.items():
        value, has_default = _documented_default(documented[pname])
        if par.default is inspect.Parameter.empty:
            assert not has_default, f"{name}.{pname} is required but documents a default"
            continue
        assert has_default, f"{name}.{pname}: docstring gives no default"
        expected = par.default
        if isinstance(value, str) and not isinstance(expected, str):
            assert value == repr(expected) or value == str(expected), \
                f"{name}.{pname}: docstring default {value!r}, signature {expected!r}"
        else:
            assert value == expected, \
                f"{name}.{pname}: docstring default {value!r}, signature {expected!r}"


@pytest.mark.parametrize("est", INSTANCES, ids=lambda e: type(e).__name__)
def test_documented_attributes_exist_after_fit(est):
    X, y = _blobs()
    # An attribute described as "``value``: ..." exists only with a parameter
    # set to that value (e.g. AutoK's criterion).
    params = {str(v) for v in est.get_params().values()}
    attributes = [a.name for a in ClassDoc(type(est))["Attributes"]
                  if not (m := re.match(r"``(\w+)``:", " ".join(a.desc)))
                  or m.group(1) in params]
    needs_y = needs_labels(est)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fitted = clone(est).fit(X, _partially_labeled(y)) if needs_y else clone(est).fit(X)
    missing = [a for a in attributes if a.endswith("_") and not hasattr(fitted, a)
               and a not in CONDITIONAL_ATTRIBUTES]
    assert not missing, f"{type(est).__name__} documents {missing} but has none after fit"
    assert np.all([not a.startswith("_") for a in attributes])
