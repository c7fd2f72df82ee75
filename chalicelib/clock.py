"""Time in one convention: aware UTC datetimes inside, ISO-8601 with `Z` in the API."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def sort_key(moment: datetime) -> str:
    """A range key that sorts by time and stays unique when two things happen in the same microsecond."""
    return f"{moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{secrets.token_hex(4)}"


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
