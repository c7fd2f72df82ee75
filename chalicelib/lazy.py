"""Modules of chalicelib that load with the first request using them, not at cold start."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any


class _OnFirstUse(ModuleType):
    """Stands for a module until one of its attributes is read, then imports it and forwards.

    Not importlib's LazyLoader: before Python 3.12.3 it is not thread-safe, and two first
    requests at once on the local server (threads) saw a half-executed module. Here the
    import goes through the import system, whose per-module lock makes a second thread
    wait for the whole module.
    """

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self.__name__), attribute)

    def __setattr__(self, attribute: str, value: Any) -> None:
        setattr(importlib.import_module(self.__name__), attribute, value)


def on_first_use(name: str) -> ModuleType:
    """`chalicelib.<name>`, imported when one of its attributes is first read.

    A download redirect then never pays for the console's, the admin's or the OpenAPI
    document's code, nor for what only they import.
    """
    full_name = f"{__package__}.{name}"
    if full_name in sys.modules:
        return sys.modules[full_name]
    if importlib.util.find_spec(full_name) is None:
        raise ModuleNotFoundError(full_name)
    return _OnFirstUse(full_name)
