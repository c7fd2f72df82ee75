"""Where things live: every URL the app hands out is built from its route (url_for), never retyped.

The route table is the app's own: `web.install` passes it here when app.py is imported.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from typing import Any
from urllib.parse import quote, urlencode

_routes: dict[str, dict[str, Any]] = {}  # the app's route table (path -> method -> entry), once known
_paths: dict[str, str] = {}  # view name -> path pattern, e.g. "landing" -> "/s/{token}"
_PARAMETER = re.compile(r"\{(\w+)\}")
# The site the current request came to (set by web's middleware): what a mail queued by it links to.
current_site: ContextVar[str | None] = ContextVar("current_site", default=None)


def learn(routes: dict[str, dict[str, Any]]) -> None:
    """Use this Chalice route table; it may still grow (routes are declared after the app is made)."""
    global _routes
    _routes = routes
    _paths.clear()


def _pattern(view: str) -> str:
    if view not in _paths:
        for path, methods in _routes.items():
            for entry in methods.values():
                _paths[entry.view_name] = path
    return _paths[view]


def path_for(view: str, **params: Any) -> str:
    """A view's path with its parameters filled in; the other parameters form the query (None ones left out)."""
    pattern = _pattern(view)
    in_path = _PARAMETER.findall(pattern)
    path = _PARAMETER.sub(lambda found: quote(str(params[found.group(1)]), safe=""), pattern)
    query = {name: value for name, value in params.items() if name not in in_path and value is not None}
    return f"{path}?{urlencode(query)}" if query else path


def url_for(site: str, view: str, **params: Any) -> str:
    """A view's absolute URL on this site (see path_for)."""
    return site + path_for(view, **params)
