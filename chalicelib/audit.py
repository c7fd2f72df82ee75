"""The audit trail: who did what to which file, through which link, from where."""

from __future__ import annotations

import csv
import functools
import io
import json
import operator
from typing import TYPE_CHECKING, Any

import msgspec

from chalicelib import clock, paging, shapes
from chalicelib.models import EventRecord

if TYPE_CHECKING:
    from chalicelib.directory import Person


class Actor(msgspec.Struct, frozen=True):
    """Who made a request, and from where.

    `who` is `member:<email>` for a member (their username if the email is unverified),
    `email:<address>` for someone outside the team with a verified email, `user:<username>`
    for someone outside the team without one, or `anonymous`.
    """

    who: str
    ip: str | None = None
    user_agent: str | None = None


def who(person: Person | None) -> str:
    """How the audit names a person: `member:<email>`, `email:<address>`, `user:<name>` or `anonymous`."""
    if person is None:
        return "anonymous"
    if person.is_member:
        return f"member:{person.email or person.username}"
    return f"email:{person.email}" if person.email else f"user:{person.username}"


def event(file_id: str, kind: str, actor: Actor, link_id: str | None = None, **detail: Any) -> EventRecord:
    """An event ready to save, alone or inside a transaction."""
    at = clock.now()
    return EventRecord(
        file_id=file_id,
        event_key=clock.sort_key(at),
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


class EventFilter(msgspec.Struct, frozen=True):
    """Which events a History page shows: of one kind, by a person (part of how the audit names
    them), through one link (the first characters of its token). Empty means any."""

    kind: str = ""
    who: str = ""
    link: str = ""

    def condition(self) -> Any:
        conditions = []
        if self.kind:
            conditions.append(EventRecord.kind == self.kind)
        if self.who:
            conditions.append(EventRecord.actor.contains(self.who))
        if self.link:
            conditions.append(EventRecord.link_id.startswith(self.link))
        return functools.reduce(operator.and_, conditions) if conditions else None


def events_of(
    file_id: str, limit: int, cursor: str | None, only: EventFilter | None = None
) -> tuple[list[EventRecord], str | None]:
    """A file's or folder's events, newest first, one page at a time; with a filter, pages of matches
    (pynamodb reads on until `limit` match or the history ends)."""
    results = EventRecord.query(
        file_id,
        scan_index_forward=False,
        limit=limit,
        filter_condition=only.condition() if only else None,
        last_evaluated_key=paging.decode(cursor, {"file_id": file_id}),
    )
    return paging.page(results)


def describe(event: EventRecord) -> shapes.Event:
    return shapes.Event(
        at=event.at,
        kind=event.kind,
        who=event.actor,
        ip=event.ip,
        user_agent=event.user_agent,
        # The link id's first characters are the token's: enough to tell links apart.
        link=event.link_id[:8] if event.link_id else None,
        detail=event.detail.as_dict() if event.detail else {},
    )


_CSV_COLUMNS = ("at", "kind", "who", "ip", "user_agent", "link", "detail")
# A Lambda answer through API Gateway holds at most 6 MB: one export stays well below it,
# and names the next part (older events) when there is more.
CSV_BYTES = 4_000_000


def as_csv(file_id: str, cursor: str | None = None) -> tuple[str, str | None]:
    """A file's or folder's events, newest first, as CSV for a spreadsheet; and the cursor to the rest."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_CSV_COLUMNS)
    used, last_key = out.tell(), None
    start = paging.decode(cursor, {"file_id": file_id})
    for event in EventRecord.query(file_id, scan_index_forward=False, last_evaluated_key=start):
        row = msgspec.structs.asdict(describe(event))
        row["at"] = clock.iso(row["at"])
        row["detail"] = json.dumps(row["detail"], sort_keys=True) if row["detail"] else ""
        line = io.StringIO()
        csv.writer(line).writerow([_spreadsheet_safe(row[column]) for column in _CSV_COLUMNS])
        size = len(line.getvalue().encode())
        if last_key is not None and used + size > CSV_BYTES:
            return out.getvalue(), paging.encode({"file_id": {"S": file_id}, "event_key": {"S": last_key}})
        out.write(line.getvalue())
        used += size
        last_key = event.event_key
    return out.getvalue(), None


def _spreadsheet_safe(value: Any) -> str:
    """Text a spreadsheet will not run as a formula (a user agent or name can start with '=')."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
