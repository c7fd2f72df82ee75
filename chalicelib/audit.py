"""The audit trail: who did what to which file, through which link, from where."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from chalicelib import clock
from chalicelib.models import EventRecord


@dataclass(frozen=True)
class Actor:
    """Who made a request: `member:<sub>`, `email:<address>` or `anonymous`, and from where."""

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
