"""The audit trail: who did what to which file, through which link, from where."""

from __future__ import annotations

import csv
import io
import json
import secrets
from dataclasses import dataclass
from typing import Any

from chalicelib import clock, paging
from chalicelib.models import EventRecord


@dataclass(frozen=True)
class Actor:
    """Who made a request: `member:<email>`, `email:<address>` or `anonymous`, and from where."""

    who: str
    ip: str | None = None
    user_agent: str | None = None


def event(file_id: str, kind: str, actor: Actor, link_id: str | None = None, **detail: Any) -> EventRecord:
    """An event ready to save, alone or inside a transaction."""
    at = clock.now()
    return EventRecord(
        file_id=file_id,
        event_key=f"{at.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{secrets.token_hex(4)}",
        at=at,
        kind=kind,
        actor=actor.who,
        link_id=link_id,
        ip=actor.ip,
        user_agent=(actor.user_agent or "")[:300] or None,
        detail=detail or None,
    )


def record(file_id: str, kind: str, actor: Actor, link_id: str | None = None, **detail: Any) -> None:
    event(file_id, kind, actor, link_id, **detail).save()


def events_of(file_id: str, limit: int, cursor: str | None) -> tuple[list[EventRecord], str | None]:
    """A file's or folder's events, newest first, one page at a time."""
    results = EventRecord.query(
        file_id,
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=paging.decode(cursor, {"file_id": file_id}),
    )
    return paging.page(results)


def describe(event: EventRecord) -> dict[str, Any]:
    return {
        "at": clock.iso(event.at),
        "kind": event.kind,
        "who": event.actor,
        "ip": event.ip,
        "user_agent": event.user_agent,
        # The link id's first characters are the token's: enough to tell links apart.
        "link": event.link_id[:8] if event.link_id else None,
        "detail": event.detail.as_dict() if event.detail else {},
    }


_CSV_COLUMNS = ("at", "kind", "who", "ip", "user_agent", "link", "detail")


def as_csv(file_id: str) -> str:
    """Every event of a file or folder, newest first, as CSV for a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_CSV_COLUMNS)
    for event in EventRecord.query(file_id, scan_index_forward=False):
        row = describe(event)
        row["detail"] = json.dumps(row["detail"], sort_keys=True) if row["detail"] else ""
        writer.writerow([_spreadsheet_safe(row[column]) for column in _CSV_COLUMNS])
    return out.getvalue()


def _spreadsheet_safe(value: Any) -> str:
    """Text a spreadsheet will not run as a formula (a user agent or name can start with '=')."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
