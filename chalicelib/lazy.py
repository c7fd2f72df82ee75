"""Modules of chalicelib that load with the first request using them, not at cold start."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def on_first_use(name: str) -> ModuleType:
    """`chalicelib.<name>`, executed when one of its attributes is first read (importlib's LazyLoader).

    A download redirect then never pays for the console's, the admin's or the OpenAPI
    document's code, nor for what only they import.
    """
    full_name = f"{__package__}.{name}"
    if full_name in sys.modules:
        return sys.modules[full_name]
    spec = importlib.util.find_spec(full_name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(full_name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[full_name] = module
    spec.loader.exec_module(module)
    setattr(sys.modules[__package__], name, module)  # as an import would: `from chalicelib import name`
    return module
