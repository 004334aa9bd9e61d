"""Every API schema class has its own name: django-ninja files schemas in the OpenAPI document by
class name, so two classes with one name silently share one component, and clients (and the fuzz
gate) then see the wrong shape for one of them."""

import importlib
import inspect
import pkgutil
from collections import defaultdict

from ninja import Schema

import siyu.api


def test_no_two_api_schemas_share_a_name():
    found: dict[str, set[str]] = defaultdict(set)
    for info in pkgutil.iter_modules(siyu.api.__path__):
        module = importlib.import_module(f"siyu.api.{info.name}")
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, Schema) and obj.__module__ == module.__name__:
                found[name].add(obj.__module__)
    assert {name: sorted(mods) for name, mods in found.items() if len(mods) > 1} == {}
