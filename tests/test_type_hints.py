"""Every public function of neighbors, io and metrics is fully type-hinted.

A new public function (listed in its module's ``__all__``) without hints on
every parameter and its return fails here, and the hints must resolve
(``typing.get_type_hints``), so a typo or a name imported only under
``TYPE_CHECKING`` is caught too.
"""

import importlib
import inspect
import typing

import pytest

MODULES = ("skusl.neighbors", "skusl.io", "skusl.metrics")


def _public_functions():
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                yield pytest.param(obj, id=f"{module_name}.{name}")


FUNCTIONS = list(_public_functions())


def test_every_module_has_public_functions():
    # Guards the parametrisation below against silently testing nothing.
    assert len(FUNCTIONS) >= 22


@pytest.mark.parametrize("func", FUNCTIONS)
def test_parameters_and_return_annotated(func):
    sig = inspect.signature(func, eval_str=False)
    missing = [
        p.name for p in sig.parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.annotation is p.empty
    ]
    assert not missing, f"{func.__qualname__}: parameters without a type hint: {missing}"
    assert sig.return_annotation is not sig.empty, (
        f"{func.__qualname__}: no return type hint")


@pytest.mark.parametrize("func", FUNCTIONS)
def test_hints_resolve(func):
    hints = typing.get_type_hints(func)
    assert "return" in hints
