"""Opaque page cursors over DynamoDB's LastEvaluatedKey, and page sizes from query strings."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from pynamodb.exceptions import QueryError
from pynamodb.pagination import ResultIterator

from chalicelib.errors import BadRequest

_DIGITS = re.compile(r"^[0-9]{1,6}\Z")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, separators=(",", ":")).encode()).decode()


def decode(cursor: str | None, expect: dict[str, str]) -> dict[str, Any] | None:
    """The start key a cursor names; it must belong to the same listing (`expect`)."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(key, dict) or any(key[name]["S"] != value for name, value in expect.items()):
            raise ValueError
    except (ValueError, KeyError, TypeError, RecursionError):
        raise BadRequest("cursor is not one this listing handed out.", "invalid_cursor") from None
    return key


def page(results: ResultIterator) -> tuple[list[Any], str | None]:
    """Read one page of a pynamodb query, and the cursor to the next (None on the last)."""
    try:
        items = list(results)
    except QueryError:  # DynamoDB refused the start key: a cursor it did not hand out
        raise BadRequest("cursor is not one this listing handed out.", "invalid_cursor") from None
    return items, encode(results.last_evaluated_key)


def limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    # str.isdigit() is true for "²" and "١٢", which int() refuses or reads: ASCII digits only.
    if not _DIGITS.match(value) or not 1 <= int(value) <= MAX_LIMIT:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}.", "invalid_limit")
    return int(value)
