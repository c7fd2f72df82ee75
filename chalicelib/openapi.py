"""The OpenAPI 3.1 document of the member API."""

from __future__ import annotations

from typing import Any


def document() -> dict[str, Any]:
    return {"openapi": "3.1.0", "info": {"title": "Handover", "version": "1"}, "paths": {}}
